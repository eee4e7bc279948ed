//! `tillkey import` and `tillkey export` with the real keyring (run under
//! `scripts/with-keyring.sh`) and the provider simulators.
//!
//! The fixtures under `tests/fixtures/import/` were written by hand from each tool's
//! documented format (a dotenv file, a Postman environment and a v2.1 collection, a Bruno
//! collection's environment with its `.env`, an Insomnia v4 export), not by Tillkey. Their
//! `@KIND_WHAT@` placeholders are filled in here with the simulators' addresses; the secret
//! values are the simulators' demo credentials.

#[path = "providers/common.rs"]
mod common;

use common::{Out, Tk};
use serde_json::Value;
use std::path::{Path, PathBuf};
use tillkey_sim::demo::*;
use tillkey_sim::{demo_blocking, Demo, SimConfig};

/// Every demo secret value: none may appear in output, the data dir or a backup.
const SECRETS: [&str; 8] = [
    PAYSERA_POS_TOKEN,
    PAYSERA_CHECKOUT_CLIENT_SECRET,
    MYPOS_CLIENT_SECRET,
    ERECEIPT_CLIENT_SECRET,
    ERECEIPT_PRESHAREDKEY,
    CHIMPY_PASSWORD,
    OAUTH2_CLIENT_SECRET,
    BEARER_TOKEN,
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import")
}

/// The fixtures copied into `to`, each `@KIND_WHAT@` replaced with the simulator's
/// address (`BASE`, `HOST`, `TOKEN_URL`, `TEST_URL`, `API_BASE`).
fn fill_fixtures(demo: &Demo, to: &Path) {
    let mut subst: Vec<(String, String)> = Vec::new();
    for s in &demo.simulators {
        let k = s.provider().kind().to_uppercase().replace('-', "_");
        subst.push((format!("@{k}_BASE@"), s.base_url()));
        subst.push((format!("@{k}_HOST@"), s.host()));
        subst.push((format!("@{k}_TEST_URL@"), s.test_url()));
        if let Some(u) = s.token_url() {
            subst.push((format!("@{k}_TOKEN_URL@"), u));
        }
        if let Some(u) = s.api_base() {
            subst.push((format!("@{k}_API_BASE@"), u));
        }
    }
    copy_filled(&fixtures(), to, &subst);
}

fn copy_filled(from: &Path, to: &Path, subst: &[(String, String)]) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read fixtures") {
        let p = e.expect("entry").path();
        let dest = to.join(p.file_name().expect("name"));
        if p.is_dir() {
            copy_filled(&p, &dest, subst);
        } else {
            let mut text = std::fs::read_to_string(&p).expect("fixture is text");
            for (k, v) in subst {
                text = text.replace(k, v);
            }
            assert!(
                !text.contains("@OAUTH2_") && !text.contains("_URL@"),
                "unfilled placeholder in {p:?}"
            );
            std::fs::write(&dest, text).expect("write fixture");
        }
    }
}

/// `tillkey import ARGS --json`: the report, after checking the exit code.
#[track_caller]
fn import_json(tk: &Tk, args: &[&str], code: i32) -> Value {
    let mut a = vec!["import"];
    a.extend_from_slice(args);
    a.push("--json");
    let out = tk.run(&a, "");
    out.code(code);
    out.json()
}

fn names(report: &Value, key: &str) -> Vec<String> {
    let mut n: Vec<String> = report[key]
        .as_array()
        .expect("an array")
        .iter()
        .map(|c| c["name"].as_str().expect("name").to_string())
        .collect();
    n.sort();
    n
}

fn list_names(tk: &Tk) -> Vec<String> {
    let out = tk.run(&["list", "--json"], "");
    out.code(0);
    let mut n: Vec<String> = out
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|c| c["name"].as_str().expect("name").to_string())
        .collect();
    n.sort();
    n
}

/// The 1-based lines of `file` that contain `needle`.
fn lines_with(file: &Path, needle: &str) -> Vec<u64> {
    std::fs::read_to_string(file)
        .expect("read")
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i as u64 + 1)
        .collect()
}

#[track_caller]
fn assert_all_pass(tk: &Tk, expected: &[&str]) {
    let out = tk.run(&["test", "--all", "--json"], "");
    let reports = out.json();
    let reports = reports.as_array().expect("reports");
    let mut tested: Vec<&str> = reports
        .iter()
        .map(|r| r["credential"].as_str().expect("name"))
        .collect();
    tested.sort();
    let mut want = expected.to_vec();
    want.sort();
    assert_eq!(tested, want, "{}", out.both());
    for r in reports {
        assert_eq!(r["ok"], true, "{} failed its test: {}", r["credential"], r);
    }
    out.code(0);
}

#[track_caller]
fn assert_no_secret(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "a secret value appears in {what}");
    }
}

#[test]
fn every_format_imports_and_its_credentials_pass_their_tests() {
    let demo = demo_blocking(SimConfig::default()).expect("start the simulators");
    let files = tempfile::tempdir().expect("dir");
    fill_fixtures(&demo, files.path());
    let f = |name: &str| files.path().join(name).display().to_string();
    let tk = Tk::new();

    // .env: known names, an own name mapped with --map, one variable left alone.
    let env = f("shop.env");
    let r = import_json(&tk, &[&env, "--map", "TILL_PSK=ereceipt.presharedkey"], 0);
    assert_eq!(names(&r, "imported"), ["ereceipt", "mypos", "paysera-pos"]);
    assert_eq!(r["format"], "dotenv");
    assert!(r["skipped"].as_array().expect("skipped").is_empty());
    assert_eq!(r["ignored"][0]["name"], "SHOP_NAME", "{r}");
    // The report names each line that holds a secret, and only those.
    let mut secret_lines: Vec<u64> = r["secretLocations"]
        .as_array()
        .expect("locations")
        .iter()
        .map(|l| l["line"].as_u64().expect("a line"))
        .collect();
    secret_lines.sort();
    let mut want: Vec<u64> = [
        PAYSERA_POS_TOKEN,
        MYPOS_CLIENT_SECRET,
        ERECEIPT_CLIENT_SECRET,
        ERECEIPT_PRESHAREDKEY,
    ]
    .iter()
    .flat_map(|s| lines_with(Path::new(&env), s))
    .collect();
    want.sort();
    assert_eq!(secret_lines, want);
    assert_eq!(
        tk.keyring("mypos", "client_secret").as_deref(),
        Some(MYPOS_CLIENT_SECRET)
    );
    assert_eq!(
        tk.keyring("ereceipt", "presharedkey").as_deref(),
        Some(ERECEIPT_PRESHAREDKEY)
    );
    assert_eq!(tk.record_of("paysera-pos")["environment"], "sandbox");

    // Postman environment, its secret variable mapped by a mapping file; a disabled and
    // an empty variable are left alone.
    let r = import_json(
        &tk,
        &[
            &f("shop-sandbox.postman_environment.json"),
            "--mapping",
            &f("postman.map"),
        ],
        0,
    );
    assert_eq!(names(&r, "imported"), ["shop-sandbox-paysera-checkout"]);
    let ignored = names(&r, "ignored");
    assert_eq!(ignored, ["accessToken", "oldSecret"]);

    // Postman collection: the collection's OAuth 2.0 auth, {{tokenUrl}} filled in from its
    // variables; the api key auth is left alone.
    let r = import_json(&tk, &[&f("tills.postman_collection.json")], 0);
    assert_eq!(names(&r, "imported"), ["tills-api-oauth2"]);
    assert_eq!(
        tk.record_of("tills-api-oauth2")["fields"]["auth_method"],
        "basic",
        "client_authentication header is Basic"
    );

    // Bruno: the environment's secrets come from the collection's .env.
    let bru = files.path().join("bruno/Tills/environments/Sandbox.bru");
    let out = tk.run(&["import", &bru.display().to_string()], "");
    out.code(0);
    assert!(out.stdout.contains("Imported 1 credential"), "{}", out.both());
    assert!(
        out.stdout.contains("portalPassword"),
        "the app-only secret is reported: {}",
        out.both()
    );
    let dotenv = files.path().join("bruno/Tills/.env");
    for line in lines_with(&dotenv, "demo-ereceipt") {
        assert!(
            out.stdout.contains(&format!("{} line {line} ", dotenv.display())),
            "the .env line {line} is named: {}",
            out.both()
        );
    }
    assert_eq!(
        tk.keyring("sandbox-ereceipt", "presharedkey").as_deref(),
        Some(ERECEIPT_PRESHAREDKEY)
    );

    // Insomnia: an environment's variables, a request's OAuth 2.0 and bearer auth (the
    // GET request's URL is the test URL).
    let r = import_json(&tk, &[&f("insomnia-export.json")], 0);
    assert_eq!(
        names(&r, "imported"),
        [
            "list-orders-oauth2",
            "ping-with-a-static-token-bearer",
            "production-chimpy"
        ]
    );

    let all = [
        "ereceipt",
        "mypos",
        "paysera-pos",
        "shop-sandbox-paysera-checkout",
        "tills-api-oauth2",
        "sandbox-ereceipt",
        "list-orders-oauth2",
        "ping-with-a-static-token-bearer",
        "production-chimpy",
    ];
    assert_all_pass(&tk, &all);

    // Again: every name exists, so every credential is skipped (exit 1), none changed.
    let r = import_json(&tk, &[&env, "--map", "TILL_PSK=ereceipt.presharedkey"], 1);
    assert!(r["imported"].as_array().expect("imported").is_empty());
    assert_eq!(names(&r, "skipped"), ["ereceipt", "mypos", "paysera-pos"]);
    assert!(r["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .all(|s| s["code"] == "already_exists"));
    assert_eq!(list_names(&tk).len(), all.len());

    assert_no_secret("the CLI's output", &tk.transcript());
    assert_no_secret("the data dir", &tk.files_text());
}

#[test]
fn dry_runs_bad_files_and_partial_imports() {
    let tk = Tk::new();
    let dir = tempfile::tempdir().expect("dir");
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.display().to_string()
    };

    // A dry run checks and reports, and changes nothing.
    let good = write(
        "good.env",
        "PAYSERA_POS_TOKEN=canary-dry-run-token\nPAYSERA_POS_ENV=sandbox\n",
    );
    let out = tk.run(&["import", &good, "--dry-run"], "");
    out.code(0);
    assert!(out.stdout.contains("Dry run: nothing was changed."), "{}", out.both());
    assert!(out.stdout.contains("good.env line 1"), "{}", out.both());
    assert!(list_names(&tk).is_empty());

    // Unreadable files: exit 2, the line or field named, nothing imported.
    let bad = write("bad.env", "PAYSERA_POS_TOKEN=x\nthis line is canary-secret-text\n");
    let out = tk.run(&["import", &bad], "");
    out.code(2);
    assert!(out.stderr.contains("bad.env, line 2"), "{}", out.both());
    assert!(!out.stderr.contains("canary-secret-text"), "the line is never echoed");
    let json = write("broken.json", "{\"values\": [ {\"key\": \"A\", \"value\": 1}, ]");
    let out = tk.run(&["import", &json], "");
    out.code(2);
    assert!(
        out.stderr.contains("error[import_invalid]") && out.stderr.contains("line 1"),
        "{}",
        out.both()
    );
    let missing = dir.path().join("missing.env").display().to_string();
    tk.run(&["import", &missing], "").code(2);
    let big = write("big.env", &"A=1\n".repeat(300_000));
    let out = tk.run(&["import", &big], "");
    out.code(2);
    assert!(out.stderr.contains("error[import_too_large]"), "{}", out.both());
    let out = tk.run(&["import", &good, "--map", "X=nope.field"], "");
    out.code(2);
    assert!(out.stderr.contains("error[invalid_mapping]"), "{}", out.both());
    assert!(list_names(&tk).is_empty());

    // Some valid, some not: the valid one is imported, the other skipped with its reason
    // (exit 1).
    let partial = write(
        "partial.env",
        "PAYSERA_POS_TOKEN=canary-partial-token\nMYPOS_CLIENT_SECRET=canary-partial-secret\nMYPOS_ENV=sandbox\n",
    );
    let r = import_json(&tk, &[&partial], 1);
    assert_eq!(names(&r, "imported"), ["paysera-pos"]);
    assert_eq!(r["skipped"][0]["name"], "mypos");
    assert_eq!(r["skipped"][0]["code"], "missing_field", "{r}");
    assert!(r["skipped"][0]["reason"]
        .as_str()
        .expect("reason")
        .contains("client_id"));
    assert_eq!(list_names(&tk), ["paysera-pos"]);
    assert_eq!(
        tk.keyring("paysera-pos", "token").as_deref(),
        Some("canary-partial-token")
    );

    // A file with nothing Tillkey knows: nothing imported, exit 1.
    let none = write("none.env", "HELLO=world\n");
    tk.run(&["import", &none], "").code(1);

    let t = tk.transcript();
    assert!(!t.contains("canary-"), "no value in any output");
}

#[test]
fn export_then_import_restores_the_vault() {
    let demo = demo_blocking(SimConfig::default()).expect("start the simulators");
    let files = tempfile::tempdir().expect("dir");
    fill_fixtures(&demo, files.path());
    let tk = Tk::new();
    let env = files.path().join("shop.env").display().to_string();
    import_json(&tk, &[&env, "--map", "TILL_PSK=ereceipt.presharedkey"], 0);
    tk.run(&["period", "mypos", "30"], "").code(0);
    let before = list_names(&tk);
    assert_eq!(before, ["ereceipt", "mypos", "paysera-pos"]);

    let backup = files.path().join("vault.age");
    let b = backup.display().to_string();
    let pass = "correct horse battery staple\n";
    // A short passphrase is refused, and nothing is written.
    tk.run(&["export", &b], "short\n").code(2);
    assert!(!backup.exists());
    let out = tk.run(&["export", &b], pass);
    out.code(0);
    assert!(out.stdout.contains("3 credentials (4 secrets)"), "{}", out.both());
    let bytes = std::fs::read(&backup).expect("backup");
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
    assert_no_secret("the backup file", &String::from_utf8_lossy(&bytes));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // An existing file is not replaced without --force.
    let out = tk.run(&["export", &b], pass);
    out.code(2);
    assert_eq!(std::fs::read(&backup).expect("backup"), bytes, "left as it was");
    tk.run(&["export", &b, "--force"], pass).code(0);

    for n in &before {
        tk.run(&["remove", n], "").code(0);
    }
    assert!(list_names(&tk).is_empty());

    // A wrong passphrase: exit 1, a clear error, nothing imported.
    let out = tk.run(&["import", &b], "wrong passphrase\n");
    out.code(1);
    assert!(out.stderr.contains("error[wrong_passphrase]"), "{}", out.both());
    assert!(list_names(&tk).is_empty());

    let r = import_json_stdin(&tk, &b, pass);
    assert_eq!(r["format"], "backup");
    assert_eq!(names(&r, "imported"), before);
    assert_eq!(list_names(&tk), before);
    assert_eq!(tk.record_of("mypos")["rotation_period_days"], 30, "the period is kept");
    assert_eq!(
        tk.keyring("mypos", "client_secret").as_deref(),
        Some(MYPOS_CLIENT_SECRET)
    );
    assert_all_pass(&tk, &["ereceipt", "mypos", "paysera-pos"]);

    // Restoring again skips every name.
    let out = tk.run(&["import", &b], pass);
    out.code(1);
    assert!(out.stdout.contains("Skipped 3 credentials"), "{}", out.both());

    assert_no_secret("the CLI's output", &tk.transcript());
    assert_no_secret("the data dir", &tk.files_text());
}

fn import_json_stdin(tk: &Tk, file: &str, stdin: &str) -> Value {
    let out: Out = tk.run(&["import", file, "--json"], stdin);
    out.code(0);
    out.json()
}
