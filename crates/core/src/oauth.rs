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
use crate::scrub::Scrubber;
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

/// Some servers send `expires_in` as a string. Anything else (negative, fractional,
/// `null`-like text) is not a lifetime.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrString {
    N(u64),
    S(String),
    Other(serde::de::IgnoredAny),
}

impl NumberOrString {
    /// Seconds: a non-negative integer, as a JSON number or a string of ASCII digits (a
    /// digit string too long for 64 bits saturates; the lifetime is clamped later anyway).
    fn seconds(self) -> Option<u64> {
        match self {
            NumberOrString::N(n) => Some(n),
            NumberOrString::S(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                Some(s.parse().unwrap_or(u64::MAX))
            }
            _ => None,
        }
    }
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

/// Parses a token endpoint's answer: a [`Grant`] on 2xx, else the mapped error. Any
/// provider text that ends up in an error has passed through `scrub`.
///
/// # Errors
/// [`Error::Provider`], [`Error::RateLimited`], [`Error::Redirected`],
/// [`Error::InvalidResponse`].
pub fn parse_grant(provider: &dyn Provider, resp: &Captured, scrub: &Scrubber) -> Result<Grant> {
    if !(200..300).contains(&resp.status) {
        return Err(provider_error(provider, resp, scrub));
    }
    let label = provider.schema().label;
    let raw: RawGrant = serde_json::from_slice(&resp.body).map_err(|e| Error::InvalidResponse {
        provider: label.clone(),
        status: resp.status,
        detail: format!("the token response is not the expected JSON ({})", e.classify_str()),
    })?;
    if let Some(t) = raw.token_type.as_deref() {
        if !t.eq_ignore_ascii_case("bearer") {
            let shown: String = scrub.clean(t).chars().take(40).collect();
            return Err(Error::InvalidResponse {
                provider: label,
                status: resp.status,
                detail: format!("token_type is `{shown}`, Tillkey supports Bearer tokens"),
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
        None => None,
        Some(v) => Some(v.seconds().ok_or_else(|| Error::InvalidResponse {
            provider: label.clone(),
            status: resp.status,
            detail: "expires_in is not a non-negative whole number of seconds".into(),
        })?),
    };
    Ok(Grant {
        access_token: SecretString::from(raw.access_token),
        expires_in,
        refresh_token: raw.refresh_token.filter(|r| !r.is_empty()).map(SecretString::from),
        scope: raw.scope.map(|s| scrub.clean(&s)).filter(|s| !s.is_empty()),
    })
}

/// Maps a non-2xx response to a typed error: 429 to [`Error::RateLimited`], a 3xx to
/// [`Error::Redirected`]; otherwise the code is `error_code`, else `error`, else the HTTP
/// status (also when the provider's code is not a short plain token), with the
/// provider's hint. The description is scrubbed of the credential's secrets.
pub fn provider_error(provider: &dyn Provider, resp: &Captured, scrub: &Scrubber) -> Error {
    let label = provider.schema().label;
    if resp.status == 429 {
        let wait = resp.rate_limit.as_ref().map(|r| r.wait_secs()).unwrap_or(60);
        return Error::RateLimited {
            provider: label,
            retry_after_secs: wait,
        };
    }
    if (300..400).contains(&resp.status) {
        return Error::Redirected {
            provider: label,
            status: resp.status,
            target: resp
                .redirect_host
                .as_deref()
                .map(|h| scrub.host(h))
                .unwrap_or_else(|| "an unnamed location".into()),
        };
    }
    let body: ErrorBody = serde_json::from_slice(&resp.body).unwrap_or_default();
    let code = [body.error_code, body.error]
        .into_iter()
        .flatten()
        .find_map(|c| scrub.code(&c))
        .unwrap_or_else(|| resp.status.to_string());
    let description = body
        .error_description
        .map(|d| scrub.clean(&d))
        .filter(|d| !d.is_empty());
    let hint = provider
        .error_hint(&code, resp.status)
        .unwrap_or_else(|| standard_hint(&code, resp.status));
    Error::Provider {
        provider: label,
        status: resp.status,
        code,
        description,
        hint,
    }
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
