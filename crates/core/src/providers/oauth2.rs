//! Generic OAuth2 client credentials (RFC 6749 §4.4) with `client_secret_post` or
//! `client_secret_basic`, optional audience, and RFC 7009 revocation.

use super::{form_post, test_url_field, token_url_field, ClientAuth, Creds, Field, Provider, ProviderKind};
use crate::dto::{Environment, ProviderSchema};
use crate::error::{Error, Result};
use crate::http::{Body, Request};
use reqwest::header::HeaderName;
use secrecy::SecretString;
use std::collections::BTreeMap;

/// This provider's kind.
pub const KIND: ProviderKind = ProviderKind("oauth2");

/// Any standards-compliant OAuth2 server.
pub struct OAuth2;

impl Provider for OAuth2 {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            kind: KIND.to_string(),
            label: "Generic OAuth2".into(),
            description: "Any OAuth2 server with the client credentials grant.".into(),
            flow: "OAuth2 client credentials (post or basic)".into(),
            environments: vec![Environment::Production, Environment::Sandbox],
            fields: vec![
                token_url_field().required().build(),
                Field::text("client_id", "Client ID", "From the provider's developer console.")
                    .required()
                    .build(),
                Field::secret(
                    "client_secret",
                    "Client secret",
                    "From the provider's developer console.",
                )
                .required()
                .build(),
                Field::choice(
                    "auth_method",
                    "Client authentication",
                    "`post`: credentials in the body; `basic`: HTTP Basic.",
                    &["post", "basic"],
                )
                .default_for(Environment::Production, "post")
                .default_for(Environment::Sandbox, "post")
                .build(),
                Field::text("scope", "Scope", "Space-separated scopes, if the server wants them.").build(),
                Field::text("audience", "Audience", "Sent as `audience` when set.").build(),
                Field::url(
                    "revoke_url",
                    "Revoke URL",
                    "RFC 7009 revocation endpoint, if the server has one.",
                )
                .build(),
                Field::text(
                    "extra_headers",
                    "Extra token-request headers",
                    "`Name: value` pairs separated by `;`.",
                )
                .build(),
                test_url_field().build(),
            ],
        }
    }

    fn check(&self, fields: &BTreeMap<String, String>) -> Result<()> {
        extra_headers(fields.get("extra_headers").map(String::as_str)).map(|_| ())
    }

    /// RFC 6749 §4.4 with client_secret_post or client_secret_basic (§2.3.1 encoding).
    fn token_request(&self, c: &Creds) -> Result<Request> {
        let url = c.require_url("token_url")?;
        let mut req = form_post(
            url,
            c.require("client_id")?,
            c.secret("client_secret")?,
            auth(c),
            &[
                ("grant_type", Some("client_credentials")),
                ("scope", c.field("scope")),
                ("audience", c.field("audience")),
            ],
        );
        for (name, value) in extra_headers(c.field("extra_headers"))? {
            req = req.header(name, SecretString::from(value));
        }
        Ok(req)
    }

    /// RFC 7009: POST `token` and `token_type_hint=access_token` with the client's
    /// authentication.
    fn revoke_request(&self, c: &Creds, token: &SecretString) -> Option<Result<Request>> {
        let url = match c.url("revoke_url") {
            Ok(Some(u)) => u,
            Ok(None) => return None,
            Err(e) => return Some(Err(e)),
        };
        Some((|| {
            let mut req = form_post(url, c.require("client_id")?, c.secret("client_secret")?, auth(c), &[]);
            if let Body::Form(pairs) = &mut req.body {
                pairs.push(("token".into(), token.clone()));
                pairs.push(("token_type_hint".into(), SecretString::from("access_token")));
            }
            Ok(req)
        })())
    }

    fn portal_steps(&self) -> &'static str {
        "Create a new client secret in the provider's developer console, then delete the old one there."
    }
}

fn auth(c: &Creds) -> ClientAuth {
    if c.field("auth_method") == Some("basic") {
        ClientAuth::BasicRfc
    } else {
        ClientAuth::Body
    }
}

/// The one parser of `extra_headers`: `Name: value` pairs separated by `;` (empty pairs
/// skipped), with names that are valid HTTP header names. Used to check the field when
/// it is saved and to build the token request.
///
/// # Errors
/// [`Error::InvalidInput`] naming the pair that is not `Name: value`.
fn extra_headers(text: Option<&str>) -> Result<Vec<(HeaderName, String)>> {
    text.unwrap_or("")
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let bad = || Error::invalid("extra_headers", format!("`{pair}` is not `Name: value`"));
            let (name, value) = pair.split_once(':').ok_or_else(bad)?;
            let name = name.trim();
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(bad());
            }
            let name = HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()).map_err(|_| bad())?;
            Ok((name, value.trim().to_string()))
        })
        .collect()
}
