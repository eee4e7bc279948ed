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
