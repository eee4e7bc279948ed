//! The app's vault switcher against a real OpenBao server: a staff member whose policy only
//! reads sees the team's credentials next to the local vault, with a read-only notice,
//! tests one, and keeps working in the local vault when the engine goes away. A team vault
//! is connected, used and disconnected entirely by clicking (issue 12, item 5), with a
//! token and with AppRole over TLS with a CA file.

mod common;

#[path = "../../crates/cli/tests/support/bao.rs"]
mod bao;

use bao::Bao;
use common::{
    click, click_in_row, files_containing, row_names, row_selector, runtime, serial, submit_add_form, testid,
    type_into, wait_for, wait_for_list, wait_for_text, wait_gone, Driver,
};
use fantoccini::{Client, Locator};
use secrecy::SecretString;
use std::sync::Arc;
use tillkey_core::vault::team::{self, ConnectOptions};
use tillkey_core::{KeyringStore, NewCredential, SystemClock, Vault};

#[test]
fn staff_switch_to_a_read_only_team_vault_test_a_credential_and_fall_back_to_local() {
    let _serial = serial();
    let mut bao = Bao::start();
    let demo = tillkey_sim::demo_blocking(tillkey_sim::SimConfig::default()).expect("the simulators start");
    let mypos = demo
        .credentials
        .iter()
        .find(|c| c.kind == "mypos")
        .expect("a myPOS demo credential");
    let client_secret = mypos.secrets.values().next().expect("a client secret").clone();

    // An admin's machine puts a credential into the team vault.
    let admin = tempfile::tempdir().expect("admin data dir");
    common::connect_team_shop(admin.path(), &bao.addr, &bao.token("tillkey-admin"));
    let team_vault =
        Vault::open_team(admin.path(), "shop", Arc::new(KeyringStore), Arc::new(SystemClock)).expect("open team");
    common::add_demo_credential(&team_vault, mypos, "team-mypos");

    // The staff machine: one local credential, and the team vault with a read-only token.
    let data = tempfile::tempdir().expect("staff data dir");
    let local = Vault::open(data.path(), Arc::new(KeyringStore), Arc::new(SystemClock)).expect("local vault");
    local
        .add(NewCredential {
            name: "local-pos".into(),
            provider: "bearer".into(),
            environment: None,
            fields: Default::default(),
            secrets: [("token".to_string(), SecretString::from("local-only-token".to_string()))].into(),
        })
        .expect("add a local credential");
    common::connect_team_shop(data.path(), &bao.addr, &bao.token("tillkey-staff"));

    let driver = Driver::start(data.path());
    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        wait_for(&client, &row_selector("local-pos")).await;

        // The switcher lists both vaults; the team one says it is read-only.
        let select = wait_for(&client, &testid("vault-select")).await;
        let team_option = wait_for(&client, &format!("{} option[value=\"shop\"]", testid("vault-select"))).await;
        let label = team_option.text().await.expect("option text");
        assert!(
            label.contains("shop (team)") && label.contains("read-only"),
            "{label:?}"
        );
        select.select_by_value("shop").await.expect("pick the team vault");

        // The team's credential, and nothing of the local vault.
        wait_for(&client, &row_selector("team-mypos")).await;
        assert_eq!(row_names(&client).await, vec!["team-mypos".to_string()]);
        let banner = wait_for(&client, &testid("team-banner")).await;
        assert_eq!(banner.attr("data-vault").await.expect("attr").as_deref(), Some("shop"));
        wait_for(&client, &testid("read-only-notice")).await;
        let add = wait_for(&client, &testid("open-add-form")).await;
        assert_eq!(
            add.attr("disabled").await.expect("attr").as_deref(),
            Some("true"),
            "adding is off in a read-only vault"
        );
        let home = wait_for(
            &client,
            &format!("{} {}", row_selector("team-mypos"), testid("cell-vault")),
        )
        .await;
        let home = home.text().await.expect("vault cell");
        assert!(home.contains("shop"), "the row says which vault holds it: {home:?}");

        // Reading is allowed: a one-click test fetches a token with the team's secret.
        click_in_row(&client, "team-mypos", "test-button").await;
        let report = wait_for(
            &client,
            &format!("{} {}", row_selector("team-mypos"), testid("test-report")),
        )
        .await;
        assert_eq!(report.attr("data-ok").await.expect("attr").as_deref(), Some("true"));

        // The engine goes away: the team vault says so, and the local vault still works.
        bao.stop();
        let select = wait_for(&client, &testid("vault-select")).await;
        select.select_by_value("local").await.expect("back to the local vault");
        wait_for(&client, &row_selector("local-pos")).await;
        assert_eq!(row_names(&client).await, vec!["local-pos".to_string()]);
        wait_for_text(
            &client,
            &format!("{} option[value=\"shop\"]", testid("vault-select")),
            "the unreachable team vault",
            |t| t.contains("unreachable"),
        )
        .await;
        client.close().await.expect("the session closes");
    });

    // Nothing of the team's secret reached the staff machine's disk.
    let leaks = files_containing(data.path(), client_secret.as_bytes());
    assert!(leaks.is_empty(), "team secret found in {leaks:?}");
    local.remove("local-pos").expect("clean up the local credential");
    for dir in [admin.path(), data.path()] {
        team::disconnect(dir, "shop", Arc::new(KeyringStore)).expect("disconnect");
    }
}

/// Opens the "Connect team vault" dialog from the vault switcher.
async fn open_connect_dialog(client: &Client) {
    click(client, &testid("connect-team-vault")).await;
    wait_for(client, &format!("dialog{}[open]", testid("team-connect-dialog"))).await;
}

/// Clicks Connect and waits for the dialog's error; returns its code and hint.
async fn connect_fails(client: &Client) -> (String, String) {
    submit(client).await;
    let code = wait_for(client, &testid("team-connect-error-code"))
        .await
        .text()
        .await
        .expect("code");
    let hint = wait_for(client, &testid("team-connect-error-hint"))
        .await
        .text()
        .await
        .expect("hint");
    (code, hint)
}

/// Clicks Connect, scrolled into view inside the dialog first as a person would.
async fn submit(client: &Client) {
    let css = testid("team-connect-submit");
    wait_for(client, &css).await;
    client
        .execute(
            "document.querySelector(arguments[0]).scrollIntoView({block: 'nearest'});",
            vec![serde_json::json!(css)],
        )
        .await
        .expect("scroll");
    click(client, &css).await;
}

/// Whether the dialog's input for `field` is marked invalid.
async fn marked_invalid(client: &Client, field: &str) -> bool {
    let input = wait_for(client, &testid(&format!("team-{field}"))).await;
    input.attr("aria-invalid").await.expect("attr").as_deref() == Some("true")
}

/// Disconnects the team vault shown, from its banner, and waits for the local vault.
async fn disconnect_by_clicking(client: &Client, name: &str) {
    click(client, &testid("team-disconnect")).await;
    let dialog = wait_for(client, &format!("dialog{}[open]", testid("team-disconnect-dialog"))).await;
    let text = dialog.text().await.expect("dialog text");
    assert!(text.contains(name), "{text}");
    click(client, &testid("team-disconnect-confirm")).await;
    wait_gone(client, &testid("team-banner")).await;
    // Back to this computer's vault; with no team vault left, only "Connect team vault…".
    wait_gone(client, &testid("vault-select")).await;
    wait_for(client, &testid("connect-team-vault")).await;
}

#[test]
fn connect_use_and_disconnect_a_team_vault_by_clicking() {
    let _serial = serial();
    let bao = Bao::start();
    let demo = tillkey_sim::demo_blocking(tillkey_sim::SimConfig::default()).expect("the simulators start");
    let mypos = demo.credential("mypos").expect("a myPOS demo credential");
    let admin = tempfile::tempdir().expect("admin data dir");
    common::connect_team_shop(admin.path(), &bao.addr, &bao.token("tillkey-admin"));
    let team_vault =
        Vault::open_team(admin.path(), "shop", Arc::new(KeyringStore), Arc::new(SystemClock)).expect("open team");
    common::add_demo_credential(&team_vault, mypos, "team-mypos");

    // A machine with nothing connected yet; its merchant has an admin token for the team.
    let data = tempfile::tempdir().expect("data dir");
    let token = bao.token("tillkey-admin");
    let driver = Driver::start(data.path());
    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        assert!(client.find(Locator::Css(&testid("vault-select"))).await.is_err());
        open_connect_dialog(&client).await;
        let check = client
            .execute(
                "const d = document.querySelector('[data-testid=\"team-connect-dialog\"]'); \
                 const bare = [...d.querySelectorAll('input, select')] \
                   .filter((e) => e.labels.length === 0 && !e.getAttribute('aria-label')) \
                   .map((e) => e.name); \
                 return { focused: document.activeElement.id, bare };",
                vec![],
            )
            .await
            .expect("the check runs");
        assert_eq!(check["focused"], "team-name", "the dialog starts at its first field");
        assert_eq!(check["bare"], serde_json::json!([]), "every field has a label");
        type_into(&client, &testid("team-name"), "shop").await;
        type_into(&client, &testid("team-address"), &bao.addr).await;
        let secret = wait_for(&client, &testid("team-secret")).await;
        assert_eq!(secret.attr("type").await.expect("type").as_deref(), Some("password"));

        // The checks of `tillkey vault connect`, with its codes, and hints for this dialog.
        type_into(&client, &testid("team-secret"), "hvs.not-a-real-token").await;
        let (code, hint) = connect_fails(&client).await;
        assert_eq!(code, "vault_auth");
        assert!(hint.ends_with("Type a valid one and connect again."), "{hint}");
        assert!(!hint.contains("tillkey vault"), "{hint}");
        wait_for(&client, &testid("team-auth"))
            .await
            .select_by_value("approle")
            .await
            .expect("AppRole");
        let (code, _) = connect_fails(&client).await;
        assert_eq!(code, "invalid_input");
        assert!(marked_invalid(&client, "role_id").await, "the role ID is marked");
        let message = wait_for(&client, &testid("team-connect-error-message"))
            .await
            .text()
            .await
            .expect("text");
        assert!(message.contains("role ID") && !message.contains("--"), "{message}");
        wait_for(&client, &testid("team-auth"))
            .await
            .select_by_value("token")
            .await
            .expect("token");
        assert!(
            team::config::list_configs(data.path()).expect("configs").is_empty(),
            "nothing is saved while the checks fail"
        );

        // The real token: connected, listed and opened.
        type_into(&client, &testid("team-secret"), &token).await;
        submit(&client).await;
        wait_gone(&client, &testid("team-connect-dialog")).await;
        wait_for(&client, &row_selector("team-mypos")).await;
        let banner = wait_for(&client, &testid("team-banner")).await;
        assert_eq!(banner.attr("data-vault").await.expect("attr").as_deref(), Some("shop"));
        let select = wait_for(&client, &testid("vault-select")).await;
        assert_eq!(select.prop("value").await.expect("value").as_deref(), Some("shop"));
        assert!(
            !client.source().await.expect("source").contains(&token),
            "the token never comes back"
        );
        // The switcher, its state, "Connect team vault…" and the banner fit the smallest window.
        client.set_window_size(800, 600).await.expect("resize");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let overflow = client
            .execute(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
                vec![],
            )
            .await
            .expect("measure");
        assert!(
            overflow.as_i64().unwrap_or(1) <= 0,
            "a team vault's top bar scrolls sideways at 800 × 600 ({overflow})"
        );

        // Used: a test with the team's secret, and a credential added by form into the engine.
        click_in_row(&client, "team-mypos", "test-button").await;
        let report = wait_for(
            &client,
            &format!("{} {}", row_selector("team-mypos"), testid("test-report")),
        )
        .await;
        assert_eq!(report.attr("data-ok").await.expect("attr").as_deref(), Some("true"));
        submit_add_form(&client, "team-static", "bearer", &[("token", "team-static-token")]).await;
        wait_for(&client, &row_selector("team-static")).await;
        let names: Vec<String> = team_vault
            .list()
            .expect("the admin lists")
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert!(names.contains(&"team-static".to_string()), "{names:?}");

        // The switcher lists both vaults; back to local and into the team vault again.
        select.select_by_value("local").await.expect("local");
        wait_gone(&client, &testid("team-banner")).await;
        wait_for(&client, &testid("vault-select"))
            .await
            .select_by_value("shop")
            .await
            .expect("shop");
        wait_for(&client, &row_selector("team-static")).await;

        disconnect_by_clicking(&client, "shop").await;
        wait_for_list(&client).await;
        assert!(row_names(&client).await.is_empty(), "this computer's vault is empty");
        client.close().await.expect("the session closes");
    });

    // Forgotten on this machine only, as `tillkey vault disconnect` does: the team's data stays.
    assert!(team::config::list_configs(data.path()).expect("configs").is_empty());
    assert!(bao.kv_get("vault").is_some(), "the engine keeps the team's vault");
    assert_eq!(team_vault.list().expect("the admin still lists").len(), 2);
    let leaks = files_containing(data.path(), token.as_bytes());
    assert!(leaks.is_empty(), "engine token found in {leaks:?}");
    team_vault.remove("team-static").expect("clean up");
    team::disconnect(admin.path(), "shop", Arc::new(KeyringStore)).expect("disconnect the admin");
}

#[test]
fn connect_by_clicking_with_approle_over_tls_and_a_ca_file() {
    let _serial = serial();
    let bao = Bao::start_tls();
    let ca = bao.ca.clone().expect("a -dev-tls CA");
    let demo = tillkey_sim::demo_blocking(tillkey_sim::SimConfig::default()).expect("the simulators start");
    let admin = tempfile::tempdir().expect("admin data dir");
    let mut opts = ConnectOptions::token("shops", &bao.addr);
    opts.ca_file = Some(ca.clone());
    team::connect(
        admin.path(),
        opts,
        SecretString::from(bao.token("tillkey-admin")),
        Arc::new(KeyringStore),
    )
    .expect("the admin connects");
    let team_vault =
        Vault::open_team(admin.path(), "shops", Arc::new(KeyringStore), Arc::new(SystemClock)).expect("open team");
    common::add_demo_credential(&team_vault, demo.credential("oauth2").expect("oauth2"), "team-api");
    let (role_id, secret_id) = bao.approle("tillkey-staff-role", "tillkey-staff");

    let data = tempfile::tempdir().expect("data dir");
    let driver = Driver::start(data.path());
    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        open_connect_dialog(&client).await;
        type_into(&client, &testid("team-name"), "shops").await;
        type_into(&client, &testid("team-address"), &bao.addr).await;
        wait_for(&client, &testid("team-auth"))
            .await
            .select_by_value("approle")
            .await
            .expect("AppRole");
        type_into(&client, &testid("team-role_id"), &role_id).await;
        type_into(&client, &testid("team-secret"), &secret_id).await;

        // The engine's certificate is signed by a private CA: the hint points at the field.
        let (code, hint) = connect_fails(&client).await;
        assert_eq!(code, "vault_tls");
        assert!(hint.ends_with("under CA file."), "{hint}");
        // The window has no working directory of the merchant's: a full path is asked for.
        type_into(&client, &testid("team-ca_file"), "vault-ca.pem").await;
        let (code, _) = connect_fails(&client).await;
        assert_eq!(code, "invalid_input");
        assert!(marked_invalid(&client, "ca_file").await, "the CA file is marked");
        type_into(&client, &testid("team-ca_file"), ca.to_str().expect("utf-8 path")).await;
        submit(&client).await;
        wait_gone(&client, &testid("team-connect-dialog")).await;

        // Opened, read-only under the staff policy, and the team's credential works.
        wait_for(&client, &row_selector("team-api")).await;
        wait_for(&client, &testid("read-only-notice")).await;
        click_in_row(&client, "team-api", "copy-button").await;
        wait_for(
            &client,
            &format!("{} {}", row_selector("team-api"), testid("copy-status")),
        )
        .await;
        assert!(!client.source().await.expect("source").contains(&secret_id));
        // Saved as `tillkey vault connect shops --auth approle --role-id … --ca-file …` saves it.
        let saved = team::config::find_config(data.path(), "shops").expect("saved");
        assert_eq!(saved.auth, team::TeamAuth::Approle);
        assert_eq!(saved.role_id.as_deref(), Some(role_id.as_str()));
        assert_eq!(saved.ca_file, Some(std::fs::canonicalize(&ca).expect("the CA file")));
        assert_eq!((saved.mount.as_str(), saved.prefix.as_str()), ("secret", "tillkey"));

        disconnect_by_clicking(&client, "shops").await;
        client.close().await.expect("the session closes");
    });

    // Forgotten here, and nothing secret on disk.
    assert!(team::config::list_configs(data.path()).expect("configs").is_empty());
    let leaks = files_containing(data.path(), secret_id.as_bytes());
    assert!(leaks.is_empty(), "secret_id found in {leaks:?}");
    team::disconnect(admin.path(), "shops", Arc::new(KeyringStore)).expect("disconnect the admin");
}
