//! Secret age from the CLI, with the real `tillkey` binary, the real OS keyring and the
//! provider simulators: the age of each long-lived secret field in `list` and `show`, the
//! rotation status following the oldest one, a rotation of one field renewing that field
//! only, `mark-rotated` renewing all, the refresh token's age, and a Paysera POS PAT in
//! JWT form showing its own expiry. Run under `scripts/with-keyring.sh`.
//!
//! Time passes by backdating the metadata file to the form builds before per-field dates
//! wrote (only `rotated_at`), which also exercises the migration on read.

#[path = "providers/common.rs"]
mod common;

use base64::Engine as _;
use chrono::{Duration, Utc};
use common::*;
use serde_json::Value;
use tillkey_sim::{PatConfig, SimConfig};

/// Sets `rotated_at` of every credential to `days` ago and drops the per-field dates, as a
/// file written by an older build `days` after the credential was added would read.
fn backdate(tk: &Tk, days: i64) {
    let mut m = tk.meta();
    let at = (Utc::now() - Duration::days(days)).to_rfc3339();
    for c in m["credentials"].as_array_mut().unwrap() {
        c["rotated_at"] = Value::from(at.clone());
        c.as_object_mut().unwrap().remove("secret_set_at");
    }
    std::fs::write(tk.path().join("vault.json"), serde_json::to_vec_pretty(&m).unwrap()).unwrap();
}

/// `show --json` of `name`: its secret ages by field, as (age in days, oldest), and its
/// rotation status.
fn ages(tk: &Tk, name: &str) -> (Vec<(String, i64, bool)>, String) {
    let out = tk.run(&["show", name, "--json"], "");
    out.code(0);
    let v = out.json();
    let ages = v["secretAges"]
        .as_array()
        .unwrap_or_else(|| panic!("no secretAges\n{}", out.both()))
        .iter()
        .map(|a| {
            (
                a["field"].as_str().unwrap().to_string(),
                a["ageDays"].as_i64().unwrap(),
                a["oldest"].as_bool().unwrap(),
            )
        })
        .collect();
    (ages, v["rotation"]["status"].as_str().unwrap().to_string())
}

fn age(field: &str, days: i64, oldest: bool) -> (String, i64, bool) {
    (field.to_string(), days, oldest)
}

#[test]
fn each_secret_has_its_age_and_the_status_follows_the_oldest() {
    let s = Setup::new(Kind::Ereceipt, SimConfig::default());
    let tk = &s.tk;
    assert_eq!(
        ages(tk, "c"),
        (
            vec![age("client_secret", 0, true), age("presharedkey", 0, false)],
            "ok".into()
        )
    );
    // An old file, 100 days on: both fields are as old as the credential's rotation date.
    backdate(tk, 100);
    assert_eq!(
        ages(tk, "c"),
        (
            vec![age("client_secret", 100, true), age("presharedkey", 100, false)],
            "overdue".into()
        )
    );
    let list = tk.run(&["list"], "");
    list.code(0);
    assert!(list.stdout.contains("SECRET AGE"), "{}", list.both());
    assert!(list.stdout.contains("100 days (client_secret)"), "{}", list.both());

    // The portal issues a new client secret; only that field is rotated (tested first).
    let new_secret = "SECRET-ereceipt-c-rotated-Hq81mZ";
    assert!(s.sim.set_client_secret(&s.cred.key, new_secret));
    let out = tk.run(&["rotate", "c"], &format!("client_secret={new_secret}\n"));
    out.code(0);
    assert!(out.stdout.contains("Rotated c"), "{}", out.both());
    // The client secret is new; the pre-shared key keeps its age, and the status with it.
    assert_eq!(
        ages(tk, "c"),
        (
            vec![age("client_secret", 0, false), age("presharedkey", 100, true)],
            "overdue".into()
        )
    );
    let show = tk.run(&["show", "c"], "");
    show.code(0);
    assert!(
        show.stdout.contains("secret age:    client_secret 0 days (set ")
            && show.stdout.contains("presharedkey 100 days (set ")
            && show.stdout.contains("; the rotation status follows it)"),
        "{}",
        show.both()
    );
    let list = tk.run(&["list"], "");
    assert!(list.stdout.contains("100 days (presharedkey)"), "{}", list.both());
    assert!(list.stdout.contains("overdue by 10 days"), "{}", list.both());

    // The merchant renewed the pre-shared key in the portal too and says so: every field
    // counts as renewed.
    tk.run(&["mark-rotated", "c"], "").code(0);
    assert_eq!(
        ages(tk, "c"),
        (
            vec![age("client_secret", 0, true), age("presharedkey", 0, false)],
            "ok".into()
        )
    );
    // The new secret works, and no secret value reached any output.
    let (out, report) = tk.test_json("c");
    assert_passing(Kind::Ereceipt, &out, &report);
    let transcript = tk.transcript();
    for secret in s.cred.secret_values().iter().map(String::as_str).chain([new_secret]) {
        assert!(!transcript.contains(secret), "a secret reached the output");
    }
}

#[test]
fn the_refresh_token_has_an_age_that_the_status_does_not_follow() {
    let s = Setup::new(Kind::ChimpyOffline, SimConfig::default());
    s.tk.token("c");
    let (ages, status) = ages(&s.tk, "c");
    assert_eq!(ages, vec![age("password", 0, true), age("refresh_token", 0, false)]);
    assert_eq!(status, "ok");
    let show = s.tk.run(&["show", "c"], "");
    assert!(
        show.stdout.contains("refresh_token 0 days (set ") && show.stdout.contains("renewed by the provider"),
        "{}",
        show.both()
    );
}

#[test]
fn a_paysera_pat_in_jwt_form_shows_its_own_expiry() {
    let sim = start(Kind::PayseraPos.sim(), SimConfig::default());
    let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let exp = (Utc::now() + Duration::days(200)).timestamp();
    let pat = format!(
        "{}.{}.c2lnbmF0dXJl",
        b(r#"{"alg":"RS256","typ":"JWT"}"#),
        b(&format!(r#"{{"sub":"pos-user-7","exp":{exp}}}"#))
    );
    sim.add_pat_with(PatConfig {
        name: "pat-jwt".into(),
        token: pat.clone(),
        permitted: true,
        expires_at: None,
    });
    let mut jwt = register(Kind::PayseraPos, &sim, "opaque");
    let tk = Tk::new();
    tk.add(&jwt);
    jwt.name = "jwt".into();
    jwt.secrets = vec![("token".into(), pat.clone())];
    tk.add(&jwt);

    let show = tk.run(&["show", "jwt", "--json"], "");
    let v = show.json();
    let expires = v["secretAges"][0]["expiresAt"].as_str().expect("an expiry");
    assert_eq!(chrono::DateTime::parse_from_rfc3339(expires).unwrap().timestamp(), exp);
    let opaque = tk.run(&["show", "opaque", "--json"], "").json();
    assert_eq!(
        opaque["secretAges"][0]["expiresAt"],
        Value::Null,
        "not a JWT: no expiry"
    );

    let list = tk.run(&["list"], "");
    let line = |name: &str| {
        list.stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no row {name}\n{}", list.both()))
            .to_string()
    };
    assert!(line("jwt").contains("static, valid 199 days"), "{}", list.both());
    assert!(
        line("opaque").contains("static ") && !line("opaque").contains("valid"),
        "{}",
        list.both()
    );
    let show = tk.run(&["show", "jwt"], "");
    assert!(show.stdout.contains("; expires "), "{}", show.both());
    // The PAT works, and neither it nor its claims are kept anywhere but the keyring.
    let (out, report) = tk.test_json("jwt");
    assert_passing(Kind::PayseraPos, &out, &report);
    let file = std::fs::read_to_string(tk.path().join("vault.json")).unwrap();
    assert!(!file.contains("pos-user-7") && !file.contains(&pat));
    assert!(!tk.transcript().contains(&pat));
}
