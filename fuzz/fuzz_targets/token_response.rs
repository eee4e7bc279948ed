//! The token-response parser and the provider error mapper: `oauth::parse_grant` (which
//! calls `oauth::provider_error` for every non-2xx answer) for every provider kind, on an
//! answer whose status, rate-limit headers, redirect target and body come from the input.
//!
//! Input (text header lines, then the raw body):
//! ```text
//! STATUS                                   e.g. 200 (not a number: derived from the input)
//! SECRET                                   a secret of the credential (the scrubber knows it)
//! REDIRECT_HOST                            empty for none
//! RETRY_AFTER,RESET,LIMIT,REMAINING        each a number or empty
//! BODY...
//! ```
//!
//! Asserts: no panic; no control character in any provider text kept in the result; a
//! distinctive secret (see `tillkey_fuzz::distinctive`) never appears in the error code,
//! the description, the `InvalidResponse` detail or the granted scope; error codes are
//! plain tokens or the HTTP status.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use std::time::Duration;
use tillkey_core::http::{Captured, RateLimit};
use tillkey_core::scrub::{safe_code, Scrubber};
use tillkey_core::{oauth, providers, Error};
use tillkey_fuzz::{distinctive, has_control, header_lines, number, text};

fuzz_target!(|data: &[u8]| {
    let (h, body) = header_lines(data, 4);
    let status = number::<u16>(h[0]).unwrap_or_else(|| (tillkey_fuzz::fnv(h[0]) % 1000) as u16);
    let secret = text(h[1]);
    let redirect_host = (!h[2].is_empty()).then(|| text(h[2]));
    let rl: Vec<Option<u64>> = h[3].split(|&b| b == b',').map(number::<u64>).collect();
    let get = |i: usize| rl.get(i).copied().flatten();
    let rate_limit = (!h[3].is_empty()).then(|| RateLimit {
        retry_after_secs: get(0),
        reset_secs: get(1),
        limit: get(2),
        remaining: get(3),
    });
    let resp = Captured {
        status,
        rate_limit,
        body: body.to_vec(),
        redirect_host,
        latency: Duration::from_millis(1),
    };
    let secrets = [SecretString::from(secret.clone())];
    let scrub = Scrubber::new(secrets.iter(), Some("fuzz-client"));
    let check_secret = distinctive(&secret);

    for provider in providers::ALL {
        match oauth::parse_grant(*provider, &resp, &scrub) {
            Ok(grant) => {
                assert!((200..300).contains(&status));
                if let Some(scope) = &grant.scope {
                    assert!(!has_control(scope), "control character in scope");
                    assert!(!(check_secret && scope.contains(&secret)), "secret in scope");
                }
                // The engine turns every grant into token metadata: no panic for any
                // expires_in or JWT exp either.
                let now = tillkey_fuzz::clock_time(tillkey_fuzz::fnv(data));
                let info = tillkey_core::token::token_info(&grant, now, true, true);
                assert!(info.renew_at <= info.expires_at);
            }
            Err(e) => {
                let shown = e.to_string();
                let _ = (e.code(), e.class().exit_code(), e.hint(), e.info());
                match &e {
                    Error::Provider { code, description, .. } => {
                        assert!(
                            safe_code(code) || code == &status.to_string(),
                            "error code is neither a plain token nor the status"
                        );
                        for t in std::iter::once(code).chain(description) {
                            assert!(!has_control(t), "control character in provider text");
                            assert!(!(check_secret && t.contains(&secret)), "secret in provider error");
                        }
                    }
                    Error::InvalidResponse { detail, .. } => {
                        assert!(!has_control(detail), "control character in detail");
                        assert!(!(check_secret && detail.contains(&secret)), "secret in detail");
                    }
                    Error::RateLimited { retry_after_secs, .. } => {
                        assert_eq!(status, 429);
                        assert!(
                            *retry_after_secs <= tillkey_core::http::MAX_WAIT_SECS,
                            "wait longer than a day"
                        );
                    }
                    // The redirect target is a host name taken from `Location` by
                    // `http.rs` (not by this parser), so it is not asserted on here.
                    Error::Redirected { .. } => assert!((300..400).contains(&status)),
                    other => panic!("unexpected error kind from parse_grant: {}", other.code()),
                }
                if !matches!(e, Error::Redirected { .. }) {
                    assert!(!has_control(&shown), "control character in the error message");
                }
            }
        }
    }
});
