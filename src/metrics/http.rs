//! The metrics endpoint: a minimal HTTP/1.1 responder on tokio for `GET /metrics`.
//!
//! One route, one response per connection (`Connection: close`), no keep-alive: what a
//! Prometheus scrape needs and nothing a server crate would add. `GET` or `HEAD /metrics`
//! (a query string is ignored) gets the scrape; another path gets 404, another method 405,
//! anything that is not an HTTP/1.x request line 400.
//!
//! # Bounds
//! A request head is read up to [`MAX_HEAD`] bytes (then 431), within [`REQUEST_TIMEOUT`] (then
//! the connection is closed); at most [`MAX_CONNECTIONS`] are served at once, and a connection
//! past that is closed at once. A scrape never blocks RESP clients: it reads atomics and takes
//! the few short locks INFO takes.

use super::exposition::{OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE};
use crate::state::Shared;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tracing::{debug, warn};

pub const MAX_HEAD: usize = 8 * 1024;
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
pub const MAX_CONNECTIONS: usize = 16;

/// A bound metrics endpoint, ready to run.
pub struct MetricsListener {
    listener: TcpListener,
    shared: Arc<Shared>,
}

impl MetricsListener {
    pub async fn bind(addr: SocketAddr, shared: Arc<Shared>) -> io::Result<MetricsListener> {
        Ok(MetricsListener {
            listener: TcpListener::bind(addr).await?,
            shared,
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves scrapes until the server shuts down.
    pub async fn run(self) {
        let MetricsListener { listener, shared } = self;
        let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let mut shutdown = shared.shutdown_receiver();
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = shutdown.changed() => return,
            };
            let socket = match accepted {
                Ok((socket, _)) => socket,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    warn!("metrics endpoint: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                continue;
            };
            let shared = shared.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(REQUEST_TIMEOUT, respond(socket, &shared)).await {
                    Ok(Err(e)) => debug!("metrics request failed: {e}"),
                    Err(_) => debug!("metrics request timed out"),
                    Ok(Ok(())) => {}
                }
                drop(permit);
            });
        }
    }
}

/// What a request asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    Metrics {
        head_only: bool,
        openmetrics: bool,
    },
    /// The status line and an `Allow` header, if any.
    Refuse(&'static str, Option<&'static str>),
}

/// Reads one request head and answers it.
async fn respond(mut socket: TcpStream, shared: &Shared) -> io::Result<()> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let request = loop {
        if let Some(end) = head_end(&head) {
            break parse(&head[..end]);
        }
        if head.len() >= MAX_HEAD {
            break Request::Refuse("431 Request Header Fields Too Large", None);
        }
        let room = (MAX_HEAD - head.len()).min(chunk.len());
        let n = socket.read(&mut chunk[..room]).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&chunk[..n]);
    };
    let response = match request {
        Request::Metrics {
            head_only,
            openmetrics,
        } => {
            let body = super::scrape(shared, openmetrics);
            let kind = if openmetrics {
                OPENMETRICS_CONTENT_TYPE
            } else {
                TEXT_CONTENT_TYPE
            };
            let mut r = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            if !head_only {
                r.extend_from_slice(body.as_bytes());
            }
            r
        }
        Request::Refuse(status, allow) => {
            let body = format!("{status}\n");
            let allow = allow.map(|a| format!("Allow: {a}\r\n")).unwrap_or_default();
            format!(
                "HTTP/1.1 {status}\r\n{allow}Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        }
    };
    socket.write_all(&response).await?;
    socket.shutdown().await
}

/// Where the head ends (the blank line), if it has.
fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| buf.windows(2).position(|w| w == b"\n\n"))
}

/// Parses a request head: the request line, then `Accept` among the headers.
pub fn parse(head: &[u8]) -> Request {
    let bad = Request::Refuse("400 Bad Request", None);
    let Ok(text) = std::str::from_utf8(head) else {
        return bad;
    };
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let Some(line) = lines.next() else { return bad };
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return bad;
    };
    if !matches!(version, "HTTP/1.0" | "HTTP/1.1")
        || method.is_empty()
        || !method.bytes().all(|b| b.is_ascii_uppercase())
    {
        return bad;
    }
    let path = target.split('?').next().unwrap_or("");
    if path != "/metrics" {
        return Request::Refuse("404 Not Found", None);
    }
    let head_only = match method {
        "GET" => false,
        "HEAD" => true,
        _ => return Request::Refuse("405 Method Not Allowed", Some("GET, HEAD")),
    };
    let openmetrics = lines.any(|l| {
        l.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("accept")
                && value.contains("application/openmetrics-text")
        })
    });
    Request::Metrics {
        head_only,
        openmetrics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_routed_and_bad_ones_refused() {
        let ok = |openmetrics| Request::Metrics {
            head_only: false,
            openmetrics,
        };
        assert_eq!(parse(b"GET /metrics HTTP/1.1\r\nHost: x"), ok(false));
        assert_eq!(parse(b"GET /metrics?x=1 HTTP/1.0"), ok(false));
        assert_eq!(
            parse(b"GET /metrics HTTP/1.1\r\naccept: application/openmetrics-text;version=1.0.0,text/plain;q=0.5"),
            ok(true)
        );
        assert_eq!(
            parse(b"POST /metrics HTTP/1.1"),
            Request::Refuse("405 Method Not Allowed", Some("GET, HEAD"))
        );
        assert_eq!(
            parse(b"GET / HTTP/1.1"),
            Request::Refuse("404 Not Found", None)
        );
        for bad in [
            &b"GET /metrics"[..],
            b"\xff\xfe",
            b"GET /metrics HTTP/2",
            b"get /metrics HTTP/1.1",
            b"",
        ] {
            assert_eq!(
                parse(bad),
                Request::Refuse("400 Bad Request", None),
                "{bad:?}"
            );
        }
    }
}
