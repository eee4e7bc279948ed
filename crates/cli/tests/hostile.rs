//! The real `tillkey` binary against hostile input (issue 10): token endpoints that echo
//! the secret, lie about lengths, send absurd numbers, control characters, redirects and
//! garbage; careless stdin and `--set` values; proxy variables; a keyring entry deleted
//! behind Tillkey's back; hostile numbers in the metadata file.
//!
//! The servers are NOT the provider simulators (which agree with the client by design):
//! `support/hostile_server.rs` is a raw `TcpListener` that writes canned bytes.
//!
//! Every run of the binary is checked for a panic (exit 101 or "panicked" on stderr), and
//! at the end of each case every output and every file under the data dir is searched for
//! the canary secret: raw, its alphanumeric core, form-urlencoded, JSON-escaped, and the
//! base64 of `client_id:secret` (plain and RFC 6749 §2.3.1 form-encoded). Assertion
//! messages show output with every such form replaced by `<CANARY>`.
//!
//! Run under `scripts/with-keyring.sh` (a D-Bus session with an unlocked gnome-keyring);
//! every test has its own data dir, hence its own vault id and keyring entries. No case
//! waits on a timeout: the slowest waits are a 0.3 s sleep (broken pipe) and the
//! server's 2 s drain after a client that stops reading a huge body.

#[path = "support/hostile_server.rs"]
mod hostile_server;

use base64::Engine as _;
use hostile_server::{ok_json, response, token_ok, HostileServer};
use serde_json::Value;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

/// The client secret of every OAuth2 credential: a distinctive alphanumeric core plus
/// characters that form-encoding and JSON-escaping change.
const SECRET: &str = "CANARYsecret0123456789abcdef+/&\"";
/// Its distinctive core: no output may hold even this part.
const CORE: &str = "CANARYsecret0123456789abcdef";
const CLIENT_ID: &str = "hostile-client";
/// The access token the fake servers issue (not a secret of the credential).
const ACCESS: &str = "hostile-access-token-7f3a";
/// Per-run limit: nothing here should take long; a hang shows as exit -1 (killed).
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
/// Variables that would route requests through a proxy; removed from every run unless a
/// case sets them.
const PROXY_VARS: [&str; 9] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "REQUEST_METHOD",
];

// ---------------------------------------------------------------------------------------
// Encodings of a secret, leak scan, redaction.

/// `application/x-www-form-urlencoded` of `s` (as `form_urlencoded::byte_serialize`).
fn form(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `s` as it appears inside a JSON string literal (serde_json's escaping).
fn json_inner(s: &str) -> String {
    let q = serde_json::to_string(s).unwrap();
    q[1..q.len() - 1].to_string()
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn b64url(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

/// Every form of `secret` that must never appear, with a label.
fn leak_forms(secret: &str, client_id: &str) -> Vec<(&'static str, String)> {
    let mut forms = vec![
        ("raw", secret.to_string()),
        ("form-urlencoded", form(secret)),
        ("JSON-escaped", json_inner(secret)),
        (
            "base64(client_id:secret)",
            b64(&format!("{client_id}:{secret}")).trim_end_matches('=').to_string(),
        ),
        (
            "base64(form(client_id):form(secret))",
            b64(&format!("{}:{}", form(client_id), form(secret)))
                .trim_end_matches('=')
                .to_string(),
        ),
    ];
    // The alphanumeric head on its own (a leak of most of the secret is a leak).
    let head: String = secret.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    if head.len() >= 12 && head != secret {
        forms.push(("alphanumeric head", head));
    }
    forms
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Replaces every leak form of the canaries in `s` by `<CANARY>` (longest first), so an
/// assertion message never prints the secret it complains about.
fn redact(s: &str) -> String {
    let mut needles: Vec<String> = leak_forms(SECRET, CLIENT_ID).into_iter().map(|(_, n)| n).collect();
    needles.extend(["CANARYpw", "CANARYq", CORE].map(String::from));
    needles.push(b64(SECRET).trim_end_matches('=').to_string());
    needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let mut out = s.to_string();
    for n in needles {
        out = out.replace(&n, "<CANARY>");
    }
    // Keep messages readable: escape control bytes, cut very long output.
    let out: String = out
        .chars()
        .map(|c| if c.is_control() && c != '\n' { '\u{2426}' } else { c })
        .collect();
    if out.len() > 3000 {
        let cut: String = out.chars().take(3000).collect();
        format!("{cut}… ({} bytes in all)", out.len())
    } else {
        out
    }
}

/// Asserts that `haystack` holds no form of `secret` (see [`leak_forms`]).
#[track_caller]
fn assert_no_leak(haystack: &[u8], secret: &str, client_id: &str, what: &str) {
    for (label, needle) in leak_forms(secret, client_id) {
        if let Some(at) = find(haystack, needle.as_bytes()) {
            let from = at.saturating_sub(120);
            let to = (at + needle.len() + 120).min(haystack.len());
            panic!(
                "{what} leaks the secret ({label}) at byte {at}: …{}…",
                redact(&String::from_utf8_lossy(&haystack[from..to]))
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Running the binary.

/// One finished run.
struct Out {
    args: Vec<String>,
    code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Out {
    fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    fn err(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    /// For assertion messages, with the canaries redacted.
    fn describe(&self) -> String {
        redact(&format!(
            "args: {:?}\nexit: {}\n--- stdout\n{}\n--- stderr\n{}",
            self.args,
            self.code,
            self.out(),
            self.err()
        ))
    }
    /// The `CODE` of the first `error[CODE]:` line on stderr.
    fn error_code(&self) -> Option<String> {
        let e = self.err();
        let at = e.find("error[")?;
        let rest = &e[at + 6..];
        Some(rest[..rest.find(']')?].to_string())
    }
    #[track_caller]
    fn code(&self, expected: i32) -> &Self {
        assert_eq!(self.code, expected, "unexpected exit code\n{}", self.describe());
        self
    }
    #[track_caller]
    fn code_in(&self, allowed: &[i32]) -> &Self {
        assert!(
            allowed.contains(&self.code),
            "exit code not in {allowed:?}\n{}",
            self.describe()
        );
        self
    }
    /// Exit `exit` with `error[code]` on stderr and nothing on stdout.
    #[track_caller]
    fn error(&self, exit: i32, code: &str) -> &Self {
        self.code(exit);
        // Not assert_eq!: its message would print an error code that holds the secret.
        let seen = self.error_code();
        assert!(
            seen.as_deref() == Some(code),
            "expected error[{code}], got {}\n{}",
            redact(&format!("{seen:?}")),
            self.describe()
        );
        assert!(self.stdout.is_empty(), "stdout on failure\n{}", self.describe());
        self
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", self.describe()))
    }
}

/// A data dir of its own and everything the binary printed while using it.
struct Tk {
    dir: tempfile::TempDir,
    transcript: Mutex<Vec<u8>>,
}

impl Tk {
    fn new() -> Tk {
        Tk {
            dir: tempfile::tempdir().expect("temp dir"),
            transcript: Mutex::new(Vec::new()),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `tillkey --data-dir DIR`, no inherited data dir or proxy settings.
    fn command(&self) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::cargo_bin("tillkey").expect("tillkey binary");
        c.arg("--data-dir").arg(self.path()).env_remove("TILLKEY_DATA_DIR");
        // No local agent: parallel tests must never leave one behind (tests/agent.rs tests it).
        c.env("TILLKEY_NO_AGENT", "1");
        for v in PROXY_VARS {
            c.env_remove(v);
        }
        c.timeout(RUN_TIMEOUT);
        c
    }

    fn run(&self, args: &[&str], stdin: &str) -> Out {
        self.run_env(args, stdin, &[])
    }

    /// Runs `tillkey ARGS` with `stdin` and extra environment; asserts no panic; records
    /// stdout and stderr for the leak scan.
    fn run_env(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Out {
        let mut c = self.command();
        c.args(args).write_stdin(stdin.as_bytes().to_vec());
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.output().expect("run tillkey");
        let out = Out {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: o.status.code().unwrap_or(-1),
            stdout: o.stdout,
            stderr: o.stderr,
        };
        {
            let mut t = self.transcript.lock().unwrap();
            t.extend_from_slice(&out.stdout);
            t.push(b'\n');
            t.extend_from_slice(&out.stderr);
            t.push(b'\n');
        }
        assert_no_panic(&out);
        out
    }

    /// `tillkey add NAME --provider oauth2` with the canary secret on stdin; asserts exit 0.
    #[track_caller]
    fn add_oauth2(&self, name: &str, token_url: &str, extra: &[&str]) {
        let url = format!("token_url={token_url}");
        let id = format!("client_id={CLIENT_ID}");
        let mut args = vec!["add", name, "--provider", "oauth2", "--set", &id, "--set", &url];
        args.extend_from_slice(extra);
        self.run(&args, &format!("client_secret={SECRET}\n")).code(0);
    }

    /// `tillkey add NAME --provider bearer` with `token` on stdin; asserts exit 0.
    #[track_caller]
    fn add_bearer(&self, name: &str, token: &str) {
        self.run(&["add", name, "--provider", "bearer"], &format!("token={token}\n"))
            .code(0);
    }

    /// The final check of every case: `list --json` and `show NAME --json` (which must
    /// work), then no canary in anything printed nor in any file under the data dir.
    #[track_caller]
    fn assert_clean(&self, names: &[&str]) {
        self.run(&["list", "--json"], "").code(0);
        for n in names {
            self.run(&["show", n, "--json"], "").code(0);
        }
        self.assert_no_leaks();
    }

    /// No canary in the transcript or in any file under the data dir.
    #[track_caller]
    fn assert_no_leaks(&self) {
        let t = self.transcript.lock().unwrap().clone();
        assert_no_leak(&t, SECRET, CLIENT_ID, "CLI output");
        for (path, bytes) in files(self.path()) {
            assert_no_leak(&bytes, SECRET, CLIENT_ID, &format!("file {}", path.display()));
        }
    }

    fn meta(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.path().join("vault.json")).expect("vault.json"))
            .expect("vault.json is JSON")
    }
}

/// Every regular file under `dir`, recursively.
fn files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else { return out };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else if p.is_file() {
            if let Ok(b) = std::fs::read(&p) {
                out.push((p, b));
            }
        }
    }
    out
}

#[track_caller]
fn assert_no_panic(out: &Out) {
    assert_ne!(out.code, 101, "tillkey panicked (exit 101)\n{}", out.describe());
    assert!(!out.err().contains("panicked"), "tillkey panicked\n{}", out.describe());
    assert_ne!(
        out.code,
        -1,
        "tillkey was killed (timeout or signal)\n{}",
        out.describe()
    );
}

/// A data dir with one OAuth2 credential `c` whose token URL is `server`'s `/token`.
fn oauth2_at(server: &HostileServer) -> Tk {
    let tk = Tk::new();
    tk.add_oauth2("c", &server.url("/token"), &[]);
    tk
}

/// A JWT with `payload` (unsigned; Tillkey only reads claims).
fn jwt(payload: &str) -> String {
    format!("{}.{}.c2ln", b64url(r#"{"alg":"none","typ":"JWT"}"#), b64url(payload))
}

// ---------------------------------------------------------------------------------------
// 1. A 400 invalid_client whose description echoes the secret.

fn invalid_client_echo(description_json: &str, extra: &[&str]) {
    let body = format!(r#"{{"error":"invalid_client","error_description":"{description_json}"}}"#);
    let srv = HostileServer::fixed(response(400, &[], body.as_bytes()));
    let tk = Tk::new();
    tk.add_oauth2("c", &srv.url("/token"), extra);
    tk.run(&["token", "c"], "").error(1, "invalid_client");
    tk.run(&["test", "c"], "").code(1);
    let out = tk.run(&["test", "c", "--json"], "");
    out.code(1);
    let report = out.json();
    assert_eq!(report["ok"], false, "{}", out.describe());
    assert!(
        report["stages"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["code"] == "invalid_client")),
        "no stage with code invalid_client\n{}",
        out.describe()
    );
    let list = tk.run(&["list", "--json"], "");
    list.code(0);
    assert!(
        !list.json()[0]["lastTest"].is_null(),
        "list --json has no lastTest\n{}",
        list.describe()
    );
    tk.assert_clean(&["c"]);
}

#[test]
fn case01_invalid_client_description_echoes_raw_secret() {
    invalid_client_echo(
        &format!("bad secret {} for client {CLIENT_ID}", json_inner(SECRET)),
        &[],
    );
}

#[test]
fn case01_invalid_client_description_echoes_form_encoded_secret() {
    invalid_client_echo(
        &format!(
            "bad request body client_id={CLIENT_ID}&client_secret={}&grant_type=client_credentials",
            form(SECRET)
        ),
        &[],
    );
}

#[test]
fn case01_invalid_client_description_echoes_secret_with_json_u_escape() {
    // On the wire the first character is a \u escape; decoded, it is the raw secret.
    let wire = format!("\\u0043{}", json_inner(&SECRET[1..]));
    invalid_client_echo(&format!("bad secret {wire} for client {CLIENT_ID}"), &[]);
}

#[test]
fn case01_invalid_client_description_echoes_json_escaped_secret_text() {
    // Decoded, the description holds the JSON-escaped secret (an echoed JSON request).
    let text = format!(r#"request was {{"client_secret":"{}"}}"#, json_inner(SECRET));
    invalid_client_echo(&json_inner(&text), &[]);
}

#[test]
fn case01_invalid_client_description_echoes_base64_of_id_and_secret() {
    invalid_client_echo(
        &format!("Authorization: Basic {} refused", b64(&format!("{CLIENT_ID}:{SECRET}"))),
        &[],
    );
}

#[test]
fn case01_invalid_client_description_echoes_basic_header_of_basic_auth_client() {
    // auth_method=basic sends base64(form(id):form(secret)); a server echoes that header.
    invalid_client_echo(
        &format!(
            "Authorization: Basic {} refused",
            b64(&format!("{}:{}", form(CLIENT_ID), form(SECRET)))
        ),
        &["--set", "auth_method=basic"],
    );
}

// ---------------------------------------------------------------------------------------
// 2. The secret echoed as the error code itself.

#[test]
fn case02_error_code_holding_the_secret_falls_back_to_the_status() {
    let body = format!(r#"{{"error":"client_secret={}"}}"#, json_inner(SECRET));
    let srv = HostileServer::fixed(response(400, &[], body.as_bytes()));
    let tk = oauth2_at(&srv);
    tk.run(&["token", "c"], "").error(1, "400");
    tk.run(&["test", "c", "--json"], "").code(1);
    tk.assert_clean(&["c"]);
}

// ---------------------------------------------------------------------------------------
// 3. Absurd lifetimes in successful responses: clamped, never a panic.

fn huge_lifetime(body: &str, token: &str) {
    let srv = HostileServer::fixed(ok_json(body));
    let tk = oauth2_at(&srv);
    let out = tk.run(&["token", "c"], "");
    out.code(0);
    assert_eq!(out.out(), format!("{token}\n"), "{}", out.describe());
    // Served from the cache the second time: the stored expiry must read back.
    let again = tk.run(&["token", "c"], "");
    again.code(0);
    assert_eq!(again.out(), format!("{token}\n"), "{}", again.describe());
    tk.run(&["list"], "").code(0);
    tk.run(&["test", "c", "--json"], "").code(0);
    let all = tk.run(&["test", "--all", "--json"], "");
    all.code(0);
    assert_eq!(all.json().as_array().map(Vec::len), Some(1), "{}", all.describe());
    tk.assert_clean(&["c"]);
}

#[test]
fn case03_expires_in_99999999999999() {
    huge_lifetime(
        &format!(r#"{{"access_token":"{ACCESS}","token_type":"Bearer","expires_in":99999999999999}}"#),
        ACCESS,
    );
}

#[test]
fn case03_expires_in_i64_max() {
    huge_lifetime(
        &format!(r#"{{"access_token":"{ACCESS}","token_type":"Bearer","expires_in":9223372036854775807}}"#),
        ACCESS,
    );
}

#[test]
fn case03_expires_in_u64_max() {
    huge_lifetime(
        &format!(r#"{{"access_token":"{ACCESS}","token_type":"Bearer","expires_in":18446744073709551615}}"#),
        ACCESS,
    );
}

#[test]
fn case03_jwt_exp_i64_max() {
    let t = jwt(r#"{"sub":"x","exp":9223372036854775807}"#);
    huge_lifetime(
        &format!(r#"{{"access_token":"{t}","token_type":"Bearer","expires_in":3600}}"#),
        &t,
    );
}

#[test]
fn case03_jwt_exp_i64_max_without_expires_in() {
    let t = jwt(r#"{"sub":"x","exp":9223372036854775807}"#);
    huge_lifetime(&format!(r#"{{"access_token":"{t}","token_type":"Bearer"}}"#), &t);
}

// ---------------------------------------------------------------------------------------
// 4. expires_in that is not a non-negative integer (number or digit string).

fn bad_expires_in(value: &str) {
    let srv = HostileServer::fixed(ok_json(&format!(
        r#"{{"access_token":"{ACCESS}","token_type":"Bearer","expires_in":{value}}}"#
    )));
    let tk = oauth2_at(&srv);
    tk.run(&["token", "c"], "").error(1, "invalid_response");
    tk.assert_clean(&["c"]);
}

#[test]
fn case04_expires_in_string_minus_5() {
    bad_expires_in(r#""-5""#);
}

#[test]
fn case04_expires_in_number_minus_5() {
    bad_expires_in("-5");
}

#[test]
fn case04_expires_in_string_abc() {
    bad_expires_in(r#""abc""#);
}

#[test]
fn case04_expires_in_float_1_5() {
    bad_expires_in("1.5");
}

#[test]
fn case04_expires_in_empty_string() {
    bad_expires_in(r#""""#);
}

#[test]
fn case04_expires_in_digit_string_3600_works() {
    let srv = HostileServer::fixed(ok_json(&format!(
        r#"{{"access_token":"{ACCESS}","token_type":"Bearer","expires_in":"3600"}}"#
    )));
    let tk = oauth2_at(&srv);
    let out = tk.run(&["token", "c"], "");
    out.code(0);
    assert_eq!(out.out(), format!("{ACCESS}\n"), "{}", out.describe());
    tk.assert_clean(&["c"]);
}

// ---------------------------------------------------------------------------------------
// 5. token_type of 5000 characters with ESC bytes.

#[test]
fn case05_token_type_with_escape_sequences_is_not_printed_raw() {
    // 625 × 8 decoded chars = 5000: ESC [ 3 1 m E V L.
    let token_type = "\\u001b[31mEVL".repeat(625);
    let srv = HostileServer::fixed(ok_json(&format!(
        r#"{{"access_token":"{ACCESS}","token_type":"{token_type}","expires_in":3600}}"#
    )));
    let tk = oauth2_at(&srv);
    let out = tk.run(&["token", "c"], "");
    out.error(1, "invalid_response");
    assert!(
        !out.stderr.contains(&0x1b),
        "stderr holds a raw ESC byte\n{}",
        out.describe()
    );
    assert!(
        out.stderr.len() < 2000,
        "stderr is {} bytes (provider text not cut short)\n{}",
        out.stderr.len(),
        out.describe()
    );
    let test = tk.run(&["test", "c"], "");
    test.code(1);
    assert!(
        !test.stdout.contains(&0x1b),
        "test output holds ESC\n{}",
        test.describe()
    );
    assert!(
        !test.stderr.contains(&0x1b),
        "test output holds ESC\n{}",
        test.describe()
    );
    tk.assert_clean(&["c"]);
}

// ---------------------------------------------------------------------------------------
// 6. Redirects are reported, never followed.

#[test]
fn case06_redirect_to_another_host_is_named_and_not_followed() {
    let srv = HostileServer::fixed(response(307, &[("Location", "https://evil.example/steal")], b""));
    let tk = oauth2_at(&srv);
    let out = tk.run(&["token", "c"], "");
    out.code(1);
    let err = out.err().to_lowercase();
    assert!(
        err.contains("redirect") && (err.contains("not follow") || err.contains("never follow")),
        "stderr does not say redirects are not followed\n{}",
        out.describe()
    );
    assert!(
        err.contains("evil.example"),
        "stderr does not name the target host\n{}",
        out.describe()
    );
    assert_eq!(
        srv.requests().len(),
        1,
        "token server saw {} requests",
        srv.requests().len()
    );
    tk.assert_clean(&["c"]);
}

/// A redirect whose target host spells the secret (host names arrive lowercased): the
/// host is not shown or stored, in any letter case.
#[test]
fn case06_redirect_to_a_host_named_after_the_secret_does_not_leak_it() {
    const HOSTY: &str = "LeakedSecret0123456789";
    let srv = HostileServer::fixed(response(
        307,
        &[("Location", &format!("https://{HOSTY}.evil.example/x"))],
        b"",
    ));
    let tk = Tk::new();
    tk.run(
        &[
            "add",
            "c",
            "--provider",
            "oauth2",
            "--set",
            &format!("client_id={CLIENT_ID}"),
            "--set",
            &format!("token_url={}", srv.url("/token")),
        ],
        &format!("client_secret={HOSTY}\n"),
    )
    .code(0);
    let token = tk.run(&["token", "c"], "");
    token.code(1);
    tk.run(&["test", "c"], "").code(1);
    let mut seen = String::from_utf8_lossy(&token.stderr).to_lowercase();
    let mut stack = vec![tk.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                seen.push_str(&String::from_utf8_lossy(&std::fs::read(&p).unwrap()).to_lowercase());
            }
        }
    }
    assert!(!seen.contains(&HOSTY.to_lowercase()), "the secret-named host leaked");
    assert!(seen.contains("redirect"), "the redirect is still reported");
}

#[test]
fn case06_redirect_to_a_loopback_recorder_is_not_followed() {
    let elsewhere = HostileServer::recorder();
    let location = elsewhere.url("/steal");
    let srv = HostileServer::fixed(response(307, &[("Location", &location)], b""));
    let tk = oauth2_at(&srv);
    tk.run(&["token", "c"], "").code(1);
    tk.run(&["test", "c"], "").code(1);
    assert_eq!(elsewhere.connections(), 0, "the redirect target was contacted");
    assert_eq!(srv.requests().len(), 2, "one token request per command");
    tk.assert_clean(&["c"]);
}

// ---------------------------------------------------------------------------------------
// 7. Oversized and non-JSON successful bodies.

#[test]
fn case07_body_over_256_kib_is_invalid_response() {
    let garbage: Vec<u8> = (0..300 * 1024).map(|i| b"x{[\"\\9 "[i % 7]).collect();
    let srv = HostileServer::fixed(response(200, &[], &garbage));
    let tk = oauth2_at(&srv);
    tk.run(&["token", "c"], "").error(1, "invalid_response");
    tk.assert_clean(&["c"]);
}

#[test]
fn case07_huge_body_that_starts_as_a_valid_token_is_invalid_response() {
    // A valid grant followed by 300 KiB of padding: the cap must not yield a half-read grant.
    let mut body =
        format!(r#"{{"access_token":"{ACCESS}","token_type":"Bearer","expires_in":3600,"pad":""#).into_bytes();
    body.extend(std::iter::repeat_n(b'a', 300 * 1024));
    body.extend_from_slice(b"\"}");
    let srv = HostileServer::fixed(response(200, &[], &body));
    let tk = oauth2_at(&srv);
    tk.run(&["token", "c"], "").error(1, "invalid_response");
    tk.assert_clean(&["c"]);
}

#[test]
fn case07_non_json_200_is_invalid_response() {
    let srv = HostileServer::fixed(response(
        200,
        &[("Content-Type", "text/html")],
        b"<html><body>Welcome to the captive portal</body></html>",
    ));
    let tk = oauth2_at(&srv);
    tk.run(&["token", "c"], "").error(1, "invalid_response");
    tk.assert_clean(&["c"]);
}

// ---------------------------------------------------------------------------------------
// 8. Rate limits with absurd reset times.

fn rate_limited(header: (&str, &str)) {
    let srv = HostileServer::fixed(response(429, &[header], br#"{"error":"rate_limited"}"#));
    let tk = oauth2_at(&srv);
    tk.run(&["token", "c"], "").error(5, "rate_limited");
    tk.run(&["test", "c", "--json"], "").code_in(&[1, 5]);
    tk.assert_clean(&["c"]);
}

#[test]
fn case08_retry_after_u64_max() {
    rate_limited(("Retry-After", "18446744073709551615"));
}

#[test]
fn case08_ratelimit_reset_beyond_u64() {
    rate_limited(("X-RateLimit-Reset", "99999999999999999999999"));
}

// ---------------------------------------------------------------------------------------
// 9. A closed stdout (`tillkey token x | true`).

#[test]
fn case09_broken_pipe_ends_quietly() {
    let tk = Tk::new();
    tk.add_bearer("x", SECRET);
    let bin = env!("CARGO_BIN_EXE_tillkey");
    // The reader is gone before tillkey writes (it sleeps first), so the write meets EPIPE.
    let script = r#"{ sleep 0.3; "$0" --data-dir "$1" token x; echo "rc=$?" >&2; } | true"#;
    let o = std::process::Command::new("sh")
        .args(["-c", script])
        .arg(bin)
        .arg(tk.path())
        .env_remove("TILLKEY_DATA_DIR")
        .env("TILLKEY_NO_AGENT", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run sh");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let shown = redact(&err);
    let rc: i32 = err
        .lines()
        .find_map(|l| l.strip_prefix("rc="))
        .and_then(|r| r.trim().parse().ok())
        .unwrap_or_else(|| panic!("no rc line\n{shown}"));
    assert!(
        !err.contains("panicked"),
        "tillkey panicked on a broken pipe (rc={rc})\n{shown}"
    );
    assert_ne!(rc, 101, "exit 101 on a broken pipe\n{shown}");
    assert!(
        rc == 0 || rc == 141,
        "a broken pipe should end with 0 or SIGPIPE (141), got {rc}\n{shown}"
    );
    assert_no_leak(&o.stderr, SECRET, CLIENT_ID, "stderr of `token | true`");
    tk.assert_clean(&["x"]);
}

// ---------------------------------------------------------------------------------------
// 10. exec --var names the loader or shell treat specially.

fn exec_var_refused(var: &str) {
    let tk = Tk::new();
    tk.add_bearer("x", SECRET);
    // An absolute program: with `PATH` set to the token, a bare `true` would fail to start
    // (exit 2) for the wrong reason.
    tk.run(&["exec", "x", "--var", var, "--", "/bin/true"], "")
        .error(2, "invalid_input");
    tk.assert_clean(&["x"]);
}

#[test]
fn case10_exec_var_ld_preload_refused() {
    exec_var_refused("LD_PRELOAD");
}

#[test]
fn case10_exec_var_ld_library_path_refused() {
    exec_var_refused("LD_LIBRARY_PATH");
}

#[test]
fn case10_exec_var_ld_audit_refused() {
    // Any `LD_*` name, not only the two best known.
    exec_var_refused("LD_AUDIT");
}

#[test]
fn case10_exec_var_path_refused() {
    exec_var_refused("PATH");
}

#[test]
fn case10_exec_var_ifs_refused() {
    exec_var_refused("IFS");
}

#[test]
fn case10_exec_var_bash_env_refused() {
    exec_var_refused("BASH_ENV");
}

#[test]
fn case10_exec_var_env_refused() {
    exec_var_refused("ENV");
}

#[test]
fn case10_exec_var_my_token_works() {
    let tk = Tk::new();
    tk.add_bearer("x", SECRET);
    let check = format!(r#"test "$MY_TOKEN" = '{SECRET}'"#);
    tk.run(&["exec", "x", "--var", "MY_TOKEN", "--", "sh", "-c", &check], "")
        .code(0);
    tk.assert_clean(&["x"]);
}

// ---------------------------------------------------------------------------------------
// 11. A secret piped without `FIELD=` that contains `=`.

#[test]
fn case11_secret_without_field_name_is_not_echoed() {
    let tk = Tk::new();
    let out = tk.run(&["add", "x", "--provider", "bearer"], &format!("{CORE}==\n"));
    out.code(2);
    assert!(
        !out.err().contains(CORE),
        "stderr echoes the secret\n{}",
        out.describe()
    );
    assert!(
        !out.err().contains("CANARY"),
        "stderr echoes part of the secret\n{}",
        out.describe()
    );
    assert_eq!(tk.run(&["list", "--json"], "").json(), serde_json::json!([]));
    tk.assert_clean(&[]);
}

#[test]
fn case11_oauth2_secret_without_field_name_is_not_echoed() {
    let tk = Tk::new();
    let out = tk.run(
        &[
            "add",
            "x",
            "--provider",
            "oauth2",
            "--set",
            "client_id=hostile-client",
            "--set",
            "token_url=http://127.0.0.1:1/token",
        ],
        &format!("{}=\n", b64(SECRET)),
    );
    out.code(2);
    assert!(
        !out.err().contains(b64(SECRET).trim_end_matches('=')),
        "stderr echoes the base64 secret\n{}",
        out.describe()
    );
    tk.assert_clean(&[]);
}

// ---------------------------------------------------------------------------------------
// 12. URLs with userinfo or a secret query.

fn url_refused_without_echo(url: &str, secret_part: &str) {
    let tk = Tk::new();
    let set = format!("token_url={url}");
    let out = tk.run(
        &[
            "add",
            "x",
            "--provider",
            "oauth2",
            "--set",
            "client_id=hostile-client",
            "--set",
            &set,
        ],
        &format!("client_secret={SECRET}\n"),
    );
    out.code(2);
    assert!(
        !out.err().contains(secret_part) && !out.out().contains(secret_part),
        "the URL's secret part is printed\n{}",
        out.describe()
    );
    assert_eq!(tk.run(&["list", "--json"], "").json(), serde_json::json!([]));
    tk.assert_clean(&[]);
}

#[test]
fn case12_userinfo_in_loopback_url_refused_without_echo() {
    url_refused_without_echo("http://user:CANARYpw@127.0.0.1:1/t", "CANARYpw");
}

#[test]
fn case12_userinfo_in_plain_http_url_refused_without_echo() {
    url_refused_without_echo("http://user:CANARYpw@h.example/t", "CANARYpw");
}

#[test]
fn case12_userinfo_in_unparsable_url_refused_without_echo() {
    // Port out of range: a parse error, whose message must not quote the value either.
    url_refused_without_echo("https://user:CANARYpw@h.example:99999/t", "CANARYpw");
}

#[test]
fn case12_query_of_refused_plain_http_url_not_echoed() {
    url_refused_without_echo("http://h.example/t?access_token=CANARYq", "CANARYq");
}

#[test]
fn case12_query_in_https_token_url() {
    let tk = Tk::new();
    let out = tk.run(
        &[
            "add",
            "x",
            "--provider",
            "oauth2",
            "--set",
            "client_id=hostile-client",
            "--set",
            "token_url=https://h.example/t?access_token=CANARYq",
        ],
        &format!("client_secret={SECRET}\n"),
    );
    if out.code != 0 {
        out.code(2);
        assert!(
            !out.err().contains("CANARYq"),
            "a refused URL's query is printed\n{}",
            out.describe()
        );
    }
    // Accepted is fine (then `show` may list the URL); the client secret still never shows.
    tk.assert_no_leaks();
}

// ---------------------------------------------------------------------------------------
// 13. Stdin over the limit is refused, never truncated.

#[test]
fn case13_stdin_over_the_limit_is_refused_and_nothing_stored() {
    let tk = Tk::new();
    let token = "t".repeat(100_000);
    let out = tk.run(&["add", "big", "--provider", "bearer"], &format!("token={token}\n"));
    out.code(2);
    let err = out.err().to_lowercase();
    assert!(
        [
            "limit",
            "kib",
            "too long",
            "too large",
            "larger than",
            "at most",
            "bytes"
        ]
        .iter()
        .any(|w| err.contains(w)),
        "the error does not mention the limit\n{}",
        out.describe()
    );
    assert!(
        !out.err().contains(&"t".repeat(64)),
        "the input is echoed\n{}",
        out.describe()
    );
    assert_eq!(tk.run(&["list", "--json"], "").json(), serde_json::json!([]));
    tk.assert_clean(&[]);
}

// ---------------------------------------------------------------------------------------
// 14. Proxy variables never apply to loopback.

#[test]
fn case14_proxy_variables_are_not_used_for_loopback() {
    let proxy = HostileServer::recorder();
    let srv = HostileServer::fixed(token_ok(ACCESS));
    let tk = oauth2_at(&srv);
    let p = proxy.base();
    let env = [
        ("http_proxy", p.as_str()),
        ("HTTP_PROXY", p.as_str()),
        ("https_proxy", p.as_str()),
        ("HTTPS_PROXY", p.as_str()),
        ("ALL_PROXY", p.as_str()),
        ("all_proxy", p.as_str()),
    ];
    let out = tk.run_env(&["token", "c"], "", &env);
    let seen = proxy.connections();
    assert_eq!(
        seen,
        0,
        "the proxy saw {seen} connections (the client secret went through it)\n{}",
        out.describe()
    );
    out.code(0);
    assert_eq!(out.out(), format!("{ACCESS}\n"), "{}", out.describe());
    tk.run_env(&["test", "c"], "", &env).code(0);
    assert_eq!(proxy.connections(), 0, "`test` went through the proxy");
    assert_eq!(srv.requests().len(), 2);
    tk.assert_clean(&["c"]);
}

// ---------------------------------------------------------------------------------------
// 15. test --all with one keyring secret deleted behind Tillkey's back.

#[test]
fn case15_test_all_reports_every_credential_when_one_secret_is_missing() {
    let srv = HostileServer::fixed(token_ok(ACCESS));
    let tk = Tk::new();
    for n in ["a", "b", "c"] {
        tk.add_oauth2(n, &srv.url("/token"), &[]);
    }
    let meta = tk.meta();
    let rec = meta["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "b")
        .cloned()
        .expect("record b");
    let account = format!(
        "{}/{}/r{}/client_secret",
        meta["vault_id"].as_str().unwrap(),
        rec["id"].as_str().unwrap(),
        rec["secret_rev"].as_u64().unwrap()
    );
    let st = std::process::Command::new("secret-tool")
        .args(["clear", "service", "tillkey", "username", &account])
        .output()
        .expect("secret-tool (libsecret-tools) is installed");
    assert!(st.status.success(), "secret-tool clear failed");
    let look = std::process::Command::new("secret-tool")
        .args(["lookup", "service", "tillkey", "username", &account])
        .output()
        .expect("secret-tool lookup");
    assert!(
        !look.status.success() && look.stdout.is_empty(),
        "the keyring entry {account} is still there"
    );

    let out = tk.run(&["test", "--all", "--json"], "");
    out.code(1);
    let reports = out.json();
    let reports = reports.as_array().expect("a JSON array");
    assert_eq!(reports.len(), 3, "not every credential reported\n{}", out.describe());
    for r in reports {
        let name = r["credential"].as_str().unwrap_or_default();
        if name == "b" {
            assert_eq!(r["ok"], false, "{}", out.describe());
            assert!(
                r.to_string().contains("\"secret_missing\""),
                "b's report has no secret_missing code\n{}",
                out.describe()
            );
        } else {
            assert_eq!(r["ok"], true, "{name} did not pass\n{}", out.describe());
        }
    }
    // The human form also lists all three.
    let human = tk.run(&["test", "--all"], "");
    human.code(1);
    for n in ["a", "b", "c"] {
        assert!(human.out().contains(n), "{}", human.describe());
    }
    tk.assert_clean(&["a", "b", "c"]);
}

// ---------------------------------------------------------------------------------------
// 16. Hostile numbers in the metadata file.

#[test]
fn case16_rotation_period_u32_max_is_corrupt_metadata() {
    let tk = Tk::new();
    tk.add_bearer("x", SECRET);
    let mut meta = tk.meta();
    meta["credentials"][0]["rotation_period_days"] = serde_json::json!(4_294_967_295u64);
    std::fs::write(tk.path().join("vault.json"), serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
    let out = tk.run(&["list"], "");
    out.code(1);
    assert!(out.err().contains("corrupt_metadata"), "{}", out.describe());
    tk.run(&["list", "--json"], "").code(1);
    tk.run(&["show", "x"], "").code(1);
    tk.assert_no_leaks();
}

// ---------------------------------------------------------------------------------------
// No-panic sweep: hostile token responses. Each: `token` exits with an allowed code (1 or
// 4 for answers that are not a usable grant; 0 too where the answer is in fact a usable
// grant: an opaque token that merely looks like a JWT with a garbage payload, or valid
// JSON with a deeply nested unknown member), `test` likewise, no panic, no canary.

fn sweep(response_bytes: Vec<u8>, allowed: &[i32]) {
    let srv = HostileServer::fixed(response_bytes);
    let tk = oauth2_at(&srv);
    tk.run(&["token", "c"], "").code_in(allowed);
    tk.run(&["test", "c", "--json"], "").code_in(&[0, 1, 4]);
    tk.assert_clean(&["c"]);
}

const NOT_A_GRANT: &[i32] = &[1, 4];

macro_rules! sweep_cases {
    ($($name:ident: $resp:expr, $allowed:expr;)*) => {
        $(
            #[test]
            fn $name() {
                sweep($resp, $allowed);
            }
        )*
    };
}

fn deep_nesting() -> Vec<u8> {
    let mut b = String::from(r#"{"n":"#);
    b.push_str(&"[".repeat(10_000));
    b.push_str(&"]".repeat(10_000));
    b.push_str(&format!(r#","access_token":"{ACCESS}"}}"#));
    ok_json(&b)
}

fn deep_nesting_unclosed() -> Vec<u8> {
    ok_json(&"[{\"a\":".repeat(10_000))
}

fn invalid_utf8() -> Vec<u8> {
    response(
        200,
        &[],
        b"{\"access_token\":\"\xff\xfe\xc3\x28\",\"token_type\":\"Bearer\"}",
    )
}

fn content_length_lies() -> Vec<u8> {
    let body = format!(r#"{{"access_token":"{ACCESS}","token_type":"Bearer"}}"#);
    format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n{body}")
        .into_bytes()
}

fn content_length_overflow() -> Vec<u8> {
    b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\nConnection: close\r\n\r\n{}".to_vec()
}

fn conflicting_content_lengths() -> Vec<u8> {
    let body = format!(r#"{{"access_token":"{ACCESS}"}}"#);
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn header_100_kb() -> Vec<u8> {
    let big = "v".repeat(100 * 1024);
    response(200, &[("X-Big", &big)], br#"{"access_token":"x"}"#)
}

fn jwt_garbage_payload() -> Vec<u8> {
    let t = format!(
        "a.{}.c",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xffu8, 0x00, 0x7b, 0x22, 0xfe, 0x80, 0x01])
    );
    ok_json(&format!(r#"{{"access_token":"{t}","token_type":"Bearer"}}"#))
}

fn jwt_exp_float_overflow() -> Vec<u8> {
    let t = jwt(r#"{"exp":1e400}"#);
    ok_json(&format!(r#"{{"access_token":"{t}","token_type":"Bearer"}}"#))
}

fn jwt_exp_negative() -> Vec<u8> {
    let t = jwt(r#"{"exp":-9223372036854775808}"#);
    ok_json(&format!(
        r#"{{"access_token":"{t}","token_type":"Bearer","expires_in":3600}}"#
    ))
}

fn continue_then_hang_up() -> Vec<u8> {
    b"HTTP/1.1 100 Continue\r\n\r\n".to_vec()
}

fn continue_then_garbage() -> Vec<u8> {
    let mut b = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
    b.extend(response(200, &[], b"not json at all"));
    b
}

fn bad_chunked() -> Vec<u8> {
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n".to_vec()
}

fn huge_error_description() -> Vec<u8> {
    let d = "\\u001b[2J".repeat(20_000);
    response(
        401,
        &[],
        format!(r#"{{"error":"invalid_client","error_description":"{d}"}}"#).as_bytes(),
    )
}

sweep_cases! {
    sweep_empty_body: response(200, &[], b""), NOT_A_GRANT;
    sweep_null: ok_json("null"), NOT_A_GRANT;
    sweep_empty_array: ok_json("[]"), NOT_A_GRANT;
    sweep_access_token_null: ok_json(r#"{"access_token":null}"#), NOT_A_GRANT;
    sweep_access_token_empty: ok_json(r#"{"access_token":""}"#), NOT_A_GRANT;
    sweep_access_token_number: ok_json(r#"{"access_token":123}"#), NOT_A_GRANT;
    sweep_refresh_token_number: ok_json(r#"{"access_token":"x","refresh_token":5}"#), NOT_A_GRANT;
    sweep_deep_nesting_10000: deep_nesting(), &[0, 1, 4];
    sweep_deep_nesting_unclosed: deep_nesting_unclosed(), NOT_A_GRANT;
    sweep_invalid_utf8: invalid_utf8(), NOT_A_GRANT;
    sweep_utf8_bom_prefix: response(200, &[], "\u{feff}{\"access_token\":\"x\"}".as_bytes()), &[0, 1];
    sweep_content_length_lies: content_length_lies(), NOT_A_GRANT;
    sweep_content_length_overflow: content_length_overflow(), NOT_A_GRANT;
    sweep_conflicting_content_lengths: conflicting_content_lengths(), NOT_A_GRANT;
    sweep_header_100_kb: header_100_kb(), &[0, 1, 4];
    sweep_expires_in_1e308: ok_json(r#"{"access_token":"x","expires_in":1e308}"#), &[1];
    sweep_jwt_garbage_payload: jwt_garbage_payload(), &[0, 1];
    sweep_jwt_exp_float_overflow: jwt_exp_float_overflow(), &[0, 1];
    sweep_jwt_exp_i64_min: jwt_exp_negative(), &[0, 1];
    sweep_status_599: response(599, &[], br#"{"error":"server_melted"}"#), &[1];
    sweep_status_599_no_body: response(599, &[], b""), &[1];
    sweep_error_is_an_object: response(400, &[], br#"{"error":{"nested":["x"]}}"#), &[1];
    sweep_huge_error_description: huge_error_description(), &[1];
    sweep_100_continue_then_hang_up: continue_then_hang_up(), NOT_A_GRANT;
    sweep_100_continue_then_garbage: continue_then_garbage(), NOT_A_GRANT;
    sweep_bad_chunked_encoding: bad_chunked(), NOT_A_GRANT;
    sweep_not_http_at_all: b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec(), NOT_A_GRANT;
    sweep_close_without_answer: Vec::new(), NOT_A_GRANT;
}
