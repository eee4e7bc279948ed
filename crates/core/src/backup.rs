//! Encrypted backups: `tillkey export FILE` writes every credential of a vault (its
//! metadata and its secrets) into one file in the [age](https://age-encryption.org/v1)
//! format, encrypted under a passphrase (age's scrypt recipient); `tillkey import FILE`
//! recognises such a file and restores it through the import's rules (see
//! [`crate::import`]: the same checks as `add`, existing names skipped, never overwritten).
//!
//! There is no plaintext export: the JSON inside is built in a buffer that is wiped when
//! dropped and only ever leaves this module encrypted. The file is written 0600 through a
//! temp file in the same directory and renamed into place (an existing file is replaced
//! only when asked).
//!
//! Inside (after decryption): `{"format": "tillkey-backup", "version": 1, "createdAt",
//! "vault", "credentials": [{"name", "provider", "environment", "fields", "secrets",
//! "createdAt", "rotatedAt", "secretSetAt", "rotationPeriodDays"}]}`. A restore keeps the
//! rotation period, the creation date and the date each secret was set (never later than
//! the restore), so an overdue credential stays overdue.

use crate::dto::{Environment, NewCredential};
use crate::error::{Error, Result};
use crate::import::{Format, ImportError, Location, Parsed, Planned};
use crate::vault::batch::History;
use crate::vault::Vault;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use zeroize::Zeroizing;

/// The first line of every age file.
const AGE_MAGIC: &[u8] = b"age-encryption.org/v1\n";
/// The `format` inside a backup.
const FORMAT: &str = "tillkey-backup";
/// The version this build writes and reads.
const VERSION: u32 = 1;
/// scrypt work factor (log2 N) of a new backup: 2^16 with r = 8 is 64 MiB, about the cost
/// of the vault passphrase's Argon2id.
const WORK_FACTOR: u8 = 16;
/// Highest work factor a backup may ask for when read (a planted file cannot make the
/// import spend minutes and gigabytes).
const MAX_WORK_FACTOR: u8 = 18;
/// Shortest passphrase a new backup accepts.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

/// Whether `bytes` are an age file (binary form).
pub fn is_backup(bytes: &[u8]) -> bool {
    bytes.starts_with(AGE_MAGIC)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Out<'a> {
    format: &'static str,
    version: u32,
    created_at: DateTime<Utc>,
    vault: &'a str,
    credentials: Vec<EntryOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EntryOut<'a> {
    name: &'a str,
    provider: &'a str,
    environment: Environment,
    fields: &'a BTreeMap<String, String>,
    secrets: BTreeMap<&'a str, &'a str>,
    created_at: DateTime<Utc>,
    rotated_at: DateTime<Utc>,
    /// When each secret field was set (every field, so a reader needs no rules).
    secret_set_at: BTreeMap<&'a str, DateTime<Utc>>,
    rotation_period_days: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct In {
    format: String,
    version: u32,
    #[serde(default)]
    credentials: Vec<EntryIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntryIn {
    name: String,
    provider: String,
    environment: Environment,
    #[serde(default)]
    fields: BTreeMap<String, String>,
    #[serde(default)]
    secrets: BTreeMap<String, SecretString>,
    #[serde(default)]
    rotation_period_days: Option<u32>,
    /// The oldest secret's date (every backup has it).
    #[serde(default)]
    rotated_at: Option<DateTime<Utc>>,
    /// When it was first added.
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    /// Each secret field's date (backups written since per-field dates exist).
    #[serde(default)]
    secret_set_at: BTreeMap<String, DateTime<Utc>>,
}

/// What [`export`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// Credentials in the backup.
    pub credentials: usize,
    /// Secret values in it.
    pub secrets: usize,
}

/// Checks a new backup passphrase: at least [`MIN_PASSPHRASE_CHARS`] characters.
///
/// # Errors
/// [`Error::InvalidInput`] (field `passphrase`).
pub fn check_passphrase(passphrase: &SecretString) -> Result<()> {
    if passphrase.expose_secret().chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(Error::InvalidInput {
            field: "passphrase".into(),
            reason: format!(
                "a backup passphrase needs at least {MIN_PASSPHRASE_CHARS} characters; nothing was written"
            ),
        });
    }
    Ok(())
}

/// Writes every credential of `vault` (metadata and secrets) to `path`, encrypted under
/// `passphrase`. The file is created 0600 through a temp file in its directory; an
/// existing `path` is refused unless `replace`.
///
/// # Errors
/// [`Error::InvalidInput`] for a short passphrase or an existing file (without
/// `replace`); the vault's errors reading a secret (keyring locked, secret missing);
/// [`Error::Io`]. Nothing is left at `path` on an error.
pub fn export(vault: &Vault, path: &Path, passphrase: &SecretString, replace: bool) -> Result<Exported> {
    check_passphrase(passphrase)?;
    if !replace && std::fs::symlink_metadata(path).is_ok() {
        return Err(exists(path));
    }
    let batch = vault.begin_batch()?;
    let mut secrets: Vec<Vec<(String, SecretString)>> = Vec::new();
    for r in batch.records() {
        let mut mine = Vec::new();
        for f in &r.secret_fields {
            let value = vault.batch_secret(&batch, r, f)?.ok_or_else(|| Error::SecretMissing {
                credential: r.name.clone(),
                field: f.clone(),
            })?;
            mine.push((f.clone(), value));
        }
        secrets.push(mine);
    }
    let credentials: Vec<EntryOut<'_>> = batch
        .records()
        .iter()
        .zip(&secrets)
        .map(|(r, s)| EntryOut {
            name: &r.name,
            provider: &r.provider,
            environment: r.environment,
            fields: &r.fields,
            secrets: s.iter().map(|(k, v)| (k.as_str(), v.expose_secret())).collect(),
            created_at: r.created_at,
            rotated_at: r.rotated_at,
            secret_set_at: r
                .secret_fields
                .iter()
                .map(|f| (f.as_str(), crate::vault::age::set_at(r, f)))
                .collect(),
            rotation_period_days: r.rotation_period_days,
        })
        .collect();
    let count = Exported {
        credentials: credentials.len(),
        secrets: secrets.iter().map(Vec::len).sum(),
    };
    let doc = Out {
        format: FORMAT,
        version: VERSION,
        created_at: vault.clock().now(),
        vault: vault.name(),
        credentials,
    };
    let mut plain = Zeroizing::new(Vec::new());
    serde_json::to_writer(&mut *plain, &doc).map_err(|e| Error::Internal(format!("backup encoding: {e}")))?;
    drop(doc);
    let mut recipient =
        age::scrypt::Recipient::new(age::secrecy::SecretString::from(passphrase.expose_secret().to_owned()));
    recipient.set_work_factor(WORK_FACTOR);
    let sealed = age::encrypt(&recipient, &plain).map_err(|e| Error::Internal(format!("backup encryption: {e}")))?;
    drop(plain);
    write_new(path, &sealed, replace)?;
    Ok(count)
}

fn exists(path: &Path) -> Error {
    Error::InvalidInput {
        field: "FILE".into(),
        reason: format!(
            "{} already exists; nothing was written (choose another file, or pass --force to replace it)",
            path.display()
        ),
    }
}

/// Writes `bytes` to `path` 0600 through a temp file in its directory, renamed into place;
/// an existing `path` is an error unless `replace`.
fn write_new(path: &Path, bytes: &[u8], replace: bool) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let io = |action: &'static str, p: &Path, e: std::io::Error| Error::Io {
        action,
        path: p.to_path_buf(),
        source: e,
    };
    // tempfile creates it 0600 on Unix.
    let mut tmp = tempfile::Builder::new()
        .prefix(".tillkey-backup.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| io("cannot create a temp file in", dir, e))?;
    tmp.write_all(bytes).map_err(|e| io("cannot write", tmp.path(), e))?;
    tmp.as_file().sync_all().map_err(|e| io("cannot sync", tmp.path(), e))?;
    if replace {
        tmp.persist(path).map_err(|e| io("cannot write", path, e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                exists(path)
            } else {
                io("cannot write", path, e.error)
            }
        })?;
    }
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Decrypts and reads a backup (`file` names it in messages) into credentials ready for
/// [`crate::import::plan`]. Nothing is written.
///
/// # Errors
/// [`ImportError::WrongPassphrase`]; [`ImportError::BadBackup`] for a damaged file, one
/// that asks for too much scrypt work, or one that is not a Tillkey backup inside.
pub fn read(file: &str, bytes: &[u8], passphrase: &SecretString) -> Result<Parsed, ImportError> {
    let bad = |detail: String| ImportError::BadBackup {
        file: file.into(),
        detail,
    };
    let mut identity =
        age::scrypt::Identity::new(age::secrecy::SecretString::from(passphrase.expose_secret().to_owned()));
    identity.set_max_work_factor(MAX_WORK_FACTOR);
    let plain = Zeroizing::new(age::decrypt(&identity, bytes).map_err(|e| match e {
        age::DecryptError::DecryptionFailed
        | age::DecryptError::KeyDecryptionFailed
        | age::DecryptError::NoMatchingKeys => ImportError::WrongPassphrase { file: file.into() },
        age::DecryptError::ExcessiveWork { required, .. } => bad(format!(
            "it asks for scrypt work factor {required}, above the {MAX_WORK_FACTOR} Tillkey accepts"
        )),
        age::DecryptError::InvalidMac => bad("its header was altered".into()),
        age::DecryptError::InvalidHeader | age::DecryptError::UnknownFormat => bad("its age header is invalid".into()),
        age::DecryptError::Io(e) => bad(format!("its content is damaged ({})", e.kind())),
    })?);
    let doc: In = serde_json::from_slice(&plain).map_err(|e| {
        bad(format!(
            "its content is not a Tillkey backup (line {} column {})",
            e.line(),
            e.column()
        ))
    })?;
    if doc.format != FORMAT {
        return Err(bad("its content is not a Tillkey backup".into()));
    }
    if doc.version != VERSION {
        return Err(bad(format!(
            "it is version {} and this Tillkey reads version {VERSION}",
            doc.version
        )));
    }
    crate::import::check_count(file, doc.credentials.len())?;
    let credentials = doc
        .credentials
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let at = Location {
                file: file.into(),
                line: None,
                at: format!("credentials[{i}] ({})", crate::import::mapping_safe(&c.name)),
            };
            // A field without its own date was set at the rotation date.
            let secret_set_at = c
                .secrets
                .keys()
                .filter_map(|f| c.secret_set_at.get(f).copied().or(c.rotated_at).map(|d| (f.clone(), d)))
                .collect();
            Planned {
                new: NewCredential {
                    name: c.name,
                    provider: c.provider,
                    environment: Some(c.environment),
                    fields: c.fields,
                    secrets: c.secrets,
                },
                sources: vec![at],
                // The backup is encrypted: there is nothing in the clear to delete.
                secret_at: Vec::new(),
                history: History {
                    rotation_period_days: c.rotation_period_days,
                    secret_set_at,
                    created_at: c.created_at,
                },
            }
        })
        .collect();
    Ok(Parsed {
        format: Format::Backup,
        groups: Vec::new(),
        ignored: Vec::new(),
        credentials,
    })
}
