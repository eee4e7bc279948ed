//! The command line's arguments: every command, flag and help text of `tillkey`.
//!
//! Kept apart from `main.rs` so the man pages and shell completions are generated from
//! these same definitions (`src/gen_docs.rs`), never written twice.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Credentials for POS and payment APIs, kept in the OS keyring.
#[derive(Parser, Debug)]
#[command(name = "tillkey", version, about, long_about = None)]
pub struct Cli {
    /// Data directory of the vault (default: $TILLKEY_DATA_DIR, else the platform data dir).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// The vault a credential command works on: a connected team vault's name, or `local`
    /// (the default: this machine's OS keyring vault).
    #[arg(long, global = true, value_name = "NAME")]
    pub vault: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
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
    /// Connectivity test: connect, token and API stages. Exit 0 only if all pass.
    Test {
        /// Credential name.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        name: Option<String>,
        /// Test every credential.
        #[arg(long)]
        all: bool,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// When rate limited, wait for the reset and try again instead of failing.
        #[arg(long)]
        wait: bool,
        /// After the report, show exactly what each request sent and received, secrets
        /// masked (with --json: a `trace` field in each report).
        #[arg(long)]
        trace: bool,
    },
    /// Print a valid access token on stdout, and nothing else.
    Token {
        /// Credential name.
        name: String,
        /// When rate limited, wait for the reset instead of failing (exit 5).
        #[arg(long)]
        wait: bool,
        /// Show the token request this command made (secrets masked) on stderr; stdout
        /// still holds the token only.
        #[arg(long)]
        trace: bool,
    },
    /// Run CMD with a valid access token in an environment variable.
    Exec {
        /// Credential name.
        name: String,
        /// Variable to put the token in.
        #[arg(long, default_value = "TILLKEY_TOKEN", value_name = "VAR")]
        var: String,
        /// When rate limited, wait for the reset instead of failing.
        #[arg(long)]
        wait: bool,
        /// The command and its arguments.
        #[arg(last = true, required = true, value_name = "CMD")]
        cmd: Vec<String>,
    },
    /// Rotate: new secret fields from stdin (FIELD=VALUE lines, or hidden prompts); the new
    /// secret is tested first and swapped in only if the test passes.
    ///
    /// Where the provider issues a new set on rotation (myPOS: a new client ID with the new
    /// secret), give the new identity on stdin too, e.g. `client_id=NEW` and
    /// `client_secret=NEW` lines (on a terminal, a visible prompt shows the current client
    /// ID; Enter keeps it). The set is tested and swapped in as one unit, and the old token
    /// is revoked with the old client ID and secret. `tillkey providers` shows which fields
    /// rotate with the secret; no other non-secret field, and never a URL, changes here.
    Rotate {
        /// Credential name.
        name: String,
    },
    /// Revoke the cached access token at the provider, where it has an endpoint.
    Revoke {
        /// Credential name.
        name: String,
    },
    /// Delete a credential's metadata and every keyring entry it has.
    Remove {
        /// Credential name.
        name: String,
    },
    /// Set how often a credential must be rotated (1–3650 days); its status and due date
    /// follow at once.
    Period {
        /// Credential name.
        name: String,
        /// Rotation period in days.
        #[arg(value_name = "DAYS")]
        days: u32,
        /// Machine-readable output (the credential, as `show --json`).
        #[arg(long)]
        json: bool,
    },
    /// Record that a credential's secret was rotated today outside Tillkey (in the
    /// provider's portal, say), without changing the stored secret.
    MarkRotated {
        /// Credential name.
        name: String,
        /// Machine-readable output (the credential, as `show --json`).
        #[arg(long)]
        json: bool,
    },
    /// Show the vault's settings, or change them: the reminder lead time and the rotation
    /// period given to new credentials. The app reads the same values.
    Settings {
        /// Days before a rotation is due at which it counts as due soon (0–365).
        #[arg(long, value_name = "DAYS")]
        reminder_days: Option<u32>,
        /// Rotation period of credentials added from now on (1–3650 days).
        #[arg(long, value_name = "DAYS")]
        default_period: Option<u32>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Team vaults on OpenBao / HashiCorp Vault (KV v2): connect, list, disconnect.
    Vault {
        #[command(subcommand)]
        action: VaultCommand,
    },
    /// Protect this machine's vault with a passphrase: set, change or remove it. Every
    /// long-lived secret (client secrets, passwords, tokens you entered, refresh tokens,
    /// team vault logins) is then encrypted before it reaches the OS keyring; cached
    /// access tokens stay usable until they expire. The passphrase is read from stdin
    /// (one line; `change`: the current one, then the new one) or a hidden prompt on a
    /// terminal (typed twice when new). Exit 1 `wrong_passphrase`; wrong tries wait longer
    /// each time. Not for a team vault (`--vault NAME` is exit 2).
    Passphrase {
        #[command(subcommand)]
        action: PassphraseCommand,
    },
    /// Lock the vault. Without an agent no process keeps the key, so the vault is locked
    /// whenever no command runs: this says so (exit 0). A locked vault still lists names,
    /// expiry and rotation status; a command that needs a secret asks for the passphrase on
    /// a terminal, else exits 3 with `error[locked]`. Exit 2 without a passphrase or with
    /// `--vault NAME`.
    Lock,
    /// Unlock the vault for the session, which needs an agent that keeps the key; while none
    /// does, this explains it (exit 2): run the command you need in a terminal instead, which
    /// asks for the passphrase for that one call.
    Unlock,
    /// Import credentials from a file: a .env file (KEY=VALUE), a Postman environment or
    /// collection (auth settings), a Bruno environment .bru file (with the collection's
    /// .env), an Insomnia v4 export, or a backup from `tillkey export` (its passphrase from
    /// stdin or a hidden prompt). Known variable names (MYPOS_CLIENT_SECRET, …; see the
    /// README) map by themselves; --map and --mapping map the rest. Every credential is
    /// checked as `add` checks it; a name the vault has is skipped, never overwritten. The
    /// report lists what was imported, what was skipped and why, and which lines of the
    /// file hold secrets (delete them there yourself; Tillkey never edits the file).
    /// Exit 0 all imported, 1 some skipped (or none found), 2 unreadable file (nothing
    /// imported).
    Import {
        /// The file to import.
        file: PathBuf,
        /// Check everything and print the report, but change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Map a variable to a field: VAR=KIND.FIELD, or VAR=NAME:KIND.FIELD to name the
        /// credential (FIELD may be `env`); repeatable.
        #[arg(long = "map", value_name = "VAR=[NAME:]KIND.FIELD")]
        map: Vec<String>,
        /// A file of such mappings, one a line (`#` comments).
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
        /// Machine-readable report.
        #[arg(long)]
        json: bool,
    },
    /// Write an encrypted backup of every credential of the vault (metadata and secrets)
    /// to FILE: the age format under a passphrase (stdin line or a hidden prompt, typed
    /// twice; at least 8 characters). There is no plaintext export. The file is created
    /// 0600; an existing file is refused unless --force. `tillkey import FILE` restores it.
    Export {
        /// The backup file to write.
        file: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// The audit log of this data dir: every reveal, copy, token, exec, test, refresh,
    /// rotate, revoke, import and remove, with its time, credential, origin (the window,
    /// or a command and its pid, directly or through the agent) and outcome; never a
    /// secret. Oldest first; a table, or JSON lines with --json. `--verify` checks the hash
    /// chain and its anchor in the keyring: exit 0 with the count when intact, exit 1
    /// naming the first broken entry.
    Log {
        /// Only this credential (name or id).
        name: Option<String>,
        /// Only entries at or after DATE (YYYY-MM-DD, UTC midnight, or RFC 3339).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Only this action (reveal, copy, token, exec, test, refresh, rotate, revoke,
        /// import, remove, add, edit, mark-rotated).
        #[arg(long, value_name = "ACTION")]
        action: Option<String>,
        /// JSON lines, one entry each, as stored.
        #[arg(long)]
        json: bool,
        /// Check the chain instead of listing.
        #[arg(long, conflicts_with_all = ["name", "since", "action", "json"])]
        verify: bool,
    },
    /// Run the local agent of this data dir in the foreground: it keeps the vault open and
    /// answers `token`, `exec` and `test` over a Unix socket, so a cached token takes a
    /// few milliseconds. Those commands start it on their own when none answers; it exits
    /// after 15 minutes without a request while it holds no vault key (`passphrase
    /// auto-lock` decides when a key goes). TILLKEY_NO_AGENT=1 keeps the CLI from using or
    /// starting it. The socket is in $XDG_RUNTIME_DIR/tillkey (else /tmp/tillkey-<uid>),
    /// directory 0700, socket 0600, and only this user's processes are answered.
    Agent,
}

#[derive(Subcommand, Debug)]
pub enum PassphraseCommand {
    /// Set a passphrase on a vault that has none: its secrets are encrypted (crash-safe:
    /// a kill at any point leaves them all plain or all encrypted).
    Set {
        /// Encrypt cached access tokens too, so a locked vault hands out no token at all
        /// (default: they stay usable until they expire, so running scripts keep working).
        /// Kept by `change`; to switch, remove the passphrase and set it again.
        #[arg(long)]
        lock_tokens: bool,
    },
    /// Change the passphrase (current one first); the secrets are not rewritten.
    Change,
    /// Remove the passphrase: the secrets are stored unencrypted again.
    Remove,
    /// How many minutes without a Tillkey request before the local agent forgets the
    /// vault's key after `tillkey unlock` (default 15; 0 = never). The agent also forgets
    /// it when the desktop session locks or the computer suspends. A running agent uses
    /// the new time at once; cached tokens stay as the token policy says.
    AutoLock {
        /// Minutes (0 to 10080); 0 turns the timer off.
        minutes: u32,
    },
}

#[derive(Subcommand, Debug)]
pub enum VaultCommand {
    /// Connect this machine to a team vault. The engine token (`token=...`) or AppRole
    /// secret_id (`secret_id=...`) is read from stdin, or a hidden prompt on a terminal;
    /// never from arguments. The connection is checked before anything is saved.
    Connect {
        /// Local name of the team vault (used with --vault NAME).
        name: String,
        /// Engine address, e.g. https://bao.example.com:8200 (http only for loopback).
        #[arg(long, value_name = "URL")]
        address: String,
        /// KV v2 mount.
        #[arg(long, value_name = "MOUNT", default_value = "secret")]
        mount: String,
        /// Path prefix of this vault under the mount.
        #[arg(long, value_name = "PREFIX", default_value = "tillkey")]
        prefix: String,
        /// Login method: token or approle.
        #[arg(long, value_name = "METHOD", default_value = "token")]
        auth: String,
        /// AppRole role_id (not secret; the secret_id comes from stdin).
        #[arg(long, value_name = "ID")]
        role_id: Option<String>,
        /// Namespace (Vault Enterprise / OpenBao namespaces).
        #[arg(long, value_name = "NS")]
        namespace: Option<String>,
        /// PEM file of the CA that signs the engine's certificate.
        #[arg(long, value_name = "PATH")]
        ca_file: Option<PathBuf>,
        /// Share access tokens through the engine instead of keeping them in memory.
        #[arg(long)]
        share_tokens: bool,
        /// Superseded secret revisions to keep recoverable (0: destroy at once).
        #[arg(long, value_name = "N", default_value_t = 0)]
        retain: u32,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Every vault of this machine with its status: connected, unreachable, denied or
    /// sealed; read-only or read-write; credential count.
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Forget a team vault on this machine (its settings and keyring entry). The vault's
    /// data in the engine is not touched.
    Disconnect {
        /// Team vault name.
        name: String,
    },
}
