//! Property tests of the trust boundaries (issue 10): the same invariants as the fuzz
//! targets in `fuzz/` (run long with `scripts/fuzz.sh`), a few hundred cases each, so the
//! normal test run checks them too.
//!
//! - the token-response parser and error mapper never panic, for any status, body and
//!   rate-limit headers, for every provider kind;
//! - scrubbed text never holds a (distinctive) secret nor a control character;
//! - `parse_document` of arbitrary bytes, or of a real document with hostile numbers,
//!   never panics; a document it accepts loads again after being written;
//! - `token_info` never panics, whatever `expires_in` or JWT `exp`;
//! - `rotation::status` never panics, whatever the period, lead time and dates;
//! - `validate_url` never echoes user info (or the query);
//! - this machine's reminder record (`reminders.json`) of any bytes, or with dates at the
//!   ends of the calendar, never panics, and a write leaves a record that reads again.

use base64::Engine as _;
use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use secrecy::SecretString;
use tillkey_core::http::{Captured, RateLimit};
use tillkey_core::oauth::{self, Grant};
use tillkey_core::reminders::ReminderLog;
use tillkey_core::scrub::{Scrubber, MAX_TEXT, REDACTED};
use tillkey_core::vault::check::parse_document;
use tillkey_core::vault::{MAX_LEAD_DAYS, MAX_PERIOD_DAYS};
use tillkey_core::{providers, rotation, token};

const CASES: u32 = 256;

/// A document as `tillkey add` writes it (two credentials).
const DOC: &str = r#"{"schema":1,"vault_id":"0b5f0c1e-55a4-4a8e-9a53-2f7b1f0d9d11",
 "settings":{"reminder_lead_days":14,"default_rotation_days":90},
 "credentials":[
  {"id":"7d8e9f10-1112-4314-9516-171819202122","name":"shop","provider":"oauth2",
   "environment":"production","fields":{"client_id":"c","token_url":"https://id.example/t"},
   "secret_fields":["client_secret"],"secret_rev":1,"created_at":"2026-01-01T00:00:00Z",
   "rotated_at":"2026-01-01T00:00:00Z","rotation_period_days":90},
  {"id":"c2bddab7-bfaf-46dc-9394-473c45d82e3e","name":"pos-demo","provider":"paysera-pos",
   "environment":"sandbox","fields":{},"secret_fields":["token"],"secret_rev":1,
   "created_at":"2026-11-27T15:25:45.966479362Z","rotated_at":"2026-11-27T15:25:45.966479362Z",
   "rotation_period_days":90}]}"#;

/// A secret the leak property is asserted for: 8+ letters and digits, not part of the
/// placeholder itself (a secret `redacted` is "shown" by every redaction, revealing nothing).
fn distinctive() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{8,40}".prop_filter("not part of the placeholder", |s| !REDACTED.contains(s.as_str()))
}

/// Provider-ish text: JSON punctuation, control characters, non-ASCII, and digits.
fn noisy_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            any::<char>().prop_map(String::from),
            "[a-z_ =:&%+/\"{}\\[\\],.-]{1,4}",
            "[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}]",
            Just("\\u001b".to_string()),
        ],
        0..40,
    )
    .prop_map(|v| v.concat())
}

/// A real instant of a wall clock: years 1970 to 9999.
fn clock() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..=253_402_300_799).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

/// Any instant chrono can hold.
fn any_time() -> impl Strategy<Value = DateTime<Utc>> {
    (DateTime::<Utc>::MIN_UTC.timestamp()..=DateTime::<Utc>::MAX_UTC.timestamp())
        .prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

/// A token response body: random bytes, or JSON with hostile values in the fields the
/// parser reads.
fn token_body() -> impl Strategy<Value = Vec<u8>> {
    let number = prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:e}")),
        "\"-?[0-9]{0,25}\"",
        Just("null".to_string()),
        Just("99999999999999999999999999".to_string()),
    ];
    let text = || noisy_text().prop_map(|s| serde_json::to_string(&s).unwrap());
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        (number, text(), text(), text(), text()).prop_map(|(n, t, e, d, s)| {
            format!(
                r#"{{"access_token":"tok","token_type":{t},"expires_in":{n},"scope":{s},"error":{e},"error_description":{d},"error_code":{e}}}"#
            )
            .into_bytes()
        }),
    ]
}

fn rate_limit() -> impl Strategy<Value = Option<RateLimit>> {
    prop::option::of(
        (
            prop::option::of(any::<u64>()),
            prop::option::of(any::<u64>()),
            prop::option::of(any::<u64>()),
            prop::option::of(any::<u64>()),
        )
            .prop_map(|(limit, remaining, reset_secs, retry_after_secs)| RateLimit {
                limit,
                remaining,
                reset_secs,
                retry_after_secs,
            }),
    )
}

fn jwt_with(payload: &str) -> String {
    let b = |s: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!("{}.{}.c2ln", b(br#"{"alg":"RS256"}"#), b(payload.as_bytes()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// parse_grant (and provider_error for every non-2xx) for every kind: no panic, and no
    /// control character or secret in what it keeps of the provider's text.
    #[test]
    fn token_responses_never_panic(
        status in prop_oneof![100u16..600, any::<u16>()],
        body in token_body(),
        rate_limit in rate_limit(),
        secret in distinctive(),
        echo in any::<bool>(),
    ) {
        let body = if echo {
            // The server echoes the secret at the start of every text field it sends.
            let mut b = String::from_utf8_lossy(&body).into_owned();
            for key in ["token_type", "scope", "error", "error_description", "error_code"] {
                b = b.replace(&format!("\"{key}\":\""), &format!("\"{key}\":\"{secret} "));
            }
            b.into_bytes()
        } else {
            body
        };
        let resp = Captured {
            status,
            rate_limit,
            body,
            redirect_host: None,
            latency: std::time::Duration::ZERO,
        };
        let scrub = Scrubber::new([&SecretString::from(secret.clone())], Some("client"));
        for p in providers::ALL {
            match oauth::parse_grant(*p, &resp, &scrub) {
                Ok(g) => {
                    if let Some(s) = &g.scope {
                        prop_assert!(!s.contains(&secret) && !s.chars().any(char::is_control));
                    }
                    let _ = token::token_info(&g, Utc::now(), false, true);
                }
                Err(e) => {
                    let shown = e.to_string();
                    prop_assert!(!shown.contains(&secret), "secret in: {}", shown.replace(&secret, "<SECRET>"));
                    prop_assert!(!shown.chars().any(char::is_control), "control character in the error");
                    let _ = e.info();
                }
            }
        }
    }

    /// The scrubber: no distinctive secret, no control character, bounded length, whatever
    /// the text and however the secret is echoed in it.
    #[test]
    fn scrubbed_text_holds_no_secret(
        secret in distinctive(),
        token in distinctive(),
        client_id in prop::option::of("[ -~]{0,12}"),
        before in noisy_text(),
        after in noisy_text(),
        form in 0usize..5,
    ) {
        let b64 = base64::engine::general_purpose::STANDARD;
        let id = client_id.clone().unwrap_or_default();
        let echoed = match form {
            0 => secret.clone(),
            1 => b64.encode(&secret),
            2 => b64.encode(format!("{id}:{secret}")),
            3 => format!("{}\u{1b}{}", &secret[..4], &secret[4..]),
            _ => token.clone(),
        };
        let scrub = Scrubber::new([&SecretString::from(secret.clone())], client_id.as_deref())
            .with(&SecretString::from(token.clone()));
        let out = scrub.clean(&format!("{before}{echoed}{after}"));
        prop_assert!(!out.contains(&secret), "secret in the output");
        prop_assert!(!out.contains(&token), "token in the output");
        prop_assert!(!out.chars().any(char::is_control), "control character in the output");
        prop_assert!(out.chars().count() <= MAX_TEXT + 1);
        if let Some(code) = scrub.code(&format!("{before}{echoed}")) {
            prop_assert!(tillkey_core::scrub::safe_code(&code) && !code.contains(&secret));
        }
    }

    /// The metadata loader on arbitrary bytes: no panic.
    #[test]
    fn parse_document_of_any_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_document(&bytes);
    }

    /// The metadata loader on a real document with hostile numbers, dates and ids: no
    /// panic; what it accepts has sane numbers, gives a rotation status at any `now`, and
    /// loads again once written.
    #[test]
    fn parse_document_of_hostile_values_never_panics(
        period in prop_oneof![3 => 0u32..4000, 1 => any::<u32>()],
        lead in prop_oneof![3 => 0u32..400, 1 => any::<u32>()],
        default_days in prop_oneof![3 => 0u32..4000, 1 => any::<u32>()],
        rev in any::<u32>(),
        rotated in prop_oneof![
            3 => clock().prop_map(|t| t.to_rfc3339()),
            1 => any_time().prop_map(|t| t.to_rfc3339()),
            1 => Just("+262142-12-31T23:59:59Z".to_string()),
        ],
        id in prop_oneof![
            3 => Just("7d8e9f10-1112-4314-9516-171819202122".to_string()),
            1 => "[./a-f0-9#%-]{0,40}",
        ],
        now in any_time(),
    ) {
        let doc = DOC
            .replacen("\"rotation_period_days\":90", &format!("\"rotation_period_days\":{period}"), 1)
            .replace("\"reminder_lead_days\":14", &format!("\"reminder_lead_days\":{lead}"))
            .replace("\"default_rotation_days\":90", &format!("\"default_rotation_days\":{default_days}"))
            .replacen("\"secret_rev\":1", &format!("\"secret_rev\":{rev}"), 1)
            .replacen("\"rotated_at\":\"2026-01-01T00:00:00Z\"", &format!("\"rotated_at\":\"{rotated}\""), 1)
            .replacen("7d8e9f10-1112-4314-9516-171819202122", &id, 1);
        if let Ok(m) = parse_document(doc.as_bytes()) {
            prop_assert!((1..=MAX_PERIOD_DAYS).contains(&period), "period {period} accepted");
            prop_assert!(m.settings.reminder_lead_days <= MAX_LEAD_DAYS, "lead {lead} accepted");
            for c in &m.credentials {
                let _ = rotation::status(c.rotated_at, c.rotation_period_days, m.settings.reminder_lead_days, now);
            }
            let written = serde_json::to_vec(&m).unwrap();
            prop_assert!(parse_document(&written).is_ok(), "an accepted document does not load again");
        }
    }

    /// Token lifetimes: no panic for any expires_in or JWT exp; renewal before expiry;
    /// never more than MAX_LIFETIME_SECS.
    #[test]
    fn token_info_never_panics(
        expires_in in prop::option::of(prop_oneof![any::<u64>(), Just(u64::MAX), Just(99_999_999_999_999u64), 0u64..4000]),
        exp in prop::option::of(prop_oneof![any::<i64>(), Just(i64::MAX), Just(i64::MIN)]),
        now in clock(),
    ) {
        let access = match exp {
            Some(e) => jwt_with(&format!(r#"{{"exp":{e},"tags":["B2C"]}}"#)),
            None => "opaque-token".to_string(),
        };
        let grant = Grant {
            access_token: SecretString::from(access),
            expires_in,
            refresh_token: None,
            scope: None,
        };
        let info = token::token_info(&grant, now, true, true);
        prop_assert!(info.renew_at <= info.expires_at);
        prop_assert!(info.expires_at <= now + Duration::seconds(token::MAX_LIFETIME_SECS));
    }

    /// Rotation status is total: any period, lead time, last rotation and clock.
    #[test]
    fn rotation_status_never_panics(
        rotated in any_time(),
        period in any::<u32>(),
        lead in any::<u32>(),
        now in any_time(),
    ) {
        let _ = rotation::status(rotated, period, lead, now);
    }

    /// validate_url never shows the user info or the query of what it was given.
    #[test]
    fn validate_url_never_echoes_user_info(
        scheme in prop_oneof![Just("https".to_string()), Just("http".to_string()), Just("ftp".to_string()), "[a-z]{1,5}"],
        user in "[A-Za-z0-9]{8,16}",
        password in "[A-Za-z0-9]{8,16}",
        host in prop_oneof![
            Just("127.0.0.1".to_string()),
            Just("h.example".to_string()),
            Just("[::1]".to_string()),
            Just("localhost".to_string()),
            "[a-z]{1,6}\\.example",
        ],
        port in prop_oneof![Just(String::new()), (0u32..100_000).prop_map(|p| format!(":{p}"))],
        query in "[A-Za-z0-9]{8,16}",
        form in 0usize..4,
    ) {
        let url = match form {
            0 => format!("{scheme}://{user}:{password}@{host}{port}/t?q={query}"),
            1 => format!("{scheme}://{user}@{host}{port}/t#{query}"),
            2 => format!("{scheme}://{host}{port}/t?access_token={query}"),
            _ => format!("{scheme}:/{user}:{password}@{host}{port}?{query}"),
        };
        match providers::validate_url("token_url", &url) {
            Ok(u) => prop_assert!(u.username().is_empty() && u.password().is_none()),
            Err(e) => {
                let msg = e.to_string();
                for hidden in [&user, &password, &query] {
                    // Unless the value is also part of what may be shown (the host).
                    if !host.contains(hidden.as_str()) {
                        prop_assert!(!msg.contains(hidden.as_str()), "`{hidden}` echoed in: {msg}");
                    }
                }
            }
        }
    }
    #[test]
    fn the_reminder_record_never_panics(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        year in -262_000i32..262_000,
        day in 1u32..365,
        today_year in -262_000i32..262_000,
        edge in 0u8..4,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let log = ReminderLog::new(dir.path());
        let date = chrono::NaiveDate::from_yo_opt(year, day).unwrap_or(chrono::NaiveDate::MIN);
        let today = match edge {
            0 => chrono::NaiveDate::MIN,
            1 => chrono::NaiveDate::MAX,
            _ => chrono::NaiveDate::from_yo_opt(today_year, day).unwrap_or(chrono::NaiveDate::MAX),
        };
        for text in [
            bytes.clone(),
            format!(r#"{{"pausedOn":"{date}","reminded":{{"7d8e9f10-1112-4314-9516-171819202122":"{date}"}}}}"#)
                .into_bytes(),
        ] {
            std::fs::write(log.path(), &text).unwrap();
            let _ = log.paused(today);
            prop_assert!(log.pending(&[], today).is_empty());
            log.mark(&[], today).unwrap();
            log.pause(today).unwrap();
            prop_assert!(log.paused(today), "a written record reads again");
        }
    }

}

/// The realistic documents of the fuzz corpus load; the hostile ones are refused.
#[test]
fn corpus_seed_documents() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/metadata");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return; // a crate-only checkout has no fuzz corpus
    };
    let mut seen = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("seed-") {
            continue;
        }
        seen += 1;
        let loaded = parse_document(&std::fs::read(e.path()).unwrap());
        if name.starts_with("seed-hostile-") {
            assert!(loaded.is_err(), "{name} was accepted");
        } else {
            assert!(loaded.is_ok(), "{name} was refused: {:?}", loaded.err());
        }
    }
    assert!(seen >= 3, "no seed documents in {dir}");
}
