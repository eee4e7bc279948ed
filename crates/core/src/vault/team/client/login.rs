//! Logging in to the engine: a plain token checked with `lookup-self`, or an AppRole
//! login with the role id and the secret_id from the keyring; the session renewed before
//! its TTL runs out, and logged in again when it has expired.

use super::{login_key, KvClient, LoginSource, LOGIN_TOKEN_FIELD, SECRET_ID_FIELD, TOKEN_FIELD};
use crate::error::{Error, Result};
use crate::vault::team::config::TeamAuth;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::{Duration, Instant};

/// Renew the engine token when less than this share of its TTL is left (or when it is
/// within [`RENEW_MARGIN`] of expiring).
const RENEW_FRACTION: f64 = 0.5;
/// Renew at the latest this long before the token expires.
const RENEW_MARGIN: Duration = Duration::from_secs(60);

/// The logged-in session: the token and when to renew it.
pub(super) struct Session {
    pub(super) token: SecretString,
    pub(super) renew_at: Option<Instant>,
    pub(super) expires_at: Option<Instant>,
    pub(super) renewable: bool,
}

impl KvClient {
    pub(super) fn stored(&self, field: &str) -> Result<Option<SecretString>> {
        match &self.login {
            LoginSource::Store(s) => s.get(&login_key(&self.connection_id, field)),
            LoginSource::Given(v) => Ok(match (self.auth, field) {
                (TeamAuth::Token, TOKEN_FIELD) | (TeamAuth::Approle, SECRET_ID_FIELD) => Some(v.clone()),
                _ => None,
            }),
        }
    }

    /// `lookup-self` of `token`: `Ok(None)` when the engine refuses the token.
    pub(super) fn lookup(&self, token: &SecretString) -> Result<Option<Session>> {
        #[derive(Deserialize)]
        struct Data {
            ttl: Option<u64>,
            #[serde(default)]
            renewable: bool,
        }
        #[derive(Deserialize)]
        struct Lookup {
            data: Data,
        }
        let r = self.send(Method::GET, "auth/token/lookup-self", Some(token), None)?;
        match r.status {
            200 => {
                let l: Lookup = serde_json::from_str(r.body.expose_secret()).map_err(|_| Error::VaultResponse {
                    vault: self.name.clone(),
                    status: 200,
                    detail: "token lookup answered in an unexpected shape".into(),
                })?;
                Ok(Some(session(token.clone(), l.data.ttl.unwrap_or(0), l.data.renewable)))
            }
            401 | 403 => Ok(None),
            _ => Err(self.status_error(&r)),
        }
    }

    /// AppRole login with the stored role_id and secret_id.
    pub(super) fn approle_login(&self) -> Result<Session> {
        #[derive(Deserialize)]
        struct Auth {
            client_token: SecretString,
            #[serde(default)]
            lease_duration: u64,
            #[serde(default)]
            renewable: bool,
        }
        #[derive(Deserialize)]
        struct Login {
            auth: Auth,
        }
        let role_id = self
            .role_id
            .clone()
            .ok_or_else(|| self.auth_error("no role_id is configured"))?;
        let secret_id = self
            .stored(SECRET_ID_FIELD)?
            .ok_or_else(|| self.auth_error("this machine's AppRole secret_id is missing from the OS keyring"))?;
        let body = serde_json::json!({ "role_id": role_id, "secret_id": secret_id.expose_secret() }).to_string();
        let r = self.send(Method::POST, "auth/approle/login", None, Some(SecretString::from(body)))?;
        match r.status {
            200 => {
                let l: Login = serde_json::from_str(r.body.expose_secret()).map_err(|_| Error::VaultResponse {
                    vault: self.name.clone(),
                    status: 200,
                    detail: "AppRole login answered in an unexpected shape".into(),
                })?;
                if let LoginSource::Store(s) = &self.login {
                    // Best effort: without it the next run simply logs in again.
                    let _ = s.set(&login_key(&self.connection_id, LOGIN_TOKEN_FIELD), &l.auth.client_token);
                }
                Ok(session(l.auth.client_token, l.auth.lease_duration, l.auth.renewable))
            }
            400 | 401 | 403 => Err(self.auth_error("AppRole login refused (wrong role_id or secret_id, or expired)")),
            _ => Err(self.status_error(&r)),
        }
    }

    /// Logs in from scratch: token auth checks the stored token; AppRole re-uses its last
    /// login token while valid, else logs in again with the secret_id.
    pub(super) fn login(&self) -> Result<Session> {
        match self.auth {
            TeamAuth::Token => {
                let token = self
                    .stored(TOKEN_FIELD)?
                    .ok_or_else(|| self.auth_error("this machine's engine token is missing from the OS keyring"))?;
                self.lookup(&token)?
                    .ok_or_else(|| self.auth_error("the engine token was refused (wrong, expired or revoked)"))
            }
            TeamAuth::Approle => {
                if let Some(t) = self.stored(LOGIN_TOKEN_FIELD)? {
                    if let Some(s) = self.lookup(&t)? {
                        return Ok(s);
                    }
                }
                self.approle_login()
            }
        }
    }

    /// Renews the session's token (`renew-self`); an expired AppRole token logs in again.
    pub(super) fn renew(&self, s: &Session) -> Result<Session> {
        #[derive(Deserialize)]
        struct Auth {
            #[serde(default)]
            lease_duration: u64,
            #[serde(default)]
            renewable: bool,
        }
        #[derive(Deserialize)]
        struct Renew {
            auth: Auth,
        }
        let expired = s.expires_at.is_some_and(|e| Instant::now() >= e);
        if !expired && s.renewable {
            let r = self.send(
                Method::POST,
                "auth/token/renew-self",
                Some(&s.token),
                Some(SecretString::from("{}")),
            )?;
            if r.status == 200 {
                if let Ok(v) = serde_json::from_str::<Renew>(r.body.expose_secret()) {
                    return Ok(session(s.token.clone(), v.auth.lease_duration, v.auth.renewable));
                }
            }
        }
        // Not renewable (or renewal refused): look it up again; AppRole logs in afresh
        // when the token is gone.
        match self.lookup(&s.token)? {
            Some(fresh) if !expired => Ok(fresh),
            _ if self.auth == TeamAuth::Approle => self.approle_login(),
            _ => Err(self.auth_error("the engine token expired; connect again with a new token")),
        }
    }

    /// The current token, logging in or renewing first where due.
    pub(super) fn token(&self) -> Result<SecretString> {
        let mut guard = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = match guard.take() {
            None => self.login()?,
            Some(s) if s.renew_at.is_some_and(|r| Instant::now() >= r) => self.renew(&s)?,
            Some(s) => s,
        };
        let t = fresh.token.clone();
        *guard = Some(fresh);
        Ok(t)
    }

    /// Logs in (or checks the token) now, so `connect` fails before anything is saved.
    ///
    /// # Errors
    /// [`Error::VaultAuth`], [`Error::VaultUnreachable`], [`Error::VaultTls`],
    /// [`Error::VaultSealed`].
    pub fn verify_login(&self) -> Result<()> {
        self.token().map(|_| ())
    }

    /// The token an AppRole login obtained during `connect`, to keep for later runs.
    pub fn session_token(&self) -> Option<SecretString> {
        self.session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|s| s.token.clone())
    }
}

/// Longest token TTL believed from the engine.
const MAX_TTL_SECS: u64 = 365 * 24 * 3600;

pub(super) fn session(token: SecretString, ttl_secs: u64, renewable: bool) -> Session {
    let now = Instant::now();
    if ttl_secs == 0 {
        // Root-like tokens never expire.
        return Session {
            token,
            renew_at: None,
            expires_at: None,
            renewable,
        };
    }
    // An engine's TTL is believed up to a year: a hostile or broken answer cannot
    // overflow the clock.
    let ttl = Duration::from_secs(ttl_secs.min(MAX_TTL_SECS));
    let by_fraction = ttl.mul_f64(RENEW_FRACTION);
    let by_margin = ttl.saturating_sub(RENEW_MARGIN);
    Session {
        token,
        renew_at: Some(now + by_fraction.min(by_margin)),
        expires_at: Some(now + ttl),
        renewable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_ttl_an_engine_claims_gives_a_session_and_no_panic() {
        for ttl in [1, 59, 3600, u64::from(u32::MAX), i64::MAX as u64, u64::MAX] {
            let s = session(SecretString::from("t"), ttl, true);
            let (renew, expires) = (s.renew_at.unwrap(), s.expires_at.unwrap());
            assert!(renew <= expires, "ttl {ttl}");
            assert!(
                expires <= Instant::now() + Duration::from_secs(MAX_TTL_SECS),
                "ttl {ttl} is clamped"
            );
        }
        let forever = session(SecretString::from("t"), 0, false);
        assert!(forever.renew_at.is_none() && forever.expires_at.is_none());
    }
}
