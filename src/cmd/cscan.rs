//! The cursor walk of HSCAN, SSCAN and ZSCAN over the members of one collection.
//!
//! # Format
//! ```text
//! HSCAN|SSCAN|ZSCAN key cursor [MATCH pattern] [COUNT count]
//!     -> [next-cursor, [member, ...]]   (HSCAN: field, value, ...; ZSCAN: member, score, ...)
//! ```
//! A collection small enough that Redis keeps it compact (listpack, intset) is returned whole
//! with cursor 0, as Redis does. A bigger one is walked in the order of a hash of each member
//! that is fixed for the life of the process, like SCAN over keys: the cursor is the next hash
//! to visit, so a member present for the whole walk is returned at least once whatever is added
//! or removed meanwhile. Each call is O(n) in the collection's size.

use super::args::{self, Args};
use super::CommandError;
use crate::protocol::Reply;
use bytes::Bytes;
use std::collections::BinaryHeap;

/// The options of a collection scan.
pub struct ScanArgs<'a> {
    pub cursor: u64,
    pub pattern: Option<&'a Bytes>,
    pub count: usize,
}

impl<'a> ScanArgs<'a> {
    /// Parses `cursor [MATCH pattern] [COUNT count]` from `a[2..]`.
    pub fn parse(a: &'a [Bytes]) -> Result<ScanArgs<'a>, CommandError> {
        let cursor = std::str::from_utf8(&a[2])
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| CommandError::err("invalid cursor"))?;
        let mut opts = Args::new(a);
        opts.next_bytes()?;
        opts.next_bytes()?;
        let mut out = ScanArgs {
            cursor,
            pattern: None,
            count: 10,
        };
        while !opts.is_empty() {
            if opts.eat("MATCH") {
                out.pattern = Some(opts.next_bytes()?);
            } else if opts.eat("COUNT") {
                match args::int(opts.next_bytes()?)? {
                    n if n >= 1 => out.count = n as usize,
                    _ => return Err(CommandError::Syntax),
                }
            } else {
                return Err(CommandError::Syntax);
            }
        }
        Ok(out)
    }

    fn admits(&self, member: &[u8]) -> bool {
        self.pattern
            .is_none_or(|p| crate::glob::matches(p, member, false))
    }
}

/// Walks `members` (each with the replies that follow it: a value, a score, or none) from the
/// cursor; `whole` says the collection is small enough to return at once.
pub fn walk<'m, I>(
    opts: &ScanArgs<'_>,
    whole: bool,
    members: I,
    hash: impl Fn(&[u8]) -> u64,
) -> Reply
where
    I: Iterator<Item = (&'m Bytes, Vec<Reply>)>,
{
    let (next, picked): (u64, Vec<(&Bytes, Vec<Reply>)>) = if whole {
        (0, members.collect())
    } else {
        let mut heap: BinaryHeap<(u64, usize)> = BinaryHeap::new();
        let mut all = Vec::new();
        let mut more = false;
        for (m, rest) in members {
            let h = hash(m);
            if h < opts.cursor {
                continue;
            }
            if heap.len() == opts.count {
                match heap.peek() {
                    Some(&(top, _)) if h < top => {
                        heap.pop();
                    }
                    _ => {
                        more = true;
                        continue;
                    }
                }
                more = true;
            }
            heap.push((h, all.len()));
            all.push(Some((m, rest)));
        }
        let sorted = heap.into_sorted_vec();
        let next = match sorted.last() {
            Some(&(h, _)) if more => h.checked_add(1).unwrap_or(0),
            _ => 0,
        };
        let picked = sorted
            .into_iter()
            .filter_map(|(_, i)| all.get_mut(i).and_then(Option::take))
            .collect();
        (next, picked)
    };
    let mut out = Vec::new();
    for (m, rest) in picked {
        if opts.admits(m) {
            out.push(Reply::Bulk(m.clone()));
            out.extend(rest);
        }
    }
    Reply::Array(vec![Reply::text(next.to_string()), Reply::Array(out)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn bytes(v: &[&str]) -> Vec<Bytes> {
        v.iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    fn hash(b: &[u8]) -> u64 {
        ahash::RandomState::with_seeds(1, 2, 3, 4).hash_one(b)
    }

    #[test]
    fn a_walk_returns_every_member_once_across_calls() {
        let members: Vec<Bytes> = (0..100).map(|i| Bytes::from(format!("m{i}"))).collect();
        let args = bytes(&["SSCAN", "k", "0", "COUNT", "7"]);
        let mut opts = ScanArgs::parse(&args).unwrap();
        let mut seen = HashSet::new();
        let mut calls = 0;
        loop {
            calls += 1;
            let Reply::Array(r) = walk(&opts, false, members.iter().map(|m| (m, vec![])), hash)
            else {
                panic!()
            };
            let (Reply::Bulk(c), Reply::Array(items)) = (&r[0], &r[1]) else {
                panic!()
            };
            for i in items {
                let Reply::Bulk(b) = i else { panic!() };
                assert!(seen.insert(b.clone()), "{b:?} twice");
            }
            opts.cursor = std::str::from_utf8(c).unwrap().parse().unwrap();
            if opts.cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 100);
        assert!(calls >= 15, "{calls}");
    }

    #[test]
    fn options_are_checked_as_redis() {
        let bad = bytes(&["SSCAN", "k", "x"]);
        assert_eq!(
            ScanArgs::parse(&bad).err(),
            Some(CommandError::err("invalid cursor"))
        );
        for tail in [&["COUNT", "0"][..], &["NOVALUES"], &["MATCH"]] {
            let mut a = bytes(&["SSCAN", "k", "0"]);
            a.extend(bytes(tail));
            assert_eq!(ScanArgs::parse(&a).err(), Some(CommandError::Syntax));
        }
    }
}
