//! Rotation reminders in the resident process, for every vault this machine knows: the
//! local vault and each connected team vault (never the demo vault).
//!
//! Every [`interval`] (and at start, so anything that became due while the machine was off
//! is reminded at login) the app lists what is due soon or overdue, shows it in the tray,
//! and sends one desktop notification for what this machine has not reminded of today
//! (several credentials make one summary). The notification's action opens the window on
//! those credentials. What was reminded is this machine's record in the local data dir
//! ([`tillkey_core::reminders::ReminderLog`]), so restarts do not repeat a reminder and a
//! team document is never written for it.
//!
//! Notifications go through the session's notification server (GNOME Shell, KDE Plasma,
//! dunst ...) with notify-rust: tauri-plugin-notification has no click callback on the
//! desktop, and an action is how the merchant gets from the reminder to the credential.

use crate::desktop::{open_window, FocusRequest};
use crate::state::AppState;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tauri::{AppHandle, Manager, Runtime};
use tillkey_core::reminders::{due_in, message, sort_by_urgency, DueCredential, ReminderLog};
use tillkey_core::vault::team::config::list_configs;
use tillkey_core::{Clock, KeyringStore, Vault};

/// How often the resident app looks for credentials to remind of.
pub const INTERVAL: Duration = Duration::from_secs(30 * 60);
/// Test builds only: seconds between reminder checks instead of [`INTERVAL`].
#[cfg(debug_assertions)]
pub const INTERVAL_ENV: &str = "TILLKEY_REMINDER_INTERVAL_SECS";

/// [`INTERVAL`], or in debug builds `$TILLKEY_REMINDER_INTERVAL_SECS` (at least 1 s).
pub fn interval() -> Duration {
    #[cfg(debug_assertions)]
    if let Some(secs) = std::env::var(INTERVAL_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Duration::from_secs(secs.max(1));
    }
    INTERVAL
}

/// The window request for `due`: the vault of the most urgent credential and those of
/// `due` in it.
pub fn focus_for(due: &[DueCredential], reason: &str) -> Option<FocusRequest> {
    let listed: Vec<(String, String)> = due
        .iter()
        .map(|d| (d.vault.clone(), d.credential.name.clone()))
        .collect();
    crate::tray::focus_on(&listed, None, reason)
}

/// Every vault this machine knows (local first, then each connected team vault), opened
/// with the app's clock. A vault that cannot be opened is skipped with a log line (its
/// code only): one engine down must not silence the others.
pub fn known_vaults(data_dir: &Path, clock: &Arc<dyn Clock>) -> Vec<Vault> {
    let mut out = Vec::new();
    match Vault::open(data_dir, Arc::new(KeyringStore), clock.clone()) {
        Ok(v) => out.push(v),
        Err(e) => eprintln!("tillkey: reminders: the local vault: {}", e.code()),
    }
    for cfg in list_configs(data_dir).unwrap_or_default() {
        match Vault::open_team(data_dir, &cfg.name, Arc::new(KeyringStore), clock.clone()) {
            Ok(v) => out.push(v),
            Err(e) => eprintln!("tillkey: reminders: team vault {}: {}", cfg.name, e.code()),
        }
    }
    out
}

/// What is due in every known vault, most urgent first.
pub fn due_everywhere(data_dir: &Path, clock: &Arc<dyn Clock>) -> Vec<DueCredential> {
    let mut all = Vec::new();
    for vault in known_vaults(data_dir, clock) {
        match due_in(&vault) {
            Ok(due) => all.extend(due),
            Err(e) => eprintln!("tillkey: reminders: vault {}: {}", vault.name(), e.code()),
        }
    }
    sort_by_urgency(&mut all);
    all
}

/// Shows a desktop notification; with `focus`, its action ("Open Tillkey", also the
/// default action of a click on it) opens the window on those credentials, and it stays
/// until acted on or closed. Best effort:
/// without a notification server, a log line.
pub fn notify<R: Runtime>(app: &AppHandle<R>, title: &str, body: &str, focus: Option<FocusRequest>) {
    let mut n = notify_rust::Notification::new();
    n.appname("Tillkey")
        .summary(title)
        .body(body)
        .icon("dialog-information");
    if focus.is_some() {
        // It stays until the merchant acts on it or closes it (where the server lets it):
        // a reminder that vanishes while nobody is at the till misses its purpose.
        n.action("default", "Open Tillkey")
            .action("open", "Open Tillkey")
            .timeout(notify_rust::Timeout::Never);
    }
    let handle = match n.show() {
        Ok(h) => h,
        Err(_) => {
            eprintln!("tillkey: no desktop notification server answered");
            return;
        }
    };
    let Some(focus) = focus else { return };
    let app = app.clone();
    // Waiting for the click blocks: one thread per notification, until it is closed.
    let spawned = std::thread::Builder::new()
        .name("tillkey-notification".into())
        .spawn(move || {
            handle.wait_for_action(|action| {
                if action == "default" || action == "open" {
                    open_window(&app, Some(focus));
                }
            });
        });
    if spawned.is_err() {
        eprintln!("tillkey: cannot wait for the notification's action");
    }
}

/// One reminder check: lists what is due in every vault, updates the tray, and notifies
/// of what was not reminded of today (unless paused). Returns how many it notified of.
pub async fn check<R: Runtime>(app: &AppHandle<R>) -> usize {
    let state = app.state::<AppState>();
    let Ok(data_dir) = state.real_data_dir() else {
        return 0;
    };
    let clock = state.clock().clone();
    let work = {
        let data_dir = data_dir.clone();
        let clock = clock.clone();
        tauri::async_runtime::spawn_blocking(move || {
            let due = due_everywhere(&data_dir, &clock);
            let today = tillkey_core::reminders::today(clock.as_ref());
            let log = ReminderLog::new(&data_dir);
            let fresh = log.pending(&due, today);
            (due, fresh, log, today)
        })
    };
    let Ok((due, fresh, log, today)) = work.await else {
        return 0;
    };
    crate::tray::show_due(app, &due);
    if fresh.is_empty() {
        return 0;
    }
    let (title, body) = message(&fresh);
    notify(app, &title, &body, focus_for(&fresh, "Rotation reminder"));
    if let Err(e) = log.mark(&fresh, today) {
        eprintln!("tillkey: reminders: cannot record the reminder: {}", e.code());
    }
    fresh.len()
}

/// Checks now and then every [`interval`] while the app runs; [`wake`] checks at once.
pub fn spawn_loop<R: Runtime>(app: AppHandle<R>) {
    let notify = app.state::<Wake>().0.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            check(&app).await;
            tokio::select! {
                _ = tokio::time::sleep(interval()) => {}
                _ = notify.notified() => {}
            }
        }
    });
}

/// Wakes the reminder loop (a vault or its settings changed).
#[derive(Debug, Default)]
pub struct Wake(Arc<tokio::sync::Notify>);

/// Checks reminders again soon (after a change in the window).
pub fn wake<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.try_state::<Wake>() {
        w.0.notify_one();
    }
}
