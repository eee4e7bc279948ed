//! `tillkey`: the command line over tillkey-core. Same vault, same keyring, same providers
//! as the desktop app, so scripts use the credentials the merchant manages by clicking.
//!
//! Output contract: results on stdout (`--json` for machine-readable), errors on stderr
//! with a hint, exit codes 0 ok, 1 rejected/failed, 2 usage or invalid input, 3 keyring
//! unavailable or locked, 4 network, 5 rate limited.

mod agent;
mod agent_client;
mod args;
mod import;
mod input;
mod log;
mod output;
mod passphrase;

use args::{Cli, Command, VaultCommand};
use clap::Parser;
use secrecy::ExposeSecret;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tillkey_core::vault::team;
use tillkey_core::{
    Engine, Environment, Error, KeyringStore, NewCredential, RevokeOutcome, RotateOutcome, SecretStore, TestReport,
    Vault,
};

fn main() -> ExitCode {
    quiet_broken_pipe();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version on stdout (exit 0) and usage errors on stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            output::error(&e);
            ExitCode::from(u8::try_from(e.class().exit_code()).unwrap_or(1))
        }
    }
}

/// `tillkey token NAME | head -c0` and the like: a reader that goes away ends this
/// process quietly, as it does for `cat`, instead of a panic from `println!` (Rust ignores
/// SIGPIPE by default). Programs started by `exec` inherit the default, as they would
/// from a shell.
fn quiet_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: called first in main, before any other thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn open(cli: &Cli) -> Result<Vault, Error> {
    Vault::open_named(cli.data_dir.clone(), cli.vault.as_deref())
}

fn engine(cli: &Cli) -> Result<Engine, Error> {
    Ok(Engine::new(Arc::new(open(cli)?)))
}

/// The one `--wait` loop: while `wait` is set and `limited` says the last outcome was a
/// rate limit (with what to call it and the seconds to wait), waits and runs `op` again,
/// at most three times. Without `wait` the first outcome stands.
async fn waiting<T, F, Fut>(wait: bool, first: T, mut op: F, limited: impl Fn(&T) -> Option<(String, u64)>) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut outcome = first;
    for _ in 0..3 {
        let Some((what, secs)) = limited(&outcome).filter(|_| wait) else {
            break;
        };
        let secs = secs.clamp(1, 300);
        eprintln!("{what}; waiting {secs} s (--wait)");
        tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
        outcome = op().await;
    }
    outcome
}

/// A token request's rate limit, for [`waiting`].
fn token_limited<T>(r: &Result<T, Error>) -> Option<(String, u64)> {
    match r {
        Err(Error::RateLimited {
            provider,
            retry_after_secs,
        }) => Some((format!("{provider} rate limit reached"), *retry_after_secs)),
        _ => None,
    }
}

/// A valid token for `name`, waiting out rate limits with `--wait`.
/// `action` (token or exec) is recorded in the audit log, each try once.
async fn token_for(
    engine: &Engine,
    name: &str,
    wait: bool,
    action: tillkey_core::audit::Action,
) -> Result<tillkey_core::AccessToken, Error> {
    waiting(
        wait,
        engine.token_as(name, action).await,
        || engine.token_as(name, action),
        token_limited,
    )
    .await
}

async fn run(cli: Cli) -> Result<u8, Error> {
    passphrase::register_prompt();
    log::set_origin(&cli.command);
    match &cli.command {
        Command::Vault { .. } | Command::Providers { .. } => {}
        _ => {
            if let Some(v) = cli.vault.as_deref() {
                if v != team::LOCAL_VAULT {
                    team::config::validate_vault_name(v).map_err(|_| Error::InvalidInput {
                        field: "--vault".into(),
                        reason: format!("`{v}` is not a vault name"),
                    })?;
                }
            }
        }
    }
    match cli.command {
        Command::Providers { json } => output::providers(&tillkey_core::providers::schemas(), json).map(|()| 0),
        Command::Add {
            name,
            provider,
            env,
            set,
        } => {
            let schema = tillkey_core::providers::schema(&provider)?;
            let environment = env.as_deref().map(str::parse::<Environment>).transpose()?;
            let fields = input::parse_set(&schema, &set)?;
            let secrets = input::read_secrets(&schema)?;
            let vault = Vault::open_named(cli.data_dir, cli.vault.as_deref())?;
            let added = vault.add(NewCredential {
                name,
                provider,
                environment,
                fields,
                secrets,
            })?;
            println!(
                "Added {} ({}, {}); {} stored in {}.",
                added.name,
                added.provider,
                added.environment,
                output::plural(added.secret_fields.len(), "secret"),
                vault.secret_home()
            );
            Ok(0)
        }
        Command::List { json } => output::list(&open(&cli)?.list()?, json).map(|()| 0),
        Command::Show { ref name, json } => output::show(&open(&cli)?.show(name)?, json).map(|()| 0),
        Command::Test {
            ref name,
            all,
            json,
            wait,
            trace,
        } => {
            let name = name.clone();
            let reports = match agent_client::test(&cli, name.as_deref(), wait).await {
                agent_client::Via::Answer(reports) => reports,
                agent_client::Via::Failed(code) => return Ok(code),
                agent_client::Via::Direct => {
                    let engine = engine(&cli)?;
                    let mut reports = match (&name, all) {
                        (Some(n), _) => vec![engine.test(n).await?],
                        (None, _) => engine.test_all().await?,
                    };
                    for r in reports.iter_mut() {
                        let first = Ok(r.clone());
                        let limited = |o: &Result<TestReport, Error>| {
                            let r = o.as_ref().ok()?;
                            output::rate_limited_for(r).map(|secs| (format!("{}: rate limited", r.credential), secs))
                        };
                        *r = waiting(wait, first, || engine.test(&r.credential), limited).await?;
                    }
                    reports
                }
            };
            if trace {
                output::traced_reports(&open(&cli)?, &reports, json, name.is_some())?;
            } else if json {
                match name {
                    Some(_) => output::print_json(&reports[0])?,
                    None => output::print_json(&reports)?,
                }
            } else {
                output::reports(&reports);
            }
            Ok(output::test_exit_code(&reports))
        }
        Command::Token { ref name, wait, trace } => {
            let asked_at = chrono::Utc::now();
            // With --trace, a failed request is shown too (before its error).
            let shown = |failed: bool| {
                if trace && failed {
                    let _ = open(&cli).and_then(|v| output::token_trace(&v, name, asked_at));
                }
            };
            let token = match agent_client::token(&cli, name, wait).await {
                agent_client::Via::Answer(token) => token,
                agent_client::Via::Failed(code) => {
                    shown(true);
                    return Ok(code);
                }
                agent_client::Via::Direct => {
                    let got = token_for(&engine(&cli)?, name, wait, tillkey_core::audit::Action::Token).await;
                    shown(got.is_err());
                    got?.value
                }
            };
            println!("{}", token.expose_secret());
            if trace {
                output::token_trace(&open(&cli)?, name, asked_at)?;
            }
            Ok(0)
        }
        Command::Exec {
            ref name,
            ref var,
            wait,
            ref cmd,
        } => {
            input::check_var_name(var)?;
            let token = match agent_client::token_as(&cli, name, wait, true).await {
                agent_client::Via::Answer(token) => token,
                agent_client::Via::Failed(code) => return Ok(code),
                agent_client::Via::Direct => {
                    token_for(&engine(&cli)?, name, wait, tillkey_core::audit::Action::Exec)
                        .await?
                        .value
                }
            };
            let (program, args) = cmd.split_first().ok_or_else(|| Error::InvalidInput {
                field: "CMD".into(),
                reason: "no command given".into(),
            })?;
            let status = std::process::Command::new(program)
                .args(args)
                .env(var, token.expose_secret())
                .status()
                .map_err(|e| Error::InvalidInput {
                    field: "CMD".into(),
                    reason: format!("`{program}` could not be started: {e}"),
                })?;
            Ok(output::child_exit_code(status))
        }
        Command::Rotate { ref name } => {
            let name = name.clone();
            let engine = engine(&cli)?;
            let record = engine.vault().record(&name)?;
            let schema = tillkey_core::providers::schema(&record.provider)?;
            let (identity, secrets) = input::read_rotation(&schema, &record.fields)?;
            match engine.rotate_with(&name, identity, secrets).await? {
                RotateOutcome::Rotated {
                    summary,
                    report,
                    old_token,
                    retire_old,
                    retired_identity,
                } => {
                    if retired_identity.is_empty() {
                        println!(
                            "Rotated {}: the new secret passed its test ({}) and is now in use.",
                            summary.name, report.summary
                        );
                    } else {
                        let now: Vec<String> = retired_identity
                            .keys()
                            .map(|k| format!("{k} {}", summary.fields.get(k).map(String::as_str).unwrap_or("")))
                            .collect();
                        println!(
                            "Rotated {} to a new set ({}): it passed its test ({}) and is now in use.",
                            summary.name,
                            now.join(", "),
                            report.summary
                        );
                    }
                    let old: Vec<String> = retired_identity.iter().map(|(k, v)| format!("{k} {v}")).collect();
                    match old_token {
                        Ok(RevokeOutcome::Revoked) if old.is_empty() => {
                            println!("The old secret's cached token was revoked at the provider.")
                        }
                        Ok(RevokeOutcome::Revoked) => println!(
                            "The old set's cached token was revoked at the provider with the old {}.",
                            old.join(", ")
                        ),
                        Ok(_) => {}
                        Err(e) => eprintln!(
                            "warning: the old token could not be revoked ({}): {}",
                            e.code, e.message
                        ),
                    }
                    println!("Retire the old secret: {retire_old}");
                    Ok(0)
                }
                RotateOutcome::Rejected { report } => {
                    eprintln!("The new secret failed its test; nothing changed, the old secret is still in use.");
                    output::reports(std::slice::from_ref(&report));
                    Ok(output::test_exit_code(std::slice::from_ref(&report)))
                }
            }
        }
        Command::Revoke { ref name } => {
            match engine(&cli)?.revoke(name).await? {
                RevokeOutcome::Revoked => println!("Revoked the cached access token of {name} at the provider."),
                RevokeOutcome::NothingCached => println!("{name} has no cached access token; nothing to revoke."),
                RevokeOutcome::NoEndpoint { portal_steps } => println!(
                    "Discarded the cached token of {name}. Its provider has no revocation endpoint, so the token stays valid there until it expires. To retire the secret itself: {portal_steps}"
                ),
            }
            Ok(0)
        }
        Command::Remove { ref name } => {
            let vault = open(&cli)?;
            vault.remove(name)?;
            match vault.team_name() {
                None => println!("Removed {name} and its keyring entries."),
                Some(t) => println!("Removed {name} and its secrets from team vault `{t}`."),
            }
            Ok(0)
        }
        Command::Period { ref name, days, json } => {
            let c = open(&cli)?.set_rotation_period(name, days)?;
            output::changed(&c, json, &format!("{name} is now rotated every {days} days"))
        }
        Command::MarkRotated { ref name, json } => {
            let c = open(&cli)?.mark_rotated(name)?;
            output::changed(&c, json, &format!("{name} is marked rotated today"))
        }
        Command::Settings {
            reminder_days,
            default_period,
            json,
        } => {
            let vault = open(&cli)?;
            let mut settings = vault.vault_settings()?;
            if reminder_days.is_some() || default_period.is_some() {
                settings.reminder_lead_days = reminder_days.unwrap_or(settings.reminder_lead_days);
                settings.default_rotation_days = default_period.unwrap_or(settings.default_rotation_days);
                settings = vault.set_settings(settings)?;
            }
            output::settings(&settings, json).map(|()| 0)
        }
        Command::Vault { action } => vault_command(cli.data_dir, action),
        Command::Passphrase { action } => passphrase::command(cli.data_dir, cli.vault.as_deref(), action),
        Command::Lock => match agent_client::lock(&cli) {
            agent_client::Via::Answer(()) => Ok(0),
            agent_client::Via::Failed(code) => Ok(code),
            agent_client::Via::Direct => passphrase::lock(cli.data_dir, cli.vault.as_deref()),
        },
        Command::Unlock => match agent_client::unlock(&cli)? {
            agent_client::Via::Answer(()) => Ok(0),
            agent_client::Via::Failed(code) => Ok(code),
            agent_client::Via::Direct => passphrase::unlock(cli.data_dir, cli.vault.as_deref()),
        },
        Command::Agent => agent::run(cli.data_dir, cli.vault.as_deref()).await,
        Command::Log {
            ref name,
            ref since,
            ref action,
            json,
            verify,
        } => log::command(&cli, name.as_deref(), since.as_deref(), action.as_deref(), json, verify),
        Command::Import {
            ref file,
            dry_run,
            ref map,
            ref mapping,
            json,
        } => import::import(&cli, file, dry_run, map, mapping.as_deref(), json),
        Command::Export { ref file, force } => import::export(&cli, file, force),
    }
}

fn vault_command(data_dir: Option<PathBuf>, action: VaultCommand) -> Result<u8, Error> {
    let dir = tillkey_core::vault::resolve_data_dir(data_dir)?;
    // This machine's engine logins are sealed with the local vault's other secrets.
    let keyring: Arc<dyn SecretStore> = tillkey_core::vault::secrets::SealedStore::over(&dir, Arc::new(KeyringStore));
    match action {
        VaultCommand::Connect {
            name,
            address,
            mount,
            prefix,
            auth,
            role_id,
            namespace,
            ca_file,
            share_tokens,
            retain,
            json,
        } => {
            let auth: team::TeamAuth = auth.parse()?;
            let opts = team::ConnectOptions {
                name,
                address,
                mount: Some(mount),
                prefix: Some(prefix),
                auth,
                role_id,
                namespace,
                ca_file,
                retain,
                share_tokens,
            };
            // Check the settings before asking for the secret.
            opts.clone().into_config()?;
            let secret = match auth {
                team::TeamAuth::Token => input::read_engine_secret("token", "Engine token")?,
                team::TeamAuth::Approle => input::read_engine_secret("secret_id", "AppRole secret_id")?,
            };
            let status = team::connect(&dir, opts, secret, keyring)?;
            if json {
                output::print_json(&status)?;
            } else {
                println!(
                    "Connected team vault {} at {} ({}).",
                    status.name,
                    status.address,
                    output::vault_state(&status)
                );
            }
            Ok(0)
        }
        VaultCommand::List { json } => {
            let all = team::list_vaults(&dir, keyring)?;
            if json {
                output::print_json(&all)?;
            } else {
                output::vaults(&all);
            }
            Ok(0)
        }
        VaultCommand::Disconnect { name } => {
            team::disconnect(&dir, &name, keyring)?;
            println!("Disconnected team vault {name} from this machine; its data in the engine is untouched.");
            Ok(0)
        }
    }
}
