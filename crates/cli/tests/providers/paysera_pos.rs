//! Paysera POS: a personal access token, `Accept: application/json`, the documented check
//! `GET {api_base}/orders?page=1&per_page=1`, AUTH001-003, and no refresh: a revoked PAT
//! is reported with the portal steps to make a new one.

use crate::common::*;
use serde_json::json;
use std::time::{Duration, Instant};
use tillkey_sim::{PatConfig, SimConfig};

const KIND: Kind = Kind::PayseraPos;
const PORTAL: [&str; 3] = ["pos.paysera.com", "/user/settings", "Generate New Token"];

#[test]
fn test_passes_on_the_documented_endpoint_with_accept_json() {
    let s = Setup::new(KIND, SimConfig::default());
    let (out, report) = s.tk.test_json("c");
    assert_passing(KIND, &out, &report);
    assert_eq!(report["provider"], "paysera-pos");
    let api = &report["stages"][1];
    assert_eq!(
        api["target"], "127.0.0.1/eapi/v1/orders",
        "derived from api_base: {report:#}"
    );
    let st = s.sim.stats();
    assert_eq!(st.hits("/eapi/v1/orders"), 1);
    assert_eq!(st.api_calls(&s.cred.key), 1);
    assert_eq!(st.missing_accept_json(), 0, "Accept: application/json was not sent");
    // The test result is kept in the metadata.
    let last = &s.tk.record_of("c")["last_test"];
    assert_eq!(last["ok"], true);
    // `token` prints the PAT itself, without asking anyone.
    assert_eq!(s.tk.token("c"), s.cred.secret("token"));
    assert_eq!(s.sim.stats().hits_total(), 1);
}

#[test]
fn pasted_token_is_trimmed() {
    let sim = start(KIND.sim(), SimConfig::default());
    let mut cred = register(KIND, &sim, "c");
    let pat = cred.secret("token").to_string();
    cred.set_secret("token", format!("  {pat} \t\r"));
    let tk = Tk::new();
    tk.add(&cred);
    assert_eq!(tk.keyring("c", "token").as_deref(), Some(pat.as_str()));
    let (out, report) = tk.test_json("c");
    assert_passing(KIND, &out, &report);
}

#[test]
fn revoked_pat_gives_the_portal_steps_to_make_a_new_one() {
    let s = Setup::new(KIND, SimConfig::default());
    assert!(s.sim.revoke_token(s.cred.secret("token")));
    let mut hint = vec!["cannot be refreshed", "tillkey rotate"];
    hint.extend(PORTAL);
    expect_test_failure(&s.tk, "c", "api", "AUTH002", Some(401), &hint, 1);
    // A PAT is never "re-authenticated": one call per test run.
    assert_eq!(s.api_calls(), 2);
    assert_eq!(s.sim.stats().missing_accept_json(), 0);
    assert_eq!(s.tk.record_of("c")["last_test"]["ok"], false);
}

#[test]
fn expired_and_unknown_pats_are_auth002() {
    let sim = start(KIND.sim(), SimConfig::default());
    sim.add_pat_with(PatConfig {
        name: "old".into(),
        token: "PAT-expired-0123456789".into(),
        permitted: true,
        expires_at: Some(sim.now_unix() - 10),
    });
    let tk = Tk::new();
    for (name, token) in [
        ("expired", "PAT-expired-0123456789"),
        ("unknown", "PAT-never-issued-0123456789"),
    ] {
        let mut cred = register(KIND, &sim, name);
        cred.set_secret("token", token);
        tk.add(&cred);
        expect_test_failure(&tk, name, "api", "AUTH002", Some(401), &PORTAL, 1);
    }
}

#[test]
fn auth003_is_reported_as_permission_missing_and_not_retried() {
    let sim = start(KIND.sim(), SimConfig::default());
    let cred = register(KIND, &sim, "c");
    sim.add_pat_with(PatConfig {
        name: cred.key.clone(),
        token: cred.secret("token").into(),
        permitted: false,
        expires_at: None,
    });
    let tk = Tk::new();
    tk.add(&cred);
    let report = expect_test_failure(
        &tk,
        "c",
        "api",
        "AUTH003",
        Some(403),
        &["permission", "POS administrator"],
        1,
    );
    let msg = failing_stage(&report)["message"].as_str().unwrap().to_string();
    assert!(
        msg.starts_with("the credential works, but permission is missing"),
        "{msg}"
    );
    assert_eq!(
        sim.stats().api_calls(&cred.key),
        2,
        "one call per run: a 403 is not retried"
    );
}

/// AUTH001 (no Authorization header) cannot happen with Tillkey, which always sends one;
/// a proxy that strips it can. A scripted server stands in for that proxy.
#[test]
fn auth001_from_a_proxy_that_strips_the_header() {
    let api = FakeServer::start(|_, _| {
        (401, vec![], json!({"error": "unauthorized", "error_description": "Missing authorization header", "error_code": "AUTH001"}).to_string())
    });
    let sim = start(KIND.sim(), SimConfig::default());
    let mut cred = register(KIND, &sim, "c");
    cred.set_field("api_base", api.url("/eapi/v1"));
    let tk = Tk::new();
    tk.add(&cred);
    expect_test_failure(
        &tk,
        "c",
        "api",
        "AUTH001",
        Some(401),
        &["No Authorization header", "proxy"],
        1,
    );
    let reqs = api.requests();
    assert_eq!(reqs.len(), 2, "one call per run");
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(reqs[0].path, "/eapi/v1/orders?page=1&per_page=1");
    assert_eq!(reqs[0].header("accept"), Some("application/json"));
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("Bearer {}", cred.secret("token")).as_str())
    );
}

#[test]
fn rate_limit_exit_5_then_wait_succeeds() {
    let s = Setup::new(
        KIND,
        SimConfig::default()
            .with_rate_limit(Some(1))
            .with_rate_window(Duration::from_secs(2)),
    );
    let (out, report) = s.tk.test_json("c");
    assert_passing(KIND, &out, &report);
    assert_eq!(
        report["stages"][1]["rateLimit"],
        json!({"limit": 1, "remaining": 0, "resetSecs": 2, "retryAfterSecs": null})
    );
    // Use up a fresh window right before each run, so the run lands inside it.
    let pat = format!("Bearer {}", s.cred.secret("token"));
    let use_up_window = || {
        s.sim.reset_rate_limits();
        assert_eq!(
            http_get(
                &s.sim.test_url(),
                &[("Authorization", &pat), ("Accept", "application/json")]
            ),
            200
        );
    };
    use_up_window();
    let (out, report) = s.tk.test_json("c");
    out.code(5);
    assert!(!out.stderr.contains("waiting"), "{}", out.both());
    let st = failing_stage(&report);
    assert_eq!(st["stage"], "api", "{report:#}");
    assert_eq!(st["code"], "rate_limited", "{report:#}");
    assert_eq!(st["status"], 429, "{report:#}");
    let wait = st["rateLimit"]["retryAfterSecs"].as_u64().unwrap();
    assert!((1..=2).contains(&wait), "{report:#}");
    assert_eq!(st["rateLimit"]["resetSecs"], wait, "{report:#}");
    assert!(
        st["hint"].as_str().unwrap().contains(&format!("Wait {wait} s")),
        "{report:#}"
    );
    assert_eq!(
        s.sim.stats().rate_limited(&s.cred.key),
        1,
        "one request, no retry without --wait"
    );
    use_up_window();
    let started = Instant::now();
    let out = s.tk.run(&["test", "c", "--json", "--wait"], "");
    out.code(0);
    assert!(started.elapsed() >= Duration::from_millis(500), "it did not wait");
    assert!(out.stderr.contains("c: rate limited; waiting"), "{}", out.both());
    assert_eq!(out.json()["ok"], true);
    assert_eq!(s.sim.stats().rate_limited(&s.cred.key), 2);
    assert_eq!(
        s.api_calls(),
        6,
        "3 runs + 2 by the test itself + 1 retry after the wait"
    );
    assert_eq!(s.sim.stats().missing_accept_json(), 0);
}

#[test]
fn rotate_tests_the_new_pat_before_swapping_it_in() {
    let s = Setup::new(KIND, SimConfig::default());
    // A wrong new token: refused, nothing changed.
    let out = s.tk.run(&["rotate", "c"], "token=PAT-not-issued-anywhere-000\n");
    out.code(1);
    assert!(out.stderr.contains("nothing changed"), "{}", out.both());
    assert!(out.stdout.contains("[AUTH002]"), "{}", out.both());
    assert_eq!(s.tk.keyring("c", "token").as_deref(), Some(s.cred.secret("token")));
    assert_eq!(s.tk.record_of("c")["secret_rev"], 1);
    // A new PAT made in the portal: tested, swapped in, and the old one's retirement
    // shown (only the portal can revoke a PAT).
    let new_pat = "PAT-c-rotated-00112233445566778899aabbccdd";
    s.sim.add_pat_with(PatConfig {
        name: "pat-new".into(),
        token: new_pat.into(),
        permitted: true,
        expires_at: None,
    });
    let out = s.tk.run(&["rotate", "c"], &format!("token={new_pat}\n"));
    out.code(0);
    assert!(out.stdout.contains("Rotated c"), "{}", out.both());
    assert!(
        out.stdout.contains("Retire the old secret:") && out.stdout.contains("/user/settings"),
        "{}",
        out.both()
    );
    assert_eq!(s.tk.keyring("c", "token").as_deref(), Some(new_pat));
    assert_eq!(s.tk.record_of("c")["secret_rev"], 2);
    let before = s.sim.stats().api_calls("pat-new");
    let (out, report) = s.tk.test_json("c");
    assert_passing(KIND, &out, &report);
    assert_eq!(s.sim.stats().api_calls("pat-new"), before + 1, "the new PAT is in use");
}
