//! RESP commands: `*<count>\r\n` then that many `$<len>\r\n<bytes>\r\n`, read as Redis 7.0's
//! `processMultibulkBuffer` reads them, in its order of checks.

use super::line::{self, Line, LineScan};
use super::{Limits, ParseError};
use bytes::{Bytes, BytesMut};

/// At most this many argument slots are reserved up front, whatever count a client announces.
const MAX_PREALLOC_ARGS: usize = 1024;

/// A command being received: how many arguments are still to come, and those complete so far.
#[derive(Debug)]
pub(super) struct Partial {
    remaining: usize,
    args: Vec<Bytes>,
    /// The length of the bulk whose `$` line has been read, while its bytes are awaited.
    bulk: Option<usize>,
    /// Bytes of the last bulk's `\r\n` still to skip: a bulk is taken as soon as its bytes are
    /// in, so that a buffer sized to a big bulk holds the bulk and nothing else.
    terminator: usize,
    /// Bytes of this command consumed so far, count line included.
    size: usize,
}

/// What the count line at the start of the buffer announces.
pub(super) enum Start {
    /// The line is not complete yet.
    Incomplete,
    /// `*0` or a negative count: nothing to run.
    Empty,
    /// A command with at least one argument to come.
    Command(Partial),
}

/// Reads the `*<count>` line at the start of `buf` (whose first byte is `*`).
pub(super) fn start(
    buf: &mut BytesMut,
    limits: &Limits,
    scan: &mut LineScan,
) -> Result<Start, ParseError> {
    let (content, next) = match line::header(buf, limits.max_inline, scan) {
        Line::Incomplete => return Ok(Start::Incomplete),
        Line::TooBig => return Err(ParseError::TooBigMultibulkCount),
        Line::Complete { content, next } => (content, next),
    };
    let count = line::parse_i64(&buf[1..content]).ok_or(ParseError::InvalidMultibulkLength)?;
    if count > 0 && count as u64 > limits.max_multibulk as u64 {
        return Err(ParseError::InvalidMultibulkLength);
    }
    if let Some(pre_auth) = limits.pre_auth {
        if count > 0 && count as u64 > pre_auth.max_multibulk as u64 {
            return Err(ParseError::UnauthenticatedMultibulkLength);
        }
    }
    scan.skip(buf, next);
    if count <= 0 {
        return Ok(Start::Empty);
    }
    let count = count as usize;
    Ok(Start::Command(Partial {
        remaining: count,
        args: Vec::with_capacity(count.min(MAX_PREALLOC_ARGS)),
        bulk: None,
        terminator: 0,
        size: next,
    }))
}

impl Partial {
    /// Reads as many arguments as `buf` holds. Returns the arguments once the last one is
    /// complete, `Ok(None)` while more bytes are needed.
    pub(super) fn fill(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
        scan: &mut LineScan,
    ) -> Result<Option<Vec<Bytes>>, ParseError> {
        while self.remaining > 0 || self.terminator > 0 {
            if self.terminator > 0 {
                // Redis does not check the terminator; it just skips two bytes.
                let n = self.terminator.min(buf.len());
                if n == 0 {
                    return Ok(None);
                }
                scan.skip(buf, n);
                self.terminator -= n;
                continue;
            }
            let len = match self.bulk {
                Some(len) => len,
                None => match self.bulk_header(buf, limits, scan)? {
                    Some(len) => len,
                    None => return Ok(None),
                },
            };
            if buf.len() < len {
                return Ok(None);
            }
            self.args.push(scan.take(buf, len));
            self.terminator = 2;
            self.size += len + 2;
            self.bulk = None;
            self.remaining -= 1;
        }
        Ok(Some(std::mem::take(&mut self.args)))
    }

    /// The length of the bulk whose bytes are awaited: its `$` line has been read and its bytes
    /// have not all arrived; they start at the front of the buffer.
    pub(super) fn awaited_bulk(&self) -> Option<usize> {
        self.bulk
    }

    /// Reads a `$<len>` line and checks the length it announces before anything is kept for it.
    fn bulk_header(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
        scan: &mut LineScan,
    ) -> Result<Option<usize>, ParseError> {
        let (content, next) = match line::header(buf, limits.max_inline, scan) {
            Line::Incomplete => return Ok(None),
            Line::TooBig => return Err(ParseError::TooBigBulkCount),
            Line::Complete { content, next } => (content, next),
        };
        // Like Redis, the first byte is looked at only once the whole line is there.
        if buf[0] != b'$' {
            return Err(ParseError::ExpectedDollar(buf[0]));
        }
        let len = line::parse_i64(&buf[1..content]).ok_or(ParseError::InvalidBulkLength)?;
        let len = usize::try_from(len).map_err(|_| ParseError::InvalidBulkLength)?;
        if len > limits.max_bulk {
            return Err(ParseError::InvalidBulkLength);
        }
        if limits.pre_auth.is_some_and(|p| len > p.max_bulk) {
            return Err(ParseError::UnauthenticatedBulkLength);
        }
        let size = self.size.saturating_add(next).saturating_add(len + 2);
        if size > limits.max_query_buffer {
            return Err(ParseError::QueryBufferLimit);
        }
        scan.skip(buf, next);
        self.size += next;
        self.bulk = Some(len);
        Ok(Some(len))
    }
}
