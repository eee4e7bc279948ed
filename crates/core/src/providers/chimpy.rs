//! Chimpy POS: OAuth2 password grant with a JSON body at `https://{auth_host}/oauth/token`,
//! with `audience`, and refresh tokens when `offline_access` is requested.

use super::{test_url_field, token_url_field, Creds, Field, Provider, ProviderKind};
use crate::dto::{Environment, ProviderSchema};
use crate::error::{Error, Result};
use crate::http::{Body, Request};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use url::Url;

/// This provider's kind.
pub const KIND: ProviderKind = ProviderKind("chimpy");

/// Chimpy POS JWT password grant.
pub struct Chimpy;

impl Provider for Chimpy {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            kind: KIND.to_string(),
            label: "Chimpy POS".into(),
            description: "Chimpy PoS API with JWT access tokens.".into(),
            flow: "OAuth2 password grant, JSON body, refresh tokens".into(),
            environments: vec![Environment::Production, Environment::Sandbox],
            fields: vec![
                Field::text(
                    "auth_host",
                    "Authorization host",
                    "Host name of the Chimpy authorization service (no https://).",
                )
                .required_unless("token_url")
                .build(),
                Field::text("client_id", "Client ID", "AUTH_CLIENT_ID from your Chimpy onboarding.")
                    .required()
                    .build(),
                Field::text("audience", "Audience", "AUTH_AUDIENCE from your Chimpy onboarding.")
                    .required()
                    .build(),
                Field::text("username", "User name", "Your private API user name.")
                    .required()
                    .build(),
                Field::secret("password", "Password", "Your private API password.")
                    .required()
                    .build(),
                Field::boolean(
                    "offline_access",
                    "Use refresh tokens",
                    "Request `offline_access` so the token renews without the password.",
                )
                .build(),
                Field::url(
                    "api_base",
                    "PoS API base URL",
                    "https://{POS_API_URI} from your onboarding.",
                )
                .build(),
                token_url_field().build(),
                test_url_field().build(),
            ],
        }
    }

    fn check(&self, fields: &BTreeMap<String, String>) -> Result<()> {
        if let Some(host) = fields.get("auth_host") {
            let ok =
                !host.contains("://") && !host.contains('/') && url::Url::parse(&format!("https://{host}/")).is_ok();
            if !ok {
                return Err(Error::invalid(
                    "auth_host",
                    format!("`{host}` is not a host name (give it without https:// or a path)"),
                ));
            }
        }
        Ok(())
    }

    /// POST `https://{auth_host}/oauth/token` with a JSON password grant: `client_id`,
    /// `audience`, `username`, `password`, and `scope: offline_access` when refresh tokens
    /// are wanted.
    fn token_request(&self, c: &Creds) -> Result<Request> {
        let mut doc = serde_json::json!({
            "grant_type": "password",
            "client_id": c.require("client_id")?,
            "audience": c.require("audience")?,
            "username": c.require("username")?,
            "password": c.secret("password")?.expose_secret(),
        });
        if c.field("offline_access") == Some("true") {
            doc["scope"] = "offline_access".into();
        }
        json_post(token_url(c)?, doc)
    }

    /// The refresh grant sends `client_id` and `audience` too, as the document shows.
    fn refreshes(&self) -> bool {
        true
    }

    fn refresh_request(&self, c: &Creds, refresh_token: &SecretString) -> Option<Result<Request>> {
        Some((|| {
            let doc = serde_json::json!({
                "grant_type": "refresh_token",
                "client_id": c.require("client_id")?,
                "audience": c.require("audience")?,
                "refresh_token": refresh_token.expose_secret(),
            });
            json_post(token_url(c)?, doc)
        })())
    }

    fn error_hint(&self, code: &str, _status: u16) -> Option<String> {
        (code == "invalid_grant").then(|| {
            "The user name or password was not accepted (or the refresh token expired). Check the private API credentials from your Chimpy onboarding.".into()
        })
    }

    fn portal_steps(&self) -> &'static str {
        "Change the API user's password with Chimpy (your onboarding contact or admin console); the old password stops working at once."
    }
}

fn token_url(c: &Creds) -> Result<Url> {
    match c.url("token_url")? {
        Some(u) => Ok(u),
        None => {
            let host = c.require("auth_host")?;
            crate::providers::validate_url("auth_host", &format!("https://{host}/oauth/token"))
        }
    }
}

fn json_post(url: Url, doc: serde_json::Value) -> Result<Request> {
    let mut req = Request::new(Method::POST, url);
    req.body = Body::Json(SecretString::from(doc.to_string()));
    Ok(req)
}
