//! The scrubber: `scrub::Scrubber::new(secrets, client_id)` (plus `.with(token)`), then
//! `clean(text)` and `code(text)` on provider text.
//!
//! Input (text header lines, then the provider text):
//! ```text
//! CLIENT_ID      empty for none
//! SECRET         the credential's secret
//! TOKEN          a token in flight (added with `.with`), empty for none
//! TEXT...        what the provider answered
//! ```
//!
//! Asserts: no panic; the output holds no control character and at most
//! `MAX_TEXT` characters (+ "…"); it never holds a distinctive secret or token (8+
//! letters/digits, see `tillkey_fuzz::distinctive`), even when the text holds it raw,
//! form-encoded, JSON-escaped or base64'd (the target also plants those forms); a code is
//! a plain token and never a distinctive secret.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use tillkey_core::scrub::{safe_code, Scrubber, MAX_TEXT};
use tillkey_fuzz::{distinctive, has_control, header_lines, text};

fn check(out: &str, secrets: &[&str], what: &str) {
    assert!(!has_control(out), "{what}: control character in the output");
    assert!(out.chars().count() <= MAX_TEXT + 1, "{what}: output longer than MAX_TEXT");
    for s in secrets {
        if distinctive(s) {
            assert!(!out.contains(s), "{what}: the secret is in the output");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (h, rest) = header_lines(data, 3);
    let client_id = (!h[0].is_empty()).then(|| text(h[0]));
    let secret = text(h[1]);
    let token = text(h[2]);
    let body = text(rest);

    let secrets = [SecretString::from(secret.clone())];
    let mut scrub = Scrubber::new(secrets.iter(), client_id.as_deref());
    if !token.is_empty() {
        scrub = scrub.with(&SecretString::from(token.clone()));
    }
    let known = [secret.as_str(), token.as_str()];

    let out = scrub.clean(&body);
    check(&out, &known, "clean");
    if let Some(code) = scrub.code(&body) {
        check(&code, &known, "code");
        assert!(safe_code(&code), "code with an unsafe character");
    }

    // The same text with the secret planted in the encodings a server echoes it in.
    let b64 = base64::engine::general_purpose::STANDARD;
    let id = client_id.as_deref().unwrap_or("");
    let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let json = serde_json::to_string(&secret).unwrap_or_default();
    let planted = format!(
        "{body} raw={secret} form={form} json={json} b64={} basic={} end",
        b64.encode(&secret),
        b64.encode(format!("{id}:{secret}")),
    );
    check(&scrub.clean(&planted), &known, "clean (planted)");
});
