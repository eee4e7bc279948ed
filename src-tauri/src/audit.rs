//! The audit log in the window: list it with filters (credential, action, date), check
//! its chain, and export what is shown as JSON lines. The log holds no secret, so what
//! the webview gets is what `tillkey log --json` prints.
//!
//! The window's own actions are recorded where they happen: copy and reveal in
//! `commands.rs` (as `Engine::token_as`), test, rotate, revoke and remove in the core.

use crate::error::{IpcError, IpcResult};
use crate::state::{blocking, AppState};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tauri::{AppHandle, Manager, Runtime};
use tillkey_core::audit::{self, Action, AnchorState, AuditLog, Entry, Filter, Verified};
use ts_rs::TS;

/// Which entries the window asks for; every part optional.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export)]
pub struct AuditQuery {
    /// Only this credential (name).
    #[serde(default)]
    pub credential: Option<String>,
    /// Only this action.
    #[serde(default)]
    pub action: Option<Action>,
    /// Only entries at or after this time.
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Only entries before this time.
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
}

impl From<AuditQuery> for Filter {
    fn from(q: AuditQuery) -> Self {
        Filter {
            credential: q.credential.filter(|c| !c.is_empty()),
            action: q.action,
            since: q.since,
            until: q.until,
        }
    }
}

/// Most entries one answer carries (the newest): a log of years still answers quickly.
pub const MAX_ENTRIES: usize = 5000;

/// The entries found, newest first.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AuditPage {
    /// Matching entries, newest first (at most [`MAX_ENTRIES`]).
    pub entries: Vec<Entry>,
    /// How many matched in all.
    #[ts(type = "number")]
    pub total: usize,
    /// Lines of the log that are not entries (a sign to run the check).
    #[ts(type = "number")]
    pub unreadable: usize,
}

/// What the chain check found, in words for the window.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AuditCheck {
    /// Whether the chain and its anchor are intact.
    pub intact: bool,
    /// Entries checked (intact), or entries before the break.
    #[ts(type = "number")]
    pub count: u64,
    /// The broken entry's sequence number.
    #[ts(type = "number | null")]
    pub broken_seq: Option<u64>,
    /// What the check says, in one sentence.
    pub message: String,
}

/// Where an export was written.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AuditExport {
    /// The file written.
    pub path: String,
    /// Entries in it.
    #[ts(type = "number")]
    pub count: usize,
}

async fn log_of<R: Runtime>(app: &AppHandle<R>) -> IpcResult<std::sync::Arc<AuditLog>> {
    let h = app.state::<AppState>().handle().await?;
    Ok(h.vault.audit_log().clone())
}

/// The audit log's entries that `query` passes, newest first.
#[tauri::command]
pub async fn audit_log<R: Runtime>(app: AppHandle<R>, query: AuditQuery) -> IpcResult<AuditPage> {
    let log = log_of(&app).await?;
    blocking(move || {
        let listing = log.list(&query.into())?;
        let total = listing.entries.len();
        let entries = listing.entries.into_iter().rev().take(MAX_ENTRIES).collect();
        Ok(AuditPage {
            entries,
            total,
            unreadable: listing.unreadable,
        })
    })
    .await
}

/// Checks the chain and its anchor (as `tillkey log --verify`).
#[tauri::command]
pub async fn verify_audit_log<R: Runtime>(app: AppHandle<R>) -> IpcResult<AuditCheck> {
    let log = log_of(&app).await?;
    blocking(move || {
        Ok(match log.verify()? {
            Verified::Intact { count, anchor, .. } => AuditCheck {
                intact: true,
                count,
                broken_seq: None,
                message: match anchor {
                    AnchorState::Matched(a) => {
                        format!("Intact: {count} entries, anchored in the keyring at entry {}.", a.seq)
                    }
                    AnchorState::Missing => format!("Intact: {count} entries (anchored in the keyring now)."),
                    AnchorState::Unavailable(_) => format!("Intact: {count} entries (not anchored)."),
                },
            },
            Verified::Broken {
                seq,
                place,
                reason,
                good,
            } => AuditCheck {
                intact: false,
                count: good,
                broken_seq: Some(seq),
                message: format!(
                    "Entry {seq}{}: {reason}.",
                    place.map(|p| format!(" ({p})")).unwrap_or_default()
                ),
            },
        })
    })
    .await
}

/// Where exports go: the user's Downloads folder, else the home folder.
fn export_dir<R: Runtime>(app: &AppHandle<R>) -> Option<PathBuf> {
    let paths = app.path();
    paths
        .download_dir()
        .ok()
        .filter(|d| d.is_dir())
        .or_else(|| paths.home_dir().ok())
}

/// Writes the entries `query` passes (oldest first, as stored) as JSON lines to a new
/// file `tillkey-audit-<time>.jsonl` in the Downloads folder (the path is chosen here,
/// never by the webview), and says where.
#[tauri::command]
pub async fn export_audit_log<R: Runtime>(app: AppHandle<R>, query: AuditQuery) -> IpcResult<AuditExport> {
    let log = log_of(&app).await?;
    let now = app.state::<AppState>().clock().now();
    let dir = export_dir(&app).ok_or_else(|| {
        IpcError::app(
            "export_failed",
            "Tillkey found no Downloads or home folder to export to.",
            "Use `tillkey log --json > FILE` in a terminal instead.",
        )
    })?;
    blocking(move || {
        let listing = log.list(&query.into())?;
        let mut text = String::new();
        for e in &listing.entries {
            text.push_str(&serde_json::to_string(e).map_err(|e| tillkey_core::Error::Internal(e.to_string()))?);
            text.push('\n');
        }
        let path = dir.join(format!("tillkey-audit-{}.jsonl", now.format("%Y%m%dT%H%M%SZ")));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let write = |p: &std::path::Path| -> std::io::Result<()> {
            use std::io::Write;
            let mut f = opts.open(p)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()
        };
        write(&path).map_err(|e| tillkey_core::Error::Internal(format!("cannot write {}: {e}", path.display())))?;
        Ok(AuditExport {
            path: path.display().to_string(),
            count: listing.entries.len(),
        })
    })
    .await
}

/// This process's audit origin: the window, anchored in the OS keyring.
pub fn set_origin() {
    audit::set_process_origin(audit::Origin::window());
    audit::anchor_in_keyring();
}
