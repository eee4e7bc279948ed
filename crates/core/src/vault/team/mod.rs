//! Team vaults: a vault's metadata and secrets in a KV v2 engine (OpenBao or HashiCorp
//! Vault) shared by a merchant's machines and staff, behind the same
//! [`MetadataStore`] / [`SecretStore`] seams as the local vault, so [`Vault`]'s validation,
//! write order and rotation run unchanged over it.
//!
//! Layout under `{mount}` (KV v2) and the configured `{prefix}`:
//! - `{prefix}/vault`: the metadata document (the same JSON as the local `vault.json`),
//!   every write with check-and-set on the version read, so a concurrent writer's change is
//!   never overwritten: a mismatch is [`Error::Conflict`].
//! - `{prefix}/secrets/{credential id}/r{revision}/{field}`: one entry per secret field and
//!   revision, created with `cas=0` (never overwriting a live value). Superseded revisions
//!   are destroyed (all KV versions), or soft-deleted and kept recoverable for `retain`
//!   revisions.
//! - `{prefix}/tokens/{credential id}/r{revision}`: cached access tokens, only when the
//!   connection shares tokens; by default they stay in the process's memory, never in the
//!   local keyring or on disk.
//!
//! On this machine the data dir holds only the connection settings (`team-vaults.json`)
//! and lock files; the engine token or AppRole secret_id is in the OS keyring.

pub mod client;
pub mod config;

use crate::dto::TokenInfo;
use crate::error::{Error, Result};
use crate::vault::metadata::{lock_file, Metadata, MetadataGuard, MetadataStore, WriteLock, SCHEMA_VERSION};
use crate::vault::secrets::{SecretKey, SecretStore};
use crate::vault::{ACCESS_TOKEN_FIELD, REFRESH_TOKEN_FIELD};
use client::{login_key, KvClient, LoginSource, LOGIN_TOKEN_FIELD, SECRET_ID_FIELD, TOKEN_FIELD};
pub use config::{ConnectOptions, TeamAuth, TeamConfig, LOCAL_VAULT};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use ts_rs::TS;

/// KV path of the metadata document, relative to the prefix.
pub const DOC_PATH: &str = "vault";

/// One KV v2 read: the engine's whole response body (it may hold secrets) and the version.
pub struct KvEntry {
    /// The response body: `{"data": {"data": {...}, "metadata": {...}}}`.
    pub body: SecretString,
    /// The entry's current version (what check-and-set compares against).
    pub version: u64,
}

impl KvEntry {
    /// The entry's data parsed as `T`.
    ///
    /// # Errors
    /// [`Error::VaultResponse`] when the data is not a `T`.
    pub fn parse<T: serde::de::DeserializeOwned>(&self, vault: &str, what: &str) -> Result<T> {
        #[derive(Deserialize)]
        struct Inner<T> {
            data: T,
        }
        #[derive(Deserialize)]
        struct Outer<T> {
            data: Inner<T>,
        }
        serde_json::from_str::<Outer<T>>(self.body.expose_secret())
            .map(|o| o.data.data)
            .map_err(|e| Error::VaultResponse {
                vault: vault.into(),
                status: 200,
                detail: format!(
                    "{what} is not in Tillkey's format (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            })
    }
}

/// The version state of a KV path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvCurrent {
    /// The current (latest) version number.
    pub version: u64,
    /// Whether that version is readable (not soft-deleted or destroyed).
    pub live: bool,
}

/// The KV v2 operations a team vault needs. [`KvClient`] talks to a real engine;
/// [`MemoryKv`] is an in-memory double with the same check-and-set rules, for tests.
pub trait KvEngine: Send + Sync {
    /// The latest live version of `rel`, or `None` (missing or deleted).
    ///
    /// # Errors
    /// Engine errors.
    fn read(&self, rel: &str) -> Result<Option<KvEntry>>;
    /// Writes `data` (a JSON object) with check-and-set: `cas` must equal the current
    /// version (0: the path must not exist). Returns the new version.
    ///
    /// # Errors
    /// [`Error::Conflict`] on a mismatch; engine errors.
    fn write(&self, rel: &str, data: &SecretString, cas: u64) -> Result<u64>;
    /// The current version state of `rel`, or `None` when it has no metadata.
    ///
    /// # Errors
    /// Engine errors.
    fn current(&self, rel: &str) -> Result<Option<KvCurrent>>;
    /// Soft-deletes the latest version (recoverable with `kv undelete`).
    ///
    /// # Errors
    /// Engine errors.
    fn delete_latest(&self, rel: &str) -> Result<()>;
    /// Destroys every version and the metadata of `rel`.
    ///
    /// # Errors
    /// Engine errors.
    fn destroy(&self, rel: &str) -> Result<()>;
    /// Where this engine is, for messages.
    fn location(&self) -> String;
}

/// The metadata document in the engine, written with check-and-set. A local lock file
/// (per connection) serialises this machine's own processes, so only other machines can
/// cause a conflict.
pub struct KvMetadataStore {
    name: String,
    kv: Arc<dyn KvEngine>,
    lock_path: PathBuf,
}

impl KvMetadataStore {
    /// The document of team vault `name` in `kv`; `lock_path` is a local lock file.
    pub fn new(name: &str, kv: Arc<dyn KvEngine>, lock_path: PathBuf) -> Self {
        Self {
            name: name.into(),
            kv,
            lock_path,
        }
    }

    fn read(&self) -> Result<(Metadata, u64)> {
        let Some(entry) = self.kv.read(DOC_PATH)? else {
            return Ok((Metadata::new(), 0));
        };
        #[derive(Deserialize)]
        struct Version {
            schema: u32,
        }
        if let Ok(v) = entry.parse::<Version>(&self.name, "the vault document") {
            if v.schema > SCHEMA_VERSION {
                return Err(Error::UnsupportedSchema {
                    path: PathBuf::from(self.location()),
                    found: v.schema,
                    supported: SCHEMA_VERSION,
                });
            }
        }
        let mut m: Metadata = entry.parse(&self.name, "the vault document")?;
        crate::vault::check::validate(&mut m).map_err(|detail| Error::CorruptTeamDocument {
            vault: self.name.clone(),
            detail,
        })?;
        Ok((m, entry.version))
    }
}

struct KvGuard<'a> {
    store: &'a KvMetadataStore,
    version: Cell<Option<u64>>,
    _lock: std::fs::File,
}

impl MetadataStore for KvMetadataStore {
    fn load(&self) -> Result<Metadata> {
        self.read().map(|(m, _)| m)
    }

    fn lock(&self) -> Result<WriteLock<'_>> {
        let f = lock_file(&self.lock_path)?;
        Ok(WriteLock::new(Box::new(KvGuard {
            store: self,
            version: Cell::new(None),
            _lock: f,
        })))
    }

    fn location(&self) -> String {
        format!("team vault `{}` at {}", self.name, self.kv.location())
    }
}

impl MetadataGuard for KvGuard<'_> {
    fn load(&self) -> Result<Metadata> {
        let (m, v) = self.store.read()?;
        self.version.set(Some(v));
        Ok(m)
    }

    fn save(&self, meta: &Metadata) -> Result<()> {
        // Saving without a read through this guard may only create the document.
        let cas = self.version.get().unwrap_or(0);
        let doc = serde_json::to_string(meta).map_err(|e| Error::VaultResponse {
            vault: self.store.name.clone(),
            status: 0,
            detail: format!("cannot encode the vault document: {e}"),
        })?;
        let v = self.store.kv.write(DOC_PATH, &SecretString::from(doc), cas)?;
        self.version.set(Some(v));
        Ok(())
    }
}

/// Secret values in the engine, one KV entry per credential, revision and field.
pub struct KvSecretStore {
    name: String,
    kv: Arc<dyn KvEngine>,
    retain: u32,
    share_tokens: bool,
    /// Token fields written through this store (by code that does not know it is a team
    /// vault) stay in memory: never the engine's secret entries, the keyring or a file.
    token_fields: Mutex<HashMap<String, SecretString>>,
}

#[derive(Deserialize)]
struct SecretDoc {
    value: SecretString,
}

impl Serialize for SecretWrap<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("value", self.0.expose_secret())?;
        m.end()
    }
}

/// Serialises a secret as `{"value": ...}` for the engine only.
struct SecretWrap<'a>(&'a SecretString);

impl KvSecretStore {
    /// Secrets of team vault `name` in `kv`.
    pub fn new(name: &str, kv: Arc<dyn KvEngine>, retain: u32, share_tokens: bool) -> Self {
        Self {
            name: name.into(),
            kv,
            retain,
            share_tokens,
            token_fields: Mutex::new(HashMap::new()),
        }
    }

    fn path(key: &SecretKey, rev: u32) -> String {
        format!("secrets/{}/r{rev}/{}", key.credential_id, key.field)
    }

    /// Whether the revision of `key`, being deleted, was ever its credential's live secret:
    /// older than the live revision (superseded by a rotation), or its credential was
    /// removed. A revision newer than the live one is a rotation that never went live (it
    /// failed its test, or its machine crashed): nothing to retain.
    ///
    /// Deletes run after the vault document was committed (the vault's write order), so
    /// the document read here already names the new live revision.
    fn was_live(&self, key: &SecretKey) -> Result<bool> {
        let Some(entry) = self.kv.read(DOC_PATH)? else {
            return Ok(true);
        };
        let m: Metadata = entry.parse(&self.name, "the vault document")?;
        Ok(m.credentials
            .iter()
            .find(|c| c.id == key.credential_id)
            .is_none_or(|c| key.rev <= c.secret_rev))
    }
}

/// The KV path of a shared token entry.
fn token_path(id: &str, rev: u32) -> String {
    format!("tokens/{id}/r{rev}")
}

fn is_token_field(f: &str) -> bool {
    f == ACCESS_TOKEN_FIELD || f == REFRESH_TOKEN_FIELD
}

impl SecretStore for KvSecretStore {
    fn set(&self, key: &SecretKey, value: &SecretString) -> Result<()> {
        if is_token_field(&key.field) {
            self.token_fields
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key.account(), value.clone());
            return Ok(());
        }
        let path = Self::path(key, key.rev);
        let doc = serde_json::to_string(&SecretWrap(value)).map_err(|e| Error::VaultResponse {
            vault: self.name.clone(),
            status: 0,
            detail: format!("cannot encode a secret entry: {e}"),
        })?;
        let doc = SecretString::from(doc);
        match self.kv.write(&path, &doc, 0) {
            Err(Error::Conflict { .. }) => {
                // The path exists: write over it only if its latest version is deleted (a
                // swept, aborted attempt); a live value belongs to someone else's write.
                match self.kv.current(&path)? {
                    Some(c) if !c.live => self.kv.write(&path, &doc, c.version).map(|_| ()),
                    _ => Err(Error::Conflict {
                        vault: self.name.clone(),
                    }),
                }
            }
            other => other.map(|_| ()),
        }
    }

    fn get(&self, key: &SecretKey) -> Result<Option<SecretString>> {
        if is_token_field(&key.field) {
            return Ok(self
                .token_fields
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&key.account())
                .cloned());
        }
        match self.kv.read(&Self::path(key, key.rev))? {
            Some(e) => Ok(Some(e.parse::<SecretDoc>(&self.name, "a secret entry")?.value)),
            None => Ok(None),
        }
    }

    fn delete(&self, key: &SecretKey) -> Result<()> {
        if is_token_field(&key.field) {
            self.token_fields
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&key.account());
            // Tokens are not secret entries: in memory, or one shared entry.
            if self.share_tokens && key.field == ACCESS_TOKEN_FIELD {
                return self.kv.destroy(&token_path(&key.credential_id, key.rev));
            }
            return Ok(());
        }
        if self.retain == 0 || !self.was_live(key)? {
            return self.kv.destroy(&Self::path(key, key.rev));
        }
        // Keep this superseded revision recoverable and destroy the one `retain` revisions
        // older (live revisions are numbered without gaps, so that one is superseded too).
        self.kv.delete_latest(&Self::path(key, key.rev))?;
        if key.rev > self.retain {
            self.kv.destroy(&Self::path(key, key.rev - self.retain))?;
        }
        Ok(())
    }
}

/// A cached access token (and refresh token) of a team credential.
pub(crate) struct CachedToken {
    pub(crate) info: TokenInfo,
    pub(crate) access: SecretString,
    pub(crate) refresh: Option<SecretString>,
}

#[derive(Serialize)]
struct SharedTokenOut<'a> {
    info: &'a TokenInfo,
    #[serde(serialize_with = "expose")]
    access: &'a SecretString,
    #[serde(serialize_with = "expose_opt")]
    refresh: Option<&'a SecretString>,
}

fn expose<S: serde::Serializer>(v: &&SecretString, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(v.expose_secret())
}

fn expose_opt<S: serde::Serializer>(v: &Option<&SecretString>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_some(v.expose_secret()),
        None => s.serialize_none(),
    }
}

#[derive(Deserialize)]
struct SharedTokenIn {
    info: TokenInfo,
    access: SecretString,
    refresh: Option<SecretString>,
}

/// Where a team vault caches access tokens.
pub(crate) enum TeamTokens {
    /// In this process's memory only (the default).
    Memory(Mutex<HashMap<(String, u32), CachedToken>>),
    /// In the engine, shared by every machine (`--share-tokens`).
    Shared(Arc<dyn KvEngine>),
}

impl TeamTokens {
    pub(crate) fn get(&self, vault: &str, id: &str, rev: u32) -> Result<Option<CachedToken>> {
        match self {
            TeamTokens::Memory(m) => Ok(m
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&(id.to_string(), rev))
                .map(|t| CachedToken {
                    info: t.info.clone(),
                    access: t.access.clone(),
                    refresh: t.refresh.clone(),
                })),
            TeamTokens::Shared(kv) => match kv.read(&token_path(id, rev))? {
                Some(e) => {
                    let t: SharedTokenIn = e.parse(vault, "a shared token entry")?;
                    Ok(Some(CachedToken {
                        info: t.info,
                        access: t.access,
                        refresh: t.refresh,
                    }))
                }
                None => Ok(None),
            },
        }
    }

    pub(crate) fn put(&self, vault: &str, id: &str, rev: u32, t: CachedToken) -> Result<()> {
        match self {
            TeamTokens::Memory(m) => {
                m.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert((id.to_string(), rev), t);
                Ok(())
            }
            TeamTokens::Shared(kv) => {
                let path = token_path(id, rev);
                let doc = serde_json::to_string(&SharedTokenOut {
                    info: &t.info,
                    access: &t.access,
                    refresh: t.refresh.as_ref(),
                })
                .map_err(|e| Error::VaultResponse {
                    vault: vault.into(),
                    status: 0,
                    detail: format!("cannot encode a token entry: {e}"),
                })?;
                let cas = kv.current(&path)?.map(|c| c.version).unwrap_or(0);
                match kv.write(&path, &SecretString::from(doc), cas) {
                    // Another machine stored a token at the same moment: theirs is as good.
                    Err(Error::Conflict { .. }) => Ok(()),
                    other => other.map(|_| ()),
                }
            }
        }
    }

    pub(crate) fn clear(&self, id: &str, rev: u32, refresh_too: bool) -> Result<()> {
        match self {
            TeamTokens::Memory(m) => {
                let mut m = m.lock().unwrap_or_else(|p| p.into_inner());
                let key = (id.to_string(), rev);
                if refresh_too {
                    m.remove(&key);
                } else if let Some(t) = m.get_mut(&key) {
                    // Keep the refresh token: drop the access token by expiring its info.
                    if t.refresh.is_none() {
                        m.remove(&key);
                    } else {
                        t.access = SecretString::from("");
                        t.info.renew_at = t.info.obtained_at;
                    }
                }
                Ok(())
            }
            TeamTokens::Shared(kv) => {
                let path = token_path(id, rev);
                if refresh_too {
                    return kv.destroy(&path);
                }
                let Some(e) = kv.read(&path)? else { return Ok(()) };
                let t: SharedTokenIn = e.parse("team", "a shared token entry")?;
                if t.refresh.is_none() {
                    return kv.destroy(&path);
                }
                let mut info = t.info;
                info.renew_at = info.obtained_at;
                let doc = serde_json::to_string(&SharedTokenOut {
                    info: &info,
                    access: &SecretString::from(""),
                    refresh: t.refresh.as_ref(),
                })
                .map_err(|err| Error::internal(format!("cannot encode a shared token ({err})")))?;
                match kv.write(&path, &SecretString::from(doc), e.version) {
                    Err(Error::Conflict { .. }) => Ok(()),
                    other => other.map(|_| ()),
                }
            }
        }
    }
}

/// An in-memory KV v2 engine with check-and-set and soft delete, for tests.
#[derive(Default)]
pub struct MemoryKv {
    entries: Mutex<HashMap<String, MemEntry>>,
}

#[derive(Default)]
struct MemEntry {
    /// Every version's data (`None`: deleted or destroyed).
    versions: Vec<Option<String>>,
}

impl std::fmt::Debug for MemoryKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryKv").finish_non_exhaustive()
    }
}

impl MemoryKv {
    /// An empty engine.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every path that has metadata (live, soft-deleted or not), sorted.
    pub fn paths(&self) -> Vec<String> {
        let mut v: Vec<_> = self
            .entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        v.sort();
        v
    }

    /// Whether `rel`'s latest version is live.
    pub fn is_live(&self, rel: &str) -> bool {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(rel)
            .and_then(|e| e.versions.last().cloned())
            .flatten()
            .is_some()
    }
}

impl KvEngine for MemoryKv {
    fn read(&self, rel: &str) -> Result<Option<KvEntry>> {
        let m = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        Ok(m.get(rel).and_then(|e| {
            let version = e.versions.len() as u64;
            e.versions.last().cloned().flatten().map(|d| KvEntry {
                body: SecretString::from(format!(
                    "{{\"data\":{{\"data\":{d},\"metadata\":{{\"version\":{version}}}}}}}"
                )),
                version,
            })
        }))
    }

    fn write(&self, rel: &str, data: &SecretString, cas: u64) -> Result<u64> {
        let mut m = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let e = m.entry(rel.to_string()).or_default();
        if e.versions.len() as u64 != cas {
            return Err(Error::Conflict { vault: "memory".into() });
        }
        e.versions.push(Some(data.expose_secret().to_string()));
        Ok(e.versions.len() as u64)
    }

    fn current(&self, rel: &str) -> Result<Option<KvCurrent>> {
        let m = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        Ok(m.get(rel).map(|e| KvCurrent {
            version: e.versions.len() as u64,
            live: e.versions.last().is_some_and(|v| v.is_some()),
        }))
    }

    fn delete_latest(&self, rel: &str) -> Result<()> {
        let mut m = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(last) = m.get_mut(rel).and_then(|e| e.versions.last_mut()) {
            *last = None;
        }
        Ok(())
    }

    fn destroy(&self, rel: &str) -> Result<()> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).remove(rel);
        Ok(())
    }

    fn location(&self) -> String {
        "memory".into()
    }
}

/// A team vault's connection state, as `tillkey vault list` and the app's vault switcher
/// show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ConnectionState {
    /// Logged in and the vault document is readable.
    Connected,
    /// DNS, connect, timeout or TLS failure.
    Unreachable,
    /// The login was refused, or the policy denies reading the vault.
    Denied,
    /// The engine is sealed.
    Sealed,
}

/// What a vault switcher shows for one vault (the local one included).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct VaultStatus {
    /// `local`, or the team vault's name.
    pub name: String,
    /// Whether this is a team vault.
    pub team: bool,
    /// Engine address (team vaults), or the data dir (local).
    pub address: String,
    /// Connection state (the local vault is always `connected`).
    pub state: ConnectionState,
    /// Whether this machine's policy allows writes (`None` when unknown: not connected).
    pub writable: Option<bool>,
    /// Number of credentials (`None` when the vault could not be read).
    #[ts(type = "number | null")]
    pub credentials: Option<usize>,
    /// Why the state is not `connected`, in plain words (no secret).
    pub detail: Option<String>,
    /// The error code behind `detail` (as in `ErrorInfo`).
    pub error_code: Option<String>,
}

impl VaultStatus {
    /// The status of `name` at `address` after `err`.
    pub fn failed(name: &str, address: &str, err: &Error) -> Self {
        let state = match err {
            Error::VaultSealed { .. } => ConnectionState::Sealed,
            Error::VaultAuth { .. } | Error::VaultDenied { .. } => ConnectionState::Denied,
            _ => ConnectionState::Unreachable,
        };
        Self {
            name: name.into(),
            team: true,
            address: address.into(),
            state,
            writable: None,
            credentials: None,
            detail: Some(err.to_string()),
            error_code: Some(err.code().into()),
        }
    }
}

/// The engine of a connection, logging in with the credential in `keyring`.
///
/// # Errors
/// As [`KvClient::new`].
pub fn client_for(cfg: &TeamConfig, keyring: Arc<dyn SecretStore>) -> Result<KvClient> {
    KvClient::new(cfg, LoginSource::Store(keyring))
}

/// Connects this machine to a team vault: checks the settings, logs in with `credential`
/// (the engine token, or the AppRole secret_id), checks that the vault document can be
/// read, then stores the credential in `keyring` and the settings in the data dir. On any
/// error nothing is saved.
///
/// # Security
/// `credential` goes to the engine and the OS keyring only.
///
/// # Errors
/// [`Error::InvalidInput`] (bad settings, name taken), [`Error::VaultAuth`],
/// [`Error::VaultDenied`] (cannot read the vault), [`Error::VaultUnreachable`],
/// [`Error::VaultTls`], [`Error::VaultSealed`], keyring and file errors.
pub fn connect(
    data_dir: &Path,
    opts: ConnectOptions,
    credential: SecretString,
    keyring: Arc<dyn SecretStore>,
) -> Result<VaultStatus> {
    let cfg = opts.into_config()?;
    let trimmed = crate::providers::trim_secret(credential.expose_secret()).to_string();
    if trimmed.is_empty() {
        let what = match cfg.auth {
            TeamAuth::Token => "token",
            TeamAuth::Approle => "secret_id",
        };
        return Err(Error::invalid(what, "is empty"));
    }
    if config::list_configs(data_dir)?.iter().any(|c| c.name == cfg.name) {
        return Err(Error::invalid(
            "name",
            format!(
                "a team vault named `{}` is already connected; disconnect it first",
                cfg.name
            ),
        ));
    }
    let credential = SecretString::from(trimmed);
    let client = KvClient::new(&cfg, LoginSource::Given(credential.clone()))?;
    client.verify_login()?;
    let client = Arc::new(client);
    let status = status_of(&cfg, client.clone());
    if status.state != ConnectionState::Connected {
        let store = KvMetadataStore::new(&cfg.name, client.clone(), PathBuf::new());
        // Re-run the read for its typed error.
        store.load()?;
    }
    let (field, extra) = match cfg.auth {
        TeamAuth::Token => (TOKEN_FIELD, None),
        TeamAuth::Approle => (SECRET_ID_FIELD, client.session_token()),
    };
    keyring.set(&login_key(&cfg.id, field), &credential)?;
    if let Some(t) = extra {
        let _ = keyring.set(&login_key(&cfg.id, LOGIN_TOKEN_FIELD), &t);
    }
    let saved = config::update(data_dir, |list| {
        if list.iter().any(|c| c.name == cfg.name) {
            return Err(Error::invalid(
                "name",
                format!(
                    "a team vault named `{}` is already connected; disconnect it first",
                    cfg.name
                ),
            ));
        }
        list.push(cfg.clone());
        Ok(((), true))
    });
    if let Err(e) = saved {
        for f in [TOKEN_FIELD, SECRET_ID_FIELD, LOGIN_TOKEN_FIELD] {
            let _ = keyring.delete(&login_key(&cfg.id, f));
        }
        return Err(e);
    }
    Ok(status)
}

/// Disconnects this machine from team vault `name`: removes its settings and its keyring
/// entries. The vault's data in the engine is not touched.
///
/// # Errors
/// [`Error::VaultNotConnected`], keyring and file errors.
pub fn disconnect(data_dir: &Path, name: &str, keyring: Arc<dyn SecretStore>) -> Result<()> {
    let cfg = config::find_config(data_dir, name)?;
    // Keyring first (it answers or nothing changes), then the settings.
    for f in [TOKEN_FIELD, SECRET_ID_FIELD, LOGIN_TOKEN_FIELD] {
        keyring.delete(&login_key(&cfg.id, f))?;
    }
    config::update(data_dir, |list| {
        let before = list.len();
        list.retain(|c| c.name != name);
        Ok(((), list.len() != before))
    })
}

/// The status of one connection: health, login, read access, write access and the
/// number of credentials. Never fails: a problem is the status.
pub fn status_of(cfg: &TeamConfig, client: Arc<KvClient>) -> VaultStatus {
    let address = client.address().to_string();
    let run = || -> Result<VaultStatus> {
        client.health()?;
        client.verify_login()?;
        let store = KvMetadataStore::new(&cfg.name, client.clone(), PathBuf::new());
        let count = store.load()?.credentials.len();
        let caps = client.capabilities(&client.data_path(DOC_PATH))?;
        let writable = caps
            .iter()
            .any(|c| c == "root" || ((c == "update" || c == "create") && caps.iter().any(|c| c == "read")));
        Ok(VaultStatus {
            name: cfg.name.clone(),
            team: true,
            address: address.clone(),
            state: ConnectionState::Connected,
            writable: Some(writable),
            credentials: Some(count),
            detail: None,
            error_code: None,
        })
    };
    run().unwrap_or_else(|e| VaultStatus::failed(&cfg.name, &address, &e))
}

/// Every vault of this data dir with its status: the local vault first, then each team
/// vault (one engine round-trip each). For the app's vault switcher and `tillkey vault list`.
///
/// # Errors
/// Local file errors only; engine problems are reported in each status.
pub fn list_vaults(data_dir: &Path, keyring: Arc<dyn SecretStore>) -> Result<Vec<VaultStatus>> {
    let local = crate::vault::metadata::MetadataFile::open(data_dir)?;
    let count = local.load().map(|m| m.credentials.len());
    let mut out = vec![VaultStatus {
        name: LOCAL_VAULT.into(),
        team: false,
        address: data_dir.display().to_string(),
        state: ConnectionState::Connected,
        writable: Some(true),
        credentials: count.as_ref().ok().copied(),
        detail: count.as_ref().err().map(|e| e.to_string()),
        error_code: count.as_ref().err().map(|e| e.code().to_string()),
    }];
    for cfg in config::list_configs(data_dir)? {
        let status = match client_for(&cfg, keyring.clone()) {
            Ok(c) => status_of(&cfg, Arc::new(c)),
            Err(e) => VaultStatus::failed(&cfg.name, &cfg.address, &e),
        };
        out.push(status);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
