//! The vault passphrase in the window, and the local agent in the app's resident process.
//!
//! One [`KeyHolder`] per app: the window's Unlock puts the vault's data key in it, and the
//! agent this process serves (`tillkey-agent`'s server, embedded) answers scripts with the
//! same holder, so one unlock serves both and one lock (the window's Lock, `tillkey lock`,
//! the auto-lock time, the screen locking, the computer going to sleep) locks both.
//!
//! While the vault is locked the window keeps showing names, providers, expiry and rotation
//! status (the metadata holds no secret), and every action asks for the passphrase first:
//! [`ensure_unlocked`] refuses them with `locked` before the core is asked, so even a
//! cached access token that scripts may still use (the vault's token policy) is not copied
//! or revealed from a locked window.
//!
//! Passphrases cross IPC one way, into Rust as `SecretString`s, and are never returned.

use crate::error::{IpcError, IpcResult};
use crate::state::{blocking, AppState, Handle};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tauri::{AppHandle, Manager, Runtime};
use tillkey_agent::{KeyHolder, ServeOptions, Served};
use tillkey_core::passphrase::{self, TokenPolicy};
use tillkey_core::KeyringStore;
use ts_rs::TS;

/// Tells the window the lock state changed (a fixed script: no data crosses this way).
const LOCK_SCRIPT: &str = "window.dispatchEvent(new Event('tillkey-lock'))";

/// How often the app tries to take over from a stand-alone agent at start.
const TAKE_OVER_TRIES: u32 = 5;

/// The app's lock: the data key while unlocked, and whether this process serves the agent.
#[derive(Default)]
pub struct Lock {
    holder: Arc<KeyHolder>,
    serving: std::sync::atomic::AtomicBool,
}

impl Lock {
    /// The key holder the window and the embedded agent share.
    pub fn holder(&self) -> &Arc<KeyHolder> {
        &self.holder
    }

    fn set_serving(&self, on: bool) {
        self.serving.store(on, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The vault passphrase as the window shows it. Never the passphrase or the key.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct LockStatus {
    /// Whether this computer's local vault has a passphrase.
    pub passphrase: bool,
    /// Whether it is locked (a passphrase is set and this app does not hold the key).
    pub locked: bool,
    /// Minutes without a Tillkey request before it locks by itself (0: never).
    pub auto_lock_minutes: Option<u32>,
    /// Whether scripts may use cached access tokens while locked (`usable`) or not
    /// (`locked`, chosen with "Lock cached access tokens too").
    pub tokens_while_locked: Option<String>,
    /// Whether this app serves the local agent (scripts' `tillkey token` is answered here).
    pub agent: bool,
}

/// Registers the holder as this process's key source and starts serving the agent (unless
/// `TILLKEY_NO_AGENT=1`), then keeps the window and the tray told of lock changes.
pub fn start<R: Runtime>(app: &AppHandle<R>) {
    let lock = app.state::<Lock>();
    passphrase::set_key_source(lock.holder.clone());
    let mut changes = lock.holder.subscribe();
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        while changes.changed().await.is_ok() {
            if let Some(window) = handle.get_webview_window(crate::desktop::MAIN) {
                let _ = window.eval(LOCK_SCRIPT);
            }
        }
    });
    if tillkey_agent::disabled() {
        return;
    }
    let Ok(dir) = app.state::<AppState>().real_data_dir() else {
        return;
    };
    let handle = app.clone();
    tauri::async_runtime::spawn(async move { serve_agent(handle, dir).await });
}

/// Serves the agent for `dir` for the app's lifetime, taking over from a stand-alone agent
/// that serves it already (it forgets its key and exits: unlock again in the window or with
/// `tillkey unlock`).
async fn serve_agent<R: Runtime>(app: AppHandle<R>, dir: PathBuf) {
    let holder = app.state::<Lock>().holder.clone();
    for _ in 0..TAKE_OVER_TRIES {
        let mut opts = ServeOptions::new(dir.clone());
        opts.key = Some(holder.clone());
        opts.embedded = true;
        // Set before binding: a client may connect as soon as the socket exists.
        app.state::<Lock>().set_serving(true);
        let served = tillkey_agent::serve(opts).await;
        app.state::<Lock>().set_serving(false);
        match served {
            Ok(Served::AlreadyRunning) => {
                let d = dir.clone();
                let asked = tauri::async_runtime::spawn_blocking(move || {
                    tillkey_agent::Client::connect(&d).and_then(|c| c.map(|mut c| c.quit()).transpose())
                })
                .await;
                if !matches!(asked, Ok(Ok(_))) {
                    eprintln!("tillkey: another agent serves this vault and did not hand over; scripts use it");
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(_) => return,
            Err(e) => {
                eprintln!("tillkey: the local agent could not start ({e}); scripts open the vault themselves");
                return;
            }
        }
    }
}

/// Refuses an action on `h` with `locked` while the local vault is locked (the team vaults'
/// logins on this computer are sealed with the same passphrase); the demo vault is never
/// locked. Counts as a use of the unlocked vault for its auto-lock time.
///
/// # Errors
/// `locked`; the passphrase file's errors.
pub async fn ensure_unlocked<R: Runtime>(app: &AppHandle<R>, h: &Handle) -> IpcResult<()> {
    if h.demo {
        return Ok(());
    }
    ensure_local_unlocked(app).await
}

/// Refuses with `locked` while this computer's local vault is locked, whichever vault the
/// window shows (connecting a team vault stores its login in the local vault's keyring).
///
/// # Errors
/// `locked`; the passphrase file's errors.
pub async fn ensure_local_unlocked<R: Runtime>(app: &AppHandle<R>) -> IpcResult<()> {
    let lock = app.state::<Lock>();
    if lock.holder.held() {
        lock.holder.touch();
        return Ok(());
    }
    let dir = app.state::<AppState>().real_data_dir()?;
    if blocking(move || passphrase::is_set(&dir)).await? {
        return Err(tillkey_core::Error::Locked.into());
    }
    Ok(())
}

async fn status_of<R: Runtime>(app: &AppHandle<R>) -> IpcResult<LockStatus> {
    let dir = app.state::<AppState>().real_data_dir()?;
    let file = blocking(move || passphrase::read_file(&dir)).await?;
    let lock = app.state::<Lock>();
    let set = file.as_ref().is_some_and(|f| f.state.sealed());
    Ok(LockStatus {
        passphrase: set,
        locked: set && !lock.holder.held(),
        auto_lock_minutes: file.as_ref().filter(|_| set).map(|f| f.auto_lock_minutes),
        tokens_while_locked: file.as_ref().filter(|_| set).map(|f| {
            match f.tokens {
                TokenPolicy::Usable => "usable",
                TokenPolicy::Locked => "locked",
            }
            .to_string()
        }),
        agent: lock.serving.load(std::sync::atomic::Ordering::SeqCst),
    })
}

fn mismatch() -> IpcError {
    IpcError {
        code: "invalid_input".into(),
        message: "The two passphrases differ.".into(),
        hint: Some("Type the new passphrase the same way in both fields. Nothing was changed.".into()),
        field: Some("confirm".into()),
    }
}

/// Whether the local vault has a passphrase and is locked.
#[tauri::command]
pub async fn lock_status<R: Runtime>(app: AppHandle<R>) -> IpcResult<LockStatus> {
    status_of(&app).await
}

/// Unlocks the local vault with the passphrase the merchant typed (for the window and for
/// scripts served by this app's agent). Wrong passphrases back off as on the command line.
///
/// # Errors
/// `wrong_passphrase`; `invalid_input` when the vault has no passphrase.
#[tauri::command]
pub async fn unlock_vault<R: Runtime>(app: AppHandle<R>, passphrase: SecretString) -> IpcResult<LockStatus> {
    let dir = app.state::<AppState>().real_data_dir()?;
    // Argon2id (and any back-off wait) on the blocking pool.
    let key = blocking(move || passphrase::unlock(&dir, &passphrase)).await?;
    app.state::<Lock>().holder.set(Some(key));
    status_of(&app).await
}

/// Locks the local vault now: the key is forgotten by the window and the agent alike.
#[tauri::command]
pub async fn lock_vault<R: Runtime>(app: AppHandle<R>) -> IpcResult<LockStatus> {
    app.state::<Lock>().holder.set(None);
    status_of(&app).await
}

/// Sets a passphrase on the local vault (every long-lived secret is encrypted under it; a
/// crash half-way leaves the old or the new form). The vault stays unlocked afterwards.
///
/// # Errors
/// `invalid_input` when the two entries differ, a passphrase is set already, or it is empty.
#[tauri::command]
pub async fn set_passphrase<R: Runtime>(
    app: AppHandle<R>,
    passphrase: SecretString,
    confirm: SecretString,
    lock_tokens: bool,
) -> IpcResult<LockStatus> {
    if passphrase.expose_secret() != confirm.expose_secret() {
        return Err(mismatch());
    }
    let dir = app.state::<AppState>().real_data_dir()?;
    let policy = if lock_tokens {
        TokenPolicy::Locked
    } else {
        TokenPolicy::Usable
    };
    let key = blocking(move || passphrase::set_with(&dir, &KeyringStore, &passphrase, policy)).await?;
    app.state::<Lock>().holder.set(Some(key));
    status_of(&app).await
}

/// Changes the passphrase (the data key stays; only its wrapping changes).
///
/// # Errors
/// `wrong_passphrase` for `current`; `invalid_input` when the new entries differ.
#[tauri::command]
pub async fn change_passphrase<R: Runtime>(
    app: AppHandle<R>,
    current: SecretString,
    passphrase: SecretString,
    confirm: SecretString,
) -> IpcResult<LockStatus> {
    if passphrase.expose_secret() != confirm.expose_secret() {
        return Err(mismatch());
    }
    let dir = app.state::<AppState>().real_data_dir()?;
    blocking(move || passphrase::change(&dir, &KeyringStore, &current, &passphrase)).await?;
    status_of(&app).await
}

/// Removes the passphrase: every secret is stored in the keyring in the clear again.
///
/// # Errors
/// `wrong_passphrase` for `current`.
#[tauri::command]
pub async fn remove_passphrase<R: Runtime>(app: AppHandle<R>, current: SecretString) -> IpcResult<LockStatus> {
    let dir = app.state::<AppState>().real_data_dir()?;
    blocking(move || passphrase::remove(&dir, &KeyringStore, &current)).await?;
    app.state::<Lock>().holder.set(None);
    status_of(&app).await
}

/// Sets the auto-lock time in minutes (0: never; at most a week).
///
/// # Errors
/// `invalid_input` out of range or without a passphrase.
#[tauri::command]
pub async fn set_auto_lock<R: Runtime>(app: AppHandle<R>, minutes: u32) -> IpcResult<LockStatus> {
    let dir = app.state::<AppState>().real_data_dir()?;
    blocking(move || passphrase::set_auto_lock(&dir, &KeyringStore, minutes)).await?;
    status_of(&app).await
}
