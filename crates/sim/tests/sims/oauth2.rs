use serde_json::json;
use tillkey_sim::{jwt, AuthMethod, ClientConfig, ProviderSim, Simulator};

use crate::common::{basic, get_bearer, header, http, split, start};

async fn post(url: String, auth: Option<String>, form: &[(&str, &str)]) -> reqwest::Response {
    let mut req = http().post(url).form(form);
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    req.send().await.expect("send")
}

async fn token(sim: &Simulator, auth: Option<String>, form: &[(&str, &str)]) -> reqwest::Response {
    post(sim.token_url().unwrap(), auth, form).await
}

#[tokio::test]
async fn client_secret_post_and_basic() {
    let sim = start(ProviderSim::Oauth2).await;
    sim.add_client("client-a", "secret-a");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "client-a"),
        ("client_secret", "secret-a"),
    ];
    let (status, body) = split(token(&sim, None, &form).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(get_bearer(&sim.test_url(), &access).await.0, 200);

    let (status, body) = split(
        token(
            &sim,
            Some(basic("client-a", "secret-a", ':')),
            &[("grant_type", "client_credentials")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert!(body["access_token"].is_string());
    assert_eq!(sim.stats().tokens_issued("client-a"), 2);
}

#[tokio::test]
async fn basic_credentials_are_form_urldecoded() {
    let sim = start(ProviderSim::Oauth2).await;
    sim.add_client("client:a", "s3cr t+%");
    // RFC 6749 §2.3.1: id and secret form-urlencoded before Basic.
    let auth = basic("client%3Aa", "s3cr+t%2B%25", ':');
    let (status, _) = split(token(&sim, Some(auth), &[("grant_type", "client_credentials")]).await).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn client_authentication_errors() {
    let sim = start(ProviderSim::Oauth2).await;
    sim.add_client("client-a", "secret-a");
    sim.add_client_with(ClientConfig::new("basic-only", "s").with_auth_method(AuthMethod::Basic));
    sim.add_client_with(ClientConfig::new("post-only", "s").with_auth_method(AuthMethod::Post));
    let cc = [("grant_type", "client_credentials")];

    let resp = token(&sim, Some(basic("client-a", "wrong", ':')), &cc).await;
    assert!(header(&resp, "www-authenticate").unwrap().starts_with("Basic"));
    let (status, body) = split(resp).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "client-a"),
        ("client_secret", "wrong"),
    ];
    assert_eq!(split(token(&sim, None, &form).await).await.1["error"], "invalid_client");
    assert_eq!(split(token(&sim, None, &cc).await).await.0, 401);
    // Both methods at once.
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "client-a"),
        ("client_secret", "secret-a"),
    ];
    let (status, body) = split(token(&sim, Some(basic("client-a", "secret-a", ':')), &form).await).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    // Registered methods.
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "basic-only"),
        ("client_secret", "s"),
    ];
    assert_eq!(token(&sim, None, &form).await.status(), 401);
    assert_eq!(
        token(&sim, Some(basic("basic-only", "s", ':')), &cc).await.status(),
        200
    );
    assert_eq!(token(&sim, Some(basic("post-only", "s", ':')), &cc).await.status(), 401);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "post-only"),
        ("client_secret", "s"),
    ];
    assert_eq!(token(&sim, None, &form).await.status(), 200);
}

#[tokio::test]
async fn grant_scope_audience_and_header_errors() {
    let sim = start(ProviderSim::Oauth2).await;
    sim.add_client_with(
        ClientConfig::new("client-a", "secret-a")
            .with_scopes(["read", "write"])
            .with_audience("https://api.example"),
    );
    let auth = || Some(basic("client-a", "secret-a", ':'));
    let (status, body) = split(token(&sim, auth(), &[("grant_type", "password")]).await).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_grant_type")));
    let (status, body) = split(token(&sim, auth(), &[]).await).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    let (status, body) = split(
        token(
            &sim,
            auth(),
            &[("grant_type", "client_credentials"), ("scope", "admin")],
        )
        .await,
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")));
    let (status, body) = split(
        token(
            &sim,
            auth(),
            &[("grant_type", "client_credentials"), ("audience", "https://other")],
        )
        .await,
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_target")));
    let (status, body) = split(
        token(
            &sim,
            auth(),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "read"),
                ("audience", "https://api.example"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!((status, body["scope"].as_str()), (200, Some("read")));
    let claims = jwt::decode_claims(body["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(claims["aud"], "https://api.example");
    assert_eq!(claims["scope"], "read");
    // No scope requested: the client's scopes.
    let (_, body) = split(token(&sim, auth(), &[("grant_type", "client_credentials")]).await).await;
    assert_eq!(body["scope"], "read write");

    sim.require_token_header("X-Tenant", "shop-1");
    let (status, body) = split(token(&sim, auth(), &[("grant_type", "client_credentials")]).await).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    let resp = http()
        .post(sim.token_url().unwrap())
        .header("Authorization", basic("client-a", "secret-a", ':'))
        .header("X-Tenant", "shop-1")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn rfc7009_revocation() {
    let sim = start(ProviderSim::Oauth2).await;
    sim.add_client("client-a", "secret-a");
    let (_, body) = split(
        token(
            &sim,
            Some(basic("client-a", "secret-a", ':')),
            &[("grant_type", "client_credentials")],
        )
        .await,
    )
    .await;
    let access = body["access_token"].as_str().unwrap().to_owned();
    let revoke = sim.revoke_url().unwrap();
    assert!(revoke.ends_with("/revoke"));

    let (status, body) = split(
        post(
            revoke.clone(),
            Some(basic("client-a", "bad", ':')),
            &[("token", &access)],
        )
        .await,
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    let (status, body) = split(post(revoke.clone(), Some(basic("client-a", "secret-a", ':')), &[]).await).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    assert_eq!(get_bearer(&sim.test_url(), &access).await.0, 200);

    let form = [
        ("token", access.as_str()),
        ("token_type_hint", "access_token"),
        ("client_id", "client-a"),
        ("client_secret", "secret-a"),
    ];
    let resp = post(revoke.clone(), None, &form).await;
    assert_eq!(resp.status(), 200);
    let (status, body) = get_bearer(&sim.test_url(), &access).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"error": "invalid_token", "error_description": "Token has been revoked"})
    );
    // Unknown token: 200 all the same.
    let resp = post(
        revoke,
        Some(basic("client-a", "secret-a", ':')),
        &[("token", "whatever")],
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(sim.stats().revocations("client-a"), 3);
    assert!(sim.token_info(&access).unwrap().revoked);
}

#[tokio::test]
async fn static_bearer_tokens() {
    let sim = start(ProviderSim::Oauth2).await;
    sim.insert_token("static-token", "bearer-client", None);
    assert_eq!(get_bearer(&sim.test_url(), "static-token").await.0, 200);
    sim.advance_clock(std::time::Duration::from_secs(10 * 365 * 86400));
    assert_eq!(get_bearer(&sim.test_url(), "static-token").await.0, 200);
    assert_eq!(sim.stats().api_calls("bearer-client"), 2);
}
