//! Insomnia v4 JSON exports: `{"_type": "export", "__export_format": 4, "resources": […]}`
//! where each resource has a `_type`. Read are:
//!
//! - `environment`: one group per environment, its `data` object flattened (`a.b` for
//!   nested objects; strings, numbers and booleans);
//! - `request` and `request_group`: the `authentication` setting, OAuth 2.0 client
//!   credentials as the `oauth2` kind's known names (`OAUTH2_TOKEN_URL`, … with
//!   `credentialsInBody` as `OAUTH2_AUTH_METHOD`), a bearer token as `BEARER_TOKEN`, like
//!   Postman's (see [`super::postman`]).
//!
//! `{{ _.name }}` references are filled in from the base environments (those whose parent
//! is the workspace). Other resources (workspaces, cookie jars, specs) are skipped.

use super::postman::{add_test_url, name_ok, place, resolve, scalar, variable};
use super::{check_count, Format, Group, Ignored, ImportError, Parsed, Variable, MAX_DEPTH};
use serde_json::Value;
use std::collections::BTreeMap;

/// Whether `doc` is an Insomnia export.
pub fn looks_like(doc: &Value) -> bool {
    doc.get("_type").and_then(Value::as_str) == Some("export") && doc.get("resources").is_some()
}

fn shape(file: &str, detail: String) -> ImportError {
    ImportError::Shape {
        file: file.into(),
        detail,
    }
}

/// Parses an export.
///
/// # Errors
/// [`ImportError::Shape`] naming the field at fault (an export of another format version
/// too).
pub fn parse(file: &str, text: &str, doc: &Value) -> Result<Parsed, ImportError> {
    let text = &super::JsonText::new(text);
    match doc.get("__export_format").and_then(Value::as_u64) {
        Some(4) => {}
        _ => {
            return Err(shape(
                file,
                "`__export_format` is not 4 (Tillkey reads Insomnia's v4 JSON export)".into(),
            ))
        }
    }
    let resources = doc
        .get("resources")
        .and_then(Value::as_array)
        .ok_or_else(|| shape(file, "`resources` is not an array".into()))?;
    check_count(file, resources.len())?;
    let mut out = Parsed {
        format: Format::Insomnia,
        groups: Vec::new(),
        ignored: Vec::new(),
        credentials: Vec::new(),
    };
    // Base environments first: they fill the references.
    let mut base: BTreeMap<String, String> = BTreeMap::new();
    let mut count = 0;
    for (i, r) in resources.iter().enumerate() {
        let path = format!("resources[{i}]");
        let kind = r
            .get("_type")
            .and_then(Value::as_str)
            .ok_or_else(|| shape(file, format!("`{path}._type` is missing or not a string")))?;
        if kind != "environment" {
            continue;
        }
        let data = match r.get("data") {
            Some(Value::Object(_)) => r.get("data").unwrap_or(&Value::Null),
            None | Some(Value::Null) => continue,
            Some(_) => return Err(shape(file, format!("`{path}.data` is not an object"))),
        };
        let mut group = Group {
            label: r.get("name").and_then(Value::as_str).map(str::to_string),
            variables: Vec::new(),
        };
        flatten(
            file,
            text,
            data,
            "",
            &format!("{path}.data"),
            &mut group.variables,
            &mut count,
            0,
        )?;
        let is_base = r
            .get("parentId")
            .and_then(Value::as_str)
            .is_some_and(|p| p.starts_with("wrk_"));
        if is_base {
            for v in &group.variables {
                base.insert(
                    v.name.clone(),
                    secrecy::ExposeSecret::expose_secret(&v.value).to_string(),
                );
            }
        }
        out.groups.push(group);
    }
    for (i, r) in resources.iter().enumerate() {
        let path = format!("resources[{i}]");
        let kind = r.get("_type").and_then(Value::as_str).unwrap_or("");
        if !matches!(kind, "request" | "request_group") {
            continue;
        }
        let Some(auth) = r
            .get("authentication")
            .filter(|a| a.as_object().is_some_and(|o| !o.is_empty()))
        else {
            continue;
        };
        let at = format!("{path}.authentication");
        let label = r.get("name").and_then(Value::as_str);
        // A GET request's URL is its connectivity test.
        let get = r
            .get("method")
            .and_then(Value::as_str)
            .is_some_and(|m| m.eq_ignore_ascii_case("GET"));
        let url = r
            .get("url")
            .and_then(Value::as_str)
            .filter(|_| get && kind == "request")
            .map(|u| (u, format!("{path}.url")));
        auth_group(file, text, auth, &at, label, url, &base, &mut out)?;
    }
    Ok(out)
}

/// Flattens an environment's `data` into variables (`a.b` for nested objects).
#[allow(clippy::too_many_arguments)]
fn flatten(
    file: &str,
    text: &super::JsonText<'_>,
    v: &Value,
    prefix: &str,
    path: &str,
    out: &mut Vec<Variable>,
    count: &mut usize,
    depth: usize,
) -> Result<(), ImportError> {
    if depth > MAX_DEPTH {
        return Err(shape(file, format!("`{path}` is nested too deeply")));
    }
    let Some(map) = v.as_object() else { return Ok(()) };
    for (k, val) in map {
        *count += 1;
        check_count(file, *count)?;
        let name = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        let p = format!("{path}.{k}");
        if !name_ok(&name) {
            return Err(shape(
                file,
                format!("`{}` is not a variable name", super::mapping_safe(&p)),
            ));
        }
        match val {
            Value::Object(_) => flatten(file, text, val, &name, &p, out, count, depth + 1)?,
            _ => {
                if let Some(s) = scalar(val).filter(|s| !s.is_empty()) {
                    out.push(variable(file, text, &name, s, p));
                }
            }
        }
    }
    Ok(())
}

/// One request's (or folder's) authentication as a group of known names, with the GET
/// request's `url` (and its place) as the test URL.
#[allow(clippy::too_many_arguments)]
fn auth_group(
    file: &str,
    text: &super::JsonText<'_>,
    auth: &Value,
    at: &str,
    label: Option<&str>,
    url: Option<(&str, String)>,
    base: &BTreeMap<String, String>,
    out: &mut Parsed,
) -> Result<(), ImportError> {
    let kind = auth.get("type").and_then(Value::as_str).unwrap_or("");
    if auth.get("disabled").and_then(Value::as_bool) == Some(true) || kind.is_empty() || kind == "none" {
        return Ok(());
    }
    let mut group = Group {
        label: label.map(str::to_string),
        variables: Vec::new(),
    };
    let take = |key: &str, name: &str, group: &mut Group| {
        if let Some(v) = auth.get(key).and_then(scalar) {
            let v = resolve(&v, base);
            if !v.is_empty() {
                group
                    .variables
                    .push(variable(file, text, name, v, format!("{at}.{key}")));
            }
        }
    };
    match kind {
        "oauth2" => {
            let grant = auth.get("grantType").and_then(Value::as_str).unwrap_or("");
            if grant != "client_credentials" {
                out.ignored.push(Ignored {
                    name: "oauth2 authentication".into(),
                    at: place(file, at.into()),
                    reason: format!(
                        "OAuth 2.0 with the `{}` grant: Tillkey's generic oauth2 kind uses client credentials",
                        super::mapping_safe(grant)
                    ),
                });
                return Ok(());
            }
            take("accessTokenUrl", "OAUTH2_TOKEN_URL", &mut group);
            take("clientId", "OAUTH2_CLIENT_ID", &mut group);
            take("clientSecret", "OAUTH2_CLIENT_SECRET", &mut group);
            take("scope", "OAUTH2_SCOPE", &mut group);
            take("audience", "OAUTH2_AUDIENCE", &mut group);
            if let Some(b) = auth.get("credentialsInBody").and_then(Value::as_bool) {
                group.variables.push(Variable {
                    name: "OAUTH2_AUTH_METHOD".into(),
                    value: if b { "post" } else { "basic" }.into(),
                    at: place(file, format!("{at}.credentialsInBody")),
                });
            }
        }
        "bearer" => take("token", "BEARER_TOKEN", &mut group),
        other => {
            out.ignored.push(Ignored {
                name: format!("{} authentication", super::mapping_safe(other)),
                at: place(file, at.into()),
                reason: "not a credential kind Tillkey has".into(),
            });
            return Ok(());
        }
    }
    add_test_url(file, text, kind, url, base, &mut group);
    if !group.variables.is_empty() {
        out.groups.push(group);
    }
    Ok(())
}
