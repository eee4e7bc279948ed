//! Editing a credential, the shared settings and reminders.

use super::*;

fn edit_fields(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
    Some(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

/// Secret values typed again in the edit form.
fn typed(pairs: &[(&str, &str)]) -> BTreeMap<String, SecretString> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), SecretString::from(*v)))
        .collect()
}

#[test]
fn edit_changes_non_secret_fields_and_keeps_the_secret() {
    let f = fixture();
    f.vault.add(bearer("shop", "tok")).unwrap();
    let s = f
        .vault
        .edit(
            "shop",
            CredentialEdit {
                name: Some("shop-2".into()),
                fields: edit_fields(&[("test_url", "https://api.example/ping")]),
                rotation_period_days: Some(30),
                current_secrets: typed(&[("token", "tok")]),
                ..CredentialEdit::default()
            },
        )
        .expect("edit");
    assert_eq!(s.name, "shop-2");
    assert_eq!(
        s.fields.get("test_url").map(String::as_str),
        Some("https://api.example/ping")
    );
    assert_eq!(s.rotation_period_days, 30);
    assert_eq!(s.rotation.days_left, 30);
    assert_eq!(f.vault.secret("shop-2", "token").unwrap().expose_secret(), "tok");
    assert_eq!(f.vault.show("shop").unwrap_err().code(), "not_found");
    // Clearing a field: left out of the complete set.
    let s = f
        .vault
        .edit(
            "shop-2",
            CredentialEdit {
                fields: edit_fields(&[]),
                current_secrets: typed(&[("token", "tok")]),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(s.fields.is_empty());
}

#[test]
fn invalid_edit_changes_nothing() {
    let f = fixture();
    f.vault.add(bearer("shop", "tok")).unwrap();
    f.vault.add(bearer("other", "tok2")).unwrap();
    let before = metadata_text(&f);
    let bad_url = CredentialEdit {
        fields: edit_fields(&[("test_url", "http://example.com/x")]),
        ..Default::default()
    };
    let e = f.vault.edit("shop", bad_url).unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("plain http"), "{e}");
    let secret_as_field = CredentialEdit {
        fields: edit_fields(&[("token", "x")]),
        ..Default::default()
    };
    assert_eq!(
        f.vault.edit("shop", secret_as_field).unwrap_err().code(),
        "invalid_input"
    );
    let taken = CredentialEdit {
        name: Some("other".into()),
        ..Default::default()
    };
    assert_eq!(f.vault.edit("shop", taken).unwrap_err().code(), "already_exists");
    let bad_name = CredentialEdit {
        name: Some("no spaces".into()),
        ..Default::default()
    };
    assert_eq!(f.vault.edit("shop", bad_name).unwrap_err().code(), "invalid_input");
    assert_eq!(
        f.vault.set_rotation_period("shop", 0).unwrap_err().code(),
        "invalid_input"
    );
    assert_eq!(
        f.vault.edit("nope", CredentialEdit::default()).unwrap_err().code(),
        "not_found"
    );
    assert_eq!(metadata_text(&f), before);
}

#[test]
fn editing_endpoints_discards_cached_tokens() {
    let f = fixture();
    f.vault.add(bearer("shop", "tok")).unwrap();
    let r = f.vault.record("shop").unwrap();
    let now = f.clock.now();
    let info = crate::dto::TokenInfo {
        obtained_at: now,
        expires_at: now + Duration::hours(1),
        renew_at: now + Duration::minutes(55),
        refreshable: false,
        scope: None,
        taxpayer_tags: None,
    };
    f.vault
        .store_token(&r.id, r.secret_rev, &SecretString::from("cached"), None, info)
        .unwrap();
    assert!(f.vault.show("shop").unwrap().token.is_some());
    // A rotation-period change keeps the token …
    f.vault.set_rotation_period("shop", 45).unwrap();
    assert!(f.vault.show("shop").unwrap().token.is_some());
    assert!(f.vault.cached(&r, TokenField::Access).unwrap().is_some());
    // … an endpoint change drops it, in the keyring too.
    let e = CredentialEdit {
        fields: edit_fields(&[("test_url", "https://api.example/ping")]),
        current_secrets: typed(&[("token", "tok")]),
        ..Default::default()
    };
    f.vault.edit("shop", e).unwrap();
    assert!(f.vault.show("shop").unwrap().token.is_none());
    assert!(f.vault.cached(&r, TokenField::Access).unwrap().is_none());
    assert_eq!(f.vault.secret("shop", "token").unwrap().expose_secret(), "tok");
}

/// Issue 10, webview: a compromised webview could re-point `token_url` and collect the
/// secret on the next test or copy. Changing where secrets go needs them typed again.
#[test]
fn changing_where_secrets_are_sent_needs_the_current_secrets() {
    let f = fixture();
    f.vault.add(ereceipt("till", "psk-value")).unwrap();
    let r = f.vault.record("till").unwrap();
    let now = f.clock.now();
    let info = crate::dto::TokenInfo {
        obtained_at: now,
        expires_at: now + Duration::hours(1),
        renew_at: now + Duration::minutes(55),
        refreshable: false,
        scope: None,
        taxpayer_tags: None,
    };
    f.vault
        .store_token(&r.id, r.secret_rev, &SecretString::from("cached"), None, info)
        .unwrap();
    let before = metadata_text(&f);
    let stored = f.vault.show("till").unwrap().fields;
    let with_token_url = |secrets: &[(&str, &str)]| {
        let mut fields = stored.clone();
        fields.insert("token_url".into(), "https://attacker.example/collect".into());
        CredentialEdit {
            fields: Some(fields),
            current_secrets: typed(secrets),
            ..Default::default()
        }
    };

    // Without the secrets: refused with its own code, exit 2, naming fields only.
    let e = f.vault.edit("till", with_token_url(&[])).unwrap_err();
    assert_eq!(e.code(), "secret_required");
    assert_eq!(e.class(), crate::error::ErrorClass::Input);
    assert_eq!(e.class().exit_code(), 2);
    let shown = format!("{e} {}", e.hint().unwrap_or_default());
    for name in ["`token_url`", "`client_secret`", "`presharedkey`", "`till`"] {
        assert!(shown.contains(name), "{name} missing from: {shown}");
    }
    assert!(!shown.contains("psk-value"), "{shown}");
    assert!(!shown.contains("attacker.example"), "{shown}");
    // A wrong one, one of two, a right prefix: refused too, and never echoed.
    for secrets in [
        &[("client_secret", "s"), ("presharedkey", "wrong-guess")][..],
        &[("client_secret", "s")][..],
        &[("client_secret", "s"), ("presharedkey", "psk")][..],
        &[("client_secret", "x"), ("presharedkey", "psk-value")][..],
        &[("client_secret", ""), ("presharedkey", "psk-value")][..],
    ] {
        let e = f.vault.edit("till", with_token_url(secrets)).unwrap_err();
        assert_eq!(e.code(), "secret_required", "{secrets:?}");
        let shown = format!("{e:?} {e} {}", e.hint().unwrap_or_default());
        assert!(
            !shown.contains("wrong-guess") && !shown.contains("psk-value"),
            "{shown}"
        );
    }
    // Nothing changed: not the metadata, not the cached token.
    assert_eq!(metadata_text(&f), before);
    assert!(f.vault.cached(&r, TokenField::Access).unwrap().is_some());

    // The right ones (pasted with a line end, trimmed as add trims): changed.
    let s = f
        .vault
        .edit(
            "till",
            with_token_url(&[("client_secret", "s"), ("presharedkey", " psk-value\r\n")]),
        )
        .expect("confirmed by the current secrets");
    assert_eq!(
        s.fields.get("token_url").map(String::as_str),
        Some("https://attacker.example/collect")
    );
    assert!(f.vault.cached(&r, TokenField::Access).unwrap().is_none());

    // Clearing a destination is a change of destination too.
    let mut fields = f.vault.show("till").unwrap().fields;
    fields.remove("token_url");
    let clear = CredentialEdit {
        fields: Some(fields),
        ..Default::default()
    };
    assert_eq!(f.vault.edit("till", clear).unwrap_err().code(), "secret_required");

    // What does not move the secrets needs nothing: a non-URL field, the name, the period.
    let mut fields = f.vault.show("till").unwrap().fields;
    fields.insert("client_id".into(), "c2".into());
    let plain = CredentialEdit {
        name: Some("till-2".into()),
        fields: Some(fields),
        rotation_period_days: Some(60),
        ..Default::default()
    };
    let s = f.vault.edit("till", plain).expect("no destination changed");
    assert_eq!(s.fields.get("client_id").map(String::as_str), Some("c2"));
}

#[test]
fn every_url_field_and_the_auth_host_count_as_destinations() {
    let mut names: Vec<String> = providers::schemas()
        .iter()
        .flat_map(|s| secret_destinations(s).map(str::to_string).collect::<Vec<_>>())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(
        names,
        [
            "api_base",
            "auth_host",
            "identity_url",
            "revoke_url",
            "test_url",
            "token_url"
        ]
    );
    // Chimpy's host and a bearer token's test URL, end to end.
    let f = fixture();
    f.vault.add(bearer("shop", "tok")).unwrap();
    let e = CredentialEdit {
        fields: edit_fields(&[("test_url", "https://elsewhere.example/ping")]),
        ..Default::default()
    };
    assert_eq!(f.vault.edit("shop", e).unwrap_err().code(), "secret_required");
    let chimpy = NewCredential {
        name: "chimpy".into(),
        provider: "chimpy".into(),
        environment: None,
        fields: [
            ("auth_host", "auth.chimpy.example"),
            ("client_id", "c"),
            ("audience", "a"),
            ("username", "u"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        secrets: typed(&[("password", "pw")]),
    };
    f.vault.add(chimpy).unwrap();
    let mut fields = f.vault.show("chimpy").unwrap().fields;
    fields.insert("auth_host".into(), "evil.example".into());
    let e = CredentialEdit {
        fields: Some(fields.clone()),
        current_secrets: typed(&[("password", "not-it")]),
        ..Default::default()
    };
    assert_eq!(f.vault.edit("chimpy", e).unwrap_err().code(), "secret_required");
    let e = CredentialEdit {
        fields: Some(fields),
        current_secrets: typed(&[("password", "pw")]),
        ..Default::default()
    };
    assert_eq!(
        f.vault
            .edit("chimpy", e)
            .unwrap()
            .fields
            .get("auth_host")
            .map(String::as_str),
        Some("evil.example")
    );
}

#[test]
fn debug_of_an_edit_redacts_the_typed_secrets() {
    let e = CredentialEdit {
        current_secrets: typed(&[("token", "typed-again-value")]),
        ..Default::default()
    };
    let shown = format!("{e:?}");
    assert!(!shown.contains("typed-again-value"), "{shown}");
}

#[test]
fn settings_are_shared_through_the_metadata_file() {
    let f = fixture();
    assert_eq!(
        f.vault.vault_settings().unwrap(),
        VaultSettings {
            reminder_lead_days: 14,
            default_rotation_days: 90
        }
    );
    f.vault
        .set_settings(VaultSettings {
            reminder_lead_days: 7,
            default_rotation_days: 60,
        })
        .unwrap();
    // Another handle on the same data dir (the CLI) sees the same values.
    let other = Vault::open(f.vault.data_dir(), f.store.clone(), f.clock.clone()).unwrap();
    assert_eq!(other.settings().unwrap().reminder_lead_days, 7);
    assert_eq!(other.add(bearer("new", "t")).unwrap().rotation_period_days, 60);
    assert_eq!(other.set_reminder_lead_days(20).unwrap().default_rotation_days, 60);
    assert_eq!(f.vault.settings().unwrap().reminder_lead_days, 20);
    let e = f
        .vault
        .set_settings(VaultSettings {
            reminder_lead_days: 400,
            default_rotation_days: 60,
        })
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert_eq!(f.vault.set_reminder_lead_days(0).unwrap().reminder_lead_days, 0);
    assert!(f
        .vault
        .set_settings(VaultSettings {
            reminder_lead_days: 1,
            default_rotation_days: 0
        })
        .is_err());
}

#[test]
fn lead_time_changes_what_counts_as_due_soon() {
    let f = fixture();
    f.vault.add(bearer("shop", "t")).unwrap();
    f.clock.advance(Duration::days(70));
    assert_eq!(f.vault.show("shop").unwrap().rotation.status, RotationStatus::Ok);
    f.vault.set_reminder_lead_days(30).unwrap();
    assert_eq!(f.vault.show("shop").unwrap().rotation.status, RotationStatus::DueSoon);
}
