//! Cached tokens: where a vault keeps access and refresh tokens (a [`TokenCache`] its
//! backend supplies), and the vault's token operations over it, which are the same for
//! every backend.
//!
//! The local vault caches token values in the OS keyring ([`KeyringTokens`]: access tokens
//! as [`SecretClass::Ephemeral`], so on Linux they never reach the disk) and their metadata
//! in its document. A team vault keeps both in process memory, or in the engine when the
//! connection shares tokens (`team::tokens`), never in the shared document.

use super::metadata::{create_private_dir, lock_file, CredentialRecord, Metadata};
use super::secrets::{SecretClass, SecretKey, SecretStore};
use super::{check, Vault};
use crate::dto::TokenInfo;
use crate::error::{Error, Result};
use secrecy::SecretString;
use std::path::PathBuf;
use std::sync::Arc;

/// Keyring field of a cached access token.
pub const ACCESS_TOKEN_FIELD: &str = "_access_token";
/// Keyring field of a refresh token.
pub const REFRESH_TOKEN_FIELD: &str = "_refresh_token";

/// Which of a credential's cached tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenField {
    /// The access token.
    Access,
    /// The refresh token.
    Refresh,
}

impl TokenField {
    /// Its name in keyring entries and pending-cleanup lists.
    pub fn name(self) -> &'static str {
        match self {
            TokenField::Access => ACCESS_TOKEN_FIELD,
            TokenField::Refresh => REFRESH_TOKEN_FIELD,
        }
    }

    /// The token field called `name` in keyring entries and pending-cleanup lists.
    pub fn from_name(name: &str) -> Option<Self> {
        [TokenField::Access, TokenField::Refresh]
            .into_iter()
            .find(|t| t.name() == name)
    }

    /// How long its value lives: access tokens can be fetched again; a refresh token may
    /// be the only way back in without the password.
    pub fn class(self) -> SecretClass {
        match self {
            TokenField::Access => SecretClass::Ephemeral,
            TokenField::Refresh => SecretClass::Durable,
        }
    }
}

/// A credential's cached tokens and their metadata. The access token is absent when it
/// was discarded (after a 401) while the refresh token stays.
#[derive(Clone)]
pub struct CachedToken {
    /// When it was obtained, expires and is renewed.
    pub info: TokenInfo,
    /// The access token.
    pub access: Option<SecretString>,
    /// The refresh token.
    pub refresh: Option<SecretString>,
}

/// Where a token's metadata lives after [`TokenCache::put`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfoHome {
    /// In the vault document: the caller records it in the credential and commits.
    Document,
    /// In the cache itself: nothing to commit.
    Cache,
}

/// Where a vault caches tokens. Every method is given the document the credential was
/// read from (`m`), so a cache that needs the vault id reads no more.
pub trait TokenCache: Send + Sync {
    /// The metadata of `r`'s cached token (the document's own, where the cache keeps it
    /// there).
    ///
    /// # Errors
    /// Backend errors.
    fn info(&self, r: &CredentialRecord) -> Result<Option<TokenInfo>>;

    /// `r`'s cached access or refresh token.
    ///
    /// # Errors
    /// Backend errors.
    fn get(&self, m: &Metadata, r: &CredentialRecord, which: TokenField) -> Result<Option<SecretString>>;

    /// Caches `token` for credential `id` at revision `rev`. A refresh token of `None`
    /// leaves a stored one in place.
    ///
    /// # Errors
    /// Backend errors.
    fn put(&self, m: &Metadata, id: &str, rev: u32, token: CachedToken) -> Result<InfoHome>;

    /// Drops the access token of `id` at `rev`, and the refresh token with `refresh_too`.
    ///
    /// # Errors
    /// Backend errors.
    fn forget(&self, m: &Metadata, id: &str, rev: u32, refresh_too: bool) -> Result<()>;
}

/// The local vault's token cache: values in a [`SecretStore`] (the OS keyring), metadata
/// in the document.
pub struct KeyringTokens {
    secrets: Arc<dyn SecretStore>,
}

impl KeyringTokens {
    /// A cache over `secrets`.
    pub fn new(secrets: Arc<dyn SecretStore>) -> Self {
        Self { secrets }
    }
}

/// The keyring address of a cached token.
pub(crate) fn token_key(m: &Metadata, id: &str, rev: u32, which: TokenField) -> SecretKey {
    SecretKey {
        vault_id: m.vault_id.clone(),
        credential_id: id.into(),
        rev,
        field: which.name().into(),
        class: which.class(),
    }
}

impl TokenCache for KeyringTokens {
    fn info(&self, r: &CredentialRecord) -> Result<Option<TokenInfo>> {
        Ok(r.token.clone())
    }

    fn get(&self, m: &Metadata, r: &CredentialRecord, which: TokenField) -> Result<Option<SecretString>> {
        self.secrets.get(&token_key(m, &r.id, r.secret_rev, which))
    }

    fn put(&self, m: &Metadata, id: &str, rev: u32, token: CachedToken) -> Result<InfoHome> {
        if let Some(a) = &token.access {
            self.secrets.set(&token_key(m, id, rev, TokenField::Access), a)?;
        }
        if let Some(r) = &token.refresh {
            self.secrets.set(&token_key(m, id, rev, TokenField::Refresh), r)?;
        }
        Ok(InfoHome::Document)
    }

    fn forget(&self, m: &Metadata, id: &str, rev: u32, refresh_too: bool) -> Result<()> {
        self.secrets.delete(&token_key(m, id, rev, TokenField::Access))?;
        if refresh_too {
            self.secrets.delete(&token_key(m, id, rev, TokenField::Refresh))?;
        }
        Ok(())
    }
}

impl Vault {
    /// A record's cached access or refresh token.
    ///
    /// # Errors
    /// Keyring (or team engine) errors.
    pub fn cached(&self, r: &CredentialRecord, which: TokenField) -> Result<Option<SecretString>> {
        self.tokens.get(&self.meta.load()?, r, which)
    }

    /// Caches a token for the record `id` at revision `rev`: the token (and a new refresh
    /// token, if one came) in the cache first, then its metadata where the cache keeps it
    /// in the document. If the credential was rotated or removed meanwhile, nothing is
    /// stored.
    ///
    /// # Errors
    /// Keyring (or team engine) and file errors.
    pub fn store_token(
        &self,
        id: &str,
        rev: u32,
        access: &SecretString,
        refresh: Option<&SecretString>,
        info: TokenInfo,
    ) -> Result<()> {
        let lock = self.meta.lock()?;
        let mut m = lock.load()?;
        let Some(idx) = m.credentials.iter().position(|c| c.id == id && c.secret_rev == rev) else {
            return Ok(());
        };
        let token = CachedToken {
            info: info.clone(),
            access: Some(access.clone()),
            refresh: refresh.cloned(),
        };
        match self.tokens.put(&m, id, rev, token)? {
            InfoHome::Document => {
                if refresh.is_some() {
                    m.credentials[idx].refresh_token_set_at = Some(info.obtained_at);
                }
                m.credentials[idx].token = Some(info);
                lock.save(&m)
            }
            InfoHome::Cache => Ok(()),
        }
    }

    /// Discards the cached access token of record `id` (after a 401, or a revocation);
    /// with `refresh_too`, the refresh token as well.
    ///
    /// # Errors
    /// Keyring (or team engine) and file errors.
    pub fn clear_token(&self, id: &str, rev: u32, refresh_too: bool) -> Result<()> {
        let lock = self.meta.lock()?;
        let mut m = lock.load()?;
        // Metadata first: a crash then leaves an unused cached token, never metadata that
        // claims a token the cache no longer has.
        if let Some(c) = m
            .credentials
            .iter_mut()
            .find(|c| c.id == id && c.secret_rev == rev && c.token.is_some())
        {
            c.token = None;
            lock.save(&m)?;
        }
        self.tokens.forget(&m, id, rev, refresh_too)
    }

    /// An exclusive per-credential lock, held while a token is fetched so that the app and
    /// any number of CLI processes make one token request at a time per credential.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn token_lock(&self, id: &str) -> Result<std::fs::File> {
        lock_file(&self.token_lock_path(id)?)
    }

    /// `locks/{id}.lock` in the data dir. Ids come from a validated document; the check
    /// here keeps the path inside the data dir regardless.
    pub(super) fn token_lock_path(&self, id: &str) -> Result<PathBuf> {
        if !check::is_uuid(id) {
            return Err(Error::invalid("credential id", "is not a UUID"));
        }
        let dir = self.data_dir().join("locks");
        create_private_dir(&dir)?;
        Ok(dir.join(format!("{id}.lock")))
    }
}
