//! Typed replies and their encodings.
//!
//! A handler returns a [`Reply`] without knowing the connection's protocol; [`Reply::encode`]
//! writes RESP3 types as themselves or folds them into RESP2 the way Redis does: a map becomes a
//! flat array of key/value pairs, a set an array, a double a bulk string, a boolean an integer,
//! a verbatim string a bulk string, and null a null bulk (`$-1`) or null array (`*-1`).

use bytes::{BufMut, Bytes, BytesMut};

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
    pub fn encode(&self, proto: Protocol, out: &mut BytesMut) {
        let resp3 = proto == Protocol::Resp3;
        match self {
            Reply::Ok => out.put_slice(b"+OK\r\n"),
            Reply::Simple(s) => {
                out.put_u8(b'+');
                out.put_slice(s.as_bytes());
                out.put_slice(b"\r\n");
            }
            Reply::Error(s) => {
                out.put_u8(b'-');
                // An error line must stay on one line whatever text went into it.
                for &b in s.as_bytes() {
                    out.put_u8(if b == b'\r' || b == b'\n' { b' ' } else { b });
                }
                out.put_slice(b"\r\n");
            }
            Reply::Int(n) => {
                out.put_u8(b':');
                put_int(out, *n);
                out.put_slice(b"\r\n");
            }
            Reply::Bulk(b) => put_bulk(out, b),
            Reply::Nil => out.put_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" }),
            Reply::NilArray => out.put_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" }),
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
                    out.put_u8(b',');
                    out.put_slice(text.as_bytes());
                    out.put_slice(b"\r\n");
                } else {
                    put_bulk(out, text.as_bytes());
                }
            }
            Reply::Bool(b) => {
                if resp3 {
                    out.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" });
                } else {
                    out.put_slice(if *b { b":1\r\n" } else { b":0\r\n" });
                }
            }
            Reply::Verbatim(s) => {
                if resp3 {
                    put_header(out, b'=', s.len() + 4);
                    out.put_slice(b"txt:");
                    out.put_slice(s.as_bytes());
                    out.put_slice(b"\r\n");
                } else {
                    put_bulk(out, s.as_bytes());
                }
            }
        }
    }
}

fn put_int(out: &mut BytesMut, n: i64) {
    let mut buf = itoa::Buffer::new();
    out.put_slice(buf.format(n).as_bytes());
}

fn put_header(out: &mut BytesMut, tag: u8, len: usize) {
    out.put_u8(tag);
    let mut buf = itoa::Buffer::new();
    out.put_slice(buf.format(len).as_bytes());
    out.put_slice(b"\r\n");
}

fn put_bulk(out: &mut BytesMut, b: &[u8]) {
    put_header(out, b'$', b.len());
    out.put_slice(b);
    out.put_slice(b"\r\n");
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
    fn doubles_and_verbatim() {
        assert_eq!(enc(&Reply::Double(0.5), Protocol::Resp3), ",0.5\r\n");
        assert_eq!(enc(&Reply::Double(2.0), Protocol::Resp2), "$1\r\n2\r\n");
        assert_eq!(
            enc(&Reply::Verbatim("x".into()), Protocol::Resp3),
            "=5\r\ntxt:x\r\n"
        );
    }
}
