//! `tillkey-sim`: runs every provider simulator on loopback with one demo credential
//! each, prints their URLs (and the demo credentials) as one JSON document on stdout,
//! and serves until interrupted.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use tillkey_sim::SimConfig;

const USAGE: &str = "\
Usage: tillkey-sim [OPTIONS]

Runs every Tillkey provider simulator on 127.0.0.1 (random ports), prints their URLs and
the demo credentials as JSON on one line of stdout, then serves until Ctrl-C.

Options:
  --show-secrets          include the demo secret values in the JSON
  --token-lifetime SECS   access token lifetime (default 3600)
  --rate-limit N|off      requests per client and minute (default 50)
  --pretty                pretty-print the JSON
  -h, --help              this help";

struct Args {
    show_secrets: bool,
    pretty: bool,
    config: SimConfig,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args {
        show_secrets: false,
        pretty: false,
        config: SimConfig::default(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--show-secrets" => args.show_secrets = true,
            "--pretty" => args.pretty = true,
            "--token-lifetime" => {
                let v = it.next().ok_or("--token-lifetime needs a value")?;
                let secs: u64 = v
                    .parse()
                    .map_err(|_| format!("--token-lifetime: not a number of seconds: {v}"))?;
                args.config.token_lifetime = Duration::from_secs(secs);
            }
            "--rate-limit" => {
                let v = it.next().ok_or("--rate-limit needs a value")?;
                args.config.rate_limit = if v == "off" {
                    None
                } else {
                    Some(v.parse().map_err(|_| format!("--rate-limit: not a number: {v}"))?)
                };
            }
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    Ok(Some(args))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("tillkey-sim: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tillkey-sim: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let demo = match tillkey_sim::demo(args.config).await {
            Ok(d) => d,
            Err(e) => {
                eprintln!("tillkey-sim: cannot start the simulators: {e}");
                return ExitCode::FAILURE;
            }
        };
        let json = demo.to_json(args.show_secrets);
        let text = if args.pretty {
            serde_json::to_string_pretty(&json)
        } else {
            serde_json::to_string(&json)
        };
        let mut out = std::io::stdout().lock();
        if text
            .map_err(std::io::Error::other)
            .and_then(|t| writeln!(out, "{t}"))
            .and_then(|()| out.flush())
            .is_err()
        {
            return ExitCode::FAILURE;
        }
        drop(out);
        let _ = tokio::signal::ctrl_c().await;
        drop(demo);
        ExitCode::SUCCESS
    })
}
