use serde_json::json;
use tillkey_sim::{jwt, ClientConfig, PosDevice, ProviderSim, Simulator};

use crate::common::{get_bearer, http, split, start};

const ID: &str = "d0394a9f-0607-40de-a978-2d3eb8375b04";
const SECRET: &str = "6d62315e-d65a-4e41-9112-4195ea834edf";

fn device() -> PosDevice {
    PosDevice::new("1234567899", "os", "1", "03ac674216f3e1")
}

async fn setup() -> Simulator {
    let sim = start(ProviderSim::Ereceipt).await;
    sim.add_client_with(ClientConfig::new(ID, SECRET).with_pos_device(device()));
    sim
}

type Pairs = Vec<(&'static str, String)>;

fn good_headers() -> Pairs {
    vec![
        ("posserial", "1234567899".into()),
        ("pososversion", "os".into()),
        ("posmodelframework", "1".into()),
        ("presharedkey", "03ac674216f3e1".into()),
    ]
}

fn good_form() -> Pairs {
    vec![
        ("grant_type", "client_credentials".into()),
        ("client_id", ID.into()),
        ("client_secret", SECRET.into()),
    ]
}

async fn token(sim: &Simulator, headers: &[(&str, String)], form: &[(&str, String)]) -> (u16, serde_json::Value) {
    let mut req = http().post(sim.token_url().unwrap()).form(form);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    split(req.send().await.expect("send")).await
}

fn with(mut list: Pairs, name: &'static str, value: Option<String>) -> Pairs {
    list.retain(|(k, _)| *k != name);
    if let Some(v) = value {
        list.push((name, v));
    }
    list
}

#[tokio::test]
async fn success_with_taxpayer_tags() {
    let sim = setup().await;
    assert_eq!(sim.token_url(), Some(format!("{}/connect/token", sim.base_url())));
    let (status, body) = token(&sim, &good_headers(), &good_form()).await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "InvoicingAPI");
    let access = body["access_token"].as_str().unwrap().to_owned();
    let claims = jwt::decode_claims(&access).unwrap();
    assert_eq!(claims["tags"], json!(["B2B", "B2C"]));
    assert_eq!(claims["client_id"], ID);
    assert_eq!(claims["posserial"], "1234567899");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
    let (status, body) = get_bearer(&sim.test_url(), &access).await;
    assert_eq!((status, &body["b2c"]), (200, &json!(true)));

    let form = with(good_form(), "scope", Some("InvoicingAPI".into()));
    let (status, body) = token(&sim, &good_headers(), &form).await;
    assert_eq!((status, body["scope"].as_str()), (200, Some("InvoicingAPI")));
}

#[tokio::test]
async fn b2b_only_taxpayer() {
    let sim = start(ProviderSim::Ereceipt).await;
    sim.add_client_with(ClientConfig::new(ID, SECRET).with_pos_device(device().with_tags(["B2B"])));
    let (status, body) = token(&sim, &good_headers(), &good_form()).await;
    assert_eq!(status, 200);
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt::decode_claims(&access).unwrap()["tags"], json!(["B2B"]));
    let (_, body) = get_bearer(&sim.test_url(), &access).await;
    assert_eq!(body["b2c"], json!(false));
    assert_eq!(sim.token_info(&access).unwrap().tags, vec!["B2B".to_owned()]);
}

#[tokio::test]
async fn every_documented_error_is_400_with_error_only() {
    let sim = setup().await;
    sim.add_client_with(
        ClientConfig::new("blocked", SECRET)
            .with_pos_device(device())
            .with_blocked(true),
    );
    let h = good_headers;
    let f = good_form;
    let cases: Vec<(&str, Pairs, Pairs)> = vec![
        (
            "unauthorized_client",
            h(),
            with(f(), "client_id", Some("unknown".into())),
        ),
        (
            "unauthorized_client",
            h(),
            with(f(), "client_id", Some("blocked".into())),
        ),
        (
            "invalid_clientsecret",
            h(),
            with(f(), "client_secret", Some("wrong".into())),
        ),
        ("invalid_posserial", with(h(), "posserial", None), f()),
        ("invalid_posserial", with(h(), "posserial", Some("999".into())), f()),
        ("invalid_posserial", with(h(), "posserial", Some("1".repeat(101))), f()),
        (
            "invalid_pososversion",
            with(h(), "pososversion", Some("android".into())),
            f(),
        ),
        ("invalid_pososversion", with(h(), "pososversion", None), f()),
        (
            "invalid_posmodelframework",
            with(h(), "posmodelframework", Some("12345678901".into())),
            f(),
        ),
        (
            "invalid_posmodelframework",
            with(h(), "posmodelframework", Some("2".into())),
            f(),
        ),
        (
            "invalid_presharedkey",
            with(h(), "presharedkey", Some("nope".into())),
            f(),
        ),
        ("invalid_presharedkey", with(h(), "presharedkey", None), f()),
        (
            "unsupported_grant_type",
            h(),
            with(f(), "grant_type", Some("password".into())),
        ),
        ("invalid_scope", h(), with(f(), "scope", Some("AdminAPI".into()))),
        ("invalid_request", h(), with(f(), "client_secret", None)),
        ("invalid_request", h(), with(f(), "grant_type", None)),
        (
            "invalid_request",
            h(),
            with(f(), "client_secret", Some("s".repeat(101))),
        ),
    ];
    for (code, headers, form) in cases {
        let (status, body) = token(&sim, &headers, &form).await;
        assert_eq!(
            (status, body),
            (400, json!({ "error": code })),
            "{code} {headers:?} {form:?}"
        );
    }
    // Not a form body.
    let resp = http()
        .post(sim.token_url().unwrap())
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    let (status, body) = split(resp).await;
    assert_eq!((status, body), (400, json!({"error": "invalid_request"})));
}

#[tokio::test]
async fn without_registered_device_only_lengths_are_checked() {
    let sim = start(ProviderSim::Ereceipt).await;
    sim.add_client(ID, SECRET);
    let headers = with(good_headers(), "posserial", Some("any-serial".into()));
    let (status, _) = token(&sim, &headers, &good_form()).await;
    assert_eq!(status, 200);
    let headers = with(good_headers(), "presharedkey", Some("k".repeat(201)));
    let (status, body) = token(&sim, &headers, &good_form()).await;
    assert_eq!((status, body), (400, json!({"error": "invalid_presharedkey"})));
    let headers = with(good_headers(), "presharedkey", Some("k".repeat(200)));
    assert_eq!(token(&sim, &headers, &good_form()).await.0, 200);
}

#[tokio::test]
async fn expiry_and_revocation() {
    let sim = setup().await;
    let (_, body) = token(&sim, &good_headers(), &good_form()).await;
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(get_bearer(&sim.test_url(), &access).await.0, 200);
    assert!(sim.expire_token(&access));
    assert_eq!(get_bearer(&sim.test_url(), &access).await.0, 401);
    let (_, body) = token(&sim, &good_headers(), &good_form()).await;
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert!(sim.revoke_token(&access));
    let (status, body) = get_bearer(&sim.test_url(), &access).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")));
    assert_eq!(sim.stats().token_requests(ID), 2);
}
