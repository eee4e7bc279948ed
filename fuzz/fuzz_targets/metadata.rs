//! The local metadata loader: `vault::check::parse_document` on the bytes of a
//! `vault.json`; for a document it accepts, `rotation::status` of every credential at
//! several `now`s (the calendar's ends, the epoch, a 2026 date and one derived from the
//! input), then the document written back as the vault writes it must load again.
//!
//! Input: the file's bytes, as they are on disk.
//!
//! Asserts: no panic; an accepted document survives its own write-back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tillkey_core::vault::check::parse_document;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = parse_document(data) {
        tillkey_fuzz::exercise_document(&m, data, parse_document);
    }
});
