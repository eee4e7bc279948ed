//! The app's vault switcher against a real OpenBao server: a staff member whose policy only
//! reads sees the team's credentials next to the local vault, with a read-only notice,
//! tests one, and keeps working in the local vault when the engine goes away.

mod common;

#[path = "../../crates/cli/tests/support/bao.rs"]
mod bao;

use bao::Bao;
use common::{
    click_in_row, files_containing, row_names, row_selector, runtime, serial, testid, wait_for, wait_for_list,
    wait_for_text, Driver,
};
use secrecy::SecretString;
use std::sync::Arc;
use tillkey_core::vault::team::{self, ConnectOptions};
use tillkey_core::{KeyringStore, NewCredential, SystemClock, Vault};

fn connect(dir: &std::path::Path, bao: &Bao, token: &str) {
    team::connect(
        dir,
        ConnectOptions::token("shop", &bao.addr),
        SecretString::from(token.to_string()),
        Arc::new(KeyringStore),
    )
    .expect("connect to the team vault");
}

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
    connect(admin.path(), &bao, &bao.token("tillkey-admin"));
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
    connect(data.path(), &bao, &bao.token("tillkey-staff"));

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
