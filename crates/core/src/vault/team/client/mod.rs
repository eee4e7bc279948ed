//! The HTTP client of a team vault's engine (OpenBao or HashiCorp Vault): only the KV v2,
//! token (`lookup-self`, `renew-self`), AppRole login, `sys/capabilities-self` and
//! `sys/health` endpoints, which both servers share.
//!
//! It runs on the crate's reqwest/rustls stack (no second HTTP stack), on a small private
//! runtime, so the synchronous vault code can call it from any thread, async or not.
//! TLS verification is always on: the built-in web roots, plus a CA file when configured.
//! The engine token is held as a [`SecretString`] and sent only in `X-Vault-Token`.

use super::config::{TeamAuth, TeamConfig};

use crate::error::{Error, Result};
use crate::http::{error_chain, read_capped, CONNECT_TIMEOUT, REQUEST_TIMEOUT};
use crate::scrub::Scrubber;
use crate::vault::secrets::{SecretClass, SecretKey, SecretStore};
use login::Session;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use url::Url;

mod kv;
mod login;

/// Largest engine response read (the vault document of a few hundred credentials is far
/// smaller).
const MAX_BODY: usize = 8 * 1024 * 1024;

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
