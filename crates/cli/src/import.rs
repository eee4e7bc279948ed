//! `tillkey import FILE` and `tillkey export FILE`: the command-line side of
//! `tillkey_core::import` and `tillkey_core::backup` (reading the mapping and the
//! passphrase, printing the report).

use crate::output;
use crate::Cli;
use secrecy::{ExposeSecret, SecretString};
use std::io::IsTerminal;
use std::path::Path;
use tillkey_core::backup;
use tillkey_core::import::{self, ImportError, Location, Mapping, Options, Report};
use tillkey_core::Error;

/// Prints an import error and returns its exit code (nothing was imported).
fn failed(e: &ImportError) -> u8 {
    let info = e.info();
    output::error_parts(&info.code, &clean(&info.message), info.hint.as_deref());
    e.exit_code()
}

/// Text from a file for the terminal: no control characters.
fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

/// A passphrase: a hidden prompt on a terminal (typed twice when `new`), else one line of
/// stdin (read as every passphrase of the CLI is).
fn read_passphrase(new: bool) -> Result<SecretString, Error> {
    if !std::io::stdin().is_terminal() {
        return crate::passphrase::read_one();
    }
    let ask = |label: &str| {
        rpassword::prompt_password(label)
            .map(SecretString::from)
            .map_err(|e| Error::InvalidInput {
                field: "passphrase".into(),
                reason: format!("could not be read from the terminal ({})", e.kind()),
            })
    };
    let first = ask("Backup passphrase: ")?;
    if new {
        let again = ask("Backup passphrase (again): ")?;
        if first.expose_secret() != again.expose_secret() {
            return Err(Error::InvalidInput {
                field: "passphrase".into(),
                reason: "the two entries differ; nothing was written".into(),
            });
        }
    }
    Ok(first)
}

/// `tillkey import FILE [--dry-run] [--map VAR=[NAME:]KIND.FIELD]... [--mapping FILE] [--json]`.
///
/// # Errors
/// The vault's errors (keyring, locked vault, files); file and mapping errors are printed
/// here and returned as exit code 2 (a wrong backup passphrase as 1).
pub fn import(
    cli: &Cli,
    file: &Path,
    dry_run: bool,
    map: &[String],
    mapping: Option<&Path>,
    json: bool,
) -> Result<u8, Error> {
    let mut m = Mapping::new();
    for (i, spec) in map.iter().enumerate() {
        if let Err(e) = m.add(spec, &format!("--map #{}", i + 1)) {
            return Ok(failed(&e));
        }
    }
    if let Some(p) = mapping {
        if let Err(e) = import::read_capped(p).and_then(|b| m.add_file(&p.display().to_string(), &b)) {
            return Ok(failed(&e));
        }
    }
    let source = match import::load(file) {
        Ok(s) => s,
        Err(e) => return Ok(failed(&e)),
    };
    let passphrase = source.is_backup().then(|| read_passphrase(false)).transpose()?;
    let parsed = match import::read(&source, passphrase.as_ref()) {
        Ok(p) => p,
        Err(e) => return Ok(failed(&e)),
    };
    let format = parsed.format;
    let plan = import::plan(parsed, &m);
    let vault = crate::open(cli)?;
    let report = import::import(&vault, &source.file, format, plan, Options { dry_run })?;
    if json {
        output::print_json(&report)?;
    } else {
        print_report(&report, &vault.secret_home());
    }
    Ok(report.exit_code())
}

fn place(l: &Location) -> String {
    clean(&l.to_string())
}

fn print_report(r: &Report, home: &str) {
    let from = format!("{} ({})", clean(&r.file), r.format.label());
    if r.dry_run {
        println!("Dry run: nothing was changed.");
    }
    let verb = if r.dry_run { "Would import" } else { "Imported" };
    if r.imported.is_empty() {
        println!("{verb} no credential from {from}.");
    } else {
        println!("{verb} {} from {from}:", output::plural(r.imported.len(), "credential"));
        for c in &r.imported {
            println!(
                "  {} ({}, {}): {} {}",
                clean(&c.name),
                c.provider,
                c.environment,
                output::plural(c.secret_fields.len(), "secret"),
                if r.dry_run {
                    format!("for {home}")
                } else {
                    format!("stored in {home}")
                }
            );
        }
    }
    if !r.skipped.is_empty() {
        println!("Skipped {}:", output::plural(r.skipped.len(), "credential"));
        for s in &r.skipped {
            println!(
                "  {} ({}): {} [{}]",
                clean(&s.name),
                clean(&s.provider),
                clean(&s.reason),
                s.code
            );
            if let Some(first) = s.sources.first() {
                println!("    from {}", place(first));
            }
        }
    }
    if !r.ignored.is_empty() {
        println!("Left alone ({}):", output::plural(r.ignored.len(), "variable"));
        for i in &r.ignored {
            println!("  {} at {}: {}", clean(&i.name), place(&i.at), clean(&i.reason));
        }
    }
    if !r.secret_locations.is_empty() {
        println!(
            "The {} secrets are still in the source at:",
            if r.dry_run { "found" } else { "imported" }
        );
        for l in &r.secret_locations {
            println!("  {}", place(l));
        }
        println!("Delete them there once you have checked the import (Tillkey never edits the file).");
    }
}

/// `tillkey export FILE [--force]`.
///
/// # Errors
/// As [`backup::export`]; a passphrase that cannot be read.
pub fn export(cli: &Cli, file: &Path, force: bool) -> Result<u8, Error> {
    // Refused before the passphrase is asked for (export checks again, atomically).
    if !force && std::fs::symlink_metadata(file).is_ok() {
        return Err(Error::InvalidInput {
            field: "FILE".into(),
            reason: format!(
                "{} already exists; nothing was written (choose another file, or pass --force to replace it)",
                file.display()
            ),
        });
    }
    let vault = crate::open(cli)?;
    let p = read_passphrase(true)?;
    let done = backup::export(&vault, file, &p, force)?;
    println!(
        "Wrote an encrypted backup of {} ({}) to {}. Keep its passphrase: without it the backup cannot be read. \
         Restore it with `tillkey import {}`.",
        output::plural(done.credentials, "credential"),
        output::plural(done.secrets, "secret"),
        file.display(),
        file.display()
    );
    Ok(0)
}
