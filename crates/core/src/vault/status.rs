//! What a vault switcher shows for a vault: its connection state, whether this machine
//! may write, and its size. Built for the local vault in one place, [`VaultStatus::local`].

use crate::error::{Error, Result};
use serde::Serialize;
use std::path::Path;
use ts_rs::TS;

/// The name that always means this machine's own (OS keyring) vault.
pub const LOCAL_VAULT: &str = "local";

/// A team vault's connection state, as `tillkey vault list` and the app's vault switcher
/// show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ConnectionState {
    /// Logged in and the vault document is readable.
    Connected,
    /// DNS, connect, timeout or TLS failure.
    Unreachable,
    /// The login was refused, or the policy denies reading the vault.
    Denied,
    /// The engine is sealed.
    Sealed,
    /// This computer's login to the engine is sealed with the local vault's passphrase and
    /// no key is at hand (`tillkey unlock`).
    Locked,
}

/// What a vault switcher shows for one vault (the local one included).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct VaultStatus {
    /// `local`, or the team vault's name.
    pub name: String,
    /// Whether this is a team vault.
    pub team: bool,
    /// Engine address (team vaults), or the data dir (local).
    pub address: String,
    /// Connection state (the local vault is always `connected`).
    pub state: ConnectionState,
    /// Whether this machine's policy allows writes (`None` when unknown: not connected).
    pub writable: Option<bool>,
    /// Number of credentials (`None` when the vault could not be read).
    #[ts(type = "number | null")]
    pub credentials: Option<usize>,
    /// Why the state is not `connected`, in plain words (no secret).
    pub detail: Option<String>,
    /// The error code behind `detail` (as in `ErrorInfo`).
    pub error_code: Option<String>,
}

impl VaultStatus {
    /// The status of `name` at `address` after `err`.
    pub fn failed(name: &str, address: &str, err: &Error) -> Self {
        let state = match err {
            Error::VaultSealed { .. } => ConnectionState::Sealed,
            Error::Locked => ConnectionState::Locked,
            Error::VaultAuth { .. } | Error::VaultDenied { .. } => ConnectionState::Denied,
            _ => ConnectionState::Unreachable,
        };
        Self {
            name: name.into(),
            team: true,
            address: address.into(),
            state,
            writable: None,
            credentials: None,
            detail: Some(err.to_string()),
            error_code: Some(err.code().into()),
        }
    }
}

impl VaultStatus {
    /// The local vault of `data_dir`, always connected and writable; `credentials` is the
    /// document's count, or why it could not be read.
    pub fn local(data_dir: &Path, credentials: Result<usize>) -> Self {
        Self {
            name: LOCAL_VAULT.into(),
            team: false,
            address: data_dir.display().to_string(),
            state: ConnectionState::Connected,
            writable: Some(true),
            credentials: credentials.as_ref().ok().copied(),
            detail: credentials.as_ref().err().map(|e| e.to_string()),
            error_code: credentials.as_ref().err().map(|e| e.code().to_string()),
        }
    }
}
