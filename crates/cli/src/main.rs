//! `tillkey`: the command line over tillkey-core. Same vault, same keyring, same providers
//! as the desktop app, so scripts use the credentials the merchant manages by clicking.
//!
//! Output contract: results on stdout (`--json` for machine-readable), errors on stderr
//! with a hint, exit codes 0 ok, 1 rejected/failed, 2 usage or invalid input, 3 keyring
//! unavailable or locked, 4 network, 5 rate limited.

mod input;
mod output;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tillkey_core::{Environment, Error, NewCredential, Vault};

/// Credentials for POS and payment APIs, kept in the OS keyring.
#[derive(Parser, Debug)]
#[command(name = "tillkey", version, about, long_about = None)]
struct Cli {
    /// Data directory of the vault (default: $TILLKEY_DATA_DIR, else the platform data dir).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Provider kinds and their field schemas.
    Providers {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Add a credential. Secret fields are read from stdin as FIELD=VALUE lines, or from a
    /// hidden prompt on a terminal; never from arguments.
    Add {
        /// Unique name (letters, digits, `.`, `_`, `-`).
        name: String,
        /// Provider kind (see `tillkey providers`).
        #[arg(long)]
        provider: String,
        /// Environment: production or sandbox (Paysera POS: demo).
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        /// A non-secret field, FIELD=VALUE; repeatable.
        #[arg(long = "set", value_name = "FIELD=VALUE")]
        set: Vec<String>,
    },
    /// Every credential: name, kind, environment, token expiry, rotation status.
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// One credential's metadata (never its secrets).
    Show {
        /// Credential name.
        name: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Delete a credential's metadata and every keyring entry it has.
    Remove {
        /// Credential name.
        name: String,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version on stdout (exit 0) and usage errors on stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            output::error(&e);
            ExitCode::from(u8::try_from(e.class().exit_code()).unwrap_or(1))
        }
    }
}

fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Providers { json } => output::providers(&tillkey_core::providers::schemas(), json),
        Command::Add { name, provider, env, set } => {
            let schema = tillkey_core::providers::schema(&provider)?;
            let environment = env.as_deref().map(str::parse::<Environment>).transpose()?;
            let fields = input::parse_set(&schema, &set)?;
            let secrets = input::read_secrets(&schema)?;
            let vault = Vault::open_default(cli.data_dir)?;
            let added = vault.add(NewCredential { name, provider, environment, fields, secrets })?;
            println!(
                "Added {} ({}, {}); {} stored in the OS keyring.",
                added.name,
                added.provider,
                added.environment,
                output::plural(added.secret_fields.len(), "secret")
            );
            Ok(())
        }
        Command::List { json } => output::list(&Vault::open_default(cli.data_dir)?.list()?, json),
        Command::Show { name, json } => output::show(&Vault::open_default(cli.data_dir)?.show(&name)?, json),
        Command::Remove { name } => {
            Vault::open_default(cli.data_dir)?.remove(&name)?;
            println!("Removed {name} and its keyring entries.");
            Ok(())
        }
    }
}
