//! The request inspector in the window: what the last token request and the last test of
//! a credential sent and received, secrets masked (see `tillkey_core::inspect`), as
//! `tillkey test NAME --trace` prints it. Opened from a test report.

use crate::error::IpcResult;
use crate::state::{blocking, AppState};
use tauri::{AppHandle, Manager, Runtime};
use tillkey_core::inspect::Inspection;

/// The recorded exchanges of credential `name`. Reads only the redacted trace files and
/// the metadata, never the keyring, so it works while the vault is locked; nothing in it
/// is secret (every value was masked before it was written, and is cleaned again as it is
/// read back).
///
/// # Errors
/// The credential is unknown; the vault cannot be read.
#[tauri::command]
pub async fn inspect_credential<R: Runtime>(app: AppHandle<R>, name: String) -> IpcResult<Inspection> {
    let h = app.state::<AppState>().handle().await?;
    blocking(move || tillkey_core::inspect::load(&h.vault, &name)).await
}
