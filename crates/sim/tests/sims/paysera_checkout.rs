use std::time::Duration;

use serde_json::json;
use tillkey_sim::{jwt, ProviderSim, Simulator};

use crate::common::{get_bearer, header, http, split, start};

async fn token(sim: &Simulator, form: &[(&str, &str)]) -> reqwest::Response {
    http()
        .post(sim.token_url().unwrap())
        .form(form)
        .send()
        .await
        .expect("send")
}

const GOOD: [(&str, &str); 3] = [
    ("grant_type", "client_credentials"),
    ("client_id", "client-a"),
    ("client_secret", "secret-a"),
];

#[tokio::test]
async fn token_then_methods() {
    let sim = start(ProviderSim::PayseraCheckout).await;
    sim.add_client("client-a", "secret-a");
    assert!(sim
        .token_url()
        .unwrap()
        .ends_with("/auth/realms/Paysera/protocol/openid-connect/token"));
    let resp = token(&sim, &GOOD).await;
    assert_eq!(header(&resp, "x-ratelimit-limit").as_deref(), Some("50"));
    assert_eq!(header(&resp, "x-ratelimit-remaining").as_deref(), Some("49"));
    assert!(header(&resp, "x-ratelimit-reset").is_some());
    assert_eq!(header(&resp, "cache-control").as_deref(), Some("no-store"));
    let (status, body) = split(resp).await;
    assert_eq!(status, 200);
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        body,
        json!({
            "access_token": access,
            "expires_in": 3600,
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "scope": "profile email"
        })
    );
    let claims = jwt::decode_claims(&access).unwrap();
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
    assert_eq!(claims["azp"], "client-a");

    let resp = http().get(sim.test_url()).bearer_auth(&access).send().await.unwrap();
    assert_eq!(header(&resp, "x-ratelimit-remaining").as_deref(), Some("48"));
    let (status, body) = split(resp).await;
    assert_eq!(status, 200);
    assert!(body["items"].is_array());
    let stats = sim.stats();
    assert_eq!(stats.token_requests("client-a"), 1);
    assert_eq!(stats.tokens_issued("client-a"), 1);
    assert_eq!(stats.api_calls("client-a"), 1);
    assert_eq!(sim.last_token("client-a").as_deref(), Some(access.as_str()));
}

#[tokio::test]
async fn invalid_client_and_request_errors() {
    let sim = start(ProviderSim::PayseraCheckout).await;
    sim.add_client("client-a", "secret-a");
    let invalid_client = json!({"error": "invalid_client", "error_description": "Invalid client credentials"});
    for form in [
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", "client-a"),
            ("client_secret", "wrong"),
        ],
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", "nobody"),
            ("client_secret", "secret-a"),
        ],
        vec![("grant_type", "client_credentials"), ("client_id", "client-a")],
    ] {
        let (status, body) = split(token(&sim, &form).await).await;
        assert_eq!((status, &body), (401, &invalid_client), "{form:?}");
    }
    // Blocked client.
    sim.set_client_blocked("client-a", true);
    assert_eq!(token(&sim, &GOOD).await.status(), 401);
    sim.set_client_blocked("client-a", false);

    let (status, body) = split(
        token(
            &sim,
            &[
                ("grant_type", "password"),
                ("client_id", "client-a"),
                ("client_secret", "secret-a"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_grant_type")));
    let (status, body) = split(token(&sim, &GOOD[1..]).await).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    let (status, body) = split(
        http()
            .post(sim.token_url().unwrap())
            .json(&json!({"grant_type": "client_credentials"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    let mut scoped = GOOD.to_vec();
    scoped.push(("scope", "admin"));
    let (status, body) = split(token(&sim, &scoped).await).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")));
    assert_eq!(sim.stats().token_requests("client-a"), 6);
    assert_eq!(sim.stats().token_requests("anonymous"), 1);
}

#[tokio::test]
async fn expired_and_revoked_tokens_get_invalid_token() {
    let sim = start(ProviderSim::PayseraCheckout).await;
    sim.add_client("client-a", "secret-a");
    let (_, body) = split(token(&sim, &GOOD).await).await;
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(get_bearer(&sim.test_url(), &access).await.0, 200);
    sim.advance_clock(Duration::from_secs(3600));
    let (status, body) = get_bearer(&sim.test_url(), &access).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"error": "invalid_token", "error_description": "Token is expired"})
    );

    let (_, body) = split(token(&sim, &GOOD).await).await;
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(get_bearer(&sim.test_url(), &access).await.0, 200);
    assert_eq!(sim.revoke_client_tokens("client-a"), 2);
    let (status, body) = get_bearer(&sim.test_url(), &access).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")));
    let (status, _) = split(http().get(sim.test_url()).send().await.unwrap()).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn configured_lifetime() {
    let sim = start(ProviderSim::PayseraCheckout).await;
    sim.add_client("client-a", "secret-a");
    sim.set_token_lifetime(Duration::from_secs(2));
    let (_, body) = split(token(&sim, &GOOD).await).await;
    assert_eq!(body["expires_in"], 2);
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(get_bearer(&sim.test_url(), &access).await.0, 200);
    sim.advance_clock(Duration::from_secs(2));
    assert_eq!(get_bearer(&sim.test_url(), &access).await.0, 401);
}

#[tokio::test]
async fn rate_limit_headers_on_every_response_and_429() {
    let sim = start(ProviderSim::PayseraCheckout).await;
    sim.add_client("client-a", "secret-a");
    sim.add_client("client-b", "secret-b");
    sim.set_rate_limit(Some(2));
    assert_eq!(token(&sim, &GOOD).await.status(), 200);
    // An error response counts and carries the headers too.
    let resp = token(
        &sim,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "client-a"),
            ("client_secret", "x"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 401);
    assert_eq!(header(&resp, "x-ratelimit-remaining").as_deref(), Some("0"));
    let resp = token(&sim, &GOOD).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(header(&resp, "retry-after").as_deref(), Some("60"));
    assert_eq!(header(&resp, "x-ratelimit-reset").as_deref(), Some("60"));
    let (_, body) = split(resp).await;
    assert_eq!(body["error"], "too_many_requests");
    let resp = token(
        &sim,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "client-b"),
            ("client_secret", "secret-b"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    sim.advance_clock(Duration::from_secs(61));
    assert_eq!(token(&sim, &GOOD).await.status(), 200);
    assert_eq!(sim.stats().rate_limited_total(), 1);
}
