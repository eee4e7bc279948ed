//! The vault: credentials' non-secret metadata in one JSON file per data dir, their secrets
//! in a [`SecretStore`] (the OS keyring).
//!
//! Every write follows an order that survives a crash at any point:
//! 1. record the keyring entries about to be written as pending cleanup, commit;
//! 2. write the secrets under a fresh revision;
//! 3. commit the metadata that points at them (and lists superseded entries for cleanup);
//! 4. delete superseded entries and commit again.
//!
//! A crash leaves at worst orphan keyring entries that the next write sweeps away, never
//! a credential without its secret. All writes hold the vault lock shared with the CLI.

pub mod batch;
pub mod check;
pub mod metadata;
pub mod secrets;
pub mod team;

use crate::clock::{Clock, SystemClock};
use crate::dto::{CredentialEdit, CredentialSummary, NewCredential, RotationStatus, VaultSettings};
use crate::error::{Error, Result};
use crate::providers;
use chrono::NaiveDate;
use metadata::{CredentialRecord, Metadata, MetadataFile, MetadataStore, PendingCleanup, Settings, WriteLock};
use secrecy::{ExposeSecret, SecretString};
use secrets::{KeyringStore, SecretKey, SecretStore};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Environment variable that overrides the data directory.
pub const DATA_DIR_ENV: &str = "TILLKEY_DATA_DIR";

/// The data directory: `explicit`, else `$TILLKEY_DATA_DIR`, else the platform data dir
/// (`~/.local/share/tillkey` on Linux).
///
/// # Errors
/// [`Error::NoDataDir`] when none can be determined.
pub fn resolve_data_dir(explicit: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(d) = explicit {
        return Ok(d);
    }
    if let Some(d) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    dirs::data_dir().map(|d| d.join("tillkey")).ok_or(Error::NoDataDir)
}

/// A vault: its metadata document plus its secrets. The local vault keeps them in the
/// data dir's `vault.json` and the OS keyring; a team vault in a KV v2 engine (see
/// [`team`]). Everything else (validation, write order, rotation, token caching rules)
/// is the same code over either.
pub struct Vault {
    meta: Box<dyn MetadataStore>,
    secrets: Arc<dyn SecretStore>,
    clock: Arc<dyn Clock>,
    data_dir: PathBuf,
    team: Option<Team>,
}

/// What a team vault adds: its name, its token cache, and its engine client (absent with
/// an in-memory test engine).
struct Team {
    name: String,
    tokens: team::TeamTokens,
    client: Option<(team::TeamConfig, Arc<team::client::KvClient>)>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("data_dir", &self.data_dir())
            .field("team", &self.team_name())
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// Opens the vault in `data_dir` (created 0700 if missing) over `secrets`.
    ///
    /// # Errors
    /// [`Error::Io`] if the directory cannot be created.
    pub fn open(data_dir: impl AsRef<Path>, secrets: Arc<dyn SecretStore>, clock: Arc<dyn Clock>) -> Result<Self> {
        Ok(Self {
            meta: Box::new(MetadataFile::open(data_dir.as_ref())?),
            secrets,
            clock,
            data_dir: data_dir.as_ref().to_path_buf(),
            team: None,
        })
    }

    /// Opens team vault `name` as connected in `data_dir` (see [`team::connect`]); the
    /// engine credential is read from `keyring`. No request is made until the vault is used.
    ///
    /// # Errors
    /// [`Error::VaultNotConnected`], [`Error::InvalidInput`] (a CA file that no longer
    /// reads), file errors.
    pub fn open_team(
        data_dir: impl AsRef<Path>,
        name: &str,
        keyring: Arc<dyn SecretStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let dir = data_dir.as_ref();
        metadata::create_private_dir(dir)?;
        let cfg = team::config::find_config(dir, name)?;
        let client = Arc::new(team::client_for(&cfg, keyring)?);
        let kv: Arc<dyn team::KvEngine> = client.clone();
        let mut v = Self::open_team_with(dir, name, kv, cfg.retain, cfg.share_tokens, clock)?;
        if let Some(t) = v.team.as_mut() {
            t.client = Some((cfg, client));
        }
        Ok(v)
    }

    /// A team vault over any [`team::KvEngine`] (an in-memory one in tests): `retain`
    /// superseded revisions are kept recoverable; `share_tokens` caches access tokens in
    /// the engine instead of this process's memory.
    ///
    /// # Errors
    /// [`Error::Io`] if the data dir cannot be created.
    pub fn open_team_with(
        data_dir: impl AsRef<Path>,
        name: &str,
        kv: Arc<dyn team::KvEngine>,
        retain: u32,
        share_tokens: bool,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let dir = data_dir.as_ref();
        metadata::create_private_dir(dir)?;
        let lock = dir.join(format!("team-{name}.lock"));
        let tokens = if share_tokens {
            team::TeamTokens::Shared(kv.clone())
        } else {
            team::TeamTokens::Memory(Default::default())
        };
        Ok(Self {
            meta: Box::new(team::KvMetadataStore::new(name, kv.clone(), lock)),
            secrets: Arc::new(team::KvSecretStore::new(name, kv, retain, share_tokens)),
            clock,
            data_dir: dir.to_path_buf(),
            team: Some(Team {
                name: name.into(),
                tokens,
                client: None,
            }),
        })
    }

    /// Opens the vault a front end names: `None` or `local` is the local vault (as
    /// [`Vault::open_default`]), any other name a connected team vault, with the OS keyring
    /// and the system clock.
    ///
    /// # Errors
    /// As [`Vault::open_default`] and [`Vault::open_team`].
    pub fn open_named(data_dir: Option<PathBuf>, vault: Option<&str>) -> Result<Self> {
        match vault {
            None | Some(team::LOCAL_VAULT) => Self::open_default(data_dir),
            Some(name) => Self::open_team(
                resolve_data_dir(data_dir)?,
                name,
                Arc::new(KeyringStore),
                Arc::new(SystemClock),
            ),
        }
    }

    /// The team vault's name, or `None` for the local vault.
    pub fn team_name(&self) -> Option<&str> {
        self.team.as_ref().map(|t| t.name.as_str())
    }

    /// This vault's name as front ends show it: `local` or the team vault's name.
    pub fn name(&self) -> &str {
        self.team_name().unwrap_or(team::LOCAL_VAULT)
    }

    /// Where the secrets live, in words, for messages ("the OS keyring",
    /// "team vault `shop`").
    pub fn secret_home(&self) -> String {
        match self.team_name() {
            Some(n) => format!("team vault `{n}`"),
            None => "the OS keyring".into(),
        }
    }

    /// The vault's status for a vault switcher: the local vault is always connected and
    /// writable; a team vault is checked against its engine (health, login, read, write
    /// capability). Never fails: a problem is the status.
    pub fn status(&self) -> team::VaultStatus {
        match &self.team {
            None => team::VaultStatus {
                name: team::LOCAL_VAULT.into(),
                team: false,
                address: self.data_dir.display().to_string(),
                state: team::ConnectionState::Connected,
                writable: Some(true),
                credentials: self.meta.load().ok().map(|m| m.credentials.len()),
                detail: None,
                error_code: None,
            },
            Some(Team {
                client: Some((cfg, client)),
                ..
            }) => team::status_of(cfg, client.clone()),
            Some(t) => team::VaultStatus {
                name: t.name.clone(),
                team: true,
                address: self.meta.location(),
                state: team::ConnectionState::Connected,
                writable: Some(true),
                credentials: self.meta.load().ok().map(|m| m.credentials.len()),
                detail: None,
                error_code: None,
            },
        }
    }

    /// Opens the vault in the resolved data dir (see [`resolve_data_dir`]) with the OS keyring
    /// and the system clock.
    ///
    /// # Errors
    /// [`Error::NoDataDir`], [`Error::Io`].
    pub fn open_default(data_dir: Option<PathBuf>) -> Result<Self> {
        Self::open(
            resolve_data_dir(data_dir)?,
            Arc::new(KeyringStore),
            Arc::new(SystemClock),
        )
    }

    /// The data directory (of this machine; a team vault keeps only lock files there).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The shared settings.
    ///
    /// # Errors
    /// As [`Vault::list`].
    pub fn settings(&self) -> Result<Settings> {
        Ok(self.meta.load()?.settings)
    }

    /// Every credential, in the order they were added.
    ///
    /// # Errors
    /// [`Error::CorruptMetadata`], [`Error::UnsupportedSchema`], [`Error::Io`].
    pub fn list(&self) -> Result<Vec<CredentialSummary>> {
        let m = self.meta.load()?;
        Ok(m.credentials.iter().map(|r| self.summary(&m.settings, r)).collect())
    }

    /// One credential's metadata.
    ///
    /// # Errors
    /// [`Error::NotFound`], and as [`Vault::list`].
    pub fn show(&self, name: &str) -> Result<CredentialSummary> {
        let m = self.meta.load()?;
        let r = m.find(name).ok_or_else(|| Error::NotFound(name.into()))?;
        Ok(self.summary(&m.settings, r))
    }

    /// A secret field's value from the keyring.
    ///
    /// # Security
    /// The value is a secret: expose it only to send it to its provider or on an explicit
    /// reveal.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::InvalidInput`] (no such secret field),
    /// [`Error::SecretMissing`], keyring errors.
    pub fn secret(&self, name: &str, field: &str) -> Result<SecretString> {
        let m = self.meta.load()?;
        let r = m.find(name).ok_or_else(|| Error::NotFound(name.into()))?;
        if !r.secret_fields.iter().any(|f| f == field) {
            return Err(Error::invalid(field, format!("`{name}` has no secret field `{field}`")));
        }
        self.secrets
            .get(&key(&m, &r.id, r.secret_rev, field))?
            .ok_or_else(|| Error::SecretMissing {
                credential: name.into(),
                field: field.into(),
            })
    }

    /// Adds a credential: validates it against its provider's schema, writes its secrets to
    /// the keyring and commits the metadata. On any error nothing is left behind.
    ///
    /// # Errors
    /// [`Error::InvalidInput`], [`Error::MissingField`], [`Error::UnknownProvider`],
    /// [`Error::AlreadyExists`], keyring and file errors.
    pub fn add(&self, new: NewCredential) -> Result<CredentialSummary> {
        let (record, secrets) = self.prepare_new(new)?;
        let lock = self.meta.lock()?;
        let mut m = lock.load()?;
        if m.find(&record.name).is_some() {
            return Err(Error::AlreadyExists(record.name));
        }
        self.sweep(&lock, &mut m);
        let record = CredentialRecord {
            rotation_period_days: m.settings.default_rotation_days,
            ..record
        };
        self.write_secrets(&lock, &mut m, &record, &secrets)?;
        m.credentials.push(record);
        lock.save(&m)?;
        let r = m.credentials.last().ok_or_else(|| Error::NotFound(String::new()))?;
        Ok(self.summary(&m.settings, r))
    }

    /// Removes a credential and every keyring entry it has.
    ///
    /// # Errors
    /// [`Error::NotFound`]; keyring errors (checked before anything changes); file errors.
    pub fn remove(&self, name: &str) -> Result<()> {
        let lock = self.meta.lock()?;
        let mut m = lock.load()?;
        let idx = m
            .credentials
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| Error::NotFound(name.into()))?;
        let r = &m.credentials[idx];
        // Make sure the keyring answers before the metadata changes, so a missing keyring
        // is an error that changes nothing.
        if let Some(f) = r.secret_fields.first() {
            self.secrets.get(&key(&m, &r.id, r.secret_rev, f))?;
        }
        let r = m.credentials.remove(idx);
        let removed = [r.id.clone()];
        m.pending_cleanup.push(PendingCleanup {
            fields: all_fields(&r),
            credential_id: r.id,
            rev: r.secret_rev,
        });
        lock.save(&m)?;
        self.sweep_with(&lock, &mut m, &removed);
        // Its token lock file is of no use any more (best effort: a held lock only delays).
        if let Ok(p) = self.token_lock_path(&removed[0]) {
            let _ = std::fs::remove_file(p);
        }
        Ok(())
    }

    /// The stored record of `name`.
    ///
    /// # Errors
    /// [`Error::NotFound`], and as [`Vault::list`].
    pub fn record(&self, name: &str) -> Result<CredentialRecord> {
        let mut r = self
            .meta
            .load()?
            .find(name)
            .cloned()
            .ok_or_else(|| Error::NotFound(name.into()))?;
        if let Some(t) = &self.team {
            r.token = t.tokens.get(&t.name, &r.id, r.secret_rev)?.map(|c| c.info);
        }
        Ok(r)
    }

    /// The clock this vault reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Loads a record's values: effective fields and every secret from the keyring.
    ///
    /// # Errors
    /// [`Error::SecretMissing`], keyring errors.
    pub fn creds(&self, r: &CredentialRecord) -> Result<providers::Creds> {
        self.creds_in(&self.meta.load()?, r)
    }

    /// [`Vault::creds`] with the metadata `m` already read.
    fn creds_in(&self, m: &Metadata, r: &CredentialRecord) -> Result<providers::Creds> {
        let provider = providers::find(&r.provider)?;
        let mut secrets = BTreeMap::new();
        for f in &r.secret_fields {
            let v = self
                .secrets
                .get(&key(m, &r.id, r.secret_rev, f))?
                .ok_or_else(|| Error::SecretMissing {
                    credential: r.name.clone(),
                    field: f.clone(),
                })?;
            secrets.insert(f.clone(), v);
        }
        Ok(providers::Creds::new(
            provider,
            &r.name,
            r.environment,
            &r.fields,
            secrets,
        ))
    }

    /// A cached token field (`ACCESS_TOKEN_FIELD` or `REFRESH_TOKEN_FIELD`) of a record.
    ///
    /// # Errors
    /// Keyring errors.
    pub fn cached(&self, r: &CredentialRecord, field: &str) -> Result<Option<SecretString>> {
        if let Some(t) = &self.team {
            let c = t.tokens.get(&t.name, &r.id, r.secret_rev)?;
            return Ok(c.and_then(|c| match field {
                ACCESS_TOKEN_FIELD => Some(c.access).filter(|a| !a.expose_secret().is_empty()),
                REFRESH_TOKEN_FIELD => c.refresh,
                _ => None,
            }));
        }
        let m = self.meta.load()?;
        self.secrets.get(&key(&m, &r.id, r.secret_rev, field))
    }

    /// Caches a token for the record `id` at revision `rev`: the token (and a new refresh
    /// token, if one came) in the keyring first, then its metadata. If the credential was
    /// rotated or removed meanwhile, nothing is stored.
    ///
    /// # Errors
    /// Keyring and file errors.
    pub fn store_token(
        &self,
        id: &str,
        rev: u32,
        access: &SecretString,
        refresh: Option<&SecretString>,
        info: crate::dto::TokenInfo,
    ) -> Result<()> {
        if let Some(t) = &self.team {
            // Team credentials' tokens never go to the local keyring, the data dir or the
            // shared vault document: process memory, or the engine's token entries.
            let m = self.meta.load()?;
            if !m.credentials.iter().any(|c| c.id == id && c.secret_rev == rev) {
                return Ok(());
            }
            let refresh = match refresh {
                Some(r) => Some(r.clone()),
                None => t.tokens.get(&t.name, id, rev)?.and_then(|c| c.refresh),
            };
            return t.tokens.put(
                &t.name,
                id,
                rev,
                team::CachedToken {
                    info,
                    access: access.clone(),
                    refresh,
                },
            );
        }
        let lock = self.meta.lock()?;
        let mut m = lock.load()?;
        let Some(idx) = m.credentials.iter().position(|c| c.id == id && c.secret_rev == rev) else {
            return Ok(());
        };
        self.secrets.set(&key(&m, id, rev, ACCESS_TOKEN_FIELD), access)?;
        if let Some(r) = refresh {
            self.secrets.set(&key(&m, id, rev, REFRESH_TOKEN_FIELD), r)?;
        }
        m.credentials[idx].token = Some(info);
        lock.save(&m)
    }

    /// Discards the cached access token of record `id` (after a 401, or a revocation);
    /// with `refresh_too`, the refresh token as well.
    ///
    /// # Errors
    /// Keyring and file errors.
    pub fn clear_token(&self, id: &str, rev: u32, refresh_too: bool) -> Result<()> {
        if let Some(t) = &self.team {
            return t.tokens.clear(id, rev, refresh_too);
        }
        let lock = self.meta.lock()?;
        let mut m = lock.load()?;
        // Metadata first: a crash then leaves an unused keyring entry, never metadata
        // that claims a token the keyring no longer has.
        if let Some(c) = m.credentials.iter_mut().find(|c| c.id == id && c.secret_rev == rev) {
            c.token = None;
            lock.save(&m)?;
        }
        self.secrets.delete(&key(&m, id, rev, ACCESS_TOKEN_FIELD))?;
        if refresh_too {
            self.secrets.delete(&key(&m, id, rev, REFRESH_TOKEN_FIELD))?;
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
        if let Some(c) = m.credentials.iter_mut().find(|c| c.name == report.credential) {
            c.last_test = Some(report.clone());
            self.save_note(&lock, &m)?;
        }
        Ok(())
    }

    /// An exclusive per-credential lock, held while a token is fetched so that the app and
    /// any number of CLI processes make one token request at a time per credential.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn token_lock(&self, id: &str) -> Result<std::fs::File> {
        metadata::lock_file(&self.token_lock_path(id)?)
    }

    /// `locks/{id}.lock` in the data dir. Ids come from a validated document; the check
    /// here keeps the path inside the data dir regardless.
    fn token_lock_path(&self, id: &str) -> Result<PathBuf> {
        if !check::is_uuid(id) {
            return Err(Error::invalid("credential id", "is not a UUID"));
        }
        let dir = self.data_dir().join("locks");
        metadata::create_private_dir(&dir)?;
        Ok(dir.join(format!("{id}.lock")))
    }

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
            return Err(self.changed_meanwhile(name, "was rotated by another process meanwhile; try again"));
        }
        let mut record = current.clone();
        record.secret_rev = current.secret_rev + 1;
        record.secret_fields = all.keys().cloned().collect();
        record.token = None;
        self.write_secrets(&lock, &mut m, &record, &all)?;
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
                self.changed_meanwhile(
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

    /// Marks a credential as rotated today without changing its secret (for secrets
    /// rotated outside Tillkey).
    ///
    /// # Errors
    /// [`Error::NotFound`]; file errors.
    pub fn mark_rotated(&self, name: &str) -> Result<CredentialSummary> {
        let lock = self.meta.lock()?;
        let mut m = lock.load()?;
        let now = self.clock.now();
        let idx = m
            .credentials
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| Error::NotFound(name.into()))?;
        m.credentials[idx].rotated_at = now;
        lock.save(&m)?;
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
        m.settings.reminder_lead_days = settings.reminder_lead_days;
        m.settings.default_rotation_days = settings.default_rotation_days;
        lock.save(&m)?;
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
            if m.find(&new_name).is_some() {
                return Err(Error::AlreadyExists(new_name));
            }
            next.name = new_name;
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
            if let Some(t) = &self.team {
                t.tokens.clear(&current.id, current.secret_rev, true)?;
            } else {
                self.secrets
                    .delete(&key(&m, &current.id, current.secret_rev, ACCESS_TOKEN_FIELD))?;
                self.secrets
                    .delete(&key(&m, &current.id, current.secret_rev, REFRESH_TOKEN_FIELD))?;
            }
            next.token = None;
        }
        m.credentials[idx] = next;
        lock.save(&m)?;
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
            let stored = self
                .secrets
                .get(&key(m, &r.id, r.secret_rev, f))?
                .ok_or_else(|| Error::SecretMissing {
                    credential: r.name.clone(),
                    field: f.clone(),
                })?;
            let given = typed_value(f).unwrap_or_default();
            all_match &= given.as_bytes().ct_eq(stored.expose_secret().as_bytes());
        }
        if bool::from(all_match) {
            Ok(())
        } else {
            Err(refused())
        }
    }

    /// Today's date on this vault's clock, in the local time zone.
    pub fn today(&self) -> NaiveDate {
        self.clock.now().with_timezone(&chrono::Local).date_naive()
    }

    /// Credentials due soon or overdue for rotation that have not been reminded of today
    /// (see [`Vault::mark_reminded`]): a front end reminds at most once a day per credential.
    ///
    /// # Errors
    /// As [`Vault::list`].
    pub fn reminders_due(&self) -> Result<Vec<CredentialSummary>> {
        let m = self.meta.load()?;
        let today = self.today();
        Ok(m.credentials
            .iter()
            .filter(|r| r.reminded_on.is_none_or(|d| d < today))
            .map(|r| self.summary(&m.settings, r))
            .filter(|s| s.rotation.status != RotationStatus::Ok)
            .collect())
    }

    /// Records that the credentials with these ids were reminded of today.
    ///
    /// # Errors
    /// File errors.
    pub fn mark_reminded(&self, ids: &[String]) -> Result<()> {
        let lock = self.meta.lock()?;
        let mut m = lock.load()?;
        let today = self.today();
        let mut changed = false;
        for c in m.credentials.iter_mut().filter(|c| ids.contains(&c.id)) {
            c.reminded_on = Some(today);
            changed = true;
        }
        if changed {
            self.save_note(&lock, &m)?;
        }
        Ok(())
    }

    /// Checks a new credential against its provider's schema and builds its record (a fresh
    /// id, revision 1, created and rotated now; the rotation period is set by the caller from
    /// the vault's settings) and its trimmed, non-empty secrets. Nothing is written.
    fn prepare_new(&self, new: NewCredential) -> Result<(CredentialRecord, BTreeMap<String, SecretString>)> {
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
            reminded_on: None,
            extra: Default::default(),
        };
        Ok((record, secrets))
    }

    /// The error for a credential changed by another writer since it was read: a team
    /// vault's [`Error::Conflict`], or the local vault's invalid-input error.
    fn changed_meanwhile(&self, name: &str, reason: &str) -> Error {
        match &self.team {
            Some(t) => Error::Conflict { vault: t.name.clone() },
            None => Error::invalid(name, reason),
        }
    }

    /// Saves a change that is only a note (a test result, a reminder date). In a team vault
    /// a read-only policy or a concurrent writer must not fail the test or reminder that
    /// produced it, so those two refusals drop the note instead.
    fn save_note(&self, lock: &WriteLock<'_>, m: &Metadata) -> Result<()> {
        match lock.save(m) {
            Err(Error::VaultDenied { .. } | Error::Conflict { .. }) if self.team.is_some() => Ok(()),
            other => other,
        }
    }

    /// Steps 1–2 of the write order: record the entries as pending, then write them. On a
    /// keyring error the entries written so far are deleted and the intent withdrawn.
    fn write_secrets(
        &self,
        lock: &WriteLock<'_>,
        m: &mut Metadata,
        r: &CredentialRecord,
        secrets: &BTreeMap<String, SecretString>,
    ) -> Result<()> {
        let intent = PendingCleanup {
            credential_id: r.id.clone(),
            rev: r.secret_rev,
            fields: secrets.keys().cloned().collect(),
        };
        m.pending_cleanup.push(intent.clone());
        lock.save(m)?;
        for (field, value) in secrets {
            if let Err(e) = self.secrets.set(&key(m, &r.id, r.secret_rev, field), value) {
                self.sweep(lock, m);
                return Err(e);
            }
        }
        m.pending_cleanup.retain(|p| p != &intent);
        Ok(())
    }

    /// Deletes pending keyring entries that no live credential uses, and commits. Best
    /// effort: entries the keyring cannot delete now stay listed for the next write.
    fn sweep(&self, lock: &WriteLock<'_>, m: &mut Metadata) {
        self.sweep_with(lock, m, &[]);
    }

    /// [`Vault::sweep`], knowing that the credentials `removed` were just removed by this
    /// writer (so their entries are dead even in a team vault).
    ///
    /// In a team vault other machines write at the same time, and an entry listed as pending
    /// may be another machine's write in progress (a rotation being tested, an add). Only
    /// entries that are certainly dead are deleted at once: revisions older than their
    /// credential's live one, and credentials this writer removed. Any other entry is
    /// deleted once it has been pending for [`TEAM_PENDING_GRACE_SECS`].
    fn sweep_with(&self, lock: &WriteLock<'_>, m: &mut Metadata, removed: &[String]) {
        if m.pending_cleanup.is_empty() {
            return;
        }
        let now = self.clock.now();
        let mut changed = false;
        let mut keep = Vec::new();
        for p in m.pending_cleanup.clone() {
            let live_rev = m
                .credentials
                .iter()
                .find(|c| c.id == p.credential_id)
                .map(|c| c.secret_rev);
            let tag = format!("{}/r{}", p.credential_id, p.rev);
            if live_rev == Some(p.rev) {
                changed |= m.pending_since.remove(&tag).is_some();
                continue;
            }
            if self.team.is_some() {
                let dead = live_rev.is_some_and(|r| p.rev < r) || removed.contains(&p.credential_id);
                if !dead {
                    let since = *m.pending_since.entry(tag.clone()).or_insert_with(|| {
                        changed = true;
                        now
                    });
                    if now - since < chrono::Duration::seconds(TEAM_PENDING_GRACE_SECS) {
                        keep.push(p);
                        continue;
                    }
                }
            }
            let done = p
                .fields
                .iter()
                .all(|f| self.secrets.delete(&key(m, &p.credential_id, p.rev, f)).is_ok());
            if done {
                m.pending_since.remove(&tag);
            } else {
                keep.push(p);
            }
        }
        if keep.len() != m.pending_cleanup.len() || changed {
            m.pending_cleanup = keep;
            let _ = lock.save(m);
        }
    }

    fn summary(&self, settings: &Settings, r: &CredentialRecord) -> CredentialSummary {
        // A team credential's token is in memory or its own engine entry, never in the
        // shared document; if that entry cannot be read now, the summary shows none.
        let token = match &self.team {
            Some(t) => t
                .tokens
                .get(&t.name, &r.id, r.secret_rev)
                .ok()
                .flatten()
                .map(|c| c.info),
            None => r.token.clone(),
        };
        let provider_label = providers::schema(&r.provider)
            .map(|s| s.label)
            .unwrap_or_else(|_| r.provider.clone());
        CredentialSummary {
            id: r.id.clone(),
            name: r.name.clone(),
            provider: r.provider.clone(),
            provider_label,
            environment: r.environment,
            fields: r.fields.clone(),
            secret_fields: r.secret_fields.clone(),
            created_at: r.created_at,
            rotated_at: r.rotated_at,
            rotation_period_days: r.rotation_period_days,
            rotation: crate::rotation::status(
                r.rotated_at,
                r.rotation_period_days,
                settings.reminder_lead_days,
                self.clock.now(),
            ),
            token,
            last_test: r.last_test.clone(),
        }
    }
}

/// How long a team vault's pending entry that may belong to another machine's write in
/// progress (an add, a rotation being tested) is left alone before it is swept.
pub const TEAM_PENDING_GRACE_SECS: i64 = 15 * 60;

/// Keyring field of a cached access token.
pub const ACCESS_TOKEN_FIELD: &str = "_access_token";
/// Keyring field of a refresh token.
pub const REFRESH_TOKEN_FIELD: &str = "_refresh_token";

/// Every keyring field a record may have at its revision: its secrets and token caches.
fn all_fields(r: &CredentialRecord) -> Vec<String> {
    let mut f = r.secret_fields.clone();
    f.extend([ACCESS_TOKEN_FIELD.to_string(), REFRESH_TOKEN_FIELD.to_string()]);
    f
}

/// New secrets staged under the next revision, awaiting a test before they replace the
/// current ones. Commit with [`Vault::commit_rotation`] or drop with [`Vault::abort_rotation`].
pub struct StagedRotation {
    /// The credential as it will be after the swap.
    pub record: CredentialRecord,
    /// Its values with the new secrets, for testing.
    pub creds: providers::Creds,
    previous_rev: u32,
}

/// The non-secret fields of `schema` that say where the credential's secrets or tokens
/// are sent: every URL field (token, identity, test, revoke, API base) and `auth_host`
/// (Chimpy builds its token URL from it). Changing one needs the current secrets again.
pub fn secret_destinations(schema: &crate::dto::ProviderSchema) -> impl Iterator<Item = &str> {
    schema
        .fields
        .iter()
        .filter(|f| !f.secret && (f.input == crate::dto::FieldInput::Url || f.name == "auth_host"))
        .map(|f| f.name.as_str())
}

fn key(m: &Metadata, credential_id: &str, rev: u32, field: &str) -> SecretKey {
    SecretKey {
        vault_id: m.vault_id.clone(),
        credential_id: credential_id.into(),
        rev,
        field: field.into(),
    }
}

/// Longest reminder lead time accepted.
pub const MAX_LEAD_DAYS: u32 = 365;
/// Longest rotation period accepted (ten years).
pub const MAX_PERIOD_DAYS: u32 = 3650;

fn check_days(field: &str, days: u32, min: u32, max: u32) -> Result<()> {
    if days < min || days > max {
        return Err(Error::invalid(
            field,
            format!("{days} days is out of range: use {min} to {max} days"),
        ));
    }
    Ok(())
}

/// Names: 1–64 of letters, digits, `.`, `_`, `-`, starting with a letter or digit (they
/// appear in shell scripts as `tillkey token NAME`).
pub(crate) fn validate_name(name: &str) -> Result<()> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    let starts_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if name.is_empty() || name.len() > 64 || !ok_chars || !starts_ok {
        return Err(Error::invalid(
            "name",
            format!("`{name}` is not a valid name: use 1-64 letters, digits, `.`, `_` or `-`, starting with a letter or digit"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
