//! Chimpy: the password grant with a JSON body, `audience`, refresh tokens with
//! `offline_access` (rotation, fallback to the password grant once), and its errors.

use crate::common::*;
use serde_json::json;
use std::time::Duration;
use tillkey_sim::SimConfig;

/// Access tokens live 1 s, so two renewals fit in ~2 s of sleeping.
fn short() -> SimConfig {
    SimConfig::default().with_token_lifetime(Duration::from_secs(1))
}

fn past_renewal() {
    std::thread::sleep(Duration::from_millis(1100));
}

#[test]
fn test_passes_with_and_without_offline_access() {
    for kind in [Kind::Chimpy, Kind::ChimpyOffline] {
        let s = Setup::new(kind, SimConfig::default());
        let (out, report) = s.tk.test_json("c");
        assert_passing(kind, &out, &report);
        let msg = report["stages"][1]["message"].as_str().unwrap();
        assert_eq!(
            msg.ends_with(", with a refresh token"),
            kind == Kind::ChimpyOffline,
            "{report:#}"
        );
        assert_eq!(s.sim.stats().password_grants(&s.cred.key), 1);
        assert_eq!(s.tk.record_of("c")["token"]["refreshable"], kind == Kind::ChimpyOffline);
    }
}

#[test]
fn refresh_grant_replaces_the_rotated_refresh_token() {
    let s = Setup::new(Kind::ChimpyOffline, short());
    let key = &s.cred.key;
    s.tk.token("c");
    let r1 = s.sim.refresh_tokens(key);
    assert_eq!(r1.len(), 1, "offline_access gives one refresh token");
    assert_eq!(
        s.tk.keyring("c", "_refresh_token"),
        Some(r1[0].clone()),
        "the refresh token is kept in the keyring"
    );
    assert!(!s.tk.files_text().contains(&r1[0]));
    past_renewal();
    let t2 = s.tk.token("c");
    let st = s.sim.stats();
    assert_eq!(
        (st.password_grants(key), st.refresh_grants(key)),
        (1, 1),
        "renewed with the refresh token"
    );
    assert_eq!(Some(t2), s.sim.last_token(key));
    let r2 = s.sim.refresh_tokens(key);
    assert_eq!(r2.len(), 1);
    assert_ne!(r2, r1, "the simulator rotates refresh tokens");
    assert_eq!(
        s.tk.keyring("c", "_refresh_token"),
        Some(r2[0].clone()),
        "the rotated refresh token replaced the stored one"
    );
    // A second renewal works with the new refresh token (the old one is burnt: using it
    // would fail and fall back to the password grant).
    past_renewal();
    s.tk.token("c");
    let st = s.sim.stats();
    assert_eq!((st.password_grants(key), st.refresh_grants(key)), (1, 2));
    assert_eq!(st.token_requests(key), 3);
    assert_eq!(
        s.tk.keyring("c", "_refresh_token"),
        Some(s.sim.refresh_tokens(key)[0].clone())
    );
}

#[test]
fn revoked_refresh_token_falls_back_to_the_password_grant_once() {
    let s = Setup::new(Kind::ChimpyOffline, short());
    let key = &s.cred.key;
    let t1 = s.tk.token("c");
    let r1 = s.sim.refresh_tokens(key).pop().unwrap();
    assert!(s.sim.revoke_token(&r1));
    past_renewal();
    let t2 = s.tk.token("c");
    assert_ne!(t1, t2);
    let st = s.sim.stats();
    assert_eq!(st.refresh_grants(key), 1, "the refresh token was tried once");
    assert_eq!(st.password_grants(key), 2, "then the password grant, once");
    assert_eq!(st.token_requests(key), 3);
    assert_eq!(Some(t2), s.sim.last_token(key));
    // The password grant's new refresh token is stored and used next time.
    let r2 = s.sim.refresh_tokens(key);
    assert_eq!(r2.len(), 1);
    assert_eq!(s.tk.keyring("c", "_refresh_token"), Some(r2[0].clone()));
    past_renewal();
    s.tk.token("c");
    let st = s.sim.stats();
    assert_eq!((st.password_grants(key), st.refresh_grants(key)), (2, 2));
}

#[test]
fn refresh_fallback_with_a_wrong_password_fails_once_without_looping() {
    let s = Setup::new(Kind::ChimpyOffline, short());
    let key = &s.cred.key;
    s.tk.token("c");
    s.sim.revoke_user_refresh_tokens(s.cred.field("username").unwrap());
    assert!(s
        .sim
        .set_user_password(s.cred.field("username").unwrap(), "changed-by-admin"));
    past_renewal();
    expect_token_failure(&s.tk, "c", "invalid_grant", &["user name or password"], 1);
    let st = s.sim.stats();
    assert_eq!((st.password_grants(key), st.refresh_grants(key)), (2, 1));
}

#[test]
fn without_offline_access_there_is_no_refresh() {
    let s = Setup::new(Kind::Chimpy, short());
    let key = &s.cred.key;
    let t1 = s.tk.token("c");
    assert!(s.sim.refresh_tokens(key).is_empty());
    assert_eq!(s.tk.keyring("c", "_refresh_token"), None);
    assert_eq!(s.tk.record_of("c")["token"]["refreshable"], false);
    past_renewal();
    let t2 = s.tk.token("c");
    assert_ne!(t1, t2);
    let st = s.sim.stats();
    assert_eq!((st.password_grants(key), st.refresh_grants(key)), (2, 0));
}

#[test]
fn wrong_password_is_invalid_grant() {
    let sim = start(Kind::Chimpy.sim(), SimConfig::default());
    let mut cred = register(Kind::Chimpy, &sim, "c");
    cred.set_secret("password", "not-the-password");
    let tk = Tk::new();
    tk.add(&cred);
    let hint = ["user name or password", "Chimpy onboarding"];
    let report = expect_test_failure(&tk, "c", "token", "invalid_grant", Some(400), &hint, 1);
    assert!(
        failing_stage(&report)["message"]
            .as_str()
            .unwrap()
            .contains("Wrong email or password."),
        "{report:#}"
    );
    expect_token_failure(&tk, "c", "invalid_grant", &hint, 1);
}

#[test]
fn unknown_client_is_invalid_client() {
    let sim = start(Kind::Chimpy.sim(), SimConfig::default());
    let mut cred = register(Kind::Chimpy, &sim, "c");
    cred.set_field("client_id", "no-such-client");
    let tk = Tk::new();
    tk.add(&cred);
    expect_test_failure(
        &tk,
        "c",
        "token",
        "invalid_client",
        Some(401),
        &["client ID or client secret"],
        1,
    );
    expect_token_failure(&tk, "c", "invalid_client", &["client ID"], 1);
}

#[test]
fn audience_not_allowed_is_access_denied() {
    let sim = start(Kind::Chimpy.sim(), SimConfig::default());
    let mut cred = register(Kind::Chimpy, &sim, "c");
    cred.set_field("audience", "https://other-api.test");
    let tk = Tk::new();
    tk.add(&cred);
    expect_test_failure(&tk, "c", "token", "access_denied", Some(403), &["permission"], 1);
}

#[test]
fn password_and_refresh_requests_are_json_with_client_id_and_audience() {
    let fake = FakeServer::start(|n, _| {
        (200, vec![], json!({"access_token": format!("fake-{n}"), "refresh_token": format!("rt-{n}"), "expires_in": 1, "token_type": "Bearer"}).to_string())
    });
    let sim = start(Kind::ChimpyOffline.sim(), SimConfig::default());
    let mut cred = register(Kind::ChimpyOffline, &sim, "c");
    cred.set_field("token_url", fake.url("/oauth/token"));
    let tk = Tk::new();
    tk.add(&cred);
    assert_eq!(tk.token("c"), "fake-0");
    past_renewal();
    assert_eq!(tk.token("c"), "fake-1");
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert_eq!(r.path, "/oauth/token");
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
    let body = |i: usize| serde_json::from_str::<serde_json::Value>(&reqs[i].body).unwrap();
    assert_eq!(
        body(0),
        json!({"grant_type": "password", "client_id": cred.key, "audience": AUDIENCE, "username": cred.field("username").unwrap(),
               "password": cred.secret("password"), "scope": "offline_access"})
    );
    assert_eq!(
        body(1),
        json!({"grant_type": "refresh_token", "client_id": cred.key, "audience": AUDIENCE, "refresh_token": "rt-0"})
    );
    assert_eq!(tk.keyring("c", "_refresh_token").as_deref(), Some("rt-1"));
}
