//! `.env` files: `KEY=VALUE` lines as dotenv tools write them (and Bruno reads beside a
//! collection).
//!
//! - `#` starts a comment line; blank lines are skipped; `export KEY=VALUE` is accepted.
//! - Spaces around the key and around `=` are dropped (`authkey = abc` as in Bruno's docs).
//! - A value in single quotes is taken as it is; in double quotes, `\n`, `\r`, `\t`, `\"`
//!   and `\\` are unescaped; an unquoted value ends at ` #` (an inline comment) and is
//!   trimmed. A quote must close on its line (multi-line values are refused, naming the
//!   line).
//! - Keys are letters, digits, `_`, `.` and `-`, not starting with a digit.
//!
//! A malformed line is an error naming the line, never its content.

use super::{check_count, Format, Group, ImportError, Location, Parsed, Variable, MAX_NAME_LEN};
use secrecy::SecretString;

/// Parses `text` (the content of `file`) into one group.
///
/// # Errors
/// [`ImportError::Syntax`] naming the first malformed line.
pub fn parse(file: &str, text: &str) -> Result<Parsed, ImportError> {
    Ok(Parsed {
        format: Format::Dotenv,
        groups: vec![Group {
            label: None,
            variables: variables(file, text)?,
        }],
        ignored: Vec::new(),
        credentials: Vec::new(),
    })
}

/// The variables of a `.env` text, in order.
///
/// # Errors
/// As [`parse`].
pub fn variables(file: &str, text: &str) -> Result<Vec<Variable>, ImportError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let err = |detail: &str| ImportError::Syntax {
            file: file.into(),
            line,
            detail: detail.into(),
        };
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let l = l.strip_prefix("export ").map(str::trim_start).unwrap_or(l);
        let (key, rest) = l
            .split_once('=')
            .ok_or_else(|| err("expected KEY=VALUE (the line has no `=`)"))?;
        let key = key.trim();
        if !valid_key(key) {
            return Err(err(
                "the name before `=` is not a variable name (letters, digits, `_`, `.`, `-`; not starting with a digit)",
            ));
        }
        let value = value(rest.trim()).map_err(err)?;
        out.push(Variable {
            name: key.to_string(),
            value: SecretString::from(value),
            at: Location {
                file: file.into(),
                line: Some(line),
                at: key.to_string(),
            },
        });
        check_count(file, out.len())?;
    }
    Ok(out)
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= MAX_NAME_LEN
        && k.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// The value after `=`, unquoted. The error never quotes the value.
fn value(v: &str) -> Result<String, &'static str> {
    if let Some(rest) = v.strip_prefix('\'') {
        let end = rest
            .find('\'')
            .ok_or("a single-quoted value does not close on its line")?;
        trailing(&rest[end + 1..])?;
        return Ok(rest[..end].to_string());
    }
    if let Some(rest) = v.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    trailing(&rest[i + 1..])?;
                    return Ok(out);
                }
                '\\' => match chars.next().map(|(_, c)| c) {
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    Some(c @ ('"' | '\\' | '$')) => out.push(c),
                    Some(c) => {
                        out.push('\\');
                        out.push(c);
                    }
                    None => break,
                },
                c => out.push(c),
            }
        }
        return Err("a double-quoted value does not close on its line");
    }
    // Unquoted: an inline comment starts at ` #`.
    let v = match v.find(" #") {
        Some(i) => &v[..i],
        None => v,
    };
    Ok(v.trim().to_string())
}

/// Only spaces or a comment may follow a closing quote.
fn trailing(after: &str) -> Result<(), &'static str> {
    let after = after.trim_start();
    if after.is_empty() || after.starts_with('#') {
        Ok(())
    } else {
        Err("text follows the closing quote")
    }
}
