//! Where an imported variable goes: the known names every provider's schema gives
//! (`{KIND}_{FIELD}`), and the explicit mapping of `--map` and `--mapping FILE`.

use super::{ImportError, ENV_FIELD, MAX_NAME_LEN};
use crate::providers;
use serde::Serialize;
use std::collections::BTreeMap;
use ts_rs::TS;

/// Where a variable goes: a field of a credential of `kind`, named `name` (else the
/// default name of its group, see [`super::plan`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The credential's name, when the mapping gives one.
    pub name: Option<String>,
    /// Provider kind.
    pub kind: String,
    /// Schema field, or `env` for the environment.
    pub field: String,
}

/// One known variable name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "KnownVariable")]
pub struct KnownName {
    /// The variable name (`MYPOS_CLIENT_SECRET`).
    pub variable: String,
    /// Provider kind.
    pub kind: String,
    /// Field (`env` for the environment).
    pub field: String,
    /// Whether the field is secret.
    pub secret: bool,
}

/// The known variable names, from the providers' schemas: for every kind and field,
/// `KIND_FIELD` in upper case with `-` as `_` (`PAYSERA_POS_TOKEN`, `MYPOS_CLIENT_ID`,
/// `ERECEIPT_PRESHAREDKEY`, `OAUTH2_TOKEN_URL`, …), plus `KIND_ENV` for the environment.
/// A new provider or field gets its names with no change here.
pub fn known_names() -> Vec<KnownName> {
    let mut out = Vec::new();
    for schema in providers::schemas() {
        let prefix = normalise(&schema.kind);
        for f in &schema.fields {
            out.push(KnownName {
                variable: format!("{prefix}_{}", normalise(&f.name)),
                kind: schema.kind.clone(),
                field: f.name.clone(),
                secret: f.secret,
            });
        }
        out.push(KnownName {
            variable: format!("{prefix}_ENV"),
            kind: schema.kind.clone(),
            field: ENV_FIELD.into(),
            secret: false,
        });
    }
    out
}

/// Upper case, `-` and `.` as `_`: how variable names are compared.
fn normalise(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '-' | '.' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

/// The explicit mapping (from `--map VAR=[NAME:]KIND.FIELD` and mapping files) over the
/// known names. Explicit entries win; variable names compare as [`known_names`] do (case
/// and `-`/`_` do not matter).
#[derive(Debug, Clone)]
pub struct Mapping {
    explicit: BTreeMap<String, Target>,
    known: BTreeMap<String, Target>,
}

impl Default for Mapping {
    fn default() -> Self {
        Self::new()
    }
}

impl Mapping {
    /// The known names only.
    pub fn new() -> Self {
        let known = known_names()
            .into_iter()
            .map(|k| {
                (
                    k.variable,
                    Target {
                        name: None,
                        kind: k.kind,
                        field: k.field,
                    },
                )
            })
            .collect();
        Mapping {
            explicit: BTreeMap::new(),
            known,
        }
    }

    /// Where variable `var` goes, if anywhere.
    pub fn target(&self, var: &str) -> Option<&Target> {
        let key = normalise(var);
        self.explicit.get(&key).or_else(|| self.known.get(&key))
    }

    /// Adds one entry `VAR=KIND.FIELD` or `VAR=NAME:KIND.FIELD`; `entry` names it in errors.
    ///
    /// # Errors
    /// [`ImportError::Mapping`] for a malformed entry, an unknown kind or field, or a
    /// variable mapped twice.
    pub fn add(&mut self, spec: &str, entry: &str) -> Result<(), ImportError> {
        let bad = |reason: String| ImportError::Mapping {
            entry: entry.into(),
            reason,
        };
        let (var, to) = spec
            .split_once('=')
            .ok_or_else(|| bad("expected VAR=KIND.FIELD".into()))?;
        let var = var.trim();
        if var.is_empty() || var.len() > MAX_NAME_LEN || var.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(bad("the variable name is empty, too long or has spaces".into()));
        }
        let to = to.trim();
        let (name, kind_field) = match to.split_once(':') {
            Some((n, rest)) => (Some(n.trim().to_string()), rest.trim()),
            None => (None, to),
        };
        if let Some(n) = &name {
            crate::vault::validate_name(n).map_err(|_| {
                bad(format!(
                    "`{}` is not a credential name (1-64 letters, digits, `.`, `_`, `-`)",
                    printable(n)
                ))
            })?;
        }
        let (kind, field) = kind_field
            .split_once('.')
            .ok_or_else(|| bad(format!("`{}` is not KIND.FIELD", printable(kind_field))))?;
        let schema = providers::schema(kind).map_err(|e| bad(e.to_string()))?;
        if field != ENV_FIELD && schema.field(field).is_none() {
            let fields: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
            return Err(bad(format!(
                "{kind} has no field `{}` (its fields: {}, and env)",
                printable(field),
                fields.join(", ")
            )));
        }
        let target = Target {
            name,
            kind: schema.kind.clone(),
            field: field.to_string(),
        };
        match self.explicit.insert(normalise(var), target.clone()) {
            Some(before) if before != target => Err(bad(format!("`{var}` is mapped twice"))),
            _ => Ok(()),
        }
    }

    /// Adds every entry of a mapping file: one `VAR=[NAME:]KIND.FIELD` a line; blank lines
    /// and lines starting with `#` are skipped. `file` names it in errors.
    ///
    /// # Errors
    /// As [`Mapping::add`], naming the line; [`ImportError::Syntax`] for a file that is
    /// not text.
    pub fn add_file(&mut self, file: &str, bytes: &[u8]) -> Result<(), ImportError> {
        let text = super::text(file, bytes)?;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            self.add(line, &format!("{file} line {}", i + 1))?;
        }
        Ok(())
    }
}

/// A name from the user's own input, cut short and without control characters.
fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(64).collect()
}
