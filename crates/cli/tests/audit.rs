//! The audit log from the CLI, with the real `tillkey` binary, the real OS keyring and
//! the Chimpy simulator (refresh tokens): every CLI action appears once with its command,
//! pid and outcome, directly and through the real local agent (the client's command and
//! pid); `log` lists and filters them; `log --verify` is intact, then names the entry a
//! test edits by hand; and no secret or token of the credential is anywhere in the log.
//! Run under `scripts/with-keyring.sh`.

#[path = "providers/common.rs"]
mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tillkey_sim::SimConfig;

/// What one run gave, with the pid the process had.
struct Ran {
    pid: u32,
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `cmd` with `stdin`, keeping its pid.
fn ran(mut cmd: Command, stdin: &str) -> Ran {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tillkey");
    let pid = child.id();
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let o = child.wait_with_output().unwrap();
    Ran {
        pid,
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// `tillkey --data-dir D ARGS`, the agent off.
fn cmd(tk: &Tk, args: &[&str]) -> Command {
    let mut c = tk.command();
    c.args(args);
    c
}

fn ok(r: &Ran, what: &str) {
    assert_eq!(r.code, 0, "{what}: {}\n{}", r.stdout, r.stderr);
}

/// `tillkey log --json` as values.
fn entries(tk: &Tk) -> Vec<Value> {
    let out = tk.run(&["log", "--json"], "");
    out.code(0);
    out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The entries about credential `name`, as (action, command, pid, via, outcome).
fn about(all: &[Value], name: &str) -> Vec<(String, String, u64, Option<String>, String)> {
    all.iter()
        .filter(|e| e["credential"]["name"] == name)
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["origin"]["command"].as_str().unwrap_or("").to_string(),
                e["origin"]["pid"].as_u64().unwrap_or(0),
                e["origin"]["via"].as_str().map(str::to_string),
                e["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn log_text(dir: &Path) -> String {
    let mut s = String::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("audit") && name.ends_with(".log") {
            s.push_str(&std::fs::read_to_string(e.path()).unwrap());
        }
    }
    s
}

#[test]
fn every_cli_action_is_logged_once_with_its_origin_and_the_chain_names_an_edit() {
    // Tokens live 3 s, so the second request refreshes.
    let s = Setup::new(
        Kind::ChimpyOffline,
        SimConfig::default().with_token_lifetime(Duration::from_secs(3)),
    );
    let tk = &s.tk;
    let mut tokens = Vec::new();

    let t = ran(cmd(tk, &["token", "c"]), "");
    ok(&t, "token");
    tokens.push(t.stdout.trim().to_string());
    std::thread::sleep(Duration::from_millis(3300));
    // Past its renewal time: exec refreshes first.
    let x = ran(
        cmd(tk, &["exec", "c", "--", "sh", "-c", "printf %s \"$TILLKEY_TOKEN\""]),
        "",
    );
    ok(&x, "exec");
    tokens.push(x.stdout.trim().to_string());
    let refresh = tk.keyring("c", "_refresh_token").expect("a refresh token is held");
    let te = ran(cmd(tk, &["test", "c"]), "");
    ok(&te, "test");
    let rv = ran(cmd(tk, &["revoke", "c"]), "");
    ok(&rv, "revoke");
    let new = "NEW-chimpy-password-Audit-77zQ";
    assert!(s.sim.set_user_password(s.cred.field("username").unwrap(), new));
    let ro = ran(cmd(tk, &["rotate", "c"]), &format!("password={new}\n"));
    ok(&ro, "rotate");
    let pe = ran(cmd(tk, &["period", "c", "30"]), "");
    ok(&pe, "period");
    let mr = ran(cmd(tk, &["mark-rotated", "c"]), "");
    ok(&mr, "mark-rotated");
    let rm = ran(cmd(tk, &["remove", "c"]), "");
    ok(&rm, "remove");
    // An import from a .env file, once per credential it adds.
    let imported_secret = "BEARER-imported-canary-5f1e0c";
    let env = tk.path().join("shop.env");
    std::fs::write(
        &env,
        format!("BEARER_TOKEN={imported_secret}\nBEARER_TEST_URL=https://api.example.com/ping\n"),
    )
    .unwrap();
    let im = ran(cmd(tk, &["import", env.to_str().unwrap(), "--json"]), "");
    ok(&im, "import");
    let report: Value = serde_json::from_str(&im.stdout).unwrap();
    let imported = report["imported"][0]["name"].as_str().unwrap().to_string();
    // A failure is recorded with its code.
    let missing = ran(cmd(tk, &["token", "nope"]), "");
    assert_eq!(missing.code, 2, "{}", missing.stderr);

    let all = entries(tk);
    let c = |a: &str, cmd: &str, pid: u32| (a.to_string(), cmd.to_string(), u64::from(pid), None, "ok".to_string());
    // The set-up added c with `tillkey add` (its pid is not kept).
    let mut of_c = about(&all, "c");
    let added = of_c.remove(0);
    assert_eq!(
        (added.0.as_str(), added.1.as_str(), added.4.as_str()),
        ("add", "add", "ok")
    );
    assert!(added.2 > 0, "{added:?}");
    assert_eq!(
        of_c,
        vec![
            c("token", "token", t.pid),
            c("refresh", "exec", x.pid),
            c("exec", "exec", x.pid),
            c("test", "test", te.pid),
            c("revoke", "revoke", rv.pid),
            c("rotate", "rotate", ro.pid),
            c("edit", "period", pe.pid),
            c("mark-rotated", "mark-rotated", mr.pid),
            c("remove", "remove", rm.pid),
        ],
        "{all:#?}"
    );
    assert_eq!(about(&all, &imported), vec![c("import", "import", im.pid)], "{all:#?}");
    assert_eq!(
        about(&all, "nope"),
        vec![(
            "token".into(),
            "token".into(),
            u64::from(missing.pid),
            None,
            "not_found".into()
        )]
    );
    // Every entry of c names its id, its vault and the CLI.
    let id = all[0]["credential"]["id"].as_str().unwrap().to_string();
    for e in all.iter().filter(|e| e["credential"]["name"] == "c") {
        assert_eq!(e["credential"]["id"], id.as_str(), "{e}");
        assert_eq!(e["vault"], "local");
        assert_eq!(e["origin"]["kind"], "cli");
    }

    // Filters and the table.
    let only = tk.run(&["log", "c", "--action", "test", "--json"], "");
    only.code(0);
    assert_eq!(only.stdout.lines().count(), 1, "{}", only.both());
    let future = tk.run(&["log", "--since", "2999-01-01", "--json"], "");
    future.code(0);
    assert_eq!(future.stdout, "");
    let table = tk.run(&["log"], "");
    table.code(0);
    assert!(
        table.stdout.contains(&format!("cli exec (pid {})", x.pid)),
        "{}",
        table.both()
    );
    tk.run(&["log", "--since", "soon"], "").code(2);
    tk.run(&["log", "--action", "steal"], "").code(2);

    // Canary scan: no secret, refresh token or access token of c anywhere in the log.
    let text = log_text(tk.path());
    let mut canaries = s.cred.secret_values();
    canaries.extend([new.to_string(), refresh, imported_secret.to_string()]);
    canaries.extend(tokens.iter().filter(|t| !t.is_empty()).cloned());
    for canary in &canaries {
        assert!(!text.contains(canary.as_str()), "the audit log holds a secret or token");
    }

    // Intact, with its count; then one entry edited by hand is named.
    let v = tk.run(&["log", "--verify"], "");
    v.code(0);
    assert!(v.stdout.contains(&format!("{} entries", all.len())), "{}", v.both());
    let path = tk.path().join("audit.log");
    let lines: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let victim = lines.iter().position(|l| l.contains("\"action\":\"revoke\"")).unwrap();
    let seq = serde_json::from_str::<Value>(&lines[victim]).unwrap()["seq"]
        .as_u64()
        .unwrap();
    let mut edited = lines.clone();
    edited[victim] = edited[victim].replace("\"command\":\"revoke\"", "\"command\":\"list\"");
    assert_ne!(edited[victim], lines[victim]);
    std::fs::write(&path, edited.join("\n") + "\n").unwrap();
    let v = tk.run(&["log", "--verify"], "");
    v.code(1);
    assert!(
        v.stderr.contains(&format!(
            "error[audit_log_broken]: audit log entry {seq} (audit.log line {})",
            victim + 1
        )),
        "{}",
        v.both()
    );
    assert!(v.stderr.contains("edited"), "{}", v.both());

    // The whole file rewritten consistently without its last entries: the anchor set by
    // the last verify (and by remove) catches it.
    let kept: Vec<String> = lines[..lines.len() - 2].to_vec();
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    let v = tk.run(&["log", "--verify"], "");
    v.code(1);
    assert!(v.stderr.contains("anchored in the keyring"), "{}", v.both());
}

/// Through the real agent, the entries name the client's command and pid (read by the
/// agent from the socket), and `via` is `agent`.
#[test]
fn the_agent_records_the_clients_command_and_pid() {
    let s = Setup::new(Kind::ChimpyOffline, SimConfig::default());
    let tk = &s.tk;
    let xdg = tempfile::tempdir().unwrap();
    let with_agent = |args: &[&str]| {
        let mut c = cmd(tk, args);
        c.env_remove("TILLKEY_NO_AGENT")
            .env("XDG_RUNTIME_DIR", xdg.path())
            .env("TILLKEY_AGENT_IDLE_SECS", "20");
        c
    };
    let mut agent = with_agent(&["agent"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the agent");
    let started = Instant::now();
    while !std::fs::read_dir(xdg.path().join("tillkey"))
        .map(|d| d.flatten().any(|e| e.path().extension().is_some_and(|x| x == "sock")))
        .unwrap_or(false)
    {
        assert!(started.elapsed() < Duration::from_secs(20), "no agent socket");
        std::thread::sleep(Duration::from_millis(20));
    }
    let t = ran(with_agent(&["token", "c"]), "");
    let t2 = ran(with_agent(&["token", "c"]), "");
    let x = ran(with_agent(&["exec", "c", "--", "true"]), "");
    let te = ran(with_agent(&["test", "c"]), "");
    // SIGTERM, as at logout: a SIGKILL mid keyring call can make gnome-keyring 42 abort.
    // SIGKILL only if it is still there after 5 s.
    // SAFETY: signalling the agent this test started.
    unsafe { libc::kill(agent.id() as i32, libc::SIGTERM) };
    let stopping = Instant::now();
    while agent.try_wait().ok().flatten().is_none() {
        if stopping.elapsed() > Duration::from_secs(5) {
            let _ = agent.kill();
            let _ = agent.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for r in [&t, &t2, &x, &te] {
        ok(r, "through the agent");
    }
    let all = entries(tk);
    let a = |act: &str, cmd: &str, pid: u32| {
        (
            act.to_string(),
            cmd.to_string(),
            u64::from(pid),
            Some("agent".to_string()),
            "ok".to_string(),
        )
    };
    // After the set-up's `tillkey add`, everything came through the agent.
    let of_c = about(&all, "c");
    assert_eq!(of_c[0].0, "add", "{of_c:?}");
    assert_eq!(
        of_c[1..],
        vec![
            a("token", "token", t.pid),
            // The second one is answered from the agent's memory: recorded all the same.
            a("token", "token", t2.pid),
            a("exec", "exec", x.pid),
            a("test", "test", te.pid),
        ],
        "{all:#?}"
    );
    let id = all[0]["credential"]["id"].as_str().unwrap();
    assert!(all.iter().all(|e| e["credential"]["id"] == id), "{all:#?}");
    tk.run(&["log", "--verify"], "").code(0);
}
