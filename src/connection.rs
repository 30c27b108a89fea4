//! One client connection: read, parse, check, execute, reply.
//!
//! # Pipelining
//! Every complete command in the read buffer is executed in order and its reply appended to one
//! write buffer, which is written once per batch (not once per reply). A blocking command (LLMGET
//! waiting on another client's fill) first sends the replies before it, then waits; the commands
//! pipelined behind it are answered after it, in order.
//!
//! # Memory
//! - An idle connection holds no buffer: it waits for the socket to be readable without one,
//!   the read buffer is allocated for a read and dropped once the commands in it are taken,
//!   and the write buffer ([`Output`]) is given back after every flush.
//! - A bulk string of [`BIG_BULK`] bytes or more is received into a buffer of its own, grown
//!   as its bytes arrive and ending at exactly the bulk's length (see
//!   [`Connection::make_room`]), so the argument is exactly that buffer and the store keeps it
//!   without a copy ([`crate::cmd::string::owned`]). A client announcing a huge bulk and
//!   sending little costs little.
//! - A big bulk reply is written from the store's own bytes, not copied ([`Output`]).
//!
//! # Broken streams
//! A protocol error is answered with `-ERR Protocol error: ...` and closes this connection only.
//! Unknown commands and bad arguments are ordinary error replies; the connection lives on.

use crate::client::{Client, ClientInfo};
use crate::cmd::{self, Ctx, Flow};
use crate::protocol::parse::BIG_BULK;
use crate::protocol::reply::Output;
use crate::protocol::{Limits, ParseError, Reply, RequestParser};
use crate::state::Shared;
use bytes::{Bytes, BytesMut};
use std::io::{self, IoSlice};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tracing::{debug, warn};

/// Replies are written out once this much is buffered, even mid-batch, so a huge pipeline does
/// not grow the write buffer without bound.
const WRITE_HIGH_WATER: usize = 256 * 1024;
/// What one read asks for (Redis's `PROTO_IOBUF_LEN`).
const READ_CHUNK: usize = 16 * 1024;
/// A read buffer with less room than this is grown before the next read.
const MIN_READ: usize = 1024;
/// The first buffer of a big bulk, unless the bulk is shorter.
const BIG_BULK_FIRST: usize = 64 * 1024;

/// Serves one client until it quits, disconnects, breaks the protocol or the server shuts down.
pub async fn serve<S: Socket>(shared: Arc<Shared>, socket: S, info: Arc<ClientInfo>) {
    let mut conn = Connection::new(shared.clone(), socket, info);
    if let Err(e) = conn.run().await {
        debug!(client = conn.client.id(), "connection ended: {e}");
    }
    if conn.client.monitor.is_some() {
        shared.observe.monitors.detach(conn.client.id());
    }
    if conn.client.used_leases {
        // Any lease this client still holds goes to the next follower: a dead leader must not
        // hold its followers until the lease times out.
        shared.flights.abandon_all(conn.client.id());
    }
}

struct Connection<S> {
    shared: Arc<Shared>,
    socket: S,
    client: Client,
    /// Bytes read and not yet parsed; unallocated while there are none.
    rbuf: BytesMut,
    out: Output,
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

impl<S: Socket> Connection<S> {
    fn new(shared: Arc<Shared>, socket: S, info: Arc<ClientInfo>) -> Connection<S> {
        let config = shared.config();
        let authenticated = !shared.acl.auth_required();
        let limits = Limits {
            max_bulk: config.proto_max_bulk_len,
            max_query_buffer: config.client_query_buffer_limit,
            ..Limits::default()
        };
        drop(config);
        Connection {
            shared,
            socket,
            client: Client::new(info, authenticated),
            rbuf: BytesMut::new(),
            out: Output::new(),
            parser: RequestParser::new(),
            limits,
        }
    }

    async fn run(&mut self) -> Result<(), Stop> {
        let mut shutdown = self.shared.shutdown_receiver();
        loop {
            // A monitor is not an idle client (Redis exempts its replicas and monitors too).
            let idle = match self.client.monitor {
                Some(_) => None,
                None => self.shared.config().timeout,
            };
            if !self.serve_batch(&mut shutdown).await? {
                return Ok(());
            }
            // Wait without a buffer: 10,000 idle clients must not hold 10,000 read buffers.
            tokio::select! {
                ready = self.socket.readable() => ready?,
                line = next_line(&mut self.client.monitor) => {
                    self.send_monitor_lines(line).await?;
                    continue;
                }
                _ = shutdown.changed() => return Ok(()),
                _ = idle_timer(idle) => return Ok(()),
                _ = self.client.info.killed() => return Ok(()),
            };
            self.read()?;
        }
    }

    /// Sends a monitor its lines: `first` and whatever else is queued, in one write.
    async fn send_monitor_lines(&mut self, first: Option<Bytes>) -> Result<(), Stop> {
        let Some(first) = first else {
            // The feed dropped this monitor: it is a monitor no more.
            self.client.monitor = None;
            return Ok(());
        };
        let mut buf = first.to_vec();
        if let Some(rx) = self.client.monitor.as_mut() {
            while let Ok(more) = rx.try_recv() {
                buf.extend_from_slice(&more);
            }
        }
        self.socket.write_all(&buf).await?;
        self.socket.flush().await?;
        self.shared
            .stats
            .net_output_bytes
            .fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Executes what the read buffer holds, sends the replies and gives back the buffers that
    /// are no longer needed. `false` once the connection is to close.
    async fn serve_batch(
        &mut self,
        shutdown: &mut tokio::sync::watch::Receiver<bool>,
    ) -> Result<bool, Stop> {
        self.execute_buffered(shutdown).await?;
        self.flush().await?;
        if self.client.close_after_reply || self.shared.shutdown_requested() {
            return Ok(false);
        }
        self.release_idle();
        Ok(true)
    }

    /// Reads what the socket has into the read buffer (after waiting for it to be readable).
    /// A spurious readiness reads nothing and returns `Ok`.
    fn read(&mut self) -> Result<(), Stop> {
        self.make_room();
        let n = match self.socket.try_read_buf(&mut self.rbuf) {
            Ok(0) => return Err(Stop::Closed),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        self.shared
            .stats
            .net_input_bytes
            .fetch_add(n as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Makes room in the read buffer for the next read.
    ///
    /// While a big bulk is awaited the buffer holds only its first bytes, and is replaced when
    /// full: by one of twice what has arrived, and once an eighth of the bulk has arrived, by
    /// one of exactly the bulk's length, so that the bulk becomes one argument backed by a
    /// buffer of just its size. The copy into the last buffer is the peak: at most a quarter
    /// of the bulk besides the bulk itself (doubling all the way would make it up to the whole
    /// bulk again), while a client that announces a bulk and sends little of it costs at most
    /// eight times what it sent.
    fn make_room(&mut self) {
        if let Some(len) = self.parser.awaited_bulk().filter(|&len| len >= BIG_BULK) {
            let (have, room) = (self.rbuf.len(), self.rbuf.capacity());
            if have < len && (have == room || room > len) {
                let size = if have >= len / 8 {
                    len
                } else {
                    len.min((2 * have).max(BIG_BULK_FIRST))
                };
                let mut grown = BytesMut::with_capacity(size);
                grown.extend_from_slice(&self.rbuf);
                self.rbuf = grown;
            }
            return;
        }
        if self.rbuf.capacity() - self.rbuf.len() < MIN_READ {
            self.rbuf.reserve(READ_CHUNK);
        }
    }

    /// Gives back the buffers of a connection that has nothing to do: an empty read buffer and
    /// the write buffer (which [`Connection::flush`] has emptied).
    fn release_idle(&mut self) {
        if self.rbuf.is_empty() {
            self.rbuf = BytesMut::new();
        }
        self.out.clear();
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
            let parsed = self.parser.next(&mut self.rbuf, &limits);
            if self.rbuf.is_empty() {
                // Taken whole: drop our handle, so a big argument is not shared with it (the
                // store keeps a lone one as it is) and the memory goes with the commands.
                self.rbuf = BytesMut::new();
            }
            let args = match parsed {
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
                    let reply = Reply::err(format!("Protocol error: {e}"));
                    self.shared.observe.error_reply(&reply);
                    reply.encode(self.client.protocol, &mut self.out);
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
                self.out.discard();
                return Err(Stop::Closed);
            }
            if self.shared.pause.active() && self.client.monitor.is_none() {
                self.hold_while_paused(&args, shutdown).await?;
            }
            match self.dispatch(&args) {
                Flow::Reply(r) => r.encode(self.client.protocol, &mut self.out),
                Flow::Close => {
                    self.flush().await?;
                    return Err(Stop::Closed);
                }
                Flow::Wait(wait) => {
                    let reply = self.block_on(wait, shutdown).await?;
                    crate::cmd::serve_blocked(&self.shared);
                    if self
                        .client
                        .deferred_write
                        .swap(false, std::sync::atomic::Ordering::AcqRel)
                    {
                        self.client.wrote = true;
                    }
                    reply.encode(self.client.protocol, &mut self.out);
                }
            }
            if self.client.close_after_reply {
                return Ok(());
            }
            if self.out.len() >= WRITE_HIGH_WATER {
                self.flush().await?;
            }
        }
    }

    /// Holds a command while CLIENT PAUSE holds it (it waits, it does not fail), watching the
    /// socket as a blocked command does; the replies before it are sent first.
    async fn hold_while_paused(
        &mut self,
        args: &[Bytes],
        shutdown: &mut tokio::sync::watch::Receiver<bool>,
    ) -> Result<(), Stop> {
        let writes = cmd::may_write(&self.client, args);
        if !self.shared.pause.holds(writes) {
            return Ok(());
        }
        self.flush().await?;
        self.out.clear();
        let shared = self.shared.clone();
        let released = shared.pause.released(writes);
        tokio::pin!(released);
        loop {
            tokio::select! {
                _ = &mut released => return Ok(()),
                ready = self.socket.readable() => {
                    ready?;
                    self.read()?;
                    if self.rbuf.len() > self.limits.max_query_buffer {
                        return Err(Stop::Closed);
                    }
                }
                _ = shutdown.changed() => return Ok(()),
                _ = self.client.info.killed() => return Err(Stop::Closed),
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
        self.out.clear();
        self.client.info.meta(|m| m.blocked = true);
        let blocked_at = std::time::Instant::now();
        let result = loop {
            tokio::select! {
                reply = &mut wait => break Ok(reply),
                ready = self.socket.readable() => {
                    if let Err(e) = ready {
                        break Err(Stop::Io(e));
                    }
                    if let Err(stop) = self.read() {
                        break Err(stop);
                    }
                    if self.rbuf.len() > self.limits.max_query_buffer {
                        break Err(Stop::Closed);
                    }
                }
                _ = shutdown.changed() => {
                    break Ok(Reply::error("TRYAGAIN server is shutting down"));
                }
                _ = self.client.info.killed() => break Err(Stop::Closed),
            }
        };
        self.client.info.meta(|m| m.blocked = false);
        if let Ok(reply) = &result {
            // Waiting is not execution time (commandstats exclude it, as Redis does): it is
            // recorded on its own, as follower wait.
            let observe = &self.shared.observe;
            if let Some(index) = self.client.info.last_cmd() {
                observe.lookup_waited(index, reply, blocked_at.elapsed());
            }
            if reply.is_error() {
                observe.error_reply(reply);
            }
        }
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
                self.out.discard();
                Reply::error(e).encode(self.client.protocol, &mut self.out);
                self.client.close_after_reply = true;
            }
        }
        if self.out.is_empty() {
            return Ok(());
        }
        write_output(&mut self.socket, &self.out).await?;
        self.shared
            .stats
            .net_output_bytes
            .fetch_add(self.out.len() as u64, Ordering::Relaxed);
        self.out.discard();
        Ok(())
    }
}

/// Writes everything in `out`: one plain write when it is one buffer, vectored writes when it
/// holds shared bulk strings.
async fn write_output<S: AsyncWrite + Unpin>(socket: &mut S, out: &Output) -> io::Result<()> {
    if let Some(bytes) = out.contiguous() {
        socket.write_all(bytes).await?;
        // A no-op on TCP; TLS may hold the last record until flushed.
        return socket.flush().await;
    }
    let mut slices = out.slices();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        let n = socket.write_vectored(rest).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut rest, n);
    }
    socket.flush().await
}

/// An HTTP request sent to the Redis port (a cross-protocol attack from a browser): Redis drops
/// the connection when any command is `POST` or `Host:`.
fn is_cross_protocol(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"post") || name.eq_ignore_ascii_case(b"host:")
}

/// The next line for a monitor; never resolves for a connection that is not one.
async fn next_line(rx: &mut Option<tokio::sync::mpsc::UnboundedReceiver<Bytes>>) -> Option<Bytes> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn idle_timer(idle: Option<std::time::Duration>) {
    match idle {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

mod socket;
#[cfg(test)]
mod tests;

pub use socket::Socket;
