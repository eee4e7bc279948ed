//! The HTTP client of a team vault's engine (OpenBao or HashiCorp Vault): only the KV v2,
//! token (`lookup-self`, `renew-self`), AppRole login, `sys/capabilities-self` and
//! `sys/health` endpoints, which both servers share.
//!
//! It runs on the crate's reqwest/rustls stack (no second HTTP stack), on a small private
//! runtime, so the synchronous vault code can call it from any thread, async or not.
//! TLS verification is always on: the built-in web roots, plus a CA file when configured.
//! The engine token is held as a [`SecretString`] and sent only in `X-Vault-Token`.

use super::config::{TeamAuth, TeamConfig};
use super::{KvCurrent, KvEngine, KvEntry};
use crate::error::{Error, Result};
use crate::http::{error_chain, read_capped, CONNECT_TIMEOUT, REQUEST_TIMEOUT};
use crate::scrub::Scrubber;
use crate::vault::secrets::{SecretClass, SecretKey, SecretStore};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use url::Url;

/// Largest engine response read (the vault document of a few hundred credentials is far
/// smaller).
const MAX_BODY: usize = 8 * 1024 * 1024;
/// Renew the engine token when less than this share of its TTL is left (or when it is
/// within [`RENEW_MARGIN`] of expiring).
const RENEW_FRACTION: f64 = 0.5;
/// Renew at the latest this long before the token expires.
const RENEW_MARGIN: Duration = Duration::from_secs(60);

/// Keyring field of a token-auth engine token.
pub const TOKEN_FIELD: &str = "engine_token";
/// Keyring field of an AppRole secret_id.
pub const SECRET_ID_FIELD: &str = "approle_secret_id";
/// Keyring field of the engine token an AppRole login returned (re-used until it expires,
/// so every CLI run does not spend a secret_id use).
pub const LOGIN_TOKEN_FIELD: &str = "approle_token";

/// The keyring address of one of this machine's engine credentials for a connection.
pub fn login_key(connection_id: &str, field: &str) -> SecretKey {
    SecretKey {
        vault_id: "team-vault".into(),
        credential_id: connection_id.into(),
        rev: 0,
        field: field.into(),
        class: SecretClass::Durable,
    }
}

/// Where the login credential comes from: the OS keyring (normal use) or memory (while
/// `connect` verifies it, before anything is saved).
#[derive(Clone)]
pub enum LoginSource {
    /// Read (and, for AppRole tokens, written) through this store.
    Store(Arc<dyn SecretStore>),
    /// The credential being connected, not stored yet.
    Given(SecretString),
}

/// The logged-in session: the token and when to renew it.
struct Session {
    token: SecretString,
    renew_at: Option<Instant>,
    expires_at: Option<Instant>,
    renewable: bool,
}

/// An engine client for one team vault connection.
pub struct KvClient {
    name: String,
    base: Url,
    mount: String,
    prefix: String,
    namespace: Option<String>,
    auth: TeamAuth,
    role_id: Option<String>,
    connection_id: String,
    login: LoginSource,
    http: reqwest::Client,
    rt: Option<tokio::runtime::Runtime>,
    session: Mutex<Option<Session>>,
}

impl std::fmt::Debug for KvClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvClient")
            .field("name", &self.name)
            .field("address", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl Drop for KvClient {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside an async context: let it go in
        // the background instead.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// A raw engine response. The body may hold secrets.
struct Resp {
    status: u16,
    body: SecretString,
}

#[derive(Deserialize)]
struct Errors {
    #[serde(default)]
    errors: Vec<String>,
}

impl KvClient {
    /// A client for `cfg`, logging in with `login`. No request is made yet.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad address or CA file; [`Error::Io`] if the runtime
    /// cannot start.
    pub fn new(cfg: &TeamConfig, login: LoginSource) -> Result<Self> {
        let base = crate::providers::validate_url("--address", &cfg.address)?;
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .https_only(false) // http only for loopback, checked by validate_url
            .user_agent(concat!("tillkey/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &cfg.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| Error::invalid("--ca-file", format!("{} cannot be read ({})", ca.display(), e.kind())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|_| Error::invalid("--ca-file", format!("{} is not a PEM certificate file", ca.display())))?;
            if certs.is_empty() {
                return Err(Error::invalid(
                    "--ca-file",
                    format!("{} holds no PEM certificate", ca.display()),
                ));
            }
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        let http = b.build().map_err(|e| Error::VaultResponse {
            vault: cfg.name.clone(),
            status: 0,
            detail: format!("cannot start the HTTP client: {e}"),
        })?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("tillkey-team-vault")
            .enable_all()
            .build()
            .map_err(|e| Error::internal(format!("cannot start the team vault runtime ({e})")))?;
        Ok(Self {
            name: cfg.name.clone(),
            base,
            mount: cfg.mount.clone(),
            prefix: cfg.prefix.clone(),
            namespace: cfg.namespace.clone(),
            auth: cfg.auth,
            role_id: cfg.role_id.clone(),
            connection_id: cfg.id.clone(),
            login,
            http,
            rt: Some(rt),
            session: Mutex::new(None),
        })
    }

    /// The team vault's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The engine address.
    pub fn address(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// The full API path of the KV v2 document `rel` (under the prefix), for policies and
    /// capability checks: `{mount}/data/{prefix}/{rel}`.
    pub fn data_path(&self, rel: &str) -> String {
        format!("{}/data/{}/{rel}", self.mount, self.prefix)
    }

    fn metadata_path(&self, rel: &str) -> String {
        format!("{}/metadata/{}/{rel}", self.mount, self.prefix)
    }

    /// Runs `fut` on the private runtime and waits for it.
    fn run<T: Send + 'static>(&self, fut: impl std::future::Future<Output = T> + Send + 'static) -> Result<T> {
        let rt = self
            .rt
            .as_ref()
            .ok_or_else(|| Error::internal("the team vault runtime stopped"))?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        rt.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv()
            .map_err(|_| Error::internal("a team vault request was dropped"))
    }

    /// The URL of API `path` (`segment/segment...`, optionally `?query` for the fixed
    /// health check): each segment must be a plain name and is appended as one
    /// percent-encoded segment, so nothing read from a team document (ids, field names)
    /// can climb out of `{mount}/(data|metadata)/{prefix}/` or cut the path with `#`/`?`.
    fn api_url(&self, path: &str) -> Result<url::Url> {
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        let mut url = self.base.clone();
        {
            let mut segs = url
                .path_segments_mut()
                .map_err(|()| Error::invalid("--address", "the engine address cannot have a path"))?;
            segs.pop_if_empty().push("v1");
            for seg in path.split('/') {
                if !super::config::is_path_segment(seg) {
                    return Err(Error::CorruptTeamDocument {
                        vault: self.name.clone(),
                        detail: "a request path holds a segment that is not a plain name".into(),
                    });
                }
                segs.push(seg);
            }
        }
        url.set_query(query);
        url.set_fragment(None);
        Ok(url)
    }

    /// One request, unauthenticated unless `token` is given.
    fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&SecretString>,
        body: Option<SecretString>,
    ) -> Result<Resp> {
        let url = self.api_url(path)?;
        let mut rb = self.http.request(method, url);
        if let Some(t) = token {
            let mut v = HeaderValue::from_str(t.expose_secret())
                .map_err(|_| Error::invalid("token", "contains characters that cannot go in an HTTP header"))?;
            v.set_sensitive(true);
            rb = rb.header(HeaderName::from_static("x-vault-token"), v);
        }
        if let Some(ns) = &self.namespace {
            rb = rb.header(HeaderName::from_static("x-vault-namespace"), ns.as_str());
        }
        rb = rb.header(HeaderName::from_static("x-vault-request"), "true");
        if let Some(b) = body {
            rb = rb
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.expose_secret().to_string());
        }
        let (vault, address) = (self.name.clone(), self.address().to_string());
        self.run(async move {
            let mut resp = rb.send().await.map_err(|e| net_error(&vault, &address, &e))?;
            let status = resp.status().as_u16();
            let body = read_capped(&mut resp, MAX_BODY)
                .await
                .map_err(|e| net_error(&vault, &address, &e))?;
            Ok(Resp {
                status,
                body: SecretString::from(String::from_utf8_lossy(&body).into_owned()),
            })
        })?
    }

    /// Maps an engine error status to ours (403 is the caller's to interpret).
    fn status_error(&self, r: &Resp) -> Error {
        let errors = serde_json::from_str::<Errors>(r.body.expose_secret())
            .map(|e| e.errors)
            .unwrap_or_default();
        let text = errors.join("; ");
        if r.status == 503 && text.to_ascii_lowercase().contains("sealed") {
            return Error::VaultSealed {
                vault: self.name.clone(),
                address: self.address().into(),
            };
        }
        if r.status == 400 && text.contains("check-and-set") {
            return Error::Conflict {
                vault: self.name.clone(),
            };
        }
        // The engine's words are shown: printable and bounded, and never this machine's
        // engine token, should a hostile engine echo it.
        // (`try_lock`: a login in progress holds the session lock, and has no token yet.)
        let scrub = match self.session.try_lock().as_deref() {
            Ok(Some(s)) => Scrubber::none().with(&s.token),
            _ => Scrubber::none(),
        };
        let mut detail = scrub.clean(&text);
        if detail.is_empty() {
            detail = "no error message".into();
        }
        Error::VaultResponse {
            vault: self.name.clone(),
            status: r.status,
            detail,
        }
    }

    fn auth_error(&self, detail: impl Into<String>) -> Error {
        Error::VaultAuth {
            vault: self.name.clone(),
            detail: detail.into(),
        }
    }

    fn stored(&self, field: &str) -> Result<Option<SecretString>> {
        match &self.login {
            LoginSource::Store(s) => s.get(&login_key(&self.connection_id, field)),
            LoginSource::Given(v) => Ok(match (self.auth, field) {
                (TeamAuth::Token, TOKEN_FIELD) | (TeamAuth::Approle, SECRET_ID_FIELD) => Some(v.clone()),
                _ => None,
            }),
        }
    }

    /// `lookup-self` of `token`: `Ok(None)` when the engine refuses the token.
    fn lookup(&self, token: &SecretString) -> Result<Option<Session>> {
        #[derive(Deserialize)]
        struct Data {
            ttl: Option<u64>,
            #[serde(default)]
            renewable: bool,
        }
        #[derive(Deserialize)]
        struct Lookup {
            data: Data,
        }
        let r = self.send(Method::GET, "auth/token/lookup-self", Some(token), None)?;
        match r.status {
            200 => {
                let l: Lookup = serde_json::from_str(r.body.expose_secret()).map_err(|_| Error::VaultResponse {
                    vault: self.name.clone(),
                    status: 200,
                    detail: "token lookup answered in an unexpected shape".into(),
                })?;
                Ok(Some(session(token.clone(), l.data.ttl.unwrap_or(0), l.data.renewable)))
            }
            401 | 403 => Ok(None),
            _ => Err(self.status_error(&r)),
        }
    }

    /// AppRole login with the stored role_id and secret_id.
    fn approle_login(&self) -> Result<Session> {
        #[derive(Deserialize)]
        struct Auth {
            client_token: SecretString,
            #[serde(default)]
            lease_duration: u64,
            #[serde(default)]
            renewable: bool,
        }
        #[derive(Deserialize)]
        struct Login {
            auth: Auth,
        }
        let role_id = self
            .role_id
            .clone()
            .ok_or_else(|| self.auth_error("no role_id is configured"))?;
        let secret_id = self
            .stored(SECRET_ID_FIELD)?
            .ok_or_else(|| self.auth_error("this machine's AppRole secret_id is missing from the OS keyring"))?;
        let body = serde_json::json!({ "role_id": role_id, "secret_id": secret_id.expose_secret() }).to_string();
        let r = self.send(Method::POST, "auth/approle/login", None, Some(SecretString::from(body)))?;
        match r.status {
            200 => {
                let l: Login = serde_json::from_str(r.body.expose_secret()).map_err(|_| Error::VaultResponse {
                    vault: self.name.clone(),
                    status: 200,
                    detail: "AppRole login answered in an unexpected shape".into(),
                })?;
                if let LoginSource::Store(s) = &self.login {
                    // Best effort: without it the next run simply logs in again.
                    let _ = s.set(&login_key(&self.connection_id, LOGIN_TOKEN_FIELD), &l.auth.client_token);
                }
                Ok(session(l.auth.client_token, l.auth.lease_duration, l.auth.renewable))
            }
            400 | 401 | 403 => Err(self.auth_error("AppRole login refused (wrong role_id or secret_id, or expired)")),
            _ => Err(self.status_error(&r)),
        }
    }

    /// Logs in from scratch: token auth checks the stored token; AppRole re-uses its last
    /// login token while valid, else logs in again with the secret_id.
    fn login(&self) -> Result<Session> {
        match self.auth {
            TeamAuth::Token => {
                let token = self
                    .stored(TOKEN_FIELD)?
                    .ok_or_else(|| self.auth_error("this machine's engine token is missing from the OS keyring"))?;
                self.lookup(&token)?
                    .ok_or_else(|| self.auth_error("the engine token was refused (wrong, expired or revoked)"))
            }
            TeamAuth::Approle => {
                if let Some(t) = self.stored(LOGIN_TOKEN_FIELD)? {
                    if let Some(s) = self.lookup(&t)? {
                        return Ok(s);
                    }
                }
                self.approle_login()
            }
        }
    }

    /// Renews the session's token (`renew-self`); an expired AppRole token logs in again.
    fn renew(&self, s: &Session) -> Result<Session> {
        #[derive(Deserialize)]
        struct Auth {
            #[serde(default)]
            lease_duration: u64,
            #[serde(default)]
            renewable: bool,
        }
        #[derive(Deserialize)]
        struct Renew {
            auth: Auth,
        }
        let expired = s.expires_at.is_some_and(|e| Instant::now() >= e);
        if !expired && s.renewable {
            let r = self.send(
                Method::POST,
                "auth/token/renew-self",
                Some(&s.token),
                Some(SecretString::from("{}")),
            )?;
            if r.status == 200 {
                if let Ok(v) = serde_json::from_str::<Renew>(r.body.expose_secret()) {
                    return Ok(session(s.token.clone(), v.auth.lease_duration, v.auth.renewable));
                }
            }
        }
        // Not renewable (or renewal refused): look it up again; AppRole logs in afresh
        // when the token is gone.
        match self.lookup(&s.token)? {
            Some(fresh) if !expired => Ok(fresh),
            _ if self.auth == TeamAuth::Approle => self.approle_login(),
            _ => Err(self.auth_error("the engine token expired; connect again with a new token")),
        }
    }

    /// The current token, logging in or renewing first where due.
    fn token(&self) -> Result<SecretString> {
        let mut guard = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = match guard.take() {
            None => self.login()?,
            Some(s) if s.renew_at.is_some_and(|r| Instant::now() >= r) => self.renew(&s)?,
            Some(s) => s,
        };
        let t = fresh.token.clone();
        *guard = Some(fresh);
        Ok(t)
    }

    /// An authenticated request. A 403 is told apart: a refused token (AppRole logs in once
    /// more and retries) or a policy denial ([`Error::VaultDenied`]).
    fn call(&self, method: Method, path: &str, body: Option<SecretString>, action: &str) -> Result<Resp> {
        let token = self.token()?;
        let r = self.send(method.clone(), path, Some(&token), body.clone())?;
        if r.status != 403 {
            return Ok(r);
        }
        if self.lookup(&token)?.is_some() {
            return Err(Error::VaultDenied {
                vault: self.name.clone(),
                action: action.into(),
            });
        }
        // The token itself is no longer valid.
        *self.session.lock().unwrap_or_else(|p| p.into_inner()) = None;
        if self.auth != TeamAuth::Approle {
            return Err(self.auth_error("the engine token was refused (expired or revoked)"));
        }
        let s = self.approle_login()?;
        let token = s.token.clone();
        *self.session.lock().unwrap_or_else(|p| p.into_inner()) = Some(s);
        let r = self.send(method, path, Some(&token), body)?;
        if r.status == 403 {
            return Err(Error::VaultDenied {
                vault: self.name.clone(),
                action: action.into(),
            });
        }
        Ok(r)
    }

    /// Logs in (or checks the token) now, so `connect` fails before anything is saved.
    ///
    /// # Errors
    /// [`Error::VaultAuth`], [`Error::VaultUnreachable`], [`Error::VaultTls`],
    /// [`Error::VaultSealed`].
    pub fn verify_login(&self) -> Result<()> {
        self.token().map(|_| ())
    }

    /// The token an AppRole login obtained during `connect`, to keep for later runs.
    pub fn session_token(&self) -> Option<SecretString> {
        self.session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|s| s.token.clone())
    }

    /// The engine's health: `Ok(())` when active (or a standby able to serve).
    ///
    /// # Errors
    /// [`Error::VaultSealed`], [`Error::VaultUnreachable`], [`Error::VaultTls`],
    /// [`Error::VaultResponse`] (not initialised).
    pub fn health(&self) -> Result<()> {
        let r = self.send(Method::GET, "sys/health?standbyok=true&perfstandbyok=true", None, None)?;
        match r.status {
            200 | 429 | 472 | 473 => Ok(()),
            503 => Err(Error::VaultSealed {
                vault: self.name.clone(),
                address: self.address().into(),
            }),
            _ => Err(self.status_error(&r)),
        }
    }

    /// This token's capabilities on the API path `path` (`read`, `create`, `update`, …).
    ///
    /// # Errors
    /// Engine errors.
    pub fn capabilities(&self, path: &str) -> Result<Vec<String>> {
        let body = serde_json::json!({ "paths": [path] }).to_string();
        let r = self.call(
            Method::POST,
            "sys/capabilities-self",
            Some(SecretString::from(body)),
            "check capabilities",
        )?;
        if r.status != 200 {
            return Err(self.status_error(&r));
        }
        let v: serde_json::Value = serde_json::from_str(r.body.expose_secret()).unwrap_or_default();
        let caps = v
            .get(path)
            .or_else(|| v.get("capabilities"))
            .or_else(|| v.get("data").and_then(|d| d.get(path)))
            .and_then(|c| c.as_array())
            .map(|a| a.iter().filter_map(|c| c.as_str().map(String::from)).collect())
            .unwrap_or_default();
        Ok(caps)
    }
}

/// Longest token TTL believed from the engine.
const MAX_TTL_SECS: u64 = 365 * 24 * 3600;

fn session(token: SecretString, ttl_secs: u64, renewable: bool) -> Session {
    let now = Instant::now();
    if ttl_secs == 0 {
        // Root-like tokens never expire.
        return Session {
            token,
            renew_at: None,
            expires_at: None,
            renewable,
        };
    }
    // An engine's TTL is believed up to a year: a hostile or broken answer cannot
    // overflow the clock.
    let ttl = Duration::from_secs(ttl_secs.min(MAX_TTL_SECS));
    let by_fraction = ttl.mul_f64(RENEW_FRACTION);
    let by_margin = ttl.saturating_sub(RENEW_MARGIN);
    Session {
        token,
        renew_at: Some(now + by_fraction.min(by_margin)),
        expires_at: Some(now + ttl),
        renewable,
    }
}

/// A transport error in words, classified as TLS or reachability, without the URL.
fn net_error(vault: &str, address: &str, e: &reqwest::Error) -> Error {
    let chain = error_chain(e);
    let inner = chain.last().cloned().unwrap_or_else(|| "request failed".into());
    let all = chain.join(" ").to_ascii_lowercase();
    let tls = all.contains("certificate") || all.contains("tls") || all.contains("handshake");
    if tls && !e.is_timeout() {
        return Error::VaultTls {
            vault: vault.into(),
            address: address.into(),
            detail: inner,
        };
    }
    let detail = if e.is_timeout() {
        format!("timed out ({inner})")
    } else if e.is_connect() {
        format!("could not connect ({inner})")
    } else {
        inner
    };
    Error::VaultUnreachable {
        vault: vault.into(),
        address: address.into(),
        detail,
    }
}

#[derive(Deserialize)]
struct ReadData {
    data: Option<serde::de::IgnoredAny>,
    metadata: ReadMeta,
}

#[derive(Deserialize)]
struct ReadMeta {
    version: u64,
}

#[derive(Deserialize)]
struct ReadResp {
    data: ReadData,
}

#[derive(Deserialize)]
struct WriteResp {
    data: ReadMeta,
}

impl KvEngine for KvClient {
    fn read(&self, rel: &str) -> Result<Option<KvEntry>> {
        let r = self.call(Method::GET, &self.data_path(rel), None, "read")?;
        match r.status {
            200 => {
                let v: ReadResp = serde_json::from_str(r.body.expose_secret()).map_err(|_| Error::VaultResponse {
                    vault: self.name.clone(),
                    status: 200,
                    detail: format!("`{rel}` is not a KV v2 document (is the mount KV version 2?)"),
                })?;
                Ok(v.data.data.map(|_| KvEntry {
                    body: r.body.clone(),
                    version: v.data.metadata.version,
                }))
            }
            404 => Ok(None),
            _ => Err(self.status_error(&r)),
        }
    }

    fn write(&self, rel: &str, data: &SecretString, cas: u64) -> Result<u64> {
        let body = SecretString::from(format!(
            "{{\"options\":{{\"cas\":{cas}}},\"data\":{}}}",
            data.expose_secret()
        ));
        let r = self.call(Method::POST, &self.data_path(rel), Some(body), "write")?;
        match r.status {
            200 | 204 => Ok(serde_json::from_str::<WriteResp>(r.body.expose_secret())
                .map(|w| w.data.version)
                .unwrap_or(cas.saturating_add(1))),
            _ => Err(self.status_error(&r)),
        }
    }

    fn current(&self, rel: &str) -> Result<Option<KvCurrent>> {
        #[derive(Deserialize)]
        struct Version {
            #[serde(default)]
            deletion_time: String,
            #[serde(default)]
            destroyed: bool,
        }
        #[derive(Deserialize)]
        struct Meta {
            current_version: u64,
            #[serde(default)]
            versions: std::collections::BTreeMap<String, Version>,
        }
        #[derive(Deserialize)]
        struct MetaResp {
            data: Meta,
        }
        let r = self.call(Method::GET, &self.metadata_path(rel), None, "read")?;
        match r.status {
            200 => {
                let m: MetaResp = serde_json::from_str(r.body.expose_secret()).map_err(|_| Error::VaultResponse {
                    vault: self.name.clone(),
                    status: 200,
                    detail: format!("`{rel}` has no KV v2 metadata"),
                })?;
                let live = m
                    .data
                    .versions
                    .get(&m.data.current_version.to_string())
                    .is_some_and(|v| v.deletion_time.is_empty() && !v.destroyed);
                Ok(Some(KvCurrent {
                    version: m.data.current_version,
                    live,
                }))
            }
            404 => Ok(None),
            _ => Err(self.status_error(&r)),
        }
    }

    fn delete_latest(&self, rel: &str) -> Result<()> {
        let r = self.call(Method::DELETE, &self.data_path(rel), None, "delete")?;
        match r.status {
            200 | 204 | 404 => Ok(()),
            _ => Err(self.status_error(&r)),
        }
    }

    fn destroy(&self, rel: &str) -> Result<()> {
        let r = self.call(Method::DELETE, &self.metadata_path(rel), None, "delete")?;
        match r.status {
            200 | 204 | 404 => Ok(()),
            _ => Err(self.status_error(&r)),
        }
    }

    fn location(&self) -> String {
        format!("{} ({}/{})", self.address(), self.mount, self.prefix)
    }
}
