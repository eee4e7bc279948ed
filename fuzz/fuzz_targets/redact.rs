//! The request inspector's redactor: `inspect::Redactor` over a scrubber that knows one
//! secret, on any body, header, form, URL or line of text.
//!
//! Input (text header lines, then the text):
//! ```text
//! SECRET         the credential's secret (known by value)
//! NAME           a field or header name
//! TEXT...        a body, header value or query as a server or Tillkey might send it
//! ```
//!
//! Asserts: no panic; no output holds a distinctive secret (8+ letters/digits, see
//! `tillkey_fuzz::distinctive`), whether the text holds it raw, or the target plants it
//! under NAME in JSON (nested), a form, a query, a header, an `Authorization` value or
//! text of unknown shape; a value under a secret-looking NAME is masked even when the
//! redactor does not know it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use tillkey_core::inspect::{secret_name, Redactor};
use tillkey_core::scrub::Scrubber;
use tillkey_fuzz::{distinctive, header_lines, text};

fn check(out: &str, secret: &str, what: &str) {
    if distinctive(secret) {
        assert!(!out.contains(secret), "{what}: the secret is in the output");
    }
}

fuzz_target!(|data: &[u8]| {
    let (h, rest) = header_lines(data, 2);
    let secret = text(h[0]);
    let name = text(h[1]);
    let body = text(rest);
    let r = Redactor::new(Scrubber::new([&SecretString::from(secret.clone())], Some("client")));
    let unknown = Redactor::default();

    let json_name = serde_json::to_string(&name).unwrap_or_default();
    let json_secret = serde_json::to_string(&secret).unwrap_or_default();
    let form = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let planted = [
        body.clone(),
        format!("{body}{secret}{body}"),
        format!(r#"{{"a":[{{{json_name}:{json_secret}}}],"b":{json_secret}}}"#),
        format!("{}={}&{body}", form(&name), form(&secret)),
        format!("{name}: Bearer {secret} {body}"),
    ];
    for t in &planted {
        for ct in [
            None,
            Some("application/json"),
            Some("application/x-www-form-urlencoded"),
            Some("text/html"),
        ] {
            check(&r.body(ct, t, false).text, &secret, "body");
        }
        check(&r.line(t), &secret, "line");
        check(&r.form(t), &secret, "form");
        check(&r.header(&name, t), &secret, "header");
        check(&r.header("Authorization", t), &secret, "authorization");
        if let Ok(u) = url::Url::parse(&format!("https://h.example/p?{t}")) {
            check(&r.url(&u), &secret, "url");
        }
    }
    // By name alone: a redactor that knows nothing still masks a secret-named value.
    if secret_name(&name) && distinctive(&secret) {
        let doc = format!(r#"{{"x":{{{json_name}:{json_secret}}}}}"#);
        check(
            &unknown.body(Some("application/json"), &doc, false).text,
            &secret,
            "json by name",
        );
        check(&unknown.header(&name, &secret), &secret, "header by name");
        check(
            &unknown.form(&format!("{}={}", form(&name), form(&secret))),
            &secret,
            "form by name",
        );
    }
});
