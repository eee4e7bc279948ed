//! A team vault's token cache: access and refresh tokens of team credentials live in this
//! process's memory (the default) or, when the connection shares tokens, in one engine
//! entry per credential revision (`{prefix}/tokens/{id}/r{rev}`). Never in the local
//! keyring, a file or the shared vault document.

use super::KvEngine;
use crate::dto::TokenInfo;
use crate::error::{Error, Result};
use crate::vault::metadata::{CredentialRecord, Metadata};
use crate::vault::tokens::{CachedToken, InfoHome, TokenCache, TokenField};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The KV path of a shared token entry.
fn token_path(id: &str, rev: u32) -> String {
    format!("tokens/{id}/r{rev}")
}

#[derive(Serialize)]
struct SharedTokenOut<'a> {
    info: &'a TokenInfo,
    #[serde(serialize_with = "expose_opt")]
    access: Option<&'a SecretString>,
    #[serde(serialize_with = "expose_opt")]
    refresh: Option<&'a SecretString>,
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
    #[serde(default)]
    access: Option<SecretString>,
    #[serde(default)]
    refresh: Option<SecretString>,
}

impl From<SharedTokenIn> for CachedToken {
    fn from(t: SharedTokenIn) -> Self {
        // Older builds wrote a discarded access token as "".
        let present = |v: Option<SecretString>| v.filter(|v| !v.expose_secret().is_empty());
        CachedToken {
            info: t.info,
            access: present(t.access),
            refresh: present(t.refresh),
        }
    }
}

/// Where a team vault caches tokens.
enum Home {
    /// In this process's memory only.
    Memory(Mutex<HashMap<(String, u32), CachedToken>>),
    /// In the engine, shared by every machine (`--share-tokens`).
    Shared(Arc<dyn KvEngine>),
}

/// The token cache of team vault `vault`.
pub struct TeamTokens {
    vault: String,
    home: Home,
}

impl TeamTokens {
    /// Tokens of `vault` in this process's memory.
    pub fn in_memory(vault: &str) -> Self {
        Self {
            vault: vault.into(),
            home: Home::Memory(Mutex::default()),
        }
    }

    /// Tokens of `vault` in the engine, shared by every machine.
    pub fn shared(vault: &str, kv: Arc<dyn KvEngine>) -> Self {
        Self {
            vault: vault.into(),
            home: Home::Shared(kv),
        }
    }

    fn load(&self, id: &str, rev: u32) -> Result<Option<CachedToken>> {
        match &self.home {
            Home::Memory(m) => Ok(m
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&(id.to_string(), rev))
                .cloned()),
            Home::Shared(kv) => match kv.read(&token_path(id, rev))? {
                Some(e) => Ok(Some(
                    e.parse::<SharedTokenIn>(&self.vault, "a shared token entry")?.into(),
                )),
                None => Ok(None),
            },
        }
    }

    /// Stores `t`; a concurrent writer's token (another machine's, just as good) wins.
    fn save(&self, id: &str, rev: u32, t: CachedToken) -> Result<()> {
        match &self.home {
            Home::Memory(m) => {
                m.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert((id.to_string(), rev), t);
                Ok(())
            }
            Home::Shared(kv) => {
                let path = token_path(id, rev);
                let doc = serde_json::to_string(&SharedTokenOut {
                    info: &t.info,
                    access: t.access.as_ref(),
                    refresh: t.refresh.as_ref(),
                })
                .map_err(|e| Error::internal(format!("cannot encode a shared token ({e})")))?;
                let cas = kv.current(&path)?.map(|c| c.version).unwrap_or(0);
                match kv.write(&path, &SecretString::from(doc), cas) {
                    Err(Error::Conflict { .. }) => Ok(()),
                    other => other.map(|_| ()),
                }
            }
        }
    }

    fn remove(&self, id: &str, rev: u32) -> Result<()> {
        match &self.home {
            Home::Memory(m) => {
                m.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&(id.to_string(), rev));
                Ok(())
            }
            Home::Shared(kv) => kv.destroy(&token_path(id, rev)),
        }
    }
}

impl TokenCache for TeamTokens {
    fn info(&self, r: &CredentialRecord) -> Result<Option<TokenInfo>> {
        Ok(self.load(&r.id, r.secret_rev)?.map(|t| t.info))
    }

    fn get(&self, _m: &Metadata, r: &CredentialRecord, which: TokenField) -> Result<Option<SecretString>> {
        Ok(self.load(&r.id, r.secret_rev)?.and_then(|t| match which {
            TokenField::Access => t.access,
            TokenField::Refresh => t.refresh,
        }))
    }

    fn put(&self, _m: &Metadata, id: &str, rev: u32, mut token: CachedToken) -> Result<InfoHome> {
        if token.refresh.is_none() {
            // No new refresh token: the stored one stays valid.
            token.refresh = self.load(id, rev)?.and_then(|t| t.refresh);
        }
        self.save(id, rev, token)?;
        Ok(InfoHome::Cache)
    }

    fn forget(&self, _m: &Metadata, id: &str, rev: u32, refresh_too: bool) -> Result<()> {
        if refresh_too {
            return self.remove(id, rev);
        }
        match self.load(id, rev)? {
            Some(t) if t.refresh.is_some() => {
                // Keep the refresh token; the access token is gone and due for renewal.
                let mut info = t.info;
                info.renew_at = info.obtained_at;
                self.save(
                    id,
                    rev,
                    CachedToken {
                        info,
                        access: None,
                        refresh: t.refresh,
                    },
                )
            }
            Some(_) => self.remove(id, rev),
            None => Ok(()),
        }
    }
}
