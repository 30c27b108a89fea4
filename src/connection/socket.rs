//! The byte stream a connection reads: the [`Socket`] trait and its TCP implementation (the
//! TLS module has the other).

use bytes::BytesMut;
use std::future::Future;
use std::io;
use tokio::io::AsyncWrite;
use tokio::net::TcpStream;

/// A client's byte stream as the connection reads it: wait until readable without holding a
/// buffer, then take what is there without blocking. TCP ([`TcpStream`]) and TLS
/// (the TLS module's socket).
pub trait Socket: AsyncWrite + Unpin + Send + 'static {
    /// Resolves once a read would not block (or the stream ended). Cancel-safe.
    fn readable(&mut self) -> impl Future<Output = io::Result<()>> + Send;
    /// Appends what can be read now: `Ok(0)` at the end, `WouldBlock` when nothing is there.
    fn try_read_buf(&mut self, buf: &mut BytesMut) -> io::Result<usize>;
}

impl Socket for TcpStream {
    fn readable(&mut self) -> impl Future<Output = io::Result<()>> + Send {
        TcpStream::readable(self)
    }

    /// A read that leaves room in `buf` has drained the socket: the readiness is cleared with
    /// it (as tokio's own `poll_read` does on a short read), so the next wait goes to epoll
    /// instead of a read that would only say `WouldBlock`: one receive call per batch, not two.
    /// The readiness is cleared only if no newer event arrived since the read began (tokio's
    /// tick), so data that arrives meanwhile is not missed.
    fn try_read_buf(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        let room = buf.capacity() - buf.len();
        let mut drained = 0;
        let stream: &TcpStream = self;
        let read = stream.try_io(tokio::io::Interest::READABLE, || {
            let n = stream.try_read_buf(buf)?;
            if n > 0 && n < room {
                drained = n;
                return Err(io::ErrorKind::WouldBlock.into());
            }
            Ok(n)
        });
        match read {
            Err(_) if drained > 0 => Ok(drained),
            other => other,
        }
    }
}
