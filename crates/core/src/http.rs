//! HTTP for provider calls: one pooled client with timeouts, no redirects (a redirect
//! could carry a bearer token to another host), capped response bodies, and https only
//! except to loopback addresses.
//!
//! Responses are captured as [`Captured`] (status, rate-limit headers, a capped body and
//! the latency) so the token engine and the connectivity test share one code path.

pub use crate::dto::RateLimit;
use crate::error::{Error, Result};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use url::Url;

/// Largest response body read from a provider; anything longer is cut (and is not JSON we
/// want anyway).
pub const MAX_BODY: usize = 256 * 1024;
/// Whole-request timeout.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// TCP connect timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest rate-limit wait believed from a server.
pub const MAX_WAIT_SECS: u64 = 24 * 3600;
/// The `User-Agent` of provider calls.
pub const USER_AGENT: &str = concat!("tillkey/", env!("CARGO_PKG_VERSION"));

impl RateLimit {
    /// The rate-limit headers of `h`, if it has any.
    pub(crate) fn from_headers(h: &HeaderMap) -> Option<Self> {
        let num = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let rl = RateLimit {
            limit: num("x-ratelimit-limit"),
            remaining: num("x-ratelimit-remaining"),
            reset_secs: num("x-ratelimit-reset"),
            retry_after_secs: num("retry-after"),
        };
        (rl != RateLimit::default()).then_some(rl)
    }

    /// Seconds to wait before trying again: Retry-After, else X-RateLimit-Reset, else 60;
    /// at most a day, whatever the server claims.
    pub fn wait_secs(&self) -> u64 {
        self.retry_after_secs
            .or(self.reset_secs)
            .unwrap_or(60)
            .min(MAX_WAIT_SECS)
    }
}

/// A response as the engine needs it. The body may hold tokens: never log or show it.
pub struct Captured {
    /// HTTP status.
    pub status: u16,
    /// Rate-limit headers, when the response had any.
    pub rate_limit: Option<RateLimit>,
    /// The body, at most [`MAX_BODY`] bytes.
    pub body: Vec<u8>,
    /// For a redirect: the host its `Location` points at (never followed, only named).
    pub redirect_host: Option<String>,
    /// Time from sending to the last body byte.
    pub latency: Duration,
}

/// A request body.
pub enum Body {
    /// No body.
    Empty,
    /// `application/x-www-form-urlencoded`; values may be secret.
    Form(Vec<(String, SecretString)>),
    /// `application/json` (the serialized document may hold secrets).
    Json(SecretString),
}

impl Body {
    /// Its content type and encoded form, if it is not empty (the encoded form may hold
    /// secrets).
    pub(crate) fn encoded(&self) -> Option<(&'static str, String)> {
        match self {
            Body::Empty => None,
            Body::Form(pairs) => {
                let mut ser = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in pairs {
                    ser.append_pair(k, v.expose_secret());
                }
                Some(("application/x-www-form-urlencoded", ser.finish()))
            }
            Body::Json(doc) => Some(("application/json", doc.expose_secret().to_string())),
        }
    }
}

/// A request to a provider. It has no `Debug`: its headers and body hold secrets.
pub struct Request {
    /// GET or POST.
    pub method: reqwest::Method,
    /// Target URL (already checked by [`check_url`]).
    pub url: Url,
    /// Headers; values may be secret (Authorization, presharedkey).
    pub headers: Vec<(HeaderName, SecretString)>,
    /// Body.
    pub body: Body,
}

impl Request {
    /// A request with no headers or body.
    pub fn new(method: reqwest::Method, url: Url) -> Self {
        Self {
            method,
            url,
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: HeaderName, value: impl Into<SecretString>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &SecretString) -> Self {
        let v = SecretString::from(format!("Bearer {}", token.expose_secret()));
        self.header(AUTHORIZATION, v)
    }

    /// Adds `Accept: application/json`.
    pub fn accept_json(self) -> Self {
        self.header(ACCEPT, SecretString::from("application/json"))
    }
}

/// Checks that a URL may receive credentials: https, or http to a loopback address.
///
/// # Errors
/// [`Error::InvalidInput`].
pub fn check_url(field: &str, url: &Url) -> Result<()> {
    validate_url(field, url.as_str()).map(|_| ())
}

/// Whether `host` is a loopback address (where plain http is allowed).
pub fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        url::Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// Validates a URL value: absolute, https, or http to loopback only; no credentials in it.
/// Errors show the URL without its user info, query and fragment (they may hold secrets),
/// and an unparseable value not at all.
///
/// # Errors
/// [`Error::InvalidInput`] naming the field and the problem.
pub fn validate_url(field: &str, value: &str) -> Result<Url> {
    let url = Url::parse(value).map_err(|e| Error::invalid(field, format!("is not a valid absolute URL ({e})")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(Error::invalid(field, "the scheme is not supported; use https"));
    }
    let shown = display_url(&url);
    let host = url
        .host()
        .ok_or_else(|| Error::invalid(field, format!("`{shown}` has no host")))?;
    if url.scheme() == "http" && !is_loopback_host(&host) {
        return Err(Error::invalid(
            field,
            format!("`{shown}` uses plain http; Tillkey only sends credentials over https (http is allowed for loopback addresses only)"),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            field,
            "the URL must not contain a user name or password",
        ));
    }
    Ok(url)
}

/// `scheme://host[:port]/path` of a URL: what a message may show.
pub fn display_url(url: &Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    shown.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// The HTTP client for provider calls (the connectivity test's connect stage opens its own
/// connection, see `probe`).
///
/// The underlying clients are built on the first request and shared by every clone, so a
/// command that never goes to the network (a cached token) does not pay for it, and all
/// requests of a process share one connection pool with keep-alive. Requests to remote
/// hosts honour the environment's proxy settings; requests to loopback addresses never go
/// through a proxy (a plain-http loopback request would hand it the secret).
#[derive(Clone, Default)]
pub struct Http {
    remote: Arc<OnceLock<reqwest::Client>>,
    loopback: Arc<OnceLock<reqwest::Client>>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Http")
    }
}

impl Http {
    /// A pooled client with keep-alive (built on first use).
    pub fn new() -> Self {
        Self {
            remote: Arc::new(OnceLock::new()),
            loopback: Arc::new(OnceLock::new()),
        }
    }

    fn client(&self, url: &Url) -> Result<&reqwest::Client> {
        let loopback = url.host().is_some_and(|h| is_loopback_host(&h));
        let cell = if loopback { &self.loopback } else { &self.remote };
        if let Some(c) = cell.get() {
            return Ok(c);
        }
        let built = Self::build(loopback)?;
        // Two first requests at once may both build one; the first stored wins.
        Ok(cell.get_or_init(|| built))
    }

    fn build(loopback: bool) -> Result<reqwest::Client> {
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .https_only(false) // enforced per request by check_url (loopback may be http)
            .user_agent(USER_AGENT);
        if loopback {
            b = b.no_proxy();
        }
        b.build().map_err(|e| Error::Network {
            host: String::new(),
            detail: describe(&e),
            timeout: false,
        })
    }

    /// Sends `req` and captures the response.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a URL that may not receive credentials; [`Error::Network`]
    /// for DNS, connect, TLS and timeout failures (with the host, never the full URL).
    pub async fn send(&self, req: Request) -> Result<Captured> {
        // The request inspector records the exchange when a trace is in scope.
        let mut tap = crate::inspect::Pending::start(&req);
        let out = self.exchange(req, tap.as_mut()).await;
        if let Some(t) = tap {
            t.finish(&out);
        }
        out
    }

    async fn exchange(&self, req: Request, tap: Option<&mut crate::inspect::Pending>) -> Result<Captured> {
        check_url("url", &req.url)?;
        let host = req.url.host_str().unwrap_or_default().to_string();
        let net = |e: reqwest::Error| Error::Network {
            host: host.clone(),
            detail: describe(&e),
            timeout: e.is_timeout(),
        };
        let mut rb = self.client(&req.url)?.request(req.method, req.url.clone());
        for (name, value) in &req.headers {
            let mut v = HeaderValue::from_str(value.expose_secret())
                .map_err(|_| Error::invalid(name.as_str(), "contains characters that cannot go in an HTTP header"))?;
            v.set_sensitive(true);
            rb = rb.header(name, v);
        }
        if let Some((content_type, body)) = req.body.encoded() {
            rb = rb.header(CONTENT_TYPE, content_type).body(body);
        }
        let started = Instant::now();
        let mut resp = rb.send().await.map_err(net)?;
        if let Some(t) = tap {
            t.headers(resp.headers());
        }
        let status = resp.status().as_u16();
        let rate_limit = RateLimit::from_headers(resp.headers());
        let redirect_host = resp
            .status()
            .is_redirection()
            .then(|| redirect_host(&req.url, resp.headers()))
            .flatten();
        let body = read_capped(&mut resp, MAX_BODY).await.map_err(net)?;
        Ok(Captured {
            status,
            rate_limit,
            body,
            redirect_host,
            latency: started.elapsed(),
        })
    }
}

/// Reads a response body, keeping at most `max` bytes (the rest is never read): the one
/// body reader for providers ([`MAX_BODY`]) and team engines.
///
/// # Errors
/// The transport's error while reading.
pub(crate) async fn read_capped(
    resp: &mut reqwest::Response,
    max: usize,
) -> std::result::Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = max.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if room <= chunk.len() {
            break;
        }
    }
    Ok(body)
}

/// The messages of `e` and its sources, outermost first.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut chain = Vec::new();
    let mut src = Some(e);
    while let Some(s) = src {
        chain.push(s.to_string());
        src = s.source();
    }
    chain
}

/// The host a redirect's `Location` names (relative locations stay on `from`'s host),
/// cut to a host name's length and printable characters.
fn redirect_host(from: &Url, headers: &HeaderMap) -> Option<String> {
    let location = headers.get(reqwest::header::LOCATION)?.to_str().ok()?;
    let target = from.join(location).ok()?;
    let host = target.host_str()?;
    Some(host.chars().filter(|c| !c.is_control()).take(253).collect())
}

/// A reqwest error in words, without its URL (a URL may carry a query with a token).
fn describe(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    if e.is_timeout() {
        parts.push("timed out".to_string());
    } else if e.is_connect() {
        parts.push("could not connect".to_string());
    } else if e.is_body() || e.is_decode() {
        parts.push("the response body could not be read".to_string());
    }
    // The innermost cause says most (e.g. "Connection refused", "dns error"); reqwest's own
    // message names the URL, so it is left out.
    let chain = error_chain(e);
    if chain.len() > 1 {
        parts.extend(chain.last().cloned());
    }
    if parts.is_empty() {
        parts.push("request failed".into());
    }
    parts.join(": ")
}
