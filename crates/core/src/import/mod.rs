//! Importing credentials from the files merchants keep them in today: `.env` files, Postman
//! environments and collection auth, Bruno environments (with the `.env` beside them),
//! Insomnia v4 exports, and Tillkey's own encrypted backups ([`crate::backup`]).
//!
//! Every input is hostile: files are size-capped ([`MAX_FILE_BYTES`]), parsers never panic
//! and stop at [`MAX_VARIABLES`] values, and an error names the file, line or JSON field at
//! fault, never a value (it may be a secret).
//!
//! The work is three steps, each its own function so front ends and tests can use them:
//!
//! 1. [`load`] reads the file (and a Bruno environment's `.env`) and [`parse`] turns it into
//!    [`Parsed`]: groups of named variables, each with where its value is in the source.
//! 2. [`plan`] maps variables to credentials: a [`Mapping`] from `--map`/`--mapping` first,
//!    else the known names (`{KIND}_{FIELD}`, e.g. `MYPOS_CLIENT_SECRET`; see
//!    [`known_names`]).
//! 3. [`import`] checks each planned credential exactly as `add` does and adds the valid
//!    ones with [`Vault::add_many`] (never overwriting a name), and returns the [`Report`].
//!
//! [`import`] is the one entry point of an import into a vault: the audit log records it
//! there.

pub mod bruno;
pub mod dotenv;
pub mod insomnia;
mod mapping;
pub mod postman;
#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

pub use mapping::{known_names, KnownName, Mapping, Target};

use crate::dto::{Environment, NewCredential};
use crate::error::{Error, ErrorInfo};
use crate::vault::Vault;
use crate::{providers, MemoryStore};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use ts_rs::TS;

/// Largest file an import reads (1 MiB): environments and exports are a few kB.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Most variables one file may hold.
pub const MAX_VARIABLES: usize = 10_000;
/// Longest variable name.
pub const MAX_NAME_LEN: usize = 256;
/// Deepest JSON nesting the JSON formats accept (Postman folders, Insomnia data).
pub const MAX_DEPTH: usize = 64;

/// Why a file could not be imported at all. Nothing was imported then.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The file could not be read.
    #[error("{file} cannot be read: {detail}")]
    Unreadable {
        /// The file, as given.
        file: String,
        /// The OS error.
        detail: String,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("{file} is larger than {max_kib} KiB, more than any environment or export Tillkey imports")]
    TooLarge {
        /// The file.
        file: String,
        /// The cap in KiB.
        max_kib: u64,
    },
    /// A line of a text format is malformed.
    #[error("{file}, line {line}: {detail}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong (never the line's content).
        detail: String,
    },
    /// A JSON document is malformed or a field has the wrong shape.
    #[error("{file}: {detail}")]
    Shape {
        /// The file.
        file: String,
        /// What is wrong, naming the JSON field or position (never a value).
        detail: String,
    },
    /// The file is none of the formats Tillkey imports.
    #[error("{file} is not a file Tillkey imports ({detail})")]
    Unrecognised {
        /// The file.
        file: String,
        /// What it looked like.
        detail: String,
    },
    /// A `--map` entry or a line of a mapping file is invalid.
    #[error("invalid mapping {entry}: {reason}")]
    Mapping {
        /// The entry (`--map #2`, `mapping.txt line 3`).
        entry: String,
        /// What is wrong.
        reason: String,
    },
    /// The file is a backup and no passphrase was given.
    #[error("{file} is an encrypted Tillkey backup")]
    PassphraseRequired {
        /// The backup file.
        file: String,
    },
    /// The backup's passphrase is wrong.
    #[error("{file} could not be decrypted: wrong passphrase")]
    WrongPassphrase {
        /// The backup file.
        file: String,
    },
    /// The file is an age file, but not a readable Tillkey backup.
    #[error("{file} is not a readable Tillkey backup ({detail})")]
    BadBackup {
        /// The backup file.
        file: String,
        /// What is wrong (shape only).
        detail: String,
    },
}

impl ImportError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Unreadable { .. } => "import_unreadable",
            ImportError::TooLarge { .. } => "import_too_large",
            ImportError::Syntax { .. } | ImportError::Shape { .. } => "import_invalid",
            ImportError::Unrecognised { .. } => "import_unrecognised",
            ImportError::Mapping { .. } => "invalid_mapping",
            ImportError::PassphraseRequired { .. } => "backup_passphrase_required",
            ImportError::WrongPassphrase { .. } => "wrong_passphrase",
            ImportError::BadBackup { .. } => "backup_invalid",
        }
    }

    /// The CLI exit code: 2 (an unreadable file or bad mapping, nothing imported), except a
    /// wrong backup passphrase: 1 (rejected, as a wrong vault passphrase is).
    pub fn exit_code(&self) -> u8 {
        match self {
            ImportError::WrongPassphrase { .. } => 1,
            _ => 2,
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            ImportError::Unreadable { .. } => "Check the path and that you may read the file.".into(),
            ImportError::TooLarge { .. } => {
                "Import the environment or export itself, not a whole workspace dump or another file.".into()
            }
            ImportError::Syntax { .. } | ImportError::Shape { .. } => {
                "Fix the file at that place (or export it again from its tool); nothing was imported.".into()
            }
            ImportError::Unrecognised { .. } => "Tillkey imports .env files (KEY=VALUE), Postman environments and \
                 collections (v2.x JSON), Bruno environment .bru files, Insomnia v4 JSON exports and its own \
                 backups from `tillkey export`."
                .into(),
            ImportError::Mapping { .. } => "A mapping is VAR=KIND.FIELD or VAR=NAME:KIND.FIELD, e.g. \
                 SHOP_KEY=paysera-pos.token or SHOP_KEY=shop:paysera-pos.token (`tillkey providers` lists \
                 kinds and fields; FIELD may also be `env`)."
                .into(),
            ImportError::PassphraseRequired { .. } => {
                "Type the passphrase given to `tillkey export` when the backup was made.".into()
            }
            ImportError::WrongPassphrase { .. } => {
                "Type the passphrase given to `tillkey export` when the backup was made; nothing was imported.".into()
            }
            ImportError::BadBackup { .. } => {
                "The file was changed or cut short after `tillkey export`; use another copy of the backup.".into()
            }
        }
    }

    /// Code, message and hint for a front end.
    pub fn info(&self) -> ErrorInfo {
        ErrorInfo {
            code: self.code().into(),
            message: self.to_string(),
            hint: Some(self.hint()),
        }
    }
}

/// The formats [`parse`] recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "ImportFormat")]
pub enum Format {
    /// `KEY=VALUE` lines.
    Dotenv,
    /// A Postman environment export.
    PostmanEnvironment,
    /// A Postman collection (v2.0/v2.1): its auth settings and collection variables.
    PostmanCollection,
    /// A Bruno environment `.bru` file, with the collection's `.env`.
    BrunoEnvironment,
    /// An Insomnia v4 JSON export.
    Insomnia,
    /// A Tillkey backup (`tillkey export`), age-encrypted.
    Backup,
}

impl Format {
    /// How reports name the format.
    pub fn label(self) -> &'static str {
        match self {
            Format::Dotenv => ".env file",
            Format::PostmanEnvironment => "Postman environment",
            Format::PostmanCollection => "Postman collection",
            Format::BrunoEnvironment => "Bruno environment",
            Format::Insomnia => "Insomnia export",
            Format::Backup => "Tillkey backup",
        }
    }
}

/// Where a value is in the source: the file, its line where known, and its place in the
/// document (`values[2]`, `item[0].auth.oauth2[3]`, `vars › client_secret`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "ImportLocation")]
pub struct Location {
    /// The file (as given; a Bruno environment's `.env` by its own path).
    pub file: String,
    /// 1-based line.
    pub line: Option<usize>,
    /// The place inside the document.
    pub at: String,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{} line {l} ({})", self.file, self.at),
            None => write!(f, "{} ({})", self.file, self.at),
        }
    }
}

/// One named value found in a source.
pub struct Variable {
    /// Its name in the source (a Postman key, a `.env` name; collection auth is read as the
    /// known names, `OAUTH2_CLIENT_ID` …).
    pub name: String,
    /// Its value, trimmed by the parser only where the format says so.
    pub value: SecretString,
    /// Where the value is.
    pub at: Location,
}

impl std::fmt::Debug for Variable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Variable")
            .field("name", &self.name)
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

/// Variables that belong together: one environment, one auth setting.
#[derive(Debug, Default)]
pub struct Group {
    /// The environment's or request's name, used in credential names.
    pub label: Option<String>,
    /// The variables, in source order.
    pub variables: Vec<Variable>,
}

/// Something in the source that was seen and left alone, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "ImportIgnored")]
pub struct Ignored {
    /// The variable or setting.
    pub name: String,
    /// Where it is.
    pub at: Location,
    /// Why it was left alone.
    pub reason: String,
}

/// A parsed source.
#[derive(Debug)]
pub struct Parsed {
    /// Its format.
    pub format: Format,
    /// Its groups.
    pub groups: Vec<Group>,
    /// What the parser saw and could not use.
    pub ignored: Vec<Ignored>,
    /// Credentials read whole (a backup), which need no mapping.
    pub credentials: Vec<Planned>,
}

/// A file read for import: its bytes and, for a Bruno environment, the collection's `.env`.
pub struct Source {
    /// The file as the user named it (for messages).
    pub file: String,
    /// Its content (at most [`MAX_FILE_BYTES`]).
    pub bytes: Vec<u8>,
    /// A Bruno environment's `.env` (the collection root's, else the one beside the file).
    pub dotenv: Option<(String, Vec<u8>)>,
}

impl Source {
    /// Whether the file is a Tillkey backup, which [`read`] needs a passphrase for.
    pub fn is_backup(&self) -> bool {
        crate::backup::is_backup(&self.bytes)
    }
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("file", &self.file)
            .field("bytes", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// Reads at most [`MAX_FILE_BYTES`] of `path`.
///
/// # Errors
/// [`ImportError::Unreadable`], [`ImportError::TooLarge`].
pub fn read_capped(path: &Path) -> Result<Vec<u8>, ImportError> {
    use std::io::Read;
    let file = path.display().to_string();
    let unreadable = |e: std::io::Error| ImportError::Unreadable {
        file: file.clone(),
        detail: e.to_string(),
    };
    let f = std::fs::File::open(path).map_err(unreadable)?;
    if f.metadata().map_err(unreadable)?.is_dir() {
        return Err(ImportError::Unreadable {
            file,
            detail: "it is a directory".into(),
        });
    }
    let mut bytes = Vec::new();
    f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(unreadable)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ImportError::TooLarge {
            file,
            max_kib: MAX_FILE_BYTES / 1024,
        });
    }
    Ok(bytes)
}

/// Reads `path` for import; for a `.bru` file also the Bruno collection's `.env` (see
/// [`bruno::dotenv_path`]) when there is one.
///
/// # Errors
/// As [`read_capped`], for either file.
pub fn load(path: &Path) -> Result<Source, ImportError> {
    let bytes = read_capped(path)?;
    let dotenv = match bruno::dotenv_path(path) {
        Some(p) if path.extension().is_some_and(|e| e == "bru") => {
            let b = read_capped(&p)?;
            Some((p.display().to_string(), b))
        }
        _ => None,
    };
    Ok(Source {
        file: path.display().to_string(),
        bytes,
        dotenv,
    })
}

/// The source as UTF-8 text (a BOM is dropped).
///
/// # Errors
/// [`ImportError::Syntax`] naming the line of the first invalid byte.
pub(crate) fn text<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| ImportError::Syntax {
        file: file.into(),
        line: 1 + bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count(),
        detail: "the file is not UTF-8 text".into(),
    })
}

/// Recognises the format of `source` and parses it, decrypting a Tillkey backup with
/// `passphrase` (see [`Source::is_backup`]; the other formats ignore it). A backup costs
/// the scrypt work of its passphrase (up to a second or so): call this off a UI thread.
///
/// # Errors
/// [`ImportError::PassphraseRequired`] for a backup without a passphrase,
/// [`ImportError::WrongPassphrase`], and otherwise as [`parse`].
pub fn read(source: &Source, passphrase: Option<&SecretString>) -> Result<Parsed, ImportError> {
    match passphrase {
        Some(p) if source.is_backup() => crate::backup::read(&source.file, &source.bytes, p),
        _ => parse(source),
    }
}

/// Recognises the format of `source` and parses it. A backup needs its passphrase: this
/// returns [`ImportError::PassphraseRequired`] for it (see [`read`]).
///
/// # Errors
/// [`ImportError`] naming the line or field at fault.
pub fn parse(source: &Source) -> Result<Parsed, ImportError> {
    let file = source.file.as_str();
    if source.is_backup() {
        return Err(ImportError::PassphraseRequired { file: file.into() });
    }
    let text = text(file, &source.bytes)?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let doc = json(file, text)?;
        if insomnia::looks_like(&doc) {
            return insomnia::parse(file, text, &doc);
        }
        if postman::looks_like_collection(&doc) {
            return postman::parse_collection(file, text, &doc);
        }
        if postman::looks_like_environment(&doc) {
            return postman::parse_environment(file, text, &doc);
        }
        return Err(ImportError::Unrecognised {
            file: file.into(),
            detail: "a JSON document that is neither a Postman environment or collection nor an Insomnia v4 export"
                .into(),
        });
    }
    if trimmed.starts_with("type: collection.insomnia.rest/") || trimmed.starts_with("_type: export") {
        return Err(ImportError::Unrecognised {
            file: file.into(),
            detail: "an Insomnia YAML export: export the collection again as Insomnia v4 (JSON)".into(),
        });
    }
    if bruno::looks_like(text) || Path::new(file).extension().is_some_and(|e| e == "bru") {
        let dotenv = match &source.dotenv {
            Some((f, b)) => Some((f.as_str(), self::text(f, b)?)),
            None => None,
        };
        return bruno::parse(file, text, dotenv);
    }
    dotenv::parse(file, text)
}

/// Parses JSON with a nesting cap (serde_json's own recursion limit is 128; this is lower so
/// the walkers below can recurse without care).
fn json(file: &str, text: &str) -> Result<serde_json::Value, ImportError> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| ImportError::Shape {
        file: file.into(),
        detail: format!(
            "not valid JSON at line {} column {} ({})",
            e.line(),
            e.column(),
            json_error_kind(&e)
        ),
    })?;
    if depth(&doc, 0) > MAX_DEPTH {
        return Err(ImportError::Shape {
            file: file.into(),
            detail: format!("nested deeper than {MAX_DEPTH} levels"),
        });
    }
    Ok(doc)
}

/// serde_json's error kind in words, without its message (which may quote input).
fn json_error_kind(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected value",
        serde_json::error::Category::Eof => "the document ends too early",
    }
}

fn depth(v: &serde_json::Value, d: usize) -> usize {
    if d > MAX_DEPTH {
        return d;
    }
    match v {
        serde_json::Value::Array(a) => a.iter().map(|x| depth(x, d + 1)).max().unwrap_or(d + 1),
        serde_json::Value::Object(o) => o.values().map(|x| depth(x, d + 1)).max().unwrap_or(d + 1),
        _ => d,
    }
}

/// A JSON source's text with an index of its string literals, to tell the user which
/// lines hold a value (a secret to delete there). Built once per file: one pass over the
/// text, then each look-up is a hash-map hit.
pub(crate) struct JsonText<'a> {
    text: &'a str,
    literals: std::collections::HashMap<&'a str, Vec<usize>>,
    /// Substring searches left (for values that are only part of a literal: a filled-in
    /// template); bounded so a hostile file cannot make every look-up scan it.
    searches: std::cell::Cell<u32>,
}

impl<'a> JsonText<'a> {
    /// Indexes every string literal of `text` (as written, escapes and all) by its line.
    pub(crate) fn new(text: &'a str) -> Self {
        let mut literals: std::collections::HashMap<&'a str, Vec<usize>> = std::collections::HashMap::new();
        let bytes = text.as_bytes();
        let (mut i, mut line) = (0, 1);
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => line += 1,
                b'"' => {
                    let start = i + 1;
                    let mut j = start;
                    while j < bytes.len() && bytes[j] != b'"' {
                        j += if bytes[j] == b'\\' { 2 } else { 1 };
                    }
                    let end = j.min(bytes.len());
                    if let Some(lit) = text.get(start..end) {
                        let lines = literals.entry(lit).or_default();
                        if lines.last() != Some(&line) && lines.len() < 100 {
                            lines.push(line);
                        }
                        line += lit.bytes().filter(|b| *b == b'\n').count();
                    }
                    i = end;
                }
                _ => {}
            }
            i += 1;
        }
        JsonText {
            text,
            literals,
            searches: std::cell::Cell::new(1000),
        }
    }

    /// The 1-based lines where `value` is written as a whole JSON string, else as a part
    /// of one; empty when it is not found (or the search budget is spent).
    pub(crate) fn lines(&self, value: &str) -> Vec<usize> {
        let Ok(quoted) = serde_json::to_string(value) else {
            return Vec::new();
        };
        let escaped = &quoted[1..quoted.len() - 1];
        if escaped.is_empty() {
            return Vec::new();
        }
        if let Some(lines) = self.literals.get(escaped) {
            return lines.clone();
        }
        let left = self.searches.get();
        if left == 0 {
            return Vec::new();
        }
        self.searches.set(left - 1);
        lines_of(self.text, escaped)
    }
}

/// The 1-based lines of `text` where `value` appears as a JSON string (JSON-escaped), for
/// telling the user which lines of an export hold a secret.
#[cfg(test)]
pub(crate) fn json_lines_of(text: &str, value: &str) -> Vec<usize> {
    JsonText::new(text).lines(value)
}

/// The 1-based lines of `text` where `needle` appears (at most 100).
fn lines_of(text: &str, needle: &str) -> Vec<usize> {
    let (mut lines, mut from, mut line) = (Vec::new(), 0, 1);
    while let Some(i) = text[from..].find(needle) {
        let at = from + i;
        // Newlines counted once over the text, not from its start for every hit.
        line += text[from..at].bytes().filter(|b| *b == b'\n').count();
        if lines.last() != Some(&line) {
            lines.push(line);
        }
        line += needle.bytes().filter(|b| *b == b'\n').count();
        from = at + needle.len();
        if lines.len() >= 100 {
            break;
        }
    }
    lines
}

/// A name or word from the source for a message: no control characters, at most 64
/// characters (never used for values).
pub(crate) fn mapping_safe(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// Counts variables against [`MAX_VARIABLES`].
pub(crate) fn check_count(file: &str, n: usize) -> Result<(), ImportError> {
    if n > MAX_VARIABLES {
        return Err(ImportError::Shape {
            file: file.into(),
            detail: format!("more than {MAX_VARIABLES} variables"),
        });
    }
    Ok(())
}

/// A credential the plan would add.
pub struct Planned {
    /// What `add` receives.
    pub new: NewCredential,
    /// Where each value came from.
    pub sources: Vec<Location>,
    /// Where its secret values are in the source (to delete there after the import).
    pub secret_at: Vec<Location>,
    /// Its rotation period and secret dates in the backup it came from (backups only;
    /// otherwise the default: a new credential's).
    pub history: crate::vault::batch::History,
}

impl std::fmt::Debug for Planned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Planned")
            .field("new", &self.new)
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

/// A credential that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "ImportSkipped")]
pub struct Skipped {
    /// Its name, where it had one.
    pub name: String,
    /// Its provider kind.
    pub provider: String,
    /// Why: a stable code (`already_exists`, `invalid_input`, `missing_field`, …).
    pub code: String,
    /// Why, in words (never a secret).
    pub reason: String,
    /// Where its values are.
    pub sources: Vec<Location>,
}

/// What [`plan`] makes of a parsed source.
#[derive(Debug, Default)]
pub struct Plan {
    /// Credentials to add, in source order.
    pub credentials: Vec<Planned>,
    /// Credentials that cannot be added whatever the vault holds.
    pub skipped: Vec<Skipped>,
    /// Variables and settings left alone.
    pub ignored: Vec<Ignored>,
}

/// One credential the import added (or, in a dry run, would add).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "ImportedCredential")]
pub struct Imported {
    /// Its name.
    pub name: String,
    /// Its provider kind.
    pub provider: String,
    /// Its environment.
    pub environment: Environment,
    /// The secret fields stored in the keyring (names only).
    pub secret_fields: Vec<String>,
    /// Where its values came from.
    pub sources: Vec<Location>,
}

/// What an import did: the report front ends print.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "ImportReport")]
pub struct Report {
    /// The file.
    pub file: String,
    /// Its format.
    pub format: Format,
    /// Whether nothing was changed (`--dry-run`).
    pub dry_run: bool,
    /// Added (or, in a dry run, would be added).
    pub imported: Vec<Imported>,
    /// Not added, with the reason.
    pub skipped: Vec<Skipped>,
    /// Variables and settings left alone.
    pub ignored: Vec<Ignored>,
    /// Where the imported secrets are in the source, so the user can delete them there.
    /// Tillkey never edits the source.
    pub secret_locations: Vec<Location>,
}

impl Report {
    /// The CLI exit code: 0 when every credential found was imported, 1 when any was
    /// skipped or none was found.
    pub fn exit_code(&self) -> u8 {
        if self.skipped.is_empty() && !self.imported.is_empty() {
            0
        } else {
            1
        }
    }
}

/// The credential name for `kind` in a group called `label`: `shop-production-mypos`, or
/// the kind alone without a label.
pub(crate) fn default_name(label: Option<&str>, kind: &str) -> String {
    let slug = label.map(slug).unwrap_or_default();
    if slug.is_empty() {
        kind.to_string()
    } else {
        let mut s = format!("{slug}-{kind}");
        s.truncate(64);
        s.trim_end_matches('-').to_string()
    }
}

/// Lower case letters, digits and single dashes; at most 40 characters.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 40 {
            break;
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Maps the variables of `parsed` to credentials: each variable goes where `mapping` says,
/// else where its known name says (see [`known_names`]), else it is ignored. Variables of
/// one group that go to the same credential name and kind make one credential. Two
/// different values for one field skip that credential.
pub fn plan(parsed: Parsed, mapping: &Mapping) -> Plan {
    let mut out = Plan {
        ignored: parsed.ignored,
        ..Plan::default()
    };
    let mut names = BTreeSet::new();
    for p in parsed.credentials {
        if !names.insert(p.new.name.clone()) {
            out.skipped.push(twice(&p));
        } else {
            out.credentials.push(p);
        }
    }
    for group in parsed.groups {
        // (name, kind) → field → values with their places, in first-seen order.
        let mut creds: Vec<((String, String), FieldValues)> = Vec::new();
        for v in group.variables {
            let Some(target) = mapping.target(&v.name) else {
                out.ignored.push(Ignored {
                    name: v.name,
                    at: v.at,
                    reason: "not a known variable name; map it with --map VAR=KIND.FIELD".into(),
                });
                continue;
            };
            let name = target
                .name
                .clone()
                .unwrap_or_else(|| default_name(group.label.as_deref(), &target.kind));
            let key = (name, target.kind.clone());
            let idx = match creds.iter().position(|(k, _)| *k == key) {
                Some(i) => i,
                None => {
                    creds.push((key, BTreeMap::new()));
                    creds.len() - 1
                }
            };
            creds[idx]
                .1
                .entry(target.field.clone())
                .or_default()
                .push((v.value, v.at));
        }
        for ((name, kind), fields) in creds {
            let p = build(name, kind, fields);
            match p {
                Ok(p) if !names.insert(p.new.name.clone()) => out.skipped.push(twice(&p)),
                Ok(p) => out.credentials.push(p),
                Err(s) => out.skipped.push(s),
            }
        }
    }
    out
}

fn twice(p: &Planned) -> Skipped {
    Skipped {
        name: p.new.name.clone(),
        provider: p.new.provider.clone(),
        code: "already_exists".into(),
        reason: "the file gives this name twice; only the first was kept".into(),
        sources: p.sources.clone(),
    }
}

/// The values mapped to each field of one credential, with where each came from.
type FieldValues = BTreeMap<String, Vec<(SecretString, Location)>>;

/// The pseudo-field that sets a credential's environment.
pub const ENV_FIELD: &str = "env";

/// One credential from the values mapped to it.
fn build(name: String, kind: String, fields: FieldValues) -> Result<Planned, Skipped> {
    let mut sources: Vec<Location> = fields.values().flatten().map(|(_, at)| at.clone()).collect();
    sources.sort();
    sources.dedup();
    let skip = |code: &str, reason: String| Skipped {
        name: name.clone(),
        provider: kind.clone(),
        code: code.into(),
        reason,
        sources: sources.clone(),
    };
    let schema = providers::schema(&kind).map_err(|e| skip(e.code(), e.to_string()))?;
    let mut new = NewCredential {
        name: name.clone(),
        provider: kind.clone(),
        environment: None,
        fields: BTreeMap::new(),
        secrets: BTreeMap::new(),
    };
    let mut secret_at = Vec::new();
    for (field, values) in fields {
        let (first, at) = &values[0];
        if let Some((_, other)) = values.iter().find(|(v, _)| v.expose_secret() != first.expose_secret()) {
            return Err(skip(
                "conflicting_values",
                format!("two different values for `{field}` ({at} and {other})"),
            ));
        }
        if let Some(t) = template_in(first.expose_secret()) {
            return Err(skip(
                "unresolved_variable",
                format!("`{field}` ({at}) refers to {t}, which the file does not define"),
            ));
        }
        if field == ENV_FIELD {
            let env = first.expose_secret().parse::<Environment>().map_err(|_| {
                skip(
                    "invalid_input",
                    format!("`{ENV_FIELD}` ({at}) is not production or sandbox"),
                )
            })?;
            new.environment = Some(env);
            continue;
        }
        match schema.field(&field) {
            Some(f) if f.secret => {
                secret_at.extend(values.iter().map(|(_, at)| at.clone()));
                new.secrets.insert(field, first.clone());
            }
            Some(_) => {
                new.fields.insert(field, first.expose_secret().to_string());
            }
            None => return Err(skip("invalid_input", format!("{kind} has no field `{field}` ({at})"))),
        }
    }
    Ok(Planned {
        new,
        sources,
        secret_at,
        history: Default::default(),
    })
}

/// The first `{{…}}` template reference in `value`, by its name only (a value a tool would
/// have filled in, which the file did not define).
fn template_in(value: &str) -> Option<String> {
    let start = value.find("{{")?;
    let end = value[start..].find("}}")?;
    let inner = value[start + 2..start + end].trim();
    // Names only: a reference never holds a secret, but cap it anyway.
    let name: String = inner.chars().take(64).filter(|c| !c.is_control()).collect();
    Some(format!("{{{{{name}}}}}"))
}

/// How [`import`] treats the vault.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Check everything, change nothing.
    pub dry_run: bool,
}

/// Imports the planned credentials of `file` (format `format`) into `vault`: each is
/// checked exactly as `add` checks (the vault's own validation, run against a scratch vault
/// in memory, so one invalid credential skips only itself), a name the vault already has
/// is skipped (never overwritten), and the valid ones are added with one
/// [`Vault::add_many`] (one write order, all or none). A backup's rotation periods and
/// secret dates are kept. With [`Options::dry_run`] nothing is written.
///
/// This is the one entry point of an import into a vault (CLI and window): the audit log
/// hooks here.
///
/// # Errors
/// The vault's own errors (keyring unavailable or locked, file errors) from reading its
/// names or from the final add: nothing was imported then.
pub fn import(vault: &Vault, file: &str, format: Format, plan: Plan, options: Options) -> Result<Report, Error> {
    let mut report = Report {
        file: file.into(),
        format,
        dry_run: options.dry_run,
        imported: Vec::new(),
        skipped: plan.skipped,
        ignored: plan.ignored,
        secret_locations: Vec::new(),
    };
    let taken: BTreeSet<String> = vault.list()?.into_iter().map(|c| c.name).collect();
    let scratch_dir = tempfile::tempdir().map_err(|e| Error::Io {
        action: "cannot create a scratch directory in",
        path: std::env::temp_dir(),
        source: e,
    })?;
    let scratch = Vault::open(scratch_dir.path(), Arc::new(MemoryStore::new()), vault.clock().clone())?;
    let mut ready = Vec::new();
    for p in plan.credentials {
        let skip = |code: &str, reason: String| Skipped {
            name: p.new.name.clone(),
            provider: p.new.provider.clone(),
            code: code.into(),
            reason,
            sources: p.sources.clone(),
        };
        if taken.contains(&p.new.name) {
            report.skipped.push(skip(
                "already_exists",
                format!(
                    "the vault already has a credential named `{}`; it was left as it is",
                    p.new.name
                ),
            ));
            continue;
        }
        match scratch.add_unrecorded(clone_new(&p.new)) {
            Ok(_) => ready.push(p),
            Err(e) => report.skipped.push(skip(e.code(), e.to_string())),
        }
    }
    drop(scratch);
    // Names another process took meanwhile come back as `already_exists`: skip those and
    // add the rest (bounded: each round drops one).
    let added = loop {
        if options.dry_run || ready.is_empty() {
            break Vec::new();
        }
        match vault.add_many_restoring(ready.iter().map(|p| (clone_new(&p.new), p.history.clone())).collect()) {
            Ok(added) => break added,
            Err(Error::AlreadyExists(name)) if ready.iter().any(|p| p.new.name == name) => {
                let i = ready.iter().position(|p| p.new.name == name).unwrap_or(0);
                let p = ready.remove(i);
                report.skipped.push(Skipped {
                    reason: format!("the vault already has a credential named `{name}`; it was left as it is"),
                    name,
                    provider: p.new.provider,
                    code: "already_exists".into(),
                    sources: p.sources,
                });
            }
            Err(e) => {
                let names = ready.iter().map(|p| (None, p.new.name.clone()));
                vault.record_many(crate::audit::Action::Import, names, e.code());
                return Err(e);
            }
        }
    };
    let names = added.iter().map(|a| (Some(a.id.clone()), a.name.clone()));
    vault.record_many(crate::audit::Action::Import, names, "ok");
    for p in ready {
        let environment = added
            .iter()
            .find(|a| a.name == p.new.name)
            .map(|a| a.environment)
            .or(p.new.environment)
            .or_else(|| providers::schema(&p.new.provider).ok().map(|s| s.environments[0]))
            .unwrap_or(Environment::Production);
        report.secret_locations.extend(p.secret_at.iter().cloned());
        report.imported.push(Imported {
            name: p.new.name,
            provider: p.new.provider,
            environment,
            secret_fields: p.new.secrets.keys().cloned().collect(),
            sources: p.sources,
        });
    }
    report.secret_locations.sort();
    report.secret_locations.dedup();
    Ok(report)
}

fn clone_new(n: &NewCredential) -> NewCredential {
    NewCredential {
        name: n.name.clone(),
        provider: n.provider.clone(),
        environment: n.environment,
        fields: n.fields.clone(),
        secrets: n.secrets.clone(),
    }
}
