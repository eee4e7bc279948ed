//! Data shapes shared with the front ends. Every type here is exported to TypeScript
//! (`ui/src/bindings/`) by ts-rs when `cargo test -p tillkey-core` runs.
//!
//! Only [`NewCredential`] and [`CredentialEdit`] (its re-typed `current_secrets`) carry
//! secret values, and only inbound (UI/CLI → core): they deserialize but never serialize,
//! and their secrets are [`SecretString`]s whose `Debug` output is redacted.

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use ts_rs::TS;

/// A provider environment. Paysera POS calls its sandbox "demo"; `demo` parses as sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Environment {
    /// Live credentials against the provider's production hosts.
    Production,
    /// The provider's test environment (sandbox, demo).
    #[serde(alias = "demo")]
    Sandbox,
}

impl Environment {
    /// The name used in the metadata file, the CLI and the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Sandbox => "sandbox",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Environment {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "production" | "prod" => Ok(Environment::Production),
            "sandbox" | "demo" | "test" => Ok(Environment::Sandbox),
            other => Err(crate::Error::InvalidInput {
                field: "env".into(),
                reason: format!("`{other}` is not an environment; use production or sandbox"),
            }),
        }
    }
}

/// How a field is entered and validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum FieldInput {
    /// Free text (trimmed).
    Text,
    /// An absolute URL: https, or http only to a loopback address.
    Url,
    /// `true` or `false`.
    Bool,
    /// One of [`FieldSchema::choices`].
    Choice,
}

/// One field of a provider's credential form. The CLI and the UI forms are generated from it.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct FieldSchema {
    /// Field name: a contract shared by CLI flags, UI forms and tests (`client_id`, `token`, …).
    pub name: String,
    /// Human label for forms.
    pub label: String,
    /// Where to find the value in the provider's portal, or what it means.
    pub help: String,
    /// Secret fields live only in the OS keyring and are never shown or logged.
    pub secret: bool,
    /// Whether a value is required (after environment defaults apply).
    pub required: bool,
    /// Required unless the field named here has a value (eReceipt's `identity_url` and
    /// Chimpy's `auth_host` are not needed once `token_url` is set).
    #[serde(default)]
    pub required_unless: Option<String>,
    /// How the value is entered and validated.
    pub input: FieldInput,
    /// Allowed values for [`FieldInput::Choice`].
    pub choices: Vec<String>,
    /// Maximum length in characters, where the provider documents one.
    pub max_len: Option<u32>,
    /// Default value per environment.
    pub defaults: BTreeMap<Environment, String>,
    /// A non-secret field the provider issues anew together with the secret, as one set
    /// (myPOS `client_id`: its portal generates a new client ID and secret). A rotation may
    /// change these fields, and no other non-secret field, along with the new secret; the
    /// old token is then revoked with the old set. Never set on a URL field.
    #[serde(default)]
    pub rotates_with_secret: bool,
}

/// A provider kind and the form to add one of its credentials.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ProviderSchema {
    /// Stable kind id (`paysera-pos`, `mypos`, …).
    pub kind: String,
    /// Display name.
    pub label: String,
    /// One sentence: what it is.
    pub description: String,
    /// The auth flow in a few words ("OAuth2 client credentials, HTTP Basic").
    pub flow: String,
    /// Environments this kind offers, the default first.
    pub environments: Vec<Environment>,
    /// Fields in form order.
    pub fields: Vec<FieldSchema>,
}

impl ProviderSchema {
    /// The field called `name`, if this kind has one.
    pub fn field(&self, name: &str) -> Option<&FieldSchema> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A credential to add, as the merchant typed it. Inbound only: it has no `Serialize`.
#[derive(Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct NewCredential {
    /// Unique name within the vault (letters, digits, `.`, `_`, `-`; at most 64).
    pub name: String,
    /// Provider kind.
    pub provider: String,
    /// Environment; `None` takes the kind's first (default) environment.
    #[serde(default)]
    pub environment: Option<Environment>,
    /// Non-secret field values.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Secret field values (trimmed of spaces and CR/LF before storing).
    #[serde(default)]
    #[ts(type = "Record<string, string>")]
    pub secrets: BTreeMap<String, SecretString>,
}

impl fmt::Debug for NewCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewCredential")
            .field("name", &self.name)
            .field("provider", &self.provider)
            .field("environment", &self.environment)
            .field("fields", &self.fields)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Where a credential stands against its rotation period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum RotationStatus {
    /// Not due within the reminder lead time.
    Ok,
    /// Due within the reminder lead time.
    DueSoon,
    /// Past its rotation date.
    Overdue,
}

/// Rotation status with the numbers behind it.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RotationInfo {
    /// ok, due soon or overdue.
    pub status: RotationStatus,
    /// When rotation is due (last rotated + period).
    pub due_at: DateTime<Utc>,
    /// Whole days until due; negative when overdue.
    #[ts(type = "number")]
    pub days_left: i64,
}

/// What the front ends show of a credential. Holds no secret values.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CredentialSummary {
    /// Stable id (UUID), also part of its keyring entry names.
    pub id: String,
    /// Unique name within the vault.
    pub name: String,
    /// Provider kind.
    pub provider: String,
    /// Provider display name.
    pub provider_label: String,
    /// Environment.
    pub environment: Environment,
    /// Non-secret field values as stored.
    pub fields: BTreeMap<String, String>,
    /// Names of the secret fields held in the keyring (never their values).
    pub secret_fields: Vec<String>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When its oldest long-lived secret field was set (the add date until the first
    /// rotation; with one secret field, when it was last rotated).
    pub rotated_at: DateTime<Utc>,
    /// Rotation period in days (default 90).
    pub rotation_period_days: u32,
    /// Rotation status now (it follows the oldest long-lived secret field).
    pub rotation: RotationInfo,
    /// The age of each secret field and of the refresh token, where one is held.
    pub secret_ages: Vec<crate::vault::age::SecretAge>,
    /// The cached access token, if any (expiry only; the token stays in the keyring).
    pub token: Option<TokenInfo>,
    /// The last connectivity test.
    pub last_test: Option<TestReport>,
}

/// What is known of a cached access token. Never the token itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TokenInfo {
    /// When it was obtained.
    pub obtained_at: DateTime<Utc>,
    /// When it expires (from `expires_in` or the JWT `exp`, whichever is sooner).
    pub expires_at: DateTime<Utc>,
    /// When Tillkey stops using it (expiry minus the safety buffer).
    pub renew_at: DateTime<Utc>,
    /// Whether a refresh token is held for it.
    pub refreshable: bool,
    /// Granted scope, if the provider said.
    pub scope: Option<String>,
    /// eReceipt taxpayer tags read from the token (`B2B`, `B2C`).
    pub taxpayer_tags: Option<Vec<String>>,
}

/// A stage of the connectivity test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum Stage {
    /// Reading the credential from its vault (keyring or team engine); shown only when
    /// that failed.
    Vault,
    /// DNS, TCP connect and TLS handshake on a fresh connection.
    Connect,
    /// The token request.
    Token,
    /// The API call with the token.
    Api,
}

/// Rate-limit headers of a response. Paysera's `X-RateLimit-Reset` is seconds until the
/// window resets, not a timestamp.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RateLimit {
    /// `X-RateLimit-Limit`.
    #[ts(type = "number | null")]
    pub limit: Option<u64>,
    /// `X-RateLimit-Remaining`.
    #[ts(type = "number | null")]
    pub remaining: Option<u64>,
    /// `X-RateLimit-Reset`: seconds until the window resets.
    #[ts(type = "number | null")]
    pub reset_secs: Option<u64>,
    /// `Retry-After` (seconds form).
    #[ts(type = "number | null")]
    pub retry_after_secs: Option<u64>,
}

/// One stage's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct StageResult {
    /// Which stage.
    pub stage: Stage,
    /// Whether it passed.
    pub ok: bool,
    /// Host and path it went to (never a query string).
    pub target: String,
    /// Milliseconds it took.
    #[ts(type = "number")]
    pub latency_ms: u64,
    /// HTTP status, for HTTP stages that got an answer.
    pub status: Option<u16>,
    /// Provider error code (or our own code for local failures).
    pub code: Option<String>,
    /// What happened, in plain words.
    pub message: String,
    /// What to do about a failure.
    pub hint: Option<String>,
    /// Rate-limit headers of the response.
    pub rate_limit: Option<RateLimit>,
}

/// A connectivity test of one credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TestReport {
    /// Credential name.
    pub credential: String,
    /// Provider kind.
    pub provider: String,
    /// Whether every stage passed.
    pub ok: bool,
    /// When it ran.
    pub tested_at: DateTime<Utc>,
    /// One line for lists ("token and API call ok", "invalid_client: …").
    pub summary: String,
    /// Stages in order; a failed stage ends the test.
    pub stages: Vec<StageResult>,
    /// eReceipt: the taxpayer tags in the token.
    pub taxpayer_tags: Option<Vec<String>>,
}

/// Changes to a credential's non-secret parts, as the merchant made them in the edit form.
/// Secrets are changed only by rotation. Inbound only.
///
/// A change of where the credential's secrets are sent (any URL field, or `auth_host`)
/// needs [`CredentialEdit::current_secrets`]: see [`crate::vault::Vault::edit`].
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CredentialEdit {
    /// A new name; `None` keeps the current one.
    #[serde(default)]
    pub name: Option<String>,
    /// A new environment; `None` keeps the current one.
    #[serde(default)]
    pub environment: Option<Environment>,
    /// The complete set of non-secret field values (a field left out or empty is cleared,
    /// so the environment default applies); `None` keeps the stored fields.
    #[serde(default)]
    pub fields: Option<BTreeMap<String, String>>,
    /// A new rotation period in days (1–3650); `None` keeps the current one.
    #[serde(default)]
    pub rotation_period_days: Option<u32>,
    /// The credential's current secret values, typed again by the merchant to confirm a
    /// change of where they are sent (a token, identity, test, revoke or API URL, an auth
    /// host). Only compared with the stored values: never stored, echoed or logged
    /// (`Debug` shows them redacted). Empty for any other edit.
    #[serde(default)]
    #[ts(type = "Record<string, string>")]
    pub current_secrets: BTreeMap<String, SecretString>,
}

/// Vault settings that change what the CLI reports, so app and CLI agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct VaultSettings {
    /// Days before the rotation date at which a credential counts as "due soon" (0–365).
    pub reminder_lead_days: u32,
    /// Rotation period given to new credentials (1–3650 days).
    pub default_rotation_days: u32,
}

/// What became of the old secret's cached token after a rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum OldTokenStatus {
    /// The provider revoked it (RFC 7009 / myPOS revoke endpoint).
    Revoked,
    /// There was no cached token to revoke.
    NothingCached,
    /// The provider has no revocation endpoint: discarded locally, it stays valid at the
    /// provider until it expires or the secret is revoked in the portal.
    NoEndpoint,
    /// The provider refused the revocation or could not be reached (the rotation stands).
    Failed,
}

/// The outcome of a rotation attempt, for front ends. Holds no secret values.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RotationResult {
    /// Whether the new secret passed its test and replaced the old one. When `false` the
    /// old secret is still in force, untouched.
    pub rotated: bool,
    /// The test of the new secret (passed or failed).
    pub report: TestReport,
    /// The credential after the swap (rotated date updated); `None` when not rotated.
    pub credential: Option<CredentialSummary>,
    /// What became of the old secret's cached token; `None` when not rotated.
    pub old_token: Option<OldTokenStatus>,
    /// Why revoking the old token failed, when it did.
    pub old_token_error: Option<crate::error::ErrorInfo>,
    /// How to retire the old secret where only the provider's portal can; `None` when
    /// not rotated.
    pub retire_old: Option<String>,
    /// When the rotation changed identity fields (a new myPOS set): their old values, with
    /// which the old token was revoked (`{"client_id": "old-id"}`; not secrets). Empty when
    /// only secrets changed or when not rotated.
    #[serde(default)]
    pub retired_identity: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_and_settings_parse_from_camel_case() {
        let e: CredentialEdit =
            serde_json::from_str(r#"{"name":"b","fields":{"client_id":"x"},"rotationPeriodDays":30}"#).expect("parses");
        assert_eq!(e.name.as_deref(), Some("b"));
        assert_eq!(e.rotation_period_days, Some(30));
        assert!(e.environment.is_none());
        let s: VaultSettings =
            serde_json::from_str(r#"{"reminderLeadDays":7,"defaultRotationDays":60}"#).expect("parses");
        assert_eq!(
            s,
            VaultSettings {
                reminder_lead_days: 7,
                default_rotation_days: 60
            }
        );
    }
}
