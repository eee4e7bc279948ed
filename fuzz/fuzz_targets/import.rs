//! The import parsers: `import::parse` (format detection, then the dotenv, Postman
//! environment and collection, Bruno and Insomnia parsers) and `import::plan` (the mapping
//! to credentials), over any bytes.
//!
//! Input: the first byte picks how the rest is read: as a `.env` file, as a Bruno
//! environment (`.bru`, the same bytes as its collection's `.env`), or through format
//! detection (JSON formats, dotenv). Backups are not read here (age's own parser, and a
//! planted scrypt work factor costs seconds per run: `backup::read` caps it).
//!
//! Asserts: no panic; an error message holds no control character and at most 8 KiB; a
//! planned credential, a skipped one and an ignored variable name nothing with a control
//! character (so a hostile file cannot drive the terminal the report is printed on), and
//! no skip reason holds a distinctive value of the file (8+ letters/digits after `=`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use secrecy::ExposeSecret;
use tillkey_core::import::{bruno, dotenv, parse, plan, Mapping, Parsed, Source};
use tillkey_fuzz::{distinctive, has_control};

fn check_parsed(parsed: Result<Parsed, tillkey_core::import::ImportError>, values: &[String]) {
    let parsed = match parsed {
        Ok(p) => p,
        Err(e) => {
            let m = e.to_string();
            assert!(!has_control(&m), "control character in an error");
            assert!(m.len() <= 8192, "error longer than 8 KiB");
            for v in values {
                assert!(!m.contains(v.as_str()), "a value in an error");
            }
            return;
        }
    };
    let p = plan(parsed, &Mapping::new());
    for c in &p.credentials {
        assert!(!has_control(&c.new.name), "control character in a credential name");
        for s in c.new.secrets.values() {
            let _ = s.expose_secret().len();
        }
    }
    for s in &p.skipped {
        assert!(
            !has_control(&s.name) && !has_control(&s.reason),
            "control character in a skip"
        );
        for v in values {
            assert!(!s.reason.contains(v.as_str()), "a value in a skip reason");
        }
        for l in &s.sources {
            assert!(!has_control(&l.at), "control character in a location");
        }
    }
    for i in &p.ignored {
        assert!(
            !has_control(&i.name) && !has_control(&i.reason) && !has_control(&i.at.at),
            "control character"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    // Values planted after `=` or `: `: distinctive ones must never reach a message.
    let values: Vec<String> = text
        .lines()
        .filter_map(|l| {
            l.split_once('=')
                .or_else(|| l.split_once(": "))
                .map(|(_, v)| v.trim().to_string())
        })
        .filter(|v| distinctive(v) && v.chars().all(|c| c.is_ascii_alphanumeric()))
        // A `{{name}}` reference is named in its skip reason: such a name is no value.
        .filter(|v| !text.contains(&format!("{{{{{v}")) && !text.contains("{{ "))
        .collect();
    match mode % 3 {
        0 => check_parsed(dotenv::parse("f.env", &text), &values),
        1 => check_parsed(bruno::parse("f.bru", &text, Some((".env", &text))), &values),
        _ => check_parsed(
            parse(&Source {
                file: "f".into(),
                bytes: rest.to_vec(),
                dotenv: None,
            }),
            &values,
        ),
    }
});
