//! Paysera Checkout: OAuth2 client credentials with the credentials in the form body.
//! Tokens live 3600 s; there are no refresh tokens.

use super::{form_post, test_url_field, token_url_field, ClientAuth, Creds, Field, Provider, ProviderKind};
use crate::dto::{Environment, ProviderSchema};
use crate::error::Result;
use crate::http::Request;

/// This provider's kind.
pub const KIND: ProviderKind = ProviderKind("paysera-checkout");

/// Paysera Checkout OAuth2.
pub struct PayseraCheckout;

/// Token endpoint from the Paysera Checkout document.
pub const TOKEN_URL: &str = "https://api.paysera.com/auth/realms/Paysera/protocol/openid-connect/token";
/// The API call the connectivity test makes (payment methods list).
pub const TEST_URL: &str = "https://api.paysera.com/checkout-project/integration/v1/methods";

impl Provider for PayseraCheckout {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            kind: KIND.to_string(),
            label: "Paysera Checkout".into(),
            description: "Paysera Checkout integration API (server-to-server OAuth2).".into(),
            flow: "OAuth2 client credentials, credentials in the form body".into(),
            environments: vec![Environment::Production],
            fields: vec![
                Field::text(
                    "client_id",
                    "Client ID",
                    "Paysera Checkout project settings → API credentials.",
                )
                .required()
                .build(),
                Field::secret(
                    "client_secret",
                    "Client secret",
                    "Shown next to the client ID in your Paysera project.",
                )
                .required()
                .build(),
                Field::text("scope", "Scope", "Optional OAuth2 scope; leave empty for the default.").build(),
                token_url_field()
                    .default_for(Environment::Production, TOKEN_URL)
                    .build(),
                test_url_field().default_for(Environment::Production, TEST_URL).build(),
            ],
        }
    }

    /// `grant_type=client_credentials` with `client_id` and `client_secret` in the form body.
    fn token_request(&self, c: &Creds) -> Result<Request> {
        let url = c.require_url("token_url")?;
        Ok(form_post(
            url,
            c.require("client_id")?,
            c.secret("client_secret")?,
            ClientAuth::Body,
            &[("grant_type", Some("client_credentials")), ("scope", c.field("scope"))],
        ))
    }

    fn error_hint(&self, code: &str, _status: u16) -> Option<String> {
        (code == "invalid_client").then(|| {
            "The client ID or secret is wrong. Copy them again from your Paysera project's API credentials.".into()
        })
    }

    fn portal_steps(&self) -> &'static str {
        "Create a new client secret in your Paysera project's API credentials, then remove the old one there; Paysera Checkout has no revocation endpoint."
    }
}
