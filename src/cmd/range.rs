//! Byte ranges of strings: GETRANGE (and its old name SUBSTR), SETRANGE, and LCS (the longest
//! common subsequence of two strings).
//!
//! # Format
//! ```text
//! GETRANGE key start end          -> the bytes start..=end (negative: from the end), "" if none
//! SETRANGE key offset value       -> the new length; zero bytes pad a gap; the TTL stays
//! LCS key1 key2 [LEN] [IDX [MINMATCHLEN n] [WITHMATCHLEN]]
//!                                 -> the subsequence, its length, or its matching ranges
//! ```

use super::args::{self, Args};
use super::keyspace::{lookup_read, string_of, write};
use super::{CommandError, Ctx};
use crate::cache::{Entry, Value, Write};
use crate::protocol::Reply;
use bytes::Bytes;

/// The bytes of `v` between the inclusive indices `start` and `end`, Redis's way: negative
/// indices count from the end, the range is clipped to the string, an inverted range is empty.
pub fn clip(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    if (start < 0 && end < 0 && start > end) || len == 0 {
        return None;
    }
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end }.max(0).min(len - 1);
    (start <= end).then_some((start as usize, end as usize))
}

/// `GETRANGE key start end` (and `SUBSTR`)
pub fn getrange(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let (start, end) = (args::int(&a[2])?, args::int(&a[3])?);
    let Some(e) = lookup_read(&ctx.shared.store, &a[1]) else {
        return Ok(Reply::Bulk(Bytes::new()));
    };
    let v = string_of(&e)?;
    Ok(Reply::Bulk(match clip(v.len(), start, end) {
        Some((s, e)) => v.slice(s..=e),
        None => Bytes::new(),
    }))
}

/// `SETRANGE key offset value`
pub fn setrange(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let offset = args::int(&a[2])?;
    if offset < 0 {
        return Err(CommandError::err("offset is out of range"));
    }
    let (offset, value) = (offset as usize, &a[3]);
    let max = ctx.shared.config().proto_max_bulk_len;
    write(&ctx.shared.store, &a[1], |cur| {
        let current = cur.map(|e| string_of(e)).transpose()?;
        if value.is_empty() {
            // Nothing to write: the key is neither created nor changed.
            let len = current.map_or(0, |v| v.len());
            return Ok((Write::Keep, Reply::Int(len as i64)));
        }
        if offset.saturating_add(value.len()) > max {
            return Err(CommandError::err(
                "string exceeds maximum allowed size (proto-max-bulk-len)",
            ));
        }
        let mut v = current.map(|v| v.to_vec()).unwrap_or_default();
        if v.len() < offset + value.len() {
            v.resize(offset + value.len(), 0);
        }
        v[offset..offset + value.len()].copy_from_slice(value);
        let len = v.len() as i64;
        let expire_at = cur.and_then(|e| e.expire_at);
        let entry = Entry::new(Value::Str(Bytes::from(v)), expire_at);
        Ok((Write::Put(entry), Reply::Int(len)))
    })
}

/// What LCS is asked for.
#[derive(Default)]
struct LcsOptions {
    len: bool,
    idx: bool,
    min_match_len: usize,
    with_match_len: bool,
}

impl LcsOptions {
    fn parse(a: &[Bytes]) -> Result<LcsOptions, CommandError> {
        let mut o = LcsOptions::default();
        let mut args = Args::new(&a[2..]);
        while let Some(opt) = args.peek() {
            args.next_bytes()?;
            if args::is(opt, "LEN") {
                o.len = true;
            } else if args::is(opt, "IDX") {
                o.idx = true;
            } else if args::is(opt, "WITHMATCHLEN") {
                o.with_match_len = true;
            } else if args::is(opt, "MINMATCHLEN") && !args.is_empty() {
                o.min_match_len = args.next_int()?.max(0) as usize;
            } else {
                return Err(CommandError::Syntax);
            }
        }
        if o.len && o.idx {
            return Err(CommandError::err(
                "If you want both the length and indexes, please just use IDX.",
            ));
        }
        Ok(o)
    }
}

/// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]`
///
/// The classic dynamic programme over `(|a|+1) x (|b|+1)` cells, refused (as Redis does) when
/// that table would exceed the bulk limit, so one call cannot take unbounded memory.
pub fn lcs(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let store = &ctx.shared.store;
    let fetch = |key: &Bytes| -> Result<Bytes, CommandError> {
        match lookup_read(store, key) {
            None => Ok(Bytes::new()),
            Some(e) => e.as_str().cloned().ok_or(CommandError::err(
                "The specified keys must contain string values",
            )),
        }
    };
    let (x, y) = (fetch(&a[1])?, fetch(&a[2])?);
    let o = LcsOptions::parse(a)?;
    let cells = (x.len() as u64 + 1).saturating_mul(y.len() as u64 + 1);
    if cells.saturating_mul(4) > ctx.shared.config().proto_max_bulk_len as u64 {
        return Err(CommandError::err(
            "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let table = Table::fill(&x, &y);
    let total = table.at(x.len(), y.len()) as i64;
    if o.len {
        return Ok(Reply::Int(total));
    }
    if !o.idx {
        return Ok(Reply::Bulk(Bytes::from(table.sequence(&x, &y))));
    }
    let matches = table
        .ranges(&x, &y)
        .into_iter()
        .filter(|r| r.len >= o.min_match_len)
        .map(|r| {
            let pair = |s: usize, l: usize| {
                Reply::Array(vec![Reply::Int(s as i64), Reply::Int((s + l - 1) as i64)])
            };
            let mut m = vec![pair(r.a, r.len), pair(r.b, r.len)];
            if o.with_match_len {
                m.push(Reply::Int(r.len as i64));
            }
            Reply::Array(m)
        })
        .collect();
    Ok(Reply::map([
        ("matches", Reply::Array(matches)),
        ("len", Reply::Int(total)),
    ]))
}

/// One matching run: `len` bytes at `a` in the first string and at `b` in the second.
struct Run {
    a: usize,
    b: usize,
    len: usize,
}

/// LCS lengths of every pair of prefixes, row-major over `(|x|+1) x (|y|+1)`.
struct Table {
    cols: usize,
    cells: Vec<u32>,
}

impl Table {
    fn fill(x: &[u8], y: &[u8]) -> Table {
        let cols = y.len() + 1;
        let mut cells = vec![0u32; (x.len() + 1) * cols];
        for i in 1..=x.len() {
            for j in 1..=y.len() {
                cells[i * cols + j] = if x[i - 1] == y[j - 1] {
                    cells[(i - 1) * cols + j - 1] + 1
                } else {
                    cells[(i - 1) * cols + j].max(cells[i * cols + j - 1])
                };
            }
        }
        Table { cols, cells }
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.cells[i * self.cols + j]
    }

    /// Walks back from the end as Redis does (on a tie, towards a shorter first string), so the
    /// subsequence and the ranges are Redis's among several of the same length.
    fn walk(&self, x: &[u8], y: &[u8], mut on_match: impl FnMut(usize, usize)) {
        let (mut i, mut j) = (x.len(), y.len());
        while i > 0 && j > 0 {
            if x[i - 1] == y[j - 1] {
                on_match(i - 1, j - 1);
                i -= 1;
                j -= 1;
            } else if self.at(i - 1, j) > self.at(i, j - 1) {
                i -= 1;
            } else {
                j -= 1;
            }
        }
    }

    fn sequence(&self, x: &[u8], y: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.at(x.len(), y.len()) as usize);
        self.walk(x, y, |i, _| out.push(x[i]));
        out.reverse();
        out
    }

    /// The matching runs, last first (Redis's order): consecutive matches in both strings
    /// form one run.
    fn ranges(&self, x: &[u8], y: &[u8]) -> Vec<Run> {
        let mut runs: Vec<Run> = Vec::new();
        self.walk(x, y, |i, j| match runs.last_mut() {
            Some(r) if r.a == i + 1 && r.b == j + 1 => {
                r.a = i;
                r.b = j;
                r.len += 1;
            }
            _ => runs.push(Run { a: i, b: j, len: 1 }),
        });
        runs
    }
}

#[cfg(test)]
mod tests {
    use crate::cmd::testing::{bulk, error, TestServer};
    use crate::protocol::Reply;

    #[test]
    fn getrange_clips_like_redis() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["SET", "k", "Hello World"]);
        for (s, e, want) in [
            ("0", "4", "Hello"),
            ("-5", "-1", "World"),
            ("-1", "-5", ""),
            ("5", "3", ""),
            ("0", "-100", "H"),
            ("-100", "100", "Hello World"),
            ("20", "30", ""),
        ] {
            assert_eq!(c.run(&["GETRANGE", "k", s, e]), bulk(want), "{s} {e}");
        }
        assert_eq!(c.run(&["SUBSTR", "k", "6", "-1"]), bulk("World"));
        assert_eq!(c.run(&["GETRANGE", "missing", "0", "-1"]), bulk(""));
    }

    #[test]
    fn setrange_pads_keeps_the_ttl_and_creates_nothing_for_an_empty_value() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(c.run(&["SETRANGE", "k", "3", "ab"]), Reply::Int(5));
        assert_eq!(c.run(&["GET", "k"]), bulk("\0\0\0ab"));
        c.run(&["EXPIRE", "k", "100"]);
        assert_eq!(c.run(&["SETRANGE", "k", "0", "xyz"]), Reply::Int(5));
        assert_eq!(c.run(&["GET", "k"]), bulk("xyzab"));
        assert_eq!(c.run(&["TTL", "k"]), Reply::Int(100));
        assert_eq!(c.run(&["SETRANGE", "none", "5", ""]), Reply::Int(0));
        assert_eq!(c.run(&["EXISTS", "none"]), Reply::Int(0));
        assert_eq!(
            c.run(&["SETRANGE", "k", "-1", "x"]),
            error("ERR offset is out of range")
        );
        assert_eq!(
            c.run(&["SETRANGE", "k", "536870911", "xy"]),
            error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        );
    }

    #[test]
    fn lcs_answers_the_subsequence_its_length_and_its_ranges() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["MSET", "a", "ohmytext", "b", "mynewtext"]);
        assert_eq!(c.run(&["LCS", "a", "b"]), bulk("mytext"));
        assert_eq!(c.run(&["LCS", "a", "b", "LEN"]), Reply::Int(6));
        let pair = |s: i64, e: i64| Reply::Array(vec![Reply::Int(s), Reply::Int(e)]);
        assert_eq!(
            c.run(&["LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]),
            Reply::map([
                (
                    "matches",
                    Reply::Array(vec![Reply::Array(vec![
                        pair(4, 7),
                        pair(5, 8),
                        Reply::Int(4)
                    ])])
                ),
                ("len", Reply::Int(6)),
            ])
        );
        assert_eq!(
            c.run(&["LCS", "a", "b", "IDX"]),
            Reply::map([
                (
                    "matches",
                    Reply::Array(vec![
                        Reply::Array(vec![pair(4, 7), pair(5, 8)]),
                        Reply::Array(vec![pair(2, 3), pair(0, 1)]),
                    ])
                ),
                ("len", Reply::Int(6)),
            ])
        );
        assert_eq!(c.run(&["LCS", "a", "missing"]), bulk(""));
        c.run(&["HSET", "h", "f", "v"]);
        assert_eq!(
            c.run(&["LCS", "a", "h"]),
            error("ERR The specified keys must contain string values")
        );
    }
}
