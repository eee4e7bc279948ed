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

/// Every `service=tillkey` item, sorted by account; `secret_tool` makes a `secret-tool`
/// command already pointed at the session (environment, bus address).
///
/// A search that fails with a message is tried again (5 times in all): another test's
/// keyring write can delete an item between secret-tool's search and its read of the
/// secrets, and secret-tool then fails the whole search, printing nothing on stdout,
/// which must not read as "no items".
pub fn search(secret_tool: impl Fn() -> Command) -> Vec<Item> {
    let mut failure = String::new();
    for _ in 0..5 {
        let o = secret_tool()
            .args(["search", "--all", "service", "tillkey"])
            .stdin(Stdio::null())
            .output()
            .expect("secret-tool is installed by scripts/setup.sh (libsecret-tools)");
        let stdout = String::from_utf8_lossy(&o.stdout);
        let stderr = String::from_utf8_lossy(&o.stderr);
        // No match is exit 1 with nothing on stdout or stderr.
        if o.status.success() || (stdout.trim().is_empty() && stderr.trim().is_empty()) {
            return parse(&stdout);
        }
        failure = format!("{}: {stderr}", o.status);
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!("secret-tool search failed 5 times: {failure}");
}

/// The items in `secret-tool search --all`'s standard output.
fn parse(stdout: &str) -> Vec<Item> {
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
