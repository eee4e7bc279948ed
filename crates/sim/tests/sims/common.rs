use base64::Engine;
use reqwest::{Client, Response};
use serde_json::Value;
use tillkey_sim::{ProviderSim, SimConfig, Simulator};

pub async fn start(p: ProviderSim) -> Simulator {
    Simulator::start(p, SimConfig::default())
        .await
        .expect("simulator starts")
}

pub fn http() -> Client {
    Client::builder().no_proxy().build().expect("client")
}

pub fn basic(id: &str, secret: &str, sep: char) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}{sep}{secret}"))
    )
}

/// Status and JSON body (Null when the body is empty or not JSON).
pub async fn split(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

pub async fn get_bearer(url: &str, token: &str) -> (u16, Value) {
    split(http().get(url).bearer_auth(token).send().await.expect("send")).await
}
