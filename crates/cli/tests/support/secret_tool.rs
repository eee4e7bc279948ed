//! Reading a test keyring with `secret-tool search --all service tillkey`: the one parser
//! of its output for every keyring test session.

use std::process::{Command, Stdio};

/// One `service=tillkey` keyring item (its `Debug` shows no secret).
#[derive(Clone, PartialEq, Eq)]
pub struct Item {
    /// The keyring user: `{vault id}/{credential id}/r{rev}/{field}`.
    pub account: String,
    /// The stored value.
    pub secret: String,
}

impl std::fmt::Debug for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.account)
    }
}

/// Every `service=tillkey` item, sorted by account; `secret_tool` is a `secret-tool`
/// command already pointed at the session (environment, bus address).
pub fn search(mut secret_tool: Command) -> Vec<Item> {
    let o = secret_tool
        .args(["search", "--all", "service", "tillkey"])
        .stdin(Stdio::null())
        .output()
        .expect("secret-tool is installed by scripts/setup.sh (libsecret-tools)");
    let stdout = String::from_utf8_lossy(&o.stdout);
    // No match is exit 1 with nothing on stdout; anything else is a failure.
    assert!(
        o.status.success() || stdout.trim().is_empty(),
        "secret-tool search failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // One block per item, opened by its object path in brackets.
    let mut items = Vec::new();
    let (mut user, mut secret): (Option<String>, Option<String>) = (None, None);
    let mut flush = |user: &mut Option<String>, secret: &mut Option<String>| {
        if let Some(account) = user.take() {
            items.push(Item {
                account,
                secret: secret.take().unwrap_or_default(),
            });
        }
        *secret = None;
    };
    for line in stdout.lines() {
        if line.starts_with('[') {
            flush(&mut user, &mut secret);
        } else if let Some(label) = line.strip_prefix("label = ") {
            // secret-tool prints the attributes on stderr; the label (on stdout) is
            // keyring-rs's `{user}@{service}:{target} (keyring v…)`.
            let u = label
                .split_once("@tillkey:")
                .map(|(u, _)| u.to_string())
                .unwrap_or_else(|| panic!("unexpected keyring label {label:?}"));
            user = Some(u);
        } else if let Some(s) = line.strip_prefix("secret = ") {
            secret = Some(s.to_string());
        }
    }
    flush(&mut user, &mut secret);
    items.sort_by(|a, b| a.account.cmp(&b.account));
    items
}
