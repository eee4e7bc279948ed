//! Batched vault work: many credentials read from one metadata snapshot, and their results
//! (cached-token metadata, test reports, new credentials) committed with one metadata write
//! instead of one locked load-and-fsync per credential.
//!
//! The crash-safety rule of the vault holds: keyring entries are written first (a token as
//! soon as it arrives), the metadata that points at them is committed afterwards, so a crash
//! leaves at worst a keyring entry the metadata does not mention, never metadata that points
//! at a missing secret.

use super::metadata::{CredentialRecord, Metadata, Stamp};
use super::tokens::{CachedToken, InfoHome, TokenField};
use super::{key, Vault};
use crate::dto::{CredentialSummary, NewCredential, TestReport, TokenInfo};
use crate::error::{Error, Result};
use crate::providers;
use secrecy::SecretString;
use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

/// A token stored in the keyring during a batch, whose metadata awaits the commit.
struct PendingToken {
    id: String,
    rev: u32,
    refresh: bool,
    info: TokenInfo,
}

#[derive(Default)]
struct Pending {
    tokens: Vec<PendingToken>,
    reports: Vec<(String, TestReport)>,
}

/// One metadata snapshot to read many credentials from, and the results gathered while
/// working on them, committed with [`Vault::commit_batch`].
///
/// Start one with [`Vault::begin_batch`]. Results not committed are lost (tokens stay in
/// the keyring, where the next token request overwrites them).
pub struct Batch {
    snapshot: Metadata,
    /// The version of the document the snapshot was read from, where the store has one.
    stamp: Option<Stamp>,
    pending: Mutex<Pending>,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("credentials", &self.snapshot.credentials.len())
            .finish_non_exhaustive()
    }
}

impl Batch {
    /// The credentials as they were when the batch began, in the order they were added.
    pub fn records(&self) -> &[CredentialRecord] {
        &self.snapshot.credentials
    }

    /// The credential called `name` in the snapshot.
    pub fn record(&self, name: &str) -> Option<&CredentialRecord> {
        self.snapshot.find(name)
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What [`Vault::commit_batch`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchCommit {
    /// Cached-token metadata entries written.
    pub tokens: usize,
    /// Test reports recorded.
    pub reports: usize,
    /// Results dropped because their credential was removed or rotated meanwhile.
    pub stale: usize,
}

impl Vault {
    /// Starts a batch over the current metadata (one read).
    ///
    /// # Errors
    /// As [`Vault::list`].
    pub fn begin_batch(&self) -> Result<Batch> {
        let (mut snapshot, stamp) = self.meta.load_stamped()?;
        // Token metadata as the token cache has it (a team vault keeps it out of its
        // document).
        for r in &mut snapshot.credentials {
            r.token = self.tokens.info(r)?;
        }
        Ok(Batch {
            snapshot,
            stamp,
            pending: Mutex::new(Pending::default()),
        })
    }

    /// Whether the document is still the version `batch` was read from, so a new batch
    /// would read the same (a cheap check, no read; `false` where the store cannot tell).
    /// A token request that waited for another process's fetch looks again only when
    /// this is false.
    pub fn batch_is_current(&self, batch: &Batch) -> bool {
        batch.stamp.is_some() && self.meta.stamp() == batch.stamp
    }

    /// A record's values with its secrets from the keyring, like [`Vault::creds`] but
    /// without reading the metadata again.
    ///
    /// # Errors
    /// [`Error::SecretMissing`], keyring errors.
    pub fn batch_creds(&self, batch: &Batch, r: &CredentialRecord) -> Result<providers::Creds> {
        self.creds_in(&batch.snapshot, r)
    }

    /// A secret field of a record (a static token, a client secret), without reading the
    /// metadata again.
    ///
    /// # Errors
    /// Keyring (or team engine) errors.
    pub fn batch_secret(&self, batch: &Batch, r: &CredentialRecord, field: &str) -> Result<Option<SecretString>> {
        self.secrets.get(&key(&batch.snapshot, &r.id, r.secret_rev, field))
    }

    /// A cached token of a record, like [`Vault::cached`] without reading the metadata
    /// again.
    ///
    /// # Errors
    /// Keyring (or team engine) errors.
    pub fn batch_cached(&self, batch: &Batch, r: &CredentialRecord, which: TokenField) -> Result<Option<SecretString>> {
        self.tokens.get(&batch.snapshot, r, which)
    }

    /// Caches a token of record `id` at revision `rev` in a batch: the token (and a new
    /// refresh token) go to the token cache now, their metadata (where the cache keeps it
    /// in the document) at [`Vault::commit_batch`].
    ///
    /// # Errors
    /// Keyring errors.
    pub fn batch_store_token(
        &self,
        batch: &Batch,
        id: &str,
        rev: u32,
        access: &SecretString,
        refresh: Option<&SecretString>,
        info: TokenInfo,
    ) -> Result<()> {
        let m = &batch.snapshot;
        if !m.credentials.iter().any(|c| c.id == id && c.secret_rev == rev) {
            return Ok(());
        }
        let token = CachedToken {
            info: info.clone(),
            access: Some(access.clone()),
            refresh: refresh.cloned(),
        };
        if self.tokens.put(m, id, rev, token)? == InfoHome::Cache {
            return Ok(());
        }
        batch.pending().tokens.push(PendingToken {
            id: id.to_string(),
            rev,
            refresh: refresh.is_some(),
            info,
        });
        Ok(())
    }

    /// Records the connectivity test of credential `id` at the batch's commit.
    pub fn batch_record_test(&self, batch: &Batch, id: &str, report: TestReport) {
        batch.pending().reports.push((id.to_string(), report));
    }

    /// Commits everything gathered in `batch` with one locked load and one atomic save.
    ///
    /// A token's metadata is written only if its credential is still at the same secret
    /// revision and no newer token was recorded meanwhile (by the CLI, say); a token whose
    /// credential was removed or rotated meanwhile has its keyring entries deleted again
    /// (best effort: the metadata never points at them).
    ///
    /// # Errors
    /// File errors; nothing of the batch is recorded then.
    pub fn commit_batch(&self, batch: &Batch) -> Result<BatchCommit> {
        let pending = std::mem::take(&mut *batch.pending());
        let mut out = BatchCommit::default();
        if pending.tokens.is_empty() && pending.reports.is_empty() {
            return Ok(out);
        }
        let lock = self.meta.lock()?;
        let mut m = lock.load()?;
        // Applied to the document as read, and again to a fresh one after another machine's
        // write; what the last application found is what is reported.
        let mut orphans = Vec::new();
        let apply = |doc: &mut Metadata, out: &mut BatchCommit, orphans: &mut Vec<usize>| {
            (*out, *orphans) = (BatchCommit::default(), Vec::new());
            for (i, t) in pending.tokens.iter().enumerate() {
                match doc
                    .credentials
                    .iter_mut()
                    .find(|c| c.id == t.id && c.secret_rev == t.rev)
                {
                    Some(c) => {
                        if c.token.as_ref().is_none_or(|cur| cur.obtained_at <= t.info.obtained_at) {
                            if t.refresh {
                                c.refresh_token_set_at = Some(t.info.obtained_at);
                            }
                            c.token = Some(t.info.clone());
                            out.tokens += 1;
                        }
                    }
                    None => {
                        out.stale += 1;
                        orphans.push(i);
                    }
                }
            }
            for (id, report) in &pending.reports {
                match doc.credentials.iter_mut().find(|c| c.id == *id) {
                    Some(c) => {
                        c.last_test = Some(report.clone());
                        out.reports += 1;
                    }
                    None => out.stale += 1,
                }
            }
        };
        // Test reports are notes: a read-only team policy or a conflicting writer drops them
        // rather than failing the tests that produced them.
        self.note(&lock, &mut m, |doc| {
            apply(doc, &mut out, &mut orphans);
            Ok(())
        })?;
        for t in orphans.into_iter().filter_map(|i| pending.tokens.get(i)) {
            let _ = self.tokens.forget(&m, &t.id, t.rev, t.refresh);
        }
        Ok(out)
    }

    /// Adds many credentials at once (an import): each is validated exactly as
    /// [`Vault::add`] does, then the write order runs once for all of them: the keyring
    /// entries about to be written are listed for cleanup and committed, the secrets are
    /// written, and one commit adds every record. On any error nothing is added.
    ///
    /// # Errors
    /// As [`Vault::add`], for the first credential that fails; [`Error::AlreadyExists`] also
    /// for a name given twice.
    pub fn add_many(&self, new: Vec<NewCredential>) -> Result<Vec<CredentialSummary>> {
        self.add_many_restoring(new.into_iter().map(|n| (n, History::default())).collect())
    }

    /// [`Vault::add_many`] for credentials restored from a backup, each with the `History`
    /// it had there, applied in the same commit: its rotation period (when in range) and
    /// the dates its secrets were set (see [`super::age::restore`]: never later than now),
    /// so a restore does not make an overdue credential look freshly rotated.
    ///
    /// # Errors
    /// As [`Vault::add_many`].
    pub(crate) fn add_many_restoring(&self, new: Vec<(NewCredential, History)>) -> Result<Vec<CredentialSummary>> {
        struct Ready {
            record: CredentialRecord,
            secrets: BTreeMap<String, SecretString>,
        }
        let now = self.clock.now();
        let mut names = HashSet::new();
        let mut ready = Vec::with_capacity(new.len());
        for (n, history) in new {
            if !names.insert(n.name.clone()) {
                return Err(Error::AlreadyExists(n.name));
            }
            // Validated exactly as `add` does; then the backup's history, if any.
            let (mut record, secrets) = self.prepare_new(n)?;
            if let Some(days) = history
                .rotation_period_days
                .filter(|d| (1..=super::MAX_PERIOD_DAYS).contains(d))
            {
                record.rotation_period_days = days;
            }
            if !history.secret_set_at.is_empty() {
                super::age::restore(&mut record, &history.secret_set_at, now);
            }
            if let Some(created) = history.created_at {
                // Never after its oldest secret, nor before 1970.
                record.created_at = created.max(chrono::DateTime::UNIX_EPOCH).min(record.rotated_at);
            }
            ready.push(Ready { record, secrets });
        }
        if ready.is_empty() {
            return Ok(Vec::new());
        }

        let lock = self.meta.lock()?;
        let mut m = lock.load()?;
        if let Some(taken) = ready.iter().find(|r| m.find(&r.record.name).is_some()) {
            return Err(Error::AlreadyExists(taken.record.name.clone()));
        }
        // The write order once for all: intents, secrets, one commit of every record.
        let items: Vec<_> = ready.iter().map(|r| (&r.record, &r.secrets)).collect();
        let first = self.insert_new(&lock, &mut m, &items)?;
        Ok(m.credentials[first..]
            .iter()
            .map(|r| self.summary(&m.settings, r))
            .collect())
    }
}

/// What a credential restored from a backup brings besides its values
/// ([`Vault::add_many_restoring`]); the default is a new credential's.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Its rotation period there (ignored when out of range).
    pub rotation_period_days: Option<u32>,
    /// When each of its secret fields was set there.
    pub secret_set_at: BTreeMap<String, chrono::DateTime<chrono::Utc>>,
    /// When it was first added there.
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::dto::{Stage, StageResult};
    use crate::vault::secrets::{MemoryStore, SecretKey, SecretStore};
    use secrecy::ExposeSecret;
    use std::sync::Arc;

    fn vault(dir: &std::path::Path, store: Arc<MemoryStore>) -> Vault {
        let now = chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
            .map(|d| d.with_timezone(&chrono::Utc))
            .expect("date");
        Vault::open(dir, store, Arc::new(FixedClock::new(now))).expect("vault")
    }

    fn oauth(name: &str, secret: &str) -> NewCredential {
        NewCredential {
            name: name.into(),
            provider: "oauth2".into(),
            environment: None,
            fields: [
                ("token_url".to_string(), "http://127.0.0.1:9/token".to_string()),
                ("client_id".to_string(), format!("id-{name}")),
            ]
            .into(),
            secrets: [("client_secret".to_string(), SecretString::from(secret))].into(),
        }
    }

    fn info(at: &str) -> TokenInfo {
        let t = chrono::DateTime::parse_from_rfc3339(at)
            .map(|d| d.with_timezone(&chrono::Utc))
            .expect("date");
        TokenInfo {
            obtained_at: t,
            expires_at: t + chrono::Duration::hours(1),
            renew_at: t + chrono::Duration::minutes(55),
            refreshable: false,
            scope: None,
            taxpayer_tags: None,
        }
    }

    fn report(name: &str) -> TestReport {
        TestReport {
            credential: name.into(),
            provider: "oauth2".into(),
            ok: true,
            tested_at: info("2030-01-01T00:00:00Z").obtained_at,
            summary: "token ok".into(),
            stages: vec![StageResult {
                stage: Stage::Token,
                ok: true,
                target: "127.0.0.1/token".into(),
                latency_ms: 1,
                status: Some(200),
                code: None,
                message: String::new(),
                hint: None,
                rate_limit: None,
            }],
            taxpayer_tags: None,
        }
    }

    #[test]
    fn add_many_adds_all_with_their_secrets_and_no_pending_cleanup() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Arc::new(MemoryStore::new());
        let v = vault(dir.path(), store.clone());
        v.add(oauth("first", "s0")).expect("add");
        let added = v
            .add_many(vec![oauth("a", " s1\r\n"), oauth("b", "s2")])
            .expect("add_many");
        assert_eq!(added.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(v.list().expect("list").len(), 3);
        assert_eq!(v.secret("a", "client_secret").expect("secret").expose_secret(), "s1");
        assert_eq!(v.secret("b", "client_secret").expect("secret").expose_secret(), "s2");
        assert_eq!(store.len(), 3);
        let m = v.meta.load().expect("load");
        assert!(m.pending_cleanup.is_empty());
        assert!(m
            .credentials
            .iter()
            .all(|c| c.rotation_period_days == m.settings.default_rotation_days));
    }

    #[test]
    fn add_many_refuses_duplicates_and_invalid_input_without_writing() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Arc::new(MemoryStore::new());
        let v = vault(dir.path(), store.clone());
        v.add(oauth("taken", "s")).expect("add");
        assert!(matches!(
            v.add_many(vec![oauth("x", "s"), oauth("x", "s")]),
            Err(Error::AlreadyExists(_))
        ));
        assert!(matches!(
            v.add_many(vec![oauth("y", "s"), oauth("taken", "s")]),
            Err(Error::AlreadyExists(_))
        ));
        let mut bad = oauth("z", "s");
        bad.fields.insert("token_url".into(), "http://example.com/token".into());
        assert!(v.add_many(vec![oauth("w", "s"), bad]).is_err());
        assert_eq!(v.list().expect("list").len(), 1);
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn add_many_keyring_failure_leaves_nothing_behind() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Arc::new(MemoryStore::new());
        let v = vault(dir.path(), store.clone());
        store.fail_writes_after(2);
        assert!(v
            .add_many(vec![oauth("a", "1"), oauth("b", "2"), oauth("c", "3")])
            .is_err());
        assert!(v.list().expect("list").is_empty());
        // The keyring failed deletes too: what was written stays listed for cleanup, so
        // no entry is untracked …
        let m = v.meta.load().expect("load");
        let listed: Vec<String> = m
            .pending_cleanup
            .iter()
            .flat_map(|p| p.fields.iter().map(|f| key(&m, &p.credential_id, p.rev, f).account()))
            .collect();
        assert_eq!(store.len(), 2);
        assert!(store.accounts().iter().all(|a| listed.contains(a)));
        // … and the next write, with the keyring back, sweeps it away.
        store.fail_writes_after(usize::MAX);
        v.add(oauth("d", "4")).expect("add");
        assert_eq!(store.len(), 1);
        assert!(v.meta.load().expect("load").pending_cleanup.is_empty());
    }

    #[test]
    fn batch_writes_tokens_to_the_keyring_at_once_and_metadata_in_one_commit() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Arc::new(MemoryStore::new());
        let v = vault(dir.path(), store.clone());
        v.add_many(vec![oauth("a", "1"), oauth("b", "2")]).expect("add");
        let batch = v.begin_batch().expect("batch");
        let a = batch.record("a").expect("a").clone();
        let b = batch.record("b").expect("b").clone();
        assert_eq!(
            v.batch_creds(&batch, &a)
                .expect("creds")
                .secret("client_secret")
                .expect("secret")
                .expose_secret(),
            "1"
        );
        v.batch_store_token(
            &batch,
            &a.id,
            a.secret_rev,
            &SecretString::from("tok-a"),
            None,
            info("2030-01-01T00:00:00Z"),
        )
        .expect("store");
        v.batch_record_test(&batch, &a.id, report("a"));
        v.batch_record_test(&batch, &b.id, report("b"));
        // Keyring first: the token is there before any metadata mentions it.
        assert_eq!(
            v.cached(&a, TokenField::Access)
                .expect("cached")
                .expect("token")
                .expose_secret(),
            "tok-a"
        );
        assert!(v.record("a").expect("a").token.is_none());
        assert!(v.record("b").expect("b").last_test.is_none());
        let done = v.commit_batch(&batch).expect("commit");
        assert_eq!(
            done,
            BatchCommit {
                tokens: 1,
                reports: 2,
                stale: 0
            }
        );
        assert!(v.record("a").expect("a").token.is_some());
        assert!(v.record("b").expect("b").last_test.is_some());
        // Committing again writes nothing more.
        assert_eq!(v.commit_batch(&batch).expect("commit"), BatchCommit::default());
    }

    #[test]
    fn batch_drops_results_of_removed_credentials_and_keeps_newer_tokens() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Arc::new(MemoryStore::new());
        let v = vault(dir.path(), store.clone());
        v.add_many(vec![oauth("a", "1"), oauth("b", "2")]).expect("add");
        let batch = v.begin_batch().expect("batch");
        let a = batch.record("a").expect("a").clone();
        let b = batch.record("b").expect("b").clone();
        v.batch_store_token(
            &batch,
            &a.id,
            a.secret_rev,
            &SecretString::from("old"),
            None,
            info("2030-01-01T00:00:00Z"),
        )
        .expect("store");
        v.batch_store_token(
            &batch,
            &b.id,
            b.secret_rev,
            &SecretString::from("gone"),
            None,
            info("2030-01-01T00:00:00Z"),
        )
        .expect("store");
        v.batch_record_test(&batch, &b.id, report("b"));
        // Meanwhile another process caches a newer token for a and removes b.
        v.store_token(
            &a.id,
            a.secret_rev,
            &SecretString::from("newer"),
            None,
            info("2030-01-01T00:10:00Z"),
        )
        .expect("store");
        v.remove("b").expect("remove");
        let done = v.commit_batch(&batch).expect("commit");
        assert_eq!(
            done,
            BatchCommit {
                tokens: 0,
                reports: 0,
                stale: 2
            }
        );
        assert_eq!(
            v.record("a").expect("a").token.expect("token").obtained_at,
            info("2030-01-01T00:10:00Z").obtained_at
        );
        // b's token, written after its removal swept the keyring, was deleted again.
        let vault_id = v.meta.load().expect("load").vault_id;
        let b_token = SecretKey {
            vault_id,
            credential_id: b.id.clone(),
            rev: b.secret_rev,
            field: crate::vault::ACCESS_TOKEN_FIELD.into(),
            class: crate::vault::secrets::SecretClass::Ephemeral,
        };
        assert!(store.get(&b_token).expect("get").is_none());
    }
}
