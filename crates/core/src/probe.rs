//! The connectivity test: each stage (connect, token, API call) with its latency, HTTP
//! status, provider error code with a hint, and rate-limit headers.
//!
//! The connect stage opens its own connection (DNS, TCP, TLS handshake), so its numbers
//! are real; the token stage always asks the provider (a cached token would hide a
//! revoked secret) and caches what it gets; the API stage retries once after a 401.

use crate::dto::{Stage, StageResult, TestReport};
use crate::error::{Error, Result};
use crate::http::{Captured, Request, CONNECT_TIMEOUT};
use crate::oauth;
use crate::providers::{Creds, Provider};
use crate::scrub::Scrubber;
use crate::token::{blocking, Engine};
use crate::vault::batch::Batch;
use crate::vault::metadata::CredentialRecord;
use secrecy::SecretString;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;
use url::Url;

/// At most this many tests run at once in [`Engine::test_all`] …
pub const MAX_PARALLEL: usize = 32;
/// … and at most this many against one host.
pub const MAX_PER_HOST: usize = 8;

/// The key of [`MAX_PER_HOST`]: the host and port a credential's first request goes to
/// (simulators and local gateways share a host but are different servers).
fn host_key(c: &CredentialRecord) -> String {
    c.fields
        .get("token_url")
        .or(c.fields.get("test_url"))
        .or(c.fields.get("api_base"))
        .and_then(|u| Url::parse(u).ok())
        .and_then(|u| {
            let port = u.port_or_known_default().unwrap_or(0);
            u.host_str().map(|h| format!("{h}:{port}"))
        })
        .unwrap_or_else(|| c.provider.clone())
}

/// `host/path` of a URL: what a report may show (never the query, which may carry data).
fn target(url: &Url) -> String {
    format!("{}{}", url.host_str().unwrap_or(""), url.path())
}

fn ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn failed(stage: Stage, target: String, latency_ms: u64, e: &Error) -> StageResult {
    let status = match e {
        Error::Provider { status, .. } | Error::InvalidResponse { status, .. } if *status > 0 => Some(*status),
        Error::RateLimited { .. } => Some(429),
        _ => None,
    };
    StageResult {
        stage,
        ok: false,
        target,
        latency_ms,
        status,
        code: Some(e.code().to_string()),
        message: e.to_string(),
        hint: e.hint(),
        rate_limit: None,
    }
}

/// DNS + TCP (+ TLS for https) on a fresh connection.
async fn connect_stage(url: &Url) -> StageResult {
    let t = target(url);
    let started = Instant::now();
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']).to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let net = |detail: String, timeout: bool| Error::Network {
        host: host.clone(),
        detail,
        timeout,
    };
    let result: Result<String> = async {
        let addrs: Vec<_> = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::lookup_host((host.as_str(), port)))
            .await
            .map_err(|_| net("DNS lookup timed out".into(), true))?
            .map_err(|e| net(format!("DNS lookup failed: {e}"), false))?
            .collect();
        let dns_ms = ms(started);
        let addr = *addrs
            .first()
            .ok_or_else(|| net("the name has no addresses".into(), false))?;
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr))
            .await
            .map_err(|_| net(format!("TCP connect to {addr} timed out"), true))?
            .map_err(|e| net(format!("TCP connect to {addr} failed: {e}"), false))?;
        let tcp_ms = ms(started) - dns_ms;
        if url.scheme() != "https" {
            return Ok(format!(
                "{addr}: DNS {dns_ms} ms, TCP {tcp_ms} ms (plain http, loopback only)"
            ));
        }
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| net(format!("TLS set-up failed: {e}"), false))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|_| net("not a valid TLS server name".into(), false))?;
        let tls_started = Instant::now();
        let tls = tokio::time::timeout(
            CONNECT_TIMEOUT,
            tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp),
        )
        .await
        .map_err(|_| net("TLS handshake timed out".into(), true))?
        .map_err(|e| net(format!("TLS handshake failed: {e}"), false))?;
        let version = tls
            .get_ref()
            .1
            .protocol_version()
            .map(|v| format!("{v:?}"))
            .unwrap_or_default();
        Ok(format!(
            "{addr}: DNS {dns_ms} ms, TCP {tcp_ms} ms, TLS {} ms ({version})",
            ms(tls_started)
        ))
    }
    .await;
    match result {
        Ok(message) => StageResult {
            stage: Stage::Connect,
            ok: true,
            target: t,
            latency_ms: ms(started),
            status: None,
            code: None,
            message,
            hint: None,
            rate_limit: None,
        },
        Err(e) => failed(Stage::Connect, t, ms(started), &e),
    }
}

fn http_stage(
    stage: Stage,
    url: &Url,
    resp: &Captured,
    ok_message: String,
    provider: &dyn Provider,
    scrub: &Scrubber,
) -> StageResult {
    let ok = (200..300).contains(&resp.status);
    let (code, message, hint) = if ok {
        (None, ok_message, None)
    } else {
        let e = oauth::provider_error(provider, resp, scrub);
        let message = if resp.status == 403 {
            format!("the credential works, but permission is missing: {e}")
        } else {
            e.to_string()
        };
        (Some(e.code().to_string()), message, e.hint())
    };
    StageResult {
        stage,
        ok,
        target: target(url),
        latency_ms: u64::try_from(resp.latency.as_millis()).unwrap_or(u64::MAX),
        status: Some(resp.status),
        code,
        message,
        hint,
        rate_limit: resp.rate_limit.clone(),
    }
}

/// Whether an API answer means "this token is not (or no longer) good".
fn token_rejected(resp: &Captured) -> bool {
    resp.status == 401 || String::from_utf8_lossy(&resp.body).contains("\"invalid_token\"")
}

impl Engine {
    /// Tests `name` and records the result in its metadata.
    ///
    /// # Errors
    /// Only local failures ([`Error::NotFound`], keyring, files); provider and network
    /// failures are part of the report.
    pub async fn test(&self, name: &str) -> Result<TestReport> {
        let (record, provider) = self.load(name).await?;
        let creds = self.creds_of(&record).await?;
        let run = self.run_test(provider, &creds, Some(&record));
        let report = crate::inspect::test(&self.vault, &record, creds.scrubber(), run).await;
        let vault = self.vault.clone();
        let saved = report.clone();
        blocking(move || vault.record_test(&saved)).await?;
        self.audit_test(&record, &report, true);
        Ok(report)
    }

    /// Tests every credential, at most [`MAX_PARALLEL`] at once and [`MAX_PER_HOST`] per
    /// host (and port), so a large vault does not trip a provider's rate limit by itself.
    ///
    /// Every credential gets a report: a local failure on one (a secret deleted from the
    /// keyring, say) is that credential's failed report with a [`Stage::Vault`] stage,
    /// never the end of the run.
    ///
    /// The vault is read once; fetched tokens go to the keyring as they arrive, and every
    /// report and token expiry is committed to the metadata in one write at the end.
    ///
    /// # Errors
    /// Local failures reading the vault and writing the results.
    pub async fn test_all(&self) -> Result<Vec<TestReport>> {
        let vault = self.vault.clone();
        let batch = Arc::new(blocking(move || vault.begin_batch()).await?);
        let global = Arc::new(Semaphore::new(MAX_PARALLEL));
        let mut per_host: HashMap<String, Arc<Semaphore>> = HashMap::new();
        let mut tasks = Vec::new();
        for c in batch.records() {
            let host_sem = per_host
                .entry(host_key(c))
                .or_insert_with(|| Arc::new(Semaphore::new(MAX_PER_HOST)))
                .clone();
            let (global, engine, batch, record) = (global.clone(), self.clone(), batch.clone(), c.clone());
            let task = tokio::spawn(async move {
                let _g = global.acquire_owned().await;
                let _h = host_sem.acquire_owned().await;
                engine.test_in(&batch, &record).await
            });
            tasks.push((c.clone(), task));
        }
        let mut out = Vec::with_capacity(tasks.len());
        for (record, task) in tasks {
            let report = match task.await {
                Ok(report) => report,
                Err(e) => {
                    let e = Error::internal(format!("the test task ended early ({e})"));
                    let report = self.local_failure(&record, &e);
                    self.vault.batch_record_test(&batch, &record.id, report.clone());
                    report
                }
            };
            self.audit_test(&record, &report, false);
            out.push(report);
        }
        let vault = self.vault.clone();
        let committed = batch.clone();
        blocking(move || vault.commit_batch(&committed)).await?;
        // One keyring write for the whole run, not one per credential.
        let log = self.vault.audit_log().clone();
        let _ = blocking(move || log.anchor()).await;
        crate::inspect::prune(&self.vault, batch.records().iter().map(|r| r.id.as_str()));
        Ok(out)
    }

    /// Tests `record` of the batch's snapshot and adds its report to the batch; a local
    /// failure is its failed report.
    async fn test_in(&self, batch: &Arc<Batch>, record: &CredentialRecord) -> TestReport {
        let run = async {
            let provider = crate::providers::find(&record.provider)?;
            let (vault, b, r) = (self.vault.clone(), batch.clone(), record.clone());
            let creds = blocking(move || vault.batch_creds(&b, &r)).await?;
            let run = self.run_test_in(Some(batch), provider, &creds, Some(record));
            Ok::<_, Error>(crate::inspect::test(&self.vault, record, creds.scrubber(), run).await)
        };
        let report = run.await.unwrap_or_else(|e| self.local_failure(record, &e));
        self.vault.batch_record_test(batch, &record.id, report.clone());
        report
    }

    /// The failed report of a credential that could not be tested for a local reason.
    fn local_failure(&self, record: &CredentialRecord, e: &Error) -> TestReport {
        TestReport {
            credential: record.name.clone(),
            provider: record.provider.clone(),
            ok: false,
            tested_at: self.vault.clock().now(),
            summary: e.to_string(),
            stages: vec![failed(Stage::Vault, String::new(), 0, e)],
            taxpayer_tags: None,
        }
    }

    /// Runs the stages against `creds`. With `record`, fetched tokens are cached for it;
    /// without (a rotation candidate), nothing is stored.
    pub(crate) async fn run_test(
        &self,
        provider: &dyn Provider,
        creds: &Creds,
        record: Option<&CredentialRecord>,
    ) -> TestReport {
        self.run_test_in(None, provider, creds, record).await
    }

    /// [`Engine::run_test`]; within a `batch`, fetched tokens' metadata waits for its commit.
    async fn run_test_in(
        &self,
        batch: Option<&Arc<Batch>>,
        provider: &dyn Provider,
        creds: &Creds,
        record: Option<&CredentialRecord>,
    ) -> TestReport {
        let schema = provider.schema();
        let mut stages = Vec::new();
        let mut tags = None;
        let outcome = self
            .stages(batch, provider, creds, record, &mut stages, &mut tags)
            .await;
        let ok = outcome.is_ok() && stages.iter().all(|s| s.ok);
        let summary = match (&outcome, stages.iter().find(|s| !s.ok)) {
            (Err(e), _) => e.to_string(),
            (Ok(()), Some(s)) => match &s.code {
                Some(code) => format!("{:?} failed: {code}", s.stage).to_lowercase(),
                None => format!("{:?} failed", s.stage).to_lowercase(),
            },
            (Ok(()), None) => {
                let names: Vec<_> = stages.iter().map(|s| format!("{:?}", s.stage).to_lowercase()).collect();
                format!("{} ok", names.join(", "))
            }
        };
        let mut summary = summary;
        if let Some(t) = &tags {
            let b2c = t.iter().any(|t| t.eq_ignore_ascii_case("B2C"));
            summary.push_str(if b2c {
                "; B2C tag present: may submit receipts"
            } else {
                "; no B2C tag: cannot submit receipts"
            });
        }
        TestReport {
            credential: creds.name.clone(),
            provider: schema.kind,
            ok,
            tested_at: self.vault.clock().now(),
            summary,
            stages,
            taxpayer_tags: tags,
        }
    }

    /// Sends `req` as `stage`, preceded by a connect stage to its host when `connect`.
    /// A failure of either is pushed to `stages`, and `None` ends the test there.
    async fn send_stage(
        &self,
        stage: Stage,
        req: Request,
        connect: bool,
        stages: &mut Vec<StageResult>,
    ) -> Option<(Url, Captured)> {
        let url = req.url.clone();
        if connect {
            let c = connect_stage(&url).await;
            let connected = c.ok;
            stages.push(c);
            if !connected {
                return None;
            }
        }
        match self.http.send(req).await {
            Ok(resp) => Some((url, resp)),
            Err(e) => {
                stages.push(failed(stage, target(&url), 0, &e));
                None
            }
        }
    }

    async fn stages(
        &self,
        batch: Option<&Arc<Batch>>,
        provider: &dyn Provider,
        creds: &Creds,
        record: Option<&CredentialRecord>,
        stages: &mut Vec<StageResult>,
        tags: &mut Option<Vec<String>>,
    ) -> Result<()> {
        // 1. Token (or the static token), preceded by a connect stage to its host.
        let token: SecretString = if let Some(field) = provider.static_token_field() {
            creds.secret(field)?.clone()
        } else {
            let Some((url, resp)) = self
                .send_stage(Stage::Token, provider.token_request(creds)?, true, stages)
                .await
            else {
                return Ok(());
            };
            let scrub = creds.scrubber();
            let stage = http_stage(Stage::Token, &url, &resp, String::new(), provider, &scrub);
            if !stage.ok {
                stages.push(stage);
                return Ok(());
            }
            match oauth::parse_grant(provider, &resp, &scrub) {
                Ok(g) => {
                    let info = crate::token::token_info(
                        &g,
                        self.vault.clock().now(),
                        g.refresh_token.is_some(),
                        provider.reads_taxpayer_tags(),
                    );
                    *tags = info.taxpayer_tags.clone();
                    let mut stage = stage;
                    stage.message = format!(
                        "token issued, valid for {} min{}",
                        (info.expires_at - info.obtained_at).num_minutes(),
                        if g.refresh_token.is_some() {
                            ", with a refresh token"
                        } else {
                            ""
                        }
                    );
                    stages.push(stage);
                    let value = g.access_token.clone();
                    if let Some(r) = record {
                        self.keep_in(batch, provider, r, g, None, crate::token::TokenSource::Fetched)
                            .await?;
                    }
                    value
                }
                Err(e) => {
                    stages.push(failed(Stage::Token, target(&url), stage.latency_ms, &e));
                    return Ok(());
                }
            }
        };
        // 2. The API call, where there is one.
        let Some(req) = provider.test_request(creds, &token)? else {
            if provider.static_token_field().is_some() {
                stages.push(StageResult {
                    stage: Stage::Api,
                    ok: false,
                    target: String::new(),
                    latency_ms: 0,
                    status: None,
                    code: Some("no_test_url".into()),
                    message: "nothing to test: this credential has no test URL".into(),
                    hint: Some("Set `test_url` to an API endpoint that accepts this token (e.g. `tillkey` UI → Edit, or re-add with --set test_url=…).".into()),
                    rate_limit: None,
                });
            }
            return Ok(());
        };
        // Static tokens had no token stage: their connect stage goes to the API host.
        let connect = provider.static_token_field().is_some();
        let Some((url, resp)) = self.send_stage(Stage::Api, req, connect, stages).await else {
            return Ok(());
        };
        let scrub = creds.scrubber().with(&token);
        if token_rejected(&resp) && provider.static_token_field().is_none() {
            // Discard, re-authenticate, retry once. Never loop.
            if let Some(r) = record {
                self.invalidate(r).await?;
            }
            let retried = async {
                let (g, _) = self.fetch(provider, creds).await?;
                let value = g.access_token.clone();
                let scrub = scrub.clone().with(&value);
                if let Some(r) = record {
                    self.keep_in(batch, provider, r, g, None, crate::token::TokenSource::Fetched)
                        .await?;
                }
                let req = provider
                    .test_request(creds, &value)?
                    .ok_or_else(|| Error::Unsupported("no test request".into()))?;
                Ok::<_, Error>((self.http.send(req).await?, scrub))
            }
            .await;
            match retried {
                Ok((resp2, scrub)) => {
                    let mut s = http_stage(
                        Stage::Api,
                        &url,
                        &resp2,
                        "the API accepted the new token".into(),
                        provider,
                        &scrub,
                    );
                    s.message = format!(
                        "{} (the first token was rejected; re-authenticated and retried once)",
                        s.message
                    );
                    stages.push(s);
                }
                Err(e) => stages.push(failed(Stage::Api, target(&url), 0, &e)),
            }
            return Ok(());
        }
        let ok_message = "the API accepted the token".to_string();
        stages.push(http_stage(Stage::Api, &url, &resp, ok_message, provider, &scrub));
        Ok(())
    }
}
