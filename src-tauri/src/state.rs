//! Managed state: the active vault (the merchant's, or the demo vault), its token engine,
//! and the settings this process runs with.
//!
//! The vault opens on first use. Opening is retried on the next command if it failed (for
//! example a data dir that could not be created), so the merchant can fix the cause and
//! press "Try again" without a restart.
//!
//! Real and demo credentials never mix: the demo vault lives in its own data dir (a
//! sibling `<data dir>-demo`, with its own vault id and so its own keyring entries), and
//! only one vault is active at a time: the local one, a connected team vault (see
//! [`AppState::switch_vault`]) or the demo.

use crate::demo::DemoSession;
use crate::error::{IpcError, IpcResult};
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;
use tillkey_core::{Clock, Engine, KeyringStore, SystemClock, Vault};
use tokio::sync::Mutex;

/// How long a copied token stays on the clipboard.
pub const CLIPBOARD_CLEAR_SECS: u64 = 30;

/// Test builds only: an RFC 3339 instant the app's clock starts at (then runs on).
#[cfg(debug_assertions)]
pub const TEST_NOW_ENV: &str = "TILLKEY_TEST_NOW";
/// Test builds only: seconds before a copied token is cleared from the clipboard.
#[cfg(debug_assertions)]
pub const CLIPBOARD_CLEAR_ENV: &str = "TILLKEY_CLIPBOARD_CLEAR_SECS";

/// What the command line asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    /// `--data-dir DIR`; `None` lets the core use `TILLKEY_DATA_DIR` or the platform default.
    pub data_dir: Option<PathBuf>,
    /// `--demo`: start in the demo vault.
    pub demo: bool,
    /// `--hidden`: start in the tray only, with no window (the login item).
    pub hidden: bool,
}

/// The vault in use and what goes with it.
struct Active {
    vault: Arc<Vault>,
    engine: Engine,
    demo: Option<DemoSession>,
}

/// A cheap handle on the active vault for one command.
#[derive(Clone)]
pub struct Handle {
    /// The vault (local, team or demo).
    pub vault: Arc<Vault>,
    /// Its token engine.
    pub engine: Engine,
    /// Whether it is the demo vault.
    pub demo: bool,
}

/// The app's state, shared by every command.
pub struct AppState {
    args: Args,
    clock: Arc<dyn Clock>,
    clear_after: Duration,
    active: Mutex<Option<Active>>,
    /// Counts copies, so only the latest copy's timer clears the clipboard.
    pub(crate) copies: AtomicU64,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("args", &self.args)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State for the given command line, with the clock and clipboard delay of this build.
    pub fn new(args: Args) -> Self {
        Self::with(args, clock_from_env(), clear_delay_from_env())
    }

    /// State with an explicit clock and clipboard delay (tests).
    pub fn with(args: Args, clock: Arc<dyn Clock>, clear_after: Duration) -> Self {
        Self {
            args,
            clock,
            clear_after,
            active: Mutex::new(None),
            copies: AtomicU64::new(0),
        }
    }

    /// The clock every vault of this process reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// How long a copied token stays on the clipboard.
    pub fn clear_after(&self) -> Duration {
        self.clear_after
    }

    /// The active vault, opening it on first use: the demo vault with `--demo`, else the
    /// merchant's.
    ///
    /// # Errors
    /// The core's open errors; demo start-up errors.
    pub async fn handle(&self) -> IpcResult<Handle> {
        let mut slot = self.active.lock().await;
        if slot.is_none() {
            *slot = Some(if self.args.demo {
                self.open_demo().await?
            } else {
                self.open_real().await?
            });
        }
        handle_of(slot.as_ref())
    }

    /// Switches to the demo vault (a no-op if it is active).
    ///
    /// # Errors
    /// Demo start-up errors; the previous vault then stays active.
    pub async fn enter_demo(&self) -> IpcResult<Handle> {
        let mut slot = self.active.lock().await;
        if slot.as_ref().is_none_or(|a| a.demo.is_none()) {
            *slot = Some(self.open_demo().await?);
        }
        handle_of(slot.as_ref())
    }

    /// Leaves the demo vault for the merchant's own (a no-op if that is active). The demo
    /// credentials and their keyring entries are removed and the simulators stop.
    ///
    /// # Errors
    /// The core's open errors.
    pub async fn leave_demo(&self) -> IpcResult<Handle> {
        let mut slot = self.active.lock().await;
        if slot.as_ref().is_none_or(|a| a.demo.is_some()) {
            let real = self.open_real().await?;
            replace_active(&mut slot, real).await?;
        }
        handle_of(slot.as_ref())
    }

    /// Makes `name` the active vault: `local` (the merchant's keyring vault) or a team vault
    /// connected on this machine (`tillkey vault connect`). Opening a team vault does not
    /// go to the network; an engine that is down shows as an error on the next list. Leaving
    /// the demo vault this way clears it, as [`AppState::leave_demo`] does.
    ///
    /// # Errors
    /// `vault_not_connected` for an unknown name; the core's open errors. The previous
    /// vault then stays active.
    pub async fn switch_vault(&self, name: &str) -> IpcResult<Handle> {
        let mut slot = self.active.lock().await;
        if slot
            .as_ref()
            .is_some_and(|a| a.demo.is_none() && a.vault.name() == name)
        {
            return handle_of(slot.as_ref());
        }
        let next = if name == tillkey_core::vault::team::LOCAL_VAULT {
            self.open_real().await?
        } else {
            self.open_team(name).await?
        };
        replace_active(&mut slot, next).await?;
        handle_of(slot.as_ref())
    }

    /// In the demo vault only: a new secret for demo credential `name`, made by its
    /// simulator (the demo's "portal"), with the new identity where it issues a new set.
    ///
    /// # Errors
    /// `not_demo` outside the demo vault; `not_found`.
    pub async fn demo_secret(&self, name: &str) -> IpcResult<crate::demo::PortalSecret> {
        let slot = self.active.lock().await;
        let Some(Active {
            vault,
            demo: Some(session),
            ..
        }) = slot.as_ref()
        else {
            return Err(IpcError::app(
                "not_demo",
                "New secrets are generated only in the demo vault.",
                "Make the new secret in your provider's portal and paste it here.",
            ));
        };
        let vault = vault.clone();
        let n = name.to_string();
        let credential = blocking(move || vault.show(&n)).await?;
        session.new_secret(&credential).ok_or_else(|| {
            IpcError::app(
                "not_demo",
                "This credential is not one of the demo's simulated ones.",
                "Make the new secret in your provider's portal and paste it here.",
            )
        })
    }

    /// Removes the demo credentials if the demo vault is active (at exit). Best effort.
    pub fn shutdown(&self) {
        if let Ok(mut slot) = self.active.try_lock() {
            if let Some(Active {
                vault, demo: Some(_), ..
            }) = slot.take()
            {
                crate::demo::clear(&vault);
            }
        }
    }

    /// The merchant's data dir.
    ///
    /// # Errors
    /// [`tillkey_core::Error::NoDataDir`].
    pub fn real_data_dir(&self) -> tillkey_core::Result<PathBuf> {
        tillkey_core::vault::resolve_data_dir(self.args.data_dir.clone())
    }

    async fn open_real(&self) -> IpcResult<Active> {
        let dir = self.real_data_dir()?;
        let clock = self.clock.clone();
        let vault = blocking(move || Vault::open(dir, Arc::new(KeyringStore), clock)).await?;
        let vault = Arc::new(vault);
        let engine = Engine::new(vault.clone());
        Ok(Active {
            vault,
            engine,
            demo: None,
        })
    }

    async fn open_team(&self, name: &str) -> IpcResult<Active> {
        let dir = self.real_data_dir()?;
        let clock = self.clock.clone();
        let name = name.to_string();
        let vault = blocking(move || Vault::open_team(dir, &name, Arc::new(KeyringStore), clock)).await?;
        let vault = Arc::new(vault);
        let engine = Engine::new(vault.clone());
        Ok(Active {
            vault,
            engine,
            demo: None,
        })
    }

    async fn open_demo(&self) -> IpcResult<Active> {
        let real = self.real_data_dir()?;
        let (vault, session) = crate::demo::start(&real, self.clock.clone()).await?;
        let engine = Engine::new(vault.clone());
        Ok(Active {
            vault,
            engine,
            demo: Some(session),
        })
    }
}

/// Makes `next` the active vault. A demo vault it replaces is cleared (its credentials and
/// their keyring entries removed) and its simulators stop.
async fn replace_active(slot: &mut Option<Active>, next: Active) -> IpcResult<()> {
    if let Some(Active {
        vault,
        demo: Some(session),
        ..
    }) = slot.replace(next)
    {
        blocking(move || {
            crate::demo::clear(&vault);
            drop(session);
            Ok(())
        })
        .await?;
    }
    Ok(())
}

fn handle_of(active: Option<&Active>) -> IpcResult<Handle> {
    // `handle`, `enter_demo` and `leave_demo` fill the slot before calling this.
    active
        .map(|a| Handle {
            vault: a.vault.clone(),
            engine: a.engine.clone(),
            demo: a.demo.is_some(),
        })
        .ok_or_else(IpcError::internal)
}

/// Runs blocking vault work (file lock, keyring over D-Bus) on Tauri's blocking pool.
///
/// # Errors
/// The work's own error; a panic in it becomes [`IpcError::internal`].
pub async fn blocking<T, F>(f: F) -> IpcResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> tillkey_core::Result<T> + Send + 'static,
{
    match tauri::async_runtime::spawn_blocking(f).await {
        Ok(result) => result.map_err(IpcError::from),
        Err(join_error) => {
            // A panic in the core: log that it happened (no payload, which could hold
            // anything) and give the UI a fixed message.
            eprintln!(
                "tillkey: a vault task failed: panicked={}",
                matches!(&join_error, tauri::Error::JoinError(e) if e.is_panic())
            );
            Err(IpcError::internal())
        }
    }
}

/// The command line: `--data-dir DIR` (or `--data-dir=DIR`), `--demo` and `--hidden`. Anything else
/// is ignored (WebDriver and desktop launchers may add their own arguments).
pub fn parse_args<I>(args: I) -> Args
where
    I: IntoIterator<Item = std::ffi::OsString>,
{
    let mut out = Args::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--data-dir" {
            out.data_dir = args.next().map(PathBuf::from);
        } else if arg == "--demo" {
            out.demo = true;
        } else if arg == "--hidden" {
            out.hidden = true;
        } else if let Some(value) = arg.to_str().and_then(|a| a.strip_prefix("--data-dir=")) {
            out.data_dir = Some(PathBuf::from(value));
        }
    }
    out.data_dir = out.data_dir.filter(|p| !p.as_os_str().is_empty());
    out
}

/// The system clock, or in debug builds one starting at `$TILLKEY_TEST_NOW`.
fn clock_from_env() -> Arc<dyn Clock> {
    #[cfg(debug_assertions)]
    if let Some(at) = std::env::var(TEST_NOW_ENV)
        .ok()
        .and_then(|v| chrono::DateTime::parse_from_rfc3339(v.trim()).ok())
    {
        eprintln!("tillkey: test build: the clock starts at {at} ({TEST_NOW_ENV})");
        return Arc::new(crate::test_clock::OffsetClock::starting_at(
            at.with_timezone(&chrono::Utc),
        ));
    }
    Arc::new(SystemClock)
}

/// 30 s, or in debug builds `$TILLKEY_CLIPBOARD_CLEAR_SECS`.
fn clear_delay_from_env() -> Duration {
    #[cfg(debug_assertions)]
    if let Some(secs) = std::env::var(CLIPBOARD_CLEAR_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Duration::from_secs(secs.max(1));
    }
    Duration::from_secs(CLIPBOARD_CLEAR_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn args(list: &[&str]) -> Args {
        parse_args(list.iter().map(OsString::from).collect::<Vec<_>>())
    }

    #[test]
    fn command_line_forms() {
        assert_eq!(args(&[]), Args::default());
        assert_eq!(args(&["--data-dir", "/x"]).data_dir, Some(PathBuf::from("/x")));
        assert_eq!(args(&["--data-dir=/y"]).data_dir, Some(PathBuf::from("/y")));
        assert_eq!(
            args(&["--other", "--data-dir", "/z"]).data_dir,
            Some(PathBuf::from("/z"))
        );
        assert_eq!(args(&["--data-dir"]).data_dir, None);
        assert_eq!(args(&["--data-dir="]).data_dir, None);
        assert!(args(&["--demo"]).demo);
        assert!(args(&["--hidden"]).hidden);
        assert!(!args(&["--demo"]).hidden);
        assert!(!args(&["--data-dir", "/x"]).demo);
    }

    #[test]
    fn real_vault_opens_once_in_the_given_dir() {
        let dir = tempfile::tempdir().expect("temp dir");
        let state = AppState::with(
            Args {
                data_dir: Some(dir.path().to_path_buf()),
                ..Args::default()
            },
            Arc::new(SystemClock),
            Duration::from_secs(30),
        );
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let a = state.handle().await.expect("vault opens");
            let b = state.handle().await.expect("vault opens again");
            assert!(Arc::ptr_eq(&a.vault, &b.vault));
            assert_eq!(a.vault.data_dir(), dir.path());
            assert!(!a.demo);
        });
    }
}
