//! The desktop side of a tray icon, for the tray tests and the benchmark: a
//! StatusNotifierWatcher (the registry a desktop panel runs) on the session bus, and a
//! client of an item's `org.kde.StatusNotifierItem` and `com.canonical.dbusmenu` objects,
//! as a panel uses them. Included with `#[path]` by `tests/tests/tray.rs` and `bench/`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zbus::blocking::Connection;
use zbus::zvariant::{OwnedValue, Value};

/// A dbusmenu layout node: id, properties, children (each a variant holding a node).
type Layout = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);

/// How long the waits below wait.
pub const WAIT: Duration = Duration::from_secs(40);

/// A StatusNotifierWatcher (the tray host registry a desktop panel runs), serving the
/// session bus while it lives. Records what registered.
pub struct Watcher {
    /// The items that registered, as `bus name` + `object path`.
    pub items: Arc<Mutex<Vec<String>>>,
    _bus: Connection,
}

struct WatcherIface {
    items: Arc<Mutex<Vec<String>>>,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl WatcherIface {
    fn register_status_notifier_item(&self, service: &str, #[zbus(header)] header: zbus::message::Header<'_>) {
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        // An item names its bus name, or only its object path (then the sender is the name).
        let item = if service.starts_with('/') {
            format!("{sender}{service}")
        } else {
            format!("{service}/StatusNotifierItem")
        };
        self.items.lock().unwrap().push(item);
    }

    fn register_status_notifier_host(&self, _service: &str) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items.lock().unwrap().clone()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}

impl Watcher {
    /// Owns `org.kde.StatusNotifierWatcher` on the session bus (panics if it cannot).
    pub fn start() -> Watcher {
        let items = Arc::new(Mutex::new(Vec::new()));
        let bus = zbus::blocking::connection::Builder::session()
            .expect("a session bus (run inside scripts/with-keyring.sh)")
            .name("org.kde.StatusNotifierWatcher")
            .expect("a well-known name")
            .serve_at("/StatusNotifierWatcher", WatcherIface { items: items.clone() })
            .expect("serve the watcher")
            .build()
            .expect("own org.kde.StatusNotifierWatcher on the session bus");
        Watcher { items, _bus: bus }
    }

    /// Waits until an item registered (of process `pid`, when given: tray-icon's items are
    /// named `org.kde.StatusNotifierItem-PID-N`), calling `alive` meanwhile (which panics
    /// when the app is gone); returns its (bus name, object path).
    pub fn wait_for_item(&self, pid: Option<u32>, mut alive: impl FnMut()) -> (String, String) {
        let deadline = Instant::now() + WAIT;
        let mine = |item: &String| pid.is_none_or(|p| item.contains(&format!("-{p}-")));
        loop {
            if let Some(item) = self.items.lock().unwrap().iter().find(|i| mine(i)).cloned() {
                let slash = item.find('/').expect("name/path");
                return (item[..slash].to_string(), item[slash..].to_string());
            }
            alive();
            assert!(Instant::now() < deadline, "no tray item registered within {WAIT:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A tray item as a desktop panel sees it.
pub struct TrayItem {
    bus: Connection,
    name: String,
    path: String,
}

/// One menu entry: dbusmenu id, label, enabled.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The dbusmenu id.
    pub id: i32,
    /// The label.
    pub label: String,
    /// Whether it can be clicked.
    pub enabled: bool,
}

impl TrayItem {
    pub fn new(name: String, path: String) -> TrayItem {
        TrayItem {
            bus: Connection::session().expect("session bus"),
            name,
            path,
        }
    }

    fn property(&self, iface: &str, prop: &str) -> OwnedValue {
        let reply = self
            .bus
            .call_method(
                Some(self.name.as_str()),
                self.path.as_str(),
                Some("org.freedesktop.DBus.Properties"),
                "Get",
                &(iface, prop),
            )
            .unwrap_or_else(|e| panic!("Get {iface}.{prop}: {e}"));
        reply.body().deserialize::<OwnedValue>().expect("a variant")
    }

    /// The tooltip's title and text.
    pub fn tooltip(&self) -> String {
        let v = self.property("org.kde.StatusNotifierItem", "ToolTip");
        let Value::Structure(s) = &*v else {
            panic!("ToolTip is not a struct: {v:?}")
        };
        s.fields()
            .iter()
            .filter_map(|f| match f {
                Value::Str(s) => Some(s.to_string()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" | ")
    }

    /// The first icon's pixels (ARGB, network byte order) and width.
    pub fn icon(&self) -> (i32, Vec<u8>) {
        let v = self.property("org.kde.StatusNotifierItem", "IconPixmap");
        let Value::Array(a) = &*v else {
            panic!("IconPixmap is not an array: {v:?}")
        };
        let first = a.iter().next().expect("an icon");
        let Value::Structure(s) = first else {
            panic!("an icon is a struct")
        };
        let w = match &s.fields()[0] {
            Value::I32(w) => *w,
            other => panic!("width {other:?}"),
        };
        let bytes = match &s.fields()[2] {
            Value::Array(b) => b
                .iter()
                .map(|x| match x {
                    Value::U8(b) => *b,
                    other => panic!("byte {other:?}"),
                })
                .collect(),
            other => panic!("pixels {other:?}"),
        };
        (w, bytes)
    }

    fn menu_path(&self) -> String {
        let v = self.property("org.kde.StatusNotifierItem", "Menu");
        match &*v {
            Value::ObjectPath(p) => p.to_string(),
            other => panic!("Menu is not an object path: {other:?}"),
        }
    }

    /// The menu's top-level entries (`com.canonical.dbusmenu.GetLayout`).
    pub fn menu(&self) -> Vec<Entry> {
        let menu = self.menu_path();
        let reply = self
            .bus
            .call_method(
                Some(self.name.as_str()),
                menu.as_str(),
                Some("com.canonical.dbusmenu"),
                "GetLayout",
                &(0i32, -1i32, Vec::<String>::new()),
            )
            .expect("GetLayout");
        let (_revision, (_id, _props, children)): (u32, Layout) =
            reply.body().deserialize().expect("a dbusmenu layout");
        children
            .iter()
            .filter_map(|child| {
                let Value::Structure(s) = &**child else { return None };
                let id = match &s.fields()[0] {
                    Value::I32(i) => *i,
                    _ => return None,
                };
                let Value::Dict(d) = &s.fields()[1] else { return None };
                let props: HashMap<String, OwnedValue> = d.try_clone().ok()?.try_into().ok()?;
                let label = props
                    .get("label")
                    .and_then(|v| match &**v {
                        Value::Str(s) => Some(s.to_string()),
                        _ => None,
                    })
                    .unwrap_or_default();
                let enabled = props
                    .get("enabled")
                    .map(|v| !matches!(&**v, Value::Bool(false)))
                    .unwrap_or(true);
                Some(Entry { id, label, enabled })
            })
            .collect()
    }

    /// Waits until the menu has an entry whose label contains every one of `needles`.
    pub fn wait_for_entry(&self, needles: &[&str]) -> Entry {
        let deadline = Instant::now() + WAIT;
        loop {
            let menu = self.menu();
            if let Some(e) = menu.iter().find(|e| needles.iter().all(|n| e.label.contains(n))) {
                return e.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no menu entry with {needles:?}; the menu: {menu:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Clicks a menu entry, as a panel does (`com.canonical.dbusmenu.Event`). An item that
    /// leaves the bus while handling it (Quit) is not an error.
    pub fn click(&self, entry: &Entry) {
        let menu = self.menu_path();
        let sent = self.bus.call_method(
            Some(self.name.as_str()),
            menu.as_str(),
            Some("com.canonical.dbusmenu"),
            "Event",
            &(entry.id, "clicked", Value::I32(0), 0u32),
        );
        match sent {
            Ok(_) => {}
            Err(zbus::Error::MethodError(name, _, _)) if name.as_str() == "org.freedesktop.DBus.Error.NoReply" => {}
            Err(e) => panic!("Event clicked on {entry:?}: {e}"),
        }
    }
}
