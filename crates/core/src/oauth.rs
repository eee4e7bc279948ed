//! Token responses and provider errors, parsed into typed values.
//!
//! Tillkey builds token requests itself rather than through the `oauth2` crate because
//! half of its providers depart from the standard shape (Chimpy's JSON body, myPOS's raw
//! Basic credentials, eReceipt's POS headers) and the connectivity test needs each
//! response's status, rate-limit headers and latency, which that crate does not expose.
//! Responses are still parsed into typed structs, never poked at as loose JSON.

use crate::error::{Error, Result};
use crate::http::Captured;
use crate::providers::Provider;
use secrecy::SecretString;
use serde::Deserialize;

/// A successful token response.
pub struct Grant {
    /// The access token.
    pub access_token: SecretString,
    /// `expires_in`, seconds.
    pub expires_in: Option<u64>,
    /// A refresh token, where the grant issued one.
    pub refresh_token: Option<SecretString>,
    /// Granted scope, if the server said.
    pub scope: Option<String>,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grant")
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token.is_some())
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct RawGrant {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<NumberOrString>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

/// Some servers send `expires_in` as a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrString {
    N(u64),
    S(String),
}

/// An error body: RFC 6749 `error` / `error_description`, plus Paysera POS's `error_code`.
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    error_code: Option<String>,
}

/// Parses a token endpoint's answer: a [`Grant`] on 2xx, else the mapped error.
///
/// # Errors
/// [`Error::Provider`], [`Error::RateLimited`], [`Error::InvalidResponse`].
pub fn parse_grant(provider: &dyn Provider, resp: &Captured) -> Result<Grant> {
    if !(200..300).contains(&resp.status) {
        return Err(provider_error(provider, resp));
    }
    let label = provider.schema().label;
    let raw: RawGrant = serde_json::from_slice(&resp.body).map_err(|e| Error::InvalidResponse {
        provider: label.clone(),
        status: resp.status,
        detail: format!("the token response is not the expected JSON ({})", e.classify_str()),
    })?;
    if let Some(t) = raw.token_type.as_deref() {
        if !t.eq_ignore_ascii_case("bearer") {
            return Err(Error::InvalidResponse {
                provider: label,
                status: resp.status,
                detail: format!("token_type is `{t}`, Tillkey supports Bearer tokens"),
            });
        }
    }
    if raw.access_token.is_empty() {
        return Err(Error::InvalidResponse {
            provider: label,
            status: resp.status,
            detail: "empty access_token".into(),
        });
    }
    let expires_in = match raw.expires_in {
        Some(NumberOrString::N(n)) => Some(n),
        Some(NumberOrString::S(s)) => s.trim().parse().ok(),
        None => None,
    };
    Ok(Grant {
        access_token: SecretString::from(raw.access_token),
        expires_in,
        refresh_token: raw.refresh_token.filter(|r| !r.is_empty()).map(SecretString::from),
        scope: raw.scope,
    })
}

/// Maps a non-2xx response to a typed error: 429 to [`Error::RateLimited`]; otherwise the
/// code is `error_code`, else `error`, else the HTTP status, with the provider's hint.
pub fn provider_error(provider: &dyn Provider, resp: &Captured) -> Error {
    let label = provider.schema().label;
    if resp.status == 429 {
        let wait = resp.rate_limit.as_ref().map(|r| r.wait_secs()).unwrap_or(60);
        return Error::RateLimited {
            provider: label,
            retry_after_secs: wait,
        };
    }
    let body: ErrorBody = serde_json::from_slice(&resp.body).unwrap_or_default();
    let code = body
        .error_code
        .filter(|c| !c.is_empty())
        .or(body.error.filter(|c| !c.is_empty()))
        .unwrap_or_else(|| resp.status.to_string());
    let description = body.error_description.map(|d| clean(&d));
    let hint = provider
        .error_hint(&code, resp.status)
        .unwrap_or_else(|| standard_hint(&code, resp.status));
    Error::Provider {
        provider: label,
        status: resp.status,
        code: clean(&code),
        description,
        hint,
    }
}

/// Keeps provider text printable and short.
fn clean(s: &str) -> String {
    let s: String = s.chars().filter(|c| !c.is_control()).take(200).collect();
    s
}

/// Hints for the RFC 6749 error codes and bare HTTP statuses.
pub fn standard_hint(code: &str, status: u16) -> String {
    match code {
        "invalid_client" => "The client ID or client secret is wrong, or the client was disabled. Copy both again from the provider's portal.".into(),
        "invalid_grant" => "The user name or password (or the refresh token) was not accepted. Check them, or rotate the credential.".into(),
        "unauthorized_client" => "This client is not allowed to use this grant type, or its system user is blocked or expired. Ask the provider to enable it.".into(),
        "unsupported_grant_type" => "The server does not accept this grant type for this client. Check the provider kind and the token URL.".into(),
        "invalid_scope" => "The requested scope is not allowed for this client. Clear the scope field or use one the provider granted.".into(),
        "invalid_target" => "The server does not accept the requested audience (resource) for this client. Check the audience field, or clear it.".into(),
        "invalid_request" => "The token request was missing a parameter or malformed. Check the required fields (client ID, audience) and the token URL.".into(),
        "invalid_token" => "The access token was rejected (expired or revoked). Tillkey discards it and fetches a new one once; if this persists, the credential itself is no longer valid.".into(),
        _ => match status {
            400 => "The provider refused the request as malformed. Check the fields against the provider's portal.".into(),
            401 => "The credential was not accepted. Check the secret, or rotate it.".into(),
            403 => "The credential works but lacks permission for this resource. Ask the account administrator to grant it.".into(),
            404 => "The URL was not found. Check the token and test URLs.".into(),
            500..=599 => "The provider had an internal error. Try again later.".into(),
            _ => "Check the credential's fields and URLs.".into(),
        },
    }
}

trait ClassifyStr {
    fn classify_str(&self) -> &'static str;
}

impl ClassifyStr for serde_json::Error {
    fn classify_str(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "missing or mistyped fields",
            serde_json::error::Category::Eof => "cut short",
        }
    }
}
