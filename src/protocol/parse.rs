//! Request parsing: RESP multibulk arrays of bulk strings, and inline commands.
//!
//! The parser is incremental: bytes of a command are consumed from the read buffer as soon as they
//! form a complete element, and the partially parsed command is kept in the parser. A command that
//! arrives over many reads is therefore scanned once, not once per read (a re-parse from the start
//! on every read is quadratic in the size of the command).
//!
//! # Limits
//! Every length a client announces is checked before anything is allocated for it, and nothing is
//! reserved up front for a count or a length: a client claiming `*1000000000` or `$500000000` only
//! costs the memory of the bytes it actually sends. The limits and error texts are Redis 7's:
//!
//! | input                                   | result                                          |
//! |-----------------------------------------|-------------------------------------------------|
//! | `*0`, `*-5`                             | ignored, the connection lives                   |
//! | `*abc`, count above `max_multibulk`     | `Protocol error: invalid multibulk length`      |
//! | `$-5`, `$abc`, length above `max_bulk`  | `Protocol error: invalid bulk length`           |
//! | an element that does not start with `$` | `Protocol error: expected '$', got 'x'`         |
//! | an inline line over `max_inline`        | `Protocol error: too big inline request`        |
//! | unbalanced quotes inline                | `Protocol error: unbalanced quotes in request`  |

use bytes::{Buf, Bytes, BytesMut};
use std::fmt;

/// Size limits applied while parsing. Defaults are Redis 7's.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest bulk string (`proto-max-bulk-len`, 512 MB).
    pub max_bulk: usize,
    /// Largest argument count of one command (Redis accepts up to `INT_MAX`; so do we, and since
    /// nothing is reserved for the count, memory is bounded by `max_query_buffer` instead).
    pub max_multibulk: usize,
    /// Longest inline command line (`PROTO_INLINE_MAX_SIZE`, 64 KB).
    pub max_inline: usize,
    /// Most bytes one command may hold while it is being received (`client-query-buffer-limit`, 1 GB).
    pub max_query_buffer: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk: 512 * 1024 * 1024,
            max_multibulk: i32::MAX as usize,
            max_inline: 64 * 1024,
            max_query_buffer: 1024 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// The much smaller limits Redis applies before a client has authenticated, so that an
    /// unauthenticated peer cannot make the server buffer large requests.
    pub fn unauthenticated(self) -> Limits {
        Limits {
            max_bulk: self.max_bulk.min(16 * 1024),
            max_multibulk: self.max_multibulk.min(10),
            ..self
        }
    }
}

/// A broken request stream. The connection answers `-ERR Protocol error: <this>` and closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    InvalidMultibulkLength,
    InvalidBulkLength,
    UnauthenticatedMultibulkLength,
    UnauthenticatedBulkLength,
    ExpectedDollar(u8),
    TooBigInline,
    TooBigCount,
    UnbalancedQuotes,
    QueryBufferLimit,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::InvalidMultibulkLength => f.write_str("invalid multibulk length"),
            ParseError::InvalidBulkLength => f.write_str("invalid bulk length"),
            ParseError::UnauthenticatedMultibulkLength => {
                f.write_str("unauthenticated multibulk length")
            }
            ParseError::UnauthenticatedBulkLength => f.write_str("unauthenticated bulk length"),
            ParseError::ExpectedDollar(c) => write!(f, "expected '$', got '{}'", *c as char),
            ParseError::TooBigInline => f.write_str("too big inline request"),
            ParseError::TooBigCount => f.write_str("too big mbulk count string"),
            ParseError::UnbalancedQuotes => f.write_str("unbalanced quotes in request"),
            ParseError::QueryBufferLimit => f.write_str("client query buffer limit reached"),
        }
    }
}

impl std::error::Error for ParseError {}

/// A command being received: how many arguments were announced and those complete so far.
#[derive(Debug, Default)]
struct Partial {
    remaining: usize,
    args: Vec<Bytes>,
    /// Bytes consumed by this command so far, checked against `max_query_buffer`.
    size: usize,
}

/// Incremental request parser. One per connection.
#[derive(Debug, Default)]
pub struct RequestParser {
    partial: Option<Partial>,
}

/// At most this many argument slots are reserved up front, whatever count a client announces.
const MAX_PREALLOC_ARGS: usize = 1024;

impl RequestParser {
    pub fn new() -> Self {
        RequestParser::default()
    }

    /// True while a command has been started but not completed.
    pub fn in_progress(&self) -> bool {
        self.partial.is_some()
    }

    /// Takes the next complete command out of `buf`.
    ///
    /// Returns `Ok(None)` when more bytes are needed; bytes of a partial command are consumed and
    /// kept inside the parser. Empty commands (`*0`, an empty inline line) are skipped.
    pub fn next(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<Vec<Bytes>>, ParseError> {
        loop {
            if self.partial.is_none() {
                if buf.is_empty() {
                    return Ok(None);
                }
                if buf[0] != b'*' {
                    match parse_inline(buf, limits)? {
                        None => return Ok(None),
                        Some(args) if args.is_empty() => continue,
                        Some(args) => return Ok(Some(args)),
                    }
                }
                let Some(count) = take_line_int(buf, 1, limits, ParseError::TooBigCount)? else {
                    return Ok(None);
                };
                let count = count.map_err(|_| ParseError::InvalidMultibulkLength)?;
                if count > limits.max_multibulk as i64 {
                    return Err(if limits.max_multibulk <= 10 {
                        ParseError::UnauthenticatedMultibulkLength
                    } else {
                        ParseError::InvalidMultibulkLength
                    });
                }
                if count <= 0 {
                    continue;
                }
                let count = count as usize;
                self.partial = Some(Partial {
                    remaining: count,
                    args: Vec::with_capacity(count.min(MAX_PREALLOC_ARGS)),
                    size: 0,
                });
            }
            let Some(partial) = self.partial.as_mut() else {
                continue;
            };
            while partial.remaining > 0 {
                if buf.is_empty() {
                    return Ok(None);
                }
                if buf[0] != b'$' {
                    return Err(ParseError::ExpectedDollar(buf[0]));
                }
                // Peek the length line without consuming it, so that a bulk whose payload has not
                // arrived yet is re-examined cheaply on the next read.
                let Some((len, line_len)) = peek_line_int(buf, 1, limits)? else {
                    return Ok(None);
                };
                let len = len.map_err(|_| ParseError::InvalidBulkLength)?;
                if len < 0 || len as u64 > limits.max_bulk as u64 {
                    return Err(if limits.max_bulk <= 16 * 1024 && len >= 0 {
                        ParseError::UnauthenticatedBulkLength
                    } else {
                        ParseError::InvalidBulkLength
                    });
                }
                let len = len as usize;
                if partial.size + line_len + len + 2 > limits.max_query_buffer {
                    return Err(ParseError::QueryBufferLimit);
                }
                if buf.len() < line_len + len + 2 {
                    return Ok(None);
                }
                buf.advance(line_len);
                let arg = buf.split_to(len).freeze();
                // Redis does not check the terminator; it just skips two bytes.
                buf.advance(2);
                partial.size += line_len + len + 2;
                partial.args.push(arg);
                partial.remaining -= 1;
            }
            let done = self.partial.take().map(|p| p.args).unwrap_or_default();
            return Ok(Some(done));
        }
    }
}

/// Finds `\r\n` (or a bare `\n`) in `buf`; returns the index of the byte after the newline and the
/// end of the line's content.
fn find_line(buf: &[u8]) -> Option<(usize, usize)> {
    let nl = memchr(b'\n', buf)?;
    let end = if nl > 0 && buf[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    };
    Some((nl + 1, end))
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

/// Longest count or length line accepted before its newline must have arrived.
const MAX_LEN_LINE: usize = 64 * 1024;

/// Parses `<prefix><integer>\r\n` at the start of `buf` without consuming it. Returns the number
/// (or `Err(())` if it is not an integer) and the length of the whole line.
#[allow(clippy::type_complexity)]
fn peek_line_int(
    buf: &[u8],
    skip: usize,
    _limits: &Limits,
) -> Result<Option<(Result<i64, ()>, usize)>, ParseError> {
    let Some((next, end)) = find_line(buf) else {
        if buf.len() > MAX_LEN_LINE {
            return Err(ParseError::TooBigCount);
        }
        return Ok(None);
    };
    Ok(Some((parse_i64(&buf[skip..end]).ok_or(()), next)))
}

/// Like [`peek_line_int`] but consumes the line.
fn take_line_int(
    buf: &mut BytesMut,
    skip: usize,
    limits: &Limits,
    too_big: ParseError,
) -> Result<Option<Result<i64, ()>>, ParseError> {
    match peek_line_int(buf, skip, limits) {
        Ok(Some((n, len))) => {
            buf.advance(len);
            Ok(Some(n))
        }
        Ok(None) => Ok(None),
        Err(_) => Err(too_big),
    }
}

/// Parses a decimal `i64` the way Redis's `string2ll` does: optional minus, digits, no spaces, no
/// plus sign, no leading zeros except `0` itself.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || (digits[0] == b'0' && (digits.len() > 1 || neg)) {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        let d = (c - b'0') as i64;
        v = if neg {
            v.checked_mul(10)?.checked_sub(d)?
        } else {
            v.checked_mul(10)?.checked_add(d)?
        };
    }
    Some(v)
}

/// Parses one inline command line (what a person types over telnet). Returns `None` when the line
/// is not complete yet.
fn parse_inline(buf: &mut BytesMut, limits: &Limits) -> Result<Option<Vec<Bytes>>, ParseError> {
    let Some((next, end)) = find_line(buf) else {
        if buf.len() > limits.max_inline {
            return Err(ParseError::TooBigInline);
        }
        return Ok(None);
    };
    if end > limits.max_inline {
        return Err(ParseError::TooBigInline);
    }
    let args = split_args(&buf[..end])?;
    buf.advance(next);
    Ok(Some(args))
}

/// Splits an inline line into arguments with Redis's `sdssplitargs` rules: whitespace separates,
/// double quotes allow `\n \r \t \b \a \\ \" \xHH` escapes, single quotes allow `\'`, and a closing
/// quote must be followed by whitespace or the end of the line.
pub fn split_args(line: &[u8]) -> Result<Vec<Bytes>, ParseError> {
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        // NUL separates too (Redis reads the line as a C string); skipping it here is what keeps
        // a NUL from producing empty arguments forever.
        while i < n && (line[i].is_ascii_whitespace() || line[i] == 0) {
            i += 1;
        }
        if i >= n {
            return Ok(args);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= n {
                    return Err(ParseError::UnbalancedQuotes);
                }
                let c = line[i];
                if c == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && line[i + 2].is_ascii_hexdigit()
                    && line[i + 3].is_ascii_hexdigit()
                {
                    cur.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return Err(ParseError::UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if in_sq {
                if i >= n {
                    return Err(ParseError::UnbalancedQuotes);
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return Err(ParseError::UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        args.push(Bytes::from(cur));
    }
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Bytes>>, ParseError> {
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(cmd) = p.next(&mut buf, &Limits::default())? {
            out.push(cmd);
        }
        Ok(out)
    }

    #[test]
    fn multibulk_and_pipelining() {
        let cmds = parse_all(b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n").unwrap();
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[1], vec![Bytes::from("GET"), Bytes::from("k")]);
    }

    #[test]
    fn byte_by_byte_gives_the_same_command() {
        let input = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n";
        let mut p = RequestParser::new();
        let mut buf = BytesMut::new();
        let mut got = None;
        for &b in input.iter() {
            buf.extend_from_slice(&[b]);
            if let Some(cmd) = p.next(&mut buf, &Limits::default()).unwrap() {
                got = Some(cmd);
            }
        }
        assert_eq!(got.unwrap()[2], Bytes::from_static(b"va\r\nl"));
    }

    #[test]
    fn empty_and_negative_counts_are_ignored() {
        let cmds = parse_all(b"*0\r\n*-5\r\n*1\r\n$4\r\nPING\r\n").unwrap();
        assert_eq!(cmds.len(), 1);
    }

    #[test]
    fn bad_lengths_are_protocol_errors() {
        assert_eq!(
            parse_all(b"*abc\r\n"),
            Err(ParseError::InvalidMultibulkLength)
        );
        assert_eq!(
            parse_all(b"*99999999999\r\n"),
            Err(ParseError::InvalidMultibulkLength)
        );
        assert_eq!(
            parse_all(b"*1\r\n$-5\r\n"),
            Err(ParseError::InvalidBulkLength)
        );
        assert_eq!(
            parse_all(b"*1\r\n$10000000000\r\n"),
            Err(ParseError::InvalidBulkLength)
        );
        assert_eq!(
            parse_all(b"*1\r\n*1\r\n"),
            Err(ParseError::ExpectedDollar(b'*'))
        );
    }

    #[test]
    fn huge_legal_count_waits_without_allocating() {
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(&b"*1000000000\r\n$4\r\nPING\r\n"[..]);
        assert_eq!(p.next(&mut buf, &Limits::default()), Ok(None));
        assert!(p.in_progress());
    }

    #[test]
    fn inline_commands_and_quotes() {
        let cmds = parse_all(b"PING\r\nset k \"a b\\x41\\n\"\r\n\r\nget 'it\\'s'\n").unwrap();
        assert_eq!(cmds[0], vec![Bytes::from("PING")]);
        assert_eq!(cmds[1][2], Bytes::from_static(b"a bA\n"));
        assert_eq!(cmds[2][1], Bytes::from("it's"));
        assert_eq!(
            parse_all(b"set k \"abc\r\n"),
            Err(ParseError::UnbalancedQuotes)
        );
        assert_eq!(
            parse_all(b"set k \"abc\"x\r\n"),
            Err(ParseError::UnbalancedQuotes)
        );
    }

    #[test]
    fn nul_bytes_inline_terminate_instead_of_looping() {
        let cmds = parse_all(b"\x00\x01garbage\x00x\r\n").unwrap();
        assert_eq!(
            cmds[0],
            vec![Bytes::from_static(b"\x01garbage"), Bytes::from("x")]
        );
    }

    #[test]
    fn long_inline_is_rejected() {
        let line = vec![b'a'; 70 * 1024];
        assert_eq!(parse_all(&line), Err(ParseError::TooBigInline));
    }

    #[test]
    fn unauthenticated_limits() {
        let limits = Limits::default().unauthenticated();
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(&b"*11\r\n"[..]);
        assert_eq!(
            p.next(&mut buf, &limits),
            Err(ParseError::UnauthenticatedMultibulkLength)
        );
        let mut buf = BytesMut::from(&b"*1\r\n$20000\r\n"[..]);
        assert_eq!(
            RequestParser::new().next(&mut buf, &limits),
            Err(ParseError::UnauthenticatedBulkLength)
        );
    }

    #[test]
    fn integers_parse_like_redis() {
        assert_eq!(parse_i64(b"-12"), Some(-12));
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"012"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b" 1"), None);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn encode(args: &[Vec<u8>]) -> Vec<u8> {
            let mut out = format!("*{}\r\n", args.len()).into_bytes();
            for a in args {
                out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                out.extend_from_slice(a);
                out.extend_from_slice(b"\r\n");
            }
            out
        }

        proptest! {
            /// Nothing a client sends makes the parser panic or loop: it yields commands, asks
            /// for more, or reports a protocol error.
            #[test]
            fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
                let mut p = RequestParser::new();
                let mut buf = BytesMut::from(&data[..]);
                let limits = Limits::default();
                for _ in 0..data.len() + 1 {
                    match p.next(&mut buf, &limits) {
                        Ok(Some(_)) => continue,
                        Ok(None) | Err(_) => break,
                    }
                }
            }

            /// A command split at any point across two reads parses to the same arguments.
            #[test]
            fn split_reads_give_the_same_command(
                args in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..6),
                cut in 0usize..10_000,
            ) {
                let wire = encode(&args);
                let cut = cut % (wire.len() + 1);
                let mut p = RequestParser::new();
                let mut buf = BytesMut::from(&wire[..cut]);
                let mut got = p.next(&mut buf, &Limits::default()).unwrap();
                if got.is_none() {
                    buf.extend_from_slice(&wire[cut..]);
                    got = p.next(&mut buf, &Limits::default()).unwrap();
                }
                let got: Vec<Vec<u8>> = got.unwrap().iter().map(|b| b.to_vec()).collect();
                prop_assert_eq!(got, args);
                prop_assert!(buf.is_empty());
            }
        }
    }
}
