//! The vault passphrase on the command line: `passphrase set | change | remove`, `lock`,
//! `unlock`, and the terminal prompt that opens a locked vault for one call.
//!
//! Without an agent holding the key, every process starts locked: a command that needs a
//! long-lived secret asks for the passphrase on a terminal (stdin is one), and fails with
//! `error[locked]` (exit 3) anywhere else.

use crate::args::PassphraseCommand;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tillkey_core::passphrase::{self, DataKey, KeySource, TokenPolicy};
use tillkey_core::vault::team::LOCAL_VAULT;
use tillkey_core::{Error, KeyringStore};

/// Largest stdin read for passphrases (the same bound as secret fields).
const MAX_STDIN: u64 = 64 * 1024;
/// Tries at the terminal prompt before the call fails with `wrong_passphrase`.
const PROMPT_TRIES: u32 = 3;

fn invalid(field: &str, reason: impl Into<String>) -> Error {
    Error::InvalidInput {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Registers the terminal prompt as this process's key source: the first sealed value a
/// command needs asks for the passphrase (when stdin is a terminal), once per data dir.
pub fn register_prompt() {
    passphrase::set_key_source(Arc::new(Prompt::default()));
}

/// Asks for the passphrase on the terminal; remembers the key for the rest of the call.
#[derive(Default)]
struct Prompt {
    keys: Mutex<HashMap<PathBuf, DataKey>>,
}

impl KeySource for Prompt {
    fn data_key(&self, data_dir: &Path) -> Result<DataKey, Error> {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = keys.get(data_dir) {
            return Ok(k.clone());
        }
        if !std::io::stdin().is_terminal() {
            return Err(Error::Locked);
        }
        let mut tries = 0;
        let key = loop {
            tries += 1;
            let p = prompt("Vault passphrase (locked vault; for this command only): ")?;
            match passphrase::unlock(data_dir, &p) {
                Err(Error::WrongPassphrase) if tries < PROMPT_TRIES => eprintln!("Wrong passphrase; try again."),
                other => break other?,
            }
        };
        keys.insert(data_dir.to_path_buf(), key.clone());
        Ok(key)
    }
}

fn prompt(label: &str) -> Result<SecretString, Error> {
    rpassword::prompt_password(label).map(SecretString::from).map_err(|e| {
        invalid(
            "passphrase",
            format!("could not be read from the terminal ({})", e.kind()),
        )
    })
}

/// A new passphrase from the terminal, typed twice.
fn prompt_new(label: &str) -> Result<SecretString, Error> {
    let first = prompt(&format!("{label}: "))?;
    let again = prompt(&format!("{label} (again): "))?;
    if first.expose_secret() != again.expose_secret() {
        return Err(invalid("passphrase", "the two entries differ; nothing was changed"));
    }
    Ok(first)
}

/// The first `n` lines of stdin (without their line ends), refused when stdin holds fewer
/// or more non-empty lines, or more than [`MAX_STDIN`].
fn stdin_lines(n: usize) -> Result<Vec<SecretString>, Error> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_STDIN + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| invalid("stdin", format!("cannot be read ({})", e.kind())))?;
    if bytes.len() as u64 > MAX_STDIN {
        return Err(invalid("stdin", format!("is longer than {} KiB", MAX_STDIN / 1024)));
    }
    // Held as a secret from here on: zeroed when dropped.
    let text = SecretString::from(String::from_utf8(bytes).map_err(|_| invalid("stdin", "is not UTF-8 text"))?);
    let lines: Vec<&str> = text.expose_secret().lines().map(|l| l.trim_end_matches('\r')).collect();
    let lines: Vec<&str> = match lines.iter().rposition(|l| !l.is_empty()) {
        Some(last) => lines[..=last].to_vec(),
        None => Vec::new(),
    };
    if lines.len() != n || lines.iter().any(|l| l.is_empty()) {
        let want = if n == 1 {
            "the passphrase as one line".to_string()
        } else {
            "the current passphrase on the first line and the new one on the second".to_string()
        };
        return Err(invalid("stdin", format!("expected {want}; nothing was changed")));
    }
    Ok(lines.into_iter().map(SecretString::from).collect())
}

/// The passphrase for one command (`unlock`, a locked vault): a hidden prompt on a
/// terminal, else exactly one non-empty line of stdin (at most [`MAX_STDIN`]).
///
/// # Errors
/// [`Error::InvalidInput`] for unreadable or malformed input.
pub(crate) fn read_one() -> Result<SecretString, Error> {
    if std::io::stdin().is_terminal() {
        return prompt("Vault passphrase: ");
    }
    Ok(stdin_lines(1)?.remove(0))
}

/// Refuses `--vault NAME` for a team vault: the passphrase and the lock are this machine's.
fn local_only(vault: Option<&str>, what: &str) -> Result<(), Error> {
    match vault {
        None | Some(LOCAL_VAULT) => Ok(()),
        Some(v) => Err(invalid(
            "--vault",
            format!(
                "`{what}` applies to this machine's local vault only; team vault `{v}` is protected by its engine's policies"
            ),
        )),
    }
}

/// `tillkey passphrase set | change | remove`.
///
/// # Errors
/// As [`passphrase::set`], [`passphrase::change`], [`passphrase::remove`]; bad input.
pub fn command(data_dir: Option<PathBuf>, vault: Option<&str>, action: PassphraseCommand) -> Result<u8, Error> {
    local_only(vault, "passphrase")?;
    let dir = tillkey_core::vault::resolve_data_dir(data_dir)?;
    let tty = std::io::stdin().is_terminal();
    match action {
        PassphraseCommand::Set { lock_tokens } => {
            let p = if tty {
                prompt_new("New vault passphrase")?
            } else {
                stdin_lines(1)?.remove(0)
            };
            let tokens = if lock_tokens {
                TokenPolicy::Locked
            } else {
                TokenPolicy::Usable
            };
            passphrase::set_with(&dir, &KeyringStore, &p, tokens)?;
            println!(
                "The vault now has a passphrase: every stored secret is encrypted under it{}. Commands that \
                 need a secret ask for it on a terminal; a forgotten passphrase cannot be recovered.",
                if lock_tokens {
                    ", cached access tokens included"
                } else {
                    " (cached access tokens stay usable until they expire)"
                }
            );
        }
        PassphraseCommand::Change => {
            let (old, new) = if tty {
                (
                    prompt("Current vault passphrase: ")?,
                    prompt_new("New vault passphrase")?,
                )
            } else {
                let mut l = stdin_lines(2)?;
                let new = l.remove(1);
                (l.remove(0), new)
            };
            passphrase::change(&dir, &KeyringStore, &old, &new)?;
            println!("The vault passphrase was changed; the secrets were not touched.");
        }
        PassphraseCommand::Remove => {
            let p = if tty {
                prompt("Current vault passphrase: ")?
            } else {
                stdin_lines(1)?.remove(0)
            };
            passphrase::remove(&dir, &KeyringStore, &p)?;
            println!("The vault passphrase was removed: secrets are stored in the keyring unencrypted again.");
        }
        PassphraseCommand::AutoLock { minutes } => {
            passphrase::set_auto_lock(&dir, &KeyringStore, minutes)?;
            if minutes == 0 {
                println!(
                    "Auto-lock is off: after `tillkey unlock` the agent keeps the key until `tillkey lock`, the \
                     session locks or the computer suspends."
                );
            } else {
                println!(
                    "After `tillkey unlock` the agent forgets the key after {minutes} minute{} without a Tillkey \
                     request.",
                    if minutes == 1 { "" } else { "s" }
                );
            }
        }
    }
    Ok(0)
}

/// `tillkey lock`: without an agent no process keeps the key, so the vault already is
/// locked; says so.
///
/// # Errors
/// [`Error::InvalidInput`] for a team vault or a vault without a passphrase.
pub fn lock(data_dir: Option<PathBuf>, vault: Option<&str>) -> Result<u8, Error> {
    local_only(vault, "lock")?;
    let dir = tillkey_core::vault::resolve_data_dir(data_dir)?;
    if !passphrase::is_set(&dir)? {
        return Err(no_passphrase());
    }
    println!(
        "The vault is locked: no Tillkey agent holds its key, so every command that needs a secret asks for \
         the passphrase."
    );
    Ok(0)
}

/// `tillkey unlock` while no agent keeps keys: a key unlocked here would die with this
/// process, so it explains what to do instead. (The agent's unlock replaces this: it calls
/// `tillkey_core::passphrase::unlock` and keeps the key.)
///
/// # Errors
/// Always: [`Error::InvalidInput`] (no passphrase) or [`Error::Unsupported`] (no agent).
pub fn unlock(data_dir: Option<PathBuf>, vault: Option<&str>) -> Result<u8, Error> {
    local_only(vault, "unlock")?;
    let dir = tillkey_core::vault::resolve_data_dir(data_dir)?;
    if !passphrase::is_set(&dir)? {
        return Err(no_passphrase());
    }
    Err(Error::Unsupported(
        "unlocking for the session needs a Tillkey agent that keeps the vault's key, and none does for this data \
         dir. Run the command you need in a terminal instead: it asks for the passphrase for that one call."
            .into(),
    ))
}

fn no_passphrase() -> Error {
    invalid(
        "passphrase",
        "this vault has no passphrase (set one with `tillkey passphrase set`)",
    )
}
