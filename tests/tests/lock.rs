//! The locked vault in the window (issue 13): a passphrase set in Settings, the lock screen
//! (names and status visible, every action asks for the passphrase: copy, reveal and test
//! are refused until it is typed), a wrong passphrase, unlocking, and the agent served from
//! the app's own process, so `tillkey lock` / `unlock` from a script and the window share one
//! state. Real app, real gnome-keyring, real provider simulators, the real agent socket.
//!
//! Run inside `scripts/with-keyring.sh` (Xvfb, D-Bus, gnome-keyring).

mod common;
#[path = "../../crates/cli/tests/support/secret_tool.rs"]
mod secret_tool;

use chrono::Utc;
use common::*;
use fantoccini::{Client, Locator};
use secrecy::{ExposeSecret, SecretString};
use std::time::{Duration, Instant};
use tillkey_sim::{demo as sim_demo, ProviderSim, SimConfig};

const PASSPHRASE: &str = "till 4 correct horse";

/// Every keyring item of the vault in `data` (the session keyring is shared with the other
/// tests running at the same time, so only this vault's id prefix counts).
fn keyring(data: &std::path::Path) -> Vec<secret_tool::Item> {
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("vault.json")).expect("vault.json")).expect("JSON");
    let prefix = format!("{}/", meta["vault_id"].as_str().expect("vault id"));
    secret_tool::search(|| std::process::Command::new("secret-tool"))
        .into_iter()
        .filter(|i| i.account.starts_with(&prefix))
        .collect()
}

/// The agent for `data` (the app's, once it serves), answering a ping.
fn agent(data: &std::path::Path) -> tillkey_agent::Client {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some(mut c)) = tillkey_agent::Client::connect(data) {
            if c.ping().is_ok() {
                return c;
            }
        }
        assert!(Instant::now() < deadline, "no agent answers for the app's data dir");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Clicks `css` once it can be: Settings re-renders its passphrase section when the lock
/// state changes (a script's unlock), which can replace a button between find and click.
async fn click_settled(client: &Client, css: &str) {
    let started = Instant::now();
    loop {
        let clicked = match client.find(Locator::Css(css)).await {
            Ok(el) => el.click().await.is_ok(),
            Err(_) => false,
        };
        if clicked {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "`{css}` could not be clicked"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn unlock_dialog_says(client: &Client, action: &str) {
    let reason = wait_for_text(client, &testid("unlock-reason"), "the unlock reason", |t| {
        t.contains("needs the vault passphrase")
    })
    .await;
    assert!(reason.starts_with(action), "{reason}");
}

async fn cancel_unlock(client: &Client) {
    click(client, &testid("unlock-cancel")).await;
    wait_gone(client, &testid("unlock-dialog")).await;
}

#[test]
fn a_locked_window_asks_for_the_passphrase_and_shares_its_lock_with_scripts() {
    let _serial = serial();
    let sims = tillkey_sim::demo_blocking(SimConfig::default()).expect("the provider simulators start");
    let root = tempfile::tempdir().expect("a temp dir");
    let data = root.path().join("data");
    let vault = vault_at(&data, Utc::now());
    let oauth_demo = sims.credential("oauth2").expect("oauth2");
    let bearer_demo = sims.credential("bearer").expect("bearer");
    add_demo_credential(&vault, oauth_demo, "shop-api");
    add_demo_credential(&vault, bearer_demo, "static-api");
    let canaries: Vec<String> = oauth_demo
        .secrets
        .values()
        .chain(bearer_demo.secrets.values())
        .cloned()
        .collect();
    let oauth = sims.simulator(ProviderSim::Oauth2).expect("the oauth2 simulator");
    // A stand-alone agent (what the CLI starts on demand) serves the vault before the app
    // starts; the app takes over from it.
    let standalone = {
        let dir = data.clone();
        std::thread::spawn(move || {
            runtime().block_on(async move {
                let mut opts = tillkey_agent::ServeOptions::new(dir);
                opts.embedded = true;
                tillkey_agent::serve(opts).await
            })
        })
    };
    let pid_of = |data: &std::path::Path| agent(data).ping().expect("a ping");
    assert_eq!(pid_of(&data), std::process::id(), "the stand-alone agent answers first");
    // This test is about the agent inside the app: turn it on (the harness turns it off).
    let driver = Driver::start_with(&data, &[("TILLKEY_NO_AGENT", "0")]);
    set_clipboard("nothing copied yet");

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for(&client, &row_selector("static-api")).await;
        // The stand-alone agent handed over and exited; the app answers now.
        let handed = standalone.join().expect("the stand-alone agent's thread");
        assert!(matches!(handed, Ok(tillkey_agent::Served::HandedOver)), "{handed:?}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while pid_of(&data) == std::process::id() {
            assert!(Instant::now() < deadline, "the app did not take over the agent");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // No passphrase: no lock button, no banner.
        assert!(client.find(Locator::Css(&testid("lock-now"))).await.is_err());

        // Set a passphrase in Settings.
        click(&client, &testid("open-settings")).await;
        // The dialog reads its state when it opens; a click before that read can be undone
        // by the render that follows it, so click again until the form is there.
        let started = Instant::now();
        loop {
            click_settled(&client, &testid("passphrase-set-open")).await;
            let shown = async {
                for _ in 0..30 {
                    if client.find(Locator::Css(&testid("passphrase-new"))).await.is_ok() {
                        return true;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                false
            };
            if shown.await {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the passphrase form never opened"
            );
        }
        type_into(&client, &testid("passphrase-new"), PASSPHRASE).await;
        type_into(&client, &testid("passphrase-confirm"), "not the same").await;
        let set = wait_for(&client, &testid("passphrase-set")).await;
        assert!(
            !set.is_enabled().await.expect("enabled?"),
            "differing entries cannot be sent"
        );
        type_into(&client, &testid("passphrase-confirm"), PASSPHRASE).await;
        click(&client, &testid("passphrase-set")).await;
        let state = wait_for_text(&client, &testid("passphrase-state"), "the passphrase on", |t| {
            t.starts_with("On:")
        })
        .await;
        assert!(state.contains("Unlocked now"), "{state}");
        assert!(
            state.contains("served by this app"),
            "the app serves the agent: {state}"
        );
        // Every long-lived secret is ciphertext in the keyring now.
        let items = keyring(&data);
        assert!(
            items.iter().any(|i| i.account.ends_with(".sealed")),
            "sealed entries: {items:?}"
        );
        for secret in &canaries {
            assert!(
                !items.iter().any(|i| i.secret.contains(secret.as_str())),
                "a plaintext secret is in the keyring: {items:?}"
            );
        }
        click(&client, &testid("settings-cancel")).await;
        wait_gone(&client, &testid("settings-dialog")).await;

        // Unlocked: scripts get a token from the app's agent.
        // (A connection per request, as the CLI makes: the agent drops idle ones after 10 s.)
        let token = agent(&data)
            .token("static-api")
            .expect("exchange")
            .expect("a token while unlocked");
        assert_eq!(
            token.value.expose_secret(),
            bearer_demo.secrets.values().next().expect("the token")
        );

        // Lock from the window: the banner, with the names still listed.
        click(&client, &testid("lock-now")).await;
        wait_for(&client, &testid("lock-banner")).await;
        wait_for(&client, &row_selector("shop-api")).await;
        wait_gone(&client, &testid("lock-now")).await;
        // Scripts are locked too (no cached token for a test to use the secret for).
        let refused = agent(&data).test("shop-api").expect("exchange").expect_err("locked");
        assert_eq!((refused.code.as_str(), refused.exit), ("locked", 3));

        // Copy, reveal and test each ask for the passphrase; cancelled, nothing happens.
        click_in_row(&client, "shop-api", "copy-button").await;
        unlock_dialog_says(&client, "Copying a token").await;
        cancel_unlock(&client).await;
        click_in_row(&client, "static-api", "reveal-button").await;
        unlock_dialog_says(&client, "Revealing a token").await;
        cancel_unlock(&client).await;
        click_in_row(&client, "shop-api", "test-button").await;
        unlock_dialog_says(&client, "Testing a credential").await;
        cancel_unlock(&client).await;
        assert!(client.find(Locator::Css(&testid("revealed-token"))).await.is_err());
        assert_eq!(clipboard_text().as_deref(), Some("nothing copied yet"));
        assert!(
            oauth.last_token(sim_demo::OAUTH2_CLIENT_ID).is_none(),
            "no token was fetched"
        );
        let page = client.source().await.expect("source");
        for secret in &canaries {
            assert!(!page.contains(secret.as_str()), "a secret reached the locked window");
        }

        // A wrong passphrase is refused in the dialog; the right one unlocks and the copy
        // that asked goes ahead.
        click_in_row(&client, "shop-api", "copy-button").await;
        unlock_dialog_says(&client, "Copying a token").await;
        type_into(&client, &testid("unlock-passphrase"), "wrong horse").await;
        click(&client, &testid("unlock-submit")).await;
        let code = wait_for_text(&client, &testid("unlock-error-code"), "the error code", |t| {
            !t.is_empty()
        })
        .await;
        assert_eq!(code, "wrong_passphrase");
        type_into(&client, &testid("unlock-passphrase"), PASSPHRASE).await;
        click(&client, &testid("unlock-submit")).await;
        wait_gone(&client, &testid("unlock-dialog")).await;
        wait_gone(&client, &testid("lock-banner")).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(t) = oauth.last_token(sim_demo::OAUTH2_CLIENT_ID) {
                if clipboard_text().as_deref() == Some(t.as_str()) {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "the copy did not go ahead after unlocking");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Unlocked in the window means unlocked for scripts.
        let report = agent(&data)
            .test("shop-api")
            .expect("exchange")
            .expect("a test while unlocked");
        assert!(report.ok, "{report:?}");

        // `tillkey lock` from a script locks the window too.
        agent(&data).lock().expect("exchange").expect("locked");
        wait_for(&client, &testid("lock-banner")).await;
        // Cached tokens stay usable for scripts while locked (the default policy).
        let cached = agent(&data)
            .token("shop-api")
            .expect("exchange")
            .expect("the cached token");
        // (the test above fetched a fresh token: each of its stages is real)
        let latest = oauth.last_token(sim_demo::OAUTH2_CLIENT_ID).expect("issued");
        assert_eq!(cached.value.expose_secret(), latest);
        // `tillkey unlock` from a script unlocks the window.
        let wrong = agent(&data)
            .unlock(&SecretString::from("nope"))
            .expect("exchange")
            .expect_err("wrong");
        assert_eq!(wrong.code, "wrong_passphrase");
        agent(&data)
            .unlock(&SecretString::from(PASSPHRASE))
            .expect("exchange")
            .expect("unlocked");
        wait_gone(&client, &testid("lock-banner")).await;
        wait_for(&client, &testid("lock-now")).await;

        // Remove the passphrase in Settings: plain keyring entries again, no lock button.
        click(&client, &testid("open-settings")).await;
        wait_for_text(&client, &testid("passphrase-state"), "the state", |t| {
            t.contains("Unlocked now")
        })
        .await;
        click_settled(&client, &testid("passphrase-remove-open")).await;
        type_into(&client, &testid("passphrase-current"), PASSPHRASE).await;
        click(&client, &testid("passphrase-remove")).await;
        wait_for_text(&client, &testid("passphrase-state"), "the passphrase off", |t| {
            t.starts_with("Off:")
        })
        .await;
        let items = keyring(&data);
        assert!(
            !items.iter().any(|i| i.account.ends_with(".sealed")),
            "sealed entries left: {items:?}"
        );
        let _ = client.close().await;
    });
    clean_vault(&data);
}
