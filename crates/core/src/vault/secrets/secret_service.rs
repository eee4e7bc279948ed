//! Linux: the Secret Service through one persistent session per process.
//!
//! The `keyring` crate opens a new D-Bus connection and a new Diffie-Hellman Secret Service
//! session on every call (two for a write), ~8–10 ms each. Here one actor thread owns a
//! [`SecretService`] (connected lazily, transport encryption on) and serves the requests of
//! every thread of the process over a channel, so the connection and the session are paid
//! for once.
//!
//! Items stay exactly what `keyring` 3.6 writes and reads, so entries written by either
//! keep working with the other: attributes `{service, username, target: "default",
//! application: "rust-keyring"}`, label `"{user}@{service}:default (keyring v3.6.3)"`, content
//! type `text/plain`; found by a service-wide search on `{service, username, target}` with
//! `keyring`'s fallback to target-less (keyring v1) items in the default collection (except
//! for cached access tokens, see [`perform`]); locked items and collections unlocked before use.
//!
//! Where new items go: ephemeral values ([`SecretClass::Ephemeral`], cached access tokens) in the Secret Service's
//! `session` collection when it has one (gnome-keyring keeps it in memory only), everything
//! else (refresh tokens included) in the default (login) collection. See [`super::KeyringStore`].
//!
//! Timeouts: a locked collection answers with an unlock prompt that nobody may see; the
//! caller gives up after its timeout with [`Error::KeyringLocked`] and marks the actor
//! abandoned, and the next call starts a fresh actor (the stuck one ends when its prompt
//! does, bounded by the same timeout, and hands its queued requests back to their callers,
//! who retry them on the fresh actor). A connection that breaks (the daemon restarted) is
//! reopened once and the request retried once.

use super::{SecretClass, SecretKey};
use crate::error::{Error, Result};
use dbus_secret_service::{Collection, EncryptionType, Error as SsError, Item, Path, SecretService};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// `target` attribute of every item (`keyring`'s default target).
const TARGET: &str = "default";
/// `application` attribute `keyring` 3.6 sets on the items it creates.
const APPLICATION: &str = "rust-keyring";
/// The `keyring` version named in item labels (labels are for display only, never searched).
const KEYRING_VERSION: &str = "3.6.3";
/// Content type of every secret.
const CONTENT_TYPE: &str = "text/plain";
/// Alias of the Secret Service's in-memory collection.
const SESSION_ALIAS: &str = "session";

/// One keyring operation.
pub(super) enum Op {
    /// Store a value (update the matching item or create one).
    Set(SecretString),
    /// Read the value.
    Get,
    /// Delete every matching item.
    Delete,
}

impl Op {
    fn retry_copy(&self) -> Op {
        match self {
            Op::Set(v) => Op::Set(v.clone()),
            Op::Get => Op::Get,
            Op::Delete => Op::Delete,
        }
    }
}

/// The answer to a request: the value read by [`Op::Get`], `None` otherwise.
type Reply = Result<Option<SecretString>>;

struct Request {
    account: String,
    ephemeral: bool,
    op: Op,
    /// How long an unlock prompt may run (the caller's timeout).
    prompt_secs: u64,
    reply: SyncSender<Reply>,
}

/// The caller's side of the actor.
struct Handle {
    id: u64,
    tx: Sender<Request>,
    abandoned: Arc<AtomicBool>,
}

static ACTOR: Mutex<Option<Handle>> = Mutex::new(None);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn actor() -> MutexGuard<'static, Option<Handle>> {
    ACTOR.lock().unwrap_or_else(|p| p.into_inner())
}

/// The current actor's sender and id, starting an actor if there is none.
fn current() -> Result<(u64, Sender<Request>)> {
    let mut slot = actor();
    if let Some(h) = slot.as_ref() {
        return Ok((h.id, h.tx.clone()));
    }
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = mpsc::channel();
    let abandoned = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&abandoned);
    std::thread::Builder::new()
        .name("tillkey-keyring".into())
        .spawn(move || run(rx, flag))
        .map_err(|e| Error::KeyringUnavailable(format!("cannot start a keyring thread: {e}")))?;
    *slot = Some(Handle {
        id,
        tx: tx.clone(),
        abandoned,
    });
    Ok((id, tx))
}

/// Forgets actor `id` (stuck or gone) so that the next call starts a fresh one.
fn abandon(id: u64) {
    let mut slot = actor();
    if slot.as_ref().is_some_and(|h| h.id == id) {
        if let Some(h) = slot.take() {
            h.abandoned.store(true, Ordering::SeqCst);
        }
    }
}

/// Runs `op` on `key` through the process's Secret Service actor, waiting at most `timeout`.
///
/// # Errors
/// [`Error::KeyringLocked`] after `timeout` or when an unlock prompt is dismissed,
/// [`Error::KeyringUnavailable`] otherwise.
pub(super) fn call(key: &SecretKey, op: Op, timeout: Duration) -> Reply {
    let deadline = Instant::now() + timeout;
    let account = key.account();
    let ephemeral = key.class == SecretClass::Ephemeral;
    let prompt_secs = timeout.as_secs();
    // A request comes back undone when the actor it was queued on ends first (abandoned
    // while stuck, or gone): retry it a couple of times on a fresh actor, within the deadline.
    let mut op = op;
    for _ in 0..3 {
        let (reply_tx, reply_rx) = mpsc::sync_channel(1);
        let retry = op.retry_copy();
        let mut req = Request {
            account: account.clone(),
            ephemeral,
            op,
            prompt_secs,
            reply: reply_tx,
        };
        let id = loop {
            let (id, tx) = current()?;
            match tx.send(req) {
                Ok(()) => break id,
                Err(mpsc::SendError(r)) => {
                    abandon(id);
                    req = r;
                }
            }
        };
        let left = deadline.saturating_duration_since(Instant::now());
        match reply_rx.recv_timeout(left) {
            Ok(r) => return r,
            Err(RecvTimeoutError::Timeout) => {
                abandon(id);
                return Err(Error::KeyringLocked);
            }
            Err(RecvTimeoutError::Disconnected) => {
                abandon(id);
                if Instant::now() >= deadline {
                    return Err(Error::KeyringLocked);
                }
                op = retry;
            }
        }
    }
    Err(Error::KeyringUnavailable("the keyring thread keeps stopping".into()))
}

/// The actor: serves requests one at a time on one Secret Service connection.
fn run(rx: Receiver<Request>, abandoned: Arc<AtomicBool>) {
    let mut conn: Option<Conn> = None;
    while let Ok(req) = rx.recv() {
        if abandoned.load(Ordering::SeqCst) {
            // Dropping `req` (and, below, the queue) tells its caller to retry elsewhere.
            break;
        }
        let reply = serve(&mut conn, &req);
        let _ = req.reply.send(reply);
        if abandoned.load(Ordering::SeqCst) {
            break;
        }
    }
}

/// A connected Secret Service and what we looked up on it.
struct Conn {
    ss: SecretService,
    default_path: Option<Path<'static>>,
    /// `None`: not looked up yet; `Some(None)`: there is no session collection.
    session_path: Option<Option<Path<'static>>>,
}

impl Conn {
    fn connect(prompt_secs: u64) -> std::result::Result<Conn, SsError> {
        Ok(Conn {
            ss: SecretService::connect_with_max_prompt_timeout(EncryptionType::Dh, prompt_secs)?,
            default_path: None,
            session_path: None,
        })
    }

    fn default_collection(&mut self) -> std::result::Result<Collection<'_>, SsError> {
        if self.default_path.is_none() {
            self.default_path = Some(self.ss.get_default_collection()?.path);
        }
        let path = self.default_path.clone().ok_or(SsError::NoResult)?;
        Ok(Collection::new(&self.ss, path))
    }

    /// The collection new items of this request go to.
    fn create_collection(&mut self, ephemeral: bool) -> std::result::Result<Collection<'_>, SsError> {
        if ephemeral {
            if self.session_path.is_none() {
                self.session_path = Some(match self.ss.get_collection_by_alias(SESSION_ALIAS) {
                    Ok(c) => Some(c.path),
                    Err(SsError::NoResult) => None,
                    Err(e) => return Err(e),
                });
            }
            if let Some(Some(path)) = self.session_path.clone() {
                return Ok(Collection::new(&self.ss, path));
            }
        }
        self.default_collection()
    }
}

/// Why a request failed.
enum Failure {
    Ss(SsError),
    /// A read found several matching items.
    Ambiguous(usize),
    /// The stored value is not UTF-8.
    BadEncoding,
}

impl From<SsError> for Failure {
    fn from(e: SsError) -> Self {
        Failure::Ss(e)
    }
}

/// Serves one request, (re)connecting as needed: a broken connection is reopened once and
/// the request retried once.
fn serve(conn: &mut Option<Conn>, req: &Request) -> Reply {
    let mut attempt = 0;
    loop {
        attempt += 1;
        if conn.is_none() {
            *conn = Some(Conn::connect(req.prompt_secs).map_err(|e| map_error(Failure::Ss(e), &req.account))?);
        }
        let Some(c) = conn.as_mut() else {
            unreachable!("connected above")
        };
        match perform(c, req) {
            Ok(v) => return Ok(v),
            Err(Failure::Ss(e)) if is_connection_error(&e) => {
                *conn = None;
                if attempt >= 2 {
                    return Err(map_error(Failure::Ss(e), &req.account));
                }
            }
            Err(f) => return Err(map_error(f, &req.account)),
        }
    }
}

/// The items matching `account`, unlocked first, each with whether it is locked.
///
/// With `legacy`, when nothing matches, `keyring`'s fallback: items of the default collection
/// without a `target` attribute (written by keyring v1 or other tools).
fn matching<'a>(
    ss: &'a SecretService,
    default: &Path<'static>,
    account: &str,
    legacy: bool,
) -> std::result::Result<Vec<(Item<'a>, bool)>, SsError> {
    let search = ss.search_items(search_attributes(account, true))?;
    let mut found: Vec<(Item<'a>, bool)> = search
        .unlocked
        .into_iter()
        .map(|i| (i, false))
        .chain(search.locked.into_iter().map(|i| (i, true)))
        .collect();
    if found.is_empty() && legacy {
        let paths: Vec<Path<'static>> = Collection::new(ss, default.clone())
            .search_items(search_attributes(account, false))?
            .into_iter()
            .map(|i| i.path)
            .collect();
        found = paths.into_iter().map(|p| (Item::new(ss, p), false)).collect();
    }
    Ok(found)
}

fn unlocked<'a>(item: &'a (Item<'a>, bool)) -> std::result::Result<&'a Item<'a>, SsError> {
    if item.1 {
        item.0.unlock()?;
    }
    Ok(&item.0)
}

fn perform(c: &mut Conn, req: &Request) -> std::result::Result<Option<SecretString>, Failure> {
    let default = c.default_collection()?.path;
    // Access tokens skip the target-less fallback search (a second search on every miss, the
    // common case for them): Tillkey has only ever written them through keyring 3.6 or this
    // module, both of which set `target`, and a token not found is simply fetched again.
    let legacy = !req.ephemeral;
    match &req.op {
        Op::Get => {
            let found = matching(&c.ss, &default, &req.account, legacy)?;
            match found.len() {
                0 => Ok(None),
                1 => {
                    let bytes = unlocked(&found[0])?.get_secret()?;
                    let value = String::from_utf8(bytes).map_err(|_| Failure::BadEncoding)?;
                    Ok(Some(SecretString::from(value)))
                }
                n => Err(Failure::Ambiguous(n)),
            }
        }
        Op::Delete => {
            for item in &matching(&c.ss, &default, &req.account, legacy)? {
                unlocked(item)?.delete()?;
            }
            Ok(None)
        }
        Op::Set(value) => {
            let secret = value.expose_secret().as_bytes();
            {
                let found = matching(&c.ss, &default, &req.account, legacy)?;
                if let Some((first, rest)) = found.split_first() {
                    // Update in place, wherever the item lives; drop any duplicates.
                    unlocked(first)?.set_secret(secret, CONTENT_TYPE)?;
                    for item in rest {
                        unlocked(item)?.delete()?;
                    }
                    return Ok(None);
                }
            }
            let label = label(&req.account);
            let collection = c.create_collection(req.ephemeral)?;
            let attributes = item_attributes(&req.account);
            // Create first and unlock only when told the collection is locked: asking first
            // would cost a round trip on every create.
            match collection.create_item(&label, attributes.clone(), secret, true, CONTENT_TYPE) {
                Err(SsError::Dbus(d)) if d.name() == Some(IS_LOCKED) => {
                    collection.unlock()?;
                    collection.create_item(&label, attributes, secret, true, CONTENT_TYPE)?;
                }
                r => {
                    r?;
                }
            }
            Ok(None)
        }
    }
}

/// `keyring` 3.6's search attributes (`with_target: false` for its target-less fallback).
fn search_attributes(account: &str, with_target: bool) -> HashMap<&str, &str> {
    let mut a = HashMap::from([("service", super::SERVICE), ("username", account)]);
    if with_target {
        a.insert("target", TARGET);
    }
    a
}

/// `keyring` 3.6's attributes of a new item.
fn item_attributes(account: &str) -> HashMap<&str, &str> {
    let mut a = search_attributes(account, true);
    a.insert("application", APPLICATION);
    a
}

/// `keyring` 3.6's label of a new item.
fn label(account: &str) -> String {
    format!("{account}@{}:{TARGET} (keyring v{KEYRING_VERSION})", super::SERVICE)
}

/// Whether `e` says the connection or the session is gone (the daemon restarted or quit),
/// rather than something about the request.
fn is_connection_error(e: &SsError) -> bool {
    match e {
        SsError::Dbus(d) => is_connection_error_name(d.name()),
        _ => false,
    }
}

/// [`is_connection_error`] by D-Bus error name (`None`: the connection itself failed).
fn is_connection_error_name(name: Option<&str>) -> bool {
    match name {
        None => true,
        Some(name) => {
            name.starts_with("org.freedesktop.DBus.Error.") || name == "org.freedesktop.Secret.Error.NoSession"
        }
    }
}

/// D-Bus error name of a locked item or collection.
const IS_LOCKED: &str = "org.freedesktop.Secret.Error.IsLocked";

/// Maps a failure to our errors; none of them carries a secret.
fn map_error(f: Failure, account: &str) -> Error {
    match f {
        Failure::Ss(SsError::Locked | SsError::Prompt) => Error::KeyringLocked,
        Failure::Ss(SsError::Dbus(d)) if d.name() == Some(IS_LOCKED) => Error::KeyringLocked,
        Failure::Ss(SsError::NoResult) => {
            Error::KeyringUnavailable("the Secret Service has no default collection (login keyring)".into())
        }
        Failure::Ss(e) => {
            let msg = e.to_string();
            if msg.to_ascii_lowercase().contains("locked") {
                Error::KeyringLocked
            } else {
                Error::KeyringUnavailable(msg)
            }
        }
        Failure::Ambiguous(n) => Error::KeyringUnavailable(format!(
            "{n} keyring entries match {account} (service {}); remove all but one \
             (e.g. with Seahorse or secret-tool)",
            super::SERVICE
        )),
        Failure::BadEncoding => Error::KeyringUnavailable("a keyring entry is not valid UTF-8".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_look_like_keyring_3_6_items() {
        let account = "v1/c2/r3/token";
        assert_eq!(label(account), "v1/c2/r3/token@tillkey:default (keyring v3.6.3)");
        let attrs = item_attributes(account);
        let expected = HashMap::from([
            ("service", "tillkey"),
            ("username", account),
            ("target", "default"),
            ("application", "rust-keyring"),
        ]);
        assert_eq!(attrs, expected);
        assert_eq!(search_attributes(account, false).len(), 2);
        assert!(!search_attributes(account, false).contains_key("target"));
    }

    #[test]
    fn the_label_version_is_the_locked_keyring_version() {
        let lock = include_str!("../../../../../Cargo.lock");
        let at = lock
            .find("name = \"keyring\"\nversion = \"")
            .expect("keyring in Cargo.lock");
        let version = lock[at..].lines().nth(1).unwrap();
        assert_eq!(version, format!("version = \"{KEYRING_VERSION}\""));
    }

    #[test]
    fn errors_carry_no_secret_and_locked_means_locked() {
        assert!(matches!(
            map_error(Failure::Ss(SsError::Prompt), "a"),
            Error::KeyringLocked
        ));
        assert!(matches!(
            map_error(Failure::Ss(SsError::Locked), "a"),
            Error::KeyringLocked
        ));
        let e = map_error(Failure::Ambiguous(2), "v/c/r1/token");
        let Error::KeyringUnavailable(msg) = e else {
            panic!("{e:?}")
        };
        assert!(msg.contains("2 keyring entries match v/c/r1/token"), "{msg}");
    }

    #[test]
    fn connection_errors_are_told_apart() {
        assert!(is_connection_error_name(Some(
            "org.freedesktop.DBus.Error.ServiceUnknown"
        )));
        assert!(is_connection_error_name(Some(
            "org.freedesktop.DBus.Error.Disconnected"
        )));
        assert!(is_connection_error_name(Some("org.freedesktop.Secret.Error.NoSession")));
        assert!(is_connection_error_name(None));
        assert!(!is_connection_error_name(Some(IS_LOCKED)));
        assert!(!is_connection_error_name(Some(
            "org.freedesktop.Secret.Error.NoSuchObject"
        )));
        assert!(!is_connection_error(&SsError::Prompt));
    }
}
