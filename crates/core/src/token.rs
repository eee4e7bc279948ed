//! The token engine: a valid access token for any credential, fetched, refreshed or
//! served from the keyring cache as the provider's rules say.
//!
//! - Tokens are cached in the keyring until their expiry minus a safety buffer (300 s,
//!   shortened to a tenth of very short lifetimes), applied once. A JWT's `exp` counts
//!   when it is sooner than `expires_in`.
//! - One token request at a time per credential, across processes (a lock file per
//!   credential); whoever waits re-reads the cache before requesting.
//! - Refresh tokens are tried first where held; on `invalid_grant` or 401 the engine falls
//!   back to the full grant once (never on network errors).
//! - A 401 or `invalid_token` from an API call discards the cached token, re-authenticates
//!   and retries once; never more.

use crate::dto::TokenInfo;
use crate::error::{Error, Result};
use crate::http::{Captured, Http, Request};
use crate::oauth::{self, Grant};
use crate::providers::{self, Creds, Provider};
use crate::scrub::Scrubber;
use crate::vault::batch::Batch;
use crate::vault::metadata::CredentialRecord;
use crate::vault::{TokenField, Vault};
use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;
use std::sync::Arc;

/// Safety buffer before expiry at which a token is renewed.
pub const SAFETY_BUFFER_SECS: i64 = 300;
/// Lifetime assumed when a provider states none and the token is not a JWT.
pub const DEFAULT_LIFETIME_SECS: i64 = 3600;
/// Longest lifetime believed from a provider (`expires_in` or a JWT's `exp`): a year.
/// Anything longer is cached for a year, then renewed.
pub const MAX_LIFETIME_SECS: i64 = 365 * 24 * 3600;

/// Where a token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// The credential's secret is the token (PAT, static bearer).
    Static,
    /// From the keyring cache.
    Cached,
    /// From a fresh token request.
    Fetched,
    /// From a refresh-token request.
    Refreshed,
}

/// A valid access token. No `Debug` of the value.
pub struct AccessToken {
    /// The token.
    pub value: SecretString,
    /// When it expires, where known.
    pub expires_at: Option<DateTime<Utc>>,
    /// Where it came from.
    pub source: TokenSource,
    /// The credential's id (for the audit log).
    pub credential_id: String,
}

/// The buffer for a token of `lifetime`: 300 s, or a tenth of lifetimes under 50 min.
pub fn buffer_for(lifetime: Duration) -> Duration {
    let tenth = lifetime / 10;
    if tenth < Duration::seconds(SAFETY_BUFFER_SECS) {
        tenth.max(Duration::zero())
    } else {
        Duration::seconds(SAFETY_BUFFER_SECS)
    }
}

/// Token metadata for a grant obtained at `now`. Lifetimes are clamped to
/// [`MAX_LIFETIME_SECS`], so no provider number can overflow a date.
pub fn token_info(grant: &Grant, now: DateTime<Utc>, refreshable: bool, tags: bool) -> TokenInfo {
    let latest = now + Duration::seconds(MAX_LIFETIME_SECS);
    let from_expires_in = grant.expires_in.map(|s| {
        let secs = i64::try_from(s).unwrap_or(i64::MAX).min(MAX_LIFETIME_SECS);
        now + Duration::seconds(secs)
    });
    let from_jwt = crate::jwt::expiry(&grant.access_token).map(|e| e.min(latest));
    let expires_at = match (from_expires_in, from_jwt) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => now + Duration::seconds(DEFAULT_LIFETIME_SECS),
    };
    let renew_at = expires_at - buffer_for(expires_at - now);
    let taxpayer_tags = if tags {
        crate::jwt::claims(&grant.access_token)
            .and_then(|c| c.tags)
            .map(|t| t.to_vec())
    } else {
        None
    };
    TokenInfo {
        obtained_at: now,
        expires_at,
        renew_at,
        refreshable,
        scope: grant.scope.clone(),
        taxpayer_tags,
    }
}

/// Runs blocking vault work (file lock, keyring D-Bus) off the async runtime's threads.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(format!("a background task failed ({e})")))?
}

/// What `revoke` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeOutcome {
    /// The provider revoked the cached token; it is discarded locally too.
    Revoked,
    /// There was no cached token to revoke.
    NothingCached,
    /// The provider has no revocation endpoint: the local copy is discarded, and the token
    /// stays valid at the provider until it expires (or the secret is revoked in the portal).
    NoEndpoint {
        /// How to retire the secret in the provider's portal.
        portal_steps: String,
    },
}

/// The token engine over one vault.
#[derive(Clone)]
pub struct Engine {
    pub(crate) vault: Arc<Vault>,
    pub(crate) http: Http,
    /// Hand out a fetched token before caching it ([`Engine::answer_first`]).
    answer_first: bool,
    /// Where the actions recorded in the audit log come from, when not the process's
    /// ([`Engine::with_origin`]).
    pub(crate) origin: Option<crate::audit::Origin>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("vault", &self.vault)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine over `vault` with a pooled HTTP client.
    pub fn new(vault: Arc<Vault>) -> Self {
        Self {
            vault,
            http: Http::new(),
            answer_first: false,
            origin: None,
        }
    }

    /// This engine, handing out a freshly fetched or refreshed token before it is cached
    /// (keyring, then metadata): the cache is written in the background, still under the
    /// credential's token lock, so single flight holds and another request waits for the
    /// cache. For a long-lived process (the local agent), where the runtime outlives the
    /// answer; a failed cache write only means the next request fetches again.
    pub fn answer_first(mut self) -> Self {
        self.answer_first = true;
        self
    }

    /// The vault.
    pub fn vault(&self) -> &Arc<Vault> {
        &self.vault
    }

    fn now(&self) -> DateTime<Utc> {
        self.vault.clock().now()
    }

    /// The stored record of `name` and its provider.
    pub(crate) async fn load(&self, name: &str) -> Result<(CredentialRecord, &'static dyn Provider)> {
        let vault = self.vault.clone();
        let n = name.to_string();
        let record = blocking(move || vault.record(&n)).await?;
        let provider = providers::find(&record.provider)?;
        Ok((record, provider))
    }

    /// A record's values with its secrets, read from the keyring.
    pub(crate) async fn creds_of(&self, record: &CredentialRecord) -> Result<Creds> {
        let vault = self.vault.clone();
        let rec = record.clone();
        blocking(move || vault.creds(&rec)).await
    }

    /// A valid access token for `name`: static, cached, refreshed or fetched.
    ///
    /// The cached path reads the metadata once and makes one keyring call.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Provider`] (credential rejected, or a static token past
    /// its stated expiry), [`Error::RateLimited`], [`Error::Network`], keyring errors.
    pub async fn token(&self, name: &str) -> Result<AccessToken> {
        let snap = self.snapshot().await?;
        let (record, provider) = find_in(&snap, name)?;
        if let Some(field) = provider.static_token_field() {
            return self.static_token(&snap, provider, &record, field).await;
        }
        if let Some(t) = self.cached_token(&snap, &record).await? {
            return Ok(t);
        }
        // Single flight: wait for any other process fetching this credential's token,
        // then look at the cache again before asking the provider.
        let vault = self.vault.clone();
        let id = record.id.clone();
        let guard = blocking(move || vault.token_lock(&id)).await?;
        let snap = self.snapshot_again(snap).await?;
        let (record, _) = find_in(&snap, name)?;
        if let Some(t) = self.cached_token(&snap, &record).await? {
            return Ok(t);
        }
        // A fresh request: the request inspector keeps its redacted exchange.
        crate::inspect::token(&self.vault, &record, self.renew(&snap, provider, &record, guard)).await
    }

    /// One read of the metadata, shared by the steps of a token request.
    async fn snapshot(&self) -> Result<Arc<Batch>> {
        let vault = self.vault.clone();
        Ok(Arc::new(blocking(move || vault.begin_batch()).await?))
    }

    /// `snap` again while the document is still the version it was read from (nobody
    /// cached a token, rotated or removed anything meanwhile), else a new read: a vault of
    /// hundreds of credentials costs milliseconds to parse.
    async fn snapshot_again(&self, snap: Arc<Batch>) -> Result<Arc<Batch>> {
        let vault = self.vault.clone();
        blocking(move || {
            if vault.batch_is_current(&snap) {
                Ok(snap)
            } else {
                vault.begin_batch().map(Arc::new)
            }
        })
        .await
    }

    /// Discards the cached access token of `name` (the refresh token stays).
    ///
    /// # Errors
    /// As [`Engine::token`].
    pub async fn invalidate(&self, record: &CredentialRecord) -> Result<()> {
        let vault = self.vault.clone();
        let (id, rev) = (record.id.clone(), record.secret_rev);
        blocking(move || vault.clear_token(&id, rev, false)).await
    }

    /// Revokes the cached access token of `name` at the provider (myPOS, RFC 7009
    /// `revoke_url`) and discards it locally.
    ///
    /// # Errors
    /// [`Error::Provider`] if the provider refuses; network and keyring errors.
    pub async fn revoke(&self, name: &str) -> Result<RevokeOutcome> {
        let revoked = self.revoke_as(name, None).await;
        let vault = self.vault.clone();
        let n = name.to_string();
        let id = blocking(move || Ok(vault.audit_id(&n))).await.ok().flatten();
        self.audit_revoke(name, id, &revoked);
        revoked
    }

    /// [`Engine::revoke`], authenticating with `creds` instead of the stored secrets when
    /// given. Rotation passes the new, tested secrets: by then the provider may already
    /// have retired the old secret, and the new one belongs to the same client (the
    /// client ID is not a secret, so rotation never changes it), which RFC 7009 requires
    /// of whoever revokes a client's token.
    pub(crate) async fn revoke_as(&self, name: &str, creds: Option<&Creds>) -> Result<RevokeOutcome> {
        let (record, provider) = self.load(name).await?;
        let vault = self.vault.clone();
        let rec = record.clone();
        let cached = blocking(move || vault.cached(&rec, TokenField::Access)).await?;
        let Some(token) = cached else {
            return Ok(RevokeOutcome::NothingCached);
        };
        let stored;
        let creds = match creds {
            Some(c) => c,
            None => {
                stored = self.creds_of(&record).await?;
                &stored
            }
        };
        let Some(req) = provider.revoke_request(creds, &token) else {
            self.invalidate(&record).await?;
            return Ok(RevokeOutcome::NoEndpoint {
                portal_steps: provider.portal_steps().to_string(),
            });
        };
        let resp = self.http.send(req?).await?;
        if !(200..300).contains(&resp.status) {
            return Err(oauth::provider_error(provider, &resp, &creds.scrubber().with(&token)));
        }
        self.invalidate(&record).await?;
        Ok(RevokeOutcome::Revoked)
    }

    async fn static_token(
        &self,
        snap: &Arc<Batch>,
        provider: &dyn Provider,
        r: &CredentialRecord,
        field: &str,
    ) -> Result<AccessToken> {
        let (vault, snap, rec, f) = (self.vault.clone(), snap.clone(), r.clone(), field.to_string());
        let value = blocking(move || {
            vault.batch_secret(&snap, &rec, &f)?.ok_or(Error::SecretMissing {
                credential: rec.name.clone(),
                field: f.clone(),
            })
        })
        .await?;
        let expires_at = r
            .fields
            .get("expires_at")
            .and_then(|e| DateTime::parse_from_rfc3339(e).ok())
            .map(|e| e.with_timezone(&Utc));
        if let Some(exp) = expires_at.filter(|e| *e <= self.now()) {
            return Err(Error::Provider {
                provider: provider.schema().label,
                status: 0,
                code: "token_expired".into(),
                description: Some(format!("the token expired at {}", exp.to_rfc3339())),
                hint: format!(
                    "This token cannot be refreshed. {} Then run `tillkey rotate {}`.",
                    provider.portal_steps(),
                    r.name
                ),
            });
        }
        Ok(AccessToken {
            value,
            expires_at,
            source: TokenSource::Static,
            credential_id: r.id.clone(),
        })
    }

    async fn cached_token(&self, snap: &Arc<Batch>, r: &CredentialRecord) -> Result<Option<AccessToken>> {
        let Some(info) = r.token.clone().filter(|t| t.renew_at > self.now()) else {
            return Ok(None);
        };
        let (vault, snap, rec) = (self.vault.clone(), snap.clone(), r.clone());
        let value = blocking(move || vault.batch_cached(&snap, &rec, TokenField::Access)).await?;
        Ok(value.map(|value| AccessToken {
            value,
            expires_at: Some(info.expires_at),
            source: TokenSource::Cached,
            credential_id: r.id.clone(),
        }))
    }

    /// Renews with the refresh token where one is held (falling back to the full grant on
    /// `invalid_grant` or 401), else with the full grant; caches the result. Secrets are
    /// read with the metadata snapshot `snap`. `guard` is the credential's token lock, held
    /// until the token is cached.
    async fn renew(
        &self,
        snap: &Arc<Batch>,
        provider: &dyn Provider,
        r: &CredentialRecord,
        guard: std::fs::File,
    ) -> Result<AccessToken> {
        let (vault, s, rec) = (self.vault.clone(), snap.clone(), r.clone());
        let creds = blocking(move || vault.batch_creds(&s, &rec)).await?;
        crate::inspect::knows(|| creds.scrubber());
        // Only kinds with a refresh flow can hold a refresh token: skip the keyring call
        // for the others.
        let refresh = if provider.refreshes() {
            let (vault, s, rec) = (self.vault.clone(), snap.clone(), r.clone());
            blocking(move || vault.batch_cached(&s, &rec, TokenField::Refresh)).await?
        } else {
            None
        };
        if let Some(rt) = refresh {
            if let Some(req) = provider.refresh_request(&creds, &rt) {
                let granted = self.grant(provider, req?, &creds.scrubber().with(&rt)).await;
                self.audit_refresh(r, &granted);
                match granted {
                    Ok(g) => return self.keep(provider, r, g, Some(rt), TokenSource::Refreshed, guard).await,
                    Err(Error::Provider { status, code, .. }) if code == "invalid_grant" || status == 401 => {
                        let vault = self.vault.clone();
                        let (id, rev) = (r.id.clone(), r.secret_rev);
                        blocking(move || vault.clear_token(&id, rev, true)).await?;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        let (g, _) = self.fetch(provider, &creds).await?;
        self.keep(provider, r, g, None, TokenSource::Fetched, guard).await
    }

    /// One full token request (no cache), returning the grant and the raw response facts.
    pub(crate) async fn fetch(&self, provider: &dyn Provider, creds: &Creds) -> Result<(Grant, Captured)> {
        let resp = self.http.send(provider.token_request(creds)?).await?;
        let grant = oauth::parse_grant(provider, &resp, &creds.scrubber())?;
        Ok((grant, resp))
    }

    async fn grant(&self, provider: &dyn Provider, req: Request, scrub: &Scrubber) -> Result<Grant> {
        let resp = self.http.send(req).await?;
        oauth::parse_grant(provider, &resp, scrub)
    }

    /// Caches a grant (keyring first, then metadata) and hands out its token; with
    /// [`Engine::answer_first`], hands it out first and caches it in the background. The
    /// token lock `guard` is released once the token is cached.
    async fn keep(
        &self,
        provider: &dyn Provider,
        r: &CredentialRecord,
        g: Grant,
        old_refresh: Option<SecretString>,
        source: TokenSource,
        guard: std::fs::File,
    ) -> Result<AccessToken> {
        if self.answer_first {
            return self
                .cache(CacheAt::Background(guard), provider, r, g, old_refresh, source)
                .await;
        }
        let kept = self.cache(CacheAt::Now, provider, r, g, old_refresh, source).await;
        drop(guard);
        kept
    }

    /// Caches a grant and hands out its token; within a `batch` the token goes to the
    /// keyring now and its metadata waits for the batch's commit.
    pub(crate) async fn keep_in(
        &self,
        batch: Option<&Arc<Batch>>,
        provider: &dyn Provider,
        r: &CredentialRecord,
        g: Grant,
        old_refresh: Option<SecretString>,
        source: TokenSource,
    ) -> Result<AccessToken> {
        let at = match batch {
            Some(b) => CacheAt::Batch(b),
            None => CacheAt::Now,
        };
        self.cache(at, provider, r, g, old_refresh, source).await
    }

    async fn cache(
        &self,
        at: CacheAt<'_>,
        provider: &dyn Provider,
        r: &CredentialRecord,
        g: Grant,
        old_refresh: Option<SecretString>,
        source: TokenSource,
    ) -> Result<AccessToken> {
        // A new refresh token replaces the stored one; otherwise the old one stays valid.
        let refresh = g.refresh_token.clone().or(old_refresh);
        let info = token_info(&g, self.now(), refresh.is_some(), provider.reads_taxpayer_tags());
        let expires_at = Some(info.expires_at);
        let vault = self.vault.clone();
        let (id, rev) = (r.id.clone(), r.secret_rev);
        let access = g.access_token.clone();
        let new_refresh = g.refresh_token.clone();
        match at {
            CacheAt::Batch(b) => {
                let b = b.clone();
                blocking(move || vault.batch_store_token(&b, &id, rev, &access, new_refresh.as_ref(), info)).await?
            }
            CacheAt::Now => blocking(move || vault.store_token(&id, rev, &access, new_refresh.as_ref(), info)).await?,
            CacheAt::Background(guard) => {
                let caching = tokio::spawn(async move {
                    // An error leaves the token uncached: the next request fetches again.
                    let _ = blocking(move || vault.store_token(&id, rev, &access, new_refresh.as_ref(), info)).await;
                    drop(guard);
                });
                drop(caching);
            }
        }
        Ok(AccessToken {
            value: g.access_token,
            expires_at,
            source,
            credential_id: r.id.clone(),
        })
    }
}

/// When [`Engine::cache`] writes a token: into a batch, now, or in the background while
/// holding the credential's token lock.
enum CacheAt<'a> {
    Batch(&'a Arc<Batch>),
    Now,
    Background(std::fs::File),
}

/// The record called `name` in a snapshot, and its provider.
fn find_in(snap: &Batch, name: &str) -> Result<(CredentialRecord, &'static dyn Provider)> {
    let record = snap.record(name).cloned().ok_or_else(|| Error::NotFound(name.into()))?;
    let provider = providers::find(&record.provider)?;
    Ok((record, provider))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(token: &str, expires_in: Option<u64>) -> Grant {
        Grant {
            access_token: SecretString::from(token),
            expires_in,
            refresh_token: None,
            scope: None,
        }
    }

    #[test]
    fn buffer_is_300_s_and_shorter_for_short_lifetimes() {
        assert_eq!(buffer_for(Duration::seconds(3600)), Duration::seconds(300));
        assert_eq!(buffer_for(Duration::seconds(3000)), Duration::seconds(300));
        assert_eq!(buffer_for(Duration::seconds(600)), Duration::seconds(60));
        assert_eq!(buffer_for(Duration::seconds(2)), Duration::milliseconds(200));
    }

    #[test]
    fn buffer_is_applied_once() {
        let now = Utc::now();
        let i = token_info(&grant("opaque", Some(3600)), now, false, false);
        assert_eq!(i.expires_at, now + Duration::seconds(3600));
        // 55 minutes of use, as the Paysera document says; not 50 (buffer twice).
        assert_eq!(i.renew_at, now + Duration::seconds(3300));
    }

    #[test]
    fn jwt_exp_wins_when_sooner() {
        use base64::Engine as _;
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let jwt = format!("{}.{}.s", b("{}"), b(r#"{"exp":1800001200}"#));
        let i = token_info(&grant(&jwt, Some(3600)), now, false, false);
        assert_eq!(i.expires_at.timestamp(), 1_800_001_200);
        let i = token_info(&grant(&jwt, None), now, false, false);
        assert_eq!(i.expires_at.timestamp(), 1_800_001_200);
    }

    #[test]
    fn missing_lifetime_assumes_an_hour() {
        let now = Utc::now();
        let i = token_info(&grant("opaque", None), now, false, false);
        assert_eq!(i.expires_at, now + Duration::seconds(DEFAULT_LIFETIME_SECS));
    }
}
