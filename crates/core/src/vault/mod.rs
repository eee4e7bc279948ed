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

pub mod age;
pub mod batch;
pub mod check;
pub mod metadata;
mod rotate;
pub mod secrets;
pub mod status;
pub mod team;
pub mod tokens;
mod write;

use crate::clock::{Clock, SystemClock};
use crate::dto::CredentialSummary;
use crate::error::{Error, Result};
use crate::providers;
use metadata::{CredentialRecord, Metadata, MetadataFile, MetadataStore, Settings};
pub use rotate::StagedRotation;
use secrecy::SecretString;
use secrets::{KeyringStore, SealedStore, SecretClass, SecretKey, SecretStore};
pub use status::{ConnectionState, VaultStatus, LOCAL_VAULT};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
pub use team::store::TEAM_PENDING_GRACE_SECS;
pub use tokens::{
    CachedToken, InfoHome, KeyringTokens, TokenCache, TokenField, ACCESS_TOKEN_FIELD, REFRESH_TOKEN_FIELD,
};

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

/// A vault: its metadata document, its secrets and its cached tokens, from a [`Backend`].
/// The local vault keeps them in the data dir's `vault.json` and the OS keyring; a team
/// vault in a KV v2 engine (see [`team`]). The vault's logic (validation, write order,
/// rotation, token caching rules) never asks which backend it has.
pub struct Vault {
    meta: Box<dyn MetadataStore>,
    secrets: Arc<dyn SecretStore>,
    tokens: Box<dyn TokenCache>,
    home: Box<dyn Home>,
    clock: Arc<dyn Clock>,
    data_dir: PathBuf,
    /// The data dir's audit log (see [`crate::audit`]).
    audit: Arc<crate::audit::AuditLog>,
}

/// What a backend supplies to a [`Vault`]: where its document, secrets and cached tokens
/// live, and how front ends describe it.
pub struct Backend {
    /// The metadata document.
    pub meta: Box<dyn MetadataStore>,
    /// Secret values.
    pub secrets: Arc<dyn SecretStore>,
    /// Cached access and refresh tokens.
    pub tokens: Box<dyn TokenCache>,
    /// Name and status.
    pub home: Box<dyn Home>,
}

/// How front ends name and describe a backend.
pub trait Home: Send + Sync {
    /// The team vault's name; `None` for this machine's own vault.
    fn team_name(&self) -> Option<&str>;

    /// Where the secrets live, in words ("the OS keyring", "team vault `shop`").
    fn secret_home(&self) -> String;

    /// The status for a vault switcher. Never fails: a problem is the status.
    fn status(&self, meta: &dyn MetadataStore) -> VaultStatus;
}

/// This machine's own vault: the data dir and the OS keyring.
struct LocalHome {
    data_dir: PathBuf,
}

impl Home for LocalHome {
    fn team_name(&self) -> Option<&str> {
        None
    }

    fn secret_home(&self) -> String {
        "the OS keyring".into()
    }

    fn status(&self, meta: &dyn MetadataStore) -> VaultStatus {
        VaultStatus::local(&self.data_dir, meta.load().map(|m| m.credentials.len()))
    }
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
    /// Opens the vault in `data_dir` (created 0700 if missing) over `secrets`, under the
    /// passphrase layer ([`secrets::SealedStore`]: a pass-through while the vault has no
    /// passphrase). A passphrase conversion a killed process left half done is completed
    /// or rolled back first ([`crate::passphrase::recover`]).
    ///
    /// # Errors
    /// [`Error::Io`] if the directory cannot be created; an invalid passphrase file; store
    /// errors of the recovery.
    pub fn open(data_dir: impl AsRef<Path>, secrets: Arc<dyn SecretStore>, clock: Arc<dyn Clock>) -> Result<Self> {
        let dir = data_dir.as_ref();
        let meta = MetadataFile::open(dir)?;
        if !secrets.sealing() {
            match crate::passphrase::recover(dir, &*secrets) {
                // Names and dates still read; every secret call reports the file.
                Ok(()) | Err(Error::PassphraseFileInvalid { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let secrets = SealedStore::over(dir, secrets);
        let backend = Backend {
            meta: Box::new(meta),
            tokens: Box::new(KeyringTokens::new(secrets.clone())),
            secrets,
            home: Box::new(LocalHome {
                data_dir: dir.to_path_buf(),
            }),
        };
        Ok(Self::with_backend(dir, backend, clock))
    }

    /// The data dir's audit log, where this vault's actions are recorded.
    pub fn audit_log(&self) -> &Arc<crate::audit::AuditLog> {
        &self.audit
    }

    /// A vault over any backend; `data_dir` is this machine's (lock files live there).
    pub fn with_backend(data_dir: impl AsRef<Path>, backend: Backend, clock: Arc<dyn Clock>) -> Self {
        let audit = Arc::new(crate::audit::AuditLog::new(data_dir.as_ref(), None, clock.clone()));
        Self {
            audit,
            meta: backend.meta,
            secrets: backend.secrets,
            tokens: backend.tokens,
            home: backend.home,
            clock,
            data_dir: data_dir.as_ref().to_path_buf(),
        }
    }

    /// Opens team vault `name` as connected in `data_dir` (see [`team::connect`]); the
    /// engine credential is read from `keyring`, under the local vault's passphrase layer
    /// (this machine's logins are sealed with its other secrets). No request is made until
    /// the vault is used.
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
        let keyring = SealedStore::over(dir, keyring);
        Ok(Self::with_backend(dir, team::backend(dir, name, keyring)?, clock))
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
        let backend = team::backend_with(dir, name, kv, retain, share_tokens, None)?;
        Ok(Self::with_backend(dir, backend, clock))
    }

    /// Opens the vault a front end names: `None` or `local` is the local vault (as
    /// [`Vault::open_default`]), any other name a connected team vault, with the OS keyring
    /// and the system clock.
    ///
    /// # Errors
    /// As [`Vault::open_default`] and [`Vault::open_team`].
    pub fn open_named(data_dir: Option<PathBuf>, vault: Option<&str>) -> Result<Self> {
        match vault {
            None | Some(LOCAL_VAULT) => Self::open_default(data_dir),
            Some(name) => Self::open_team(
                resolve_data_dir(data_dir)?,
                name,
                Arc::new(KeyringStore),
                Arc::new(SystemClock),
            ),
        }
    }

    /// Where the local vault of `data_dir` keeps its metadata document.
    pub fn metadata_path(data_dir: &Path) -> PathBuf {
        data_dir.join(metadata::FILE_NAME)
    }

    /// Whether `data_dir` holds a local vault (its metadata document exists).
    pub fn exists_in(data_dir: &Path) -> bool {
        Self::metadata_path(data_dir).is_file()
    }

    /// The team vault's name, or `None` for the local vault.
    pub fn team_name(&self) -> Option<&str> {
        self.home.team_name()
    }

    /// This vault's name as front ends show it: `local` or the team vault's name.
    pub fn name(&self) -> &str {
        self.team_name().unwrap_or(LOCAL_VAULT)
    }

    /// Where the secrets live, in words, for messages ("the OS keyring",
    /// "team vault `shop`").
    pub fn secret_home(&self) -> String {
        self.home.secret_home()
    }

    /// The vault's status for a vault switcher: the local vault is always connected and
    /// writable; a team vault is checked against its engine (health, login, read, write
    /// capability). Never fails: a problem is the status.
    pub fn status(&self) -> VaultStatus {
        self.home.status(&*self.meta)
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
        self.stored_secret(&m, r, field)
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
        r.token = self.tokens.info(&r)?;
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

    /// The stored value of `r`'s secret field `field` (`m` is the document `r` is from).
    ///
    /// # Errors
    /// [`Error::SecretMissing`] when the store has none; store errors.
    fn stored_secret(&self, m: &Metadata, r: &CredentialRecord, field: &str) -> Result<SecretString> {
        self.secrets
            .get(&key(m, &r.id, r.secret_rev, field))?
            .ok_or_else(|| Error::SecretMissing {
                credential: r.name.clone(),
                field: field.into(),
            })
    }

    /// [`Vault::creds`] with the metadata `m` already read.
    fn creds_in(&self, m: &Metadata, r: &CredentialRecord) -> Result<providers::Creds> {
        let provider = providers::find(&r.provider)?;
        let mut secrets = BTreeMap::new();
        for f in &r.secret_fields {
            secrets.insert(f.clone(), self.stored_secret(m, r, f)?);
        }
        Ok(providers::Creds::new(
            provider,
            &r.name,
            r.environment,
            &r.fields,
            secrets,
        ))
    }

    fn summary(&self, settings: &Settings, r: &CredentialRecord) -> CredentialSummary {
        // If the cache cannot be read now (a team engine), the summary shows no token.
        let token = self.tokens.info(r).ok().flatten();
        let schema = providers::schema(&r.provider).ok();
        let provider_label = schema
            .as_ref()
            .map(|s| s.label.clone())
            .unwrap_or_else(|| r.provider.clone());
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
            rotation: crate::schedule::status(
                r.rotated_at,
                r.rotation_period_days,
                settings.reminder_lead_days,
                self.clock.now(),
            ),
            secret_ages: age::ages(r, schema.as_ref(), self.clock.now()),
            token,
            last_test: r.last_test.clone(),
        }
    }
}

/// Every keyring field a record may have at its revision: its secrets and token caches.
fn all_fields(r: &CredentialRecord) -> Vec<String> {
    let mut f = r.secret_fields.clone();
    f.extend([ACCESS_TOKEN_FIELD.to_string(), REFRESH_TOKEN_FIELD.to_string()]);
    f
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

/// The secret store address of a durable secret field.
fn key(m: &Metadata, credential_id: &str, rev: u32, field: &str) -> SecretKey {
    SecretKey {
        vault_id: m.vault_id.clone(),
        credential_id: credential_id.into(),
        rev,
        field: field.into(),
        class: SecretClass::Durable,
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
