use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use tillkey_sim::{demo, demo_blocking, ProviderSim, SimConfig, Simulator};

use crate::common::{basic, get_bearer, http, split};

/// A raw HTTP/1.1 GET, for tests without a runtime.
fn raw_get(addr: std::net::SocketAddr, path: &str, token: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

#[test]
fn blocking_runtime_serves_sync_callers_and_stops_on_drop() {
    let sim = Simulator::spawn_blocking_runtime(ProviderSim::PayseraPos, SimConfig::default()).unwrap();
    sim.add_pat("pat", true);
    let addr = sim.addr();
    let resp = raw_get(addr, "/eapi/v1/orders?page=1&per_page=1", "pat").unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let resp = raw_get(addr, "/eapi/v1/orders", "bad").unwrap();
    assert!(resp.starts_with("HTTP/1.1 401") && resp.contains("AUTH002"), "{resp}");
    assert_eq!(sim.stats().hits("/eapi/v1/orders"), 2);
    drop(sim);
    assert!(TcpStream::connect(addr).is_err());
}

#[tokio::test]
async fn async_simulator_stops_on_drop() {
    let sim = Simulator::start(ProviderSim::Oauth2, SimConfig::default())
        .await
        .unwrap();
    let url = sim.test_url();
    assert_eq!(http().get(&url).send().await.unwrap().status(), 401);
    sim.shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(http().get(&url).send().await.is_err());
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let sim = Simulator::start(ProviderSim::Mypos, SimConfig::default())
        .await
        .unwrap();
    let (status, body) = split(http().get(format!("{}/nope", sim.base_url())).send().await.unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    assert_eq!(http().get(sim.token_url().unwrap()).send().await.unwrap().status(), 405);
    assert_eq!(sim.stats().hits("/nope"), 1);
    sim.reset_stats();
    assert_eq!(sim.stats().hits_total(), 0);
}

#[test]
fn provider_names_round_trip() {
    for p in ProviderSim::ALL {
        assert_eq!(p.kind().parse::<ProviderSim>().unwrap(), p);
        assert_eq!(p.to_string(), p.kind());
    }
    assert!("bearer".parse::<ProviderSim>().is_err());
}

/// Every demo credential gets a token (where the kind has one) and passes its test URL.
#[tokio::test]
async fn demo_credentials_all_work() {
    let demo = demo(SimConfig::default()).await.unwrap();
    assert_eq!(demo.simulators.len(), 6);
    assert_eq!(demo.credentials.len(), 7);
    let c = http();
    for cred in &demo.credentials {
        let f = |k: &str| cred.fields.get(k).cloned().unwrap_or_default();
        let s = |k: &str| cred.secrets.get(k).cloned().unwrap_or_default();
        let token = match cred.kind.as_str() {
            "paysera-pos" | "bearer" => s("token"),
            "paysera-checkout" => {
                let resp = c
                    .post(f("token_url"))
                    .form(&[
                        ("grant_type", "client_credentials"),
                        ("client_id", &f("client_id")),
                        ("client_secret", &s("client_secret")),
                    ])
                    .send()
                    .await
                    .unwrap();
                split(resp).await.1["access_token"].as_str().unwrap().to_owned()
            }
            "mypos" | "oauth2" => {
                let mut form = vec![("grant_type", "client_credentials".to_owned())];
                for k in ["scope", "audience"] {
                    if cred.fields.contains_key(k) {
                        form.push((k, f(k)));
                    }
                }
                let resp = c
                    .post(f("token_url"))
                    .header("Authorization", basic(&f("client_id"), &s("client_secret"), ':'))
                    .form(&form)
                    .send()
                    .await
                    .unwrap();
                split(resp).await.1["access_token"].as_str().unwrap().to_owned()
            }
            "ereceipt" => {
                let resp = c
                    .post(format!("{}/connect/token", f("identity_url")))
                    .header("posserial", f("posserial"))
                    .header("pososversion", f("pososversion"))
                    .header("posmodelframework", f("posmodelframework"))
                    .header("presharedkey", s("presharedkey"))
                    .form(&[
                        ("grant_type", "client_credentials"),
                        ("client_id", &f("client_id")),
                        ("client_secret", &s("client_secret")),
                        ("scope", &f("scope")),
                    ])
                    .send()
                    .await
                    .unwrap();
                split(resp).await.1["access_token"].as_str().unwrap().to_owned()
            }
            "chimpy" => {
                let body = serde_json::json!({
                    "client_id": f("client_id"), "audience": f("audience"), "grant_type": "password",
                    "username": f("username"), "password": s("password"), "scope": "offline_access",
                });
                let (status, body) = split(
                    c.post(format!("http://{}/oauth/token", f("auth_host")))
                        .json(&body)
                        .send()
                        .await
                        .unwrap(),
                )
                .await;
                assert_eq!(status, 200);
                assert!(body["refresh_token"].is_string());
                body["access_token"].as_str().unwrap().to_owned()
            }
            other => panic!("unexpected kind {other}"),
        };
        let (status, _) = get_bearer(&f("test_url"), &token).await;
        assert_eq!(status, 200, "{}", cred.kind);
    }
    let json = demo.to_json(false);
    assert!(json["credentials"][0].get("secrets").is_none());
    assert!(json["simulators"]["mypos"]["revoke_url"].is_string());
    assert!(demo.to_json(true)["credentials"][0]["secrets"]["token"].is_string());
}

#[test]
fn demo_blocking_starts_everything() {
    let demo = demo_blocking(SimConfig::default()).unwrap();
    let sim = demo.simulator(ProviderSim::PayseraPos).unwrap();
    let token = &demo.credential("paysera-pos").unwrap().secrets["token"];
    let resp = raw_get(sim.addr(), "/eapi/v1/orders?page=1&per_page=1", token).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
}

#[test]
fn binary_prints_urls_as_json() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tillkey-sim"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    let read = BufReader::new(stdout).read_line(&mut line);
    let result = (|| {
        read.map_err(|e| e.to_string())?;
        let json: Value = serde_json::from_str(&line).map_err(|e| e.to_string())?;
        let url = json["simulators"]["paysera-pos"]["test_url"]
            .as_str()
            .ok_or("no url")?
            .to_owned();
        let addr = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default()
            .parse()
            .map_err(|_| "bad addr")?;
        let resp = raw_get(
            addr,
            "/eapi/v1/orders?page=1&per_page=1",
            tillkey_sim::demo::PAYSERA_POS_TOKEN,
        )
        .map_err(|e| e.to_string())?;
        if json["credentials"][0].get("secrets").is_some() {
            return Err("secrets printed without --show-secrets".to_owned());
        }
        Ok::<_, String>(resp)
    })();
    let _ = child.kill();
    let _ = child.wait();
    let resp = result.unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
}
