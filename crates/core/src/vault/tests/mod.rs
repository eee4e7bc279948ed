use super::*;
use crate::clock::FixedClock;
use crate::dto::{CredentialEdit, NewCredential, VaultSettings};
use crate::dto::{Environment, RotationStatus};
use crate::vault::secrets::MemoryStore;
use chrono::{Duration, TimeZone, Utc};
use secrecy::ExposeSecret;

struct Fixture {
    dir: tempfile::TempDir,
    store: Arc<MemoryStore>,
    clock: Arc<FixedClock>,
    vault: Vault,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(FixedClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()));
    let vault = Vault::open(dir.path().join("data"), store.clone(), clock.clone()).expect("open");
    Fixture {
        dir,
        store,
        clock,
        vault,
    }
}

fn bearer(name: &str, token: &str) -> NewCredential {
    NewCredential {
        name: name.into(),
        provider: "bearer".into(),
        environment: None,
        fields: BTreeMap::new(),
        secrets: [("token".to_string(), SecretString::from(token))].into(),
    }
}

/// An eReceipt credential: two secret fields, so a failure can strike between them.
fn ereceipt(name: &str, presharedkey: &str) -> NewCredential {
    let fields = [
        ("identity_url", "https://id.example"),
        ("client_id", "c"),
        ("posserial", "1"),
        ("pososversion", "os"),
        ("posmodelframework", "1"),
    ];
    NewCredential {
        name: name.into(),
        provider: "ereceipt".into(),
        environment: None,
        fields: fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        secrets: [
            ("client_secret".to_string(), SecretString::from("s")),
            ("presharedkey".to_string(), SecretString::from(presharedkey)),
        ]
        .into(),
    }
}

fn metadata_text(f: &Fixture) -> String {
    std::fs::read_to_string(f.vault.data_dir().join(metadata::FILE_NAME)).unwrap_or_default()
}

#[test]
fn add_stores_secret_in_keyring_and_only_metadata_on_disk() {
    let f = fixture();
    let s = f.vault.add(bearer("shop", "abc123\r\n")).expect("add");
    assert_eq!(s.name, "shop");
    assert_eq!(s.environment, Environment::Production);
    assert_eq!(s.secret_fields, vec!["token"]);
    assert_eq!(
        f.vault.secret("shop", "token").unwrap().expose_secret(),
        "abc123",
        "trimmed"
    );
    assert_eq!(f.store.len(), 1);
    for entry in std::fs::read_dir(f.vault.data_dir()).unwrap() {
        let text = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!String::from_utf8_lossy(&text).contains("abc123"));
    }
    let list = f.vault.list().unwrap();
    assert_eq!(list.len(), 1);
    assert!(metadata_text(&f).contains("\"pending_cleanup\": []"));
}

#[test]
fn duplicate_name_is_refused_and_changes_nothing() {
    let f = fixture();
    f.vault.add(bearer("shop", "one")).unwrap();
    let before = metadata_text(&f);
    let e = f.vault.add(bearer("shop", "two")).unwrap_err();
    assert_eq!(e.code(), "already_exists");
    assert_eq!(metadata_text(&f), before);
    assert_eq!(f.vault.secret("shop", "token").unwrap().expose_secret(), "one");
    assert_eq!(f.store.len(), 1);
}

#[test]
fn invalid_input_changes_nothing() {
    let f = fixture();
    f.vault.add(bearer("keep", "k")).unwrap();
    let before = metadata_text(&f);
    let mut unknown = bearer("x", "t");
    unknown.provider = "nope".into();
    assert_eq!(f.vault.add(unknown).unwrap_err().code(), "unknown_provider");
    assert_eq!(f.vault.add(bearer("x", "  \n")).unwrap_err().code(), "missing_field");
    let mut bad_url = bearer("x", "t");
    bad_url
        .fields
        .insert("test_url".into(), "http://example.com/ping".into());
    let e = f.vault.add(bad_url).unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("test_url"), "{e}");
    assert_eq!(
        f.vault.add(bearer("bad name!", "t")).unwrap_err().code(),
        "invalid_input"
    );
    let mut env = bearer("x", "t");
    env.provider = "paysera-checkout".into();
    env.environment = Some(Environment::Sandbox);
    assert_eq!(f.vault.add(env).unwrap_err().code(), "invalid_input");
    assert_eq!(metadata_text(&f), before);
    assert_eq!(f.store.len(), 1);
}

#[test]
fn errors_never_contain_secret_values() {
    let f = fixture();
    let long = ereceipt("er", &"TOPSECRET".repeat(30));
    let e = f.vault.add(long).unwrap_err();
    let shown = format!("{e} {e:?} {:?}", e.info());
    assert!(e.to_string().contains("at most 200"), "{e}");
    assert!(!shown.contains("TOPSECRET"), "{shown}");
}

#[test]
fn debug_of_new_credential_is_redacted() {
    let text = format!("{:?}", bearer("shop", "abc123"));
    assert!(!text.contains("abc123"), "{text}");
    assert!(text.contains("token"));
}

#[test]
fn remove_deletes_metadata_and_every_keyring_entry() {
    let f = fixture();
    f.vault.add(bearer("a", "1")).unwrap();
    f.vault.add(bearer("b", "2")).unwrap();
    f.vault.remove("a").unwrap();
    assert_eq!(f.store.len(), 1);
    assert_eq!(
        f.vault
            .list()
            .unwrap()
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["b"]
    );
    assert_eq!(f.vault.remove("a").unwrap_err().code(), "not_found");
    assert!(metadata_text(&f).contains("\"pending_cleanup\": []"));
}

#[test]
fn keyring_failure_mid_add_leaves_no_credential_and_no_entry() {
    let f = fixture();
    let two = ereceipt("co", "k");
    // The first secret is written, the second write fails, and then deletes fail too:
    // the intent stays listed for a later sweep.
    f.store.fail_writes_after(1);
    let e = f.vault.add(two).unwrap_err();
    assert_eq!(e.code(), "keyring_unavailable");
    assert!(f.vault.list().unwrap().is_empty());
    assert_eq!(f.store.len(), 1, "orphan left while the keyring refuses deletes");
    assert!(metadata_text(&f).contains("pending_cleanup"));
    // Keyring back: the next write sweeps the orphan away.
    f.store.fail_writes_after(usize::MAX);
    f.vault.add(bearer("next", "t")).unwrap();
    assert_eq!(f.store.accounts().len(), 1);
    assert!(metadata_text(&f).contains("\"pending_cleanup\": []"));
}

#[test]
fn rotation_status_follows_the_clock() {
    let f = fixture();
    f.vault.add(bearer("shop", "t")).unwrap();
    assert_eq!(f.vault.show("shop").unwrap().rotation.status, RotationStatus::Ok);
    f.clock.advance(Duration::days(85));
    let r = f.vault.show("shop").unwrap().rotation;
    assert_eq!((r.status, r.days_left), (RotationStatus::DueSoon, 5));
    f.clock.advance(Duration::days(10));
    let r = f.vault.show("shop").unwrap().rotation;
    assert_eq!((r.status, r.days_left), (RotationStatus::Overdue, -5));
}

#[test]
fn corrupt_metadata_is_kept_and_backed_up_never_overwritten() {
    let f = fixture();
    f.vault.add(bearer("shop", "t")).unwrap();
    let path = f.vault.data_dir().join(metadata::FILE_NAME);
    std::fs::write(&path, b"{\"schema\": 1, \"vault_id\": ").unwrap();
    let e = f.vault.list().unwrap_err();
    assert_eq!(e.code(), "corrupt_metadata");
    assert!(e.hint().unwrap().contains("will not overwrite"));
    assert_eq!(f.vault.add(bearer("x", "t")).unwrap_err().code(), "corrupt_metadata");
    assert_eq!(std::fs::read(&path).unwrap(), b"{\"schema\": 1, \"vault_id\": ");
    let backup = f.vault.data_dir().join("vault.json.corrupt");
    assert_eq!(std::fs::read(&backup).unwrap(), b"{\"schema\": 1, \"vault_id\": ");
    // Asking again does not pile up copies.
    let _ = f.vault.list();
    let copies = std::fs::read_dir(f.vault.data_dir())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains("corrupt"))
        .count();
    assert_eq!(copies, 1);
}

#[test]
fn newer_schema_is_refused() {
    let f = fixture();
    let path = f.vault.data_dir().join(metadata::FILE_NAME);
    std::fs::write(&path, br#"{"schema": 99, "vault_id": "x"}"#).unwrap();
    assert_eq!(f.vault.list().unwrap_err().code(), "unsupported_schema");
    // A newer document this build cannot even read is refused as newer, not as corrupt.
    std::fs::write(&path, br#"{"schema": 2, "credentials": {"new": "shape"}}"#).unwrap();
    assert_eq!(f.vault.list().unwrap_err().code(), "unsupported_schema");
    assert!(!f.vault.data_dir().join("vault.json.corrupt").exists());
}

#[cfg(unix)]
#[test]
fn data_dir_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture();
    f.vault.add(bearer("shop", "t")).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(f.vault.data_dir()), 0o700);
    for entry in std::fs::read_dir(f.vault.data_dir()).unwrap() {
        let p = entry.unwrap().path();
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
    drop(f.dir);
}

#[test]
fn two_data_dirs_never_share_keyring_entries() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(SystemClock);
    let a_dir = tempfile::tempdir().unwrap();
    let b_dir = tempfile::tempdir().unwrap();
    let a = Vault::open(a_dir.path(), store.clone(), clock.clone()).unwrap();
    let b = Vault::open(b_dir.path(), store.clone(), clock).unwrap();
    a.add(bearer("shop", "from-a")).unwrap();
    b.add(bearer("shop", "from-b")).unwrap();
    assert_eq!(store.len(), 2);
    assert_eq!(a.secret("shop", "token").unwrap().expose_secret(), "from-a");
    b.remove("shop").unwrap();
    assert_eq!(a.secret("shop", "token").unwrap().expose_secret(), "from-a");
}

mod edit;

#[test]
fn a_rotated_secret_is_checked_like_an_added_one() {
    let f = fixture();
    f.vault.add(bearer("shop", "t")).unwrap();
    let before = metadata_text(&f);
    for bad in ["new\u{1b}[2Jtoken", "a\u{0}b"] {
        let e = f
            .vault
            .add(bearer("other", bad))
            .expect_err("added with a control character");
        assert_eq!(e.code(), "invalid_input");
        let Err(e) = f
            .vault
            .stage_rotation("shop", [("token".to_string(), SecretString::from(bad))].into())
        else {
            panic!("rotated with a control character");
        };
        assert_eq!(e.code(), "invalid_input");
        assert!(e.to_string().contains("control characters"), "{e}");
        assert!(!e.to_string().contains("token\u{1b}"), "{e}");
    }
    assert_eq!(metadata_text(&f), before, "nothing changed");
}

#[cfg(unix)]
#[test]
fn an_open_data_dir_is_tightened_and_stale_files_are_swept() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture();
    f.vault.add(bearer("shop", "t")).unwrap();
    let dir = f.vault.data_dir().to_path_buf();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    // A writer killed between its temp file and the rename left this behind.
    let stale = dir.join(".vault.json.AbC123.tmp");
    std::fs::write(&stale, b"{half").unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let fresh = dir.join(".vault.json.XyZ789.tmp");
    std::fs::write(&fresh, b"{in progress").unwrap();
    let vault = Vault::open(&dir, f.store.clone(), f.clock.clone()).unwrap();
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    vault.add(bearer("two", "t")).unwrap();
    assert!(!stale.exists(), "a stale temp file is swept by the next write");
    assert!(fresh.exists(), "a recent one may belong to a live writer");
    // A removed credential's token lock goes with it.
    let id = vault.record("two").unwrap().id;
    drop(vault.token_lock(&id).unwrap());
    let lock = dir.join("locks").join(format!("{id}.lock"));
    assert!(lock.exists());
    vault.remove("two").unwrap();
    assert!(!lock.exists());
}

#[cfg(unix)]
#[test]
fn a_shared_sticky_dir_is_never_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture();
    let shared = f.dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(shared.join("someone-elses-file"), b"x").unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let _ = Vault::open(&shared, f.store.clone(), f.clock.clone()).unwrap();
    assert_eq!(
        std::fs::metadata(&shared).unwrap().permissions().mode() & 0o7777,
        0o1777
    );
}

#[test]
fn a_batch_is_current_until_any_write_of_the_document() {
    let f = fixture();
    let empty = f.vault.begin_batch().expect("batch of a new vault");
    assert!(
        !f.vault.batch_is_current(&empty),
        "no file yet: nothing to compare, read again"
    );
    f.vault.add(bearer("a", "tok-a")).expect("add");
    let b = f.vault.begin_batch().expect("batch");
    assert!(f.vault.batch_is_current(&b));
    assert!(f.vault.batch_is_current(&b), "a read changes nothing");
    // Any write, however small, replaces the file: the batch is stale.
    f.vault.set_rotation_period("a", 30).expect("period");
    assert!(!f.vault.batch_is_current(&b));
    let c = f.vault.begin_batch().expect("batch");
    assert!(f.vault.batch_is_current(&c));
    // An edit by hand in place (same inode) counts too.
    let path = f.vault.data_dir().join(metadata::FILE_NAME);
    let text = std::fs::read_to_string(&path).expect("read");
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&path, text.replace("\"a\"", "\"b\"")).expect("edit");
    assert!(!f.vault.batch_is_current(&c));
    assert!(f.vault.begin_batch().expect("batch").record("b").is_some());
}
