//! The provider catalogue. Each provider kind is one module that describes its form
//! ([`ProviderSchema`]); validation of a new credential against that schema lives here,
//! once, for every kind.
//!
//! Adding a provider: write `providers/<name>.rs` with a unit struct implementing
//! [`Provider`], and list it in [`ALL`].

use crate::dto::{Environment, FieldInput, FieldSchema, ProviderSchema};
use crate::error::{Error, Result};
use crate::http::{Body, Request};
use base64::Engine as _;
use reqwest::header::AUTHORIZATION;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::net::IpAddr;
use url::Url;

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

/// A field builder that keeps the provider modules short and readable.
pub(crate) struct Field(FieldSchema);

impl Field {
    fn new(name: &str, label: &str, help: &str, input: FieldInput) -> Self {
        Field(FieldSchema {
            name: name.into(),
            label: label.into(),
            help: help.into(),
            secret: false,
            required: false,
            required_unless: None,
            input,
            choices: Vec::new(),
            max_len: None,
            defaults: BTreeMap::new(),
        })
    }
    /// A text field.
    pub(crate) fn text(name: &str, label: &str, help: &str) -> Self {
        Self::new(name, label, help, FieldInput::Text)
    }
    /// A URL field.
    pub(crate) fn url(name: &str, label: &str, help: &str) -> Self {
        Self::new(name, label, help, FieldInput::Url)
    }
    /// A yes/no field.
    pub(crate) fn boolean(name: &str, label: &str, help: &str) -> Self {
        Self::new(name, label, help, FieldInput::Bool)
    }
    /// A choice among `choices`.
    pub(crate) fn choice(name: &str, label: &str, help: &str, choices: &[&str]) -> Self {
        let mut f = Self::new(name, label, help, FieldInput::Choice);
        f.0.choices = choices.iter().map(|c| c.to_string()).collect();
        f
    }
    /// A secret text field (kept only in the keyring).
    pub(crate) fn secret(name: &str, label: &str, help: &str) -> Self {
        let mut f = Self::text(name, label, help);
        f.0.secret = true;
        f
    }
    pub(crate) fn required(mut self) -> Self {
        self.0.required = true;
        self
    }
    /// Required unless `other` has a value.
    pub(crate) fn required_unless(mut self, other: &str) -> Self {
        self.0.required_unless = Some(other.into());
        self
    }
    pub(crate) fn max_len(mut self, n: u32) -> Self {
        self.0.max_len = Some(n);
        self
    }
    pub(crate) fn default_for(mut self, env: Environment, value: &str) -> Self {
        self.0.defaults.insert(env, value.into());
        self
    }
    pub(crate) fn build(self) -> FieldSchema {
        self.0
    }
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

/// Whether `host` is a loopback address (where plain http is allowed).
pub fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        url::Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// Validates a URL value: absolute, https, or http to loopback only; no credentials in it.
/// Errors show the URL without its user info, query and fragment (they may hold secrets),
/// and an unparseable value not at all.
///
/// # Errors
/// [`Error::InvalidInput`] naming the field and the problem.
pub fn validate_url(field: &str, value: &str) -> Result<url::Url> {
    let url =
        url::Url::parse(value).map_err(|e| Error::invalid(field, format!("is not a valid absolute URL ({e})")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(Error::invalid(field, "the scheme is not supported; use https"));
    }
    let shown = display_url(&url);
    let host = url
        .host()
        .ok_or_else(|| Error::invalid(field, format!("`{shown}` has no host")))?;
    if url.scheme() == "http" && !is_loopback_host(&host) {
        return Err(Error::invalid(
            field,
            format!("`{shown}` uses plain http; Tillkey only sends credentials over https (http is allowed for loopback addresses only)"),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            field,
            "the URL must not contain a user name or password",
        ));
    }
    Ok(url)
}

/// `scheme://host[:port]/path` of a URL: what a message may show.
pub fn display_url(url: &url::Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    shown.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// Validated, normalised field values of a new credential.
#[derive(Debug)]
pub(crate) struct Validated {
    pub environment: Environment,
    pub fields: BTreeMap<String, String>,
}

/// Checks non-secret `fields` and the names of `secret_names` against `schema` for `env`.
/// Secret values are checked for presence and length by the caller after trimming.
pub(crate) fn validate(
    schema: &ProviderSchema,
    env: Option<Environment>,
    fields: &BTreeMap<String, String>,
    secrets: &BTreeMap<String, String>,
) -> Result<Validated> {
    let environment = match env {
        None => schema.environments[0],
        Some(e) if schema.environments.contains(&e) => e,
        Some(e) => {
            let offered = schema
                .environments
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Error::invalid(
                "env",
                format!("{} has no {e} environment (it offers: {offered})", schema.label),
            ));
        }
    };
    let known = || {
        schema
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for name in fields.keys().chain(secrets.keys()) {
        if schema.field(name).is_none() {
            return Err(Error::invalid(
                name.as_str(),
                format!("{} has no field `{name}` (its fields: {})", schema.kind, known()),
            ));
        }
    }
    let mut out = BTreeMap::new();
    for f in &schema.fields {
        if f.secret {
            if fields.contains_key(&f.name) {
                return Err(Error::invalid(
                    f.name.as_str(),
                    "is a secret field: it is read from stdin or a hidden prompt, never from arguments",
                ));
            }
            let value = secrets.get(&f.name).map(String::as_str).unwrap_or("");
            check_value(f, value, schema)?;
            continue;
        }
        let raw = fields.get(&f.name).map(|v| v.trim()).unwrap_or("");
        check_value(f, raw, schema)?;
        if !raw.is_empty() {
            let value = match f.input {
                FieldInput::Url => validate_url(&f.name, raw)?.to_string(),
                FieldInput::Bool => match raw.to_ascii_lowercase().as_str() {
                    "true" | "yes" | "1" => "true".to_string(),
                    "false" | "no" | "0" => "false".to_string(),
                    _ => return Err(Error::invalid(f.name.as_str(), format!("`{raw}` is not true or false"))),
                },
                FieldInput::Choice if !f.choices.iter().any(|c| c == raw) => {
                    return Err(Error::invalid(
                        f.name.as_str(),
                        format!("`{raw}` is not one of: {}", f.choices.join(", ")),
                    ))
                }
                _ => raw.to_string(),
            };
            out.insert(f.name.clone(), value);
        }
    }
    // Conditional requirements: required unless another field has a value (its own or a
    // default of this environment).
    let has = |name: &str| {
        out.contains_key(name)
            || secrets.get(name).is_some_and(|v| !v.is_empty())
            || schema
                .field(name)
                .is_some_and(|f| f.defaults.contains_key(&environment))
    };
    for f in &schema.fields {
        if let Some(other) = &f.required_unless {
            if !has(&f.name) && !has(other) {
                return Err(Error::MissingField {
                    field: f.name.clone(),
                    provider: schema.kind.clone(),
                });
            }
        }
    }
    Ok(Validated {
        environment,
        fields: out,
    })
}

/// The one check of secret values, for add, rotation and any import: each value is
/// trimmed of pasted whitespace (empty ones are dropped), must belong to a secret field of
/// `schema`, and must fit that field's length with no control characters. Checks see a
/// mask of the value, so no secret can reach an error message.
///
/// # Errors
/// [`Error::InvalidInput`] naming the field.
pub(crate) fn clean_secrets(
    schema: &ProviderSchema,
    given: &BTreeMap<String, SecretString>,
) -> Result<BTreeMap<String, SecretString>> {
    let mut out = BTreeMap::new();
    for (name, value) in given {
        let f = schema
            .field(name)
            .filter(|f| f.secret)
            .ok_or_else(|| Error::invalid(name.as_str(), format!("{} has no secret field `{name}`", schema.kind)))?;
        let value = trim_secret(value.expose_secret());
        if value.is_empty() {
            continue;
        }
        let mask: String = value.chars().map(|c| if c.is_control() { c } else { 'x' }).collect();
        check_value(f, &mask, schema)?;
        out.insert(name.clone(), SecretString::from(value));
    }
    Ok(out)
}

/// Presence (required and no default) and length checks shared by secret and plain fields.
fn check_value(f: &FieldSchema, value: &str, schema: &ProviderSchema) -> Result<()> {
    if value.is_empty() {
        if f.required && f.defaults.is_empty() {
            return Err(Error::MissingField {
                field: f.name.clone(),
                provider: schema.kind.clone(),
            });
        }
        return Ok(());
    }
    if let Some(max) = f.max_len {
        let n = value.chars().count();
        if n > max as usize {
            return Err(Error::invalid(
                f.name.as_str(),
                format!("is {n} characters long; {} allows at most {max}", schema.label),
            ));
        }
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid(f.name.as_str(), "contains control characters"));
    }
    Ok(())
}

/// Trims a pasted secret of surrounding spaces, tabs and CR/LF (a provider quirk: pasted
/// tokens often carry a trailing newline).
pub fn trim_secret(s: &str) -> &str {
    s.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\r' || c == '\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_unique_fields_and_an_environment() {
        for s in schemas() {
            assert!(!s.environments.is_empty(), "{} has no environment", s.kind);
            let mut names: Vec<_> = s.fields.iter().map(|f| &f.name).collect();
            names.sort();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len(), "{} repeats a field", s.kind);
            assert!(s.field("test_url").is_some(), "{} lacks test_url", s.kind);
        }
    }

    #[test]
    fn urls_must_be_https_except_loopback() {
        assert!(validate_url("u", "https://pos.paysera.com/eapi/v1").is_ok());
        assert!(validate_url("u", "http://127.0.0.1:8080/x").is_ok());
        assert!(validate_url("u", "http://[::1]:8080/x").is_ok());
        assert!(validate_url("u", "http://localhost/x").is_ok());
        let e = validate_url("u", "http://example.com/x").unwrap_err();
        assert!(e.to_string().contains("plain http"), "{e}");
        assert!(validate_url("u", "ftp://example.com").is_err());
        assert!(validate_url("u", "not a url").is_err());
        assert!(validate_url("u", "https://user:pw@example.com").is_err());
        for leaky in [
            "http://user:SECRET@example.com/t",
            "http://example.com/t?access_token=SECRET",
            "ftp://u:SECRET@example.com",
            "javascript:SECRET",
            "SECRET not a url",
        ] {
            let e = validate_url("u", leaky).unwrap_err().to_string();
            assert!(!e.contains("SECRET"), "{e}");
        }
    }

    #[test]
    fn secrets_are_trimmed_of_whitespace_and_newlines() {
        assert_eq!(trim_secret("  abc\r\n"), "abc");
        assert_eq!(trim_secret("a b"), "a b");
    }

    #[test]
    fn unknown_provider_lists_known_ones() {
        let e = schema("nope").unwrap_err();
        assert_eq!(e.code(), "unknown_provider");
        assert!(e.to_string().contains("paysera-pos"));
    }

    #[test]
    fn secret_field_in_plain_fields_is_refused() {
        let s = schema("bearer").unwrap();
        let mut fields = BTreeMap::new();
        fields.insert("token".to_string(), "abc".to_string());
        let e = validate(&s, None, &fields, &BTreeMap::new()).unwrap_err();
        assert!(e.to_string().contains("secret field"), "{e}");
    }

    #[test]
    fn ereceipt_lengths_are_enforced() {
        let s = schema("ereceipt").unwrap();
        let mut fields = BTreeMap::new();
        fields.insert("identity_url".into(), "https://id.example".into());
        fields.insert("client_id".into(), "c".into());
        fields.insert("posserial".into(), "1".repeat(101));
        fields.insert("pososversion".into(), "os".into());
        fields.insert("posmodelframework".into(), "1".into());
        let mut secrets = BTreeMap::new();
        secrets.insert("client_secret".into(), "s".into());
        secrets.insert("presharedkey".into(), "k".into());
        let e = validate(&s, None, &fields, &secrets).unwrap_err();
        assert!(e.to_string().contains("at most 100"), "{e}");
    }

    #[test]
    fn environment_must_be_offered() {
        let s = schema("paysera-checkout").unwrap();
        let mut secrets = BTreeMap::new();
        secrets.insert("client_secret".into(), "s".into());
        let mut fields = BTreeMap::new();
        fields.insert("client_id".into(), "c".into());
        let e = validate(&s, Some(Environment::Sandbox), &fields, &secrets).unwrap_err();
        assert!(e.to_string().contains("no sandbox environment"), "{e}");
    }
}
