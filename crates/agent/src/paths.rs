//! Where the agent's socket lives, and the checks that make that place private.

use crate::error::AgentError;
use sha2::{Digest, Sha256};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

/// The agent's directory under `$XDG_RUNTIME_DIR`.
pub const RUNTIME_SUBDIR: &str = "tillkey";

/// The directory of every agent socket of this user: `$XDG_RUNTIME_DIR/tillkey` (a
/// per-user tmpfs that logind creates 0700), else `/tmp/tillkey-<uid>` when
/// `XDG_RUNTIME_DIR` is unset or not absolute.
pub fn socket_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(d) if d.is_absolute() => d.join(RUNTIME_SUBDIR),
        _ => std::env::temp_dir().join(format!("tillkey-{}", euid())),
    }
}

/// The socket of the agent for `data_dir` in this D-Bus session: one agent per data dir
/// and session (`DBUS_SESSION_BUS_ADDRESS`), so two keyrings or two data dirs never share
/// one. The name is a hash of both, so it says nothing about either.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    let dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").unwrap_or_default();
    let mut h = Sha256::new();
    h.update(b"tillkey-agent-v1\0");
    h.update(dir.as_os_str().as_encoded_bytes());
    h.update(b"\0");
    h.update(bus.as_encoded_bytes());
    let digest = h.finalize();
    let name: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    socket_dir().join(format!("agent-{name}.sock"))
}

/// This process's effective uid.
pub(crate) fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Makes `dir` (mode 0700) if missing, then checks it is a real directory (not a
/// symlink) owned by this user with no access for group or others. Anything else is
/// refused: in `/tmp` another user could have made it first.
pub(crate) fn ensure_private_dir(dir: &Path) -> Result<(), AgentError> {
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(AgentError::io("cannot create", dir, e)),
    }
    check_private_dir(dir)
}

/// The checks of [`ensure_private_dir`], for a directory that must already exist.
pub(crate) fn check_private_dir(dir: &Path) -> Result<(), AgentError> {
    let meta = std::fs::symlink_metadata(dir).map_err(|e| AgentError::io("cannot inspect", dir, e))?;
    let unsafe_dir = |reason: String| AgentError::UnsafeDir {
        path: dir.to_path_buf(),
        reason,
    };
    if !meta.file_type().is_dir() {
        return Err(unsafe_dir("not a directory (a symlink or a file)".into()));
    }
    if meta.uid() != euid() {
        return Err(unsafe_dir(format!("owned by uid {}, not {}", meta.uid(), euid())));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(unsafe_dir(format!(
            "mode {:o} lets others in (must be 0700)",
            meta.mode() & 0o777
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_new_dir_is_0700_and_an_open_one_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("agent");
        ensure_private_dir(&d).unwrap();
        let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        let e = ensure_private_dir(&d).unwrap_err();
        assert!(e.to_string().contains("mode 755"), "{e}");
    }

    #[test]
    fn a_symlink_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        std::fs::DirBuilder::new().mode(0o700).create(&real).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = ensure_private_dir(&link).unwrap_err();
        assert!(e.to_string().contains("not a directory"), "{e}");
    }

    #[test]
    fn one_socket_per_data_dir() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        assert_ne!(socket_path(a.path()), socket_path(b.path()));
        assert_eq!(socket_path(a.path()), socket_path(&a.path().join(".")));
    }
}
