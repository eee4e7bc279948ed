//! The vault's data key while it is unlocked: held by the agent (`tillkey unlock`) or by the
//! app whose resident process hosts the agent (the window's Unlock), and shared by both, so
//! one unlock opens the vault for the window and for scripts alike.

use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;
use tillkey_core::passphrase::{self, DataKey, KeySource};
use tokio::sync::watch;

/// The unlocked data key of one vault, or none (locked): this process's [`KeySource`].
///
/// Setting or clearing it tells every subscriber ([`KeyHolder::subscribe`]) and makes every
/// open vault of the process forget a key it had before ([`passphrase::forget_keys`]).
/// The key's bytes are wiped when the last copy is dropped (`DataKey` holds them in
/// `Zeroizing`).
pub struct KeyHolder {
    key: Mutex<Option<DataKey>>,
    held: watch::Sender<bool>,
    /// When the key was last used for a request (the agent's or the window's): auto-lock
    /// counts from here.
    used: Mutex<Instant>,
}

impl Default for KeyHolder {
    fn default() -> Self {
        Self {
            key: Mutex::new(None),
            held: watch::Sender::new(false),
            used: Mutex::new(Instant::now()),
        }
    }
}

impl std::fmt::Debug for KeyHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyHolder")
            .field("held", &self.held())
            .finish_non_exhaustive()
    }
}

impl KeyHolder {
    /// Holds `key` (unlock) or forgets the one held (`None`: lock).
    pub fn set(&self, key: Option<DataKey>) {
        let held = key.is_some();
        *self.key.lock().unwrap_or_else(PoisonError::into_inner) = key;
        passphrase::forget_keys();
        self.touch();
        self.held.send_replace(held);
    }

    /// Whether a key is held (the vault is unlocked in this process).
    pub fn held(&self) -> bool {
        self.key.lock().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    /// Records a use of the unlocked vault: the auto-lock time counts from the last one.
    pub fn touch(&self) {
        *self.used.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    /// When the vault was last used (see [`KeyHolder::touch`]).
    pub fn last_used(&self) -> Instant {
        *self.used.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A receiver that sees every change between locked (`false`) and unlocked (`true`).
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.held.subscribe()
    }
}

impl KeySource for KeyHolder {
    fn data_key(&self, _data_dir: &Path) -> tillkey_core::Result<DataKey> {
        // One holder serves one data dir: the key it holds is that vault's (the sealed store
        // checks the key's id against the vault's passphrase file anyway).
        self.key
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(tillkey_core::Error::Locked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locked_until_a_key_is_set_and_subscribers_see_each_change() {
        let holder = KeyHolder::default();
        let mut rx = holder.subscribe();
        assert!(!holder.held());
        assert!(matches!(
            holder.data_key(Path::new("/x")),
            Err(tillkey_core::Error::Locked)
        ));
        holder.set(None);
        assert!(rx.has_changed().unwrap());
        assert!(!*rx.borrow_and_update());
    }
}
