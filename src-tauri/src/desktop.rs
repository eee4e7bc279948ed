//! The resident app: the main window built on demand and destroyed on close, whether this
//! desktop has a tray, login start (autostart), and "open the window on these credentials"
//! requests from the tray and from notifications.
//!
//! Closing the window destroys it, webview and all, so a Tillkey that waits in the tray
//! keeps no WebKit process; [`open_window`] builds it again from `tauri.conf.json` (whose
//! window has `"create": false`). Whether the process stays after the window closes is
//! decided in `lib.rs` from [`Desktop::keeps_running`].

use crate::error::{IpcError, IpcResult};
use crate::prefs::{PreferencesUpdate, PrefsFile};
use serde::{Deserialize, Serialize};
use std::sync::{Mutex, PoisonError};
use tauri::{AppHandle, Manager, Runtime, WebviewWindowBuilder};
use tauri_plugin_autostart::ManagerExt;
use ts_rs::TS;

/// The label of the one window.
pub const MAIN: &str = "main";
/// The DOM event the window receives when a [`FocusRequest`] waits for it (dispatched by a
/// fixed script, so the webview needs no event permission; it then calls `take_focus`).
const FOCUS_SCRIPT: &str = "window.dispatchEvent(new Event('tillkey-focus'))";
/// The D-Bus name of the tray host registry (the StatusNotifierItem specification's).
pub const WATCHER: &str = "org.kde.StatusNotifierWatcher";

/// Open the window on these credentials (from a tray item or a reminder's action).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct FocusRequest {
    /// The vault they are in: `local` or a team vault's name.
    pub vault: String,
    /// Their names, most urgent first.
    pub names: Vec<String>,
    /// Why the window opened on them, in words ("Rotation reminder").
    pub reason: String,
}

/// Whether this desktop shows tray icons, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TrayState {
    /// A tray icon is shown.
    pub available: bool,
    /// Why there is none, in words for the settings dialog.
    pub reason: Option<String>,
}

/// The desktop settings of this machine (not of a vault).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DesktopSettings {
    /// Closing the window keeps Tillkey running in the tray (when there is one).
    pub close_to_tray: bool,
    /// Tillkey starts at login, in the tray only (`tillkey-app --hidden`).
    pub autostart: bool,
    /// The tray.
    pub tray: TrayState,
}

/// A change to the desktop settings; a field left out keeps its value.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export)]
pub struct DesktopSettingsUpdate {
    /// Keep running in the tray when the window closes.
    #[serde(default)]
    #[ts(optional)]
    pub close_to_tray: Option<bool>,
    /// Start at login.
    #[serde(default)]
    #[ts(optional)]
    pub autostart: Option<bool>,
}

/// The resident app's state.
#[derive(Debug, Default)]
pub struct Desktop {
    /// `None` until the tray was tried; then shown, or why not.
    tray: Mutex<Option<Result<(), String>>>,
    focus: Mutex<Option<FocusRequest>>,
}

impl Desktop {
    /// Records whether the tray icon is shown (`Err(reason)` when it is not).
    pub fn set_tray(&self, state: Result<(), String>) {
        *self.tray.lock().unwrap_or_else(PoisonError::into_inner) = Some(state);
    }

    /// The tray's state for the settings dialog.
    pub fn tray_state(&self) -> TrayState {
        match self.tray.lock().unwrap_or_else(PoisonError::into_inner).clone() {
            Some(Ok(())) => TrayState {
                available: true,
                reason: None,
            },
            Some(Err(reason)) => TrayState {
                available: false,
                reason: Some(reason),
            },
            None => TrayState {
                available: false,
                reason: Some("The tray has not started yet.".into()),
            },
        }
    }

    /// Whether closing the window leaves the process running: a tray icon is shown and the
    /// merchant did not turn "keep running in the tray" off.
    pub fn keeps_running<R: Runtime>(&self, app: &AppHandle<R>) -> bool {
        self.tray_state().available && prefs(app).load().close_to_tray
    }

    fn take_focus(&self) -> Option<FocusRequest> {
        self.focus.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    fn set_focus(&self, request: Option<FocusRequest>) {
        *self.focus.lock().unwrap_or_else(PoisonError::into_inner) = request;
    }
}

/// The preferences file (which holds `closeToTray` beside the view preferences).
pub fn prefs<R: Runtime>(app: &AppHandle<R>) -> PrefsFile {
    PrefsFile::in_dir(app.path().app_data_dir().ok())
}

/// Whether the session bus has a tray host registry, i.e. whether a tray icon would be
/// shown. `Err` says why not in words.
pub fn tray_host() -> Result<(), String> {
    let bus = zbus::blocking::Connection::session().map_err(|_| "There is no desktop session bus.".to_string())?;
    let dbus = zbus::blocking::fdo::DBusProxy::new(&bus).map_err(|_| "The session bus did not answer.".to_string())?;
    let name = zbus::names::BusName::try_from(WATCHER).map_err(|_| "internal".to_string())?;
    match dbus.name_has_owner(name) {
        Ok(true) => Ok(()),
        Ok(false) => Err("This desktop shows no tray icons (no StatusNotifierWatcher on the session bus; stock GNOME needs the AppIndicator extension), so closing the window quits Tillkey.".into()),
        Err(_) => Err("The session bus did not answer.".into()),
    }
}

/// Shows the window (building it if it was closed) and brings it to the front. With a
/// `focus` request, the window opens on those credentials.
pub fn open_window<R: Runtime>(app: &AppHandle<R>, focus: Option<FocusRequest>) {
    let has_focus = focus.is_some();
    if has_focus {
        app.state::<Desktop>().set_focus(focus);
    }
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        if has_focus {
            let _ = window.eval(FOCUS_SCRIPT);
        }
        return;
    }
    let Some(config) = app.config().app.windows.iter().find(|w| w.label == MAIN).cloned() else {
        eprintln!("tillkey: tauri.conf.json has no main window");
        return;
    };
    #[cfg(feature = "bench")]
    app.state::<crate::bench::FirstPaint>().rearm();
    match WebviewWindowBuilder::from_config(app, &config).and_then(|b| b.build()) {
        Ok(window) => {
            let _ = window.set_focus();
        }
        Err(e) => eprintln!("tillkey: the window could not open: {e}"),
    }
}

/// The window is gone: stop WebKit's network process, which WebKitGTK keeps running with no
/// webview left (Tauri keeps its web context for the app's lifetime on Linux, tauri#14626),
/// so a Tillkey waiting in the tray has no WebKit process. WebKit starts a new one for the
/// next window. Only this process's own children named `WebKitNetworkProcess` are signalled,
/// and only while no window exists.
pub fn window_destroyed<R: Runtime>(app: &AppHandle<R>) {
    #[cfg(target_os = "linux")]
    {
        let app = app.clone();
        let _ = std::thread::Builder::new()
            .name("tillkey-webkit-reaper".into())
            .spawn(move || {
                // Let WebKit finish with the closed page first; look again later for a
                // process that was still starting (on a loaded machine that takes seconds).
                for wait_ms in [500, 1000, 2000, 4000, 8000, 16000] {
                    std::thread::sleep(std::time::Duration::from_millis(wait_ms));
                    if app.get_webview_window(MAIN).is_some() {
                        return;
                    }
                    let pids = children_named(std::process::id(), "WebKitNetworkPr");
                    #[cfg(debug_assertions)]
                    if !pids.is_empty() {
                        eprintln!("tillkey: window closed; stopping WebKit network processes {pids:?}");
                    }
                    for pid in pids {
                        // SAFETY: a signal to our own child process, by its pid from /proc.
                        unsafe { libc::kill(pid, libc::SIGTERM) };
                    }
                }
                // Give the heap the window used back to the system.
                #[cfg(target_env = "gnu")]
                // SAFETY: malloc_trim only releases free memory at the top of glibc's heaps.
                unsafe {
                    libc::malloc_trim(0);
                }
            });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}

/// The pids of `parent`'s child processes whose name (`comm`, 15 bytes) is `comm`.
#[cfg(target_os = "linux")]
fn children_named(parent: u32, comm: &str) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            let (open, close) = (stat.find('(')?, stat.rfind(')')?);
            let ppid: u32 = stat.get(close + 2..)?.split(' ').nth(1)?.parse().ok()?;
            (ppid == parent && stat.get(open + 1..close)? == comm).then_some(pid)
        })
        .collect()
}

/// The window was closed and the process stays in the tray: the first time, a notification
/// says where Tillkey went.
pub fn closed_to_tray<R: Runtime>(app: &AppHandle<R>) {
    let file = prefs(app);
    if file.load().tray_notice_shown {
        return;
    }
    crate::reminders::notify(
        app,
        "Tillkey is still running in the tray",
        "Rotation reminders keep coming with the window closed. Quit from the tray menu, or turn this off in Settings.",
        None,
    );
    let _ = file.update(PreferencesUpdate {
        tray_notice_shown: Some(true),
        ..Default::default()
    });
}

fn autostart_error(e: impl std::fmt::Display) -> IpcError {
    // The plugin's error names the autostart file's path at most: no secret, no user data.
    IpcError::app(
        "autostart_failed",
        &format!("Tillkey could not change its login item: {e}"),
        "Check that ~/.config/autostart can be written.",
    )
}

fn settings<R: Runtime>(app: &AppHandle<R>) -> DesktopSettings {
    DesktopSettings {
        close_to_tray: prefs(app).load().close_to_tray,
        autostart: app.autolaunch().is_enabled().unwrap_or(false),
        tray: app.state::<Desktop>().tray_state(),
    }
}

/// The desktop settings of this machine: keep running in the tray, start at login, and
/// whether there is a tray at all.
#[tauri::command]
pub async fn get_desktop_settings<R: Runtime>(app: AppHandle<R>) -> IpcResult<DesktopSettings> {
    crate::state::blocking(move || Ok(settings(&app))).await
}

/// Changes the desktop settings; returns them all as they are now.
#[tauri::command]
pub async fn set_desktop_settings<R: Runtime>(
    app: AppHandle<R>,
    change: DesktopSettingsUpdate,
) -> IpcResult<DesktopSettings> {
    let handle = app.clone();
    crate::state::blocking(move || {
        if let Some(keep) = change.close_to_tray {
            prefs(&handle).update(PreferencesUpdate {
                close_to_tray: Some(keep),
                ..Default::default()
            })?;
        }
        Ok(())
    })
    .await?;
    let enabled = app.autolaunch().is_enabled().unwrap_or(false);
    if let Some(on) = change.autostart.filter(|on| *on != enabled) {
        let result = if on {
            app.autolaunch().enable()
        } else {
            app.autolaunch().disable()
        };
        result.map_err(autostart_error)?;
    }
    Ok(settings(&app))
}

/// The credentials the window should open on, once (a tray item or a reminder asked).
#[tauri::command]
pub fn take_focus<R: Runtime>(app: AppHandle<R>) -> Option<FocusRequest> {
    app.state::<Desktop>().take_focus()
}
