//! Generic OAuth2 (RFC 6749 client credentials): `client_secret_post` and
//! `client_secret_basic` (§2.3.1 form-encoding), scope, audience, extra request headers,
//! RFC 7009 revocation, and the standard error codes.

use crate::common::*;
use serde_json::json;
use tillkey_sim::SimConfig;

#[test]
fn post_and_basic_both_pass() {
    for kind in [Kind::Oauth2Post, Kind::Oauth2Basic] {
        let s = Setup::new(kind, SimConfig::default());
        let (out, report) = s.tk.test_json("c");
        assert_passing(kind, &out, &report);
        let t = s.tk.token("c");
        let info = s.sim.token_info(&t).unwrap();
        assert_eq!(info.scope.as_deref(), Some(OAUTH2_SCOPE));
        assert_eq!(info.audience.as_deref(), Some(OAUTH2_AUDIENCE));
        assert_eq!(s.token_requests(), 1);
    }
}

/// The simulator's clients accept only the method they are registered for, so a
/// credential set to the other method is refused: the method really is what is sent.
#[test]
fn the_other_client_authentication_method_is_invalid_client() {
    for (kind, other) in [(Kind::Oauth2Post, "basic"), (Kind::Oauth2Basic, "post")] {
        let sim = start(kind.sim(), SimConfig::default());
        let mut cred = register(kind, &sim, "c");
        cred.set_field("auth_method", other);
        let tk = Tk::new();
        tk.add(&cred);
        let hint = ["client ID or client secret is wrong"];
        expect_test_failure(&tk, "c", "token", "invalid_client", Some(401), &hint, 1);
        expect_token_failure(&tk, "c", "invalid_client", &hint, 1);
    }
}

#[test]
fn wrong_secret_is_invalid_client() {
    for kind in [Kind::Oauth2Post, Kind::Oauth2Basic] {
        let s = Setup::new(kind, SimConfig::default());
        assert!(s.sim.set_client_secret(&s.cred.key, "new-secret"));
        expect_test_failure(
            &s.tk,
            "c",
            "token",
            "invalid_client",
            Some(401),
            &["client ID or client secret"],
            1,
        );
    }
}

#[test]
fn scope_not_granted_is_invalid_scope() {
    let sim = start(Kind::Oauth2Basic.sim(), SimConfig::default());
    let mut cred = register(Kind::Oauth2Basic, &sim, "c");
    cred.set_field("scope", "write");
    let tk = Tk::new();
    tk.add(&cred);
    let hint = ["scope is not allowed"];
    expect_test_failure(&tk, "c", "token", "invalid_scope", Some(400), &hint, 1);
    expect_token_failure(&tk, "c", "invalid_scope", &hint, 1);
}

#[test]
fn audience_not_allowed_is_invalid_target() {
    let sim = start(Kind::Oauth2Post.sim(), SimConfig::default());
    let mut cred = register(Kind::Oauth2Post, &sim, "c");
    cred.set_field("audience", "https://elsewhere.test");
    let tk = Tk::new();
    tk.add(&cred);
    expect_test_failure(&tk, "c", "token", "invalid_target", Some(400), &["audience"], 1);
}

/// A server that wants an extra header: without it `invalid_request`; with
/// `extra_headers` the request passes.
#[test]
fn missing_required_header_is_invalid_request_and_extra_headers_fix_it() {
    let sim = start(Kind::Oauth2Post.sim(), SimConfig::default());
    sim.require_token_header("X-Tenant", "shop-42");
    let tk = Tk::new();
    let cred = register(Kind::Oauth2Post, &sim, "c");
    tk.add(&cred);
    let hint = ["missing a parameter or malformed"];
    expect_test_failure(&tk, "c", "token", "invalid_request", Some(400), &hint, 1);
    expect_token_failure(&tk, "c", "invalid_request", &hint, 1);
    let mut fixed = register(Kind::Oauth2Post, &sim, "fixed");
    fixed.set_field("extra_headers", "X-Tenant: shop-42");
    tk.add(&fixed);
    let (out, report) = tk.test_json("fixed");
    assert_passing(Kind::Oauth2Post, &out, &report);
}

/// `unsupported_grant_type` cannot be provoked (Tillkey sends client_credentials, which
/// every client-credentials server supports); a scripted server checks the mapping.
#[test]
fn unsupported_grant_type_from_a_scripted_server() {
    let fake = FakeServer::start(|_, _| {
        (
            400,
            vec![],
            json!({"error": "unsupported_grant_type", "error_description": "client_credentials is disabled"})
                .to_string(),
        )
    });
    let sim = start(Kind::Oauth2Post.sim(), SimConfig::default());
    let mut cred = register(Kind::Oauth2Post, &sim, "c");
    cred.set_field("token_url", fake.url("/token"));
    let tk = Tk::new();
    tk.add(&cred);
    let hint = ["does not accept this grant type"];
    expect_test_failure(&tk, "c", "token", "unsupported_grant_type", Some(400), &hint, 1);
    expect_token_failure(&tk, "c", "unsupported_grant_type", &hint, 1);
}

#[test]
fn revoke_uses_rfc_7009_with_either_client_authentication() {
    for kind in [Kind::Oauth2Post, Kind::Oauth2Basic] {
        let s = Setup::new(kind, SimConfig::default());
        let t1 = s.tk.token("c");
        let out = s.tk.run(&["revoke", "c"], "");
        out.code(0);
        assert!(
            out.stdout.contains("Revoked the cached access token of c"),
            "{kind:?}: {}",
            out.both()
        );
        assert!(
            s.sim.token_info(&t1).unwrap().revoked,
            "{kind:?}: not revoked at the server"
        );
        assert_eq!(s.sim.stats().revocations(&s.cred.key), 1);
        assert_eq!(s.tk.keyring("c", "_access_token"), None);
        let t2 = s.tk.token("c");
        assert_ne!(t1, t2);
        assert_eq!(s.token_requests(), 2);
    }
}

#[test]
fn without_a_revoke_url_revoke_discards_the_local_copy() {
    let sim = start(Kind::Oauth2Post.sim(), SimConfig::default());
    let mut cred = register(Kind::Oauth2Post, &sim, "c");
    cred.remove_field("revoke_url");
    let tk = Tk::new();
    tk.add(&cred);
    let t1 = tk.token("c");
    let out = tk.run(&["revoke", "c"], "");
    out.code(0);
    assert!(out.stdout.contains("no revocation endpoint"), "{}", out.both());
    assert!(!sim.token_info(&t1).unwrap().revoked);
    assert_eq!(sim.stats().revocations_total(), 0);
    assert_ne!(tk.token("c"), t1);
}
