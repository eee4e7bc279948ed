//! myPOS: OAuth2 client credentials with HTTP Basic (`client_id:client_secret`), optional
//! `scope=webhooks`, and a revocation endpoint (production only).

use super::{form_post, test_url_field, token_url_field, ClientAuth, Creds, Field, Provider, ProviderKind};
use crate::dto::{Environment, ProviderSchema};
use crate::error::Result;
use crate::http::Request;
use secrecy::SecretString;

/// This provider's kind.
pub const KIND: ProviderKind = ProviderKind("mypos");

/// myPOS REST API OAuth2.
pub struct MyPos;

/// Production token endpoint.
pub const PRODUCTION_TOKEN_URL: &str = "https://auth-api.mypos.com/oauth/token";
/// Sandbox token endpoint.
pub const SANDBOX_TOKEN_URL: &str = "https://sandbox-auth-api.mypos.com/oauth/token";
/// Revocation endpoint (production; none is documented for the sandbox).
pub const REVOKE_URL: &str = "https://api.mypos.com/oauth/revoke";

impl Provider for MyPos {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            kind: KIND.to_string(),
            label: "myPOS".into(),
            description: "myPOS REST API and Webhook API.".into(),
            flow: "OAuth2 client credentials, HTTP Basic".into(),
            environments: vec![Environment::Production, Environment::Sandbox],
            fields: vec![
                Field::text("client_id", "Client ID", "myPOS Account → oAuth Credentials.")
                    .required()
                    // The portal generates a new set (client ID and secret) to rotate.
                    .rotates_with_secret()
                    .build(),
                Field::secret(
                    "client_secret",
                    "Client secret",
                    "myPOS Account → oAuth Credentials (generate a new set to rotate).",
                )
                .required()
                .build(),
                Field::text(
                    "scope",
                    "Scope",
                    "`webhooks` when the token is for the Webhook API; otherwise empty.",
                )
                .build(),
                Field::url(
                    "revoke_url",
                    "Revoke URL",
                    "Token revocation endpoint (production only).",
                )
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

    /// HTTP Basic with `client_id:client_secret` joined by a colon, as the document's
    /// examples do; `grant_type=client_credentials` and optional `scope` in the body.
    fn token_request(&self, c: &Creds) -> Result<Request> {
        let url = c.require_url("token_url")?;
        Ok(form_post(
            url,
            c.require("client_id")?,
            c.secret("client_secret")?,
            ClientAuth::BasicRaw,
            &[("grant_type", Some("client_credentials")), ("scope", c.field("scope"))],
        ))
    }

    /// POST `token=<token>` to the revoke URL with the same Basic credentials.
    fn revoke_request(&self, c: &Creds, token: &SecretString) -> Option<Result<Request>> {
        let url = match c.url("revoke_url") {
            Ok(Some(u)) => u,
            Ok(None) => return None,
            Err(e) => return Some(Err(e)),
        };
        Some((|| {
            let mut req = form_post(
                url,
                c.require("client_id")?,
                c.secret("client_secret")?,
                ClientAuth::BasicRaw,
                &[],
            );
            req.body = crate::http::Body::Form(vec![("token".into(), token.clone())]);
            Ok(req)
        })())
    }

    fn error_hint(&self, code: &str, _status: u16) -> Option<String> {
        (code == "invalid_client").then(|| {
            "The client ID or secret is wrong. Check them in your myPOS Account → oAuth Credentials (production and sandbox have separate credentials).".into()
        })
    }

    fn portal_steps(&self) -> &'static str {
        "Generate a new set of oAuth credentials in your myPOS Account, then delete the old set there."
    }
}
