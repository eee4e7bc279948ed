//! Human and JSON output. JSON shapes are the core DTOs (camelCase), documented in the
//! README; they hold no secret values.

use serde::Serialize;
use tillkey_core::{CredentialSummary, Error, ProviderSchema, RotationStatus, TestReport};

/// Prints `value` as pretty JSON.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::InvalidInput {
        field: "json".into(),
        reason: e.to_string(),
    })?;
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

/// A vault's state in words: "connected, read-write, 3 credentials".
pub fn vault_state(v: &tillkey_core::vault::team::VaultStatus) -> String {
    use tillkey_core::vault::team::ConnectionState as S;
    let state = match v.state {
        S::Connected => "connected",
        S::Unreachable => "unreachable",
        S::Denied => "denied",
        S::Sealed => "sealed",
        S::Locked => "locked",
    };
    let mut parts = vec![state.to_string()];
    match v.writable {
        Some(true) => parts.push("read-write".into()),
        Some(false) => parts.push("read-only".into()),
        None => {}
    }
    if let Some(n) = v.credentials {
        parts.push(plural(n, "credential"));
    }
    parts.join(", ")
}

/// `tillkey vault list`.
pub fn vaults(all: &[tillkey_core::vault::team::VaultStatus]) {
    for v in all {
        println!("{:<16} {:<40} {}", v.name, vault_state(v), v.address);
        if let Some(d) = &v.detail {
            println!("    {d}");
        }
    }
}

/// Prints an error and its hint on stderr.
pub fn error(e: &Error) {
    error_parts(e.code(), &e.to_string(), e.hint().as_deref());
}

/// The error format of every command: `error[CODE]: MESSAGE`, then `  hint: HINT` (also
/// for an error the local agent answered with, so both paths print the same bytes).
pub fn error_parts(code: &str, message: &str, hint: Option<&str>) {
    eprintln!("error[{code}]: {message}");
    if let Some(h) = hint {
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
            if f.rotates_with_secret {
                tags.push("rotates with the secret".to_string());
            }
            let tags = if tags.is_empty() {
                String::new()
            } else {
                format!(" ({})", tags.join(", "))
            };
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

/// A duration in the largest sensible unit: "42 min", "3 h", "12 days".
fn span(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        7200..=172_799 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}

/// Token column: "valid 42 min", "expired", "static", "no token yet".
fn token_words(c: &CredentialSummary) -> String {
    let now = chrono::Utc::now();
    if let Some(t) = &c.token {
        return if t.expires_at > now {
            format!("valid {}", span(t.expires_at - now))
        } else {
            "expired".into()
        };
    }
    if c.secret_fields.iter().any(|f| f == "token") {
        // A stated expiry, else the token's own (a PAT in JWT form).
        let own = c
            .secret_ages
            .iter()
            .find(|a| a.field == "token")
            .and_then(|a| a.expires_at);
        return match c
            .fields
            .get("expires_at")
            .and_then(|e| chrono::DateTime::parse_from_rfc3339(e).ok())
            .map(|e| e.with_timezone(&chrono::Utc))
            .or(own)
        {
            Some(e) if e > now => format!("static, valid {}", span(e - now)),
            Some(_) => "static, expired".into(),
            None => "static".into(),
        };
    }
    "no token yet".into()
}

/// Secret age column: the oldest long-lived secret's age, "100 days (presharedkey)" when
/// the credential has more than one.
fn age_words(c: &CredentialSummary) -> String {
    let rotating: Vec<_> = c.secret_ages.iter().filter(|a| a.rotates).collect();
    match rotating.iter().find(|a| a.oldest).or(rotating.first()) {
        None => "-".into(),
        Some(a) if rotating.len() == 1 => plural(a.age_days.unsigned_abs() as usize, "day"),
        Some(a) => format!("{} ({})", plural(a.age_days.unsigned_abs() as usize, "day"), a.field),
    }
}

/// One secret's age for `show`: "50 days (set 2026-02-20; expires 2027-01-01)".
fn age_line(a: &tillkey_core::vault::age::SecretAge) -> String {
    let mut notes = vec![format!("set {}", a.set_at.date_naive())];
    if let Some(e) = a.expires_at {
        let verb = if e > chrono::Utc::now() { "expires" } else { "expired" };
        notes.push(format!("{verb} {}", e.date_naive()));
    }
    if a.oldest {
        notes.push("the rotation status follows it".into());
    }
    if !a.rotates {
        notes.push("renewed by the provider".into());
    }
    format!(
        "{} {} ({})",
        a.field,
        plural(a.age_days.unsigned_abs() as usize, "day"),
        notes.join("; ")
    )
}

/// Prints test reports, one block per credential.
pub fn reports(reports: &[TestReport]) {
    for r in reports {
        println!(
            "{}  {}  {}  {}",
            r.credential,
            r.provider,
            if r.ok { "PASS" } else { "FAIL" },
            r.summary
        );
        for s in &r.stages {
            let stage = format!("{:?}", s.stage).to_lowercase();
            let status = s.status.map(|c| format!("HTTP {c} ")).unwrap_or_default();
            let code = s.code.as_deref().map(|c| format!("[{c}] ")).unwrap_or_default();
            println!(
                "  {stage:<8} {:<4} {:>5} ms  {}  {status}{code}{}",
                if s.ok { "ok" } else { "FAIL" },
                s.latency_ms,
                s.target,
                s.message
            );
            if let Some(h) = &s.hint {
                println!("  {:<8}           hint: {h}", "");
            }
            if let Some(rl) = &s.rate_limit {
                let part = |label: &str, v: Option<u64>| v.map(|v| format!("{label} {v}"));
                let bits: Vec<_> = [
                    part("limit", rl.limit),
                    part("remaining", rl.remaining),
                    part("resets in (s)", rl.reset_secs),
                    part("retry after (s)", rl.retry_after_secs),
                ]
                .into_iter()
                .flatten()
                .collect();
                println!("  {:<8}           rate limit: {}", "", bits.join(", "));
            }
        }
    }
    if reports.len() > 1 {
        let passed = reports.iter().filter(|r| r.ok).count();
        println!("{passed} passed, {} failed", reports.len() - passed);
    }
}

/// Seconds to wait if `r` failed only because of a rate limit.
pub fn rate_limited_for(r: &TestReport) -> Option<u64> {
    let s = r.stages.iter().find(|s| !s.ok)?;
    (s.code.as_deref() == Some("rate_limited")).then(|| s.rate_limit.as_ref().map(|rl| rl.wait_secs()).unwrap_or(60))
}

/// Exit code of a test run: 0 if all passed; 1 if any credential was rejected or failed;
/// else 4 for network failures; else 5 for rate limits.
pub fn test_exit_code(reports: &[TestReport]) -> u8 {
    let failed: Vec<_> = reports
        .iter()
        .filter(|r| !r.ok)
        .filter_map(|r| r.stages.iter().find(|s| !s.ok))
        .collect();
    if reports.iter().all(|r| r.ok) {
        return 0;
    }
    let code = |s: &&tillkey_core::StageResult| s.code.as_deref().unwrap_or("").to_string();
    if failed.is_empty()
        || failed
            .iter()
            .any(|s| !matches!(code(s).as_str(), "network_error" | "timeout" | "rate_limited"))
    {
        1
    } else if failed
        .iter()
        .any(|s| matches!(code(s).as_str(), "network_error" | "timeout"))
    {
        4
    } else {
        5
    }
}

/// The exit code to pass on from a child process (128 + signal when killed by one).
pub fn child_exit_code(status: std::process::ExitStatus) -> u8 {
    if let Some(c) = status.code() {
        return u8::try_from(c).unwrap_or(1);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return u8::try_from(128 + sig).unwrap_or(1);
        }
    }
    1
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
    println!(
        "{:<w$}  {:<16}  {:<10}  {:<24}  {:<24}  ROTATION",
        "NAME", "PROVIDER", "ENV", "TOKEN", "SECRET AGE"
    );
    for c in items {
        println!(
            "{:<w$}  {:<16}  {:<10}  {:<24}  {:<24}  {}",
            c.name,
            c.provider,
            c.environment.as_str(),
            token_words(c),
            age_words(c),
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
    println!(
        "rotation:      {} (every {} days, due {})",
        rotation_words(c),
        c.rotation_period_days,
        c.rotation.due_at.date_naive()
    );
    println!("token:         {}", token_words(c));
    for (i, a) in c.secret_ages.iter().enumerate() {
        let key = if i == 0 { "secret age:" } else { "" };
        println!("{key:<14} {}", age_line(a));
    }
    if let Some(tags) = c.token.as_ref().and_then(|t| t.taxpayer_tags.as_ref()) {
        println!("taxpayer tags: {}", tags.join(", "));
    }
    if let Some(t) = &c.last_test {
        println!(
            "last test:     {} at {} ({})",
            if t.ok { "PASS" } else { "FAIL" },
            t.tested_at.to_rfc3339(),
            t.summary
        );
    }
    Ok(())
}

/// After a change to one credential: the credential as `show --json`, or one line saying
/// what changed and its rotation status now. Exit code 0.
pub fn changed(c: &CredentialSummary, json: bool, what: &str) -> Result<u8, Error> {
    if json {
        print_json(c)?;
    } else {
        println!(
            "{what}: {} (due {}).",
            rotation_words(c),
            c.rotation.due_at.date_naive()
        );
    }
    Ok(0)
}

/// The vault's settings.
pub fn settings(s: &tillkey_core::dto::VaultSettings, json: bool) -> Result<(), Error> {
    if json {
        return print_json(s);
    }
    println!("reminder lead time:        {} days", s.reminder_lead_days);
    println!("default rotation period:   {} days", s.default_rotation_days);
    Ok(())
}

/// `test --trace`: the reports, then what each test sent and received (secrets masked,
/// see `tillkey_core::inspect`); with `json`, each report gains a `trace` field (the
/// recorded test, or null).
pub fn traced_reports(
    vault: &tillkey_core::Vault,
    reports: &[TestReport],
    json: bool,
    single: bool,
) -> Result<(), Error> {
    let traces: Vec<Option<tillkey_core::inspect::Trace>> = reports
        .iter()
        .map(|r| {
            tillkey_core::inspect::load(vault, &r.credential)
                .ok()
                .and_then(|i| i.test)
        })
        .collect();
    if json {
        let mut items = Vec::with_capacity(reports.len());
        for (r, t) in reports.iter().zip(&traces) {
            let mut v = serde_json::to_value(r).map_err(|e| Error::InvalidInput {
                field: "json".into(),
                reason: e.to_string(),
            })?;
            if let serde_json::Value::Object(m) = &mut v {
                m.insert("trace".into(), serde_json::to_value(t).unwrap_or_default());
            }
            items.push(v);
        }
        return match single {
            true => print_json(&items[0]),
            false => print_json(&items),
        };
    }
    self::reports(reports);
    for (r, t) in reports.iter().zip(&traces) {
        match t {
            Some(t) => print!("\n{}", trace_text(&r.credential, t)),
            None => println!("\nNo request details were recorded for {}.", r.credential),
        }
    }
    Ok(())
}

/// `token --trace`: on stderr, the token request this command made (recorded at or after
/// `asked_at`), or why there was none.
pub fn token_trace(
    vault: &tillkey_core::Vault,
    name: &str,
    asked_at: chrono::DateTime<chrono::Utc>,
) -> Result<(), Error> {
    let recorded = tillkey_core::inspect::load(vault, name)?.token;
    // Timestamps have whole-second precision in some clocks: allow a second.
    match recorded.filter(|t| t.recorded_at >= asked_at - chrono::Duration::seconds(1)) {
        Some(t) => eprint!("{}", trace_text(name, &t)),
        None => eprintln!(
            "No token request was sent: the token came from the cache, or is the credential's own (`tillkey test {name} --trace` shows a full exchange)."
        ),
    }
    Ok(())
}

/// A recorded trace for a terminal, in the manner of `curl -v`: `>` lines were sent, `<`
/// lines received. Every value was masked when it was recorded and cleaned when read back.
pub fn trace_text(credential: &str, t: &tillkey_core::inspect::Trace) -> String {
    use std::fmt::Write as _;
    let what = match t.kind {
        tillkey_core::inspect::TraceKind::Token => "token request",
        tillkey_core::inspect::TraceKind::Test => "test",
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Request details of the last {what} of {credential} ({}, secrets masked):",
        t.recorded_at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    let _ = writeln!(s, "  outcome: {}", t.outcome);
    for st in &t.stages {
        let _ = writeln!(
            s,
            "  stage {:<8} {:<4} {:>6} ms  {}",
            format!("{:?}", st.stage).to_lowercase(),
            if st.ok { "ok" } else { "FAIL" },
            st.latency_ms,
            st.message
        );
    }
    for (i, x) in t.exchanges.iter().enumerate() {
        let _ = writeln!(s, "\n  #{} {}", i + 1, x.purpose);
        let _ = writeln!(s, "  > {} {}", x.method, x.url);
        for h in &x.request_headers {
            let _ = writeln!(s, "  > {}: {}", h.name, h.value);
        }
        if let Some(b) = &x.request_body {
            body_lines(&mut s, '>', b);
        }
        match (&x.status, &x.error) {
            (Some(status), _) => {
                let headers = x.headers_ms.map(|m| format!("headers {m} ms, ")).unwrap_or_default();
                let _ = writeln!(s, "  < HTTP {status} ({headers}total {} ms)", x.total_ms);
            }
            (None, Some(e)) => {
                let _ = writeln!(s, "  ! no answer after {} ms: {e}", x.total_ms);
            }
            (None, None) => {}
        }
        for h in &x.response_headers {
            let _ = writeln!(s, "  < {}: {}", h.name, h.value);
        }
        if let Some(b) = &x.response_body {
            body_lines(&mut s, '<', b);
        }
    }
    s
}

fn body_lines(s: &mut String, dir: char, b: &tillkey_core::inspect::BodyShown) {
    use std::fmt::Write as _;
    let cut = if b.truncated { ", cut" } else { "" };
    let _ = writeln!(s, "  {dir} [body, {} bytes{cut}]", b.bytes);
    for line in b.text.lines() {
        let _ = writeln!(s, "  {dir}   {line}");
    }
}
