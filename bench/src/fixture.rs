//! The benchmark's world: provider simulators on loopback and a vault of 500 credentials,
//! each its own client, in a temporary data dir with the real OS keyring.

use secrecy::SecretString;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use tillkey_core::{KeyringStore, NewCredential, SystemClock, Vault};
use tillkey_sim::{ProviderSim, SimConfig, Simulator};

/// Credentials in the vault (the last one is the fetch row's).
pub const CREDENTIALS: usize = 500;

/// Simulators, vault and the names the rows use.
pub struct Fixture {
    /// Rate-limited simulators (50 requests a minute per client, their default), one per
    /// client-credentials kind.
    pub limited: Vec<Simulator>,
    /// The fetch row's simulator: no rate limit, so repeated fetches measure latency.
    pub fetch_sim: Simulator,
    /// The data dir (deleted on drop).
    pub dir: tempfile::TempDir,
    /// The vault, opened by this process too (to clear the fetch row's cached token).
    pub vault: Arc<Vault>,
    /// A credential of the rate-limited set: the cached-token row's.
    pub cached_name: String,
    /// The fetch row's credential.
    pub fetch_name: String,
    /// Its client id and secret, for curl.
    pub fetch_client: (String, String),
    /// Seconds it took to add the credentials.
    pub prepare_secs: f64,
}

const KINDS: [ProviderSim; 3] = [ProviderSim::Oauth2, ProviderSim::Mypos, ProviderSim::PayseraCheckout];

fn credential(sim: &Simulator, name: &str, client: &str, secret: &str) -> NewCredential {
    let kind = sim.provider().kind();
    let environment = match sim.provider() {
        ProviderSim::Mypos => "sandbox",
        _ => "production",
    };
    let fields: BTreeMap<String, String> = [
        ("client_id", client.to_string()),
        ("token_url", sim.token_url().unwrap_or_default()),
        ("test_url", sim.test_url()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    NewCredential {
        name: name.into(),
        provider: kind.into(),
        environment: environment.parse().ok(),
        fields,
        secrets: [("client_secret".to_string(), SecretString::from(secret))].into(),
    }
}

impl Fixture {
    /// Starts the simulators and adds [`CREDENTIALS`] credentials in one batch.
    ///
    /// # Errors
    /// Simulator start-up, keyring and file errors, as text.
    pub fn new() -> Result<Self, String> {
        let limited = KINDS
            .iter()
            .map(|&p| Simulator::spawn_blocking_runtime(p, SimConfig::default()))
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(|e| format!("cannot start a simulator: {e}"))?;
        let fetch_sim =
            Simulator::spawn_blocking_runtime(ProviderSim::Oauth2, SimConfig::default().with_rate_limit(None))
                .map_err(|e| format!("cannot start a simulator: {e}"))?;
        let dir = tempfile::Builder::new()
            .prefix("tillkey-bench.")
            .tempdir()
            .map_err(|e| format!("cannot make a temp dir: {e}"))?;
        {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(dir.path().join("run"))
                .map_err(|e| format!("cannot make the agent's runtime dir: {e}"))?;
        }
        let vault = Arc::new(
            Vault::open(dir.path().join("data"), Arc::new(KeyringStore), Arc::new(SystemClock))
                .map_err(|e| format!("cannot open the vault: {e}"))?,
        );
        let mut new = Vec::with_capacity(CREDENTIALS);
        let mut cached_name = String::new();
        for i in 0..CREDENTIALS - 1 {
            let sim = &limited[i % limited.len()];
            let name = format!("bench-{}-{i:03}", sim.provider().kind());
            let (client, secret) = (format!("bench-client-{i:03}"), format!("bench-secret-{i:03}"));
            sim.add_client(client.as_str(), secret.as_str());
            if i == 0 {
                cached_name = name.clone();
            }
            new.push(credential(sim, &name, &client, &secret));
        }
        let fetch_client = ("bench-fetch-client".to_string(), "bench-fetch-secret".to_string());
        fetch_sim.add_client(fetch_client.0.as_str(), fetch_client.1.as_str());
        let fetch_name = "bench-fetch".to_string();
        new.push(credential(&fetch_sim, &fetch_name, &fetch_client.0, &fetch_client.1));
        let started = std::time::Instant::now();
        vault
            .add_many(new)
            .map_err(|e| format!("cannot add the credentials: {e}"))?;
        Ok(Self {
            limited,
            fetch_sim,
            dir,
            vault,
            cached_name,
            fetch_name,
            fetch_client,
            prepare_secs: started.elapsed().as_secs_f64(),
        })
    }

    /// The `XDG_RUNTIME_DIR` of the agent rows (its socket lives there, apart from any
    /// agent of the desktop session).
    pub fn runtime_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    /// The data dir the CLI and the app are pointed at.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The metadata file (what `cat` reads as the start-up floor).
    pub fn metadata_file(&self) -> PathBuf {
        self.data_dir().join("vault.json")
    }

    /// Requests the simulators answered with 429, all of them together.
    pub fn rate_limited(&self) -> u64 {
        self.limited
            .iter()
            .chain(std::iter::once(&self.fetch_sim))
            .map(|s| s.stats().rate_limited_total())
            .sum()
    }

    /// Discards the fetch row's cached token, so the next `tillkey token` asks the
    /// simulator (as after expiry).
    ///
    /// # Errors
    /// Keyring and file errors, as text.
    pub fn forget_fetch_token(&self) -> Result<(), String> {
        let r = self.vault.record(&self.fetch_name).map_err(|e| e.to_string())?;
        self.vault
            .clear_token(&r.id, r.secret_rev, true)
            .map_err(|e| e.to_string())
    }

    /// Removes every credential and its keyring entries (for runs in a real desktop
    /// keyring; the throw-away keyring of scripts/with-keyring.sh needs none of this).
    pub fn clean_up(&self) {
        if let Ok(list) = self.vault.list() {
            for c in list {
                let _ = self.vault.remove(&c.name);
            }
        }
    }
}
