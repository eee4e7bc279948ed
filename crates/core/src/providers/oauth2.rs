//! Generic OAuth2 client credentials (RFC 6749 §4.4) with `client_secret_post` or
//! `client_secret_basic`, optional audience, and RFC 7009 revocation.

use super::{test_url_field, token_url_field, Field, Provider};
use crate::dto::{Environment, ProviderSchema};
use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// Any standards-compliant OAuth2 server.
pub struct OAuth2;

impl Provider for OAuth2 {
    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            kind: "oauth2".into(),
            label: "Generic OAuth2".into(),
            description: "Any OAuth2 server with the client credentials grant.".into(),
            flow: "OAuth2 client credentials (post or basic)".into(),
            environments: vec![Environment::Production, Environment::Sandbox],
            fields: vec![
                token_url_field().required().build(),
                Field::text("client_id", "Client ID", "From the provider's developer console.").required().build(),
                Field::secret("client_secret", "Client secret", "From the provider's developer console.").required().build(),
                Field::choice("auth_method", "Client authentication", "`post`: credentials in the body; `basic`: HTTP Basic.", &["post", "basic"])
                    .default_for(Environment::Production, "post")
                    .default_for(Environment::Sandbox, "post")
                    .build(),
                Field::text("scope", "Scope", "Space-separated scopes, if the server wants them.").build(),
                Field::text("audience", "Audience", "Sent as `audience` when set.").build(),
                Field::url("revoke_url", "Revoke URL", "RFC 7009 revocation endpoint, if the server has one.").build(),
                Field::text("extra_headers", "Extra token-request headers", "`Name: value` pairs separated by `;`.").build(),
                test_url_field().build(),
            ],
        }
    }

    fn check(&self, fields: &BTreeMap<String, String>) -> Result<()> {
        if let Some(h) = fields.get("extra_headers") {
            for pair in h.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                let valid = pair.split_once(':').is_some_and(|(n, _)| {
                    !n.trim().is_empty() && n.trim().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                });
                if !valid {
                    return Err(Error::invalid("extra_headers", format!("`{pair}` is not `Name: value`")));
                }
            }
        }
        Ok(())
    }
}
