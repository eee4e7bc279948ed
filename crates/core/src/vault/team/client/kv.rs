//! The KV v2 operations of the engine client: read, check-and-set write, version state,
//! soft delete and destroy, each on a path under the vault's prefix.

use super::KvClient;
use crate::error::{Error, Result};
use crate::vault::team::{KvCurrent, KvEngine, KvEntry};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

#[derive(Deserialize)]
struct ReadData {
    data: Option<serde::de::IgnoredAny>,
    metadata: ReadMeta,
}

#[derive(Deserialize)]
struct ReadMeta {
    version: u64,
}

#[derive(Deserialize)]
struct ReadResp {
    data: ReadData,
}

#[derive(Deserialize)]
struct WriteResp {
    data: ReadMeta,
}

impl KvEngine for KvClient {
    fn read(&self, rel: &str) -> Result<Option<KvEntry>> {
        let r = self.call(Method::GET, &self.data_path(rel), None, "read")?;
        match r.status {
            200 => {
                let v: ReadResp = serde_json::from_str(r.body.expose_secret()).map_err(|_| Error::VaultResponse {
                    vault: self.name.clone(),
                    status: 200,
                    detail: format!("`{rel}` is not a KV v2 document (is the mount KV version 2?)"),
                })?;
                Ok(v.data.data.map(|_| KvEntry {
                    body: r.body.clone(),
                    version: v.data.metadata.version,
                }))
            }
            404 => Ok(None),
            _ => Err(self.status_error(&r)),
        }
    }

    fn write(&self, rel: &str, data: &SecretString, cas: u64) -> Result<u64> {
        let body = SecretString::from(format!(
            "{{\"options\":{{\"cas\":{cas}}},\"data\":{}}}",
            data.expose_secret()
        ));
        let r = self.call(Method::POST, &self.data_path(rel), Some(body), "write")?;
        match r.status {
            200 | 204 => Ok(serde_json::from_str::<WriteResp>(r.body.expose_secret())
                .map(|w| w.data.version)
                .unwrap_or(cas.saturating_add(1))),
            _ => Err(self.status_error(&r)),
        }
    }

    fn current(&self, rel: &str) -> Result<Option<KvCurrent>> {
        #[derive(Deserialize)]
        struct Version {
            #[serde(default)]
            deletion_time: String,
            #[serde(default)]
            destroyed: bool,
        }
        #[derive(Deserialize)]
        struct Meta {
            current_version: u64,
            #[serde(default)]
            versions: std::collections::BTreeMap<String, Version>,
        }
        #[derive(Deserialize)]
        struct MetaResp {
            data: Meta,
        }
        let r = self.call(Method::GET, &self.metadata_path(rel), None, "read")?;
        match r.status {
            200 => {
                let m: MetaResp = serde_json::from_str(r.body.expose_secret()).map_err(|_| Error::VaultResponse {
                    vault: self.name.clone(),
                    status: 200,
                    detail: format!("`{rel}` has no KV v2 metadata"),
                })?;
                let live = m
                    .data
                    .versions
                    .get(&m.data.current_version.to_string())
                    .is_some_and(|v| v.deletion_time.is_empty() && !v.destroyed);
                Ok(Some(KvCurrent {
                    version: m.data.current_version,
                    live,
                }))
            }
            404 => Ok(None),
            _ => Err(self.status_error(&r)),
        }
    }

    fn delete_latest(&self, rel: &str) -> Result<()> {
        let r = self.call(Method::DELETE, &self.data_path(rel), None, "delete")?;
        match r.status {
            200 | 204 | 404 => Ok(()),
            _ => Err(self.status_error(&r)),
        }
    }

    fn destroy(&self, rel: &str) -> Result<()> {
        let r = self.call(Method::DELETE, &self.metadata_path(rel), None, "delete")?;
        match r.status {
            200 | 204 | 404 => Ok(()),
            _ => Err(self.status_error(&r)),
        }
    }

    fn location(&self) -> String {
        format!("{} ({}/{})", self.address(), self.mount, self.prefix)
    }
}
