//! Unit tests of the parsers, the mapping, the plan and the import into a vault over a
//! memory store (the CLI tests run the same against the real keyring and simulators).

use super::*;
use crate::clock::FixedClock;
use crate::vault::Vault;
use secrecy::ExposeSecret;

fn vault(dir: &Path) -> (Vault, Arc<MemoryStore>) {
    let now = chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .map(|d| d.with_timezone(&chrono::Utc))
        .expect("date");
    let store = Arc::new(MemoryStore::new());
    let v = Vault::open(dir, store.clone(), Arc::new(FixedClock::new(now))).expect("vault");
    (v, store)
}

fn source(file: &str, text: &str) -> Source {
    Source {
        file: file.into(),
        bytes: text.as_bytes().to_vec(),
        dotenv: None,
    }
}

fn vars(p: &Parsed) -> Vec<(String, String, Option<usize>)> {
    p.groups
        .iter()
        .flat_map(|g| &g.variables)
        .map(|v| (v.name.clone(), v.value.expose_secret().to_string(), v.at.line))
        .collect()
}

fn v(name: &str, value: &str, line: usize) -> (String, String, Option<usize>) {
    (name.into(), value.into(), Some(line))
}

#[test]
fn dotenv_quotes_comments_and_export() {
    let p = parse(&source(
        "a.env",
        "# c\n\nexport A=1\nB = two words # note\nC='it s' \nD=\"x\\ny \\\"q\\\"\" # c\nE=\nF=a#b\n",
    ))
    .expect("parse");
    assert_eq!(p.format, Format::Dotenv);
    assert_eq!(
        vars(&p),
        [
            v("A", "1", 3),
            v("B", "two words", 4),
            v("C", "it s", 5),
            v("D", "x\ny \"q\"", 6),
            v("E", "", 7),
            v("F", "a#b", 8),
        ]
    );
}

#[test]
fn dotenv_errors_name_the_line_not_the_content() {
    for (text, line) in [
        ("A=1\nsecret-value-without-key\n", 2),
        ("A=1\nB=2\n1X=3\n", 3),
        ("A=\"unterminated secret\n", 1),
        ("A='x' trailing\n", 1),
        ("=value\n", 1),
    ] {
        match parse(&source("s.env", text)) {
            Err(ImportError::Syntax { line: l, detail, .. }) => {
                assert_eq!(l, line, "{text:?}");
                assert!(!detail.contains("secret") && !detail.contains("trailing"), "{detail}");
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
    assert!(matches!(
        parse(&Source {
            file: "b.env".into(),
            bytes: b"A=1\nB=\xff\n".to_vec(),
            dotenv: None
        }),
        Err(ImportError::Syntax { line: 2, .. })
    ));
}

#[test]
fn known_names_follow_the_schemas() {
    let known = known_names();
    let has = |var: &str, kind: &str, field: &str, secret: bool| {
        known
            .iter()
            .any(|k| k.variable == var && k.kind == kind && k.field == field && k.secret == secret)
    };
    assert!(has("PAYSERA_POS_TOKEN", "paysera-pos", "token", true));
    assert!(has("PAYSERA_POS_ENV", "paysera-pos", "env", false));
    assert!(has("MYPOS_CLIENT_ID", "mypos", "client_id", false));
    assert!(has("MYPOS_CLIENT_SECRET", "mypos", "client_secret", true));
    assert!(has("ERECEIPT_PRESHAREDKEY", "ereceipt", "presharedkey", true));
    assert!(has("CHIMPY_PASSWORD", "chimpy", "password", true));
    assert!(has("OAUTH2_TOKEN_URL", "oauth2", "token_url", false));
    assert!(has("BEARER_TOKEN", "bearer", "token", true));
    let m = Mapping::new();
    assert_eq!(
        m.target("mypos-client-secret").map(|t| t.field.as_str()),
        Some("client_secret")
    );
}

#[test]
fn mapping_entries_and_their_errors() {
    let mut m = Mapping::new();
    m.add("SHOP_KEY=shop:paysera-pos.token", "--map #1").expect("named");
    m.add("clientSecret = mypos.client_secret", "--map #2").expect("spaces");
    m.add("stage=mypos.env", "--map #3").expect("env");
    let t = m.target("SHOP_KEY").expect("mapped");
    assert_eq!(
        (t.name.as_deref(), t.kind.as_str(), t.field.as_str()),
        (Some("shop"), "paysera-pos", "token")
    );
    // Explicit entries win over known names.
    m.add("MYPOS_CLIENT_ID=other:mypos.client_id", "--map #4")
        .expect("override");
    assert_eq!(
        m.target("MYPOS_CLIENT_ID").and_then(|t| t.name.as_deref()),
        Some("other")
    );
    for bad in [
        "novalue",
        "A=mypos",
        "A=nope.token",
        "A=mypos.nofield",
        "A=bad name!:mypos.client_id",
        "=mypos.client_id",
        "SHOP_KEY=mypos.client_id",
    ] {
        let e = m.add(bad, "--map #9").expect_err(bad);
        assert_eq!(e.code(), "invalid_mapping");
        assert!(e.to_string().contains("--map #9"));
    }
    let mut f = Mapping::new();
    let e = f
        .add_file("m.txt", b"# comment\n\nA=mypos.client_secret\nB=oops\n")
        .expect_err("line 4");
    assert!(e.to_string().contains("m.txt line 4"), "{e}");
}

fn planned(text: &str, mapping: &Mapping) -> Plan {
    plan(parse(&source("p.env", text)).expect("parse"), mapping)
}

#[test]
fn plan_groups_by_kind_and_skips_conflicts_and_templates() {
    let p = planned(
        "MYPOS_CLIENT_ID=a\nMYPOS_CLIENT_SECRET=s\nMYPOS_ENV=sandbox\nBEARER_TOKEN=t\nBEARER_TOKEN=u\nOAUTH2_CLIENT_ID={{id}}\nOTHER=1\n",
        &Mapping::new(),
    );
    assert_eq!(p.credentials.len(), 1);
    let c = &p.credentials[0].new;
    assert_eq!((c.name.as_str(), c.provider.as_str()), ("mypos", "mypos"));
    assert_eq!(c.environment, Some(Environment::Sandbox));
    assert_eq!(c.fields.get("client_id").map(String::as_str), Some("a"));
    assert_eq!(c.secrets.get("client_secret").map(|s| s.expose_secret()), Some("s"));
    assert_eq!(
        p.credentials[0].secret_at.iter().map(|l| l.line).collect::<Vec<_>>(),
        [Some(2)]
    );
    let codes: Vec<(&str, &str)> = p.skipped.iter().map(|s| (s.name.as_str(), s.code.as_str())).collect();
    assert_eq!(
        codes,
        [("bearer", "conflicting_values"), ("oauth2", "unresolved_variable")]
    );
    assert!(p.skipped[1].reason.contains("{{id}}"));
    assert_eq!(p.ignored.len(), 1);
    assert_eq!(p.ignored[0].name, "OTHER");
    // The same value twice is no conflict; a bad environment skips.
    let p = planned(
        "BEARER_TOKEN=t\nBEARER_TOKEN=t\nMYPOS_ENV=moon\nMYPOS_CLIENT_ID=x\n",
        &Mapping::new(),
    );
    assert_eq!(p.credentials.len(), 1);
    assert_eq!(p.skipped[0].code, "invalid_input");
}

#[test]
fn postman_environment_and_collection() {
    let env = r#"{"name":"Shop Prod","values":[
        {"key":"MYPOS_CLIENT_ID","value":"id1","enabled":true},
        {"key":"MYPOS_CLIENT_SECRET","value":"sec1","type":"secret"},
        {"key":"off","value":"x","enabled":false},
        {"key":"n","value":12}
    ],"_postman_variable_scope":"environment"}"#;
    let p = parse(&source("e.json", env)).expect("env");
    assert_eq!(p.format, Format::PostmanEnvironment);
    assert_eq!(p.groups[0].label.as_deref(), Some("Shop Prod"));
    assert_eq!(
        vars(&p),
        [
            v("MYPOS_CLIENT_ID", "id1", 2),
            v("MYPOS_CLIENT_SECRET", "sec1", 3),
            v("n", "12", 5)
        ]
    );
    assert_eq!(p.ignored[0].name, "off");
    assert_eq!(plan(p, &Mapping::new()).credentials[0].new.name, "shop-prod-mypos");

    let col = r#"{"info":{"name":"C","schema":"https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
      "variable":[{"key":"url","value":"http://127.0.0.1:9/token"}],
      "item":[{"name":"F","auth":{"type":"bearer","bearer":[{"key":"token","value":"tok"}]},
        "item":[{"name":"R","request":{"method":"GET","url":{"raw":"http://127.0.0.1:9/ping"},
          "auth":{"type":"oauth2","oauth2":{"grant_type":"client_credentials","accessTokenUrl":"{{url}}","clientId":"i","clientSecret":"s","client_authentication":"body"}}}}]}]}"#;
    let p = parse(&source("c.json", col)).expect("collection");
    assert_eq!(p.format, Format::PostmanCollection);
    let plan = plan(p, &Mapping::new());
    let got: Vec<(&str, &str)> = plan
        .credentials
        .iter()
        .map(|c| (c.new.name.as_str(), c.new.provider.as_str()))
        .collect();
    assert_eq!(got, [("f-bearer", "bearer"), ("r-oauth2", "oauth2")]);
    let o = &plan.credentials[1].new;
    assert_eq!(
        o.fields.get("token_url").map(String::as_str),
        Some("http://127.0.0.1:9/token")
    );
    assert_eq!(o.fields.get("auth_method").map(String::as_str), Some("post"));
    assert_eq!(
        o.fields.get("test_url").map(String::as_str),
        Some("http://127.0.0.1:9/ping")
    );

    for (bad, what) in [
        (r#"{"values": 3}"#, "`values`"),
        (r#"{"values": [{"value": "x"}]}"#, "values[0].key"),
        (r#"{"values": [{"key": "a", "value": {"x": 1}}]}"#, "values[0].value"),
        (
            r#"{"info": {"schema": "postman"}, "item": [{"auth": {"type": 1}}]}"#,
            "item[0].auth.type",
        ),
        (r#"{"values": [1,]}"#, "line 1"),
    ] {
        let e = parse(&source("x.json", bad)).expect_err(bad);
        assert!(e.to_string().contains(what), "{bad}: {e}");
        assert_eq!(e.exit_code(), 2);
    }
}

#[test]
fn bruno_reads_the_env_file_and_reports_app_secrets() {
    let bru = "vars {\n  host: http://127.0.0.1:9\n  MYPOS_TOKEN_URL: {{host}}/t\n  MYPOS_CLIENT_ID: id\n  MYPOS_CLIENT_SECRET: {{process.env.MY_SECRET}}\n  ~MYPOS_SCOPE: x\n  MISSING: {{process.env.NOPE}}\n}\nvars:secret [\n  appOnly,\n  MYPOS_CLIENT_SECRET\n]\n";
    let dotenv = "# secrets\nMY_SECRET = s3\n";
    let p = bruno::parse("env/Local.bru", bru, Some((".env", dotenv))).expect("bru");
    assert_eq!(
        vars(&p),
        [
            v("host", "http://127.0.0.1:9", 2),
            v("MYPOS_TOKEN_URL", "http://127.0.0.1:9/t", 3),
            v("MYPOS_CLIENT_ID", "id", 4),
            v("MYPOS_CLIENT_SECRET", "s3", 2),
        ]
    );
    assert_eq!(p.groups[0].variables[3].at.file, ".env");
    let ignored: Vec<&str> = p.ignored.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(ignored, ["MYPOS_SCOPE", "MISSING", "appOnly"]);
    assert_eq!(plan(p, &Mapping::new()).credentials[0].new.name, "local-mypos");
    for (bad, line) in [("vars {\n  a: 1\n", 1), ("vars {\n  novalue\n}\n", 2), ("stray\n", 1)] {
        match bruno::parse("x.bru", bad, None) {
            Err(ImportError::Syntax { line: l, .. }) => assert_eq!(l, line, "{bad:?}"),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
}

#[test]
fn insomnia_environments_and_auth() {
    let doc = r#"{"_type":"export","__export_format":4,"resources":[
      {"_id":"wrk_1","_type":"workspace","name":"W"},
      {"_id":"env_1","parentId":"wrk_1","_type":"environment","name":"Base","data":{"url":"http://127.0.0.1:9/token"}},
      {"_id":"env_2","parentId":"env_1","_type":"environment","name":"Dev","data":{"BEARER_TOKEN":"t","BEARER_TEST_URL":"http://127.0.0.1:9/p","nested":{"a":1}}},
      {"_id":"req_1","parentId":"wrk_1","_type":"request","name":"Get","method":"POST","url":"http://127.0.0.1:9/post",
       "authentication":{"type":"oauth2","grantType":"client_credentials","accessTokenUrl":"{{ _.url }}","clientId":"i","clientSecret":"s","credentialsInBody":true}},
      {"_id":"req_2","parentId":"wrk_1","_type":"request","name":"Pw","authentication":{"type":"oauth2","grantType":"password"}}
    ]}"#;
    let p = parse(&source("i.json", doc)).expect("insomnia");
    assert_eq!(p.format, Format::Insomnia);
    let plan = plan(p, &Mapping::new());
    let got: Vec<(&str, &str)> = plan
        .credentials
        .iter()
        .map(|c| (c.new.name.as_str(), c.new.provider.as_str()))
        .collect();
    assert_eq!(got, [("dev-bearer", "bearer"), ("get-oauth2", "oauth2")]);
    let o = &plan.credentials[1].new;
    assert_eq!(
        o.fields.get("token_url").map(String::as_str),
        Some("http://127.0.0.1:9/token")
    );
    assert_eq!(o.fields.get("auth_method").map(String::as_str), Some("post"));
    assert!(!o.fields.contains_key("test_url"), "a POST request is no test");
    // A filled-in reference points at the line that holds the value.
    let token_url = plan.credentials[1]
        .sources
        .iter()
        .find(|l| l.at.contains("accessTokenUrl"));
    assert_eq!(token_url.and_then(|l| l.line), Some(3));
    let ignored: Vec<&str> = plan.ignored.iter().map(|i| i.name.as_str()).collect();
    assert!(ignored.contains(&"oauth2 authentication") && ignored.contains(&"nested.a") && ignored.contains(&"url"));
    let e = parse(&source(
        "i.json",
        r#"{"_type":"export","__export_format":3,"resources":[]}"#,
    ))
    .expect_err("v3");
    assert!(e.to_string().contains("__export_format"));
}

#[test]
fn unknown_and_hostile_inputs() {
    let e = parse(&source("x.json", r#"{"hello": 1}"#)).expect_err("unknown json");
    assert_eq!(e.code(), "import_unrecognised");
    let e = parse(&source("i.yaml", "type: collection.insomnia.rest/5.0\nname: Tills\n")).expect_err("yaml");
    assert_eq!(e.code(), "import_unrecognised");
    assert!(e.to_string().contains("v4 (JSON)"));
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    assert!(matches!(
        parse(&source("d.json", &deep)),
        Err(ImportError::Shape { .. })
    ));
    let many: String = (0..MAX_VARIABLES + 1).map(|i| format!("V{i}=1\n")).collect();
    assert!(matches!(parse(&source("m.env", &many)), Err(ImportError::Shape { .. })));
    // A file near the caps (10,000 variables, ~1 MiB) is read in one pass, not one scan of
    // the file per variable.
    let values: Vec<String> = (0..MAX_VARIABLES)
        .map(|i| format!("{{\"key\":\"V{i}\",\"value\":\"{}{i:05}\"}}", "v".repeat(80)))
        .collect();
    let big = format!("{{\"values\":[\n{}\n]}}", values.join(",\n"));
    let started = std::time::Instant::now();
    let p = parse(&source("big.json", &big)).expect("big environment");
    assert_eq!(p.groups[0].variables.len(), MAX_VARIABLES);
    assert_eq!(p.groups[0].variables[9_999].at.line, Some(10_001));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // A backup is not parsed without its passphrase.
    let e = parse(&source("b.age", "age-encryption.org/v1\n-> scrypt x 16\n")).expect_err("backup");
    assert_eq!(e.code(), "backup_passphrase_required");
}

#[test]
fn import_checks_like_add_skips_existing_and_dry_runs() {
    let dir = tempfile::tempdir().expect("dir");
    let (v, store) = vault(dir.path());
    let text = "BEARER_TOKEN=tok\nBEARER_TEST_URL=http://127.0.0.1:9/p\nMYPOS_CLIENT_SECRET=s\nOAUTH2_CLIENT_ID=i\nOAUTH2_CLIENT_SECRET=s\nOAUTH2_TOKEN_URL=http://example.com/t\n";
    let run = |dry_run: bool| {
        let p = plan(parse(&source("a.env", text)).expect("parse"), &Mapping::new());
        import(&v, "a.env", Format::Dotenv, p, Options { dry_run }).expect("import")
    };
    let r = run(true);
    assert!(r.dry_run);
    assert_eq!(r.imported.len(), 1);
    let codes: Vec<(&str, &str)> = r.skipped.iter().map(|s| (s.name.as_str(), s.code.as_str())).collect();
    // myPOS lacks its client ID; http:// to a remote host is refused exactly as `add` does.
    assert_eq!(codes, [("mypos", "missing_field"), ("oauth2", "invalid_input")]);
    assert_eq!(r.exit_code(), 1);
    assert!(v.list().expect("list").is_empty(), "a dry run writes nothing");
    assert_eq!(store.len(), 0);

    let r = run(false);
    assert_eq!(r.imported[0].name, "bearer");
    assert_eq!(v.secret("bearer", "token").expect("secret").expose_secret(), "tok");
    assert_eq!(r.secret_locations.iter().map(|l| l.line).collect::<Vec<_>>(), [Some(1)]);
    // Again: the name exists and is left alone.
    let r = run(false);
    assert!(r.imported.is_empty());
    assert!(r
        .skipped
        .iter()
        .any(|s| s.name == "bearer" && s.code == "already_exists"));
    assert_eq!(v.list().expect("list").len(), 1);
}

#[test]
fn backup_round_trip_and_wrong_passphrase() {
    let dir = tempfile::tempdir().expect("dir");
    let (v, _) = vault(&dir.path().join("a"));
    let p = plan(
        parse(&source(
            "a.env",
            "BEARER_TOKEN=canary-backup\nBEARER_TEST_URL=http://127.0.0.1:9/p\nBEARER_ENV=production\n",
        ))
        .expect("parse"),
        &Mapping::new(),
    );
    import(&v, "a.env", Format::Dotenv, p, Options::default()).expect("import");
    v.set_rotation_period("bearer", 45).expect("period");
    let file = dir.path().join("b.age");
    let pass = SecretString::from("a long passphrase");
    assert!(crate::backup::export(&v, &file, &SecretString::from("short"), false).is_err());
    let done = crate::backup::export(&v, &file, &pass, false).expect("export");
    assert_eq!((done.credentials, done.secrets), (1, 1));
    let bytes = std::fs::read(&file).expect("read");
    assert!(crate::backup::is_backup(&bytes));
    assert!(!String::from_utf8_lossy(&bytes).contains("canary-backup"));
    assert!(
        crate::backup::export(&v, &file, &pass, false).is_err(),
        "never replaced unasked"
    );

    let source = Source {
        file: "b.age".into(),
        bytes: bytes.clone(),
        dotenv: None,
    };
    assert!(source.is_backup());
    for e in [
        read(&source, None).expect_err("no passphrase"),
        parse(&source).expect_err("parse"),
    ] {
        assert_eq!((e.code(), e.exit_code()), ("backup_passphrase_required", 2));
    }
    let e = read(&source, Some(&SecretString::from("wrong passphrase"))).expect_err("wrong");
    assert_eq!((e.code(), e.exit_code()), ("wrong_passphrase", 1));
    let mut cut = bytes.clone();
    cut.truncate(bytes.len() - 5);
    assert_eq!(
        crate::backup::read("b.age", &cut, &pass).expect_err("cut").code(),
        "backup_invalid"
    );

    let (w, _) = vault(&dir.path().join("b"));
    let parsed = read(&source, Some(&pass)).expect("read");
    let r = import(
        &w,
        "b.age",
        Format::Backup,
        plan(parsed, &Mapping::new()),
        Options::default(),
    )
    .expect("restore");
    assert_eq!(r.imported[0].name, "bearer");
    assert!(r.secret_locations.is_empty());
    assert_eq!(
        w.secret("bearer", "token").expect("secret").expose_secret(),
        "canary-backup"
    );
    assert_eq!(w.show("bearer").expect("show").rotation_period_days, 45);
}

#[test]
fn json_lines_find_escaped_values() {
    let text = "{\n \"a\": \"x\\\"y\",\n \"b\": \"x\\\"y\"\n}";
    assert_eq!(json_lines_of(text, "x\"y"), [2, 3]);
    assert!(json_lines_of(text, "").is_empty());
    let v = postman::variable("f", &JsonText::new(text), "a", "x\"y".into(), "a".into());
    assert_eq!(v.at.line, Some(2));
    assert_eq!(v.at.at, "a; the same value is also on line 3");
}

/// A vault in `dir` whose clock reads `at` (RFC 3339).
fn vault_at(dir: &Path, at: &str) -> Vault {
    let at = chrono::DateTime::parse_from_rfc3339(at)
        .map(|d| d.with_timezone(&chrono::Utc))
        .expect("date");
    Vault::open(dir, Arc::new(MemoryStore::new()), Arc::new(FixedClock::new(at))).expect("vault")
}

#[test]
fn a_restore_keeps_when_each_secret_was_set_so_overdue_stays_overdue() {
    let dir = tempfile::tempdir().expect("dir");
    let old = vault_at(&dir.path().join("old"), "2030-01-01T00:00:00Z");
    old.add(crate::NewCredential {
        name: "till".into(),
        provider: "oauth2".into(),
        environment: None,
        fields: [
            ("token_url".to_string(), "http://127.0.0.1:9/token".to_string()),
            ("client_id".to_string(), "till-client".to_string()),
        ]
        .into(),
        secrets: [("client_secret".to_string(), SecretString::from("canary-restore-secret"))].into(),
    })
    .expect("add");
    let file = dir.path().join("b.age");
    let pass = SecretString::from("a long passphrase");
    crate::backup::export(&old, &file, &pass, false).expect("export");
    let bytes = std::fs::read(&file).expect("read");
    let restore = |into: &Vault| {
        let parsed = crate::backup::read("b.age", &bytes, &pass).expect("read");
        import(
            into,
            "b.age",
            Format::Backup,
            plan(parsed, &Mapping::new()),
            Options::default(),
        )
        .expect("restore")
    };

    // Restored 100 days later: the secret is 100 days old and the 90-day rotation overdue,
    // as it was before the restore; not "rotated today".
    let later = vault_at(&dir.path().join("later"), "2030-04-11T00:00:00Z");
    restore(&later);
    let till = later.show("till").expect("show");
    assert_eq!(till.rotated_at.to_rfc3339(), "2030-01-01T00:00:00+00:00");
    assert_eq!(till.created_at.to_rfc3339(), "2030-01-01T00:00:00+00:00");
    assert_eq!(till.rotation.status, crate::dto::RotationStatus::Overdue);
    assert_eq!(till.secret_ages[0].age_days, 100);

    // Restored on a machine whose clock is behind the backup's dates: never in the future.
    let behind = vault_at(&dir.path().join("behind"), "2029-12-01T00:00:00Z");
    restore(&behind);
    assert_eq!(
        behind.show("till").expect("show").rotated_at.to_rfc3339(),
        "2029-12-01T00:00:00+00:00"
    );
}

/// `doc` sealed as a backup under `pass` with the age crate itself (not Tillkey's export).
fn sealed(doc: &str, pass: &str) -> Vec<u8> {
    let mut r = age::scrypt::Recipient::new(age::secrecy::SecretString::from(pass.to_owned()));
    r.set_work_factor(10);
    age::encrypt(&r, doc.as_bytes()).expect("encrypt")
}

#[test]
fn a_hostile_backups_dates_and_period_are_refused_or_bounded_never_a_panic() {
    let dir = tempfile::tempdir().expect("dir");
    let pass = SecretString::from("a long passphrase");
    let entry = |extra: &str| {
        format!(
            r#"{{"format":"tillkey-backup","version":1,"credentials":[{{"name":"b","provider":"bearer",
            "environment":"production","fields":{{"test_url":"http://127.0.0.1:9/p"}},
            "secrets":{{"token":"canary-hostile-backup"}}{extra}}}]}}"#
        )
    };
    // Not dates, or dates no clock can hold: the whole backup is refused, naming no value.
    for extra in [
        r#","rotatedAt":"yesterday""#,
        r#","secretSetAt":{"token":"+275760-09-13T00:00:00Z"}"#,
        r#","createdAt":-1"#,
        r#","rotationPeriodDays":-5"#,
        r#","rotationPeriodDays":1e99"#,
    ] {
        let e = crate::backup::read("h.age", &sealed(&entry(extra), "a long passphrase"), &pass).expect_err(extra);
        assert_eq!(e.code(), "backup_invalid", "{extra}");
        assert!(!e.to_string().contains("canary-hostile-backup"), "{extra}");
    }
    // Dates that parse but lie (before 1970, in the future, for a field it lacks), and a
    // period out of range: restored within bounds.
    let v = vault_at(&dir.path().join("v"), "2030-01-01T00:00:00Z");
    let doc = entry(
        r#","rotatedAt":"2999-01-01T00:00:00Z","createdAt":"1601-01-01T00:00:00Z",
        "secretSetAt":{"token":"1900-01-01T00:00:00Z","nope":"2000-01-01T00:00:00Z"},
        "rotationPeriodDays":4294967295"#,
    );
    let parsed = crate::backup::read("h.age", &sealed(&doc, "a long passphrase"), &pass).expect("read");
    import(
        &v,
        "h.age",
        Format::Backup,
        plan(parsed, &Mapping::new()),
        Options::default(),
    )
    .expect("restore");
    let b = v.show("b").expect("show");
    assert_eq!(b.rotated_at, chrono::DateTime::UNIX_EPOCH);
    assert_eq!(b.created_at, chrono::DateTime::UNIX_EPOCH);
    assert_eq!(b.rotation_period_days, 90, "an out-of-range period is ignored");
    assert_eq!(b.rotation.status, crate::dto::RotationStatus::Overdue);
}
