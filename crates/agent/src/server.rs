//! The agent itself: binds the socket, serves requests with one open vault and token
//! engine, and exits after [`DEFAULT_IDLE`] without a request while it holds no key (or
//! on SIGTERM/SIGINT).
//! A data key it holds is forgotten on `tillkey lock`, after the vault's auto-lock time
//! without a request, and when the session locks or the computer suspends.

use crate::error::AgentError;
use crate::key::KeyHolder;
use crate::memo::Memo;
use crate::paths::{ensure_private_dir, euid, socket_path};
use crate::proto::{self, RemoteError, Reply, ReplyFrame, Request, WireToken};
use secrecy::SecretString;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tillkey_core::audit::{Action, Origin};
use tillkey_core::passphrase;
use tillkey_core::vault::metadata::Stamp;
use tillkey_core::{Engine, TokenSource, Vault};
use tokio::net::{UnixListener, UnixStream};
use tokio::signal::unix::{signal, SignalKind};
use tokio::time::Instant;
use zeroize::Zeroize;

/// How long the agent waits for a request before it exits: 15 minutes.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(15 * 60);

/// Debug builds only (tests): the idle time in seconds instead of [`DEFAULT_IDLE`].
pub const IDLE_ENV: &str = "TILLKEY_AGENT_IDLE_SECS";

/// Debug builds only (tests): the auto-lock time in seconds instead of the vault's
/// `autoLockMinutes`.
pub const AUTO_LOCK_ENV: &str = "TILLKEY_AGENT_AUTO_LOCK_SECS";

/// How often the agent checks whether a key it holds is due to be forgotten.
const AUTO_LOCK_TICK: Duration = Duration::from_secs(1);

/// How long a connected client may take to send a whole request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How [`serve`] runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The vault's data dir.
    pub data_dir: PathBuf,
    /// Exit after this long without a request.
    pub idle: Duration,
    /// The uid a client must have (this process's effective uid; tests inject another).
    pub peer_uid: u32,
    /// Debug builds only: the auto-lock time instead of the vault's setting.
    pub auto_lock: Option<Duration>,
    /// The key holder to serve with: the app passes the one its window unlocks, so both
    /// share one unlocked state. `None`: a new one (the stand-alone agent).
    pub key: Option<Arc<KeyHolder>>,
    /// Inside another process (the app's resident process): no signal handlers (the host
    /// owns SIGTERM and SIGINT) and no idle exit (the host decides when to go).
    pub embedded: bool,
}

impl ServeOptions {
    /// Options for `data_dir`: [`DEFAULT_IDLE`] (in debug builds `TILLKEY_AGENT_IDLE_SECS`
    /// overrides it) and this user as the only peer.
    pub fn new(data_dir: PathBuf) -> Self {
        let mut idle = DEFAULT_IDLE;
        if cfg!(debug_assertions) {
            if let Some(s) = std::env::var(IDLE_ENV).ok().and_then(|s| s.parse::<u64>().ok()) {
                idle = Duration::from_secs(s.max(1));
            }
        }
        let auto_lock = std::env::var(AUTO_LOCK_ENV)
            .ok()
            .filter(|_| cfg!(debug_assertions))
            .and_then(|s| s.parse::<u64>().ok())
            .map(Duration::from_secs);
        ServeOptions {
            data_dir,
            idle,
            peer_uid: euid(),
            auto_lock,
            key: None,
            embedded: false,
        }
    }
}

/// How [`serve`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// No request for the idle time.
    Idle,
    /// SIGTERM or SIGINT.
    Signalled,
    /// Another agent already serves this data dir and session.
    AlreadyRunning,
    /// A client asked it to go, so that another process (the app) serves instead.
    HandedOver,
}

/// What every connection shares.
struct State {
    /// The vault and its token engine. On lock its sealed store forgets the key through
    /// the key holder (`passphrase::forget_keys`), so it is kept.
    engine: Engine,
    key: Arc<KeyHolder>,
    metadata: PathBuf,
    memo: Mutex<Memo>,
    peer_uid: u32,
    /// Requests in progress, and when the last one ended.
    activity: Mutex<(usize, Instant)>,
    /// Set by a `quit` request: the serving loop ends.
    quit: tokio::sync::Notify,
}

impl State {
    fn touch(&self, delta: isize) {
        let mut a = self.activity.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        a.0 = a.0.saturating_add_signed(delta);
        a.1 = Instant::now();
        self.key.touch();
    }

    /// When the agent may exit, or `None` while a request is in progress.
    fn idle_deadline(&self, idle: Duration) -> Option<Instant> {
        let a = self.activity.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        (a.0 == 0).then_some(a.1 + idle)
    }

    fn engine(&self) -> Engine {
        self.engine.clone()
    }

    fn memo(&self) -> std::sync::MutexGuard<'_, Memo> {
        self.memo.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forgets the data key (its bytes are wiped with the last copy): `tillkey lock`, the
    /// auto-lock timer and the session's lock all come here. Every vault of this process
    /// (this agent's and, in the app, the window's) forgets the key it had with it.
    fn lock(&self) {
        self.key.set(None);
        // Tokens handed out while unlocked are read again, under the vault's policy for
        // cached tokens while locked.
        self.memo().prune(None);
    }

    /// Locks when a key is held and no request came for the auto-lock time (`forced`, else
    /// the vault's `autoLockMinutes`; 0 is never).
    fn auto_lock(&self, forced: Option<Duration>) {
        if !self.key.held() {
            return;
        }
        let minutes = |m: u32| Duration::from_secs(u64::from(m) * 60);
        let after = match forced {
            Some(d) => d,
            None => match passphrase::auto_lock_minutes(self.engine().vault().data_dir()) {
                Ok(Some(0)) => return,
                Ok(Some(m)) => minutes(m),
                // No passphrase any more: the key held opens nothing, forget it now.
                Ok(None) => Duration::ZERO,
                // An unreadable file: the default time.
                Err(_) => minutes(passphrase::DEFAULT_AUTO_LOCK_MINUTES),
            },
        };
        if forced.is_some_and(|d| d.is_zero()) {
            return;
        }
        // The last request, the agent's or (in the app) the window's.
        let last_used = tokio::time::Instant::from_std(self.key.last_used());
        if self
            .idle_deadline(after)
            .is_some_and(|d| d.max(last_used + after) <= Instant::now())
        {
            self.lock();
        }
    }
}

/// Runs the agent for `opts.data_dir` until it has been idle for `opts.idle` or is
/// signalled. A second agent for the same data dir and session returns
/// [`Served::AlreadyRunning`] at once (a lock file beside the socket decides).
///
/// Needs a Tokio runtime with I/O, time and signals enabled.
///
/// # Errors
/// An unsafe socket directory, socket or lock file errors, and the vault's own errors when
/// it cannot be opened.
pub async fn serve(opts: ServeOptions) -> Result<Served, AgentError> {
    let path = socket_path(&opts.data_dir);
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        // `/tmp` or `$XDG_RUNTIME_DIR` must exist already; never create the latter.
        if !parent.is_dir() {
            return Err(AgentError::io(
                "cannot use",
                parent,
                std::io::Error::from(std::io::ErrorKind::NotFound),
            ));
        }
    }
    ensure_private_dir(&dir)?;
    let lock_path = path.with_extension("lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| AgentError::io("cannot open", &lock_path, e))?;
    let _ = lock.set_permissions(std::fs::Permissions::from_mode(0o600));
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Ok(Served::AlreadyRunning),
        Err(std::fs::TryLockError::Error(e)) => return Err(AgentError::io("cannot lock", &lock_path, e)),
    }
    // Sealed secrets are opened with the key this agent holds, never with a prompt.
    let key = opts.key.clone().unwrap_or_default();
    passphrase::set_key_source(key.clone());
    // Open the vault before binding, so clients never reach an agent that cannot serve.
    let vault = Vault::open_default(Some(opts.data_dir.clone()))?;
    let metadata = Vault::metadata_path(vault.data_dir());
    // A fresh token is answered first and cached after (the agent's runtime outlives it).
    let engine = Engine::new(Arc::new(vault)).answer_first();

    // The lock is held: any socket file left there is a dead agent's.
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(AgentError::io("cannot remove the stale socket", &path, e)),
    }
    let listener = UnixListener::bind(&path).map_err(|e| AgentError::io("cannot listen on", &path, e))?;
    // The directory is 0700 already; the socket is 0600 as well.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| AgentError::io("cannot restrict", &path, e))?;
    let ours = std::fs::metadata(&path).map(|m| m.ino()).ok();

    let state = Arc::new(State {
        engine,
        key,
        metadata,
        memo: Mutex::new(Memo::default()),
        peer_uid: opts.peer_uid,
        activity: Mutex::new((0, Instant::now())),
        quit: tokio::sync::Notify::new(),
    });
    let (session_tx, mut session_events) = tokio::sync::mpsc::unbounded_channel();
    crate::session::watch(&session_tx);
    drop(session_tx);
    let mut tick = tokio::time::interval(AUTO_LOCK_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut term, mut int) = if opts.embedded {
        (None, None)
    } else {
        let term = signal(SignalKind::terminate()).map_err(|e| AgentError::io("cannot handle SIGTERM in", &path, e))?;
        let int = signal(SignalKind::interrupt()).map_err(|e| AgentError::io("cannot handle SIGINT in", &path, e))?;
        (Some(term), Some(int))
    };
    let ended = loop {
        // While it holds a key the agent does not exit idle: the auto-lock time decides
        // when the key goes (it may be longer than the idle time, or never), and the idle
        // time counts on from the last request after that.
        let deadline = if state.key.held() || opts.embedded {
            None
        } else {
            state.idle_deadline(opts.idle)
        };
        let idle = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    state.touch(1);
                    let s = state.clone();
                    tokio::spawn(async move {
                        connection(&s, stream).await;
                        s.touch(-1);
                    });
                }
            }
            () = idle => {
                if deadline.is_some_and(|d| d <= Instant::now()) && !state.key.held() && state.idle_deadline(opts.idle).is_some_and(|d| d <= Instant::now()) {
                    break Served::Idle;
                }
            }
            _ = tick.tick() => state.auto_lock(opts.auto_lock),
            Some(_) = session_events.recv() => {
                if state.key.held() {
                    state.lock();
                }
            }
            Some(_) = recv_signal(&mut term) => break Served::Signalled,
            Some(_) = recv_signal(&mut int) => break Served::Signalled,
            () = state.quit.notified() => break Served::HandedOver,
        }
    };
    // Remove the socket only if it is still ours (never a successor's).
    if ours.is_some() && std::fs::metadata(&path).map(|m| m.ino()).ok() == ours {
        let _ = std::fs::remove_file(&path);
    }
    drop(lock);
    Ok(ended)
}

/// The next delivery of `sig`, or never when there is no handler (embedded).
async fn recv_signal(sig: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match sig {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

/// Serves one connection: the peer's uid first, then requests until the client closes.
async fn connection(state: &State, mut stream: UnixStream) {
    if crate::peer::check_peer(&stream, state.peer_uid).is_err() {
        // Not this user: not a byte is read or written.
        return;
    }
    // The client's process, for the audit log (0 if the kernel does not say).
    let pid = crate::peer::peer_pid(&stream).unwrap_or(0);
    loop {
        let frame =
            match tokio::time::timeout(REQUEST_TIMEOUT, proto::read_frame(&mut stream, proto::MAX_REQUEST)).await {
                Ok(Ok(Some(f))) => f,
                Ok(Ok(None)) | Ok(Err(_)) | Err(_) => return,
            };
        let reply = match Request::parse(&frame) {
            Ok(req) => answer(state, req, pid).await,
            Err(e) => Reply::BadRequest { reason: e.to_string() },
        };
        let frame = ReplyFrame {
            v: proto::VERSION,
            reply,
        };
        let Ok(mut bytes) = serde_json::to_vec(&frame) else {
            return;
        };
        let written = proto::write_frame(&mut stream, &bytes, proto::MAX_REPLY).await;
        bytes.zeroize();
        if written.is_err() {
            return;
        }
    }
}

fn failed(e: &tillkey_core::Error) -> Reply {
    Reply::Error {
        error: RemoteError::from(e),
    }
}

async fn answer(state: &State, req: Request, pid: u32) -> Reply {
    match req {
        Request::Ping => Reply::Pong {
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        },
        Request::Token { name } => token_reply(state, &name, Action::Token, pid).await,
        Request::Exec { name } => token_reply(state, &name, Action::Exec, pid).await,
        Request::Test { name } => match state
            .engine()
            .with_origin(Origin::via_agent("test", pid))
            .test(&name)
            .await
        {
            Ok(report) => Reply::Report { report },
            Err(e) => failed(&e),
        },
        Request::TestAll => match state
            .engine()
            .with_origin(Origin::via_agent("test", pid))
            .test_all()
            .await
        {
            Ok(reports) => Reply::Reports { reports },
            Err(e) => failed(&e),
        },
        Request::Unlock { passphrase } => {
            let dir = state.engine().vault().data_dir().to_path_buf();
            // Argon2id: a quarter second of work, off the async threads.
            match tokio::task::spawn_blocking(move || passphrase::unlock(&dir, &passphrase)).await {
                Ok(Ok(key)) => {
                    state.key.set(Some(key));
                    Reply::Unlocked
                }
                Ok(Err(e)) => failed(&e),
                Err(e) => failed(&tillkey_core::Error::Internal(format!("the unlock task failed ({e})"))),
            }
        }
        Request::Lock => {
            state.lock();
            Reply::Locked
        }
        Request::Quit => {
            // The key goes with the agent; the successor starts locked.
            state.key.set(None);
            state.quit.notify_one();
            Reply::Bye
        }
    }
}

type Token = (SecretString, Option<chrono::DateTime<chrono::Utc>>);

/// A token from memory while the metadata file is unchanged, else from the engine (which
/// reads the file, the keyring cache, or the provider), kept in memory for next time.
/// A token for the client `pid`'s `token` or `exec`, recorded in the audit log (origin: that
/// command and pid, through the agent) with its outcome.
async fn token_reply(state: &State, name: &str, action: Action, pid: u32) -> Reply {
    let origin = Origin::via_agent(action.as_str(), pid);
    let got = token(state, name, origin.clone()).await;
    let id = got.as_ref().ok().and_then(|_| known_id(name));
    let outcome = tillkey_core::audit::outcome_of(&got);
    state
        .engine()
        .vault()
        .record_action(action, id.as_deref(), name, origin, &outcome, None);
    match got {
        Ok((token, expires_at)) => Reply::Token {
            token: WireToken(token),
            expires_at,
        },
        Err(e) => failed(&e),
    }
}

/// Credential ids by name, as the engine last gave them: a token answered from memory
/// names its credential's id in the audit log without reading the metadata.
static IDS: std::sync::LazyLock<Mutex<std::collections::HashMap<String, String>>> =
    std::sync::LazyLock::new(Mutex::default);

fn remember_id(name: &str, id: &str) {
    let mut ids = IDS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if ids.get(name).map(String::as_str) != Some(id) {
        ids.insert(name.to_string(), id.to_string());
    }
}

fn known_id(name: &str) -> Option<String> {
    IDS.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(name)
        .cloned()
}

async fn token(state: &State, name: &str, origin: Origin) -> Result<Token, tillkey_core::Error> {
    let engine = state.engine().with_origin(origin);
    let now = || engine.vault().clock().now();
    let sig = Stamp::of(&state.metadata);
    if let Some(sig) = sig {
        if let Some(hit) = state.memo().get(name, sig, now()) {
            return Ok(hit);
        }
    }
    let t = engine.token(name).await?;
    remember_id(name, &t.credential_id);
    let Some(sig) = sig else {
        return Ok((t.value, t.expires_at));
    };
    // When to stop using the copy: a static token at its stated expiry; a cached one at
    // the renewal time the vault recorded for exactly this token. A token just fetched is
    // being cached in the background (the file will change): the next request reads it.
    let renew_at = match t.source {
        TokenSource::Static => Some(t.expires_at),
        TokenSource::Fetched | TokenSource::Refreshed => None,
        TokenSource::Cached => {
            let vault = engine.vault().clone();
            let n = name.to_string();
            let info = tokio::task::spawn_blocking(move || vault.record(&n).ok().and_then(|r| r.token))
                .await
                .ok()
                .flatten();
            info.filter(|i| Some(i.expires_at) == t.expires_at)
                .map(|i| Some(i.renew_at))
        }
    };
    if let Some(renew_at) = renew_at {
        let mut memo = state.memo();
        memo.prune(Some(sig));
        memo.put(name, sig, t.value.clone(), t.expires_at, renew_at);
    }
    Ok((t.value, t.expires_at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream as StdStream;
    use tillkey_core::{MemoryStore, SystemClock};

    fn state(dir: &Path, peer_uid: u32) -> State {
        let vault = Vault::open(dir, Arc::new(MemoryStore::new()), Arc::new(SystemClock)).unwrap();
        State {
            engine: Engine::new(Arc::new(vault)),
            key: Arc::default(),
            metadata: Vault::metadata_path(dir),
            memo: Mutex::new(Memo::default()),
            peer_uid,
            activity: Mutex::new((0, Instant::now())),
            quit: tokio::sync::Notify::new(),
        }
    }

    fn ask(client: &mut StdStream, req: &Request) -> Result<ReplyFrame, AgentError> {
        proto::write_frame_blocking(client, &req.encode(), proto::MAX_REQUEST)?;
        let bytes = proto::read_frame_blocking(client, proto::MAX_REPLY)?;
        serde_json::from_slice(&bytes).map_err(|e| AgentError::Protocol(e.to_string()))
    }

    /// The agent's connection handler over a socketpair: this user is answered; with
    /// another uid injected as the expected one, the same client gets no byte back.
    #[tokio::test]
    async fn a_client_of_another_uid_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (expected, answered) in [(euid(), true), (euid().wrapping_add(1), false)] {
            let st = Arc::new(state(dir.path(), expected));
            let (server, client) = StdStream::pair().unwrap();
            server.set_nonblocking(true).unwrap();
            let server = UnixStream::from_std(server).unwrap();
            let s = st.clone();
            let serving = tokio::spawn(async move { connection(&s, server).await });
            let mut client = client;
            let reply = tokio::task::spawn_blocking(move || ask(&mut client, &Request::Ping))
                .await
                .unwrap();
            serving.await.unwrap();
            match (answered, reply) {
                (
                    true,
                    Ok(ReplyFrame {
                        reply: Reply::Pong { pid, .. },
                        ..
                    }),
                ) => assert_eq!(pid, std::process::id()),
                (false, Err(AgentError::Gone(_))) => {}
                (a, r) => panic!("expected answered={a}, got {r:?}"),
            }
        }
    }

    #[tokio::test]
    async fn a_bad_request_is_answered_as_such_and_a_missing_name_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let st = Arc::new(state(dir.path(), euid()));
        let (server, client) = StdStream::pair().unwrap();
        server.set_nonblocking(true).unwrap();
        let server = UnixStream::from_std(server).unwrap();
        let s = st.clone();
        let serving = tokio::spawn(async move { connection(&s, server).await });
        let replies = tokio::task::spawn_blocking(move || {
            let mut client = client;
            proto::write_frame_blocking(&mut client, b"{\"v\":1,\"op\":\"reveal\"}", proto::MAX_REQUEST).unwrap();
            let bad: ReplyFrame =
                serde_json::from_slice(&proto::read_frame_blocking(&mut client, proto::MAX_REPLY).unwrap()).unwrap();
            let missing = ask(&mut client, &Request::Token { name: "nope".into() }).unwrap();
            (bad, missing)
        })
        .await
        .unwrap();
        serving.await.unwrap();
        assert!(matches!(replies.0.reply, Reply::BadRequest { .. }), "{:?}", replies.0);
        match replies.1.reply {
            Reply::Error { error } => assert_eq!((error.code.as_str(), error.exit), ("not_found", 2)),
            r => panic!("{r:?}"),
        }
    }
}
