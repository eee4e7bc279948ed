//! The app's commands: thin adapters that deserialize, call one core function and map its
//! error to [`IpcError`].
//!
//! Core calls block (file lock, keyring over D-Bus), so each runs on Tauri's blocking pool,
//! never on the main (UI) thread. No command returns a secret.

use crate::error::{IpcError, IpcResult};
use crate::state::AppState;
use std::sync::Arc;
use tauri::{AppHandle, Manager, Runtime};
use tillkey_core::{providers, CredentialSummary, NewCredential, ProviderSchema, Vault};

/// Runs `f` with the vault on the blocking pool.
async fn with_vault<R, T, F>(app: AppHandle<R>, f: F) -> IpcResult<T>
where
    R: Runtime,
    T: Send + 'static,
    F: FnOnce(&Vault) -> tillkey_core::Result<T> + Send + 'static,
{
    let task = tauri::async_runtime::spawn_blocking(move || {
        let state = app.state::<AppState>();
        let vault: Arc<Vault> = state.vault()?;
        f(&vault)
    });
    match task.await {
        Ok(result) => result.map_err(IpcError::from),
        Err(join_error) => {
            // A panic in the core: log that it happened (no payload, which could hold
            // anything) and give the UI a fixed message.
            eprintln!(
                "tillkey: a vault task failed: panicked={}",
                join_error_is_panic(&join_error)
            );
            Err(IpcError::internal())
        }
    }
}

fn join_error_is_panic(err: &tauri::Error) -> bool {
    matches!(err, tauri::Error::JoinError(e) if e.is_panic())
}

/// Every credential in the vault: metadata only.
#[tauri::command]
pub async fn list_credentials<R: Runtime>(app: AppHandle<R>) -> IpcResult<Vec<CredentialSummary>> {
    with_vault(app, |vault| vault.list()).await
}

/// Every provider kind with its form schema.
#[tauri::command]
pub async fn list_providers() -> IpcResult<Vec<ProviderSchema>> {
    Ok(providers::schemas())
}

/// Adds a credential: secrets to the OS keyring, metadata to the vault file.
///
/// # Security
/// `new.secrets` holds what the merchant typed, as `SecretString`s (redacted `Debug`);
/// they go to the core and are never echoed back.
#[tauri::command]
pub async fn add_credential<R: Runtime>(
    app: AppHandle<R>,
    new: NewCredential,
) -> IpcResult<CredentialSummary> {
    with_vault(app, move |vault| vault.add(new)).await
}

/// Removes a credential and every keyring entry it owns.
#[tauri::command]
pub async fn remove_credential<R: Runtime>(app: AppHandle<R>, name: String) -> IpcResult<()> {
    with_vault(app, move |vault| vault.remove(&name)).await
}
