//! The wire format, version 1: each message is a 4-byte big-endian length, then that many
//! bytes of JSON. The client sends a [`Request`] and reads a [`ReplyFrame`]; one connection
//! may carry several in turn.
//!
//! Requests are parsed as hostile: at most [`MAX_REQUEST`] bytes, unknown fields and
//! unknown operations refused, the version checked, a name required exactly where the
//! operation takes one. Replies carry structured results (the token, the core's
//! `TestReport`, or the error's code, message, hint and exit code) so the CLI prints them
//! with its own output code, byte for byte as on the direct path.

use crate::error::AgentError;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use tillkey_core::{Error, TestReport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zeroize::Zeroize;

/// Protocol version of this build.
pub const VERSION: u32 = 1;
/// Longest request accepted, in bytes (a request is an operation and a name).
pub const MAX_REQUEST: u32 = 4 * 1024;
/// Longest reply accepted, in bytes (`test --all` of thousands of credentials fits).
pub const MAX_REPLY: u32 = 64 * 1024 * 1024;
/// Longest credential name a request may carry.
pub const MAX_NAME: usize = 256;

/// What the client asks.
#[derive(Debug, Clone)]
pub enum Request {
    /// Is anyone there? Answered with [`Reply::Pong`].
    Ping,
    /// A valid access token of a credential (`tillkey token`, `tillkey exec`).
    Token {
        /// Credential name.
        name: String,
    },
    /// A valid access token for `tillkey exec` (answered as [`Request::Token`]; the audit
    /// log records it as `exec`). Older agents refuse the operation, and the CLI then goes
    /// direct.
    Exec {
        /// Credential name.
        name: String,
    },
    /// The connectivity test of one credential.
    Test {
        /// Credential name.
        name: String,
    },
    /// The connectivity test of every credential.
    TestAll,
    /// Unlock the vault for the session: the agent derives the data key and holds it.
    Unlock {
        /// The vault passphrase (wiped with the request).
        passphrase: SecretString,
    },
    /// Forget the data key: the vault is locked again.
    Lock,
    /// Forget the data key and exit, so that another process serves this data dir: the
    /// app takes over from a stand-alone agent when it starts. Answered with [`Reply::Bye`].
    Quit,
}

/// Longest passphrase a request may carry, in bytes.
pub const MAX_PASSPHRASE: usize = 1024;

/// A request on the wire (strict: no other field).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireRequest {
    v: u32,
    op: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    passphrase: Option<String>,
}

impl Drop for WireRequest {
    fn drop(&mut self) {
        if let Some(p) = self.passphrase.as_mut() {
            p.zeroize();
        }
    }
}

impl Request {
    /// The request as JSON bytes (wipe them after use: an unlock carries the passphrase).
    pub fn encode(&self) -> Vec<u8> {
        let (op, name) = match self {
            Request::Ping => ("ping", None),
            Request::Token { name } => ("token", Some(name.clone())),
            Request::Exec { name } => ("exec", Some(name.clone())),
            Request::Test { name } => ("test", Some(name.clone())),
            Request::TestAll => ("test_all", None),
            Request::Unlock { .. } => ("unlock", None),
            Request::Lock => ("lock", None),
            Request::Quit => ("quit", None),
        };
        let passphrase = match self {
            Request::Unlock { passphrase } => Some(passphrase.expose_secret().to_string()),
            _ => None,
        };
        let wire = WireRequest {
            v: VERSION,
            op: op.into(),
            name,
            passphrase,
        };
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    /// Parses a request from untrusted bytes.
    ///
    /// # Errors
    /// [`AgentError::Protocol`] naming what is wrong (never echoing the bytes).
    pub fn parse(bytes: &[u8]) -> Result<Self, AgentError> {
        let bad = |m: &str| AgentError::Protocol(m.to_string());
        let wire: WireRequest = serde_json::from_slice(bytes)
            .map_err(|e| AgentError::Protocol(format!("not a request ({})", json_category(&e))))?;
        if wire.v != VERSION {
            return Err(AgentError::Protocol(format!(
                "protocol version {} (this agent speaks {VERSION})",
                wire.v
            )));
        }
        let named = |name: Option<String>| -> Result<String, AgentError> {
            let name = name.ok_or_else(|| bad("this operation needs a name"))?;
            if name.is_empty() || name.len() > MAX_NAME || name.chars().any(char::is_control) {
                return Err(bad("the name is empty, too long or has control characters"));
            }
            Ok(name)
        };
        let unnamed = |name: &Option<String>| match name {
            Some(_) => Err(bad("this operation takes no name")),
            None => Ok(()),
        };
        let mut wire = wire;
        if wire.op != "unlock" && wire.passphrase.is_some() {
            return Err(bad("only unlock takes a passphrase"));
        }
        match wire.op.as_str() {
            "ping" => unnamed(&wire.name).map(|()| Request::Ping),
            "test_all" => unnamed(&wire.name).map(|()| Request::TestAll),
            "lock" => unnamed(&wire.name).map(|()| Request::Lock),
            "quit" => unnamed(&wire.name).map(|()| Request::Quit),
            "token" => Ok(Request::Token {
                name: named(wire.name.take())?,
            }),
            "exec" => Ok(Request::Exec {
                name: named(wire.name.take())?,
            }),
            "test" => Ok(Request::Test {
                name: named(wire.name.take())?,
            }),
            "unlock" => {
                unnamed(&wire.name)?;
                match wire.passphrase.as_deref() {
                    Some(p) if !p.is_empty() && p.len() <= MAX_PASSPHRASE => Ok(Request::Unlock {
                        passphrase: SecretString::from(p),
                    }),
                    _ => Err(bad("unlock needs a passphrase of 1 to 1024 bytes")),
                }
            }
            _ => Err(bad("unknown operation")),
        }
    }
}

/// `serde_json`'s error category, without the position or any input text.
pub(crate) fn json_category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "i/o",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "wrong fields or types",
        serde_json::error::Category::Eof => "truncated JSON",
    }
}

/// A token on the wire. Serialised only into a reply frame (which is wiped after it is
/// written); no `Debug` of the value.
pub struct WireToken(pub SecretString);

impl Serialize for WireToken {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.expose_secret())
    }
}

impl<'de> Deserialize<'de> for WireToken {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut s = String::deserialize(d)?;
        let secret = SecretString::from(s.as_str());
        s.zeroize();
        Ok(WireToken(secret))
    }
}

impl std::fmt::Debug for WireToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WireToken([redacted])")
    }
}

/// An error the agent met, as the CLI prints it: the core error's code, message and hint,
/// and the exit code of its class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteError {
    /// `Error::code`.
    pub code: String,
    /// The error's message (`Display`; the core's messages never hold a secret).
    pub message: String,
    /// `Error::hint`.
    pub hint: Option<String>,
    /// The CLI exit code of the error's class.
    pub exit: u8,
    /// For a rate limit: the provider and the seconds until it resets (`--wait` uses them).
    pub rate_limit: Option<RateLimit>,
}

/// A rate limit's facts, for `--wait`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Provider label.
    pub provider: String,
    /// Seconds until a retry may succeed.
    pub retry_after_secs: u64,
}

impl From<&Error> for RemoteError {
    fn from(e: &Error) -> Self {
        let rate_limit = match e {
            Error::RateLimited {
                provider,
                retry_after_secs,
            } => Some(RateLimit {
                provider: provider.clone(),
                retry_after_secs: *retry_after_secs,
            }),
            _ => None,
        };
        RemoteError {
            code: e.code().to_string(),
            message: e.to_string(),
            hint: e.hint(),
            exit: u8::try_from(e.class().exit_code()).unwrap_or(1),
            rate_limit,
        }
    }
}

/// What the agent answers.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reply {
    /// The agent's process id and version.
    Pong {
        /// Process id.
        pid: u32,
        /// Tillkey version.
        version: String,
    },
    /// A valid access token.
    Token {
        /// The token.
        token: WireToken,
        /// When it expires, where known.
        expires_at: Option<DateTime<Utc>>,
    },
    /// One test report.
    Report {
        /// The report.
        report: TestReport,
    },
    /// Every credential's test report.
    Reports {
        /// The reports, in the vault's order.
        reports: Vec<TestReport>,
    },
    /// The request failed.
    Error {
        /// What failed.
        error: RemoteError,
    },
    /// The vault is unlocked: the agent holds its data key.
    Unlocked,
    /// The vault is locked: the agent forgot its data key.
    Locked,
    /// The agent is exiting (after [`Request::Quit`]).
    Bye,
    /// The request was not understood (it is not answered otherwise).
    BadRequest {
        /// What is wrong with it.
        reason: String,
    },
}

/// A reply on the wire.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyFrame {
    /// Protocol version.
    pub v: u32,
    /// The reply.
    pub reply: Reply,
}

/// `len` as a frame header, if it fits under `max`.
fn header(len: usize, max: u32) -> Result<[u8; 4], AgentError> {
    u32::try_from(len)
        .ok()
        .filter(|l| *l <= max)
        .map(u32::to_be_bytes)
        .ok_or_else(|| AgentError::Protocol(format!("a frame of {len} bytes is over the limit of {max}")))
}

fn length(header: [u8; 4], max: u32) -> Result<usize, AgentError> {
    let len = u32::from_be_bytes(header);
    if len > max {
        return Err(AgentError::Protocol(format!(
            "a frame of {len} bytes is over the limit of {max}"
        )));
    }
    Ok(len as usize)
}

fn gone(e: std::io::Error) -> AgentError {
    AgentError::Gone(e.kind().to_string())
}

/// Reads one frame of at most `max` bytes; `None` at a clean end of the stream.
///
/// # Errors
/// [`AgentError::Protocol`] for an oversized frame, [`AgentError::Gone`] when the stream
/// ends mid-frame or fails.
pub async fn read_frame<R: AsyncReadExt + Unpin>(r: &mut R, max: u32) -> Result<Option<Vec<u8>>, AgentError> {
    let mut h = [0u8; 4];
    match r.read_exact(&mut h).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(gone(e)),
    }
    let mut buf = vec![0u8; length(h, max)?];
    r.read_exact(&mut buf).await.map_err(gone)?;
    Ok(Some(buf))
}

/// Writes one frame.
///
/// # Errors
/// [`AgentError::Protocol`] if `body` is over `max`, [`AgentError::Gone`] on a write error.
pub async fn write_frame<W: AsyncWriteExt + Unpin>(w: &mut W, body: &[u8], max: u32) -> Result<(), AgentError> {
    w.write_all(&header(body.len(), max)?).await.map_err(gone)?;
    w.write_all(body).await.map_err(gone)?;
    w.flush().await.map_err(gone)
}

/// Blocking [`read_frame`] (the client is a short-lived process without async I/O).
///
/// # Errors
/// As [`read_frame`]; a stream that ends before a whole frame is [`AgentError::Gone`].
pub fn read_frame_blocking(r: &mut impl Read, max: u32) -> Result<Vec<u8>, AgentError> {
    let mut h = [0u8; 4];
    r.read_exact(&mut h).map_err(gone)?;
    let mut buf = vec![0u8; length(h, max)?];
    r.read_exact(&mut buf).map_err(gone)?;
    Ok(buf)
}

/// Blocking [`write_frame`].
///
/// # Errors
/// As [`write_frame`].
pub fn write_frame_blocking(w: &mut impl Write, body: &[u8], max: u32) -> Result<(), AgentError> {
    let mut frame = Vec::with_capacity(body.len() + 4);
    frame.extend_from_slice(&header(body.len(), max)?);
    frame.extend_from_slice(body);
    w.write_all(&frame).map_err(gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        for r in [
            Request::Ping,
            Request::TestAll,
            Request::Lock,
            Request::Token { name: "shop".into() },
            Request::Exec { name: "shop".into() },
            Request::Test { name: "shop".into() },
        ] {
            assert_eq!(format!("{:?}", Request::parse(&r.encode()).unwrap()), format!("{r:?}"));
        }
        let unlock = Request::Unlock {
            passphrase: SecretString::from("correct horse"),
        };
        assert!(!format!("{unlock:?}").contains("horse"));
        match Request::parse(&unlock.encode()).unwrap() {
            Request::Unlock { passphrase } => assert_eq!(passphrase.expose_secret(), "correct horse"),
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn hostile_requests_are_refused() {
        let cases: &[&[u8]] = &[
            b"",
            b"null",
            b"[]",
            b"{\"v\":1}",
            b"{\"v\":2,\"op\":\"ping\"}",
            b"{\"v\":\"1\",\"op\":\"ping\"}",
            b"{\"v\":1,\"op\":\"ping\",\"extra\":true}",
            b"{\"v\":1,\"op\":\"ping\",\"name\":\"x\"}",
            b"{\"v\":1,\"op\":\"token\"}",
            b"{\"v\":1,\"op\":\"exec\"}",
            b"{\"v\":1,\"op\":\"token\",\"name\":\"\"}",
            b"{\"v\":1,\"op\":\"token\",\"name\":\"a\\nb\"}",
            b"{\"v\":1,\"op\":\"token\",\"name\":7}",
            b"{\"v\":1,\"op\":\"reveal\",\"name\":\"x\"}",
            b"{\"v\":1,\"op\":\"token\",\"name\":\"x\"} trailing",
            b"{\"v\":1,\"op\":\"unlock\"}",
            b"{\"v\":1,\"op\":\"unlock\",\"passphrase\":\"\"}",
            b"{\"v\":1,\"op\":\"token\",\"name\":\"x\",\"passphrase\":\"p\"}",
        ];
        for c in cases {
            assert!(Request::parse(c).is_err(), "accepted {:?}", String::from_utf8_lossy(c));
        }
        let long = format!("{{\"v\":1,\"op\":\"token\",\"name\":\"{}\"}}", "a".repeat(MAX_NAME + 1));
        assert!(Request::parse(long.as_bytes()).is_err());
    }

    #[test]
    fn oversized_frames_are_refused_before_reading_them() {
        let mut data: &[u8] = &(MAX_REQUEST + 1).to_be_bytes();
        let e = read_frame_blocking(&mut data, MAX_REQUEST).unwrap_err();
        assert!(matches!(e, AgentError::Protocol(_)), "{e}");
        let mut truncated: &[u8] = &[0, 0, 0, 9, b'{'];
        assert!(matches!(
            read_frame_blocking(&mut truncated, MAX_REQUEST),
            Err(AgentError::Gone(_))
        ));
    }

    #[test]
    fn a_token_reply_round_trips_and_never_debugs_the_token() {
        let frame = ReplyFrame {
            v: VERSION,
            reply: Reply::Token {
                token: WireToken(SecretString::from("tok-123")),
                expires_at: None,
            },
        };
        assert!(!format!("{frame:?}").contains("tok-123"));
        let bytes = serde_json::to_vec(&frame).unwrap();
        let back: ReplyFrame = serde_json::from_slice(&bytes).unwrap();
        match back.reply {
            Reply::Token { token, .. } => assert_eq!(token.0.expose_secret(), "tok-123"),
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn errors_keep_code_message_hint_and_exit() {
        let e = Error::RateLimited {
            provider: "myPOS".into(),
            retry_after_secs: 7,
        };
        let r = RemoteError::from(&e);
        assert_eq!(r.code, "rate_limited");
        assert_eq!(r.message, e.to_string());
        assert_eq!(r.hint, e.hint());
        assert_eq!(r.exit, 5);
        assert_eq!(r.rate_limit.unwrap().retry_after_secs, 7);
    }
}
