//! Paysera Checkout: OAuth2 client credentials with the credentials in the form body.
//! Tokens live 3600 s; there are no refresh tokens.

use super::{test_url_field, token_url_field, Field, Provider};
use crate::dto::{Environment, ProviderSchema};

/// Paysera Checkout OAuth2.
pub struct PayseraCheckout;

/// Token endpoint from the Paysera Checkout document.
pub const TOKEN_URL: &str = "https://api.paysera.com/auth/realms/Paysera/protocol/openid-connect/token";
/// The API call the connectivity test makes (payment methods list).
pub const TEST_URL: &str = "https://api.paysera.com/checkout-project/integration/v1/methods";

impl Provider for PayseraCheckout {
    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            kind: "paysera-checkout".into(),
            label: "Paysera Checkout".into(),
            description: "Paysera Checkout integration API (server-to-server OAuth2).".into(),
            flow: "OAuth2 client credentials, credentials in the form body".into(),
            environments: vec![Environment::Production],
            fields: vec![
                Field::text("client_id", "Client ID", "Paysera Checkout project settings → API credentials.")
                    .required()
                    .build(),
                Field::secret("client_secret", "Client secret", "Shown next to the client ID in your Paysera project.")
                    .required()
                    .build(),
                Field::text("scope", "Scope", "Optional OAuth2 scope; leave empty for the default.").build(),
                token_url_field().default_for(Environment::Production, TOKEN_URL).build(),
                test_url_field().default_for(Environment::Production, TEST_URL).build(),
            ],
        }
    }
}
