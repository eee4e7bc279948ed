//! The vault passphrase against the real keyring (run under `scripts/with-keyring.sh`) and
//! the provider simulators:
//! - `passphrase set`: no long-lived secret is left in plain text in the keyring
//!   (`secret-tool search --all`), nor in any file of the data dir;
//! - locked (no agent, no terminal): `token` of a credential without a valid cached token,
//!   `exec` and `test` exit 3 with `error[locked]`; a cached access token stays usable;
//!   `list` and `show` work; on a terminal the passphrase is asked for that one call;
//! - wrong passphrase: exit 1 `wrong_passphrase`, nothing changed;
//! - `change` rewrites no secret; `remove` restores the plain entries;
//! - `lock`, `unlock`, `--vault NAME lock` and bad input;
//! - this machine's team vault login (real OpenBao) is sealed with the local vault: a team
//!   vault is locked with it and opens on a terminal with the passphrase.

#[path = "support/bao.rs"]
mod bao;
#[path = "providers/common.rs"]
mod common;
#[path = "support/secret_tool.rs"]
mod secret_tool;

use common::{Cred, Kind, Out, Tk};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;
use tillkey_sim::{ProviderSim, SimConfig};

/// `tillkey ARGS` with `stdin`, never through an agent (these tests are of the direct path).
fn run(tk: &Tk, args: &[&str], stdin: &str) -> Out {
    let started = Instant::now();
    let mut child = tk
        .command()
        .env("TILLKEY_NO_AGENT", "1")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tillkey");
    let _ = child.stdin.take().expect("stdin").write_all(stdin.as_bytes());
    let o = child.wait_with_output().expect("wait for tillkey");
    let out = Out {
        args: args.iter().map(|s| s.to_string()).collect(),
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        elapsed: started.elapsed(),
    };
    tk.record(&out, args.first() != Some(&"token"));
    out
}

/// `tillkey ARGS` on a pseudo-terminal (`script`), typing `typed` into it.
fn run_on_tty(tk: &Tk, args: &[&str], typed: &str) -> Out {
    let mut line = format!(
        "{} --data-dir {}",
        common::BIN,
        tk.path().to_str().expect("UTF-8 temp path")
    );
    for a in args {
        line.push(' ');
        line.push_str(a);
    }
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("TILLKEY_NO_AGENT", "1")
        .env_remove("TILLKEY_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) is installed");
    let _ = child.stdin.take().expect("stdin").write_all(typed.as_bytes());
    let o = child.wait_with_output().expect("wait for script");
    Out {
        args: args.iter().map(|s| s.to_string()).collect(),
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        elapsed: std::time::Duration::ZERO,
    }
}

#[track_caller]
fn assert_error(out: &Out, code: i32, error: &str) {
    out.code(code);
    assert!(
        out.stderr.contains(&format!("error[{error}]")) && out.stderr.contains("hint:"),
        "expected error[{error}] with a hint\n{}",
        out.both()
    );
}

/// Every keyring item of this data dir's vault (the session keyring is shared with other
/// tests, so only this vault's id prefix counts).
fn vault_items(tk: &Tk) -> Vec<secret_tool::Item> {
    let prefix = format!("{}/", tk.meta()["vault_id"].as_str().expect("vault id"));
    secret_tool::search(|| Command::new("secret-tool"))
        .into_iter()
        .filter(|i| i.account.starts_with(&prefix))
        .collect()
}

/// The canary scan: with the passphrase set, every item of the vault is sealed except
/// cached access tokens (documented: usable while locked), and none holds a secret.
#[track_caller]
fn assert_sealed(tk: &Tk, creds: &[&Cred]) {
    let items = vault_items(tk);
    assert!(!items.is_empty());
    for i in &items {
        assert!(
            i.account.ends_with(".sealed") || i.account.ends_with("/_access_token"),
            "plain long-lived entry {} while a passphrase is set",
            i.account
        );
        for c in creds {
            for s in c.secret_values() {
                assert!(!i.secret.contains(&s), "{} holds a secret of {}", i.account, c.name);
            }
        }
    }
}

#[test]
fn passphrase_seals_every_long_lived_secret_and_locked_refuses_them() {
    let cfg = SimConfig::default().with_rate_limit(None);
    let oauth = common::start(ProviderSim::Oauth2, cfg.clone());
    let chimpy = common::start(ProviderSim::Chimpy, cfg);
    let pay = common::register(Kind::Oauth2Post, &oauth, "pay");
    let bear = common::register(Kind::Bearer, &oauth, "bear");
    let chimp = common::register(Kind::ChimpyOffline, &chimpy, "chimp");
    let tk = Tk::new();
    for c in [&pay, &bear, &chimp] {
        tk.add(c);
    }
    let pay_token = run(&tk, &["token", "pay"], "").code(0).stdout.clone();
    run(&tk, &["token", "chimp"], "").code(0);
    let bear_token = bear.secret("token").to_string();

    // Bad input changes nothing.
    assert_error(&run(&tk, &["passphrase", "set"], ""), 2, "invalid_input");
    assert_error(&run(&tk, &["passphrase", "set"], "a\nb\n"), 2, "invalid_input");
    assert_error(&run(&tk, &["lock"], ""), 2, "invalid_input");
    assert!(!tk.path().join("passphrase.json").exists());

    let set = run(&tk, &["passphrase", "set"], "correct horse\n");
    set.code(0);
    let file = tk.path().join("passphrase.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "passphrase.json is private");
    }
    assert_sealed(&tk, &[&pay, &bear, &chimp]);
    assert!(
        vault_items(&tk)
            .iter()
            .any(|i| i.account.ends_with("/_refresh_token.sealed")),
        "the refresh token is sealed too"
    );
    let files = tk.files_text();
    for s in [&pay, &bear, &chimp].iter().flat_map(|c| c.secret_values()) {
        assert!(!files.contains(&s), "a secret in a data dir file");
    }
    assert!(!files.contains("correct horse"), "the passphrase in a data dir file");

    // Locked: no agent, no terminal.
    assert_eq!(
        run(&tk, &["token", "pay"], "").code(0).stdout,
        pay_token,
        "a cached access token stays usable while locked"
    );
    assert_error(&run(&tk, &["token", "bear"], ""), 3, "locked");
    assert_error(&run(&tk, &["exec", "bear", "--", "true"], ""), 3, "locked");
    assert_error(&run(&tk, &["test", "pay"], ""), 3, "locked");
    run(&tk, &["list"], "").code(0);
    run(&tk, &["show", "bear", "--json"], "").code(0);
    let lock = run(&tk, &["lock"], "");
    lock.code(0);
    assert!(lock.stdout.contains("locked"), "{}", lock.both());
    assert_error(&run(&tk, &["--vault", "team", "lock"], ""), 2, "invalid_input");
    assert_error(
        &run(&tk, &["--vault", "team", "passphrase", "change"], "a\nb\n"),
        2,
        "invalid_input",
    );
    let unlock = run(&tk, &["unlock"], "");
    unlock.code(2);
    assert!(unlock.stderr.contains("agent"), "{}", unlock.both());

    // On a terminal the passphrase opens the vault for that one call.
    let tty = run_on_tty(&tk, &["token", "bear"], "correct horse\n");
    assert!(
        tty.code == 0 && tty.stdout.contains(&bear_token),
        "token on a terminal\n{}",
        tty.both()
    );
    let tty = run_on_tty(
        &tk,
        &["exec", "bear", "--", "sh", "-c", "'test -n \"$TILLKEY_TOKEN\"'"],
        "correct horse\n",
    );
    assert_eq!(tty.code, 0, "exec on a terminal\n{}", tty.both());
    assert_sealed(&tk, &[&pay, &bear, &chimp]);

    // A wrong passphrase: exit 1, nothing changed.
    let before = vault_items(&tk);
    assert_error(
        &run(&tk, &["passphrase", "change"], "wrong\nnew one\n"),
        1,
        "wrong_passphrase",
    );
    assert_error(
        &run(&tk, &["passphrase", "remove"], "wrong again\n"),
        1,
        "wrong_passphrase",
    );
    assert_eq!(vault_items(&tk), before);

    // Change: only the key is re-wrapped.
    run(&tk, &["passphrase", "change"], "correct horse\nbattery staple\n").code(0);
    assert_eq!(vault_items(&tk), before, "change rewrites no secret");
    let tty = run_on_tty(&tk, &["token", "bear"], "battery staple\n");
    assert!(tty.code == 0 && tty.stdout.contains(&bear_token), "{}", tty.both());
    assert_error(&run(&tk, &["passphrase", "set"], "x\n"), 2, "invalid_input");

    // Remove: plain again, everything works without a passphrase.
    run(&tk, &["passphrase", "remove"], "battery staple\n").code(0);
    assert!(!file.exists());
    assert!(vault_items(&tk).iter().all(|i| !i.account.ends_with(".sealed")));
    assert_eq!(tk.keyring("bear", "token").as_deref(), Some(bear_token.as_str()));
    assert_eq!(run(&tk, &["token", "bear"], "").code(0).stdout.trim(), bear_token);
    run(&tk, &["test", "pay"], "").code(0);
    assert_error(&run(&tk, &["passphrase", "remove"], "x\n"), 2, "invalid_input");

    let transcript = tk.transcript();
    for s in [&pay, &bear, &chimp].iter().flat_map(|c| c.secret_values()) {
        assert!(!transcript.contains(&s), "a secret in the CLI's output");
    }
    assert!(!transcript.contains("correct horse") && !transcript.contains("battery staple"));
}

#[test]
fn team_vault_logins_are_sealed_with_the_local_vault() {
    let bao = bao::Bao::start();
    let engine_token = bao.token("tillkey-admin");
    let tk = Tk::new();
    run(
        &tk,
        &["vault", "connect", "team", "--address", &bao.addr],
        &format!("token={engine_token}\n"),
    )
    .code(0);
    let team_secret = "canary-team-token-Vb41";
    run(
        &tk,
        &["--vault", "team", "add", "t1", "--provider", "bearer"],
        &format!("token={team_secret}\n"),
    )
    .code(0);
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tk.path().join("team-vaults.json")).expect("team-vaults.json")).unwrap();
    let login_prefix = format!(
        "team-vault/{}/",
        cfg["vaults"][0]["id"].as_str().expect("connection id")
    );
    let logins = || -> Vec<secret_tool::Item> {
        secret_tool::search(|| Command::new("secret-tool"))
            .into_iter()
            .filter(|i| i.account.starts_with(&login_prefix))
            .collect()
    };
    assert!(logins().iter().any(|i| i.secret == engine_token), "plain login before");

    run(&tk, &["passphrase", "set"], "team pass\n").code(0);
    let sealed = logins();
    assert!(!sealed.is_empty());
    for i in &sealed {
        assert!(i.account.ends_with(".sealed"), "{} is plain", i.account);
        assert!(
            !i.secret.contains(&engine_token),
            "{} holds the engine token",
            i.account
        );
    }
    assert_error(&run(&tk, &["--vault", "team", "token", "t1"], ""), 3, "locked");
    let list = run(&tk, &["vault", "list"], "");
    let team_line = list.stdout.lines().find(|l| l.starts_with("team ")).unwrap_or_default();
    assert!(team_line.contains("locked"), "{}", list.both());
    let tty = run_on_tty(&tk, &["--vault", "team", "token", "t1"], "team pass\n");
    assert!(tty.code == 0 && tty.stdout.contains(team_secret), "{}", tty.both());

    run(&tk, &["passphrase", "remove"], "team pass\n").code(0);
    assert!(logins().iter().any(|i| i.secret == engine_token), "plain login again");
    assert_eq!(
        run(&tk, &["--vault", "team", "token", "t1"], "").code(0).stdout.trim(),
        team_secret
    );
    run(&tk, &["vault", "disconnect", "team"], "").code(0);
    assert!(logins().is_empty());
}

#[test]
fn with_lock_tokens_a_cached_token_needs_the_passphrase_too() {
    let oauth = common::start(ProviderSim::Oauth2, SimConfig::default().with_rate_limit(None));
    let pay = common::register(Kind::Oauth2Post, &oauth, "pay");
    let tk = Tk::new();
    tk.add(&pay);
    let cached = run(&tk, &["token", "pay"], "").code(0).stdout.clone();
    run(&tk, &["passphrase", "set", "--lock-tokens"], "tokens pass\n").code(0);
    let items = vault_items(&tk);
    assert!(items.iter().all(|i| i.account.ends_with(".sealed")), "{items:?}");
    assert!(items.iter().all(|i| !i.secret.contains(cached.trim())));
    assert_error(&run(&tk, &["token", "pay"], ""), 3, "locked");
    let tty = run_on_tty(&tk, &["token", "pay"], "tokens pass\n");
    assert_eq!(tty.code, 0, "{}", tty.both());
    assert!(
        vault_items(&tk)
            .iter()
            .any(|i| i.account.ends_with("/_access_token.sealed")),
        "the new cached token is sealed"
    );
    assert_error(&run(&tk, &["token", "pay"], ""), 3, "locked");
    run(&tk, &["passphrase", "change"], "tokens pass\nnew tokens pass\n").code(0);
    assert_error(&run(&tk, &["token", "pay"], ""), 3, "locked");
    run(&tk, &["passphrase", "remove"], "new tokens pass\n").code(0);
    assert!(vault_items(&tk).iter().all(|i| !i.account.ends_with(".sealed")));
    run(&tk, &["token", "pay"], "").code(0);
}
