//! End-to-end tests of the merchant workflows in the real window: add each kind by form
//! against the provider simulators, connectivity tests, copy to the clipboard and its
//! clear, the rotation wizard (success and failure), reminders with desktop notifications,
//! the demo vault, search/filter/sort, edit, and accessible names at 800 × 600.
//!
//! Run inside `scripts/with-keyring.sh` (Xvfb, D-Bus, gnome-keyring, dunst); xclip and
//! dunstctl must be installed.

mod common;

use chrono::{Duration as Days, Utc};
use common::*;
use fantoccini::{Client, Locator};
use secrecy::ExposeSecret;
use std::time::{Duration, Instant};
use tillkey_sim::{demo as sim_demo, Demo, SimConfig};

fn simulators() -> Demo {
    tillkey_sim::demo_blocking(SimConfig::default()).expect("the provider simulators start")
}

/// A data dir inside a temp dir, so the demo vault (`<data dir>-demo`) is cleaned up too.
fn data_root() -> (tempfile::TempDir, std::path::PathBuf) {
    let root = tempfile::tempdir().expect("a temp dir");
    let data = root.path().join("data");
    (root, data)
}

async fn row_report_ok(client: &Client, name: &str) -> bool {
    let css = format!("{} {}", row_selector(name), testid("test-report"));
    let report = wait_for(client, &css).await;
    report.attr("data-ok").await.expect("data-ok").as_deref() == Some("true")
}

#[test]
fn every_kind_is_added_by_form_and_passes_save_and_test() {
    let _serial = serial();
    let sims = simulators();
    let (_root, data) = data_root();
    let driver = Driver::start(&data);

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        for c in &sims.credentials {
            let name = format!("form-{}", c.kind);
            open_add_form(&client, &c.kind).await;
            fill_name(&client, &name).await;
            let env = wait_for(&client, &testid("environment-select")).await;
            if env.attr("disabled").await.expect("attr").is_none() {
                env.select_by_value(&c.env)
                    .await
                    .expect("the environment can be picked");
            }
            for (field, value) in c.fields.iter().chain(c.secrets.iter()) {
                fill_field(&client, field, value).await;
            }
            click(&client, &testid("save-and-test")).await;
            wait_for(&client, &row_selector(&name)).await;
            let css = format!("{} {}", row_selector(&name), testid("test-report"));
            let report = wait_for(&client, &css).await;
            let text = report.text().await.expect("report text");
            assert_eq!(
                report.attr("data-ok").await.expect("data-ok").as_deref(),
                Some("true"),
                "{} failed its test after Save and test:\n{text}",
                c.kind
            );
            assert!(text.contains("Test passed"), "{text}");
            assert!(text.contains("HTTP 200"), "the report shows HTTP statuses: {text}");
            assert!(text.contains(" ms"), "the report shows latencies: {text}");
            assert!(
                text.contains("Rate limit:"),
                "the report shows rate-limit headers: {text}"
            );
            let stages = report
                .find_all(Locator::Css(&testid("test-report-stage")))
                .await
                .expect("stages");
            let expected = if c.kind == "paysera-pos" || c.kind == "bearer" {
                2
            } else {
                3
            };
            assert_eq!(stages.len(), expected, "{}: connect, (token,) API stages", c.kind);
        }
        assert_eq!(row_names(&client).await.len(), sims.credentials.len());
        // Every OAuth kind really asked its simulator for a token.
        for s in &sims.simulators {
            if s.provider().token_path().is_some() {
                assert!(s.stats().tokens_issued_total() >= 1, "{} issued no token", s.provider());
            }
        }
        let source = client.source().await.expect("page source");
        for c in &sims.credentials {
            for secret in c.secrets.values() {
                assert!(!source.contains(secret.as_str()), "a typed secret stayed in the page");
            }
        }
        client.close().await.expect("the session closes");
    });
    for c in &sims.credentials {
        for secret in c.secrets.values() {
            let leaks = files_containing(&data, secret.as_bytes());
            assert!(leaks.is_empty(), "secret found in {leaks:?}");
        }
    }
    clean_vault(&data);
}

#[test]
fn the_form_explains_problems_inline_and_saves_nothing_invalid() {
    let _serial = serial();
    let (_root, data) = data_root();
    let driver = Driver::start(&data);

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        open_add_form(&client, "oauth2").await;
        // Saving an empty form names every required field next to it.
        click(&client, &testid("save-and-test")).await;
        let problem = text_of(&client, &testid("problem-name")).await;
        assert!(problem.contains("Enter a name"), "{problem}");
        let problem = text_of(&client, &testid("problem-client_id")).await;
        assert!(problem.contains("Enter the client id"), "{problem}");
        let problem = text_of(&client, &testid("problem-token_url")).await;
        assert!(problem.contains("Enter the token url"), "{problem}");
        // Specific messages for wrong values.
        fill_name(&client, "bad name").await;
        fill_field(&client, "token_url", "http://auth.example.com/token").await;
        fill_field(&client, "client_id", "abc").await;
        fill_field(&client, "client_secret", "s3cret-typed").await;
        wait_for_text(&client, &testid("problem-name"), "the space problem", |t| {
            t.contains("“space” is not allowed")
        })
        .await;
        let problem = text_of(&client, &testid("problem-token_url")).await;
        assert!(
            problem.contains("Plain http is allowed only for this computer"),
            "{problem}"
        );
        assert!(
            client.find(Locator::Css(&testid("problem-client_id"))).await.is_err(),
            "a filled field shows no problem"
        );
        click(&client, &testid("add-submit")).await;
        wait_for(&client, &testid("add-form")).await;
        // The secret input is masked, with a reveal toggle.
        let secret = wait_for(&client, &testid("field-client_secret")).await;
        assert_eq!(secret.attr("type").await.expect("type").as_deref(), Some("password"));
        click(&client, &testid("field-toggle-client_secret")).await;
        assert_eq!(secret.attr("type").await.expect("type").as_deref(), Some("text"));

        // A name taken meanwhile (by the CLI, say) comes back from the core, shown at the field.
        vault_at(&data, Utc::now())
            .add(tillkey_core::NewCredential {
                name: "taken".into(),
                provider: "bearer".into(),
                environment: None,
                fields: Default::default(),
                secrets: [("token".to_string(), secrecy::SecretString::from("cli-token"))].into(),
            })
            .expect("the CLI-side add");
        fill_name(&client, "taken").await;
        fill_field(&client, "token_url", "https://auth.example.com/token").await;
        click(&client, &testid("add-submit")).await;
        let code = text_of(&client, &testid("form-error-code")).await;
        assert_eq!(code, "already_exists");
        let problem = text_of(&client, &testid("problem-name")).await;
        assert!(problem.contains("taken"), "{problem}");
        let hint = text_of(&client, &testid("form-error-hint")).await;
        assert!(!hint.is_empty());
        click(&client, &testid("add-cancel")).await;
        wait_gone(&client, &testid("add-form")).await;
        client.refresh().await.expect("reload");
        wait_for_list(&client).await;
        assert_eq!(
            row_names(&client).await,
            vec!["taken".to_string()],
            "nothing invalid was saved"
        );
        client.close().await.expect("the session closes");
    });
    assert!(files_containing(&data, b"s3cret-typed").is_empty());
    clean_vault(&data);
}

/// Whether the form marks `field` as required: its input's `required` attribute, and the
/// asterisk in its label.
async fn marked_required(client: &Client, field: &str) -> (bool, bool) {
    let input = wait_for(client, &testid(&format!("field-{field}"))).await;
    let attribute = input.attr("required").await.expect("the required attribute").is_some();
    let mark = format!("label[for=\"cred-field-{field}\"] .required-mark");
    (attribute, client.find(Locator::Css(&mark)).await.is_ok())
}

/// Issue 11: the form reads `requiredUnless` from the schema: eReceipt's identity URL is
/// required (marked, and named when missing) while the token URL is empty, and optional
/// once the token URL is set.
#[test]
fn a_field_required_unless_another_is_set_follows_the_schema() {
    let _serial = serial();
    let (_root, data) = data_root();
    let driver = Driver::start(&data);

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        open_add_form(&client, "ereceipt").await;
        assert_eq!(
            marked_required(&client, "identity_url").await,
            (true, true),
            "required while the token URL is empty"
        );
        click(&client, &testid("save-and-test")).await;
        let problem = text_of(&client, &testid("problem-identity_url")).await;
        assert!(
            problem.contains("Enter the identity service url, or a token URL under Optional settings"),
            "{problem}"
        );

        fill_field(&client, "token_url", "https://auth.example.com/connect/token").await;
        wait_gone(&client, &testid("problem-identity_url")).await;
        assert_eq!(
            marked_required(&client, "identity_url").await,
            (false, false),
            "optional once the token URL is set"
        );
        click(&client, &testid("add-cancel")).await;
        wait_gone(&client, &testid("add-form")).await;
        client.close().await.expect("the session closes");
    });
}

#[test]
fn copy_puts_a_fresh_token_on_the_clipboard_and_clears_it() {
    let _serial = serial();
    let sims = simulators();
    let (_root, data) = data_root();
    let oauth = sims.credential("oauth2").expect("the oauth2 demo credential");
    add_demo_credential(&vault_at(&data, Utc::now()), oauth, "shop-api");
    let driver = Driver::start_with(&data, &[("TILLKEY_CLIPBOARD_CLEAR_SECS", "3")]);
    let sim = sims
        .simulator(tillkey_sim::ProviderSim::Oauth2)
        .expect("the oauth2 simulator");

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        set_clipboard("before");
        let token_cell = format!("{} {}", row_selector("shop-api"), testid("cell-token"));
        let before = text_of(&client, &token_cell).await;
        assert!(before.contains("no token yet"), "{before:?}");

        click_in_row(&client, "shop-api", "copy-button").await;
        let status = format!("{} {}", row_selector("shop-api"), testid("copy-status"));
        let shown = wait_for_text(&client, &status, "the copy status", |t| t.contains("Copied, clears in")).await;
        assert!(
            shown.contains("clears in 3 s") || shown.contains("clears in 2 s"),
            "{shown}"
        );
        let issued = sim_demo::OAUTH2_CLIENT_ID;
        let token = sim.last_token(issued).expect("the simulator issued a token on Copy");
        assert_eq!(
            clipboard_text().as_deref(),
            Some(token.as_str()),
            "the clipboard holds the fresh token"
        );
        assert!(
            !client.source().await.expect("source").contains(&token),
            "the copied token never enters the webview"
        );
        // The token status now counts down.
        wait_for_text(&client, &token_cell, "a live countdown", |t| t.contains("valid for")).await;

        // Cleared after the delay, because it still held the token.
        let deadline = Instant::now() + Duration::from_secs(10);
        while clipboard_text().as_deref() == Some(token.as_str()) {
            assert!(Instant::now() < deadline, "the clipboard was not cleared");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        wait_for_text(&client, &status, "the cleared status", |t| {
            t.contains("Clipboard cleared")
        })
        .await;

        // Copy again (the cached token this time), then the merchant copies something else:
        // it is left alone.
        click_in_row(&client, "shop-api", "copy-button").await;
        wait_for_text(&client, &status, "the copy status", |t| t.contains("Copied, clears in")).await;
        assert_eq!(
            clipboard_text().as_deref(),
            Some(token.as_str()),
            "the cached token is reused"
        );
        set_clipboard("merchant-notes");
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert_eq!(
            clipboard_text().as_deref(),
            Some("merchant-notes"),
            "another text is never cleared"
        );

        // Reveal shows the token, on an explicit click only.
        click_in_row(&client, "shop-api", "reveal-button").await;
        let revealed = wait_for(
            &client,
            &format!("{} {}", row_selector("shop-api"), testid("revealed-token")),
        )
        .await;
        assert_eq!(
            revealed.prop("value").await.expect("value").as_deref(),
            Some(token.as_str())
        );
        click_in_row(&client, "shop-api", "reveal-button").await;
        wait_gone(&client, &testid("revealed-token")).await;
        assert!(!client.source().await.expect("source").contains(&token));
        client.close().await.expect("the session closes");
    });
    clean_vault(&data);
}

#[test]
fn rotation_wizard_swaps_in_a_tested_secret_and_retires_the_old() {
    let _serial = serial();
    let sims = simulators();
    let (_root, data) = data_root();
    // Rotated 95 days ago: overdue by 5 whole days until day 96.
    let long_ago = Utc::now() - Days::days(95);
    let vault = vault_at(&data, long_ago);
    add_demo_credential(&vault, sims.credential("paysera-pos").expect("pos"), "pos-shop");
    add_demo_credential(&vault, sims.credential("mypos").expect("mypos"), "mypos-shop");
    let pos = sims.simulator(tillkey_sim::ProviderSim::PayseraPos).expect("pos sim");
    let mypos = sims.simulator(tillkey_sim::ProviderSim::Mypos).expect("mypos sim");
    // The merchant generated new secrets in the portals.
    pos.add_pat("new-paysera-pat-0987654321", true);
    let driver = Driver::start(&data);

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        let rotation = format!("{} {}", row_selector("pos-shop"), testid("cell-rotation"));
        assert!(text_of(&client, &rotation).await.contains("Overdue by 5 days"));

        // Paysera POS: a personal access token only the portal can revoke.
        open_wizard(&client, "pos-shop").await;
        let step = wait_for(&client, &testid("wizard-step-enter")).await;
        assert_eq!(step.attr("aria-current").await.expect("attr").as_deref(), Some("step"));
        wait_for(&client, &testid("rotate-token"))
            .await
            .send_keys("new-paysera-pat-0987654321")
            .await
            .expect("the new token can be typed");
        click(&client, &testid("wizard-test")).await;
        wait_for(&client, &testid("wizard-retire")).await;
        assert!(text_of(&client, &testid("wizard-swapped"))
            .await
            .contains("passed its test"));
        let portal = text_of(&client, &testid("wizard-portal-steps")).await;
        assert!(
            portal.contains("pos.paysera.com") && portal.contains("Revoke"),
            "{portal}"
        );
        let done = wait_for(&client, &testid("wizard-done")).await;
        assert!(
            done.attr("disabled").await.expect("attr").is_some(),
            "Done waits for the merchant's confirmation"
        );
        click(&client, &testid("wizard-confirm")).await;
        click(&client, &format!("{}:not([disabled])", testid("wizard-done"))).await;
        let finished = text_of(&client, &testid("wizard-done-step")).await;
        assert!(finished.contains("was rotated on"), "{finished}");
        click(&client, &testid("wizard-finish")).await;
        wait_gone(&client, &testid("rotation-wizard")).await;
        wait_for_text(&client, &rotation, "Up to date", |t| t.contains("Up to date")).await;
        // The audit log has the rotation once, from the window.
        let rotations: Vec<serde_json::Value> = std::fs::read_to_string(data.join("audit.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|e| e["action"] == "rotate" && e["credential"]["name"] == "pos-shop")
            .collect();
        assert_eq!(rotations.len(), 1, "{rotations:?}");
        assert_eq!(
            (&rotations[0]["origin"]["kind"], &rotations[0]["outcome"]),
            (&serde_json::json!("window"), &serde_json::json!("ok"))
        );

        // myPOS: the old secret's cached token is revoked at the provider's endpoint.
        click_in_row(&client, "mypos-shop", "test-button").await;
        assert!(row_report_ok(&client, "mypos-shop").await, "the old myPOS secret works");
        let old_token = mypos.last_token(sim_demo::MYPOS_CLIENT_ID).expect("a cached token");
        assert!(mypos.set_client_secret(sim_demo::MYPOS_CLIENT_ID, "new-mypos-secret"));
        open_wizard(&client, "mypos-shop").await;
        wait_for(&client, &testid("rotate-client_secret"))
            .await
            .send_keys("new-mypos-secret")
            .await
            .expect("typed");
        click(&client, &testid("wizard-test")).await;
        let old = wait_for(&client, &testid("wizard-old-token")).await;
        assert_eq!(old.attr("data-status").await.expect("attr").as_deref(), Some("revoked"));
        assert_eq!(mypos.stats().revocations(sim_demo::MYPOS_CLIENT_ID), 1);
        assert!(
            mypos.token_info(&old_token).is_none_or(|t| t.revoked),
            "the old token is revoked"
        );
        click(&client, &testid("wizard-confirm")).await;
        click(&client, &format!("{}:not([disabled])", testid("wizard-done"))).await;
        click(&client, &testid("wizard-finish")).await;
        client.close().await.expect("the session closes");
    });

    let vault = vault_at(&data, Utc::now());
    assert_eq!(
        vault.secret("pos-shop", "token").expect("secret").expose_secret(),
        "new-paysera-pat-0987654321"
    );
    assert_eq!(
        vault
            .secret("mypos-shop", "client_secret")
            .expect("secret")
            .expose_secret(),
        "new-mypos-secret"
    );
    let pos_shop = vault.show("pos-shop").expect("show");
    assert!(
        Utc::now() - pos_shop.rotated_at < Days::minutes(5),
        "the rotated date is today"
    );
    clean_vault(&data);
}

#[test]
fn a_failed_rotation_shows_the_test_and_leaves_the_old_secret_working() {
    let _serial = serial();
    let sims = simulators();
    let (_root, data) = data_root();
    // Rotated 95 days ago: overdue by 5 whole days until day 96.
    let long_ago = Utc::now() - Days::days(95);
    let before = add_demo_credential(
        &vault_at(&data, long_ago),
        sims.credential("paysera-pos").expect("pos"),
        "pos-shop",
    );
    let driver = Driver::start(&data);

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        open_wizard(&client, "pos-shop").await;
        // Nothing typed: a specific message, nothing sent.
        click(&client, &testid("wizard-test")).await;
        let problem = text_of(&client, &testid("wizard-problem")).await;
        assert!(problem.contains("Enter the new personal access token"), "{problem}");
        wait_for(&client, &testid("rotate-token"))
            .await
            .send_keys("not-a-token-the-portal-made")
            .await
            .expect("typed");
        click(&client, &testid("wizard-test")).await;
        let failed = text_of(&client, &testid("wizard-failed")).await;
        assert!(failed.contains("still uses its old secret"), "{failed}");
        let report = wait_for(&client, &testid("wizard-report")).await;
        assert_eq!(report.attr("data-ok").await.expect("attr").as_deref(), Some("false"));
        let code = text_of(&client, &testid("wizard-report-code")).await;
        assert_eq!(code, "AUTH002", "the provider's error code is shown");
        let hint = text_of(&client, &testid("wizard-report-hint")).await;
        assert!(hint.contains("Generate New Token"), "the hint says what to do: {hint}");
        assert!(
            text_of(&client, &testid("wizard-report-http"))
                .await
                .contains("HTTP 401")
                || failed.contains("HTTP 401")
        );
        click(&client, &testid("wizard-close-failed")).await;
        wait_gone(&client, &testid("rotation-wizard")).await;

        // Untouched: still overdue, and its old token still passes a test.
        let rotation = format!("{} {}", row_selector("pos-shop"), testid("cell-rotation"));
        assert!(text_of(&client, &rotation).await.contains("Overdue by 5 days"));
        click_in_row(&client, "pos-shop", "test-button").await;
        assert!(row_report_ok(&client, "pos-shop").await, "the old secret keeps working");
        client.close().await.expect("the session closes");
    });
    let vault = vault_at(&data, Utc::now());
    assert_eq!(
        vault.secret("pos-shop", "token").expect("secret").expose_secret(),
        sim_demo::PAYSERA_POS_TOKEN
    );
    assert_eq!(vault.show("pos-shop").expect("show").rotated_at, before.rotated_at);
    assert!(files_containing(&data, b"not-a-token-the-portal-made").is_empty());
    clean_vault(&data);
}

fn add_bearer(vault: &tillkey_core::Vault, name: &str) {
    vault
        .add(tillkey_core::NewCredential {
            name: name.into(),
            provider: "bearer".into(),
            environment: None,
            fields: Default::default(),
            secrets: [(
                "token".to_string(),
                secrecy::SecretString::from(format!("{name}-token")),
            )]
            .into(),
        })
        .expect("the test adds a credential");
}

#[test]
fn reminders_notify_once_a_day_and_summarise_in_the_window() {
    let _serial = serial();
    let (_root, data) = data_root();
    // Unique names: the notification server's history is shared by the whole test run.
    let overdue = format!("till-{}-95", std::process::id());
    let due_soon = format!("till-{}-85", std::process::id());
    // 95 days ago: overdue by 5 whole days until day 96.
    add_bearer(&vault_at(&data, Utc::now() - Days::days(95)), &overdue);
    add_bearer(&vault_at(&data, Utc::now() - Days::days(85)), &due_soon);
    add_bearer(&vault_at(&data, Utc::now() - Days::days(10)), "fresh-shop");
    let driver = Driver::start(&data);

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        let cell = |name: &str| format!("{} {}", row_selector(name), testid("cell-rotation"));
        assert!(text_of(&client, &cell(&overdue)).await.contains("Overdue by 5 days"));
        assert!(text_of(&client, &cell(&due_soon)).await.contains("Due in 5 days"));
        assert!(text_of(&client, &cell("fresh-shop")).await.contains("Up to date"));
        let summary = text_of(&client, &testid("reminder-summary")).await;
        assert!(
            summary.contains(&overdue) && summary.contains(&due_soon) && !summary.contains("fresh-shop"),
            "{summary}"
        );
        assert!(text_of(&client, &testid("rotation-summary"))
            .await
            .contains("1 overdue, 1 due soon"));

        let n = wait_for_notification(&overdue).await;
        assert_eq!(n.summary, "2 credentials need rotation");
        assert!(n.body.contains(&format!("{overdue}: overdue by 5 days")), "{n:?}");
        assert!(n.body.contains(&format!("{due_soon}: due in 5 days")), "{n:?}");
        assert!(!n.body.contains("fresh-shop"));
        client.close().await.expect("the session closes");

        // The same day again: no second notification.
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(
            notifications_about(&overdue).len(),
            1,
            "at most once a day per credential"
        );
        client.close().await.expect("the session closes");
    });
    drop(driver);

    // The next day (a test-build clock override), a new reminder.
    let tomorrow = (Utc::now() + Days::days(1)).to_rfc3339();
    let driver = Driver::start_with(&data, &[("TILLKEY_TEST_NOW", &tomorrow)]);
    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        let cell = |name: &str| format!("{} {}", row_selector(name), testid("cell-rotation"));
        assert!(text_of(&client, &cell(&overdue)).await.contains("Overdue by 6 days"));
        let deadline = Instant::now() + UI_TIMEOUT;
        while notifications_about(&overdue).len() < 2 {
            assert!(
                Instant::now() < deadline,
                "no reminder the next day: {:?}",
                notifications()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let latest = notifications_about(&overdue).into_iter().next().expect("newest first");
        assert!(
            latest.body.contains(&format!("{due_soon}: due in 4 days")),
            "{latest:?}"
        );

        // Mark as rotated: the overdue one is up to date, and leaves the summary.
        click_in_row(&client, &overdue, "mark-rotated-button").await;
        wait_for_text(&client, &cell(&overdue), "Up to date", |t| t.contains("Up to date")).await;
        let summary = text_of(&client, &testid("reminder-summary")).await;
        assert!(!summary.contains(&overdue) && summary.contains(&due_soon), "{summary}");

        // A shorter lead time (kept in the vault, so the CLI agrees): 4 days left is fine.
        click(&client, &testid("open-settings")).await;
        wait_for(&client, &format!("dialog{}[open]", testid("settings-dialog"))).await;
        let lead = wait_for(&client, &format!("{}:not([disabled])", testid("settings-lead"))).await;
        assert_eq!(lead.prop("value").await.expect("value").as_deref(), Some("14"));
        type_into(&client, &format!("{}:not([disabled])", testid("settings-lead")), "3").await;
        click(&client, &testid("settings-save")).await;
        wait_gone(&client, &testid("settings-dialog")).await;
        wait_for_text(&client, &cell(&due_soon), "Up to date", |t| t.contains("Up to date")).await;
        wait_gone(&client, &testid("reminder-summary")).await;
        client.close().await.expect("the session closes");
    });
    let vault = vault_at(&data, Utc::now());
    assert_eq!(vault.settings().expect("settings").reminder_lead_days, 3);
    clean_vault(&data);
}

#[test]
fn demo_vault_is_offered_on_first_run_and_never_mixes_with_the_real_one() {
    let _serial = serial();
    let (root, data) = data_root();
    let driver = Driver::start(&data);

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        assert!(client.find(Locator::Css(&testid("demo-badge"))).await.is_err());
        click(&client, &testid("open-demo")).await;
        wait_for(&client, &testid("demo-badge")).await;
        wait_for(&client, &testid("demo-banner")).await;
        wait_for(&client, &row_selector("demo-mypos")).await;
        let names = row_names(&client).await;
        assert_eq!(names.len(), 7, "one credential per provider: {names:?}");

        // Test all: every simulator answers.
        click(&client, &testid("test-all")).await;
        let summary = wait_for_text(&client, &testid("test-all-summary"), "the summary", |t| {
            t.contains("passed")
        })
        .await;
        assert_eq!(summary, "Test all: 7 passed, 0 failed.");
        for name in &names {
            let cell = format!("{} {}", row_selector(name), testid("cell-test"));
            let el = wait_for(&client, &cell).await;
            assert_eq!(
                el.attr("data-ok").await.expect("attr").as_deref(),
                Some("true"),
                "{name}"
            );
        }

        // Rotate one, with a new secret from the demo's simulated portal: the old token
        // (cached by Test all) is revoked at the myPOS simulator, and the new secret works.
        open_wizard(&client, "demo-mypos").await;
        click(&client, &testid("wizard-demo-secret")).await;
        wait_for_text(&client, &testid("wizard-demo-portal"), "the pasted secret", |t| {
            t.contains("pasted it below")
        })
        .await;
        let pasted = wait_for(&client, &testid("rotate-client_secret")).await;
        assert_eq!(
            pasted.attr("type").await.expect("type").as_deref(),
            Some("password"),
            "masked"
        );
        click(&client, &testid("wizard-test")).await;
        let old = wait_for(&client, &testid("wizard-old-token")).await;
        assert_eq!(old.attr("data-status").await.expect("attr").as_deref(), Some("revoked"));
        click(&client, &testid("wizard-confirm")).await;
        click(&client, &format!("{}:not([disabled])", testid("wizard-done"))).await;
        click(&client, &testid("wizard-finish")).await;
        wait_gone(&client, &testid("rotation-wizard")).await;
        click_in_row(&client, "demo-mypos", "test-button").await;
        let report = wait_for(
            &client,
            &format!("{} {}", row_selector("demo-mypos"), testid("test-report")),
        )
        .await;
        assert_eq!(
            report.attr("data-ok").await.expect("attr").as_deref(),
            Some("true"),
            "the new secret works"
        );

        // Search, filter and sort.
        let search = testid("search-input");
        type_into(&client, &search, "mypos").await;
        wait_for_text(&client, &testid("filter-note"), "1 of 7", |t| {
            t.contains("1 credential of 7")
        })
        .await;
        assert_eq!(row_names(&client).await, vec!["demo-mypos".to_string()]);
        type_into(&client, &search, "sandbox").await;
        wait_for_text(&client, &testid("filter-note"), "the sandbox ones", |t| {
            t.contains("of 7")
        })
        .await;
        let sandbox = row_names(&client).await;
        assert_eq!(sandbox, vec!["demo-mypos".to_string(), "demo-paysera-pos".to_string()]);
        type_into(&client, &search, " ").await;
        wait_for(&client, &testid("provider-filter"))
            .await
            .select_by_value("chimpy")
            .await
            .expect("filter");
        wait_for_text(&client, &testid("filter-note"), "1 of 7", |t| {
            t.contains("1 credential of 7")
        })
        .await;
        assert_eq!(row_names(&client).await, vec!["demo-chimpy".to_string()]);
        wait_for(&client, &testid("provider-filter"))
            .await
            .select_by_value("")
            .await
            .expect("filter");
        wait_for(&client, &testid("status-filter"))
            .await
            .select_by_value("failed")
            .await
            .expect("filter");
        wait_for(&client, &testid("no-match")).await;
        wait_for(&client, &testid("status-filter"))
            .await
            .select_by_value("all")
            .await
            .expect("filter");
        wait_for(&client, &testid("sort-select"))
            .await
            .select_by_value("provider")
            .await
            .expect("sort");
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            let order = row_names(&client).await;
            if order.first().map(String::as_str) == Some("demo-bearer")
                && order.get(1).map(String::as_str) == Some("demo-chimpy")
            {
                break;
            }
            assert!(Instant::now() < deadline, "not sorted by provider: {order:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        wait_for(&client, &testid("sort-select"))
            .await
            .select_by_value("name")
            .await
            .expect("sort");

        // Leave: back to the merchant's empty vault.
        click(&client, &testid("leave-demo")).await;
        wait_for(&client, &testid("empty-state")).await;
        wait_gone(&client, &testid("demo-badge")).await;
        client.close().await.expect("the session closes");

        // `--demo` opens it directly.
        let client = driver.launch_app_with_args(&["--demo"]).await;
        wait_for(&client, &testid("demo-badge")).await;
        wait_for(&client, &row_selector("demo-paysera-checkout")).await;
        let title = client.title().await.expect("title");
        let _ = title; // The window title is set by Rust; the page title stays "Tillkey".
        client.close().await.expect("the session closes");
    });

    let real = vault_at(&data, Utc::now());
    assert!(
        real.list().expect("list").is_empty(),
        "no demo credential in the real vault"
    );
    let demo_dir = root.path().join("data-demo");
    assert!(
        demo_dir.join("DEMO-VAULT").is_file(),
        "the demo vault has its own marked data dir"
    );
    let demo = vault_at(&demo_dir, Utc::now());
    let demo_names: Vec<_> = demo.list().expect("list").into_iter().map(|c| c.name).collect();
    assert!(
        demo_names.iter().all(|n| n.starts_with("demo-")),
        "only demo credentials there: {demo_names:?}"
    );
    let real_id = std::fs::read_to_string(data.join("vault.json")).unwrap_or_default();
    let demo_id = std::fs::read_to_string(demo_dir.join("vault.json")).expect("demo metadata");
    let id = |text: &str| {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v["vault_id"].as_str().map(str::to_string))
    };
    assert_ne!(
        id(&real_id),
        id(&demo_id),
        "separate vault ids, so separate keyring entries"
    );
    clean_vault(&demo_dir);
}

#[test]
fn edit_changes_non_secret_fields_and_the_rotation_period() {
    let _serial = serial();
    let sims = simulators();
    let (_root, data) = data_root();
    let checkout = sims.credential("paysera-checkout").expect("checkout");
    add_demo_credential(&vault_at(&data, Utc::now()), checkout, "checkout");
    let driver = Driver::start(&data);

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        click_in_row(&client, "checkout", "edit-button").await;
        let form = wait_for(&client, "[data-testid=\"add-form\"][data-mode=\"edit\"]").await;
        assert!(
            form.find(Locator::Css(&testid("field-client_secret"))).await.is_err(),
            "secrets are not editable (they change by rotation)"
        );
        let client_id = wait_for(&client, &testid("field-client_id")).await;
        assert_eq!(
            client_id.prop("value").await.expect("value").as_deref(),
            Some(sim_demo::PAYSERA_CHECKOUT_CLIENT_ID)
        );
        fill_field(&client, "test_url", "http://shop.example/ping").await;
        type_into(&client, &testid("period-input"), "0").await;
        click(&client, &testid("add-submit")).await;
        assert!(text_of(&client, &testid("problem-test_url"))
            .await
            .contains("Use https://"));
        assert!(text_of(&client, &testid("problem-period")).await.contains("1 to 3650"));
        type_into(&client, &testid("period-input"), "30").await;
        fill_field(
            &client,
            "test_url",
            &sims
                .simulator(tillkey_sim::ProviderSim::PayseraCheckout)
                .expect("sim")
                .test_url(),
        )
        .await;
        fill_name(&client, "checkout-eu").await;
        click(&client, &testid("save-and-test")).await;
        assert!(
            row_report_ok(&client, "checkout-eu").await,
            "the edited credential still works"
        );
        let rotation = text_of(
            &client,
            &format!("{} {}", row_selector("checkout-eu"), testid("cell-rotation")),
        )
        .await;
        assert!(rotation.contains("every 30 days"), "{rotation}");
        client.close().await.expect("the session closes");
    });
    let vault = vault_at(&data, Utc::now());
    let c = vault.show("checkout-eu").expect("renamed");
    assert_eq!(c.rotation_period_days, 30);
    assert_eq!(
        vault
            .secret("checkout-eu", "client_secret")
            .expect("secret")
            .expose_secret(),
        sim_demo::PAYSERA_CHECKOUT_CLIENT_SECRET
    );
    clean_vault(&data);
}

/// Issue 10, webview: changing where a credential's secret is sent (here its test URL) needs
/// the current secret typed again, checked in Rust; without it, or with a wrong one, the
/// save is refused with the message shown and nothing changes.
#[test]
fn changing_where_the_secret_goes_needs_the_current_secret_typed_again() {
    let _serial = serial();
    let sims = simulators();
    let (_root, data) = data_root();
    let checkout = sims.credential("paysera-checkout").expect("checkout");
    add_demo_credential(&vault_at(&data, Utc::now()), checkout, "checkout");
    let stored_test_url = checkout.fields.get("test_url").cloned().expect("a test URL");
    let new_url = "https://elsewhere.example/collect";
    let wrong = "not-the-current-secret";
    let driver = Driver::start(&data);

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        click_in_row(&client, "checkout", "edit-button").await;
        wait_for(&client, "[data-testid=\"add-form\"][data-mode=\"edit\"]").await;
        assert!(
            client.find(Locator::Css(&testid("confirm-secrets"))).await.is_err(),
            "no confirmation until an address changes"
        );
        fill_field(&client, "test_url", new_url).await;
        wait_for(&client, &testid("confirm-secrets")).await;
        let label = text_of(&client, "label[for=\"cred-confirm-client_secret\"]").await;
        assert!(
            label.contains("Current Client secret (to confirm the new address)"),
            "{label:?}"
        );
        let input = wait_for(&client, &testid("confirm-client_secret")).await;
        assert_eq!(input.attr("type").await.expect("type").as_deref(), Some("password"));

        // Without the secret: Rust refuses, the form shows why.
        click(&client, &testid("add-submit")).await;
        let code = text_of(&client, &testid("form-error-code")).await;
        assert_eq!(code, "secret_required");
        let message = text_of(&client, &testid("form-error-message")).await;
        assert!(
            message.contains("test_url")
                && message.contains("client_secret")
                && message.contains("nothing was changed"),
            "{message:?}"
        );
        let hint = text_of(&client, &testid("form-error-hint")).await;
        assert!(hint.contains("confirm the new address"), "{hint:?}");
        wait_for(&client, &testid("problem-confirm-client_secret")).await;

        // With a wrong one: refused too, and the typed value is cleared, never echoed.
        type_into(&client, &testid("confirm-client_secret"), wrong).await;
        click(&client, &testid("add-submit")).await;
        wait_for(&client, &testid("problem-confirm-client_secret")).await;
        assert_eq!(text_of(&client, &testid("form-error-code")).await, "secret_required");
        let typed = wait_for(&client, &testid("confirm-client_secret")).await;
        assert_eq!(typed.prop("value").await.expect("value").as_deref(), Some(""));
        let page = client.source().await.expect("the page source");
        assert!(!page.contains(wrong), "the wrong secret shows on the page");
        assert_eq!(
            vault_at(&data, Utc::now())
                .show("checkout")
                .expect("still there")
                .fields
                .get("test_url"),
            Some(&stored_test_url),
            "a refused edit changes nothing"
        );

        // With the current secret: saved.
        type_into(
            &client,
            &testid("confirm-client_secret"),
            sim_demo::PAYSERA_CHECKOUT_CLIENT_SECRET,
        )
        .await;
        click(&client, &testid("add-submit")).await;
        wait_gone(&client, &testid("add-form")).await;
        wait_for(&client, &row_selector("checkout")).await;
        client.close().await.expect("the session closes");
    });
    let vault = vault_at(&data, Utc::now());
    assert_eq!(
        vault
            .show("checkout")
            .expect("edited")
            .fields
            .get("test_url")
            .map(String::as_str),
        Some(new_url)
    );
    assert_eq!(
        vault
            .secret("checkout", "client_secret")
            .expect("secret")
            .expose_secret(),
        sim_demo::PAYSERA_CHECKOUT_CLIENT_SECRET,
        "the secret itself is unchanged"
    );
    for secret in [wrong, sim_demo::PAYSERA_CHECKOUT_CLIENT_SECRET] {
        let leaks = files_containing(&data, secret.as_bytes());
        assert!(leaks.is_empty(), "a typed secret was written to {leaks:?}");
    }
    clean_vault(&data);
}

/// Every control must have an accessible name; the script returns the ones that do not.
const UNLABELLED: &str = r#"
    const bad = [];
    for (const el of document.querySelectorAll('button, input, select, textarea, summary, [role="button"]')) {
        if (el.closest('[hidden]') || el.type === 'hidden') continue;
        const labelled = (el.getAttribute('aria-label') || '').trim() !== ''
            || (el.getAttribute('aria-labelledby') || '') !== ''
            || (el.labels && el.labels.length > 0 && [...el.labels].some(l => l.textContent.trim() !== ''))
            || ((el.tagName === 'BUTTON' || el.tagName === 'SUMMARY') && el.textContent.trim() !== '');
        if (!labelled) bad.push(el.outerHTML.slice(0, 120));
    }
    return bad;
"#;

async fn assert_labelled(client: &Client, where_: &str) {
    let bad = client.execute(UNLABELLED, vec![]).await.expect("the check runs");
    assert_eq!(
        bad,
        serde_json::json!([]),
        "controls without an accessible name in {where_}"
    );
}

/// Tabs through the page and returns the data-testids focused on the way.
async fn tab_through(client: &Client, presses: usize) -> Vec<String> {
    let mut seen = Vec::new();
    for _ in 0..presses {
        client
            .active_element()
            .await
            .expect("a focused element")
            .send_keys("\u{E004}")
            .await
            .expect("Tab");
        let id = client
            .execute("return document.activeElement && (document.activeElement.dataset.testid || document.activeElement.id || document.activeElement.tagName)", vec![])
            .await
            .expect("focus");
        seen.push(id.as_str().unwrap_or_default().to_string());
    }
    seen
}

#[test]
fn controls_are_labelled_keyboard_reachable_and_fit_800_by_600() {
    let _serial = serial();
    let (_root, data) = data_root();
    let driver = Driver::start(&data);

    runtime().block_on(async {
        let client = driver.launch_app_with_args(&["--demo"]).await;
        client
            .set_window_size(800, 600)
            .await
            .expect("the window can be resized");
        wait_for(&client, &row_selector("demo-mypos")).await;
        assert_labelled(&client, "the dashboard").await;
        let overflow = client
            .execute(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
                vec![],
            )
            .await
            .expect("measure");
        assert!(
            overflow.as_i64().unwrap_or(1) <= 0,
            "the dashboard scrolls sideways at 800 × 600 ({overflow})"
        );

        // The keyboard reaches the toolbar and every row's actions.
        let seen = tab_through(&client, 24).await;
        for expected in [
            "open-settings",
            "test-all",
            "open-add-form",
            "search-input",
            "test-button",
            "copy-button",
        ] {
            assert!(
                seen.iter().any(|s| s == expected),
                "Tab never reached {expected}: {seen:?}"
            );
        }

        // The add form, by keyboard: the picker's radio buttons take arrow keys.
        click(&client, &testid("open-add-form")).await;
        wait_for(&client, &testid("add-form")).await;
        assert_labelled(&client, "the add form").await;
        let first = wait_for(&client, &format!("{} input", testid("provider-option-paysera-pos"))).await;
        first.send_keys(" ").await.expect("Space picks");
        client
            .active_element()
            .await
            .expect("focus")
            .send_keys("\u{E015}")
            .await
            .expect("ArrowDown");
        wait_for(
            &client,
            &format!("{} input:checked", testid("provider-option-paysera-checkout")),
        )
        .await;
        assert_labelled(&client, "the generated form").await;
        let overflow = client
            .execute(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
                vec![],
            )
            .await
            .expect("measure");
        assert!(
            overflow.as_i64().unwrap_or(1) <= 0,
            "the form scrolls sideways at 800 × 600"
        );
        client
            .active_element()
            .await
            .expect("focus")
            .send_keys("\u{E00C}")
            .await
            .expect("Escape");
        wait_gone(&client, &testid("add-form")).await;

        // The rotation wizard is a modal dialog that Escape closes.
        open_wizard(&client, "demo-bearer").await;
        assert_labelled(&client, "the rotation wizard").await;
        let focused_inside = client
            .execute("return !!document.activeElement.closest('dialog')", vec![])
            .await
            .expect("focus check");
        assert_eq!(focused_inside, serde_json::json!(true), "focus moves into the wizard");
        client
            .active_element()
            .await
            .expect("focus")
            .send_keys("\u{E00C}")
            .await
            .expect("Escape");
        wait_gone(&client, &testid("rotation-wizard")).await;
        client.close().await.expect("the session closes");
    });
}
