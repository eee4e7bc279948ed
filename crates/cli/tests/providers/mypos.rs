//! myPOS: client credentials with HTTP Basic (`id:secret`, colon as the examples do),
//! `scope=webhooks`, revocation, and rotation that retires the old secret's token.

use crate::common::*;
use serde_json::json;
use tillkey_sim::SimConfig;

const KIND: Kind = Kind::Mypos;

#[test]
fn test_passes_with_every_stage() {
    let s = Setup::new(KIND, SimConfig::default());
    let (out, report) = s.tk.test_json("c");
    assert_passing(KIND, &out, &report);
    assert_eq!(report["stages"][1]["target"], "127.0.0.1/oauth/token");
    assert_eq!(s.token_requests(), 1);
    assert_eq!(s.api_calls(), 1);
}

#[test]
fn webhooks_scope_is_requested_and_granted() {
    let sim = start(KIND.sim(), SimConfig::default());
    let mut cred = register(KIND, &sim, "c");
    cred.set_field("scope", "webhooks");
    let tk = Tk::new();
    tk.add(&cred);
    let t = tk.token("c");
    assert_eq!(sim.token_info(&t).unwrap().scope.as_deref(), Some("webhooks"));
    assert_eq!(tk.record_of("c")["token"]["scope"], "webhooks");
}

#[test]
fn request_shape_is_basic_with_a_colon_and_a_form_body() {
    let fake = FakeServer::start(|_, _| {
        (
            200,
            vec![],
            json!({"access_token": "fake-token-1", "token_type": "Bearer", "expires_in": 3600}).to_string(),
        )
    });
    let sim = start(KIND.sim(), SimConfig::default());
    let mut cred = register(KIND, &sim, "c");
    cred.set_field("token_url", fake.url("/oauth/token"));
    let tk = Tk::new();
    tk.add(&cred);
    assert_eq!(tk.token("c"), "fake-token-1");
    let r = &fake.requests()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/oauth/token");
    assert_eq!(r.header("content-type"), Some("application/x-www-form-urlencoded"));
    use base64::Engine as _;
    let expected =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", cred.key, cred.secret("client_secret")));
    assert_eq!(r.header("authorization"), Some(format!("Basic {expected}").as_str()));
    assert_eq!(r.body, "grant_type=client_credentials", "no secret in the body");
}

#[test]
fn wrong_secret_is_invalid_client() {
    let s = Setup::new(KIND, SimConfig::default());
    assert!(s.sim.set_client_secret(&s.cred.key, "rotated-in-the-portal"));
    let hint = ["myPOS Account", "oAuth Credentials"];
    expect_test_failure(&s.tk, "c", "token", "invalid_client", Some(401), &hint, 1);
    expect_token_failure(&s.tk, "c", "invalid_client", &hint, 1);
}

#[test]
fn blocked_client_is_invalid_client() {
    let s = Setup::new(KIND, SimConfig::default());
    assert!(s.sim.set_client_blocked(&s.cred.key, true));
    expect_token_failure(&s.tk, "c", "invalid_client", &["myPOS Account"], 1);
}

#[test]
fn scope_not_granted_is_invalid_scope() {
    let sim = start(KIND.sim(), SimConfig::default());
    let mut cred = register(KIND, &sim, "c");
    cred.set_field("scope", "payments");
    let tk = Tk::new();
    tk.add(&cred);
    expect_test_failure(&tk, "c", "token", "invalid_scope", Some(400), &["scope"], 1);
}

#[test]
fn revoke_revokes_at_mypos_and_the_next_token_is_new() {
    let s = Setup::new(KIND, SimConfig::default());
    let out = s.tk.run(&["revoke", "c"], "");
    out.code(0);
    assert!(out.stdout.contains("nothing to revoke"), "{}", out.both());
    assert_eq!(s.sim.stats().revocations(&s.cred.key), 0);
    let t1 = s.tk.token("c");
    let out = s.tk.run(&["revoke", "c"], "");
    out.code(0);
    assert!(
        out.stdout.contains("Revoked the cached access token of c"),
        "{}",
        out.both()
    );
    assert!(s.sim.token_info(&t1).unwrap().revoked, "not revoked at the provider");
    assert_eq!(s.sim.stats().revocations(&s.cred.key), 1);
    assert!(s.tk.record_of("c")["token"].is_null());
    assert_eq!(s.tk.keyring("c", "_access_token"), None);
    let t2 = s.tk.token("c");
    assert_ne!(t1, t2);
    assert_eq!(s.token_requests(), 2);
    assert_eq!(s.sim.active_tokens(&s.cred.key), 1);
}

#[test]
fn rotate_with_a_wrong_new_secret_changes_nothing() {
    let s = Setup::new(KIND, SimConfig::default());
    let t1 = s.tk.token("c");
    let before = s.tk.meta();
    let out = s.tk.run(&["rotate", "c"], "client_secret=not-the-new-secret\n");
    out.code(1);
    assert!(
        out.stderr.contains("nothing changed, the old secret is still in use"),
        "{}",
        out.both()
    );
    assert!(out.stdout.contains("[invalid_client]"), "{}", out.both());
    let after = s.tk.meta();
    assert_eq!(after["credentials"], before["credentials"], "the credential changed");
    assert_eq!(after["pending_cleanup"], json!([]), "staged secrets left behind");
    assert_eq!(
        s.tk.keyring("c", "client_secret").as_deref(),
        Some(s.cred.secret("client_secret"))
    );
    assert!(!s.sim.token_info(&t1).unwrap().revoked);
    // The old secret and its cached token still work.
    assert_eq!(s.tk.token("c"), t1);
    let (out, report) = s.tk.test_json("c");
    assert_passing(KIND, &out, &report);
}

#[test]
fn rotate_with_the_right_new_secret_swaps_it_in_and_revokes_the_old_token() {
    let s = Setup::new(KIND, SimConfig::default());
    let t1 = s.tk.token("c");
    let new_secret = "SECRET-mypos-c-rotated-Vb81";
    // The merchant made a new secret in the myPOS Account; the old one stopped working.
    assert!(s.sim.set_client_secret(&s.cred.key, new_secret));
    let out = s.tk.run(&["rotate", "c"], &format!("client_secret={new_secret}\n"));
    out.code(0);
    assert!(out.stdout.contains("Rotated c"), "{}", out.both());
    assert!(
        out.stdout.contains("old secret's cached token was revoked"),
        "{}",
        out.both()
    );
    assert!(!out.stderr.contains("warning"), "{}", out.both());
    assert!(
        s.sim.token_info(&t1).unwrap().revoked,
        "the old secret's token is still valid at myPOS"
    );
    assert_eq!(s.sim.stats().revocations(&s.cred.key), 1);
    assert_eq!(s.tk.keyring("c", "client_secret").as_deref(), Some(new_secret));
    let rec = s.tk.record_of("c");
    assert_eq!(rec["secret_rev"], 2);
    assert_eq!(rec["last_test"]["ok"], true);
    assert_eq!(s.tk.meta()["pending_cleanup"], json!([]));
    // The new secret is in use: a new token, accepted by the API.
    let t3 = s.tk.token("c");
    assert_ne!(t3, t1);
    assert_eq!(Some(t3), s.sim.last_token(&s.cred.key));
    let (out, report) = s.tk.test_json("c");
    assert_passing(KIND, &out, &report);
}
