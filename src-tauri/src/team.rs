//! The window's team vault connections: thin adapters over the core, doing what
//! `tillkey vault connect` and `tillkey vault disconnect` do.
//!
//! Connecting runs the core's checks ([`team::ConnectOptions::into_config`] and
//! [`team::connect`]), the very ones the CLI runs, so the dialog gets the same error codes.
//! The engine token or AppRole secret_id arrives as a [`SecretString`] and goes to the
//! engine and the OS keyring only; nothing returns it.

use crate::error::{IpcError, IpcResult, Place};
use crate::state::{blocking, AppState};
use secrecy::SecretString;
use std::sync::Arc;
use tauri::{AppHandle, Manager, Runtime};
use tillkey_core::vault::team::{self, ConnectOptions, VaultStatus, LOCAL_VAULT};
use tillkey_core::KeyringStore;

/// Connects this machine to a team vault, as `tillkey vault connect` does: checks the
/// settings, logs in with `secret` (the engine token, or the AppRole secret_id), reads the
/// vault, and only then saves the connection. Returns its status; the window then lists it
/// in the vault switcher.
///
/// The window has no working directory of the merchant's, so a CA file must be given by its
/// full path.
///
/// # Security
/// `secret` is what the merchant typed in a masked field; it goes to the engine and the OS
/// keyring, never back to the webview.
///
/// # Errors
/// The core's connect errors (`invalid_input` naming the field, `vault_auth`, `vault_tls`,
/// `vault_unreachable`, `vault_denied`, `vault_sealed`, keyring errors), with hints worded
/// for the connect dialog.
#[tauri::command]
pub async fn connect_team_vault<R: Runtime>(
    app: AppHandle<R>,
    options: ConnectOptions,
    secret: SecretString,
) -> IpcResult<VaultStatus> {
    crate::lock::ensure_local_unlocked(&app).await?;
    let dir = app.state::<AppState>().real_data_dir()?;
    if let Some(ca) = options.ca_file.as_ref().filter(|p| !p.is_absolute()) {
        let relative = tillkey_core::Error::InvalidInput {
            field: "--ca-file".into(),
            reason: format!(
                "`{}` is not a full path: give the whole path of the CA file, starting with /",
                ca.display()
            ),
        };
        return Err(IpcError::shown_in(&relative, Place::ConnectDialog));
    }
    let connected = blocking(move || Ok(team::connect(&dir, options, secret, Arc::new(KeyringStore)))).await?;
    connected.map_err(|e| IpcError::shown_in(&e, Place::ConnectDialog))
}

/// Disconnects this machine from team vault `name`, as `tillkey vault disconnect` does: its
/// settings and its engine login are removed here; the vault's data in the engine is not
/// touched. When it is the vault the window shows, the window goes back to this computer's
/// vault first.
///
/// # Errors
/// `vault_not_connected`; keyring and file errors (the connection is then kept).
#[tauri::command]
pub async fn disconnect_team_vault<R: Runtime>(app: AppHandle<R>, name: String) -> IpcResult<()> {
    let state = app.state::<AppState>();
    let active = state.handle().await?;
    if !active.demo && active.vault.team_name() == Some(name.as_str()) {
        state.switch_vault(LOCAL_VAULT).await?;
    }
    let dir = state.real_data_dir()?;
    blocking(move || team::disconnect(&dir, &name, Arc::new(KeyringStore))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_options_arrive_as_the_dialog_sends_them() {
        let opts: ConnectOptions = serde_json::from_value(serde_json::json!({
            "name": "shop", "address": "https://bao.example.com:8200", "mount": null, "prefix": null,
            "auth": "approle", "roleId": "r-1", "namespace": null, "caFile": "/etc/ca.pem",
            "retain": 2, "shareTokens": true
        }))
        .expect("the dialog's shape");
        assert_eq!(opts.auth, team::TeamAuth::Approle);
        assert_eq!(opts.role_id.as_deref(), Some("r-1"));
        assert_eq!(opts.ca_file.as_deref(), Some(std::path::Path::new("/etc/ca.pem")));
        assert!(opts.share_tokens);
        assert!(serde_json::from_value::<ConnectOptions>(serde_json::json!({
            "name": "shop", "address": "x", "auth": "ldap", "retain": 0, "shareTokens": false
        }))
        .is_err());
    }
}
