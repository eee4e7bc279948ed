//! The agent's auto-lock against the real keyring, the oauth2 simulator and the real
//! `tillkey` binary: after `tillkey unlock` the agent forgets the vault's key after the
//! auto-lock time without a request (cached tokens stay usable, as the token policy says),
//! and when the session's screen saver reports `ActiveChanged(true)` on the session bus
//! (a fake one this test owns). Run under `scripts/with-keyring.sh` (its private session
//! bus).

use assert_cmd::Command;
use std::time::{Duration, Instant};
use tillkey_sim::{ProviderSim, SimConfig, Simulator};

const CLIENT: &str = "lock-client";

/// The tests take turns: the fake screen saver's signal reaches every agent on the bus
/// (that is the point), so it would lock the other test's agent too.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
const PASSPHRASE: &str = "correct horse\n";

/// A data dir with one oauth2 credential `shop` under a passphrase, and a runtime dir for
/// the agent (whose auto-lock time is `auto_lock_secs`).
struct World {
    data: tempfile::TempDir,
    xdg: tempfile::TempDir,
    _sim: Simulator,
    auto_lock_secs: &'static str,
    idle_secs: &'static str,
}

impl World {
    fn new(auto_lock_secs: &'static str, idle_secs: &'static str) -> World {
        let sim = Simulator::spawn_blocking_runtime(ProviderSim::Oauth2, SimConfig::default().with_rate_limit(None))
            .expect("start the simulator");
        sim.add_client(CLIENT, "lock-secret");
        let w = World {
            data: tempfile::tempdir().unwrap(),
            xdg: tempfile::tempdir().unwrap(),
            auto_lock_secs,
            idle_secs,
            _sim: sim,
        };
        w.direct()
            .args(["add", "shop", "--provider", "oauth2"])
            .arg("--set")
            .arg(format!("client_id={CLIENT}"))
            .arg("--set")
            .arg(format!("token_url={}", w._sim.token_url().unwrap()))
            .arg("--set")
            .arg(format!("test_url={}", w._sim.test_url()))
            .write_stdin("client_secret=lock-secret\n")
            .assert()
            .success();
        w.direct()
            .args(["passphrase", "set"])
            .write_stdin(PASSPHRASE)
            .assert()
            .success();
        w
    }

    /// `tillkey --data-dir D` with the agent on.
    fn tillkey(&self) -> Command {
        let mut c = Command::cargo_bin("tillkey").unwrap();
        c.arg("--data-dir")
            .arg(self.data.path())
            .env_remove("TILLKEY_DATA_DIR")
            .env_remove("TILLKEY_NO_AGENT")
            .env("XDG_RUNTIME_DIR", self.xdg.path())
            .env("TILLKEY_AGENT_IDLE_SECS", self.idle_secs)
            .env("TILLKEY_AGENT_AUTO_LOCK_SECS", self.auto_lock_secs);
        c
    }

    /// The same with the agent off.
    fn direct(&self) -> Command {
        let mut c = self.tillkey();
        c.env("TILLKEY_NO_AGENT", "1");
        c
    }

    fn unlock(&self) {
        let o = self.tillkey().arg("unlock").write_stdin(PASSPHRASE).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stdout).starts_with("Unlocked"));
    }

    /// `tillkey test shop` through the agent: it needs the sealed client secret.
    fn test_code(&self) -> Option<i32> {
        self.tillkey().args(["test", "shop"]).output().unwrap().status.code()
    }

    fn token(&self) -> std::process::Output {
        self.tillkey().args(["token", "shop"]).output().unwrap()
    }

    fn passphrase_file(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.data.path().join("passphrase.json")).unwrap()).unwrap()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        // The agent stops with its socket gone from a runtime dir nobody uses again; it
        // exits after its idle time (30 s) at the latest. Ask it to stop now.
        let _ = self.tillkey().arg("lock").output();
        if let Ok(entries) = std::fs::read_dir(self.xdg.path().join("tillkey")) {
            for e in entries.flatten() {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

#[test]
fn the_agent_forgets_the_key_after_the_auto_lock_time_and_cached_tokens_stay_usable() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let w = World::new("3", "30");
    // The setting: default 15, set and kept by change; bad input changes nothing.
    assert_eq!(w.passphrase_file()["autoLockMinutes"], 15);
    w.direct().args(["passphrase", "auto-lock", "5"]).assert().success();
    assert_eq!(w.passphrase_file()["autoLockMinutes"], 5);
    let bad = w.direct().args(["passphrase", "auto-lock", "99999"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).starts_with("error[invalid_input]: "),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    assert_eq!(w.passphrase_file()["autoLockMinutes"], 5);
    w.direct()
        .args(["passphrase", "change"])
        .write_stdin(format!("{PASSPHRASE}{PASSPHRASE}"))
        .assert()
        .success();
    assert_eq!(w.passphrase_file()["autoLockMinutes"], 5, "kept by change");

    w.unlock();
    assert_eq!(w.test_code(), Some(0), "unlocked: the secret opens");
    let t = w.token();
    assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
    // Requests keep it unlocked: one every second for longer than the auto-lock time.
    for _ in 0..4 {
        std::thread::sleep(Duration::from_secs(1));
        assert_eq!(w.token().stdout, t.stdout);
    }
    assert_eq!(w.test_code(), Some(0), "still unlocked while in use");
    // (A test fetches a token of its own, which replaces the cached one.)
    let t = w.token();
    // No request for longer than the auto-lock time (3 s here; checked every second).
    std::thread::sleep(Duration::from_secs(5));
    let locked = w.tillkey().args(["test", "shop"]).output().unwrap();
    assert_eq!(
        locked.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&locked.stderr)
    );
    assert!(String::from_utf8_lossy(&locked.stderr).starts_with("error[locked]: "));
    // The cached token is still handed out (tokens usable while locked, the default).
    assert_eq!(w.token().stdout, t.stdout, "the cached token stays usable");
    // And unlock works again.
    w.unlock();
    assert_eq!(w.test_code(), Some(0));
}

#[test]
fn the_screen_saver_coming_on_locks_the_agent() {
    // The timer off, so only the session bus can lock it.
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // An idle time of 2 s: an agent that holds a key does not exit idle.
    let w = World::new("0", "2");
    let bus = zbus::blocking::Connection::session().expect("a session bus (run under scripts/with-keyring.sh)");
    bus.request_name("org.freedesktop.ScreenSaver")
        .expect("own org.freedesktop.ScreenSaver on the test's private bus");
    let active = |on: bool| {
        bus.emit_signal(
            None::<()>,
            "/org/freedesktop/ScreenSaver",
            "org.freedesktop.ScreenSaver",
            "ActiveChanged",
            &(on),
        )
        .unwrap();
    };
    w.unlock();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(w.test_code(), Some(0), "still there and unlocked after the idle time");
    active(false);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(w.test_code(), Some(0), "the screen saver going off locks nothing");
    let started = Instant::now();
    loop {
        active(true);
        std::thread::sleep(Duration::from_millis(300));
        match w.test_code() {
            Some(3) => break,
            Some(0) => assert!(
                started.elapsed() < Duration::from_secs(10),
                "ActiveChanged(true) did not lock the agent within 10 s"
            ),
            c => panic!("test shop exited {c:?}"),
        }
    }
    let locked = w.tillkey().args(["test", "shop"]).output().unwrap();
    assert!(String::from_utf8_lossy(&locked.stderr).starts_with("error[locked]: "));
}
