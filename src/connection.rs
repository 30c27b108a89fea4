//! One client connection: read, parse, check, execute, reply.
//!
//! # Pipelining
//! Every complete command in the read buffer is executed in order and its reply appended to one
//! write buffer, which is written once per batch (not once per reply). A blocking command (LLMGET
//! waiting on another client's fill) first sends the replies before it, then waits; the commands
//! pipelined behind it are answered after it, in order.
//!
//! # Broken streams
//! A protocol error is answered with `-ERR Protocol error: ...` and closes this connection only.
//! Unknown commands and bad arguments are ordinary error replies; the connection lives on.

use crate::client::{Client, ClientInfo};
use crate::cmd::{self, Ctx, Flow};
use crate::protocol::{Limits, ParseError, Reply, RequestParser};
use crate::state::Shared;
use bytes::{Bytes, BytesMut};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::{debug, warn};

/// Replies are written out once this much is buffered, even mid-batch, so a huge pipeline does
/// not grow the write buffer without bound.
const WRITE_HIGH_WATER: usize = 256 * 1024;
const READ_CHUNK: usize = 16 * 1024;

/// Serves one client until it quits, disconnects, breaks the protocol or the server shuts down.
pub async fn serve(shared: Arc<Shared>, socket: TcpStream, info: Arc<ClientInfo>) {
    let config = shared.config();
    let authenticated = config.requirepass.is_none();
    let mut conn = Connection {
        shared: shared.clone(),
        socket,
        client: Client::new(info, authenticated),
        rbuf: BytesMut::with_capacity(READ_CHUNK),
        wbuf: BytesMut::with_capacity(READ_CHUNK),
        parser: RequestParser::new(),
        limits: Limits {
            max_bulk: config.proto_max_bulk_len,
            max_query_buffer: config.client_query_buffer_limit,
            ..Limits::default()
        },
    };
    drop(config);
    if let Err(e) = conn.run().await {
        debug!(client = conn.client.id(), "connection ended: {e}");
    }
    if conn.client.used_leases {
        // Any lease this client still holds goes to the next follower: a dead leader must not
        // hold its followers until the lease times out.
        shared.flights.abandon_all(conn.client.id());
    }
}

struct Connection {
    shared: Arc<Shared>,
    socket: TcpStream,
    client: Client,
    rbuf: BytesMut,
    wbuf: BytesMut,
    parser: RequestParser,
    limits: Limits,
}

/// Why a connection stops.
#[derive(Debug)]
enum Stop {
    Io(std::io::Error),
    Closed,
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Io(e) => write!(f, "{e}"),
            Stop::Closed => f.write_str("closed"),
        }
    }
}

impl From<std::io::Error> for Stop {
    fn from(e: std::io::Error) -> Self {
        Stop::Io(e)
    }
}

impl Connection {
    async fn run(&mut self) -> Result<(), Stop> {
        let mut shutdown = self.shared.shutdown_receiver();
        loop {
            let idle = self.shared.config().timeout;
            self.execute_buffered(&mut shutdown).await?;
            self.flush().await?;
            if self.client.close_after_reply || self.shared.shutdown_requested() {
                return Ok(());
            }
            let read = self.socket.read_buf(&mut self.rbuf);
            let n = tokio::select! {
                n = read => n?,
                _ = shutdown.changed() => return Ok(()),
                _ = idle_timer(idle) => return Ok(()),
            };
            if n == 0 {
                return Err(Stop::Closed);
            }
            self.shared
                .stats
                .net_input_bytes
                .fetch_add(n as u64, Ordering::Relaxed);
            if self.rbuf.capacity() - self.rbuf.len() < 1024 {
                self.rbuf.reserve(READ_CHUNK);
            }
        }
    }

    /// Executes every complete command in the read buffer, appending replies.
    async fn execute_buffered(
        &mut self,
        shutdown: &mut tokio::sync::watch::Receiver<bool>,
    ) -> Result<(), Stop> {
        loop {
            let limits = if self.client.authenticated {
                self.limits
            } else {
                self.limits.unauthenticated()
            };
            let args = match self.parser.next(&mut self.rbuf, &limits) {
                Ok(Some(args)) => args,
                Ok(None) => return Ok(()),
                // As Redis: a client past the query buffer limit is closed without a reply.
                Err(ParseError::QueryBufferLimit) => {
                    warn!(
                        addr = %self.client.info.addr,
                        "closing client that reached max query buffer length"
                    );
                    self.client.close_after_reply = true;
                    return Ok(());
                }
                Err(e) => {
                    Reply::err(format!("Protocol error: {e}"))
                        .encode(self.client.protocol, &mut self.wbuf);
                    self.client.close_after_reply = true;
                    return Ok(());
                }
            };
            // Checked on every command, not only the first: after an HTTP request line every
            // header line arrives as an inline command (cross-protocol attack from a browser).
            if is_cross_protocol(&args[0]) {
                warn!(
                    addr = %self.client.info.addr,
                    "Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise your Redis instance. Connection aborted."
                );
                self.wbuf.clear();
                return Err(Stop::Closed);
            }
            match self.dispatch(&args) {
                Flow::Reply(r) => r.encode(self.client.protocol, &mut self.wbuf),
                Flow::Close => {
                    self.flush().await?;
                    return Err(Stop::Closed);
                }
                Flow::Wait(wait) => {
                    let reply = self.block_on(wait, shutdown).await?;
                    reply.encode(self.client.protocol, &mut self.wbuf);
                }
            }
            if self.client.close_after_reply {
                return Ok(());
            }
            if self.wbuf.len() >= WRITE_HIGH_WATER {
                self.flush().await?;
            }
        }
    }

    /// Waits for a blocked command's reply while watching the socket: a client that disconnects
    /// stops waiting (its wait is dropped, which leaves the follower queue), and bytes it
    /// pipelines meanwhile are kept for after the reply.
    async fn block_on(
        &mut self,
        mut wait: cmd::Wait,
        shutdown: &mut tokio::sync::watch::Receiver<bool>,
    ) -> Result<Reply, Stop> {
        self.flush().await?;
        self.client.info.meta(|m| m.blocked = true);
        let result = loop {
            tokio::select! {
                reply = &mut wait => break Ok(reply),
                n = self.socket.read_buf(&mut self.rbuf) => match n {
                    Ok(0) => break Err(Stop::Closed),
                    Ok(_) if self.rbuf.len() > self.limits.max_query_buffer => {
                        break Err(Stop::Closed)
                    }
                    Ok(_) => {}
                    Err(e) => break Err(Stop::Io(e)),
                },
                _ = shutdown.changed() => {
                    break Ok(Reply::error("TRYAGAIN server is shutting down"));
                }
            }
        };
        self.client.info.meta(|m| m.blocked = false);
        result
    }

    /// Runs one command through the table's checks ([`cmd::execute`]).
    fn dispatch(&mut self, args: &[Bytes]) -> Flow {
        let mut ctx = Ctx {
            shared: &self.shared,
            client: &mut self.client,
        };
        cmd::execute(&mut ctx, args)
    }

    /// Makes this batch's writes durable as the fsync policy promises, then sends the replies.
    async fn flush(&mut self) -> Result<(), Stop> {
        if std::mem::take(&mut self.client.wrote) {
            if let Err(e) = self.shared.durable().await {
                // The writes were applied in memory but could not be made durable: say so
                // rather than acknowledge them.
                warn!("persistence failed: {e}");
                self.wbuf.clear();
                Reply::error(e).encode(self.client.protocol, &mut self.wbuf);
                self.client.close_after_reply = true;
            }
        }
        if self.wbuf.is_empty() {
            return Ok(());
        }
        self.socket.write_all(&self.wbuf).await?;
        self.shared
            .stats
            .net_output_bytes
            .fetch_add(self.wbuf.len() as u64, Ordering::Relaxed);
        self.wbuf.clear();
        Ok(())
    }
}

/// An HTTP request sent to the Redis port (a cross-protocol attack from a browser): Redis drops
/// the connection when any command is `POST` or `Host:`.
fn is_cross_protocol(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"post") || name.eq_ignore_ascii_case(b"host:")
}

async fn idle_timer(idle: Option<std::time::Duration>) {
    match idle {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}
