//! Rotation reminders: a desktop notification (through the notification server of the
//! session, e.g. GNOME Shell, KDE Plasma, dunst) when credentials are due for rotation
//! soon or overdue, at most once a day per credential. The day of the last reminder is
//! kept in the vault's metadata, so restarts do not repeat it.

use crate::error::{IpcError, IpcResult};
use crate::state::{blocking, AppState};
use std::time::Duration;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;
use tillkey_core::{CredentialSummary, RotationStatus};

/// How often the app looks for credentials to remind of while it runs.
pub const INTERVAL: Duration = Duration::from_secs(30 * 60);

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

/// Title and body of the notification for `due` (not empty).
pub fn message(due: &[CredentialSummary], demo: bool) -> (String, String) {
    let prefix = if demo { "[Demo] " } else { "" };
    if let [one] = due {
        let title = format!("{prefix}Rotate “{}”: {}", one.name, status_words(one));
        let body = format!(
            "{} ({}). Open Tillkey and choose Rotate to replace its secret, or Mark as rotated if you already did.",
            one.provider_label, one.environment
        );
        return (title, body);
    }
    let title = format!("{prefix}{} credentials need rotation", due.len());
    let lines: Vec<String> = due.iter().map(|c| format!("{}: {}", c.name, status_words(c))).collect();
    (title, format!("{}\nOpen Tillkey to rotate them.", lines.join("\n")))
}

/// Sends one notification for the credentials of the active vault that are due soon or
/// overdue and were not reminded of today, and records the reminder. Returns how many
/// credentials it named.
///
/// # Errors
/// Vault errors; `notification_failed` when the notification could not be prepared.
pub async fn check<R: Runtime>(app: &AppHandle<R>) -> IpcResult<usize> {
    let handle = app.state::<AppState>().handle().await?;
    let vault = handle.vault.clone();
    let due = blocking(move || vault.reminders_due()).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let (title, body) = message(&due, handle.demo);
    app.notification()
        .builder()
        .title(title)
        .body(body)
        .show()
        .map_err(|_| {
            IpcError::app(
                "notification_failed",
                "Tillkey could not show a desktop notification.",
                "Check that your desktop has a notification server running.",
            )
        })?;
    let ids: Vec<String> = due.iter().map(|c| c.id.clone()).collect();
    let vault = handle.vault.clone();
    blocking(move || vault.mark_reminded(&ids)).await?;
    Ok(due.len())
}

/// Checks now and then every [`INTERVAL`] while the app runs.
pub fn spawn_loop<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        loop {
            if let Err(e) = check(&app).await {
                eprintln!("tillkey: rotation reminder check failed: {}", e.code);
            }
            tokio::time::sleep(INTERVAL).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use tillkey_core::{FixedClock, MemoryStore, NewCredential, Vault};

    fn vault_with_due() -> (tempfile::TempDir, Vec<CredentialSummary>) {
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
        let due = vault.reminders_due().expect("due");
        (dir, due)
    }

    #[test]
    fn words_for_each_status() {
        let (_dir, due) = vault_with_due();
        assert_eq!(status_words(&due[0]), "overdue by 5 days");
        assert_eq!(status_words(&due[1]), "due in 5 days");
    }

    #[test]
    fn one_or_many_credentials() {
        let (_dir, due) = vault_with_due();
        let (title, body) = message(&due[..1], false);
        assert_eq!(title, "Rotate “old-shop”: overdue by 5 days");
        assert!(body.contains("Bearer token"), "{body}");
        let (title, body) = message(&due, true);
        assert_eq!(title, "[Demo] 2 credentials need rotation");
        assert!(body.contains("old-shop: overdue by 5 days"), "{body}");
        assert!(body.contains("newer-shop: due in 5 days"), "{body}");
    }
}
