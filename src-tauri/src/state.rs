//! Managed state: the vault, opened on first use.
//!
//! Opening is retried on the next command if it failed (for example a data dir that could
//! not be created), so the merchant can fix the cause and press "Try again" without a
//! restart.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use tillkey_core::Vault;

/// The app's state, shared by every command.
#[derive(Debug)]
pub struct AppState {
    /// `--data-dir` from the command line; `None` lets the core use `TILLKEY_DATA_DIR` or
    /// the platform default.
    data_dir: Option<PathBuf>,
    vault: Mutex<Option<Arc<Vault>>>,
}

impl AppState {
    /// State for a data dir given on the command line (or `None`).
    pub fn new(data_dir: Option<PathBuf>) -> Self {
        Self {
            data_dir,
            vault: Mutex::new(None),
        }
    }

    /// The vault, opening it if this is the first use (or the last open failed).
    ///
    /// Blocking: call it from a blocking worker, not the main thread.
    ///
    /// # Errors
    /// The core's open errors ([`tillkey_core::Error::NoDataDir`], `Io`).
    pub fn vault(&self) -> tillkey_core::Result<Arc<Vault>> {
        // A panic while holding the lock leaves at worst `None` or a fully opened vault.
        let mut slot = self.vault.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(vault) = slot.as_ref() {
            return Ok(Arc::clone(vault));
        }
        let vault = Arc::new(Vault::open_default(self.data_dir.clone())?);
        *slot = Some(Arc::clone(&vault));
        Ok(vault)
    }
}

/// The value of `--data-dir DIR` or `--data-dir=DIR` in `args` (program name excluded).
pub fn data_dir_arg<I>(args: I) -> Option<PathBuf>
where
    I: IntoIterator<Item = std::ffi::OsString>,
{
    let mut args = args.into_iter();
    let mut found = None;
    while let Some(arg) = args.next() {
        if arg == "--data-dir" {
            found = args.next().map(PathBuf::from);
        } else if let Some(value) = arg.to_str().and_then(|a| a.strip_prefix("--data-dir=")) {
            found = Some(PathBuf::from(value));
        }
    }
    found.filter(|p| !p.as_os_str().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn data_dir_forms() {
        assert_eq!(data_dir_arg(args(&[])), None);
        assert_eq!(
            data_dir_arg(args(&["--data-dir", "/x"])),
            Some(PathBuf::from("/x"))
        );
        assert_eq!(
            data_dir_arg(args(&["--data-dir=/y"])),
            Some(PathBuf::from("/y"))
        );
        assert_eq!(
            data_dir_arg(args(&["--other", "--data-dir", "/z"])),
            Some(PathBuf::from("/z"))
        );
        assert_eq!(data_dir_arg(args(&["--data-dir"])), None);
        assert_eq!(data_dir_arg(args(&["--data-dir="])), None);
    }

    #[test]
    fn vault_opens_once_in_the_given_dir() {
        let dir = tempfile::tempdir().expect("temp dir");
        let state = AppState::new(Some(dir.path().to_path_buf()));
        let a = state.vault().expect("vault opens");
        let b = state.vault().expect("vault opens again");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.data_dir(), dir.path());
    }
}
