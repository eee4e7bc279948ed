//! Paysera POS: a Personal Access Token sent as `Authorization: Bearer`, with
//! `Accept: application/json`. PATs cannot be refreshed; only the portal revokes them.

use super::{test_url_field, Field, Provider};
use crate::dto::{Environment, ProviderSchema};

/// Paysera POS personal access token.
pub struct PayseraPos;

/// Production API base.
pub const PRODUCTION_API_BASE: &str = "https://pos.paysera.com/eapi/v1";
/// Demo (sandbox) API base.
pub const DEMO_API_BASE: &str = "https://pos-demo.paysera.com/eapi/v1";

impl Provider for PayseraPos {
    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            kind: "paysera-pos".into(),
            label: "Paysera POS".into(),
            description: "Paysera POS API with a Personal Access Token.".into(),
            flow: "Personal Access Token, Bearer".into(),
            environments: vec![Environment::Production, Environment::Sandbox],
            fields: vec![
                Field::secret(
                    "token",
                    "Personal Access Token",
                    "pos.paysera.com → User Settings (/user/settings) → Personal Access Tokens → Generate New Token. Shown only once.",
                )
                .required()
                .build(),
                Field::url("api_base", "API base URL", "Production pos.paysera.com, demo pos-demo.paysera.com.")
                    .default_for(Environment::Production, PRODUCTION_API_BASE)
                    .default_for(Environment::Sandbox, DEMO_API_BASE)
                    .build(),
                test_url_field().build(),
            ],
        }
    }
}
