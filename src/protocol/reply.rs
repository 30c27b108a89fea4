//! Typed replies and their encodings.
//!
//! A handler returns a [`Reply`] without knowing the connection's protocol; [`Reply::encode`]
//! writes RESP3 types as themselves or folds them into RESP2 the way Redis does: a map becomes a
//! flat array of key/value pairs, a set an array, a double a bulk string, a boolean an integer,
//! a verbatim string a bulk string, and null a null bulk (`$-1`) or null array (`*-1`).
//!
//! Replies are encoded into a [`Sink`]: a `BytesMut` copies every byte, while a connection's
//! [`Output`] keeps a big bulk string as the `Bytes` the store holds, so a GET of a value of V
//! bytes does not cost another V in the write buffer.

use bytes::{Bytes, BytesMut};
use std::io::IoSlice;

/// The protocol a connection speaks, switched by `HELLO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    Resp2,
    Resp3,
}

impl Protocol {
    pub fn version(self) -> i64 {
        match self {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        }
    }
}

/// One reply to one command.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+OK`
    Ok,
    /// `+<text>`; the text must not contain `\r` or `\n`.
    Simple(&'static str),
    /// `+<text>` built at run time (a script's `{ok=...}`); `\r` and `\n` are replaced by spaces.
    Status(String),
    /// An error line, with its code, e.g. `ERR syntax error` or `WRONGTYPE ...`.
    Error(String),
    Int(i64),
    Bulk(Bytes),
    /// The null bulk string: `$-1` in RESP2, `_` in RESP3.
    Nil,
    /// The null array: `*-1` in RESP2, `_` in RESP3.
    NilArray,
    Array(Vec<Reply>),
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Double(f64),
    Bool(bool),
    /// A verbatim string (`=`, format `txt`) in RESP3; a bulk string in RESP2.
    Verbatim(String),
}

impl Reply {
    pub fn error(msg: impl Into<String>) -> Reply {
        Reply::Error(msg.into())
    }

    /// `ERR <msg>`
    pub fn err(msg: impl std::fmt::Display) -> Reply {
        Reply::Error(format!("ERR {msg}"))
    }

    pub fn bulk(b: impl Into<Bytes>) -> Reply {
        Reply::Bulk(b.into())
    }

    pub fn text(s: impl Into<String>) -> Reply {
        Reply::Bulk(Bytes::from(s.into()))
    }

    pub fn from_static(s: &'static str) -> Reply {
        Reply::Bulk(Bytes::from_static(s.as_bytes()))
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// A map from static names to values, the usual shape of an informational reply.
    pub fn map<I>(pairs: I) -> Reply
    where
        I: IntoIterator<Item = (&'static str, Reply)>,
    {
        Reply::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (Reply::from_static(k), v))
                .collect(),
        )
    }

    /// Appends the encoding of `self` for `proto` to `out`.
    pub fn encode<S: Sink>(&self, proto: Protocol, out: &mut S) {
        let resp3 = proto == Protocol::Resp3;
        match self {
            Reply::Ok => out.put(b"+OK\r\n"),
            Reply::Simple(s) => {
                out.put(b"+");
                out.put(s.as_bytes());
                out.put(b"\r\n");
            }
            Reply::Status(s) => {
                out.put(b"+");
                out.put(s.replace(['\r', '\n'], " ").as_bytes());
                out.put(b"\r\n");
            }
            Reply::Error(s) => {
                out.put(b"-");
                // An error line must stay on one line whatever text went into it.
                let mut parts = s.as_bytes().split(|&b| b == b'\r' || b == b'\n');
                if let Some(first) = parts.next() {
                    out.put(first);
                }
                for part in parts {
                    out.put(b" ");
                    out.put(part);
                }
                out.put(b"\r\n");
            }
            Reply::Int(n) => {
                out.put(b":");
                put_int(out, *n);
                out.put(b"\r\n");
            }
            Reply::Bulk(b) => {
                put_header(out, b'$', b.len());
                out.put_shared(b);
                out.put(b"\r\n");
            }
            Reply::Nil => out.put(if resp3 { b"_\r\n" } else { b"$-1\r\n" }),
            Reply::NilArray => out.put(if resp3 { b"_\r\n" } else { b"*-1\r\n" }),
            Reply::Array(items) => {
                put_header(out, b'*', items.len());
                for item in items {
                    item.encode(proto, out);
                }
            }
            Reply::Set(items) => {
                put_header(out, if resp3 { b'~' } else { b'*' }, items.len());
                for item in items {
                    item.encode(proto, out);
                }
            }
            Reply::Map(pairs) => {
                if resp3 {
                    put_header(out, b'%', pairs.len());
                } else {
                    put_header(out, b'*', pairs.len() * 2);
                }
                for (k, v) in pairs {
                    k.encode(proto, out);
                    v.encode(proto, out);
                }
            }
            Reply::Double(d) => {
                let text = format_double(*d);
                if resp3 {
                    out.put(b",");
                    out.put(text.as_bytes());
                    out.put(b"\r\n");
                } else {
                    put_bulk(out, text.as_bytes());
                }
            }
            Reply::Bool(b) => {
                if resp3 {
                    out.put(if *b { b"#t\r\n" } else { b"#f\r\n" });
                } else {
                    out.put(if *b { b":1\r\n" } else { b":0\r\n" });
                }
            }
            Reply::Verbatim(s) => {
                if resp3 {
                    put_header(out, b'=', s.len() + 4);
                    out.put(b"txt:");
                    out.put(s.as_bytes());
                    out.put(b"\r\n");
                } else {
                    put_bulk(out, s.as_bytes());
                }
            }
        }
    }
}

fn put_int(out: &mut impl Sink, n: i64) {
    let mut buf = itoa::Buffer::new();
    out.put(buf.format(n).as_bytes());
}

fn put_header(out: &mut impl Sink, tag: u8, len: usize) {
    out.put(&[tag]);
    let mut buf = itoa::Buffer::new();
    out.put(buf.format(len).as_bytes());
    out.put(b"\r\n");
}

fn put_bulk(out: &mut impl Sink, b: &[u8]) {
    put_header(out, b'$', b.len());
    out.put(b);
    out.put(b"\r\n");
}

/// Where encoded replies go.
pub trait Sink {
    /// Appends a copy of `b`.
    fn put(&mut self, b: &[u8]);

    /// Appends a bulk string's bytes; the sink may keep `b` itself (a reference count) rather
    /// than copy it.
    fn put_shared(&mut self, b: &Bytes) {
        self.put(b);
    }
}

impl Sink for BytesMut {
    fn put(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
}

/// A bulk string of at least this many bytes is written from the `Bytes` it already is rather
/// than copied into the write buffer. Below it, a copy is cheaper than another slice to write.
pub const SHARED_BULK: usize = 16 * 1024;

/// The first allocation of an [`Output`]'s buffer: enough for a batch of small replies.
const OUTPUT_CHUNK: usize = 16 * 1024;

/// The replies of one batch of commands, waiting to be written to one connection, in order.
///
/// Small replies are copied into one buffer; a bulk string of at least [`SHARED_BULK`] bytes is
/// kept as the `Bytes` it was handed in (the store's own, so a GET of a value of V bytes costs
/// a reference count, not another V) and written with a vectored write ([`Output::slices`]).
///
/// # Memory
/// Nothing is allocated until the first reply, and [`Output::clear`] gives the buffer back, so
/// an idle connection holds no write buffer.
#[derive(Debug, Default)]
pub struct Output {
    buf: BytesMut,
    /// Shared bulk strings, each written after `buf[..offset]` and before the rest of `buf`.
    shared: Vec<(usize, Bytes)>,
    shared_len: usize,
}

impl Output {
    pub fn new() -> Output {
        Output::default()
    }

    /// Bytes waiting to be written.
    pub fn len(&self) -> usize {
        self.buf.len() + self.shared_len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What the copy buffer has allocated (shared bulk strings are not counted: they are owned
    /// by whoever else holds them).
    pub fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Everything to write, in order: the whole copy buffer when nothing is shared.
    pub fn contiguous(&self) -> Option<&[u8]> {
        self.shared.is_empty().then_some(&self.buf[..])
    }

    /// Everything to write, in order, as slices for a vectored write.
    pub fn slices(&self) -> Vec<IoSlice<'_>> {
        let mut out = Vec::with_capacity(2 * self.shared.len() + 1);
        let mut from = 0;
        for (at, bytes) in &self.shared {
            if *at > from {
                out.push(IoSlice::new(&self.buf[from..*at]));
            }
            out.push(IoSlice::new(bytes));
            from = *at;
        }
        if self.buf.len() > from {
            out.push(IoSlice::new(&self.buf[from..]));
        }
        out
    }

    /// Forgets everything written so far and gives the buffer's memory back.
    pub fn clear(&mut self) {
        self.buf = BytesMut::new();
        self.shared = Vec::new();
        self.shared_len = 0;
    }

    /// Drops everything not yet written but keeps the buffer (the replies of a batch are being
    /// replaced by one error).
    pub fn discard(&mut self) {
        self.buf.clear();
        self.shared.clear();
        self.shared_len = 0;
    }
}

impl Sink for Output {
    fn put(&mut self, b: &[u8]) {
        if self.buf.capacity() == 0 {
            self.buf = BytesMut::with_capacity(OUTPUT_CHUNK.max(b.len()));
        }
        self.buf.extend_from_slice(b);
    }

    fn put_shared(&mut self, b: &Bytes) {
        if b.len() < SHARED_BULK {
            return self.put(b);
        }
        self.shared.push((self.buf.len(), b.clone()));
        self.shared_len += b.len();
    }
}

/// Formats a double like Redis: integers without a fraction, `inf`/`-inf`/`nan` spelled out, and
/// otherwise the shortest text that reads back as the same number.
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        "nan".to_string()
    } else if d.is_infinite() {
        if d > 0.0 { "inf" } else { "-inf" }.to_string()
    } else if d == d.trunc() && d.abs() < 1e17 {
        format!("{}", d as i64)
    } else {
        format!("{d}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(r: &Reply, p: Protocol) -> String {
        let mut out = BytesMut::new();
        r.encode(p, &mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn maps_fold_into_flat_arrays_in_resp2() {
        let r = Reply::map([("a", Reply::Int(1))]);
        assert_eq!(enc(&r, Protocol::Resp2), "*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&r, Protocol::Resp3), "%1\r\n$1\r\na\r\n:1\r\n");
    }

    #[test]
    fn nulls_per_protocol() {
        assert_eq!(enc(&Reply::Nil, Protocol::Resp2), "$-1\r\n");
        assert_eq!(enc(&Reply::NilArray, Protocol::Resp2), "*-1\r\n");
        assert_eq!(enc(&Reply::Nil, Protocol::Resp3), "_\r\n");
    }

    #[test]
    fn error_lines_stay_on_one_line() {
        assert_eq!(enc(&Reply::err("a\r\nb"), Protocol::Resp2), "-ERR a  b\r\n");
    }

    #[test]
    fn a_big_bulk_reply_is_not_copied_into_the_write_buffer() {
        let big = Bytes::from(vec![7u8; 1 << 20]);
        let mut out = Output::new();
        Reply::Int(1).encode(Protocol::Resp2, &mut out);
        Reply::Array(vec![Reply::Bulk(big.clone()), Reply::from_static("x")])
            .encode(Protocol::Resp3, &mut out);
        // Only the small replies and the headers were copied.
        assert!(
            out.buffer_capacity() < 64 * 1024,
            "{}",
            out.buffer_capacity()
        );
        assert!(out.contiguous().is_none());
        let slices = out.slices();
        assert_eq!(slices.len(), 3);
        assert_eq!(slices[1].as_ptr(), big.as_ptr(), "the bulk was copied");
        // The same bytes as a plain encoding, in the same order.
        let mut plain = BytesMut::new();
        Reply::Int(1).encode(Protocol::Resp2, &mut plain);
        Reply::Array(vec![Reply::Bulk(big.clone()), Reply::from_static("x")])
            .encode(Protocol::Resp3, &mut plain);
        let written: Vec<u8> = slices.iter().flat_map(|s| s.iter().copied()).collect();
        assert_eq!(written, plain.to_vec());
        assert_eq!(out.len(), plain.len());
    }

    #[test]
    fn small_replies_are_one_buffer_which_clear_gives_back() {
        let mut out = Output::new();
        assert_eq!(out.buffer_capacity(), 0);
        Reply::bulk(vec![1u8; SHARED_BULK - 1]).encode(Protocol::Resp2, &mut out);
        assert_eq!(out.contiguous().map(<[u8]>::len), Some(out.len()));
        out.discard();
        assert!(out.is_empty() && out.buffer_capacity() > 0);
        out.clear();
        assert_eq!(out.buffer_capacity(), 0);
    }

    #[test]
    fn doubles_and_verbatim() {
        assert_eq!(enc(&Reply::Double(0.5), Protocol::Resp3), ",0.5\r\n");
        assert_eq!(enc(&Reply::Double(2.0), Protocol::Resp2), "$1\r\n2\r\n");
        assert_eq!(
            enc(&Reply::Verbatim("x".into()), Protocol::Resp3),
            "=5\r\ntxt:x\r\n"
        );
    }
}
