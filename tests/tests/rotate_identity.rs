//! End-to-end: rotating a myPOS credential to a new set (client ID and secret) in the real
//! window (issue 12, item 8). The wizard shows the client ID, prefilled and editable; the
//! new set is tested and swapped in as one unit; the result step says the old token was
//! revoked with the old client ID, which the myPOS simulator confirms. In the demo vault
//! the simulated portal issues the new set, so the flow works by clicking alone.
//!
//! Run inside `scripts/with-keyring.sh` (Xvfb, D-Bus, gnome-keyring). With
//! `TILLKEY_E2E_SHOTS=DIR` the wizard's steps are captured from the X display into DIR.

mod common;

use chrono::{Duration as Days, Utc};
use common::*;
use fantoccini::Client;
use secrecy::ExposeSecret;
use std::time::Duration;
use tillkey_sim::{demo as sim_demo, ProviderSim, SimConfig};

/// A data dir inside a temp dir, so the demo vault (`<data dir>-demo`) is cleaned up too.
fn data_root() -> (tempfile::TempDir, std::path::PathBuf) {
    let root = tempfile::tempdir().expect("a temp dir");
    let data = root.path().join("data");
    (root, data)
}

/// With `TILLKEY_E2E_SHOTS=DIR`: the window as the X display shows it, into `DIR/name`.
async fn capture(client: &Client, name: &str) {
    let Some(dir) = std::env::var_os("TILLKEY_E2E_SHOTS") else {
        return;
    };
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (x, y, w, h) = client.get_window_rect().await.expect("the window's place");
    let status = std::process::Command::new("import")
        .args(["-window", "root", "-crop"])
        .arg(format!("{w}x{h}+{x}+{y}"))
        .arg("+repage")
        .arg(std::path::Path::new(&dir).join(name))
        .status()
        .expect("ImageMagick's import runs");
    assert!(status.success(), "import failed: {status}");
}

async fn value_of(client: &Client, css: &str) -> String {
    wait_for(client, css)
        .await
        .prop("value")
        .await
        .expect("a value")
        .unwrap_or_default()
}

#[test]
fn a_mypos_rotation_to_a_new_set_is_one_flow_in_the_window() {
    let _serial = serial();
    let sims = tillkey_sim::demo_blocking(SimConfig::default()).expect("the provider simulators start");
    let (_root, data) = data_root();
    let vault = vault_at(&data, Utc::now() - Days::days(95));
    add_demo_credential(&vault, sims.credential("mypos").expect("mypos"), "mypos-shop");
    let mypos = sims.simulator(ProviderSim::Mypos).expect("the myPOS simulator");
    let old_id = sim_demo::MYPOS_CLIENT_ID;
    let driver = Driver::start(&data);

    let (new_id, new_secret) = runtime().block_on(async {
        let client = driver.launch_app().await;
        client.set_window_size(1000, 760).await.expect("size");
        wait_for_list(&client).await;
        // A cached token of the old set, for the rotation to retire.
        click_in_row(&client, "mypos-shop", "test-button").await;
        wait_for(
            &client,
            &format!(
                "{} {}[data-ok=\"true\"]",
                row_selector("mypos-shop"),
                testid("test-report")
            ),
        )
        .await;
        let old_token = mypos.last_token(old_id).expect("a cached token");

        // The merchant generated a new set in the myPOS Account.
        let (new_id, new_secret) = mypos.issue_new_set(old_id).expect("a new set");
        open_wizard(&client, "mypos-shop").await;
        wait_for(&client, &testid("wizard-new-set-intro")).await;
        let id_input = testid("rotate-client_id");
        assert_eq!(
            value_of(&client, &id_input).await,
            old_id,
            "prefilled with the current id"
        );
        let id_type = wait_for(&client, &id_input).await.attr("type").await.expect("attr");
        assert_eq!(id_type.as_deref(), Some("text"), "the client ID is not a secret");

        // A new client ID without a new secret is refused in the window, nothing sent.
        type_into(&client, &id_input, &new_id).await;
        click(&client, &testid("wizard-test")).await;
        let problem = text_of(&client, &testid("wizard-problem")).await;
        assert!(problem.contains("comes with a new client secret"), "{problem}");
        assert_eq!(mypos.stats().tokens_issued(&new_id), 0);

        wait_for(&client, &testid("rotate-client_secret"))
            .await
            .send_keys(&new_secret)
            .await
            .expect("the new secret can be typed");
        capture(&client, "rotate-identity-enter.png").await;
        click(&client, &testid("wizard-test")).await;
        wait_for(&client, &testid("wizard-retire")).await;
        let swapped = text_of(&client, &testid("wizard-swapped")).await;
        assert!(swapped.contains("new set") && swapped.contains(&new_id), "{swapped}");
        let old = wait_for(&client, &testid("wizard-old-token")).await;
        assert_eq!(old.attr("data-status").await.expect("attr").as_deref(), Some("revoked"));
        let with = text_of(&client, &testid("wizard-old-identity")).await;
        assert!(
            with.contains(&format!("client_id {old_id}")) && with.contains("old set"),
            "the result says the old token was revoked with the old id: {with}"
        );
        capture(&client, "rotate-identity-retire.png").await;
        // The simulator saw the revocation by the old client, of the old token.
        assert_eq!(mypos.stats().revocations(old_id), 1);
        assert_eq!(mypos.stats().revocations(&new_id), 0);
        assert!(mypos.token_info(&old_token).expect("known").revoked);

        click(&client, &testid("wizard-confirm")).await;
        click(&client, &format!("{}:not([disabled])", testid("wizard-done"))).await;
        click(&client, &testid("wizard-finish")).await;
        wait_gone(&client, &testid("rotation-wizard")).await;
        let rotation = format!("{} {}", row_selector("mypos-shop"), testid("cell-rotation"));
        wait_for_text(&client, &rotation, "Up to date", |t| t.contains("Up to date")).await;

        // The merchant deletes the old set in the portal; the credential works with the new.
        assert!(mypos.remove_client(old_id));
        click_in_row(&client, "mypos-shop", "test-button").await;
        wait_for(
            &client,
            &format!(
                "{} {}[data-ok=\"true\"]",
                row_selector("mypos-shop"),
                testid("test-report")
            ),
        )
        .await;
        client.close().await.expect("the session closes");
        (new_id, new_secret)
    });

    let vault = vault_at(&data, Utc::now());
    let shop = vault.show("mypos-shop").expect("show");
    assert_eq!(shop.fields["client_id"], new_id);
    assert_eq!(
        vault
            .secret("mypos-shop", "client_secret")
            .expect("secret")
            .expose_secret(),
        new_secret
    );
    clean_vault(&data);
}

#[test]
fn the_demo_portal_issues_a_new_mypos_set_and_the_wizard_rotates_to_it_by_clicking() {
    let _serial = serial();
    let (_root, data) = data_root();
    let driver = Driver::start(&data);

    runtime().block_on(async {
        let client = driver.launch_app().await;
        client.set_window_size(1000, 760).await.expect("size");
        wait_for_list(&client).await;
        click(&client, &testid("open-demo")).await;
        wait_for(&client, &testid("demo-badge")).await;
        wait_for(&client, &row_selector("demo-mypos")).await;
        click_in_row(&client, "demo-mypos", "test-button").await;
        wait_for(
            &client,
            &format!(
                "{} {}[data-ok=\"true\"]",
                row_selector("demo-mypos"),
                testid("test-report")
            ),
        )
        .await;

        open_wizard(&client, "demo-mypos").await;
        let id_input = testid("rotate-client_id");
        assert_eq!(value_of(&client, &id_input).await, sim_demo::MYPOS_CLIENT_ID);
        click(&client, &testid("wizard-demo-secret")).await;
        wait_for_text(&client, &testid("wizard-demo-portal"), "the new set", |t| {
            t.contains("issued a new set")
        })
        .await;
        let new_id = value_of(&client, &id_input).await;
        assert!(
            new_id.starts_with(sim_demo::MYPOS_CLIENT_ID) && new_id != sim_demo::MYPOS_CLIENT_ID,
            "the portal's new client ID is filled in: {new_id}"
        );
        let secret = wait_for(&client, &testid("rotate-client_secret")).await;
        assert_eq!(secret.attr("type").await.expect("attr").as_deref(), Some("password"));
        assert!(!secret
            .prop("value")
            .await
            .expect("value")
            .unwrap_or_default()
            .is_empty());
        capture(&client, "rotate-identity-demo.png").await;
        click(&client, &testid("wizard-test")).await;
        let old = wait_for(&client, &testid("wizard-old-token")).await;
        assert_eq!(old.attr("data-status").await.expect("attr").as_deref(), Some("revoked"));
        let with = text_of(&client, &testid("wizard-old-identity")).await;
        assert!(with.contains(sim_demo::MYPOS_CLIENT_ID), "{with}");
        click(&client, &testid("wizard-confirm")).await;
        click(&client, &format!("{}:not([disabled])", testid("wizard-done"))).await;
        click(&client, &testid("wizard-finish")).await;
        wait_gone(&client, &testid("rotation-wizard")).await;
        // The row shows the new client ID and the new set passes its test.
        click_in_row(&client, "demo-mypos", "test-button").await;
        wait_for(
            &client,
            &format!(
                "{} {}[data-ok=\"true\"]",
                row_selector("demo-mypos"),
                testid("test-report")
            ),
        )
        .await;
        client.close().await.expect("the session closes");
    });
}
