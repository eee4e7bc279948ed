//! The agent's in-memory copy of each token it handed out, so a cached token costs no
//! metadata parse and no keyring call.
//!
//! An entry is used only while the metadata file is exactly as it was when the entry's
//! token was read (the same [`Stamp`]: every write of the file, by this agent or by
//! another process such as a rotation, revoke or removal, makes a new one) and before the
//! token's renewal time. Anything else falls through to the token engine, which reads the
//! file again.

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use std::collections::HashMap;
use tillkey_core::vault::metadata::Stamp;

struct Entry {
    sig: Stamp,
    token: SecretString,
    expires_at: Option<DateTime<Utc>>,
    /// Used until then (a static token without an expiry: `None`, until the file changes).
    renew_at: Option<DateTime<Utc>>,
}

/// Tokens by credential name.
#[derive(Default)]
pub(crate) struct Memo {
    entries: HashMap<String, Entry>,
}

impl Memo {
    /// The token of `name`, if one was kept under the file version `sig` and is not due
    /// for renewal at `now`.
    pub(crate) fn get(
        &self,
        name: &str,
        sig: Stamp,
        now: DateTime<Utc>,
    ) -> Option<(SecretString, Option<DateTime<Utc>>)> {
        let e = self.entries.get(name)?;
        let fresh = e.sig == sig && e.renew_at.is_none_or(|r| r > now);
        fresh.then(|| (e.token.clone(), e.expires_at))
    }

    /// Keeps `token` of `name`, read under the file version `sig`.
    pub(crate) fn put(
        &mut self,
        name: &str,
        sig: Stamp,
        token: SecretString,
        expires_at: Option<DateTime<Utc>>,
        renew_at: Option<DateTime<Utc>>,
    ) {
        self.entries.insert(
            name.to_string(),
            Entry {
                sig,
                token,
                expires_at,
                renew_at,
            },
        );
    }

    /// Forgets every token whose file version is not `current` (they can never be used
    /// again), so a long-lived agent holds no stale copies.
    pub(crate) fn prune(&mut self, current: Option<Stamp>) {
        self.entries.retain(|_, e| Some(e.sig) == current);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn a_changed_file_or_a_due_token_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("vault.json");
        std::fs::write(&f, "{}").unwrap();
        let sig = Stamp::of(&f).unwrap();
        let now = Utc::now();
        let mut m = Memo::default();
        m.put(
            "a",
            sig,
            SecretString::from("t1"),
            None,
            Some(now + chrono::Duration::seconds(60)),
        );
        assert_eq!(m.get("a", sig, now).unwrap().0.expose_secret(), "t1");
        assert!(m.get("a", sig, now + chrono::Duration::seconds(61)).is_none());
        assert!(m.get("b", sig, now).is_none());
        // A rewrite by rename, as the vault does it.
        let tmp = dir.path().join("vault.json.tmp");
        std::fs::write(&tmp, "{}").unwrap();
        std::fs::rename(&tmp, &f).unwrap();
        let new = Stamp::of(&f).unwrap();
        assert_ne!(sig, new);
        assert!(m.get("a", new, now).is_none());
        m.prune(Some(new));
        assert!(m.entries.is_empty());
    }
}
