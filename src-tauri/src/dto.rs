//! Data shapes only the app's UI uses (exported to `ui/src/bindings/` by ts-rs when
//! `cargo test -p tillkey-app` runs). The vault's own DTOs are in `tillkey_core::dto`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use ts_rs::TS;

/// Which vault the window shows and how this process runs.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AppInfo {
    /// Whether the demo vault (simulated providers) is active.
    pub demo: bool,
    /// The active vault's data dir.
    pub data_dir: String,
    /// The active vault's name: `local`, a team vault's name, or `demo`.
    pub vault: String,
    /// Whether the active vault is a team vault (OpenBao / HashiCorp Vault).
    pub team: bool,
    /// The app's version.
    pub version: String,
    /// "Now" on the app's clock, so countdowns in the window agree with the vault.
    pub now: DateTime<Utc>,
    /// Seconds a copied token stays on the clipboard.
    #[ts(type = "number")]
    pub clipboard_clear_secs: u64,
    /// Whether the benchmark waits for the UI's first-paint report: only in a build with the
    /// `bench` feature started with `TILLKEY_BENCH_PAINT_FILE`, and until the report came.
    /// Always false otherwise (those builds have no such command).
    pub first_paint_report: bool,
}

/// What a copy did. Never the token itself.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CopyResult {
    /// Seconds until the clipboard is cleared (if it still holds the token then).
    #[ts(type = "number")]
    pub clears_in_secs: u64,
    /// When the copied token expires, where known.
    pub expires_at: Option<DateTime<Utc>>,
    /// Where the token came from: `static`, `cached`, `fetched` or `refreshed`.
    pub source: String,
}

/// A token shown on an explicit reveal: the only IPC answer that holds a secret.
#[derive(Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RevealedToken {
    /// The access token.
    pub token: String,
    /// When it expires, where known.
    pub expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for RevealedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevealedToken")
            .field("token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A new secret from the demo's simulated portal (demo vault only; accepted by nothing
/// but the simulators).
#[derive(Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DemoSecret {
    /// The secret field it is for (`token`, `client_secret`, `password`).
    pub field: String,
    /// The demo value.
    pub value: String,
    /// New identity field values issued with it, where the provider issues a new set
    /// (myPOS: `{"client_id": "<new id>"}`); empty otherwise. Not secrets.
    pub identity: std::collections::BTreeMap<String, String>,
}

impl std::fmt::Debug for DemoSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoSecret")
            .field("field", &self.field)
            .field("value", &"[redacted]")
            .field("identity", &self.identity)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revealed_token_debug_is_redacted() {
        let t = RevealedToken {
            token: "s3cr3t-value".into(),
            expires_at: None,
        };
        let shown = format!("{t:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }
}
