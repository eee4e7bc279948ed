//! An independent, deliberately dumb HTTP/1.1 server for hostile-response tests.
//!
//! It shares no code with Tillkey or the provider simulators (which agree with the client
//! by design): a `std::net::TcpListener` on 127.0.0.1 port 0, a thread per connection,
//! the raw request bytes recorded as received, and a canned raw response written back
//! byte for byte (so a test can send what no well-behaved server would: lying
//! `Content-Length`, invalid UTF-8, 100 KB headers, a `100 Continue` and a hang-up).
//!
//! A connection that sends nothing (the connectivity test's bare connect stage) is
//! counted as a connection, not as a request.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Largest request head + body recorded (Tillkey's requests are a few hundred bytes).
const MAX_REQUEST: usize = 1024 * 1024;

type Responder = dyn Fn(usize, &[u8]) -> Vec<u8> + Send + Sync;

/// A loopback server answering every request with bytes chosen by the test.
pub struct HostileServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Vec<u8>>>>,
    thread: Option<JoinHandle<()>>,
}

impl HostileServer {
    /// `respond(n, raw_request)` gives the raw bytes written back for the n-th request
    /// (0-based). An empty answer closes the connection without a byte.
    pub fn start(respond: impl Fn(usize, &[u8]) -> Vec<u8> + Send + Sync + 'static) -> HostileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let requests: Arc<Mutex<Vec<Vec<u8>>>> = Arc::new(Mutex::new(Vec::new()));
        let respond: Arc<Responder> = Arc::new(respond);
        let (s, c, r) = (stop.clone(), connections.clone(), requests.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                c.fetch_add(1, Ordering::SeqCst);
                let (respond, r) = (respond.clone(), r.clone());
                std::thread::spawn(move || serve(conn, &respond, &r));
            }
        });
        HostileServer {
            addr,
            stop,
            connections,
            requests,
            thread: Some(thread),
        }
    }

    /// Every request gets the same bytes.
    pub fn fixed(response: Vec<u8>) -> HostileServer {
        HostileServer::start(move |_, _| response.clone())
    }

    /// A listener that only records: each request gets a `502` (for a proxy or a redirect
    /// target that must never be reached).
    pub fn recorder() -> HostileServer {
        HostileServer::fixed(response(502, &[], b"recorder"))
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `http://127.0.0.1:PORT` (for proxy variables).
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// TCP connections accepted so far (bare connects included).
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The raw bytes of every request received so far (bare connects excluded).
    pub fn requests(&self) -> Vec<Vec<u8>> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop (this connection is not counted: the flag is already set).
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `Content-Length` of a request head, if it has one.
fn content_length(head: &[u8]) -> usize {
    String::from_utf8_lossy(head)
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Reads one request (head, then `Content-Length` body bytes); the raw bytes.
fn read_request(conn: &mut TcpStream) -> Vec<u8> {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let mut want: Option<usize> = None;
    loop {
        if let Some(w) = want {
            if raw.len() >= w {
                break;
            }
        } else if let Some(end) = find(&raw, b"\r\n\r\n") {
            let w = end + 4 + content_length(&raw[..end]);
            want = Some(w);
            if raw.len() >= w {
                break;
            }
        }
        if raw.len() > MAX_REQUEST {
            break;
        }
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    raw
}

fn serve(mut conn: TcpStream, respond: &Arc<Responder>, log: &Arc<Mutex<Vec<Vec<u8>>>>) {
    let raw = read_request(&mut conn);
    if raw.is_empty() {
        return; // a bare connect
    }
    let n = {
        let mut l = log.lock().unwrap();
        l.push(raw.clone());
        l.len() - 1
    };
    let answer = respond(n, &raw);
    // Errors are expected: a client that stops reading a huge body, or hangs up.
    let _ = conn.write_all(&answer);
    let _ = conn.flush();
    let _ = conn.shutdown(Shutdown::Write);
    // Let the client read everything before the socket goes (no RST on unread data).
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    let mut sink = [0u8; 4096];
    while matches!(conn.read(&mut sink), Ok(n) if n > 0) {}
}

/// A raw HTTP/1.1 response: status line, `Content-Type: application/json`, a correct
/// `Content-Length`, `Connection: close`, the extra headers, then `body`.
pub fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} Hostile\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    )
    .into_bytes();
    for (k, v) in headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// A `200` with a JSON body.
pub fn ok_json(body: &str) -> Vec<u8> {
    response(200, &[], body.as_bytes())
}

/// A successful token response with `access_token` and `expires_in` 3600.
pub fn token_ok(access_token: &str) -> Vec<u8> {
    ok_json(&format!(
        r#"{{"access_token":"{access_token}","token_type":"Bearer","expires_in":3600}}"#
    ))
}
