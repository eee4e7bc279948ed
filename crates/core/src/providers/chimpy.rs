//! Chimpy POS: OAuth2 password grant with a JSON body at `https://{auth_host}/oauth/token`,
//! with `audience`, and refresh tokens when `offline_access` is requested.

use super::{require_unless_token_url, test_url_field, token_url_field, Field, Provider};
use crate::dto::{Environment, ProviderSchema};
use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// Chimpy POS JWT password grant.
pub struct Chimpy;

impl Provider for Chimpy {
    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            kind: "chimpy".into(),
            label: "Chimpy POS".into(),
            description: "Chimpy PoS API with JWT access tokens.".into(),
            flow: "OAuth2 password grant, JSON body, refresh tokens".into(),
            environments: vec![Environment::Production, Environment::Sandbox],
            fields: vec![
                Field::text("auth_host", "Authorization host", "Host name of the Chimpy authorization service (no https://).").build(),
                Field::text("client_id", "Client ID", "AUTH_CLIENT_ID from your Chimpy onboarding.").required().build(),
                Field::text("audience", "Audience", "AUTH_AUDIENCE from your Chimpy onboarding.").required().build(),
                Field::text("username", "User name", "Your private API user name.").required().build(),
                Field::secret("password", "Password", "Your private API password.").required().build(),
                Field::boolean("offline_access", "Use refresh tokens", "Request `offline_access` so the token renews without the password.").build(),
                Field::url("api_base", "PoS API base URL", "https://{POS_API_URI} from your onboarding.").build(),
                token_url_field().build(),
                test_url_field().build(),
            ],
        }
    }

    fn check(&self, fields: &BTreeMap<String, String>) -> Result<()> {
        if let Some(host) = fields.get("auth_host") {
            let ok = !host.contains("://")
                && !host.contains('/')
                && url::Url::parse(&format!("https://{host}/")).is_ok();
            if !ok {
                return Err(Error::invalid(
                    "auth_host",
                    format!("`{host}` is not a host name (give it without https:// or a path)"),
                ));
            }
        }
        require_unless_token_url("chimpy", "auth_host", fields)
    }
}
