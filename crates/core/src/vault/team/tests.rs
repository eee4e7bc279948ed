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
