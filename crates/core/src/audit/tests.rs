use super::*;
use crate::clock::FixedClock;
use crate::vault::secrets::MemoryStore;
use chrono::TimeZone;

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap()))
}

fn log_in(dir: &Path, store: &Arc<MemoryStore>) -> AuditLog {
    AuditLog::new(dir, Some(store.clone() as Arc<dyn SecretStore>), clock())
}

fn rec(action: Action, name: &str) -> Record {
    Record::new(action, Some("id-1"), name, "local", Origin::cli_pid("token", 42), "ok")
}

fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path).unwrap().lines().map(str::to_string).collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    fs::write(path, lines.join("\n") + "\n").unwrap();
}

fn broken(v: Verified) -> (u64, Option<Place>, String) {
    match v {
        Verified::Broken { seq, place, reason, .. } => (seq, place, reason),
        v => panic!("expected a break, got {v:?}"),
    }
}

#[test]
fn entries_chain_from_genesis_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let log = log_in(dir.path(), &store);
    let a = log.append(rec(Action::Token, "shop")).unwrap();
    let b = log.append(rec(Action::Test, "shop")).unwrap();
    assert_eq!((a.seq, b.seq), (0, 1));
    assert_eq!(a.prev, GENESIS);
    assert_eq!(b.prev, a.hash);
    assert_eq!(a.hash, a.computed_hash());
    assert_eq!(lines(&log.path()).len(), 2);
    match log.verify().unwrap() {
        Verified::Intact {
            count,
            first,
            last,
            anchor,
        } => {
            assert_eq!((count, first, last), (2, Some(0), Some(1)));
            // Nothing was anchored before (plain appends do not): verify anchors now.
            assert_eq!(anchor, AnchorState::Missing);
        }
        v => panic!("{v:?}"),
    }
    assert_eq!(log.load_anchor().unwrap().unwrap().seq, 1);
}

#[test]
fn only_actions_off_the_hot_path_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let log = log_in(dir.path(), &store);
    log.record(rec(Action::Token, "shop")).unwrap();
    log.record(rec(Action::Exec, "shop")).unwrap();
    log.record(rec(Action::Copy, "shop")).unwrap();
    log.record(rec(Action::Reveal, "shop")).unwrap();
    assert_eq!(log.load_anchor().unwrap(), None);
    let e = log.record(rec(Action::Rotate, "shop")).unwrap();
    assert_eq!(
        log.load_anchor().unwrap(),
        Some(AnchorPoint {
            seq: e.seq,
            hash: e.hash.clone()
        })
    );
}

#[test]
fn an_edited_entry_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let log = log_in(dir.path(), &store);
    for _ in 0..5 {
        log.append(rec(Action::Token, "shop")).unwrap();
    }
    let mut l = lines(&log.path());
    l[2] = l[2].replace("\"outcome\":\"ok\"", "\"outcome\":\"not_found\"");
    write_lines(&log.path(), &l);
    let (seq, place, reason) = broken(log.verify().unwrap());
    assert_eq!(seq, 2);
    assert_eq!(
        place,
        Some(Place {
            file: FILE_NAME.into(),
            line: 3
        })
    );
    assert!(reason.contains("edited"), "{reason}");
}

#[test]
fn an_edited_entry_with_its_hash_recomputed_breaks_the_next_link() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let log = log_in(dir.path(), &store);
    for _ in 0..4 {
        log.append(rec(Action::Token, "shop")).unwrap();
    }
    let mut l = lines(&log.path());
    let mut e = Entry::parse(l[1].as_bytes()).unwrap();
    e.credential.name = "other".into();
    e.hash = e.computed_hash();
    l[1] = serde_json::to_string(&e).unwrap();
    write_lines(&log.path(), &l);
    let (seq, _, reason) = broken(log.verify().unwrap());
    assert_eq!(seq, 2);
    assert!(reason.contains("entry 1"), "{reason}");
}

#[test]
fn a_removed_entry_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let log = log_in(dir.path(), &store);
    for _ in 0..4 {
        log.append(rec(Action::Token, "shop")).unwrap();
    }
    let mut l = lines(&log.path());
    l.remove(1);
    write_lines(&log.path(), &l);
    let (seq, _, reason) = broken(log.verify().unwrap());
    assert_eq!(seq, 2);
    assert!(reason.contains("follows entry 0"), "{reason}");
}

/// The whole file rewritten consistently (an entry dropped, every later one renumbered
/// and re-hashed) passes the chain: the anchor in the keyring catches it.
#[test]
fn a_consistent_rewrite_of_the_whole_file_is_caught_by_the_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let log = log_in(dir.path(), &store);
    for i in 0..5 {
        log.append(rec(Action::Token, &format!("c{i}"))).unwrap();
    }
    log.record(rec(Action::Remove, "c9")).unwrap(); // anchors seq 5
    let mut entries: Vec<Entry> = lines(&log.path())
        .iter()
        .map(|l| Entry::parse(l.as_bytes()).unwrap())
        .collect();
    entries.remove(2);
    let mut prev = GENESIS.to_string();
    for (i, e) in entries.iter_mut().enumerate() {
        e.seq = i as u64;
        e.prev = prev.clone();
        e.hash = e.computed_hash();
        prev = e.hash.clone();
    }
    let rewritten: Vec<String> = entries.iter().map(|e| serde_json::to_string(e).unwrap()).collect();
    write_lines(&log.path(), &rewritten);
    // Without the anchor the rewrite would pass.
    let unanchored = AuditLog::new(dir.path(), None, clock());
    assert!(matches!(
        unanchored.verify().unwrap(),
        Verified::Intact { count: 5, .. }
    ));
    let (seq, place, reason) = broken(log.verify().unwrap());
    assert_eq!((seq, place), (5, None));
    assert!(reason.contains("ends at entry 4"), "{reason}");

    // Padded back to the anchored number with a forged entry: its hash differs.
    let mut forged = entries.last().unwrap().clone();
    forged.seq = 5;
    forged.prev = forged.hash.clone();
    forged.hash = forged.computed_hash();
    let mut padded = rewritten.clone();
    padded.push(serde_json::to_string(&forged).unwrap());
    write_lines(&log.path(), &padded);
    let (seq, _, reason) = broken(log.verify().unwrap());
    assert_eq!(seq, 5);
    assert!(reason.contains("anchored"), "{reason}");

    // A deleted log is caught as well.
    fs::remove_file(log.path()).unwrap();
    let (seq, _, reason) = broken(log.verify().unwrap());
    assert_eq!(seq, 5);
    assert!(reason.contains("empty"), "{reason}");
}

#[test]
fn rotation_keeps_the_chain_and_anchors_the_old_files_last_entry() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let log = log_in(dir.path(), &store).with_limits(1500, 2);
    let mut all = Vec::new();
    for _ in 0..20 {
        all.push(log.append(rec(Action::Token, "shop")).unwrap());
    }
    let files = log.files();
    assert_eq!(files.len(), 3, "{files:?}");
    assert!(files.iter().all(|f| fs::metadata(f).unwrap().len() <= 1500));
    // The current file's first entry chains to the last of audit.1.log.
    let first_now = Entry::parse(lines(&log.path())[0].as_bytes()).unwrap();
    let last_before = Entry::parse(lines(&dir.path().join("audit.1.log")).last().unwrap().as_bytes()).unwrap();
    assert_eq!(first_now.prev, last_before.hash);
    assert_eq!(first_now.seq, last_before.seq + 1);
    assert_eq!(log.load_anchor().unwrap().unwrap().seq, last_before.seq);
    match log.verify().unwrap() {
        Verified::Intact { first, last, .. } => {
            assert!(first.unwrap() > 0, "the oldest file was rotated away");
            assert_eq!(last, Some(19));
        }
        v => panic!("{v:?}"),
    }
    // Deleting a kept rotated file is caught by the anchor set at rotation.
    fs::remove_file(dir.path().join("audit.1.log")).unwrap();
    assert!(matches!(log.verify().unwrap(), Verified::Broken { .. }));
}

#[test]
fn a_torn_tail_is_named_and_appends_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let log = log_in(dir.path(), &store);
    for _ in 0..3 {
        log.append(rec(Action::Token, "shop")).unwrap();
    }
    let text = fs::read_to_string(log.path()).unwrap();
    // Cut the last line in half (a write cut short).
    let cut = text.len() - 40;
    fs::write(log.path(), &text[..cut]).unwrap();
    let (seq, place, reason) = broken(log.verify().unwrap());
    assert_eq!(seq, 2);
    assert_eq!(place.unwrap().line, 3);
    assert!(reason.contains("not a log entry"), "{reason}");
    // The next append starts a new line and chains to the last whole entry.
    let next = log.append(rec(Action::Token, "shop")).unwrap();
    assert_eq!(next.seq, 2);
    let l = lines(&log.path());
    assert_eq!(l.len(), 4);
    assert_eq!(Entry::parse(l[3].as_bytes()).unwrap(), next);
}

#[test]
fn garbage_never_panics_and_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let log = log_in(dir.path(), &store);
    log.append(rec(Action::Token, "shop")).unwrap();
    let mut f = OpenOptions::new().append(true).open(log.path()).unwrap();
    f.write_all(b"\xff\xfe not json\n{}\n[1,2]\n").unwrap();
    f.write_all(&vec![b'x'; MAX_LINE * 3]).unwrap();
    f.write_all(b"\n").unwrap();
    drop(f);
    let listing = log.list(&Filter::default()).unwrap();
    assert_eq!((listing.entries.len(), listing.unreadable), (1, 4));
    let (seq, place, _) = broken(log.verify().unwrap());
    assert_eq!((seq, place.unwrap().line), (1, 2));
    // Appending still works and chains to the last real entry.
    assert_eq!(log.append(rec(Action::Token, "shop")).unwrap().seq, 1);
    // Pure garbage of any size is no entry and no panic.
    let p = parse_lines(b"{\"v\":1,\"seq\":-1}\n\0\0\0\n{\"v\":1}");
    assert_eq!((p.entries.len(), p.unreadable), (0, 3));
}

#[test]
fn a_bad_anchor_or_none_never_breaks_appends() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let log = log_in(dir.path(), &store);
    store
        .set(&anchor_key(dir.path()), &SecretString::from("not an anchor"))
        .unwrap();
    let e = log.record(rec(Action::Test, "shop")).unwrap();
    // Anchoring replaced it.
    assert_eq!(log.load_anchor().unwrap().unwrap().seq, e.seq);
    store
        .set(&anchor_key(dir.path()), &SecretString::from("not an anchor"))
        .unwrap();
    assert!(
        log.verify().is_err(),
        "an anchor that is not one is an error, not intact"
    );
    // Without any anchor store, appends and verification work unanchored.
    let bare = AuditLog::new(dir.path(), None, clock());
    assert!(bare.record(rec(Action::Remove, "shop")).is_some());
    assert!(matches!(
        bare.verify().unwrap(),
        Verified::Intact {
            count: 2,
            anchor: AnchorState::Unavailable(_),
            ..
        }
    ));
}

#[test]
fn filters_by_credential_action_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let c = clock();
    let log = AuditLog::new(dir.path(), Some(store as Arc<dyn SecretStore>), c.clone());
    log.append(rec(Action::Token, "a")).unwrap();
    c.advance(chrono::Duration::days(1));
    log.append(rec(Action::Test, "b")).unwrap();
    log.append(rec(Action::Token, "b")).unwrap();
    let n = |f: Filter| log.list(&f).unwrap().entries.len();
    assert_eq!(n(Filter::default()), 3);
    let by_name = Filter {
        credential: Some("b".into()),
        ..Filter::default()
    };
    assert_eq!(n(by_name), 2);
    let by_action = Filter {
        action: Some(Action::Token),
        ..Filter::default()
    };
    assert_eq!(n(by_action), 2);
    let since = Filter {
        since: Some(Utc.with_ymd_and_hms(2026, 5, 2, 0, 0, 0).unwrap()),
        ..Filter::default()
    };
    assert_eq!(n(since), 2);
}

#[test]
fn concurrent_appenders_never_fork_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (d, s) = (dir.path().to_path_buf(), store.clone());
            std::thread::spawn(move || {
                // A log object per thread, as separate processes have.
                let log = log_in(&d, &s).with_limits(4000, 50);
                for _ in 0..25 {
                    log.append(rec(Action::Token, &format!("t{t}"))).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let log = log_in(dir.path(), &store).with_limits(4000, 50);
    match log.verify().unwrap() {
        Verified::Intact { count, last, .. } => assert_eq!((count, last), (100, Some(99))),
        v => panic!("{v:?}"),
    }
}

#[test]
fn origins_describe_themselves_and_commands_are_cleaned() {
    assert_eq!(Origin::window().describe(), "window");
    assert_eq!(Origin::cli_pid("token", 7).describe(), "cli token (pid 7)");
    assert_eq!(Origin::via_agent("exec", 7).describe(), "cli exec (pid 7, agent)");
    assert_eq!(
        Origin::cli_pid("to\u{1b}[31mken\nX", 1).command.as_deref(),
        Some("to31mkenx")
    );
    assert_eq!("copy".parse::<Action>().unwrap(), Action::Copy);
    assert!("steal".parse::<Action>().is_err());
}

/// No field of an entry can hold a secret: a canary in every place a caller could pass
/// one stays out because only names, ids, codes and fixed words are recorded. (The CLI
/// and window tests scan the real log for the real secrets.)
#[test]
fn an_entry_has_only_the_fields_it_names() {
    let e = Entry::parse(
        serde_json::to_string(&{
            let dir = tempfile::tempdir().unwrap();
            let log = AuditLog::new(dir.path(), None, clock());
            log.append(rec(Action::Token, "shop")).unwrap()
        })
        .unwrap()
        .as_bytes(),
    )
    .unwrap();
    let v = serde_json::to_value(&e).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        vec![
            "action",
            "credential",
            "hash",
            "origin",
            "outcome",
            "prev",
            "seq",
            "time",
            "v",
            "vault"
        ]
    );
    // Unknown fields are refused: a line with a smuggled field is no entry.
    let mut obj = v.as_object().unwrap().clone();
    obj.insert("token".into(), "canary".into());
    assert!(Entry::parse(serde_json::to_string(&obj).unwrap().as_bytes()).is_none());
}

/// An error of the delivery step (the window's clipboard), with its own code.
#[derive(Debug)]
enum Delivery {
    ClipboardDown,
    Core(crate::Error),
}

impl From<crate::Error> for Delivery {
    fn from(e: crate::Error) -> Self {
        Delivery::Core(e)
    }
}

fn code_of(e: &Delivery) -> String {
    match e {
        Delivery::ClipboardDown => "clipboard_unavailable".into(),
        Delivery::Core(e) => e.code().to_string(),
    }
}

#[tokio::test]
async fn a_copy_is_logged_with_the_outcome_of_its_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Arc::new(crate::Vault::open(dir.path(), Arc::new(MemoryStore::new()), clock()).unwrap());
    vault
        .add(crate::NewCredential {
            name: "till".into(),
            provider: "bearer".into(),
            environment: None,
            fields: Default::default(),
            secrets: [("token".to_string(), "static-token-value".to_string().into())].into(),
        })
        .unwrap();
    let engine = crate::token::Engine::new(vault.clone()).with_origin(Origin::window());

    // The token came, the clipboard failed: the entry says so, not "ok".
    let failed: std::result::Result<(), Delivery> = engine
        .token_delivered(
            "till",
            Action::Copy,
            |_t| async { Err(Delivery::ClipboardDown) },
            code_of,
        )
        .await;
    assert!(matches!(failed, Err(Delivery::ClipboardDown)));
    // The token came and was delivered.
    let delivered = engine
        .token_delivered(
            "till",
            Action::Copy,
            |t| async move { Ok::<_, Delivery>(t.value.expose_secret().len()) },
            code_of,
        )
        .await;
    assert_eq!(delivered.unwrap(), "static-token-value".len());
    // No token at all: the request's own code, and delivery never runs.
    let missing: std::result::Result<(), Delivery> = engine
        .token_delivered(
            "nope",
            Action::Copy,
            |_t| async { unreachable!("no token to deliver") },
            code_of,
        )
        .await;
    assert!(matches!(missing, Err(Delivery::Core(_))));

    let copies = vault
        .audit_log()
        .list(&Filter {
            action: Some(Action::Copy),
            ..Filter::default()
        })
        .unwrap()
        .entries;
    let seen: Vec<(&str, &str)> = copies
        .iter()
        .map(|e| (e.credential.name.as_str(), e.outcome.as_str()))
        .collect();
    assert_eq!(
        seen,
        [("till", "clipboard_unavailable"), ("till", "ok"), ("nope", "not_found")]
    );
    assert!(copies
        .iter()
        .all(|e| e.action == Action::Copy && e.origin == Origin::window()));
}

#[test]
fn add_edit_and_mark_rotated_are_logged_and_an_imports_check_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let vault = crate::Vault::open(dir.path(), Arc::new(MemoryStore::new()), clock()).unwrap();
    let bearer = |name: &str| crate::NewCredential {
        name: name.into(),
        provider: "bearer".into(),
        environment: None,
        fields: Default::default(),
        secrets: [("token".to_string(), "static-token-value".to_string().into())].into(),
    };
    let added = vault.add(bearer("till")).unwrap();
    assert!(vault.add(bearer("till")).is_err(), "a taken name");
    vault.set_rotation_period("till", 30).unwrap();
    vault.mark_rotated("till").unwrap();
    assert!(vault.mark_rotated("nope").is_err());
    // An import validates each credential in a scratch vault: only `import` is recorded.
    let parsed = crate::import::parse(&crate::import::Source {
        file: "shop.env".into(),
        bytes: b"BEARER_TOKEN=imported-token-value\nBEARER_TEST_URL=http://127.0.0.1:9/p\n".to_vec(),
        dotenv: None,
    })
    .unwrap();
    let plan = crate::import::plan(parsed, &crate::import::Mapping::new());
    crate::import::import(
        &vault,
        "shop.env",
        crate::import::Format::Dotenv,
        plan,
        crate::import::Options::default(),
    )
    .unwrap();

    let seen: Vec<(Action, String, Option<String>, String)> = vault
        .audit_log()
        .list(&Filter::default())
        .unwrap()
        .entries
        .into_iter()
        .map(|e| (e.action, e.credential.name, e.credential.id, e.outcome))
        .collect();
    let id = Some(added.id);
    assert_eq!(
        seen,
        [
            (Action::Add, "till".into(), id.clone(), "ok".into()),
            (Action::Add, "till".into(), None, "already_exists".into()),
            (Action::Edit, "till".into(), id.clone(), "ok".into()),
            (Action::MarkRotated, "till".into(), id, "ok".into()),
            (Action::MarkRotated, "nope".into(), None, "not_found".into()),
            (
                Action::Import,
                "bearer".into(),
                seen.last().and_then(|e| e.2.clone()),
                "ok".into()
            ),
        ]
    );
    assert_eq!("mark-rotated".parse::<Action>().unwrap(), Action::MarkRotated);
    assert_eq!(serde_json::to_string(&Action::MarkRotated).unwrap(), "\"mark-rotated\"");
}
