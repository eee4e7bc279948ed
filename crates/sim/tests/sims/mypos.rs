use std::time::Duration;

use serde_json::json;
use tillkey_sim::{ProviderSim, Simulator};

use crate::common::{basic, get_bearer, header, http, split, start};

async fn token(sim: &Simulator, auth: Option<String>, form: &[(&str, &str)]) -> reqwest::Response {
    let mut req = http().post(sim.token_url().unwrap()).form(form);
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    req.send().await.expect("send")
}

async fn revoke(sim: &Simulator, auth: String, form: &[(&str, &str)]) -> reqwest::Response {
    http()
        .post(sim.revoke_url().unwrap())
        .header("Authorization", auth)
        .form(form)
        .send()
        .await
        .expect("send")
}

const CC: [(&str, &str); 1] = [("grant_type", "client_credentials")];

#[tokio::test]
async fn basic_colon_and_semicolon_and_scope() {
    let sim = start(ProviderSim::Mypos).await;
    sim.add_client("client-a", "secret-a");
    let (status, body) = split(token(&sim, Some(basic("client-a", "secret-a", ':')), &CC).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["access_token"].as_str().map(str::len), Some(42));
    assert!(body.get("scope").is_none());
    let access = body["access_token"].as_str().unwrap().to_owned();
    let (status, body) = get_bearer(&sim.test_url(), &access).await;
    assert_eq!((status, body["client_id"].as_str()), (200, Some("client-a")));

    let (status, _) = split(token(&sim, Some(basic("client-a", "secret-a", ';')), &CC).await).await;
    assert_eq!(status, 200);

    let form = [("grant_type", "client_credentials"), ("scope", "webhooks")];
    let (status, body) = split(token(&sim, Some(basic("client-a", "secret-a", ':')), &form).await).await;
    assert_eq!((status, body["scope"].as_str()), (200, Some("webhooks")));
    let form = [("grant_type", "client_credentials"), ("scope", "payments")];
    let (status, body) = split(token(&sim, Some(basic("client-a", "secret-a", ':')), &form).await).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")));
    assert_eq!(sim.stats().token_requests("client-a"), 4);
    assert_eq!(sim.stats().tokens_issued("client-a"), 3);
}

#[tokio::test]
async fn token_errors() {
    let sim = start(ProviderSim::Mypos).await;
    sim.add_client("client-a", "secret-a");
    // Wrong secret, unknown client, no Basic at all, credentials in the body instead.
    for auth in [
        Some(basic("client-a", "nope", ':')),
        Some(basic("who", "secret-a", ':')),
        None,
    ] {
        let resp = token(&sim, auth.clone(), &CC).await;
        assert!(header(&resp, "www-authenticate").unwrap().starts_with("Basic"));
        let (status, body) = split(resp).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client")),
            "{auth:?}"
        );
    }
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "client-a"),
        ("client_secret", "secret-a"),
    ];
    assert_eq!(token(&sim, None, &form).await.status(), 401);
    for grant in ["authorization_code", "refresh_token", "password"] {
        let form = [("grant_type", grant)];
        let (status, body) = split(token(&sim, Some(basic("client-a", "secret-a", ':')), &form).await).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("unsupported_grant_type")),
            "{grant}"
        );
    }
    let (status, body) = split(token(&sim, Some(basic("client-a", "secret-a", ':')), &[]).await).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
}

#[tokio::test]
async fn revoke_endpoint() {
    let sim = start(ProviderSim::Mypos).await;
    sim.add_client("client-a", "secret-a");
    sim.add_client("client-b", "secret-b");
    let (_, body) = split(token(&sim, Some(basic("client-a", "secret-a", ':')), &CC).await).await;
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(get_bearer(&sim.test_url(), &access).await.0, 200);

    // Another client cannot revoke it (200 per RFC 7009, but nothing happens).
    let resp = revoke(&sim, basic("client-b", "secret-b", ':'), &[("token", &access)]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(get_bearer(&sim.test_url(), &access).await.0, 200);
    // Bad credentials.
    let (status, body) = split(revoke(&sim, basic("client-a", "bad", ':'), &[("token", &access)]).await).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    // Missing token.
    let (status, body) = split(revoke(&sim, basic("client-a", "secret-a", ':'), &[]).await).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    // Revoked with the semicolon separator.
    let resp = revoke(&sim, basic("client-a", "secret-a", ';'), &[("token", &access)]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "");
    let (status, body) = get_bearer(&sim.test_url(), &access).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"error": "invalid_token", "error_description": "Token has been revoked"})
    );
    // Unknown token: still 200.
    assert_eq!(
        revoke(&sim, basic("client-a", "secret-a", ':'), &[("token", "unknown")])
            .await
            .status(),
        200
    );
    assert_eq!(sim.stats().revocations("client-a"), 3);
    assert_eq!(sim.stats().revocations("client-b"), 1);
    assert_eq!(sim.stats().hits("/oauth/revoke"), 5);
}

#[tokio::test]
async fn short_real_lifetime_expires() {
    let sim = start(ProviderSim::Mypos).await;
    sim.add_client("client-a", "secret-a");
    sim.set_token_lifetime(Duration::from_millis(300));
    let (_, body) = split(token(&sim, Some(basic("client-a", "secret-a", ':')), &CC).await).await;
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(sim.active_tokens("client-a"), 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, body) = get_bearer(&sim.test_url(), &access).await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (401, Some("Token is expired"))
    );
    assert_eq!(sim.active_tokens("client-a"), 0);
}

#[tokio::test]
async fn body_size_is_bounded() {
    let sim = start(ProviderSim::Mypos).await;
    sim.add_client("client-a", "secret-a");
    let big = "x".repeat(64 * 1024);
    let resp = token(
        &sim,
        Some(basic("client-a", "secret-a", ':')),
        &[("grant_type", "client_credentials"), ("pad", &big)],
    )
    .await;
    assert_eq!(resp.status(), 413);
}

#[tokio::test]
async fn a_new_set_works_beside_the_old_one_and_each_revokes_its_own_tokens() {
    let sim = start(ProviderSim::Mypos).await;
    sim.add_client_with(tillkey_sim::ClientConfig::new("shop", "old-secret").with_scopes(["webhooks"]));
    let (_, body) = split(token(&sim, Some(basic("shop", "old-secret", ':')), &CC).await).await;
    let old_token = body["access_token"].as_str().unwrap().to_owned();

    let (id, secret) = sim.issue_new_set("shop").expect("the portal issues a new set");
    assert!(id.starts_with("shop.") && id != "shop", "{id}");
    assert_ne!(secret, "old-secret");
    assert_eq!(
        sim.client(&id).unwrap().scopes,
        vec!["webhooks".to_string()],
        "same configuration"
    );
    assert!(sim.issue_new_set("nobody").is_none());
    let (status, body) = split(token(&sim, Some(basic(&id, &secret, ':')), &CC).await).await;
    assert_eq!(status, 200, "{body}");
    let new_token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(get_bearer(&sim.test_url(), &new_token).await.1["client_id"], json!(id));
    assert_eq!(
        get_bearer(&sim.test_url(), &old_token).await.0,
        200,
        "the old set still works"
    );

    // The new set cannot revoke the old set's token; the old set can.
    assert_eq!(
        revoke(&sim, basic(&id, &secret, ':'), &[("token", &old_token)])
            .await
            .status(),
        200
    );
    assert_eq!(get_bearer(&sim.test_url(), &old_token).await.0, 200);
    assert_eq!(
        revoke(&sim, basic("shop", "old-secret", ':'), &[("token", &old_token)])
            .await
            .status(),
        200
    );
    assert_eq!(get_bearer(&sim.test_url(), &old_token).await.0, 401);
    assert_eq!(get_bearer(&sim.test_url(), &new_token).await.0, 200);

    // Deleting the old set in the portal: it no longer authenticates.
    assert!(sim.remove_client("shop"));
    let (status, body) = split(token(&sim, Some(basic("shop", "old-secret", ':')), &CC).await).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
}
