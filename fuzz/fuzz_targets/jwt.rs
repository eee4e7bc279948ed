//! The JWT decoder and token lifetimes: `jwt::claims`, `jwt::expiry` and
//! `token::token_info` with a grant built from the input. No `expires_in` and no JWT `exp`
//! may panic (the issue's `"expires_in": 99999999999999` and i64/u64::MAX cases).
//!
//! Input (text header lines, then the token material):
//! ```text
//! EXPIRES_IN     a u64, or empty for none (not a number: derived from the input)
//! NOW            seconds since the epoch, or empty (derived; always years 1970-9999)
//! REST...        used twice: as the raw access token, and as the JSON payload of a JWT
//!                the target builds (`{"alg":"RS256"}`.REST.sig, base64url)
//! ```
//!
//! Asserts: no panic; `renew_at <= expires_at`; the lifetime is at most
//! `token::MAX_LIFETIME_SECS` after `now`.
#![no_main]

use base64::Engine as _;
use chrono::{Duration, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use tillkey_core::oauth::Grant;
use tillkey_core::{jwt, token};
use tillkey_fuzz::{clock_time, fnv, header_lines, number, text};

fuzz_target!(|data: &[u8]| {
    let (h, rest) = header_lines(data, 2);
    let expires_in = if h[0].is_empty() {
        None
    } else {
        Some(number::<u64>(h[0]).unwrap_or_else(|| fnv(h[0])))
    };
    let now = number::<i64>(h[1])
        .and_then(|s| Utc.timestamp_opt(s, 0).single())
        .filter(|t| (0..=253_402_300_799).contains(&t.timestamp()))
        .unwrap_or_else(|| clock_time(fnv(data)));

    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let raw = text(rest);
    let built = format!("{}.{}.c2ln", b64(br#"{"alg":"RS256","typ":"JWT"}"#), b64(rest));

    for token_text in [raw, built] {
        let access_token = SecretString::from(token_text);
        if let Some(c) = jwt::claims(&access_token) {
            if let Some(tags) = &c.tags {
                let _ = tags.to_vec();
            }
        }
        let _ = jwt::expiry(&access_token);
        let grant = Grant {
            access_token,
            expires_in,
            refresh_token: None,
            scope: None,
        };
        for (refreshable, tags) in [(false, false), (true, true)] {
            let info = token::token_info(&grant, now, refreshable, tags);
            assert!(info.renew_at <= info.expires_at, "renewal after expiry");
            assert!(
                info.expires_at <= now + Duration::seconds(token::MAX_LIFETIME_SECS),
                "lifetime longer than MAX_LIFETIME_SECS"
            );
        }
    }
});
