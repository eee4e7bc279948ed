//! Helpers shared by the fuzz targets: splitting an input into a few header lines and a
//! body (so corpus seeds stay readable text), deriving times from input bytes, and the
//! "does this text show a secret" checks the targets assert.

use chrono::{DateTime, TimeZone, Utc};
use tillkey_core::vault::metadata::Metadata;

/// The first `n` lines of `data` (without their `\n`) and the rest. Missing lines are empty.
pub fn header_lines(data: &[u8], n: usize) -> (Vec<&[u8]>, &[u8]) {
    let mut lines = Vec::with_capacity(n);
    let mut rest = data;
    for _ in 0..n {
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                lines.push(&rest[..i]);
                rest = &rest[i + 1..];
            }
            None => {
                lines.push(rest);
                rest = &[];
            }
        }
    }
    (lines, rest)
}

/// `bytes` as text, invalid UTF-8 replaced (as an HTTP client's `text()` does).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A decimal number from a header line, or `None` (empty or not a number).
pub fn number<T: std::str::FromStr>(line: &[u8]) -> Option<T> {
    std::str::from_utf8(line).ok()?.trim().parse().ok()
}

/// FNV-1a of `data`: a cheap, stable way to derive extra values from an input.
pub fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Any instant chrono can represent, chosen by `seed`: the whole range, not just
/// realistic clocks.
pub fn any_time(seed: u64) -> DateTime<Utc> {
    let min = DateTime::<Utc>::MIN_UTC.timestamp();
    let max = DateTime::<Utc>::MAX_UTC.timestamp();
    let span = (max - min) as u64 + 1;
    let secs = min + (seed % span) as i64;
    Utc.timestamp_opt(secs, (seed >> 34) as u32 % 1_000_000_000)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// An instant in the years 1970 to 9999 chosen by `seed`: the range of a real clock (and
/// the range the vault accepts for stored dates).
pub fn clock_time(seed: u64) -> DateTime<Utc> {
    // 1970-01-01 .. 9999-12-31T23:59:59
    const MAX: u64 = 253_402_300_799;
    Utc.timestamp_opt((seed % (MAX + 1)) as i64, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// Interesting `now`s for anything that takes one, plus one derived from the input.
pub fn nows(data: &[u8]) -> [DateTime<Utc>; 5] {
    [
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::UNIX_EPOCH,
        Utc.timestamp_opt(1_780_000_000, 0).unwrap(),
        DateTime::<Utc>::MAX_UTC,
        any_time(fnv(data)),
    ]
}

/// Whether a secret is one the leak properties are asserted for: at least 8 characters
/// of `[A-Za-z0-9]` (short or punctuation-only values occur in ordinary text by chance),
/// and not part of the placeholder `[redacted]` itself (a secret `redacted` is "shown" by
/// every redaction, which reveals nothing).
pub fn distinctive(secret: &str) -> bool {
    secret.len() >= 8
        && secret.bytes().all(|b| b.is_ascii_alphanumeric())
        && !tillkey_core::scrub::REDACTED.contains(secret)
}

/// The maximal runs of `[A-Za-z0-9]` in `s` that are at least `min` long.
pub fn alnum_runs(s: &str, min: usize) -> Vec<&str> {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|r| r.len() >= min)
        .collect()
}

/// Whether `s` holds a control character (what the terminal would act on).
pub fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Rotation status of every credential of a loaded document at several `now`s (the whole
/// calendar range, since a clock can be wrong), and its own write-back: a document that
/// loaded must load again after the vault writes it.
pub fn exercise_document(m: &Metadata, data: &[u8], reparse: impl Fn(&[u8]) -> Result<Metadata, String>) {
    for now in nows(data) {
        for c in &m.credentials {
            let r = tillkey_core::rotation::status(
                c.rotated_at,
                c.rotation_period_days,
                m.settings.reminder_lead_days,
                now,
            );
            let _ = (r.status, r.days_left);
        }
    }
    let written = serde_json::to_vec_pretty(m).expect("a loaded document serialises");
    if let Err(e) = reparse(&written) {
        panic!("a document that loaded does not load again after being written: {e}");
    }
}
