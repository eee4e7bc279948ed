//! The provider catalogue and its schema checks.

use super::*;
use crate::dto::Environment;
use std::collections::BTreeMap;

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

#[test]
fn only_mypos_client_id_rotates_with_the_secret_and_never_a_url_or_destination() {
    let mut flagged = Vec::new();
    for s in schemas() {
        let destinations: Vec<&str> = crate::vault::secret_destinations(&s).collect();
        for f in s.fields.iter().filter(|f| f.rotates_with_secret) {
            assert!(!f.secret, "{}.{} is a secret: it rotates anyway", s.kind, f.name);
            assert_ne!(f.input, crate::dto::FieldInput::Url, "{}.{} is a URL", s.kind, f.name);
            assert!(
                !destinations.contains(&f.name.as_str()),
                "{}.{} says where secrets are sent",
                s.kind,
                f.name
            );
            flagged.push(format!("{}.{}", s.kind, f.name));
        }
    }
    assert_eq!(flagged, vec!["mypos.client_id"]);
    let json = serde_json::to_value(schema("mypos").unwrap()).unwrap();
    let client_id = json["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "client_id")
        .unwrap();
    assert_eq!(
        client_id["rotatesWithSecret"],
        serde_json::json!(true),
        "front ends read the flag"
    );
}

fn pairs(p: &[(&str, &str)]) -> BTreeMap<String, String> {
    p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn a_rotation_may_change_only_flagged_identity_fields() {
    let mypos = schema("mypos").unwrap();
    let current = pairs(&[("client_id", "old-id"), ("scope", "webhooks")]);
    let ok = clean_identity(&mypos, &current, &pairs(&[("client_id", "  new-id\n")])).unwrap();
    assert_eq!(ok, pairs(&[("client_id", "new-id")]), "trimmed");
    let same = clean_identity(&mypos, &current, &pairs(&[("client_id", "old-id")])).unwrap();
    assert!(same.is_empty(), "the current value is no change");
    for (field, value, says) in [
        ("revoke_url", "https://evil.example/revoke", "is a URL"),
        ("token_url", "https://evil.example/token", "is a URL"),
        ("scope", "other", "does not change in a rotation"),
        ("client_secret", "s", "secret field"),
        ("nope", "x", "has no field"),
        ("client_id", "   ", "is empty"),
        ("client_id", "a\u{7}b", "control characters"),
    ] {
        let e = clean_identity(&mypos, &current, &pairs(&[(field, value)])).unwrap_err();
        assert_eq!(e.code(), "invalid_input", "{field}: {e}");
        let text = e.to_string();
        assert!(text.contains(says), "{field}: {text}");
        assert!(!text.contains("evil.example"), "values are not echoed: {text}");
    }
    let e = clean_identity(&mypos, &current, &pairs(&[("scope", "x")])).unwrap_err();
    assert!(e.to_string().contains("its secrets and client_id"), "{e}");
    // A kind without identity fields rotates secrets only.
    let checkout = schema("paysera-checkout").unwrap();
    let e = clean_identity(&checkout, &pairs(&[("client_id", "c")]), &pairs(&[("client_id", "d")])).unwrap_err();
    assert!(e.to_string().contains("changes only its secrets"), "{e}");
}
