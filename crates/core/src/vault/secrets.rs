//! The secret-storage seam: the OS keyring in production, memory in unit tests.

use crate::error::{Error, Result};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

/// Keyring service name of every Tillkey entry.
pub const SERVICE: &str = "tillkey";

/// The address of one secret: vault, credential, secret revision and field.
///
/// Revisions make rotation crash-safe: new secrets are written under a new revision
/// before the metadata points at it, and old revisions are deleted only afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct SecretKey {
    /// Vault id (one per data dir).
    pub vault_id: String,
    /// Credential id.
    pub credential_id: String,
    /// Secret revision.
    pub rev: u32,
    /// Field name (`token`, `client_secret`, …).
    pub field: String,
    /// How long the value lives, which decides where a store keeps it.
    #[serde(default)]
    pub class: SecretClass,
}

/// How long a stored value lives. A store may keep the two apart: the Linux keyring puts
/// ephemeral values in the Secret Service's in-memory `session` collection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretClass {
    /// A secret the merchant entered, or a refresh token: kept until deleted.
    #[default]
    Durable,
    /// A cached access token: can be fetched again, so it never needs to reach a disk.
    Ephemeral,
}

impl SecretKey {
    /// The keyring "user" (account) string of this key.
    pub fn account(&self) -> String {
        format!("{}/{}/r{}/{}", self.vault_id, self.credential_id, self.rev, self.field)
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.account())
    }
}

/// Where secret values live.
pub trait SecretStore: Send + Sync {
    /// Stores `value` under `key`, replacing any value there.
    ///
    /// # Errors
    /// [`Error::KeyringUnavailable`] or [`Error::KeyringLocked`].
    fn set(&self, key: &SecretKey, value: &SecretString) -> Result<()>;

    /// The value under `key`, or `None` if there is none.
    ///
    /// # Errors
    /// [`Error::KeyringUnavailable`] or [`Error::KeyringLocked`].
    fn get(&self, key: &SecretKey) -> Result<Option<SecretString>>;

    /// Deletes the value under `key`; deleting a missing entry is not an error.
    ///
    /// # Errors
    /// [`Error::KeyringUnavailable`] or [`Error::KeyringLocked`].
    fn delete(&self, key: &SecretKey) -> Result<()>;

    /// Whether this store already applies the vault passphrase ([`SealedStore`]), so it is
    /// not layered twice.
    fn sealing(&self) -> bool {
        false
    }
}

/// The OS keyring: the Secret Service on Linux, the Keychain on macOS, the Credential
/// Manager on Windows.
///
/// On macOS and Windows every call goes through the `keyring` crate. On Linux the process
/// keeps one Secret Service connection and encrypted session, owned by one thread that
/// serves every `KeyringStore` of the process (`secrets/secret_service.rs`), instead of
/// `keyring`'s new connection and key exchange per call; the items are exactly those
/// `keyring` 3.6 reads and writes, so either finds the other's.
///
/// Where new Linux items go: an [`SecretClass::Ephemeral`] value (a cached access token) is
/// created in the Secret Service's `session` collection when there is one, every other
/// secret (refresh tokens included) in the default (login) collection. gnome-keyring keeps
/// the session collection in memory only, whereas every item created in the login
/// collection makes it re-encrypt and rewrite its whole keyring file: a cached token is
/// short-lived and can be fetched again, so it should neither cost a disk rewrite nor ever
/// touch the disk, and after a logout (the session collection is gone) it is simply fetched
/// again. An existing item is found in whichever collection holds it and updated in place.
///
/// Every call is bounded by [`KEYRING_TIMEOUT_ENV`] (default 120 s); past it the call fails
/// with [`Error::KeyringLocked`].
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyringStore;

/// How long a keyring call may take before we call the keyring locked. A locked Secret
/// Service collection answers by showing an unlock prompt and waiting for the user; with
/// no one to answer (a headless session, a script) it would wait forever.
pub const KEYRING_TIMEOUT_ENV: &str = "TILLKEY_KEYRING_TIMEOUT_SECS";
const DEFAULT_KEYRING_TIMEOUT_SECS: u64 = 120;

/// The keyring timeout: [`KEYRING_TIMEOUT_ENV`] (whole seconds, 1 to 3600; anything else
/// is ignored) or its default.
pub(crate) fn keyring_timeout() -> std::time::Duration {
    let secs = std::env::var(KEYRING_TIMEOUT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| (1..=3600).contains(s))
        .unwrap_or(DEFAULT_KEYRING_TIMEOUT_SECS);
    std::time::Duration::from_secs(secs)
}

#[cfg(target_os = "linux")]
mod secret_service;

mod sealed;
pub use sealed::SealedStore;

#[cfg(target_os = "linux")]
impl SecretStore for KeyringStore {
    fn set(&self, key: &SecretKey, value: &SecretString) -> Result<()> {
        secret_service::call(key, secret_service::Op::Set(value.clone()), keyring_timeout()).map(|_| ())
    }

    fn get(&self, key: &SecretKey) -> Result<Option<SecretString>> {
        secret_service::call(key, secret_service::Op::Get, keyring_timeout())
    }

    fn delete(&self, key: &SecretKey) -> Result<()> {
        secret_service::call(key, secret_service::Op::Delete, keyring_timeout()).map(|_| ())
    }
}

/// The OS keyring through the `keyring` crate's own backend under `service`: one thread
/// (and, on Linux, one D-Bus connection) per call, bounded by `timeout`. The keyring on
/// other platforms, and the audit log's anchors everywhere (off the hot path, and in a
/// service of their own so nothing that lists the vault's items meets them).
#[derive(Debug, Clone, Copy)]
pub struct ServiceKeyring {
    service: &'static str,
    timeout: std::time::Duration,
}

impl ServiceKeyring {
    /// Items of `service`; a call taking longer than `timeout` fails with
    /// [`Error::KeyringLocked`].
    pub const fn new(service: &'static str, timeout: std::time::Duration) -> Self {
        ServiceKeyring { service, timeout }
    }

    /// Runs one keyring call on a worker thread, bounded by the timeout.
    fn call<T: Send + 'static>(
        &self,
        key: &SecretKey,
        op: impl FnOnce(keyring::Entry) -> keyring::Result<T> + Send + 'static,
    ) -> Result<T> {
        let (service, account) = (self.service, key.account());
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("tillkey-keyring".into())
            .spawn(move || {
                let _ = tx.send(keyring::Entry::new(service, &account).and_then(op));
            })
            .map_err(|e| Error::KeyringUnavailable(format!("cannot start a keyring thread: {e}")))?;
        match rx.recv_timeout(self.timeout) {
            Ok(r) => r.map_err(map_keyring_error),
            Err(_) => Err(Error::KeyringLocked),
        }
    }
}

/// Maps a keyring error to ours without carrying any secret (keyring errors hold none,
/// except `BadEncoding`, whose bytes we drop).
fn map_keyring_error(e: keyring::Error) -> Error {
    match e {
        keyring::Error::NoStorageAccess(inner) | keyring::Error::PlatformFailure(inner) => {
            let msg = inner.to_string();
            if msg.to_ascii_lowercase().contains("locked") {
                Error::KeyringLocked
            } else {
                Error::KeyringUnavailable(msg)
            }
        }
        keyring::Error::BadEncoding(_) => Error::KeyringUnavailable("a keyring entry is not valid UTF-8".into()),
        other => Error::KeyringUnavailable(other.to_string()),
    }
}

impl SecretStore for ServiceKeyring {
    fn set(&self, key: &SecretKey, value: &SecretString) -> Result<()> {
        let value = value.clone();
        self.call(key, move |e| e.set_password(value.expose_secret()))
    }

    fn get(&self, key: &SecretKey) -> Result<Option<SecretString>> {
        self.call(key, |e| match e.get_password() {
            Ok(v) => Ok(Some(SecretString::from(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(err),
        })
    }

    fn delete(&self, key: &SecretKey) -> Result<()> {
        self.call(key, |e| match e.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(err),
        })
    }
}

#[cfg(not(target_os = "linux"))]
impl SecretStore for KeyringStore {
    fn set(&self, key: &SecretKey, value: &SecretString) -> Result<()> {
        ServiceKeyring::new(SERVICE, keyring_timeout()).set(key, value)
    }

    fn get(&self, key: &SecretKey) -> Result<Option<SecretString>> {
        ServiceKeyring::new(SERVICE, keyring_timeout()).get(key)
    }

    fn delete(&self, key: &SecretKey) -> Result<()> {
        ServiceKeyring::new(SERVICE, keyring_timeout()).delete(key)
    }
}

/// An in-memory store for unit tests, with failure injection.
#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, SecretString>>,
    fail_after: Mutex<Option<usize>>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore").field("entries", &self.len()).finish()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every write after the next `n` successful ones fail with
    /// [`Error::KeyringUnavailable`] (simulates a keyring that goes away mid-operation).
    pub fn fail_writes_after(&self, n: usize) {
        *lock(&self.fail_after) = Some(n);
    }

    /// Number of stored entries.
    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The accounts of every stored entry (for leak checks in tests).
    pub fn accounts(&self) -> Vec<String> {
        let mut v: Vec<_> = lock(&self.entries).keys().cloned().collect();
        v.sort();
        v
    }

    fn check_write(&self) -> Result<()> {
        let mut budget = lock(&self.fail_after);
        match budget.as_mut() {
            Some(0) => Err(Error::KeyringUnavailable("injected failure".into())),
            Some(n) => {
                *n -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SecretStore for MemoryStore {
    fn set(&self, key: &SecretKey, value: &SecretString) -> Result<()> {
        self.check_write()?;
        lock(&self.entries).insert(key.account(), SecretString::from(value.expose_secret()));
        Ok(())
    }

    fn get(&self, key: &SecretKey) -> Result<Option<SecretString>> {
        Ok(lock(&self.entries)
            .get(&key.account())
            .map(|v| SecretString::from(v.expose_secret())))
    }

    fn delete(&self, key: &SecretKey) -> Result<()> {
        self.check_write()?;
        lock(&self.entries).remove(&key.account());
        Ok(())
    }
}
