//! Rotation: new secret values staged, tested and swapped in, the old token revoked with
//! the new secret. (The rotation *status*, ok / due soon / overdue, is `crate::schedule`.)

use crate::dto::{CredentialSummary, OldTokenStatus, RotationResult, TestReport};
use crate::error::Result;
use crate::providers;
pub use crate::schedule::{status, DEFAULT_LEAD_DAYS, DEFAULT_PERIOD_DAYS};
use crate::token::{blocking, Engine};
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
        old_token: std::result::Result<crate::token::RevokeOutcome, crate::error::ErrorInfo>,
        /// How to retire the old secret where only the provider's portal can.
        retire_old: String,
    },
    /// The new secret failed its test; the old one is still in force, untouched.
    Rejected {
        /// The failed test.
        report: TestReport,
    },
}

impl Engine {
    /// Rotates `name`: stages the new secret values, tests them, and only if the test
    /// passes swaps them in and deletes the old ones (and their cached tokens). A failed
    /// test, an error or a crash leaves the old credential working and untouched.
    ///
    /// # Errors
    /// Input errors (unknown or empty fields), keyring and file errors.
    pub async fn rotate(&self, name: &str, new_secrets: BTreeMap<String, SecretString>) -> Result<RotateOutcome> {
        let vault = self.vault.clone();
        let n = name.to_string();
        let staged = blocking(move || vault.stage_rotation(&n, new_secrets)).await?;
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
        // Retire the old secret's token where the provider has an endpoint, before the
        // swap deletes it locally, authenticating with the new secret (the provider may
        // have retired the old one already). A refusal does not undo a tested rotation.
        let old_token = self.revoke_as(name, Some(&staged.creds)).await.map_err(|e| e.info());
        let summary = blocking(move || vault.commit_rotation(staged)).await?;
        let vault = self.vault.clone();
        let saved = report.clone();
        blocking(move || vault.record_test(&saved)).await?;
        Ok(RotateOutcome::Rotated {
            summary,
            report,
            old_token,
            retire_old: provider.portal_steps().to_string(),
        })
    }
}

impl From<RotateOutcome> for RotationResult {
    fn from(outcome: RotateOutcome) -> Self {
        use crate::token::RevokeOutcome;
        match outcome {
            RotateOutcome::Rotated {
                summary,
                report,
                old_token,
                retire_old,
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
                }
            }
            RotateOutcome::Rejected { report } => RotationResult {
                rotated: false,
                report,
                credential: None,
                old_token: None,
                old_token_error: None,
                retire_old: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

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
}
