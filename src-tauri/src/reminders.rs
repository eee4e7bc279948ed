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
use tillkey_core::reminders::{due_in, sort_by_urgency, DueCredential, ReminderLog};
use tillkey_core::vault::team::{config::list_configs, LOCAL_VAULT};
use tillkey_core::{Clock, CredentialSummary, KeyringStore, RotationStatus, Vault};

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

/// Rotation status in words: "overdue by 5 days", "due in 5 days", "due today".
pub fn status_words(c: &CredentialSummary) -> String {
    let days = c.rotation.days_left.unsigned_abs();
    let unit = if days == 1 { "day" } else { "days" };
    match c.rotation.status {
        RotationStatus::Overdue => format!("overdue by {days} {unit}"),
        RotationStatus::DueSoon if days == 0 => "due today".into(),
        RotationStatus::DueSoon => format!("due in {days} {unit}"),
        RotationStatus::Ok => format!("ok, due in {days} {unit}"),
    }
}

/// A credential's name with its vault when that is not the local one: "shop (team eu)".
pub fn label(d: &DueCredential) -> String {
    if d.vault == LOCAL_VAULT {
        d.credential.name.clone()
    } else {
        format!("{} (team {})", d.credential.name, d.vault)
    }
}

/// Title and body of the notification for `due` (not empty).
pub fn message(due: &[DueCredential]) -> (String, String) {
    if let [one] = due {
        let c = &one.credential;
        let title = format!("Rotate “{}”: {}", label(one), status_words(c));
        let body = format!(
            "{} ({}). Open Tillkey and choose Rotate to replace its secret, or Mark as rotated if you already did.",
            c.provider_label, c.environment
        );
        return (title, body);
    }
    let title = format!("{} credentials need rotation", due.len());
    let lines: Vec<String> = due
        .iter()
        .map(|d| format!("{}: {}", label(d), status_words(&d.credential)))
        .collect();
    (title, format!("{}\nOpen Tillkey to rotate them.", lines.join("\n")))
}

/// The window request for `due`: the vault of the most urgent credential and those of
/// `due` in it.
pub fn focus_for(due: &[DueCredential], reason: &str) -> Option<FocusRequest> {
    let first = due.first()?;
    Some(FocusRequest {
        vault: first.vault.clone(),
        names: due
            .iter()
            .filter(|d| d.vault == first.vault)
            .map(|d| d.credential.name.clone())
            .collect(),
        reason: reason.into(),
    })
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
            let today = clock.now().with_timezone(&chrono::Local).date_naive();
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use tillkey_core::{FixedClock, MemoryStore, NewCredential};

    fn due_pair() -> (tempfile::TempDir, Vec<DueCredential>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let start = chrono::Utc::now() - chrono::Duration::days(95);
        let clock = Arc::new(FixedClock::new(start));
        let vault = Vault::open(dir.path(), Arc::new(MemoryStore::new()), clock.clone()).expect("vault");
        let add = |name: &str| {
            vault
                .add(NewCredential {
                    name: name.into(),
                    provider: "bearer".into(),
                    environment: None,
                    fields: BTreeMap::new(),
                    secrets: [("token".to_string(), "t".to_string().into())].into(),
                })
                .expect("add");
        };
        add("old-shop");
        clock.advance(chrono::Duration::days(10));
        add("newer-shop");
        clock.advance(chrono::Duration::days(85));
        let due = due_in(&vault).expect("due");
        (dir, due)
    }

    #[test]
    fn words_for_each_status() {
        let (_dir, due) = due_pair();
        assert_eq!(status_words(&due[0].credential), "overdue by 5 days");
        assert_eq!(status_words(&due[1].credential), "due in 5 days");
    }

    #[test]
    fn one_or_many_credentials() {
        let (_dir, mut due) = due_pair();
        let (title, body) = message(&due[..1]);
        assert_eq!(title, "Rotate “old-shop”: overdue by 5 days");
        assert!(body.contains("Bearer token"), "{body}");
        due[1].vault = "eu".into();
        let (title, body) = message(&due);
        assert_eq!(title, "2 credentials need rotation");
        assert!(body.contains("old-shop: overdue by 5 days"), "{body}");
        assert!(body.contains("newer-shop (team eu): due in 5 days"), "{body}");
    }

    #[test]
    fn the_window_opens_on_the_most_urgent_vault() {
        let (_dir, mut due) = due_pair();
        due[0].vault = "eu".into();
        let focus = focus_for(&due, "Rotation reminder").expect("a request");
        assert_eq!(focus.vault, "eu");
        assert_eq!(focus.names, ["old-shop"]);
        assert!(focus_for(&[], "x").is_none());
    }
}
