//! Leak scan: a whole workflow per kind (add, list, show, token, test, exec, a rejected
//! credential, a refused and an accepted rotation, revoke, remove), then every stdout
//! and stderr (save `tillkey token`'s stdout) and every file under the data dir is
//! searched for every secret value and every token the simulator issued. None may appear.

use crate::common::*;
use std::collections::BTreeSet;
use tillkey_sim::{PatConfig, SimConfig};

/// Pieces of provider response bodies that must never be echoed.
const BODY_MARKERS: [&str; 5] = [
    "\"access_token\":",
    "\"token_type\":",
    "itemsTotal",
    "Payment cards",
    "\"refresh_token\":",
];

fn workflow(kind: Kind) {
    let sim = start(kind.sim(), SimConfig::default());
    let cred = register(kind, &sim, "c");
    let tk = Tk::new();
    let mut secrets: Vec<String> = cred.secret_values();
    let mut refresh = BTreeSet::new();
    let mut keys = vec![cred.key.clone()];
    let collect = |refresh: &mut BTreeSet<String>, keys: &[String]| {
        for k in keys {
            refresh.extend(sim.refresh_tokens(k));
        }
    };

    tk.add(&cred);
    tk.run(&["list"], "").code(0);
    tk.run(&["list", "--json"], "").code(0);
    tk.run(&["show", "c"], "").code(0);
    tk.run(&["show", "c", "--json"], "").code(0);
    tk.token("c");
    tk.token("c");
    collect(&mut refresh, &keys);
    tk.run(&["test", "c"], "").code(0);
    tk.run(&["test", "c", "--json"], "").code(0);
    collect(&mut refresh, &keys);
    tk.run(&["exec", "c", "--", "sh", "-c", r#"test -n "$TILLKEY_TOKEN""#], "")
        .code(0);
    tk.run(
        &[
            "exec",
            "c",
            "--var",
            "POS_TOKEN",
            "--",
            "sh",
            "-c",
            r#"test -n "$POS_TOKEN""#,
        ],
        "",
    )
    .code(0);
    tk.run(&["list"], "").code(0);

    // A credential the provider rejects: errors must not echo what was sent.
    let mut bad = register(kind, &sim, "bad");
    bad.set_secret(kind.rotated_field(), "WRONG-secret-value-Zq81xv");
    keys.push(bad.key.clone());
    secrets.extend(bad.secret_values());
    tk.add(&bad);
    tk.run(&["test", "bad"], "").code(1);
    tk.run(&["test", "bad", "--json"], "").code(1);
    if !kind.is_static() {
        tk.run(&["token", "bad"], "").code(1);
        tk.run(&["exec", "bad", "--", "true"], "").code(1);
    }
    tk.run(&["test", "--all", "--json"], "").code(1);

    // Rotation: a wrong new secret is refused, the right one accepted.
    let field = kind.rotated_field();
    let wrong = "WRONG-rotation-value-Pl55kd";
    secrets.push(wrong.into());
    tk.run(&["rotate", "c"], &format!("{field}={wrong}\n")).code(1);
    let new = format!("NEW-{}-secret-Hy62mw90", kind.kind());
    match kind {
        Kind::PayseraPos => {
            sim.add_pat_with(PatConfig {
                name: "pat-new".into(),
                token: new.clone(),
                permitted: true,
                expires_at: None,
            });
            keys.push("pat-new".into());
        }
        Kind::Bearer => {
            sim.insert_token(&new, "bearer-new", None);
            keys.push("bearer-new".into());
        }
        Kind::Chimpy | Kind::ChimpyOffline => assert!(sim.set_user_password(cred.field("username").unwrap(), &new)),
        _ => assert!(sim.set_client_secret(&cred.key, &new)),
    }
    secrets.push(new.clone());
    tk.run(&["rotate", "c"], &format!("{field}={new}\n")).code(0);
    collect(&mut refresh, &keys);
    tk.token("c");
    tk.run(&["test", "c", "--json"], "").code(0);
    collect(&mut refresh, &keys);
    if let Some(r) = tk.keyring("c", "_refresh_token") {
        refresh.insert(r);
    }
    tk.run(&["revoke", "c"], "").code(0);
    tk.token("c");
    tk.run(&["exec", "c", "--", "sh", "-c", "exit 3"], "").code(3);
    tk.run(&["remove", "bad"], "").code(0);
    tk.run(&["list", "--json"], "").code(0);
    tk.run(&["show", "c", "--json"], "").code(0);
    tk.run(&["show", "c"], "").code(0);
    collect(&mut refresh, &keys);

    // Everything secret: secrets, every token issued, every refresh token seen, and the
    // payload and signature of every JWT.
    let mut needles: Vec<String> = secrets;
    for k in &keys {
        needles.extend(sim.issued_tokens(k));
    }
    if kind == Kind::ChimpyOffline {
        assert!(!refresh.is_empty(), "the workflow saw no refresh token");
    }
    needles.extend(refresh);
    let jwt_parts: Vec<String> = needles
        .iter()
        .filter(|n| n.split('.').count() == 3)
        .flat_map(|n| n.split('.').skip(1).map(str::to_string).collect::<Vec<_>>())
        .filter(|p| p.len() >= 16)
        .collect();
    needles.extend(jwt_parts);
    assert!(needles.len() >= 4, "too little to look for: {needles:?}");

    let printed = tk.transcript();
    let files = tk.files_text();
    assert!(
        printed.contains("Rotated c") && files.contains("\"name\": \"c\""),
        "the workflow did not run as expected"
    );
    for n in &needles {
        assert!(
            !printed.contains(n.as_str()),
            "{kind:?}: output leaks {n:?}:\n{printed}"
        );
        assert!(!files.contains(n.as_str()), "{kind:?}: data dir leaks {n:?}:\n{files}");
    }
    for m in BODY_MARKERS {
        assert!(
            !printed.contains(m),
            "{kind:?}: output shows a response body ({m}):\n{printed}"
        );
        assert!(!files.contains(m), "{kind:?}: data dir holds a response body ({m})");
    }
}

macro_rules! leak_tests {
    ($($name:ident => $kind:expr),* $(,)?) => {$(
        #[test]
        fn $name() {
            workflow($kind)
        }
    )*};
}

leak_tests! {
    paysera_pos => Kind::PayseraPos,
    paysera_checkout => Kind::PayseraCheckout,
    mypos => Kind::Mypos,
    ereceipt => Kind::Ereceipt,
    chimpy => Kind::Chimpy,
    chimpy_offline_access => Kind::ChimpyOffline,
    oauth2_post => Kind::Oauth2Post,
    oauth2_basic => Kind::Oauth2Basic,
    bearer => Kind::Bearer,
}
