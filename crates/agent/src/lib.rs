//! # tillkey-agent
//!
//! Tillkey's local agent: one process per user, data dir and D-Bus session that keeps the
//! vault open (one Secret Service session, the HTTP connection pool, the token engine's
//! single flight and an in-memory copy of each cached token) and answers `token` and
//! `test` requests over a Unix socket, so a cached `tillkey token` is one socket round trip
//! instead of a new encrypted Secret Service session per process.
//!
//! - [`serve`] runs the agent (the CLI's `tillkey agent`, or inside the app's resident
//!   process with [`ServeOptions::embedded`], sharing the window's [`KeyHolder`]).
//! - [`Client`] connects to it (the CLI's `token`, `exec` and `test`).
//! - [`socket_path`] is where both meet: `$XDG_RUNTIME_DIR/tillkey/`, else
//!   `/tmp/tillkey-<uid>/`; the directory 0700, the socket 0600, and the peer's uid checked
//!   with `SO_PEERCRED` on every connection ([`peer`]).
//! - [`proto`] is the wire format: versioned, length-prefixed JSON, parsed as hostile.
//!
//! After `tillkey unlock` the agent holds the vault's data key until `tillkey lock`, the
//! vault's auto-lock time without a request (`autoLockMinutes` in `passphrase.json`), the
//! desktop session locking or the computer suspending, or its own exit.
//!
//! Only the local vault is served; team vaults stay on the direct path. Nothing here logs,
//! and no error or `Debug` output holds a token.

#![cfg(unix)]

mod client;
mod error;
mod key;
mod memo;
mod paths;
pub mod peer;
pub mod proto;
mod server;
mod session;

pub use client::{Client, Exchange, TokenAnswer};
pub use error::AgentError;
pub use key::KeyHolder;
pub use paths::{socket_dir, socket_path, RUNTIME_SUBDIR};
pub use server::{serve, ServeOptions, Served, AUTO_LOCK_ENV, DEFAULT_IDLE, IDLE_ENV};

/// Set to `1` to turn the agent off: the CLI neither asks nor starts one.
pub const NO_AGENT_ENV: &str = "TILLKEY_NO_AGENT";

/// Whether the agent is turned off in this environment (`TILLKEY_NO_AGENT=1`).
pub fn disabled() -> bool {
    std::env::var_os(NO_AGENT_ENV).is_some_and(|v| v == "1")
}
