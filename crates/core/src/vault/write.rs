//! The vault's writes: add, edit, remove, settings and notes, and the write order every
//! one of them follows (see the module doc of [`super`]): intents listed, secrets written,
//! records committed, superseded entries swept.

use super::metadata::{CredentialRecord, Metadata, PendingCleanup, WriteLock};
use super::{all_fields, check_days, key, secret_destinations, validate_name, Vault, MAX_LEAD_DAYS, MAX_PERIOD_DAYS};
use crate::dto::{CredentialEdit, CredentialSummary, NewCredential, VaultSettings};
use crate::error::{Error, Result};
use crate::providers;
use crate::vault::tokens::TokenField;
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;

impl Vault {
    /// Adds a credential: validates it against its provider's schema, writes its secrets to
    /// the keyring and commits the metadata. On any error nothing is left behind.
    ///
    /// # Errors
    /// [`Error::InvalidInput`], [`Error::MissingField`], [`Error::UnknownProvider`],
    /// [`Error::AlreadyExists`] (also when another machine took the name meanwhile),
    /// [`Error::Conflict`] (a team vault that kept changing under every retry), keyring
    /// and file errors.
    pub fn add(&self, new: NewCredential) -> Result<CredentialSummary> {
        let name = new.name.clone();
        self.recorded(crate::audit::Action::Add, &name, |v| v.add_unrecorded(new))
    }

    /// [`Vault::add`] without its audit log entry (an import's check in a scratch vault).
    pub(crate) fn add_unrecorded(&self, new: NewCredential) -> Result<CredentialSummary> {
        let (record, secrets) = self.prepare_new(new)?;
        let lock = self.meta.lock()?;
        let mut m = lock.load()?;
        if m.find(&record.name).is_some() {
            return Err(Error::AlreadyExists(record.name));
        }
        self.sweep(&lock, &mut m);
        let first = self.insert_new(&lock, &mut m, &[(&record, &secrets)])?;
        Ok(self.summary(&m.settings, &m.credentials[first]))
    }

    /// The write order for new credentials (one, or many for an import): their secrets
    /// written under listed intents (see [`Vault::write_secrets`]), then one commit that
    /// adds every record, with the rotation period from the vault's settings unless the
    /// record brings its own (a restored one; 0 means the default). Both commits
    /// re-apply after another machine's unrelated write (see [`WriteLock::commit`]), so a
    /// name taken meanwhile is [`Error::AlreadyExists`] even after the secrets went in:
    /// they are then deleted again and their intents withdrawn (what cannot be deleted now
    /// stays listed for a sweep). The index of the first new record in `m`.
    ///
    /// # Errors
    /// [`Error::AlreadyExists`], [`Error::Conflict`], keyring (or engine) and file errors.
    pub(super) fn insert_new(
        &self,
        lock: &WriteLock<'_>,
        m: &mut Metadata,
        items: &[(&CredentialRecord, &BTreeMap<String, SecretString>)],
    ) -> Result<usize> {
        let intents = self.write_secrets(lock, m, items)?;
        let committed = lock.commit(m, &[], |doc| {
            check_new_names(doc, items)?;
            drop_pending(doc, &intents);
            // A new record's period 0 means the vault's default, read under the lock; a
            // restored one keeps its own.
            let period = doc.settings.default_rotation_days;
            let first = doc.credentials.len();
            doc.credentials.extend(items.iter().map(|(r, _)| CredentialRecord {
                rotation_period_days: if r.rotation_period_days == 0 {
                    period
                } else {
                    r.rotation_period_days
                },
                ..(*r).clone()
            }));
            Ok(first)
        });
        if let Err(e) = &committed {
            if certainly_not_committed(e) {
                self.abandon_secrets(lock, m, &intents);
            }
        }
        committed
    }

    /// Removes a credential and every keyring entry it has.
    ///
    /// # Errors
    /// [`Error::NotFound`]; keyring errors (checked before anything changes); file errors.
    pub fn remove(&self, name: &str) -> Result<()> {
        // The id is looked up first: afterwards the record is gone.
        let id = self.meta.load().ok().and_then(|m| m.find(name).map(|r| r.id.clone()));
        let removed = self.remove_unrecorded(name);
        self.record_outcome(crate::audit::Action::Remove, id.as_deref(), name, &removed);
        removed
    }

    /// Runs `op` (a change to the credential `name`) and records `action` with its outcome
    /// and the changed credential's id, from this process.
    fn recorded(
        &self,
        action: crate::audit::Action,
        name: &str,
        op: impl FnOnce(&Self) -> Result<CredentialSummary>,
    ) -> Result<CredentialSummary> {
        let out = op(self);
        let id = out.as_ref().ok().map(|s| s.id.clone());
        self.record_outcome(action, id.as_deref(), name, &out);
        out
    }

    /// Records `action` on `name` (`id` where known) from this process, ending in `out`.
    fn record_outcome<T>(&self, action: crate::audit::Action, id: Option<&str>, name: &str, out: &Result<T>) {
        let origin = crate::audit::process_origin();
        self.record_action(action, id, name, origin, &crate::audit::outcome_of(out), None);
    }

    /// [`Vault::remove`] without its audit log entry.
    fn remove_unrecorded(&self, name: &str) -> Result<()> {
        let lock = self.meta.lock()?;
        let mut m = lock.load()?;
        let r = m.find(name).cloned().ok_or_else(|| Error::NotFound(name.into()))?;
        // Make sure the keyring answers before the metadata changes, so a missing keyring
        // is an error that changes nothing.
        if let Some(f) = r.secret_fields.first() {
            self.secrets.get(&key(&m, &r.id, r.secret_rev, f))?;
        }
        let removed = [r.id.clone()];
        let gone = PendingCleanup {
            fields: all_fields(&r),
            credential_id: r.id.clone(),
            rev: r.secret_rev,
        };
        lock.commit(&mut m, &[], |doc| {
            let idx = position_of(doc, &r.id, name)?;
            doc.credentials.remove(idx);
            doc.pending_cleanup.push(gone.clone());
            Ok(())
        })?;
        self.sweep_with(&lock, &mut m, &removed);
        // Its token lock file is of no use any more (best effort: a held lock only delays).
        if let Ok(p) = self.token_lock_path(&removed[0]) {
            let _ = std::fs::remove_file(p);
        }
        Ok(())
    }

    /// Records the result of a connectivity test.
    ///
    /// # Errors
    /// File errors.
    pub fn record_test(&self, report: &crate::dto::TestReport) -> Result<()> {
        let lock = self.meta.lock()?;
        let mut m = lock.load()?;
        let Some(id) = m.find(&report.credential).map(|c| c.id.clone()) else {
            return Ok(());
        };
        self.note(&lock, &mut m, |doc| {
            if let Some(c) = doc.credentials.iter_mut().find(|c| c.id == id) {
                c.last_test = Some(report.clone());
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Marks a credential as rotated today without changing its secret (for secrets
    /// rotated outside Tillkey): every long-lived secret field counts as renewed (see
    /// [`super::age`]).
    ///
    /// # Errors
    /// [`Error::NotFound`]; file errors.
    pub fn mark_rotated(&self, name: &str) -> Result<CredentialSummary> {
        self.recorded(crate::audit::Action::MarkRotated, name, |v| {
            v.mark_rotated_unrecorded(name)
        })
    }

    /// [`Vault::mark_rotated`] without its audit log entry.
    fn mark_rotated_unrecorded(&self, name: &str) -> Result<CredentialSummary> {
        let lock = self.meta.lock()?;
        let mut m = lock.load()?;
        let now = self.clock.now();
        let id = m
            .find(name)
            .map(|c| c.id.clone())
            .ok_or_else(|| Error::NotFound(name.into()))?;
        let idx = lock.commit(&mut m, &[], |doc| {
            let idx = position_of(doc, &id, name)?;
            super::age::renew_all(&mut doc.credentials[idx], now);
            Ok(idx)
        })?;
        Ok(self.summary(&m.settings, &m.credentials[idx]))
    }

    /// The shared settings as front ends show and change them.
    ///
    /// # Errors
    /// As [`Vault::list`].
    pub fn vault_settings(&self) -> Result<VaultSettings> {
        let s = self.settings()?;
        Ok(VaultSettings {
            reminder_lead_days: s.reminder_lead_days,
            default_rotation_days: s.default_rotation_days,
        })
    }

    /// Changes the shared settings: the reminder lead time (0–365 days) and the rotation
    /// period given to new credentials (1–3650 days). Existing credentials keep their own
    /// rotation periods. The CLI reads the same values.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a value out of range (nothing changes); file errors.
    pub fn set_settings(&self, settings: VaultSettings) -> Result<VaultSettings> {
        check_days("reminder_lead_days", settings.reminder_lead_days, 0, MAX_LEAD_DAYS)?;
        check_days(
            "default_rotation_days",
            settings.default_rotation_days,
            1,
            MAX_PERIOD_DAYS,
        )?;
        let lock = self.meta.lock()?;
        let mut m = lock.load()?;
        lock.commit(&mut m, &[], |doc| {
            doc.settings.reminder_lead_days = settings.reminder_lead_days;
            doc.settings.default_rotation_days = settings.default_rotation_days;
            Ok(())
        })?;
        Ok(settings)
    }

    /// Changes only the reminder lead time (see [`Vault::set_settings`]).
    ///
    /// # Errors
    /// As [`Vault::set_settings`].
    pub fn set_reminder_lead_days(&self, days: u32) -> Result<VaultSettings> {
        let current = self.vault_settings()?;
        self.set_settings(VaultSettings {
            reminder_lead_days: days,
            ..current
        })
    }

    /// Changes one credential's rotation period (1–3650 days).
    ///
    /// # Errors
    /// As [`Vault::edit`].
    pub fn set_rotation_period(&self, name: &str, days: u32) -> Result<CredentialSummary> {
        self.edit(
            name,
            CredentialEdit {
                rotation_period_days: Some(days),
                ..CredentialEdit::default()
            },
        )
    }

    /// Changes a credential's non-secret parts: name, environment, non-secret fields,
    /// rotation period. Secrets stay as they are (they change only by rotation). Fields are
    /// validated against the provider's schema exactly as [`Vault::add`] does. When the
    /// environment or a field changes, the cached tokens are discarded: they came from the
    /// old endpoints or client.
    ///
    /// # Security
    /// A change of where the credential's secrets are sent (see [`secret_destinations`]:
    /// every URL field and `auth_host`; added, changed or cleared) needs every current
    /// secret value typed again in [`CredentialEdit::current_secrets`], compared in constant
    /// time with the stored ones. Otherwise whoever can call `edit` (a compromised webview,
    /// say) could point `token_url` at their own host and collect the secret on the next
    /// test or copy. Switching the environment needs no secret: it only selects the
    /// provider's own documented hosts. This check is the one place the rule lives, so every
    /// front end gets it.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::AlreadyExists`] (new name taken),
    /// [`Error::InvalidInput`], [`Error::MissingField`], [`Error::SecretRequired`];
    /// [`Error::SecretMissing`], keyring and file errors. On any error the credential is
    /// unchanged.
    pub fn edit(&self, name: &str, edit: CredentialEdit) -> Result<CredentialSummary> {
        self.recorded(crate::audit::Action::Edit, name, |v| v.edit_unrecorded(name, edit))
    }

    /// [`Vault::edit`] without its audit log entry.
    fn edit_unrecorded(&self, name: &str, edit: CredentialEdit) -> Result<CredentialSummary> {
        let lock = self.meta.lock()?;
        let mut m = lock.load()?;
        let idx = m
            .credentials
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| Error::NotFound(name.into()))?;
        let current = m.credentials[idx].clone();
        let provider = providers::find(&current.provider)?;
        let schema = provider.schema();
        let mut next = current.clone();
        if let Some(new_name) = edit.name.map(|n| n.trim().to_string()).filter(|n| *n != current.name) {
            validate_name(&new_name)?;
            next.name = new_name;
            check_rename(&m, &current, &next)?;
        }
        if edit.fields.is_some() || edit.environment.is_some() {
            let fields = edit.fields.unwrap_or_else(|| current.fields.clone());
            // The stored secrets count as present; their values are not needed to validate.
            let present: BTreeMap<String, String> = current
                .secret_fields
                .iter()
                .map(|f| (f.clone(), "x".to_string()))
                .collect();
            let env = Some(edit.environment.unwrap_or(current.environment));
            let valid = providers::validate(&schema, env, &fields, &present)?;
            provider.check(&valid.fields)?;
            next.environment = valid.environment;
            next.fields = valid.fields;
        }
        if let Some(days) = edit.rotation_period_days {
            check_days("rotation_period_days", days, 1, MAX_PERIOD_DAYS)?;
            next.rotation_period_days = days;
        }
        let moved: Vec<String> = secret_destinations(&schema)
            .filter(|f| next.fields.get(*f) != current.fields.get(*f))
            .map(str::to_string)
            .collect();
        if !moved.is_empty() {
            self.confirm_current_secrets(&m, &current, moved, &edit.current_secrets)?;
        }
        let endpoints_changed = next.fields != current.fields || next.environment != current.environment;
        if endpoints_changed {
            // Keyring first: if the metadata write then fails, the record still claims a
            // token the keyring no longer has, which only means a fresh token request.
            self.tokens.forget(&m, &current.id, current.secret_rev, true)?;
            next.token = None;
        }
        // Re-applied after another machine's write only while this record is unchanged.
        let idx = lock.commit(&mut m, &[], |doc| {
            let idx = position_of(doc, &current.id, name)?;
            check_rename(doc, &current, &next)?;
            doc.credentials[idx] = next.clone();
            Ok(idx)
        })?;
        Ok(self.summary(&m.settings, &m.credentials[idx]))
    }

    /// [`Vault::edit`]'s check that `typed` holds every current secret value of `r` (trimmed
    /// of pasted whitespace as [`Vault::add`] trims them). Each stored value is compared in
    /// constant time (`subtle`); a missing value fails before the keyring is read.
    ///
    /// # Errors
    /// [`Error::SecretRequired`] naming the secret fields and the `moved` fields (never a
    /// value); [`Error::SecretMissing`], keyring errors.
    fn confirm_current_secrets(
        &self,
        m: &Metadata,
        r: &CredentialRecord,
        moved: Vec<String>,
        typed: &BTreeMap<String, SecretString>,
    ) -> Result<()> {
        use subtle::ConstantTimeEq;
        let refused = || Error::SecretRequired {
            credential: r.name.clone(),
            fields: r.secret_fields.clone(),
            changed: moved.clone(),
        };
        let typed_value = |f: &str| typed.get(f).map(|v| providers::trim_secret(v.expose_secret()));
        if r.secret_fields.iter().any(|f| typed_value(f).is_none_or(str::is_empty)) {
            return Err(refused());
        }
        let mut all_match = subtle::Choice::from(1u8);
        for f in &r.secret_fields {
            let stored = self.stored_secret(m, r, f)?;
            let given = typed_value(f).unwrap_or_default();
            all_match &= given.as_bytes().ct_eq(stored.expose_secret().as_bytes());
        }
        if bool::from(all_match) {
            Ok(())
        } else {
            Err(refused())
        }
    }

    /// Checks a new credential against its provider's schema and builds its record (a fresh
    /// id, revision 1, created and rotated now; rotation period 0, which
    /// [`Vault::insert_new`] turns into the vault's default) and its trimmed, non-empty
    /// secrets. Nothing is written.
    pub(super) fn prepare_new(&self, new: NewCredential) -> Result<(CredentialRecord, BTreeMap<String, SecretString>)> {
        validate_name(&new.name)?;
        let provider = providers::find(&new.provider)?;
        let schema = provider.schema();
        let secrets = providers::clean_secrets(&schema, &new.secrets)?;
        // What `validate` needs of the secrets is which are present.
        let masked: BTreeMap<String, String> = secrets.keys().map(|k| (k.clone(), "x".to_string())).collect();
        let valid = providers::validate(&schema, new.environment, &new.fields, &masked)?;
        provider.check(&valid.fields)?;
        let now = self.clock.now();
        let record = CredentialRecord {
            id: uuid::Uuid::new_v4().to_string(),
            name: new.name,
            provider: schema.kind.clone(),
            environment: valid.environment,
            fields: valid.fields,
            secret_fields: secrets.keys().cloned().collect(),
            secret_rev: 1,
            created_at: now,
            rotated_at: now,
            rotation_period_days: 0,
            token: None,
            last_test: None,
            secret_set_at: BTreeMap::new(),
            secret_expires_at: super::age::expiries(&secrets),
            refresh_token_set_at: None,
            extra: Default::default(),
        };
        Ok((record, secrets))
    }

    /// Commits a change that is only a note (a test result), re-applied after another
    /// machine's unrelated write like every change (see [`WriteLock::commit`]). A read-only
    /// policy or a conflict that stands (a team vault's refusals) must not fail the test that
    /// produced it, so those two refusals drop the note: `None` then.
    ///
    /// # Errors
    /// As [`WriteLock::commit`], but for those two.
    pub(super) fn note<T>(
        &self,
        lock: &WriteLock<'_>,
        m: &mut Metadata,
        change: impl FnMut(&mut Metadata) -> Result<T>,
    ) -> Result<Option<T>> {
        drop_refused_note(lock.commit(m, &[], change))
    }

    /// Steps 1–2 of the write order, for one credential or many (an import): list the
    /// entries about to be written as pending cleanup and commit, then write them. On an
    /// error the entries this call wrote are deleted again and the intent withdrawn (an
    /// entry it could not write may be someone else's, so it is left alone); what cannot be
    /// deleted now stays listed for a sweep. The caller commits the records that point at
    /// them (step 3).
    ///
    /// The intents' commit re-applies after another machine's unrelated write (see
    /// [`WriteLock::commit`]): a new credential's name taken meanwhile is
    /// [`Error::AlreadyExists`] before any secret is written, and an existing credential
    /// (a rotation) changed meanwhile is a conflict. The intents are returned for the
    /// caller's commit to withdraw (on return they are already off `m`).
    pub(super) fn write_secrets(
        &self,
        lock: &WriteLock<'_>,
        m: &mut Metadata,
        items: &[(&CredentialRecord, &BTreeMap<String, SecretString>)],
    ) -> Result<Vec<PendingCleanup>> {
        let intents: Vec<PendingCleanup> = items
            .iter()
            .map(|(r, secrets)| PendingCleanup {
                credential_id: r.id.clone(),
                rev: r.secret_rev,
                fields: secrets.keys().cloned().collect(),
            })
            .collect();
        let existing: Vec<&str> = items
            .iter()
            .map(|(r, _)| r.id.as_str())
            .filter(|id| m.credentials.iter().any(|c| c.id == *id))
            .collect();
        lock.commit(m, &existing, |doc| {
            check_new_names(doc, items)?;
            doc.pending_cleanup.extend(intents.iter().cloned());
            Ok(())
        })?;
        let mut written = Vec::new();
        for (r, secrets) in items {
            for (field, value) in *secrets {
                let k = key(m, &r.id, r.secret_rev, field);
                if let Err(e) = self.secrets.set(&k, value) {
                    if written.iter().all(|k| self.secrets.delete(k).is_ok()) {
                        let _ = lock.commit(m, &[], |doc| {
                            drop_pending(doc, &intents);
                            Ok(())
                        });
                    }
                    return Err(e);
                }
                written.push(k);
            }
        }
        m.pending_cleanup.retain(|p| !intents.contains(p));
        Ok(intents)
    }

    /// Deletes every entry listed in `intents` (written, the records that would point at
    /// them not committed) and withdraws the intents if all are gone; otherwise they stay
    /// listed for a sweep. Best effort.
    pub(super) fn abandon_secrets(&self, lock: &WriteLock<'_>, m: &mut Metadata, intents: &[PendingCleanup]) {
        if intents.iter().all(|p| self.delete_entries(m, p)) {
            let _ = lock.commit(m, &[], |doc| {
                drop_pending(doc, intents);
                Ok(())
            });
        }
    }

    /// Deletes pending keyring entries that no live credential uses, and commits. Best
    /// effort: entries the keyring cannot delete now stay listed for the next write.
    pub(super) fn sweep(&self, lock: &WriteLock<'_>, m: &mut Metadata) {
        self.sweep_with(lock, m, &[]);
    }

    /// [`Vault::sweep`], knowing that the credentials `removed` were just removed by this
    /// writer (so their entries are dead whoever else writes).
    ///
    /// Where other machines write at the same time (a team vault), an entry listed as
    /// pending may be another machine's write in progress (a rotation being tested, an
    /// add). Only entries that are certainly dead are deleted at once: revisions older than
    /// their credential's live one, and credentials this writer removed. Any other entry is
    /// deleted once it has been pending for the store's grace period
    /// ([`MetadataStore::pending_grace`]; none for the local file, whose writers are this
    /// machine's processes under one lock).
    pub(super) fn sweep_with(&self, lock: &WriteLock<'_>, m: &mut Metadata, removed: &[String]) {
        if m.pending_cleanup.is_empty() {
            return;
        }
        let now = self.clock.now();
        let grace = self.meta.pending_grace();
        let (mut deleted, mut live, mut first_seen) = (Vec::new(), Vec::new(), Vec::new());
        for p in &m.pending_cleanup {
            let live_rev = m
                .credentials
                .iter()
                .find(|c| c.id == p.credential_id)
                .map(|c| c.secret_rev);
            if live_rev == Some(p.rev) {
                live.push(p.clone());
                continue;
            }
            let dead = live_rev.is_some_and(|r| p.rev < r) || removed.contains(&p.credential_id);
            if !dead && grace > chrono::Duration::zero() {
                let tag = pending_tag(p);
                let since = m.pending_since.get(&tag).copied().unwrap_or_else(|| {
                    first_seen.push(tag);
                    now
                });
                if now - since < grace {
                    continue;
                }
            }
            if self.delete_entries(m, p) {
                deleted.push(p.clone());
            }
        }
        if deleted.is_empty() && live.is_empty() && first_seen.is_empty() {
            return;
        }
        // Re-applied after another machine's write: an entry found live comes off the list
        // only if it still is.
        let _ = lock.commit(m, &[], |doc| {
            let still_live = live.iter().filter(|p| {
                doc.credentials
                    .iter()
                    .any(|c| c.id == p.credential_id && c.secret_rev == p.rev)
            });
            let gone: Vec<PendingCleanup> = deleted.iter().chain(still_live).cloned().collect();
            drop_pending(doc, &gone);
            for tag in &first_seen {
                if doc.pending_cleanup.iter().any(|p| pending_tag(p) == *tag) {
                    doc.pending_since.entry(tag.clone()).or_insert(now);
                }
            }
            Ok(())
        });
    }

    /// Deletes the entries of one pending item: its secrets from the secret store, its
    /// token fields from the token cache. Whether all are gone.
    pub(super) fn delete_entries(&self, m: &Metadata, p: &PendingCleanup) -> bool {
        let tokens = p.fields.iter().any(|f| TokenField::from_name(f).is_some());
        let secrets_gone = p
            .fields
            .iter()
            .filter(|f| TokenField::from_name(f).is_none())
            .all(|f| self.secrets.delete(&key(m, &p.credential_id, p.rev, f)).is_ok());
        secrets_gone && (!tokens || self.tokens.forget(m, &p.credential_id, p.rev, true).is_ok())
    }
}

/// The key of a pending entry in [`Metadata::pending_since`].
fn pending_tag(p: &PendingCleanup) -> String {
    format!("{}/r{}", p.credential_id, p.rev)
}

/// Takes `gone` off the pending list, with the first-seen times no listed entry needs.
fn drop_pending(doc: &mut Metadata, gone: &[PendingCleanup]) {
    doc.pending_cleanup.retain(|p| !gone.contains(p));
    let listed: std::collections::HashSet<String> = doc.pending_cleanup.iter().map(pending_tag).collect();
    doc.pending_since.retain(|tag, _| listed.contains(tag));
}

/// [`Error::AlreadyExists`] for the first of `items` that is new to `doc` (its id is not
/// there) under a name `doc` already has.
fn check_new_names(doc: &Metadata, items: &[(&CredentialRecord, &BTreeMap<String, SecretString>)]) -> Result<()> {
    for (r, _) in items {
        if !doc.credentials.iter().any(|c| c.id == r.id) && doc.find(&r.name).is_some() {
            return Err(Error::AlreadyExists(r.name.clone()));
        }
    }
    Ok(())
}

/// [`Error::AlreadyExists`] when `next` renames `current` to a name `doc` already has.
fn check_rename(doc: &Metadata, current: &CredentialRecord, next: &CredentialRecord) -> Result<()> {
    if next.name != current.name && doc.find(&next.name).is_some() {
        return Err(Error::AlreadyExists(next.name.clone()));
    }
    Ok(())
}

/// The index of credential `id` (called `name` when the change began) in `doc`.
fn position_of(doc: &Metadata, id: &str, name: &str) -> Result<usize> {
    doc.credentials
        .iter()
        .position(|c| c.id == id)
        .ok_or_else(|| Error::NotFound(name.into()))
}

/// Whether a commit that failed with `e` certainly left the document as it was: the change
/// refused itself, or the engine refused the check-and-set. (After a network error the
/// write may have gone through.)
fn certainly_not_committed(e: &Error) -> bool {
    matches!(e, Error::AlreadyExists(_) | Error::Conflict { .. })
}

/// The refusals that drop a note instead of failing what produced it (see
/// [`Vault::note`]): a read-only policy, a conflict that stands.
fn drop_refused_note<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(Error::VaultDenied { .. } | Error::Conflict { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}
