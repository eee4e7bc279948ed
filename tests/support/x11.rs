//! X11 as a window manager sees it, for the tray tests and the benchmark (Xvfb has no
//! window manager): a process's mapped top-level windows and their titles, and the close
//! button's `WM_DELETE_WINDOW`. Included with `#[path]` by `tests/tests/tray.rs` and
//! `bench/`.

#![allow(dead_code)]

/// Closes the app's top-level windows the way a window manager's close button does:
/// a `WM_DELETE_WINDOW` client message. Returns how many it asked to close.
pub fn close_windows_of(pid: u32) -> usize {
    use x11rb::connection::Connection as _;
    use x11rb::protocol::xproto::{AtomEnum, ClientMessageEvent, ConnectionExt, EventMask};
    let (conn, screen) = x11rb::connect(None).expect("the X display (Xvfb)");
    let root = conn.setup().roots[screen].root;
    let atom = |name: &str| {
        conn.intern_atom(false, name.as_bytes())
            .expect("intern")
            .reply()
            .expect("atom")
            .atom
    };
    let (protocols, delete, net_pid) = (atom("WM_PROTOCOLS"), atom("WM_DELETE_WINDOW"), atom("_NET_WM_PID"));
    let tree = conn.query_tree(root).expect("query_tree").reply().expect("tree");
    let mut closed = 0;
    for w in tree.children {
        let owner = conn
            .get_property(false, w, net_pid, AtomEnum::CARDINAL, 0, 1)
            .expect("get_property")
            .reply()
            .ok()
            .and_then(|r| r.value32().and_then(|mut v| v.next()));
        let mapped = conn
            .get_window_attributes(w)
            .ok()
            .and_then(|c| c.reply().ok())
            .is_some_and(|a| a.map_state == x11rb::protocol::xproto::MapState::VIEWABLE);
        if owner == Some(pid) && mapped {
            let event = ClientMessageEvent::new(32, w, protocols, [delete, 0, 0, 0, 0]);
            conn.send_event(false, w, EventMask::NO_EVENT, event)
                .expect("send_event");
            closed += 1;
        }
    }
    conn.flush().expect("flush");
    closed
}

/// Whether the app shows a mapped top-level window.
pub fn has_window(pid: u32) -> bool {
    !window_titles(pid).is_empty()
}

/// The titles of the app's mapped top-level windows.
pub fn window_titles(pid: u32) -> Vec<String> {
    use x11rb::connection::Connection as _;
    use x11rb::protocol::xproto::{AtomEnum, ConnectionExt, MapState};
    let (conn, screen) = x11rb::connect(None).expect("the X display (Xvfb)");
    let root = conn.setup().roots[screen].root;
    let net_pid = conn
        .intern_atom(false, b"_NET_WM_PID")
        .expect("intern")
        .reply()
        .expect("atom")
        .atom;
    let tree = conn.query_tree(root).expect("query_tree").reply().expect("tree");
    let net_name = conn
        .intern_atom(false, b"_NET_WM_NAME")
        .expect("intern")
        .reply()
        .expect("atom")
        .atom;
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
        .map(|w| {
            conn.get_property(false, w, net_name, AtomEnum::ANY, 0, 256)
                .ok()
                .and_then(|c| c.reply().ok())
                .map(|r| String::from_utf8_lossy(&r.value).into_owned())
                .unwrap_or_default()
        })
        .collect()
}
