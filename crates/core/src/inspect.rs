//! The request inspector: exactly what the last token request and the last connectivity
//! test of each credential sent and received (method, URL, headers, body, status, response
//! headers and body, timings), with every secret masked.
//!
//! Recording costs nothing unless a trace is in scope: [`crate::http::Http::send`] asks
//! [`Pending::start`], which looks up a task-local tape and returns `None` without one.
//! The engine puts a tape in scope only around a fresh token request and a test, so the
//! cached-token path is untouched. The raw exchange (with its secrets, as `SecretString`)
//! stays in memory; only the redacted form ([`Trace`]) is written, to
//! `inspect/<vault>/<credential id>.{token,test}.json` in the data dir (0600, atomic,
//! bounded), and it is read back as hostile input.
//!
//! Redaction ([`Redactor`]) is two-layered:
//! 1. by value: the credential's own secrets in every encoding ([`Scrubber`]), plus every
//!    value this trace saw under a secret name (a token the server just issued is masked
//!    wherever else it shows up, e.g. echoed in a later response);
//! 2. by name: JSON and form fields, URL query parameters and headers whose name says
//!    secret (`access_token`, `client_secret`, `password`, `presharedkey`, `X-Api-Key`,
//!    `Set-Cookie` …, any letter case, nested at any depth), JWT-shaped strings under any
//!    name, and `Authorization` keeping only its scheme (`Bearer ••••`).

use crate::dto::{Stage, TestReport};
use crate::error::{Error, Result};
use crate::http::{Captured, Request};
use crate::scrub::Scrubber;
use crate::vault::metadata::CredentialRecord;
use crate::vault::Vault;
use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use ts_rs::TS;
use url::Url;

/// What a value masked by name is shown as.
pub const MASK: &str = "••••";
/// Longest body kept per request or response (characters, after redaction).
pub const MAX_BODY_SHOWN: usize = 16 * 1024;
/// Most exchanges kept per trace (a test makes at most three requests, a token request two).
pub const MAX_EXCHANGES: usize = 8;
/// Most headers kept per request or response.
pub const MAX_HEADERS: usize = 64;
/// Longest header value or URL kept (characters).
pub const MAX_LINE: usize = 2048;
/// Largest trace file read back.
pub const MAX_FILE: u64 = 1024 * 1024;
/// Version of the trace files this build writes and reads.
pub const FILE_VERSION: u32 = 1;
/// What stands for the body of a successful API answer, which is not kept.
pub const API_BODY_NOT_KEPT: &str =
    "(not kept: a successful API answer holds your business data, such as orders or payments)";
/// Shortest value learned from a secret-named field and then masked wherever it appears
/// (shorter values are still masked under their own name).
const MIN_LEARNED: usize = 6;

// --- the recorded form ------------------------------------------------------------------

/// What a trace recorded: a token request (`tillkey token`, `exec`, a copy in the window)
/// or a connectivity test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum TraceKind {
    /// A fresh or refreshed access token.
    Token,
    /// A connectivity test.
    Test,
}

/// One header, its value masked where secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct HeaderLine {
    /// Header name, lowercase.
    pub name: String,
    /// Value, masked where secret.
    pub value: String,
}

/// A request or response body, masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BodyShown {
    /// The body: pretty JSON, `key=value&…` for forms, else the text; secrets masked.
    pub text: String,
    /// Size of the body as sent or received, in bytes.
    pub bytes: u32,
    /// Whether `text` was cut at [`MAX_BODY_SHOWN`] characters (or the response at the
    /// HTTP client's body cap).
    pub truncated: bool,
}

/// One HTTP request and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Exchange {
    /// What the request was for: `token request (grant_type=…)` or `API call`.
    pub purpose: String,
    /// HTTP method.
    pub method: String,
    /// The URL, secrets in its query masked.
    pub url: String,
    /// The headers Tillkey set (the HTTP library adds `Host`, `Content-Length` and
    /// a default `Accept` where none is set).
    pub request_headers: Vec<HeaderLine>,
    /// The request body, if any.
    pub request_body: Option<BodyShown>,
    /// HTTP status, when an answer came.
    pub status: Option<u16>,
    /// Response headers.
    pub response_headers: Vec<HeaderLine>,
    /// Response body, if any.
    pub response_body: Option<BodyShown>,
    /// Milliseconds from sending to the response headers.
    pub headers_ms: Option<u32>,
    /// Milliseconds from sending to the last body byte (or the failure).
    pub total_ms: u32,
    /// Why no answer came (network, timeout), when none did.
    pub error: Option<String>,
}

/// A test stage's timing, as its report gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct StageTiming {
    /// The stage.
    pub stage: Stage,
    /// Whether it passed.
    pub ok: bool,
    /// Milliseconds.
    pub latency_ms: u32,
    /// Its message (the connect stage's DNS / TCP / TLS split).
    pub message: String,
}

/// The redacted record of one token request or test of a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Trace {
    /// Token request or test.
    pub kind: TraceKind,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Whether it succeeded.
    pub ok: bool,
    /// The outcome in words (the test summary, or the error).
    pub outcome: String,
    /// The test's stages with their timings (empty for a token request).
    pub stages: Vec<StageTiming>,
    /// The HTTP exchanges, in order.
    pub exchanges: Vec<Exchange>,
}

/// What the inspector shows of one credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Inspection {
    /// Credential name.
    pub credential: String,
    /// The last token request, if one was recorded.
    pub token: Option<Trace>,
    /// The last test, if one was recorded.
    pub test: Option<Trace>,
    /// Recorded files that could not be read back (and are ignored), in words.
    pub problems: Vec<String>,
}

/// The file form of a trace.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TraceFile {
    version: u32,
    credential_id: String,
    trace: Trace,
}

// --- recording ----------------------------------------------------------------------------

tokio::task_local! {
    static TAPE: Tape;
}

/// The raw exchanges of one trace, in memory only (no `Debug`: they hold secrets).
#[derive(Clone, Default)]
struct Tape(Arc<Mutex<TapeInner>>);

#[derive(Default)]
struct TapeInner {
    known: Option<Scrubber>,
    raw: Vec<Raw>,
}

impl Tape {
    fn lock(&self) -> std::sync::MutexGuard<'_, TapeInner> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One exchange as it happened, secrets and all.
struct Raw {
    method: String,
    url: Url,
    request_headers: Vec<(String, SecretString)>,
    request_body: Option<SecretString>,
    status: Option<u16>,
    response_headers: Vec<(String, SecretString)>,
    response_body: Option<SecretString>,
    response_cut: bool,
    headers_ms: Option<u32>,
    total_ms: u32,
    error: Option<String>,
}

/// An exchange being recorded by [`crate::http::Http::send`].
pub(crate) struct Pending {
    tape: Tape,
    raw: Raw,
    started: Instant,
}

fn ms(d: std::time::Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

impl Pending {
    /// Starts recording `req` when a trace is in scope; `None` (at the cost of one
    /// task-local lookup) otherwise.
    pub(crate) fn start(req: &Request) -> Option<Self> {
        let tape = TAPE.try_with(Tape::clone).ok()?;
        let mut request_headers: Vec<(String, SecretString)> = req
            .headers
            .iter()
            .map(|(n, v)| (n.as_str().to_string(), v.clone()))
            .collect();
        let body = req.body.encoded();
        if let Some((content_type, _)) = &body {
            request_headers.push(("content-type".into(), SecretString::from(*content_type)));
        }
        request_headers.push(("user-agent".into(), SecretString::from(crate::http::USER_AGENT)));
        Some(Self {
            tape,
            raw: Raw {
                method: req.method.as_str().to_string(),
                url: req.url.clone(),
                request_headers,
                request_body: body.map(|(_, b)| SecretString::from(b)),
                status: None,
                response_headers: Vec::new(),
                response_body: None,
                response_cut: false,
                headers_ms: None,
                total_ms: 0,
                error: None,
            },
            started: Instant::now(),
        })
    }

    /// The response's headers arrived.
    pub(crate) fn headers(&mut self, headers: &HeaderMap) {
        self.raw.headers_ms = Some(ms(self.started.elapsed()));
        self.raw.response_headers = headers
            .iter()
            .take(MAX_HEADERS)
            .map(|(n, v)| {
                let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (n.as_str().to_string(), SecretString::from(value))
            })
            .collect();
    }

    /// The exchange ended with `outcome`; it joins the tape.
    pub(crate) fn finish(mut self, outcome: &Result<Captured>) {
        self.raw.total_ms = ms(self.started.elapsed());
        match outcome {
            Ok(c) => {
                self.raw.status = Some(c.status);
                self.raw.response_cut = c.body.len() >= crate::http::MAX_BODY;
                if !c.body.is_empty() {
                    self.raw.response_body = Some(SecretString::from(String::from_utf8_lossy(&c.body).into_owned()));
                }
            }
            // Errors never carry a secret or a full URL (see `http::describe`).
            Err(e) => self.raw.error = Some(e.to_string()),
        }
        let mut t = self.tape.lock();
        if t.raw.len() < MAX_EXCHANGES {
            t.raw.push(self.raw);
        }
    }
}

/// Tells the trace in scope (if any) the credential's secrets, for masking by value.
/// `scrubber` is only called when a trace is in scope.
pub(crate) fn knows(scrubber: impl FnOnce() -> Scrubber) {
    let _ = TAPE.try_with(|t| {
        let s = scrubber();
        t.lock().known = Some(s);
    });
}

/// The directory of `vault`'s trace files.
fn dir_of(vault: &Vault) -> PathBuf {
    vault.data_dir().join("inspect").join(vault.name())
}

/// A credential id fit for a file name (ids are UUIDs; a hand-edited metadata file could
/// hold anything).
fn safe_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn file_of(vault: &Vault, id: &str, kind: TraceKind) -> PathBuf {
    let suffix = match kind {
        TraceKind::Token => "token",
        TraceKind::Test => "test",
    };
    dir_of(vault).join(format!("{id}.{suffix}.json"))
}

/// Runs `fut` (a fresh token request) with a trace in scope and keeps its redacted trace
/// as `record`'s last token request.
pub(crate) async fn token<T>(
    vault: &Arc<Vault>,
    record: &CredentialRecord,
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let tape = Tape::default();
    let out = TAPE.scope(tape.clone(), fut).await;
    let (ok, outcome) = match &out {
        Ok(_) => (true, "token issued".to_string()),
        Err(e) => (false, format!("{}: {e}", e.code())),
    };
    keep(vault, record, TraceKind::Token, tape, ok, outcome, Vec::new()).await;
    out
}

/// Runs `fut` (a connectivity test) with a trace in scope, `known` being the credential's
/// secrets, and keeps its redacted trace as `record`'s last test.
pub(crate) async fn test(
    vault: &Arc<Vault>,
    record: &CredentialRecord,
    known: Scrubber,
    fut: impl std::future::Future<Output = TestReport>,
) -> TestReport {
    let tape = Tape::default();
    tape.lock().known = Some(known);
    let report = TAPE.scope(tape.clone(), fut).await;
    let stages = report
        .stages
        .iter()
        .map(|s| StageTiming {
            stage: s.stage,
            ok: s.ok,
            latency_ms: u32::try_from(s.latency_ms).unwrap_or(u32::MAX),
            message: s.message.clone(),
        })
        .collect();
    keep(
        vault,
        record,
        TraceKind::Test,
        tape,
        report.ok,
        report.summary.clone(),
        stages,
    )
    .await;
    report
}

/// Redacts the tape and writes it (off the async threads). Best effort: the inspector is
/// a diagnostic, so a failed write never fails the token request or the test.
async fn keep(
    vault: &Arc<Vault>,
    record: &CredentialRecord,
    kind: TraceKind,
    tape: Tape,
    ok: bool,
    outcome: String,
    stages: Vec<StageTiming>,
) {
    if !safe_id(&record.id) {
        return;
    }
    let (known, raw) = {
        let mut t = tape.lock();
        (t.known.take().unwrap_or_default(), std::mem::take(&mut t.raw))
    };
    if raw.is_empty() && kind == TraceKind::Token {
        return;
    }
    let path = file_of(vault, &record.id, kind);
    let (id, now) = (record.id.clone(), vault.clock().now());
    let _ = crate::token::blocking(move || {
        let redactor = Redactor::learning(known, &raw);
        let outcome = redactor.line(&outcome);
        let trace = Trace {
            kind,
            recorded_at: now,
            ok,
            outcome,
            stages,
            exchanges: raw.iter().map(|r| redactor.exchange(r)).collect(),
        };
        write(&path, &id, trace)
    })
    .await;
}

/// Writes a trace file: temp file (0600) in the same directory, then rename. No fsync: a
/// trace is a diagnostic, a torn file after a power cut reads as "could not be read".
fn write(path: &Path, id: &str, trace: Trace) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::vault::metadata::create_private_dir(dir)?;
    let doc = TraceFile {
        version: FILE_VERSION,
        credential_id: id.to_string(),
        trace,
    };
    let bytes = serde_json::to_vec_pretty(&doc).map_err(|e| Error::internal(format!("cannot encode a trace ({e})")))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(Error::internal("a trace is larger than its file may be"));
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".trace.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io("cannot create a temp file in", dir, e))?;
    tmp.write_all(&bytes)
        .map_err(|e| Error::io("cannot write", tmp.path().to_path_buf(), e))?;
    tmp.persist(path)
        .map_err(|e| Error::io("cannot replace", path, e.error))?;
    Ok(())
}

/// Removes the trace files of `vault`'s credentials that are no longer in `live` (ids).
pub(crate) fn prune<'a>(vault: &Vault, live: impl IntoIterator<Item = &'a str>) {
    let live: std::collections::HashSet<&str> = live.into_iter().collect();
    let Ok(entries) = std::fs::read_dir(dir_of(vault)) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let id = name.split('.').next().unwrap_or_default();
        if name.ends_with(".json") && !live.contains(id) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

// --- reading back -------------------------------------------------------------------------

/// The recorded traces of credential `name` of `vault`.
///
/// # Errors
/// [`Error::NotFound`] and the vault's read errors. A trace file that cannot be read (too
/// large, not JSON, another credential's, a newer version) is left out and named in
/// [`Inspection::problems`].
pub fn load(vault: &Vault, name: &str) -> Result<Inspection> {
    let record = vault.record(name)?;
    let mut out = Inspection {
        credential: record.name.clone(),
        token: None,
        test: None,
        problems: Vec::new(),
    };
    if !safe_id(&record.id) {
        return Ok(out);
    }
    for kind in [TraceKind::Token, TraceKind::Test] {
        let path = file_of(vault, &record.id, kind);
        match read(&path, &record.id, kind) {
            Ok(None) => {}
            Ok(Some(t)) => match kind {
                TraceKind::Token => out.token = Some(t),
                TraceKind::Test => out.test = Some(t),
            },
            Err(why) => out
                .problems
                .push(format!("The recorded {} was ignored: {why}.", kind_words(kind))),
        }
    }
    Ok(out)
}

fn kind_words(kind: TraceKind) -> &'static str {
    match kind {
        TraceKind::Token => "token request",
        TraceKind::Test => "test",
    }
}

/// Reads one trace file as hostile input: bounded size, strict shape, the right
/// credential and kind, and every string cleaned again (control characters, lengths).
fn read(path: &Path, id: &str, kind: TraceKind) -> std::result::Result<Option<Trace>, String> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("it could not be opened ({})", e.kind())),
    };
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("it could not be read ({})", e.kind()))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err("the file is too large".into());
    }
    let doc: TraceFile = serde_json::from_slice(&bytes).map_err(|_| "the file is not a valid trace".to_string())?;
    if doc.version != FILE_VERSION {
        return Err(format!("the file has version {}", doc.version));
    }
    if doc.credential_id != id || doc.trace.kind != kind {
        return Err("the file belongs to another credential".into());
    }
    Ok(Some(sanitize(doc.trace)))
}

/// A trace read from disk with every string bounded and stripped of control characters
/// (bodies keep their line breaks), and the lists bounded.
fn sanitize(mut t: Trace) -> Trace {
    let line = |s: &mut String| *s = cut(&strip(s, false), MAX_LINE).0;
    let body = |b: &mut Option<BodyShown>| {
        if let Some(b) = b {
            let (text, cut_now) = cut(&strip(&b.text, true), MAX_BODY_SHOWN);
            b.text = text;
            b.truncated |= cut_now;
        }
    };
    line(&mut t.outcome);
    t.stages.truncate(8);
    for s in &mut t.stages {
        line(&mut s.message);
    }
    t.exchanges.truncate(MAX_EXCHANGES);
    for x in &mut t.exchanges {
        for s in [&mut x.purpose, &mut x.method, &mut x.url] {
            line(s);
        }
        for h in [&mut x.request_headers, &mut x.response_headers] {
            h.truncate(MAX_HEADERS);
            for l in h.iter_mut() {
                line(&mut l.name);
                line(&mut l.value);
            }
        }
        if let Some(e) = &mut x.error {
            line(e);
        }
        body(&mut x.request_body);
        body(&mut x.response_body);
    }
    t
}

/// `s` without control and invisible reordering characters (keeping `\n` when `lines`).
fn strip(s: &str, lines: bool) -> String {
    s.chars()
        .filter(|&c| {
            (lines && c == '\n')
                || !(c.is_control()
                    || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}'))
        })
        .collect()
}

/// `s` cut to `max` characters, and whether it was.
fn cut(s: &str, max: usize) -> (String, bool) {
    match s.char_indices().nth(max) {
        Some((i, _)) => (format!("{}…", &s[..i]), true),
        None => (s.to_string(), false),
    }
}

// --- redaction ----------------------------------------------------------------------------

/// Whether a field, parameter or header called `name` holds a secret (any letter case;
/// `-`, `_` and other separators ignored).
pub fn secret_name(name: &str) -> bool {
    let n: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    const NOT_SECRET: &[&str] = &["tokentype", "tokenurl", "tokenendpoint", "granttype"];
    const EXACT: &[&str] = &[
        "code", "pin", "psk", "pwd", "pass", "key", "auth", "sid", "session", "jwt", "otp", "nonce",
    ];
    const CONTAINS: &[&str] = &[
        "token",
        "secret",
        "password",
        "passwd",
        "passphrase",
        "apikey",
        "presharedkey",
        "assertion",
        "credential",
        "cookie",
        "authorization",
        "privatekey",
        "sessionid",
        "signature",
        "codeverifier",
    ];
    !NOT_SECRET.contains(&n.as_str()) && (EXACT.contains(&n.as_str()) || CONTAINS.iter().any(|p| n.contains(p)))
}

/// Whether `s` looks like a JWT (three base64url parts, the first a JSON object's start):
/// masked under any name.
fn jwt_shaped(s: &str) -> bool {
    let s = s.trim();
    let parts: Vec<&str> = s.split('.').collect();
    (parts.len() == 3 || parts.len() == 5)
        && s.starts_with("eyJ")
        && parts[..2]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// Masks the secrets of HTTP exchanges: by value (a [`Scrubber`]) and by name.
#[derive(Clone, Default)]
pub struct Redactor {
    known: Scrubber,
}

impl Redactor {
    /// A redactor that masks the values `known` knows, and everything by name.
    pub fn new(known: Scrubber) -> Self {
        Self { known }
    }

    /// A redactor that also knows every value `raw` carries under a secret name.
    fn learning(known: Scrubber, raw: &[Raw]) -> Self {
        let mut learned = Vec::new();
        for r in raw {
            for (name, value) in r.request_headers.iter().chain(&r.response_headers) {
                learn_header(name, value.expose_secret(), &mut learned);
            }
            for (name, value) in r.url.query_pairs() {
                learn(&name, &value, &mut learned);
            }
            for body in [&r.request_body, &r.response_body].into_iter().flatten() {
                learn_body(body.expose_secret(), &mut learned);
            }
        }
        let known = learned
            .iter()
            .filter(|v: &&SecretString| v.expose_secret().chars().count() >= MIN_LEARNED)
            .fold(known, |s, v| s.with(v));
        Self { known }
    }

    /// Known values masked, control characters removed (any length).
    fn value(&self, s: &str) -> String {
        self.known.mask(s)
    }

    /// One line of text (an outcome, a header value): known values and `name=value`,
    /// `"name": "value"`, `Bearer value` patterns masked, bounded.
    pub fn line(&self, s: &str) -> String {
        cut(&mask_text(&self.value(s)), MAX_LINE).0
    }

    /// A header value, masked by the header's name and by value.
    pub fn header(&self, name: &str, value: &str) -> String {
        let lower = name.to_ascii_lowercase();
        if lower == "authorization" || lower == "proxy-authorization" {
            return match value.trim().split_once(char::is_whitespace) {
                Some((scheme, _)) if scheme.len() <= 20 && scheme.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                    format!("{} {MASK}", self.value(scheme))
                }
                _ => MASK.into(),
            };
        }
        if secret_name(&lower) || jwt_shaped(value) {
            return MASK.into();
        }
        self.line(value)
    }

    /// A URL: the query's secret-named parameters and known values masked, a fragment
    /// masked whole.
    pub fn url(&self, url: &Url) -> String {
        let mut shown = format!("{}://", url.scheme());
        if !url.username().is_empty() || url.password().is_some() {
            shown.push_str(MASK);
            shown.push('@');
        }
        shown.push_str(&self.value(url.host_str().unwrap_or("")));
        if let Some(port) = url.port() {
            shown.push_str(&format!(":{port}"));
        }
        shown.push_str(&self.value(url.path()));
        if let Some(q) = url.query() {
            shown.push('?');
            shown.push_str(&self.form(q));
        }
        if url.fragment().is_some() {
            shown.push('#');
            shown.push_str(MASK);
        }
        cut(&shown, MAX_LINE).0
    }

    /// A form-urlencoded string (a body or a query): secret-named values and JWTs masked,
    /// known values masked, the rest kept as sent.
    pub fn form(&self, s: &str) -> String {
        let enc = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
        let pairs: Vec<String> = url::form_urlencoded::parse(s.as_bytes())
            .map(|(k, v)| {
                let value = if secret_name(&k) || jwt_shaped(&v) {
                    MASK.to_string()
                } else {
                    self.value(&enc(&v))
                };
                format!("{}={value}", self.value(&enc(&k)))
            })
            .collect();
        // The known encodings of a secret may span a `&`: mask the whole once more.
        self.value(&pairs.join("&"))
    }

    /// A JSON document: values under secret names (at any depth) and JWT-shaped strings
    /// masked, known values masked in keys and values.
    pub fn json(&self, v: &Value) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let v = if secret_name(k) {
                            Value::String(MASK.into())
                        } else {
                            self.json(v)
                        };
                        (self.value(k), v)
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.json(v)).collect()),
            Value::String(s) if jwt_shaped(s) => Value::String(MASK.into()),
            Value::String(s) => Value::String(self.value(s)),
            Value::Number(n) => {
                let t = n.to_string();
                if self.value(&t) == t {
                    v.clone()
                } else {
                    Value::String(MASK.into())
                }
            }
            other => other.clone(),
        }
    }

    /// A body: JSON (pretty), a form, or text, masked; cut at [`MAX_BODY_SHOWN`].
    pub fn body(&self, content_type: Option<&str>, body: &str, cut_before: bool) -> BodyShown {
        let ct = content_type.unwrap_or_default().to_ascii_lowercase();
        let text = if let Ok(doc) = serde_json::from_str::<Value>(body) {
            let pretty = serde_json::to_string_pretty(&self.json(&doc)).unwrap_or_default();
            // Pretty-printing re-encodes: mask known values once more, line by line.
            pretty.lines().map(|l| self.value(l)).collect::<Vec<_>>().join("\n")
        } else if ct.contains("x-www-form-urlencoded") || looks_like_form(body) {
            self.form(body)
        } else {
            mask_text(&self.value(body))
        };
        let (text, cut_now) = cut(&text, MAX_BODY_SHOWN);
        BodyShown {
            text,
            bytes: u32::try_from(body.len()).unwrap_or(u32::MAX),
            truncated: cut_now || cut_before,
        }
    }

    fn headers(&self, h: &[(String, SecretString)]) -> Vec<HeaderLine> {
        h.iter()
            .take(MAX_HEADERS)
            .map(|(n, v)| HeaderLine {
                name: cut(&strip(&n.to_ascii_lowercase(), false), 100).0,
                value: self.header(n, v.expose_secret()),
            })
            .collect()
    }

    fn exchange(&self, r: &Raw) -> Exchange {
        let content_type = |h: &[(String, SecretString)]| {
            h.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
                .map(|(_, v)| v.expose_secret().to_string())
        };
        let grant = r
            .request_body
            .as_ref()
            .and_then(|b| grant_type(b.expose_secret()))
            .filter(|g| crate::scrub::safe_code(g));
        // A successful API answer is the merchant's business data (orders, payments), not
        // how the credential fared: only its size is kept. Error answers are kept, masked.
        let api_ok = grant.is_none() && r.status.is_some_and(|s| (200..300).contains(&s));
        let purpose = match grant {
            Some(g) => format!("token request (grant_type={g})"),
            None => "API call".into(),
        };
        Exchange {
            purpose,
            method: strip(&r.method, false),
            url: self.url(&r.url),
            request_headers: self.headers(&r.request_headers),
            request_body: r
                .request_body
                .as_ref()
                .map(|b| self.body(content_type(&r.request_headers).as_deref(), b.expose_secret(), false)),
            status: r.status,
            response_headers: self.headers(&r.response_headers),
            response_body: r.response_body.as_ref().map(|b| match api_ok {
                true => BodyShown {
                    text: API_BODY_NOT_KEPT.into(),
                    bytes: u32::try_from(b.expose_secret().len()).unwrap_or(u32::MAX),
                    truncated: false,
                },
                false => self.body(
                    content_type(&r.response_headers).as_deref(),
                    b.expose_secret(),
                    r.response_cut,
                ),
            }),
            headers_ms: r.headers_ms,
            total_ms: r.total_ms,
            error: r.error.as_deref().map(|e| self.line(e)),
        }
    }
}

/// `grant_type` of a token request body (form or JSON).
fn grant_type(body: &str) -> Option<String> {
    if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(body) {
        return m.get("grant_type").and_then(Value::as_str).map(str::to_string);
    }
    url::form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "grant_type")
        .map(|(_, v)| v.into_owned())
}

/// A body of unknown type that reads as `k=v&k=v`.
fn looks_like_form(s: &str) -> bool {
    !s.is_empty() && s.contains('=') && !s.chars().any(char::is_whitespace)
}

fn learn(name: &str, value: &str, out: &mut Vec<SecretString>) {
    if secret_name(name) && !value.is_empty() {
        out.push(SecretString::from(value.to_string()));
    }
}

fn learn_header(name: &str, value: &str, out: &mut Vec<SecretString>) {
    let lower = name.to_ascii_lowercase();
    if lower == "authorization" || lower == "proxy-authorization" {
        let creds = value.trim().split_once(char::is_whitespace).map_or(value, |(_, c)| c);
        out.push(SecretString::from(creds.trim().to_string()));
    } else if lower == "cookie" || lower == "set-cookie" {
        for part in value.split(';') {
            if let Some((_, v)) = part.split_once('=') {
                out.push(SecretString::from(v.trim().to_string()));
            }
        }
    } else {
        learn(&lower, value, out);
    }
}

fn learn_body(body: &str, out: &mut Vec<SecretString>) {
    fn walk(v: &Value, out: &mut Vec<SecretString>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match v {
                        Value::String(s) => learn(k, s, out),
                        Value::Number(n) => learn(k, &n.to_string(), out),
                        other => walk(other, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            Value::String(s) if jwt_shaped(s) => out.push(SecretString::from(s.clone())),
            _ => {}
        }
    }
    match serde_json::from_str::<Value>(body) {
        Ok(doc) => walk(&doc, out),
        Err(_) => {
            for (k, v) in url::form_urlencoded::parse(body.as_bytes()) {
                learn(&k, &v, out);
            }
        }
    }
}

/// Text of unknown shape (a truncated JSON document, an HTML error page, a header value):
/// the value after a secret name and `=`, `:` or `>` (quotes and spaces allowed around),
/// and the word after an auth scheme (`Bearer x`), masked.
fn mask_text(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if !word(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && word(chars[i]) {
            i += 1;
        }
        let name: String = chars[start..i].iter().collect();
        out.push_str(&name);
        let scheme = matches!(name.to_ascii_lowercase().as_str(), "bearer" | "basic" | "digest");
        if !(secret_name(&name) || scheme) {
            continue;
        }
        // Separator: quotes and spaces, then `=`, `:` or `>` (a scheme needs none).
        let mut j = i;
        while j < chars.len() && matches!(chars[j], '"' | '\'' | ' ' | '\t') {
            j += 1;
        }
        let opening_tag = start > 0 && chars[start - 1] == '<';
        if j < chars.len() && (matches!(chars[j], '=' | ':') || (chars[j] == '>' && opening_tag)) {
            j += 1;
        } else if !(scheme && j > i) {
            continue;
        }
        while j < chars.len() && matches!(chars[j], '"' | '\'' | ' ' | '\t') {
            j += 1;
        }
        // An auth scheme after the name (`Authorization: Bearer x`): keep it, mask its word.
        let mut k = j;
        while k < chars.len() && word(chars[k]) {
            k += 1;
        }
        let next: String = chars[j..k].iter().collect();
        if matches!(next.to_ascii_lowercase().as_str(), "bearer" | "basic" | "digest") {
            while k < chars.len() && chars[k] == ' ' {
                k += 1;
            }
            j = k;
        }
        let mut end = j;
        while end < chars.len()
            && !matches!(
                chars[end],
                '&' | ',' | ';' | '"' | '\'' | '<' | '}' | ']' | ' ' | '\t' | '\n'
            )
        {
            end += 1;
        }
        if end > j {
            out.extend(&chars[i..j]);
            out.push_str(MASK);
            i = end;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &str = "Sup3r-Secret/Value+1";

    fn redactor() -> Redactor {
        Redactor::new(Scrubber::new([&SecretString::from(SECRET)], Some("client-1")))
    }

    #[test]
    fn names_are_matched_in_any_case_and_separator() {
        for n in [
            "access_token",
            "Refresh_Token",
            "ID_TOKEN",
            "client_secret",
            "clientSecret",
            "password",
            "token",
            "assertion",
            "client_assertion",
            "presharedkey",
            "PreSharedKey",
            "X-Api-Key",
            "x_api_key",
            "Set-Cookie",
            "Authorization",
        ] {
            assert!(secret_name(n), "{n}");
        }
        for n in [
            "token_type",
            "expires_in",
            "scope",
            "client_id",
            "grant_type",
            "posserial",
            "content-type",
        ] {
            assert!(!secret_name(n), "{n}");
        }
    }

    #[test]
    fn authorization_keeps_its_scheme_only() {
        let r = Redactor::default();
        assert_eq!(r.header("Authorization", "Bearer abc.def"), "Bearer ••••");
        assert_eq!(r.header("authorization", "Basic Y2xpZW50OnNlY3JldA=="), "Basic ••••");
        assert_eq!(r.header("AUTHORIZATION", "opaque"), "••••");
        assert_eq!(r.header("presharedkey", "03ac674216f3e1"), MASK);
        assert_eq!(r.header("X-API-KEY", "k-123"), MASK);
        assert_eq!(r.header("Set-Cookie", "sid=abc; Path=/"), MASK);
        assert_eq!(r.header("posserial", "SN-1"), "SN-1");
        assert_eq!(r.header("content-type", "application/json"), "application/json");
    }

    #[test]
    fn known_values_are_masked_under_any_name() {
        let r = redactor();
        assert_eq!(r.header("x-debug", &format!("echo {SECRET}")), "echo [redacted]");
        let body = r.body(None, &format!(r#"{{"note":"{SECRET}","n":1}}"#), false);
        assert!(
            !body.text.contains(SECRET) && body.text.contains("[redacted]"),
            "{}",
            body.text
        );
    }

    #[test]
    fn json_is_masked_by_name_at_any_depth() {
        let r = Redactor::default();
        let doc = r#"{"access_token":"tok-aaaaaaaa","token_type":"Bearer","expires_in":3600,
            "nested":{"deeper":[{"Refresh_Token":"rt-1"},{"ID_TOKEN":{"x":1}}]},"password":12345,
            "other":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"}"#;
        let b = r.body(Some("application/json"), doc, false);
        for leaked in ["tok-aaaaaaaa", "rt-1", "12345", "eyJhbGci"] {
            assert!(!b.text.contains(leaked), "{leaked} in {}", b.text);
        }
        assert!(b.text.contains("\"token_type\": \"Bearer\""), "{}", b.text);
        assert!(b.text.contains("3600"));
    }

    #[test]
    fn forms_and_queries_are_masked_by_name() {
        let r = Redactor::default();
        let f = r.form("grant_type=client_credentials&client_id=c1&client_secret=s%2B1&Password=p");
        assert_eq!(
            f,
            "grant_type=client_credentials&client_id=c1&client_secret=••••&Password=••••"
        );
        let u = Url::parse("https://h.example/cb?ACCESS_TOKEN=abc&page=1#frag").unwrap();
        assert_eq!(r.url(&u), "https://h.example/cb?ACCESS_TOKEN=••••&page=1#••••");
        let b = r.body(Some("text/plain"), "refresh_token=zzz&x=1", false);
        assert_eq!(b.text, "refresh_token=••••&x=1");
    }

    #[test]
    fn text_of_unknown_shape_is_masked_after_names() {
        let r = Redactor::default();
        let cut_json = r#"{"access_token": "abcdef", "scope": "r", "refresh_tok"#;
        assert_eq!(
            r.body(None, cut_json, true).text,
            r#"{"access_token": "••••", "scope": "r", "refresh_tok"#
        );
        assert_eq!(
            r.line("<password>hunter2</password> authorization: Bearer xyz"),
            "<password>••••</password> authorization: Bearer ••••"
        );
    }

    #[test]
    fn values_seen_under_secret_names_are_learned() {
        let raw = Raw {
            method: "POST".into(),
            url: Url::parse("http://127.0.0.1/t").unwrap(),
            request_headers: vec![],
            request_body: None,
            status: Some(200),
            response_headers: vec![("x-echo".into(), SecretString::from("issued tok-0123456789"))],
            response_body: Some(SecretString::from(r#"{"access_token":"tok-0123456789"}"#)),
            response_cut: false,
            headers_ms: Some(1),
            total_ms: 2,
            error: None,
        };
        let r = Redactor::learning(Scrubber::none(), std::slice::from_ref(&raw));
        let x = r.exchange(&raw);
        let shown = serde_json::to_string(&x).unwrap();
        assert!(!shown.contains("tok-0123456789"), "{shown}");
        assert_eq!(x.response_headers[0].value, "issued [redacted]");
    }

    #[test]
    fn a_hostile_trace_file_is_cleaned_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.json");
        std::fs::write(&p, b"not json").unwrap();
        assert!(read(&p, "id", TraceKind::Test).is_err());
        let trace = Trace {
            kind: TraceKind::Test,
            recorded_at: Utc::now(),
            ok: true,
            outcome: "ok\u{1b}[31m\u{202E}".into(),
            stages: vec![],
            exchanges: vec![],
        };
        write(&p, "id", trace.clone()).unwrap();
        assert!(read(&p, "other", TraceKind::Test).is_err(), "another credential's file");
        assert!(read(&p, "id", TraceKind::Token).is_err(), "the other kind");
        assert_eq!(read(&p, "id", TraceKind::Test).unwrap().unwrap().outcome, "ok[31m");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&p, vec![b' '; MAX_FILE as usize + 1]).unwrap();
        assert_eq!(read(&p, "id", TraceKind::Test).unwrap_err(), "the file is too large");
        assert_eq!(read(&dir.path().join("none"), "id", TraceKind::Test), Ok(None));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Arbitrary JSON-ish, form-ish and header input never panics and never shows the
        /// known secret.
        #[test]
        fn never_shows_a_known_secret(prefix in ".{0,40}", suffix in ".{0,40}", name in "[A-Za-z_-]{0,12}", any in ".{0,200}") {
            let r = redactor();
            let json = format!(r#"{{"{name}":"{prefix}{SECRET}{suffix}","a":[{any:?}]}}"#);
            let form = format!("{name}={prefix}{SECRET}{suffix}&{any}");
            let text = format!("{prefix}{SECRET}{suffix}{any}");
            for body in [&json, &form, &text, &any] {
                for ct in [None, Some("application/json"), Some("application/x-www-form-urlencoded")] {
                    let b = r.body(ct, body, false);
                    prop_assert!(body == &any || !b.text.contains(SECRET), "{}", b.text);
                }
            }
            prop_assert!(!r.header(&name, &text).contains(SECRET));
            prop_assert!(!r.line(&text).contains(SECRET));
            let _ = r.header(&any, &any);
            if let Ok(u) = Url::parse(&format!("https://h.example/p?{form}")) {
                prop_assert!(!r.url(&u).contains(SECRET));
            }
        }
    }
}
