//! eReceipt POS authentication: OAuth2 client credentials at `{identity_url}/connect/token`
//! plus the POS headers `posserial`, `pososversion`, `posmodelframework`, `presharedkey`.

use super::{form_post, test_url_field, token_url_field, ClientAuth, Creds, Field, Provider, ProviderKind};
use crate::dto::{Environment, ProviderSchema};
use crate::error::Result;
use crate::http::Request;
use reqwest::header::HeaderName;
use secrecy::SecretString;

/// This provider's kind.
pub const KIND: ProviderKind = ProviderKind("ereceipt");

/// eReceipt POS authentication.
pub struct EReceipt;

impl Provider for EReceipt {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            kind: KIND.to_string(),
            label: "eReceipt POS".into(),
            description: "eReceipt solution APIs for taxpayer POS systems.".into(),
            flow: "OAuth2 client credentials + POS headers".into(),
            environments: vec![Environment::Production, Environment::Sandbox],
            fields: vec![
                Field::url(
                    "identity_url",
                    "Identity service URL",
                    "Base address of the eReceipt identity service (not the API host).",
                )
                .required_unless("token_url")
                .build(),
                Field::text("client_id", "Client ID", "Issued with your POS system registration.")
                    .required()
                    .max_len(100)
                    .build(),
                Field::secret(
                    "client_secret",
                    "Client secret",
                    "Issued with your POS system registration.",
                )
                .required()
                .max_len(100)
                .build(),
                Field::text(
                    "posserial",
                    "POS serial number",
                    "The POS serial number registered for this taxpayer.",
                )
                .required()
                .max_len(100)
                .build(),
                Field::text(
                    "pososversion",
                    "POS OS version",
                    "The POS version number as registered.",
                )
                .required()
                .max_len(50)
                .build(),
                Field::text(
                    "posmodelframework",
                    "POS model framework",
                    "The POS model framework number as registered.",
                )
                .required()
                .max_len(10)
                .build(),
                Field::secret(
                    "presharedkey",
                    "Pre-shared key",
                    "The POS pre-shared key from your registration.",
                )
                .required()
                .max_len(200)
                .build(),
                Field::text("scope", "Scope", "Optional, e.g. InvoicingAPI.")
                    .max_len(200)
                    .build(),
                token_url_field().build(),
                test_url_field().build(),
            ],
        }
    }

    /// POST `{identity_url}/connect/token` with the four POS headers and
    /// `grant_type=client_credentials`, `client_id`, `client_secret` in the body.
    fn token_request(&self, c: &Creds) -> Result<Request> {
        let url = match c.url("token_url")? {
            Some(u) => u,
            None => {
                let base = c.require_url("identity_url")?;
                let joined = format!("{}/connect/token", base.as_str().trim_end_matches('/'));
                crate::providers::validate_url("identity_url", &joined)?
            }
        };
        let mut req = form_post(
            url,
            c.require("client_id")?,
            c.secret("client_secret")?,
            ClientAuth::Body,
            &[("grant_type", Some("client_credentials")), ("scope", c.field("scope"))],
        );
        for h in ["posserial", "pososversion", "posmodelframework"] {
            req = req.header(HeaderName::from_static(h), SecretString::from(c.require(h)?));
        }
        Ok(req.header(
            HeaderName::from_static("presharedkey"),
            c.secret("presharedkey")?.clone(),
        ))
    }

    fn error_hint(&self, code: &str, _status: u16) -> Option<String> {
        Some(match code {
            "invalid_posserial" => "The POS serial number does not match the registration (at most 100 characters).",
            "invalid_pososversion" => "The POS OS version does not match the registration (at most 50 characters).",
            "invalid_posmodelframework" => "The POS model framework does not match the registration (at most 10 characters).",
            "invalid_presharedkey" => "The pre-shared key is wrong for this POS (at most 200 characters). Copy it again from the registration.",
            "invalid_clientsecret" => "The client secret is wrong. Copy it again from the POS system registration.",
            "unauthorized_client" => "The client ID is unknown, or the system user registered for the taxpayer is blocked or expired.",
            _ => return None,
        }
        .to_string())
    }

    fn portal_steps(&self) -> &'static str {
        "Ask for a new client secret (or pre-shared key) through your eReceipt POS system registration, then have the old one withdrawn there."
    }

    fn reads_taxpayer_tags(&self) -> bool {
        true
    }
}
