use std::time::Duration;

use serde_json::json;
use tillkey_sim::{PatConfig, ProviderSim};

use crate::common::{header, http, split, start};

const PAT: &str = "pat-good";

async fn get(url: &str, auth: Option<&str>) -> reqwest::Response {
    let mut req = http().get(url).header("Accept", "application/json");
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    req.send().await.expect("send")
}

#[tokio::test]
async fn orders_success_shape_and_headers() {
    let sim = start(ProviderSim::PayseraPos).await;
    sim.add_pat(PAT, true);
    assert_eq!(
        sim.test_url(),
        format!("{}/eapi/v1/orders?page=1&per_page=1", sim.base_url())
    );
    assert_eq!(sim.token_url(), None);
    let resp = get(&sim.test_url(), Some(&format!("Bearer {PAT}"))).await;
    assert_eq!(header(&resp, "x-ratelimit-limit").as_deref(), Some("50"));
    assert_eq!(header(&resp, "x-ratelimit-remaining").as_deref(), Some("49"));
    assert_eq!(header(&resp, "x-ratelimit-reset").as_deref(), Some("60"));
    let (status, body) = split(resp).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"],
        json!([{"id": 123, "number": "ORD-001", "status": "completed"}])
    );
    assert_eq!(body["itemsTotal"], 250);
    assert_eq!(body["pagesTotal"], 250);
    assert!(body["links"].is_object());
    let stats = sim.stats();
    assert_eq!(stats.api_calls(PAT), 1);
    assert_eq!(stats.hits("/eapi/v1/orders"), 1);
    assert_eq!(stats.missing_accept_json(), 0);

    let url = format!("{}/eapi/v1/orders?page=2&per_page=10", sim.base_url());
    let (status, body) = split(get(&url, Some(&format!("Bearer {PAT}"))).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"].as_array().map(Vec::len), Some(10));
    assert_eq!(body["data"][0]["id"], 133);
    assert_eq!(body["pagesTotal"], 25);
}

#[tokio::test]
async fn auth001_missing_header() {
    let sim = start(ProviderSim::PayseraPos).await;
    let (status, body) = split(get(&sim.test_url(), None).await).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"error": "unauthorized", "error_description": "Missing authorization header", "error_code": "AUTH001"})
    );
}

#[tokio::test]
async fn auth002_invalid_malformed_revoked_expired() {
    let sim = start(ProviderSim::PayseraPos).await;
    let expected = json!({
        "error": "invalid_token",
        "error_description": "The access token is invalid or has been revoked",
        "error_code": "AUTH002"
    });
    for auth in ["Bearer nope", "Basic Zm9vOmJhcg==", "Bearer "] {
        let (status, body) = split(get(&sim.test_url(), Some(auth)).await).await;
        assert_eq!((status, &body), (401, &expected), "{auth}");
    }
    sim.add_pat(PAT, true);
    assert!(sim.revoke_token(PAT));
    let (status, body) = split(get(&sim.test_url(), Some(&format!("Bearer {PAT}"))).await).await;
    assert_eq!((status, body), (401, expected.clone()));

    sim.add_pat_with(PatConfig {
        name: "short".into(),
        token: "pat-short".into(),
        permitted: true,
        expires_at: Some(sim.now_unix() + 100),
    });
    let (status, _) = split(get(&sim.test_url(), Some("Bearer pat-short")).await).await;
    assert_eq!(status, 200);
    sim.advance_clock(Duration::from_secs(101));
    let (status, body) = split(get(&sim.test_url(), Some("Bearer pat-short")).await).await;
    assert_eq!((status, body), (401, expected));
    assert_eq!(sim.stats().api_calls("short"), 2);
}

#[tokio::test]
async fn auth003_without_permission() {
    let sim = start(ProviderSim::PayseraPos).await;
    sim.add_pat("pat-readonly", false);
    let (status, body) = split(get(&sim.test_url(), Some("Bearer pat-readonly")).await).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"error": "forbidden", "error_description": "Access to this resource is not allowed", "error_code": "AUTH003"})
    );
}

#[tokio::test]
async fn counts_missing_accept_header_and_404s_other_paths() {
    let sim = start(ProviderSim::PayseraPos).await;
    sim.add_pat(PAT, true);
    let resp = http().get(sim.test_url()).bearer_auth(PAT).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(sim.stats().missing_accept_json(), 1);
    let url = format!("{}/eapi/v1/cash-registers/1/status", sim.base_url());
    assert_eq!(get(&url, None).await.status(), 401);
    assert_eq!(get(&url, Some(&format!("Bearer {PAT}"))).await.status(), 404);
}

#[tokio::test]
async fn rate_limit_429_and_window_reset() {
    let sim = start(ProviderSim::PayseraPos).await;
    sim.add_pat(PAT, true);
    sim.add_pat("other", true);
    sim.set_rate_limit(Some(3));
    let auth = format!("Bearer {PAT}");
    for remaining in ["2", "1", "0"] {
        let resp = get(&sim.test_url(), Some(&auth)).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(header(&resp, "x-ratelimit-remaining").as_deref(), Some(remaining));
    }
    sim.advance_clock(Duration::from_secs(20));
    let resp = get(&sim.test_url(), Some(&auth)).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(header(&resp, "retry-after").as_deref(), Some("40"));
    assert_eq!(header(&resp, "x-ratelimit-reset").as_deref(), Some("40"));
    assert_eq!(header(&resp, "x-ratelimit-remaining").as_deref(), Some("0"));
    assert_eq!(header(&resp, "x-ratelimit-limit").as_deref(), Some("3"));
    // Another token has its own window.
    assert_eq!(get(&sim.test_url(), Some("Bearer other")).await.status(), 200);
    assert_eq!(sim.stats().rate_limited(PAT), 1);
    sim.advance_clock(Duration::from_secs(40));
    let resp = get(&sim.test_url(), Some(&auth)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "x-ratelimit-remaining").as_deref(), Some("2"));
}
