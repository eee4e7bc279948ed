//! `tillkey log`: the audit log of the data dir, as a table or JSON lines, and
//! `tillkey log --verify`, which checks its hash chain and the anchor in the keyring.
//! Also where this process's audit origin is set (the command's name and pid).

use crate::args::{Cli, Command};
use chrono::{DateTime, NaiveDate, Utc};
use std::io::Write;
use tillkey_core::audit::{self, Action, AnchorState, AuditLog, Entry, Filter, Origin, Verified};
use tillkey_core::{Error, SystemClock};

/// The command's name as the audit log records it: `token`, `exec`, `mark-rotated`, …
pub fn command_name(command: &Command) -> String {
    // The variant's name is the start of its Debug form; no argument is kept.
    let debug = format!("{command:?}");
    let variant: String = debug.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    let mut out = String::new();
    for (i, c) in variant.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Records this process's actions as `tillkey <command>` with its pid, and anchors the
/// audit log in the OS keyring.
pub fn set_origin(command: &Command) {
    audit::set_process_origin(Origin::cli(&command_name(command)));
    audit::anchor_in_keyring();
}

/// `--since`: a date (UTC midnight) or an RFC 3339 time.
fn parse_since(s: &str) -> Result<DateTime<Utc>, Error> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| Error::InvalidInput {
            field: "--since".into(),
            reason: format!("`{s}` is not a date: use YYYY-MM-DD or an RFC 3339 time"),
        })
}

/// Printable text of a field read from the (untrusted) log: no control characters.
fn shown(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

fn log_of(cli: &Cli) -> Result<AuditLog, Error> {
    let dir = tillkey_core::vault::resolve_data_dir(cli.data_dir.clone())?;
    Ok(AuditLog::new(dir, None, std::sync::Arc::new(SystemClock)))
}

/// `tillkey log [NAME] [--since DATE] [--action ACTION] [--json]` and `tillkey log --verify`.
pub fn command(
    cli: &Cli,
    name: Option<&str>,
    since: Option<&str>,
    action: Option<&str>,
    json: bool,
    verify: bool,
) -> Result<u8, Error> {
    let log = log_of(cli)?;
    if verify {
        return verify_log(&log);
    }
    let filter = Filter {
        credential: name.map(str::to_string),
        action: action.map(str::parse::<Action>).transpose()?,
        since: since.map(parse_since).transpose()?,
        until: None,
    };
    let mut listing = log.list(&filter)?;
    if let Some(v) = cli.vault.as_deref() {
        listing.entries.retain(|e| e.vault == v);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        for e in &listing.entries {
            let line = serde_json::to_string(e).map_err(|e| Error::Internal(format!("audit entry: {e}")))?;
            let _ = writeln!(out, "{line}");
        }
    } else {
        table(&mut out, &listing.entries);
    }
    if listing.unreadable > 0 {
        eprintln!(
            "warning: {} line(s) of the audit log are not entries; run `tillkey log --verify`",
            listing.unreadable
        );
    }
    Ok(0)
}

fn table(out: &mut impl Write, entries: &[Entry]) {
    if entries.is_empty() {
        let _ = writeln!(out, "No audit log entries.");
        return;
    }
    let rows: Vec<[String; 6]> = entries
        .iter()
        .map(|e| {
            let outcome = match &e.detail {
                Some(d) => format!("{} ({})", shown(&e.outcome), shown(d)),
                None => shown(&e.outcome),
            };
            let credential = if e.vault == tillkey_core::vault::LOCAL_VAULT {
                shown(&e.credential.name)
            } else {
                format!("{}/{}", shown(&e.vault), shown(&e.credential.name))
            };
            [
                e.seq.to_string(),
                e.time.format("%Y-%m-%d %H:%M:%SZ").to_string(),
                e.action.as_str().to_string(),
                credential,
                shown(&e.origin.describe()),
                outcome,
            ]
        })
        .collect();
    let head = ["SEQ", "TIME (UTC)", "ACTION", "CREDENTIAL", "ORIGIN", "OUTCOME"];
    let mut widths = head.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i == 5 {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        s
    };
    let _ = writeln!(out, "{}", line(head));
    for r in &rows {
        let _ = writeln!(out, "{}", line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]]));
    }
}

fn verify_log(log: &AuditLog) -> Result<u8, Error> {
    match log.verify()? {
        Verified::Intact {
            count,
            first,
            last,
            anchor,
        } => {
            let range = match (first, last) {
                (Some(f), Some(l)) => format!(" (entries {f} to {l})"),
                _ => String::new(),
            };
            println!("Audit log intact: {count} entries{range}.");
            match anchor {
                AnchorState::Matched(a) => println!("Anchored in the keyring at entry {}.", a.seq),
                AnchorState::Missing if count > 0 => eprintln!(
                    "warning: the log had no anchor in the keyring (a new keyring, or a moved data dir); it is anchored now, so a rewrite from here on is detected"
                ),
                AnchorState::Missing => {}
                AnchorState::Unavailable(why) => {
                    eprintln!("warning: the log is not anchored ({why}): only the hash chain was checked")
                }
            }
            if first.is_some_and(|f| f > 0) {
                println!("Older entries were rotated away; the chain is checked from the oldest file kept.");
            }
            Ok(0)
        }
        Verified::Broken {
            seq,
            place,
            reason,
            good,
        } => {
            let at = place.map(|p| format!(" ({p})")).unwrap_or_default();
            crate::output::error_parts(
                "audit_log_broken",
                &format!("audit log entry {seq}{at}: {reason}"),
                Some(&format!(
                    "{good} entries before it check out. The log was changed outside Tillkey (or a write was cut short); keep a copy of {} for review.",
                    log.path().display()
                )),
            );
            Ok(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn command_names_are_the_subcommands_in_kebab_case() {
        let name = |args: &[&str]| command_name(&Cli::parse_from(args).command);
        assert_eq!(name(&["tillkey", "token", "shop"]), "token");
        assert_eq!(name(&["tillkey", "exec", "shop", "--", "curl", "x"]), "exec");
        assert_eq!(name(&["tillkey", "mark-rotated", "shop"]), "mark-rotated");
        assert_eq!(name(&["tillkey", "log", "--verify"]), "log");
    }

    #[test]
    fn since_takes_a_date_or_a_time() {
        assert_eq!(
            parse_since("2026-05-01").unwrap().to_rfc3339(),
            "2026-05-01T00:00:00+00:00"
        );
        assert_eq!(
            parse_since("2026-05-01T10:00:00+02:00").unwrap().to_rfc3339(),
            "2026-05-01T08:00:00+00:00"
        );
        assert!(parse_since("yesterday").is_err());
    }
}
