//! Property tests: the import parsers take any bytes, or any JSON-shaped text, without
//! panicking, and never put a value into an error (the fuzz target `import` runs the same
//! invariants much longer: `scripts/fuzz.sh`).

use super::*;
use proptest::prelude::*;

/// What every parser run must satisfy: no panic (the call returns), and an error message
/// that does not contain a marker planted as a value.
fn check(bytes: &[u8]) {
    let src = Source {
        file: "p".into(),
        bytes: bytes.to_vec(),
        dotenv: Some((".env".into(), bytes.to_vec())),
    };
    if let Ok(parsed) = parse(&src) {
        let _ = plan(parsed, &Mapping::new());
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = dotenv::parse("p", text);
        let _ = bruno::parse("p.bru", text, Some((".env", text)));
        if let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) {
            let _ = postman::parse_environment("p", text, &doc);
            let _ = postman::parse_collection("p", text, &doc);
            let _ = insomnia::parse("p", text, &doc);
        }
    }
}

/// Text built from the formats' own pieces, so the parsers get past their first checks.
fn pieces() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("vars {\n".to_string()),
        Just("}\n".to_string()),
        Just("vars:secret [\n".to_string()),
        Just("]\n".to_string()),
        Just("MYPOS_CLIENT_SECRET=".to_string()),
        Just("{{process.env.X}}".to_string()),
        Just("{{".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("=".to_string()),
        Just(":".to_string()),
        Just("~".to_string()),
        Just("\n".to_string()),
        Just("# ".to_string()),
        "[a-zA-Z_]{1,8}".prop_map(|s| s),
        any::<char>().prop_map(|c| c.to_string()),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

/// JSON documents shaped like the three JSON formats, with arbitrary leaves.
fn json_docs() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from("{{ _.x }}")),
    ];
    let value = leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("key".to_string()),
                    Just("value".to_string()),
                    Just("type".to_string()),
                    Just("auth".to_string()),
                    Just("item".to_string()),
                    Just("request".to_string()),
                    Just("oauth2".to_string()),
                    Just("bearer".to_string()),
                    Just("data".to_string()),
                    Just("_type".to_string()),
                    Just("authentication".to_string()),
                    "[a-z]{1,6}".prop_map(|s| s),
                ],
                inner,
                0..5
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    });
    (0..4u8, value).prop_map(|(shape, v)| {
        let doc = match shape {
            0 => serde_json::json!({"values": v, "_postman_variable_scope": "environment"}),
            1 => serde_json::json!({"info": {"schema": "https://schema.getpostman.com/v2.1.0"}, "item": v, "auth": v, "variable": v}),
            2 => serde_json::json!({"_type": "export", "__export_format": 4, "resources": v}),
            _ => v,
        };
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check(&bytes);
    }

    #[test]
    fn format_shaped_text(text in pieces()) {
        check(text.as_bytes());
    }

    #[test]
    fn json_shaped_documents(text in json_docs()) {
        check(text.as_bytes());
    }

    /// A value planted in a .env line never reaches the error for that file.
    #[test]
    fn errors_never_hold_values(value in "[a-z]{12}", junk in "[^=\n]{1,20}") {
        let text = format!("A={value}\n{junk}{value}\n");
        if let Err(e) = dotenv::parse("p", &text) {
            prop_assert!(!e.to_string().contains(&value));
        }
    }
}
