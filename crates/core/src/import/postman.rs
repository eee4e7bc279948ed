//! Postman: environment exports (`{"name", "values": [{"key", "value", "type",
//! "enabled"}], "_postman_variable_scope": "environment"}`) and collections (v2.0/v2.1:
//! `info`, `item`, `variable`, and `auth` on the collection, folders and requests).
//!
//! An environment is one group of its enabled variables. A collection gives one group of
//! its collection variables, and one per auth setting: OAuth 2.0 with the client
//! credentials grant is read as the generic `oauth2` kind's known names
//! (`OAUTH2_TOKEN_URL`, `OAUTH2_CLIENT_ID`, `OAUTH2_CLIENT_SECRET`, `OAUTH2_SCOPE`,
//! `OAUTH2_AUDIENCE`, `OAUTH2_AUTH_METHOD`), a bearer token as `BEARER_TOKEN`, so `--map`
//! can send them to another kind. `{{variable}}` references are filled in from the
//! collection's variables.

use super::{
    check_count, Format, Group, Ignored, ImportError, JsonText, Location, Parsed, Variable, MAX_DEPTH, MAX_NAME_LEN,
};
use secrecy::SecretString;
use serde_json::Value;
use std::collections::BTreeMap;

/// Whether `doc` looks like a Postman environment (or globals) export.
pub fn looks_like_environment(doc: &Value) -> bool {
    let scope = doc.get("_postman_variable_scope").and_then(Value::as_str);
    doc.get("values").is_some() && (matches!(scope, Some("environment" | "globals")) || doc.get("item").is_none())
}

/// Whether `doc` looks like a Postman collection.
pub fn looks_like_collection(doc: &Value) -> bool {
    let schema = doc
        .get("info")
        .and_then(|i| i.get("schema"))
        .and_then(Value::as_str)
        .unwrap_or("");
    schema.contains("getpostman.com") || schema.contains("postman") || doc.get("item").is_some_and(Value::is_array)
}

fn shape(file: &str, detail: String) -> ImportError {
    ImportError::Shape {
        file: file.into(),
        detail,
    }
}

/// A JSON scalar as text: strings as they are, numbers and booleans written out.
pub(crate) fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A variable named `name` with `value` at JSON path `at`, its line found in `text`.
/// Where the same value is on more lines too (a secret copied into an environment and a
/// request, say), `at` names them, so the report points at every copy.
pub(crate) fn variable(file: &str, text: &JsonText<'_>, name: &str, value: String, at: String) -> Variable {
    let lines = text.lines(&value);
    let at = match lines.get(1..) {
        Some(more) if !more.is_empty() => {
            let more: Vec<String> = more.iter().map(usize::to_string).collect();
            format!("{at}; the same value is also on line {}", more.join(", "))
        }
        _ => at,
    };
    Variable {
        name: name.to_string(),
        value: SecretString::from(value),
        at: Location {
            file: file.into(),
            line: lines.first().copied(),
            at,
        },
    }
}

/// A place in the document without a value to find (an ignored setting).
pub(crate) fn place(file: &str, at: String) -> Location {
    Location {
        file: file.into(),
        line: None,
        at,
    }
}

/// A variable name from the document, refused when it is not a plain name.
pub(crate) fn name_ok(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_NAME_LEN && !name.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// Parses an environment export.
///
/// # Errors
/// [`ImportError::Shape`] naming the field at fault.
pub fn parse_environment(file: &str, text: &str, doc: &Value) -> Result<Parsed, ImportError> {
    let text = &JsonText::new(text);
    let values = doc
        .get("values")
        .and_then(Value::as_array)
        .ok_or_else(|| shape(file, "`values` is not an array".into()))?;
    check_count(file, values.len())?;
    let label = doc.get("name").and_then(Value::as_str).map(str::to_string);
    let mut group = Group {
        label,
        variables: Vec::new(),
    };
    let mut ignored = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let path = format!("values[{i}]");
        let key = v
            .get("key")
            .and_then(Value::as_str)
            .ok_or_else(|| shape(file, format!("`{path}.key` is missing or not a string")))?;
        if !name_ok(key) {
            return Err(shape(file, format!("`{path}.key` is not a variable name")));
        }
        if v.get("enabled").and_then(Value::as_bool) == Some(false) {
            ignored.push(Ignored {
                name: key.into(),
                at: place(file, path),
                reason: "disabled in Postman".into(),
            });
            continue;
        }
        let value = match v.get("value") {
            Some(x) if x.is_object() || x.is_array() => {
                return Err(shape(file, format!("`{path}.value` is not text")));
            }
            Some(x) => scalar(x).filter(|s| !s.is_empty()),
            None => None,
        };
        match value {
            Some(value) => group.variables.push(variable(file, text, key, value, path)),
            None => ignored.push(Ignored {
                name: key.into(),
                at: place(file, path),
                reason: "no value in the export (Postman exports a variable's initial value, not its current \
                         one: set the initial value, or put the value in a .env file)"
                    .into(),
            }),
        }
    }
    Ok(Parsed {
        format: Format::PostmanEnvironment,
        groups: vec![group],
        ignored,
        credentials: Vec::new(),
    })
}

/// Parses a collection: its variables and every auth setting.
///
/// # Errors
/// [`ImportError::Shape`] naming the field at fault.
pub fn parse_collection(file: &str, text: &str, doc: &Value) -> Result<Parsed, ImportError> {
    let text = &JsonText::new(text);
    let label = doc
        .get("info")
        .and_then(|i| i.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut vars = Group {
        label: label.clone(),
        variables: Vec::new(),
    };
    let mut known: BTreeMap<String, String> = BTreeMap::new();
    if let Some(list) = doc.get("variable") {
        let list = list
            .as_array()
            .ok_or_else(|| shape(file, "`variable` is not an array".into()))?;
        check_count(file, list.len())?;
        for (i, v) in list.iter().enumerate() {
            let path = format!("variable[{i}]");
            let Some(key) = v.get("key").or_else(|| v.get("id")).and_then(Value::as_str) else {
                return Err(shape(file, format!("`{path}.key` is missing or not a string")));
            };
            if !name_ok(key) || v.get("disabled").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            if let Some(value) = v.get("value").and_then(scalar).filter(|s| !s.is_empty()) {
                known.insert(key.to_string(), value.clone());
                vars.variables.push(variable(file, text, key, value, path));
            }
        }
    }
    let mut out = Parsed {
        format: Format::PostmanCollection,
        groups: vec![vars],
        ignored: Vec::new(),
        credentials: Vec::new(),
    };
    let mut count = 0;
    walk(file, text, doc, "", label.as_deref(), &known, &mut out, &mut count, 0)?;
    Ok(out)
}

/// Visits the auth of `node` (the collection, a folder or a request) and its items.
#[allow(clippy::too_many_arguments)]
fn walk(
    file: &str,
    text: &JsonText<'_>,
    node: &Value,
    path: &str,
    label: Option<&str>,
    known: &BTreeMap<String, String>,
    out: &mut Parsed,
    count: &mut usize,
    depth: usize,
) -> Result<(), ImportError> {
    *count += 1;
    check_count(file, *count)?;
    if depth > MAX_DEPTH {
        return Err(shape(file, format!("items nested deeper than {MAX_DEPTH} levels")));
    }
    let label = node.get("name").and_then(Value::as_str).or(label);
    if let Some(auth) = node.get("auth").filter(|a| !a.is_null()) {
        let at = if path.is_empty() {
            "auth".to_string()
        } else {
            format!("{path}.auth")
        };
        auth_group(file, text, auth, &at, label, None, known, out)?;
    }
    // A request's own auth; a GET request's URL is its connectivity test.
    if let Some(request) = node.get("request").filter(|r| r.is_object()) {
        if let Some(auth) = request.get("auth").filter(|a| !a.is_null()) {
            let at = format!("{}.auth", join(path, "request"));
            let get = request
                .get("method")
                .and_then(Value::as_str)
                .is_none_or(|m| m.eq_ignore_ascii_case("GET"));
            let url = request
                .get("url")
                .and_then(|u| u.as_str().or_else(|| u.get("raw").and_then(Value::as_str)))
                .filter(|_| get)
                .map(|u| (u, format!("{}.url", join(path, "request"))));
            auth_group(file, text, auth, &at, label, url, known, out)?;
        }
    }
    if let Some(items) = node.get("item") {
        let items = items
            .as_array()
            .ok_or_else(|| shape(file, format!("`{}` is not an array", join(path, "item"))))?;
        for (i, item) in items.iter().enumerate() {
            let p = format!("{}[{i}]", join(path, "item"));
            walk(file, text, item, &p, label, known, out, count, depth + 1)?;
        }
    }
    Ok(())
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The parameters of one auth type: v2.1's `[{"key", "value"}]`, or v2.0's object.
fn params(file: &str, v: &Value, at: &str) -> Result<Vec<(String, String, String)>, ImportError> {
    let mut out = Vec::new();
    match v {
        Value::Array(list) => {
            for (i, p) in list.iter().enumerate() {
                let Some(key) = p.get("key").and_then(Value::as_str) else {
                    return Err(shape(file, format!("`{at}[{i}].key` is missing or not a string")));
                };
                if let Some(value) = p.get("value").and_then(scalar) {
                    out.push((key.to_string(), value, format!("{at}[{i}]")));
                }
            }
        }
        Value::Object(map) => {
            for (k, val) in map.iter().filter(|(k, _)| name_ok(k)) {
                if let Some(value) = scalar(val) {
                    out.push((k.clone(), value, format!("{at}.{k}")));
                }
            }
        }
        _ => return Err(shape(file, format!("`{at}` is neither an array nor an object"))),
    }
    Ok(out)
}

/// Fills in `{{name}}` (and Insomnia's `{{ _.name }}`) references from `known`; unknown
/// ones stay, so the plan names them. At most 32 references are filled.
pub(crate) fn resolve(value: &str, known: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = value;
    for _ in 0..32 {
        let Some(start) = rest.find("{{") else { break };
        let Some(len) = rest[start..].find("}}") else { break };
        let inner = rest[start + 2..start + len].trim();
        let key = inner.strip_prefix("_.").unwrap_or(inner);
        out.push_str(&rest[..start]);
        match known.get(key) {
            Some(v) => out.push_str(v),
            None => out.push_str(&rest[start..start + len + 2]),
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

/// One auth setting as a group of known names; `test_url` is the URL (and its place) of
/// the GET request it belongs to, taken as the credential's `test_url`.
#[allow(clippy::too_many_arguments)]
fn auth_group(
    file: &str,
    text: &JsonText<'_>,
    auth: &Value,
    at: &str,
    label: Option<&str>,
    test_url: Option<(&str, String)>,
    known: &BTreeMap<String, String>,
    out: &mut Parsed,
) -> Result<(), ImportError> {
    let kind = auth
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| shape(file, format!("`{at}.type` is missing or not a string")))?;
    let mut group = Group {
        label: label.map(str::to_string),
        variables: Vec::new(),
    };
    let ignore = |out: &mut Parsed, reason: String| {
        out.ignored.push(Ignored {
            name: format!("{kind} auth"),
            at: place(file, at.into()),
            reason,
        })
    };
    match kind {
        "noauth" | "inherit" => return Ok(()),
        "oauth2" => {
            let p = params(
                file,
                auth.get("oauth2").unwrap_or(&Value::Null),
                &format!("{at}.oauth2"),
            )
            .or_else(|e| {
                if auth.get("oauth2").is_none() {
                    Ok(Vec::new())
                } else {
                    Err(e)
                }
            })?;
            let grant = p
                .iter()
                .find(|(k, _, _)| k == "grant_type")
                .map(|(_, v, _)| v.as_str())
                .unwrap_or("authorization_code");
            if grant != "client_credentials" {
                ignore(
                    out,
                    format!(
                        "OAuth 2.0 with the `{}` grant: Tillkey's generic oauth2 kind uses client credentials \
                         (map the values of a .env file to a provider kind instead)",
                        super::mapping_safe(grant)
                    ),
                );
                return Ok(());
            }
            for (key, value, path) in p {
                let name = match key.as_str() {
                    "accessTokenUrl" => "OAUTH2_TOKEN_URL",
                    "clientId" => "OAUTH2_CLIENT_ID",
                    "clientSecret" => "OAUTH2_CLIENT_SECRET",
                    "scope" => "OAUTH2_SCOPE",
                    "audience" => "OAUTH2_AUDIENCE",
                    "client_authentication" => "OAUTH2_AUTH_METHOD",
                    _ => continue,
                };
                let value = resolve(&value, known);
                let value = match (name, value.as_str()) {
                    ("OAUTH2_AUTH_METHOD", "header") => "basic".to_string(),
                    ("OAUTH2_AUTH_METHOD", "body") => "post".to_string(),
                    _ => value,
                };
                if !value.is_empty() {
                    group.variables.push(variable(file, text, name, value, path));
                }
            }
        }
        "bearer" => {
            let p = params(
                file,
                auth.get("bearer").unwrap_or(&Value::Null),
                &format!("{at}.bearer"),
            )
            .or_else(|e| {
                if auth.get("bearer").is_none() {
                    Ok(Vec::new())
                } else {
                    Err(e)
                }
            })?;
            for (key, value, path) in p {
                let value = resolve(&value, known);
                if key == "token" && !value.is_empty() {
                    group.variables.push(variable(file, text, "BEARER_TOKEN", value, path));
                }
            }
        }
        other => {
            ignore(
                out,
                format!(
                    "`{}` auth is not a credential kind Tillkey has",
                    super::mapping_safe(other)
                ),
            );
            return Ok(());
        }
    }
    add_test_url(file, text, kind, test_url, known, &mut group);
    if !group.variables.is_empty() {
        out.groups.push(group);
    }
    Ok(())
}

/// Adds `{KIND}_TEST_URL` from the GET request an auth setting belongs to (`kind` is
/// `oauth2` or `bearer`), its references filled in from `known`.
pub(crate) fn add_test_url(
    file: &str,
    text: &JsonText<'_>,
    kind: &str,
    url: Option<(&str, String)>,
    known: &BTreeMap<String, String>,
    group: &mut Group,
) {
    let Some((url, path)) = url else { return };
    if group.variables.is_empty() || url.is_empty() {
        return;
    }
    let name = match kind {
        "oauth2" => "OAUTH2_TEST_URL",
        "bearer" => "BEARER_TEST_URL",
        _ => return,
    };
    group
        .variables
        .push(variable(file, text, name, resolve(url, known), path));
}
