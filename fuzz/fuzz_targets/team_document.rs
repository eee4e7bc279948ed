//! The team-document loader: a KV v2 read response (`{"data":{"data":DOC,...}}`) parsed
//! with `vault::team::KvEntry::parse::<Metadata>` then checked with
//! `vault::check::validate`, as the team store's `read` does (schema peek first); for a document that passes,
//! `rotation::status` of every credential at several `now`s, and the document written
//! back (as a team vault's `save` sends it) must pass again.
//!
//! Input: the engine's response body (invalid UTF-8 replaced, as an HTTP client's
//! `text()` does).
//!
//! Asserts: no panic; an accepted document survives its own write-back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use tillkey_core::vault::check::validate;
use tillkey_core::vault::metadata::Metadata;
use tillkey_core::vault::team::KvEntry;

fn load(body: String, version: u64) -> Result<Metadata, String> {
    let entry = KvEntry {
        body: SecretString::from(body),
        version,
    };
    #[derive(serde::Deserialize)]
    struct Version {
        #[allow(dead_code)]
        schema: u32,
    }
    let _ = entry.parse::<Version>("fuzz", "the vault document");
    let mut m: Metadata = entry
        .parse("fuzz", "the vault document")
        .map_err(|e| e.to_string())?;
    validate(&mut m)?;
    Ok(m)
}

fuzz_target!(|data: &[u8]| {
    let version = tillkey_fuzz::fnv(data);
    if let Ok(m) = load(tillkey_fuzz::text(data), version) {
        tillkey_fuzz::exercise_document(&m, data, |doc| {
            // Wrapped as the engine returns what `save` wrote.
            let doc = tillkey_fuzz::text(doc);
            load(format!(r#"{{"data":{{"data":{doc},"metadata":{{"version":1}}}}}}"#), version)
        });
    }
});
