//! SIGKILLs `tillkey passphrase set` and `tillkey passphrase remove` at random points (in
//! turn: a vault sealed by a finished `set` is unsealed by the next run). After every kill
//! the next command (`tillkey list`, which completes or rolls back a half-done conversion)
//! must exit 0 and leave the vault in the old or the new form, never a mix:
//! - `passphrase.json` is absent (plain) or says `sealed`;
//! - sealed: every keyring item of the vault is a `.sealed` entry, none holds a secret, and
//!   with the passphrase each credential's secret opens to the value it was given (checked
//!   in-process, and through `tillkey token` on a terminal);
//! - plain: no `.sealed` entry is left, and `tillkey token` gives each credential's value.
//!
//! The number of kills is `TILLKEY_KILL_RUNS` (default 10, about 20 s); the full run:
//!
//! ```sh
//! TILLKEY_KILL_RUNS=200 ./scripts/with-keyring.sh cargo test -p tillkey --test killed_conversion -- --nocapture
//! ```
//!
//! It prints one line: `conversion kill -9 runs: N (set S, remove R; killed mid-run K);
//! mixed or unreadable vaults: F`. A failing run prints its seed; `TILLKEY_KILL_SEED=S`
//! replays the same kill delays. Like killed_writes.rs it re-runs itself in a D-Bus
//! session with a keyring daemon of its own (support/killable_keyring.rs), started again
//! when a kill takes it down.

#[path = "providers/common.rs"]
mod common;
#[path = "support/killable_keyring.rs"]
mod keyring;

use common::{Out, Tk};
use secrecy::{ExposeSecret, SecretString};
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tillkey_core::passphrase;
use tillkey_core::vault::secrets::SealedStore;
use tillkey_core::{Error, SecretKey, SecretStore, SystemClock, Vault};

const TEST_NAME: &str = "killed_conversions_leave_the_old_form_or_the_new_one";
const RUNS_ENV: &str = "TILLKEY_KILL_RUNS";
const SEED_ENV: &str = "TILLKEY_KILL_SEED";
const DEFAULT_RUNS: usize = 10;
const CREDENTIALS: usize = 4;
const PASSPHRASE: &str = "kill test passphrase";

fn runs() -> usize {
    std::env::var(RUNS_ENV)
        .ok()
        .map(|v| {
            v.trim()
                .parse()
                .unwrap_or_else(|_| panic!("{RUNS_ENV}={v:?} is not a number"))
        })
        .unwrap_or(DEFAULT_RUNS)
}

/// xorshift64: the kill delays, reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A read-only [`SecretStore`] over a `secret-tool` listing: the test reads the keyring
/// as it is, through the same sealed layer as Tillkey, without a keyring session of its
/// own (the daemon may be killed and started again between runs).
struct Listed(Vec<keyring::Item>);

impl SecretStore for Listed {
    fn set(&self, _: &SecretKey, _: &SecretString) -> Result<(), Error> {
        Err(Error::Internal("the listing is read-only".into()))
    }

    fn get(&self, key: &SecretKey) -> Result<Option<SecretString>, Error> {
        let account = key.account();
        Ok(self
            .0
            .iter()
            .find(|i| i.account == account)
            .map(|i| SecretString::from(i.secret.as_str())))
    }

    fn delete(&self, _: &SecretKey) -> Result<(), Error> {
        Err(Error::Internal("the listing is read-only".into()))
    }
}

fn spawn(tk: &Tk, args: &[&str], stdin: &str) -> std::process::Child {
    let mut child = tk
        .command()
        .env("TILLKEY_NO_AGENT", "1")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tillkey");
    let _ = child.stdin.take().expect("stdin").write_all(stdin.as_bytes());
    child
}

fn run(tk: &Tk, args: &[&str], stdin: &str) -> Out {
    let o = spawn(tk, args, stdin).wait_with_output().expect("wait for tillkey");
    Out {
        args: args.iter().map(|s| s.to_string()).collect(),
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        elapsed: Duration::ZERO,
    }
}

fn canary(i: usize) -> String {
    format!("canary-{i}-Zq9vK3")
}

/// The vault's form after recovery, or what is wrong with it.
fn check(tk: &Tk) -> Result<bool, String> {
    let list = run(tk, &["list"], "");
    if list.code != 0 {
        return Err(format!("next open failed: {}", list.both()));
    }
    let file = tk.path().join(passphrase::FILE_NAME);
    let sealed = match std::fs::read(&file) {
        Err(_) => false,
        Ok(b) => {
            let v: serde_json::Value = serde_json::from_slice(&b).map_err(|e| format!("torn passphrase.json: {e}"))?;
            if v["state"] != "sealed" {
                return Err(format!("passphrase.json left in state {}", v["state"]));
            }
            true
        }
    };
    let prefix = format!("{}/", tk.meta()["vault_id"].as_str().unwrap_or_default());
    let items: Vec<keyring::Item> = keyring::items()
        .into_iter()
        .filter(|i| i.account.starts_with(&prefix))
        .collect();
    if items.len() != CREDENTIALS {
        return Err(format!(
            "{} keyring items, expected {CREDENTIALS}: {items:?}",
            items.len()
        ));
    }
    for i in &items {
        if i.account.ends_with(".sealed") != sealed {
            return Err(format!(
                "{} in a vault that is {}",
                i.account,
                if sealed { "sealed" } else { "plain" }
            ));
        }
        if sealed && i.secret.contains("canary") {
            return Err(format!("{} holds a plain secret", i.account));
        }
    }
    if sealed {
        let key = passphrase::unlock(tk.path(), &SecretString::from(PASSPHRASE)).map_err(|e| format!("unlock: {e}"))?;
        let store = SealedStore::with_key(tk.path(), Arc::new(Listed(items)), key);
        let vault = Vault::open(tk.path(), Arc::new(store), Arc::new(SystemClock)).map_err(|e| e.to_string())?;
        for i in 0..CREDENTIALS {
            let v = vault
                .secret(&format!("c{i}"), "token")
                .map_err(|e| format!("c{i}: {e}"))?;
            if v.expose_secret() != canary(i) {
                return Err(format!("c{i} opens to another value"));
            }
        }
        // And through the CLI, with the passphrase typed on a terminal.
        let line = format!(
            "{} --data-dir {} token c0",
            common::BIN,
            tk.path().to_str().expect("UTF-8 temp path")
        );
        let mut c = Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .env("TILLKEY_NO_AGENT", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("script (util-linux)");
        let _ = c.stdin.take().unwrap().write_all(format!("{PASSPHRASE}\n").as_bytes());
        let o = c.wait_with_output().unwrap();
        if !o.status.success() || !String::from_utf8_lossy(&o.stdout).contains(&canary(0)) {
            return Err(format!("token on a terminal: {}", String::from_utf8_lossy(&o.stderr)));
        }
    } else {
        for i in 0..CREDENTIALS {
            let out = run(tk, &["token", &format!("c{i}")], "");
            if out.code != 0 || out.stdout.trim() != canary(i) {
                return Err(format!("token c{i}: {}", out.both()));
            }
        }
    }
    Ok(sealed)
}

#[test]
fn killed_conversions_leave_the_old_form_or_the_new_one() {
    let runs = runs();
    if !keyring::inside(keyring::Rerun {
        test: TEST_NAME,
        pass_env: &[RUNS_ENV, SEED_ENV],
        timeout_secs: 180 + 6 * runs as u64,
        private_mounts: false,
    }) {
        return;
    }
    let seed = std::env::var(SEED_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            (t.as_nanos() as u64 ^ u64::from(std::process::id()).rotate_left(32)) | 1
        });
    let mut rng = Rng(seed);
    let mut daemon = keyring::Daemon::start();
    let tk = Tk::new();
    for i in 0..CREDENTIALS {
        run(
            &tk,
            &["add", &format!("c{i}"), "--provider", "bearer"],
            &format!("token={}\n", canary(i)),
        )
        .code(0);
    }
    let stdin = format!("{PASSPHRASE}\n");

    // How long each conversion takes when not killed: kill delays are drawn up to a little
    // beyond it, so some runs finish.
    let started = Instant::now();
    run(&tk, &["passphrase", "set"], &stdin).code(0);
    let set_span = started.elapsed();
    let started = Instant::now();
    run(&tk, &["passphrase", "remove"], &stdin).code(0);
    let remove_span = started.elapsed();

    let (mut sets, mut removes, mut killed) = (0, 0, 0);
    let mut failures = Vec::new();
    let mut sealed = false;
    for i in 0..runs {
        daemon.ensure_running();
        let (op, span) = if sealed {
            removes += 1;
            ("remove", remove_span)
        } else {
            sets += 1;
            ("set", set_span)
        };
        let max = span.as_micros() as u64 * 5 / 4 + 1;
        let delay = Duration::from_micros(rng.next() % max);
        let mut child = spawn(&tk, &["passphrase", op], &stdin);
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().expect("wait");
        if status.code().is_none() {
            killed += 1;
        }
        daemon.ensure_running();
        match check(&tk) {
            Ok(s) => sealed = s,
            Err(e) => {
                failures.push(format!("run {i} ({op}, killed after {delay:?}): {e}"));
                break;
            }
        }
    }
    println!(
        "conversion kill -9 runs: {runs} (set {sets}, remove {removes}; killed mid-run {killed}); mixed or unreadable vaults: {}",
        failures.len()
    );
    assert!(failures.is_empty(), "seed {seed}:\n{}", failures.join("\n"));
    drop(daemon);
}
