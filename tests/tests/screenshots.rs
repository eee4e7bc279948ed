//! Regenerates the screenshots in `docs/screenshots/` from the real window, with real data
//! from the provider simulators. Not part of the normal run:
//!
//! ```text
//! ./scripts/with-keyring.sh cargo test -p tillkey-e2e --test screenshots -- --ignored
//! ```

mod common;
#[path = "../support/sni.rs"]
mod sni;

use chrono::{Duration as Days, Utc};
use common::*;
use fantoccini::Client;
use std::time::Duration;
use tillkey_sim::SimConfig;

async fn shot(client: &Client, name: &str) {
    // Let transitions and the highlight settle.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let png = client.screenshot().await.expect("a screenshot");
    std::fs::write(shots_dir().join(name), png).expect("the screenshot is written");
}

async fn scroll_to(client: &Client, css: &str) {
    client
        .execute(
            "document.querySelector(arguments[0]).scrollIntoView({block: 'start'}); window.scrollBy(0, -12);",
            vec![serde_json::json!(css)],
        )
        .await
        .expect("scroll");
}

#[test]
#[ignore = "writes docs/screenshots; run explicitly"]
fn screenshots() {
    let _serial = serial();
    let root = tempfile::tempdir().expect("temp dir");
    let data = root.path().join("data");
    let driver = Driver::start(&data);

    runtime().block_on(async {
        // The demo vault, every credential tested.
        let client = driver.launch_app_with_args(&["--demo"]).await;
        client.set_window_size(1000, 720).await.expect("size");
        wait_for(&client, &row_selector("demo-mypos")).await;
        click(&client, &testid("test-all")).await;
        wait_for_text(&client, &testid("test-all-summary"), "the summary", |t| {
            t.contains("7 passed")
        })
        .await;
        // The first screenshot of a WebKitGTK session can show the first paint: discard it.
        let _ = client.screenshot().await;
        shot(&client, "main.png").await;

        // The same at the smallest supported window size.
        client.set_window_size(800, 600).await.expect("size");
        tokio::time::sleep(Duration::from_millis(400)).await;
        shot(&client, "small-window.png").await;
        client.set_window_size(1000, 720).await.expect("size");

        // A test result, expanded in its row.
        click_in_row(&client, "demo-ereceipt", "test-button").await;
        let report = format!("{} {}", row_selector("demo-ereceipt"), testid("test-report"));
        wait_for(&client, &report).await;
        scroll_to(&client, &row_selector("demo-ereceipt")).await;
        shot(&client, "test-result.png").await;

        // Dark theme.
        client.execute("window.scrollTo(0, 0)", vec![]).await.expect("scroll");
        wait_for(&client, &testid("theme-select"))
            .await
            .select_by_value("dark")
            .await
            .expect("dark");
        shot(&client, "main-dark.png").await;
        wait_for(&client, &testid("theme-select"))
            .await
            .select_by_value("system")
            .await
            .expect("system");

        // The add form.
        open_add_form(&client, "paysera-pos").await;
        fill_name(&client, "main-shop").await;
        wait_for(&client, &testid("environment-select"))
            .await
            .select_by_value("sandbox")
            .await
            .expect("env");
        fill_field(&client, "token", "a-personal-access-token").await;
        scroll_to(&client, "#form-title").await;
        shot(&client, "add-form.png").await;
        click(&client, &testid("add-cancel")).await;

        // Inline validation.
        open_add_form(&client, "oauth2").await;
        fill_name(&client, "shop api").await;
        fill_field(&client, "token_url", "http://auth.example.com/oauth/token").await;
        click(&client, &testid("save-and-test")).await;
        wait_for(&client, &testid("problem-client_id")).await;
        client.execute("window.scrollTo(0, 0)", vec![]).await.expect("scroll");
        scroll_to(&client, "#cred-name").await;
        shot(&client, "add-form-error.png").await;
        client.close().await.expect("close");
    });
    drop(driver);

    // Reminders and the rotation wizard, against simulators in this process.
    let sims = tillkey_sim::demo_blocking(SimConfig::default()).expect("simulators");
    let vault = vault_at(&data, Utc::now() - Days::days(95));
    add_demo_credential(&vault, sims.credential("paysera-pos").expect("pos"), "pos-main-shop");
    let vault = vault_at(&data, Utc::now() - Days::days(85));
    add_demo_credential(&vault, sims.credential("mypos").expect("mypos"), "mypos-terminals");
    let vault = vault_at(&data, Utc::now() - Days::days(20));
    add_demo_credential(
        &vault,
        sims.credential("paysera-checkout").expect("checkout"),
        "web-checkout",
    );
    sims.simulator(tillkey_sim::ProviderSim::PayseraPos)
        .expect("pos sim")
        .add_pat("new-paysera-pat-2026", true);
    let driver = Driver::start(&data);
    runtime().block_on(async {
        let client = driver.launch_app().await;
        client.set_window_size(1000, 720).await.expect("size");
        wait_for(&client, &testid("reminder-summary")).await;
        click_in_row(&client, "web-checkout", "copy-button").await;
        wait_for(&client, &testid("copy-status")).await;
        client.execute("window.scrollTo(0, 0)", vec![]).await.expect("scroll");
        let _ = client.screenshot().await;
        shot(&client, "reminders.png").await;

        open_wizard(&client, "pos-main-shop").await;
        type_into(&client, &testid("rotate-token"), "new-paysera-pat-2026").await;
        click(&client, &testid("wizard-test")).await;
        wait_for(&client, &testid("wizard-portal-steps")).await;
        shot(&client, "rotation-wizard.png").await;
        click(&client, &testid("wizard-confirm")).await;
        click(&client, &format!("{}:not([disabled])", testid("wizard-done"))).await;
        click(&client, &testid("wizard-finish")).await;
        client.close().await.expect("close");
    });
    clean_vault(&data);
    clean_vault(&root.path().join("data-demo"));
}

#[path = "../../crates/cli/tests/support/bao.rs"]
mod bao;

#[test]
#[ignore = "writes docs/screenshots; run explicitly"]
fn team_vault_screenshot() {
    use secrecy::SecretString;
    use std::sync::Arc;
    use tillkey_core::vault::team::{self, ConnectOptions};
    use tillkey_core::{KeyringStore, SystemClock, Vault};

    let _serial = serial();
    let bao = bao::Bao::start();
    let demo = tillkey_sim::demo_blocking(SimConfig::default()).expect("the simulators start");
    let connect = |dir: &std::path::Path, token: String| {
        team::connect(
            dir,
            ConnectOptions::token("shops", &bao.addr),
            SecretString::from(token),
            Arc::new(KeyringStore),
        )
        .expect("connect");
    };
    let admin = tempfile::tempdir().expect("admin dir");
    connect(admin.path(), bao.token("tillkey-admin"));
    let team_vault =
        Vault::open_team(admin.path(), "shops", Arc::new(KeyringStore), Arc::new(SystemClock)).expect("team");
    for (kind, name) in [
        ("mypos", "vilnius-mypos"),
        ("paysera-pos", "kaunas-pos"),
        ("chimpy", "riga-chimpy"),
    ] {
        let c = demo
            .credentials
            .iter()
            .find(|c| c.kind == kind)
            .expect("demo credential");
        add_demo_credential(&team_vault, c, name);
    }
    let root = tempfile::tempdir().expect("temp dir");
    let data = root.path().join("data");
    connect(&data, bao.token("tillkey-staff"));
    let driver = Driver::start(&data);
    runtime().block_on(async {
        let client = driver.launch_app().await;
        client.set_window_size(1000, 720).await.expect("size");
        wait_for_list(&client).await;
        wait_for(&client, &testid("vault-select"))
            .await
            .select_by_value("shops")
            .await
            .expect("switch");
        wait_for(&client, &row_selector("vilnius-mypos")).await;
        wait_for(&client, &testid("read-only-notice")).await;
        click(&client, &testid("test-all")).await;
        wait_for_text(&client, &testid("test-all-summary"), "the summary", |t| {
            t.contains("3 passed")
        })
        .await;
        let _ = client.screenshot().await;
        shot(&client, "team-vault.png").await;
        client.close().await.expect("close");
    });
    for dir in [admin.path(), data.as_path()] {
        team::disconnect(dir, "shops", Arc::new(KeyringStore)).expect("disconnect");
    }
    clean_vault(&data);
}

/// The edit form asking for the current secret after the token URL changed (issue 10):
/// captured from the X display (`import -window root`), cropped to the window.
#[test]
#[ignore = "writes docs/screenshots; run explicitly"]
fn edit_confirm_secret_screenshot() {
    let _serial = serial();
    let root = tempfile::tempdir().expect("temp dir");
    let data = root.path().join("data");
    let sims = tillkey_sim::demo_blocking(SimConfig::default()).expect("simulators");
    let vault = vault_at(&data, Utc::now() - Days::days(20));
    add_demo_credential(&vault, sims.credential("mypos").expect("mypos"), "mypos-terminals");
    let driver = Driver::start(&data);

    runtime().block_on(async {
        let client = driver.launch_app().await;
        client.set_window_size(1000, 720).await.expect("size");
        wait_for(&client, &row_selector("mypos-terminals")).await;
        click_in_row(&client, "mypos-terminals", "edit-button").await;
        wait_for(&client, "[data-testid=\"add-form\"][data-mode=\"edit\"]").await;
        fill_field(&client, "token_url", "https://auth.example.com/oauth/token").await;
        wait_for(&client, &testid("confirm-secrets")).await;
        type_into(&client, &testid("confirm-client_secret"), "typed-again").await;
        scroll_to(&client, &testid("optional-fields")).await;
        display_shot(&client, "edit-confirm-secret.png").await;
        client.close().await.expect("close");
    });
    clean_vault(&data);
}

/// The "Connect team vault" dialog (issue 12, item 5), filled in for AppRole with a CA file:
/// captured from the X display (`import -window root`), cropped to the window.
#[test]
#[ignore = "writes docs/screenshots; run explicitly"]
fn team_connect_screenshot() {
    let _serial = serial();
    let root = tempfile::tempdir().expect("temp dir");
    let data = root.path().join("data");
    let sims = tillkey_sim::demo_blocking(SimConfig::default()).expect("simulators");
    let vault = vault_at(&data, Utc::now() - Days::days(20));
    add_demo_credential(&vault, sims.credential("mypos").expect("mypos"), "mypos-terminals");
    add_demo_credential(&vault, sims.credential("paysera-pos").expect("pos"), "pos-main-shop");
    let driver = Driver::start(&data);

    runtime().block_on(async {
        let client = driver.launch_app().await;
        client.set_window_size(1000, 720).await.expect("size");
        wait_for(&client, &row_selector("mypos-terminals")).await;
        click(&client, &testid("connect-team-vault")).await;
        wait_for(&client, &format!("dialog{}[open]", testid("team-connect-dialog"))).await;
        type_into(&client, &testid("team-name"), "shops").await;
        type_into(&client, &testid("team-address"), "https://bao.shops.example:8200").await;
        wait_for(&client, &testid("team-auth"))
            .await
            .select_by_value("approle")
            .await
            .expect("AppRole");
        type_into(&client, &testid("team-role_id"), "7c1e0a52-3f4b-4d8e-9a61-0b2f5c8d7e19").await;
        type_into(&client, &testid("team-secret"), "a-secret-id-typed-here").await;
        type_into(&client, &testid("team-ca_file"), "/etc/ssl/certs/shops-ca.pem").await;
        client
            .execute(
                "document.querySelector('[data-testid=\"team-name\"]').focus(); \
                 document.querySelector('[data-testid=\"team-connect-dialog\"]').scrollTop = 0;",
                vec![],
            )
            .await
            .expect("scroll to the top of the dialog");
        display_shot(&client, "team-connect.png").await;
        client.close().await.expect("close");
    });
    clean_vault(&data);
}

/// The window opened from the tray on a due credential (the notice says why, the row is
/// highlighted), and the settings' "On this computer" section with a tray present
/// (issue 12): the tray menu is clicked over D-Bus, as a panel does.
#[test]
#[ignore = "writes docs/screenshots; run explicitly"]
fn tray_focus_and_desktop_settings_screenshots() {
    let _serial = serial();
    let watcher = sni::Watcher::start();
    let root = tempfile::tempdir().expect("temp dir");
    let data = root.path().join("data");
    let sims = tillkey_sim::demo_blocking(SimConfig::default()).expect("simulators");
    let vault = vault_at(&data, Utc::now() - Days::days(96));
    add_demo_credential(&vault, sims.credential("paysera-pos").expect("pos"), "pos-main-shop");
    let vault = vault_at(&data, Utc::now() - Days::days(20));
    add_demo_credential(&vault, sims.credential("mypos").expect("mypos"), "mypos-terminals");
    add_demo_credential(
        &vault,
        sims.credential("ereceipt").expect("ereceipt"),
        "ereceipt-till-1",
    );
    let driver = Driver::start(&data);

    runtime().block_on(async {
        let client = driver.launch_app().await;
        client.set_window_size(1000, 720).await.expect("size");
        wait_for(&client, &row_selector("mypos-terminals")).await;
        let (name, path) = watcher.wait_for_item(None, || ());
        let item = sni::TrayItem::new(name, path);
        let entry = item.wait_for_entry(&["pos-main-shop"]);
        item.click(&entry);
        wait_for(&client, &testid("focus-notice")).await;
        wait_for(&client, "li.cred-highlight").await;
        client.execute("window.scrollTo(0, 0)", vec![]).await.expect("scroll");
        display_shot(&client, "tray-focus.png").await;

        click(&client, &testid("open-settings")).await;
        wait_for(&client, &testid("settings-autostart")).await;
        display_shot(&client, "settings-desktop.png").await;
        // With a tray the app outlives its window: Quit it from the tray.
        item.click(&item.wait_for_entry(&["Quit Tillkey"]));
        let _ = client.close().await;
    });
    clean_vault(&data);
}

/// The shared-PC walk-through in the README: the passphrase set in Settings, the locked
/// window, and the unlock dialog a locked action opens. Captured from the X display.
#[test]
#[ignore = "writes docs/screenshots; run explicitly"]
fn locked_vault_screenshots() {
    let _serial = serial();
    let root = tempfile::tempdir().expect("temp dir");
    let data = root.path().join("data");
    let sims = tillkey_sim::demo_blocking(SimConfig::default()).expect("simulators");
    let vault = vault_at(&data, Utc::now() - Days::days(20));
    add_demo_credential(&vault, sims.credential("paysera-pos").expect("pos"), "pos-main-shop");
    add_demo_credential(&vault, sims.credential("mypos").expect("mypos"), "mypos-terminals");
    add_demo_credential(
        &vault,
        sims.credential("ereceipt").expect("ereceipt"),
        "ereceipt-till-1",
    );
    let driver = Driver::start_with(&data, &[("TILLKEY_NO_AGENT", "0")]);
    let passphrase = "front counter 7 horses";

    runtime().block_on(async {
        let client = driver.launch_app().await;
        client.set_window_size(1000, 760).await.expect("size");
        wait_for(&client, &row_selector("mypos-terminals")).await;
        click(&client, &testid("open-settings")).await;
        click(&client, &testid("passphrase-set-open")).await;
        type_into(&client, &testid("passphrase-new"), passphrase).await;
        type_into(&client, &testid("passphrase-confirm"), passphrase).await;
        scroll_to(&client, &testid("passphrase-settings")).await;
        display_shot(&client, "passphrase-set.png").await;
        click(&client, &testid("passphrase-set")).await;
        wait_for_text(&client, &testid("passphrase-state"), "the passphrase on", |t| {
            t.starts_with("On:")
        })
        .await;
        click(&client, &testid("settings-cancel")).await;
        wait_gone(&client, &testid("settings-dialog")).await;

        click(&client, &testid("lock-now")).await;
        wait_for(&client, &testid("lock-banner")).await;
        display_shot(&client, "locked.png").await;

        click_in_row(&client, "pos-main-shop", "copy-button").await;
        wait_for(&client, &testid("unlock-dialog")).await;
        display_shot(&client, "unlock.png").await;
        type_into(&client, &testid("unlock-passphrase"), passphrase).await;
        click(&client, &testid("unlock-submit")).await;
        wait_gone(&client, &testid("lock-banner")).await;
        let _ = client.close().await;
    });
    // Leave the keyring as it was: the passphrase off, the credentials gone.
    let _ = tillkey_core::passphrase::remove(
        &data,
        &tillkey_core::KeyringStore,
        &secrecy::SecretString::from(passphrase),
    );
    clean_vault(&data);
}
