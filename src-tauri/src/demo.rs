//! The demo vault: every provider simulator running inside the app (`tillkey-sim`, on
//! loopback ports), and a vault in its own data dir with one credential per provider
//! pointing at them. A new merchant can test, copy and rotate without any account.
//!
//! The demo vault is `<data dir>-demo` (e.g. `~/.local/share/tillkey-demo`): its own
//! metadata file and vault id, so its keyring entries never touch the merchant's. It is
//! marked by a `DEMO-VAULT` file, emptied and refilled at every start (the simulators get
//! new ports each run), and emptied again when the merchant leaves it or quits. A data
//! dir without the marker is never emptied.

use crate::error::{IpcError, IpcResult};
use crate::state::blocking;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tillkey_core::{Clock, CredentialSummary, KeyringStore, NewCredential, Vault};
use tillkey_sim::{ProviderSim, SimConfig};

/// Name of the file that marks a data dir as the demo vault.
pub const MARKER: &str = "DEMO-VAULT";

/// The running simulators of an open demo vault; they stop when this is dropped.
pub struct DemoSession {
    simulators: tillkey_sim::Demo,
}

impl DemoSession {
    /// The demo's stand-in for the provider's portal: makes a new secret for the demo
    /// credential `record` that its simulator accepts. Client secrets and passwords are
    /// replaced at the simulator at once (as a portal's "regenerate" does); a new personal
    /// access token or static token is added next to the old one; where the provider issues
    /// a new set on rotation (its schema marks fields that rotate with the secret, e.g.
    /// myPOS's `client_id`), the portal issues a new client ID and secret next to the old
    /// set, which keeps working until the merchant deletes it (so the old token can be
    /// revoked with it).
    ///
    /// # Security
    /// The value is a simulator-only demo secret, shown so the merchant can paste it into
    /// the rotation wizard as they would a real one.
    pub fn new_secret(&self, record: &CredentialSummary) -> Option<PortalSecret> {
        let value = format!("demo-rotated-{}", uuid::Uuid::new_v4().simple());
        let sim = |p: ProviderSim| self.simulators.simulator(p);
        let secret = |field: &str, value: String| PortalSecret {
            field: field.to_string(),
            value,
            identity: BTreeMap::new(),
        };
        Some(match record.provider.as_str() {
            "paysera-pos" => {
                sim(ProviderSim::PayseraPos)?.add_pat(value.clone(), true);
                secret("token", value)
            }
            "bearer" => {
                sim(ProviderSim::Oauth2)?.insert_token(value.clone(), tillkey_sim::demo::BEARER_CLIENT_ID, None);
                secret("token", value)
            }
            "chimpy" => {
                let user = record.fields.get("username")?;
                sim(ProviderSim::Chimpy)?
                    .set_user_password(user, value.clone())
                    .then_some(())?;
                secret("password", value)
            }
            kind => {
                let client_id = record.fields.get("client_id")?;
                let sim = sim(ProviderSim::from_kind(kind)?)?;
                let new_set = tillkey_core::providers::schema(kind)
                    .ok()?
                    .field("client_id")
                    .is_some_and(|f| f.rotates_with_secret);
                if new_set {
                    let (id, secret) = sim.issue_new_set(client_id)?;
                    PortalSecret {
                        field: "client_secret".into(),
                        value: secret,
                        identity: [("client_id".to_string(), id)].into(),
                    }
                } else {
                    sim.set_client_secret(client_id, value.clone()).then_some(())?;
                    secret("client_secret", value)
                }
            }
        })
    }
}

/// What the demo's simulated portal made for a rotation.
pub struct PortalSecret {
    /// The secret field it is for.
    pub field: String,
    /// The demo secret (simulator-only).
    pub value: String,
    /// New identity field values issued with it (myPOS: the new `client_id`); empty when
    /// the provider keeps the identity.
    pub identity: BTreeMap<String, String>,
}

/// The demo data dir that goes with the merchant's data dir `real`: its sibling
/// `<name>-demo`.
pub fn demo_dir(real: &Path) -> PathBuf {
    let name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tillkey".into());
    real.with_file_name(format!("{name}-demo"))
}

fn demo_error(message: String) -> IpcError {
    IpcError {
        code: "demo_unavailable".into(),
        message,
        hint: Some("The demo vault needs loopback ports and the OS keyring. Your own vault is unaffected.".into()),
        field: None,
    }
}

/// Starts the simulators and fills the demo vault with one credential per provider.
///
/// # Errors
/// `demo_unavailable` when the simulators cannot start or the demo dir is not a demo
/// vault; keyring and file errors.
pub async fn start(real: &Path, clock: Arc<dyn Clock>) -> IpcResult<(Arc<Vault>, DemoSession)> {
    let dir = demo_dir(real);
    if dir == real {
        return Err(demo_error(
            "The demo vault cannot share the data directory of your vault.".into(),
        ));
    }
    let has_vault = Vault::exists_in(&dir);
    if has_vault && !dir.join(MARKER).exists() {
        return Err(demo_error(format!(
            "{} holds a vault that is not Tillkey's demo vault; Tillkey will not empty it.",
            dir.display()
        )));
    }
    let simulators = tillkey_sim::demo(SimConfig::default())
        .await
        .map_err(|_| demo_error("The provider simulators could not start.".into()))?;
    let credentials = simulators.credentials.clone();
    let vault_dir = dir.clone();
    let vault = blocking(move || {
        let vault = Vault::open(&vault_dir, Arc::new(KeyringStore), clock)?;
        std::fs::write(
            vault_dir.join(MARKER),
            "This data dir holds Tillkey's demo vault. Tillkey empties and refills it at every demo start.\n",
        )
        .map_err(|e| tillkey_core::Error::Io {
            action: "cannot write",
            path: vault_dir.join(MARKER),
            source: e,
        })?;
        clear(&vault);
        for c in credentials {
            let environment = Some(c.env.parse()?);
            vault.add(NewCredential {
                name: c.name,
                provider: c.kind,
                environment,
                fields: c.fields,
                secrets: c
                    .secrets
                    .into_iter()
                    .map(|(k, v)| (k, v.into()))
                    .collect::<BTreeMap<_, _>>(),
            })?;
        }
        Ok(vault)
    })
    .await?;
    Ok((Arc::new(vault), DemoSession { simulators }))
}

/// Removes every credential of the demo vault with its keyring entries. Best effort.
pub fn clear(vault: &Vault) {
    if !vault.data_dir().join(MARKER).exists() {
        return;
    }
    if let Ok(list) = vault.list() {
        for c in list {
            let _ = vault.remove(&c.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_dir_is_a_sibling_of_the_real_one() {
        assert_eq!(
            demo_dir(Path::new("/home/m/.local/share/tillkey")),
            PathBuf::from("/home/m/.local/share/tillkey-demo")
        );
        assert_eq!(demo_dir(Path::new("/tmp/x/data")), PathBuf::from("/tmp/x/data-demo"));
    }

    #[test]
    fn a_vault_without_the_marker_is_never_cleared() {
        let dir = tempfile::tempdir().expect("temp dir");
        let vault = Vault::open(
            dir.path(),
            Arc::new(tillkey_core::MemoryStore::new()),
            Arc::new(tillkey_core::SystemClock),
        )
        .expect("vault");
        vault
            .add(NewCredential {
                name: "mine".into(),
                provider: "bearer".into(),
                environment: None,
                fields: BTreeMap::new(),
                secrets: [("token".to_string(), "t".to_string().into())].into(),
            })
            .expect("add");
        clear(&vault);
        assert_eq!(vault.list().expect("list").len(), 1);
        std::fs::write(dir.path().join(MARKER), "").expect("marker");
        clear(&vault);
        assert!(vault.list().expect("list").is_empty());
    }

    #[test]
    fn a_non_demo_vault_in_the_demo_dir_is_refused() {
        let root = tempfile::tempdir().expect("temp dir");
        let real = root.path().join("data");
        let demo = demo_dir(&real);
        std::fs::create_dir_all(&demo).expect("dir");
        std::fs::write(Vault::metadata_path(&demo), "{}").expect("file");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let err = rt
            .block_on(start(&real, Arc::new(tillkey_core::SystemClock)))
            .err()
            .expect("refused");
        assert_eq!(err.code, "demo_unavailable");
    }
}
