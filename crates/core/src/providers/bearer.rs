//! A static bearer token, optionally with a known expiry date.

use super::{test_url_field, Field, Provider, ProviderKind};
use crate::dto::{Environment, ProviderSchema};
use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// This provider's kind.
pub const KIND: ProviderKind = ProviderKind("bearer");

/// Generic static bearer token.
pub struct Bearer;

impl Provider for Bearer {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            kind: KIND.to_string(),
            label: "Bearer token".into(),
            description: "Any API that takes a static `Authorization: Bearer` token.".into(),
            flow: "Static bearer token".into(),
            environments: vec![Environment::Production, Environment::Sandbox],
            fields: vec![
                Field::secret("token", "Token", "The token exactly as the provider issued it.")
                    .required()
                    .build(),
                Field::text(
                    "expires_at",
                    "Expires at",
                    "Optional expiry, RFC 3339 (e.g. 2027-01-31T00:00:00Z).",
                )
                .build(),
                test_url_field().build(),
            ],
        }
    }

    fn check(&self, fields: &BTreeMap<String, String>) -> Result<()> {
        if let Some(v) = fields.get("expires_at") {
            chrono::DateTime::parse_from_rfc3339(v)
                .map_err(|e| Error::invalid("expires_at", format!("`{v}` is not an RFC 3339 date-time ({e})")))?;
        }
        Ok(())
    }

    fn static_token_field(&self) -> Option<&'static str> {
        Some("token")
    }

    /// A rejected static token is not re-fetched (there is nothing to fetch it with): say
    /// so, and how to replace it, instead of the OAuth2 "fetches a new one" hint.
    fn error_hint(&self, code: &str, status: u16) -> Option<String> {
        (status == 401 || code == "invalid_token").then(|| {
            format!(
                "The API rejected this static token (invalid, expired or revoked); it cannot be refreshed. {} Then run `tillkey rotate NAME` with the new token.",
                self.portal_steps()
            )
        })
    }

    fn portal_steps(&self) -> &'static str {
        "Issue a new token where the API provider issues them, then revoke the old one there."
    }
}
