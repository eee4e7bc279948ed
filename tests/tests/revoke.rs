//! Revoke by clicking (issue 12, item 6): the cached token of a credential is revoked at the
//! provider where it has an endpoint (RFC 7009) and forgotten, as `tillkey revoke` does;
//! where the provider has none it is forgotten here and the window says it stays valid
//! there, with the portal steps.
//!
//! Run inside `scripts/with-keyring.sh` (Xvfb, D-Bus, gnome-keyring).

mod common;

use chrono::Utc;
use common::*;
use fantoccini::Locator;
use tillkey_sim::{demo as sim_demo, ProviderSim, SimConfig};

#[test]
fn revoke_by_clicking_revokes_at_the_provider_and_forgets_the_token() {
    let _serial = serial();
    let sims = tillkey_sim::demo_blocking(SimConfig::default()).expect("the provider simulators start");
    let root = tempfile::tempdir().expect("a temp dir");
    let data = root.path().join("data");
    let vault = vault_at(&data, Utc::now());
    add_demo_credential(&vault, sims.credential("oauth2").expect("oauth2"), "shop-api");
    add_demo_credential(
        &vault,
        sims.credential("paysera-checkout").expect("paysera-checkout"),
        "web-checkout",
    );
    add_demo_credential(&vault, sims.credential("bearer").expect("bearer"), "static-api");
    let oauth = sims.simulator(ProviderSim::Oauth2).expect("the oauth2 simulator");
    let driver = Driver::start(&data);

    runtime().block_on(async {
        let client = driver.launch_app().await;
        wait_for_list(&client).await;
        wait_for(&client, &row_selector("shop-api")).await;
        // Nothing cached yet: nothing to revoke, so no button.
        let revoke_in = |name: &str| format!("{} {}", row_selector(name), testid("revoke-button"));
        assert!(client.find(Locator::Css(&revoke_in("shop-api"))).await.is_err());

        // A copy fetches and caches a token: now it can be revoked.
        click_in_row(&client, "shop-api", "copy-button").await;
        let token_cell = format!("{} {}", row_selector("shop-api"), testid("cell-token"));
        wait_for_text(&client, &token_cell, "a cached token", |t| t.contains("valid for")).await;
        let token = oauth
            .last_token(sim_demo::OAUTH2_CLIENT_ID)
            .expect("the copy fetched a token");
        assert!(!oauth.token_info(&token).expect("issued").revoked);

        click(&client, &revoke_in("shop-api")).await;
        let status = format!("{} {}", row_selector("shop-api"), testid("revoke-status"));
        let shown = wait_for_text(&client, &status, "the revoke result", |t| t.contains("Revoked")).await;
        assert!(shown.contains("at the provider"), "{shown}");
        assert_eq!(
            wait_for(&client, &status)
                .await
                .attr("data-outcome")
                .await
                .expect("attr")
                .as_deref(),
            Some("revoked")
        );
        // The provider revoked it, and it is forgotten here, as `tillkey revoke` does.
        assert!(
            oauth.token_info(&token).expect("issued").revoked,
            "the provider revoked it"
        );
        assert_eq!(oauth.stats().revocations(sim_demo::OAUTH2_CLIENT_ID), 1);
        wait_for_text(&client, &token_cell, "no cached token", |t| t.contains("no token yet")).await;
        assert!(vault.show("shop-api").expect("show").token.is_none());
        wait_gone(&client, &revoke_in("shop-api")).await;
        assert!(!client.source().await.expect("source").contains(&token));

        // The next copy gets a new token.
        click_in_row(&client, "shop-api", "copy-button").await;
        wait_for_text(&client, &token_cell, "a new token", |t| t.contains("valid for")).await;
        let next = oauth.last_token(sim_demo::OAUTH2_CLIENT_ID).expect("a new token");
        assert_ne!(next, token);
        wait_gone(&client, &status).await;

        // Paysera Checkout documents no revocation endpoint: the token is forgotten here and
        // the window says where to retire the secret.
        click_in_row(&client, "web-checkout", "copy-button").await;
        click(&client, &revoke_in("web-checkout")).await;
        let status = format!("{} {}", row_selector("web-checkout"), testid("revoke-status"));
        let shown = wait_for_text(&client, &status, "the revoke result", |t| t.contains("Discarded")).await;
        assert!(
            shown.contains("no revocation endpoint") && shown.contains("To retire the secret itself"),
            "{shown}"
        );
        assert!(vault.show("web-checkout").expect("show").token.is_none());

        // A static token is never cached: no Revoke on its row.
        click_in_row(&client, "static-api", "copy-button").await;
        wait_for(
            &client,
            &format!("{} {}", row_selector("static-api"), testid("copy-status")),
        )
        .await;
        assert!(client.find(Locator::Css(&revoke_in("static-api"))).await.is_err());
        client.close().await.expect("the session closes");
    });
    clean_vault(&data);
}
