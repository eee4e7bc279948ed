//! Rotation in the vault: new secrets (and, where the provider issues a new set, new
//! identity fields such as myPOS's client ID) staged under the next revision, swapped in
//! once tested, or dropped. (The rotation flow with its test and revocation is the
//! engine's, in `crate::rotation`.)
//!
//! A new set is one unit: the staged record carries the new identity fields and points at
//! the new revision's secrets, and the swap is the one atomic commit of that record. A
//! crash before it leaves the old set (old fields, old secrets) in force, after it the new
//! set; the other revision's entries are swept by the next write.

use super::metadata::{CredentialRecord, PendingCleanup};
use super::{all_fields, Vault};
use crate::dto::CredentialSummary;
use crate::error::{Error, Result};
use crate::providers;
use crate::vault::tokens::TokenField;
use secrecy::SecretString;
use std::collections::BTreeMap;

/// New secrets (and identity fields) staged under the next revision, awaiting a test
/// before they replace the current ones. Commit with [`Vault::commit_rotation`] or drop
/// with [`Vault::abort_rotation`].
pub struct StagedRotation {
    /// The credential as it will be after the swap.
    pub record: CredentialRecord,
    /// Its values with the new secrets, for testing.
    pub creds: providers::Creds,
    pub(super) previous_rev: u32,
    /// The set in force now (fields and secrets), to revoke its token with after the swap.
    pub(super) old: providers::Creds,
    /// The non-secret fields the stage was made from: a change to them meanwhile (an edit)
    /// makes the commit refuse, since the new set was tested against them.
    pub(super) base: (crate::dto::Environment, BTreeMap<String, String>),
    /// Old values of the identity fields this rotation changes.
    pub(super) retired_identity: BTreeMap<String, String>,
    /// The secret fields whose value this rotation changes (renewed at the swap).
    pub(super) renewed: Vec<String>,
}

/// What a committed rotation retired, held in memory only so that the old token can be
/// revoked at the provider after the swap (the vault has deleted both by then).
pub(crate) struct RetiredSet {
    /// The old set: its identity fields and secrets.
    pub(crate) old: providers::Creds,
    /// The new set, now in force.
    pub(crate) new: providers::Creds,
    /// The old set's cached access token, read under the vault lock at the swap (after
    /// which no process can cache another token for the old set).
    pub(crate) access_token: Result<Option<SecretString>>,
    /// Old values of the identity fields the rotation changed; empty when only secrets
    /// changed (the same client).
    pub(crate) identity: BTreeMap<String, String>,
}

impl Vault {
    /// Stages new secret values for `name` under the next revision (secrets not given are
    /// carried over). The current secrets stay in force until [`Vault::commit_rotation`].
    ///
    /// # Errors
    /// As [`Vault::stage_rotation_with`].
    pub fn stage_rotation(&self, name: &str, new: BTreeMap<String, SecretString>) -> Result<StagedRotation> {
        self.stage_rotation_with(name, BTreeMap::new(), new)
    }

    /// Stages a new set for `name` under the next revision: new secret values (those not
    /// given are carried over) and new values of the provider's identity fields (see
    /// [`crate::dto::FieldSchema::rotates_with_secret`]; myPOS's `client_id`). An identity
    /// change comes with at least one new secret. The current set stays in force, untouched,
    /// until [`Vault::commit_rotation`].
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::InvalidInput`] (a field that may not change in a
    /// rotation, an unknown field, no new secret at all), keyring and file errors.
    pub fn stage_rotation_with(
        &self,
        name: &str,
        identity: BTreeMap<String, String>,
        new: BTreeMap<String, SecretString>,
    ) -> Result<StagedRotation> {
        let current = self.record(name)?;
        let provider = providers::find(&current.provider)?;
        let schema = provider.schema();
        let fresh = providers::clean_secrets(&schema, &new)?;
        let identity = providers::clean_identity(&schema, &current.fields, &identity)?;
        let secret_names = || {
            schema
                .fields
                .iter()
                .filter(|f| f.secret)
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if fresh.is_empty() {
            let reason = if identity.is_empty() {
                format!("no new secret given (expected one of: {})", secret_names())
            } else {
                let changed: Vec<&str> = identity.keys().map(String::as_str).collect();
                format!(
                    "a new {} comes with a new secret: give the new {} too",
                    changed.join(", "),
                    secret_names()
                )
            };
            return Err(Error::invalid("secrets", reason));
        }
        let old = self.creds(&current)?;
        let renewed = changed_secrets(&old.secrets, &fresh);
        let mut all = old.secrets.clone();
        all.extend(fresh);
        let mut fields = current.fields.clone();
        if !identity.is_empty() {
            fields.extend(identity.clone());
            // The record after the swap is checked as an edit would check it.
            let present: BTreeMap<String, String> = all.keys().map(|k| (k.clone(), "x".to_string())).collect();
            let valid = providers::validate(&schema, Some(current.environment), &fields, &present)?;
            provider.check(&valid.fields)?;
            fields = valid.fields;
        }
        let retired_identity = identity
            .keys()
            .map(|k| (k.clone(), current.fields.get(k).cloned().unwrap_or_default()))
            .collect();
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
        record.fields = fields;
        record.token = None;
        self.write_secrets(&lock, &mut m, &[(&record, &all)])?;
        // Keep the intent listed until commit: an aborted or crashed rotation is swept.
        let staged = PendingCleanup {
            credential_id: record.id.clone(),
            rev: record.secret_rev,
            fields: all_fields(&record),
        };
        lock.commit(&mut m, &[&record.id], |doc| {
            withdraw(doc, &record);
            doc.pending_cleanup.push(staged.clone());
            Ok(())
        })?;
        let creds = providers::Creds::new(provider, &record.name, record.environment, &record.fields, all);
        Ok(StagedRotation {
            record,
            creds,
            previous_rev: current.secret_rev,
            old,
            base: (current.environment, current.fields),
            retired_identity,
            renewed,
        })
    }

    /// Swaps staged secrets in: the record points at the new revision, its rotation date is
    /// today, and the old revision's secrets and tokens are deleted.
    ///
    /// # Errors
    /// As [`Vault::commit_rotation_retiring`].
    pub fn commit_rotation(&self, staged: StagedRotation) -> Result<CredentialSummary> {
        self.commit_rotation_retiring(staged).map(|(summary, _)| summary)
    }

    /// [`Vault::commit_rotation`], handing back the retired set: the old identity and
    /// secrets and the old set's cached access token, for revoking that token at the
    /// provider once the swap stands. The swap is one atomic commit of the record (new
    /// identity fields and new revision together).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (or the backend's conflict) if the credential was rotated,
    /// or its environment or fields edited, meanwhile; file errors.
    pub(crate) fn commit_rotation_retiring(&self, staged: StagedRotation) -> Result<(CredentialSummary, RetiredSet)> {
        let StagedRotation {
            mut record,
            creds: new,
            previous_rev,
            old,
            base,
            retired_identity,
            renewed,
        } = staged;
        let lock = self.meta.lock()?;
        let mut m = lock.load()?;
        let live = |doc: &super::metadata::Metadata| {
            doc.credentials
                .iter()
                .position(|c| {
                    c.id == record.id && c.secret_rev == previous_rev && c.environment == base.0 && c.fields == base.1
                })
                .ok_or_else(|| {
                    self.meta
                        .changed_meanwhile(&record.name, "was changed by another process meanwhile; try again")
                })
        };
        let previous = m.credentials[live(&m)?].clone();
        let access_token = self.tokens.get(&m, &previous, TokenField::Access);
        // The fields whose value changed are renewed; the others keep their dates as the
        // live record has them.
        let mut dated = previous.clone();
        dated.secret_fields.clone_from(&record.secret_fields);
        super::age::renew(
            &mut dated,
            &renewed,
            &super::age::expiries(&new.secrets),
            self.clock.now(),
        );
        (record.rotated_at, record.secret_set_at) = (dated.rotated_at, dated.secret_set_at);
        record.secret_expires_at = dated.secret_expires_at;
        // The new secrets start with no cached token (tokens from the old ones are deleted).
        record.token = None;
        record.refresh_token_set_at = None;
        let retiring = PendingCleanup {
            credential_id: previous.id.clone(),
            rev: previous.secret_rev,
            fields: all_fields(&previous),
        };
        // One commit swaps identity and secrets together; re-applied after another
        // machine's write only while this credential is as it was staged.
        let idx = lock.commit(&mut m, &[], |doc| {
            let idx = live(doc)?;
            withdraw(doc, &record);
            doc.pending_cleanup.push(retiring.clone());
            doc.credentials[idx] = record.clone();
            Ok(idx)
        })?;
        self.sweep(&lock, &mut m);
        let retired = RetiredSet {
            old,
            new,
            access_token,
            identity: retired_identity,
        };
        Ok((self.summary(&m.settings, &m.credentials[idx]), retired))
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

/// The fields of `fresh` whose value differs from (or is missing in) `old`, compared in
/// constant time.
fn changed_secrets(old: &BTreeMap<String, SecretString>, fresh: &BTreeMap<String, SecretString>) -> Vec<String> {
    use secrecy::ExposeSecret;
    use subtle::ConstantTimeEq;
    fresh
        .iter()
        .filter(|(f, v)| {
            old.get(*f)
                .is_none_or(|o| !bool::from(o.expose_secret().as_bytes().ct_eq(v.expose_secret().as_bytes())))
        })
        .map(|(f, _)| f.clone())
        .collect()
}

/// Takes the staged revision of `record` off the pending-cleanup list of `doc` (its
/// intents from writing the secrets and from staging): at the swap it becomes the live one.
fn withdraw(doc: &mut super::metadata::Metadata, record: &CredentialRecord) {
    doc.pending_cleanup
        .retain(|p| !(p.credential_id == record.id && p.rev == record.secret_rev));
    doc.pending_since
        .remove(&format!("{}/r{}", record.id, record.secret_rev));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, FixedClock};
    use crate::dto::{NewCredential, TokenInfo};
    use crate::vault::secrets::MemoryStore;
    use chrono::{Duration, TimeZone, Utc};
    use secrecy::ExposeSecret;
    use std::sync::Arc;

    struct Fixture {
        _dir: tempfile::TempDir,
        store: Arc<MemoryStore>,
        clock: Arc<FixedClock>,
        vault: Vault,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(FixedClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()));
        let vault = Vault::open(dir.path().join("data"), store.clone(), clock.clone()).expect("open");
        Fixture {
            _dir: dir,
            store,
            clock,
            vault,
        }
    }

    fn map(p: &[(&str, &str)]) -> BTreeMap<String, String> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn secrets(p: &[(&str, &str)]) -> BTreeMap<String, SecretString> {
        p.iter().map(|(k, v)| (k.to_string(), SecretString::from(*v))).collect()
    }

    /// A myPOS credential with a cached access token.
    /// Stages a rotation of `shop` to client id `id` with client secret `secret`.
    fn stage(f: &Fixture, id: &str, secret: &str) -> Result<StagedRotation> {
        f.vault
            .stage_rotation_with("shop", map(&[("client_id", id)]), secrets(&[("client_secret", secret)]))
    }

    fn mypos(f: &Fixture) {
        f.vault
            .add(NewCredential {
                name: "shop".into(),
                provider: "mypos".into(),
                environment: None,
                fields: map(&[("client_id", "old-id"), ("scope", "webhooks")]),
                secrets: secrets(&[("client_secret", "old-secret")]),
            })
            .expect("add");
        let r = f.vault.record("shop").unwrap();
        let now = f.clock.now();
        let info = TokenInfo {
            obtained_at: now,
            expires_at: now + Duration::hours(1),
            renew_at: now + Duration::minutes(55),
            refreshable: false,
            scope: None,
            taxpayer_tags: None,
        };
        f.vault
            .store_token(&r.id, r.secret_rev, &SecretString::from("old-token"), None, info)
            .unwrap();
    }

    fn file(f: &Fixture) -> String {
        std::fs::read_to_string(Vault::metadata_path(f.vault.data_dir())).unwrap()
    }

    /// The set in force: client ID and secret, read as any reader would.
    fn set(f: &Fixture) -> (String, String) {
        let r = f.vault.record("shop").unwrap();
        let c = f.vault.creds(&r).unwrap();
        (
            c.field("client_id").unwrap().to_string(),
            c.secret("client_secret").unwrap().expose_secret().to_string(),
        )
    }

    fn old_set() -> (String, String) {
        ("old-id".into(), "old-secret".into())
    }

    #[test]
    fn a_new_set_is_staged_aside_and_swapped_in_as_one_unit() {
        let f = fixture();
        mypos(&f);
        f.clock.advance(Duration::days(80));
        let staged = stage(&f, " new-id ", "new-secret\n").unwrap();
        assert_eq!(
            staged.creds.field("client_id"),
            Some("new-id"),
            "tested with the new set"
        );
        assert_eq!(
            staged.creds.secret("client_secret").unwrap().expose_secret(),
            "new-secret"
        );
        // Staged: the old set is untouched and still the one in force.
        assert_eq!(set(&f), old_set());
        assert_eq!(
            f.vault
                .cached(&f.vault.record("shop").unwrap(), TokenField::Access)
                .unwrap()
                .map(|t| t.expose_secret().to_string()),
            Some("old-token".into())
        );
        let (summary, retired) = f.vault.commit_rotation_retiring(staged).unwrap();
        assert_eq!(summary.fields["client_id"], "new-id");
        assert_eq!(summary.fields["scope"], "webhooks", "other fields stay");
        assert_eq!(summary.rotated_at, f.clock.now());
        assert!(summary.token.is_none(), "the new set starts with no token");
        assert_eq!(set(&f), ("new-id".into(), "new-secret".into()));
        // The retired set, for the revocation: the old identity, secret and token.
        assert_eq!(retired.identity, map(&[("client_id", "old-id")]));
        assert_eq!(retired.old.field("client_id"), Some("old-id"));
        assert_eq!(
            retired.old.secret("client_secret").unwrap().expose_secret(),
            "old-secret"
        );
        assert_eq!(retired.new.field("client_id"), Some("new-id"));
        assert_eq!(
            retired.access_token.unwrap().map(|t| t.expose_secret().to_string()),
            Some("old-token".into())
        );
        // The old set's secret and cached token are gone from the store; nothing pending.
        assert_eq!(f.store.len(), 1, "{:?}", f.store.accounts());
        assert!(file(&f).contains("\"pending_cleanup\": []"));
        assert!(!file(&f).contains("old-id"), "the old id is not kept in the metadata");
    }

    #[test]
    fn the_same_client_id_is_a_secret_only_rotation() {
        let f = fixture();
        mypos(&f);
        let staged = stage(&f, "old-id", "new-secret").unwrap();
        let (_, retired) = f.vault.commit_rotation_retiring(staged).unwrap();
        assert!(retired.identity.is_empty());
        assert_eq!(set(&f), ("old-id".into(), "new-secret".into()));
    }

    #[test]
    fn only_identity_fields_change_and_only_with_a_new_secret_or_nothing_changes() {
        let f = fixture();
        mypos(&f);
        let before = file(&f);
        let keys = f.store.accounts();
        let new_secret = || secrets(&[("client_secret", "new-secret")]);
        for (fields, secret, says) in [
            (
                map(&[("client_id", "new-id")]),
                BTreeMap::new(),
                "comes with a new secret",
            ),
            (
                map(&[("revoke_url", "https://evil.example/r")]),
                new_secret(),
                "is a URL",
            ),
            (
                map(&[("token_url", "https://evil.example/t")]),
                new_secret(),
                "is a URL",
            ),
            (
                map(&[("scope", "other")]),
                new_secret(),
                "does not change in a rotation",
            ),
            (map(&[("client_id", "")]), new_secret(), "is empty"),
            (map(&[("nope", "x")]), new_secret(), "has no field"),
        ] {
            let e = f
                .vault
                .stage_rotation_with("shop", fields, secret)
                .err()
                .expect("refused");
            assert_eq!(e.code(), "invalid_input", "{e}");
            assert!(e.to_string().contains(says), "{e}");
            assert!(!e.to_string().contains("evil.example") && !e.to_string().contains("new-secret"));
        }
        assert_eq!(file(&f), before);
        assert_eq!(f.store.accounts(), keys);
        assert_eq!(set(&f), old_set());
    }

    #[test]
    fn an_aborted_or_crashed_stage_leaves_the_old_set_complete() {
        let f = fixture();
        mypos(&f);
        let staged = stage(&f, "new-id", "s2").unwrap();
        f.vault.abort_rotation(staged);
        assert_eq!(set(&f), old_set());
        assert_eq!(f.store.len(), 2, "the old secret and token: {:?}", f.store.accounts());

        // A process killed after staging (no abort, no commit): the old set is in force,
        // the staged entries are listed and swept by the next write.
        let staged = stage(&f, "new-id", "s3").unwrap();
        std::mem::forget(staged);
        let reopened = Vault::open(f.vault.data_dir(), f.store.clone(), f.clock.clone()).unwrap();
        let r = reopened.record("shop").unwrap();
        assert_eq!(r.fields["client_id"], "old-id");
        assert_eq!(
            reopened
                .creds(&r)
                .unwrap()
                .secret("client_secret")
                .unwrap()
                .expose_secret(),
            "old-secret"
        );
        assert!(!file(&f).contains("s3"), "secrets never reach the file");
        reopened.mark_rotated("shop").unwrap();
        reopened.remove("shop").unwrap();
        assert_eq!(f.store.len(), 0, "nothing orphaned: {:?}", f.store.accounts());
    }

    #[test]
    fn a_keyring_failure_while_staging_changes_nothing() {
        let f = fixture();
        mypos(&f);
        let before = f.vault.record("shop").unwrap();
        f.store.fail_writes_after(0);
        let e = stage(&f, "new-id", "s2").err().expect("refused");
        assert_eq!(e.code(), "keyring_unavailable");
        f.store.fail_writes_after(usize::MAX);
        let after = f.vault.record("shop").unwrap();
        assert_eq!((after.secret_rev, &after.fields), (before.secret_rev, &before.fields));
        assert_eq!(set(&f), old_set());
    }

    #[test]
    fn an_edit_between_test_and_swap_makes_the_swap_refuse() {
        let f = fixture();
        mypos(&f);
        let staged = stage(&f, "new-id", "s2").unwrap();
        f.vault
            .edit(
                "shop",
                crate::dto::CredentialEdit {
                    fields: Some(map(&[("client_id", "old-id"), ("scope", "")])),
                    ..Default::default()
                },
            )
            .unwrap();
        let e = f.vault.commit_rotation(staged).expect_err("refused");
        assert!(e.to_string().contains("changed by another process"), "{e}");
        let r = f.vault.record("shop").unwrap();
        assert_eq!(
            (r.fields.get("scope"), r.fields["client_id"].as_str()),
            (None, "old-id")
        );
        assert_eq!(set(&f), old_set());
    }
}
