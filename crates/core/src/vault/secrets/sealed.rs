//! The encryption layer: a [`SecretStore`] over the OS keyring that seals durable secrets
//! under the vault's data key while a passphrase is set (see [`crate::passphrase`]).
//!
//! Which form is in force is read from the passphrase file on every durable call, so a
//! process that opened the vault before a conversion still reads and writes the right
//! entries after it. [`SecretClass::Ephemeral`] values (cached access tokens) pass through
//! untouched, so they stay usable while the vault is locked, unless the file's
//! [`TokenPolicy`] is `locked`: then they are sealed too.

use super::{SecretClass, SecretKey, SecretStore};
use crate::error::{Error, Result};
use crate::passphrase::{self, ad, sealed_key, DataKey, TokenPolicy};
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A store that seals durable values with the data key of the vault in its data dir when
/// that vault has a passphrase, and is a plain pass-through when it has none.
///
/// The key comes from the process's [`passphrase::KeySource`] the first time a sealed
/// value is read or written, or is given with [`SealedStore::with_key`]; without one a
/// durable read or write fails with [`Error::Locked`].
pub struct SealedStore {
    inner: Arc<dyn SecretStore>,
    data_dir: PathBuf,
    /// The key at hand, with the key source's generation it came from (`None`: given with
    /// [`SealedStore::with_key`], kept for this layer's life).
    key: Mutex<Option<(DataKey, Option<u64>)>>,
}

impl fmt::Debug for SealedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedStore")
            .field("data_dir", &self.data_dir)
            .field("unlocked", &self.key.lock().map(|k| k.is_some()).unwrap_or(false))
            .finish_non_exhaustive()
    }
}

impl SealedStore {
    /// The layer over `inner` (the raw keyring) for the local vault of `data_dir`.
    pub fn new(data_dir: impl AsRef<Path>, inner: Arc<dyn SecretStore>) -> Self {
        Self {
            inner,
            data_dir: data_dir.as_ref().to_path_buf(),
            key: Mutex::new(None),
        }
    }

    /// The layer with the data key already at hand (an unlocked agent or window).
    pub fn with_key(data_dir: impl AsRef<Path>, inner: Arc<dyn SecretStore>, key: DataKey) -> Self {
        let s = Self::new(data_dir, inner);
        *s.key.lock().unwrap_or_else(|p| p.into_inner()) = Some((key, None));
        s
    }

    /// `inner` under this layer for `data_dir`, unless it already is one.
    pub fn over(data_dir: impl AsRef<Path>, inner: Arc<dyn SecretStore>) -> Arc<dyn SecretStore> {
        if inner.sealing() {
            inner
        } else {
            Arc::new(Self::new(data_dir, inner))
        }
    }

    /// The data key's id when values of `class` are sealed now, else `None`.
    fn sealed_now(&self, class: SecretClass) -> Result<Option<String>> {
        Ok(passphrase::read_file(&self.data_dir)?
            .filter(|f| f.state.sealed())
            .filter(|f| class == SecretClass::Durable || f.tokens == TokenPolicy::Locked)
            .map(|f| f.key_id))
    }

    /// The data key with id `key_id`: the one at hand while the process has not locked
    /// since it was had ([`passphrase::forget_keys`]), else from the key source.
    fn key(&self, key_id: &str) -> Result<DataKey> {
        let mut cached = self.key.lock().unwrap_or_else(|p| p.into_inner());
        let generation = passphrase::key_generation();
        if let Some((k, _)) = cached
            .as_ref()
            .filter(|(k, g)| k.id() == key_id && g.is_none_or(|g| g == generation))
        {
            return Ok(k.clone());
        }
        *cached = None;
        let k = passphrase::key_from_source(&self.data_dir)?;
        if k.id() != key_id {
            return Err(Error::Locked);
        }
        *cached = Some((k.clone(), Some(generation)));
        Ok(k)
    }

    /// Opens `sealed`, the stored form of `k`, with `key`.
    ///
    /// # Errors
    /// [`Error::SealedEntryInvalid`] when it does not authenticate as `k`'s.
    pub(crate) fn open_value(
        key: &DataKey,
        k: &SecretKey,
        sealed: Option<SecretString>,
    ) -> Result<Option<SecretString>> {
        let Some(sealed) = sealed else { return Ok(None) };
        let invalid = || Error::SealedEntryInvalid { account: k.account() };
        let plain = key.open(sealed.expose_secret(), &ad(k)).ok_or_else(invalid)?;
        let text = std::str::from_utf8(&plain).map_err(|_| invalid())?;
        Ok(Some(SecretString::from(text)))
    }
}

impl SecretStore for SealedStore {
    fn set(&self, key: &SecretKey, value: &SecretString) -> Result<()> {
        match self.sealed_now(key.class)? {
            None => self.inner.set(key, value),
            Some(id) => {
                let k = self.key(&id)?;
                let sealed = k.seal(value.expose_secret().as_bytes(), &ad(key))?;
                self.inner.set(&sealed_key(key), &SecretString::from(sealed))
            }
        }
    }

    fn get(&self, key: &SecretKey) -> Result<Option<SecretString>> {
        // A conversion may flip the form between reading the file and the entry: a miss
        // after a flip is read once more in the new form.
        let mut form = self.sealed_now(key.class)?;
        for _ in 0..2 {
            let found = match &form {
                None => self.inner.get(key)?,
                Some(id) => match self.inner.get(&sealed_key(key))? {
                    None => None,
                    sealed => return Self::open_value(&self.key(id)?, key, sealed),
                },
            };
            if found.is_some() {
                return Ok(found);
            }
            let now = self.sealed_now(key.class)?;
            if now == form {
                break;
            }
            form = now;
        }
        Ok(None)
    }

    fn delete(&self, key: &SecretKey) -> Result<()> {
        if passphrase::read_file(&self.data_dir)?.is_none() {
            return self.inner.delete(key);
        }
        self.inner.delete(&sealed_key(key))?;
        self.inner.delete(key)
    }

    fn sealing(&self) -> bool {
        true
    }
}
