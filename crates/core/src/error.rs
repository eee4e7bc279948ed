//! The core error type, its classes (which the CLI maps to exit codes) and the sanitised
//! [`ErrorInfo`] every front end shows.
//!
//! No variant holds a secret value: messages name fields, credentials and files, never
//! what a secret field contains.

use serde::Serialize;
use std::path::PathBuf;
use ts_rs::TS;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No credential of that name in the vault.
    #[error("no credential named `{0}`")]
    NotFound(String),
    /// The name is taken.
    #[error("a credential named `{0}` already exists")]
    AlreadyExists(String),
    /// The provider kind is not one Tillkey knows.
    #[error("unknown provider `{kind}`; known providers: {known}")]
    UnknownProvider {
        /// What was asked for.
        kind: String,
        /// Comma-separated known kinds.
        known: String,
    },
    /// A value failed validation.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The field (or argument) at fault.
        field: String,
        /// What is wrong, in plain words.
        reason: String,
    },
    /// A required field has no value and no default.
    #[error("missing required field `{field}` for provider {provider}")]
    MissingField {
        /// The field.
        field: String,
        /// The provider kind.
        provider: String,
    },
    /// No usable OS keyring (no Secret Service on the session bus, no D-Bus, …).
    #[error("the OS keyring is unavailable: {0}")]
    KeyringUnavailable(String),
    /// The keyring exists but is locked.
    #[error("the OS keyring is locked (or did not answer in time)")]
    KeyringLocked,
    /// Metadata names a secret the keyring does not have.
    #[error("the keyring has no `{field}` for credential `{credential}`")]
    SecretMissing {
        /// Credential name.
        credential: String,
        /// Secret field name.
        field: String,
    },
    /// An edit would change where a credential's secrets are sent (a URL field or
    /// `auth_host`), and the current secret values were not typed again or do not match:
    /// nothing was changed. Names fields only, never what they hold.
    #[error(
        "changing {} of `{credential}` needs its current {} typed again (missing or not matching); nothing was changed",
        tick_list(changed),
        tick_list(fields)
    )]
    SecretRequired {
        /// Credential name.
        credential: String,
        /// The credential's secret fields that must be typed again.
        fields: Vec<String>,
        /// The fields whose change needs them (`token_url`, `test_url`, …).
        changed: Vec<String>,
    },
    /// The metadata file is not valid vault JSON. It was left in place and copied aside.
    #[error("the vault metadata file {path} is corrupt ({detail}); a copy was kept at {backup}")]
    CorruptMetadata {
        /// The metadata file.
        path: PathBuf,
        /// Where the untouched copy was saved.
        backup: PathBuf,
        /// Parser message (position and kind, no content).
        detail: String,
    },
    /// A team vault's shared document does not pass the vault's checks (hostile or broken):
    /// nothing was read from it or written to it.
    #[error("team vault `{vault}`'s document is invalid ({detail}); nothing was changed")]
    CorruptTeamDocument {
        /// Team vault name.
        vault: String,
        /// The first problem, by position and field name (never the value).
        detail: String,
    },
    /// The metadata file was written by a newer Tillkey.
    #[error("the vault metadata file {path} has schema version {found}; this Tillkey reads up to {supported}")]
    UnsupportedSchema {
        /// The metadata file.
        path: PathBuf,
        /// Version found in the file.
        found: u32,
        /// Highest version this build reads.
        supported: u32,
    },
    /// The provider answered with an error (bad credential, missing permission, …).
    #[error("{provider} rejected the request: {code} (HTTP {status}){}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Provider {
        /// Provider label.
        provider: String,
        /// HTTP status.
        status: u16,
        /// Provider error code: `error_code` (Paysera POS), else `error`, else the status.
        code: String,
        /// The provider's own description, cut short (it never holds our secrets).
        description: Option<String>,
        /// What to fix.
        hint: String,
    },
    /// The provider answered with a redirect. Tillkey never follows one: it could carry a
    /// secret or a bearer token to another host.
    #[error("{provider} answered with a redirect (HTTP {status}) to {target}; Tillkey does not follow redirects")]
    Redirected {
        /// Provider label.
        provider: String,
        /// HTTP status (3xx).
        status: u16,
        /// The host the redirect points at (never the full URL).
        target: String,
    },
    /// The provider's rate limit was hit.
    #[error("{provider} rate limit reached; it resets in {retry_after_secs} s")]
    RateLimited {
        /// Provider label.
        provider: String,
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// DNS, connect, TLS or timeout failure.
    #[error("network error talking to {host}: {detail}")]
    Network {
        /// Host name (never the full URL).
        host: String,
        /// What failed.
        detail: String,
        /// Whether it was a timeout.
        timeout: bool,
    },
    /// The provider answered, but not in the documented shape.
    #[error("{provider} sent an unexpected response (HTTP {status}): {detail}")]
    InvalidResponse {
        /// Provider label.
        provider: String,
        /// HTTP status.
        status: u16,
        /// What was wrong (shape only, never the body).
        detail: String,
    },
    /// The provider offers no way to do this.
    #[error("{0}")]
    Unsupported(String),
    /// A team vault's document changed since it was read (KV v2 check-and-set mismatch):
    /// nothing was overwritten.
    #[error("team vault `{vault}` was changed by someone else meanwhile; nothing was written")]
    Conflict {
        /// Team vault name.
        vault: String,
    },
    /// The engine's policy does not allow this (HTTP 403 with a valid token).
    #[error("team vault `{vault}` refused to {action}: permission denied by its policy")]
    VaultDenied {
        /// Team vault name.
        vault: String,
        /// What was refused ("write", "read", "delete").
        action: String,
    },
    /// The engine could not be reached (DNS, connect, timeout).
    #[error("team vault `{vault}` is unreachable at {address}: {detail}")]
    VaultUnreachable {
        /// Team vault name.
        vault: String,
        /// The engine address (no credentials in it).
        address: String,
        /// What failed.
        detail: String,
    },
    /// TLS to the engine failed (untrusted or wrong certificate).
    #[error("TLS with team vault `{vault}` at {address} failed: {detail}")]
    VaultTls {
        /// Team vault name.
        vault: String,
        /// The engine address.
        address: String,
        /// What failed.
        detail: String,
    },
    /// The engine is sealed.
    #[error("team vault `{vault}` at {address} is sealed")]
    VaultSealed {
        /// Team vault name.
        vault: String,
        /// The engine address.
        address: String,
    },
    /// The engine refused this machine's credential (token or AppRole login).
    #[error("team vault `{vault}` refused this machine's login: {detail}")]
    VaultAuth {
        /// Team vault name.
        vault: String,
        /// What was refused (never the token or secret_id).
        detail: String,
    },
    /// No team vault of that name is connected on this machine.
    #[error("no team vault named `{0}` is connected")]
    VaultNotConnected(String),
    /// The engine answered in an unexpected way.
    #[error("team vault `{vault}` answered HTTP {status}: {detail}")]
    VaultResponse {
        /// Team vault name.
        vault: String,
        /// HTTP status.
        status: u16,
        /// The engine's error messages, or the shape problem (never secret values).
        detail: String,
    },
    /// No data directory could be determined.
    #[error("no data directory: set TILLKEY_DATA_DIR or pass --data-dir")]
    NoDataDir,
    /// The vault has a passphrase and this process does not hold its key, so no long-lived
    /// secret can be read or written (see `passphrase.rs`).
    #[error("the vault is locked: its secrets are encrypted under a passphrase")]
    Locked,
    /// The passphrase typed does not open the vault's key.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// The vault's passphrase file (`passphrase.json`) is not one Tillkey wrote.
    #[error("the passphrase file {path} is invalid ({detail})")]
    PassphraseFileInvalid {
        /// The file.
        path: PathBuf,
        /// What is wrong (shape only).
        detail: String,
    },
    /// A sealed keyring entry failed its integrity check: it was altered, or moved from
    /// another entry, outside Tillkey.
    #[error("the keyring entry {account} failed its integrity check (altered or moved outside Tillkey)")]
    SealedEntryInvalid {
        /// The entry's account (vault, credential, revision and field; no value).
        account: String,
    },
    /// Something inside Tillkey failed that no input can cause (a background task or
    /// runtime stopped, a value could not be encoded): a bug, or the process is shutting
    /// down.
    #[error("internal error: {0}")]
    Internal(String),
    /// A filesystem operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("cannot write").
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Broad classes of error. The CLI maps them to its exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The input was wrong (exit 2).
    Input,
    /// The keyring is missing or locked (exit 3).
    Keyring,
    /// The provider rejected the credential or a test failed (exit 1).
    Rejected,
    /// Network error or timeout (exit 4).
    Network,
    /// Rate limited (exit 5).
    RateLimited,
    /// Local state (files) is broken (exit 1).
    Local,
}

impl ErrorClass {
    /// The CLI exit code of this class, as ARCHITECTURE.md fixes them.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorClass::Rejected | ErrorClass::Local => 1,
            ErrorClass::Input => 2,
            ErrorClass::Keyring => 3,
            ErrorClass::Network => 4,
            ErrorClass::RateLimited => 5,
        }
    }
}

/// What a front end shows for an error: a stable code, the message, and a hint of what to do.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ErrorInfo {
    /// Stable machine-readable code (`already_exists`, `keyring_locked`, …).
    pub code: String,
    /// Plain-language message (never contains a secret).
    pub message: String,
    /// What to do about it, where there is something to do.
    pub hint: Option<String>,
}

/// `a`, `` `a` and `b` ``, `` `a`, `b` and `c` ``: field names for messages.
fn tick_list(names: &[String]) -> String {
    let ticked: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match ticked.split_last() {
        None => "secret".into(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

const KEYRING_HINT: &str = "Tillkey keeps secrets only in the OS keyring (Secret Service on Linux). \
Install and start one (Debian: `sudo apt install gnome-keyring`, then log in to a desktop session), \
or for a headless shell run inside `dbus-run-session` after `gnome-keyring-daemon --unlock`. \
Tillkey never falls back to storing secrets in plain files.";

impl Error {
    /// Stable machine-readable code.
    pub fn code(&self) -> &str {
        match self {
            Error::Provider { code, .. } => code,
            Error::RateLimited { .. } => "rate_limited",
            Error::Redirected { .. } => "redirect_not_followed",
            Error::Network { timeout: true, .. } => "timeout",
            Error::Network { .. } => "network_error",
            Error::InvalidResponse { .. } => "invalid_response",
            Error::Unsupported(_) => "unsupported",
            Error::NotFound(_) => "not_found",
            Error::AlreadyExists(_) => "already_exists",
            Error::UnknownProvider { .. } => "unknown_provider",
            Error::InvalidInput { .. } => "invalid_input",
            Error::MissingField { .. } => "missing_field",
            Error::KeyringUnavailable(_) => "keyring_unavailable",
            Error::KeyringLocked => "keyring_locked",
            Error::SecretMissing { .. } => "secret_missing",
            Error::SecretRequired { .. } => "secret_required",
            Error::CorruptMetadata { .. } | Error::CorruptTeamDocument { .. } => "corrupt_metadata",
            Error::UnsupportedSchema { .. } => "unsupported_schema",
            Error::NoDataDir => "no_data_dir",
            Error::Conflict { .. } => "conflict",
            Error::VaultDenied { .. } => "vault_denied",
            Error::VaultUnreachable { .. } => "vault_unreachable",
            Error::VaultTls { .. } => "vault_tls",
            Error::VaultSealed { .. } => "vault_sealed",
            Error::VaultAuth { .. } => "vault_auth",
            Error::VaultNotConnected(_) => "vault_not_connected",
            Error::VaultResponse { .. } => "vault_error",
            Error::Io { .. } => "io_error",
            Error::Internal(_) => "internal_error",
            Error::Locked => "locked",
            Error::WrongPassphrase => "wrong_passphrase",
            Error::PassphraseFileInvalid { .. } => "corrupt_metadata",
            Error::SealedEntryInvalid { .. } => "sealed_entry_invalid",
        }
    }

    /// The class of this error (and so the CLI exit code).
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::NotFound(_)
            | Error::AlreadyExists(_)
            | Error::UnknownProvider { .. }
            | Error::InvalidInput { .. }
            | Error::MissingField { .. }
            | Error::NoDataDir => ErrorClass::Input,
            Error::SecretRequired { .. } => ErrorClass::Input,
            Error::KeyringUnavailable(_) | Error::KeyringLocked | Error::Locked => ErrorClass::Keyring,
            Error::WrongPassphrase => ErrorClass::Rejected,
            Error::PassphraseFileInvalid { .. } | Error::SealedEntryInvalid { .. } => ErrorClass::Local,
            Error::Provider { .. } | Error::InvalidResponse { .. } | Error::Redirected { .. } => ErrorClass::Rejected,
            Error::RateLimited { .. } => ErrorClass::RateLimited,
            Error::Network { .. } => ErrorClass::Network,
            Error::Unsupported(_) => ErrorClass::Input,
            Error::VaultNotConnected(_) => ErrorClass::Input,
            // The team vault is the secret store: sealed or refusing our login is "locked".
            Error::VaultSealed { .. } | Error::VaultAuth { .. } => ErrorClass::Keyring,
            Error::VaultUnreachable { .. } | Error::VaultTls { .. } => ErrorClass::Network,
            Error::Conflict { .. } | Error::VaultDenied { .. } | Error::VaultResponse { .. } => ErrorClass::Rejected,
            Error::SecretMissing { .. }
            | Error::CorruptMetadata { .. }
            | Error::CorruptTeamDocument { .. }
            | Error::UnsupportedSchema { .. }
            | Error::Io { .. }
            | Error::Internal(_) => ErrorClass::Local,
        }
    }

    /// A plain-language hint of what to do, where there is one.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Error::Provider { hint, .. } => hint.clone(),
            Error::RateLimited { retry_after_secs, .. } => format!(
                "Wait {retry_after_secs} s, or run the command with --wait to wait automatically."
            ),
            Error::Network { timeout: true, .. } => {
                "The provider did not answer in time. Check your connection and the URL, then try again.".into()
            }
            Error::Network { .. } => {
                "Check the host name and your network connection (proxy, firewall, VPN).".into()
            }
            Error::InvalidResponse { .. } => {
                "Check that the URL points at the provider's API and not at a web page or proxy.".into()
            }
            Error::Redirected { target, .. } => format!(
                "Redirects are not followed, so no secret can be carried to another host. If {target} is \
                 the provider's real address, set the credential's token or test URL to it."
            ),
            Error::Unsupported(_) => return None,
            Error::NotFound(_) => "Check the name: the credential list shows every name in this vault.".into(),
            Error::AlreadyExists(_) => {
                "Pick another name, or remove the existing credential first.".into()
            }
            Error::UnknownProvider { .. } => {
                "Pick one of the known providers (the CLI lists them with `tillkey providers`).".into()
            }
            Error::InvalidInput { .. } => "Correct the value and try again; nothing was changed.".into(),
            Error::MissingField { field, .. } => format!(
                "Fill in `{field}`. (CLI: secret fields on stdin as `{field}=VALUE`, others with `--set {field}=VALUE`.)"
            ),
            Error::KeyringUnavailable(_) => KEYRING_HINT.into(),
            Error::KeyringLocked => "Unlock your login keyring (answer the unlock prompt or log in to \
                the desktop session; headless: `gnome-keyring-daemon --unlock`) and try again. \
                TILLKEY_KEYRING_TIMEOUT_SECS sets how long Tillkey waits (default 120)."
                .into(),
            Error::SecretMissing { credential, .. } => format!(
                "The secret was deleted from the keyring outside Tillkey. Remove `{credential}` and add it again."
            ),
            Error::SecretRequired { fields, .. } => format!(
                "Type the current {} again to confirm the new address (or keep the old one): Tillkey sends \
                 the secret there on the next test or copy. If you did not change the address yourself, \
                 do not confirm it.",
                tick_list(fields)
            ),
            Error::CorruptMetadata { path, backup, .. } => format!(
                "Tillkey will not overwrite it. Restore a good copy to {}, or move it away to start \
                 an empty vault (secrets stay in the keyring). The copy at {} is yours to inspect.",
                path.display(),
                backup.display()
            ),
            Error::CorruptTeamDocument { vault, .. } => format!(
                "Someone with write access to team vault `{vault}` stored a document Tillkey will not trust. \
                 Ask its administrator to restore a good version (KV v2 keeps earlier versions: \
                 `bao kv rollback`); other vaults are unaffected."
            ),
            Error::UnsupportedSchema { .. } => "Upgrade Tillkey to open this vault.".into(),
            Error::Locked => "Run the command in a terminal to type the vault passphrase for this one call, \
                or unlock the vault with `tillkey unlock` (needs the Tillkey agent). Names, expiry and \
                rotation status (`tillkey list`, `show`) work while locked."
                .into(),
            Error::WrongPassphrase => "Type the vault passphrase again (it is case-sensitive). After each \
                wrong try Tillkey waits longer before the next one. A forgotten passphrase cannot be \
                recovered: the secrets must be entered again in a new vault."
                .into(),
            Error::PassphraseFileInvalid { path, .. } => format!(
                "Restore the file {} from a backup; without it the vault's encrypted secrets cannot be opened. \
                 Tillkey will not overwrite it.",
                path.display()
            ),
            Error::SealedEntryInvalid { .. } => "Someone changed Tillkey's keyring entries by hand. Rotate the \
                credential (`tillkey rotate NAME`) to store its secret again."
                .into(),
            Error::NoDataDir => return None,
            Error::Conflict { .. } => {
                "Someone else changed this vault; reload and try again (your change was not applied).".into()
            }
            Error::VaultDenied { vault, .. } => format!(
                "Your access to team vault `{vault}` is read-only: ask its administrator for a policy that \
                 allows this (see docs/policies/tillkey-admin.hcl). Reading and testing credentials still work."
            ),
            Error::VaultUnreachable { vault, address, .. } => format!(
                "Check that the engine at {address} is running and reachable (VPN, firewall, DNS). \
                 Credentials of other vaults are unaffected. `tillkey vault list` shows the status of `{vault}`."
            ),
            Error::VaultTls { vault, .. } => format!(
                "Check the engine's certificate; if it is signed by a private CA, connect with its CA file: \
                 `tillkey vault connect {vault} --address URL --ca-file CA.pem`."
            ),
            Error::VaultSealed { .. } => {
                "The engine's operators must unseal it (`bao operator unseal`); nothing can be read until then.".into()
            }
            Error::VaultAuth { vault, .. } => format!(
                "The token or AppRole secret_id was refused (wrong, expired or revoked). Connect again with a \
                 valid one: `tillkey vault disconnect {vault}` then `tillkey vault connect {vault} ...`."
            ),
            Error::VaultNotConnected(_) => {
                "Connect it first with `tillkey vault connect NAME --address URL`; `tillkey vault list` shows \
                 the connected ones."
                    .into()
            }
            Error::VaultResponse { .. } => {
                "Check that the address points at an OpenBao or Vault server and that the KV v2 mount exists.".into()
            }
            Error::Internal(_) => "Try again; nothing was changed. If it keeps happening, please report it \
                with the command you ran (the message holds no secret)."
                .into(),
            Error::Io { source, .. } => match source.kind() {
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                    "The disk is full: free some space and try again. Nothing was changed.".into()
                }
                std::io::ErrorKind::ReadOnlyFilesystem => "The data directory is on a read-only file system: \
                    remount it read-write, or point TILLKEY_DATA_DIR at a writable one. Nothing was changed."
                    .into(),
                std::io::ErrorKind::PermissionDenied => {
                    "The data directory or a file in it is not yours to write: check its owner and mode.".into()
                }
                _ => "Check that the data directory exists, is yours, and the disk is not full.".into(),
            },
        })
    }

    /// The sanitised form for front ends.
    pub fn info(&self) -> ErrorInfo {
        ErrorInfo {
            code: self.code().into(),
            message: self.to_string(),
            hint: self.hint(),
        }
    }

    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn internal(what: impl std::fmt::Display) -> Self {
        Error::Internal(what.to_string())
    }

    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
