//! The peer-credential check: every connection, in both directions, must come from this
//! user. The 0700 directory already keeps other users out; this is the second wall (and
//! the one that still holds when the directory is shared by mistake).

use crate::error::AgentError;
use std::os::fd::AsRawFd;

/// The credentials of the process at the other end of the Unix socket `sock`
/// (`SO_PEERCRED`: the ones it had when it connected, set by the kernel, not by the peer).
fn peer_cred(sock: &impl AsRawFd) -> std::io::Result<libc::ucred> {
    let mut cred = libc::ucred { pid: 0, uid: 0, gid: 0 };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` is a valid, writable ucred and `len` holds its size, as SO_PEERCRED
    // requires; the fd is owned by `sock` for the duration of the call.
    let rc = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(cred)
}

/// The uid of the peer of the Unix socket `sock` when it connected.
///
/// # Errors
/// The OS error of `getsockopt`.
pub fn peer_uid(sock: &impl AsRawFd) -> std::io::Result<u32> {
    peer_cred(sock).map(|c| c.uid)
}

/// The process id of the peer of the Unix socket `sock` when it connected: the audit log
/// names the CLI process the agent answered.
///
/// # Errors
/// The OS error of `getsockopt`; no pid.
pub fn peer_pid(sock: &impl AsRawFd) -> std::io::Result<u32> {
    u32::try_from(peer_cred(sock)?.pid).map_err(|_| std::io::Error::other("no peer pid"))
}

/// Accepts the peer of `sock` only if its uid is `expected` (this process's effective uid
/// in production; tests inject another to see the refusal, since CI runs as root).
///
/// # Errors
/// [`AgentError::WrongPeer`], or the OS error when the credentials cannot be read.
pub fn check_peer(sock: &impl AsRawFd, expected: u32) -> Result<(), AgentError> {
    let peer =
        peer_uid(sock).map_err(|e| AgentError::io("cannot read the peer credentials of", "the agent socket", e))?;
    if peer == expected {
        Ok(())
    } else {
        Err(AgentError::WrongPeer { peer, expected })
    }
}

/// [`check_peer`] against this process's effective uid.
///
/// # Errors
/// As [`check_peer`].
pub fn check_same_user(sock: &impl AsRawFd) -> Result<(), AgentError> {
    check_peer(sock, crate::paths::euid())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;

    #[test]
    fn the_same_user_is_accepted() {
        let (a, b) = UnixStream::pair().unwrap();
        assert_eq!(peer_uid(&a).unwrap(), crate::paths::euid());
        check_same_user(&a).unwrap();
        check_same_user(&b).unwrap();
        // Both ends are this process.
        assert_eq!(peer_pid(&a).unwrap(), std::process::id());
    }

    #[test]
    fn another_uid_is_refused() {
        let (a, _b) = UnixStream::pair().unwrap();
        let me = crate::paths::euid();
        let other = if me == 0 { 1000 } else { me - 1 };
        match check_peer(&a, other) {
            Err(AgentError::WrongPeer { peer, expected }) => {
                assert_eq!((peer, expected), (me, other));
            }
            r => panic!("a peer of uid {me} was not refused when {other} was expected: {r:?}"),
        }
    }
}
