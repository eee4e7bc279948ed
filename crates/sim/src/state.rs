//! Shared simulator state: configuration, registered clients, users and tokens, the
//! simulated clock, rate limiting and the counters tests read.
//!
//! A [`SimState`] is a cheap, clonable handle (an `Arc` inside). The HTTP handlers and
//! the test code share it, so a test can register a client, revoke a token or move the
//! clock while the server runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Access token lifetime used where a provider document gives none (and the one the
/// Paysera Checkout and eReceipt documents give): one hour.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// Requests allowed per client and window by default.
pub const DEFAULT_RATE_LIMIT: u32 = 50;
/// Length of the rate-limit window by default.
pub const DEFAULT_RATE_WINDOW: Duration = Duration::from_secs(60);
/// Largest request body accepted by default (bytes); larger bodies get HTTP 413.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024;
/// Rate-limit and statistics key used when a request names no client.
pub const ANONYMOUS: &str = "anonymous";

/// Settings a simulator starts with. All of them can be changed later through
/// [`SimState`] setters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// Lifetime of issued access tokens (`expires_in`). Default 3600 s.
    pub token_lifetime: Duration,
    /// Lifetime of Chimpy refresh tokens; `None` (default) means they never expire.
    pub refresh_token_lifetime: Option<Duration>,
    /// Requests allowed per client and window; `None` disables rate limiting (and the
    /// `X-RateLimit-*` headers). Default 50.
    pub rate_limit: Option<u32>,
    /// Length of the fixed rate-limit window. Default 60 s.
    pub rate_window: Duration,
    /// Largest accepted request body in bytes. Default 16 KiB.
    pub max_body_bytes: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            refresh_token_lifetime: None,
            rate_limit: Some(DEFAULT_RATE_LIMIT),
            rate_window: DEFAULT_RATE_WINDOW,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

impl SimConfig {
    /// Sets the access token lifetime.
    pub fn with_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Sets the refresh token lifetime (`None`: never expire).
    pub fn with_refresh_token_lifetime(mut self, lifetime: Option<Duration>) -> Self {
        self.refresh_token_lifetime = lifetime;
        self
    }

    /// Sets the per-client rate limit (`None` disables it).
    pub fn with_rate_limit(mut self, limit: Option<u32>) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Sets the rate-limit window length.
    pub fn with_rate_window(mut self, window: Duration) -> Self {
        self.rate_window = window;
        self
    }
}

/// How a generic OAuth2 client must authenticate at the token and revoke endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    Post,
    /// `client_secret_basic`: HTTP Basic authentication.
    Basic,
}

/// The POS device an eReceipt client is registered with: the values its token request
/// headers must carry, and the taxpayer tags written into its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosDevice {
    /// Expected `posserial` header (at most 100 characters).
    pub posserial: String,
    /// Expected `pososversion` header (at most 50 characters).
    pub pososversion: String,
    /// Expected `posmodelframework` header (at most 10 characters).
    pub posmodelframework: String,
    /// Expected `presharedkey` header (at most 200 characters).
    pub presharedkey: String,
    /// Taxpayer tags carried by the token's `tags` claim. Default `["B2B", "B2C"]`.
    pub tags: Vec<String>,
}

impl PosDevice {
    /// A device with the given header values and the tags `B2B` and `B2C`.
    pub fn new(
        posserial: impl Into<String>,
        pososversion: impl Into<String>,
        posmodelframework: impl Into<String>,
        presharedkey: impl Into<String>,
    ) -> Self {
        PosDevice {
            posserial: posserial.into(),
            pososversion: pososversion.into(),
            posmodelframework: posmodelframework.into(),
            presharedkey: presharedkey.into(),
            tags: vec!["B2B".to_owned(), "B2C".to_owned()],
        }
    }

    /// Replaces the taxpayer tags.
    pub fn with_tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }
}

/// A registered OAuth2 client. Fields a provider does not use are ignored by its
/// simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// The client id.
    pub client_id: String,
    /// The client secret (Chimpy clients are public: an empty secret is not checked).
    pub client_secret: String,
    /// Scopes the client may request. Empty: the provider's default set (myPOS
    /// `webhooks`, eReceipt `InvoicingAPI`, Paysera Checkout `profile email`; any scope
    /// for the generic OAuth2 server; Chimpy `offline_access openid profile email`).
    pub scopes: Vec<String>,
    /// Audiences the client may request (generic OAuth2 and Chimpy). Empty: any.
    pub audiences: Vec<String>,
    /// Generic OAuth2 only: the one client authentication method allowed. `None`: both.
    pub auth_method: Option<AuthMethod>,
    /// Overrides the simulator's access token lifetime for this client.
    pub token_lifetime: Option<Duration>,
    /// A blocked (or expired) client is refused as if unknown.
    pub blocked: bool,
    /// eReceipt only: the device whose headers the token request must carry. `None`:
    /// any header values within the documented lengths are accepted, tags `B2B B2C`.
    pub pos_device: Option<PosDevice>,
}

impl ClientConfig {
    /// A client with an id and a secret and defaults for everything else.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        ClientConfig {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            scopes: Vec::new(),
            audiences: Vec::new(),
            auth_method: None,
            token_lifetime: None,
            blocked: false,
            pos_device: None,
        }
    }

    /// Sets the scopes the client may request.
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Adds an allowed audience.
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Restricts the client authentication method (generic OAuth2).
    pub fn with_auth_method(mut self, method: AuthMethod) -> Self {
        self.auth_method = Some(method);
        self
    }

    /// Sets a per-client access token lifetime.
    pub fn with_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = Some(lifetime);
        self
    }

    /// Sets the eReceipt POS device.
    pub fn with_pos_device(mut self, device: PosDevice) -> Self {
        self.pos_device = Some(device);
        self
    }

    /// Marks the client blocked or not.
    pub fn with_blocked(mut self, blocked: bool) -> Self {
        self.blocked = blocked;
        self
    }
}

/// A Paysera POS personal access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatConfig {
    /// Label used as the rate-limit and statistics key.
    pub name: String,
    /// The token string sent as `Authorization: Bearer <token>`.
    pub token: String,
    /// Whether the token's user may read orders; `false` gives 403 `AUTH003`.
    pub permitted: bool,
    /// Expiry as Unix seconds on the simulator clock; `None`: never expires.
    pub expires_at: Option<i64>,
}

impl PatConfig {
    /// A permitted, non-expiring token whose name is the token itself.
    pub fn new(token: impl Into<String>) -> Self {
        let token = token.into();
        PatConfig {
            name: token.clone(),
            token,
            permitted: true,
            expires_at: None,
        }
    }
}

/// What the simulator knows about an issued access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The client the token was issued to.
    pub client_id: String,
    /// The subject (client id, or Chimpy username).
    pub subject: String,
    /// Granted scope, if any.
    pub scope: Option<String>,
    /// Audience, if any.
    pub audience: Option<String>,
    /// eReceipt taxpayer tags (empty elsewhere).
    pub tags: Vec<String>,
    /// Issue time, Unix milliseconds on the simulator clock.
    pub issued_at_ms: i64,
    /// Expiry, Unix milliseconds on the simulator clock; `None`: never.
    pub expires_at_ms: Option<i64>,
    /// Whether it was revoked.
    pub revoked: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct RefreshRecord {
    pub client_id: String,
    pub audience: String,
    pub username: String,
    pub scope: String,
    pub expires_at_ms: Option<i64>,
}

#[derive(Debug, Clone)]
struct PatRecord {
    config: PatConfig,
    revoked: bool,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start_ms: i64,
    count: u32,
}

/// Outcome of a rate-limit check, turned into `X-RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateInfo {
    pub limit: u32,
    pub remaining: u32,
    pub reset_secs: u64,
    pub exceeded: bool,
}

/// Result of looking up a bearer access token.
#[derive(Debug, Clone)]
pub(crate) enum TokenCheck {
    Valid(TokenInfo),
    Unknown,
    Revoked(TokenInfo),
    Expired(TokenInfo),
}

/// Result of looking up a personal access token.
#[derive(Debug, Clone)]
pub(crate) enum PatCheck {
    Valid { name: String, permitted: bool },
    Unknown,
    Revoked(String),
    Expired(String),
}

/// Result of redeeming a Chimpy refresh token.
#[derive(Debug, Clone)]
pub(crate) enum RefreshCheck {
    Valid(RefreshRecord),
    Invalid,
}

/// A snapshot of the simulator's counters. Every per-client method takes the client id
/// (for Paysera POS: the token's name; for requests naming no client: `"anonymous"`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    token_requests: HashMap<String, u64>,
    tokens_issued: HashMap<String, u64>,
    api_calls: HashMap<String, u64>,
    revocations: HashMap<String, u64>,
    refresh_grants: HashMap<String, u64>,
    password_grants: HashMap<String, u64>,
    rate_limited: HashMap<String, u64>,
    hits: HashMap<String, u64>,
    missing_accept_json: u64,
}

fn get(map: &HashMap<String, u64>, key: &str) -> u64 {
    map.get(key).copied().unwrap_or(0)
}

fn bump(map: &mut HashMap<String, u64>, key: &str) {
    *map.entry(key.to_owned()).or_insert(0) += 1;
}

impl Stats {
    /// Requests to the token endpoint that named this client (successful or not).
    pub fn token_requests(&self, client_id: &str) -> u64 {
        get(&self.token_requests, client_id)
    }
    /// Requests to the token endpoint, all clients.
    pub fn token_requests_total(&self) -> u64 {
        self.token_requests.values().sum()
    }
    /// Access tokens issued to this client.
    pub fn tokens_issued(&self, client_id: &str) -> u64 {
        get(&self.tokens_issued, client_id)
    }
    /// Access tokens issued, all clients.
    pub fn tokens_issued_total(&self) -> u64 {
        self.tokens_issued.values().sum()
    }
    /// Calls to the protected API (test) endpoints attributed to this client (any
    /// outcome; unknown tokens count as `"anonymous"`).
    pub fn api_calls(&self, client_id: &str) -> u64 {
        get(&self.api_calls, client_id)
    }
    /// Calls to the protected API endpoints, all clients.
    pub fn api_calls_total(&self) -> u64 {
        self.api_calls.values().sum()
    }
    /// Authenticated requests to the revoke endpoint by this client.
    pub fn revocations(&self, client_id: &str) -> u64 {
        get(&self.revocations, client_id)
    }
    /// Authenticated requests to the revoke endpoint, all clients.
    pub fn revocations_total(&self) -> u64 {
        self.revocations.values().sum()
    }
    /// Chimpy `refresh_token` grant requests by this client (any outcome).
    pub fn refresh_grants(&self, client_id: &str) -> u64 {
        get(&self.refresh_grants, client_id)
    }
    /// Chimpy `password` grant requests by this client (any outcome).
    pub fn password_grants(&self, client_id: &str) -> u64 {
        get(&self.password_grants, client_id)
    }
    /// Requests answered 429 for this client.
    pub fn rate_limited(&self, client_id: &str) -> u64 {
        get(&self.rate_limited, client_id)
    }
    /// Requests answered 429, all clients.
    pub fn rate_limited_total(&self) -> u64 {
        self.rate_limited.values().sum()
    }
    /// Requests received for an exact path (without query), e.g. `"/oauth/token"`.
    pub fn hits(&self, path: &str) -> u64 {
        get(&self.hits, path)
    }
    /// Requests received, all paths.
    pub fn hits_total(&self) -> u64 {
        self.hits.values().sum()
    }
    /// Paysera POS requests that did not send `Accept: application/json`.
    pub fn missing_accept_json(&self) -> u64 {
        self.missing_accept_json
    }
}

#[derive(Debug)]
struct Inner {
    config: SimConfig,
    clock_offset_ms: i64,
    clients: HashMap<String, ClientConfig>,
    users: HashMap<String, String>,
    pats: HashMap<String, PatRecord>,
    tokens: HashMap<String, TokenInfo>,
    issued: HashMap<String, Vec<String>>,
    refresh: HashMap<String, RefreshRecord>,
    windows: HashMap<String, Window>,
    required_headers: Vec<(String, String)>,
    stats: Stats,
}

impl Inner {
    fn now_ms(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        real.saturating_add(self.clock_offset_ms)
    }
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Shared, clonable handle on one simulator's state. See the module docs.
#[derive(Debug, Clone)]
pub struct SimState {
    inner: Arc<Mutex<Inner>>,
}

impl Default for SimState {
    fn default() -> Self {
        SimState::new(SimConfig::default())
    }
}

impl SimState {
    /// Empty state (no clients, users or tokens) with the given configuration.
    pub fn new(config: SimConfig) -> Self {
        SimState {
            inner: Arc::new(Mutex::new(Inner {
                config,
                clock_offset_ms: 0,
                clients: HashMap::new(),
                users: HashMap::new(),
                pats: HashMap::new(),
                tokens: HashMap::new(),
                issued: HashMap::new(),
                refresh: HashMap::new(),
                windows: HashMap::new(),
                required_headers: Vec::new(),
                stats: Stats::default(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ----- configuration -------------------------------------------------------------

    /// The current configuration.
    pub fn config(&self) -> SimConfig {
        self.lock().config.clone()
    }
    /// Sets the access token lifetime for tokens issued from now on.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.lock().config.token_lifetime = lifetime;
    }
    /// Sets the refresh token lifetime for refresh tokens issued from now on.
    pub fn set_refresh_token_lifetime(&self, lifetime: Option<Duration>) {
        self.lock().config.refresh_token_lifetime = lifetime;
    }
    /// Sets the per-client rate limit (`None` disables it) and clears the windows.
    pub fn set_rate_limit(&self, limit: Option<u32>) {
        let mut g = self.lock();
        g.config.rate_limit = limit;
        g.windows.clear();
    }
    /// Sets the rate-limit window length and clears the windows.
    pub fn set_rate_window(&self, window: Duration) {
        let mut g = self.lock();
        g.config.rate_window = window;
        g.windows.clear();
    }
    /// Forgets all rate-limit windows (every client starts with a full allowance).
    pub fn reset_rate_limits(&self) {
        self.lock().windows.clear();
    }
    /// Generic OAuth2: the token endpoint answers 400 `invalid_request` unless the
    /// request carries this header with this value (for testing extra request headers).
    pub fn require_token_header(&self, name: impl Into<String>, value: impl Into<String>) {
        self.lock()
            .required_headers
            .push((name.into().to_ascii_lowercase(), value.into()));
    }

    // ----- clock ---------------------------------------------------------------------

    /// Current simulator time, Unix seconds (real time plus the clock offset).
    pub fn now_unix(&self) -> i64 {
        self.now_unix_ms().div_euclid(1000)
    }
    /// Current simulator time, Unix milliseconds.
    pub fn now_unix_ms(&self) -> i64 {
        self.lock().now_ms()
    }
    /// Moves the simulator clock forward (token expiry and rate windows follow it).
    pub fn advance_clock(&self, by: Duration) {
        let mut g = self.lock();
        g.clock_offset_ms = g.clock_offset_ms.saturating_add(duration_ms(by));
    }
    /// Moves the simulator clock back.
    pub fn rewind_clock(&self, by: Duration) {
        let mut g = self.lock();
        g.clock_offset_ms = g.clock_offset_ms.saturating_sub(duration_ms(by));
    }
    /// Puts the simulator clock back on real time.
    pub fn reset_clock(&self) {
        self.lock().clock_offset_ms = 0;
    }
    /// Current clock offset from real time, milliseconds.
    pub fn clock_offset_ms(&self) -> i64 {
        self.lock().clock_offset_ms
    }

    // ----- clients and users ---------------------------------------------------------

    /// Registers (or replaces) a client with an id and a secret.
    pub fn add_client(&self, client_id: impl Into<String>, client_secret: impl Into<String>) {
        self.add_client_with(ClientConfig::new(client_id, client_secret));
    }
    /// Registers (or replaces) a fully configured client.
    pub fn add_client_with(&self, client: ClientConfig) {
        self.lock().clients.insert(client.client_id.clone(), client);
    }
    /// Changes a registered client; returns false when it is unknown.
    pub fn update_client(&self, client_id: &str, change: impl FnOnce(&mut ClientConfig)) -> bool {
        match self.lock().clients.get_mut(client_id) {
            Some(c) => {
                change(c);
                true
            }
            None => false,
        }
    }
    /// Replaces a client's secret (as a portal rotation would); false when unknown.
    pub fn set_client_secret(&self, client_id: &str, secret: impl Into<String>) -> bool {
        let secret = secret.into();
        self.update_client(client_id, |c| c.client_secret = secret)
    }
    /// A portal's "generate a new set" (myPOS issues a new client ID and secret to
    /// rotate): registers a new client with the configuration of `client_id` (scopes,
    /// token lifetime, device) under a new id and secret, and returns them. The old client
    /// keeps working, and can revoke its own tokens, until it is removed
    /// ([`SimState::remove_client`]), as the old set does until the merchant deletes it in
    /// the portal. `None` when `client_id` is unknown.
    pub fn issue_new_set(&self, client_id: &str) -> Option<(String, String)> {
        let mut g = self.lock();
        let mut client = g.clients.get(client_id)?.clone();
        // The new id keeps the old one's first part, so tests and the demo can tell them apart.
        let base = client_id.split('.').next().unwrap_or(client_id);
        let id = loop {
            let id = format!("{base}.{}", crate::jwt::opaque_token(8).to_ascii_lowercase());
            if !g.clients.contains_key(&id) {
                break id;
            }
        };
        client.client_id = id.clone();
        client.client_secret = crate::jwt::opaque_token(32);
        let secret = client.client_secret.clone();
        g.clients.insert(id.clone(), client);
        Some((id, secret))
    }
    /// Blocks or unblocks a client; false when unknown.
    pub fn set_client_blocked(&self, client_id: &str, blocked: bool) -> bool {
        self.update_client(client_id, |c| c.blocked = blocked)
    }
    /// Removes a client; its issued tokens stay valid until revoked or expired.
    pub fn remove_client(&self, client_id: &str) -> bool {
        self.lock().clients.remove(client_id).is_some()
    }
    /// A registered client's configuration.
    pub fn client(&self, client_id: &str) -> Option<ClientConfig> {
        self.lock().clients.get(client_id).cloned()
    }
    /// Registers (or replaces) a Chimpy user.
    pub fn add_user(&self, username: impl Into<String>, password: impl Into<String>) {
        self.lock().users.insert(username.into(), password.into());
    }
    /// Changes a user's password; false when unknown.
    pub fn set_user_password(&self, username: &str, password: impl Into<String>) -> bool {
        match self.lock().users.get_mut(username) {
            Some(p) => {
                *p = password.into();
                true
            }
            None => false,
        }
    }
    /// Removes a user (their refresh tokens stop working too).
    pub fn remove_user(&self, username: &str) -> bool {
        self.lock().users.remove(username).is_some()
    }

    // ----- tokens --------------------------------------------------------------------

    /// Registers a Paysera POS personal access token, permitted or not (403 `AUTH003`).
    pub fn add_pat(&self, token: impl Into<String>, permitted: bool) {
        let mut pat = PatConfig::new(token);
        pat.permitted = permitted;
        self.add_pat_with(pat);
    }
    /// Registers a fully configured personal access token.
    pub fn add_pat_with(&self, pat: PatConfig) {
        self.lock().pats.insert(
            pat.token.clone(),
            PatRecord {
                config: pat,
                revoked: false,
            },
        );
    }
    /// Registers a static access token for `client_id` (e.g. a generic bearer token),
    /// valid for `lifetime` from now, or forever when `None`.
    pub fn insert_token(&self, token: impl Into<String>, client_id: &str, lifetime: Option<Duration>) {
        let mut g = self.lock();
        let now = g.now_ms();
        let token = token.into();
        g.issued.entry(client_id.to_owned()).or_default().push(token.clone());
        g.tokens.insert(
            token,
            TokenInfo {
                client_id: client_id.to_owned(),
                subject: client_id.to_owned(),
                scope: None,
                audience: None,
                tags: Vec::new(),
                issued_at_ms: now,
                expires_at_ms: lifetime.map(|l| now.saturating_add(duration_ms(l))),
                revoked: false,
            },
        );
    }
    /// Revokes an access token, personal access token or refresh token server-side;
    /// false when the simulator never issued it.
    pub fn revoke_token(&self, token: &str) -> bool {
        let mut g = self.lock();
        let mut found = false;
        if let Some(t) = g.tokens.get_mut(token) {
            t.revoked = true;
            found = true;
        }
        if let Some(p) = g.pats.get_mut(token) {
            p.revoked = true;
            found = true;
        }
        if g.refresh.remove(token).is_some() {
            found = true;
        }
        found
    }
    /// Revokes every access and refresh token issued to a client; returns how many
    /// access tokens were newly revoked.
    pub fn revoke_client_tokens(&self, client_id: &str) -> usize {
        let mut g = self.lock();
        let mut n = 0;
        for t in g.tokens.values_mut() {
            if t.client_id == client_id && !t.revoked {
                t.revoked = true;
                n += 1;
            }
        }
        g.refresh.retain(|_, r| r.client_id != client_id);
        n
    }
    /// Makes an access token (or personal access token) expire now; false when unknown.
    pub fn expire_token(&self, token: &str) -> bool {
        let mut g = self.lock();
        let now = g.now_ms();
        let mut found = false;
        if let Some(t) = g.tokens.get_mut(token) {
            t.expires_at_ms = Some(now);
            found = true;
        }
        if let Some(p) = g.pats.get_mut(token) {
            p.config.expires_at = Some(now.div_euclid(1000));
            found = true;
        }
        found
    }
    /// What the simulator knows about an access token it issued.
    pub fn token_info(&self, token: &str) -> Option<TokenInfo> {
        self.lock().tokens.get(token).cloned()
    }
    /// Access tokens issued to a client, oldest first.
    pub fn issued_tokens(&self, client_id: &str) -> Vec<String> {
        self.lock().issued.get(client_id).cloned().unwrap_or_default()
    }
    /// The most recent access token issued to a client.
    pub fn last_token(&self, client_id: &str) -> Option<String> {
        self.lock().issued.get(client_id).and_then(|v| v.last().cloned())
    }
    /// Access tokens of a client that are neither revoked nor expired.
    pub fn active_tokens(&self, client_id: &str) -> usize {
        let g = self.lock();
        let now = g.now_ms();
        g.tokens
            .values()
            .filter(|t| t.client_id == client_id && !t.revoked && t.expires_at_ms.is_none_or(|e| now < e))
            .count()
    }
    /// Valid Chimpy refresh tokens issued to a client.
    pub fn refresh_tokens(&self, client_id: &str) -> Vec<String> {
        self.lock()
            .refresh
            .iter()
            .filter(|(_, r)| r.client_id == client_id)
            .map(|(k, _)| k.clone())
            .collect()
    }
    /// Revokes every refresh token of a Chimpy user; returns how many.
    pub fn revoke_user_refresh_tokens(&self, username: &str) -> usize {
        let mut g = self.lock();
        let before = g.refresh.len();
        g.refresh.retain(|_, r| r.username != username);
        before - g.refresh.len()
    }

    // ----- statistics ----------------------------------------------------------------

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }
    /// Sets every counter back to zero.
    pub fn reset_stats(&self) {
        self.lock().stats = Stats::default();
    }

    // ----- crate-internal ------------------------------------------------------------

    pub(crate) fn max_body(&self) -> usize {
        self.lock().config.max_body_bytes
    }

    pub(crate) fn required_headers(&self) -> Vec<(String, String)> {
        self.lock().required_headers.clone()
    }

    pub(crate) fn rate_check(&self, key: &str) -> Option<RateInfo> {
        let mut guard = self.lock();
        let g = &mut *guard;
        let limit = g.config.rate_limit?;
        let window_ms = duration_ms(g.config.rate_window).max(1);
        let now = g.now_ms();
        let w = g.windows.entry(key.to_owned()).or_insert(Window {
            start_ms: now,
            count: 0,
        });
        if now >= w.start_ms.saturating_add(window_ms) || now < w.start_ms {
            w.start_ms = now;
            w.count = 0;
        }
        let reset_ms = (w.start_ms.saturating_add(window_ms) - now).max(0);
        let reset_secs = u64::try_from((reset_ms + 999) / 1000).unwrap_or(1).max(1);
        if w.count >= limit {
            bump(&mut g.stats.rate_limited, key);
            Some(RateInfo {
                limit,
                remaining: 0,
                reset_secs,
                exceeded: true,
            })
        } else {
            w.count += 1;
            let remaining = limit - w.count;
            Some(RateInfo {
                limit,
                remaining,
                reset_secs,
                exceeded: false,
            })
        }
    }

    pub(crate) fn record_hit(&self, path: &str) {
        bump(&mut self.lock().stats.hits, path);
    }
    pub(crate) fn record_token_request(&self, key: &str) {
        bump(&mut self.lock().stats.token_requests, key);
    }
    pub(crate) fn record_api_call(&self, key: &str) {
        bump(&mut self.lock().stats.api_calls, key);
    }
    pub(crate) fn record_revocation(&self, key: &str) {
        bump(&mut self.lock().stats.revocations, key);
    }
    pub(crate) fn record_refresh_grant(&self, key: &str) {
        bump(&mut self.lock().stats.refresh_grants, key);
    }
    pub(crate) fn record_password_grant(&self, key: &str) {
        bump(&mut self.lock().stats.password_grants, key);
    }
    pub(crate) fn record_missing_accept_json(&self) {
        self.lock().stats.missing_accept_json += 1;
    }

    /// Client lookup for authentication: the client when it exists, is not blocked and
    /// the secret matches.
    pub(crate) fn authenticate(&self, client_id: &str, secret: &str) -> Option<ClientConfig> {
        self.lock()
            .clients
            .get(client_id)
            .filter(|c| !c.blocked && c.client_secret == secret)
            .cloned()
    }

    pub(crate) fn user_password_ok(&self, username: &str, password: &str) -> bool {
        self.lock().users.get(username).is_some_and(|p| p == password)
    }

    pub(crate) fn user_exists(&self, username: &str) -> bool {
        self.lock().users.contains_key(username)
    }

    /// Lifetime for a client's next token and the current time (ms).
    pub(crate) fn lifetime_and_now(&self, client_id: &str) -> (Duration, i64) {
        let g = self.lock();
        let lifetime = g
            .clients
            .get(client_id)
            .and_then(|c| c.token_lifetime)
            .unwrap_or(g.config.token_lifetime);
        (lifetime, g.now_ms())
    }

    pub(crate) fn register_token(&self, token: &str, info: TokenInfo) {
        let mut g = self.lock();
        bump(&mut g.stats.tokens_issued, &info.client_id);
        g.issued
            .entry(info.client_id.clone())
            .or_default()
            .push(token.to_owned());
        g.tokens.insert(token.to_owned(), info);
    }

    pub(crate) fn check_token(&self, token: &str) -> TokenCheck {
        let g = self.lock();
        let now = g.now_ms();
        match g.tokens.get(token) {
            None => TokenCheck::Unknown,
            Some(t) if t.revoked => TokenCheck::Revoked(t.clone()),
            Some(t) if t.expires_at_ms.is_some_and(|e| now >= e) => TokenCheck::Expired(t.clone()),
            Some(t) => TokenCheck::Valid(t.clone()),
        }
    }

    pub(crate) fn check_pat(&self, token: &str) -> PatCheck {
        let g = self.lock();
        let now = g.now_ms().div_euclid(1000);
        match g.pats.get(token) {
            None => PatCheck::Unknown,
            Some(p) if p.revoked => PatCheck::Revoked(p.config.name.clone()),
            Some(p) if p.config.expires_at.is_some_and(|e| now >= e) => PatCheck::Expired(p.config.name.clone()),
            Some(p) => PatCheck::Valid {
                name: p.config.name.clone(),
                permitted: p.config.permitted,
            },
        }
    }

    pub(crate) fn register_refresh(&self, token: &str, client_id: &str, audience: &str, username: &str, scope: &str) {
        let mut g = self.lock();
        let now = g.now_ms();
        let expires_at_ms = g
            .config
            .refresh_token_lifetime
            .map(|l| now.saturating_add(duration_ms(l)));
        g.refresh.insert(
            token.to_owned(),
            RefreshRecord {
                client_id: client_id.to_owned(),
                audience: audience.to_owned(),
                username: username.to_owned(),
                scope: scope.to_owned(),
                expires_at_ms,
            },
        );
    }

    /// Redeems a refresh token: it is removed (rotation) whatever the outcome of the
    /// checks the caller makes afterwards, unless it is unknown or expired.
    pub(crate) fn take_refresh(&self, token: &str) -> RefreshCheck {
        let mut g = self.lock();
        let now = g.now_ms();
        match g.refresh.remove(token) {
            Some(r) if r.expires_at_ms.is_none_or(|e| now < e) => RefreshCheck::Valid(r),
            _ => RefreshCheck::Invalid,
        }
    }

    /// Puts back a refresh token taken by [`SimState::take_refresh`] when the request
    /// was refused for a reason that must not burn it (wrong client or audience).
    pub(crate) fn restore_refresh(&self, token: &str, record: RefreshRecord) {
        self.lock().refresh.insert(token.to_owned(), record);
    }
}
