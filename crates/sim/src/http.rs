//! HTTP helpers shared by the simulators: bounded body reading, form parsing, client
//! and bearer authentication headers, error bodies and rate-limit headers.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::{json, Value};

use crate::state::{ClientConfig, RateInfo, SimState, TokenCheck, TokenInfo, ANONYMOUS};

/// A JSON response.
pub(crate) fn json_response(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// Adds `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
pub(crate) fn no_store(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// An RFC 6749 §5.2 error body `{"error", "error_description"}`.
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    no_store(json_response(
        status,
        json!({ "error": error, "error_description": description }),
    ))
}

/// 401 `invalid_client` with a `WWW-Authenticate: Basic` challenge.
pub(crate) fn invalid_client_basic(description: &str, realm: &'static str) -> Response {
    let mut resp = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description);
    if let Ok(v) = HeaderValue::from_str(&format!("Basic realm=\"{realm}\"")) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// 401 `invalid_token` (RFC 6750 §3.1) with a JSON body and a Bearer challenge.
pub(crate) fn bearer_error(description: &'static str) -> Response {
    let mut resp = json_response(
        StatusCode::UNAUTHORIZED,
        json!({ "error": "invalid_token", "error_description": description }),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "Bearer realm=\"tillkey-sim\", error=\"invalid_token\", error_description=\"{description}\""
    )) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// 404 for unknown paths.
pub(crate) fn not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        json!({ "error": "not_found", "error_description": "No such resource" }),
    )
}

const X_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const X_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const X_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// Adds the `X-RateLimit-*` headers (Reset in seconds until the window resets).
pub(crate) fn apply_rate(resp: &mut Response, r: &RateInfo) {
    let h = resp.headers_mut();
    h.insert(X_LIMIT, HeaderValue::from(r.limit));
    h.insert(X_REMAINING, HeaderValue::from(r.remaining));
    h.insert(X_RESET, HeaderValue::from(r.reset_secs));
}

/// 429 with the rate-limit headers and `Retry-After`.
pub(crate) fn too_many_requests(r: &RateInfo) -> Response {
    let mut resp = json_response(
        StatusCode::TOO_MANY_REQUESTS,
        json!({
            "error": "too_many_requests",
            "error_description": format!(
                "Rate limit of {} requests exceeded; retry in {} s", r.limit, r.reset_secs
            ),
        }),
    );
    apply_rate(&mut resp, r);
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(r.reset_secs));
    resp
}

/// Counts the request against `key`'s rate-limit window: answers 429 when the window is
/// exhausted, otherwise runs `f` and adds the rate-limit headers to its response.
pub(crate) fn limited(st: &SimState, key: &str, f: impl FnOnce() -> Response) -> Response {
    match st.rate_check(key) {
        None => f(),
        Some(r) if r.exceeded => too_many_requests(&r),
        Some(r) => {
            let mut resp = f();
            apply_rate(&mut resp, &r);
            resp
        }
    }
}

/// Reads a whole body of at most `limit` bytes; a larger one gives 413.
pub(crate) async fn read_body(body: Body, limit: usize) -> Result<Bytes, Response> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        oauth_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            "Request body too large",
        )
    })
}

/// Whether the `Content-Type` header names `mime` (parameters such as charset ignored).
pub(crate) fn has_content_type(headers: &HeaderMap, mime: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(mime))
}

/// Parses an `application/x-www-form-urlencoded` body or query string. Parameters
/// without a value are treated as omitted (RFC 6749 §3.2); a repeated parameter is an
/// error (RFC 6749 §3.2).
pub(crate) fn parse_form(bytes: &[u8]) -> Result<HashMap<String, String>, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(bytes).map_err(|_| "Malformed form body".to_owned())?;
    let mut map = HashMap::new();
    for (k, v) in pairs {
        if v.is_empty() {
            continue;
        }
        if map.contains_key(&k) {
            return Err(format!("Parameter {k} is repeated"));
        }
        map.insert(k, v);
    }
    Ok(map)
}

/// The `Authorization: Bearer` header.
pub(crate) enum Bearer {
    /// No Authorization header at all.
    Missing,
    /// An Authorization header that is not a usable Bearer credential.
    Malformed,
    /// The token.
    Token(String),
}

pub(crate) fn bearer(headers: &HeaderMap) -> Bearer {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Bearer::Missing;
    };
    let Ok(value) = value.to_str() else {
        return Bearer::Malformed;
    };
    match value.trim().split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Bearer::Token(token.trim().to_owned())
        }
        _ => Bearer::Malformed,
    }
}

/// The `Authorization: Basic` header, as candidate (id, secret) pairs.
pub(crate) enum Basic {
    /// No Basic Authorization header.
    Absent,
    /// A Basic header that does not decode to id and secret.
    Malformed,
    /// Possible (id, secret) readings, most likely first.
    Credentials(Vec<(String, String)>),
}

/// Reads HTTP Basic credentials. The id and secret are split at the first colon, and,
/// when `allow_semicolon`, also at the first semicolon (myPOS). Each reading is also
/// offered form-urldecoded (RFC 6749 §2.3.1).
pub(crate) fn basic(headers: &HeaderMap, allow_semicolon: bool) -> Basic {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Basic::Absent;
    };
    let Ok(value) = value.to_str() else {
        return Basic::Malformed;
    };
    let Some((scheme, encoded)) = value.trim().split_once(' ') else {
        return Basic::Absent;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Basic::Absent;
    }
    let encoded = encoded.trim();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded));
    let Some(text) = decoded.ok().and_then(|b| String::from_utf8(b).ok()) else {
        return Basic::Malformed;
    };
    let mut raw = Vec::new();
    if let Some((id, secret)) = text.split_once(':') {
        raw.push((id.to_owned(), secret.to_owned()));
    }
    if allow_semicolon {
        if let Some((id, secret)) = text.split_once(';') {
            raw.push((id.to_owned(), secret.to_owned()));
        }
    }
    let mut out = raw.clone();
    for (id, secret) in raw {
        if let (Some(i), Some(s)) = (form_decode(&id), form_decode(&secret)) {
            if (i.as_str(), s.as_str()) != (id.as_str(), secret.as_str()) {
                out.push((i, s));
            }
        }
    }
    out.retain(|(id, _)| !id.is_empty());
    if out.is_empty() {
        Basic::Malformed
    } else {
        Basic::Credentials(out)
    }
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space, `%XX` a byte).
fn form_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The `Host` header, or the loopback address.
pub(crate) fn host(headers: &HeaderMap) -> String {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| h.chars().all(|c| c.is_ascii_alphanumeric() || ".:-[]".contains(c)))
        .unwrap_or("127.0.0.1")
        .to_owned()
}

/// Splits a space-delimited scope string into its tokens.
pub(crate) fn scope_tokens(scope: &str) -> Vec<String> {
    scope.split_whitespace().map(str::to_owned).collect()
}

/// Checks the bearer token of a protected API request. Returns the statistics and
/// rate-limit key (the token's client, or `"anonymous"`) and either the token or the 401
/// response to send. The 401 descriptions say whether the token is missing, unknown,
/// revoked or expired.
pub(crate) fn api_auth(st: &SimState, headers: &HeaderMap) -> (String, Result<TokenInfo, Response>) {
    match bearer(headers) {
        Bearer::Missing => (ANONYMOUS.to_owned(), Err(bearer_error("Missing bearer token"))),
        Bearer::Malformed => (
            ANONYMOUS.to_owned(),
            Err(bearer_error("Malformed Authorization header")),
        ),
        Bearer::Token(t) => match st.check_token(&t) {
            TokenCheck::Unknown => (ANONYMOUS.to_owned(), Err(bearer_error("Token is not active"))),
            TokenCheck::Revoked(i) => (i.client_id, Err(bearer_error("Token has been revoked"))),
            TokenCheck::Expired(i) => (i.client_id, Err(bearer_error("Token is expired"))),
            TokenCheck::Valid(i) => (i.client_id.clone(), Ok(i)),
        },
    }
}

/// Authenticates HTTP Basic credential readings: the statistics key (the id of the
/// registered client the credentials name, else the first reading's id) and the client
/// when one reading matches.
pub(crate) fn basic_client(st: &SimState, creds: &[(String, String)]) -> (String, Option<ClientConfig>) {
    for (id, secret) in creds {
        if let Some(c) = st.authenticate(id, secret) {
            return (id.clone(), Some(c));
        }
    }
    let key = creds
        .iter()
        .find(|(id, _)| st.client(id).is_some())
        .or(creds.first())
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| ANONYMOUS.to_owned());
    (key, None)
}

/// RFC 7009 §2.1–2.2: revokes the form's `token` if it belongs to `client_id`, and answers
/// 200 either way (a token of another client, or an unknown one, is left alone).
pub(crate) fn revoke_own_token(st: &SimState, client_id: &str, form: &HashMap<String, String>) -> Response {
    let Some(token) = form.get("token") else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Missing parameter: token");
    };
    if st.token_info(token).is_some_and(|t| t.client_id == client_id) {
        st.revoke_token(token);
    }
    StatusCode::OK.into_response()
}

/// A plain RFC 6749 §5.1 success: `access_token`, `token_type: Bearer`, `expires_in`, and
/// `scope` when one was granted; not cacheable.
pub(crate) fn bearer_token_response(
    access_token: String,
    expires_in: impl Into<Value>,
    scope: Option<String>,
) -> Response {
    let mut body = json!({ "access_token": access_token, "token_type": "Bearer", "expires_in": expires_in.into() });
    if let Some(s) = scope {
        body["scope"] = s.into();
    }
    no_store(json_response(StatusCode::OK, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_form_values() {
        assert_eq!(form_decode("a%3Ab+c").as_deref(), Some("a:b c"));
        assert_eq!(form_decode("bad%2"), None);
    }

    #[test]
    fn basic_offers_semicolon_reading() {
        let mut h = HeaderMap::new();
        let enc = base64::engine::general_purpose::STANDARD.encode("id;secret");
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {enc}")).unwrap(),
        );
        match basic(&h, true) {
            Basic::Credentials(c) => assert!(c.contains(&("id".into(), "secret".into()))),
            _ => panic!("expected credentials"),
        }
        assert!(matches!(basic(&h, false), Basic::Malformed));
    }

    #[test]
    fn repeated_form_parameter_is_refused() {
        assert!(parse_form(b"a=1&a=2").is_err());
        let m = parse_form(b"a=1&b=&c=x%20y").unwrap();
        assert_eq!(m.get("c").map(String::as_str), Some("x y"));
        assert!(!m.contains_key("b"));
    }
}
