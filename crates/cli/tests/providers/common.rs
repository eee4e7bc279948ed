//! Shared helpers: running the real `tillkey` binary against a data dir of its own, the
//! credential of each kind registered at a simulator, reading the real keyring, and a
//! tiny scripted HTTP server for answers the simulators cannot be made to give.

#![allow(dead_code)]

use secrecy::ExposeSecret;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tillkey_core::{KeyringStore, SecretKey, SecretStore};
use tillkey_sim::{AuthMethod, ClientConfig, PatConfig, PosDevice, ProviderSim, SimConfig, Simulator};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_tillkey");

/// One finished CLI run.
#[derive(Debug, Clone)]
pub struct Out {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Out {
    /// stdout and stderr, for assertion messages.
    pub fn both(&self) -> String {
        format!(
            "args: {:?}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }

    /// Asserts the exit code, showing the output when it differs.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(self.code, expected, "unexpected exit code\n{}", self.both());
        self
    }

    /// stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", self.both()))
    }
}

/// A data dir and everything the CLI printed into it (for the leak scans).
pub struct Tk {
    pub dir: tempfile::TempDir,
    /// Output that must never hold a secret or token: every stderr, and every stdout
    /// except `tillkey token`'s and deliberate child output of `tillkey exec`.
    transcript: Mutex<Vec<String>>,
}

impl Default for Tk {
    fn default() -> Self {
        Self::new()
    }
}

impl Tk {
    pub fn new() -> Self {
        Tk {
            dir: tempfile::tempdir().expect("temp dir"),
            transcript: Mutex::new(Vec::new()),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The base command: `tillkey --data-dir DIR`, no inherited data dir.
    pub fn command(&self) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--data-dir").arg(self.path()).env_remove("TILLKEY_DATA_DIR");
        // No local agent: parallel tests must never leave one behind (tests/agent.rs tests it).
        c.env("TILLKEY_NO_AGENT", "1");
        c
    }

    /// Runs `tillkey ARGS` with `stdin`; records the output for the leak scan (stdout of
    /// `token` excepted).
    pub fn run(&self, args: &[&str], stdin: &str) -> Out {
        let scan_stdout = args.first() != Some(&"token");
        self.run_with(args, stdin, scan_stdout)
    }

    /// Like [`Tk::run`], choosing whether stdout goes into the leak-scan transcript.
    pub fn run_with(&self, args: &[&str], stdin: &str, scan_stdout: bool) -> Out {
        let started = Instant::now();
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tillkey");
        {
            let mut i = child.stdin.take().expect("stdin");
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
        self.record(&out, scan_stdout);
        out
    }

    /// Adds output to the leak-scan transcript.
    pub fn record(&self, out: &Out, scan_stdout: bool) {
        let mut t = self.transcript.lock().unwrap();
        if scan_stdout {
            t.push(out.stdout.clone());
        }
        t.push(out.stderr.clone());
    }

    /// Everything recorded so far.
    pub fn transcript(&self) -> String {
        self.transcript.lock().unwrap().join("\n")
    }

    /// `tillkey add` of a credential; asserts success.
    #[track_caller]
    pub fn add(&self, c: &Cred) -> Out {
        let out = self.add_raw(c);
        out.code(0);
        assert!(out.stdout.contains(&format!("Added {}", c.name)), "{}", out.both());
        out
    }

    /// `tillkey add` without asserting.
    pub fn add_raw(&self, c: &Cred) -> Out {
        let mut args: Vec<String> = vec!["add".into(), c.name.clone(), "--provider".into(), c.kind.kind().into()];
        if let Some(env) = c.env {
            args.push("--env".into());
            args.push(env.into());
        }
        for (k, v) in &c.fields {
            args.push("--set".into());
            args.push(format!("{k}={v}"));
        }
        let stdin: String = c.secrets.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(&a, &stdin)
    }

    /// `tillkey token NAME`, asserting success; the token without its newline.
    #[track_caller]
    pub fn token(&self, name: &str) -> String {
        let out = self.run(&["token", name], "");
        out.code(0);
        assert!(out.stderr.is_empty(), "token wrote to stderr\n{}", out.both());
        assert!(
            out.stdout.ends_with('\n') && out.stdout.lines().count() == 1,
            "token prints one line\n{}",
            out.both()
        );
        out.stdout.trim_end_matches('\n').to_string()
    }

    /// `tillkey test NAME --json`: the output and the report.
    #[track_caller]
    pub fn test_json(&self, name: &str) -> (Out, Value) {
        let out = self.run(&["test", name, "--json"], "");
        let v = out.json();
        (out, v)
    }

    /// The metadata document.
    pub fn meta(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.path().join("vault.json")).expect("vault.json")).expect("valid JSON")
    }

    /// The stored record of `name`.
    #[track_caller]
    pub fn record_of(&self, name: &str) -> Value {
        let m = self.meta();
        m["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no record {name}"))
    }

    /// A keyring entry of `name`'s current revision, read straight from the keyring.
    #[track_caller]
    pub fn keyring(&self, name: &str, field: &str) -> Option<String> {
        let m = self.meta();
        let r = self.record_of(name);
        let key = SecretKey {
            vault_id: m["vault_id"].as_str().unwrap().into(),
            credential_id: r["id"].as_str().unwrap().into(),
            rev: u32::try_from(r["secret_rev"].as_u64().unwrap()).unwrap(),
            field: field.into(),
            class: Default::default(),
        };
        KeyringStore
            .get(&key)
            .expect("keyring answers")
            .map(|s| s.expose_secret().to_string())
    }

    /// Every file under the data dir, recursively, as lossy text.
    pub fn files_text(&self) -> String {
        let mut all = String::new();
        files_into(self.path(), &mut all);
        all
    }
}

fn files_into(dir: &Path, all: &mut String) {
    for e in std::fs::read_dir(dir).expect("read dir") {
        let p: PathBuf = e.expect("entry").path();
        if p.is_dir() {
            files_into(&p, all);
        } else if p.is_file() {
            all.push_str(&String::from_utf8_lossy(&std::fs::read(&p).expect("read file")));
            all.push('\n');
        }
    }
}

/// The credential kinds under test (generic OAuth2 once per client authentication).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    PayseraPos,
    PayseraCheckout,
    Mypos,
    Ereceipt,
    /// Chimpy without `offline_access`.
    Chimpy,
    /// Chimpy with `offline_access` (refresh tokens).
    ChimpyOffline,
    Oauth2Post,
    Oauth2Basic,
    Bearer,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::PayseraPos,
        Kind::PayseraCheckout,
        Kind::Mypos,
        Kind::Ereceipt,
        Kind::Chimpy,
        Kind::ChimpyOffline,
        Kind::Oauth2Post,
        Kind::Oauth2Basic,
        Kind::Bearer,
    ];

    /// The provider kind name.
    pub fn kind(self) -> &'static str {
        match self {
            Kind::PayseraPos => "paysera-pos",
            Kind::PayseraCheckout => "paysera-checkout",
            Kind::Mypos => "mypos",
            Kind::Ereceipt => "ereceipt",
            Kind::Chimpy | Kind::ChimpyOffline => "chimpy",
            Kind::Oauth2Post | Kind::Oauth2Basic => "oauth2",
            Kind::Bearer => "bearer",
        }
    }

    /// The simulator that serves it.
    pub fn sim(self) -> ProviderSim {
        match self {
            Kind::PayseraPos => ProviderSim::PayseraPos,
            Kind::PayseraCheckout => ProviderSim::PayseraCheckout,
            Kind::Mypos => ProviderSim::Mypos,
            Kind::Ereceipt => ProviderSim::Ereceipt,
            Kind::Chimpy | Kind::ChimpyOffline => ProviderSim::Chimpy,
            Kind::Oauth2Post | Kind::Oauth2Basic | Kind::Bearer => ProviderSim::Oauth2,
        }
    }

    /// Whether the credential's secret is itself the token (no token endpoint).
    pub fn is_static(self) -> bool {
        matches!(self, Kind::PayseraPos | Kind::Bearer)
    }

    /// Stage names of a passing `tillkey test`.
    pub fn stages(self) -> Vec<&'static str> {
        if self.is_static() {
            vec!["connect", "api"]
        } else {
            vec!["connect", "token", "api"]
        }
    }

    /// The secret field rotation replaces.
    pub fn rotated_field(self) -> &'static str {
        match self {
            Kind::PayseraPos | Kind::Bearer => "token",
            Kind::Chimpy | Kind::ChimpyOffline => "password",
            _ => "client_secret",
        }
    }
}

/// A credential as `tillkey add` takes it, and the simulator's statistics key for it.
#[derive(Debug, Clone)]
pub struct Cred {
    pub kind: Kind,
    pub name: String,
    pub env: Option<&'static str>,
    /// The simulator's statistics key (client id; Paysera POS: the PAT's name).
    pub key: String,
    pub fields: Vec<(String, String)>,
    pub secrets: Vec<(String, String)>,
}

impl Cred {
    pub fn field(&self, k: &str) -> Option<&str> {
        self.fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str())
    }
    pub fn secret(&self, k: &str) -> &str {
        self.secrets
            .iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no secret {k}"))
    }
    pub fn set_field(&mut self, k: &str, v: impl Into<String>) {
        self.fields.retain(|(f, _)| f != k);
        self.fields.push((k.into(), v.into()));
    }
    pub fn remove_field(&mut self, k: &str) {
        self.fields.retain(|(f, _)| f != k);
    }
    pub fn set_secret(&mut self, k: &str, v: impl Into<String>) {
        self.secrets.retain(|(f, _)| f != k);
        self.secrets.push((k.into(), v.into()));
    }
    /// Every secret value (for leak scans).
    pub fn secret_values(&self) -> Vec<String> {
        self.secrets.iter().map(|(_, v)| v.clone()).collect()
    }
}

/// Starts a simulator on its own runtime thread.
pub fn start(p: ProviderSim, cfg: SimConfig) -> Simulator {
    Simulator::spawn_blocking_runtime(p, cfg).expect("start simulator")
}

/// eReceipt device values registered at the simulator.
pub const POSSERIAL: &str = "SN-1234567899";
pub const POSOSVERSION: &str = "android-13";
pub const POSMODELFRAMEWORK: &str = "fw2";
/// Chimpy audience.
pub const AUDIENCE: &str = "https://pos-api.chimpy.test";
/// Generic OAuth2 scope and audience.
pub const OAUTH2_SCOPE: &str = "read";
pub const OAUTH2_AUDIENCE: &str = "https://api.shop.test";

/// Registers the server side of a credential of `kind` called `name` at `sim` (client,
/// user, PAT or static token) and returns the matching Tillkey credential. Secret values
/// are distinctive so a leak scan finds them anywhere.
pub fn register(kind: Kind, sim: &Simulator, name: &str) -> Cred {
    let id = format!("{}-{name}-client", kind.kind());
    let secret = format!("SECRET-{}-{name}-q7Zr4Kx2", kind.kind());
    let mut c = Cred {
        kind,
        name: name.into(),
        env: None,
        key: id.clone(),
        fields: Vec::new(),
        secrets: Vec::new(),
    };
    match kind {
        Kind::PayseraPos => {
            let pat = format!("PAT-{name}-9f8e7d6c5b4a39281706f5e4d3c2b1a0");
            let key = format!("pat-{name}");
            sim.add_pat_with(PatConfig {
                name: key.clone(),
                token: pat.clone(),
                permitted: true,
                expires_at: None,
            });
            c.key = key;
            c.env = Some("sandbox");
            c.set_field("api_base", sim.api_base().unwrap());
            c.set_secret("token", pat);
        }
        Kind::PayseraCheckout => {
            sim.add_client(&id, &secret);
            c.set_field("client_id", &id);
            c.set_field("token_url", sim.token_url().unwrap());
            c.set_field("test_url", sim.test_url());
            c.set_secret("client_secret", secret);
        }
        Kind::Mypos => {
            sim.add_client(&id, &secret);
            c.env = Some("sandbox");
            c.set_field("client_id", &id);
            c.set_field("token_url", sim.token_url().unwrap());
            c.set_field("revoke_url", sim.revoke_url().unwrap());
            c.set_field("test_url", sim.test_url());
            c.set_secret("client_secret", secret);
        }
        Kind::Ereceipt => {
            let psk = format!("PSK-{name}-03ac674216f3e15c761ee1a5e255f067");
            sim.add_client_with(ClientConfig::new(&id, &secret).with_pos_device(PosDevice::new(
                POSSERIAL,
                POSOSVERSION,
                POSMODELFRAMEWORK,
                &psk,
            )));
            c.env = Some("sandbox");
            // identity_url, not token_url: the token URL is derived as the document says.
            c.set_field("identity_url", sim.base_url());
            c.set_field("client_id", &id);
            c.set_field("posserial", POSSERIAL);
            c.set_field("pososversion", POSOSVERSION);
            c.set_field("posmodelframework", POSMODELFRAMEWORK);
            c.set_field("test_url", sim.test_url());
            c.set_secret("client_secret", secret);
            c.set_secret("presharedkey", psk);
        }
        Kind::Chimpy | Kind::ChimpyOffline => {
            let user = format!("{name}@merchant.test");
            sim.add_client_with(ClientConfig::new(&id, "").with_audience(AUDIENCE));
            sim.add_user(&user, &secret);
            c.set_field("client_id", &id);
            c.set_field("audience", AUDIENCE);
            c.set_field("username", user);
            c.set_field(
                "offline_access",
                if kind == Kind::ChimpyOffline { "true" } else { "false" },
            );
            c.set_field("api_base", sim.api_base().unwrap());
            // auth_host would mean https://{host}/oauth/token; the simulator is plain http.
            c.set_field("token_url", sim.token_url().unwrap());
            c.set_field("test_url", sim.test_url());
            c.set_secret("password", secret);
        }
        Kind::Oauth2Post | Kind::Oauth2Basic => {
            let (method, word) = if kind == Kind::Oauth2Post {
                (AuthMethod::Post, "post")
            } else {
                (AuthMethod::Basic, "basic")
            };
            // Characters that RFC 6749 §2.3.1 form-encodes inside HTTP Basic.
            let secret = format!("{secret}:+/=%41&x");
            sim.add_client_with(
                ClientConfig::new(&id, &secret)
                    .with_auth_method(method)
                    .with_scopes([OAUTH2_SCOPE])
                    .with_audience(OAUTH2_AUDIENCE),
            );
            c.set_field("client_id", &id);
            c.set_field("auth_method", word);
            c.set_field("scope", OAUTH2_SCOPE);
            c.set_field("audience", OAUTH2_AUDIENCE);
            c.set_field("token_url", sim.token_url().unwrap());
            c.set_field("revoke_url", sim.revoke_url().unwrap());
            c.set_field("test_url", sim.test_url());
            c.set_secret("client_secret", secret);
        }
        Kind::Bearer => {
            let token = format!("BEARER-{name}-5d41402abc4b2a76b9719d911017c592");
            let key = format!("bearer-{name}");
            sim.insert_token(&token, &key, None);
            c.key = key;
            c.set_field("test_url", sim.test_url());
            c.set_secret("token", token);
        }
    }
    c
}

/// A simulator, a data dir and one credential of `kind` named `c`, added through the CLI.
pub struct Setup {
    pub sim: Simulator,
    pub tk: Tk,
    pub cred: Cred,
}

impl Setup {
    pub fn new(kind: Kind, cfg: SimConfig) -> Setup {
        let sim = start(kind.sim(), cfg);
        let cred = register(kind, &sim, "c");
        let tk = Tk::new();
        tk.add(&cred);
        Setup { sim, tk, cred }
    }

    /// Token requests the simulator saw for this credential.
    pub fn token_requests(&self) -> u64 {
        self.sim.stats().token_requests(&self.cred.key)
    }

    /// API calls the simulator saw for this credential.
    pub fn api_calls(&self) -> u64 {
        self.sim.stats().api_calls(&self.cred.key)
    }
}

/// The first failing stage of a report.
#[track_caller]
pub fn failing_stage(report: &Value) -> &Value {
    report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["ok"] == false)
        .unwrap_or_else(|| panic!("no failing stage in {report:#}"))
}

/// Stage names of a report.
pub fn stage_names(report: &Value) -> Vec<String> {
    report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap().to_string())
        .collect()
}

/// Asserts a passing report: every stage ok, the expected stages, HTTP 200 and
/// rate-limit headers on every HTTP stage.
#[track_caller]
pub fn assert_passing(kind: Kind, out: &Out, report: &Value) {
    out.code(0);
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(stage_names(report), kind.stages(), "{report:#}");
    for s in report["stages"].as_array().unwrap() {
        assert_eq!(s["ok"], true, "{report:#}");
        assert!(s["code"].is_null(), "{report:#}");
        assert!(s["latencyMs"].is_u64(), "{report:#}");
        if s["stage"] == "connect" {
            assert!(s["status"].is_null(), "{report:#}");
            continue;
        }
        assert_eq!(s["status"], 200, "{report:#}");
        let rl = &s["rateLimit"];
        let limit = rl["limit"]
            .as_u64()
            .unwrap_or_else(|| panic!("rate-limit headers missing: {report:#}"));
        assert!(rl["remaining"].as_u64().is_some_and(|r| r < limit), "{report:#}");
        assert!(
            rl["resetSecs"].as_u64().is_some_and(|r| (1..=60).contains(&r)),
            "{report:#}"
        );
    }
}

/// Runs `tillkey test NAME --json` and `tillkey test NAME`, expecting `stage` to fail with
/// `code` (and HTTP `status`), a hint containing each of `hint_has`, and exit `exit`.
/// Returns the JSON report.
#[track_caller]
pub fn expect_test_failure(
    tk: &Tk,
    name: &str,
    stage: &str,
    code: &str,
    status: Option<u16>,
    hint_has: &[&str],
    exit: i32,
) -> Value {
    let (out, report) = tk.test_json(name);
    out.code(exit);
    assert_eq!(report["ok"], false, "{report:#}");
    let s = failing_stage(&report);
    assert_eq!(s["stage"], stage, "{report:#}");
    assert_eq!(s["code"], code, "{report:#}");
    match status {
        Some(st) => assert_eq!(s["status"], st, "{report:#}"),
        None => assert!(s["status"].is_null(), "{report:#}"),
    }
    let hint = s["hint"].as_str().unwrap_or_else(|| panic!("no hint: {report:#}"));
    for h in hint_has {
        assert!(hint.contains(h), "hint lacks {h:?}: {hint}");
    }
    // The human form says the same.
    let human = tk.run(&["test", name], "");
    human.code(exit);
    assert!(human.stdout.contains(&format!("[{code}]")), "{}", human.both());
    assert!(human.stdout.contains(&format!("hint: {hint}")), "{}", human.both());
    assert!(human.stdout.contains("FAIL"), "{}", human.both());
    report
}

/// Runs `tillkey token NAME`, expecting exit `exit`, `error[code]` on stderr with a hint
/// containing each of `hint_has`, and nothing on stdout.
#[track_caller]
pub fn expect_token_failure(tk: &Tk, name: &str, code: &str, hint_has: &[&str], exit: i32) -> Out {
    let out = tk.run(&["token", name], "");
    out.code(exit);
    assert!(
        out.stdout.is_empty(),
        "token printed something on failure\n{}",
        out.both()
    );
    assert!(out.stderr.starts_with(&format!("error[{code}]: ")), "{}", out.both());
    let hint = out
        .stderr
        .split("  hint: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no hint\n{}", out.both()));
    for h in hint_has {
        assert!(hint.contains(h), "hint lacks {h:?}\n{}", out.both());
    }
    out
}

/// A request the scripted server received.
#[derive(Debug, Clone)]
pub struct FakeRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl FakeRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reply of the scripted server: status, extra headers, JSON body.
pub type Reply = (u16, Vec<(String, String)>, String);
type Handler = dyn Fn(usize, &FakeRequest) -> Reply + Send + Sync;

/// A scripted HTTP/1.1 server on loopback: for answers no simulator gives (codes Tillkey
/// cannot provoke, an API that rejects a first token). One request per connection.
pub struct FakeServer {
    addr: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<FakeRequest>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeServer {
    /// `handler(n, request)` answers the n-th request (0-based).
    pub fn start(handler: impl Fn(usize, &FakeRequest) -> Reply + Send + Sync + 'static) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let (s, r) = (stop.clone(), requests.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let _ = serve_one(conn, &handler, &r);
            }
        });
        FakeServer {
            addr,
            stop,
            requests,
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<FakeRequest> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_one(conn: TcpStream, handler: &Arc<Handler>, log: &Arc<Mutex<Vec<FakeRequest>>>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        // A bare connection (the connectivity test's connect stage): no request.
        return Ok(());
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    let req = FakeRequest {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let n = {
        let mut l = log.lock().unwrap();
        l.push(req.clone());
        l.len() - 1
    };
    let (status, extra, body) = handler(n, &req);
    let mut resp = format!(
        "HTTP/1.1 {status} Scripted\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in extra {
        resp.push_str(&format!("{k}: {v}\r\n"));
    }
    resp.push_str("\r\n");
    resp.push_str(&body);
    let mut w = conn;
    w.write_all(resp.as_bytes())?;
    w.flush()
}

/// Runs `n` `tillkey ARGS` processes at once; their outputs, in spawn order.
pub fn run_parallel(tk: &Tk, args: &[&str], n: usize) -> Vec<Out> {
    let children: Vec<_> = (0..n)
        .map(|_| {
            tk.command()
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn tillkey")
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let o = c.wait_with_output().expect("wait");
            let out = Out {
                args: args.iter().map(|s| s.to_string()).collect(),
                code: o.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
                elapsed: Duration::ZERO,
            };
            tk.record(&out, args.first() != Some(&"token"));
            out
        })
        .collect()
}

/// A plain HTTP/1.1 GET from the test itself (e.g. to use up a rate-limit window right
/// before a CLI run); the status code.
pub fn http_get(url: &str, headers: &[(&str, &str)]) -> u16 {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = TcpStream::connect(host).expect("connect");
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("send");
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    resp.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("an HTTP status line")
}
