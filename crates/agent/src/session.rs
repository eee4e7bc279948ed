//! What locks the agent from outside: the desktop session locking and the computer going
//! to sleep, where the desktop reports them on D-Bus.
//!
//! - The session bus: `ActiveChanged(true)` of `org.freedesktop.ScreenSaver` or
//!   `org.gnome.ScreenSaver` (the screen saver or lock screen came on).
//! - The system bus: logind's `Lock` for this process's session and
//!   `PrepareForSleep(true)`.
//!
//! Each watch runs on its own thread and reports on a channel; a bus or service that is not
//! there only means that watch does nothing. Signals are matched by interface and member,
//! not by sender: anyone on the bus who can fake one can only make the agent forget a key,
//! never learn one. Nothing here logs.

use tokio::sync::mpsc::UnboundedSender;
use zbus::blocking::{Connection, MessageIterator};
use zbus::message::Type;
use zbus::zvariant::OwnedObjectPath;
use zbus::MatchRule;

/// Why the agent should forget the key now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionEvent {
    /// A screen saver or lock screen came on.
    ScreenLocked,
    /// logind asked this session to lock.
    SessionLocked,
    /// The computer is about to suspend or hibernate.
    Sleep,
}

const LOGIN1: &str = "org.freedesktop.login1";
const LOGIN1_PATH: &str = "/org/freedesktop/login1";
const LOGIN1_MANAGER: &str = "org.freedesktop.login1.Manager";

/// Starts the watches; each sends on `tx` until the receiver is gone.
pub(crate) fn watch(tx: &UnboundedSender<SessionEvent>) {
    for iface in ["org.freedesktop.ScreenSaver", "org.gnome.ScreenSaver"] {
        let tx = tx.clone();
        spawn(move || {
            let conn = Connection::session().ok()?;
            let rule = signal_rule(iface, "ActiveChanged", None)?;
            listen(&conn, rule, &tx, |m| {
                (m.body().deserialize::<bool>().ok() == Some(true)).then_some(SessionEvent::ScreenLocked)
            });
            Some(())
        });
    }
    let sleep_tx = tx.clone();
    spawn(move || {
        let conn = Connection::system().ok()?;
        let rule = signal_rule(LOGIN1_MANAGER, "PrepareForSleep", Some(LOGIN1_PATH))?;
        listen(&conn, rule, &sleep_tx, |m| {
            (m.body().deserialize::<bool>().ok() == Some(true)).then_some(SessionEvent::Sleep)
        });
        Some(())
    });
    let lock_tx = tx.clone();
    spawn(move || {
        let conn = Connection::system().ok()?;
        let session = own_session(&conn)?;
        let rule = signal_rule("org.freedesktop.login1.Session", "Lock", Some(session.as_str()))?;
        listen(&conn, rule, &lock_tx, |_| Some(SessionEvent::SessionLocked));
        Some(())
    });
}

fn spawn(f: impl FnOnce() -> Option<()> + Send + 'static) {
    // A thread that cannot start is one watch less, like a missing bus.
    let _ = std::thread::Builder::new()
        .name("tillkey-agent-session".into())
        .spawn(move || {
            let _ = f();
        });
}

fn signal_rule(iface: &str, member: &str, path: Option<&str>) -> Option<MatchRule<'static>> {
    let mut b = MatchRule::builder()
        .msg_type(Type::Signal)
        .interface(iface.to_owned())
        .ok()?
        .member(member.to_owned())
        .ok()?;
    if let Some(p) = path {
        b = b.path(p.to_owned()).ok()?;
    }
    Some(b.build())
}

/// Sends what `event` makes of each matching signal until the bus or the receiver is gone.
fn listen(
    conn: &Connection,
    rule: MatchRule<'static>,
    tx: &UnboundedSender<SessionEvent>,
    event: impl Fn(&zbus::Message) -> Option<SessionEvent>,
) {
    let Ok(messages) = MessageIterator::for_match_rule(rule, conn, Some(16)) else {
        return;
    };
    for m in messages {
        let Ok(m) = m else { return };
        if let Some(e) = event(&m) {
            if tx.send(e).is_err() {
                return;
            }
        }
    }
}

/// logind's object for this process's session: by pid, else by `XDG_SESSION_ID`.
fn own_session(conn: &Connection) -> Option<OwnedObjectPath> {
    let by_pid = conn
        .call_method(
            Some(LOGIN1),
            LOGIN1_PATH,
            Some(LOGIN1_MANAGER),
            "GetSessionByPID",
            &(std::process::id()),
        )
        .ok()
        .and_then(|r| r.body().deserialize::<OwnedObjectPath>().ok());
    by_pid.or_else(|| {
        let id = std::env::var("XDG_SESSION_ID").ok()?;
        conn.call_method(Some(LOGIN1), LOGIN1_PATH, Some(LOGIN1_MANAGER), "GetSession", &(id))
            .ok()?
            .body()
            .deserialize::<OwnedObjectPath>()
            .ok()
    })
}
