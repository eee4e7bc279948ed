//! The request inspector in the window (issue 14, item 2): from a test report, "Show
//! request details" opens what the test sent and received; the eReceipt POS headers and the
//! Chimpy JSON body are there with their secrets masked, and a canary scan of everything
//! the window shows (and of its page source) finds none of the credential's secrets nor
//! the tokens the simulators issued.
//!
//! Run inside `scripts/with-keyring.sh` (Xvfb, D-Bus, gnome-keyring). With
//! `TILLKEY_INSPECTOR_SHOT=1` it also writes `docs/screenshots/inspector.png`.

mod common;

use chrono::Utc;
use common::*;
use fantoccini::{Client, Locator};
use std::time::Duration;
use tillkey_sim::{DemoCredential, ProviderSim, SimConfig};

/// Tests `name` by clicking, opens its request details and returns the dialog's text.
async fn details_of(client: &Client, name: &str) -> String {
    click_in_row(client, name, "test-button").await;
    let report = format!("{} {}", row_selector(name), testid("test-report"));
    wait_for_text(
        client,
        &format!("{report} {}", testid("test-report-verdict")),
        "the verdict",
        |t| t.contains("Test passed"),
    )
    .await;
    click(client, &format!("{report} {}", testid("test-report-details"))).await;
    wait_for(client, &testid("inspector-content")).await;
    wait_for(client, &testid("inspector-test-exchange")).await;
    text_of(client, &testid("inspector")).await
}

/// Closes the details dialog.
async fn close_details(client: &Client) {
    click(client, &testid("inspector-close")).await;
    wait_gone(client, &testid("inspector")).await;
}

/// Asserts that none of `canaries` is in `shown`.
#[track_caller]
fn no_canary(what: &str, shown: &str, canaries: &[String]) {
    for c in canaries {
        assert!(!c.is_empty());
        assert!(!shown.contains(c.as_str()), "{what} shows the secret {c:?}:\n{shown}");
    }
}

fn secrets_of(c: &DemoCredential) -> Vec<String> {
    c.secrets.values().cloned().collect()
}

#[test]
fn request_details_from_a_test_report_show_the_exchange_with_secrets_masked() {
    let _serial = serial();
    let sims = tillkey_sim::demo_blocking(SimConfig::default()).expect("the provider simulators start");
    let root = tempfile::tempdir().expect("a temp dir");
    let data = root.path().join("data");
    let vault = vault_at(&data, Utc::now());
    let ereceipt = sims.credential("ereceipt").expect("ereceipt");
    let chimpy = sims.credential("chimpy").expect("chimpy");
    add_demo_credential(&vault, ereceipt, "pos-receipts");
    add_demo_credential(&vault, chimpy, "chimpy-pos");
    let driver = Driver::start(&data);

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        wait_for(&client, &row_selector("pos-receipts")).await;

        // eReceipt: the POS headers as sent, the pre-shared key and client secret masked.
        let shown = details_of(&client, "pos-receipts").await;
        for part in [
            "token request (grant_type=client_credentials)",
            "posserial",
            ereceipt.fields["posserial"].as_str(),
            "presharedkey",
            "client_secret=••••",
            "\"access_token\": \"••••\"",
            "Bearer ••••",
            "HTTP 200",
        ] {
            assert!(shown.contains(part), "the details lack {part:?}:\n{shown}");
        }
        let psk = format!(
            "{}[data-name='presharedkey'] code",
            testid("inspector-test-exchange-request-header")
        );
        assert_eq!(text_of(&client, &psk).await, "••••");
        let client_id = &ereceipt.fields["client_id"];
        let token = sims
            .simulator(ProviderSim::Ereceipt)
            .and_then(|s| s.last_token(client_id))
            .expect("the test fetched a token");
        let mut canaries = secrets_of(ereceipt);
        canaries.push(token);
        no_canary("the details", &shown, &canaries);
        if std::env::var_os("TILLKEY_INSPECTOR_SHOT").is_some() {
            tokio::time::sleep(Duration::from_millis(600)).await;
            let png = client.screenshot().await.expect("a screenshot");
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
            std::fs::write(dir.join("inspector.png"), png).expect("the screenshot is written");
        }
        no_canary("the page", &client.source().await.expect("source"), &canaries);
        close_details(&client).await;

        // Chimpy: the JSON body of the password grant, the password masked, the user shown.
        let shown = details_of(&client, "chimpy-pos").await;
        for part in [
            "token request (grant_type=password)",
            "\"password\": \"••••\"",
            &format!("\"username\": \"{}\"", chimpy.fields["username"]),
            "application/json",
        ] {
            assert!(shown.contains(part), "the details lack {part:?}:\n{shown}");
        }
        let token = sims
            .simulator(ProviderSim::Chimpy)
            .and_then(|s| s.last_token(&chimpy.fields["client_id"]))
            .expect("the test fetched a token");
        let mut canaries = secrets_of(chimpy);
        canaries.push(token);
        canaries.extend(secrets_of(ereceipt));
        no_canary("the details", &shown, &canaries);
        no_canary("the page", &client.source().await.expect("source"), &canaries);
        close_details(&client).await;
        assert!(client.find(Locator::Css(&testid("inspector"))).await.is_err());
        client.close().await.expect("the session closes");
    });
    clean_vault(&data);
}
