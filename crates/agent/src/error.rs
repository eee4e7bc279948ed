//! The agent's errors. None holds a secret: they name paths, requests and OS errors only.

use std::path::PathBuf;

/// What can go wrong between the CLI and its agent, or in the agent itself.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// No runtime directory for the socket could be made safe.
    #[error("the agent's socket directory {path} is unsafe: {reason}")]
    UnsafeDir {
        /// The directory.
        path: PathBuf,
        /// What is wrong with it (owner, mode).
        reason: String,
    },
    /// A filesystem or socket operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The peer on the socket is not this user.
    #[error("connection refused: peer uid {peer} is not this user ({expected})")]
    WrongPeer {
        /// The peer's uid.
        peer: u32,
        /// This process's effective uid.
        expected: u32,
    },
    /// A frame broke the protocol (too long, not JSON, wrong types, wrong version).
    #[error("agent protocol error: {0}")]
    Protocol(String),
    /// The connection ended or failed mid-request (the agent was killed, say).
    #[error("the agent went away mid-request: {0}")]
    Gone(String),
    /// Opening the vault failed.
    #[error(transparent)]
    Core(#[from] tillkey_core::Error),
}

impl AgentError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        AgentError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
