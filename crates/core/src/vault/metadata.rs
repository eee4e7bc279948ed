//! The metadata file: one JSON document per data dir, written atomically (temp file in the
//! same directory, fsync, rename, fsync of the directory) under an exclusive lock on a
//! sibling lock file that the app and the CLI share.
//!
//! Readers never take the lock: a rename is atomic, so they see the old or the new file,
//! never a torn one.

use crate::dto::Environment;
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Schema version this build writes and the highest it reads.
pub const SCHEMA_VERSION: u32 = 1;
/// File name of the metadata document.
pub const FILE_NAME: &str = "vault.json";
const LOCK_NAME: &str = "vault.lock";

/// Settings that change what the CLI reports, so they live here, shared by app and CLI.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Settings {
    /// Days before the rotation date at which a credential counts as "due soon".
    pub reminder_lead_days: u32,
    /// Rotation period given to new credentials.
    pub default_rotation_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            reminder_lead_days: crate::schedule::DEFAULT_LEAD_DAYS,
            default_rotation_days: crate::schedule::DEFAULT_PERIOD_DAYS,
        }
    }
}

/// One credential's non-secret record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CredentialRecord {
    /// Stable id (UUID v4).
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Provider kind.
    pub provider: String,
    /// Environment.
    pub environment: Environment,
    /// Non-secret field values.
    pub fields: BTreeMap<String, String>,
    /// Secret fields that have a keyring entry at `secret_rev`.
    pub secret_fields: Vec<String>,
    /// Current secret revision (part of the keyring entry names).
    pub secret_rev: u32,
    /// When added.
    pub created_at: DateTime<Utc>,
    /// When last rotated.
    pub rotated_at: DateTime<Utc>,
    /// Rotation period in days.
    pub rotation_period_days: u32,
    /// The cached access token's metadata (the token itself is in the keyring).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<crate::dto::TokenInfo>,
    /// The last connectivity test's result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_test: Option<crate::dto::TestReport>,
    /// Long-lived secret fields set later than `rotated_at`, which is the oldest one's
    /// date; a field not listed was set at `rotated_at` (see [`super::age`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secret_set_at: BTreeMap<String, DateTime<Utc>>,
    /// The own expiry of secret fields in JWT form (a Paysera POS PAT), read when set.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secret_expires_at: BTreeMap<String, DateTime<Utc>>,
    /// When the provider last issued the refresh token held (local vault only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_set_at: Option<DateTime<Utc>>,
    /// Fields written by newer builds, kept as they are.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Keyring entries that may exist and must be deleted unless a live credential uses them:
/// written before new secrets go in (so a crash leaves no untracked entry) and after a
/// credential is dropped or rotated (so old secrets are found again after a crash).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PendingCleanup {
    /// Credential id.
    pub credential_id: String,
    /// Secret revision.
    pub rev: u32,
    /// Field names at that revision.
    pub fields: Vec<String>,
}

/// The whole metadata document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Metadata {
    /// Schema version.
    pub schema: u32,
    /// Vault id, generated once per data dir; prefixes every keyring entry.
    pub vault_id: String,
    /// Shared settings.
    #[serde(default)]
    pub settings: Settings,
    /// Credentials, in insertion order.
    #[serde(default)]
    pub credentials: Vec<CredentialRecord>,
    /// Keyring entries awaiting deletion.
    #[serde(default)]
    pub pending_cleanup: Vec<PendingCleanup>,
    /// Team vaults: when each pending entry (`{credential_id}/r{rev}`) that may be another
    /// machine's write in progress was first seen, so it is swept only after a grace period.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending_since: BTreeMap<String, DateTime<Utc>>,
}

impl Default for Metadata {
    fn default() -> Self {
        Self::new()
    }
}

impl Metadata {
    /// An empty document with a fresh vault id.
    pub fn new() -> Self {
        Self {
            schema: SCHEMA_VERSION,
            vault_id: uuid::Uuid::new_v4().to_string(),
            settings: Settings::default(),
            credentials: Vec::new(),
            pending_cleanup: Vec::new(),
            pending_since: BTreeMap::new(),
        }
    }

    /// The credential called `name`.
    pub fn find(&self, name: &str) -> Option<&CredentialRecord> {
        self.credentials.iter().find(|c| c.name == name)
    }
}

/// One version of a document, told apart without reading it: for the local file, its
/// device, inode, size, and modification and change times. Every write replaces the file
/// by a rename, so every write (by any process) makes a new stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl Stamp {
    /// The stamp of the file at `path` now; `None` when it cannot be read.
    pub fn of(path: &Path) -> Option<Self> {
        fs::metadata(path).ok().as_ref().map(Self::from_metadata)
    }

    fn from_metadata(m: &fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        Stamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            ctime_ns: i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
        }
    }
}

/// The metadata file of one data dir.
#[derive(Debug, Clone)]
pub struct MetadataFile {
    dir: PathBuf,
    path: PathBuf,
}

/// Where a vault's metadata document lives: the local file ([`MetadataFile`]) or a team
/// vault's KV v2 engine. [`crate::vault::Vault`] holds one of these and runs the same
/// validation and write order over either.
pub trait MetadataStore: Send + Sync {
    /// Reads the current document; a missing document is a new, empty vault.
    ///
    /// # Errors
    /// Backend errors: file errors for the local file; engine errors for a team vault.
    fn load(&self) -> Result<Metadata>;

    /// As [`MetadataStore::load`], with the [`Stamp`] of the version read where the
    /// backend has one (the local file; `None`: no cheap way to tell a change).
    ///
    /// # Errors
    /// As [`MetadataStore::load`].
    fn load_stamped(&self) -> Result<(Metadata, Option<Stamp>)> {
        Ok((self.load()?, None))
    }

    /// The [`Stamp`] of the current document, to compare with one from
    /// [`MetadataStore::load_stamped`]; `None` when the backend has none or it cannot be
    /// read (then the document is read again).
    fn stamp(&self) -> Option<Stamp> {
        None
    }

    /// Takes the vault's write guard: an exclusive lock (local file), or a local lock plus
    /// check-and-set on the version read through the guard (team vault).
    ///
    /// # Errors
    /// As [`MetadataStore::load`].
    fn lock(&self) -> Result<WriteLock<'_>>;

    /// Where the document lives, for messages (a path or an engine address; no secret).
    fn location(&self) -> String;

    /// The error for credential `name` changed by another writer since it was read
    /// (`reason` in words): an invalid-input error where this machine's processes are the
    /// only writers, a conflict where other machines write too.
    fn changed_meanwhile(&self, name: &str, reason: &str) -> Error {
        Error::invalid(name, reason)
    }

    /// How long an entry listed for cleanup that is not certainly dead is left alone, in
    /// case it is another writer's work in progress: none where one lock serialises every
    /// writer.
    fn pending_grace(&self) -> chrono::Duration {
        chrono::Duration::zero()
    }
}

/// One backend's write guard (see [`WriteLock`]).
pub trait MetadataGuard {
    /// Reads the document while holding the guard.
    ///
    /// # Errors
    /// As [`MetadataStore::load`].
    fn load(&self) -> Result<Metadata>;

    /// Commits the document. A team vault commits with check-and-set on the version this
    /// guard last read or wrote, so a concurrent writer's change is never overwritten.
    ///
    /// # Errors
    /// Backend errors; [`Error::Conflict`] when someone else changed the document.
    fn save(&self, meta: &Metadata) -> Result<()>;
}

/// A hold on the vault for one read-modify-write; released on drop.
pub struct WriteLock<'a> {
    inner: Box<dyn MetadataGuard + 'a>,
}

impl<'a> WriteLock<'a> {
    /// Wraps a backend's guard.
    pub fn new(inner: Box<dyn MetadataGuard + 'a>) -> Self {
        Self { inner }
    }

    /// Reads the document while holding the lock.
    ///
    /// # Errors
    /// As [`MetadataStore::load`].
    pub fn load(&self) -> Result<Metadata> {
        self.inner.load()
    }

    /// Commits the document (atomically for the file; with check-and-set for a team vault).
    ///
    /// # Errors
    /// As [`MetadataGuard::save`]; the previous document is then untouched.
    pub fn save(&self, meta: &Metadata) -> Result<()> {
        self.inner.save(meta)
    }

    /// Applies `change` to `m` (the document as last read or written through this lock)
    /// and commits the result. Every write of the vault goes through here, so a team
    /// vault's writers on different machines do not fail each other for nothing.
    ///
    /// When the commit meets a check-and-set conflict (another machine saved meanwhile),
    /// the document is read again and `change` is applied again to the fresh document,
    /// where it validates again (a name taken meanwhile is [`Error::AlreadyExists`]). That
    /// happens only while nothing the change depends on changed meanwhile: the records of
    /// the credentials it adds, edits or removes, those of `reads` (credentials it depends
    /// on without changing them), and the settings if it changes them. If one of those
    /// changed, the conflict stands. At most [`MAX_CONFLICT_RETRIES`] times,
    /// after a short jittered pause each. The local file's lock serialises every writer, so
    /// there it never conflicts. A change that leaves the document as it is saves nothing.
    ///
    /// On return, `m` is the document that matches the lock's check-and-set version: the
    /// committed one, or on an error the one last read.
    ///
    /// # Errors
    /// What `change` returns; [`Error::Conflict`] when a credential the change depends on
    /// changed meanwhile or the retries ran out; as [`WriteLock::load`] and
    /// [`WriteLock::save`].
    pub fn commit<T>(
        &self,
        m: &mut Metadata,
        reads: &[&str],
        mut change: impl FnMut(&mut Metadata) -> Result<T>,
    ) -> Result<T> {
        let mut retries = 0;
        loop {
            let mut next = m.clone();
            let out = change(&mut next)?;
            if same_document(m, &next) {
                return Ok(out);
            }
            let err = match self.save(&next) {
                Ok(()) => {
                    *m = next;
                    return Ok(out);
                }
                Err(e @ Error::Conflict { .. }) if retries < MAX_CONFLICT_RETRIES => e,
                Err(e) => return Err(e),
            };
            retries += 1;
            conflict_pause(retries);
            let fresh = self.load()?;
            let stands = changed_meanwhile(m, &next, &fresh, reads);
            *m = fresh;
            if stands {
                return Err(err);
            }
        }
    }
}

/// How many times [`WriteLock::commit`] re-applies a change after a check-and-set conflict.
pub const MAX_CONFLICT_RETRIES: u32 = 8;

/// Waits before retry `n` (1-based): 10 ms doubling up to 160 ms, each between half and
/// all of that at random, so two machines that met do not meet again in lockstep.
fn conflict_pause(n: u32) {
    use std::hash::{BuildHasher, Hasher};
    let cap = 10u64 << n.saturating_sub(1).min(4);
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    let ms = cap / 2 + random % (cap / 2 + 1);
    std::thread::sleep(std::time::Duration::from_millis(ms));
}

/// Whether two documents are the same (compared as the JSON they are saved as).
fn same_document(a: &Metadata, b: &Metadata) -> bool {
    serde_json::to_value(a).ok() == serde_json::to_value(b).ok()
}

/// Whether something a change from `base` to `next` depends on differs in `fresh`: a
/// credential the change adds, edits or removes, or names in `reads`; the settings when it
/// changes them. (Two machines that create a new team vault's document at once start from
/// different vault ids; the second re-applies onto the first's.)
fn changed_meanwhile(base: &Metadata, next: &Metadata, fresh: &Metadata, reads: &[&str]) -> bool {
    let record = |m: &Metadata, id: &str| {
        m.credentials
            .iter()
            .find(|c| c.id == id)
            .map(|c| serde_json::to_value(c).ok())
    };
    let mut touched: Vec<&str> = reads.to_vec();
    touched.extend(
        base.credentials
            .iter()
            .chain(&next.credentials)
            .map(|c| c.id.as_str())
            .filter(|id| record(base, id) != record(next, id)),
    );
    (next.settings != base.settings && fresh.settings != base.settings)
        || touched.iter().any(|id| record(base, id) != record(fresh, id))
}

/// The local file's guard: an exclusive lock on the sibling lock file.
struct FileGuard<'a> {
    file: &'a MetadataFile,
    _lock: File,
}

impl MetadataFile {
    /// The metadata file in `dir`, creating `dir` (mode 0700) if needed.
    ///
    /// # Errors
    /// [`Error::Io`] if the directory cannot be created.
    pub fn open(dir: &Path) -> Result<Self> {
        create_private_dir(dir)?;
        tighten_dir(dir);
        Ok(Self {
            dir: dir.to_path_buf(),
            path: dir.join(FILE_NAME),
        })
    }

    /// Path of the metadata file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the current document; a missing file is a new, empty vault (not yet written).
    ///
    /// # Errors
    /// [`Error::CorruptMetadata`] (the file is left as it is and copied aside),
    /// [`Error::UnsupportedSchema`], [`Error::Io`].
    pub fn load(&self) -> Result<Metadata> {
        self.load_stamped().map(|(m, _)| m)
    }

    /// As [`MetadataFile::load`], with the [`Stamp`] of the version read (taken from the
    /// open file, so it is the stamp of the bytes read even when a writer renames a new
    /// file into place meanwhile); `None` for a missing file.
    ///
    /// # Errors
    /// As [`MetadataFile::load`].
    pub fn load_stamped(&self) -> Result<(Metadata, Option<Stamp>)> {
        let (bytes, stamp) = match read_stamped(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Metadata::new(), None)),
            Err(e) => return Err(Error::io("cannot read", &self.path, e)),
        };
        self.parse(&bytes).map(|m| (m, Some(stamp)))
    }

    fn parse(&self, bytes: &[u8]) -> Result<Metadata> {
        #[derive(Deserialize)]
        struct Version {
            schema: u32,
        }
        let parsed = super::check::parse_json(bytes);
        // A newer schema is refused as such, whether or not its document still reads as
        // this one (only a document that does not is read a second time for its version).
        let schema = match &parsed {
            Ok(m) => Some(m.schema),
            Err(_) => serde_json::from_slice::<Version>(bytes).ok().map(|v| v.schema),
        };
        if let Some(found) = schema.filter(|s| *s > SCHEMA_VERSION) {
            return Err(Error::UnsupportedSchema {
                path: self.path.clone(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let checked = parsed.and_then(|mut m| super::check::validate(&mut m).map(|()| m));
        checked.map_err(|detail| match self.back_up_corrupt(bytes) {
            Ok(backup) => Error::CorruptMetadata {
                path: self.path.clone(),
                backup,
                detail,
            },
            Err(io) => io,
        })
    }

    /// Copies a corrupt file aside once (the same bytes are not copied twice).
    fn back_up_corrupt(&self, bytes: &[u8]) -> Result<PathBuf> {
        let plain = self.dir.join(format!("{FILE_NAME}.corrupt"));
        let target = match fs::read(&plain) {
            Ok(existing) if existing == bytes => return Ok(plain),
            Ok(_) => self.dir.join(format!(
                "{FILE_NAME}.corrupt-{}",
                Utc::now().format("%Y%m%dT%H%M%S%.3f")
            )),
            Err(_) => plain,
        };
        write_private(&target, bytes)?;
        Ok(target)
    }

    /// Takes the exclusive vault lock (blocking until other writers are done).
    ///
    /// # Errors
    /// [`Error::Io`] if the lock file cannot be opened or locked.
    pub fn lock(&self) -> Result<WriteLock<'_>> {
        let f = lock_file(&self.dir.join(LOCK_NAME))?;
        self.remove_stale_temp_files();
        Ok(WriteLock::new(Box::new(FileGuard { file: self, _lock: f })))
    }

    /// Deletes temp files of the metadata file left by a writer that was killed before its
    /// rename. Runs under the exclusive lock, so no live writer owns one; only files older
    /// than a minute are touched all the same. Best effort.
    fn remove_stale_temp_files(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else { return };
        let prefix = format!(".{FILE_NAME}.");
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(60));
            if name.starts_with(&prefix) && name.ends_with(".tmp") && old {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// Opens (creating it 0600) and exclusively locks `path`, blocking until it is free.
///
/// # Errors
/// [`Error::Io`] if the file cannot be opened or locked.
pub fn lock_file(path: &Path) -> Result<File> {
    let mut opts = OpenOptions::new();
    opts.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let f = opts.open(path).map_err(|e| Error::io("cannot open", path, e))?;
    f.lock().map_err(|e| Error::io("cannot lock", path, e))?;
    Ok(f)
}

/// The file's bytes and the stamp of the same open file.
fn read_stamped(path: &Path) -> std::io::Result<(Vec<u8>, Stamp)> {
    use std::io::Read;
    let mut f = File::open(path)?;
    let meta = f.metadata()?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0).saturating_add(1));
    f.read_to_end(&mut bytes)?;
    Ok((bytes, Stamp::from_metadata(&meta)))
}

impl MetadataStore for MetadataFile {
    fn load(&self) -> Result<Metadata> {
        MetadataFile::load(self)
    }

    fn load_stamped(&self) -> Result<(Metadata, Option<Stamp>)> {
        MetadataFile::load_stamped(self)
    }

    fn stamp(&self) -> Option<Stamp> {
        Stamp::of(&self.path)
    }

    fn lock(&self) -> Result<WriteLock<'_>> {
        MetadataFile::lock(self)
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }
}

impl MetadataGuard for FileGuard<'_> {
    fn load(&self) -> Result<Metadata> {
        self.file.load()
    }

    /// Replaces the document atomically: a crash leaves the old or the new file, whole.
    fn save(&self, meta: &Metadata) -> Result<()> {
        let path = &self.file.path;
        let mut bytes =
            serde_json::to_vec_pretty(meta).map_err(|e| Error::io("cannot encode", path, std::io::Error::other(e)))?;
        bytes.push(b'\n');
        write_atomic(path, &bytes)
    }
}

/// Replaces `path` atomically with `bytes` (temp file in the same directory, fsync, rename,
/// fsync of the directory); the file is created 0600.
///
/// # Errors
/// [`Error::Io`]; the previous file is then untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io("cannot create a temp file in", dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| Error::io("cannot write", tmp.path().to_path_buf(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("cannot sync", tmp.path().to_path_buf(), e))?;
    tmp.persist(path)
        .map_err(|e| Error::io("cannot replace", path, e.error))?;
    sync_dir(dir);
    Ok(())
}

/// Creates `dir` (and parents) with mode 0700.
///
/// # Errors
/// [`Error::Io`].
pub fn create_private_dir(dir: &Path) -> Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir).map_err(|e| Error::io("cannot create", dir, e))
}

/// Takes group and other permissions away from an existing data dir (a dir made by hand
/// or by an older tool with mode 0755 would let other local users list it). Only a dir
/// that is a vault's (it holds the metadata file, or nothing yet) and is not a shared
/// sticky dir such as /tmp is touched, so `--data-dir` pointed at the wrong place cannot
/// lock others out of it. Best effort: a dir that is not ours stays as it is.
fn tighten_dir(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ours = dir.join(FILE_NAME).is_file() || fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none());
        if let Ok(meta) = fs::metadata(dir) {
            let mode = meta.permissions().mode();
            if ours && mode & 0o1000 == 0 && mode & 0o077 != 0 {
                let _ = fs::set_permissions(dir, fs::Permissions::from_mode(mode & 0o700));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Writes `bytes` to `path`, created with mode 0600.
///
/// # Errors
/// [`Error::Io`].
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut opts = OpenOptions::new();
    opts.create(true).truncate(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(|e| Error::io("cannot create", path, e))?;
    f.write_all(bytes).map_err(|e| Error::io("cannot write", path, e))
}

/// Makes a rename durable. Best effort: not every platform can open a directory.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}
