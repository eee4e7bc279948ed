//! The URL validator: `providers::validate_url` (every URL field of every kind, and each
//! URL field of a loaded vault document, goes through it) and `providers::display_url`.
//!
//! Input: the field's value (invalid UTF-8 replaced).
//!
//! Asserts: no panic; an accepted URL is https, or http to a loopback host, and has no
//! user name or password; and an error never shows the user info, query or fragment:
//! every run of 8+ letters/digits of the input that appears in the message is part of
//! what the message may show (the `scheme://host:port/path` of `display_url`, or the fixed
//! text of the messages, collected once from probe inputs).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tillkey_core::providers::{display_url, validate_url};
use tillkey_fuzz::{alnum_runs, has_control, text};

const FIELD: &str = "token_url";

fn fixed_text() -> &'static str {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| {
        let mut words = String::new();
        for probe in [
            "",
            "nope",
            "ftp://h.example/",
            "http://h.example/",
            "https://u:p@h.example/",
            "https://h.example:99999/",
            "https://[::1/",
            "https://300.1.1.1/",
            "https://xn--a.example/",
            "http://%zz/",
            "https:///",
            "mailto:x@h.example",
            "data:text/plain,x",
            "https://h ost/",
            "https://a\u{0}b/",
        ] {
            if let Err(e) = validate_url(FIELD, probe) {
                words.push_str(&e.to_string());
                words.push('\n');
            }
        }
        words
    })
}

fuzz_target!(|data: &[u8]| {
    let value = text(data);
    match validate_url(FIELD, &value) {
        Ok(url) => {
            assert!(url.username().is_empty() && url.password().is_none(), "user info accepted");
            match url.scheme() {
                "https" => {}
                "http" => {
                    let loopback = match url.host() {
                        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                        Some(url::Host::Ipv4(a)) => a.is_loopback(),
                        Some(url::Host::Ipv6(a)) => a.is_loopback(),
                        None => false,
                    };
                    assert!(loopback, "plain http to a non-loopback host accepted");
                }
                other => panic!("scheme {other:?} accepted"),
            }
            let shown = display_url(&url);
            assert!(!has_control(&shown), "control character in display_url");
        }
        Err(e) => {
            let message = e.to_string();
            assert!(!has_control(&message), "control character in the error message");
            let shown = url::Url::parse(&value).map(|u| display_url(&u)).unwrap_or_default();
            for run in alnum_runs(&value, 8) {
                if message.contains(run) && !shown.contains(run) && !fixed_text().contains(run) {
                    panic!("the error message echoes a part of the URL it may not show");
                }
            }
        }
    }
});
