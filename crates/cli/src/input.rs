//! Reading field values: non-secret ones from `--set`, secret ones from stdin
//! (`FIELD=VALUE` lines) or a hidden prompt on a terminal.

use secrecy::SecretString;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use tillkey_core::{Error, ProviderSchema};

/// Largest stdin we read (secrets are short; this bounds a mistaken pipe).
const MAX_STDIN: u64 = 64 * 1024;

fn invalid(field: &str, reason: impl Into<String>) -> Error {
    Error::InvalidInput {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Parses `--set FIELD=VALUE` arguments, refusing secret fields outright.
///
/// # Errors
/// [`Error::InvalidInput`] for a malformed pair, a repeated field, or a secret field.
pub fn parse_set(schema: &ProviderSchema, pairs: &[String]) -> Result<BTreeMap<String, String>, Error> {
    let mut out = BTreeMap::new();
    for pair in pairs {
        let Some((field, value)) = pair.split_once('=') else {
            return Err(invalid("--set", format!("`{pair}` is not FIELD=VALUE")));
        };
        let field = field.trim();
        if schema.field(field).is_some_and(|f| f.secret) {
            // Never echo the value: it is a secret typed in the wrong place.
            return Err(invalid(
                field,
                format!(
                    "is a secret field: secrets are read from stdin as `{field}=VALUE` lines (or a hidden \
                     prompt on a terminal), never from --set, where other users can see them in the process list"
                ),
            ));
        }
        if out.insert(field.to_string(), value.to_string()).is_some() {
            return Err(invalid(field, "is given more than once"));
        }
    }
    Ok(out)
}

/// Reads the secret fields of `schema`: hidden prompts on a terminal, else `FIELD=VALUE`
/// lines on stdin (blank lines and `#` comments ignored).
///
/// # Errors
/// [`Error::InvalidInput`] for a malformed line, an unknown or non-secret field, a repeat.
pub fn read_secrets(schema: &ProviderSchema) -> Result<BTreeMap<String, SecretString>, Error> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return prompt_secrets(schema);
    }
    parse_secret_lines(schema, &read_stdin(stdin)?)
}

/// All of stdin as text, refused (never cut short) when longer than [`MAX_STDIN`].
fn read_stdin(stdin: std::io::Stdin) -> Result<String, Error> {
    let mut bytes = Vec::new();
    stdin
        .lock()
        .take(MAX_STDIN + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| invalid("stdin", format!("cannot be read ({})", e.kind())))?;
    if bytes.len() as u64 > MAX_STDIN {
        return Err(invalid(
            "stdin",
            format!("is longer than {} KiB; nothing was read or stored", MAX_STDIN / 1024),
        ));
    }
    String::from_utf8(bytes).map_err(|_| invalid("stdin", "is not UTF-8 text"))
}

/// The `FIELD=VALUE` lines of `text` as `(line number, field, value)`, the field trimmed;
/// blank lines and `#` comments are skipped, and a line without `=` is an error naming its
/// number and the expected `shape` (never its content, which may be a secret).
fn assignments<'a>(
    text: &'a str,
    shape: &'a str,
) -> impl Iterator<Item = Result<(usize, &'a str, &'a str), Error>> + 'a {
    text.lines()
        .enumerate()
        .map(|(n, line)| (n + 1, line.trim_end_matches('\r')))
        .filter(|(_, line)| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .map(move |(n, line)| match line.split_once('=') {
            Some((field, value)) => Ok((n, field.trim(), value)),
            None => Err(invalid("stdin", format!("line {n} is not {shape}"))),
        })
}

/// Parses `FIELD=VALUE` lines of secret fields.
pub fn parse_secret_lines(schema: &ProviderSchema, text: &str) -> Result<BTreeMap<String, SecretString>, Error> {
    parse_lines(schema, text, false).map(|(_, secrets)| secrets)
}

/// What `tillkey rotate` reads: new identity field values (plain) and new secret values.
pub type Rotation = (BTreeMap<String, String>, BTreeMap<String, SecretString>);

/// Reads what `tillkey rotate` takes: new secret values and, for providers that issue a
/// new set, new values of the identity fields that rotate with the secret (myPOS
/// `client_id`). On a terminal: a visible prompt for each identity field (Enter keeps the
/// current value, shown) and hidden prompts for the secrets; else `FIELD=VALUE` lines on
/// stdin. Which fields may change is the core's check (any other non-secret field named
/// here is refused there, with the reason).
///
/// # Errors
/// [`Error::InvalidInput`] for a malformed line, an unknown field, a repeat.
pub fn read_rotation(schema: &ProviderSchema, current: &BTreeMap<String, String>) -> Result<Rotation, Error> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let identity = prompt_identity(schema, current)?;
        return Ok((identity, prompt_secrets(schema)?));
    }
    parse_rotation_lines(schema, &read_stdin(stdin)?)
}

/// Parses `tillkey rotate`'s `FIELD=VALUE` lines: secret fields, and non-secret ones (the
/// identity fields of a new set) as plain values.
pub fn parse_rotation_lines(schema: &ProviderSchema, text: &str) -> Result<Rotation, Error> {
    parse_lines(schema, text, true)
}

/// The one parser of `FIELD=VALUE` lines: secret fields of `schema` go to the second map;
/// non-secret ones to the first when `plain` allows them, else they are refused (they
/// belong in `--set`).
fn parse_lines(schema: &ProviderSchema, text: &str, plain: bool) -> Result<Rotation, Error> {
    let mut fields = BTreeMap::new();
    let mut out = BTreeMap::new();
    for line in assignments(text, "FIELD=VALUE") {
        let (n, field, value) = line?;
        match schema.field(field) {
            Some(f) if f.secret => {}
            Some(_) if plain => {
                if fields.insert(field.to_string(), value.to_string()).is_some() {
                    return Err(invalid(field, "is given more than once on stdin"));
                }
                continue;
            }
            Some(_) => {
                return Err(invalid(
                    field,
                    format!("is not a secret field; pass it with --set {field}=VALUE"),
                ))
            }
            None => {
                let secret: Vec<_> = schema
                    .fields
                    .iter()
                    .filter(|f| f.secret)
                    .map(|f| f.name.as_str())
                    .collect();
                // Echoed only when it is some provider's field name: a secret piped without
                // `FIELD=` (base64 padding has `=`) lands here with part of itself as the
                // "field", and must not be printed.
                let known = tillkey_core::providers::schemas()
                    .iter()
                    .any(|s| s.field(field).is_some());
                let what = if known {
                    format!("{} has no secret field `{field}`", schema.kind)
                } else {
                    format!("line {n} does not start with a secret field of {}", schema.kind)
                };
                return Err(invalid(
                    if known { field } else { "stdin" },
                    format!(
                        "{what} (its secret fields: {}); write each secret as FIELD=VALUE",
                        secret.join(", ")
                    ),
                ));
            }
        }
        if out.insert(field.to_string(), SecretString::from(value)).is_some() {
            return Err(invalid(field, "is given more than once on stdin"));
        }
    }
    Ok((fields, out))
}

/// Visible prompts for the identity fields that rotate with the secret; Enter keeps the
/// current value.
fn prompt_identity(
    schema: &ProviderSchema,
    current: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, Error> {
    let mut out = BTreeMap::new();
    for f in schema.fields.iter().filter(|f| f.rotates_with_secret && !f.secret) {
        let now = current.get(&f.name).map(String::as_str).unwrap_or("");
        eprint!("New {} if the provider issued a new set (Enter keeps {now}): ", f.label);
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| invalid(&f.name, format!("could not be read from the terminal ({})", e.kind())))?;
        let value = line.trim();
        if !value.is_empty() {
            out.insert(f.name.clone(), value.to_string());
        }
    }
    Ok(out)
}

fn prompt_secrets(schema: &ProviderSchema) -> Result<BTreeMap<String, SecretString>, Error> {
    let mut out = BTreeMap::new();
    for f in schema.fields.iter().filter(|f| f.secret) {
        let optional = if f.required { "" } else { " (optional, Enter to skip)" };
        let value = rpassword::prompt_password(format!("{}{optional}: ", f.label))
            .map_err(|e| invalid(&f.name, format!("could not be read from the terminal ({})", e.kind())))?;
        if !value.is_empty() {
            out.insert(f.name.clone(), SecretString::from(value));
        }
    }
    Ok(out)
}

/// Reads this machine's engine credential for `tillkey vault connect`: a `FIELD=VALUE`
/// line on stdin (`token=...` or `secret_id=...`), or a hidden prompt on a terminal.
///
/// # Errors
/// [`Error::InvalidInput`] for a missing, repeated, empty or unexpected line.
pub fn read_engine_secret(field: &str, label: &str) -> Result<SecretString, Error> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let value = rpassword::prompt_password(format!("{label}: "))
            .map_err(|e| invalid(field, format!("could not be read from the terminal ({})", e.kind())))?;
        return Ok(SecretString::from(value));
    }
    parse_engine_secret(field, &read_stdin(stdin)?)
}

/// Parses the one `FIELD=VALUE` line of [`read_engine_secret`].
pub fn parse_engine_secret(field: &str, text: &str) -> Result<SecretString, Error> {
    let mut out = None;
    let shape = format!("{field}=VALUE");
    for line in assignments(text, &shape) {
        let (n, k, v) = line?;
        if k != field {
            // Not echoed: it may be the secret itself.
            return Err(invalid(
                "stdin",
                format!("line {n} is not expected: give the engine credential as `{field}=VALUE`"),
            ));
        }
        if out.replace(SecretString::from(v.trim())).is_some() {
            return Err(invalid(field, "is given more than once on stdin"));
        }
    }
    out.ok_or_else(|| invalid(field, format!("missing: give it on stdin as `{field}=VALUE`")))
}

/// Variables `exec --var` refuses: the dynamic loader, the shell and common interpreters
/// act on them (load a library, run a file, change what a command name means), so a token
/// put there would be executed or printed instead of passed on. Prefix patterns end in `*`.
pub const RESERVED_VARS: &[&str] = &[
    "LD_*",
    "DYLD_*",
    "GCONV_PATH",
    "GLIBC_TUNABLES",
    "HOSTALIASES",
    "LOCPATH",
    "MALLOC_*",
    "NLSPATH",
    "RES_OPTIONS",
    "TMPDIR",
    "PATH",
    "IFS",
    "ENV",
    "BASH_ENV",
    "BASH_FUNC_*",
    "BASHOPTS",
    "SHELLOPTS",
    "CDPATH",
    "GLOBIGNORE",
    "PROMPT_COMMAND",
    "PS1",
    "PS2",
    "PS3",
    "PS4",
    "HOME",
    "SHELL",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PYTHONHOME",
    "PERL5LIB",
    "PERL5OPT",
    "RUBYOPT",
    "RUBYLIB",
    "NODE_OPTIONS",
    "NODE_PATH",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
];

/// Checks an `exec --var` name: a plain variable name, not one of [`RESERVED_VARS`].
///
/// # Errors
/// [`Error::InvalidInput`].
pub fn check_var_name(var: &str) -> Result<(), Error> {
    let plain = !var.is_empty()
        && var.len() <= 128
        && !var.starts_with(|c: char| c.is_ascii_digit())
        && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !plain {
        return Err(invalid("--var", format!("`{var}` is not an environment variable name")));
    }
    let reserved = RESERVED_VARS.iter().any(|r| match r.strip_suffix('*') {
        Some(prefix) => var.starts_with(prefix),
        None => var == *r,
    });
    if reserved {
        return Err(invalid(
            "--var",
            format!(
                "`{var}` is read by the loader, the shell or an interpreter, which would act on the token; \
                 use a name of your own such as TILLKEY_TOKEN"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn ereceipt() -> ProviderSchema {
        tillkey_core::providers::schema("ereceipt").unwrap()
    }

    #[test]
    fn engine_secret_is_one_named_line_and_never_echoed() {
        assert_eq!(
            parse_engine_secret("token", "token=s.abc\n").unwrap().expose_secret(),
            "s.abc"
        );
        let e = parse_engine_secret("token", "secret_id=hunter2\n")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(parse_engine_secret("token", "").is_err());
        assert!(parse_engine_secret("token", "token=a\ntoken=b\n").is_err());
        let e = parse_engine_secret("token", "hunter2\n").unwrap_err().to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn exec_variables_the_loader_or_shell_act_on_are_refused() {
        for v in [
            "LD_PRELOAD",
            "LD_LIBRARY_PATH",
            "PATH",
            "IFS",
            "BASH_ENV",
            "ENV",
            "BASH_FUNC_x%%",
            "DYLD_INSERT_LIBRARIES",
        ] {
            assert!(check_var_name(v).is_err(), "{v}");
        }
        for v in ["TILLKEY_TOKEN", "MY_TOKEN", "PATHWAY_TOKEN", "API_KEY"] {
            assert!(check_var_name(v).is_ok(), "{v}");
        }
        assert!(check_var_name("1A").is_err());
        assert!(check_var_name("A-B").is_err());
    }

    #[test]
    fn secret_in_set_is_refused_without_echoing_it() {
        let e = parse_set(&ereceipt(), &["presharedkey=hunter2".into()]).unwrap_err();
        assert!(e.to_string().contains("secret field"));
        assert!(!e.to_string().contains("hunter2"));
    }

    #[test]
    fn stdin_lines_keep_equals_signs_in_values_and_skip_comments() {
        let m = parse_secret_lines(&ereceipt(), "# comment\n\nclient_secret=a=b==\r\npresharedkey=k\n").unwrap();
        assert_eq!(m["client_secret"].expose_secret(), "a=b==");
        assert_eq!(m["presharedkey"].expose_secret(), "k");
    }

    #[test]
    fn stdin_rejects_plain_and_unknown_fields_and_repeats() {
        assert!(parse_secret_lines(&ereceipt(), "client_id=x\n")
            .unwrap_err()
            .to_string()
            .contains("--set"));
        assert!(parse_secret_lines(&ereceipt(), "nope=x\n")
            .unwrap_err()
            .to_string()
            .contains("does not start with a secret field"));
        let e = parse_secret_lines(&ereceipt(), "hunter2==\n").unwrap_err().to_string();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(parse_secret_lines(&ereceipt(), "presharedkey=a\npresharedkey=b\n").is_err());
        let e = parse_secret_lines(&ereceipt(), "hunter2\n").unwrap_err().to_string();
        assert!(e.contains("line 1") && !e.contains("hunter2"), "{e}");
    }

    #[test]
    fn rotate_reads_the_identity_of_a_new_set_beside_its_secret() {
        let mypos = tillkey_core::providers::schema("mypos").unwrap();
        let (fields, secrets) =
            parse_rotation_lines(&mypos, "# the new set\nclient_id=new-id\nclient_secret=s=1\n").unwrap();
        assert_eq!(fields.get("client_id").map(String::as_str), Some("new-id"));
        assert_eq!(secrets["client_secret"].expose_secret(), "s=1");
        // Non-secret fields reach the core, which says which may change (see its tests).
        let (fields, _) = parse_rotation_lines(&mypos, "scope=x\nclient_secret=s\n").unwrap();
        assert!(fields.contains_key("scope"));
        assert!(parse_rotation_lines(&mypos, "client_id=a\nclient_id=b\n").is_err());
        let e = parse_rotation_lines(&mypos, "hunter2\n").unwrap_err().to_string();
        assert!(!e.contains("hunter2"), "{e}");
        // `add` still refuses a non-secret field on stdin.
        assert!(parse_secret_lines(&mypos, "client_id=x\n").is_err());
    }
}
