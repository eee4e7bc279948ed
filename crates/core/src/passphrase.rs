//! The vault passphrase: an optional key over the local vault's long-lived secrets.
//!
//! With a passphrase set, every [`SecretClass::Durable`] value of this machine's vault (the
//! secrets merchants enter, refresh tokens, and the team engines' logins kept in the local
//! keyring) is sealed with XChaCha20-Poly1305 under a random 256-bit **data key** before it
//! reaches the keyring ([`crate::vault::secrets::SealedStore`]). The data key is wrapped
//! (XChaCha20-Poly1305 again) by a key derived from the passphrase with Argon2id; the
//! parameters, salt and wrapped key live in [`FILE_NAME`] beside `vault.json` (0600,
//! replaced atomically). No key or plaintext is ever written to a file.
//!
//! Cached **access tokens** ([`SecretClass::Ephemeral`]) follow the file's [`TokenPolicy`]:
//! by default (`usable`) they are not sealed and stay usable while the vault is locked,
//! until they expire, so running scripts keep working (on Linux they live only in the
//! Secret Service's in-memory session collection); fetching a new one needs the key. With
//! `locked` they are sealed like the rest, and a cached token needs the key too (tokens
//! cached before are dropped at `set`: they can be fetched again).
//!
//! Argon2id parameters ([`DEFAULT_PARAMS`]): 64 MiB of memory, 4 passes, 1 lane, 32-byte
//! output, 16-byte random salt: 0.26–0.29 s on the project's build machine (2 cores,
//! measured with the optimised argon2 build tests use), above the 250 ms floor; they are stored in the file, so a later
//! Tillkey can raise them at the next `passphrase change`.
//!
//! # Conversions are crash-safe
//! Sealed values live under their own keyring accounts (the field name plus
//! [`SEALED_SUFFIX`]), so both forms of a vault can exist side by side. The file's
//! [`State`] says which form is authoritative; it is replaced atomically, and every
//! conversion runs under the vault's write lock:
//!
//! * `set`: file written as `sealing` (plain authoritative) → sealed copies written →
//!   `sealed_cleanup` (sealed authoritative) → plain entries deleted → `sealed`.
//! * `remove`: `unsealing` (sealed authoritative) → plain copies written → `plain_cleanup`
//!   (plain authoritative) → sealed entries deleted → file deleted.
//! * `change`: only the wrapped data key changes: one atomic file write.
//!
//! A process killed at any point leaves a file in a transitional state; the next open of
//! the vault ([`recover`]) rolls `sealing` and `unsealing` back (deleting the copies that
//! were being made) and completes the two cleanups. Neither needs the passphrase.
//!
//! # Front ends
//! A front end that can obtain the key (a terminal prompt, the agent) registers a
//! [`KeySource`] with [`set_key_source`]; the sealed store asks it the first time a sealed
//! value is needed, so a call that only reads a cached access token never asks. Without a
//! source (or when it declines) the operation fails with [`Error::Locked`].

use crate::error::{Error, Result};
use crate::vault::metadata::{write_atomic, CredentialRecord, Metadata, MetadataFile};
use crate::vault::secrets::{SealedStore, SecretClass, SecretKey, SecretStore};
use crate::vault::team;
use crate::vault::TokenField;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use zeroize::Zeroizing;

/// The passphrase file in the data dir.
pub const FILE_NAME: &str = "passphrase.json";
/// Consecutive wrong passphrases and when the last one was typed (for the back-off).
pub const FAILURES_FILE_NAME: &str = "passphrase-failures.json";
/// Appended to a field name to form the keyring account of its sealed value.
pub const SEALED_SUFFIX: &str = ".sealed";
/// Longest back-off after wrong passphrases, in seconds.
pub const MAX_BACKOFF_SECS: u64 = 30;

const FILE_VERSION: u32 = 1;
const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const SALT_LEN: usize = 16;
const WRAP_AD: &str = "tillkey passphrase v1 data key";

/// Argon2id cost parameters (as stored in the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

/// The parameters new passphrases get: 64 MiB, 4 passes, 1 lane (≈0.27 s here).
pub const DEFAULT_PARAMS: KdfParams = KdfParams {
    memory_kib: 64 * 1024,
    iterations: 4,
    parallelism: 1,
};

/// Which form of the vault's secrets is authoritative (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// `set` is writing sealed copies; the plain entries are authoritative.
    Sealing,
    /// Sealed copies are complete and authoritative; plain entries are being deleted.
    SealedCleanup,
    /// Sealed: the steady state with a passphrase.
    Sealed,
    /// `remove` is writing plain copies; the sealed entries are authoritative.
    Unsealing,
    /// Plain copies are complete and authoritative; sealed entries are being deleted.
    PlainCleanup,
}

impl State {
    /// Whether sealed entries are the ones to read and write in this state.
    pub fn sealed(self) -> bool {
        matches!(self, State::SealedCleanup | State::Sealed | State::Unsealing)
    }
}

/// Whether cached access tokens stay usable while the vault is locked (chosen at
/// `passphrase set`, kept by `change`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenPolicy {
    /// Not sealed: usable until they expire (the default).
    #[default]
    Usable,
    /// Sealed like every other secret: a locked vault hands out no token at all.
    Locked,
}

/// The passphrase file: no secret in it, only what opens the data key with the passphrase.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PassphraseFile {
    /// Format version.
    pub version: u32,
    /// Which form is authoritative.
    pub state: State,
    /// Random id of the data key (hex), so a cached key is known to be this vault's.
    pub key_id: String,
    /// Always `argon2id` (version 0x13).
    pub kdf: String,
    /// Argon2id parameters.
    pub params: KdfParams,
    /// Argon2id salt (base64).
    pub salt: String,
    /// Nonce of the wrapped data key (base64, 24 bytes).
    pub nonce: String,
    /// The wrapped data key (base64: 32 bytes of key and a 16-byte tag).
    pub wrapped_key: String,
    /// Whether cached access tokens are sealed too.
    #[serde(default, rename = "tokensWhileLocked")]
    pub tokens: TokenPolicy,
    /// Minutes without a Tillkey request after which the local agent forgets the data key
    /// (0: never). Kept by `change`.
    #[serde(default = "default_auto_lock")]
    pub auto_lock_minutes: u32,
}

/// The auto-lock time of a vault whose file does not say: 15 minutes.
pub const DEFAULT_AUTO_LOCK_MINUTES: u32 = 15;

/// The longest auto-lock time accepted: a week.
pub const MAX_AUTO_LOCK_MINUTES: u32 = 7 * 24 * 60;

fn default_auto_lock() -> u32 {
    DEFAULT_AUTO_LOCK_MINUTES
}

impl fmt::Debug for PassphraseFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PassphraseFile")
            .field("state", &self.state)
            .field("key_id", &self.key_id)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// The unwrapped data key of a vault. Zeroed when dropped; never printed.
#[derive(Clone)]
pub struct DataKey {
    key: Arc<Zeroizing<[u8; KEY_LEN]>>,
    id: String,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey").field("id", &self.id).finish_non_exhaustive()
    }
}

impl DataKey {
    /// The key's id (as in the passphrase file).
    pub fn id(&self) -> &str {
        &self.id
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&**self.key).into())
    }

    /// Seals `plain` with associated data `ad`: base64 of a fresh random nonce and the
    /// ciphertext with its tag.
    pub(crate) fn seal(&self, plain: &[u8], ad: &[u8]) -> Result<String> {
        let nonce = random::<NONCE_LEN>()?;
        let ct = self
            .cipher()
            .encrypt(XNonce::from_slice(&*nonce), Payload { msg: plain, aad: ad })
            .map_err(|_| Error::internal("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(B64.encode(out))
    }

    /// Opens what [`DataKey::seal`] made with the same `ad`; `None` if it does not
    /// authenticate.
    pub(crate) fn open(&self, sealed: &str, ad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let bytes = B64.decode(sealed.trim()).ok()?;
        if bytes.len() < NONCE_LEN + 16 {
            return None;
        }
        let (nonce, ct) = bytes.split_at(NONCE_LEN);
        self.cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: ad })
            .ok()
            .map(Zeroizing::new)
    }
}

/// Where a process gets the data key when a sealed value is needed: a terminal prompt (the
/// CLI), the agent, the window's unlock. Returns [`Error::Locked`] when it cannot.
pub trait KeySource: Send + Sync {
    /// The data key of the vault in `data_dir` (verified: use [`unlock`]).
    ///
    /// # Errors
    /// [`Error::Locked`] when no key can be had; [`Error::WrongPassphrase`], file errors.
    fn data_key(&self, data_dir: &Path) -> Result<DataKey>;
}

static KEY_SOURCE: RwLock<Option<Arc<dyn KeySource>>> = RwLock::new(None);

/// Bumped by [`forget_keys`]: a key a sealed store had from the source before is asked for
/// again.
static KEY_GENERATION: AtomicU64 = AtomicU64::new(0);

/// Registers this process's [`KeySource`], replacing any earlier one.
pub fn set_key_source(source: Arc<dyn KeySource>) {
    *KEY_SOURCE.write().unwrap_or_else(|p| p.into_inner()) = Some(source);
    forget_keys();
}

/// Makes every open vault of this process forget the data key it had from the
/// [`KeySource`], so the next sealed value asks the source again: call it when the source
/// stops handing out a key (the window or the agent locks).
pub fn forget_keys() {
    KEY_GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// The current key generation (see [`forget_keys`]).
pub(crate) fn key_generation() -> u64 {
    KEY_GENERATION.load(Ordering::SeqCst)
}

/// The key of the vault in `data_dir` from the registered [`KeySource`].
///
/// # Errors
/// [`Error::Locked`] without a source, and what the source returns.
pub(crate) fn key_from_source(data_dir: &Path) -> Result<DataKey> {
    let src = KEY_SOURCE.read().unwrap_or_else(|p| p.into_inner()).clone();
    match src {
        Some(s) => s.data_key(data_dir),
        None => Err(Error::Locked),
    }
}

/// Path of the passphrase file of `data_dir`.
pub fn file_path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// Reads the passphrase file of `data_dir`; `None` when the vault has no passphrase.
///
/// # Errors
/// [`Error::PassphraseFileInvalid`], [`Error::Io`].
pub fn read_file(data_dir: &Path) -> Result<Option<PassphraseFile>> {
    let path = file_path(data_dir);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("cannot read", &path, e)),
    };
    let invalid = |detail: String| Error::PassphraseFileInvalid {
        path: path.clone(),
        detail,
    };
    if bytes.len() > 4096 {
        return Err(invalid("larger than 4 KiB".into()));
    }
    let f: PassphraseFile =
        serde_json::from_slice(&bytes).map_err(|e| invalid(format!("line {} column {}", e.line(), e.column())))?;
    f.check().map_err(invalid)?;
    Ok(Some(f))
}

impl PassphraseFile {
    /// Checks what a hostile or broken file could hold: version, algorithm, parameter
    /// ranges (a huge memory cost would be a denial of service) and lengths.
    fn check(&self) -> std::result::Result<(), String> {
        if self.version != FILE_VERSION {
            return Err(format!("version {} (this Tillkey reads {FILE_VERSION})", self.version));
        }
        if self.kdf != "argon2id" {
            return Err("kdf is not argon2id".into());
        }
        let p = self.params;
        if !(8 * 1024..=1024 * 1024).contains(&p.memory_kib)
            || !(1..=20).contains(&p.iterations)
            || !(1..=16).contains(&p.parallelism)
        {
            return Err("Argon2id parameters out of range".into());
        }
        let len = |s: &str| B64.decode(s).map(|v| v.len()).ok();
        if !len(&self.salt).is_some_and(|l| (SALT_LEN..=64).contains(&l)) {
            return Err("bad salt".into());
        }
        if len(&self.nonce) != Some(NONCE_LEN) || len(&self.wrapped_key) != Some(KEY_LEN + 16) {
            return Err("bad wrapped key".into());
        }
        if self.key_id.len() != 32 || !self.key_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("bad key id".into());
        }
        Ok(())
    }

    /// Unwraps the data key with `passphrase`.
    fn unwrap_key(&self, passphrase: &SecretString) -> Result<DataKey> {
        let salt = B64.decode(&self.salt).map_err(|_| Error::internal("salt"))?;
        let kek = derive(passphrase, &salt, self.params)?;
        let nonce = B64.decode(&self.nonce).map_err(|_| Error::internal("nonce"))?;
        let wrapped = B64
            .decode(&self.wrapped_key)
            .map_err(|_| Error::internal("wrapped key"))?;
        let cipher = XChaCha20Poly1305::new((&*kek).into());
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    XNonce::from_slice(&nonce),
                    Payload {
                        msg: &wrapped,
                        aad: wrap_ad(&self.key_id).as_bytes(),
                    },
                )
                .map_err(|_| Error::WrongPassphrase)?,
        );
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        key.copy_from_slice(&plain);
        Ok(DataKey {
            key: Arc::new(key),
            id: self.key_id.clone(),
        })
    }

    /// A file in `state` holding `key` wrapped under `passphrase` (fresh salt and nonce).
    fn wrap(state: State, key: &DataKey, passphrase: &SecretString) -> Result<Self> {
        let salt = random::<SALT_LEN>()?;
        let kek = derive(passphrase, &*salt, DEFAULT_PARAMS)?;
        let nonce = random::<NONCE_LEN>()?;
        let wrapped = XChaCha20Poly1305::new((&*kek).into())
            .encrypt(
                XNonce::from_slice(&*nonce),
                Payload {
                    msg: &**key.key,
                    aad: wrap_ad(&key.id).as_bytes(),
                },
            )
            .map_err(|_| Error::internal("wrapping the data key failed"))?;
        Ok(Self {
            version: FILE_VERSION,
            state,
            key_id: key.id.clone(),
            kdf: "argon2id".into(),
            params: DEFAULT_PARAMS,
            salt: B64.encode(*salt),
            nonce: B64.encode(*nonce),
            wrapped_key: B64.encode(wrapped),
            tokens: TokenPolicy::Usable,
            auto_lock_minutes: DEFAULT_AUTO_LOCK_MINUTES,
        })
    }

    fn with_state(&self, state: State) -> Self {
        Self { state, ..self.clone() }
    }

    fn save(&self, data_dir: &Path) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(Error::internal)?;
        bytes.push(b'\n');
        write_atomic(&file_path(data_dir), &bytes)
    }
}

fn wrap_ad(key_id: &str) -> String {
    format!("{WRAP_AD} {key_id}")
}

/// Argon2id of `passphrase` with `salt`: the key-encryption key.
fn derive(passphrase: &SecretString, salt: &[u8], p: KdfParams) -> Result<Zeroizing<[u8; KEY_LEN]>> {
    let params = argon2::Params::new(p.memory_kib, p.iterations, p.parallelism, Some(KEY_LEN))
        .map_err(|e| Error::internal(format!("Argon2id parameters: {e}")))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    argon
        .hash_password_into(passphrase.expose_secret().as_bytes(), salt, &mut *out)
        .map_err(|e| Error::internal(format!("Argon2id: {e}")))?;
    Ok(out)
}

fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>> {
    let mut b = Zeroizing::new([0u8; N]);
    getrandom::fill(&mut *b).map_err(|e| Error::internal(format!("no random numbers: {e}")))?;
    Ok(b)
}

/// Whether the vault in `data_dir` has a passphrase (in any state but mid-`set`, whose
/// plain entries are still the ones in force).
///
/// # Errors
/// As [`read_file`].
pub fn is_set(data_dir: &Path) -> Result<bool> {
    Ok(read_file(data_dir)?.is_some_and(|f| f.state.sealed()))
}

/// Opens the data key of the vault in `data_dir` with `passphrase`: the call the agent and
/// the front ends make to unlock. Consecutive wrong passphrases back off: the first wrong
/// try costs nothing extra, each next one waits 1, 2, 4 … up to [`MAX_BACKOFF_SECS`]
/// seconds after the previous wrong one before it is even checked (recorded in
/// [`FAILURES_FILE_NAME`], so a new process waits too).
///
/// # Errors
/// [`Error::InvalidInput`] when the vault has no passphrase, [`Error::WrongPassphrase`],
/// [`Error::PassphraseFileInvalid`], file errors.
pub fn unlock(data_dir: &Path, passphrase: &SecretString) -> Result<DataKey> {
    let file = read_file(data_dir)?.filter(|f| f.state.sealed()).ok_or_else(not_set)?;
    check_with_backoff(data_dir, &file, passphrase)
}

fn not_set() -> Error {
    Error::invalid(
        "passphrase",
        "this vault has no passphrase (set one with `tillkey passphrase set`)",
    )
}

#[derive(Serialize, Deserialize, Default)]
struct Failures {
    count: u32,
    last: Option<chrono::DateTime<chrono::Utc>>,
}

fn check_with_backoff(data_dir: &Path, file: &PassphraseFile, passphrase: &SecretString) -> Result<DataKey> {
    let path = data_dir.join(FAILURES_FILE_NAME);
    let failures: Failures = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    if let (Some(last), n @ 1..) = (failures.last, failures.count) {
        let wait = backoff_secs(n);
        let elapsed = (chrono::Utc::now() - last).num_milliseconds().max(0) as u64;
        if let Some(rest) = (wait * 1000).checked_sub(elapsed) {
            std::thread::sleep(std::time::Duration::from_millis(rest.min(MAX_BACKOFF_SECS * 1000)));
        }
    }
    match file.unwrap_key(passphrase) {
        Ok(k) => {
            if failures.count > 0 {
                let _ = std::fs::remove_file(&path);
            }
            Ok(k)
        }
        Err(Error::WrongPassphrase) => {
            let next = Failures {
                count: failures.count.saturating_add(1),
                last: Some(chrono::Utc::now()),
            };
            write_atomic(&path, &serde_json::to_vec(&next).map_err(Error::internal)?)?;
            Err(Error::WrongPassphrase)
        }
        Err(e) => Err(e),
    }
}

/// Seconds a try waits after `n` consecutive wrong passphrases: 1, 2, 4 … capped.
pub fn backoff_secs(n: u32) -> u64 {
    if n == 0 {
        0
    } else {
        (1u64 << (n - 1).min(10)).min(MAX_BACKOFF_SECS)
    }
}

/// Sets a passphrase on the plain vault of `data_dir` whose secrets are in `store` (the
/// raw OS keyring, not a sealed layer): every durable secret is sealed under a new data
/// key (see the module docs for the crash-safe order), cached access tokens as the
/// default [`TokenPolicy`] says. Returns the data key.
///
/// # Errors
/// [`Error::InvalidInput`] when a passphrase is already set or `passphrase` is empty;
/// store and file errors (the vault stays plain: the next open rolls back).
pub fn set(data_dir: &Path, store: &dyn SecretStore, passphrase: &SecretString) -> Result<DataKey> {
    set_with(data_dir, store, passphrase, TokenPolicy::default())
}

/// [`set`] with the policy for cached access tokens: with [`TokenPolicy::Locked`] the ones
/// cached now are dropped (they can be fetched again) and new ones are sealed.
///
/// # Errors
/// As [`set`].
pub fn set_with(
    data_dir: &Path,
    store: &dyn SecretStore,
    passphrase: &SecretString,
    tokens: TokenPolicy,
) -> Result<DataKey> {
    check_new(passphrase)?;
    let meta = MetadataFile::open(data_dir)?;
    let lock = meta.lock()?;
    recover_locked(data_dir, store)?;
    if read_file(data_dir)?.is_some() {
        return Err(Error::invalid(
            "passphrase",
            "this vault already has a passphrase (use `tillkey passphrase change`)",
        ));
    }
    let key = DataKey {
        key: Arc::new(random::<KEY_LEN>()?),
        id: hex(&*random::<16>()?),
    };
    let file = PassphraseFile {
        tokens,
        ..PassphraseFile::wrap(State::Sealing, &key, passphrase)?
    };
    file.save(data_dir)?;
    let m = lock.load()?;
    let keys = durable_keys(data_dir, &m)?;
    for k in &keys {
        if let Some(v) = store.get(k)? {
            store.set(
                &sealed_key(k),
                &SecretString::from(key.seal(v.expose_secret().as_bytes(), &ad(k))?),
            )?;
        }
    }
    file.with_state(State::SealedCleanup).save(data_dir)?;
    for k in plain_leftovers(&file, &m, keys) {
        store.delete(&k)?;
    }
    file.with_state(State::Sealed).save(data_dir)?;
    drop(lock);
    Ok(key)
}

/// Changes the passphrase: only the data key is wrapped again (no secret is rewritten), in
/// one atomic write of the file.
///
/// # Errors
/// [`Error::InvalidInput`] (no passphrase set, empty new one), [`Error::WrongPassphrase`],
/// file errors.
pub fn change(data_dir: &Path, store: &dyn SecretStore, old: &SecretString, new: &SecretString) -> Result<()> {
    check_new(new)?;
    let meta = MetadataFile::open(data_dir)?;
    let _lock = meta.lock()?;
    recover_locked(data_dir, store)?;
    let file = read_file(data_dir)?.ok_or_else(not_set)?;
    let key = check_with_backoff(data_dir, &file, old)?;
    PassphraseFile {
        tokens: file.tokens,
        auto_lock_minutes: file.auto_lock_minutes,
        ..PassphraseFile::wrap(State::Sealed, &key, new)?
    }
    .save(data_dir)
}

/// The agent's auto-lock time of the vault in `data_dir`, or `None` when it has no
/// passphrase (nothing to lock). `Some(0)` means never.
///
/// # Errors
/// As [`read_file`].
pub fn auto_lock_minutes(data_dir: &Path) -> Result<Option<u32>> {
    Ok(read_file(data_dir)?
        .filter(|f| f.state.sealed())
        .map(|f| f.auto_lock_minutes))
}

/// Sets the agent's auto-lock time (`0`: never) in one atomic write of the file. Needs no
/// passphrase: the file holds no secret, and a running agent reads the new time at once.
///
/// # Errors
/// [`Error::InvalidInput`] (no passphrase set, more than [`MAX_AUTO_LOCK_MINUTES`]), file
/// errors.
pub fn set_auto_lock(data_dir: &Path, store: &dyn SecretStore, minutes: u32) -> Result<()> {
    if minutes > MAX_AUTO_LOCK_MINUTES {
        return Err(Error::invalid(
            "minutes",
            format!("at most {MAX_AUTO_LOCK_MINUTES} (a week); 0 turns auto-lock off"),
        ));
    }
    let meta = MetadataFile::open(data_dir)?;
    let _lock = meta.lock()?;
    recover_locked(data_dir, store)?;
    let file = read_file(data_dir)?.filter(|f| f.state.sealed()).ok_or_else(not_set)?;
    PassphraseFile {
        auto_lock_minutes: minutes,
        ..file
    }
    .save(data_dir)
}

/// Removes the passphrase: every sealed secret is written back in plain form and the file
/// deleted (see the module docs for the crash-safe order).
///
/// # Errors
/// [`Error::InvalidInput`] (no passphrase set), [`Error::WrongPassphrase`],
/// [`Error::SealedEntryInvalid`], store and file errors (the vault stays sealed).
pub fn remove(data_dir: &Path, store: &dyn SecretStore, passphrase: &SecretString) -> Result<()> {
    let meta = MetadataFile::open(data_dir)?;
    let lock = meta.lock()?;
    recover_locked(data_dir, store)?;
    let file = read_file(data_dir)?.ok_or_else(not_set)?;
    let key = check_with_backoff(data_dir, &file, passphrase)?;
    let m = lock.load()?;
    let keys = durable_keys(data_dir, &m)?;
    // Every value is opened before anything is written: a bad entry stops it untouched.
    let mut plain = Vec::new();
    for k in &keys {
        if let Some(v) = SealedStore::open_value(&key, k, store.get(&sealed_key(k))?)? {
            plain.push((k, v));
        }
    }
    file.with_state(State::Unsealing).save(data_dir)?;
    for (k, v) in &plain {
        store.set(k, v)?;
    }
    file.with_state(State::PlainCleanup).save(data_dir)?;
    for k in keys.iter().chain(&access_keys(&m)) {
        store.delete(&sealed_key(k))?;
    }
    remove_file(data_dir)?;
    drop(lock);
    Ok(())
}

fn remove_file(data_dir: &Path) -> Result<()> {
    let path = file_path(data_dir);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("cannot delete", &path, e)),
    }
}

fn check_new(passphrase: &SecretString) -> Result<()> {
    if passphrase.expose_secret().is_empty() {
        return Err(Error::invalid("passphrase", "the passphrase is empty"));
    }
    if passphrase.expose_secret().len() > 1024 {
        return Err(Error::invalid("passphrase", "the passphrase is longer than 1024 bytes"));
    }
    Ok(())
}

/// Completes or rolls back a conversion a killed process left (see the module docs);
/// nothing to do when the file is absent or `sealed`. Needs no passphrase. Called when the
/// local vault is opened.
///
/// # Errors
/// Store and file errors (the file then still says what is left to do).
pub fn recover(data_dir: &Path, store: &dyn SecretStore) -> Result<()> {
    match read_file(data_dir)? {
        None => return Ok(()),
        Some(f) if f.state == State::Sealed => return Ok(()),
        Some(_) => {}
    }
    let meta = MetadataFile::open(data_dir)?;
    let _lock = meta.lock()?;
    recover_locked(data_dir, store)
}

fn recover_locked(data_dir: &Path, store: &dyn SecretStore) -> Result<()> {
    let Some(file) = read_file(data_dir)? else {
        return Ok(());
    };
    if file.state == State::Sealed {
        return Ok(());
    }
    let m = MetadataFile::open(data_dir)?.load()?;
    let keys = durable_keys(data_dir, &m)?;
    match file.state {
        State::Sealed => {}
        // Roll back: the plain entries are in force; drop the sealed copies.
        State::Sealing | State::PlainCleanup => {
            for k in keys.iter().chain(&access_keys(&m)) {
                store.delete(&sealed_key(k))?;
            }
            remove_file(data_dir)?;
        }
        // The sealed entries are in force; drop the plain copies.
        State::SealedCleanup | State::Unsealing => {
            for k in plain_leftovers(&file, &m, keys) {
                store.delete(&k)?;
            }
            file.with_state(State::Sealed).save(data_dir)?;
        }
    }
    Ok(())
}

/// Every durable keyring address the local vault of `data_dir` may use: each credential's
/// secret fields and refresh token at its revision, entries awaiting cleanup, and the
/// team engines' logins.
fn durable_keys(data_dir: &Path, m: &Metadata) -> Result<Vec<SecretKey>> {
    let mut keys = Vec::new();
    let mut push = |id: &str, rev: u32, field: &str| {
        let class = TokenField::from_name(field).map_or(SecretClass::Durable, |t| t.class());
        let k = SecretKey {
            vault_id: m.vault_id.clone(),
            credential_id: id.into(),
            rev,
            field: field.into(),
            class,
        };
        if class == SecretClass::Durable && !keys.contains(&k) {
            keys.push(k);
        }
    };
    for r in &m.credentials {
        for f in record_fields(r) {
            push(&r.id, r.secret_rev, &f);
        }
    }
    for p in &m.pending_cleanup {
        for f in &p.fields {
            push(&p.credential_id, p.rev, f);
        }
    }
    for cfg in team::config::list_configs(data_dir)? {
        for f in [
            team::client::TOKEN_FIELD,
            team::client::SECRET_ID_FIELD,
            team::client::LOGIN_TOKEN_FIELD,
        ] {
            let k = team::client::login_key(&cfg.id, f);
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    Ok(keys)
}

/// The cached access tokens' addresses of every credential and pending entry.
fn access_keys(m: &Metadata) -> Vec<SecretKey> {
    let access = TokenField::Access;
    let key = |id: &str, rev: u32| SecretKey {
        vault_id: m.vault_id.clone(),
        credential_id: id.into(),
        rev,
        field: access.name().into(),
        class: access.class(),
    };
    let mut keys: Vec<SecretKey> = m.credentials.iter().map(|r| key(&r.id, r.secret_rev)).collect();
    for p in m
        .pending_cleanup
        .iter()
        .filter(|p| p.fields.iter().any(|f| f == access.name()))
    {
        keys.push(key(&p.credential_id, p.rev));
    }
    keys
}

/// The plain entries a sealed vault must not keep: its durable `keys`, and its cached
/// access tokens when the file seals those too.
fn plain_leftovers(file: &PassphraseFile, m: &Metadata, mut keys: Vec<SecretKey>) -> Vec<SecretKey> {
    if file.tokens == TokenPolicy::Locked {
        keys.extend(access_keys(m));
    }
    keys
}

fn record_fields(r: &CredentialRecord) -> Vec<String> {
    let mut f = r.secret_fields.clone();
    f.push(TokenField::Refresh.name().into());
    f
}

/// The keyring address of `k`'s sealed value.
pub(crate) fn sealed_key(k: &SecretKey) -> SecretKey {
    SecretKey {
        field: format!("{}{SEALED_SUFFIX}", k.field),
        ..k.clone()
    }
}

/// The associated data of `k`'s sealed value: its identity, so a ciphertext moved to
/// another entry (credential, revision, field or vault) does not open.
pub(crate) fn ad(k: &SecretKey) -> Vec<u8> {
    format!("tillkey sealed v1\0{}", k.account()).into_bytes()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests;
