//! eReceipt: client credentials at `{identity_url}/connect/token` with the four POS
//! headers; every documented error code (400 with `error`); taxpayer tags (B2C).

use crate::common::*;
use serde_json::json;
use tillkey_sim::{ClientConfig, PosDevice, SimConfig};

const KIND: Kind = Kind::Ereceipt;

#[test]
fn test_passes_and_shows_the_b2c_tag() {
    let s = Setup::new(KIND, SimConfig::default());
    let (out, report) = s.tk.test_json("c");
    assert_passing(KIND, &out, &report);
    assert_eq!(
        report["stages"][1]["target"], "127.0.0.1/connect/token",
        "derived from identity_url: {report:#}"
    );
    assert_eq!(report["taxpayerTags"], json!(["B2B", "B2C"]));
    assert!(
        report["summary"]
            .as_str()
            .unwrap()
            .ends_with("; B2C tag present: may submit receipts"),
        "{report:#}"
    );
    assert_eq!(s.tk.record_of("c")["token"]["taxpayerTags"], json!(["B2B", "B2C"]));
    let show = s.tk.run(&["show", "c"], "");
    show.code(0);
    assert!(show.stdout.contains("taxpayer tags: B2B, B2C"), "{}", show.both());
}

#[test]
fn taxpayer_without_b2c_is_told_it_cannot_submit_receipts() {
    let sim = start(KIND.sim(), SimConfig::default());
    let cred = register(KIND, &sim, "c");
    sim.add_client_with(
        ClientConfig::new(&cred.key, cred.secret("client_secret")).with_pos_device(
            PosDevice::new(POSSERIAL, POSOSVERSION, POSMODELFRAMEWORK, cred.secret("presharedkey")).with_tags(["B2B"]),
        ),
    );
    let tk = Tk::new();
    tk.add(&cred);
    let (out, report) = tk.test_json("c");
    assert_passing(KIND, &out, &report);
    assert_eq!(report["taxpayerTags"], json!(["B2B"]));
    assert!(
        report["summary"]
            .as_str()
            .unwrap()
            .ends_with("; no B2C tag: cannot submit receipts"),
        "{report:#}"
    );
}

/// A credential that differs from the registration in one value: the token stage fails
/// with `code` (HTTP 400), its hint, exit 1; `tillkey token` says the same.
fn rejected(change: impl FnOnce(&mut Cred), code: &str, hint: &[&str]) {
    let sim = start(KIND.sim(), SimConfig::default());
    let mut cred = register(KIND, &sim, "c");
    change(&mut cred);
    let tk = Tk::new();
    tk.add(&cred);
    expect_test_failure(&tk, "c", "token", code, Some(400), hint, 1);
    expect_token_failure(&tk, "c", code, hint, 1);
    assert_eq!(sim.stats().api_calls_total(), 0);
}

#[test]
fn unknown_client_is_unauthorized_client() {
    rejected(
        |c| c.set_field("client_id", "no-such-client"),
        "unauthorized_client",
        &["client ID is unknown", "blocked or expired"],
    );
}

#[test]
fn blocked_system_user_is_unauthorized_client() {
    let s = Setup::new(KIND, SimConfig::default());
    assert!(s.sim.set_client_blocked(&s.cred.key, true));
    expect_test_failure(
        &s.tk,
        "c",
        "token",
        "unauthorized_client",
        Some(400),
        &["blocked or expired"],
        1,
    );
}

#[test]
fn wrong_secret_is_invalid_clientsecret() {
    rejected(
        |c| c.set_secret("client_secret", "wrong-secret"),
        "invalid_clientsecret",
        &["client secret is wrong"],
    );
}

#[test]
fn wrong_posserial_is_invalid_posserial() {
    rejected(
        |c| c.set_field("posserial", "SN-other"),
        "invalid_posserial",
        &["POS serial number", "100"],
    );
}

#[test]
fn wrong_pososversion_is_invalid_pososversion() {
    rejected(
        |c| c.set_field("pososversion", "ios-17"),
        "invalid_pososversion",
        &["POS OS version", "50"],
    );
}

#[test]
fn wrong_posmodelframework_is_invalid_posmodelframework() {
    rejected(
        |c| c.set_field("posmodelframework", "fw9"),
        "invalid_posmodelframework",
        &["POS model framework", "10"],
    );
}

#[test]
fn wrong_presharedkey_is_invalid_presharedkey() {
    rejected(
        |c| c.set_secret("presharedkey", "PSK-wrong"),
        "invalid_presharedkey",
        &["pre-shared key is wrong", "200"],
    );
}

#[test]
fn scope_not_granted_is_invalid_scope() {
    rejected(|c| c.set_field("scope", "B2GAPI"), "invalid_scope", &["scope"]);
}

#[test]
fn documented_lengths_are_checked_before_anything_is_sent() {
    let sim = start(KIND.sim(), SimConfig::default());
    let tk = Tk::new();
    for (field, len) in [("posserial", 101), ("pososversion", 51), ("posmodelframework", 11)] {
        let mut cred = register(KIND, &sim, "c");
        cred.set_field(field, "1".repeat(len));
        let out = tk.add_raw(&cred);
        out.code(2);
        assert!(
            out.stderr.contains(&format!("invalid {field}")) && out.stderr.contains(&format!("at most {}", len - 1)),
            "{}",
            out.both()
        );
    }
    let mut cred = register(KIND, &sim, "c");
    cred.set_secret("presharedkey", "k".repeat(201));
    let out = tk.add_raw(&cred);
    out.code(2);
    assert!(out.stderr.contains("at most 200"), "{}", out.both());
    assert!(!out.stderr.contains(&"k".repeat(201)));
    assert_eq!(sim.stats().hits_total(), 0);
}

/// `unsupported_grant_type` and `invalid_request` cannot be provoked: Tillkey always
/// sends a complete client-credentials request. A scripted identity service answers
/// them, as the document says (400 with `error`), to check the mapping.
#[test]
fn unreachable_codes_from_a_scripted_identity_service() {
    for code in ["unsupported_grant_type", "invalid_request"] {
        let fake = FakeServer::start(move |_, _| (400, vec![], json!({"error": code}).to_string()));
        let sim = start(KIND.sim(), SimConfig::default());
        let mut cred = register(KIND, &sim, "c");
        cred.set_field("identity_url", fake.url(""));
        let tk = Tk::new();
        tk.add(&cred);
        let hint: &[&str] = if code == "invalid_request" {
            &["missing a parameter"]
        } else {
            &["grant type"]
        };
        expect_test_failure(&tk, "c", "token", code, Some(400), hint, 1);
        expect_token_failure(&tk, "c", code, hint, 1);
        let r = &fake.requests()[0];
        assert_eq!(r.path, "/connect/token");
        assert_eq!(r.header("posserial"), Some(POSSERIAL));
        assert_eq!(r.header("pososversion"), Some(POSOSVERSION));
        assert_eq!(r.header("posmodelframework"), Some(POSMODELFRAMEWORK));
        assert_eq!(r.header("presharedkey"), Some(cred.secret("presharedkey")));
        assert!(
            r.body.starts_with("grant_type=client_credentials&client_id="),
            "{}",
            r.body
        );
    }
}
