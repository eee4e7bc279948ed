//! The local agent against the real keyring, the oauth2 simulator and the real `tillkey`
//! binary: the CLI starts it on demand, reuses it, falls back when it is killed (between
//! requests and mid-request), it exits when idle, its directory and socket are private,
//! and `TILLKEY_NO_AGENT=1` starts none. Run under `scripts/with-keyring.sh`.
//!
//! Every test gives the CLI its own `XDG_RUNTIME_DIR` (so its agent's socket is the only
//! one there), a short idle time (so an agent outlives a failed test by seconds, not
//! minutes), and kills the agents it saw when it ends.

use assert_cmd::Command;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tillkey_core::vault::secrets::SecretClass;
use tillkey_core::vault::tokens::TokenField;
use tillkey_core::{KeyringStore, SecretKey, SecretStore};
use tillkey_sim::{ProviderSim, SimConfig, Simulator};

/// One test's world: a data dir with one oauth2 credential `shop` on a simulator, and a
/// runtime dir for the agent.
struct World {
    data: tempfile::TempDir,
    xdg: tempfile::TempDir,
    sim: Simulator,
    pids: std::cell::RefCell<Vec<u32>>,
}

const CLIENT: &str = "agent-client";

impl World {
    fn new() -> World {
        let sim = Simulator::spawn_blocking_runtime(ProviderSim::Oauth2, SimConfig::default().with_rate_limit(None))
            .expect("start the simulator");
        sim.add_client(CLIENT, "agent-secret");
        let w = World {
            data: tempfile::tempdir().unwrap(),
            xdg: tempfile::tempdir().unwrap(),
            sim,
            pids: Default::default(),
        };
        w.direct()
            .args(["add", "shop", "--provider", "oauth2"])
            .arg("--set")
            .arg(format!("client_id={CLIENT}"))
            .arg("--set")
            .arg(format!("token_url={}", w.sim.token_url().unwrap()))
            .arg("--set")
            .arg(format!("test_url={}", w.sim.test_url()))
            .write_stdin("client_secret=agent-secret\n")
            .assert()
            .success();
        w
    }

    /// `tillkey --data-dir D` with the agent on, as a std command.
    fn std_tillkey(&self) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("tillkey"));
        c.arg("--data-dir")
            .arg(self.data.path())
            .env_remove("TILLKEY_DATA_DIR")
            .env_remove("TILLKEY_NO_AGENT")
            .env("XDG_RUNTIME_DIR", self.xdg.path())
            .env("TILLKEY_AGENT_IDLE_SECS", "30");
        c
    }

    /// `tillkey --data-dir D` with the agent on.
    fn tillkey(&self) -> Command {
        Command::from_std(self.std_tillkey())
    }

    /// The same with the agent off.
    fn direct(&self) -> Command {
        let mut c = self.tillkey();
        c.env("TILLKEY_NO_AGENT", "1");
        c
    }

    fn socket_dir(&self) -> PathBuf {
        self.xdg.path().join("tillkey")
    }

    /// The agent's socket, if there is one.
    fn socket(&self) -> Option<PathBuf> {
        let entries = std::fs::read_dir(self.socket_dir()).ok()?;
        let socks: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "sock"))
            .collect();
        assert!(socks.len() <= 1, "one agent per data dir and session: {socks:?}");
        socks.into_iter().next()
    }

    /// The pid of the agent answering on the socket, asked with the wire protocol itself.
    fn ping(&self) -> Option<u32> {
        let mut s = UnixStream::connect(self.socket()?).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let req = br#"{"v":1,"op":"ping"}"#;
        s.write_all(&(req.len() as u32).to_be_bytes()).ok()?;
        s.write_all(req).ok()?;
        let mut h = [0u8; 4];
        s.read_exact(&mut h).ok()?;
        let mut body = vec![0u8; u32::from_be_bytes(h) as usize];
        s.read_exact(&mut body).ok()?;
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["v"], 1);
        assert_eq!(v["reply"]["kind"], "pong");
        let pid = v["reply"]["pid"].as_u64().unwrap() as u32;
        self.pids.borrow_mut().push(pid);
        Some(pid)
    }

    /// Waits up to 20 s for an agent to answer (a loaded CI machine starts it slowly).
    fn wait_for_agent(&self) -> u32 {
        let started = Instant::now();
        loop {
            if let Some(pid) = self.ping() {
                return pid;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no agent answered within 20 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn token(&self, c: &mut Command) -> String {
        let out = c.args(["token", "shop"]).output().unwrap();
        assert!(out.status.success(), "token: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn token_requests(&self) -> u64 {
        self.sim.stats().token_requests(CLIENT)
    }

    /// Overwrites the cached access token in the keyring only (not the metadata), so a
    /// token that still comes back unchanged came from the agent's memory.
    fn tamper_keyring_token(&self, value: &str) {
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.data.path().join("vault.json")).unwrap()).unwrap();
        let c = &meta["credentials"][0];
        let key = SecretKey {
            vault_id: meta["vault_id"].as_str().unwrap().into(),
            credential_id: c["id"].as_str().unwrap().into(),
            rev: c["secret_rev"].as_u64().unwrap() as u32,
            field: TokenField::Access.name().into(),
            class: SecretClass::Ephemeral,
        };
        assert!(
            KeyringStore.get(&key).unwrap().is_some(),
            "the token is cached in the keyring"
        );
        KeyringStore.set(&key, &secrecy::SecretString::from(value)).unwrap();
    }
}

impl Drop for World {
    fn drop(&mut self) {
        // SIGTERM first, so an agent ends its keyring calls and exits as it would at logout
        // (gnome-keyring 42 can abort when a client is killed mid-session, and every later
        // test of the run would lose its keyring); SIGKILL what is still there after 5 s.
        let pids = self.pids.borrow();
        for pid in pids.iter() {
            // SAFETY: signalling an agent this test started (its pid from its own answer).
            unsafe { libc::kill(*pid as i32, libc::SIGTERM) };
        }
        let started = Instant::now();
        while pids.iter().any(|p| alive(*p)) && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        for pid in pids.iter().filter(|p| alive(**p)) {
            // SAFETY: as above.
            unsafe { libc::kill(*pid as i32, libc::SIGKILL) };
        }
    }
}

fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists. A zombie (an exited agent
    // whose parent CLI has not been reaped) counts as gone.
    let exists = unsafe { libc::kill(pid as i32, 0) } == 0;
    exists
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
            .unwrap_or(true)
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_first_command_starts_the_agent_and_the_next_ones_reuse_it() {
    let w = World::new();
    // First: no agent yet, so the CLI answers directly and starts one.
    let first = w.token(&mut w.tillkey());
    assert!(!first.trim().is_empty());
    let pid = w.wait_for_agent();
    // Through the agent: the same cached token, no new token request.
    let requests = w.token_requests();
    assert_eq!(w.token(&mut w.tillkey()), first);
    assert_eq!(w.token(&mut w.tillkey()), first);
    assert_eq!(w.token_requests(), requests, "the cached token was served");
    assert_eq!(w.ping(), Some(pid), "a second process reused the same agent");
    // The answer really comes from the agent: with the keyring copy changed behind its
    // back, the agent still hands out the token it holds; the direct path reads the new one.
    w.tamper_keyring_token("changed-in-the-keyring");
    assert_eq!(w.token(&mut w.tillkey()), first);
    assert_eq!(w.token(&mut w.direct()), "changed-in-the-keyring\n");
    assert_eq!(w.ping(), Some(pid));

    // A fresh token through the agent is answered first and cached after: the direct path
    // then gets that same token from the cache (waiting on the token lock if the cache is
    // still being written), and the provider saw exactly one request.
    w.direct().args(["revoke", "shop"]).assert().success();
    let before = w.token_requests();
    let fresh = w.token(&mut w.tillkey());
    assert_ne!(fresh, first);
    assert_eq!(w.token(&mut w.direct()), fresh);
    assert_eq!(w.token(&mut w.tillkey()), fresh);
    assert_eq!(w.token_requests(), before + 1);

    // Errors are the direct path's, byte for byte, with the same exit code.
    let via = w.tillkey().args(["token", "nope"]).output().unwrap();
    let direct = w.direct().args(["token", "nope"]).output().unwrap();
    assert_eq!(via.status.code(), Some(2));
    assert_eq!(
        (via.status.code(), &via.stdout, &via.stderr),
        (direct.status.code(), &direct.stdout, &direct.stderr)
    );
    assert!(String::from_utf8_lossy(&via.stderr).starts_with("error[not_found]: "));

    // exec gets the agent's token too.
    let out = w
        .tillkey()
        .args(["exec", "shop", "--", "sh", "-c", "printf %s \"$TILLKEY_TOKEN\""])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(format!("{}\n", String::from_utf8(out.stdout).unwrap()), fresh);

    // test NAME and test --all through the agent: the same reports' shape and exit code.
    for args in [&["test", "shop", "--json"][..], &["test", "--all", "--json"][..]] {
        let via = w.tillkey().args(args).output().unwrap();
        let direct = w.direct().args(args).output().unwrap();
        assert_eq!(via.status.code(), Some(0), "{}", String::from_utf8_lossy(&via.stderr));
        assert_eq!(via.status.code(), direct.status.code());
        let (a, b): (serde_json::Value, serde_json::Value) = (
            serde_json::from_slice(&via.stdout).unwrap(),
            serde_json::from_slice(&direct.stdout).unwrap(),
        );
        assert_eq!(a.is_array(), b.is_array());
        let ok = |v: &serde_json::Value| v.as_array().cloned().unwrap_or_else(|| vec![v.clone()]);
        for (x, y) in ok(&a).iter().zip(ok(&b).iter()) {
            assert_eq!((&x["credential"], &x["ok"]), (&y["credential"], &y["ok"]));
        }
    }
    assert_eq!(w.ping(), Some(pid));
}

#[test]
fn a_killed_agent_means_the_cli_goes_direct_and_starts_a_new_one() {
    let w = World::new();
    let first = w.token(&mut w.tillkey());
    let pid = w.wait_for_agent();
    assert_eq!(w.token(&mut w.tillkey()), first);

    // Killed between requests: its socket is left behind, and refuses connections.
    // SAFETY: our agent's pid, from its own answer.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    let started = Instant::now();
    while alive(pid) && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(w.socket().is_some(), "kill -9 leaves the socket file");
    assert_eq!(w.token(&mut w.tillkey()), first, "the CLI went direct");
    let second = w.wait_for_agent();
    assert_ne!(second, pid, "a new agent took over the stale socket");

    // Killed mid-request: the agent is stopped, a token request waits on it, then the
    // agent is killed; the request is answered directly.
    // SAFETY: as above.
    unsafe { libc::kill(second as i32, libc::SIGSTOP) };
    let child = w
        .std_tillkey()
        .args(["token", "shop"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: as above.
    unsafe { libc::kill(second as i32, libc::SIGKILL) };
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), first);
    assert!(
        out.stderr.is_empty(),
        "nothing but the token: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_agent_exits_when_idle_and_removes_its_socket() {
    let w = World::new();
    w.token(w.tillkey().env("TILLKEY_AGENT_IDLE_SECS", "1"));
    let pid = w.wait_for_agent();
    let started = Instant::now();
    while alive(pid) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the agent did not exit after 1 s idle"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "it exited before its idle time"
    );
    assert_eq!(w.socket(), None, "an idle exit removes the socket");
}

#[test]
fn the_socket_directory_is_0700_and_the_socket_0600() {
    let w = World::new();
    w.token(&mut w.tillkey());
    w.wait_for_agent();
    assert_eq!(mode(&w.socket_dir()), 0o700);
    assert_eq!(mode(&w.socket().unwrap()), 0o600);
}

#[test]
fn a_socket_directory_others_can_enter_is_not_used() {
    let w = World::new();
    std::fs::create_dir(w.socket_dir()).unwrap();
    std::fs::set_permissions(w.socket_dir(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let first = w.token(&mut w.tillkey());
    assert_eq!(w.token(&mut w.tillkey()), first, "the CLI works directly");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(w.socket(), None, "no agent listens in an open directory");
    let out = w.tillkey().arg("agent").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("mode 777"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn no_agent_env_starts_none() {
    let w = World::new();
    for _ in 0..3 {
        w.token(&mut w.direct());
    }
    w.direct().args(["test", "--all"]).assert().success();
    std::thread::sleep(Duration::from_millis(300));
    assert!(!w.socket_dir().exists(), "TILLKEY_NO_AGENT=1 made no socket directory");
}

/// `tillkey unlock` hands the key to the agent (starting it), which then serves tokens
/// that need the sealed client secret; `tillkey lock` makes it forget the key, and the
/// locked error through the agent is the direct path's, byte for byte.
///
/// (The rest of the passphrase's behaviour, direct, is tested in tests/passphrase.rs.)
#[test]
fn unlock_keeps_the_key_in_the_agent_and_lock_forgets_it() {
    let w = World::new();
    w.direct()
        .args(["passphrase", "set"])
        .write_stdin("correct horse\n")
        .assert()
        .success();
    // No cached token: a token needs the sealed client secret.
    w.direct().args(["revoke", "shop"]).assert().success();
    let locked = w.direct().args(["token", "shop"]).output().unwrap();
    assert_eq!(
        locked.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&locked.stderr)
    );
    assert!(String::from_utf8_lossy(&locked.stderr).starts_with("error[locked]: "));

    let wrong = w.tillkey().arg("unlock").write_stdin("wrong horse\n").output().unwrap();
    assert_eq!(
        wrong.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    assert!(String::from_utf8_lossy(&wrong.stderr).starts_with("error[wrong_passphrase]: "));
    let pid = w.wait_for_agent();

    let unlock = w
        .tillkey()
        .arg("unlock")
        .write_stdin("correct horse\n")
        .output()
        .unwrap();
    assert!(unlock.status.success(), "{}", String::from_utf8_lossy(&unlock.stderr));
    assert!(String::from_utf8_lossy(&unlock.stdout).starts_with("Unlocked"));
    let before = w.token_requests();
    let t = w.token(&mut w.tillkey());
    assert_eq!(
        w.token_requests(),
        before + 1,
        "the agent fetched with the unsealed secret"
    );
    // The direct path still cannot open the secret, but finds the token the agent cached.
    assert_eq!(w.token(&mut w.direct()), t);
    assert_eq!(w.ping(), Some(pid));

    let lock = w.tillkey().arg("lock").output().unwrap();
    assert!(lock.status.success(), "{}", String::from_utf8_lossy(&lock.stderr));
    assert!(String::from_utf8_lossy(&lock.stdout).starts_with("Locked"));
    // A test needs the secret itself: refused through the agent as directly.
    let via = w.tillkey().args(["test", "shop"]).output().unwrap();
    let direct = w.direct().args(["test", "shop"]).output().unwrap();
    assert_eq!(via.status.code(), Some(3));
    assert_eq!(
        (via.status.code(), &via.stdout, &via.stderr),
        (direct.status.code(), &direct.stdout, &direct.stderr)
    );
    assert_eq!(w.ping(), Some(pid), "the same agent answered, locked");

    // On a terminal, the locked agent's answer gives way to the one-call prompt.
    let line = format!(
        "{} --data-dir {} test shop",
        assert_cmd::cargo::cargo_bin("tillkey").display(),
        w.data.path().display()
    );
    let mut on_tty = std::process::Command::new("script");
    on_tty
        .args(["-qec", &line, "/dev/null"])
        .env_remove("TILLKEY_DATA_DIR")
        .env_remove("TILLKEY_NO_AGENT")
        .env("XDG_RUNTIME_DIR", w.xdg.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = on_tty.spawn().expect("script (util-linux) is installed");
    {
        use std::io::Write;
        let _ = child.stdin.take().expect("stdin").write_all(b"correct horse\n");
    }
    let o = child.wait_with_output().expect("wait for script");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("passphrase"), "the prompt was shown: {out}");
    assert!(!out.contains("error[locked]"), "{out}");
    assert_eq!(w.ping(), Some(pid), "the agent is still there");
}

/// A relative `--data-dir` names the same agent as the absolute path, and the agent it
/// starts works from `/` with the absolute data dir.
#[test]
fn a_relative_data_dir_meets_the_same_agent() {
    let w = World::new();
    let parent = w.data.path().parent().unwrap();
    let name = w.data.path().file_name().unwrap();
    let relative = || {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("tillkey"));
        c.current_dir(parent)
            .arg("--data-dir")
            .arg(name)
            .env_remove("TILLKEY_DATA_DIR")
            .env_remove("TILLKEY_NO_AGENT")
            .env("XDG_RUNTIME_DIR", w.xdg.path())
            .env("TILLKEY_AGENT_IDLE_SECS", "30");
        Command::from_std(c)
    };
    let first = w.token(&mut relative());
    let pid = w.wait_for_agent();
    assert_eq!(w.token(&mut w.tillkey()), first);
    assert_eq!(w.token(&mut relative()), first);
    assert_eq!(w.ping(), Some(pid));
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap();
    assert_eq!(cwd, Path::new("/"));
}
