//! Issue 14, items 4 and 5 in the real window: the age of each secret in the credential
//! list (the rotation status following the oldest one, a PAT in JWT form with its own
//! expiry), and a copied token carrying the hint that keeps it out of clipboard managers'
//! history (`x-kde-passwordManagerHint` = `secret` among the X selection's targets),
//! cleared after the delay by empty text (not by dropping the clipboard's owner).
//!
//! Run inside `scripts/with-keyring.sh` (Xvfb, D-Bus, gnome-keyring); xclip must be
//! installed (scripts/setup.sh).

mod common;

use chrono::{Duration as Days, SecondsFormat, Utc};
use common::*;
use fantoccini::Client;
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};
use tillkey_sim::{demo as sim_demo, SimConfig};

/// A Paysera POS PAT in JWT form whose `exp` is 2100-01-01 (header and payload base64url:
/// `{"alg":"RS256","typ":"JWT"}`, `{"sub":"pos-user","exp":4102444800}`).
const PAT_JWT: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJwb3MtdXNlciIsImV4cCI6NDEwMjQ0NDgwMH0.c2ln";

fn secrets(p: &[(&str, &str)]) -> BTreeMap<String, SecretString> {
    p.iter()
        .map(|(k, v)| (k.to_string(), SecretString::from(v.to_string())))
        .collect()
}

/// The secret age lines of row `name`: (field, age in days, oldest, text).
async fn ages_in_row(client: &Client, name: &str) -> Vec<(String, i64, bool, String)> {
    let css = format!("{} {}", row_selector(name), testid("secret-age"));
    wait_for(client, &css).await;
    let mut out = Vec::new();
    for e in client
        .find_all(fantoccini::Locator::Css(&css))
        .await
        .expect("the age lines")
    {
        let attr = |v: Option<String>| v.unwrap_or_default();
        let field = attr(e.attr("data-field").await.expect("data-field"));
        let days = attr(e.attr("data-age-days").await.expect("data-age-days"));
        let oldest = attr(e.attr("data-oldest").await.expect("data-oldest"));
        let text = e.text().await.expect("the line's text");
        out.push((field, days.parse().expect("a number of days"), oldest == "true", text));
    }
    out
}

#[test]
fn the_list_shows_each_secrets_age_and_the_status_follows_the_oldest() {
    let _serial = serial();
    let sims = tillkey_sim::demo_blocking(SimConfig::default()).expect("the provider simulators start");
    let root = tempfile::tempdir().expect("a temp dir");
    let data = root.path().join("data");
    // Added at t0; the client secret rotated 50 days later; the window opens at t0 + 100
    // days (the app's test clock).
    let t0 = Utc::now();
    let till = sims.credential("ereceipt").expect("the eReceipt demo credential");
    add_demo_credential(&vault_at(&data, t0), till, "till");
    let later = vault_at(&data, t0 + Days::days(50));
    let staged = later
        .stage_rotation("till", secrets(&[("client_secret", "rotated-client-secret-50")]))
        .expect("stage");
    later.commit_rotation(staged).expect("swap");
    vault_at(&data, t0)
        .add(tillkey_core::NewCredential {
            name: "pos".into(),
            provider: "paysera-pos".into(),
            environment: None,
            fields: BTreeMap::new(),
            secrets: secrets(&[("token", PAT_JWT)]),
        })
        .expect("add the PAT");
    // An hour past the 100th day: the clock's start is given to the second, and t0 has a
    // fraction of one (exactly t0 + 100 days, truncated, would read as 99 days).
    let now = (t0 + Days::days(100) + Days::hours(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let driver = Driver::start_with(&data, &[("TILLKEY_TEST_NOW", &now)]);

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        let till = ages_in_row(&client, "till").await;
        let summary: Vec<_> = till.iter().map(|(f, d, o, _)| (f.as_str(), *d, *o)).collect();
        assert_eq!(
            summary,
            [("client_secret", 50, false), ("presharedkey", 100, true)],
            "{till:?}"
        );
        assert_eq!(till[1].3, "Pre-shared key: 100 days", "{till:?}");
        let cell = format!("{} {}", row_selector("till"), testid("cell-secret-age"));
        let text = text_of(&client, &cell).await;
        assert!(text.contains("100 days (Pre-shared key)"), "{text}");
        let rotation = format!("{} {}", row_selector("till"), testid("cell-rotation"));
        let text = text_of(&client, &rotation).await;
        assert!(text.contains("Overdue by 10 days"), "follows the oldest field: {text}");

        let pos = ages_in_row(&client, "pos").await;
        assert_eq!(pos.len(), 1, "{pos:?}");
        assert_eq!((pos[0].0.as_str(), pos[0].1), ("token", 100));
        assert!(
            pos[0].3.starts_with("Personal Access Token: 100 days · expires in "),
            "{pos:?}"
        );
        // The token column reads the same expiry (the JWT's exp, 2100-01-01).
        let token = format!("{} {}", row_selector("pos"), testid("cell-token"));
        let text = text_of(&client, &token).await;
        assert!(text.contains("static, valid for "), "{text}");
        assert!(
            !client.source().await.expect("source").contains(PAT_JWT),
            "the PAT never enters the webview"
        );
        client.close().await.expect("the session closes");
    });
    clean_vault(&data);
}

/// `xclip -selection clipboard -t TARGET -o`: what the clipboard's owner serves as TARGET.
fn clipboard_target(target: &str) -> Option<String> {
    let out = Command::new("xclip")
        .args(["-selection", "clipboard", "-t", target, "-o"])
        .output()
        .expect("xclip runs (apt install xclip)");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn a_copied_token_is_hinted_out_of_clipboard_history_and_still_cleared() {
    let _serial = serial();
    let sims = tillkey_sim::demo_blocking(SimConfig::default()).expect("the provider simulators start");
    let root = tempfile::tempdir().expect("a temp dir");
    let data = root.path().join("data");
    let oauth = sims.credential("oauth2").expect("the oauth2 demo credential");
    add_demo_credential(&vault_at(&data, Utc::now()), oauth, "shop-api");
    let driver = Driver::start_with(&data, &[("TILLKEY_CLIPBOARD_CLEAR_SECS", "3")]);
    let sim = sims
        .simulator(tillkey_sim::ProviderSim::Oauth2)
        .expect("the oauth2 simulator");

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        // Text copied by another program carries no such hint.
        set_clipboard("merchant-notes");
        let deadline = Instant::now() + Duration::from_secs(5);
        while clipboard_text().as_deref() != Some("merchant-notes") {
            assert!(Instant::now() < deadline, "xclip did not take the clipboard");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let targets = clipboard_target("TARGETS").expect("xclip serves its targets");
        assert!(!targets.contains("x-kde-passwordManagerHint"), "{targets}");

        click_in_row(&client, "shop-api", "copy-button").await;
        let status = format!("{} {}", row_selector("shop-api"), testid("copy-status"));
        wait_for_text(&client, &status, "the copy status", |t| t.contains("Copied, clears in")).await;
        let token = sim
            .last_token(sim_demo::OAUTH2_CLIENT_ID)
            .expect("the simulator issued a token on Copy");
        assert_eq!(clipboard_text().as_deref(), Some(token.as_str()));
        let targets = clipboard_target("TARGETS").expect("the app serves its targets");
        let targets: Vec<&str> = targets.lines().collect();
        assert!(
            targets.contains(&"x-kde-passwordManagerHint") && targets.contains(&"UTF8_STRING"),
            "{targets:?}"
        );
        assert_eq!(clipboard_target("x-kde-passwordManagerHint").as_deref(), Some("secret"));

        // Cleared after the delay, as before.
        let deadline = Instant::now() + Duration::from_secs(10);
        while clipboard_text().as_deref() == Some(token.as_str()) {
            assert!(Instant::now() < deadline, "the clipboard was not cleared");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        wait_for_text(&client, &status, "the cleared status", |t| {
            t.contains("Clipboard cleared")
        })
        .await;
        // Overwritten with empty text rather than left without an owner, which GNOME's
        // compositor would fill with its saved copy of the token.
        let targets = clipboard_target("TARGETS").expect("the clipboard keeps an owner after the clear");
        assert!(!targets.contains("x-kde-passwordManagerHint"), "{targets}");
        assert_eq!(clipboard_target("UTF8_STRING").as_deref(), Some(""));
        client.close().await.expect("the session closes");
    });
    clean_vault(&data);
}
