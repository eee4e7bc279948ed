//! Schemas in use: the field builder the provider modules declare their forms with, and
//! the one validation of a new credential's fields and secret values against its schema.

use crate::dto::{Environment, FieldInput, FieldSchema, ProviderSchema};
use crate::error::{Error, Result};
use crate::http::validate_url;
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;

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
            rotates_with_secret: false,
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
    /// Issued anew by the provider together with the secret, as one set: a rotation may
    /// change it (see [`FieldSchema::rotates_with_secret`]; [`clean_identity`] checks it).
    pub(crate) fn rotates_with_secret(mut self) -> Self {
        self.0.rotates_with_secret = true;
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

/// The one check of the non-secret values a rotation brings with its new secret (a new
/// myPOS set: client ID and secret). Each value must be for a field of `schema` marked
/// [`FieldSchema::rotates_with_secret`], and never a URL field (where secrets are sent does
/// not change by rotation, even if a schema marked one); it is trimmed, must not be empty,
/// and must fit the field's length with no control characters. Values equal to the
/// `current` ones are dropped: they change nothing.
///
/// # Errors
/// [`Error::InvalidInput`] naming the field, saying which fields may change instead.
pub(crate) fn clean_identity(
    schema: &ProviderSchema,
    current: &BTreeMap<String, String>,
    given: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>> {
    let rotating: Vec<&str> = schema
        .fields
        .iter()
        .filter(|f| is_identity(f))
        .map(|f| f.name.as_str())
        .collect();
    let instead = || match rotating.as_slice() {
        [] => format!("a {} rotation changes only its secrets", schema.label),
        names => format!(
            "a {} rotation changes only its secrets and {}",
            schema.label,
            names.join(", ")
        ),
    };
    let mut out = BTreeMap::new();
    for (name, value) in given {
        let Some(f) = schema.field(name) else {
            return Err(Error::invalid(
                name.as_str(),
                format!("{} has no field `{name}` ({})", schema.kind, instead()),
            ));
        };
        if f.secret {
            return Err(Error::invalid(
                name.as_str(),
                "is a secret field: give its new value with the new secrets",
            ));
        }
        if f.input == FieldInput::Url {
            return Err(Error::invalid(
                name.as_str(),
                format!(
                    "is a URL: where the secrets are sent never changes in a rotation ({}); edit the credential to change it, confirming the current secrets",
                    instead()
                ),
            ));
        }
        if !is_identity(f) {
            return Err(Error::invalid(
                name.as_str(),
                format!(
                    "does not change in a rotation ({}); edit the credential to change it",
                    instead()
                ),
            ));
        }
        let value = value.trim();
        if value.is_empty() {
            return Err(Error::invalid(
                name.as_str(),
                "is empty: give the new value, or leave the field out to keep the current one",
            ));
        }
        check_value(f, value, schema)?;
        if current.get(name).map(String::as_str) != Some(value) {
            out.insert(name.clone(), value.to_string());
        }
    }
    Ok(out)
}

/// Whether a rotation may change `f`: marked as issued with the secret, not a secret
/// itself, and not a URL.
fn is_identity(f: &FieldSchema) -> bool {
    f.rotates_with_secret && !f.secret && f.input != FieldInput::Url
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
