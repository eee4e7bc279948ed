use std::time::Duration;

use serde_json::{json, Value};
use tillkey_sim::{jwt, ClientConfig, ProviderSim, Simulator};

use crate::common::{get_bearer, http, split, start};

const AUD: &str = "https://pos-api.chimpy.example";

async fn setup() -> Simulator {
    let sim = start(ProviderSim::Chimpy).await;
    sim.add_client_with(ClientConfig::new("chimpy-app", "").with_audience(AUD));
    sim.add_user("merchant@example.com", "hunter2");
    sim
}

async fn post(sim: &Simulator, body: Value) -> (u16, Value) {
    split(
        http()
            .post(sim.token_url().unwrap())
            .json(&body)
            .send()
            .await
            .expect("send"),
    )
    .await
}

fn password_body(scope: Option<&str>) -> Value {
    let mut b = json!({
        "client_id": "chimpy-app",
        "audience": AUD,
        "grant_type": "password",
        "username": "merchant@example.com",
        "password": "hunter2",
    });
    if let Some(s) = scope {
        b["scope"] = s.into();
    }
    b
}

fn refresh_body(refresh: &str) -> Value {
    json!({"client_id": "chimpy-app", "audience": AUD, "grant_type": "refresh_token", "refresh_token": refresh})
}

#[tokio::test]
async fn password_grant_without_offline_access() {
    let sim = setup().await;
    let (status, body) = post(&sim, password_body(None)).await;
    assert_eq!(status, 200);
    assert!(body.get("refresh_token").is_none());
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let access = body["access_token"].as_str().unwrap().to_owned();
    let claims = jwt::decode_claims(&access).unwrap();
    assert!((claims["exp"].as_i64().unwrap() - sim.now_unix() - 3600).abs() <= 1);
    assert_eq!(claims["aud"], AUD);
    assert_eq!(claims["sub"], "merchant@example.com");
    let (status, body) = get_bearer(&sim.test_url(), &access).await;
    assert_eq!((status, body["user"].as_str()), (200, Some("merchant@example.com")));
    assert_eq!(sim.test_url(), format!("{}/api/v2/ping", sim.base_url()));
    assert_eq!(sim.stats().password_grants("chimpy-app"), 1);
}

#[tokio::test]
async fn refresh_rotation() {
    let sim = setup().await;
    let (status, body) = post(&sim, password_body(Some("offline_access"))).await;
    assert_eq!(status, 200);
    assert_eq!(body["scope"], "offline_access");
    let r1 = body["refresh_token"].as_str().unwrap().to_owned();

    let (status, body) = post(&sim, refresh_body(&r1)).await;
    assert_eq!(status, 200);
    let r2 = body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2);
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(get_bearer(&sim.test_url(), &access).await.0, 200);

    // The old refresh token is spent.
    let (status, body) = post(&sim, refresh_body(&r1)).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."})
    );
    // The new one works, once.
    let (status, body) = post(&sim, refresh_body(&r2)).await;
    assert_eq!(status, 200);
    let r3 = body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(sim.refresh_tokens("chimpy-app"), vec![r3.clone()]);
    assert_eq!(sim.stats().refresh_grants("chimpy-app"), 3);

    // Server-side revocation of the refresh token.
    assert!(sim.revoke_token(&r3));
    let (status, body) = post(&sim, refresh_body(&r3)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
}

#[tokio::test]
async fn refresh_requires_client_id_and_audience_and_matching_client() {
    let sim = setup().await;
    sim.add_client("other-app", "");
    let (_, body) = post(&sim, password_body(Some("offline_access openid"))).await;
    let r1 = body["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = post(
        &sim,
        json!({"client_id": "chimpy-app", "grant_type": "refresh_token", "refresh_token": r1}),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    let (status, body) = post(
        &sim,
        json!({"audience": AUD, "grant_type": "refresh_token", "refresh_token": r1}),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    let (status, body) = post(
        &sim,
        json!({"client_id": "other-app", "audience": AUD, "grant_type": "refresh_token", "refresh_token": r1}),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    let (status, body) = post(
        &sim,
        json!({"client_id": "chimpy-app", "audience": AUD, "grant_type": "refresh_token"}),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    // None of these burned it.
    assert_eq!(post(&sim, refresh_body(&r1)).await.0, 200);
}

#[tokio::test]
async fn token_errors() {
    let sim = setup().await;
    let mut b = password_body(None);
    b["password"] = "wrong".into();
    let (status, body) = post(&sim, b).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "Wrong email or password."})
    );
    let mut b = password_body(None);
    b["username"] = "nobody@example.com".into();
    assert_eq!(post(&sim, b).await.1["error"], "invalid_grant");
    let mut b = password_body(None);
    b["client_id"] = "unknown".into();
    let (status, body) = post(&sim, b).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    let mut b = password_body(None);
    b["audience"] = "https://elsewhere".into();
    let (status, body) = post(&sim, b).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("access_denied")));
    let mut b = password_body(None);
    b.as_object_mut().unwrap().remove("audience");
    assert_eq!(post(&sim, b).await.1["error"], "invalid_request");
    let mut b = password_body(None);
    b["grant_type"] = "client_credentials".into();
    let (status, body) = post(&sim, b).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_grant_type")));
    let (status, body) = post(&sim, password_body(Some("admin"))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")));
    // A form body is refused: the document uses JSON.
    let resp = http()
        .post(sim.token_url().unwrap())
        .form(&[("grant_type", "password"), ("client_id", "chimpy-app")])
        .send()
        .await
        .unwrap();
    let (status, body) = split(resp).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    assert_eq!(sim.stats().token_requests("chimpy-app"), 6);
}

#[tokio::test]
async fn api_rejects_expired_and_revoked_tokens() {
    let sim = setup().await;
    let (_, body) = post(&sim, password_body(None)).await;
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(get_bearer(&sim.test_url(), &access).await.0, 200);
    sim.advance_clock(Duration::from_secs(3601));
    let (status, body) = get_bearer(&sim.test_url(), &access).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")));
    sim.reset_clock();
    assert_eq!(get_bearer(&sim.test_url(), &access).await.0, 200);
    sim.revoke_token(&access);
    assert_eq!(get_bearer(&sim.test_url(), &access).await.0, 401);
    let resp = http().get(sim.test_url()).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let other = format!("{}/api/v2/orders", sim.base_url());
    assert_eq!(http().get(&other).send().await.unwrap().status(), 401);
}
