//! Paysera Checkout: client credentials in the form body; `invalid_client`,
//! `invalid_scope`; no revocation endpoint (the portal retires secrets).

use crate::common::*;
use tillkey_sim::SimConfig;

const KIND: Kind = Kind::PayseraCheckout;

#[test]
fn test_passes_with_every_stage() {
    let s = Setup::new(KIND, SimConfig::default());
    let (out, report) = s.tk.test_json("c");
    assert_passing(KIND, &out, &report);
    assert_eq!(
        report["stages"][1]["target"],
        "127.0.0.1/auth/realms/Paysera/protocol/openid-connect/token"
    );
    // 3600 s, less the fraction of a second a JWT `exp` (whole seconds) rounds away.
    let msg = report["stages"][1]["message"].as_str().unwrap();
    assert!(
        ["token issued, valid for 60 min", "token issued, valid for 59 min"].contains(&msg),
        "{msg}"
    );
    assert_eq!(
        report["stages"][2]["target"],
        "127.0.0.1/checkout-project/integration/v1/methods"
    );
    assert_eq!(s.token_requests(), 1);
    assert_eq!(s.api_calls(), 1);
    // The test's token is cached: `token` asks nobody.
    assert_eq!(Some(s.tk.token("c")), s.sim.last_token(&s.cred.key));
    assert_eq!(s.token_requests(), 1);
    let human = s.tk.run(&["test", "c"], "");
    human.code(0);
    assert!(
        human.stdout.contains("PASS") && human.stdout.contains("rate limit: limit 50"),
        "{}",
        human.both()
    );
}

#[test]
fn wrong_secret_is_invalid_client() {
    let s = Setup::new(KIND, SimConfig::default());
    assert!(s.sim.set_client_secret(&s.cred.key, "rotated-in-the-portal"));
    let hint = ["client ID or secret is wrong", "Paysera project"];
    expect_test_failure(&s.tk, "c", "token", "invalid_client", Some(401), &hint, 1);
    expect_token_failure(&s.tk, "c", "invalid_client", &hint, 1);
    assert_eq!(s.api_calls(), 0, "no API call without a token");
}

#[test]
fn unknown_client_is_invalid_client() {
    let sim = start(KIND.sim(), SimConfig::default());
    let mut cred = register(KIND, &sim, "c");
    cred.set_field("client_id", "no-such-client");
    let tk = Tk::new();
    tk.add(&cred);
    expect_test_failure(&tk, "c", "token", "invalid_client", Some(401), &["Paysera project"], 1);
}

#[test]
fn scope_not_granted_is_invalid_scope() {
    let sim = start(KIND.sim(), SimConfig::default());
    let mut cred = register(KIND, &sim, "c");
    cred.set_field("scope", "admin");
    let tk = Tk::new();
    tk.add(&cred);
    expect_test_failure(&tk, "c", "token", "invalid_scope", Some(400), &["scope"], 1);
    expect_token_failure(&tk, "c", "invalid_scope", &["scope"], 1);
}

#[test]
fn revoke_without_an_endpoint_discards_the_token_and_shows_the_portal_step() {
    let s = Setup::new(KIND, SimConfig::default());
    let t1 = s.tk.token("c");
    let out = s.tk.run(&["revoke", "c"], "");
    out.code(0);
    assert!(out.stdout.contains("no revocation endpoint"), "{}", out.both());
    assert!(out.stdout.contains("Paysera project"), "{}", out.both());
    assert!(s.tk.record_of("c")["token"].is_null());
    let t2 = s.tk.token("c");
    assert_ne!(t1, t2);
    assert_eq!(s.token_requests(), 2);
}
