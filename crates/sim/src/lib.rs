//! Provider simulators for Tillkey: loopback HTTP servers that behave as the provider
//! documents say (success bodies, every documented error code, token lifetime and
//! expiry, revocation, rate limiting), with counters tests can read.
//!
//! One simulator per provider kind ([`ProviderSim`]); each is an axum [`Router`] over a
//! shared [`SimState`]. [`Simulator`] runs one on `127.0.0.1:<random port>` and stops it
//! when dropped:
//!
//! ```no_run
//! # async fn f() -> std::io::Result<()> {
//! use tillkey_sim::{ProviderSim, SimConfig, Simulator};
//! let sim = Simulator::start(ProviderSim::Mypos, SimConfig::default()).await?;
//! sim.add_client("client-a", "secret-a");
//! // ... point the code under test at sim.token_url() ...
//! assert_eq!(sim.stats().token_requests("client-a"), 0);
//! # Ok(()) }
//! ```
//!
//! Synchronous tests (the CLI tests) use [`Simulator::spawn_blocking_runtime`], which
//! runs the server on its own runtime thread. [`demo()`] starts every simulator with one
//! demo credential each.
//!
//! Shared behaviour:
//! - token lifetime configurable ([`SimConfig::token_lifetime`], 3600 s by default);
//! - expired and revoked tokens get 401 `invalid_token` (Paysera POS: `AUTH002`);
//! - rate limiting per client id (50 requests per 60 s by default) on every endpoint,
//!   with `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (seconds
//!   until the window resets) on every response, and 429 with `Retry-After`;
//! - a simulated clock ([`SimState::advance_clock`]) that drives expiry and rate windows;
//! - request bodies capped ([`SimConfig::max_body_bytes`], 413 beyond).

#![warn(missing_docs)]

pub mod chimpy;
pub mod demo;
pub mod ereceipt;
mod http;
mod issue;
pub mod jwt;
pub mod mypos;
pub mod oauth2;
pub mod paysera_checkout;
pub mod paysera_pos;
mod state;

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tokio::sync::{oneshot, Notify};

pub use demo::{demo, demo_blocking, Demo, DemoCredential};
pub use state::{
    AuthMethod, ClientConfig, PatConfig, PosDevice, SimConfig, SimState, Stats, TokenInfo, ANONYMOUS,
    DEFAULT_MAX_BODY_BYTES, DEFAULT_RATE_LIMIT, DEFAULT_RATE_WINDOW, DEFAULT_TOKEN_LIFETIME,
};

/// The provider a simulator imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProviderSim {
    /// Paysera POS: personal access token ([`paysera_pos`]).
    PayseraPos,
    /// Paysera Checkout: client credentials in the form body ([`paysera_checkout`]).
    PayseraCheckout,
    /// myPOS: client credentials with HTTP Basic, revocation ([`mypos`]).
    Mypos,
    /// eReceipt: client credentials with POS headers, taxpayer tags ([`ereceipt`]).
    Ereceipt,
    /// Chimpy: password grant with a JSON body, rotating refresh tokens ([`chimpy`]).
    Chimpy,
    /// A generic RFC 6749 / RFC 7009 server ([`oauth2`]).
    Oauth2,
}

impl ProviderSim {
    /// Every simulator.
    pub const ALL: [ProviderSim; 6] = [
        ProviderSim::PayseraPos,
        ProviderSim::PayseraCheckout,
        ProviderSim::Mypos,
        ProviderSim::Ereceipt,
        ProviderSim::Chimpy,
        ProviderSim::Oauth2,
    ];

    /// The provider kind name used by Tillkey (`paysera-pos`, `paysera-checkout`,
    /// `mypos`, `ereceipt`, `chimpy`, `oauth2`).
    pub fn kind(self) -> &'static str {
        match self {
            ProviderSim::PayseraPos => "paysera-pos",
            ProviderSim::PayseraCheckout => "paysera-checkout",
            ProviderSim::Mypos => "mypos",
            ProviderSim::Ereceipt => "ereceipt",
            ProviderSim::Chimpy => "chimpy",
            ProviderSim::Oauth2 => "oauth2",
        }
    }

    /// The simulator for a kind name.
    pub fn from_kind(kind: &str) -> Option<Self> {
        ProviderSim::ALL.into_iter().find(|p| p.kind() == kind)
    }

    /// Token endpoint path (`None` for Paysera POS, which has no token endpoint).
    pub fn token_path(self) -> Option<&'static str> {
        match self {
            ProviderSim::PayseraPos => None,
            ProviderSim::PayseraCheckout => Some(paysera_checkout::TOKEN_PATH),
            ProviderSim::Mypos => Some(mypos::TOKEN_PATH),
            ProviderSim::Ereceipt => Some(ereceipt::TOKEN_PATH),
            ProviderSim::Chimpy => Some(chimpy::TOKEN_PATH),
            ProviderSim::Oauth2 => Some(oauth2::TOKEN_PATH),
        }
    }

    /// Path (and query) of the protected endpoint used as the connectivity test.
    pub fn test_path(self) -> &'static str {
        match self {
            ProviderSim::PayseraPos => paysera_pos::TEST_PATH,
            ProviderSim::PayseraCheckout => paysera_checkout::METHODS_PATH,
            ProviderSim::Mypos => mypos::PING_PATH,
            ProviderSim::Ereceipt => ereceipt::PING_PATH,
            ProviderSim::Chimpy => chimpy::PING_PATH,
            ProviderSim::Oauth2 => oauth2::PING_PATH,
        }
    }

    /// Revocation endpoint path, where the provider has one.
    pub fn revoke_path(self) -> Option<&'static str> {
        match self {
            ProviderSim::Mypos => Some(mypos::REVOKE_PATH),
            ProviderSim::Oauth2 => Some(oauth2::REVOKE_PATH),
            _ => None,
        }
    }

    /// API base path, for the kinds with an `api_base` field.
    pub fn api_base_path(self) -> Option<&'static str> {
        match self {
            ProviderSim::PayseraPos => Some(paysera_pos::API_BASE_PATH),
            ProviderSim::Chimpy => Some(chimpy::API_BASE_PATH),
            _ => None,
        }
    }

    /// The simulator's axum router over `state`, with per-path hit counting, a body
    /// size limit and a JSON 404 fallback.
    pub fn router(self, state: SimState) -> Router {
        let routes = match self {
            ProviderSim::PayseraPos => paysera_pos::router(state.clone()),
            ProviderSim::PayseraCheckout => paysera_checkout::router(state.clone()),
            ProviderSim::Mypos => mypos::router(state.clone()),
            ProviderSim::Ereceipt => ereceipt::router(state.clone()),
            ProviderSim::Chimpy => chimpy::router(state.clone()),
            ProviderSim::Oauth2 => oauth2::router(state.clone()),
        };
        let limit = state.max_body();
        routes
            .fallback(|| async { http::not_found() })
            .layer(middleware::from_fn_with_state(state, count_hits))
            .layer(DefaultBodyLimit::max(limit))
    }
}

impl fmt::Display for ProviderSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind())
    }
}

/// Error for an unknown provider kind name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownProvider(pub String);

impl fmt::Display for UnknownProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown provider simulator: {}", self.0)
    }
}

impl std::error::Error for UnknownProvider {}

impl FromStr for ProviderSim {
    type Err = UnknownProvider;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProviderSim::from_kind(s).ok_or_else(|| UnknownProvider(s.to_owned()))
    }
}

async fn count_hits(State(st): State<SimState>, req: Request, next: Next) -> Response {
    st.record_hit(req.uri().path());
    next.run(req).await
}

/// Serves `app` until `stop` fires (or its sender is dropped); then stops accepting,
/// lets open connections finish for at most 2 s.
async fn serve(listener: tokio::net::TcpListener, app: Router, stop: oneshot::Receiver<()>) {
    let stopping = Arc::new(Notify::new());
    let notifier = stopping.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stop.await;
        notifier.notify_one();
    });
    tokio::select! {
        _ = server => {}
        _ = async {
            stopping.notified().await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        } => {}
    }
}

/// A running simulator on `127.0.0.1`. Dereferences to its [`SimState`], so
/// `sim.add_client(..)`, `sim.stats()`, `sim.advance_clock(..)` work directly. The
/// server stops when the `Simulator` is dropped.
#[derive(Debug)]
pub struct Simulator {
    provider: ProviderSim,
    addr: SocketAddr,
    state: SimState,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Simulator {
    /// Starts a simulator with an empty state on the current tokio runtime.
    pub async fn start(provider: ProviderSim, config: SimConfig) -> io::Result<Simulator> {
        Simulator::start_with_state(provider, SimState::new(config)).await
    }

    /// Starts a simulator over an existing state on the current tokio runtime.
    pub async fn start_with_state(provider: ProviderSim, state: SimState) -> io::Result<Simulator> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel();
        tokio::spawn(serve(listener, provider.router(state.clone()), stopped));
        Ok(Simulator {
            provider,
            addr,
            state,
            stop: Some(stop),
            thread: None,
        })
    }

    /// Starts a simulator on its own thread with its own tokio runtime, for synchronous
    /// code (no runtime needed by the caller). Dropping it stops the server and joins the
    /// thread.
    pub fn spawn_blocking_runtime(provider: ProviderSim, config: SimConfig) -> io::Result<Simulator> {
        Simulator::spawn_blocking_runtime_with_state(provider, SimState::new(config))
    }

    /// Like [`Simulator::spawn_blocking_runtime`], over an existing state.
    pub fn spawn_blocking_runtime_with_state(provider: ProviderSim, state: SimState) -> io::Result<Simulator> {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (stop, stopped) = oneshot::channel();
        let app = provider.router(state.clone());
        let thread = std::thread::Builder::new()
            .name(format!("tillkey-sim-{}", provider.kind()))
            .spawn(move || {
                runtime.block_on(async move {
                    if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                        serve(listener, app, stopped).await;
                    }
                });
            })?;
        Ok(Simulator {
            provider,
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Which provider this simulates.
    pub fn provider(&self) -> ProviderSim {
        self.provider
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `host:port`, for fields such as Chimpy's `auth_host`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// `http://127.0.0.1:<port>` (eReceipt's `identity_url`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Full token endpoint URL (`None` for Paysera POS).
    pub fn token_url(&self) -> Option<String> {
        self.provider.token_path().map(|p| format!("{}{p}", self.base_url()))
    }

    /// Full URL of the connectivity-test endpoint (`test_url`).
    pub fn test_url(&self) -> String {
        format!("{}{}", self.base_url(), self.provider.test_path())
    }

    /// Full revocation endpoint URL (myPOS, generic OAuth2).
    pub fn revoke_url(&self) -> Option<String> {
        self.provider.revoke_path().map(|p| format!("{}{p}", self.base_url()))
    }

    /// API base URL (Paysera POS `api_base`, Chimpy `api_base`).
    pub fn api_base(&self) -> Option<String> {
        self.provider.api_base_path().map(|p| format!("{}{p}", self.base_url()))
    }

    /// The shared state handle (also reachable through `Deref`).
    pub fn state(&self) -> &SimState {
        &self.state
    }

    /// Stops the server now (same as dropping it).
    pub fn shutdown(self) {}
}

impl Deref for Simulator {
    type Target = SimState;
    fn deref(&self) -> &SimState {
        &self.state
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
