//! Issuing access tokens: JWT or opaque, registered in the state with their expiry.

use serde_json::{Map, Value};

use crate::jwt;
use crate::state::{SimState, TokenInfo};

/// What to issue.
pub(crate) struct Grant {
    pub client_id: String,
    pub subject: String,
    pub scope: Option<String>,
    pub audience: Option<String>,
    pub tags: Vec<String>,
}

/// The token format.
pub(crate) enum Format {
    /// A JWT with these extra claims (besides `sub`, `iat`, `nbf`, `exp`, `jti`).
    Jwt(Map<String, Value>),
    /// A random alphanumeric string of this length.
    Opaque(usize),
}

/// Issues a token for `grant`, registers it and returns it with `expires_in` (seconds).
pub(crate) fn issue(st: &SimState, grant: Grant, format: Format) -> (String, u64) {
    let (lifetime, now_ms) = st.lifetime_and_now(&grant.client_id);
    let lifetime_ms = i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX);
    let expires_at_ms = now_ms.saturating_add(lifetime_ms);
    let token = match format {
        Format::Opaque(len) => jwt::opaque_token(len),
        Format::Jwt(mut claims) => {
            claims.insert("sub".into(), Value::from(grant.subject.clone()));
            claims.insert("iat".into(), Value::from(now_ms.div_euclid(1000)));
            claims.insert("nbf".into(), Value::from(now_ms.div_euclid(1000)));
            claims.insert("exp".into(), Value::from(expires_at_ms.div_euclid(1000)));
            claims.insert("jti".into(), Value::from(jwt::jti()));
            jwt::make_jwt(&Value::Object(claims))
        }
    };
    st.register_token(
        &token,
        TokenInfo {
            client_id: grant.client_id,
            subject: grant.subject,
            scope: grant.scope,
            audience: grant.audience,
            tags: grant.tags,
            issued_at_ms: now_ms,
            expires_at_ms: Some(expires_at_ms),
            revoked: false,
        },
    );
    (token, lifetime.as_secs())
}
