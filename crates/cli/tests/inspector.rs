//! The request inspector (`test --trace`, `token --trace`) with the real `tillkey` binary,
//! the real OS keyring and real HTTP: the eReceipt POS headers and the Chimpy JSON body
//! shown with their secrets masked, a server Tillkey has no client for answering with
//! secrets under names nobody told it about, and a canary scan of everything shown and of
//! the trace files. Run under `scripts/with-keyring.sh`.

#[path = "providers/common.rs"]
mod common;

use common::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use tillkey_sim::SimConfig;

/// The trace files of the data dir (`inspect/local/<id>.{token,test}.json`).
fn trace_files(tk: &Tk) -> Vec<PathBuf> {
    let dir = tk.path().join("inspect").join("local");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// Asserts that none of `canaries` appears in `shown` (naming where).
#[track_caller]
fn no_canary(what: &str, shown: &str, canaries: &[String]) {
    for c in canaries {
        assert!(!c.is_empty());
        assert!(!shown.contains(c.as_str()), "{what} shows the secret {c:?}:\n{shown}");
    }
}

/// The canary scan: every output so far, and every file of the data dir.
#[track_caller]
fn scan(tk: &Tk, canaries: &[String]) {
    no_canary("the CLI output", &tk.transcript(), canaries);
    no_canary("the data dir", &tk.files_text(), canaries);
}

#[test]
fn ereceipt_pos_headers_are_shown_with_the_secrets_masked() {
    let s = Setup::new(Kind::Ereceipt, SimConfig::default());
    let out = s.tk.run(&["test", "c", "--trace"], "");
    out.code(0);
    let text = &out.stdout;
    // The report first, then the exchange as sent and received.
    assert!(text.contains("Request details of the last test of c"), "{}", out.both());
    for line in [
        "#1 token request (grant_type=client_credentials)",
        &format!("> POST {}/connect/token", s.cred.field("identity_url").unwrap()),
        &format!("> posserial: {POSSERIAL}"),
        &format!("> pososversion: {POSOSVERSION}"),
        &format!("> posmodelframework: {POSMODELFRAMEWORK}"),
        "> presharedkey: ••••",
        "> content-type: application/x-www-form-urlencoded",
        "client_secret=••••",
        &format!("client_id={}", s.cred.field("client_id").unwrap()),
        "< HTTP 200 (headers ",
        "\"access_token\": \"••••\"",
        "\"token_type\": \"Bearer\"",
        "#2 API call",
        "> authorization: Bearer ••••",
        // A successful API answer is business data: only its size is kept.
        "(not kept: a successful API answer holds your business data",
        "stage connect",
    ] {
        assert!(text.contains(line), "missing {line:?}\n{}", out.both());
    }
    // Timings per stage and per exchange.
    assert!(text.contains("TCP"), "{text}");
    // The trace file: one for the test, 0600, and (as everything shown) no secret.
    let files = trace_files(&s.tk);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].to_string_lossy().ends_with(".test.json"), "{files:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // --json: the report gains a `trace` field, the rest of the report unchanged.
    let out = s.tk.run(&["test", "c", "--trace", "--json"], "");
    out.code(0);
    let report = out.json();
    assert_eq!(report["ok"], true);
    assert_eq!(report["credential"], "c");
    let x = &report["trace"]["exchanges"];
    assert_eq!(x[0]["method"], "POST");
    assert_eq!(x[0]["status"], 200);
    let headers = x[0]["requestHeaders"].as_array().unwrap();
    assert!(
        headers.contains(&json!({"name": "presharedkey", "value": "••••"})),
        "{x:#}"
    );
    assert!(
        headers.contains(&json!({"name": "posserial", "value": POSSERIAL})),
        "{x:#}"
    );
    assert!(x[0]["totalMs"].is_u64() && x[0]["headersMs"].is_u64(), "{x:#}");
    // `token --trace`: a cached token sends nothing and says so; a fresh one shows its
    // request on stderr, the token alone on stdout.
    let out = s.tk.run(&["token", "c", "--trace"], "");
    out.code(0);
    assert!(out.stderr.contains("No token request was sent"), "{}", out.both());
    s.tk.run(&["revoke", "c"], "").code(0);
    let before = s.token_requests();
    let out = s.tk.run(&["token", "c", "--trace"], "");
    out.code(0);
    assert_eq!(s.token_requests(), before + 1);
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.both());
    assert!(
        out.stderr.contains("last token request of c") && out.stderr.contains("> presharedkey: ••••"),
        "{}",
        out.both()
    );
    let token = out.stdout.trim().to_string();
    no_canary("token --trace's stderr", &out.stderr, std::slice::from_ref(&token));
    assert_eq!(trace_files(&s.tk).len(), 2);
    let mut canaries = s.cred.secret_values();
    canaries.push(token);
    scan(&s.tk, &canaries);
}

#[test]
fn chimpy_json_body_is_shown_with_the_password_masked() {
    let s = Setup::new(Kind::ChimpyOffline, SimConfig::default());
    let out = s.tk.run(&["test", "c", "--trace"], "");
    out.code(0);
    let text = &out.stdout;
    for line in [
        "#1 token request (grant_type=password)",
        "> content-type: application/json",
        "\"password\": \"••••\"",
        &format!("\"username\": \"{}\"", s.cred.field("username").unwrap()),
        &format!("\"audience\": \"{AUDIENCE}\""),
        "\"access_token\": \"••••\"",
        "\"refresh_token\": \"••••\"",
        "> authorization: Bearer ••••",
    ] {
        assert!(text.contains(line), "missing {line:?}\n{}", out.both());
    }
    let token = s.tk.token("c");
    let mut canaries = s.cred.secret_values();
    canaries.push(token);
    canaries.push(
        s.tk.keyring("c", "_refresh_token")
            .expect("a refresh token in the keyring"),
    );
    scan(&s.tk, &canaries);
}

#[test]
fn a_server_without_a_client_of_its_own_is_masked_by_name() {
    // A token endpoint and an API Tillkey has no client for, answering with secrets under
    // names no provider uses, in a cookie, a key header, a nested object, a JWT under an
    // innocent name, and the issued token echoed under an innocent name.
    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlLWNhbmFyeQ";
    let server = FakeServer::start(|_, req| {
        if req.path.starts_with("/oauth/token") {
            let body = json!({
                "access_token": "CANARY-access-31d0c6a9",
                "token_type": "bearer",
                "expires_in": 3600,
                "refresh_token": "CANARY-refresh-7f1e",
                "ID_Token": JWT,
                "debug": {"Client_Secret_Echo": "CANARY-echo-5b2c", "list": [{"sessionToken": "CANARY-session-88"}]},
                "note": JWT,
            });
            (
                200,
                vec![
                    ("Set-Cookie".into(), "sid=CANARY-cookie-4411; Path=/; HttpOnly".into()),
                    ("X-Api-Key".into(), "CANARY-apikey-90aa".into()),
                ],
                body.to_string(),
            )
        } else {
            // An error answer (kept, unlike a successful one) echoing the token.
            let body = json!({"error": "forbidden", "seen": "CANARY-access-31d0c6a9", "x": "plain"});
            (403, vec![("x-request-id".into(), "req-1".into())], body.to_string())
        }
    });
    let tk = Tk::new();
    let secret = "CANARY-client-secret-e4d1";
    tk.run(
        &[
            "add",
            "foreign",
            "--provider",
            "oauth2",
            "--set",
            "client_id=shop-1",
            "--set",
            &format!("token_url={}", server.url("/oauth/token")),
            "--set",
            &format!(
                "test_url={}",
                server.url("/api/me?access_token=CANARY-query-12ab&page=2")
            ),
        ],
        &format!("client_secret={secret}\n"),
    )
    .code(0);
    let out = tk.run(&["test", "foreign", "--trace"], "");
    out.code(1);
    let text = &out.stdout;
    for line in [
        "< set-cookie: ••••",
        "< x-api-key: ••••",
        "< x-request-id: req-1",
        "\"ID_Token\": \"••••\"",
        "\"Client_Secret_Echo\": \"••••\"",
        "\"sessionToken\": \"••••\"",
        "\"note\": \"••••\"",
        "\"seen\": \"[redacted]\"",
        "\"x\": \"plain\"",
        "access_token=••••&page=2",
        "client_secret=••••",
    ] {
        assert!(text.contains(line), "missing {line:?}\n{}", out.both());
    }
    let canaries: Vec<String> = [
        secret,
        "CANARY-access-31d0c6a9",
        "CANARY-refresh-7f1e",
        "CANARY-echo-5b2c",
        "CANARY-session-88",
        "CANARY-cookie-4411",
        "CANARY-apikey-90aa",
        "eyJhbGciOiJIUzI1NiJ9",
        "c2lnbmF0dXJlLWNhbmFyeQ",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    scan(&tk, &canaries);
    // The query's token was typed into test_url (a field the vault stores as given): the
    // output and the trace files mask it.
    let query = ["CANARY-query-12ab".to_string()];
    no_canary("the CLI output", &tk.transcript(), &query);
    for f in trace_files(&tk) {
        no_canary("a trace file", &std::fs::read_to_string(&f).unwrap(), &query);
    }
    // The server did receive the secrets: the masking is the inspector's, not a request
    // that never carried them.
    let sent = server.requests();
    assert!(sent[0].body.contains(&format!("client_secret={secret}")), "{sent:?}");
}

#[test]
fn a_tampered_trace_file_is_ignored_and_a_removed_credentials_file_goes() {
    let s = Setup::new(Kind::Ereceipt, SimConfig::default());
    s.tk.run(&["test", "c"], "").code(0);
    let file = trace_files(&s.tk).pop().expect("a trace file");
    // Another credential's trace planted under this one's id: refused, not shown.
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    doc["credentialId"] = json!("someone-else");
    doc["trace"]["outcome"] = json!("PLANTED\u{1b}[2J");
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let out = s.tk.run(&["test", "c", "--trace", "--json"], "");
    out.code(0);
    assert_ne!(out.json()["trace"], Value::Null, "the new test replaced the file");
    assert!(!out.stdout.contains("PLANTED"), "{}", out.both());
    // The same as this credential's last token request (kind token, a future date): the
    // cached token sends nothing, and the planted file is not shown.
    doc["trace"]["kind"] = json!("token");
    doc["trace"]["recordedAt"] = json!("2999-01-01T00:00:00Z");
    let token_file = PathBuf::from(file.to_string_lossy().replace(".test.json", ".token.json"));
    std::fs::write(&token_file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let out = s.tk.run(&["token", "c", "--trace"], "");
    out.code(0);
    assert!(!out.stderr.contains("PLANTED"), "{}", out.both());
    assert!(out.stderr.contains("No token request was sent"), "{}", out.both());
    // A credential that is gone: its trace file goes at the next `test --all`.
    s.tk.run(&["remove", "c"], "").code(0);
    s.tk.run(&["test", "--all"], "");
    assert!(trace_files(&s.tk).is_empty(), "{:?}", trace_files(&s.tk));
}
