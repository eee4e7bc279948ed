//! `tillkey agent`: runs the local agent (crates/agent) for this data dir in the
//! foreground until it has been idle for 15 minutes or is signalled. The CLI starts it on
//! demand (see `agent_client`); running it by hand is the same thing.

use std::path::PathBuf;
use tillkey_agent::{serve, AgentError, ServeOptions, Served};
use tillkey_core::Error;

/// Serves the agent of `data_dir`; exit 0 when it ends idle or signalled, or when
/// another agent already serves this data dir and session.
///
/// # Errors
/// `--vault` naming a team vault (usage); the vault's errors when it cannot be opened (no data dir, keyring unavailable).
pub async fn run(data_dir: Option<PathBuf>, vault: Option<&str>) -> Result<u8, Error> {
    if vault.is_some_and(|v| v != tillkey_core::vault::team::LOCAL_VAULT) {
        return Err(Error::InvalidInput {
            field: "--vault".into(),
            reason: "the agent serves this machine's local vault only; team vaults are always used directly".into(),
        });
    }
    let dir = tillkey_core::vault::resolve_data_dir(data_dir)?;
    match serve(ServeOptions::new(dir)).await {
        Ok(Served::Idle | Served::Signalled | Served::AlreadyRunning | Served::HandedOver) => Ok(0),
        Err(AgentError::Core(e)) => Err(e),
        Err(e) => {
            eprintln!("error[agent_unavailable]: {e}");
            eprintln!(
                "  hint: The agent's socket lives in $XDG_RUNTIME_DIR/tillkey (else /tmp/tillkey-<uid>), which must be a directory of this user with mode 0700. Commands work without the agent (TILLKEY_NO_AGENT=1)."
            );
            Ok(1)
        }
    }
}
