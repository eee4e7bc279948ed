//! The CLI's careless-input parsers, compiled from `crates/cli/src/input.rs` itself (the
//! CLI is a bin crate, so the module is included by path, not copied):
//! - `parse_secret_lines` (the `FIELD=VALUE` secret lines of `add` and `rotate`) with the
//!   schema of every provider kind;
//! - `parse_engine_secret` (`vault connect`'s `token=` / `secret_id=` line);
//! - `parse_set` with every line as one `--set` argument, and `check_var_name` (`exec --var`).
//!
//! Input: the text on stdin (stdin that is not UTF-8 is refused before parsing, so such
//! inputs are skipped).
//!
//! Asserts: no panic; accepted fields are secret fields of the schema; and no error
//! message echoes input: every run of 8+ letters/digits of the input that appears in a
//! message must be part of what the messages say anyway (kind, field names, fixed text),
//! collected once from probe inputs. For `--set`, a secret field's value is never echoed.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/cli/src/input.rs"]
mod input;

use libfuzzer_sys::fuzz_target;
use secrecy::ExposeSecret;
use std::sync::OnceLock;
use tillkey_core::{providers, Error, ProviderSchema};
use tillkey_fuzz::alnum_runs;

const ENGINE_FIELDS: [&str; 2] = ["token", "secret_id"];

/// Everything the parsers' messages say for any input, from probes: per schema, and for
/// the engine line.
struct Vocab {
    schemas: Vec<(ProviderSchema, String)>,
    engine: String,
}

/// The message of `r`'s error, or nothing.
fn err<T>(r: Result<T, Error>) -> String {
    r.err().map(|e| e.to_string()).unwrap_or_default()
}

fn vocab() -> &'static Vocab {
    static V: OnceLock<Vocab> = OnceLock::new();
    V.get_or_init(|| {
        // Kinds and field names of every provider: a message may name any of them (a
        // field of another kind given on stdin is named, since it is not a secret).
        let mut names = String::new();
        for s in providers::schemas() {
            names.push_str(&format!("{} {}\n", s.kind, s.label));
            for f in &s.fields {
                names.push_str(&format!("{} {}\n", f.name, f.label));
            }
        }
        let schemas = providers::ALL
            .iter()
            .map(|p| {
                let s = p.schema();
                let mut words = names.clone();
                let mut probes = vec!["x\n".to_string(), "nope=1\n".to_string()];
                for other in providers::schemas() {
                    for f in &other.fields {
                        probes.push(format!("{0}=a\n{0}=b\n", f.name));
                    }
                }
                for p in &probes {
                    words.push_str(&err(input::parse_secret_lines(&s, p)));
                    words.push('\n');
                    let pairs: Vec<String> = p.lines().map(str::to_string).collect();
                    words.push_str(&err(input::parse_set(&s, &pairs)));
                    words.push('\n');
                }
                (s, words)
            })
            .collect();
        let mut engine = String::new();
        for f in ENGINE_FIELDS {
            for p in ["", "x\n", "other=1\n", &format!("{f}=a\n{f}=b\n")] {
                engine.push_str(&err(input::parse_engine_secret(f, p)));
                engine.push('\n');
            }
        }
        Vocab { schemas, engine }
    })
}

/// Asserts that `message` shows no run of `input` beyond what `vocab` says anyway.
fn no_echo(message: &str, input: &str, vocab: &str, what: &str) {
    for run in alnum_runs(input, 8) {
        if message.contains(run) && !vocab.contains(run) {
            panic!("{what}: the error message echoes input `{run}`: {message}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let v = vocab();

    for (schema, words) in &v.schemas {
        match input::parse_secret_lines(schema, text) {
            Ok(map) => {
                for (k, val) in &map {
                    assert!(schema.field(k).is_some_and(|f| f.secret), "accepted a non-secret field");
                    assert!(!val.expose_secret().contains('\n'), "a value spans lines");
                }
            }
            Err(e) => no_echo(&e.to_string(), text, words, &format!("parse_secret_lines({})", schema.kind)),
        }

        let pairs: Vec<String> = text.lines().map(str::to_string).collect();
        if let Err(e) = input::parse_set(schema, &pairs) {
            if let Error::InvalidInput { field, .. } = &e {
                if schema.field(field).is_some_and(|f| f.secret) {
                    let value = pairs
                        .iter()
                        .filter_map(|p| p.split_once('='))
                        .find(|(f, _)| f.trim() == field)
                        .map(|(_, v)| v)
                        .unwrap_or_default();
                    no_echo(&e.to_string(), value, words, &format!("parse_set({}, secret field)", schema.kind));
                }
            }
        }
    }

    for f in ENGINE_FIELDS {
        match input::parse_engine_secret(f, text) {
            Ok(s) => {
                let s = s.expose_secret();
                assert_eq!(s, s.trim(), "engine secret not trimmed");
                assert!(!s.contains('\n'), "engine secret spans lines");
            }
            Err(e) => no_echo(&e.to_string(), text, &v.engine, &format!("parse_engine_secret({f})")),
        }
    }

    for line in text.lines().take(16) {
        let _ = input::check_var_name(line);
    }
});
