//! SIGKILLs `tillkey add`, `rotate`, `remove` and a token refresh (`tillkey token` of a
//! credential whose cached token has expired) at random points. After every kill the next
//! write (an add, or a remove once the vault has grown) must succeed and leave:
//! - a valid vault: `vault.json` parses and `tillkey list --json` exits 0 with JSON;
//! - every credential of the metadata with all its secrets in the keyring, holding a value
//!   it was given (for a rotation: the old or the new one);
//! - no orphan secret: every keyring item of the vault belongs to a live credential's
//!   current revision (its secret fields, or its cached `_access_token` / `_refresh_token`),
//!   and `pending_cleanup` is empty;
//! - rotated and refreshed credentials still give a token (`tillkey token` exits 0).
//!
//! The number of kills (across the four operations, in turn) is `TILLKEY_KILL_RUNS`,
//! default 40 (about 20 s). The full run, 1000 kills (a few minutes):
//!
//! ```sh
//! TILLKEY_KILL_RUNS=1000 cargo test -p tillkey --test killed_writes --locked -- --nocapture
//! ```
//!
//! It ends by printing one line for `scripts/security-check.sh`:
//! `kill -9 runs: N (add A, rotate R, remove M, refresh F); corrupt vaults: C; orphans after next write: O; ...`
//! A failing run prints its seed; `TILLKEY_KILL_SEED=S` replays the same kill delays.
//!
//! This runs against a keyring of its own (support/killable_keyring.rs): gnome-keyring-daemon
//! 42 aborts (a glib assertion, `gkd_secret_service_get_pkcs11_session: assertion 'client'
//! failed`) when a client vanishes in the middle of opening its Secret Service session, which
//! is exactly what a SIGKILL can do. So the test re-runs itself in a D-Bus session of its own
//! where it starts its own daemon, and when a kill takes that daemon down it starts it again
//! on the same on-disk keyring: what is checked is what Tillkey left behind, which a daemon
//! restart does not change (cached access tokens live in the in-memory session collection
//! and are lost with it, which Tillkey handles by fetching a new one).

#[path = "providers/common.rs"]
mod common;
#[path = "support/killable_keyring.rs"]
mod keyring;

use common::{Kind, Tk};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tillkey_sim::{ProviderSim, SimConfig, Simulator};

const TEST_NAME: &str = "killed_writes_leave_a_valid_vault_and_no_orphan_secrets";
const RUNS_ENV: &str = "TILLKEY_KILL_RUNS";
const SEED_ENV: &str = "TILLKEY_KILL_SEED";
const DEFAULT_RUNS: usize = 40;
/// Removable credentials kept at most; past it the next write is a remove, not an add.
const POOL: usize = 6;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Op {
    Add,
    Rotate,
    Remove,
    Refresh,
}

const OPS: [Op; 4] = [Op::Add, Op::Rotate, Op::Remove, Op::Refresh];

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

/// A credential the test rotates or refreshes, and how to change its secret at the simulator.
struct Target {
    cred: common::Cred,
    field: &'static str,
}

impl Target {
    /// Makes the simulator accept `secret` (and only it) for this credential.
    fn accept(&self, sims: &Sims, secret: &str) {
        let ok = match self.cred.kind {
            Kind::ChimpyOffline | Kind::Chimpy => sims
                .chimpy
                .set_user_password(self.cred.field("username").unwrap(), secret),
            _ => sims
                .oauth2
                .set_client_secret(self.cred.field("client_id").unwrap(), secret),
        };
        assert!(ok, "{} is not registered at its simulator", self.cred.name);
    }
}

struct Sims {
    oauth2: Simulator,
    chimpy: Simulator,
}

/// Failures seen, kept until the totals are printed.
#[derive(Default)]
struct Tally {
    per_op: BTreeMap<Op, usize>,
    killed_mid_op: usize,
    corrupt: usize,
    orphans: usize,
    failures: Vec<String>,
}

#[test]
fn killed_writes_leave_a_valid_vault_and_no_orphan_secrets() {
    let runs = runs();
    if !keyring::inside(keyring::Rerun {
        test: TEST_NAME,
        pass_env: &[RUNS_ENV, SEED_ENV],
        timeout_secs: 180 + 2 * runs as u64,
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
    // Tokens live one second, so a token request a second later is a refresh; no rate limit.
    let cfg = SimConfig::default()
        .with_token_lifetime(Duration::from_secs(1))
        .with_rate_limit(None);
    let sims = Sims {
        oauth2: common::start(ProviderSim::Oauth2, cfg.clone()),
        chimpy: common::start(ProviderSim::Chimpy, cfg),
    };
    let tk = Tk::new();
    let dir = tk.path().to_path_buf();

    // Fixtures: two credentials to rotate, two to refresh (Chimpy with rotating refresh
    // tokens, and a client_credentials one), each with a cached token.
    let target = |kind: Kind, name: &str, field| {
        let sim = if matches!(kind, Kind::ChimpyOffline) {
            &sims.chimpy
        } else {
            &sims.oauth2
        };
        Target {
            cred: common::register(kind, sim, name),
            field,
        }
    };
    let rotated = [
        target(Kind::Oauth2Basic, "rot-oauth", "client_secret"),
        target(Kind::ChimpyOffline, "rot-chimpy", "password"),
    ];
    let refreshed = [
        target(Kind::ChimpyOffline, "ref-chimpy", "password"),
        target(Kind::Oauth2Post, "ref-oauth", "client_secret"),
    ];
    // name -> field -> value every live credential must hold.
    let mut expected: HashMap<String, BTreeMap<String, String>> = HashMap::new();
    let mut last_fetch: HashMap<String, Instant> = HashMap::new();
    for t in rotated.iter().chain(&refreshed) {
        tk.add(&t.cred);
        tk.token(&t.cred.name);
        last_fetch.insert(t.cred.name.clone(), Instant::now());
        expected.insert(t.cred.name.clone(), t.cred.secrets.iter().cloned().collect());
    }

    // How long each operation takes when not killed: the kill delays are drawn below that
    // (a little beyond, so that some runs finish and the "killed after the end" case is in).
    let mut span: BTreeMap<Op, Duration> = BTreeMap::new();
    let started = Instant::now();
    run_add(&tk, "cal", 0).code(0);
    span.insert(Op::Add, started.elapsed());
    let started = Instant::now();
    tk.run(&["remove", "cal"], "").code(0);
    span.insert(Op::Remove, started.elapsed());
    let t = &rotated[0];
    let fresh = format!("{}-cal", t.cred.secret(t.field));
    t.accept(&sims, &fresh);
    let started = Instant::now();
    tk.run(&["rotate", &t.cred.name], &format!("{}={fresh}\n", t.field))
        .code(0);
    span.insert(Op::Rotate, started.elapsed());
    expected.get_mut(&t.cred.name).unwrap().insert(t.field.into(), fresh);
    let t = &refreshed[1];
    sleep_until_expired(&last_fetch, &t.cred.name);
    let started = Instant::now();
    tk.token(&t.cred.name);
    span.insert(Op::Refresh, started.elapsed());
    last_fetch.insert(t.cred.name.clone(), Instant::now());

    let mut tally = Tally::default();
    let mut pool: Vec<String> = Vec::new();
    for i in 0..runs {
        let op = OPS[i % OPS.len()];
        *tally.per_op.entry(op).or_default() += 1;
        daemon.ensure_running();
        let max = span[&op].as_micros() as u64 * 5 / 4 + 1;
        let delay = Duration::from_micros(rng.next() % max);
        let mut rotation: Option<(&Target, String, String)> = None;
        let (args, stdin): (Vec<String>, String) = match op {
            Op::Add => {
                let (args, stdin) = add_args(&format!("a{i}"), i);
                (args, stdin)
            }
            Op::Rotate => {
                let t = &rotated[(i / OPS.len()) % rotated.len()];
                let name = &t.cred.name;
                // A cached token, so the rotation has an old token to retire.
                let out = tk.run(&["token", name], "");
                if out.code != 0 {
                    tally
                        .failures
                        .push(format!("run {i}: token {name} before rotate: {}", out.both()));
                }
                let old = expected[name][t.field].clone();
                let new = format!("{}-v{i}", t.cred.secret(t.field));
                t.accept(&sims, &new);
                rotation = Some((t, old, new.clone()));
                (vec!["rotate".into(), name.clone()], format!("{}={new}\n", t.field))
            }
            Op::Remove => {
                if pool.is_empty() {
                    let name = format!("r{i}");
                    let out = run_add(&tk, &name, i);
                    if out.code == 0 {
                        expected.insert(name.clone(), add_secrets(&name, i));
                        pool.push(name);
                    } else {
                        tally
                            .failures
                            .push(format!("run {i}: add before remove: {}", out.both()));
                    }
                }
                let name = pool.first().cloned().unwrap_or_default();
                (vec!["remove".into(), name], String::new())
            }
            Op::Refresh => {
                let t = &refreshed[(i / OPS.len()) % refreshed.len()];
                sleep_until_expired(&last_fetch, &t.cred.name);
                (vec!["token".into(), t.cred.name.clone()], String::new())
            }
        };

        // The run, SIGKILLed after `delay` unless it has finished by then.
        let mut child = tk
            .command()
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn tillkey");
        {
            let mut s = child.stdin.take().unwrap();
            let _ = s.write_all(stdin.as_bytes());
        }
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            // SIGKILL: no destructor, no cleanup; the worst case for the write order.
            // SAFETY: signalling our own child by its pid.
            unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
            tally.killed_mid_op += 1;
        }
        let _ = child.wait();
        daemon.ensure_running();

        // What the killed run did: an added credential is there or not, a removed one gone
        // or not (checked whole below).
        let names = names_in(&dir);
        match op {
            Op::Add if names.contains(&format!("a{i}")) => {
                let name = format!("a{i}");
                expected.insert(name.clone(), add_secrets(&name, i));
                pool.push(name);
            }
            Op::Remove if !names.contains(&args[1]) => {
                pool.retain(|n| n != &args[1]);
                expected.remove(&args[1]);
            }
            _ => {}
        }

        // The next write sweeps what the kill left.
        let next = if pool.len() > POOL {
            let name = pool.remove(0);
            expected.remove(&name);
            vec!["remove".to_string(), name]
        } else {
            let name = format!("n{i}");
            let (args, _) = add_args(&name, i);
            expected.insert(name.clone(), add_secrets(&name, i));
            pool.push(name);
            args
        };
        let mut out = run_write(&tk, &next, i);
        if out.code != 0 && !daemon.alive() {
            // The daemon aborted after the kill, during this write: not Tillkey's doing.
            daemon.ensure_running();
            out = run_write(&tk, &next, i);
        }
        if out.code != 0 {
            tally
                .failures
                .push(format!("run {i} ({op:?}): the next write failed: {}", out.both()));
        }

        // The checks.
        let mut bad = Vec::new();
        let list = tk.run(&["list", "--json"], "");
        let listed: Option<Vec<String>> = serde_json::from_str::<serde_json::Value>(&list.stdout)
            .ok()
            .and_then(|v| {
                v.as_array()
                    .map(|a| a.iter().filter_map(|c| c["name"].as_str().map(String::from)).collect())
            });
        if list.code != 0 || listed.is_none() {
            bad.push(format!("list --json: {}", list.both()));
        }
        match keyring::check(&dir) {
            Err(e) => bad.push(e),
            Ok(c) => {
                if !c.missing.is_empty() {
                    bad.push(format!("credentials without their secret: {:?}", c.missing));
                }
                if let Some(mut listed) = listed {
                    let mut names = c.names.clone();
                    listed.sort();
                    names.sort();
                    if listed != names {
                        bad.push(format!("list shows {listed:?}, vault.json has {names:?}"));
                    }
                }
                if let Some((t, old, new)) = &rotation {
                    let now = c.secrets.get(&t.cred.name).and_then(|s| s.get(t.field)).cloned();
                    match now {
                        Some(v) if v == *old || v == *new => {
                            // The provider keeps accepting whichever secret Tillkey holds now.
                            t.accept(&sims, &v);
                            expected.get_mut(&t.cred.name).unwrap().insert(t.field.into(), v);
                        }
                        _ => bad.push(format!("{} holds neither its old nor its new secret", t.cred.name)),
                    }
                }
                for name in &c.names {
                    match expected.get(name) {
                        None => bad.push(format!("unknown credential {name} in the vault")),
                        Some(want)
                            if c.secrets.get(name) != Some(want)
                                && !c.missing.iter().any(|m| m.starts_with(&format!("{name}/"))) =>
                        {
                            bad.push(format!("{name}'s secrets are not the ones it was given"));
                        }
                        Some(_) => {}
                    }
                }
                for name in expected.keys() {
                    if !c.names.contains(name) {
                        bad.push(format!("{name} was lost"));
                    }
                }
                if !c.orphans.is_empty() || c.pending > 0 {
                    tally.orphans += c.orphans.len();
                    tally.failures.push(format!(
                        "run {i} ({op:?}): after the next write, orphan keyring entries {:?}, {} pending cleanup entries",
                        c.orphans, c.pending
                    ));
                }
            }
        }
        // The rotated or refreshed credential still gives a token.
        if matches!(op, Op::Rotate | Op::Refresh) {
            let name = &args[1];
            let out = tk.run(&["token", name], "");
            if out.code != 0 {
                bad.push(format!("token {name} after the kill: {}", out.both()));
            }
            last_fetch.insert(name.clone(), Instant::now());
        }
        if !bad.is_empty() {
            tally.corrupt += 1;
            tally
                .failures
                .push(format!("run {i} ({op:?}, killed after {delay:?}): {}", bad.join("; ")));
        }
    }

    let count = |op| tally.per_op.get(&op).copied().unwrap_or(0);
    println!(
        "kill -9 runs: {runs} (add {}, rotate {}, remove {}, refresh {}); corrupt vaults: {}; orphans after next write: {}; killed mid-operation: {}; keyring daemon restarts: {}; seed: {seed}",
        count(Op::Add),
        count(Op::Rotate),
        count(Op::Remove),
        count(Op::Refresh),
        tally.corrupt,
        tally.orphans,
        tally.killed_mid_op,
        daemon.restarts,
    );
    assert!(
        tally.failures.is_empty(),
        "{} failures (replay with {SEED_ENV}={seed}):\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
    );
    assert!(
        runs == 0 || tally.killed_mid_op > 0,
        "no run was killed mid-way; the test proved nothing"
    );
}

/// `add NAME`: a bearer token on even runs, an eReceipt credential (two secrets, so a kill
/// can fall between them) on odd ones.
fn add_args(name: &str, i: usize) -> (Vec<String>, String) {
    let mut args: Vec<String> = vec!["add".into(), name.into(), "--provider".into()];
    if i.is_multiple_of(2) {
        args.push("bearer".into());
    } else {
        args.extend(
            [
                "ereceipt",
                "--env",
                "sandbox",
                "--set",
                "identity_url=http://127.0.0.1:9",
                "--set",
                "client_id=kill-test",
                "--set",
                "posserial=SN-1",
                "--set",
                "pososversion=android-13",
                "--set",
                "posmodelframework=fw2",
            ]
            .map(String::from),
        );
    }
    let stdin: String = add_secrets(name, i).iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    (args, stdin)
}

fn add_secrets(name: &str, i: usize) -> BTreeMap<String, String> {
    let mut s = BTreeMap::new();
    if i.is_multiple_of(2) {
        s.insert("token".into(), format!("tok-{name}"));
    } else {
        s.insert("client_secret".into(), format!("cs-{name}"));
        s.insert("presharedkey".into(), format!("psk-{name}"));
    }
    s
}

fn run_add(tk: &Tk, name: &str, i: usize) -> common::Out {
    let (args, stdin) = add_args(name, i);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    tk.run(&a, &stdin)
}

/// The next write: `add NAME ...` (stdin rebuilt from the name) or `remove NAME`.
fn run_write(tk: &Tk, args: &[String], i: usize) -> common::Out {
    let stdin = if args[0] == "add" {
        add_args(&args[1], i).1
    } else {
        String::new()
    };
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    tk.run(&a, &stdin)
}

/// Names of the credentials in `vault.json` (none if it does not parse: checked later).
fn names_in(dir: &std::path::Path) -> Vec<String> {
    std::fs::read(keyring::vault_json(dir))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|m| {
            m["credentials"]
                .as_array()
                .map(|a| a.iter().filter_map(|c| c["name"].as_str().map(String::from)).collect())
        })
        .unwrap_or_default()
}

/// Waits until the token cached at `name`'s last fetch is past its renewal time (tokens
/// live 1 s here), so that the next `tillkey token` is a refresh.
fn sleep_until_expired(last_fetch: &HashMap<String, Instant>, name: &str) {
    if let Some(t) = last_fetch.get(name) {
        let ready = *t + Duration::from_millis(1100);
        let now = Instant::now();
        if ready > now {
            std::thread::sleep(ready - now);
        }
    }
}
