//! Where a line of a request ends, when a line is too long to wait for, and Redis's integers.
//!
//! # The same bytes give the same answer however they are split
//! Redis decides that a line is too long only while its terminator has not arrived: it refuses
//! once it holds more than 64 KB with no terminator, and never looks at the length of a line
//! that arrived whole. Its answer therefore depends on where reads happen to end. Here a line
//! is judged by its bytes alone, as Redis would judge it had every byte arrived in its own
//! read, with one allowance for inline lines (below). Every prefix of a line gets an answer
//! that the complete line confirms: a prefix is refused only if every line it can begin is.
//!
//! - **Count and length lines** (`*3`, `$5`): Redis ends them at the first `\r` and skips the
//!   byte after it without looking (normally `\n`). More than `max` bytes before the `\r` are
//!   refused, whether or not the `\r` is already buffered.
//! - **Inline lines**: they end at `\n`, and a `\r` before it is not part of the line. The
//!   line itself may have `max` bytes, so a line of exactly `max` bytes is accepted even when a
//!   read ends between its `\r` and its `\n` (Redis, holding `max + 1` bytes without a `\n`
//!   at that moment, refuses it; it accepts it whenever the `\r\n` arrives together, which is
//!   how clients send it).

use bytes::{Buf, Bytes, BytesMut};

/// How far the line being received has already been searched for its terminator.
///
/// A line that trickles in over many reads is searched once, not once per read (up to 64 KB
/// searched again on every read of one byte would cost a client's peer quadratic time).
///
/// # Contract
/// Between two calls the caller only appends to the buffer; every byte taken off its front
/// goes through [`LineScan::skip`] or [`LineScan::take`], which start the next search afresh.
#[derive(Debug, Default)]
pub(super) struct LineScan {
    searched: usize,
}

impl LineScan {
    /// The first `needle` in `buf[..window]`, resuming where the last search of this line
    /// stopped.
    fn find(&mut self, buf: &[u8], needle: u8, window: usize) -> Option<usize> {
        let end = buf.len().min(window);
        let from = self.searched.min(end);
        match buf[from..end].iter().position(|&b| b == needle) {
            Some(at) => {
                self.searched = from + at;
                Some(from + at)
            }
            None => {
                self.searched = end;
                None
            }
        }
    }

    /// Drops `n` bytes off the front of `buf`.
    pub(super) fn skip(&mut self, buf: &mut BytesMut, n: usize) {
        buf.advance(n);
        self.searched = 0;
    }

    /// Takes `n` bytes off the front of `buf`.
    pub(super) fn take(&mut self, buf: &mut BytesMut, n: usize) -> Bytes {
        self.searched = 0;
        buf.split_to(n).freeze()
    }
}

/// A line at the start of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Line {
    /// Its end has not arrived, and the bytes so far may still begin an acceptable line.
    Incomplete,
    /// Longer than the limit, whatever follows.
    TooBig,
    /// `buf[..content]` is the line; the next line starts at `buf[next]`.
    Complete { content: usize, next: usize },
}

/// A count or length line (`*<n>` or `$<n>`), its prefix included, as Redis reads one: up to
/// the first `\r`, with the byte after the `\r` skipped unseen. At most `max` bytes may come
/// before the `\r`.
pub(super) fn header(buf: &[u8], max: usize, scan: &mut LineScan) -> Line {
    match scan.find(buf, b'\r', max.saturating_add(1)) {
        None if buf.len() > max => Line::TooBig,
        None => Line::Incomplete,
        Some(cr) if cr + 2 > buf.len() => Line::Incomplete,
        Some(cr) => Line::Complete {
            content: cr,
            next: cr + 2,
        },
    }
}

/// An inline command line: up to `\n`, without the `\r` before it. At most `max` bytes long.
pub(super) fn inline(buf: &[u8], max: usize, scan: &mut LineScan) -> Line {
    match scan.find(buf, b'\n', max.saturating_add(2)) {
        Some(nl) => {
            let content = if nl > 0 && buf[nl - 1] == b'\r' {
                nl - 1
            } else {
                nl
            };
            if content > max {
                Line::TooBig
            } else {
                Line::Complete {
                    content,
                    next: nl + 1,
                }
            }
        }
        // `max` bytes and a `\r` can still end as a line of `max` bytes; anything else that
        // long cannot.
        None if buf.len() > max && !(buf.len() == max + 1 && buf[max] == b'\r') => Line::TooBig,
        None => Line::Incomplete,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn header_of(buf: &[u8], max: usize) -> Line {
        header(buf, max, &mut LineScan::default())
    }

    fn inline_of(buf: &[u8], max: usize) -> Line {
        inline(buf, max, &mut LineScan::default())
    }

    #[test]
    fn header_ends_at_cr_and_skips_the_next_byte() {
        assert_eq!(
            header_of(b"*12\r\n", 8),
            Line::Complete {
                content: 3,
                next: 5
            }
        );
        assert_eq!(header_of(b"*12\r", 8), Line::Incomplete);
        assert_eq!(header_of(b"*12\n$1", 8), Line::Incomplete);
        assert_eq!(
            header_of(b"*1\rX", 8),
            Line::Complete {
                content: 2,
                next: 4
            }
        );
    }

    #[test]
    fn header_limit_counts_the_bytes_before_cr() {
        assert_eq!(header_of(b"*1234567", 8), Line::Incomplete);
        assert_eq!(header_of(b"*12345678", 8), Line::TooBig);
        assert!(matches!(
            header_of(b"*1234567\r\n", 8),
            Line::Complete { .. }
        ));
        assert_eq!(header_of(b"*12345678\r\n", 8), Line::TooBig);
    }

    #[test]
    fn inline_limit_counts_the_line_without_its_terminator() {
        assert_eq!(inline_of(b"abcd\r", 4), Line::Incomplete);
        assert_eq!(inline_of(b"abcde", 4), Line::TooBig);
        assert_eq!(inline_of(b"abcd\rx", 4), Line::TooBig);
        assert_eq!(
            inline_of(b"abcd\r\n", 4),
            Line::Complete {
                content: 4,
                next: 6
            }
        );
        assert_eq!(
            inline_of(b"abcd\n", 4),
            Line::Complete {
                content: 4,
                next: 5
            }
        );
        assert_eq!(inline_of(b"abcd\r\r\n", 4), Line::TooBig);
    }

    #[test]
    fn a_resumed_search_finds_what_a_fresh_one_does() {
        let mut scan = LineScan::default();
        let mut buf = BytesMut::new();
        for &b in b"*123\r\n" {
            buf.extend_from_slice(&[b]);
            let resumed = header(&buf, 8, &mut scan);
            assert_eq!(resumed, header_of(&buf, 8), "after {buf:?}");
        }
        scan.skip(&mut buf, 6);
        buf.extend_from_slice(b"$1\r\n");
        assert!(matches!(header(&buf, 8, &mut scan), Line::Complete { .. }));
    }

    #[test]
    fn integers_parse_like_redis() {
        assert_eq!(parse_i64(b"-12"), Some(-12));
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b"012"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b""), None);
    }
}
