//! The CLI's side of the local agent: `token`, `exec` and `test` ask the agent of the data
//! dir when one answers, start one (detached) for the next command when none does, and
//! go direct whenever the agent is off (`TILLKEY_NO_AGENT=1`), not for this vault (a team
//! vault), or gone mid-request. What the agent answers is printed by the same output code
//! as the direct path, so output and exit codes are the same byte for byte.

use crate::args::Cli;
use std::io::IsTerminal;
use std::path::Path;
use std::process::{Command, Stdio};
use tillkey_agent::proto::RemoteError;
use tillkey_agent::{Client, Exchange};
use tillkey_core::vault::team::LOCAL_VAULT;
use tillkey_core::{TestReport, Vault};

/// What asking the agent gave.
pub enum Via<T> {
    /// The agent's answer.
    Answer(T),
    /// The agent met an error, already printed: exit with this code.
    Failed(u8),
    /// No agent (or it went away): do it directly.
    Direct,
}

/// A client of this command's agent, or `None` to go direct. With no agent answering, one
/// is started for the commands that follow.
fn client(cli: &Cli) -> Option<Client> {
    if tillkey_agent::disabled() || cli.vault.as_deref().is_some_and(|v| v != LOCAL_VAULT) {
        return None;
    }
    let dir = tillkey_core::vault::resolve_data_dir(cli.data_dir.clone()).ok()?;
    if !Vault::exists_in(&dir) {
        return None;
    }
    match Client::connect(&dir) {
        Ok(Some(c)) => Some(c),
        Ok(None) => {
            start(&dir);
            None
        }
        // An unsafe socket directory or another user's socket: never talk to it.
        Err(_) => None,
    }
}

/// Starts `tillkey --data-dir DIR agent` in its own session with stdio on /dev/null, and
/// does not wait for it: this command goes direct, the next finds the agent.
fn start(dir: &Path) {
    let (Ok(exe), Ok(dir)) = (std::env::current_exe(), std::fs::canonicalize(dir)) else {
        return;
    };
    let mut cmd = Command::new(exe);
    // An absolute data dir, and `/` as the working directory: the agent outlives this
    // command and must not keep its directory (or a mount) busy.
    cmd.arg("--data-dir")
        .arg(dir)
        .arg("agent")
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setsid is async-signal-safe and touches no memory of this process; it
        // detaches the agent from this terminal and process group.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
    }
    // A child that exits before this process does stays a zombie only until then.
    let _ = cmd.spawn();
}

/// Prints an agent's error as `output::error` prints a core error.
fn print_error(e: &RemoteError) {
    crate::output::error_parts(&e.code, &e.message, e.hint.as_deref());
}

/// The exchange's outcome as a [`Via`]: an error is printed here.
fn settle<T>(x: Exchange<T>) -> Via<T> {
    match x {
        Ok(Ok(t)) => Via::Answer(t),
        // A locked vault on a terminal: the direct path asks for the passphrase for this
        // one command, as it does without an agent.
        Ok(Err(e)) if e.code == "locked" && std::io::stdin().is_terminal() => Via::Direct,
        Ok(Err(e)) => {
            print_error(&e);
            Via::Failed(e.exit)
        }
        Err(_) => Via::Direct,
    }
}

/// A token's rate limit, for `crate::waiting` (as `token_limited` on the direct path).
fn limited<T>(x: &Exchange<T>) -> Option<(String, u64)> {
    match x {
        Ok(Err(RemoteError {
            rate_limit: Some(r), ..
        })) => Some((format!("{} rate limit reached", r.provider), r.retry_after_secs)),
        _ => None,
    }
}

/// `tillkey token` / `exec`: a token of `name` through the agent, waiting out rate
/// limits with `--wait`.
pub async fn token(cli: &Cli, name: &str, wait: bool) -> Via<secrecy::SecretString> {
    token_as(cli, name, wait, false).await
}

/// [`token`], for `exec` when `exec` is set (the agent's audit log entry says which).
pub async fn token_as(cli: &Cli, name: &str, wait: bool, exec: bool) -> Via<secrecy::SecretString> {
    let Some(mut c) = client(cli) else {
        return Via::Direct;
    };
    let ask = |c: &mut tillkey_agent::Client| if exec { c.exec_token(name) } else { c.token(name) };
    let first = ask(&mut c);
    let x = crate::waiting(
        wait,
        first,
        || {
            let again = ask(&mut c);
            async move { again }
        },
        limited,
    )
    .await;
    match settle(x) {
        Via::Answer(t) => Via::Answer(t.value),
        Via::Failed(code) => Via::Failed(code),
        Via::Direct => Via::Direct,
    }
}

/// `tillkey test NAME | --all`: the reports through the agent, each rate-limited one
/// tested again with `--wait` as on the direct path.
pub async fn test(cli: &Cli, name: Option<&str>, wait: bool) -> Via<Vec<TestReport>> {
    let Some(mut c) = client(cli) else {
        return Via::Direct;
    };
    let first = match name {
        Some(n) => c.test(n).map(|r| r.map(|r| vec![r])),
        None => c.test_all(),
    };
    let mut reports = match settle(first) {
        Via::Answer(r) => r,
        Via::Failed(code) => return Via::Failed(code),
        Via::Direct => return Via::Direct,
    };
    for r in reports.iter_mut() {
        let cred = r.credential.clone();
        let report_limited = |o: &Exchange<TestReport>| {
            let r = o.as_ref().ok()?.as_ref().ok()?;
            crate::output::rate_limited_for(r).map(|secs| (format!("{}: rate limited", r.credential), secs))
        };
        let x = crate::waiting(
            wait,
            Ok(Ok(r.clone())),
            || {
                let again = c.test(&cred);
                async move { again }
            },
            report_limited,
        )
        .await;
        match settle(x) {
            Via::Answer(again) => *r = again,
            Via::Failed(code) => return Via::Failed(code),
            Via::Direct => return Via::Direct,
        }
    }
    Via::Answer(reports)
}

/// An agent for this command, started and waited for (up to 5 s) when none answers:
/// `unlock` has nowhere else to keep the key.
fn started_client(cli: &Cli, dir: &Path) -> Option<Client> {
    if let Some(c) = client(cli) {
        return Some(c);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
        if let Ok(Some(c)) = Client::connect(dir) {
            return Some(c);
        }
    }
    None
}

/// Whether the agent may hold this vault's key: the agent is on, the vault is the local
/// one and it has a passphrase. Otherwise `lock` and `unlock` say what they say without an
/// agent.
fn lockable(cli: &Cli) -> Option<std::path::PathBuf> {
    if tillkey_agent::disabled() || cli.vault.as_deref().is_some_and(|v| v != LOCAL_VAULT) {
        return None;
    }
    let dir = tillkey_core::vault::resolve_data_dir(cli.data_dir.clone()).ok()?;
    let set = tillkey_core::passphrase::is_set(&dir).ok()?;
    (set && Vault::exists_in(&dir)).then_some(dir)
}

/// `tillkey unlock`: the passphrase (one line on stdin, or a hidden prompt on a terminal)
/// goes to the agent, started if needed, which derives the data key and holds it until
/// `tillkey lock`, the vault's auto-lock time without a request, or the session locking.
pub fn unlock(cli: &Cli) -> Result<Via<()>, tillkey_core::Error> {
    let Some(dir) = lockable(cli) else {
        return Ok(Via::Direct);
    };
    let Some(mut c) = started_client(cli, &dir) else {
        return Ok(Via::Direct);
    };
    let passphrase = crate::passphrase::read_one()?;
    Ok(match settle(c.unlock(&passphrase)) {
        Via::Answer(()) => {
            let after = match tillkey_core::passphrase::auto_lock_minutes(&dir) {
                Ok(Some(0)) => String::new(),
                Ok(Some(1)) => " or 1 minute without a request".into(),
                Ok(Some(m)) => format!(" or {m} minutes without a request"),
                _ => format!(
                    " or {} minutes without a request",
                    tillkey_core::passphrase::DEFAULT_AUTO_LOCK_MINUTES
                ),
            };
            println!(
                "Unlocked: the Tillkey agent holds the vault's key for this session, until `tillkey lock`{after}, the screen locking or the computer suspending."
            );
            Via::Answer(())
        }
        other => other,
    })
}

/// `tillkey lock`: the running agent forgets the data key. Without an agent nothing holds
/// it, and the direct path says so.
pub fn lock(cli: &Cli) -> Via<()> {
    let Some(dir) = lockable(cli) else {
        return Via::Direct;
    };
    let Ok(Some(mut c)) = Client::connect(&dir) else {
        return Via::Direct;
    };
    match settle(c.lock()) {
        Via::Answer(()) => {
            println!(
                "Locked: the Tillkey agent forgot the vault's key; every command that needs a secret asks for the passphrase again (`tillkey unlock`)."
            );
            Via::Answer(())
        }
        other => other,
    }
}
