//! Rotation in the vault: new secrets staged under the next revision, swapped in once
//! tested, or dropped. (The rotation flow with its test and revocation is the engine's, in
//! `crate::rotation`.)

use super::metadata::{CredentialRecord, PendingCleanup};
use super::{all_fields, Vault};
use crate::dto::CredentialSummary;
use crate::error::{Error, Result};
use crate::providers;
use secrecy::SecretString;
use std::collections::BTreeMap;

/// New secrets staged under the next revision, awaiting a test before they replace the
/// current ones. Commit with [`Vault::commit_rotation`] or drop with [`Vault::abort_rotation`].
pub struct StagedRotation {
    /// The credential as it will be after the swap.
    pub record: CredentialRecord,
    /// Its values with the new secrets, for testing.
    pub creds: providers::Creds,
    pub(super) previous_rev: u32,
}

impl Vault {
    /// Stages new secret values for `name` under the next revision (secrets not given are
    /// carried over). The current secrets stay in force until [`Vault::commit_rotation`].
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::InvalidInput`] (a non-secret or unknown field, or no
    /// new value at all), keyring and file errors.
    pub fn stage_rotation(&self, name: &str, new: BTreeMap<String, SecretString>) -> Result<StagedRotation> {
        let current = self.record(name)?;
        let schema = providers::schema(&current.provider)?;
        let fresh = providers::clean_secrets(&schema, &new)?;
        if fresh.is_empty() {
            let names: Vec<_> = schema
                .fields
                .iter()
                .filter(|f| f.secret)
                .map(|f| f.name.as_str())
                .collect();
            return Err(Error::invalid(
                "secrets",
                format!("no new secret given (expected one of: {})", names.join(", ")),
            ));
        }
        let old = self.creds(&current)?;
        let mut all = old.secrets;
        all.extend(fresh);
        let lock = self.meta.lock()?;
        let mut m = lock.load()?;
        let live = m.find(name).ok_or_else(|| Error::NotFound(name.into()))?;
        if live.secret_rev != current.secret_rev {
            return Err(self
                .meta
                .changed_meanwhile(name, "was rotated by another process meanwhile; try again"));
        }
        let mut record = current.clone();
        record.secret_rev = current.secret_rev + 1;
        record.secret_fields = all.keys().cloned().collect();
        record.token = None;
        self.write_secrets(&lock, &mut m, &[(&record, &all)])?;
        // Keep the intent listed until commit: an aborted or crashed rotation is swept.
        m.pending_cleanup.push(PendingCleanup {
            credential_id: record.id.clone(),
            rev: record.secret_rev,
            fields: all_fields(&record),
        });
        lock.save(&m)?;
        let creds = providers::Creds::new(
            providers::find(&record.provider)?,
            &record.name,
            record.environment,
            &record.fields,
            all,
        );
        Ok(StagedRotation {
            record,
            creds,
            previous_rev: current.secret_rev,
        })
    }

    /// Swaps staged secrets in: the record points at the new revision, its rotation date is
    /// today, and the old revision's secrets and tokens are deleted.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the credential changed meanwhile; file errors.
    pub fn commit_rotation(&self, staged: StagedRotation) -> Result<CredentialSummary> {
        let lock = self.meta.lock()?;
        let mut m = lock.load()?;
        let idx = m
            .credentials
            .iter()
            .position(|c| c.id == staged.record.id && c.secret_rev == staged.previous_rev)
            .ok_or_else(|| {
                self.meta.changed_meanwhile(
                    &staged.record.name,
                    "was changed by another process meanwhile; try again",
                )
            })?;
        let old = m.credentials[idx].clone();
        let mut record = staged.record;
        record.rotated_at = self.clock.now();
        // The new secrets start with no cached token (tokens from the old ones are deleted).
        record.token = None;
        m.pending_cleanup
            .retain(|p| !(p.credential_id == record.id && p.rev == record.secret_rev));
        m.pending_cleanup.push(PendingCleanup {
            credential_id: old.id.clone(),
            rev: old.secret_rev,
            fields: all_fields(&old),
        });
        m.credentials[idx] = record;
        lock.save(&m)?;
        self.sweep(&lock, &mut m);
        Ok(self.summary(&m.settings, &m.credentials[idx]))
    }

    /// Drops staged secrets; the credential is unchanged.
    pub fn abort_rotation(&self, staged: StagedRotation) {
        if let Ok(lock) = self.meta.lock() {
            if let Ok(mut m) = lock.load() {
                drop(staged);
                self.sweep(&lock, &mut m);
            }
        }
    }
}
