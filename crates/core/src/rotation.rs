//! Rotation: new secret values (with new identity fields where the provider issues a new
//! set) staged, tested and swapped in; then the old token revoked. (The rotation *status*,
//! ok / due soon / overdue, is `crate::schedule`.)

use crate::dto::{CredentialSummary, OldTokenStatus, RotationResult, TestReport};
use crate::error::Result;
use crate::oauth;
use crate::providers::{self, Creds, Provider};
pub use crate::schedule::{status, DEFAULT_LEAD_DAYS, DEFAULT_PERIOD_DAYS};
use crate::token::{blocking, Engine, RevokeOutcome};
use secrecy::SecretString;
use std::collections::BTreeMap;

/// The outcome of a rotation attempt.
// One value per rotation, moved once: boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum RotateOutcome {
    /// The new secret passed its test and replaced the old one.
    Rotated {
        /// The credential after the swap.
        summary: CredentialSummary,
        /// The test the new secret passed.
        report: TestReport,
        /// What happened to the old secret's cached token at the provider.
        old_token: std::result::Result<RevokeOutcome, crate::error::ErrorInfo>,
        /// How to retire the old secret where only the provider's portal can.
        retire_old: String,
        /// Old values of the identity fields the rotation changed (a new myPOS set: the
        /// old `client_id`, with which the old token was revoked). Empty when only secrets
        /// changed.
        retired_identity: BTreeMap<String, String>,
    },
    /// The new secret failed its test; the old one is still in force, untouched.
    Rejected {
        /// The failed test.
        report: TestReport,
    },
}

impl Engine {
    /// Rotates `name`'s secrets: see [`Engine::rotate_with`].
    ///
    /// # Errors
    /// As [`Engine::rotate_with`].
    pub async fn rotate(&self, name: &str, new_secrets: BTreeMap<String, SecretString>) -> Result<RotateOutcome> {
        self.rotate_with(name, BTreeMap::new(), new_secrets).await
    }

    /// Rotates `name` to a new set: new secret values and, for providers that issue them
    /// with the secret, new identity fields (myPOS's `client_id`). The set is staged (the
    /// old one untouched), tested with a token request against the provider, and only if
    /// the test passes swapped in, in one atomic commit. Then the old set's cached token is
    /// revoked where the provider has an endpoint: with the old identity and secret when
    /// the identity changed (the token belongs to the old client), else with the new secret
    /// (the same client; the provider may have retired the old secret already). A failed
    /// test, an error or a crash before the swap leaves the old set working and untouched;
    /// a refused revocation does not undo a tested swap.
    ///
    /// # Errors
    /// Input errors (unknown or empty fields, a field that may not change in a rotation),
    /// keyring and file errors.
    pub async fn rotate_with(
        &self,
        name: &str,
        identity: BTreeMap<String, String>,
        new_secrets: BTreeMap<String, SecretString>,
    ) -> Result<RotateOutcome> {
        let rotated = self.rotate_unrecorded(name, identity, new_secrets).await;
        self.audit_rotate(name, &rotated);
        rotated
    }

    /// [`Engine::rotate_with`] without its audit log entry.
    async fn rotate_unrecorded(
        &self,
        name: &str,
        identity: BTreeMap<String, String>,
        new_secrets: BTreeMap<String, SecretString>,
    ) -> Result<RotateOutcome> {
        let vault = self.vault.clone();
        let n = name.to_string();
        let staged = blocking(move || vault.stage_rotation_with(&n, identity, new_secrets)).await?;
        let provider = providers::find(&staged.record.provider)?;
        let report = self.run_test(provider, &staged.creds, None).await;
        let vault = self.vault.clone();
        if !report.ok {
            blocking(move || {
                vault.abort_rotation(staged);
                Ok(())
            })
            .await?;
            return Ok(RotateOutcome::Rejected { report });
        }
        let (summary, retired) = blocking(move || vault.commit_rotation_retiring(staged)).await?;
        let vault = self.vault.clone();
        let saved = report.clone();
        blocking(move || vault.record_test(&saved)).await?;
        let with = if retired.identity.is_empty() {
            &retired.new
        } else {
            &retired.old
        };
        let old_token = match retired.access_token {
            Ok(token) => self.revoke_retired(provider, with, token).await,
            Err(e) => Err(e),
        }
        .map_err(|e| e.info());
        Ok(RotateOutcome::Rotated {
            summary,
            report,
            old_token,
            retire_old: provider.portal_steps().to_string(),
            retired_identity: retired.identity,
        })
    }

    /// Revokes `token`, the retired set's cached access token (already deleted from the
    /// vault by the swap), at the provider, authenticating with `creds`.
    async fn revoke_retired(
        &self,
        provider: &'static dyn Provider,
        creds: &Creds,
        token: Option<SecretString>,
    ) -> Result<RevokeOutcome> {
        let Some(token) = token else {
            return Ok(RevokeOutcome::NothingCached);
        };
        let Some(req) = provider.revoke_request(creds, &token) else {
            return Ok(RevokeOutcome::NoEndpoint {
                portal_steps: provider.portal_steps().to_string(),
            });
        };
        let resp = self.http.send(req?).await?;
        if !(200..300).contains(&resp.status) {
            return Err(oauth::provider_error(provider, &resp, &creds.scrubber().with(&token)));
        }
        Ok(RevokeOutcome::Revoked)
    }
}

impl From<RotateOutcome> for RotationResult {
    fn from(outcome: RotateOutcome) -> Self {
        match outcome {
            RotateOutcome::Rotated {
                summary,
                report,
                old_token,
                retire_old,
                retired_identity,
            } => {
                let (status, error) = match old_token {
                    Ok(RevokeOutcome::Revoked) => (OldTokenStatus::Revoked, None),
                    Ok(RevokeOutcome::NothingCached) => (OldTokenStatus::NothingCached, None),
                    Ok(RevokeOutcome::NoEndpoint { .. }) => (OldTokenStatus::NoEndpoint, None),
                    Err(e) => (OldTokenStatus::Failed, Some(e)),
                };
                RotationResult {
                    rotated: true,
                    report,
                    credential: Some(summary),
                    old_token: Some(status),
                    old_token_error: error,
                    retire_old: Some(retire_old),
                    retired_identity,
                }
            }
            RotateOutcome::Rejected { report } => RotationResult {
                rotated: false,
                report,
                credential: None,
                old_token: None,
                old_token_error: None,
                retire_old: None,
                retired_identity: BTreeMap::new(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use secrecy::ExposeSecret;

    fn report(ok: bool) -> TestReport {
        TestReport {
            credential: "shop".into(),
            provider: "mypos".into(),
            ok,
            tested_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            summary: String::new(),
            stages: Vec::new(),
            taxpayer_tags: None,
        }
    }

    #[test]
    fn rejected_rotation_has_no_credential_and_no_retire_steps() {
        let r = RotationResult::from(RotateOutcome::Rejected { report: report(false) });
        assert!(!r.rotated);
        assert!(r.credential.is_none() && r.old_token.is_none() && r.retire_old.is_none());
        let json = serde_json::to_value(&r).expect("serializes");
        assert_eq!(json["rotated"], serde_json::json!(false));
        assert_eq!(json["report"]["ok"], serde_json::json!(false));
    }

    /// A scripted token and revoke endpoint on loopback (a mock of the provider; the real
    /// simulators are exercised by the CLI and window tests). Records every request's path,
    /// `Authorization` header and body; a token request with `refused` Basic credentials
    /// gets 401 `invalid_client`.
    mod provider {
        use std::sync::{Arc, Mutex};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        #[derive(Debug, Clone)]
        pub struct Seen {
            pub path: String,
            pub auth: String,
            pub body: String,
        }

        pub struct Mock {
            pub base: String,
            pub seen: Arc<Mutex<Vec<Seen>>>,
        }

        pub async fn start(refused: Option<String>) -> Mock {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            let seen = Arc::new(Mutex::new(Vec::new()));
            let log = seen.clone();
            tokio::spawn(async move {
                let mut n = 0;
                while let Ok((mut sock, _)) = listener.accept().await {
                    n += 1;
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let (head, body) = loop {
                        let got = sock.read(&mut chunk).await.unwrap_or(0);
                        if got == 0 {
                            break (String::new(), String::new());
                        }
                        buf.extend_from_slice(&chunk[..got]);
                        let text = String::from_utf8_lossy(&buf).to_string();
                        if let Some(end) = text.find("\r\n\r\n") {
                            let head = text[..end].to_string();
                            let len = head
                                .lines()
                                .find_map(|l| {
                                    l.to_ascii_lowercase()
                                        .strip_prefix("content-length:")
                                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                                })
                                .unwrap_or(0);
                            if buf.len() >= end + 4 + len {
                                break (head, text[end + 4..end + 4 + len].to_string());
                            }
                        }
                    };
                    let path = head.split_whitespace().nth(1).unwrap_or_default().to_string();
                    if path.is_empty() {
                        // The connectivity test's connect stage: a connection, no request.
                        continue;
                    }
                    let auth = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("authorization").then(|| v.trim().to_string())
                        })
                        .unwrap_or_default();
                    log.lock().unwrap().push(Seen {
                        path: path.clone(),
                        auth: auth.clone(),
                        body,
                    });
                    let (status, body) = if path == "/revoke" {
                        ("200 OK", String::new())
                    } else if refused.as_deref() == Some(auth.as_str()) {
                        ("401 Unauthorized", r#"{"error":"invalid_client"}"#.to_string())
                    } else {
                        (
                            "200 OK",
                            format!(r#"{{"access_token":"fresh-{n}","token_type":"Bearer","expires_in":3600}}"#),
                        )
                    };
                    let resp = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(resp.as_bytes()).await;
                    let _ = sock.shutdown().await;
                }
            });
            Mock { base, seen }
        }

        impl Mock {
            pub fn seen(&self) -> Vec<Seen> {
                self.seen.lock().unwrap().clone()
            }
        }
    }

    fn basic(id: &str, secret: &str) -> String {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
        )
    }

    /// An engine over an in-memory vault holding myPOS credential `shop` (old-id /
    /// old-secret) pointed at `mock`, with `old-token` cached.
    fn engine_with_shop(mock: &provider::Mock) -> (tempfile::TempDir, Engine) {
        use crate::clock::{Clock, FixedClock};
        let dir = tempfile::tempdir().unwrap();
        let clock = std::sync::Arc::new(FixedClock::new(Utc::now()));
        let store = std::sync::Arc::new(crate::vault::secrets::MemoryStore::new());
        let vault = crate::vault::Vault::open(dir.path().join("data"), store, clock.clone()).unwrap();
        let fields = [
            ("client_id", "old-id".to_string()),
            ("token_url", format!("{}/token", mock.base)),
            ("revoke_url", format!("{}/revoke", mock.base)),
        ];
        vault
            .add(crate::dto::NewCredential {
                name: "shop".into(),
                provider: "mypos".into(),
                environment: None,
                fields: fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
                secrets: [("client_secret".to_string(), SecretString::from("old-secret"))].into(),
            })
            .unwrap();
        let r = vault.record("shop").unwrap();
        let now = clock.now();
        let info = crate::dto::TokenInfo {
            obtained_at: now,
            expires_at: now + chrono::Duration::hours(1),
            renew_at: now + chrono::Duration::minutes(55),
            refreshable: false,
            scope: None,
            taxpayer_tags: None,
        };
        vault
            .store_token(&r.id, r.secret_rev, &SecretString::from("old-token"), None, info)
            .unwrap();
        (dir, Engine::new(std::sync::Arc::new(vault)))
    }

    fn pairs(p: &[(&str, &str)]) -> BTreeMap<String, String> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn secret(v: &str) -> BTreeMap<String, SecretString> {
        [("client_secret".to_string(), SecretString::from(v))].into()
    }

    #[tokio::test]
    async fn a_new_set_is_tested_then_the_old_token_is_revoked_with_the_old_set() {
        let mock = provider::start(None).await;
        let (_dir, engine) = engine_with_shop(&mock);
        let out = engine
            .rotate_with("shop", pairs(&[("client_id", "new-id")]), secret("new-secret"))
            .await
            .unwrap();
        let RotateOutcome::Rotated {
            summary,
            old_token,
            retired_identity,
            ..
        } = out
        else {
            panic!("the new set passes its test");
        };
        assert_eq!(summary.fields["client_id"], "new-id");
        assert!(matches!(old_token, Ok(RevokeOutcome::Revoked)), "{old_token:?}");
        assert_eq!(retired_identity, pairs(&[("client_id", "old-id")]));
        let seen = mock.seen();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(
            (seen[0].path.as_str(), seen[0].auth.clone()),
            ("/token", basic("new-id", "new-secret"))
        );
        assert_eq!(
            (seen[1].path.as_str(), seen[1].auth.clone(), seen[1].body.as_str()),
            ("/revoke", basic("old-id", "old-secret"), "token=old-token"),
            "the old token is revoked by its own client"
        );
        let r = engine.vault().record("shop").unwrap();
        assert!(engine
            .vault()
            .cached(&r, crate::vault::TokenField::Access)
            .unwrap()
            .is_none());
        let result = RotationResult::from(RotateOutcome::Rotated {
            summary: engine.vault().show("shop").unwrap(),
            report: report(true),
            old_token: Ok(RevokeOutcome::Revoked),
            retire_old: String::new(),
            retired_identity: pairs(&[("client_id", "old-id")]),
        });
        let json = serde_json::to_value(&result).unwrap();
        assert_eq!(json["retiredIdentity"], serde_json::json!({"client_id": "old-id"}));
    }

    #[tokio::test]
    async fn a_secret_only_rotation_revokes_with_the_new_secret_of_the_same_client() {
        let mock = provider::start(None).await;
        let (_dir, engine) = engine_with_shop(&mock);
        let out = engine.rotate("shop", secret("new-secret")).await.unwrap();
        let RotateOutcome::Rotated { retired_identity, .. } = out else {
            panic!("rotated");
        };
        assert!(retired_identity.is_empty());
        let seen = mock.seen();
        assert_eq!(seen[1].path, "/revoke", "{seen:?}");
        assert_eq!(seen[1].auth, basic("old-id", "new-secret"));
    }

    #[tokio::test]
    async fn a_new_set_that_fails_its_test_changes_nothing_and_revokes_nothing() {
        let mock = provider::start(Some(basic("new-id", "wrong"))).await;
        let (_dir, engine) = engine_with_shop(&mock);
        let out = engine
            .rotate_with("shop", pairs(&[("client_id", "new-id")]), secret("wrong"))
            .await
            .unwrap();
        assert!(matches!(out, RotateOutcome::Rejected { .. }));
        let seen = mock.seen();
        assert_eq!(seen.len(), 1, "a token request, no revocation: {seen:?}");
        let vault = engine.vault();
        let r = vault.record("shop").unwrap();
        assert_eq!(r.fields["client_id"], "old-id");
        let creds = vault.creds(&r).unwrap();
        assert_eq!(creds.secret("client_secret").unwrap().expose_secret(), "old-secret");
        assert_eq!(
            vault
                .cached(&r, crate::vault::TokenField::Access)
                .unwrap()
                .map(|t| t.expose_secret().to_string()),
            Some("old-token".into()),
            "the old set keeps its token"
        );
    }
}
