//! `tillkey rotate` to a new myPOS set (client ID and secret, issue 12 item 8), against
//! the real keyring and the myPOS simulator:
//! - one flow: the new set is read from stdin, tested with a token request, swapped in, and
//!   the old token is revoked at the simulator with the OLD client ID and secret;
//! - refusals: a URL or another non-identity field, an identity without a secret, a new
//!   set the provider rejects: nothing changes and the old set keeps working;
//! - kill -9 at random points of the rotation: the vault holds the old set or the new one,
//!   complete (client ID in the metadata and secret in the keyring from the same set), never
//!   a mix; the next write leaves no orphan; the credential still gives a token.
//!
//! The first two run under `scripts/with-keyring.sh`. The kill test re-runs itself in a
//! D-Bus session with a keyring daemon of its own (see support/killable_keyring.rs); its
//! number of kills is `TILLKEY_KILL_RUNS` (default 16).

#[path = "providers/common.rs"]
mod common;
#[path = "support/killable_keyring.rs"]
mod keyring;

use common::{Kind, Tk};
use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tillkey_sim::{ProviderSim, SimConfig, Simulator};

const KILL_TEST: &str = "killed_identity_rotations_leave_the_old_set_or_the_new_one_never_a_mix";
const RUNS_ENV: &str = "TILLKEY_KILL_RUNS";

/// A myPOS credential `shop` at a fresh simulator, added and with a cached token.
fn shop(tk: &Tk) -> (Simulator, common::Cred) {
    let sim = common::start(ProviderSim::Mypos, SimConfig::default().with_rate_limit(None));
    let cred = common::register(Kind::Mypos, &sim, "shop");
    tk.add(&cred);
    tk.token("shop");
    (sim, cred)
}

/// The set in force: the client ID of the metadata and the client secret of the keyring.
fn set_of(tk: &Tk) -> (String, Option<String>) {
    let id = tk.record_of("shop")["fields"]["client_id"]
        .as_str()
        .expect("a client_id")
        .to_string();
    (id, tk.keyring("shop", "client_secret"))
}

fn stdin_of(id: &str, secret: &str) -> String {
    format!("client_id={id}\nclient_secret={secret}\n")
}

#[test]
fn a_new_mypos_set_is_rotated_in_one_flow_and_the_old_token_revoked_with_the_old_id() {
    let tk = Tk::new();
    let (sim, cred) = shop(&tk);
    let old_id = cred.field("client_id").unwrap().to_string();
    let old_secret = cred.secret("client_secret").to_string();
    let old_token = sim.last_token(&old_id).expect("a cached token of the old set");

    // `tillkey providers` says which field rotates with the secret.
    let providers = tk.run(&["providers", "--json"], "");
    providers.code(0);
    let mypos = providers.json();
    let client_id = mypos
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "mypos")
        .and_then(|s| s["fields"].as_array())
        .and_then(|f| f.iter().find(|f| f["name"] == "client_id").cloned())
        .unwrap();
    assert_eq!(client_id["rotatesWithSecret"], serde_json::json!(true));

    // The merchant generates a new set in the myPOS Account and pipes it in.
    let (new_id, new_secret) = sim.issue_new_set(&old_id).expect("the portal issues a new set");
    let out = tk.run(&["rotate", "shop"], &stdin_of(&new_id, &new_secret));
    out.code(0);
    assert!(
        out.stdout
            .contains(&format!("Rotated shop to a new set (client_id {new_id})")),
        "{}",
        out.both()
    );
    assert!(
        out.stdout
            .contains(&format!("revoked at the provider with the old client_id {old_id}")),
        "{}",
        out.both()
    );
    assert_eq!(set_of(&tk), (new_id.clone(), Some(new_secret.clone())));

    // At the provider: the new set was tested, the old token revoked by its own client.
    let stats = sim.stats();
    assert_eq!(stats.tokens_issued(&new_id), 1, "the test's token request");
    assert_eq!(stats.revocations(&old_id), 1, "revoked with the old set");
    assert_eq!(stats.revocations(&new_id), 0);
    assert!(
        sim.token_info(&old_token).expect("known").revoked,
        "the old token is revoked"
    );
    assert!(
        tk.keyring("shop", "_access_token").is_none(),
        "no cached token carried over"
    );

    // The credential now works with the new set (a fresh token of the new client), also
    // after the merchant deleted the old set in the portal.
    assert!(sim.remove_client(&old_id));
    let token = tk.token("shop");
    assert_eq!(sim.token_info(&token).expect("issued").client_id, new_id);
    let (out, report) = tk.test_json("shop");
    out.code(0);
    assert_eq!(report["ok"], serde_json::json!(true));
    let shown = tk.run(&["show", "shop", "--json"], "");
    assert_eq!(shown.json()["fields"]["client_id"], serde_json::json!(new_id));

    // No secret in any output or file.
    let everything = format!("{}\n{}", tk.transcript(), tk.files_text());
    for s in [&old_secret, &new_secret] {
        assert!(!everything.contains(s.as_str()), "a secret leaked");
    }
    // (The simulator's new id extends the old one, so look for the old one as a whole value.)
    assert!(
        !tk.files_text().contains(&format!("\"{old_id}\"")),
        "the retired id is not kept"
    );
}

#[test]
fn a_rotation_changes_only_identity_fields_and_a_rejected_set_changes_nothing() {
    let tk = Tk::new();
    let (sim, cred) = shop(&tk);
    let old_id = cred.field("client_id").unwrap().to_string();
    let before = (old_id.clone(), Some(cred.secret("client_secret").to_string()));
    let meta = tk.meta();
    let old_token = sim.last_token(&old_id).unwrap();
    for (stdin, says) in [
        (
            "revoke_url=https://evil.example/revoke\nclient_secret=NEW-SECRET-1\n".to_string(),
            "is a URL",
        ),
        (
            "token_url=https://evil.example/token\nclient_secret=NEW-SECRET-1\n".to_string(),
            "is a URL",
        ),
        (
            "scope=webhooks\nclient_secret=NEW-SECRET-1\n".to_string(),
            "does not change in a rotation",
        ),
        ("client_id=someone-else\n".to_string(), "comes with a new secret"),
        ("client_id=\nclient_secret=NEW-SECRET-1\n".to_string(), "is empty"),
    ] {
        let out = tk.run(&["rotate", "shop"], &stdin);
        out.code(2);
        assert!(out.stderr.contains(says), "{}", out.both());
        assert!(
            !out.stderr.contains("NEW-SECRET-1") && !out.stderr.contains("evil.example"),
            "{}",
            out.both()
        );
        assert_eq!(tk.meta(), meta, "nothing changed");
    }
    assert_eq!(
        sim.stats().token_requests_total(),
        1,
        "nothing was sent for refused input"
    );

    // A new set the provider does not know: the test fails (exit 1), the old set stays.
    let out = tk.run(&["rotate", "shop"], &stdin_of("not-issued", "NEW-SECRET-2"));
    out.code(1);
    assert!(out.stderr.contains("nothing changed"), "{}", out.both());
    assert_eq!(set_of(&tk), before);
    assert_eq!(sim.stats().revocations_total(), 0);
    assert!(
        !sim.token_info(&old_token).unwrap().revoked,
        "the old token still works"
    );
    assert_eq!(tk.token("shop"), old_token, "and is still the cached one");
    let everything = format!("{}\n{}", tk.transcript(), tk.files_text());
    assert!(!everything.contains("NEW-SECRET-2"));
}

/// xorshift64: the kill delays within their slices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn killed_identity_rotations_leave_the_old_set_or_the_new_one_never_a_mix() {
    let runs: usize = std::env::var(RUNS_ENV)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(16);
    if !keyring::inside(keyring::Rerun {
        test: KILL_TEST,
        pass_env: &[RUNS_ENV],
        timeout_secs: 120 + 4 * runs as u64,
        private_mounts: false,
    }) {
        return;
    }
    let mut daemon = keyring::Daemon::start();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut rng = Rng(seed);
    let tk = Tk::new();
    let (sim, _) = shop(&tk);
    let dir = tk.path().to_path_buf();

    // How long an unkilled rotation takes: the kill delays are drawn below a bit more.
    let (id, _) = set_of(&tk);
    let (new_id, new_secret) = sim.issue_new_set(&id).unwrap();
    let started = Instant::now();
    tk.run(&["rotate", "shop"], &stdin_of(&new_id, &new_secret)).code(0);
    let span = started.elapsed();

    let mut killed = 0;
    let mut swapped = 0;
    let mut failures = Vec::new();
    for i in 0..runs {
        daemon.ensure_running();
        let _ = tk.run(&["token", "shop"], "");
        let old = set_of(&tk);
        let (new_id, new_secret) = sim.issue_new_set(&old.0).unwrap();
        // Spread over the whole rotation and a little beyond (stratified: run i falls in
        // the i-th slice), so kills land before the test, around the swap and after the end.
        let slice = span.as_micros() as u64 * 5 / 4 / runs as u64 + 1;
        let delay = Duration::from_micros(slice * i as u64 + rng.next() % slice);
        let mut child = tk
            .command()
            .args(["rotate", "shop"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn tillkey");
        {
            let mut s = child.stdin.take().unwrap();
            let _ = s.write_all(stdin_of(&new_id, &new_secret).as_bytes());
        }
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            // SAFETY: signalling our own child by its pid.
            unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
            killed += 1;
        }
        let _ = child.wait();
        daemon.ensure_running();

        // The old set or the new one, complete: never one's id with the other's secret.
        let now = match keyring::check(&dir) {
            Err(e) => {
                failures.push(format!("run {i}: {e}"));
                continue;
            }
            Ok(c) => {
                let id = tk.record_of("shop")["fields"]["client_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                (id, c.secrets.get("shop").and_then(|s| s.get("client_secret")).cloned())
            }
        };
        let new = (new_id.clone(), Some(new_secret.clone()));
        if now == new {
            swapped += 1;
        } else if now != old {
            failures.push(format!(
                "run {i} (killed after {delay:?}): a mix of sets: id {} with {} secret",
                now.0,
                if now.1 == old.1 {
                    "the old"
                } else if now.1 == new.1 {
                    "the new"
                } else {
                    "no / another"
                }
            ));
        }

        // The next write sweeps what the kill left; then nothing is orphaned.
        tk.run(&["add", "tmp", "--provider", "bearer"], "token=t\n").code(0);
        tk.run(&["remove", "tmp"], "").code(0);
        match keyring::check(&dir) {
            Ok(c) if !c.missing.is_empty() || !c.orphans.is_empty() || c.pending > 0 => failures.push(format!(
                "run {i}: after the next write: missing {:?}, orphans {:?}, {} pending",
                c.missing, c.orphans, c.pending
            )),
            Ok(_) => {}
            Err(e) => failures.push(format!("run {i}: {e}")),
        }
        // Whichever set is in force gives a token of its own client.
        let out = tk.run(&["token", "shop"], "");
        match sim.token_info(out.stdout.trim()) {
            Some(t) if out.code == 0 && t.client_id == now.0 => {}
            _ => failures.push(format!("run {i}: no token of the set in force: {}", out.both())),
        }
    }
    println!("kill -9 of identity rotations: {runs} runs, {killed} killed mid-way, {swapped} swapped; seed {seed}");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(killed > 0, "no run was killed mid-way; the test proved nothing");
    assert!(
        swapped > 0 && swapped < runs,
        "kills both before and after the swap ({swapped} of {runs})"
    );
}
