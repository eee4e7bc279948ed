//! A test that re-runs itself inside a D-Bus session bus of its own, where it starts a
//! gnome-keyring-daemon that it may kill and start again: for the fault tests
//! (killed_writes.rs, faults.rs) that SIGKILL clients or the daemon itself.
//!
//! Why a re-run and not `private_keyring.rs`: these tests kill `tillkey` in the middle of a
//! keyring session, and gnome-keyring-daemon 42 can abort when a client vanishes mid
//! session-open (`gkd_secret_service_get_pkcs11_session: assertion 'client' failed`); the
//! test then restarts the daemon on the same on-disk keyring. The test process itself, the
//! `tillkey` runs and `secret-tool` all find the private bus in `DBUS_SESSION_BUS_ADDRESS`.
//!
//! Rules (the same as in `private_keyring.rs`):
//! - the inner run gets a cleared environment (`PATH`, `HOME`, the bus address and the
//!   variables named by the caller), so neither the outer bus nor an inherited
//!   `GNOME_KEYRING_CONTROL` is reachable;
//! - the bus has no service directories: once our daemon is gone, `org.freedesktop.secrets`
//!   is unowned and not activatable, so a client gets an error at once instead of a second,
//!   unprimed daemon that would ask for a password nobody can type;
//! - readiness is asked of the bus (`NameHasOwner`), never of the Secret Service name.

#![allow(dead_code)]

#[path = "bus_config.rs"]
mod bus_config;
#[path = "secret_tool.rs"]
mod secret_tool;
pub use secret_tool::Item;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Set in the inner run, inside the private D-Bus session.
pub const INNER: &str = "TILLKEY_TEST_KILLABLE_KEYRING";
const PASSWORD: &str = "tillkey-kill-test";

/// How the outer run starts the inner one.
pub struct Rerun<'a> {
    /// The `#[test]` function's name (run with `--exact`).
    pub test: &'a str,
    /// Environment variables passed through to the inner run when set.
    pub pass_env: &'a [&'a str],
    /// Whole-run limit in seconds (`timeout`).
    pub timeout_secs: u64,
    /// Run inside `unshare -m` (a mount namespace of its own, root only), so mounts made by
    /// the test are private to it and vanish with it.
    pub private_mounts: bool,
}

/// `true` inside the private session (run the test body); `false` in the outer run, after
/// the inner run has passed (return at once). Panics with the inner output if it failed.
pub fn inside(r: Rerun<'_>) -> bool {
    if std::env::var_os(INNER).is_some() {
        return true;
    }
    let home = tempfile::tempdir().unwrap();
    let conf = home.path().join("session.conf");
    let bus_dir = home.path().join("bus");
    std::fs::create_dir_all(&bus_dir).unwrap();
    bus_config::write(&conf, &bus_dir);
    let exe = std::env::current_exe().expect("test binary path");
    let mut c = Command::new("timeout");
    c.arg(r.timeout_secs.to_string());
    if r.private_mounts {
        c.args(["unshare", "-m", "--propagation", "private"]);
    }
    c.arg("dbus-run-session")
        .arg(format!("--config-file={}", conf.display()))
        .arg("--")
        .arg(&exe)
        .args(["--exact", r.test, "--nocapture", "--test-threads=1"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env(INNER, "1");
    for v in r.pass_env {
        if let Some(val) = std::env::var_os(v) {
            c.env(v, val);
        }
    }
    let out = c
        .output()
        .expect("timeout, dbus-run-session and gnome-keyring are installed by scripts/setup.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "inner run failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    // The inner test's own lines (totals, reports), without the harness's.
    for line in stdout.lines() {
        // The harness prints `test NAME ... ` before the test's first line, `ok` after it.
        let line = match line.strip_prefix("test ").and_then(|l| l.split_once(" ... ")) {
            Some((_, rest)) => rest,
            None => line,
        };
        if !(line.is_empty() || line == "ok" || line.starts_with("running ") || line.starts_with("test result:")) {
            println!("{line}");
        }
    }
    for line in stderr.lines().filter(|l| !l.contains("Failed to set fd limit")) {
        eprintln!("{line}");
    }
    false
}

/// Whether the test runs as root (mounts, `unshare`).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The gnome-keyring-daemon of the private session, keeping its keyring under a directory
/// of its own; it can be killed and started again on the same keyring.
pub struct Daemon {
    home: tempfile::TempDir,
    child: Option<Child>,
    /// Starts after a death the test did not cause (a client killed mid session-open).
    pub restarts: u32,
}

impl Daemon {
    /// Starts the daemon (creates and unlocks its login keyring) and waits until it owns
    /// `org.freedesktop.secrets`. Only inside [`inside`].
    pub fn start() -> Daemon {
        assert!(
            std::env::var_os(INNER).is_some(),
            "Daemon::start outside the private session"
        );
        let home = tempfile::tempdir().unwrap();
        let child = Some(spawn_daemon(home.path()));
        Daemon {
            home,
            child,
            restarts: 0,
        }
    }

    /// The daemon's pid, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the daemon process is alive.
    pub fn alive(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => c.try_wait().unwrap().is_none(),
            None => false,
        }
    }

    /// Starts it again (same keyring file, same password) if it died; counts the restart.
    pub fn ensure_running(&mut self) {
        if !self.alive() {
            self.reap();
            self.child = Some(spawn_daemon(self.home.path()));
            self.restarts += 1;
        }
    }

    /// SIGKILLs the daemon and waits until the bus has released its name.
    pub fn kill(&mut self) {
        if let Some(c) = self.child.as_mut() {
            // SAFETY: signalling our own child by its pid.
            unsafe { libc::kill(c.id() as i32, libc::SIGKILL) };
        }
        self.reap();
        let started = Instant::now();
        while secret_service_is_up() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "org.freedesktop.secrets still owned 10 s after the kill"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the daemon after [`Daemon::kill`] (not counted as a restart).
    pub fn start_again(&mut self) {
        assert!(!self.alive(), "the daemon still runs");
        self.reap();
        self.child = Some(spawn_daemon(self.home.path()));
    }

    fn reap(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn_daemon(home: &Path) -> Child {
    let data = home.join("data");
    let cache = home.join("cache");
    let control = home.join("control");
    for d in [&data, &cache, &control] {
        std::fs::create_dir_all(d).unwrap();
    }
    {
        use std::os::unix::fs::PermissionsExt;
        // gnome-keyring refuses a control directory others can read.
        std::fs::set_permissions(&control, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let mut child = Command::new("gnome-keyring-daemon")
        .args(["--foreground", "--unlock", "--components=secrets"])
        .arg(format!("--control-directory={}", control.display()))
        .env("XDG_DATA_HOME", &data)
        .env("XDG_CACHE_HOME", &cache)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gnome-keyring-daemon is installed by scripts/setup.sh");
    {
        use std::io::Write;
        // The password creates (first start) or unlocks (restart) the login keyring.
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(PASSWORD.as_bytes()).unwrap();
    }
    let started = Instant::now();
    while !secret_service_is_up() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "gnome-keyring-daemon exited at start"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "gnome-keyring-daemon did not take org.freedesktop.secrets within 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// Whether someone owns `org.freedesktop.secrets` on the session bus (asked of the bus).
pub fn secret_service_is_up() -> bool {
    Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.freedesktop.secrets",
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
        .unwrap_or(false)
}

/// Every `service=tillkey` item of the session's keyring (all collections), sorted.
pub fn items() -> Vec<Item> {
    secret_tool::search(|| Command::new("secret-tool"))
}

/// The data dir's metadata file.
pub fn vault_json(dir: &Path) -> PathBuf {
    dir.join("vault.json")
}

/// What the data dir and the keyring hold together, as the write order promises it.
#[derive(Debug, Default)]
pub struct Check {
    /// Names of the credentials in the metadata.
    pub names: Vec<String>,
    /// `name/field` of every secret the metadata names and the keyring lacks.
    pub missing: Vec<String>,
    /// Accounts of keyring items no live credential's current revision uses (its secret
    /// fields and its cached token entries `_access_token`, `_refresh_token`).
    pub orphans: Vec<String>,
    /// Entries still listed in `pending_cleanup`.
    pub pending: usize,
    /// name -> field -> value of every secret the keyring holds for a live credential.
    pub secrets: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
}

/// Reads `vault.json` of `dir` and the keyring; `Err` if the metadata does not parse.
pub fn check(dir: &Path) -> Result<Check, String> {
    let bytes = std::fs::read(vault_json(dir)).map_err(|e| format!("vault.json: {e}"))?;
    let meta: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| format!("torn vault.json: {e}"))?;
    let vault_id = meta["vault_id"]
        .as_str()
        .ok_or("vault.json has no vault_id")?
        .to_string();
    let creds = meta["credentials"].as_array().ok_or("vault.json has no credentials")?;
    let items = items();
    let mut c = Check {
        pending: meta["pending_cleanup"].as_array().map_or(0, Vec::len),
        ..Check::default()
    };
    let mut allowed = std::collections::BTreeSet::new();
    for r in creds {
        let name = r["name"].as_str().unwrap_or_default().to_string();
        let id = r["id"].as_str().unwrap_or_default();
        let rev = r["secret_rev"].as_u64().unwrap_or(u64::MAX);
        let prefix = format!("{vault_id}/{id}/r{rev}/");
        for f in r["secret_fields"].as_array().into_iter().flatten() {
            let f = f.as_str().unwrap_or_default();
            let account = format!("{prefix}{f}");
            match items.iter().find(|i| i.account == account && !i.secret.is_empty()) {
                Some(i) => {
                    c.secrets
                        .entry(name.clone())
                        .or_default()
                        .insert(f.to_string(), i.secret.clone());
                }
                None => c.missing.push(format!("{name}/{f}")),
            }
            allowed.insert(account);
        }
        for f in ["_access_token", "_refresh_token"] {
            allowed.insert(format!("{prefix}{f}"));
        }
        c.names.push(name);
    }
    c.orphans = items
        .iter()
        .filter(|i| !allowed.contains(&i.account))
        .map(|i| i.account.clone())
        .collect();
    Ok(c)
}

/// The keyring value of `name`'s secret `field` at its current revision.
pub fn secret_of(dir: &Path, name: &str, field: &str) -> Option<String> {
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(vault_json(dir)).ok()?).ok()?;
    let r = meta["credentials"].as_array()?.iter().find(|c| c["name"] == name)?;
    let account = format!(
        "{}/{}/r{}/{field}",
        meta["vault_id"].as_str()?,
        r["id"].as_str()?,
        r["secret_rev"].as_u64()?
    );
    items().into_iter().find(|i| i.account == account).map(|i| i.secret)
}
