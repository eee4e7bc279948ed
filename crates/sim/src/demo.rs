//! The demo set: every simulator started with one preconfigured credential each, for the
//! app's demo vault and manual testing. The secret values here are demo-only constants
//! that nothing but these simulators accepts.

use std::collections::BTreeMap;
use std::io;

use serde_json::{json, Map, Value};

use crate::state::{ClientConfig, PosDevice, SimConfig};
use crate::{ProviderSim, Simulator};

/// Demo Paysera POS personal access token.
pub const PAYSERA_POS_TOKEN: &str = "demo-paysera-pos-pat-0123456789abcdef";
/// Demo Paysera Checkout client id.
pub const PAYSERA_CHECKOUT_CLIENT_ID: &str = "demo-paysera-checkout";
/// Demo Paysera Checkout client secret.
pub const PAYSERA_CHECKOUT_CLIENT_SECRET: &str = "demo-paysera-checkout-secret";
/// Demo myPOS client id.
pub const MYPOS_CLIENT_ID: &str = "demo-mypos";
/// Demo myPOS client secret.
pub const MYPOS_CLIENT_SECRET: &str = "demo-mypos-secret";
/// Demo eReceipt client id.
pub const ERECEIPT_CLIENT_ID: &str = "d0394a9f-0607-40de-a978-2d3eb8375b04";
/// Demo eReceipt client secret.
pub const ERECEIPT_CLIENT_SECRET: &str = "demo-ereceipt-secret";
/// Demo eReceipt POS serial.
pub const ERECEIPT_POSSERIAL: &str = "1234567899";
/// Demo eReceipt POS OS version.
pub const ERECEIPT_POSOSVERSION: &str = "os";
/// Demo eReceipt POS model framework.
pub const ERECEIPT_POSMODELFRAMEWORK: &str = "1";
/// Demo eReceipt pre-shared key.
pub const ERECEIPT_PRESHAREDKEY: &str = "demo-ereceipt-presharedkey";
/// Demo Chimpy client id.
pub const CHIMPY_CLIENT_ID: &str = "demo-chimpy";
/// Demo Chimpy audience.
pub const CHIMPY_AUDIENCE: &str = "https://pos-api.chimpy.example";
/// Demo Chimpy username.
pub const CHIMPY_USERNAME: &str = "demo@merchant.example";
/// Demo Chimpy password.
pub const CHIMPY_PASSWORD: &str = "demo-chimpy-password";
/// Demo generic OAuth2 client id.
pub const OAUTH2_CLIENT_ID: &str = "demo-oauth2";
/// Demo generic OAuth2 client secret.
pub const OAUTH2_CLIENT_SECRET: &str = "demo-oauth2-secret";
/// Demo generic OAuth2 scope.
pub const OAUTH2_SCOPE: &str = "read";
/// Demo generic OAuth2 audience.
pub const OAUTH2_AUDIENCE: &str = "https://api.example";
/// Client id the demo static bearer token belongs to (on the OAuth2 simulator).
pub const BEARER_CLIENT_ID: &str = "demo-bearer";
/// Demo static bearer token (accepted by the OAuth2 simulator's `/api/ping`).
pub const BEARER_TOKEN: &str = "demo-static-bearer-token-0123456789";

/// One demo credential in the shape of Tillkey's field schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCredential {
    /// Suggested credential name, e.g. `demo-mypos`.
    pub name: String,
    /// Provider kind (`paysera-pos`, …, `oauth2`, `bearer`).
    pub kind: String,
    /// Environment (`sandbox` where the kind has one, else `production`).
    pub env: String,
    /// Non-secret fields, including `token_url` and `test_url` pointing at the simulator.
    pub fields: BTreeMap<String, String>,
    /// Secret fields (demo values).
    pub secrets: BTreeMap<String, String>,
}

impl DemoCredential {
    fn new(kind: &str, env: &str) -> Self {
        DemoCredential {
            name: format!("demo-{kind}"),
            kind: kind.to_owned(),
            env: env.to_owned(),
            fields: BTreeMap::new(),
            secrets: BTreeMap::new(),
        }
    }

    fn field(mut self, name: &str, value: impl Into<String>) -> Self {
        self.fields.insert(name.to_owned(), value.into());
        self
    }

    fn secret(mut self, name: &str, value: impl Into<String>) -> Self {
        self.secrets.insert(name.to_owned(), value.into());
        self
    }

    /// JSON `{name, kind, env, fields, secrets?}`; secrets only when asked for.
    pub fn to_json(&self, include_secrets: bool) -> Value {
        let mut v = json!({
            "name": self.name,
            "kind": self.kind,
            "env": self.env,
            "fields": self.fields,
        });
        if include_secrets {
            v["secrets"] = json!(self.secrets);
        }
        v
    }
}

/// Every simulator running, with the demo credentials. Dropping it stops them.
#[derive(Debug)]
pub struct Demo {
    /// The running simulators, in [`ProviderSim::ALL`] order.
    pub simulators: Vec<Simulator>,
    /// One credential per kind, `bearer` included (served by the OAuth2 simulator).
    pub credentials: Vec<DemoCredential>,
}

impl Demo {
    /// The running simulator for a provider.
    pub fn simulator(&self, provider: ProviderSim) -> Option<&Simulator> {
        self.simulators.iter().find(|s| s.provider() == provider)
    }

    /// The demo credential of a kind (`"mypos"`, `"bearer"`, …).
    pub fn credential(&self, kind: &str) -> Option<&DemoCredential> {
        self.credentials.iter().find(|c| c.kind == kind)
    }

    /// JSON `{"simulators": {kind: {base_url, token_url, test_url, revoke_url, api_base}},
    /// "credentials": [...]}`; secret values only when `include_secrets`.
    pub fn to_json(&self, include_secrets: bool) -> Value {
        let mut sims = Map::new();
        for s in &self.simulators {
            sims.insert(
                s.provider().kind().to_owned(),
                json!({
                    "base_url": s.base_url(),
                    "token_url": s.token_url(),
                    "test_url": s.test_url(),
                    "revoke_url": s.revoke_url(),
                    "api_base": s.api_base(),
                }),
            );
        }
        json!({
            "simulators": sims,
            "credentials": self
                .credentials
                .iter()
                .map(|c| c.to_json(include_secrets))
                .collect::<Vec<_>>(),
        })
    }
}

/// Starts every simulator on the current tokio runtime, each with its demo credential.
pub async fn demo(config: SimConfig) -> io::Result<Demo> {
    let mut simulators = Vec::new();
    for p in ProviderSim::ALL {
        simulators.push(Simulator::start(p, config.clone()).await?);
    }
    Ok(seed(simulators))
}

/// Like [`demo()`], each simulator on its own runtime thread (for synchronous callers).
pub fn demo_blocking(config: SimConfig) -> io::Result<Demo> {
    let simulators = ProviderSim::ALL
        .into_iter()
        .map(|p| Simulator::spawn_blocking_runtime(p, config.clone()))
        .collect::<io::Result<Vec<_>>>()?;
    Ok(seed(simulators))
}

fn seed(simulators: Vec<Simulator>) -> Demo {
    let mut credentials = Vec::new();
    for sim in &simulators {
        let token_url = sim.token_url().unwrap_or_default();
        match sim.provider() {
            ProviderSim::PayseraPos => {
                sim.add_pat(PAYSERA_POS_TOKEN, true);
                credentials.push(
                    DemoCredential::new("paysera-pos", "sandbox")
                        .field("api_base", sim.api_base().unwrap_or_default())
                        .field("test_url", sim.test_url())
                        .secret("token", PAYSERA_POS_TOKEN),
                );
            }
            ProviderSim::PayseraCheckout => {
                sim.add_client(PAYSERA_CHECKOUT_CLIENT_ID, PAYSERA_CHECKOUT_CLIENT_SECRET);
                credentials.push(
                    DemoCredential::new("paysera-checkout", "production")
                        .field("client_id", PAYSERA_CHECKOUT_CLIENT_ID)
                        .field("token_url", token_url)
                        .field("test_url", sim.test_url())
                        .secret("client_secret", PAYSERA_CHECKOUT_CLIENT_SECRET),
                );
            }
            ProviderSim::Mypos => {
                sim.add_client(MYPOS_CLIENT_ID, MYPOS_CLIENT_SECRET);
                credentials.push(
                    DemoCredential::new("mypos", "sandbox")
                        .field("client_id", MYPOS_CLIENT_ID)
                        .field("token_url", token_url)
                        .field("revoke_url", sim.revoke_url().unwrap_or_default())
                        .field("test_url", sim.test_url())
                        .secret("client_secret", MYPOS_CLIENT_SECRET),
                );
            }
            ProviderSim::Ereceipt => {
                sim.add_client_with(
                    ClientConfig::new(ERECEIPT_CLIENT_ID, ERECEIPT_CLIENT_SECRET).with_pos_device(PosDevice::new(
                        ERECEIPT_POSSERIAL,
                        ERECEIPT_POSOSVERSION,
                        ERECEIPT_POSMODELFRAMEWORK,
                        ERECEIPT_PRESHAREDKEY,
                    )),
                );
                credentials.push(
                    DemoCredential::new("ereceipt", "production")
                        .field("identity_url", sim.base_url())
                        .field("client_id", ERECEIPT_CLIENT_ID)
                        .field("posserial", ERECEIPT_POSSERIAL)
                        .field("pososversion", ERECEIPT_POSOSVERSION)
                        .field("posmodelframework", ERECEIPT_POSMODELFRAMEWORK)
                        .field("scope", crate::ereceipt::DEFAULT_SCOPE)
                        .field("token_url", token_url)
                        .field("test_url", sim.test_url())
                        .secret("client_secret", ERECEIPT_CLIENT_SECRET)
                        .secret("presharedkey", ERECEIPT_PRESHAREDKEY),
                );
            }
            ProviderSim::Chimpy => {
                sim.add_client_with(ClientConfig::new(CHIMPY_CLIENT_ID, "").with_audience(CHIMPY_AUDIENCE));
                sim.add_user(CHIMPY_USERNAME, CHIMPY_PASSWORD);
                credentials.push(
                    DemoCredential::new("chimpy", "production")
                        .field("auth_host", sim.host())
                        .field("client_id", CHIMPY_CLIENT_ID)
                        .field("audience", CHIMPY_AUDIENCE)
                        .field("username", CHIMPY_USERNAME)
                        .field("offline_access", "true")
                        .field("api_base", sim.api_base().unwrap_or_default())
                        .field("token_url", token_url)
                        .field("test_url", sim.test_url())
                        .secret("password", CHIMPY_PASSWORD),
                );
            }
            ProviderSim::Oauth2 => {
                sim.add_client_with(
                    ClientConfig::new(OAUTH2_CLIENT_ID, OAUTH2_CLIENT_SECRET)
                        .with_scopes([OAUTH2_SCOPE])
                        .with_audience(OAUTH2_AUDIENCE),
                );
                sim.insert_token(BEARER_TOKEN, BEARER_CLIENT_ID, None);
                credentials.push(
                    DemoCredential::new("oauth2", "production")
                        .field("client_id", OAUTH2_CLIENT_ID)
                        .field("auth_method", "basic")
                        .field("scope", OAUTH2_SCOPE)
                        .field("audience", OAUTH2_AUDIENCE)
                        .field("token_url", token_url)
                        .field("revoke_url", sim.revoke_url().unwrap_or_default())
                        .field("test_url", sim.test_url())
                        .secret("client_secret", OAUTH2_CLIENT_SECRET),
                );
                credentials.push(
                    DemoCredential::new("bearer", "production")
                        .field("test_url", sim.test_url())
                        .secret("token", BEARER_TOKEN),
                );
            }
        }
    }
    Demo {
        simulators,
        credentials,
    }
}
