//! eReceipt POS authentication: OAuth2 client credentials at `{identity_url}/connect/token`
//! plus the POS headers `posserial`, `pososversion`, `posmodelframework`, `presharedkey`.

use super::{require_unless_token_url, test_url_field, token_url_field, Field, Provider};
use crate::dto::{Environment, ProviderSchema};
use crate::error::Result;
use std::collections::BTreeMap;

/// eReceipt POS authentication.
pub struct EReceipt;

impl Provider for EReceipt {
    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            kind: "ereceipt".into(),
            label: "eReceipt POS".into(),
            description: "eReceipt solution APIs for taxpayer POS systems.".into(),
            flow: "OAuth2 client credentials + POS headers".into(),
            environments: vec![Environment::Production, Environment::Sandbox],
            fields: vec![
                Field::url("identity_url", "Identity service URL", "Base address of the eReceipt identity service (not the API host).").build(),
                Field::text("client_id", "Client ID", "Issued with your POS system registration.").required().max_len(100).build(),
                Field::secret("client_secret", "Client secret", "Issued with your POS system registration.").required().max_len(100).build(),
                Field::text("posserial", "POS serial number", "The POS serial number registered for this taxpayer.").required().max_len(100).build(),
                Field::text("pososversion", "POS OS version", "The POS version number as registered.").required().max_len(50).build(),
                Field::text("posmodelframework", "POS model framework", "The POS model framework number as registered.").required().max_len(10).build(),
                Field::secret("presharedkey", "Pre-shared key", "The POS pre-shared key from your registration.").required().max_len(200).build(),
                Field::text("scope", "Scope", "Optional, e.g. InvoicingAPI.").max_len(200).build(),
                token_url_field().build(),
                test_url_field().build(),
            ],
        }
    }

    fn check(&self, fields: &BTreeMap<String, String>) -> Result<()> {
        require_unless_token_url("ereceipt", "identity_url", fields)
    }
}
