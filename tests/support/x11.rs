//! X11 as a window manager sees it, for the tray tests and the benchmark (Xvfb has no
//! window manager): a process's mapped top-level windows and their titles, and the close
//! button's `WM_DELETE_WINDOW`. Included with `#[path]` by `tests/tests/tray.rs` and
//! `bench/`.

#![allow(dead_code)]

use x11rb::connection::Connection as _;
use x11rb::protocol::xproto::{AtomEnum, ClientMessageEvent, ConnectionExt, EventMask, MapState, Window};
use x11rb::rust_connection::RustConnection;

/// A connection to the display (Xvfb).
fn connect() -> (RustConnection, Window) {
    let (conn, screen) = x11rb::connect(None).expect("the X display (Xvfb)");
    let root = conn.setup().roots[screen].root;
    (conn, root)
}

fn atom(conn: &RustConnection, name: &str) -> u32 {
    conn.intern_atom(false, name.as_bytes())
        .expect("intern")
        .reply()
        .expect("atom")
        .atom
}

/// The mapped top-level windows whose `_NET_WM_PID` is `pid`.
fn windows_of(conn: &RustConnection, root: Window, pid: u32) -> Vec<Window> {
    let net_pid = atom(conn, "_NET_WM_PID");
    let tree = conn.query_tree(root).expect("query_tree").reply().expect("tree");
    tree.children
        .into_iter()
        .filter(|w| {
            let owner = conn
                .get_property(false, *w, net_pid, AtomEnum::CARDINAL, 0, 1)
                .ok()
                .and_then(|c| c.reply().ok())
                .and_then(|r| r.value32().and_then(|mut v| v.next()));
            let mapped = conn
                .get_window_attributes(*w)
                .ok()
                .and_then(|c| c.reply().ok())
                .is_some_and(|a| a.map_state == MapState::VIEWABLE);
            owner == Some(pid) && mapped
        })
        .collect()
}

/// Closes the app's top-level windows the way a window manager's close button does:
/// a `WM_DELETE_WINDOW` client message. Returns how many it asked to close.
pub fn close_windows_of(pid: u32) -> usize {
    let (conn, root) = connect();
    let (protocols, delete) = (atom(&conn, "WM_PROTOCOLS"), atom(&conn, "WM_DELETE_WINDOW"));
    let windows = windows_of(&conn, root, pid);
    for &w in &windows {
        let event = ClientMessageEvent::new(32, w, protocols, [delete, 0, 0, 0, 0]);
        conn.send_event(false, w, EventMask::NO_EVENT, event)
            .expect("send_event");
    }
    conn.flush().expect("flush");
    windows.len()
}

/// Whether the app shows a mapped top-level window.
pub fn has_window(pid: u32) -> bool {
    let (conn, root) = connect();
    !windows_of(&conn, root, pid).is_empty()
}

/// The titles of the app's mapped top-level windows.
pub fn window_titles(pid: u32) -> Vec<String> {
    let (conn, root) = connect();
    let net_name = atom(&conn, "_NET_WM_NAME");
    windows_of(&conn, root, pid)
        .into_iter()
        .map(|w| {
            conn.get_property(false, w, net_name, AtomEnum::ANY, 0, 256)
                .ok()
                .and_then(|c| c.reply().ok())
                .map(|r| String::from_utf8_lossy(&r.value).into_owned())
                .unwrap_or_default()
        })
        .collect()
}
