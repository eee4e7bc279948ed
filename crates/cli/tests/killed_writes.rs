//! SIGKILLs `tillkey add` at random points: the metadata file must always parse, and every
//! credential it lists must have its secret in the keyring.
//!
//! This runs against a keyring of its own. gnome-keyring-daemon 42 aborts (a glib assertion,
//! `gkd_secret_service_get_pkcs11_session: assertion 'client' failed`) when a client vanishes
//! in the middle of opening its Secret Service session, which is exactly what a SIGKILL
//! can do. Against the keyring the other tests share, that took every later keyring test
//! down with it. So the test re-runs itself in a D-Bus session of its own
//! (`dbus-run-session`, cleared environment) where it starts its own daemon, and when a kill
//! takes that daemon down it starts it again on the same on-disk keyring: what is checked is
//! what Tillkey left behind, which a daemon restart does not change.

use secrecy::ExposeSecret;
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tillkey_core::{KeyringStore, SystemClock, Vault};

/// Set in the inner run, inside the private D-Bus session.
const INNER: &str = "TILLKEY_TEST_PRIVATE_KEYRING";
const TEST_NAME: &str = "killed_writes_never_leave_a_torn_file_or_a_credential_without_its_secret";
const PASSWORD: &str = "tillkey-kill-test";

#[test]
fn killed_writes_never_leave_a_torn_file_or_a_credential_without_its_secret() {
    if std::env::var_os(INNER).is_none() {
        return rerun_in_private_session();
    }
    let keyring_home = tempfile::tempdir().unwrap();
    let mut daemon = Daemon::start(keyring_home.path());
    let dir = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("tillkey");
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id());
    let mut killed = 0;
    for i in 0..40 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_micros(seed % 40_000);
        let mut child = Command::new(&bin)
            .arg("--data-dir")
            .arg(dir.path())
            .args(["add", &format!("c{i}"), "--provider", "bearer"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            let _ = stdin.write_all(format!("token=tok-{i}\n").as_bytes());
        }
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            // SIGKILL: no destructor, no cleanup; the worst case for the write order.
            unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
            killed += 1;
        }
        let _ = child.wait();
        daemon.ensure_running();
        let path = dir.path().join("vault.json");
        if path.exists() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(!bytes.is_empty(), "empty metadata after kill {i}");
            serde_json::from_slice::<Value>(&bytes).unwrap_or_else(|e| panic!("torn metadata after kill {i}: {e}"));
        }
        let vault = Vault::open(dir.path(), Arc::new(KeyringStore), Arc::new(SystemClock)).expect("open vault");
        for c in vault.list().expect("list after kill") {
            let s = vault
                .secret(&c.name, "token")
                .unwrap_or_else(|e| panic!("{} lost its secret: {e}", c.name));
            assert_eq!(s.expose_secret(), format!("tok-{}", &c.name[1..]));
        }
    }
    assert!(killed > 0, "no run was killed mid-way; the test proved nothing");
    // A normal write afterwards sweeps any orphan the kills left.
    let out = Command::new(&bin)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["add", "final", "--provider", "bearer"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"token=f\n")?;
            c.wait_with_output()
        })
        .expect("run tillkey add");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta: Value = serde_json::from_slice(&std::fs::read(dir.path().join("vault.json")).unwrap()).unwrap();
    assert_eq!(meta["pending_cleanup"], serde_json::json!([]));
    eprintln!(
        "{killed} of 40 runs killed; keyring daemon restarted {} times",
        daemon.restarts
    );
}

/// Runs this test again inside `dbus-run-session` with a cleared environment, so neither the
/// outer bus nor an inherited `GNOME_KEYRING_CONTROL` is reachable from it.
fn rerun_in_private_session() {
    let home = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new("timeout")
        .arg("300")
        .arg("dbus-run-session")
        .arg("--")
        .arg(&exe)
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env(INNER, "1")
        .output()
        .expect("dbus-run-session is installed by scripts/setup.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "inner run failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    eprint!("{stderr}");
}

/// A gnome-keyring-daemon on the private bus, keeping its keyring under `home`.
struct Daemon {
    home: std::path::PathBuf,
    child: Child,
    restarts: u32,
}

impl Daemon {
    fn start(home: &Path) -> Self {
        let child = spawn_daemon(home);
        Daemon {
            home: home.to_path_buf(),
            child,
            restarts: 0,
        }
    }

    /// Starts the daemon again (same keyring file, same password) if a kill took it down.
    fn ensure_running(&mut self) {
        if self.child.try_wait().unwrap().is_some() {
            self.child = spawn_daemon(&self.home);
            self.restarts += 1;
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_daemon(home: &Path) -> Child {
    let data = home.join("data");
    let cache = home.join("cache");
    let control = home.join("control");
    for d in [&data, &cache, &control] {
        std::fs::create_dir_all(d).unwrap();
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
    for _ in 0..100 {
        if secret_service_is_up() {
            return child;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "gnome-keyring-daemon exited at start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("gnome-keyring-daemon did not take org.freedesktop.secrets within 5 s");
}

fn secret_service_is_up() -> bool {
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
