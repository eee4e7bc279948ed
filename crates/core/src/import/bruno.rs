//! Bruno environments: `environments/NAME.bru` in a collection, with its variables in a
//! `vars { name: value }` block and the names of its secret variables in a
//! `vars:secret [ name, … ]` block. Bruno keeps secret values out of `.bru` files: in its
//! app's own storage (which no file holds), or in a `.env` file at the collection's root,
//! referred to as `{{process.env.KEY}}`. Both files are read: each reference is filled in
//! from the `.env`, and the value's place is the `.env` line.
//!
//! A `~` before a name disables it (Bruno's syntax); other blocks are skipped. A secret
//! variable whose value is only in Bruno's app is reported, not guessed.

use super::{check_count, dotenv, Format, Group, Ignored, ImportError, Location, Parsed, Variable};
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Whether `text` looks like a `.bru` file (a `vars {` or `vars:secret [` block).
pub fn looks_like(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        l == "vars {" || l == "vars:secret ["
    })
}

/// The `.env` of the Bruno collection `env_file` belongs to: the collection root's (the
/// parent of `environments/`), else one beside the file; `None` when there is none.
pub fn dotenv_path(env_file: &Path) -> Option<PathBuf> {
    let dir = env_file.parent()?;
    let root = if dir.file_name().is_some_and(|n| n == "environments") {
        dir.parent()?
    } else {
        dir
    };
    [root.join(".env"), dir.join(".env")].into_iter().find(|p| p.is_file())
}

/// Parses a `.bru` environment (`file`, `text`) with its collection's `.env`
/// (`(file, text)`), if any.
///
/// # Errors
/// [`ImportError::Syntax`] naming the first malformed line of either file.
pub fn parse(file: &str, text: &str, dotenv: Option<(&str, &str)>) -> Result<Parsed, ImportError> {
    let env_vars: BTreeMap<String, Variable> = match dotenv {
        Some((f, t)) => dotenv::variables(f, t)?
            .into_iter()
            .map(|v| (v.name.clone(), v))
            .collect(),
        None => BTreeMap::new(),
    };
    let label = Path::new(file).file_stem().map(|s| s.to_string_lossy().into_owned());
    let mut group = Group {
        label,
        variables: Vec::new(),
    };
    let mut ignored = Vec::new();
    let mut secret_names = Vec::new();
    let mut block: Option<(String, usize, char)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let err = |detail: &str| ImportError::Syntax {
            file: file.into(),
            line,
            detail: detail.into(),
        };
        let l = raw.trim();
        match &block {
            None => {
                if l.is_empty() || l.starts_with('#') {
                    continue;
                }
                let (name, close) = if let Some(n) = l.strip_suffix('{') {
                    (n.trim(), '}')
                } else if let Some(n) = l.strip_suffix('[') {
                    (n.trim(), ']')
                } else {
                    return Err(err("expected a block such as `vars {` or `vars:secret [`"));
                };
                if name.is_empty() || name.len() > 64 || name.chars().any(|c| c.is_whitespace()) {
                    return Err(err("a block name is missing or malformed"));
                }
                block = Some((name.to_string(), line, close));
            }
            Some((name, _, close)) => {
                if l.len() == 1 && l.starts_with(*close) {
                    block = None;
                    continue;
                }
                if l.is_empty() {
                    continue;
                }
                match (name.as_str(), close) {
                    ("vars", '}') => {
                        let (key, value) = l
                            .split_once(':')
                            .ok_or_else(|| err("expected `name: value` in the vars block"))?;
                        let key = key.trim();
                        let (key, disabled) = match key.strip_prefix('~') {
                            Some(k) => (k, true),
                            None => (key, false),
                        };
                        if !super::postman::name_ok(key) {
                            return Err(err("a variable name is empty, too long or has spaces"));
                        }
                        let at = Location {
                            file: file.into(),
                            line: Some(line),
                            at: format!("vars › {key}"),
                        };
                        if disabled {
                            ignored.push(Ignored {
                                name: key.into(),
                                at,
                                reason: "disabled in Bruno (`~`)".into(),
                            });
                            continue;
                        }
                        let value = value.trim();
                        match process_env(value) {
                            Some(env_key) => match env_vars.get(env_key) {
                                Some(v) => group.variables.push(Variable {
                                    name: key.into(),
                                    value: v.value.clone(),
                                    at: Location {
                                        at: format!("{env_key}, for {key}"),
                                        ..v.at.clone()
                                    },
                                }),
                                None => ignored.push(Ignored {
                                    name: key.into(),
                                    at,
                                    reason: format!(
                                        "refers to process.env.{}, which the collection's .env does not define{}",
                                        super::mapping_safe(env_key),
                                        if dotenv.is_none() { " (no .env found)" } else { "" }
                                    ),
                                }),
                            },
                            None if value.is_empty() => {}
                            None => group.variables.push(Variable {
                                name: key.into(),
                                value: SecretString::from(value.to_string()),
                                at,
                            }),
                        }
                        check_count(file, group.variables.len() + ignored.len())?;
                    }
                    ("vars:secret", ']') => {
                        for n in l.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                            let n = n.strip_prefix('~').unwrap_or(n);
                            if !super::postman::name_ok(n) {
                                return Err(err("a secret variable name is too long or has spaces"));
                            }
                            secret_names.push((n.to_string(), line));
                            check_count(file, secret_names.len())?;
                        }
                    }
                    // Other blocks (a future Bruno's) are skipped.
                    _ => {}
                }
            }
        }
    }
    if let Some((name, line, close)) = block {
        return Err(ImportError::Syntax {
            file: file.into(),
            line,
            detail: format!(
                "the `{}` block is not closed with `{close}`",
                super::mapping_safe(&name)
            ),
        });
    }
    // Fill references to the environment's own variables (`{{baseUrl}}/oauth/token`).
    let own: BTreeMap<String, String> = group
        .variables
        .iter()
        .map(|v| (v.name.clone(), v.value.expose_secret().to_string()))
        .collect();
    for v in &mut group.variables {
        if v.value.expose_secret().contains("{{") {
            v.value = SecretString::from(super::postman::resolve(v.value.expose_secret(), &own));
        }
    }
    for (n, line) in secret_names {
        if group.variables.iter().any(|v| v.name == n) {
            continue;
        }
        ignored.push(Ignored {
            name: n,
            at: Location {
                file: file.into(),
                line: Some(line),
                at: "vars:secret".into(),
            },
            reason: "a Bruno secret variable: its value is in Bruno's app, not in any file. Put it in the \
                     collection's .env and refer to it as {{process.env.NAME}}, then import again"
                .into(),
        });
    }
    Ok(Parsed {
        format: Format::BrunoEnvironment,
        groups: vec![group],
        ignored,
        credentials: Vec::new(),
    })
}

/// `KEY` of a value that is exactly `{{process.env.KEY}}`.
fn process_env(value: &str) -> Option<&str> {
    let inner = value.strip_prefix("{{")?.strip_suffix("}}")?.trim();
    inner.strip_prefix("process.env.").map(str::trim)
}
