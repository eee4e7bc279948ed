//! A team vault's document and secret entries in the KV v2 engine, behind the vault's
//! [`MetadataStore`] and [`SecretStore`] seams.

use super::{KvEngine, DOC_PATH};
use crate::error::{Error, Result};
use crate::vault::metadata::{lock_file, Metadata, MetadataGuard, MetadataStore, WriteLock, SCHEMA_VERSION};
use crate::vault::secrets::{SecretKey, SecretStore};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::path::PathBuf;
use std::sync::Arc;

/// How long a team vault's pending entry that may belong to another machine's write in
/// progress (an add, a rotation being tested) is left alone before it is swept.
pub const TEAM_PENDING_GRACE_SECS: i64 = 15 * 60;

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

    fn changed_meanwhile(&self, _name: &str, _reason: &str) -> Error {
        Error::Conflict {
            vault: self.name.clone(),
        }
    }

    /// Other machines write at the same time: a pending entry that is not certainly dead
    /// may be another machine's write in progress.
    fn pending_grace(&self) -> chrono::Duration {
        chrono::Duration::seconds(TEAM_PENDING_GRACE_SECS)
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
    /// Secrets of team vault `name` in `kv`; `retain` superseded revisions are kept
    /// recoverable.
    pub fn new(name: &str, kv: Arc<dyn KvEngine>, retain: u32) -> Self {
        Self {
            name: name.into(),
            kv,
            retain,
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

impl SecretStore for KvSecretStore {
    fn set(&self, key: &SecretKey, value: &SecretString) -> Result<()> {
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
        match self.kv.read(&Self::path(key, key.rev))? {
            Some(e) => Ok(Some(e.parse::<SecretDoc>(&self.name, "a secret entry")?.value)),
            None => Ok(None),
        }
    }

    fn delete(&self, key: &SecretKey) -> Result<()> {
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
