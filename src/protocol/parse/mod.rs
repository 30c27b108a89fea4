//! Request parsing: RESP multibulk arrays of bulk strings, and inline commands.
//!
//! - `limits`: the size limits and their Redis defaults ([`Limits`]).
//! - `error`: the protocol errors with Redis's texts ([`ParseError`]).
//! - `line`: where lines end and when one is too long to wait for.
//! - `multibulk` and `inline`: the two request forms.
//!
//! The parser is incremental: bytes of a command are consumed from the read buffer as soon as they
//! form a complete element, and the partially parsed command is kept in the parser. A command that
//! arrives over many reads is therefore scanned once, not once per read (a re-parse from the start
//! on every read is quadratic in the size of the command).
//!
//! # Limits
//! Every length a client announces is checked before anything is allocated for it, and nothing is
//! reserved up front for a count or a length: a client claiming `*1000000000` or `$500000000` only
//! costs the memory of the bytes it actually sends. The limits and error texts are Redis 7.0's, in
//! the order Redis checks them:
//!
//! | input                                                     | `Protocol error: ...`              |
//! |-----------------------------------------------------------|------------------------------------|
//! | `*0`, `*-5`                                               | none: ignored, the connection lives |
//! | more than `max_inline` bytes of a `*` line before its `\r`| `too big mbulk count string`       |
//! | `*abc`, a count above `max_multibulk`                     | `invalid multibulk length`         |
//! | a count above 10 before AUTH                              | `unauthenticated multibulk length` |
//! | more than `max_inline` bytes of a `$` line before its `\r`| `too big bulk count string`        |
//! | an element that does not start with `$`                   | `expected '$', got 'x'`            |
//! | `$-5`, `$abc`, a length above `max_bulk`                  | `invalid bulk length`              |
//! | a length above 16384 before AUTH                          | `unauthenticated bulk length`      |
//! | a command of more than `max_query_buffer` bytes           | `client query buffer limit reached`|
//! | an inline line longer than `max_inline`                   | `too big inline request`           |
//! | unbalanced quotes inline                                  | `unbalanced quotes in request`     |
//!
//! Whatever the limits, the same bytes give the same commands and the same error however they
//! are split into reads (see `line` for how that differs from Redis at the edges).
//!
//! # Differences from Redis
//! - Redis searches its buffer with C string functions, so a NUL byte in a line hides the rest
//!   of it and Redis waits (up to 64 KB) for an end it cannot see. Here a NUL is a byte like
//!   any other; inline, it separates words.
//! - Redis bounds the buffer it holds, which does not include arguments already parsed; the
//!   bound here is on the bytes of one command, which does not depend on how they were read.
//!   (Redis closes such a client without a reply.)
//! - Redis writes the byte of `expected '$', got 'x'` raw; [`ParseError`]'s text is a `String`,
//!   so a byte above 0x7f comes out as the UTF-8 of that Latin-1 character.

#[cfg(test)]
mod edges;
mod error;
mod inline;
mod limits;
mod line;
mod multibulk;
#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

pub use error::ParseError;
pub use limits::{Limits, PreAuthLimits};
pub use line::parse_i64;

use bytes::{Bytes, BytesMut};
use line::LineScan;
use multibulk::{Partial, Start};

/// A bulk string this long or longer is received by a connection into a buffer of its own
/// (see [`RequestParser::awaited_bulk`]), so that it can be kept without a copy; Redis's
/// `PROTO_MBULK_BIG_ARG`.
pub const BIG_BULK: usize = 32 * 1024;

/// Incremental request parser. One per connection.
///
/// # Contract
/// The caller hands the same read buffer to every call and only appends to it in between; the
/// parser takes complete elements off its front. After an error the stream is broken and the
/// caller closes the connection (a parser used after an error does not panic, but its answers
/// mean nothing).
#[derive(Debug, Default)]
pub struct RequestParser {
    partial: Option<Partial>,
    scan: LineScan,
}

impl RequestParser {
    pub fn new() -> Self {
        RequestParser::default()
    }

    /// True while a RESP command has been started but not completed.
    pub fn in_progress(&self) -> bool {
        self.partial.is_some()
    }

    /// The length of the bulk string being received, once its `$` line has been read and until
    /// all its bytes have: the buffer then holds only the first bytes of that bulk, and the
    /// bulk is taken off as one slice as soon as `len` bytes are buffered (its `\r\n` may
    /// follow later). A connection can thus receive a big bulk into a buffer sized to it, and
    /// the argument is that buffer, not a copy.
    pub fn awaited_bulk(&self) -> Option<usize> {
        self.partial.as_ref().and_then(Partial::awaited_bulk)
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
            let partial = match self.partial.as_mut() {
                Some(partial) => partial,
                None => {
                    if buf.is_empty() {
                        return Ok(None);
                    }
                    if buf[0] != b'*' {
                        match inline::next(buf, limits, &mut self.scan)? {
                            None => return Ok(None),
                            Some(args) if args.is_empty() => continue,
                            Some(args) => return Ok(Some(args)),
                        }
                    }
                    match multibulk::start(buf, limits, &mut self.scan)? {
                        Start::Incomplete => return Ok(None),
                        Start::Empty => continue,
                        Start::Command(partial) => self.partial.insert(partial),
                    }
                }
            };
            let done = partial.fill(buf, limits, &mut self.scan)?;
            if done.is_some() {
                self.partial = None;
            }
            return Ok(done);
        }
    }
}
