//! Import in the window: a file dropped on the window (or its path typed in the Import
//! dialog) is checked with a dry run, shown, and imported on the merchant's click, through
//! the same core calls as `tillkey import` (`tillkey_core::import::read`, which decrypts a
//! backup with its passphrase, then `plan` and `import`).
//!
//! The file is read by Rust: its secrets never reach the webview. Only the report crosses
//! (names, providers, where the values came from, what was skipped and why); a backup's
//! passphrase crosses inbound only. Variables with names Tillkey does not know are left
//! alone here; `tillkey import --map` maps them.

use crate::error::{IpcError, IpcResult};
use crate::state::blocking;
use secrecy::SecretString;
use std::path::PathBuf;
use std::sync::Mutex;
use tauri::{AppHandle, Manager, Runtime};
use tillkey_core::import::{self, ImportError, Mapping, Options, Report};

/// Tells the window a file was dropped on it (a fixed script: the path is fetched with
/// [`take_dropped_file`]).
const DROP_SCRIPT: &str = "window.dispatchEvent(new Event('tillkey-drop'))";

/// The file last dropped on the window, until the window takes it.
#[derive(Default)]
pub struct Dropped(Mutex<Option<PathBuf>>);

/// A file was dropped on the window: keep the first path and tell the window.
pub fn dropped<R: Runtime>(app: &AppHandle<R>, paths: &[PathBuf]) {
    let Some(first) = paths.first() else { return };
    *app.state::<Dropped>()
        .0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(first.clone());
    if let Some(window) = app.get_webview_window(crate::desktop::MAIN) {
        let _ = window.eval(DROP_SCRIPT);
    }
}

/// The path of the file last dropped on the window, once.
#[tauri::command]
pub fn take_dropped_file<R: Runtime>(app: AppHandle<R>) -> Option<String> {
    app.state::<Dropped>()
        .0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
        .map(|p| p.display().to_string())
}

fn from_import(e: &ImportError) -> IpcError {
    let info = e.info();
    IpcError {
        code: info.code,
        message: info.message.chars().filter(|c| !c.is_control()).collect(),
        hint: info.hint,
        field: Some(
            match e {
                ImportError::PassphraseRequired { .. } | ImportError::WrongPassphrase { .. } => "passphrase",
                _ => "file",
            }
            .into(),
        ),
    }
}

/// Checks (`dry_run`) or imports the credentials of the file at `path` into the active
/// vault: a .env file, a Postman environment or collection, a Bruno environment, an
/// Insomnia v4 export, or a Tillkey backup (with `passphrase`). Existing names are skipped,
/// never overwritten; every credential is checked as Add checks it.
///
/// # Errors
/// `invalid_input` (field `file`) for a path that is not absolute; the import's own codes
/// for an unreadable, malformed or too large file (nothing imported);
/// `backup_passphrase_required` for a backup without a passphrase; `wrong_passphrase`;
/// `locked` and the vault's errors.
#[tauri::command]
pub async fn import_file<R: Runtime>(
    app: AppHandle<R>,
    path: String,
    dry_run: bool,
    passphrase: Option<SecretString>,
) -> IpcResult<Report> {
    let path = PathBuf::from(path.trim());
    if !path.is_absolute() {
        return Err(IpcError {
            code: "invalid_input".into(),
            message: "Give the whole path of the file, starting with /.".into(),
            hint: Some("Or drop the file on the window.".into()),
            field: Some("file".into()),
        });
    }
    let h = crate::commands::unlocked(&app).await?;
    // Off the async runtime: reading the file, and a backup's scrypt work.
    let (file, parsed) = tauri::async_runtime::spawn_blocking(move || {
        let source = import::load(&path)?;
        import::read(&source, passphrase.as_ref()).map(|parsed| (source.file, parsed))
    })
    .await
    .map_err(|_| IpcError::internal())?
    .map_err(|e| from_import(&e))?;
    let format = parsed.format;
    let plan = import::plan(parsed, &Mapping::new());
    let report = blocking(move || import::import(&h.vault, &file, format, plan, Options { dry_run })).await?;
    if !dry_run && !report.imported.is_empty() {
        crate::reminders::wake(&app);
    }
    Ok(report)
}
