//! The tray icon: whether anything is due (the icon gets a red dot, the tooltip counts),
//! and a menu with Open, Test all, the due and overdue credentials (a click opens the
//! window on one), Pause reminders for today, and Quit.
//!
//! The icon is a StatusNotifierItem with a `com.canonical.dbusmenu` menu on the session bus
//! (tray-icon's KSNI backend), shown by any desktop that runs a StatusNotifierWatcher
//! (KDE Plasma, XFCE, Cinnamon, MATE, GNOME with the AppIndicator extension). Where there
//! is none, there is no tray and closing the window quits (see [`crate::desktop`]).

use crate::desktop::{open_window, tray_host, Desktop, FocusRequest};
use crate::reminders::notify;
use crate::state::AppState;
use std::sync::{Mutex, PoisonError};
use tauri::image::Image;
use tauri::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};
use tillkey_core::reminders::{label, status_words, DueCredential};
use tillkey_core::{Engine, RotationStatus};

/// The tray icon's id.
const TRAY: &str = "tillkey";
/// Why the window opened, for a credential picked from the tray's list.
const DUE: &str = "Due for rotation";
/// At most this many credentials are listed in the menu (then "and N more").
const MENU_ITEMS: usize = 12;

/// The credentials the menu lists, in menu order, so a click finds its credential.
#[derive(Debug, Default)]
pub struct Listed(Mutex<Vec<(String, String)>>);

/// The icon (the app icon), or with a red dot in its lower right corner when `due`.
fn icon(due: bool) -> Option<Image<'static>> {
    let base = Image::from_bytes(include_bytes!("../../icons/128x128.png")).ok()?;
    if !due {
        return Some(base.to_owned());
    }
    let (w, h) = (base.width(), base.height());
    let mut rgba = base.rgba().to_vec();
    let r = w.min(h) as f32 * 0.22;
    let (cx, cy) = (w as f32 - r - 1.0, h as f32 - r - 1.0);
    for y in 0..h {
        for x in 0..w {
            let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
            let i = ((y * w + x) * 4) as usize;
            if d <= r {
                rgba[i..i + 4].copy_from_slice(&[0xd9, 0x2d, 0x20, 0xff]);
            } else if d <= r + 2.0 {
                rgba[i..i + 4].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
            }
        }
    }
    Some(Image::new_owned(rgba, w, h))
}

/// "2 overdue, 1 due soon" or "Nothing due for rotation".
pub fn counts(due: &[DueCredential]) -> String {
    let overdue = due
        .iter()
        .filter(|d| d.credential.rotation.status == RotationStatus::Overdue)
        .count();
    let soon = due.len() - overdue;
    match (overdue, soon) {
        (0, 0) => "Nothing due for rotation".into(),
        (o, 0) => format!("{o} overdue"),
        (0, s) => format!("{s} due soon"),
        (o, s) => format!("{o} overdue, {s} due soon"),
    }
}

fn menu<R: Runtime>(app: &AppHandle<R>, due: &[DueCredential]) -> tauri::Result<Menu<R>> {
    let menu = Menu::new(app)?;
    menu.append(&MenuItem::with_id(app, "open", "Open Tillkey", true, None::<&str>)?)?;
    menu.append(&MenuItem::with_id(app, "test-all", "Test all", true, None::<&str>)?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(app, "counts", counts(due), false, None::<&str>)?)?;
    for (i, d) in due.iter().take(MENU_ITEMS).enumerate() {
        let text = format!("{} — {}", label(d), status_words(&d.credential));
        menu.append(&MenuItem::with_id(app, format!("due:{i}"), text, true, None::<&str>)?)?;
    }
    if due.len() > MENU_ITEMS {
        let more = format!("and {} more…", due.len() - MENU_ITEMS);
        menu.append(&MenuItem::with_id(app, "open-more", more, true, None::<&str>)?)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(
        app,
        "pause",
        "Pause reminders for today",
        true,
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(app, "quit", "Quit Tillkey", true, None::<&str>)?)?;
    Ok(menu)
}

/// Creates the tray icon if this desktop has a tray, and records in [`Desktop`] whether it
/// is shown. Calling it again after success does nothing.
pub fn ensure<R: Runtime>(app: &AppHandle<R>) {
    if app.tray_by_id(TRAY).is_some() {
        return;
    }
    let state = tray_host().and_then(|()| {
        let menu = menu(app, &[]).map_err(|e| format!("The tray menu could not be built: {e}"))?;
        let mut builder = TrayIconBuilder::with_id(TRAY)
            .tooltip("Tillkey")
            .menu(&menu)
            .show_menu_on_left_click(false)
            .on_menu_event(on_menu)
            .on_tray_icon_event(|tray, event| {
                if let TrayIconEvent::Click {
                    button: MouseButton::Left,
                    button_state: MouseButtonState::Up,
                    ..
                } = event
                {
                    open_window(tray.app_handle(), None);
                }
            });
        if let Some(image) = icon(false) {
            builder = builder.icon(image);
        }
        builder
            .build(app)
            .map(|_| ())
            .map_err(|e| format!("The tray icon could not be shown: {e}"))
    });
    app.state::<Desktop>().set_tray(state);
}

/// Shows `due` in the tray: icon, tooltip and menu.
pub fn show_due<R: Runtime>(app: &AppHandle<R>, due: &[DueCredential]) {
    ensure(app);
    let Some(tray) = app.tray_by_id(TRAY) else { return };
    *app.state::<Listed>().0.lock().unwrap_or_else(PoisonError::into_inner) = due
        .iter()
        .map(|d| (d.vault.clone(), d.credential.name.clone()))
        .collect();
    let _ = tray.set_icon(icon(!due.is_empty()));
    let _ = tray.set_tooltip(Some(format!("Tillkey — {}", counts(due))));
    match menu(app, due) {
        Ok(m) => {
            let _ = tray.set_menu(Some(m));
        }
        Err(e) => eprintln!("tillkey: the tray menu could not be rebuilt: {e}"),
    }
}

fn on_menu<R: Runtime>(app: &AppHandle<R>, event: MenuEvent) {
    let id = event.id().as_ref();
    match id {
        "open" => open_window(app, None),
        "open-more" => {
            let listed = app
                .state::<Listed>()
                .0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            open_window(app, focus_on(&listed, None, DUE));
        }
        "test-all" => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move { test_all(&app).await });
        }
        "pause" => pause(app),
        "quit" => app.exit(0),
        _ => {
            if let Some(i) = id.strip_prefix("due:").and_then(|i| i.parse::<usize>().ok()) {
                let listed = app
                    .state::<Listed>()
                    .0
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                open_window(app, focus_on(&listed, Some(i), DUE));
            }
        }
    }
}

/// The window request for listed `(vault, name)` number `i`, or for the credentials of
/// the first one's vault, with `reason` in words.
pub fn focus_on(listed: &[(String, String)], i: Option<usize>, reason: &str) -> Option<FocusRequest> {
    let (vault, names) = match i {
        Some(i) => {
            let (vault, name) = listed.get(i)?;
            (vault.clone(), vec![name.clone()])
        }
        None => {
            let vault = listed.first()?.0.clone();
            let names = listed
                .iter()
                .filter(|(v, _)| *v == vault)
                .map(|(_, n)| n.clone())
                .collect();
            (vault, names)
        }
    };
    Some(FocusRequest {
        vault,
        names,
        reason: reason.into(),
    })
}

fn pause<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    let Ok(dir) = state.real_data_dir() else { return };
    let today = tillkey_core::reminders::today(state.clock().as_ref());
    match tillkey_core::reminders::ReminderLog::new(&dir).pause(today) {
        Ok(()) => notify(
            app,
            "Reminders paused for today",
            "Tillkey reminds you again tomorrow. The tray still lists what is due.",
            None,
        ),
        Err(e) => eprintln!("tillkey: cannot pause reminders: {}", e.code()),
    }
}

/// "Test all" from the tray: every credential of every vault this machine knows, then one
/// notification with the outcome (its action opens the window on the failures).
async fn test_all<R: Runtime>(app: &AppHandle<R>) {
    // A locked vault tests nothing from the tray: unlocking needs the window.
    if crate::lock::ensure_local_unlocked(app).await.is_err() {
        notify(
            app,
            "Tillkey is locked",
            "Open Tillkey and unlock it with the vault passphrase to run the tests.",
            None,
        );
        return;
    }
    let state = app.state::<AppState>();
    let Ok(dir) = state.real_data_dir() else { return };
    let clock = state.clock().clone();
    let vaults = match tauri::async_runtime::spawn_blocking(move || crate::reminders::known_vaults(&dir, &clock)).await
    {
        Ok(v) => v,
        Err(_) => return,
    };
    let (mut passed, mut failed) = (0usize, Vec::<(String, String)>::new());
    for vault in vaults {
        let name = vault.name().to_string();
        match Engine::new(std::sync::Arc::new(vault)).test_all().await {
            Ok(reports) => {
                for r in reports {
                    if r.ok {
                        passed += 1;
                    } else {
                        failed.push((name.clone(), r.credential.clone()));
                    }
                }
            }
            Err(e) => failed.push((name.clone(), format!("(vault: {})", e.code()))),
        }
    }
    let title = format!("Test all: {passed} passed, {} failed", failed.len());
    let body = if failed.is_empty() {
        "Every credential answered as expected.".to_string()
    } else {
        let names: Vec<String> = failed.iter().take(8).map(|(v, n)| format!("{n} ({v})")).collect();
        format!("Failed: {}. Open Tillkey for what went wrong.", names.join(", "))
    };
    let focus = focus_on(&failed, None, "Failed in Test all");
    notify(app, &title, &body, focus);
    crate::reminders::wake(app);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_due_icon_has_a_red_dot_and_the_plain_one_not() {
        let plain = icon(false).expect("icon");
        let due = icon(true).expect("icon");
        assert_eq!((plain.width(), plain.height()), (due.width(), due.height()));
        let w = due.width() as usize;
        let corner = ((due.height() as usize - 12) * w + (w - 12)) * 4;
        assert_eq!(&due.rgba()[corner..corner + 4], &[0xd9, 0x2d, 0x20, 0xff]);
        assert_ne!(&plain.rgba()[corner..corner + 4], &[0xd9, 0x2d, 0x20, 0xff]);
    }

    #[test]
    fn a_menu_click_opens_the_window_on_that_credential_or_that_vault() {
        let listed = vec![
            ("eu".to_string(), "a".to_string()),
            ("eu".to_string(), "b".to_string()),
            ("local".to_string(), "c".to_string()),
        ];
        let one = focus_on(&listed, Some(2), DUE).expect("request");
        assert_eq!(
            (one.vault.as_str(), one.names.as_slice()),
            ("local", &["c".to_string()][..])
        );
        let first = focus_on(&listed, None, "why").expect("request");
        assert_eq!(first.vault, "eu");
        assert_eq!(first.names, ["a", "b"]);
        assert_eq!((one.reason.as_str(), first.reason.as_str()), (DUE, "why"));
        assert!(focus_on(&listed, Some(3), DUE).is_none());
        assert!(focus_on(&[], None, DUE).is_none());
    }
}
