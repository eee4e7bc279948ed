//! myPOS: OAuth2 client credentials with HTTP Basic (`client_id:client_secret`), optional
//! `scope=webhooks`, and a revocation endpoint (production only).

use super::{test_url_field, token_url_field, Field, Provider};
use crate::dto::{Environment, ProviderSchema};

/// myPOS REST API OAuth2.
pub struct MyPos;

/// Production token endpoint.
pub const PRODUCTION_TOKEN_URL: &str = "https://auth-api.mypos.com/oauth/token";
/// Sandbox token endpoint.
pub const SANDBOX_TOKEN_URL: &str = "https://sandbox-auth-api.mypos.com/oauth/token";
/// Revocation endpoint (production; none is documented for the sandbox).
pub const REVOKE_URL: &str = "https://api.mypos.com/oauth/revoke";

impl Provider for MyPos {
    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            kind: "mypos".into(),
            label: "myPOS".into(),
            description: "myPOS REST API and Webhook API.".into(),
            flow: "OAuth2 client credentials, HTTP Basic".into(),
            environments: vec![Environment::Production, Environment::Sandbox],
            fields: vec![
                Field::text("client_id", "Client ID", "myPOS Account → oAuth Credentials.").required().build(),
                Field::secret("client_secret", "Client secret", "myPOS Account → oAuth Credentials (generate a new set to rotate).")
                    .required()
                    .build(),
                Field::text("scope", "Scope", "`webhooks` when the token is for the Webhook API; otherwise empty.").build(),
                Field::url("revoke_url", "Revoke URL", "Token revocation endpoint (production only).")
                    .default_for(Environment::Production, REVOKE_URL)
                    .build(),
                token_url_field()
                    .default_for(Environment::Production, PRODUCTION_TOKEN_URL)
                    .default_for(Environment::Sandbox, SANDBOX_TOKEN_URL)
                    .build(),
                test_url_field().build(),
            ],
        }
    }
}
