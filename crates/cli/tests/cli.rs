//! The CLI against the real OS keyring (Secret Service). Run under
//! `scripts/with-keyring.sh`, which starts a D-Bus session with an unlocked gnome-keyring.
//! Every test uses its own data dir, hence its own vault id and keyring entries.

use assert_cmd::Command;
use predicates::prelude::*;
use secrecy::ExposeSecret;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use tillkey_core::{KeyringStore, SecretKey, SecretStore, SystemClock, Vault};

fn tillkey(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("tillkey").expect("tillkey binary");
    c.arg("--data-dir").arg(dir).env_remove("TILLKEY_DATA_DIR");
    // No local agent: parallel tests must never leave one behind (tests/agent.rs tests it).
    c.env("TILLKEY_NO_AGENT", "1");
    c
}

fn list_json(dir: &Path) -> Vec<Value> {
    let out = tillkey(dir).args(["list", "--json"]).output().expect("run list");
    assert!(
        out.status.success(),
        "list failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).expect("list --json is a JSON array")
}

/// Every file under `dir`, as lossy text.
fn files_text(dir: &Path) -> String {
    let mut all = String::new();
    for e in std::fs::read_dir(dir).expect("read data dir") {
        let p = e.expect("entry").path();
        if p.is_file() {
            all.push_str(&String::from_utf8_lossy(&std::fs::read(&p).expect("read file")));
        }
    }
    all
}

fn keyring_vault(dir: &Path) -> Vault {
    Vault::open(dir, Arc::new(KeyringStore), Arc::new(SystemClock)).expect("open vault")
}

fn metadata(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("vault.json")).expect("vault.json")).expect("valid json")
}

#[test]
fn add_reads_secret_from_stdin_into_the_keyring_only() {
    let dir = tempfile::tempdir().unwrap();
    tillkey(dir.path())
        .args(["add", "shop", "--provider", "bearer"])
        .write_stdin("token=abc123\n")
        .assert()
        .success()
        .stdout(predicate::str::contains("Added shop"));
    let list = list_json(dir.path());
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "shop");
    assert_eq!(list[0]["provider"], "bearer");
    assert_eq!(list[0]["rotation"]["status"], "ok");
    // The secret is in the real keyring ...
    let v = keyring_vault(dir.path());
    assert_eq!(v.secret("shop", "token").unwrap().expose_secret(), "abc123");
    // ... and in no file under the data dir, nor in list/show output.
    assert!(!files_text(dir.path()).contains("abc123"));
    tillkey(dir.path())
        .args(["show", "shop", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("abc123").not());
    tillkey(dir.path())
        .args(["show", "shop"])
        .assert()
        .success()
        .stdout(predicate::str::contains("(in the OS keyring)"));
}

#[test]
fn secret_given_with_set_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    tillkey(dir.path())
        .args(["add", "x", "--provider", "bearer", "--set", "token=abc123"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("secrets are read from stdin"))
        .stderr(predicate::str::contains("abc123").not());
    assert!(list_json(dir.path()).is_empty());
    assert!(!files_text(dir.path()).contains("abc123"));
}

#[test]
fn bad_input_gets_a_specific_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    tillkey(dir.path())
        .args(["add", "shop", "--provider", "bearer"])
        .write_stdin("token=first\n")
        .assert()
        .success();
    let before = std::fs::read(dir.path().join("vault.json")).unwrap();
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["add", "shop", "--provider", "bearer"],
            "token=second\n",
            "already exists",
        ),
        (
            &["add", "y", "--provider", "nosuch"],
            "token=t\n",
            "unknown provider `nosuch`",
        ),
        (
            &["add", "y", "--provider", "bearer"],
            "",
            "missing required field `token`",
        ),
        (
            &[
                "add",
                "y",
                "--provider",
                "bearer",
                "--set",
                "test_url=http://example.com/x",
            ],
            "token=t\n",
            "plain http",
        ),
        (
            &["add", "y", "--provider", "bearer", "--set", "test_url=not a url"],
            "token=t\n",
            "not a valid absolute URL",
        ),
        (
            &["add", "y", "--provider", "bearer", "--env", "staging"],
            "token=t\n",
            "not an environment",
        ),
        (
            &["add", "y", "--provider", "bearer", "--set", "colour=red"],
            "token=t\n",
            "no field `colour`",
        ),
        (
            &["add", "y", "--provider", "bearer"],
            "client_secret=t\n",
            "no secret field `client_secret`",
        ),
    ];
    for (args, stdin, expect) in cases {
        tillkey(dir.path())
            .args(*args)
            .write_stdin(*stdin)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(*expect))
            .stderr(predicate::str::contains("hint:"));
        assert_eq!(
            std::fs::read(dir.path().join("vault.json")).unwrap(),
            before,
            "{args:?} changed the vault"
        );
    }
    assert_eq!(
        keyring_vault(dir.path())
            .secret("shop", "token")
            .unwrap()
            .expose_secret(),
        "first"
    );
}

#[test]
fn unknown_name_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    tillkey(dir.path())
        .args(["show", "ghost"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no credential named `ghost`"));
    tillkey(dir.path()).args(["remove", "ghost"]).assert().code(2);
}

#[test]
fn remove_deletes_every_keyring_entry() {
    let dir = tempfile::tempdir().unwrap();
    tillkey(dir.path())
        .args(["add", "er", "--provider", "ereceipt", "--env", "sandbox"])
        .args([
            "--set",
            "identity_url=https://identity.example",
            "--set",
            "client_id=cid",
        ])
        .args([
            "--set",
            "posserial=1234567899",
            "--set",
            "pososversion=os",
            "--set",
            "posmodelframework=1",
        ])
        .write_stdin("client_secret=s3cret\npresharedkey=03ac674216f3e1\n")
        .assert()
        .success();
    let meta = metadata(dir.path());
    let vault_id = meta["vault_id"].as_str().unwrap().to_string();
    let cred = &meta["credentials"][0];
    let keys: Vec<SecretKey> = ["client_secret", "presharedkey"]
        .iter()
        .map(|f| SecretKey {
            vault_id: vault_id.clone(),
            credential_id: cred["id"].as_str().unwrap().into(),
            rev: cred["secret_rev"].as_u64().unwrap() as u32,
            field: (*f).into(),
            class: Default::default(),
        })
        .collect();
    for k in &keys {
        assert!(KeyringStore.get(k).unwrap().is_some(), "{k} stored");
    }
    tillkey(dir.path()).args(["remove", "er"]).assert().success();
    for k in &keys {
        assert!(KeyringStore.get(k).unwrap().is_none(), "{k} deleted");
    }
    assert!(list_json(dir.path()).is_empty());
    assert_eq!(metadata(dir.path())["pending_cleanup"], serde_json::json!([]));
}

#[test]
fn providers_lists_every_kind_with_its_fields() {
    let out = Command::cargo_bin("tillkey")
        .unwrap()
        .env("TILLKEY_NO_AGENT", "1")
        .args(["providers", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let all: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<_> = all.iter().map(|p| p["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "paysera-pos",
            "paysera-checkout",
            "mypos",
            "ereceipt",
            "chimpy",
            "oauth2",
            "bearer"
        ]
    );
    let pos = &all[0];
    let token = pos["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "token")
        .unwrap();
    assert_eq!(token["secret"], true);
    assert_eq!(
        pos["fields"][1]["defaults"]["sandbox"],
        "https://pos-demo.paysera.com/eapi/v1"
    );
}

#[test]
fn data_dir_comes_from_the_environment_too() {
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("tillkey")
        .unwrap()
        .env("TILLKEY_NO_AGENT", "1")
        .env("TILLKEY_DATA_DIR", dir.path())
        .args(["add", "envshop", "--provider", "bearer"])
        .write_stdin("token=t\n")
        .assert()
        .success();
    assert_eq!(list_json(dir.path())[0]["name"], "envshop");
}

#[test]
fn no_secret_service_is_a_clear_error_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    tillkey(dir.path())
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/tillkey-test-bus")
        .args(["add", "shop", "--provider", "bearer"])
        .write_stdin("token=abc123\n")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("keyring is unavailable"))
        .stderr(predicate::str::contains("gnome-keyring"));
    assert!(list_json(dir.path()).is_empty());
    assert!(!files_text(dir.path()).contains("abc123"));
}

/// What the window can change about rotation, the CLI can too: a credential's period, a
/// rotation done outside Tillkey, and the vault's reminder settings (shared with the app).
#[test]
fn rotation_period_mark_rotated_and_settings_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    tillkey(dir.path())
        .args(["add", "shop", "--provider", "bearer"])
        .write_stdin("token=t\n")
        .assert()
        .success();
    let out = tillkey(dir.path())
        .args(["period", "shop", "30", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(c["rotationPeriodDays"], 30);
    assert_eq!(c["rotation"]["daysLeft"], 30);
    assert_eq!(list_json(dir.path())[0]["rotationPeriodDays"], 30);
    // Out of range: a specific error, nothing changed.
    let before = std::fs::read(dir.path().join("vault.json")).unwrap();
    for bad in ["0", "3651"] {
        tillkey(dir.path())
            .args(["period", "shop", bad])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("error[invalid_input]").and(predicate::str::contains("1 to 3650")));
    }
    tillkey(dir.path())
        .args(["period", "nope", "30"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error[not_found]"));
    assert_eq!(std::fs::read(dir.path().join("vault.json")).unwrap(), before);

    // Overdue until marked rotated.
    let mut m = metadata(dir.path());
    m["credentials"][0]["rotated_at"] = Value::from("2020-01-01T00:00:00Z");
    std::fs::write(dir.path().join("vault.json"), serde_json::to_vec(&m).unwrap()).unwrap();
    assert_eq!(list_json(dir.path())[0]["rotation"]["status"], "overdue");
    tillkey(dir.path())
        .args(["mark-rotated", "shop"])
        .assert()
        .success()
        .stdout(predicate::str::contains("shop is marked rotated today"));
    assert_eq!(list_json(dir.path())[0]["rotation"]["status"], "ok");

    // Settings: shown, changed, refused out of range; the lead time changes the status.
    let out = tillkey(dir.path()).args(["settings", "--json"]).output().unwrap();
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["reminderLeadDays"], 14);
    assert_eq!(s["defaultRotationDays"], 90);
    tillkey(dir.path())
        .args(["settings", "--reminder-days", "31", "--default-period", "60"])
        .assert()
        .success()
        .stdout(predicate::str::contains("31 days").and(predicate::str::contains("60 days")));
    assert_eq!(
        list_json(dir.path())[0]["rotation"]["status"],
        "dueSoon",
        "30 days left, 31 days lead"
    );
    tillkey(dir.path())
        .args(["settings", "--reminder-days", "366"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error[invalid_input]"));
    tillkey(dir.path())
        .args(["add", "two", "--provider", "bearer"])
        .write_stdin("token=t\n")
        .assert()
        .success();
    assert_eq!(list_json(dir.path())[1]["rotationPeriodDays"], 60);
}
