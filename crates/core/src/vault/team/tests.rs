use super::*;
use crate::clock::{Clock, FixedClock};
use crate::dto::NewCredential;
use crate::vault::Vault;
use chrono::{TimeZone, Utc};
use std::collections::BTreeMap;

struct Two {
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    kv: Arc<MemoryKv>,
    clock: Arc<FixedClock>,
    a: Vault,
    b: Vault,
}

fn two(retain: u32, share: bool) -> Two {
    let kv = Arc::new(MemoryKv::new());
    let clock = Arc::new(FixedClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()));
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Vault::open_team_with(da.path(), "team", kv.clone(), retain, share, clock.clone()).unwrap();
    let b = Vault::open_team_with(db.path(), "team", kv.clone(), retain, share, clock.clone()).unwrap();
    Two {
        _dirs: (da, db),
        kv,
        clock,
        a,
        b,
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

fn rotate(v: &Vault, name: &str, token: &str) {
    let staged = v
        .stage_rotation(name, [("token".to_string(), SecretString::from(token))].into())
        .unwrap();
    v.commit_rotation(staged).unwrap();
}

#[test]
fn two_machines_share_credentials_and_rotations() {
    let t = two(0, false);
    t.a.add(bearer("pos", "one")).unwrap();
    assert_eq!(t.b.list().unwrap().len(), 1);
    assert_eq!(t.b.secret("pos", "token").unwrap().expose_secret(), "one");
    rotate(&t.b, "pos", "two");
    assert_eq!(t.a.secret("pos", "token").unwrap().expose_secret(), "two");
    let id = t.a.record("pos").unwrap().id;
    // The superseded revision is destroyed (no metadata left), not soft-deleted.
    assert!(
        !t.kv.paths().contains(&format!("secrets/{id}/r1/token")),
        "{:?}",
        t.kv.paths()
    );
    assert!(t.kv.is_live(&format!("secrets/{id}/r2/token")));
    t.a.remove("pos").unwrap();
    assert!(t.b.list().unwrap().is_empty());
    assert_eq!(
        t.kv.paths(),
        vec![DOC_PATH.to_string()],
        "remove destroys every secret entry"
    );
}

#[test]
fn a_stale_write_is_a_conflict_and_loses_nothing() {
    let t = two(0, false);
    t.a.add(bearer("pos", "one")).unwrap();
    let guard = t.a.meta.lock().unwrap();
    let mut stale = guard.load().unwrap();
    // B edits after A's read.
    t.b.set_rotation_period("pos", 30).unwrap();
    stale.credentials[0].rotation_period_days = 45;
    let err = guard.save(&stale).unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
    assert!(err.hint().unwrap().contains("reload and try again"));
    drop(guard);
    assert_eq!(t.a.show("pos").unwrap().rotation_period_days, 30, "B's edit survived");
    // After a reload the same change goes through.
    t.a.set_rotation_period("pos", 45).unwrap();
    assert_eq!(t.b.show("pos").unwrap().rotation_period_days, 45);
}

#[test]
fn concurrent_rotations_conflict_and_the_first_one_wins_intact() {
    let t = two(0, false);
    t.a.add(bearer("pos", "one")).unwrap();
    let staged =
        t.a.stage_rotation("pos", [("token".to_string(), SecretString::from("from-a"))].into())
            .unwrap();
    let err =
        t.b.stage_rotation("pos", [("token".to_string(), SecretString::from("from-b"))].into())
            .err()
            .unwrap();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
    // Another machine's unrelated write meanwhile must not sweep A's staged secret.
    t.b.add(bearer("other", "x")).unwrap();
    t.a.commit_rotation(staged).unwrap();
    assert_eq!(t.b.secret("pos", "token").unwrap().expose_secret(), "from-a");
}

#[test]
fn an_abandoned_write_is_swept_after_the_grace_period() {
    let t = two(0, false);
    t.a.add(bearer("pos", "one")).unwrap();
    let staged =
        t.a.stage_rotation("pos", [("token".to_string(), SecretString::from("abandoned"))].into())
            .unwrap();
    let id = staged.record.id.clone();
    std::mem::forget(staged); // a crash: no abort
    t.b.add(bearer("b1", "x")).unwrap();
    assert!(t.kv.is_live(&format!("secrets/{id}/r2/token")), "swept too early");
    t.clock
        .advance(chrono::Duration::seconds(crate::vault::TEAM_PENDING_GRACE_SECS + 1));
    t.b.add(bearer("b2", "x")).unwrap();
    assert!(!t.kv.paths().contains(&format!("secrets/{id}/r2/token")), "orphan left");
    assert_eq!(t.a.secret("pos", "token").unwrap().expose_secret(), "one");
}

#[test]
fn retention_keeps_old_revisions_recoverable() {
    let t = two(1, false);
    t.a.add(bearer("pos", "one")).unwrap();
    let id = t.a.record("pos").unwrap().id;
    rotate(&t.a, "pos", "two");
    let r1 = format!("secrets/{id}/r1/token");
    assert!(
        t.kv.paths().contains(&r1) && !t.kv.is_live(&r1),
        "r1 soft-deleted, kept"
    );
    rotate(&t.a, "pos", "three");
    assert!(!t.kv.paths().contains(&r1), "beyond the retention count: destroyed");
    assert!(t.kv.paths().contains(&format!("secrets/{id}/r2/token")));
}

#[test]
fn an_abandoned_rotation_does_not_count_against_retention() {
    let t = two(2, false);
    t.a.add(bearer("pos", "one")).unwrap();
    let id = t.a.record("pos").unwrap().id;
    for s in ["two", "three", "four"] {
        rotate(&t.a, "pos", s);
    }
    let rev = |r: u32| format!("secrets/{id}/r{r}/token");
    let kept = |r: u32| t.kv.paths().contains(&rev(r)) && !t.kv.is_live(&rev(r));
    assert!(kept(2) && kept(3), "{:?}", t.kv.paths());
    assert!(!t.kv.paths().contains(&rev(1)));
    // A rotation staged at r5 and abandoned (a crash, or a new secret that failed its
    // test), swept by a later write: it never was the credential's secret, so it is
    // destroyed, and the two superseded revisions stay recoverable.
    let staged =
        t.a.stage_rotation("pos", [("token".to_string(), SecretString::from("bad"))].into())
            .unwrap();
    std::mem::forget(staged);
    t.b.add(bearer("other", "x")).unwrap();
    t.clock
        .advance(chrono::Duration::seconds(crate::vault::TEAM_PENDING_GRACE_SECS + 1));
    t.b.add(bearer("other2", "x")).unwrap();
    assert!(
        !t.kv.paths().contains(&rev(5)),
        "the abandoned attempt is kept: {:?}",
        t.kv.paths()
    );
    assert!(
        kept(2) && kept(3),
        "a retained revision was destroyed: {:?}",
        t.kv.paths()
    );
    assert_eq!(t.b.secret("pos", "token").unwrap().expose_secret(), "four");
    // The next rotation reuses r5 and retention carries on: r3 and r4 kept.
    rotate(&t.b, "pos", "five");
    assert_eq!(t.a.secret("pos", "token").unwrap().expose_secret(), "five");
    assert!(
        kept(3) && kept(4) && !t.kv.paths().contains(&rev(2)),
        "{:?}",
        t.kv.paths()
    );
}

#[test]
fn tokens_stay_in_memory_unless_shared() {
    let info = |t: &Two| crate::dto::TokenInfo {
        obtained_at: t.clock.now(),
        expires_at: t.clock.now() + chrono::Duration::hours(1),
        renew_at: t.clock.now() + chrono::Duration::minutes(55),
        refreshable: false,
        scope: None,
        taxpayer_tags: None,
    };
    let t = two(0, false);
    t.a.add(bearer("pos", "one")).unwrap();
    let r = t.a.record("pos").unwrap();
    let before = t.kv.paths();
    t.a.store_token(&r.id, r.secret_rev, &SecretString::from("access-1"), None, info(&t))
        .unwrap();
    assert_eq!(t.kv.paths(), before, "a memory-cached token reached the engine");
    let ra = t.a.record("pos").unwrap();
    assert!(ra.token.is_some());
    assert_eq!(
        t.a.cached(&ra, crate::vault::TokenField::Access)
            .unwrap()
            .unwrap()
            .expose_secret(),
        "access-1"
    );
    let rb = t.b.record("pos").unwrap();
    assert!(rb.token.is_none(), "another machine does not see a memory token");

    let s = two(0, true);
    s.a.add(bearer("pos", "one")).unwrap();
    let r = s.a.record("pos").unwrap();
    s.a.store_token(&r.id, r.secret_rev, &SecretString::from("access-2"), None, info(&s))
        .unwrap();
    let rb = s.b.record("pos").unwrap();
    assert_eq!(
        s.b.cached(&rb, crate::vault::TokenField::Access)
            .unwrap()
            .unwrap()
            .expose_secret(),
        "access-2"
    );
    s.b.clear_token(&rb.id, rb.secret_rev, true).unwrap();
    assert!(s.a.record("pos").unwrap().token.is_none());
}

#[test]
fn connect_options_are_validated() {
    let opts = ConnectOptions::token;
    assert!(opts("team", "https://bao.example.com:8200").into_config().is_ok());
    assert!(opts("local", "https://bao.example.com").into_config().is_err());
    assert!(opts("team", "http://bao.example.com").into_config().is_err());
    assert!(opts("team", "http://127.0.0.1:8200").into_config().is_ok());
    let mut o = opts("team", "https://b.example");
    o.prefix = Some("../x".into());
    assert!(o.into_config().is_err());
    let mut o = opts("team", "https://b.example");
    o.auth = TeamAuth::Approle;
    assert!(o.into_config().is_err(), "approle needs a role_id");
}

/// Machine A's engine: the shared [`MemoryKv`], where `before_save` runs just before each of
/// A's saves of the vault document (with its ordinal, from 1): another machine's write
/// landing between A's read and A's check-and-set save.
struct Racing {
    inner: Arc<MemoryKv>,
    saves: std::sync::atomic::AtomicUsize,
    before_save: Mutex<Box<dyn FnMut(usize) + Send>>,
}

impl KvEngine for Racing {
    fn read(&self, rel: &str) -> Result<Option<KvEntry>> {
        self.inner.read(rel)
    }

    fn write(&self, rel: &str, data: &SecretString, cas: u64) -> Result<u64> {
        if rel == DOC_PATH {
            let n = self.saves.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            (self.before_save.lock().unwrap())(n);
        }
        self.inner.write(rel, data, cas)
    }

    fn current(&self, rel: &str) -> Result<Option<KvCurrent>> {
        self.inner.current(rel)
    }

    fn delete_latest(&self, rel: &str) -> Result<()> {
        self.inner.delete_latest(rel)
    }

    fn destroy(&self, rel: &str) -> Result<()> {
        self.inner.destroy(rel)
    }

    fn location(&self) -> String {
        self.inner.location()
    }
}

/// Machine A over a [`Racing`] engine whose interfering writes are made by machine B
/// (moved into `race`), and machine C over the same engine to look at the result.
struct Race {
    _dirs: (tempfile::TempDir, tempfile::TempDir, tempfile::TempDir),
    kv: Arc<MemoryKv>,
    racing: Arc<Racing>,
    clock: Arc<FixedClock>,
    a: Vault,
    c: Vault,
}

impl Race {
    /// A's saves of the document so far.
    fn saves(&self) -> usize {
        self.racing.saves.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Every secret entry in the engine belongs to a credential in the document.
    #[track_caller]
    fn assert_no_orphan(&self) {
        let m = self.c.meta.load().unwrap();
        assert!(m.pending_cleanup.is_empty(), "{:?}", m.pending_cleanup);
        for p in self.kv.paths().iter().filter(|p| p.starts_with("secrets/")) {
            let id = p.split('/').nth(1).unwrap();
            assert!(m.credentials.iter().any(|c| c.id == id), "orphan entry {p}");
        }
    }
}

/// Machines A and B on one engine; `setup` runs on B first, then `race(b, n)` runs before
/// A's `n`-th save of the document.
fn race(setup: impl FnOnce(&Vault), mut race: impl FnMut(&Vault, usize) + Send + 'static) -> Race {
    let kv = Arc::new(MemoryKv::new());
    let clock = Arc::new(FixedClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()));
    let dirs = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let b = Vault::open_team_with(dirs.1.path(), "team", kv.clone(), 0, false, clock.clone()).unwrap();
    setup(&b);
    let racing = Arc::new(Racing {
        inner: kv.clone(),
        saves: Default::default(),
        before_save: Mutex::new(Box::new(move |n| race(&b, n))),
    });
    let a = Vault::open_team_with(dirs.0.path(), "team", racing.clone(), 0, false, clock.clone()).unwrap();
    let c = Vault::open_team_with(dirs.2.path(), "team", kv.clone(), 0, false, clock.clone()).unwrap();
    Race {
        _dirs: dirs,
        kv,
        racing,
        clock,
        a,
        c,
    }
}

fn names(v: &Vault) -> Vec<String> {
    let mut n: Vec<String> = v.list().unwrap().into_iter().map(|s| s.name).collect();
    n.sort();
    n
}

#[test]
fn another_machines_write_to_another_credential_is_reapplied_not_a_conflict() {
    // B adds a credential before A's first save of its intent, and before A's first save
    // of its record (A's secret is in the engine by then).
    let t = race(
        |_| {},
        |b, n| {
            if n == 1 || n == 3 {
                b.add(bearer(&format!("b{n}"), "from-b")).unwrap();
            }
        },
    );
    t.a.add(bearer("a1", "from-a")).unwrap();
    assert_eq!(t.saves(), 4, "each of A's two commits was retried once");
    assert_eq!(names(&t.c), ["a1", "b1", "b3"]);
    assert_eq!(t.c.secret("a1", "token").unwrap().expose_secret(), "from-a");
    assert_eq!(t.c.secret("b3", "token").unwrap().expose_secret(), "from-b");
    t.assert_no_orphan();
}

#[test]
fn every_kind_of_write_is_reapplied_over_another_credentials_change() {
    let t = race(
        |b| {
            b.add(bearer("mine", "m")).unwrap();
            b.add(bearer("theirs", "t")).unwrap();
        },
        // B's edit lands before the first save of each of A's commits.
        |b, n| {
            if n % 2 == 1 {
                b.set_rotation_period("theirs", 10 + n as u32).unwrap();
            }
        },
    );
    t.a.set_rotation_period("mine", 45).unwrap();
    t.clock.advance(chrono::Duration::days(1));
    t.a.mark_rotated("mine").unwrap();
    t.a.edit(
        "mine",
        crate::dto::CredentialEdit {
            name: Some("renamed".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let report = crate::dto::TestReport {
        credential: "renamed".into(),
        provider: "bearer".into(),
        ok: true,
        tested_at: Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap(),
        summary: "ok".into(),
        stages: vec![],
        taxpayer_tags: None,
    };
    t.a.record_test(&report).unwrap();
    let before = t.saves();
    t.a.set_settings(crate::dto::VaultSettings {
        reminder_lead_days: 7,
        default_rotation_days: 60,
    })
    .unwrap();
    assert_eq!(t.saves(), before + 2);
    let s = t.c.show("renamed").unwrap();
    assert_eq!(s.rotation_period_days, 45);
    assert!(s.last_test.is_some(), "the test report was dropped");
    assert_eq!(t.c.settings().unwrap().reminder_lead_days, 7);
    assert_eq!(t.c.secret("renamed", "token").unwrap().expose_secret(), "m");
    // B's edits all landed too.
    assert_eq!(t.saves(), 10, "each of A's five commits was retried once");
    assert_eq!(t.c.show("theirs").unwrap().rotation_period_days, 19);
    t.a.remove("renamed").unwrap();
    assert_eq!(names(&t.c), ["theirs"]);
    t.assert_no_orphan();
}

#[test]
fn the_same_credential_changed_meanwhile_is_a_conflict_and_loses_nothing() {
    let t = race(
        |b| b.add(bearer("pos", "one")).map(|_| ()).unwrap(),
        |b, n| b.set_rotation_period("pos", 30 + n as u32).map(|_| ()).unwrap(),
    );
    let err = t.a.set_rotation_period("pos", 45).unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
    assert_eq!(t.saves(), 1, "a conflict on the same credential is not retried");
    assert_eq!(t.c.show("pos").unwrap().rotation_period_days, 31, "B's edit survived");
    let err = t.a.remove("pos").unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
    assert_eq!(t.c.secret("pos", "token").unwrap().expose_secret(), "one");
    t.clock.advance(chrono::Duration::days(1));
    let err = t.a.mark_rotated("pos").unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
    t.assert_no_orphan();
}

#[test]
fn the_same_new_name_from_two_machines_is_already_exists_for_the_second() {
    // B takes the name before A's intent is saved: nothing of A's is written.
    let t = race(
        |_| {},
        |b, n| {
            if n == 1 {
                b.add(bearer("dup", "from-b")).unwrap();
            }
        },
    );
    let err = t.a.add(bearer("dup", "from-a")).unwrap_err();
    assert!(matches!(err, Error::AlreadyExists(ref n) if n == "dup"), "{err}");
    assert_eq!(t.c.secret("dup", "token").unwrap().expose_secret(), "from-b");
    t.assert_no_orphan();

    // B takes the name after A's secret went in: A's secret is deleted again.
    let t = race(
        |_| {},
        |b, n| {
            if n == 2 {
                b.add(bearer("dup", "from-b")).unwrap();
            }
        },
    );
    let err = t.a.add(bearer("dup", "from-a")).unwrap_err();
    assert!(matches!(err, Error::AlreadyExists(ref n) if n == "dup"), "{err}");
    assert_eq!(names(&t.c), ["dup"]);
    assert_eq!(t.c.secret("dup", "token").unwrap().expose_secret(), "from-b");
    assert_eq!(
        t.kv.paths().iter().filter(|p| p.starts_with("secrets/")).count(),
        1,
        "{:?}",
        t.kv.paths()
    );
    t.assert_no_orphan();

    // A rename onto a name B just took, likewise.
    let t = race(
        |b| b.add(bearer("pos", "one")).map(|_| ()).unwrap(),
        |b, n| {
            if n == 1 {
                b.add(bearer("taken", "x")).unwrap();
            }
        },
    );
    let err =
        t.a.edit(
            "pos",
            crate::dto::CredentialEdit {
                name: Some("taken".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(matches!(err, Error::AlreadyExists(_)), "{err}");
    assert_eq!(names(&t.c), ["pos", "taken"]);
}

#[test]
fn retries_are_bounded_and_a_write_that_never_gets_through_is_a_conflict() {
    let t = race(
        |_| {},
        |b, n| {
            b.add(bearer(&format!("b{n}"), "x")).unwrap();
        },
    );
    let err = t.a.add(bearer("a", "never")).unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
    let attempts = 1 + crate::vault::metadata::MAX_CONFLICT_RETRIES as usize;
    assert_eq!(t.saves(), attempts);
    assert_eq!(t.c.list().unwrap().len(), attempts, "B's writes all went through");
    assert!(t.c.show("a").is_err());
    t.assert_no_orphan();
}

#[test]
fn a_batch_of_results_is_reapplied_over_another_machines_write() {
    let t = race(
        |b| {
            b.add(bearer("pos", "one")).unwrap();
        },
        |b, n| {
            if n == 1 {
                b.add(bearer("other", "two")).unwrap();
            }
        },
    );
    let batch = t.a.begin_batch().unwrap();
    let id = batch.record("pos").unwrap().id.clone();
    t.a.batch_record_test(
        &batch,
        &id,
        crate::dto::TestReport {
            credential: "pos".into(),
            provider: "bearer".into(),
            ok: true,
            tested_at: Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap(),
            summary: "ok".into(),
            stages: vec![],
            taxpayer_tags: None,
        },
    );
    let done = t.a.commit_batch(&batch).unwrap();
    assert_eq!(done.reports, 1);
    assert_eq!(t.saves(), 2);
    assert!(t.c.show("pos").unwrap().last_test.is_some());
    assert_eq!(names(&t.c), ["other", "pos"]);
}
