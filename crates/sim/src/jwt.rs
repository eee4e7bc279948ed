//! Well-formed but unsigned JWTs (base64url `header.payload.signature`, the signature
//! random bytes) and random opaque tokens. The simulators validate tokens by looking
//! them up, never by signature; clients only read claims such as `exp`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

fn random_bytes(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 16);
    while out.len() < n {
        out.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    out.truncate(n);
    out
}

/// Encodes `claims` as a JWT with header `{"alg":"RS256","typ":"JWT","kid":"tillkey-sim"}`
/// and a random 64-byte signature.
pub fn make_jwt(claims: &Value) -> String {
    let header = json!({ "alg": "RS256", "typ": "JWT", "kid": "tillkey-sim" });
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(random_bytes(64))
    )
}

/// Decodes the payload of a JWT (no signature check). `None` when it is not a JWT.
pub fn decode_claims(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A random alphanumeric token of `len` characters (like myPOS's opaque tokens).
pub fn opaque_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    random_bytes(len)
        .into_iter()
        .map(|b| char::from(ALPHABET[usize::from(b) % ALPHABET.len()]))
        .collect()
}

/// A random token id (UUID v4) for `jti` claims.
pub(crate) fn jti() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_claims() {
        let t = make_jwt(&json!({"sub": "x", "exp": 5}));
        assert_eq!(t.split('.').count(), 3);
        assert_eq!(decode_claims(&t).unwrap()["exp"], 5);
        assert!(decode_claims("not-a-jwt").is_none());
        assert_eq!(opaque_token(42).len(), 42);
    }
}
