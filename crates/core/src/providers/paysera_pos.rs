//! Paysera POS: a Personal Access Token sent as `Authorization: Bearer`, with
//! `Accept: application/json`. PATs cannot be refreshed; only the portal revokes them.

use super::{test_url_field, Creds, Field, Provider, ProviderKind};
use crate::dto::{Environment, ProviderSchema};
use crate::error::{Error, Result};
use crate::http::Request;
use reqwest::Method;
use secrecy::SecretString;

/// This provider's kind.
pub const KIND: ProviderKind = ProviderKind("paysera-pos");

/// Paysera POS personal access token.
pub struct PayseraPos;

/// Production API base.
pub const PRODUCTION_API_BASE: &str = "https://pos.paysera.com/eapi/v1";
/// Demo (sandbox) API base.
pub const DEMO_API_BASE: &str = "https://pos-demo.paysera.com/eapi/v1";

impl Provider for PayseraPos {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            kind: KIND.to_string(),
            label: "Paysera POS".into(),
            description: "Paysera POS API with a Personal Access Token.".into(),
            flow: "Personal Access Token, Bearer".into(),
            environments: vec![Environment::Production, Environment::Sandbox],
            fields: vec![
                Field::secret(
                    "token",
                    "Personal Access Token",
                    "pos.paysera.com → User Settings (/user/settings) → Personal Access Tokens → Generate New Token. Shown only once.",
                )
                .required()
                .build(),
                Field::url("api_base", "API base URL", "Production pos.paysera.com, demo pos-demo.paysera.com.")
                    .default_for(Environment::Production, PRODUCTION_API_BASE)
                    .default_for(Environment::Sandbox, DEMO_API_BASE)
                    .build(),
                test_url_field().build(),
            ],
        }
    }

    fn static_token_field(&self) -> Option<&'static str> {
        Some("token")
    }

    /// The document's own check: GET `{api_base}/orders?page=1&per_page=1`, with
    /// `Accept: application/json`.
    fn test_request(&self, c: &Creds, token: &SecretString) -> Result<Option<Request>> {
        let url = match c.url("test_url")? {
            Some(u) => u,
            None => {
                let base = c.require_url("api_base")?;
                let mut u = base.clone();
                u.path_segments_mut()
                    .map_err(|_| Error::invalid("api_base", "cannot take a path"))?
                    .pop_if_empty()
                    .push("orders");
                u.query_pairs_mut()
                    .append_pair("page", "1")
                    .append_pair("per_page", "1");
                u
            }
        };
        Ok(Some(Request::new(Method::GET, url).bearer(token).accept_json()))
    }

    fn error_hint(&self, code: &str, _status: u16) -> Option<String> {
        Some(match code {
            "AUTH001" => "No Authorization header reached the API. A proxy may be stripping it; Tillkey always sends one.".into(),
            "AUTH002" | "invalid_token" => format!(
                "The personal access token is invalid, expired or revoked, and cannot be refreshed. {} Then run `tillkey rotate NAME` with the new token.",
                self.portal_steps()
            ),
            "AUTH003" | "forbidden" => "The credential works, but its user lacks permission for this resource. Ask your POS administrator to grant it (tokens inherit the permissions of the user who made them).".into(),
            _ => return None,
        })
    }

    fn portal_steps(&self) -> &'static str {
        "Generate a new token: log in at pos.paysera.com (demo: pos-demo.paysera.com) → User Settings (/user/settings) → Personal Access Tokens → Generate New Token, and copy it at once (it is shown only once). Revoke the old one in the same list (Revoke or Delete)."
    }
}
