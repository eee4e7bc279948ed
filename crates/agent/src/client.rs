//! The client side: connect to the agent of a data dir (checking the directory and the
//! agent's uid first) and ask it.

use crate::error::AgentError;
use crate::paths::{check_private_dir, socket_path};
use crate::proto::{self, RemoteError, Reply, ReplyFrame, Request};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use std::io::ErrorKind;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tillkey_core::TestReport;
use zeroize::Zeroize;

/// How long a request may take to be written (the agent reads at once).
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a token or one test may take to be answered: a token request, a refresh
/// fallback and an API call at the core's 20 s request timeout each, and the keyring. An
/// agent that does not answer by then is treated as gone (the caller goes direct).
/// `test --all` has no limit (hundreds of credentials at the providers' rate limits).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(90);

/// A running agent. Each request has a connection of its own (the first is the one
/// [`Client::connect`] opened), so a client that waits between requests (`--wait` on a
/// rate limit) never holds a connection the agent would time out, nor keeps it from its
/// idle exit.
#[derive(Debug)]
pub struct Client {
    path: PathBuf,
    stream: Option<UnixStream>,
}

/// A token from the agent.
pub struct TokenAnswer {
    /// The token.
    pub value: SecretString,
    /// When it expires, where known.
    pub expires_at: Option<DateTime<Utc>>,
}

/// What one exchange gives: the agent's answer (its result, or the error it met), or
/// [`AgentError`] when the exchange itself failed (then the caller may go direct).
pub type Exchange<T> = Result<Result<T, RemoteError>, AgentError>;

impl Client {
    /// Connects to the agent of `data_dir` in this D-Bus session. `Ok(None)` when none
    /// answers (no socket, or a dead agent's socket).
    ///
    /// # Errors
    /// [`AgentError::UnsafeDir`] when the socket directory is not this user's alone,
    /// [`AgentError::WrongPeer`] when the socket's owner is another user, socket errors.
    pub fn connect(data_dir: &Path) -> Result<Option<Client>, AgentError> {
        let path = socket_path(data_dir);
        if let Some(dir) = path.parent() {
            match check_private_dir(dir) {
                Ok(()) => {}
                Err(AgentError::Io { source, .. }) if source.kind() == ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        match open(&path)? {
            Some(stream) => Ok(Some(Client {
                path,
                stream: Some(stream),
            })),
            None => Ok(None),
        }
    }

    fn ask(&mut self, req: &Request) -> Result<Reply, AgentError> {
        let mut stream = match self.stream.take() {
            Some(s) => s,
            None => open(&self.path)?.ok_or_else(|| AgentError::Gone("the agent's socket is gone".into()))?,
        };
        let limit = (!matches!(req, Request::TestAll)).then_some(ANSWER_TIMEOUT);
        stream
            .set_read_timeout(limit)
            .map_err(|e| AgentError::Gone(e.kind().to_string()))?;
        let mut request = req.encode();
        let written = proto::write_frame_blocking(&mut stream, &request, proto::MAX_REQUEST);
        request.zeroize();
        written?;
        let mut bytes = proto::read_frame_blocking(&mut stream, proto::MAX_REPLY)?;
        let frame: Result<ReplyFrame, _> = serde_json::from_slice(&bytes);
        bytes.zeroize();
        let frame =
            frame.map_err(|e| AgentError::Protocol(format!("unreadable reply ({})", proto::json_category(&e))))?;
        if frame.v != proto::VERSION {
            return Err(AgentError::Protocol(format!("reply of protocol version {}", frame.v)));
        }
        match frame.reply {
            Reply::BadRequest { reason } => Err(AgentError::Protocol(reason)),
            r => Ok(r),
        }
    }

    /// The agent's process id.
    ///
    /// # Errors
    /// The exchange failed.
    pub fn ping(&mut self) -> Result<u32, AgentError> {
        match self.ask(&Request::Ping)? {
            Reply::Pong { pid, .. } => Ok(pid),
            _ => Err(unexpected()),
        }
    }

    /// A valid access token of `name`.
    ///
    /// # Errors
    /// The exchange failed.
    pub fn token(&mut self, name: &str) -> Exchange<TokenAnswer> {
        self.token_with(Request::Token { name: name.into() })
    }

    /// A valid access token of `name` for `tillkey exec` (recorded as `exec`).
    ///
    /// # Errors
    /// The exchange failed (an older agent refuses the operation).
    pub fn exec_token(&mut self, name: &str) -> Exchange<TokenAnswer> {
        self.token_with(Request::Exec { name: name.into() })
    }

    fn token_with(&mut self, req: Request) -> Exchange<TokenAnswer> {
        match self.ask(&req)? {
            Reply::Token { token, expires_at } => Ok(Ok(TokenAnswer {
                value: token.0,
                expires_at,
            })),
            Reply::Error { error } => Ok(Err(error)),
            _ => Err(unexpected()),
        }
    }

    /// The connectivity test of `name`.
    ///
    /// # Errors
    /// The exchange failed.
    pub fn test(&mut self, name: &str) -> Exchange<TestReport> {
        match self.ask(&Request::Test { name: name.into() })? {
            Reply::Report { report } => Ok(Ok(report)),
            Reply::Error { error } => Ok(Err(error)),
            _ => Err(unexpected()),
        }
    }

    /// Unlocks the vault in the agent with `passphrase`.
    ///
    /// # Errors
    /// The exchange failed.
    pub fn unlock(&mut self, passphrase: &SecretString) -> Exchange<()> {
        match self.ask(&Request::Unlock {
            passphrase: passphrase.clone(),
        })? {
            Reply::Unlocked => Ok(Ok(())),
            Reply::Error { error } => Ok(Err(error)),
            _ => Err(unexpected()),
        }
    }

    /// Locks the vault in the agent (it forgets the data key).
    ///
    /// # Errors
    /// The exchange failed.
    pub fn lock(&mut self) -> Exchange<()> {
        match self.ask(&Request::Lock)? {
            Reply::Locked => Ok(Ok(())),
            Reply::Error { error } => Ok(Err(error)),
            _ => Err(unexpected()),
        }
    }

    /// Asks the agent to forget the key and exit, so that this process serves instead.
    ///
    /// # Errors
    /// The exchange failed (an agent of a version without `quit` answers a bad request).
    pub fn quit(&mut self) -> Result<(), AgentError> {
        match self.ask(&Request::Quit)? {
            Reply::Bye => Ok(()),
            _ => Err(unexpected()),
        }
    }

    /// The connectivity test of every credential.
    ///
    /// # Errors
    /// The exchange failed.
    pub fn test_all(&mut self) -> Exchange<Vec<TestReport>> {
        match self.ask(&Request::TestAll)? {
            Reply::Reports { reports } => Ok(Ok(reports)),
            Reply::Error { error } => Ok(Err(error)),
            _ => Err(unexpected()),
        }
    }
}

/// A connection to the socket at `path`, its peer checked; `None` when no agent listens.
fn open(path: &Path) -> Result<Option<UnixStream>, AgentError> {
    let stream = match UnixStream::connect(path) {
        Ok(s) => s,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) => return Ok(None),
        Err(e) => return Err(AgentError::io("cannot connect to", path, e)),
    };
    crate::peer::check_same_user(&stream)?;
    stream
        .set_write_timeout(Some(WRITE_TIMEOUT))
        .map_err(|e| AgentError::io("cannot configure", path, e))?;
    Ok(Some(stream))
}

fn unexpected() -> AgentError {
    AgentError::Protocol("a reply of the wrong kind".into())
}
