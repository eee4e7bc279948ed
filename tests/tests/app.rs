//! End-to-end tests of the desktop app: the real binary in a real WebKitGTK webview,
//! driven over WebDriver, storing secrets in the real OS keyring.
//!
//! Needs the built app, tauri-driver and a keyring session; see the crate docs.

mod common;

use common::{
    files_containing, list_files, row_names, row_selector, runtime, serial, submit_add_form, testid, wait_for,
    wait_for_list, Driver, UI_TIMEOUT,
};
use fantoccini::Locator;
use std::time::Instant;

const SECRET: &str = "e2e-secret-value";

#[test]
fn added_credential_is_listed_survives_a_restart_and_its_secret_stays_out_of_files() {
    let _serial = serial();
    let data = tempfile::tempdir().expect("a temp data dir");
    let driver = Driver::start(data.path());

    runtime().block_on(async {
        // First run: an empty vault; add a bearer credential through the form.
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        assert!(row_names(&client).await.is_empty(), "a fresh data dir starts empty");

        submit_add_form(&client, "e2e-shop", "bearer", &[("token", SECRET)]).await;
        let row = wait_for(&client, &row_selector("e2e-shop")).await;
        let provider = row
            .find(Locator::Css(&testid("cell-provider")))
            .await
            .expect("the row has a provider cell")
            .text()
            .await
            .expect("provider text");
        assert!(
            provider.contains("bearer"),
            "provider cell shows the kind: {provider:?}"
        );
        let rotation = row
            .find(Locator::Css(&testid("cell-rotation")))
            .await
            .expect("the row has a rotation cell")
            .text()
            .await
            .expect("rotation text");
        assert!(
            rotation.contains("Up to date"),
            "a new credential is not due: {rotation:?}"
        );
        assert!(
            !client.source().await.expect("page source").contains(SECRET),
            "the secret is not left in the page after adding"
        );
        client.close().await.expect("the first session closes");

        // The secret went to the keyring, not to any file in the data dir.
        let leaks = files_containing(data.path(), SECRET.as_bytes());
        assert!(leaks.is_empty(), "secret found in {leaks:?}");
        assert!(
            !list_files(data.path()).is_empty(),
            "the vault wrote its metadata into the data dir"
        );

        // Second run, same data dir: the credential is still there.
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        wait_for(&client, &row_selector("e2e-shop")).await;
        assert_eq!(row_names(&client).await, vec!["e2e-shop".to_string()]);

        // Remove it, through the confirm step.
        let row = wait_for(&client, &row_selector("e2e-shop")).await;
        row.find(Locator::Css(&testid("remove-button")))
            .await
            .expect("the row has a Remove button")
            .click()
            .await
            .expect("Remove can be clicked");
        assert_eq!(
            row_names(&client).await.len(),
            1,
            "nothing is removed before confirming"
        );
        wait_for(&client, &testid("confirm-remove-button"))
            .await
            .click()
            .await
            .expect("confirm");
        wait_for(&client, &testid("empty-state")).await;
        assert!(row_names(&client).await.is_empty());
        client.close().await.expect("the second session closes");

        let leaks = files_containing(data.path(), SECRET.as_bytes());
        assert!(leaks.is_empty(), "secret found in {leaks:?}");
    });
}

#[test]
fn adding_a_taken_name_shows_the_specific_error_and_changes_nothing() {
    let _serial = serial();
    let data = tempfile::tempdir().expect("a temp data dir");
    let driver = Driver::start(data.path());

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;

        submit_add_form(&client, "e2e-dup", "bearer", &[("token", "first-token-value")]).await;
        wait_for(&client, &row_selector("e2e-dup")).await;

        // The form checks the name inline before anything is sent.
        submit_add_form(&client, "e2e-dup", "bearer", &[("token", "second-token-value")]).await;
        let problem = wait_for(&client, &testid("problem-name"))
            .await
            .text()
            .await
            .expect("problem text");
        assert!(
            problem.contains("“e2e-dup” is already used in this vault"),
            "the message names the credential: {problem:?}"
        );
        assert!(
            client.find(Locator::Css(&testid("form-error"))).await.is_err(),
            "nothing was sent to the vault"
        );

        // The form stays open with the problem, and the list still has one e2e-dup.
        client
            .find(Locator::Css(&testid("add-form")))
            .await
            .expect("the form stays open");

        // Cancelling closes the form; nothing was added.
        client
            .find(Locator::Css(&testid("add-cancel")))
            .await
            .expect("the form has Cancel")
            .click()
            .await
            .expect("Cancel can be clicked");
        let deadline = Instant::now() + UI_TIMEOUT;
        while client.find(Locator::Css(&testid("add-form"))).await.is_ok() {
            assert!(Instant::now() < deadline, "the form did not close");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(row_names(&client).await, vec!["e2e-dup".to_string()]);
        client.close().await.expect("the session closes");
    });

    for secret in ["first-token-value", "second-token-value"] {
        let leaks = files_containing(data.path(), secret.as_bytes());
        assert!(leaks.is_empty(), "secret found in {leaks:?}");
    }
}

#[test]
fn theme_preference_is_kept_by_the_store_across_restarts() {
    let _serial = serial();
    let data = tempfile::tempdir().expect("a temp data dir");
    let driver = Driver::start(data.path());

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        let theme = wait_for(&client, &testid("theme-select")).await;
        assert_eq!(
            theme.prop("value").await.expect("theme value").as_deref(),
            Some("system")
        );
        theme
            .select_by_value("dark")
            .await
            .expect("the dark theme can be picked");
        wait_for(&client, "html[data-theme=\"dark\"]").await;
        // The store saves shortly after a change (debounced); give it time before quitting.
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        client.close().await.expect("the first session closes");

        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        wait_for(&client, "html[data-theme=\"dark\"]").await;
        let theme = wait_for(&client, &testid("theme-select")).await;
        assert_eq!(theme.prop("value").await.expect("theme value").as_deref(), Some("dark"));
        client.close().await.expect("the second session closes");
    });
}

#[test]
fn content_security_policy_blocks_inline_script_and_eval() {
    let _serial = serial();
    let data = tempfile::tempdir().expect("a temp data dir");
    let driver = Driver::start(data.path());

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        let probe = client
            .execute(
                r#"
                const s = document.createElement('script');
                s.textContent = 'window.__tillkeyInline = true;';
                document.head.appendChild(s);
                let evalRan;
                try { evalRan = eval('true'); } catch (e) { evalRan = false; }
                return { inline: window.__tillkeyInline === true, eval: evalRan === true };
                "#,
                vec![],
            )
            .await
            .expect("the probe script runs");
        assert_eq!(
            probe["inline"],
            serde_json::json!(false),
            "an injected inline script ran"
        );
        assert_eq!(probe["eval"], serde_json::json!(false), "eval ran");
        client.close().await.expect("the session closes");
    });
}

#[test]
fn a_long_list_renders_a_page_at_a_time_and_every_row_stays_reachable() {
    let _serial = serial();
    let data = tempfile::tempdir().expect("a temp data dir");
    let vault = common::vault_at(data.path(), chrono::Utc::now());
    let new: Vec<_> = (0..95)
        .map(|i| tillkey_core::NewCredential {
            name: format!("shop-{i:03}"),
            provider: "bearer".into(),
            environment: None,
            fields: Default::default(),
            secrets: [("token".to_string(), secrecy::SecretString::from(format!("t-{i}")))].into(),
        })
        .collect();
    vault.add_many(new).expect("95 credentials");
    let driver = Driver::start(data.path());

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        wait_for(&client, &row_selector("shop-000")).await;
        assert_eq!(row_names(&client).await.len(), 40, "the first page only");
        let more = common::text_of(&client, &testid("list-more")).await;
        assert!(more.contains("Showing 40 of 95"), "{more:?}");

        // The button adds a page; scrolling to the end loads the rest.
        common::click(&client, &testid("show-more")).await;
        common::wait_for_text(&client, &testid("list-more"), "80 of 95", |t| {
            t.contains("Showing 80 of 95")
        })
        .await;
        let started = Instant::now();
        while row_names(&client).await.len() < 95 {
            assert!(started.elapsed() < UI_TIMEOUT, "scrolling to the end loads every row");
            client
                .execute("window.scrollTo(0, document.body.scrollHeight)", vec![])
                .await
                .expect("scroll");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(client.find(Locator::Css(&testid("list-more"))).await.is_err());
        wait_for(&client, &row_selector("shop-094")).await;
        client.close().await.expect("the session closes");
    });
    common::clean_vault(data.path());
}
