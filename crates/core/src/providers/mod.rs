//! The provider catalogue. Each provider kind is one module that describes its form
//! ([`ProviderSchema`]); validation of a new credential against that schema lives here,
//! once, for every kind.
//!
//! Adding a provider: write `providers/<name>.rs` with a unit struct implementing
//! [`Provider`], and list it in [`ALL`].

use crate::dto::{Environment, ProviderSchema};
use crate::error::{Error, Result};
use crate::http::{Body, Request};
use base64::Engine as _;
use reqwest::header::AUTHORIZATION;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use url::Url;

mod schema;

pub use crate::http::{display_url, is_loopback_host, validate_url};
pub use schema::trim_secret;
pub(crate) use schema::{clean_identity, clean_secrets, validate, Field};

pub mod bearer;
pub mod chimpy;
pub mod ereceipt;
pub mod mypos;
pub mod oauth2;
pub mod paysera_checkout;
pub mod paysera_pos;

/// A provider kind's id (`mypos`, `paysera-pos`, …): the name the CLI, the metadata file
/// and the UI use. Each provider module defines its `KIND`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProviderKind(pub &'static str);

impl ProviderKind {
    /// The id as text.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// A provider kind.
pub trait Provider: Send + Sync {
    /// Its id.
    fn kind(&self) -> ProviderKind;

    /// Its form: fields, environments, defaults.
    fn schema(&self) -> ProviderSchema;

    /// Whether it renews access tokens with refresh tokens (then [`Provider::refresh_request`]
    /// builds the request).
    fn refreshes(&self) -> bool {
        false
    }

    /// Cross-field rules the schema cannot express (e.g. "`identity_url` unless
    /// `token_url` is set"), run on validated non-secret fields.
    ///
    /// # Errors
    /// [`Error::MissingField`] or [`Error::InvalidInput`].
    fn check(&self, fields: &BTreeMap<String, String>) -> Result<()> {
        let _ = fields;
        Ok(())
    }

    /// For kinds whose secret *is* the access token (personal access tokens, static
    /// bearer tokens): the secret field that holds it. Such tokens are never requested.
    fn static_token_field(&self) -> Option<&'static str> {
        None
    }

    /// The request that obtains a fresh access token.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for static-token kinds; field errors.
    fn token_request(&self, c: &Creds) -> Result<Request> {
        let _ = c;
        Err(Error::Unsupported(format!(
            "{} uses a static token; there is nothing to request",
            self.schema().label
        )))
    }

    /// The request that renews an access token with `refresh_token`, for kinds that use
    /// refresh tokens.
    fn refresh_request(&self, c: &Creds, refresh_token: &SecretString) -> Option<Result<Request>> {
        let _ = (c, refresh_token);
        None
    }

    /// The request that revokes `token` at the provider, where it has an endpoint.
    fn revoke_request(&self, c: &Creds, token: &SecretString) -> Option<Result<Request>> {
        let _ = (c, token);
        None
    }

    /// The API call of the connectivity test with `token`; `None` when there is none to
    /// make (no documented endpoint and no `test_url`). Default: GET `test_url`.
    ///
    /// # Errors
    /// Field errors.
    fn test_request(&self, c: &Creds, token: &SecretString) -> Result<Option<Request>> {
        Ok(c.url("test_url")?.map(|u| Request::new(Method::GET, u).bearer(token)))
    }

    /// A provider-specific hint for an error `code` (or HTTP `status`).
    fn error_hint(&self, code: &str, status: u16) -> Option<String> {
        let _ = (code, status);
        None
    }

    /// Where in the provider's portal a merchant makes a new secret and retires the old.
    fn portal_steps(&self) -> &'static str;

    /// Whether access tokens carry eReceipt taxpayer tags worth showing.
    fn reads_taxpayer_tags(&self) -> bool {
        false
    }
}

/// A credential's values as its flows need them: fields with the environment's defaults
/// applied, and its secret values. No `Debug`: it holds secrets.
pub struct Creds {
    /// The provider kind.
    pub kind: ProviderKind,
    /// Credential name.
    pub name: String,
    /// Environment.
    pub environment: Environment,
    /// Effective non-secret fields (stored values over environment defaults).
    pub fields: BTreeMap<String, String>,
    /// Secret values by field.
    pub secrets: BTreeMap<String, SecretString>,
}

impl Creds {
    /// Builds the effective fields of a stored credential of `provider`.
    pub fn new(
        provider: &dyn Provider,
        name: &str,
        environment: Environment,
        stored: &BTreeMap<String, String>,
        secrets: BTreeMap<String, SecretString>,
    ) -> Self {
        let mut fields: BTreeMap<String, String> = provider
            .schema()
            .fields
            .iter()
            .filter_map(|f| f.defaults.get(&environment).map(|d| (f.name.clone(), d.clone())))
            .collect();
        fields.extend(stored.iter().map(|(k, v)| (k.clone(), v.clone())));
        Self {
            kind: provider.kind(),
            name: name.into(),
            environment,
            fields,
            secrets,
        }
    }

    /// A non-secret field's value.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// A required non-secret field.
    ///
    /// # Errors
    /// [`Error::MissingField`].
    pub fn require(&self, name: &str) -> Result<&str> {
        self.field(name).ok_or_else(|| Error::MissingField {
            field: name.into(),
            provider: self.kind.to_string(),
        })
    }

    /// A secret field's value.
    ///
    /// # Errors
    /// [`Error::SecretMissing`].
    pub fn secret(&self, name: &str) -> Result<&SecretString> {
        self.secrets.get(name).ok_or_else(|| Error::SecretMissing {
            credential: self.name.clone(),
            field: name.into(),
        })
    }

    /// A scrubber for provider text about this credential: every secret value, and the
    /// HTTP Basic forms built with its `client_id`.
    pub fn scrubber(&self) -> crate::scrub::Scrubber {
        crate::scrub::Scrubber::new(self.secrets.values(), self.field("client_id"))
    }

    /// A required URL field, checked (https, or http to loopback).
    ///
    /// # Errors
    /// [`Error::MissingField`], [`Error::InvalidInput`].
    pub fn require_url(&self, name: &str) -> Result<Url> {
        self.url(name)?.ok_or_else(|| Error::MissingField {
            field: name.into(),
            provider: self.kind.to_string(),
        })
    }

    /// A URL field, checked (https, or http to loopback).
    ///
    /// # Errors
    /// [`Error::InvalidInput`].
    pub fn url(&self, name: &str) -> Result<Option<Url>> {
        self.field(name).map(|v| validate_url(name, v)).transpose()
    }
}

/// How a client authenticates at a token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    /// `client_id` and `client_secret` in the form body (client_secret_post).
    Body,
    /// HTTP Basic with `id:secret` joined as they are (myPOS's examples).
    BasicRaw,
    /// HTTP Basic with both parts form-urlencoded first (RFC 6749 §2.3.1).
    BasicRfc,
}

/// `Basic base64(id:secret)`.
pub(crate) fn basic(id: &str, secret: &SecretString, rfc: bool) -> SecretString {
    let enc = |s: &str| -> String {
        if rfc {
            url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
        } else {
            s.to_string()
        }
    };
    let joined = format!("{}:{}", enc(id), enc(secret.expose_secret()));
    SecretString::from(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(joined)
    ))
}

/// A form-encoded POST to `url` with client authentication and `params` (empty values
/// are left out).
pub(crate) fn form_post(
    url: Url,
    client_id: &str,
    secret: &SecretString,
    auth: ClientAuth,
    params: &[(&str, Option<&str>)],
) -> Request {
    let mut form: Vec<(String, SecretString)> = params
        .iter()
        .filter_map(|(k, v)| {
            v.filter(|v| !v.is_empty())
                .map(|v| (k.to_string(), SecretString::from(v)))
        })
        .collect();
    let mut req = Request::new(Method::POST, url);
    match auth {
        ClientAuth::Body => {
            form.push(("client_id".into(), SecretString::from(client_id)));
            form.push(("client_secret".into(), secret.clone()));
        }
        ClientAuth::BasicRaw | ClientAuth::BasicRfc => {
            req = req.header(AUTHORIZATION, basic(client_id, secret, auth == ClientAuth::BasicRfc));
        }
    }
    req.body = Body::Form(form);
    req
}

/// The provider of `kind`.
///
/// # Errors
/// [`Error::UnknownProvider`] listing the known kinds.
pub fn find(kind: &str) -> Result<&'static dyn Provider> {
    ALL.iter()
        .copied()
        .find(|p| p.kind().as_str() == kind)
        .ok_or_else(|| Error::UnknownProvider {
            kind: kind.to_string(),
            known: ALL.iter().map(|p| p.kind().as_str()).collect::<Vec<_>>().join(", "),
        })
}

/// Every provider kind Tillkey knows, in the order the UI offers them.
pub static ALL: &[&dyn Provider] = &[
    &paysera_pos::PayseraPos,
    &paysera_checkout::PayseraCheckout,
    &mypos::MyPos,
    &ereceipt::EReceipt,
    &chimpy::Chimpy,
    &oauth2::OAuth2,
    &bearer::Bearer,
];

/// The schema of every kind.
pub fn schemas() -> Vec<ProviderSchema> {
    ALL.iter().map(|p| p.schema()).collect()
}

/// The schema of `kind`.
///
/// # Errors
/// [`Error::UnknownProvider`] listing the known kinds.
pub fn schema(kind: &str) -> Result<ProviderSchema> {
    find(kind).map(|p| p.schema())
}

/// `test_url`, which every kind accepts.
pub(crate) fn test_url_field() -> Field {
    Field::url(
        "test_url",
        "Connectivity test URL",
        "Full URL the connectivity test calls; overrides the environment default.",
    )
}

/// `token_url`, which every OAuth2 kind accepts.
pub(crate) fn token_url_field() -> Field {
    Field::url(
        "token_url",
        "Token URL",
        "Full URL of the token endpoint; overrides the environment default.",
    )
}

#[cfg(test)]
mod tests;
