//! The audit log: an append-only record of what was done with each credential (reveal,
//! copy, token, exec, test, refresh, rotate, revoke, import, remove, add, edit,
//! mark-rotated), when, from where
//! (the window, or a CLI command and its process id, directly or through the local agent)
//! and how it ended. Never a secret: an entry holds names, ids, codes and times only.
//!
//! # Format
//! JSON lines in the data dir: `audit.log`, and after it passes its size limit
//! `audit.1.log` (newest) … `audit.N.log` (oldest). One [`Entry`] per line.
//!
//! # Tamper evidence
//! - Each entry carries its sequence number, the SHA-256 of the previous entry (`prev`)
//!   and its own (`hash`, over every other field in their fixed order), so an edited,
//!   removed or inserted entry in the middle breaks the chain at that point. The chain
//!   runs on across rotation: the first entry of a new `audit.log` chains to the last one
//!   of `audit.1.log`.
//! - The head is anchored outside the file, in the OS keyring (an [`AnchorPoint`]: a
//!   sequence number and that entry's hash), so a whole log rewritten consistently (every
//!   hash recomputed) or cut short before the anchor is detected too. Anchoring is lazy:
//!   a keyring write costs milliseconds, so the hot path (`token`, `exec`, `copy`,
//!   `reveal`) never anchors; every other action, a rotation of the file and a
//!   successful [`AuditLog::verify`] do. Entries after the anchor are protected by the
//!   chain only: cutting them off the end, or rewriting just them consistently, is not
//!   detected.
//! - Appends take a short exclusive lock (`audit.lock` in the data dir), so the CLI, the
//!   agent and the app never interleave lines or fork the chain.
//!
//! # Failures
//! Recording never stops an action: a log that cannot be written is reported (see
//! [`set_failure_reporter`]; stderr by default) and the action goes on. A till must keep
//! taking payments when a disk is full; the missing entry is what the warning says.
//! Reading is hostile-input safe: any bytes in the files give entries, skipped lines or a
//! named break, never a panic.

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::vault::secrets::{SecretClass, SecretKey, SecretStore};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use ts_rs::TS;

/// File name of the current log.
pub const FILE_NAME: &str = "audit.log";
/// Lock file every appender takes for the length of one append.
pub const LOCK_NAME: &str = "audit.lock";
/// Size at which `audit.log` is rotated to `audit.1.log`: 4 MiB (about 15 000 entries).
pub const DEFAULT_MAX_BYTES: u64 = 4 * 1024 * 1024;
/// Rotated files kept (`audit.1.log` … `audit.9.log`); older ones are deleted.
pub const DEFAULT_KEEP: u32 = 9;
/// Longest line read as an entry; longer lines are not entries.
pub const MAX_LINE: usize = 16 * 1024;
/// The `prev` of the very first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Version of the entry format this build writes.
pub const ENTRY_VERSION: u32 = 1;

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, rename = "AuditAction")]
pub enum Action {
    /// A token shown in the window.
    Reveal,
    /// A token copied to the clipboard from the window.
    Copy,
    /// `tillkey token`.
    Token,
    /// `tillkey exec` (the token handed to a program).
    Exec,
    /// A connectivity test.
    Test,
    /// A token renewed with the refresh token.
    Refresh,
    /// A secret rotated.
    Rotate,
    /// A cached token revoked.
    Revoke,
    /// A credential imported.
    Import,
    /// A credential removed.
    Remove,
    /// A credential added (by its form or `tillkey add`; an import is `import`).
    Add,
    /// A credential's name, environment, non-secret fields or rotation period changed.
    Edit,
    /// A credential marked as rotated outside Tillkey.
    #[serde(rename = "mark-rotated")]
    #[ts(rename = "mark-rotated")]
    MarkRotated,
}

impl Action {
    /// Every action, in the order above.
    pub const ALL: [Action; 13] = [
        Action::Reveal,
        Action::Copy,
        Action::Token,
        Action::Exec,
        Action::Test,
        Action::Refresh,
        Action::Rotate,
        Action::Revoke,
        Action::Import,
        Action::Remove,
        Action::Add,
        Action::Edit,
        Action::MarkRotated,
    ];

    /// The word used in the log and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Reveal => "reveal",
            Action::Copy => "copy",
            Action::Token => "token",
            Action::Exec => "exec",
            Action::Test => "test",
            Action::Refresh => "refresh",
            Action::Rotate => "rotate",
            Action::Revoke => "revoke",
            Action::Import => "import",
            Action::Remove => "remove",
            Action::Add => "add",
            Action::Edit => "edit",
            Action::MarkRotated => "mark-rotated",
        }
    }

    /// Whether recording this action also anchors the head in the keyring. The hot path
    /// (handing out a token) does not: it must stay a file append.
    pub fn anchors(self) -> bool {
        !matches!(self, Action::Token | Action::Exec | Action::Copy | Action::Reveal)
    }
}

impl std::str::FromStr for Action {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Action::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| {
            let all: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
            Error::invalid(
                "action",
                format!("`{s}` is not an action: use one of {}", all.join(", ")),
            )
        })
    }
}

/// Where an action came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, rename = "AuditOriginKind")]
pub enum OriginKind {
    /// The desktop app's window.
    Window,
    /// A `tillkey` command.
    Cli,
    /// Any other program using the core library.
    Other,
}

/// Where an action came from: the window, or a CLI command with its process id. `via` is
/// `agent` when the local agent did it for that command (the pid is then the client's,
/// read by the agent from the socket's peer credentials).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export, rename = "AuditOrigin")]
pub struct Origin {
    /// Window, CLI or other.
    pub kind: OriginKind,
    /// The CLI command (`token`, `exec`, `test`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub command: Option<String>,
    /// The process id of the command (or of the app for the window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub pid: Option<u32>,
    /// `agent` when the local agent answered for the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub via: Option<String>,
}

/// Longest command word kept in an origin.
const MAX_COMMAND: usize = 32;

/// `command` as an origin keeps it: lowercase letters, digits and `-` only, at most 32.
fn clean_command(command: &str) -> String {
    command
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .map(|c| c.to_ascii_lowercase())
        .take(MAX_COMMAND)
        .collect()
}

impl Origin {
    /// The window of the app running as this process.
    pub fn window() -> Self {
        Origin {
            kind: OriginKind::Window,
            command: None,
            pid: Some(std::process::id()),
            via: None,
        }
    }

    /// The CLI command `command` running as this process.
    pub fn cli(command: &str) -> Self {
        Self::cli_pid(command, std::process::id())
    }

    /// The CLI command `command` running as process `pid`.
    pub fn cli_pid(command: &str, pid: u32) -> Self {
        Origin {
            kind: OriginKind::Cli,
            command: Some(clean_command(command)),
            pid: Some(pid),
            via: None,
        }
    }

    /// The CLI command `command` of process `pid`, answered by the local agent.
    pub fn via_agent(command: &str, pid: u32) -> Self {
        Origin {
            via: Some("agent".into()),
            ..Self::cli_pid(command, pid)
        }
    }

    /// A program that set no origin.
    pub fn other() -> Self {
        Origin {
            kind: OriginKind::Other,
            command: None,
            pid: Some(std::process::id()),
            via: None,
        }
    }

    /// In words, for tables: `window`, `cli token (pid 42)`, `cli token (pid 42, agent)`.
    pub fn describe(&self) -> String {
        let kind = match self.kind {
            OriginKind::Window => "window",
            OriginKind::Cli => "cli",
            OriginKind::Other => "other",
        };
        let mut s = kind.to_string();
        if let Some(c) = &self.command {
            s.push(' ');
            s.push_str(&clean_command(c));
        }
        let mut extra = Vec::new();
        if let Some(p) = self.pid {
            extra.push(format!("pid {p}"));
        }
        if let Some(v) = &self.via {
            extra.push(clean_command(v));
        }
        if !extra.is_empty() && self.kind != OriginKind::Window {
            s.push_str(&format!(" ({})", extra.join(", ")));
        }
        s
    }
}

static PROCESS_ORIGIN: OnceLock<Origin> = OnceLock::new();

/// Sets where this process's actions come from (the CLI at start, the app at start). The
/// first call wins.
pub fn set_process_origin(origin: Origin) {
    let _ = PROCESS_ORIGIN.set(origin);
}

/// This process's origin: as set, else [`Origin::other`].
pub fn process_origin() -> Origin {
    PROCESS_ORIGIN.get().cloned().unwrap_or_else(Origin::other)
}

/// Called when an entry cannot be written (the action itself goes on).
pub type FailureReporter = fn(&Error);

static REPORTER: OnceLock<FailureReporter> = OnceLock::new();

/// Sets how a failed append is reported (the app keeps it for the window); the first
/// call wins. Default: one line on stderr.
pub fn set_failure_reporter(f: FailureReporter) {
    let _ = REPORTER.set(f);
}

fn report_failure(e: &Error) {
    match REPORTER.get() {
        Some(f) => f(e),
        None => eprintln!("warning: the audit log could not be written ({e}); the action went ahead unrecorded"),
    }
}

/// The credential an entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export, rename = "AuditCredential")]
pub struct CredentialRef {
    /// Its stable id, when it was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub id: Option<String>,
    /// Its name.
    pub name: String,
}

/// What one entry records, before it is numbered and chained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// What was done.
    pub action: Action,
    /// To which credential.
    pub credential: CredentialRef,
    /// In which vault (`local` or a team vault's name).
    pub vault: String,
    /// From where.
    pub origin: Origin,
    /// `ok`, or the error code (`not_found`, `rate_limited`, a failed test's code, …).
    pub outcome: String,
    /// A word or two from a fixed vocabulary (`cached`, `fetched`, `nothing_cached`, …).
    pub detail: Option<String>,
}

impl Record {
    /// A record of `action` on `name` (id if known) in `vault` from `origin`, ending in
    /// `outcome`.
    pub fn new(action: Action, id: Option<&str>, name: &str, vault: &str, origin: Origin, outcome: &str) -> Self {
        Record {
            action,
            credential: CredentialRef {
                id: id.map(str::to_string),
                name: name.to_string(),
            },
            vault: vault.to_string(),
            origin,
            outcome: outcome.to_string(),
            detail: None,
        }
    }

    /// With a detail word.
    pub fn detail(mut self, detail: &str) -> Self {
        self.detail = Some(detail.to_string());
        self
    }
}

/// The outcome word of a result: `ok` or the error's code.
pub fn outcome_of<T>(r: &Result<T>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => e.code().to_string(),
    }
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export, rename = "AuditEntry")]
pub struct Entry {
    /// Entry format version.
    pub v: u32,
    /// Sequence number: 0 for the first entry ever, then one more each time.
    #[ts(type = "number")]
    pub seq: u64,
    /// When (the vault's clock).
    pub time: DateTime<Utc>,
    /// What was done.
    pub action: Action,
    /// To which credential.
    pub credential: CredentialRef,
    /// In which vault.
    pub vault: String,
    /// From where.
    pub origin: Origin,
    /// `ok` or the error code.
    pub outcome: String,
    /// A detail word, where there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub detail: Option<String>,
    /// SHA-256 (hex) of the previous entry; [`GENESIS`] for the first.
    pub prev: String,
    /// SHA-256 (hex) of this entry's other fields.
    pub hash: String,
}

/// An entry's fields without its hash, in the order they are hashed.
#[derive(Serialize)]
struct Unhashed<'a> {
    v: u32,
    seq: u64,
    time: &'a DateTime<Utc>,
    action: Action,
    credential: &'a CredentialRef,
    vault: &'a str,
    origin: &'a Origin,
    outcome: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: &'a Option<String>,
    prev: &'a str,
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

impl Entry {
    /// The hash this entry's fields give (what `hash` must be).
    pub fn computed_hash(&self) -> String {
        let body = Unhashed {
            v: self.v,
            seq: self.seq,
            time: &self.time,
            action: self.action,
            credential: &self.credential,
            vault: &self.vault,
            origin: &self.origin,
            outcome: &self.outcome,
            detail: &self.detail,
            prev: &self.prev,
        };
        // Serialising these types cannot fail (no maps with non-string keys).
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        hex(&Sha256::digest(&bytes))
    }

    /// Parses one line (hostile input): `None` unless it is exactly an entry.
    pub fn parse(line: &[u8]) -> Option<Entry> {
        if line.len() > MAX_LINE {
            return None;
        }
        serde_json::from_slice(line).ok()
    }
}

/// The anchored head: a sequence number and the hash its entry must have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export, rename = "AuditAnchor")]
pub struct AnchorPoint {
    /// Sequence number of the anchored entry.
    #[ts(type = "number")]
    pub seq: u64,
    /// Its hash.
    pub hash: String,
}

/// The chain's position at a point: the last entry's number and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    seq: u64,
    hash: String,
}

/// Which entries to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this credential (its name, or its id).
    pub credential: Option<String>,
    /// Only this action.
    pub action: Option<Action>,
    /// Only entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only entries before this time.
    pub until: Option<DateTime<Utc>>,
}

impl Filter {
    /// Whether `e` passes.
    pub fn matches(&self, e: &Entry) -> bool {
        self.credential
            .as_deref()
            .is_none_or(|c| e.credential.name == c || e.credential.id.as_deref() == Some(c))
            && self.action.is_none_or(|a| e.action == a)
            && self.since.is_none_or(|s| e.time >= s)
            && self.until.is_none_or(|u| e.time < u)
    }
}

/// The entries a listing found, oldest first, and how many lines were not entries.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Matching entries, oldest first.
    pub entries: Vec<Entry>,
    /// Lines that are not entries (garbage, truncated, too long).
    pub unreadable: usize,
}

/// Where a line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// File name (`audit.log`, `audit.1.log`, …).
    pub file: String,
    /// Line number, from 1.
    pub line: usize,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} line {}", self.file, self.line)
    }
}

/// The anchor's state after a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorState {
    /// The anchored entry is in the chain with the anchored hash.
    Matched(AnchorPoint),
    /// No anchor is stored (a new log, a keyring that was reset, a moved data dir).
    Missing,
    /// No anchor store (an in-memory vault without one).
    Unavailable(String),
}

/// What [`AuditLog::verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Every entry chains to the one before and the anchor matches.
    Intact {
        /// Entries checked.
        count: u64,
        /// Sequence number of the first entry kept (0 unless older files were rotated away).
        first: Option<u64>,
        /// Sequence number of the last entry.
        last: Option<u64>,
        /// The anchor.
        anchor: AnchorState,
    },
    /// The first place the chain breaks.
    Broken {
        /// The sequence number of the broken entry (for a line that is no entry: the
        /// number the next entry should have had).
        seq: u64,
        /// Where it is, when it is a line (an anchor past the end has none).
        place: Option<Place>,
        /// What is wrong, in words.
        reason: String,
        /// Entries that checked out before it.
        good: u64,
    },
}

/// The key of the anchor in the secret store: one per data dir (the directory's canonical
/// path, hashed). Not secret; kept outside the data dir so rewriting the dir cannot move it.
fn anchor_key(dir: &Path) -> SecretKey {
    let canon = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let id = hex(&Sha256::digest(canon.to_string_lossy().as_bytes()));
    SecretKey {
        vault_id: "audit".into(),
        credential_id: id[..32].to_string(),
        rev: 0,
        field: "anchor".into(),
        class: SecretClass::Durable,
    }
}

/// Keyring service of the anchors: apart from the vault's own entries (`tillkey`), so
/// nothing that lists, converts or cleans up those ever meets an anchor.
pub const ANCHOR_SERVICE: &str = "tillkey-audit";

static ANCHOR_STORE: OnceLock<Arc<dyn SecretStore>> = OnceLock::new();

/// Anchors the audit logs of this process in the OS keyring (service [`ANCHOR_SERVICE`]):
/// the CLI, the agent and the app call it at start. Without it (unit tests, other
/// programs) a log is anchored only where [`AuditLog::new`] was given a store. The first
/// call wins.
///
/// Each call is bounded by the keyring timeout, as every other keyring call is, not by
/// less: a process that gave up on a call and exited while gnome-keyring still had the
/// call queued (it serves one client at a time, and a busy login keyring is slow) made
/// gnome-keyring 42 abort when it reached it (`gkd_secret_service_get_pkcs11_session:
/// assertion 'client' failed`), taking every other client's keyring with it.
pub fn anchor_in_keyring() {
    let _ = ANCHOR_STORE.set(Arc::new(crate::vault::secrets::ServiceKeyring::new(
        ANCHOR_SERVICE,
        crate::vault::secrets::keyring_timeout(),
    )));
}

/// The audit log of one data dir.
pub struct AuditLog {
    dir: PathBuf,
    anchor: Option<Arc<dyn SecretStore>>,
    clock: Arc<dyn Clock>,
    max_bytes: u64,
    keep: u32,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// The log of `dir`, its head anchored in `anchor` (`None`: in the process's store,
    /// see [`anchor_in_keyring`], else not anchored), times from `clock`.
    pub fn new(dir: impl AsRef<Path>, anchor: Option<Arc<dyn SecretStore>>, clock: Arc<dyn Clock>) -> Self {
        AuditLog {
            dir: dir.as_ref().to_path_buf(),
            anchor,
            clock,
            max_bytes: DEFAULT_MAX_BYTES,
            keep: DEFAULT_KEEP,
        }
    }

    /// Where the head is anchored, if anywhere.
    fn anchor_store(&self) -> Option<&Arc<dyn SecretStore>> {
        self.anchor.as_ref().or_else(|| ANCHOR_STORE.get())
    }

    /// This log with another rotation size and number of rotated files kept (tests).
    pub fn with_limits(mut self, max_bytes: u64, keep: u32) -> Self {
        self.max_bytes = max_bytes.max(1);
        self.keep = keep.max(1);
        self
    }

    /// The current log file.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// Rotated file `n` (1 is the newest).
    fn rotated(&self, n: u32) -> PathBuf {
        self.dir.join(format!("audit.{n}.log"))
    }

    /// Every log file present, oldest first.
    pub fn files(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = (1..=self.keep + 1)
            .rev()
            .map(|n| self.rotated(n))
            .filter(|p| p.is_file())
            .collect();
        if self.path().is_file() {
            out.push(self.path());
        }
        out
    }

    /// Records `rec` and hands back the entry. A failure is reported (stderr by default)
    /// and otherwise ignored: recording never stops the action it records.
    pub fn record(&self, rec: Record) -> Option<Entry> {
        let anchors = rec.action.anchors();
        match self.append(rec) {
            Ok(e) => {
                if anchors {
                    let _ = self.anchor();
                }
                Some(e)
            }
            Err(e) => {
                report_failure(&e);
                None
            }
        }
    }

    /// Appends `rec` as the next entry of the chain (under the log's lock, one `write` of
    /// one line, no fsync), rotating the file first when it is full.
    ///
    /// # Errors
    /// [`Error::Io`] when the lock or the file cannot be used.
    pub fn append(&self, rec: Record) -> Result<Entry> {
        let _lock = crate::vault::metadata::lock_file(&self.dir.join(LOCK_NAME))?;
        let path = self.path();
        let mut file = open_append(&path)?;
        let mut len = file.metadata().map_err(|e| Error::io("cannot read", &path, e))?.len();
        let (mut head, torn) = last_entry(&mut file, len).map_err(|e| Error::io("cannot read", &path, e))?;
        if head.is_none() {
            head = self.rotated_head();
        }
        let seq = match &head {
            None => 0,
            Some(h) => h
                .seq
                .checked_add(1)
                .ok_or_else(|| Error::invalid("audit log", "its sequence numbers are used up"))?,
        };
        let mut entry = Entry {
            v: ENTRY_VERSION,
            seq,
            time: self.clock.now(),
            action: rec.action,
            credential: rec.credential,
            vault: rec.vault,
            origin: rec.origin,
            outcome: rec.outcome,
            detail: rec.detail,
            prev: head.as_ref().map_or_else(|| GENESIS.to_string(), |h| h.hash.clone()),
            hash: String::new(),
        };
        entry.hash = entry.computed_hash();
        let mut line = serde_json::to_vec(&entry).map_err(|e| Error::internal(format!("audit entry: {e}")))?;
        line.push(b'\n');
        if len > 0 && len + line.len() as u64 > self.max_bytes {
            drop(file);
            self.rotate()?;
            file = open_append(&path)?;
            len = 0;
            // The old file's last entry is anchored: what rotation may later delete is
            // older than the anchor, so a missing older file is told from a cut chain.
            if let Some(h) = &head {
                let _ = self.store_anchor(&AnchorPoint {
                    seq: h.seq,
                    hash: h.hash.clone(),
                });
            }
        }
        if torn && len > 0 {
            // A line without its newline (a write cut short): the entry starts on a new
            // line, and verification names the torn one.
            line.insert(0, b'\n');
        }
        file.write_all(&line)
            .map_err(|e| Error::io("cannot append to", &path, e))?;
        Ok(entry)
    }

    /// `audit.log` → `audit.1.log` → … → `audit.<keep>.log`; the oldest is deleted.
    fn rotate(&self) -> Result<()> {
        let oldest = self.rotated(self.keep);
        match fs::remove_file(&oldest) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("cannot delete", &oldest, e)),
        }
        for n in (1..self.keep).rev() {
            let from = self.rotated(n);
            if from.is_file() {
                let to = self.rotated(n + 1);
                fs::rename(&from, &to).map_err(|e| Error::io("cannot rename", &from, e))?;
            }
        }
        let path = self.path();
        fs::rename(&path, self.rotated(1)).map_err(|e| Error::io("cannot rename", &path, e))
    }

    /// The last entry of the newest rotated file, where `audit.log` has none yet.
    fn rotated_head(&self) -> Option<Head> {
        let mut f = File::open(self.rotated(1)).ok()?;
        let len = f.metadata().ok()?.len();
        last_entry(&mut f, len).ok()?.0
    }

    /// Anchors the current head in the keyring.
    ///
    /// # Errors
    /// Keyring errors; [`Error::Io`] reading the log.
    pub fn anchor(&self) -> Result<Option<AnchorPoint>> {
        let head = {
            let _lock = crate::vault::metadata::lock_file(&self.dir.join(LOCK_NAME))?;
            let path = self.path();
            let head = match File::open(&path) {
                Ok(mut f) => {
                    let len = f.metadata().map_err(|e| Error::io("cannot read", &path, e))?.len();
                    last_entry(&mut f, len)
                        .map_err(|e| Error::io("cannot read", &path, e))?
                        .0
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(Error::io("cannot read", &path, e)),
            };
            head.or_else(|| self.rotated_head())
        };
        let Some(h) = head else { return Ok(None) };
        let point = AnchorPoint {
            seq: h.seq,
            hash: h.hash,
        };
        self.store_anchor(&point)?;
        Ok(Some(point))
    }

    fn store_anchor(&self, point: &AnchorPoint) -> Result<()> {
        let Some(store) = self.anchor_store() else {
            return Ok(());
        };
        // Never move the anchor back (a process that read an older head).
        if let Ok(Some(old)) = self.load_anchor() {
            if old.seq > point.seq {
                return Ok(());
            }
        }
        let value = serde_json::to_string(point).map_err(|e| Error::internal(format!("audit anchor: {e}")))?;
        store.set(&anchor_key(&self.dir), &SecretString::from(value))
    }

    /// The stored anchor.
    ///
    /// # Errors
    /// Keyring errors; an anchor that is not one is [`Error::InvalidInput`].
    pub fn load_anchor(&self) -> Result<Option<AnchorPoint>> {
        let Some(store) = self.anchor_store() else {
            return Ok(None);
        };
        let Some(v) = store.get(&anchor_key(&self.dir))? else {
            return Ok(None);
        };
        serde_json::from_str(v.expose_secret())
            .map(Some)
            .map_err(|_| Error::invalid("audit anchor", "the keyring's audit anchor is not one"))
    }

    /// Every entry `filter` passes, oldest first, from every file kept.
    ///
    /// # Errors
    /// [`Error::Io`] when a file cannot be read.
    pub fn list(&self, filter: &Filter) -> Result<Listing> {
        let mut out = Listing::default();
        for path in self.files() {
            for_each_line(&path, |_, line| {
                match line.and_then(Entry::parse) {
                    Some(e) if filter.matches(&e) => out.entries.push(e),
                    Some(_) => {}
                    None => out.unreadable += 1,
                }
                true
            })?;
        }
        Ok(out)
    }

    /// Checks the whole chain from the oldest file kept to the newest entry, then the
    /// anchor: the first break is named (sequence number, file and line, what is wrong).
    /// An intact log with an anchor store is anchored again at its head.
    ///
    /// # Errors
    /// [`Error::Io`] when a file cannot be read; keyring errors reading the anchor.
    pub fn verify(&self) -> Result<Verified> {
        let mut prev: Option<Head> = None;
        let mut first: Option<u64> = None;
        let mut count = 0u64;
        let mut broken: Option<Verified> = None;
        let mut found_anchor: Option<(u64, String)> = None;
        let anchor = self.load_anchor()?;
        for path in self.files() {
            let file = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            for_each_line(&path, |n, line| {
                let place = Place {
                    file: file.clone(),
                    line: n,
                };
                let expected = prev.as_ref().map_or(0, |h| h.seq.saturating_add(1));
                let fail = |seq: u64, reason: String| Verified::Broken {
                    seq,
                    place: Some(place.clone()),
                    reason,
                    good: count,
                };
                let Some(e) = line.and_then(Entry::parse) else {
                    broken = Some(fail(
                        expected,
                        match line {
                            None => "the line is too long to be an entry".into(),
                            Some([]) => "an empty line".into(),
                            Some(_) => "the line is not a log entry (garbage, or cut short)".into(),
                        },
                    ));
                    return false;
                };
                if e.computed_hash() != e.hash {
                    broken = Some(fail(
                        e.seq,
                        "its content does not match its hash: the entry was edited".into(),
                    ));
                    return false;
                }
                match &prev {
                    None if e.seq == 0 && e.prev != GENESIS => {
                        broken = Some(fail(0, "the first entry does not start the chain".into()));
                        return false;
                    }
                    None => {}
                    Some(p) if Some(e.seq) != p.seq.checked_add(1) => {
                        broken = Some(fail(
                            e.seq,
                            format!("it follows entry {} (entries missing, repeated or reordered)", p.seq),
                        ));
                        return false;
                    }
                    Some(p) if e.prev != p.hash => {
                        broken = Some(fail(
                            e.seq,
                            format!("its link to entry {} does not match that entry's hash: the chain was rewritten before it", p.seq),
                        ));
                        return false;
                    }
                    Some(_) => {}
                }
                if let Some(a) = &anchor {
                    if a.seq == e.seq {
                        found_anchor = Some((e.seq, e.hash.clone()));
                        if a.hash != e.hash {
                            broken = Some(fail(
                                e.seq,
                                "it differs from the entry anchored in the keyring: the log was rewritten".into(),
                            ));
                            return false;
                        }
                    }
                }
                first.get_or_insert(e.seq);
                count += 1;
                prev = Some(Head {
                    seq: e.seq,
                    hash: e.hash,
                });
                true
            })?;
            if broken.is_some() {
                break;
            }
        }
        if let Some(b) = broken {
            return Ok(b);
        }
        let last = prev.as_ref().map(|h| h.seq);
        let state = match (self.anchor_store(), anchor) {
            (None, _) => AnchorState::Unavailable("no keyring for the anchor".into()),
            (Some(_), None) => AnchorState::Missing,
            (Some(_), Some(a)) => {
                if found_anchor.is_none() {
                    let reason = match (first, last) {
                        (_, Some(l)) if a.seq > l => format!(
                            "the log ends at entry {l} but entry {} was anchored in the keyring: entries were removed from the end or the log was replaced",
                            a.seq
                        ),
                        (None, _) => format!(
                            "the log is empty but entry {} was anchored in the keyring: the log was deleted or replaced",
                            a.seq
                        ),
                        _ => format!(
                            "entry {} was anchored in the keyring but the log kept starts at entry {}: older files were removed",
                            a.seq,
                            first.unwrap_or(0)
                        ),
                    };
                    return Ok(Verified::Broken {
                        seq: a.seq,
                        place: None,
                        reason,
                        good: count,
                    });
                }
                AnchorState::Matched(a)
            }
        };
        // What was just checked is anchored, so later rewrites of it are detected too.
        let state = match (state, &prev) {
            (AnchorState::Unavailable(r), _) => AnchorState::Unavailable(r),
            (s, Some(h)) => match self.store_anchor(&AnchorPoint {
                seq: h.seq,
                hash: h.hash.clone(),
            }) {
                Ok(()) => AnchorState::Matched(AnchorPoint {
                    seq: h.seq,
                    hash: h.hash.clone(),
                })
                .pick(s),
                Err(_) => s,
            },
            (s, None) => s,
        };
        Ok(Verified::Intact {
            count,
            first,
            last,
            anchor: state,
        })
    }
}

impl AnchorState {
    /// After re-anchoring: `Missing` stays reported as it was found (the caller says the
    /// log was not anchored before), anything else is the new anchor.
    fn pick(self, found: AnchorState) -> AnchorState {
        match found {
            AnchorState::Missing => AnchorState::Missing,
            _ => self,
        }
    }
}

/// Opens `path` for appending, created 0600.
fn open_append(path: &Path) -> Result<File> {
    let mut opts = OpenOptions::new();
    opts.create(true).append(true).read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path).map_err(|e| Error::io("cannot open", path, e))
}

/// The last entry of a file of `len` bytes, read from its tail (scanning back past lines
/// that are not entries), and whether the file ends without a newline.
fn last_entry(f: &mut File, len: u64) -> std::io::Result<(Option<Head>, bool)> {
    if len == 0 {
        return Ok((None, false));
    }
    const CHUNK: u64 = 64 * 1024;
    let mut end = len;
    let mut torn = None;
    let mut carry: Vec<u8> = Vec::new();
    // Scan back at most a few chunks: a tail of garbage longer than that starts a new
    // chain segment, which verification reports.
    for _ in 0..16 {
        if end == 0 {
            break;
        }
        let start = end.saturating_sub(CHUNK);
        let mut buf = vec![0u8; (end - start) as usize];
        f.seek(SeekFrom::Start(start))?;
        f.read_exact(&mut buf)?;
        if torn.is_none() {
            torn = Some(buf.last() != Some(&b'\n'));
        }
        buf.extend_from_slice(&carry);
        // Complete lines are those after a newline (or from the file's start).
        let mut lines: Vec<&[u8]> = buf.split(|b| *b == b'\n').collect();
        let partial_first = if start > 0 {
            Some(lines.remove(0).to_vec())
        } else {
            None
        };
        for line in lines.iter().rev() {
            if let Some(e) = Entry::parse(line) {
                return Ok((
                    Some(Head {
                        seq: e.seq,
                        hash: e.hash,
                    }),
                    torn.unwrap_or(false),
                ));
            }
        }
        carry = partial_first.unwrap_or_default();
        if carry.len() > MAX_LINE {
            carry.clear();
        }
        end = start;
    }
    Ok((None, torn.unwrap_or(false)))
}

/// Calls `f` with each line's number (from 1) and bytes (without the newline; `None` for a
/// line over [`MAX_LINE`]), until it returns false. A missing file has no lines.
fn for_each_line(path: &Path, mut f: impl FnMut(usize, Option<&[u8]>) -> bool) -> Result<()> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("cannot read", path, e)),
    };
    let mut r = BufReader::new(file);
    let mut buf = Vec::new();
    let mut n = 0usize;
    loop {
        buf.clear();
        let read = (&mut r)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::io("cannot read", path, e))?;
        if read == 0 {
            return Ok(());
        }
        n += 1;
        let ended = buf.last() == Some(&b'\n');
        if ended {
            buf.pop();
        }
        let keep_going = if !ended && buf.len() > MAX_LINE {
            // Skip the rest of the long line.
            let mut sink = Vec::new();
            loop {
                sink.clear();
                let more = (&mut r)
                    .take(64 * 1024)
                    .read_until(b'\n', &mut sink)
                    .map_err(|e| Error::io("cannot read", path, e))?;
                if more == 0 || sink.last() == Some(&b'\n') {
                    break;
                }
            }
            f(n, None)
        } else {
            f(n, Some(&buf))
        };
        if !keep_going {
            return Ok(());
        }
    }
}

/// Parses a log file's bytes as [`AuditLog::list`] reads them (the fuzz target's entry
/// point): each line an entry or counted as unreadable.
pub fn parse_lines(bytes: &[u8]) -> Listing {
    let mut out = Listing::default();
    for line in bytes.split(|b| *b == b'\n') {
        if line.is_empty() {
            continue;
        }
        match Entry::parse(line) {
            Some(e) => {
                // An entry that parses re-serialises to a line that parses to itself.
                debug_assert_eq!(
                    serde_json::to_vec(&e).ok().and_then(|l| Entry::parse(&l)).as_ref(),
                    Some(&e)
                );
                out.entries.push(e);
            }
            None => out.unreadable += 1,
        }
    }
    out
}

impl crate::vault::Vault {
    /// Records `action` on credential `name` (with its id where known) of this vault,
    /// from `origin`, ending in `outcome` (`ok` or an error code). Never fails: see
    /// [`AuditLog::record`].
    pub fn record_action(
        &self,
        action: Action,
        id: Option<&str>,
        name: &str,
        origin: Origin,
        outcome: &str,
        detail: Option<&str>,
    ) -> Option<Entry> {
        let mut rec = Record::new(action, id, name, self.name(), origin, outcome);
        rec.detail = detail.map(str::to_string);
        self.audit_log().record(rec)
    }

    /// Records `action` on each of `items` (id where known, name) from this process, ending
    /// in `outcome`, and anchors once at the end (an import of many is one keyring write).
    pub fn record_many(&self, action: Action, items: impl Iterator<Item = (Option<String>, String)>, outcome: &str) {
        let log = self.audit_log();
        let mut any = false;
        for (id, name) in items {
            let rec = Record::new(action, id.as_deref(), &name, self.name(), process_origin(), outcome);
            match log.append(rec) {
                Ok(_) => any = true,
                Err(e) => report_failure(&e),
            }
        }
        if any && action.anchors() {
            let _ = log.anchor();
        }
    }

    /// The id of credential `name`, for an entry about an action that failed before it
    /// read the record (`None` when there is no such credential).
    pub(crate) fn audit_id(&self, name: &str) -> Option<String> {
        self.show(name).ok().map(|c| c.id)
    }
}

/// The outcome of a test report: `ok`, or the failed stage's code (`test_failed` when it
/// has none).
pub fn test_outcome(report: &crate::dto::TestReport) -> String {
    if report.ok {
        return "ok".into();
    }
    report
        .stages
        .iter()
        .find(|s| !s.ok)
        .and_then(|s| s.code.clone())
        .map_or_else(|| "test_failed".into(), |c| clean_code(&c))
}

/// A provider's error code as an outcome word: letters, digits, `_`, `-`, `.`, at most 64
/// (a provider's answer is not trusted to be short or printable).
fn clean_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .take(64)
        .collect()
}

/// The detail word of a token's source.
pub fn source_word(source: crate::token::TokenSource) -> &'static str {
    use crate::token::TokenSource;
    match source {
        TokenSource::Static => "static",
        TokenSource::Cached => "cached",
        TokenSource::Fetched => "fetched",
        TokenSource::Refreshed => "refreshed",
    }
}

impl crate::token::Engine {
    /// This engine, recording its actions as coming from `origin` (the agent: the client
    /// it answers) instead of the process's origin.
    pub fn with_origin(mut self, origin: Origin) -> Self {
        self.origin = Some(origin);
        self
    }

    /// Where this engine's actions come from.
    pub fn origin(&self) -> Origin {
        self.origin.clone().unwrap_or_else(process_origin)
    }

    /// [`Engine::token`](crate::token::Engine::token) for `action` (`token`, `exec`,
    /// `copy`, `reveal`), recorded in the audit log with its outcome.
    ///
    /// # Errors
    /// As [`Engine::token`](crate::token::Engine::token).
    pub async fn token_as(&self, name: &str, action: Action) -> Result<crate::token::AccessToken> {
        self.token_delivered(
            name,
            action,
            |t| async { Ok(t) },
            |e: &crate::Error| e.code().to_string(),
        )
        .await
    }

    /// [`Engine::token`](crate::token::Engine::token) for `action`, handed to `deliver`
    /// (the window's copy puts it on the clipboard), and recorded once `deliver` is done:
    /// the outcome is the token request's error code, else `deliver`'s (`code_of` its
    /// error), else `ok`. So a copy whose clipboard write failed is not logged as done.
    ///
    /// # Errors
    /// As [`Engine::token`](crate::token::Engine::token), converted into `E`, or
    /// `deliver`'s.
    pub async fn token_delivered<T, E, Fut>(
        &self,
        name: &str,
        action: Action,
        deliver: impl FnOnce(crate::token::AccessToken) -> Fut,
        code_of: impl FnOnce(&E) -> String,
    ) -> std::result::Result<T, E>
    where
        E: From<crate::Error>,
        Fut: std::future::Future<Output = std::result::Result<T, E>>,
    {
        let (id, detail, outcome, out) = match self.token(name).await {
            Ok(t) => {
                let (id, detail) = (t.credential_id.clone(), source_word(t.source));
                let out = deliver(t).await;
                let outcome = match &out {
                    Ok(_) => "ok".to_string(),
                    Err(e) => code_of(e),
                };
                (Some(id), Some(detail), outcome, out)
            }
            Err(e) => (None, None, e.code().to_string(), Err(E::from(e))),
        };
        self.vault
            .record_action(action, id.as_deref(), name, self.origin(), &outcome, detail);
        out
    }

    /// Records a test's report (`anchor`: also anchor the head, which `test_all` does
    /// once at its end instead).
    pub(crate) fn audit_test(
        &self,
        record: &crate::vault::metadata::CredentialRecord,
        report: &crate::dto::TestReport,
        anchor: bool,
    ) {
        let rec = Record::new(
            Action::Test,
            Some(&record.id),
            &record.name,
            self.vault.name(),
            self.origin(),
            &test_outcome(report),
        );
        let log = self.vault.audit_log();
        if anchor {
            log.record(rec);
        } else if let Err(e) = log.append(rec) {
            report_failure(&e);
        }
    }

    /// Records a refresh-token request's outcome.
    pub(crate) fn audit_refresh<T>(&self, record: &crate::vault::metadata::CredentialRecord, r: &Result<T>) {
        self.vault.record_action(
            Action::Refresh,
            Some(&record.id),
            &record.name,
            self.origin(),
            &outcome_of(r),
            None,
        );
    }

    /// Records a rotation's outcome: `ok` when the new set is in use, `rejected` when it
    /// failed its test (nothing changed), else the error's code.
    pub(crate) fn audit_rotate(&self, name: &str, r: &Result<crate::rotation::RotateOutcome>) {
        use crate::rotation::RotateOutcome;
        let (id, outcome) = match r {
            Ok(RotateOutcome::Rotated { summary, .. }) => (Some(summary.id.clone()), "ok".to_string()),
            Ok(RotateOutcome::Rejected { report }) => {
                (self.vault.audit_id(name), format!("rejected:{}", test_outcome(report)))
            }
            Err(e) => (self.vault.audit_id(name), e.code().to_string()),
        };
        self.vault
            .record_action(Action::Rotate, id.as_deref(), name, self.origin(), &outcome, None);
    }

    /// Records a revocation's outcome.
    pub(crate) fn audit_revoke(&self, name: &str, id: Option<String>, r: &Result<crate::token::RevokeOutcome>) {
        use crate::token::RevokeOutcome;
        let detail = match r {
            Ok(RevokeOutcome::Revoked) => Some("revoked"),
            Ok(RevokeOutcome::NothingCached) => Some("nothing_cached"),
            Ok(RevokeOutcome::NoEndpoint { .. }) => Some("discarded_no_endpoint"),
            Err(_) => None,
        };
        self.vault.record_action(
            Action::Revoke,
            id.as_deref(),
            name,
            self.origin(),
            &outcome_of(r),
            detail,
        );
    }
}

#[cfg(test)]
mod tests;
