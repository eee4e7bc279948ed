//! Generic static bearer token: passed as it is, tested against `test_url`, never
//! refreshed (a rejected one is not retried), optional expiry.

use crate::common::*;
use tillkey_sim::SimConfig;

const KIND: Kind = Kind::Bearer;

#[test]
fn test_passes_and_token_is_the_static_one() {
    let s = Setup::new(KIND, SimConfig::default());
    let (out, report) = s.tk.test_json("c");
    assert_passing(KIND, &out, &report);
    assert_eq!(s.api_calls(), 1);
    assert_eq!(s.tk.token("c"), s.cred.secret("token"));
    assert_eq!(s.sim.stats().token_requests_total(), 0);
    assert_eq!(s.sim.stats().hits_total(), 1);
}

#[test]
fn revoked_token_is_invalid_token_and_not_retried() {
    let s = Setup::new(KIND, SimConfig::default());
    assert!(s.sim.revoke_token(s.cred.secret("token")));
    expect_test_failure(
        &s.tk,
        "c",
        "api",
        "invalid_token",
        Some(401),
        &["cannot be refreshed", "tillkey rotate"],
        1,
    );
    assert_eq!(s.api_calls(), 2, "one call per run: a static token is not re-fetched");
    assert_eq!(s.sim.stats().token_requests_total(), 0);
}

#[test]
fn past_expiry_is_refused_by_token() {
    let sim = start(KIND.sim(), SimConfig::default());
    let mut cred = register(KIND, &sim, "c");
    cred.set_field("expires_at", "2020-01-31T00:00:00Z");
    let tk = Tk::new();
    tk.add(&cred);
    let out = expect_token_failure(
        &tk,
        "c",
        "token_expired",
        &["cannot be refreshed", "tillkey rotate c"],
        1,
    );
    assert!(out.stderr.contains("2020-01-31"), "{}", out.both());
    tk.run(&["exec", "c", "--", "true"], "").code(1);
}

#[test]
fn without_test_url_the_test_says_what_to_set() {
    let sim = start(KIND.sim(), SimConfig::default());
    let mut cred = register(KIND, &sim, "c");
    cred.remove_field("test_url");
    let tk = Tk::new();
    tk.add(&cred);
    expect_test_failure(&tk, "c", "api", "no_test_url", None, &["test_url"], 1);
    assert_eq!(sim.stats().hits_total(), 0);
}
