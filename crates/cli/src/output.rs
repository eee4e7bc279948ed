//! Human and JSON output. JSON shapes are the core DTOs (camelCase), documented in the
//! README; they hold no secret values.

use serde::Serialize;
use tillkey_core::{CredentialSummary, Error, ProviderSchema, RotationStatus};

fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::InvalidInput { field: "json".into(), reason: e.to_string() })?;
    println!("{text}");
    Ok(())
}

/// `n thing` / `n things`.
pub fn plural(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

/// Prints an error and its hint on stderr.
pub fn error(e: &Error) {
    eprintln!("error[{}]: {e}", e.code());
    if let Some(h) = e.hint() {
        eprintln!("  hint: {h}");
    }
}

/// `tillkey providers`.
pub fn providers(schemas: &[ProviderSchema], json: bool) -> Result<(), Error> {
    if json {
        return print_json(schemas);
    }
    for s in schemas {
        let envs: Vec<_> = s.environments.iter().map(|e| e.as_str()).collect();
        println!("{:<18} {} — {} [{}]", s.kind, s.label, s.flow, envs.join(", "));
        for f in &s.fields {
            let mut tags = Vec::new();
            if f.secret {
                tags.push("secret, stdin".to_string());
            }
            if f.required {
                tags.push("required".to_string());
            }
            if let Some(n) = f.max_len {
                tags.push(format!("max {n}"));
            }
            let tags = if tags.is_empty() { String::new() } else { format!(" ({})", tags.join(", ")) };
            println!("    {:<20} {}{tags}", f.name, f.label);
        }
    }
    Ok(())
}

/// Rotation status in words: "ok (due in 90 days)", "due in 5 days", "overdue by 3 days".
pub fn rotation_words(c: &CredentialSummary) -> String {
    let d = c.rotation.days_left;
    match c.rotation.status {
        RotationStatus::Ok => format!("ok (due in {})", plural(d.unsigned_abs() as usize, "day")),
        RotationStatus::DueSoon if d == 0 => "due today".into(),
        RotationStatus::DueSoon => format!("due in {}", plural(d.unsigned_abs() as usize, "day")),
        RotationStatus::Overdue => format!("overdue by {}", plural(d.unsigned_abs() as usize, "day")),
    }
}

/// Token expiry column. The token engine is not part of this build yet; a bearer token with
/// a stated expiry shows it.
fn token_words(c: &CredentialSummary) -> String {
    c.fields.get("expires_at").map(|e| format!("expires {e}")).unwrap_or_else(|| "no token yet".into())
}

/// `tillkey list`.
pub fn list(items: &[CredentialSummary], json: bool) -> Result<(), Error> {
    if json {
        return print_json(items);
    }
    if items.is_empty() {
        println!("No credentials yet. Add one with `tillkey add NAME --provider KIND` (see `tillkey providers`).");
        return Ok(());
    }
    let w = items.iter().map(|c| c.name.len()).max().unwrap_or(4).max(4);
    println!("{:<w$}  {:<16}  {:<10}  {:<24}  ROTATION", "NAME", "PROVIDER", "ENV", "TOKEN");
    for c in items {
        println!(
            "{:<w$}  {:<16}  {:<10}  {:<24}  {}",
            c.name,
            c.provider,
            c.environment.as_str(),
            token_words(c),
            rotation_words(c)
        );
    }
    Ok(())
}

/// `tillkey show`.
pub fn show(c: &CredentialSummary, json: bool) -> Result<(), Error> {
    if json {
        return print_json(c);
    }
    println!("name:          {}", c.name);
    println!("provider:      {} ({})", c.provider, c.provider_label);
    println!("environment:   {}", c.environment);
    println!("id:            {}", c.id);
    for (k, v) in &c.fields {
        println!("{:<14} {v}", format!("{k}:"));
    }
    for k in &c.secret_fields {
        println!("{:<14} (in the OS keyring)", format!("{k}:"));
    }
    println!("created:       {}", c.created_at.to_rfc3339());
    println!("rotated:       {}", c.rotated_at.to_rfc3339());
    println!("rotation:      {} (every {} days, due {})", rotation_words(c), c.rotation_period_days, c.rotation.due_at.date_naive());
    println!("token:         {}", token_words(c));
    Ok(())
}
