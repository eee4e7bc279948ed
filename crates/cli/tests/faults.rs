//! Faults around a write, beyond a killed client (killed_writes.rs):
//! - the keyring daemon gone before a command starts, or killed while it runs: exit 3 with
//!   `error[keyring_unavailable]` (or `keyring_locked`) and a hint, and nothing half-written
//!   (the vault valid, every credential with its secret once the daemon is back, no orphan
//!   after the next write);
//! - a full disk and a read-only data dir (a 64 KiB tmpfs, filled up or remounted read-only;
//!   chmod means nothing to root, which CI runs as): `add`, `rotate` and `remove` fail with a
//!   clear non-panic error that names the problem, and lose nothing.
//!
//! Both re-run themselves in a D-Bus session of their own with a keyring daemon they can kill
//! (support/killable_keyring.rs); the disk test also in a mount namespace of its own
//! (`unshare -m`), so its tmpfs is private and vanishes with it. Without root it prints
//! `skipped: needs root for tmpfs`.
//!
//! Each test prints what the CLI did in every case (exit code, first stderr line).

#[path = "providers/common.rs"]
mod common;
#[path = "support/killable_keyring.rs"]
mod keyring;

use common::{Kind, Out, Tk};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tillkey_sim::{ProviderSim, SimConfig};

const DAEMON_TEST: &str = "keyring_daemon_gone_is_exit_3_and_nothing_half_written";
const DISK_TEST: &str = "disk_full_and_read_only_data_dir_fail_clearly_and_lose_nothing";

/// `tillkey ARGS` with `stdin` and extra environment.
fn run_env(tk: &Tk, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Out {
    let started = Instant::now();
    let mut c = tk.command();
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().expect("spawn tillkey");
    {
        let mut i = child.stdin.take().unwrap();
        let _ = i.write_all(stdin.as_bytes());
    }
    let o = child.wait_with_output().expect("wait for tillkey");
    let out = Out {
        args: args.iter().map(|s| s.to_string()).collect(),
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        elapsed: started.elapsed(),
    };
    tk.record(&out, args.first() != Some(&"token"));
    out
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// The credentials of `vault.json` as (name, id, secret_rev), sorted: what a failed write
/// must not change.
fn credentials(dir: &Path) -> Vec<(String, String, u64)> {
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(keyring::vault_json(dir)).expect("vault.json"))
        .expect("vault.json parses");
    let mut v: Vec<_> = m["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["id"].as_str().unwrap().to_string(),
                c["secret_rev"].as_u64().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// One row of the printed report, and the check that goes with it.
struct Report(Vec<String>);

impl Report {
    fn row(&mut self, case: &str, out: &Out) {
        self.0.push(format!(
            "  {case:<44} exit {:>3}  {}",
            out.code,
            first_line(&out.stderr)
        ));
    }
    fn print(&self, title: &str) {
        println!("{title}");
        for r in &self.0 {
            println!("{r}");
        }
    }
}

/// Whether `out` is a keyring error as the contract wants it: exit 3,
/// `error[keyring_unavailable]` or `error[keyring_locked]`, a hint, no secret printed.
fn is_keyring_error(out: &Out, secrets: &[&str]) -> bool {
    let first = first_line(&out.stderr);
    out.code == 3
        && (first.starts_with("error[keyring_unavailable]") || first.starts_with("error[keyring_locked]"))
        && out.stderr.contains("hint:")
        && !secrets.iter().any(|s| out.stderr.contains(s) || out.stdout.contains(s))
}

#[test]
fn keyring_daemon_gone_is_exit_3_and_nothing_half_written() {
    if !keyring::inside(keyring::Rerun {
        test: DAEMON_TEST,
        pass_env: &[],
        timeout_secs: 240,
        private_mounts: false,
    }) {
        return;
    }
    let mut daemon = keyring::Daemon::start();
    let sim = common::start(ProviderSim::Oauth2, SimConfig::default().with_rate_limit(None));
    // A token endpoint that answers after 1.5 s, so the daemon can be killed mid-request.
    let in_request = Arc::new(AtomicBool::new(false));
    let flag = in_request.clone();
    let slow = common::FakeServer::start(move |_, req| {
        if req.path == "/token" {
            flag.store(true, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(1500));
            return (
                200,
                vec![],
                r#"{"access_token":"slow-access-token","token_type":"Bearer","expires_in":3600}"#.into(),
            );
        }
        (200, vec![], "{}".into())
    });
    let tk = Tk::new();
    let dir = tk.path().to_path_buf();
    let keep = common::register(Kind::Bearer, &sim, "keep");
    let api = common::register(Kind::Oauth2Post, &sim, "api");
    tk.add(&keep);
    tk.add(&api);
    let slow_out = tk.run(
        &[
            "add",
            "slow",
            "--provider",
            "oauth2",
            "--set",
            "client_id=slow-client",
            "--set",
            "auth_method=post",
            "--set",
            &format!("token_url={}", slow.url("/token")),
            "--set",
            &format!("test_url={}", slow.url("/api")),
        ],
        "client_secret=SLOW-SECRET-1\n",
    );
    slow_out.code(0);
    tk.token("api");
    let secrets = [keep.secret("token"), api.secret("client_secret"), "SLOW-SECRET-1"];
    let creds_before = credentials(&dir);
    let items_before = keyring::items();
    let fast = [("TILLKEY_KEYRING_TIMEOUT_SECS", "5")];
    let mut report = Report(Vec::new());

    // 1. The daemon is gone before the command starts: the Secret Service name is unowned
    // and not activatable.
    daemon.kill();
    sim.insert_token("ROTATED-KEEP-TOKEN", &keep.key, None);
    let cases: [(&str, &[&str], &str); 6] = [
        (
            "add (daemon gone)",
            &["add", "new", "--provider", "bearer"],
            "token=NEW-SECRET-TOKEN\n",
        ),
        ("token, cached (daemon gone)", &["token", "api"], ""),
        ("token, static (daemon gone)", &["token", "keep"], ""),
        ("token, refresh (daemon gone)", &["token", "slow"], ""),
        (
            "rotate (daemon gone)",
            &["rotate", "keep"],
            "token=ROTATED-KEEP-TOKEN\n",
        ),
        ("remove (daemon gone)", &["remove", "keep"], ""),
    ];
    let mut failures = Vec::new();
    for (case, args, stdin) in cases {
        let out = run_env(&tk, args, stdin, &fast);
        report.row(case, &out);
        if !is_keyring_error(&out, &[&secrets[..], &["NEW-SECRET-TOKEN"][..]].concat()) {
            failures.push(format!("{case}: {}", out.both()));
        }
        assert!(out.elapsed < Duration::from_secs(15), "{case} took {:?}", out.elapsed);
        // Nothing half-written: the metadata parses and lists the same credentials.
        assert_eq!(credentials(&dir), creds_before, "{case} changed the credentials");
    }
    let list = run_env(&tk, &["list", "--json"], "", &fast);
    report.row("list --json (daemon gone)", &list);

    // 2. The daemon is killed while the command runs.
    daemon.start_again();
    // Cached access tokens live in the in-memory session collection and went with the
    // daemon; every other entry must be as it was.
    let lasting = |items: Vec<keyring::Item>| -> Vec<keyring::Item> {
        items
            .into_iter()
            .filter(|i| !i.account.ends_with("/_access_token"))
            .collect()
    };
    assert_eq!(
        lasting(keyring::items()),
        lasting(items_before),
        "a failed command changed the keyring"
    );
    // `token` of a credential whose token must be fetched: killed during the token request.
    in_request.store(false, Ordering::SeqCst);
    let child = tk
        .command()
        .args(["token", "slow"])
        .env("TILLKEY_KEYRING_TIMEOUT_SECS", "5")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&in_request);
    daemon.kill();
    let out = finish(child, &["token", "slow"]);
    report.row("token, refresh (daemon killed mid-request)", &out);
    if !is_keyring_error(&out, &secrets) {
        failures.push(format!("token slow, daemon killed mid-request: {}", out.both()));
    }
    assert_eq!(credentials(&dir), creds_before);

    // `add` killed between reading its input and writing its secret.
    daemon.start_again();
    let mut child = tk
        .command()
        .args(["add", "mid", "--provider", "bearer"])
        .env("TILLKEY_KEYRING_TIMEOUT_SECS", "5")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    daemon.kill();
    {
        let mut i = child.stdin.take().unwrap();
        i.write_all(b"token=MID-SECRET-TOKEN\n").unwrap();
    }
    let out = finish(child, &["add", "mid"]);
    report.row("add (daemon killed mid-run)", &out);
    if !is_keyring_error(&out, &secrets) {
        failures.push(format!("add, daemon killed mid-run: {}", out.both()));
    }
    assert_eq!(credentials(&dir), creds_before, "a failed add changed the credentials");

    // `rotate` with the daemon killed while the new secret is being tested: the new
    // secrets are in the keyring by then; whatever the outcome, no credential may end up
    // without its secret.
    daemon.start_again();
    in_request.store(false, Ordering::SeqCst);
    let mut child = tk
        .command()
        .args(["rotate", "slow"])
        .env("TILLKEY_KEYRING_TIMEOUT_SECS", "5")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"client_secret=SLOW-SECRET-2\n")
        .unwrap();
    wait_for(&in_request);
    daemon.kill();
    let out = finish(child, &["rotate", "slow"]);
    report.row("rotate (daemon killed mid-test)", &out);
    assert!(out.code == 0 || out.code == 3, "rotate: {}", out.both());
    if out.code == 3 && !is_keyring_error(&out, &secrets) {
        failures.push(format!("rotate, daemon killed mid-test: {}", out.both()));
    }

    // 3. The daemon is back: everything is whole, and the next write leaves no orphan.
    daemon.start_again();
    let c = keyring::check(&dir).expect("vault.json parses");
    assert!(
        c.missing.is_empty(),
        "credentials without their secret after the daemon is back: {:?}",
        c.missing
    );
    for (name, _, _) in &creds_before {
        assert!(c.names.contains(name), "{name} was lost");
    }
    assert_eq!(tk.token("keep"), keep.secret("token"));
    tk.token("api");
    tk.token("slow");
    let next = common::register(Kind::Bearer, &sim, "next");
    tk.add(&next);
    let c = keyring::check(&dir).expect("vault.json parses");
    report.print("keyring daemon gone (case, exit code, first stderr line):");
    println!(
        "  after the daemon is back and one more write: {} credentials, missing secrets {}, orphans {}, pending cleanup {}",
        c.names.len(),
        c.missing.len(),
        c.orphans.len(),
        c.pending
    );
    assert!(c.missing.is_empty(), "{:?}", c.missing);
    assert!(
        c.orphans.is_empty() && c.pending == 0,
        "orphans {:?}, pending {}",
        c.orphans,
        c.pending
    );
    assert!(failures.is_empty(), "unclear keyring errors:\n{}", failures.join("\n"));
}

fn wait_for(flag: &AtomicBool) {
    let started = Instant::now();
    while !flag.load(Ordering::SeqCst) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the command never reached the token endpoint"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn finish(child: std::process::Child, args: &[&str]) -> Out {
    let started = Instant::now();
    let o = child.wait_with_output().unwrap();
    Out {
        args: args.iter().map(|s| s.to_string()).collect(),
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

#[test]
fn disk_full_and_read_only_data_dir_fail_clearly_and_lose_nothing() {
    let can_mount = keyring::is_root()
        && Command::new("unshare")
            .args(["-m", "true"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !can_mount {
        println!("skipped: needs root for tmpfs");
        return;
    }
    if !keyring::inside(keyring::Rerun {
        test: DISK_TEST,
        pass_env: &[],
        timeout_secs: 240,
        private_mounts: true,
    }) {
        return;
    }
    let tk = Tk::new();
    let dir = tk.path().to_path_buf();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs"])
        .arg(&dir)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        println!("skipped: needs root for tmpfs");
        return;
    }
    let _daemon = keyring::Daemon::start();
    let sim = common::start(ProviderSim::Oauth2, SimConfig::default().with_rate_limit(None));
    let a = common::register(Kind::Bearer, &sim, "a");
    let b = common::register(Kind::Bearer, &sim, "b");
    let api = common::register(Kind::Oauth2Post, &sim, "api");
    tk.add(&a);
    tk.add(&b);
    tk.add(&api);
    sim.insert_token("ROTATED-A-TOKEN", &a.key, None);
    let meta_before = std::fs::read(keyring::vault_json(&dir)).unwrap();
    let items_before = keyring::items();
    let mut report = Report(Vec::new());
    let mut failures = Vec::new();

    // The writes that must fail, and then change nothing.
    let writes: [(&str, &[&str], &str); 3] = [
        ("add", &["add", "c", "--provider", "bearer"], "token=C-SECRET-TOKEN\n"),
        ("rotate", &["rotate", "a"], "token=ROTATED-A-TOKEN\n"),
        ("remove", &["remove", "b"], ""),
    ];
    let try_writes = |what: &str, words: &[&str], report: &mut Report, failures: &mut Vec<String>| {
        for (case, args, stdin) in writes {
            let out = tk.run(args, stdin);
            report.row(&format!("{case} ({what})"), &out);
            let says = words.iter().any(|w| out.stderr.to_lowercase().contains(w));
            if out.code == 0 || out.code == 101 || !says || !out.stderr.contains("hint:") {
                failures.push(format!(
                    "{case} ({what}): expected a clear error naming {words:?}\n{}",
                    out.both()
                ));
            }
            // Lose nothing, leave nothing: the metadata and the keyring as they were.
            if std::fs::read(keyring::vault_json(&dir)).unwrap() != meta_before {
                failures.push(format!("{case} ({what}) changed vault.json"));
            }
            if keyring::items() != items_before {
                failures.push(format!(
                    "{case} ({what}) changed the keyring: {:?} -> {:?}",
                    items_before,
                    keyring::items()
                ));
            }
        }
        // Reading still works.
        let list = tk.run(&["list", "--json"], "");
        report.row(&format!("list --json ({what})"), &list);
        if list.code != 0 || list.json().as_array().map_or(0, Vec::len) != 3 {
            failures.push(format!("list ({what}): {}", list.both()));
        }
        let tok = tk.run(&["token", "a"], "");
        report.row(&format!("token, static ({what})"), &tok);
        if tok.code != 0 || tok.stdout.trim() != a.secret("token") {
            failures.push(format!("token a ({what}): exit {}: {}", tok.code, tok.stderr));
        }
        // A token that must be fetched and cached: informational, but never a panic.
        let tok = tk.run(&["token", "api"], "");
        report.row(&format!("token, fetch ({what})"), &tok);
        if tok.code == 101 {
            failures.push(format!("token api ({what}) panicked: {}", tok.stderr));
        }
    };

    // 1. Disk full.
    let filler = dir.join("filler");
    fill(&filler);
    try_writes(
        "disk full",
        &["no space", "disk is full", "disk full"],
        &mut report,
        &mut failures,
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    if !leftovers.is_empty() {
        failures.push(format!(
            "temp files left in the data dir after the failed writes: {leftovers:?}"
        ));
    }
    std::fs::remove_file(&filler).unwrap();
    assert_eq!(credentials(&dir).len(), 3);
    assert_eq!(tk.token("a"), a.secret("token"));
    assert_eq!(tk.token("b"), b.secret("token"));

    // 2. Read-only data dir.
    let meta_now = std::fs::read(keyring::vault_json(&dir)).unwrap();
    assert!(
        Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&dir)
            .status()
            .unwrap()
            .success(),
        "remount read-only"
    );
    // `token api` above may have cached a token once space was back; compare with now.
    let (meta_before, items_before) = (meta_now, keyring::items());
    let mut ro_report = Report(Vec::new());
    for (case, args, stdin) in writes {
        let out = tk.run(args, stdin);
        ro_report.row(&format!("{case} (read-only)"), &out);
        let says = ["read-only", "read only"]
            .iter()
            .any(|w| out.stderr.to_lowercase().contains(w));
        if out.code == 0 || out.code == 101 || !says || !out.stderr.contains("hint:") {
            failures.push(format!(
                "{case} (read-only): expected a clear error naming the read-only data dir\n{}",
                out.both()
            ));
        }
        if std::fs::read(keyring::vault_json(&dir)).unwrap() != meta_before {
            failures.push(format!("{case} (read-only) changed vault.json"));
        }
        if keyring::items() != items_before {
            failures.push(format!("{case} (read-only) changed the keyring"));
        }
    }
    let list = tk.run(&["list", "--json"], "");
    ro_report.row("list --json (read-only)", &list);
    if list.code != 0 {
        failures.push(format!("list (read-only): {}", list.both()));
    }
    let tok = tk.run(&["token", "a"], "");
    ro_report.row("token, static (read-only)", &tok);
    if tok.code != 0 {
        failures.push(format!("token a (read-only): {}", tok.both()));
    }
    let tok = tk.run(&["token", "api"], "");
    ro_report.row("token, fetch (read-only)", &tok);
    if tok.code == 101 {
        failures.push(format!("token api (read-only) panicked: {}", tok.stderr));
    }
    assert!(
        Command::new("mount")
            .args(["-o", "remount,rw"])
            .arg(&dir)
            .status()
            .unwrap()
            .success(),
        "remount read-write"
    );

    // 3. Space and write access back: all there, and the next write leaves no orphan.
    assert_eq!(credentials(&dir).len(), 3);
    assert_eq!(tk.token("a"), a.secret("token"));
    assert_eq!(tk.token("b"), b.secret("token"));
    tk.token("api");
    tk.add(&common::register(Kind::Bearer, &sim, "after"));
    let c = keyring::check(&dir).expect("vault.json parses");
    report.print("disk full, 64 KiB tmpfs data dir (case, exit code, first stderr line):");
    ro_report.print("read-only data dir (case, exit code, first stderr line):");
    println!(
        "  afterwards: {} credentials, missing secrets {}, orphans {}, pending cleanup {}",
        c.names.len(),
        c.missing.len(),
        c.orphans.len(),
        c.pending
    );
    let _ = Command::new("umount").arg(&dir).status();
    assert!(c.missing.is_empty() && c.orphans.is_empty() && c.pending == 0, "{c:?}");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Fills the file system of `path` until a write fails with ENOSPC.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    for chunk in [4096usize, 512, 1] {
        let buf = vec![0u8; chunk];
        loop {
            match f.write(&buf) {
                Ok(n) if n == chunk => continue,
                Ok(_) => break,
                Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
                Err(e) => panic!("filling the tmpfs: {e}"),
            }
        }
    }
    let _ = f.sync_all();
}
