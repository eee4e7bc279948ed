//! This machine's team vault connections: non-secret settings in `team-vaults.json` in the
//! data dir (atomic write, 0600, under its own lock). The engine token or AppRole secret_id
//! lives in the OS keyring, never here.

use crate::error::{Error, Result};
use crate::vault::metadata::{lock_file, write_atomic};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use ts_rs::TS;

/// File name of the connection list in the data dir.
pub const CONFIG_FILE: &str = "team-vaults.json";
const CONFIG_LOCK: &str = "team-vaults.lock";
const CONFIG_SCHEMA: u32 = 1;
pub use crate::vault::status::LOCAL_VAULT;
/// Default KV v2 mount.
pub const DEFAULT_MOUNT: &str = "secret";
/// Default path prefix under the mount.
pub const DEFAULT_PREFIX: &str = "tillkey";

/// How this machine logs in to the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum TeamAuth {
    /// A token (from `bao token create`, or a Vault/OpenBao login of the user's own).
    Token,
    /// AppRole: a role_id (not secret, kept in the config) and a secret_id (keyring).
    Approle,
}

impl std::str::FromStr for TeamAuth {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "token" => Ok(TeamAuth::Token),
            "approle" => Ok(TeamAuth::Approle),
            other => Err(Error::invalid(
                "--auth",
                format!("`{other}` is not an auth method: use token or approle"),
            )),
        }
    }
}

impl TeamAuth {
    /// `token` or `approle`.
    pub fn as_str(self) -> &'static str {
        match self {
            TeamAuth::Token => "token",
            TeamAuth::Approle => "approle",
        }
    }
}

/// One team vault connection (no secret in it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TeamConfig {
    /// Local name of the connection (`--vault NAME`).
    pub name: String,
    /// Random id of this connection: names its keyring entries.
    pub id: String,
    /// Engine address, e.g. `https://bao.example.com:8200`.
    pub address: String,
    /// KV v2 mount.
    pub mount: String,
    /// Path prefix under the mount; the vault document is `{prefix}/vault`.
    pub prefix: String,
    /// Login method.
    pub auth: TeamAuth,
    /// AppRole role_id (not a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_id: Option<String>,
    /// Enterprise / OpenBao namespace (`X-Vault-Namespace`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// A PEM CA file that signs the engine's certificate (in addition to the web roots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "string | null")]
    pub ca_file: Option<PathBuf>,
    /// Superseded secret revisions kept recoverable (soft-deleted) after a rotation or
    /// removal; 0 destroys them at once.
    #[serde(default)]
    pub retain: u32,
    /// Share access tokens through the engine instead of caching them in this process's
    /// memory only.
    #[serde(default)]
    pub share_tokens: bool,
}

/// What `connect` needs beyond a name and an address; defaults for everything else. The
/// CLI builds it from `tillkey vault connect`'s flags, the app's "Connect team vault" dialog
/// sends it as is; [`ConnectOptions::into_config`] checks it for both.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export)]
pub struct ConnectOptions {
    /// Local name.
    pub name: String,
    /// Engine address.
    pub address: String,
    /// KV v2 mount (default `secret`).
    pub mount: Option<String>,
    /// Path prefix (default `tillkey`).
    pub prefix: Option<String>,
    /// Login method.
    pub auth: TeamAuth,
    /// AppRole role_id (required for AppRole).
    pub role_id: Option<String>,
    /// Namespace.
    pub namespace: Option<String>,
    /// CA file.
    #[ts(type = "string | null")]
    pub ca_file: Option<PathBuf>,
    /// Retention count (see [`TeamConfig::retain`]).
    pub retain: u32,
    /// Share access tokens through the engine.
    pub share_tokens: bool,
}

impl ConnectOptions {
    /// Options for logging in with an engine token, everything else at its default (mount
    /// `secret`, prefix `tillkey`, no namespace or CA file, no retention, tokens in memory).
    pub fn token(name: &str, address: &str) -> Self {
        Self {
            name: name.into(),
            address: address.into(),
            mount: None,
            prefix: None,
            auth: TeamAuth::Token,
            role_id: None,
            namespace: None,
            ca_file: None,
            retain: 0,
            share_tokens: false,
        }
    }

    /// The validated configuration, with a fresh connection id.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the first bad value.
    pub fn into_config(self) -> Result<TeamConfig> {
        validate_vault_name(&self.name)?;
        crate::providers::validate_url("--address", &self.address)?;
        let mount = self.mount.unwrap_or_else(|| DEFAULT_MOUNT.into());
        check_path("--mount", &mount)?;
        let prefix = self.prefix.unwrap_or_else(|| DEFAULT_PREFIX.into());
        check_path("--prefix", &prefix)?;
        if let Some(ns) = &self.namespace {
            check_path("--namespace", ns)?;
        }
        let role_id = self.role_id.map(|r| r.trim().to_string());
        match (self.auth, &role_id) {
            (TeamAuth::Approle, None) => {
                return Err(Error::invalid(
                    "--role-id",
                    "AppRole needs --role-id (the role_id is not secret)",
                ))
            }
            (TeamAuth::Approle, Some(r)) if r.is_empty() || r.chars().any(|c| c.is_control()) => {
                return Err(Error::invalid("--role-id", "is empty or has control characters"))
            }
            (TeamAuth::Token, Some(_)) => return Err(Error::invalid("--role-id", "only goes with --auth approle")),
            _ => {}
        }
        if let Some(ca) = &self.ca_file {
            if !ca.is_file() {
                return Err(Error::invalid(
                    "--ca-file",
                    format!("{} is not a readable file", ca.display()),
                ));
            }
        }
        if self.retain > 100 {
            return Err(Error::invalid("--retain", "keep at most 100 old revisions"));
        }
        let ca_file = self.ca_file.map(|p| std::fs::canonicalize(&p).unwrap_or(p));
        Ok(TeamConfig {
            name: self.name,
            id: uuid::Uuid::new_v4().to_string(),
            address: self.address.trim_end_matches('/').to_string(),
            mount,
            prefix,
            auth: self.auth,
            role_id,
            namespace: self.namespace,
            ca_file,
            retain: self.retain,
            share_tokens: self.share_tokens,
        })
    }
}

/// Team vault names: as credential names (1–64 letters, digits, `.`, `_`, `-`), and not
/// `local`, which names the keyring vault.
///
/// # Errors
/// [`Error::InvalidInput`].
pub fn validate_vault_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if !ok {
        return Err(Error::invalid(
            "name",
            format!("`{name}` is not a valid vault name: use 1-64 letters, digits, `.`, `_` or `-`, starting with a letter or digit"),
        ));
    }
    if name == LOCAL_VAULT {
        return Err(Error::invalid(
            "name",
            "`local` is the name of this machine's own vault",
        ));
    }
    Ok(())
}

/// One plain path segment: letters, digits, `.`, `_`, `-`; not empty, `.` or `..`. Every
/// engine request path is built from such segments only (see the team client).
pub(crate) fn is_path_segment(seg: &str) -> bool {
    !seg.is_empty()
        && seg != "."
        && seg != ".."
        && seg
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// Mount, prefix and namespace: path segments of letters, digits, `.`, `_`, `-`, joined by
/// `/`, no empty or `..` segment.
fn check_path(field: &str, p: &str) -> Result<()> {
    let ok = !p.is_empty() && p.len() <= 200 && p.split('/').all(is_path_segment);
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("`{p}` is not a valid path: use segments of letters, digits, `.`, `_`, `-` joined by `/`"),
        ))
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ConfigFile {
    schema: u32,
    #[serde(default)]
    vaults: Vec<TeamConfig>,
}

fn config_path(data_dir: &Path) -> PathBuf {
    data_dir.join(CONFIG_FILE)
}

fn read(data_dir: &Path) -> Result<ConfigFile> {
    let path = config_path(data_dir);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(ConfigFile {
                schema: CONFIG_SCHEMA,
                vaults: Vec::new(),
            })
        }
        Err(e) => return Err(Error::io("cannot read", &path, e)),
    };
    let f: ConfigFile = serde_json::from_slice(&bytes).map_err(|e| Error::CorruptMetadata {
        path: path.clone(),
        backup: path.clone(),
        detail: format!("line {}, column {}: {:?} error", e.line(), e.column(), e.classify()),
    })?;
    if f.schema > CONFIG_SCHEMA {
        return Err(Error::UnsupportedSchema {
            path,
            found: f.schema,
            supported: CONFIG_SCHEMA,
        });
    }
    Ok(f)
}

/// Every team vault connection of this data dir, in the order they were connected.
///
/// # Errors
/// File errors.
pub fn list_configs(data_dir: &Path) -> Result<Vec<TeamConfig>> {
    Ok(read(data_dir)?.vaults)
}

/// The connection called `name`.
///
/// # Errors
/// [`Error::VaultNotConnected`], file errors.
pub fn find_config(data_dir: &Path, name: &str) -> Result<TeamConfig> {
    list_configs(data_dir)?
        .into_iter()
        .find(|c| c.name == name)
        .ok_or_else(|| Error::VaultNotConnected(name.into()))
}

/// Runs `f` on the connection list under its lock and saves what it returns `true` for.
pub(crate) fn update<T>(data_dir: &Path, f: impl FnOnce(&mut Vec<TeamConfig>) -> Result<(T, bool)>) -> Result<T> {
    crate::vault::metadata::create_private_dir(data_dir)?;
    let _lock = lock_file(&data_dir.join(CONFIG_LOCK))?;
    let mut file = read(data_dir)?;
    let (out, changed) = f(&mut file.vaults)?;
    if changed {
        file.schema = CONFIG_SCHEMA;
        let mut bytes = serde_json::to_vec_pretty(&file)
            .map_err(|e| Error::io("cannot encode", config_path(data_dir), std::io::Error::other(e)))?;
        bytes.push(b'\n');
        write_atomic(&config_path(data_dir), &bytes)?;
    }
    Ok(out)
}
