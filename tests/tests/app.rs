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

/// Permissions that only builds with the `bench` feature grant (src-tauri/build.rs reads
/// `capabilities/bench/` only then): the benchmark's first-paint report.
const BENCH_ONLY: &[&str] = &["allow-report-first-paint"];

/// One permission a capability file grants: the file, the permission, and whether the file
/// is under `capabilities/bench/` (part of `bench` builds only).
struct Grant {
    file: std::path::PathBuf,
    permission: String,
    bench_only: bool,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} in {}", self.permission, self.file.display())
    }
}

/// The permissions of every capability file in src-tauri/capabilities and its bench/ folder.
fn granted_permissions() -> Vec<Grant> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../src-tauri/capabilities");
    let mut granted = Vec::new();
    let mut dirs = vec![(root.clone(), false)];
    while let Some((dir, bench_only)) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                assert_eq!(
                    path,
                    root.join("bench"),
                    "build.rs includes capabilities/*.json, and capabilities/bench/ with the feature only"
                );
                dirs.push((path, true));
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("the capability file reads");
            let json: serde_json::Value = serde_json::from_str(&text).expect("the capability file is JSON");
            for p in json["permissions"].as_array().expect("a permissions list") {
                // A permission is a name, or an object with an identifier (and a scope).
                let id = p
                    .as_str()
                    .or_else(|| p["identifier"].as_str())
                    .expect("a permission id");
                granted.push(Grant {
                    file: path.clone(),
                    permission: id.to_string(),
                    bench_only,
                });
            }
        }
    }
    granted
}

/// Issue 10, webview: the store plugin's permissions let the webview load and set any store
/// file (an absolute path replaced the base). The window gets app commands only, and only
/// the ones the UI calls (`ui/src/api.ts`). Issue 11: the benchmark's first-paint command is
/// granted only by the capability of `bench` builds, never by the default one.
#[test]
fn the_capability_grants_no_store_or_plugin_permission_only_commands_the_ui_calls() {
    let granted = granted_permissions();
    assert!(!granted.is_empty(), "a capability file grants the UI's commands");
    let plugin: Vec<_> = granted.iter().filter(|g| g.permission.contains(':')).collect();
    assert!(
        plugin.is_empty(),
        "plugin permissions granted to the webview: {plugin:?}"
    );
    assert!(
        !granted.iter().any(|g| g.permission.starts_with("store:")),
        "a store: permission is granted"
    );

    let api = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/api.ts"))
        .expect("ui/src/api.ts reads");
    let mut called: Vec<String> = Vec::new();
    for marker in ["call<", "invoke<"] {
        for (i, _) in api.match_indices(marker) {
            let rest = &api[i..];
            let Some(open) = rest.find("('") else { continue };
            let name: String = rest[open + 2..].chars().take_while(|c| *c != '\'').collect();
            called.push(format!("allow-{}", name.replace('_', "-")));
        }
    }
    called.sort();
    called.dedup();
    let mut allowed: Vec<String> = granted.iter().map(|g| g.permission.clone()).collect();
    allowed.sort();
    assert_eq!(
        allowed, called,
        "the capabilities (default and bench) grant exactly the commands ui/src/api.ts calls"
    );

    // A build without the feature: the top-level files only.
    let default_build: Vec<&Grant> = granted.iter().filter(|g| !g.bench_only).collect();
    let leaked: Vec<_> = default_build
        .iter()
        .filter(|g| BENCH_ONLY.contains(&g.permission.as_str()))
        .collect();
    assert!(
        leaked.is_empty(),
        "a capability of every build grants a benchmark permission: {leaked:?}"
    );
    let mut bench_build: Vec<&str> = granted
        .iter()
        .filter(|g| g.bench_only)
        .map(|g| g.permission.as_str())
        .collect();
    bench_build.sort();
    assert_eq!(
        bench_build, BENCH_ONLY,
        "capabilities/bench/ grants the benchmark's commands and nothing else"
    );
}

/// Issue 11: the app these tests drive is a default build (no `bench` feature), like the
/// .deb. It has no first-paint command, no permission naming it and no effect, even when
/// started with the benchmark's variable, and it does not ask the UI for a report.
#[test]
fn a_default_build_has_no_first_paint_command_permission_or_report() {
    let _serial = serial();
    let data = tempfile::tempdir().expect("a temp data dir");
    let out = tempfile::tempdir().expect("a dir for the report");
    let report = out.path().join("first-paint.json");
    let report_path = report.display().to_string();
    let driver = Driver::start_with(data.path(), &[("TILLKEY_BENCH_PAINT_FILE", &report_path)]);

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        let info = invoke_from_page(&client, "app_info", serde_json::json!({})).await;
        assert!(
            info.contains("\"firstPaintReport\":false"),
            "app_info of a default build: {info}"
        );
        let answer = invoke_from_page(
            &client,
            "report_first_paint",
            serde_json::json!({ "rows": 1, "credentials": 1 }),
        )
        .await;
        // Debug builds say why ("Command not found": no permission in the build names it);
        // release builds only say "not allowed by ACL".
        assert!(
            answer.starts_with("refused")
                && (answer.contains("Command not found") || answer.contains("not allowed by ACL"))
                && !answer.contains("allow-report-first-paint"),
            "report_first_paint in a default build: {answer}"
        );
        // Give a (wrongly) registered command time to write.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        client.close().await.expect("the session closes");
    });
    assert!(!report.exists(), "a default build wrote the first-paint report");
    common::clean_vault(data.path());
}

/// What the webview's IPC answers to `command` with `args` ("ok: ..." or "refused: ...").
async fn invoke_from_page(client: &fantoccini::Client, command: &str, args: serde_json::Value) -> String {
    let answer = client
        .execute_async(
            r#"
            const [command, args, done] = arguments;
            window.__TAURI_INTERNALS__.invoke(command, args).then(
                (v) => done('ok: ' + JSON.stringify(v)),
                (e) => done('refused: ' + (typeof e === 'string' ? e : JSON.stringify(e))),
            );
            "#,
            vec![serde_json::json!(command), args],
        )
        .await
        .expect("the invoke script runs");
    answer.as_str().unwrap_or_default().to_string()
}

/// A compromised webview cannot write a file through the store plugin any more, and the
/// preferences commands take only typed values.
#[test]
fn the_webview_cannot_write_files_through_a_store_and_preferences_are_typed() {
    let _serial = serial();
    let data = tempfile::tempdir().expect("a temp data dir");
    let target = tempfile::tempdir().expect("a dir the webview must not write to");
    let planted = target.path().join("planted.json");
    let driver = Driver::start(data.path());

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        let path = planted.display().to_string();
        let load = invoke_from_page(
            &client,
            "plugin:store|load",
            serde_json::json!({ "path": path, "options": { "autoSave": 10 } }),
        )
        .await;
        if let Some(rid) = load.strip_prefix("ok: ") {
            let rid: u64 = rid.parse().expect("a resource id");
            let set = invoke_from_page(
                &client,
                "plugin:store|set",
                serde_json::json!({ "rid": rid, "key": "planted", "value": true }),
            )
            .await;
            eprintln!("store set answered: {set}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert!(load.starts_with("refused"), "the store plugin answered: {load}");

        for junk in [
            serde_json::json!({ "change": { "path": path } }),
            serde_json::json!({ "change": { "theme": "neon" } }),
            serde_json::json!({ "change": { "vault": "../../etc" } }),
        ] {
            let answer = invoke_from_page(&client, "set_preferences", junk.clone()).await;
            assert!(answer.starts_with("refused"), "{junk} was taken: {answer}");
        }
        let saved = invoke_from_page(
            &client,
            "set_preferences",
            // The default order: other tests of this session share the app's data dir.
            serde_json::json!({ "change": { "sort": "name" } }),
        )
        .await;
        assert!(saved.contains("\"sort\":\"name\""), "{saved}");
        client.close().await.expect("the session closes");
    });
    assert!(!planted.exists(), "the webview wrote {}", planted.display());
}
