//! The one check of a vault document as it is loaded, for the local metadata file and a
//! team vault's shared document alike: a teammate with write access to a team document,
//! a hand edit or a broken disk must not be able to steer paths, URLs or arithmetic.
//!
//! After [`validate`] every id is a UUID, every name a valid name, every field a field of
//! its provider's schema, every number inside the range the vault itself would write, and
//! every date inside the calendar years 1970 to 9999. Stored test reports (shown in lists)
//! have control characters stripped. Problems are described by position and field name,
//! never by echoing the hostile value.

use super::metadata::{CredentialRecord, Metadata};
use super::{ACCESS_TOKEN_FIELD, MAX_LEAD_DAYS, MAX_PERIOD_DAYS, REFRESH_TOKEN_FIELD};
use crate::dto::{FieldInput, ProviderSchema, TestReport};
use chrono::{DateTime, Datelike, Utc};
use std::collections::{BTreeMap, HashSet};

/// Longest non-secret field value kept in a document.
pub const MAX_FIELD_LEN: usize = 4096;
/// Longest text of a stored test report.
const MAX_REPORT_TEXT: usize = 2000;

/// Parses the bytes of a local metadata file into a checked document: the local file's
/// one parser (a team document comes wrapped in the engine's response and is checked by
/// [`validate`] after unwrapping).
///
/// # Errors
/// A description of the first problem: the JSON position and kind, or what [`validate`]
/// found. Never the file's content.
pub fn parse_document(bytes: &[u8]) -> Result<Metadata, String> {
    let mut m = parse_json(bytes)?;
    validate(&mut m)?;
    Ok(m)
}

/// Reads a document's JSON without checking it (see [`validate`]).
///
/// # Errors
/// Where the JSON is malformed or has the wrong shape (position and kind, never content).
pub fn parse_json(bytes: &[u8]) -> Result<Metadata, String> {
    serde_json::from_slice::<Metadata>(bytes)
        .map_err(|e| format!("line {}, column {}: {:?} error", e.line(), e.column(), e.classify()))
}

/// Checks (and, for stored reports, normalises) a loaded document.
///
/// # Errors
/// The first problem found, in words fit for an error message.
pub fn validate(m: &mut Metadata) -> Result<(), String> {
    if !is_uuid(&m.vault_id) {
        return Err("vault_id is not a UUID".into());
    }
    let s = &m.settings;
    in_range("settings.reminder_lead_days", s.reminder_lead_days, 0, MAX_LEAD_DAYS)?;
    in_range(
        "settings.default_rotation_days",
        s.default_rotation_days,
        1,
        MAX_PERIOD_DAYS,
    )?;
    let schemas: BTreeMap<String, ProviderSchema> = crate::providers::schemas()
        .into_iter()
        .map(|s| (s.kind.clone(), s))
        .collect();
    let (mut ids, mut names) = (HashSet::new(), HashSet::new());
    for (i, c) in m.credentials.iter_mut().enumerate() {
        let at = |what: &str| format!("credential {}: {what}", i + 1);
        check_record(c, &schemas).map_err(|e| at(&e))?;
        if !ids.insert(c.id.clone()) {
            return Err(at("its id is used twice"));
        }
        if !names.insert(c.name.clone()) {
            return Err(at("its name is used twice"));
        }
    }
    for (i, p) in m.pending_cleanup.iter().enumerate() {
        if !is_uuid(&p.credential_id) || !p.fields.iter().all(|f| is_field_name(f)) {
            return Err(format!(
                "pending_cleanup entry {}: not a credential id and field names",
                i + 1
            ));
        }
    }
    for (key, when) in &m.pending_since {
        let ok = key
            .split_once("/r")
            .is_some_and(|(id, rev)| is_uuid(id) && rev.parse::<u32>().is_ok());
        if !ok {
            return Err("pending_since: a key is not `{credential id}/r{revision}`".into());
        }
        date("pending_since", when)?;
    }
    Ok(())
}

fn check_record(c: &mut CredentialRecord, schemas: &BTreeMap<String, ProviderSchema>) -> Result<(), String> {
    if !is_uuid(&c.id) {
        return Err("id is not a UUID".into());
    }
    super::validate_name(&c.name).map_err(|_| "the name is not a valid credential name".to_string())?;
    let schema = schemas
        .get(&c.provider)
        .ok_or_else(|| "provider is not a known kind".to_string())?;
    for (name, value) in &c.fields {
        let f = schema
            .field(name)
            .filter(|f| !f.secret)
            .ok_or_else(|| "a field name is not a non-secret field of its provider".to_string())?;
        if value.len() > MAX_FIELD_LEN || value.chars().any(char::is_control) {
            return Err(format!("field `{}` is too long or holds control characters", f.name));
        }
        if f.input == FieldInput::Url {
            crate::providers::validate_url(&f.name, value)
                .map_err(|_| format!("field `{}` is not an https (or loopback) URL", f.name))?;
        }
    }
    for name in &c.secret_fields {
        if !schema.field(name).is_some_and(|f| f.secret) {
            return Err("secret_fields names a field that is not a secret field of its provider".into());
        }
    }
    in_range("rotation_period_days", c.rotation_period_days, 1, MAX_PERIOD_DAYS)?;
    date("created_at", &c.created_at)?;
    date("rotated_at", &c.rotated_at)?;
    super::age::check(c)?;
    if let Some(t) = &mut c.token {
        date("token.obtained_at", &t.obtained_at)?;
        date("token.expires_at", &t.expires_at)?;
        date("token.renew_at", &t.renew_at)?;
        if let Some(s) = &mut t.scope {
            make_printable(s);
        }
        if let Some(tags) = &mut t.taxpayer_tags {
            tags.iter_mut().for_each(make_printable);
        }
    }
    if let Some(r) = &mut c.last_test {
        date("last_test.tested_at", &r.tested_at)?;
        normalise_report(r);
    }
    Ok(())
}

/// Strips control characters from every text of a stored report (older builds and other
/// machines wrote these; they are shown in lists and terminals).
fn normalise_report(r: &mut TestReport) {
    make_printable(&mut r.credential);
    make_printable(&mut r.provider);
    make_printable(&mut r.summary);
    for s in &mut r.stages {
        make_printable(&mut s.target);
        make_printable(&mut s.message);
        for t in [&mut s.code, &mut s.hint].into_iter().flatten() {
            make_printable(t);
        }
    }
    if let Some(tags) = &mut r.taxpayer_tags {
        tags.iter_mut().for_each(make_printable);
    }
}

fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(MAX_REPORT_TEXT).collect()
}

/// [`printable`] in place, allocating only when there is something to strip (documents
/// are read on every token request).
fn make_printable(s: &mut String) {
    if s.len() > MAX_REPORT_TEXT || s.chars().any(char::is_control) {
        *s = printable(s);
    }
}

fn in_range(field: &str, v: u32, min: u32, max: u32) -> Result<(), String> {
    if (min..=max).contains(&v) {
        Ok(())
    } else {
        Err(format!("`{field}` is {v}, outside {min} to {max}"))
    }
}

fn date(field: &str, d: &DateTime<Utc>) -> Result<(), String> {
    if (1970..=9999).contains(&d.year()) {
        Ok(())
    } else {
        Err(format!("`{field}` is outside the years 1970 to 9999"))
    }
}

/// A lowercase hyphenated UUID, as the vault writes them.
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::parse_str(s).is_ok_and(|u| u.hyphenated().to_string() == s)
}

/// A schema field name, or one of the vault's own token fields: `[a-z0-9_]`, 1 to 64.
pub fn is_field_name(s: &str) -> bool {
    s == ACCESS_TOKEN_FIELD
        || s == REFRESH_TOKEN_FIELD
        || (!s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::metadata::PendingCleanup;

    fn doc() -> Metadata {
        let json = r#"{"schema":1,"vault_id":"0b5f0c1e-55a4-4a8e-9a53-2f7b1f0d9d11","credentials":[
          {"id":"7d8e9f10-1112-4314-9516-171819202122","name":"shop","provider":"oauth2",
           "environment":"production","fields":{"client_id":"c","token_url":"https://id.example/t"},
           "secret_fields":["client_secret"],"secret_rev":1,"created_at":"2026-01-01T00:00:00Z",
           "rotated_at":"2026-01-01T00:00:00Z","rotation_period_days":90}]}"#;
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_document_the_vault_writes_passes() {
        validate(&mut doc()).unwrap();
    }

    /// A named way to spoil a document.
    type Spoiler = (&'static str, Box<dyn Fn(&mut Metadata)>);

    #[test]
    fn hostile_values_are_refused() {
        let cases: Vec<Spoiler> = vec![
            (
                "traversal id",
                Box::new(|m| m.credentials[0].id = "../../other-team/vault#".into()),
            ),
            ("period", Box::new(|m| m.credentials[0].rotation_period_days = u32::MAX)),
            ("lead", Box::new(|m| m.settings.reminder_lead_days = u32::MAX)),
            (
                "unknown field",
                Box::new(|m| {
                    m.credentials[0].fields.insert("../x".into(), "v".into());
                }),
            ),
            (
                "secret as plain field",
                Box::new(|m| {
                    m.credentials[0].fields.insert("client_secret".into(), "v".into());
                }),
            ),
            (
                "http url",
                Box::new(|m| {
                    m.credentials[0]
                        .fields
                        .insert("token_url".into(), "http://evil.example/t".into());
                }),
            ),
            (
                "bad secret field",
                Box::new(|m| m.credentials[0].secret_fields.push("../../x".into())),
            ),
            (
                "pending",
                Box::new(|m| {
                    m.pending_cleanup.push(PendingCleanup {
                        credential_id: "../metadata/other".into(),
                        rev: 1,
                        fields: vec!["client_secret".into()],
                    })
                }),
            ),
            (
                "pending field",
                Box::new(|m| {
                    m.pending_cleanup.push(PendingCleanup {
                        credential_id: "7d8e9f10-1112-4314-9516-171819202122".into(),
                        rev: 1,
                        fields: vec!["a/../../b".into()],
                    })
                }),
            ),
            (
                "date",
                Box::new(|m| m.credentials[0].rotated_at = DateTime::<Utc>::MAX_UTC),
            ),
            (
                "duplicate",
                Box::new(|m| {
                    let c = m.credentials[0].clone();
                    m.credentials.push(c);
                }),
            ),
            ("bad name", Box::new(|m| m.credentials[0].name = "a\u{202e}b".into())),
            (
                "unknown provider",
                Box::new(|m| m.credentials[0].provider = "nope".into()),
            ),
        ];
        for (what, spoil) in cases {
            let mut m = doc();
            spoil(&mut m);
            let e = validate(&mut m).expect_err(what);
            assert!(
                !e.contains("../") && !e.contains("evil"),
                "{what}: echoes the value: {e}"
            );
        }
    }

    #[test]
    fn stored_reports_lose_control_characters() {
        let mut m = doc();
        m.credentials[0].last_test = Some(TestReport {
            credential: "shop".into(),
            provider: "oauth2".into(),
            ok: false,
            tested_at: Utc::now(),
            summary: "\u{1b}[2Jbad".into(),
            stages: vec![],
            taxpayer_tags: None,
        });
        validate(&mut m).unwrap();
        assert_eq!(m.credentials[0].last_test.as_ref().unwrap().summary, "[2Jbad");
    }
}
