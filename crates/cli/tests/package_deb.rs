//! The built Debian package, extracted with `dpkg-deb -x` into a temporary root: both
//! programs run and print one version, the man pages and the three completion files are
//! where Debian looks for them, bash completes `tillkey te<TAB>` to `test` and `tillkey t<TAB>`
//! to `test` and `token`, and the package stays under 8 MB.
//!
//! The package is checked against the current sources (the workspace version, one man page
//! per subcommand of `src/args.rs`). Which package:
//! - `$TILLKEY_DEB`: scripts/package-deb.sh sets it after building; a missing file fails.
//! - else the newest `target/release/bundle/deb/*.deb`, unless it is older than one of the
//!   files it is built from (`SOURCES`): a .deb left over from before a CLI change is not a
//!   failure of that change, so the test prints `skipped: … older than …` and returns.
//! - with neither, it prints `skipped: no .deb built` and returns.
//!
//! Skips are printed on stderr directly (the test harness does not capture that), so they
//! show in `scripts/test.sh`'s output; `./scripts/package-deb.sh` builds and checks for real.

// The CLI's own clap definitions: the expected man pages are derived from them.
#[allow(dead_code)]
#[path = "../src/args.rs"]
mod args;

use clap::CommandFactory;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The issue's budget (and the benchmark's size row): decimal megabytes.
const MAX_DEB_BYTES: u64 = 8_000_000;
const REBUILD: &str = "rebuild it with ./scripts/package-deb.sh (the .deb may be older than the sources)";
/// What the checked parts of the package are made from, relative to the workspace root
/// (directories: every file in them).
const SOURCES: &[&str] = &[
    "Cargo.toml",
    "tauri.conf.json",
    "src-tauri/tauri.linux.conf.json",
    "crates/cli/src/args.rs",
    "crates/cli/src/gen_docs.rs",
    "packaging/deb",
];

#[test]
fn deb_installs_both_programs_man_pages_and_completions() {
    let deb = match find_deb() {
        Found::Deb(deb) => deb,
        Found::Skip(why) => {
            // Straight to the stream: the harness captures eprintln! of passing tests.
            let _ = writeln!(std::io::stderr(), "skipped: {why}");
            return;
        }
    };
    let mut problems = Vec::new();

    let field = |name: &str| -> String {
        let out = run(Command::new("dpkg-deb").arg("--field").arg(&deb).arg(name));
        out.trim().to_string()
    };
    let version = field("Version");
    let expect_fields = [
        ("Package", "tillkey"),
        ("Version", env!("CARGO_PKG_VERSION")),
        ("Recommends", "gnome-keyring | keepassxc | kwalletmanager"),
    ];
    for (name, want) in expect_fields {
        let got = field(name);
        if got != want {
            problems.push(format!("control field {name}: {got:?}, expected {want:?}"));
        }
    }
    for name in ["Maintainer", "Homepage", "Section", "Depends"] {
        if field(name).is_empty() {
            problems.push(format!("control field {name} is missing"));
        }
    }

    let size = std::fs::metadata(&deb).expect("stat the .deb").len();
    if size >= MAX_DEB_BYTES {
        problems.push(format!(
            "the .deb is {size} bytes, over the {MAX_DEB_BYTES}-byte budget"
        ));
    }

    let root = tempfile::tempdir().expect("temp root");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(root.path()));
    let root = root.path();

    // Both programs, one version (the workspace's, which is also the package's).
    for (bin, name) in [("usr/bin/tillkey", "tillkey"), ("usr/bin/tillkey-app", "tillkey-app")] {
        let want = format!("{name} {version}");
        match try_run(Command::new(root.join(bin)).arg("--version")) {
            Ok(out) if out.trim() == want => {}
            Ok(out) => problems.push(format!("{bin} --version printed {:?}, expected {want:?}", out.trim())),
            Err(e) => problems.push(e),
        }
    }
    if root.join("usr/bin/tillkey-gen-docs").exists() {
        problems.push("usr/bin/tillkey-gen-docs is a build tool and must not be installed".into());
    }

    // A man page for tillkey, each subcommand (vault's too) and the app, gzipped.
    for page in expected_man_pages() {
        let path = root.join("usr/share/man/man1").join(format!("{page}.1.gz"));
        if !path.is_file() {
            problems.push(format!(
                "missing man page {}",
                path.strip_prefix(root).unwrap().display()
            ));
            continue;
        }
        let text = run(Command::new("gzip").arg("-dc").arg(&path));
        if !text.contains(".TH") {
            problems.push(format!("{page}.1.gz is not a man page"));
        }
    }

    let bash = root.join("usr/share/bash-completion/completions/tillkey");
    let completions = [
        (bash.clone(), "_tillkey()"),
        (
            root.join("usr/share/zsh/vendor-completions/_tillkey"),
            "#compdef tillkey",
        ),
        (
            root.join("usr/share/fish/vendor_completions.d/tillkey.fish"),
            "complete -c tillkey",
        ),
    ];
    for (path, marker) in &completions {
        match std::fs::read_to_string(path) {
            Ok(text) if text.contains(marker) => {}
            Ok(_) => problems.push(format!("{} lacks {marker:?}", path.display())),
            Err(e) => problems.push(format!("missing {}: {e}", path.display())),
        }
    }
    if bash.is_file() {
        // `te` is a prefix of `test` only; `t` of both `test` and `token`.
        for (words, want) in [
            (&["tillkey", "te"][..], &["test"][..]),
            (&["tillkey", "t"], &["test", "token"]),
            (&["tillkey", "vault", "c"], &["connect"]),
        ] {
            let got = bash_complete(&bash, words);
            if got != want {
                problems.push(format!(
                    "bash completes {:?} to {got:?}, expected {want:?}",
                    words.join(" ")
                ));
            }
        }
    }

    assert!(
        problems.is_empty(),
        "{} is not right:\n  {}\n{REBUILD}",
        deb.display(),
        problems.join("\n  ")
    );
}

enum Found {
    Deb(PathBuf),
    Skip(String),
}

/// `$TILLKEY_DEB`, else the newest .deb of the release bundle dir if it is newer than its
/// sources.
fn find_deb() -> Found {
    if let Some(path) = std::env::var_os("TILLKEY_DEB").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "TILLKEY_DEB={} does not exist", path.display());
        return Found::Deb(path);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // A relative CARGO_TARGET_DIR is the workspace root's.
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |t| root.join(t));
    let newest = std::fs::read_dir(target.join("release/bundle/deb"))
        .ok()
        .and_then(|dir| {
            dir.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "deb"))
                .max_by_key(|p| modified(p))
        });
    let Some(deb) = newest else {
        return Found::Skip("no .deb built (run ./scripts/package-deb.sh, or set TILLKEY_DEB)".into());
    };
    let built = modified(&deb);
    for source in SOURCES {
        let path = root.join(source);
        let files = match std::fs::read_dir(&path) {
            Ok(dir) => dir.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(_) => vec![path],
        };
        if let Some(newer) = files.iter().find(|f| modified(f) > built) {
            return Found::Skip(format!(
                "{} is older than {} (run ./scripts/package-deb.sh to build and check a new one)",
                deb.display(),
                newer.strip_prefix(&root).unwrap_or(newer).display()
            ));
        }
    }
    Found::Deb(deb)
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    path.metadata().and_then(|m| m.modified()).ok()
}

/// `tillkey`, `tillkey-<sub>` and `tillkey-<sub>-<subsub>` for every visible command, and
/// `tillkey-app`.
fn expected_man_pages() -> Vec<String> {
    fn walk(cmd: &clap::Command, name: &str, out: &mut Vec<String>) {
        out.push(name.to_string());
        for sub in cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        {
            walk(sub, &format!("{name}-{}", sub.get_name()), out);
        }
    }
    let mut pages = vec!["tillkey-app".to_string()];
    walk(&args::Cli::command(), "tillkey", &mut pages);
    pages
}

/// What the bash completion function offers for `words` (the last one being completed).
fn bash_complete(script: &Path, words: &[&str]) -> Vec<String> {
    let mut cmd = Command::new("bash");
    cmd.args(["--norc", "--noprofile", "-c"])
        .arg(
            r#"source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
prev=""; [ $# -ge 2 ] && prev="${COMP_WORDS[COMP_CWORD-1]}"
_tillkey tillkey "${COMP_WORDS[COMP_CWORD]}" "$prev"
printf '%s\n' "${COMPREPLY[@]}""#,
        )
        .arg("bash")
        .arg(script)
        .args(words);
    let mut got: Vec<String> = run(&mut cmd).lines().map(|l| l.trim().to_string()).collect();
    got.retain(|l| !l.is_empty());
    got.sort();
    got
}

/// Runs `cmd`, panicking with its stderr unless it succeeds; returns its stdout.
fn run(cmd: &mut Command) -> String {
    try_run(cmd).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `cmd`: its stdout if it succeeds, else what went wrong (with its stderr).
fn try_run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
