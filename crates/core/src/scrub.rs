//! Scrubbing provider text: whatever a provider, a proxy or a team engine answers is
//! hostile until cleaned. Before any of it is shown, logged or stored, [`Scrubber::clean`]
//! strips control characters, removes every secret of the credential in every encoding a
//! server is likely to echo it in, and bounds the length.
//!
//! [`safe_code`] decides whether a provider's error code may be shown as a code at all.

use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use secrecy::{ExposeSecret, SecretString};

/// What a removed secret is replaced with.
pub const REDACTED: &str = "[redacted]";
/// Longest provider text kept (characters), after scrubbing.
pub const MAX_TEXT: usize = 200;
/// Longest error code shown as a code.
pub const MAX_CODE: usize = 64;

/// The secret values of one credential (and the tokens in flight for it), in the forms
/// they can come back in: raw, form-urlencoded, percent-encoded, JSON-escaped, and base64
/// of `client_id:secret` (HTTP Basic, both myPOS's raw join and RFC 6749's encoded one).
///
/// No `Debug`: it holds secrets.
#[derive(Default, Clone)]
pub struct Scrubber {
    /// Longest first, so a longer encoding is removed before a shorter one inside it.
    needles: Vec<SecretString>,
}

impl Scrubber {
    /// A scrubber that knows no secret (it still strips control characters and bounds
    /// the length).
    pub fn none() -> Self {
        Self::default()
    }

    /// A scrubber for `secrets`; `client_id` (not secret) is used to build the HTTP Basic
    /// forms.
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a SecretString>, client_id: Option<&str>) -> Self {
        let mut s = Self::none();
        for secret in secrets {
            s.add(secret, client_id);
        }
        s
    }

    /// Adds one more secret (an access or refresh token in flight).
    pub fn with(mut self, secret: &SecretString) -> Self {
        self.add(secret, None);
        self
    }

    fn add(&mut self, secret: &SecretString, client_id: Option<&str>) {
        let raw = secret.expose_secret();
        if raw.is_empty() {
            return;
        }
        let b64 = |s: &str| {
            [
                base64::engine::general_purpose::STANDARD.encode(s),
                base64::engine::general_purpose::STANDARD_NO_PAD.encode(s),
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s),
            ]
        };
        let form = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let mut forms = vec![
            raw.to_string(),
            form(raw),
            utf8_percent_encode(raw, NON_ALPHANUMERIC).to_string(),
            json_escaped(raw),
        ];
        forms.extend(b64(raw));
        if let Some(id) = client_id {
            forms.extend(b64(&format!("{id}:{raw}")));
            forms.extend(b64(&format!("{}:{}", form(id), form(raw))));
        }
        for f in forms {
            if !f.is_empty() && !self.needles.iter().any(|n| n.expose_secret() == f) {
                self.needles.push(SecretString::from(f));
            }
        }
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.expose_secret().len()));
    }

    /// `text` with control characters removed, every known secret replaced by
    /// [`REDACTED`], cut to [`MAX_TEXT`] characters.
    ///
    /// Control characters go first, so a secret split by them cannot reassemble after.
    pub fn clean(&self, text: &str) -> String {
        let mut out = self.mask(text);
        if out.chars().count() > MAX_TEXT {
            out = out.chars().take(MAX_TEXT).collect::<String>() + "…";
        }
        out
    }

    /// `text` with control characters removed and every known secret replaced by
    /// [`REDACTED`], at any length (the request inspector's bodies; [`Scrubber::clean`]
    /// also bounds the length).
    pub fn mask(&self, text: &str) -> String {
        let mut out: String = text.chars().filter(|c| !hidden(*c)).collect();
        for n in &self.needles {
            let n = n.expose_secret();
            if out.contains(n) {
                out = out.replace(n, REDACTED);
            }
        }
        out
    }

    /// A host name from a provider answer (a redirect's target): the whole name is
    /// replaced when it holds a secret in any letter case (host names are lowercased on
    /// the way), else cleaned like any text.
    pub fn host(&self, host: &str) -> String {
        let lower = host.to_ascii_lowercase();
        let holds_secret = self
            .needles
            .iter()
            .any(|n| lower.contains(&n.expose_secret().to_ascii_lowercase()));
        if holds_secret {
            REDACTED.into()
        } else {
            self.clean(host)
        }
    }

    /// A provider error code if it may be shown as one: scrubbed, and then 1 to
    /// [`MAX_CODE`] characters of `A-Z a-z 0-9 _ . -`. Anything else is `None` (the caller
    /// shows the HTTP status instead).
    pub fn code(&self, raw: &str) -> Option<String> {
        let c = self.clean(raw.trim());
        safe_code(&c).then_some(c)
    }
}

/// Characters that must not reach a terminal or a list from provider text: control
/// characters, and the invisible format characters that reorder or hide text (bidi
/// overrides and isolates, zero-width spaces and joiners, the byte-order mark).
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// Whether `code` is 1 to [`MAX_CODE`] characters of `A-Z a-z 0-9 _ . -`.
pub fn safe_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= MAX_CODE
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// `s` as it stands between the quotes of a JSON string.
fn json_escaped(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr/et+val=ue\"x";

    fn scrubber() -> Scrubber {
        Scrubber::new([&SecretString::from(SECRET)], Some("client 1"))
    }

    #[test]
    fn removes_every_encoding_of_a_secret() {
        let s = scrubber();
        let b64 = |v: &str| base64::engine::general_purpose::STANDARD.encode(v);
        let form: String = url::form_urlencoded::byte_serialize(SECRET.as_bytes()).collect();
        for leaked in [
            SECRET.to_string(),
            form.clone(),
            utf8_percent_encode(SECRET, NON_ALPHANUMERIC).to_string(),
            json_escaped(SECRET),
            b64(&format!("client 1:{SECRET}")),
            b64(&format!("client+1:{form}")),
            b64(SECRET),
        ] {
            let out = s.clean(&format!("bad secret {leaked} for you"));
            assert_eq!(out, format!("bad secret {REDACTED} for you"), "{leaked}");
        }
    }

    #[test]
    fn control_characters_cannot_hide_a_secret() {
        let s = scrubber();
        let split = format!("{}\u{1b}{}", &SECRET[..4], &SECRET[4..]);
        assert_eq!(s.clean(&split), REDACTED);
        assert_eq!(Scrubber::none().clean("a\u{1b}[31mb\r\n"), "a[31mb");
    }

    #[test]
    fn invisible_reordering_characters_are_stripped() {
        assert_eq!(Scrubber::none().clean("a\u{202E}b\u{200B}c\u{2066}d\u{FEFF}"), "abcd");
    }

    #[test]
    fn a_host_holding_a_secret_in_any_case_is_replaced_whole() {
        let s = Scrubber::new([&SecretString::from("LeakedSecret0123")], None);
        assert_eq!(s.host("leakedsecret0123.evil.example"), REDACTED);
        assert_eq!(s.host("auth.example.com"), "auth.example.com");
    }

    #[test]
    fn long_text_is_bounded() {
        let out = Scrubber::none().clean(&"x".repeat(5000));
        assert_eq!(out.chars().count(), MAX_TEXT + 1);
    }

    #[test]
    fn codes_have_a_safe_charset() {
        let s = scrubber();
        assert_eq!(s.code("invalid_client").as_deref(), Some("invalid_client"));
        assert_eq!(s.code("AUTH002").as_deref(), Some("AUTH002"));
        assert_eq!(s.code(&format!("client_secret={SECRET}")), None);
        let alnum = Scrubber::new([&SecretString::from("abc123")], None);
        assert_eq!(alnum.code("abc123"), None, "a secret is never a code");
        assert_eq!(s.code("a b"), None);
        assert_eq!(s.code(&"x".repeat(65)), None);
        assert_eq!(s.code(""), None);
    }
}
