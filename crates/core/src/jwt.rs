//! Reading the claims of a JWT access token. Tillkey is the token's bearer, not its
//! audience: it never trusts claims for authorisation, it only reads `exp` (to know when
//! to renew) and eReceipt's taxpayer tags (to show whether B2C is present). So the payload
//! is decoded without verifying the signature, which Tillkey has no key for anyway.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The claims Tillkey reads.
#[derive(Debug, Default, Deserialize)]
pub struct Claims {
    /// Expiry, seconds since the epoch.
    pub exp: Option<i64>,
    /// eReceipt taxpayer tags (`B2B`, `B2C`), under `tags` or `taxpayer_tags`.
    #[serde(default, alias = "taxpayer_tags")]
    pub tags: Option<TagList>,
}

/// Tags as a JSON array or a space/comma separated string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum TagList {
    /// `["B2B","B2C"]`
    List(Vec<String>),
    /// `"B2B B2C"`
    Text(String),
}

impl TagList {
    /// The tags as a list.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            TagList::List(v) => v.clone(),
            TagList::Text(s) => s
                .split([' ', ','])
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }
}

/// The claims of `token` if it is a JWT (three dot-separated base64url parts with a JSON
/// payload); `None` for opaque tokens.
pub fn claims(token: &SecretString) -> Option<Claims> {
    let mut parts = token.expose_secret().split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The `exp` of a JWT as a time.
pub fn expiry(token: &SecretString) -> Option<DateTime<Utc>> {
    claims(token)?.exp.and_then(|e| DateTime::from_timestamp(e, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> SecretString {
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        SecretString::from(format!("{}.{}.sig", b(r#"{"alg":"RS256"}"#), b(payload)))
    }

    #[test]
    fn reads_exp_and_tags() {
        let t = jwt(r#"{"exp": 1900000000, "tags": ["B2B", "B2C"]}"#);
        assert_eq!(expiry(&t).unwrap().timestamp(), 1_900_000_000);
        assert_eq!(claims(&t).unwrap().tags.unwrap().to_vec(), ["B2B", "B2C"]);
        let t = jwt(r#"{"taxpayer_tags": "B2B"}"#);
        assert_eq!(claims(&t).unwrap().tags.unwrap().to_vec(), ["B2B"]);
    }

    #[test]
    fn opaque_tokens_have_no_claims() {
        assert!(claims(&SecretString::from("vjqje92BWVesdh8TE6nBfepst0mf11wHA6VnR5RhN6")).is_none());
        assert!(claims(&SecretString::from("a.b.c.d")).is_none());
        assert!(expiry(&SecretString::from("a.!!.c")).is_none());
    }
}
