//! Token engine rules, for every kind with a token endpoint: caching across CLI runs,
//! renewal after expiry, one token request for ten parallel runs, the 401 → re-auth →
//! retry-once rule, and 429 handling (fail fast with the wait, or `--wait`).

use crate::common::*;
use serde_json::json;
use std::time::{Duration, Instant};
use tillkey_sim::SimConfig;

/// Two `tillkey token` runs: one token request, the same token, cached in the keyring
/// with its expiry and the 300 s buffer applied once.
fn token_is_cached_across_runs(kind: Kind) {
    let s = Setup::new(kind, SimConfig::default());
    let t1 = s.tk.token("c");
    let t2 = s.tk.token("c");
    assert_eq!(t1, t2);
    assert_eq!(
        Some(t1.clone()),
        s.sim.last_token(&s.cred.key),
        "the token is the one the provider issued"
    );
    assert_eq!(s.token_requests(), 1, "exactly one token request for two runs");
    assert_eq!(s.api_calls(), 0);
    // Cached in the keyring, never in the metadata file.
    assert_eq!(s.tk.keyring("c", "_access_token").as_deref(), Some(t1.as_str()));
    assert!(!s.tk.files_text().contains(&t1));
    let info = &s.tk.record_of("c")["token"];
    let at = |k: &str| chrono::DateTime::parse_from_rfc3339(info[k].as_str().unwrap()).unwrap();
    let lifetime = (at("expiresAt") - at("obtainedAt")).num_milliseconds();
    assert!(
        (3_598_000..=3_600_000).contains(&lifetime),
        "expires_in 3600 s (a JWT exp rounds down): {info:#}"
    );
    assert_eq!(
        (at("expiresAt") - at("renewAt")).num_seconds(),
        300,
        "300 s buffer, once: {info:#}"
    );
}

/// A token past its renewal time is replaced by a new one on the next run.
fn expired_token_is_renewed(kind: Kind) {
    let s = Setup::new(kind, SimConfig::default().with_token_lifetime(Duration::from_secs(1)));
    let t1 = s.tk.token("c");
    let info = &s.tk.record_of("c")["token"];
    let at = |k: &str| chrono::DateTime::parse_from_rfc3339(info[k].as_str().unwrap()).unwrap();
    let buffer = (at("expiresAt") - at("renewAt")).num_milliseconds();
    assert!(
        (0..=100).contains(&buffer),
        "at most a tenth of a 1 s lifetime, not 300 s: {info:#}"
    );
    std::thread::sleep(Duration::from_millis(1100));
    let t2 = s.tk.token("c");
    assert_ne!(t1, t2, "the expired token was handed out again");
    assert_eq!(Some(t2), s.sim.last_token(&s.cred.key));
    assert_eq!(s.token_requests(), 2);
}

/// Ten `tillkey token` processes at once make one token request and print one token.
fn ten_parallel_runs_make_one_token_request(kind: Kind) {
    let s = Setup::new(kind, SimConfig::default());
    let outs = run_parallel(&s.tk, &["token", "c"], 10);
    for o in &outs {
        o.code(0);
    }
    let first = outs[0].stdout.trim().to_string();
    assert!(!first.is_empty());
    assert!(
        outs.iter().all(|o| o.stdout.trim() == first),
        "every run printed the same token"
    );
    assert_eq!(Some(first), s.sim.last_token(&s.cred.key));
    assert_eq!(s.token_requests(), 1, "single flight across processes");
}

/// A cached token revoked at the provider: `tillkey test` authenticates afresh (so a
/// revoked secret cannot hide behind a cache), succeeds with one token request and one
/// API call, and the new token replaces the revoked one in the cache.
fn test_after_server_side_revocation_replaces_the_token(kind: Kind) {
    let s = Setup::new(kind, SimConfig::default());
    let t1 = s.tk.token("c");
    assert!(s.sim.revoke_token(&t1));
    let (tr, api) = (s.token_requests(), s.api_calls());
    let (out, report) = s.tk.test_json("c");
    assert_passing(kind, &out, &report);
    assert_eq!(s.token_requests(), tr + 1);
    assert_eq!(s.api_calls(), api + 1);
    let t2 = s.tk.token("c");
    assert_ne!(t1, t2, "the revoked token is still cached");
    assert_eq!(Some(t2), s.sim.last_token(&s.cred.key));
    assert_eq!(s.token_requests(), tr + 1, "the token the test obtained was cached");
}

/// Every token is dead on arrival (lifetime 0): the API rejects it, Tillkey
/// re-authenticates once and retries once, then reports the failure. Never a loop.
fn rejected_token_is_retried_once_never_looped(kind: Kind) {
    let s = Setup::new(kind, SimConfig::default().with_token_lifetime(Duration::ZERO));
    let (out, report) = s.tk.test_json("c");
    out.code(1);
    let st = failing_stage(&report);
    assert_eq!(st["stage"], "api", "{report:#}");
    assert_eq!(st["code"], "invalid_token", "{report:#}");
    assert_eq!(st["status"], 401, "{report:#}");
    assert!(
        st["message"]
            .as_str()
            .unwrap()
            .contains("re-authenticated and retried once"),
        "{report:#}"
    );
    assert!(
        st["hint"].as_str().unwrap().contains("fetches a new one once"),
        "{report:#}"
    );
    assert_eq!(s.token_requests(), 2, "token stage + one re-authentication");
    assert_eq!(s.api_calls(), 2, "first call + one retry");
}

/// An API that rejects the first token (as if revoked in between) and then checks tokens
/// against the simulator: one re-authentication, one retry, success; the new token is
/// the cached one.
fn api_rejecting_a_token_gets_one_reauth_and_one_retry(kind: Kind) {
    let sim = start(kind.sim(), SimConfig::default());
    let state = sim.state().clone();
    let api = FakeServer::start(move |n, req| {
        let token = req
            .header("authorization")
            .and_then(|a| a.strip_prefix("Bearer "))
            .unwrap_or_default();
        let valid = state.token_info(token).is_some_and(|t| !t.revoked);
        if n == 0 || !valid {
            (
                401,
                vec![],
                json!({"error": "invalid_token", "error_description": "Token has been revoked"}).to_string(),
            )
        } else {
            (200, vec![], json!({"status": "ok"}).to_string())
        }
    });
    let mut cred = register(kind, &sim, "c");
    cred.set_field("test_url", api.url("/api/check"));
    let tk = Tk::new();
    tk.add(&cred);
    let (out, report) = tk.test_json("c");
    out.code(0);
    assert_eq!(report["ok"], true, "{report:#}");
    let st = report["stages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(st["stage"], "api");
    assert_eq!(st["status"], 200);
    assert!(
        st["message"]
            .as_str()
            .unwrap()
            .contains("re-authenticated and retried once"),
        "{report:#}"
    );
    let issued = sim.issued_tokens(&cred.key);
    assert_eq!(issued.len(), 2, "token stage + one re-authentication");
    assert_eq!(sim.stats().token_requests(&cred.key), 2);
    let reqs = api.requests();
    assert_eq!(reqs.len(), 2, "first call + one retry");
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("Bearer {}", issued[0]).as_str())
    );
    assert_eq!(
        reqs[1].header("authorization"),
        Some(format!("Bearer {}", issued[1]).as_str())
    );
    assert_eq!(tk.token("c"), issued[1], "the re-authenticated token is the cached one");
    assert_eq!(sim.stats().token_requests(&cred.key), 2);
}

/// Over the limit: `tillkey token` fails at once with exit 5 and the wait the provider
/// gave; one request, no hammering. `tillkey test` reports the same with the headers.
fn rate_limit_fails_fast_with_the_wait(kind: Kind) {
    let s = Setup::new(kind, SimConfig::default().with_rate_limit(Some(0)));
    let started = Instant::now();
    let out = expect_token_failure(&s.tk, "c", "rate_limited", &["Wait 60 s", "--wait"], 5);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it waited instead of failing fast"
    );
    assert!(out.stderr.contains("resets in 60 s"), "{}", out.both());
    assert_eq!(
        s.sim.stats().rate_limited(&s.cred.key),
        1,
        "exactly one request, no retries"
    );
    assert_eq!(s.token_requests(), 1);
    let (out, report) = s.tk.test_json("c");
    out.code(5);
    let st = failing_stage(&report);
    assert_eq!(st["stage"], "token", "{report:#}");
    assert_eq!(st["code"], "rate_limited", "{report:#}");
    assert_eq!(st["status"], 429, "{report:#}");
    // The window opened with the first request, a moment ago.
    let rl = &st["rateLimit"];
    let reset = rl["resetSecs"].as_u64().unwrap();
    assert!((59..=60).contains(&reset), "{report:#}");
    assert_eq!(
        rl,
        &json!({"limit": 0, "remaining": 0, "resetSecs": reset, "retryAfterSecs": reset}),
        "{report:#}"
    );
    assert!(
        st["hint"].as_str().unwrap().contains(&format!("Wait {reset} s")),
        "{report:#}"
    );
    assert_eq!(s.sim.stats().rate_limited(&s.cred.key), 2);
}

/// `--wait` waits for the window to reset (2 s here) and then succeeds. The second
/// credential shares the first one's client, so its request falls in the window the
/// first one's request opened.
fn wait_waits_for_the_reset(kind: Kind) {
    let sim = start(
        kind.sim(),
        SimConfig::default()
            .with_rate_limit(Some(1))
            .with_rate_window(Duration::from_secs(2)),
    );
    let cred = register(kind, &sim, "c");
    let mut twin = cred.clone();
    twin.name = "c2".into();
    let tk = Tk::new();
    tk.add(&cred);
    tk.add(&twin);
    let t1 = tk.token("c");
    let started = Instant::now();
    let out = tk.run(&["token", "c2", "--wait"], "");
    out.code(0);
    assert!(
        out.stderr.contains("rate limit reached; waiting") && out.stderr.contains("(--wait)"),
        "{}",
        out.both()
    );
    assert!(started.elapsed() >= Duration::from_millis(500), "it did not wait");
    let t2 = out.stdout.trim();
    assert_ne!(t1, t2);
    assert_eq!(Some(t2.to_string()), sim.last_token(&cred.key));
    let st = sim.stats();
    assert_eq!(st.rate_limited(&cred.key), 1, "one 429, then a wait, not a hammering");
    assert_eq!(st.tokens_issued(&cred.key), 2);
}

macro_rules! oauth_kind_tests {
    ($($m:ident => $kind:expr),* $(,)?) => {$(
        mod $m {
            use super::*;
            #[test]
            fn token_is_cached_across_runs() {
                super::token_is_cached_across_runs($kind)
            }
            #[test]
            fn expired_token_is_renewed() {
                super::expired_token_is_renewed($kind)
            }
            #[test]
            fn ten_parallel_runs_make_one_token_request() {
                super::ten_parallel_runs_make_one_token_request($kind)
            }
            #[test]
            fn test_after_server_side_revocation_replaces_the_token() {
                super::test_after_server_side_revocation_replaces_the_token($kind)
            }
            #[test]
            fn rejected_token_is_retried_once_never_looped() {
                super::rejected_token_is_retried_once_never_looped($kind)
            }
            #[test]
            fn api_rejecting_a_token_gets_one_reauth_and_one_retry() {
                super::api_rejecting_a_token_gets_one_reauth_and_one_retry($kind)
            }
            #[test]
            fn rate_limit_fails_fast_with_the_wait() {
                super::rate_limit_fails_fast_with_the_wait($kind)
            }
            #[test]
            fn wait_waits_for_the_reset() {
                super::wait_waits_for_the_reset($kind)
            }
        }
    )*};
}

oauth_kind_tests! {
    paysera_checkout => Kind::PayseraCheckout,
    mypos => Kind::Mypos,
    ereceipt => Kind::Ereceipt,
    chimpy => Kind::Chimpy,
    oauth2_post => Kind::Oauth2Post,
    oauth2_basic => Kind::Oauth2Basic,
}

/// `tillkey exec`: the token in `$TILLKEY_TOKEN` or `--var`, the child's exit code passed on.
#[test]
fn exec_passes_the_token_and_the_exit_code() {
    let s = Setup::new(Kind::Mypos, SimConfig::default());
    let out =
        s.tk.run(&["exec", "c", "--", "sh", "-c", r#"test -n "$TILLKEY_TOKEN""#], "");
    out.code(0);
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{}", out.both());
    let token = s.sim.last_token(&s.cred.key).unwrap();
    // --var: the token in another variable, and not in TILLKEY_TOKEN.
    let out = s.tk.run_with(
        &[
            "exec",
            "c",
            "--var",
            "SHOP_TOKEN",
            "--",
            "sh",
            "-c",
            r#"test -z "$TILLKEY_TOKEN" && printf %s "$SHOP_TOKEN""#,
        ],
        "",
        false,
    );
    out.code(0);
    assert_eq!(out.stdout, token);
    // The child's exit code, passed through.
    s.tk.run(&["exec", "c", "--", "sh", "-c", "exit 7"], "").code(7);
    s.tk.run(&["exec", "c", "--", "false"], "").code(1);
    assert_eq!(s.token_requests(), 1, "exec uses the cached token");
    // A bad variable name is a usage error, and no command runs.
    let out =
        s.tk.run(&["exec", "c", "--var", "1BAD", "--", "sh", "-c", "exit 9"], "");
    out.code(2);
    assert!(out.stderr.contains("--var"), "{}", out.both());
    // A rejected credential: the provider's code and exit 1, and the command never runs.
    s.tk.run(&["revoke", "c"], "").code(0);
    assert!(s.sim.set_client_secret(&s.cred.key, "changed-at-the-portal"));
    let marker = s.tk.path().join("ran");
    let cmd = format!("touch {}", marker.display());
    let out = s.tk.run(&["exec", "c", "--", "sh", "-c", &cmd], "");
    out.code(1);
    assert!(out.stderr.starts_with("error[invalid_client]"), "{}", out.both());
    assert!(!marker.exists(), "the command ran without a token");
}

/// A host that refuses connections: exit 4 for `token`, and a failed connect stage in
/// `test` (exit 4), with a network hint.
#[test]
fn unreachable_provider_is_a_network_error() {
    let sim = start(Kind::Mypos.sim(), SimConfig::default());
    let mut cred = register(Kind::Mypos, &sim, "c");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    cred.set_field("token_url", format!("http://127.0.0.1:{port}/oauth/token"));
    let tk = Tk::new();
    tk.add(&cred);
    expect_token_failure(&tk, "c", "network_error", &["network connection"], 4);
    let (out, report) = tk.test_json("c");
    out.code(4);
    let st = failing_stage(&report);
    assert_eq!(st["stage"], "connect", "{report:#}");
    assert_eq!(st["code"], "network_error", "{report:#}");
    assert_eq!(
        report["stages"].as_array().unwrap().len(),
        1,
        "no token request after a failed connect: {report:#}"
    );
}
