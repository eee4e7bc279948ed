//! Copy a token to the clipboard from Rust, and clear it after a delay if it still holds
//! that token. The token never enters the webview.
//!
//! The copy carries each platform's "keep this out of clipboard history" hint, through the
//! clipboard plugin's `write_secret` (arboard's `exclude_from_history` /
//! `exclude_from_monitoring`): on Linux (X11 and Wayland) an `x-kde-passwordManagerHint`
//! target holding `secret` beside the text; on macOS the `org.nspasteboard.ConcealedType`
//! type; on Windows the `ExcludeClipboardContentFromMonitorProcessing` format, which keeps
//! it out of clipboard history and cloud sync. What each desktop does with them is in the
//! README ("Clipboard history").
//!
//! The clear overwrites the token with empty text instead of leaving the clipboard without
//! an owner: GNOME's compositor (mutter's clipboard manager) keeps a copy of the last text
//! and republishes it as soon as the clipboard has no owner, which would bring the token
//! back right after a plain clear.

use crate::error::{IpcError, IpcResult};
use crate::state::AppState;
use secrecy::{ExposeSecret, SecretString};
use std::sync::atomic::Ordering;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_clipboard_manager::ClipboardExt;

fn unavailable() -> IpcError {
    IpcError::app(
        "clipboard_unavailable",
        "Tillkey could not use the clipboard.",
        "Check that a desktop session is running (X11 or Wayland), then try again.",
    )
}

/// Puts `token` on the clipboard (hinted as a secret, so clipboard managers keep it out of
/// their history) and schedules its removal after the state's delay. Returns the delay in
/// seconds.
///
/// # Errors
/// `clipboard_unavailable`.
pub async fn copy<R: Runtime>(app: &AppHandle<R>, token: SecretString) -> IpcResult<u64> {
    let state = app.state::<AppState>();
    let delay = state.clear_after();
    let generation = state.copies.fetch_add(1, Ordering::SeqCst) + 1;
    let writer = app.clone();
    let value = token.clone();
    tauri::async_runtime::spawn_blocking(move || {
        writer
            .clipboard()
            .write_secret(value.expose_secret())
            .map_err(|_| unavailable())
    })
    .await
    .map_err(|_| unavailable())??;

    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(delay).await;
        // Reading the clipboard must not happen on the main thread (it can deadlock on Linux).
        let _ = tauri::async_runtime::spawn_blocking(move || clear_if_unchanged(&app, &token, generation)).await;
    });
    Ok(delay.as_secs())
}

/// Clears the clipboard if it still holds `token` and no later copy took over.
fn clear_if_unchanged<R: Runtime>(app: &AppHandle<R>, token: &SecretString, generation: u64) {
    let latest = app.state::<AppState>().copies.load(Ordering::SeqCst);
    if latest != generation {
        return; // A later copy owns the clipboard and its own timer.
    }
    let clipboard = app.clipboard();
    let Ok(current) = clipboard.read_text() else {
        return; // Empty, or not text: nothing of ours to clear.
    };
    let current = SecretString::from(current);
    // Empty text, not "no owner": see the module doc (GNOME would restore the token).
    if current.expose_secret() == token.expose_secret() && clipboard.write_text(String::new()).is_err() {
        eprintln!("tillkey: could not clear the clipboard");
    }
}
