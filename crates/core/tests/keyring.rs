//! The vault against the real Secret Service (run under scripts/with-keyring.sh).

use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::sync::Arc;
use tillkey_core::{KeyringStore, NewCredential, SystemClock, Vault};

fn vault(dir: &std::path::Path) -> Vault {
    Vault::open(dir, Arc::new(KeyringStore), Arc::new(SystemClock)).expect("open")
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

#[test]
fn round_trip_through_the_os_keyring() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(dir.path());
    v.add(bearer("shop", "real-keyring-secret")).unwrap();
    // A second handle (as the CLI and the app would have) sees the same secret.
    assert_eq!(
        vault(dir.path()).secret("shop", "token").unwrap().expose_secret(),
        "real-keyring-secret"
    );
    v.remove("shop").unwrap();
    assert_eq!(v.secret("shop", "token").unwrap_err().code(), "not_found");
}

/// Writers in parallel (threads here, app and CLI in real life) serialise on the vault
/// lock: no add is lost and every secret lands.
#[test]
fn parallel_writers_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let d = dir.path().to_path_buf();
            std::thread::spawn(move || vault(&d).add(bearer(&format!("c{i}"), &format!("t{i}"))).map(|_| ()))
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    let v = vault(dir.path());
    let names: Vec<_> = v.list().unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(names.len(), 8, "{names:?}");
    for i in 0..8 {
        assert_eq!(
            v.secret(&format!("c{i}"), "token").unwrap().expose_secret(),
            format!("t{i}")
        );
    }
}

/// Linux: the store's own Secret Service session against what the `keyring` crate reads and
/// writes, and where new items go.
#[cfg(target_os = "linux")]
mod secret_service {
    use dbus_secret_service::{EncryptionType, SecretService};
    use secrecy::{ExposeSecret, SecretString};
    use std::collections::HashMap;
    use tillkey_core::vault::secrets::SecretClass;
    use tillkey_core::vault::{TokenField, ACCESS_TOKEN_FIELD};
    use tillkey_core::{Error, KeyringStore, SecretKey, SecretStore};

    /// A key no other test (or earlier run) uses.
    /// As the vault addresses them: a cached access token is ephemeral, the rest durable.
    fn key(field: &str) -> SecretKey {
        SecretKey {
            vault_id: format!("ss-test-{}", uuid::Uuid::new_v4()),
            credential_id: "cred".into(),
            rev: 1,
            field: field.into(),
            class: match TokenField::from_name(field) {
                Some(t) => t.class(),
                None => SecretClass::Durable,
            },
        }
    }

    fn entry(key: &SecretKey) -> keyring::Entry {
        keyring::Entry::new("tillkey", &key.account()).unwrap()
    }

    fn get(key: &SecretKey) -> Option<String> {
        KeyringStore.get(key).unwrap().map(|v| v.expose_secret().to_string())
    }

    fn set(key: &SecretKey, value: &str) {
        KeyringStore.set(key, &SecretString::from(value)).unwrap();
    }

    /// The D-Bus paths of the items matching `key`, whatever their collection.
    fn item_paths(key: &SecretKey) -> Vec<String> {
        let ss = SecretService::connect(EncryptionType::Dh).unwrap();
        let account = key.account();
        let found = ss
            .search_items(HashMap::from([("service", "tillkey"), ("username", account.as_str())]))
            .unwrap();
        found
            .unlocked
            .iter()
            .chain(found.locked.iter())
            .map(|i| i.path.to_string())
            .collect()
    }

    /// The attributes and label of the one item matching `key`, with its account replaced by `ACCOUNT`.
    fn item_shape(key: &SecretKey) -> (HashMap<String, String>, String) {
        let ss = SecretService::connect(EncryptionType::Dh).unwrap();
        let account = key.account();
        let found = ss
            .search_items(HashMap::from([("service", "tillkey"), ("username", account.as_str())]))
            .unwrap();
        assert_eq!(found.unlocked.len(), 1, "{}", account);
        let item = &found.unlocked[0];
        assert_eq!(item.get_secret_content_type().unwrap(), "text/plain");
        let mut attrs = item.get_attributes().unwrap();
        attrs.insert("username".into(), "ACCOUNT".into());
        // gnome-keyring adds `xdg:schema` (Generic) to items it has reloaded from its keyring
        // file, whoever created them: not part of what a client writes.
        attrs.remove("xdg:schema");
        (attrs, item.get_label().unwrap().replace(&account, "ACCOUNT"))
    }

    fn collection_prefix(alias: &str) -> String {
        let ss = SecretService::connect(EncryptionType::Dh).unwrap();
        format!("{}/", ss.get_collection_by_alias(alias).unwrap().path)
    }

    #[test]
    fn entries_of_the_keyring_crate_are_read_updated_and_deleted() {
        let k = key("token");
        entry(&k).set_password("old-path").unwrap();
        assert_eq!(get(&k).as_deref(), Some("old-path"));
        set(&k, "updated-by-store");
        // Updated in place: still one item, and keyring (which errs on several) reads it.
        assert_eq!(item_paths(&k).len(), 1);
        assert_eq!(entry(&k).get_password().unwrap(), "updated-by-store");
        KeyringStore.delete(&k).unwrap();
        assert!(matches!(entry(&k).get_password(), Err(keyring::Error::NoEntry)));
        assert_eq!(get(&k), None);
        KeyringStore.delete(&k).expect("deleting a missing entry is fine");
    }

    #[test]
    fn the_keyring_crate_reads_updates_and_deletes_entries_of_the_store() {
        let k = key("client_secret");
        set(&k, "new-path");
        assert_eq!(entry(&k).get_password().unwrap(), "new-path");
        entry(&k).set_password("updated-by-keyring").unwrap();
        assert_eq!(item_paths(&k).len(), 1);
        assert_eq!(get(&k).as_deref(), Some("updated-by-keyring"));
        entry(&k).delete_credential().unwrap();
        assert_eq!(get(&k), None);
        assert!(item_paths(&k).is_empty());
    }

    #[test]
    fn new_items_look_exactly_like_keyring_crate_items() {
        let (old, new) = (key("token"), key("token"));
        entry(&old).set_password("a").unwrap();
        set(&new, "b");
        assert_eq!(item_shape(&old), item_shape(&new));
        let (attrs, label) = item_shape(&new);
        assert_eq!(attrs.len(), 4, "{attrs:?}");
        assert_eq!(attrs["application"], "rust-keyring");
        assert_eq!(attrs["target"], "default");
        assert_eq!(label, "ACCOUNT@tillkey:default (keyring v3.6.3)");
        KeyringStore.delete(&old).unwrap();
        KeyringStore.delete(&new).unwrap();
    }

    #[test]
    fn access_tokens_go_to_the_session_collection_and_other_secrets_to_login() {
        let (session, login) = (collection_prefix("session"), collection_prefix("default"));
        assert_ne!(session, login);
        let token = key(ACCESS_TOKEN_FIELD);
        let refresh = key(tillkey_core::vault::REFRESH_TOKEN_FIELD);
        let secret = key("client_secret");
        for k in [&token, &refresh, &secret] {
            set(k, "v1");
        }
        let paths = item_paths(&token);
        assert!(
            paths.len() == 1 && paths[0].starts_with(&session),
            "{paths:?} not in {session}"
        );
        for k in [&refresh, &secret] {
            let paths = item_paths(k);
            assert!(
                paths.len() == 1 && paths[0].starts_with(&login),
                "{paths:?} not in {login}"
            );
        }
        // Updates stay where the item is.
        set(&token, "v2");
        assert_eq!(item_paths(&token), paths);
        assert_eq!(get(&token).as_deref(), Some("v2"));
        // An access token the keyring crate wrote (in login) is updated there, not copied.
        let old = key(ACCESS_TOKEN_FIELD);
        entry(&old).set_password("old").unwrap();
        let old_paths = item_paths(&old);
        assert!(old_paths[0].starts_with(&login), "{old_paths:?}");
        set(&old, "new");
        assert_eq!(item_paths(&old), old_paths);
        assert_eq!(entry(&old).get_password().unwrap(), "new");
        for k in [&token, &refresh, &secret, &old] {
            KeyringStore.delete(k).unwrap();
            assert!(item_paths(k).is_empty());
        }
    }

    #[test]
    fn several_matching_items_are_an_error_to_read_and_collapse_on_write() {
        let ss = SecretService::connect(EncryptionType::Dh).unwrap();
        let k = key("token");
        let account = k.account();
        let attrs = HashMap::from([
            ("service", "tillkey"),
            ("username", account.as_str()),
            ("target", "default"),
            ("application", "rust-keyring"),
        ]);
        for alias in ["default", "session"] {
            let c = ss.get_collection_by_alias(alias).unwrap();
            c.create_item("dup", attrs.clone(), b"dup-secret", true, "text/plain")
                .unwrap();
        }
        assert_eq!(item_paths(&k).len(), 2);
        match KeyringStore.get(&k) {
            Err(Error::KeyringUnavailable(msg)) => {
                assert!(
                    msg.contains("2 keyring entries match") && !msg.contains("dup-secret"),
                    "{msg}"
                )
            }
            other => panic!("{:?}", other.map(|v| v.is_some())),
        }
        set(&k, "one");
        assert_eq!(item_paths(&k).len(), 1);
        assert_eq!(get(&k).as_deref(), Some("one"));
        for alias in ["default", "session"] {
            let c = ss.get_collection_by_alias(alias).unwrap();
            c.create_item("dup", attrs.clone(), b"dup-secret", false, "text/plain")
                .unwrap();
        }
        KeyringStore.delete(&k).unwrap();
        assert!(item_paths(&k).is_empty());
    }

    /// keyring's fallback for items without a `target` (keyring v1, other tools) in the
    /// default collection holds for every secret but cached access tokens.
    #[test]
    fn target_less_items_are_found_except_for_access_tokens() {
        let ss = SecretService::connect(EncryptionType::Dh).unwrap();
        let login = ss.get_default_collection().unwrap();
        let (secret, token) = (key("client_secret"), key(ACCESS_TOKEN_FIELD));
        for k in [&secret, &token] {
            let account = k.account();
            let attrs = HashMap::from([("service", "tillkey"), ("username", account.as_str())]);
            login.create_item("v1", attrs, b"legacy", true, "text/plain").unwrap();
        }
        assert_eq!(get(&secret).as_deref(), Some("legacy"));
        let paths = item_paths(&secret);
        set(&secret, "updated");
        assert_eq!(item_paths(&secret), paths, "updated in place");
        assert_eq!(get(&secret).as_deref(), Some("updated"));
        KeyringStore.delete(&secret).unwrap();
        assert!(item_paths(&secret).is_empty());
        // The target-less token is not found: it is fetched again (and stored anew).
        assert_eq!(get(&token), None);
        let legacy = item_paths(&token);
        for p in legacy {
            dbus_secret_service::Item::new(&ss, p.into()).delete().unwrap();
        }
    }

    #[test]
    fn many_threads_at_once_all_succeed() {
        let handles: Vec<_> = (0..16)
            .map(|t| {
                std::thread::spawn(move || {
                    for i in 0..10 {
                        let field = if i % 2 == 0 { ACCESS_TOKEN_FIELD } else { "token" };
                        let k = key(field);
                        let v = format!("t{t}-{i}");
                        set(&k, &v);
                        assert_eq!(get(&k).as_deref(), Some(v.as_str()));
                        KeyringStore.delete(&k).unwrap();
                        assert_eq!(get(&k), None);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }
}
