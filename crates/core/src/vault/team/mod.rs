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
pub mod store;
pub mod tokens;

use crate::error::{Error, Result};
use crate::vault::metadata::{self, MetadataStore};
use crate::vault::secrets::SecretStore;
pub use crate::vault::status::{ConnectionState, VaultStatus};
use crate::vault::{Backend, Home};
use client::{login_key, KvClient, LoginSource, LOGIN_TOKEN_FIELD, SECRET_ID_FIELD, TOKEN_FIELD};
pub use config::{ConnectOptions, TeamAuth, TeamConfig, LOCAL_VAULT};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
pub use store::{KvMetadataStore, KvSecretStore};
pub use tokens::TeamTokens;

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

/// The backend of team vault `name` as connected in `data_dir`, logging in with the
/// engine credential in `keyring`. No request is made yet.
///
/// # Errors
/// [`Error::VaultNotConnected`], [`Error::InvalidInput`] (a CA file that no longer reads),
/// file errors.
pub fn backend(data_dir: &Path, name: &str, keyring: Arc<dyn SecretStore>) -> Result<Backend> {
    metadata::create_private_dir(data_dir)?;
    let cfg = config::find_config(data_dir, name)?;
    let client = Arc::new(client_for(&cfg, keyring)?);
    let kv: Arc<dyn KvEngine> = client.clone();
    let (retain, share) = (cfg.retain, cfg.share_tokens);
    backend_with(data_dir, name, kv, retain, share, Some((cfg, client)))
}

/// The backend of team vault `name` over any [`KvEngine`]: its document and secrets in
/// `kv` (`retain` superseded revisions kept recoverable), tokens in memory or, with
/// `share_tokens`, in the engine. `client` is the engine's client, for status checks.
///
/// # Errors
/// [`Error::Io`] if the data dir cannot be created.
pub fn backend_with(
    data_dir: &Path,
    name: &str,
    kv: Arc<dyn KvEngine>,
    retain: u32,
    share_tokens: bool,
    client: Option<(TeamConfig, Arc<KvClient>)>,
) -> Result<Backend> {
    metadata::create_private_dir(data_dir)?;
    let lock = data_dir.join(format!("team-{name}.lock"));
    let tokens = if share_tokens {
        TeamTokens::shared(name, kv.clone())
    } else {
        TeamTokens::in_memory(name)
    };
    Ok(Backend {
        meta: Box::new(KvMetadataStore::new(name, kv.clone(), lock)),
        secrets: Arc::new(KvSecretStore::new(name, kv, retain)),
        tokens: Box::new(tokens),
        home: Box::new(TeamHome {
            name: name.into(),
            client,
        }),
    })
}

/// A team vault as front ends name it, and its engine for status checks (absent with an
/// in-memory test engine).
struct TeamHome {
    name: String,
    client: Option<(TeamConfig, Arc<KvClient>)>,
}

impl Home for TeamHome {
    fn team_name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn secret_home(&self) -> String {
        format!("team vault `{}`", self.name)
    }

    fn status(&self, meta: &dyn MetadataStore) -> VaultStatus {
        match &self.client {
            Some((cfg, client)) => status_of(cfg, client.clone()),
            None => VaultStatus {
                name: self.name.clone(),
                team: true,
                address: meta.location(),
                state: ConnectionState::Connected,
                writable: Some(true),
                credentials: meta.load().ok().map(|m| m.credentials.len()),
                detail: None,
                error_code: None,
            },
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
    let mut out = vec![VaultStatus::local(data_dir, local.load().map(|m| m.credentials.len()))];
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
