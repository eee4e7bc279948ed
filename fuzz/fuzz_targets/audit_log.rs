//! The audit log reader: `audit::parse_lines` on any bytes, then the same bytes as a data
//! dir's `audit.log` read by `AuditLog::list` and `AuditLog::verify`, and one entry appended
//! after them (the tail scan that finds the chain's head in a file of any content).
//!
//! Input: the file's bytes, as they are on disk.
//!
//! Asserts: no panic; every entry that parses has the hash its fields give or verify says
//! where it breaks; an append after any content chains to the last entry that parsed (or
//! starts the chain) and the file then ends with that entry's line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};
use tillkey_core::audit::{self, Action, AuditLog, Entry, Filter, Origin, Record, Verified};
use tillkey_core::SystemClock;

/// One data dir per fuzzing process.
fn dir() -> &'static std::path::Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("tillkey-fuzz-audit-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let parsed = audit::parse_lines(data);
    for e in &parsed.entries {
        let line = serde_json::to_vec(e).expect("an entry serialises");
        assert_eq!(Entry::parse(&line).as_ref(), Some(e), "an entry round-trips");
    }
    let log = AuditLog::new(dir(), None, Arc::new(SystemClock));
    std::fs::write(log.path(), data).expect("write audit.log");
    let listed = log.list(&Filter::default()).expect("list");
    assert_eq!(listed.entries.len(), parsed.entries.len(), "list and parse_lines agree");
    let verified = log.verify().expect("verify");
    if let Verified::Intact { count, .. } = verified {
        assert_eq!(
            count as usize,
            listed.entries.len(),
            "intact means every line is an entry"
        );
    }
    let last = listed.entries.last().cloned();
    let rec = Record::new(Action::Token, None, "fuzz", "local", Origin::cli_pid("token", 1), "ok");
    let Ok(e) = log.append(rec) else {
        // Only a head at the last sequence number refuses an append.
        assert_eq!(last.map(|l| l.seq), Some(u64::MAX));
        return;
    };
    match last {
        Some(l) if data.len() < 60 * 1024 => {
            assert_eq!(
                (e.seq, e.prev.as_str()),
                (l.seq + 1, l.hash.as_str()),
                "chains to the head"
            )
        }
        None => assert_eq!(e.seq, 0),
        _ => {}
    }
    let text = std::fs::read(log.path()).expect("read back");
    let tail = text.rsplit(|b| *b == b'\n').nth(1).expect("a last line");
    assert_eq!(Entry::parse(tail).as_ref(), Some(&e));
    let _ = std::fs::remove_file(log.path());
});
