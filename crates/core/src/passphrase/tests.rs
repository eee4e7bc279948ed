use super::*;
use crate::clock::SystemClock;
use crate::dto::NewCredential;
use crate::vault::secrets::MemoryStore;
use crate::vault::Vault;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};

/// The process's key source in these tests: keys by data dir, registered once, so tests in
/// parallel threads (each with its own dir) never see each other's keys.
#[derive(Default)]
struct Keys(Mutex<HashMap<PathBuf, DataKey>>);

impl KeySource for Keys {
    fn data_key(&self, data_dir: &Path) -> Result<DataKey> {
        self.0.lock().unwrap().get(data_dir).cloned().ok_or(Error::Locked)
    }
}

fn keys() -> &'static Arc<Keys> {
    static K: OnceLock<Arc<Keys>> = OnceLock::new();
    K.get_or_init(|| {
        let k = Arc::new(Keys::default());
        set_key_source(k.clone());
        k
    })
}

fn pass(s: &str) -> SecretString {
    SecretString::from(s)
}

struct Fx {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    store: Arc<MemoryStore>,
}

fn fx() -> Fx {
    keys();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    Fx {
        _tmp: tmp,
        dir,
        store: Arc::new(MemoryStore::new()),
    }
}

impl Fx {
    fn vault(&self) -> Vault {
        Vault::open(&self.dir, self.store.clone(), Arc::new(SystemClock)).unwrap()
    }

    fn add(&self, name: &str, token: &str) {
        self.vault()
            .add(NewCredential {
                name: name.into(),
                provider: "bearer".into(),
                environment: None,
                fields: BTreeMap::new(),
                secrets: [("token".to_string(), pass(token))].into(),
            })
            .unwrap();
    }

    fn unlock_for_source(&self, key: DataKey) {
        keys().0.lock().unwrap().insert(self.dir.clone(), key);
    }

    fn lock(&self) {
        keys().0.lock().unwrap().remove(&self.dir);
    }

    /// The raw store's value under `k` (what the keyring holds).
    fn raw(&self, k: &SecretKey) -> Option<String> {
        self.store.get(k).unwrap().map(|v| v.expose_secret().to_string())
    }

    fn token_key(&self, name: &str) -> SecretKey {
        let v = self.vault();
        let r = v.record(name).unwrap();
        SecretKey {
            vault_id: MetadataFile::open(&self.dir).unwrap().load().unwrap().vault_id,
            credential_id: r.id,
            rev: r.secret_rev,
            field: "token".into(),
            class: SecretClass::Durable,
        }
    }
}

#[test]
fn seal_binds_the_entry_identity() {
    let key = DataKey {
        key: Arc::new(Zeroizing::new([7u8; KEY_LEN])),
        id: "0".repeat(32),
    };
    let a = SecretKey {
        vault_id: "v".into(),
        credential_id: "c1".into(),
        rev: 1,
        field: "token".into(),
        class: SecretClass::Durable,
    };
    let b = SecretKey {
        credential_id: "c2".into(),
        ..a.clone()
    };
    let s1 = key.seal(b"canary-value", &ad(&a)).unwrap();
    let s2 = key.seal(b"canary-value", &ad(&a)).unwrap();
    assert_ne!(s1, s2, "a fresh nonce per write");
    assert!(!s1.contains("canary"));
    let opened = SealedStore::open_value(&key, &a, Some(pass(&s1))).unwrap().unwrap();
    assert_eq!(opened.expose_secret(), "canary-value");
    let moved = SealedStore::open_value(&key, &b, Some(pass(&s1)));
    assert!(
        matches!(moved, Err(Error::SealedEntryInvalid { .. })),
        "a swapped ciphertext does not open"
    );
    let mut tampered = B64.decode(&s1).unwrap();
    *tampered.last_mut().unwrap() ^= 1;
    let t = SealedStore::open_value(&key, &a, Some(pass(&B64.encode(tampered))));
    assert!(matches!(t, Err(Error::SealedEntryInvalid { .. })));
}

#[test]
fn set_seals_every_durable_secret_and_locked_refuses_them() {
    let f = fx();
    f.add("shop", "canary-shop-token");
    let k = f.token_key("shop");
    let key = set(&f.dir, &*f.store, &pass("correct horse")).unwrap();
    assert!(is_set(&f.dir).unwrap());
    assert_eq!(read_file(&f.dir).unwrap().unwrap().state, State::Sealed);
    assert_eq!(f.raw(&k), None, "no plain entry is left");
    let sealed = f.raw(&sealed_key(&k)).expect("sealed copy");
    assert!(!sealed.contains("canary"));

    // Locked: a durable read and a durable write are refused; metadata still reads.
    f.lock();
    let v = f.vault();
    assert!(matches!(v.secret("shop", "token"), Err(Error::Locked)));
    assert_eq!(v.list().unwrap().len(), 1);
    let added = v.add(NewCredential {
        name: "other".into(),
        provider: "bearer".into(),
        environment: None,
        fields: BTreeMap::new(),
        secrets: [("token".to_string(), pass("x"))].into(),
    });
    assert!(matches!(added, Err(Error::Locked)), "{added:?}");
    assert!(v.show("other").is_err(), "nothing was added");

    // With the key: reads, and new secrets are sealed too.
    f.unlock_for_source(key);
    let v = f.vault();
    assert_eq!(v.secret("shop", "token").unwrap().expose_secret(), "canary-shop-token");
    f.add("second", "canary-second");
    let k2 = f.token_key("second");
    assert_eq!(f.raw(&k2), None);
    assert!(!f.raw(&sealed_key(&k2)).unwrap().contains("canary"));
    assert!(
        f.store.accounts().iter().all(|a| !a.ends_with("/token")),
        "{:?}",
        f.store.accounts()
    );
}

#[test]
fn cached_access_tokens_stay_usable_while_locked() {
    let f = fx();
    f.add("shop", "t");
    set(&f.dir, &*f.store, &pass("pw")).unwrap();
    f.lock();
    let v = f.vault();
    let r = v.record("shop").unwrap();
    let now = chrono::Utc::now();
    let info = crate::dto::TokenInfo {
        obtained_at: now,
        expires_at: now + chrono::Duration::hours(1),
        renew_at: now + chrono::Duration::minutes(55),
        refreshable: false,
        scope: None,
        taxpayer_tags: None,
    };
    v.store_token(&r.id, r.secret_rev, &pass("cached-access"), None, info)
        .unwrap();
    let r = v.record("shop").unwrap();
    let got = v.cached(&r, TokenField::Access).unwrap().unwrap();
    assert_eq!(got.expose_secret(), "cached-access");
    // A refresh token is durable: refused while locked.
    assert!(matches!(
        v.cached(&r, TokenField::Refresh),
        Ok(None) | Err(Error::Locked)
    ));
}

#[test]
fn change_rewraps_only_the_key_and_remove_restores_plain_entries() {
    let f = fx();
    f.add("shop", "canary-1");
    let k = f.token_key("shop");
    let key = set(&f.dir, &*f.store, &pass("old")).unwrap();
    let sealed_before = f.raw(&sealed_key(&k)).unwrap();
    let file_before = read_file(&f.dir).unwrap().unwrap();

    assert!(matches!(
        change(&f.dir, &*f.store, &pass("nope"), &pass("new")),
        Err(Error::WrongPassphrase)
    ));
    let _ = std::fs::remove_file(f.dir.join(FAILURES_FILE_NAME));
    change(&f.dir, &*f.store, &pass("old"), &pass("new")).unwrap();
    let file_after = read_file(&f.dir).unwrap().unwrap();
    assert_eq!(file_after.key_id, file_before.key_id, "same data key");
    assert_ne!(file_after.salt, file_before.salt);
    assert_eq!(f.raw(&sealed_key(&k)).unwrap(), sealed_before, "no secret rewritten");
    assert!(matches!(unlock(&f.dir, &pass("old")), Err(Error::WrongPassphrase)));
    let _ = std::fs::remove_file(f.dir.join(FAILURES_FILE_NAME));
    assert_eq!(unlock(&f.dir, &pass("new")).unwrap().id(), key.id());

    remove(&f.dir, &*f.store, &pass("new")).unwrap();
    assert!(read_file(&f.dir).unwrap().is_none());
    assert_eq!(f.raw(&k).as_deref(), Some("canary-1"));
    assert_eq!(f.raw(&sealed_key(&k)), None);
    f.lock();
    assert_eq!(f.vault().secret("shop", "token").unwrap().expose_secret(), "canary-1");
}

#[test]
fn bad_requests_change_nothing() {
    let f = fx();
    f.add("shop", "x");
    assert!(matches!(
        change(&f.dir, &*f.store, &pass("a"), &pass("b")),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        remove(&f.dir, &*f.store, &pass("a")),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(unlock(&f.dir, &pass("a")), Err(Error::InvalidInput { .. })));
    assert!(matches!(
        set(&f.dir, &*f.store, &pass("")),
        Err(Error::InvalidInput { .. })
    ));
    assert!(read_file(&f.dir).unwrap().is_none());
    set(&f.dir, &*f.store, &pass("a")).unwrap();
    assert!(matches!(
        set(&f.dir, &*f.store, &pass("b")),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        remove(&f.dir, &*f.store, &pass("b")),
        Err(Error::WrongPassphrase)
    ));
    assert!(is_set(&f.dir).unwrap(), "still sealed");
}

#[test]
fn wrong_passphrases_back_off() {
    assert_eq!(
        (0..8).map(backoff_secs).collect::<Vec<_>>(),
        vec![0, 1, 2, 4, 8, 16, 30, 30]
    );
    let f = fx();
    f.add("shop", "x");
    set(&f.dir, &*f.store, &pass("right")).unwrap();
    assert!(matches!(unlock(&f.dir, &pass("wrong")), Err(Error::WrongPassphrase)));
    let started = std::time::Instant::now();
    assert!(matches!(unlock(&f.dir, &pass("wrong")), Err(Error::WrongPassphrase)));
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "waited after one failure"
    );
    let n: Failures = serde_json::from_slice(&std::fs::read(f.dir.join(FAILURES_FILE_NAME)).unwrap()).unwrap();
    assert_eq!(n.count, 2);
    let started = std::time::Instant::now();
    unlock(&f.dir, &pass("right")).unwrap();
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(1900),
        "waited after two failures"
    );
    assert!(!f.dir.join(FAILURES_FILE_NAME).exists(), "a success resets the count");
}

/// Every write of `set` and `remove` failing in turn (a keyring that goes away, as a kill
/// would leave it): after recovery the vault is whole in the old or the new form, and no
/// plain durable entry exists while the file says sealed.
#[test]
fn an_interrupted_conversion_recovers_to_one_form() {
    for (direction, start_sealed) in [("set", false), ("remove", true)] {
        for n in 0.. {
            let f = fx();
            f.add("a", "canary-a");
            f.add("b", "canary-b");
            let ka = f.token_key("a");
            let kb = f.token_key("b");
            if start_sealed {
                set(&f.dir, &*f.store, &pass("pw")).unwrap();
            }
            f.store.fail_writes_after(n);
            let r = if start_sealed {
                remove(&f.dir, &*f.store, &pass("pw")).map(|_| ())
            } else {
                set(&f.dir, &*f.store, &pass("pw")).map(|_| ())
            };
            f.store.fail_writes_after(usize::MAX);
            recover(&f.dir, &*f.store).unwrap();
            let file = read_file(&f.dir).unwrap();
            match &file {
                Some(file) => {
                    assert_eq!(file.state, State::Sealed, "{direction} {n}");
                    assert_eq!(f.raw(&ka), None, "{direction} {n}: no plain entry while sealed");
                    assert_eq!(f.raw(&kb), None);
                    f.unlock_for_source(unlock(&f.dir, &pass("pw")).unwrap());
                }
                None => {
                    assert_eq!(f.raw(&sealed_key(&ka)), None, "{direction} {n}: no sealed leftovers");
                    assert_eq!(f.raw(&sealed_key(&kb)), None);
                }
            }
            let v = f.vault();
            assert_eq!(
                v.secret("a", "token").unwrap().expose_secret(),
                "canary-a",
                "{direction} {n}"
            );
            assert_eq!(
                v.secret("b", "token").unwrap().expose_secret(),
                "canary-b",
                "{direction} {n}"
            );
            if r.is_ok() {
                assert_eq!(file.is_some(), !start_sealed, "{direction} completed");
                break;
            }
            assert!(n < 50, "{direction} never completed");
        }
    }
}

#[test]
fn hostile_files_are_refused_before_any_work() {
    let f = fx();
    f.add("shop", "x");
    set(&f.dir, &*f.store, &pass("pw")).unwrap();
    let path = file_path(&f.dir);
    let good: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for (field, value) in [
        (
            "params",
            serde_json::json!({"memoryKib": 4_000_000_000u32, "iterations": 3, "parallelism": 1}),
        ),
        (
            "params",
            serde_json::json!({"memoryKib": 65536, "iterations": 1000, "parallelism": 1}),
        ),
        ("kdf", serde_json::json!("pbkdf2")),
        ("salt", serde_json::json!("AAAA")),
        ("wrappedKey", serde_json::json!("AAAA")),
        ("version", serde_json::json!(9)),
    ] {
        let mut bad = good.clone();
        bad[field] = value;
        std::fs::write(&path, serde_json::to_vec(&bad).unwrap()).unwrap();
        let r = unlock(&f.dir, &pass("pw"));
        assert!(matches!(r, Err(Error::PassphraseFileInvalid { .. })), "{field}: {r:?}");
        assert_eq!(r.unwrap_err().code(), "corrupt_metadata");
        let v = f.vault();
        assert_eq!(v.list().unwrap().len(), 1, "names still read");
        let s = v.secret("shop", "token");
        assert!(matches!(s, Err(Error::PassphraseFileInvalid { .. })), "{field}: {s:?}");
    }
}

#[test]
fn with_tokens_locked_a_cached_token_needs_the_key_too() {
    let f = fx();
    f.add("shop", "t");
    let v = f.vault();
    let r = v.record("shop").unwrap();
    let now = chrono::Utc::now();
    let info = crate::dto::TokenInfo {
        obtained_at: now,
        expires_at: now + chrono::Duration::hours(1),
        renew_at: now + chrono::Duration::minutes(55),
        refreshable: false,
        scope: None,
        taxpayer_tags: None,
    };
    v.store_token(&r.id, r.secret_rev, &pass("canary-access-1"), None, info.clone())
        .unwrap();
    let access = SecretKey {
        field: TokenField::Access.name().into(),
        class: SecretClass::Ephemeral,
        ..f.token_key("shop")
    };
    assert_eq!(f.raw(&access).as_deref(), Some("canary-access-1"));

    let key = set_with(&f.dir, &*f.store, &pass("pw"), TokenPolicy::Locked).unwrap();
    assert_eq!(f.raw(&access), None, "the plain cached token is dropped");
    f.lock();
    let v = f.vault();
    let r = v.record("shop").unwrap();
    assert!(matches!(
        v.store_token(&r.id, r.secret_rev, &pass("canary-access-2"), None, info.clone()),
        Err(Error::Locked)
    ));

    f.unlock_for_source(key);
    let v = f.vault();
    v.store_token(&r.id, r.secret_rev, &pass("canary-access-2"), None, info)
        .unwrap();
    assert_eq!(f.raw(&access), None);
    assert!(!f.raw(&sealed_key(&access)).unwrap().contains("canary"));
    let r = v.record("shop").unwrap();
    assert_eq!(
        v.cached(&r, TokenField::Access).unwrap().unwrap().expose_secret(),
        "canary-access-2"
    );
    f.lock();
    assert!(matches!(f.vault().cached(&r, TokenField::Access), Err(Error::Locked)));

    // change keeps the policy; remove drops the sealed token (it can be fetched again).
    change(&f.dir, &*f.store, &pass("pw"), &pass("pw2")).unwrap();
    assert_eq!(read_file(&f.dir).unwrap().unwrap().tokens, TokenPolicy::Locked);
    remove(&f.dir, &*f.store, &pass("pw2")).unwrap();
    assert_eq!(f.raw(&sealed_key(&access)), None);
    assert_eq!(f.vault().secret("shop", "token").unwrap().expose_secret(), "t");
}
