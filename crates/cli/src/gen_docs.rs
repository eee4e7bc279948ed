//! `tillkey-gen-docs OUT_DIR`: writes the man pages and shell completions of `tillkey`,
//! generated from the clap definitions in `args.rs`, plus the app's short man page.
//!
//! A build tool for `scripts/package-deb.sh`, never installed: the pages are generated when
//! the package is built, so they always describe the binary shipped next to them and are
//! never committed.
//!
//! Output:
//! - `OUT_DIR/man1/`: `tillkey.1`, one page per subcommand (`tillkey-add.1`, …,
//!   `tillkey-vault-connect.1`) and `tillkey-app.1`;
//! - `OUT_DIR/completions/`: `tillkey.bash`, `_tillkey` (zsh) and `tillkey.fish`.

// Only the definitions are used here, not the parsed values.
#[allow(dead_code)]
#[path = "args.rs"]
mod args;

use clap::CommandFactory;
use clap_complete::Shell;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const MANUAL: &str = "Tillkey manual";

fn main() -> ExitCode {
    let mut argv = std::env::args_os().skip(1);
    let (Some(out), None) = (argv.next(), argv.next()) else {
        eprintln!("usage: tillkey-gen-docs OUT_DIR");
        return ExitCode::from(2);
    };
    match generate(Path::new(&out)) {
        Ok(files) => {
            for file in files {
                println!("{}", file.display());
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("tillkey-gen-docs: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Writes every page and completion file under `out`; returns their paths.
fn generate(out: &Path) -> io::Result<Vec<PathBuf>> {
    let man_dir = out.join("man1");
    let completion_dir = out.join("completions");
    fs::create_dir_all(&man_dir)?;
    fs::create_dir_all(&completion_dir)?;

    let mut files = Vec::new();
    // The `help` subcommand is clap's own: no page and no completion for it.
    let mut cli = args::Cli::command().disable_help_subcommand(true);
    cli.build();
    man_pages(&cli, &[], &man_dir, &mut files)?;
    files.push(app_man_page(&man_dir)?);

    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        files.push(clap_complete::generate_to(shell, &mut cli, "tillkey", &completion_dir)?);
    }
    Ok(files)
}

/// `tillkey(1)`, then one page per subcommand, recursively (`tillkey-vault-connect(1)`).
/// `parents` are the pages above this one, for the SEE ALSO section.
fn man_pages(cmd: &clap::Command, parents: &[String], dir: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    // Built subcommands carry their full name ("tillkey-vault-connect") as display name.
    let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name()).to_owned();
    let man = clap_mangen::Man::new(cmd.clone())
        .source(format!("tillkey {VERSION}"))
        .manual(MANUAL);
    let mut page = Vec::new();
    man.render(&mut page)?;

    let mut see_also: Vec<String> = parents.iter().map(|p| format!("{p}(1)")).collect();
    if parents.is_empty() {
        // The top page: where the vault lives, and the app that shares it.
        page.extend_from_slice(TOP_PAGE_EXTRA.as_bytes());
        see_also.push("tillkey-app(1)".into());
    }
    write_see_also(&mut page, &see_also)?;
    let path = dir.join(format!("{name}.1"));
    fs::write(&path, page)?;
    files.push(path);

    let mut parents = parents.to_vec();
    parents.push(name);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        man_pages(sub, &parents, dir, files)?;
    }
    Ok(())
}

/// Sections of `tillkey(1)` that clap has no field for (roff, appended after clap's).
const TOP_PAGE_EXTRA: &str = r#".SH ENVIRONMENT
.TP
\fBTILLKEY_DATA_DIR\fR
Data directory of the vault, used when \fB\-\-data\-dir\fR is not given.
.SH FILES
.TP
\fI~/.local/share/tillkey/\fR
The default data directory on Linux (\fB$XDG_DATA_HOME/tillkey\fR): the vault's metadata
file, never a secret. Secrets live in the OS keyring (Secret Service), under the service
name \fBtillkey\fR.
"#;

fn write_see_also(page: &mut Vec<u8>, refs: &[String]) -> io::Result<()> {
    if refs.is_empty() {
        return Ok(());
    }
    let refs: Vec<String> = refs
        .iter()
        .map(|r| {
            let (name, section) = r.split_once('(').unwrap_or((r, "1)"));
            format!("\\fB{}\\fR({section}", name.replace('-', "\\-"))
        })
        .collect();
    writeln!(page, ".SH \"SEE ALSO\"\n{}", refs.join(", "))
}

/// `tillkey-app(1)`: the desktop app takes no arguments but `--version`.
fn app_man_page(dir: &Path) -> io::Result<PathBuf> {
    let app = clap::Command::new("tillkey-app")
        .version(VERSION)
        .about("Tillkey desktop app: POS and payment API credentials in the OS keyring")
        .long_about(
            "The Tillkey window: add credentials, see token expiry and rotation reminders, run a \
             connectivity test and copy a token. Secrets are kept in the OS keyring (Secret \
             Service); the vault is shared with the tillkey command line.",
        )
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(
            clap::Arg::new("version")
                .short('V')
                .long("version")
                .action(clap::ArgAction::Version)
                .help("Print the version and exit, without opening a window"),
        );
    let man = clap_mangen::Man::new(app)
        .source(format!("tillkey {VERSION}"))
        .manual(MANUAL);
    let mut page = Vec::new();
    man.render(&mut page)?;
    page.extend_from_slice(
        br#".SH ENVIRONMENT
.TP
\fBTILLKEY_DATA_DIR\fR
Data directory of the vault (default: \fI~/.local/share/tillkey/\fR).
"#,
    );
    write_see_also(&mut page, &["tillkey(1)".to_string()])?;
    let path = dir.join("tillkey-app.1");
    fs::write(&path, page)?;
    Ok(path)
}
