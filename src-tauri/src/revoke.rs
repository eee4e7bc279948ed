//! Revoking a credential's cached access token from the window, as `tillkey revoke NAME`
//! does.

use crate::error::IpcResult;
use serde::Serialize;
use tauri::{AppHandle, Runtime};
use tillkey_core::RevokeOutcome;
use ts_rs::TS;

/// What a revoke did, as `tillkey revoke` reports it. Never the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase", tag = "outcome")]
#[ts(export)]
pub enum RevokeResult {
    /// The provider revoked the cached access token; it is discarded here too.
    Revoked,
    /// There was no cached access token to revoke.
    NothingCached,
    /// The provider has no revocation endpoint: the cached token is discarded here and
    /// stays valid at the provider until it expires.
    NoEndpoint {
        /// How to retire the secret itself in the provider's portal.
        #[serde(rename = "portalSteps")]
        portal_steps: String,
    },
}

impl From<RevokeOutcome> for RevokeResult {
    fn from(outcome: RevokeOutcome) -> Self {
        match outcome {
            RevokeOutcome::Revoked => RevokeResult::Revoked,
            RevokeOutcome::NothingCached => RevokeResult::NothingCached,
            RevokeOutcome::NoEndpoint { portal_steps } => RevokeResult::NoEndpoint { portal_steps },
        }
    }
}

/// Revokes the cached access token of `name` at the provider where it has an endpoint
/// (myPOS, RFC 7009 `revoke_url`) and forgets it here, as `tillkey revoke NAME` does. The
/// next copy or test fetches a new token.
///
/// # Errors
/// The provider's refusal, network and keyring errors (the cached token is then kept).
#[tauri::command]
pub async fn revoke_token<R: Runtime>(app: AppHandle<R>, name: String) -> IpcResult<RevokeResult> {
    let h = crate::commands::unlocked(&app).await?;
    Ok(h.engine.revoke(&name).await?.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoke_results_serialize_as_the_ui_reads_them() {
        let json = |r: RevokeResult| serde_json::to_value(r).expect("serializes");
        assert_eq!(json(RevokeResult::Revoked), serde_json::json!({ "outcome": "revoked" }));
        assert_eq!(
            json(RevokeResult::NothingCached),
            serde_json::json!({ "outcome": "nothingCached" })
        );
        assert_eq!(
            json(
                RevokeOutcome::NoEndpoint {
                    portal_steps: "Portal → Keys".into()
                }
                .into()
            ),
            serde_json::json!({ "outcome": "noEndpoint", "portalSteps": "Portal → Keys" })
        );
    }
}
