//! Acceptance: `tillkey test --all --json` over one credential of each kind, pointed at
//! the simulators through `token_url` / `test_url`, reports every one ok; after one
//! secret is changed to a wrong value at the provider it reports that credential's exact
//! provider error code and hint, and exits non-zero.

use crate::common::*;
use serde_json::Value;
use tillkey_sim::demo::*;
use tillkey_sim::{demo_blocking, Demo, ProviderSim, SimConfig};

fn add_demo(tk: &Tk, c: &DemoCredential) {
    let mut args = vec![
        "add".to_string(),
        c.name.clone(),
        "--provider".into(),
        c.kind.clone(),
        "--env".into(),
        c.env.clone(),
    ];
    for (k, v) in &c.fields {
        args.push("--set".into());
        args.push(format!("{k}={v}"));
    }
    let stdin: String = c.secrets.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    tk.run(&a, &stdin).code(0);
}

fn sim(demo: &Demo, p: ProviderSim) -> &tillkey_sim::Simulator {
    demo.simulator(p).unwrap()
}

fn reports(out: &Out) -> Vec<Value> {
    out.json().as_array().expect("an array of reports").clone()
}

/// One way to break a credential at its provider, and what the report must say.
struct Breakage {
    kind: &'static str,
    brk: fn(&Demo),
    fix: fn(&Demo),
    stage: &'static str,
    code: &'static str,
    status: u16,
    hint: &'static str,
}

#[test]
fn test_all_passes_for_every_kind_then_names_the_broken_credential() {
    let demo = demo_blocking(SimConfig::default()).expect("start the simulators");
    let tk = Tk::new();
    for c in &demo.credentials {
        add_demo(&tk, c);
    }
    let kinds = [
        "paysera-pos",
        "paysera-checkout",
        "mypos",
        "ereceipt",
        "chimpy",
        "oauth2",
        "bearer",
    ];

    let out = tk.run(&["test", "--all", "--json"], "");
    out.code(0);
    let all = reports(&out);
    assert_eq!(
        all.iter().map(|r| r["provider"].as_str().unwrap()).collect::<Vec<_>>(),
        kinds
    );
    for r in &all {
        assert_eq!(r["ok"], true, "{r:#}");
        assert!(r["stages"].as_array().unwrap().iter().all(|s| s["ok"] == true), "{r:#}");
        let expected: &[&str] = if ["paysera-pos", "bearer"].contains(&r["provider"].as_str().unwrap()) {
            &["connect", "api"]
        } else {
            &["connect", "token", "api"]
        };
        assert_eq!(stage_names(r), expected, "{r:#}");
    }
    let human = tk.run(&["test", "--all"], "");
    human.code(0);
    assert!(human.stdout.contains("7 passed, 0 failed"), "{}", human.both());

    let cases = [
        Breakage {
            kind: "paysera-pos",
            brk: |d| assert!(sim(d, ProviderSim::PayseraPos).revoke_token(PAYSERA_POS_TOKEN)),
            fix: |d| sim(d, ProviderSim::PayseraPos).add_pat(PAYSERA_POS_TOKEN, true),
            stage: "api",
            code: "AUTH002",
            status: 401,
            hint: "/user/settings",
        },
        Breakage {
            kind: "paysera-checkout",
            brk: |d| {
                assert!(sim(d, ProviderSim::PayseraCheckout).set_client_secret(PAYSERA_CHECKOUT_CLIENT_ID, "wrong"))
            },
            fix: |d| {
                assert!(sim(d, ProviderSim::PayseraCheckout)
                    .set_client_secret(PAYSERA_CHECKOUT_CLIENT_ID, PAYSERA_CHECKOUT_CLIENT_SECRET))
            },
            stage: "token",
            code: "invalid_client",
            status: 401,
            hint: "Paysera project",
        },
        Breakage {
            kind: "mypos",
            brk: |d| assert!(sim(d, ProviderSim::Mypos).set_client_secret(MYPOS_CLIENT_ID, "wrong")),
            fix: |d| assert!(sim(d, ProviderSim::Mypos).set_client_secret(MYPOS_CLIENT_ID, MYPOS_CLIENT_SECRET)),
            stage: "token",
            code: "invalid_client",
            status: 401,
            hint: "myPOS Account",
        },
        Breakage {
            kind: "ereceipt",
            brk: |d| assert!(sim(d, ProviderSim::Ereceipt).set_client_secret(ERECEIPT_CLIENT_ID, "wrong")),
            fix: |d| {
                assert!(sim(d, ProviderSim::Ereceipt).set_client_secret(ERECEIPT_CLIENT_ID, ERECEIPT_CLIENT_SECRET))
            },
            stage: "token",
            code: "invalid_clientsecret",
            status: 400,
            hint: "client secret is wrong",
        },
        Breakage {
            kind: "chimpy",
            brk: |d| assert!(sim(d, ProviderSim::Chimpy).set_user_password(CHIMPY_USERNAME, "wrong")),
            fix: |d| assert!(sim(d, ProviderSim::Chimpy).set_user_password(CHIMPY_USERNAME, CHIMPY_PASSWORD)),
            stage: "token",
            code: "invalid_grant",
            status: 400,
            hint: "user name or password",
        },
        Breakage {
            kind: "oauth2",
            brk: |d| assert!(sim(d, ProviderSim::Oauth2).set_client_secret(OAUTH2_CLIENT_ID, "wrong")),
            fix: |d| assert!(sim(d, ProviderSim::Oauth2).set_client_secret(OAUTH2_CLIENT_ID, OAUTH2_CLIENT_SECRET)),
            stage: "token",
            code: "invalid_client",
            status: 401,
            hint: "client ID or client secret",
        },
        Breakage {
            kind: "bearer",
            brk: |d| assert!(sim(d, ProviderSim::Oauth2).revoke_token(BEARER_TOKEN)),
            fix: |d| sim(d, ProviderSim::Oauth2).insert_token(BEARER_TOKEN, BEARER_CLIENT_ID, None),
            stage: "api",
            code: "invalid_token",
            status: 401,
            hint: "cannot be refreshed",
        },
    ];
    for case in &cases {
        (case.brk)(&demo);
        let out = tk.run(&["test", "--all", "--json"], "");
        out.code(1);
        let all = reports(&out);
        assert_eq!(all.len(), 7);
        for r in &all {
            if r["provider"] != case.kind {
                assert_eq!(r["ok"], true, "{} broke {}: {r:#}", case.kind, r["provider"]);
                continue;
            }
            assert_eq!(r["ok"], false, "{r:#}");
            let s = failing_stage(r);
            assert_eq!(s["stage"], case.stage, "{r:#}");
            assert_eq!(s["code"], case.code, "{r:#}");
            assert_eq!(s["status"], case.status, "{r:#}");
            let hint = s["hint"].as_str().unwrap();
            assert!(hint.contains(case.hint), "{}: {hint}", case.kind);
        }
        if case.kind == "mypos" {
            let human = tk.run(&["test", "--all"], "");
            human.code(1);
            assert!(human.stdout.contains("6 passed, 1 failed"), "{}", human.both());
            assert!(human.stdout.contains(&format!("[{}]", case.code)), "{}", human.both());
        }
        (case.fix)(&demo);
    }
    tk.run(&["test", "--all", "--json"], "").code(0);
}
