//! Generic key commands: DEL, UNLINK, EXISTS, TYPE, SCAN, KEYS (the EXPIRE and TTL families
//! are [`super::expire`]).

use super::args::{self, Args};
use super::{permit, CommandError, Ctx, Flow};
use crate::acl::READ;
use crate::cache::Write;
use crate::glob;
use crate::protocol::Reply;
use bytes::Bytes;
use std::collections::BinaryHeap;

/// `DEL key [key ...]` and `UNLINK key [key ...]` (on the shared tier too: [`super::fleet`])
pub fn del(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    let mut local = Vec::with_capacity(a.len() - 1);
    for key in &a[1..] {
        local.push(ctx.shared.store.write(key, |cur| match cur {
            Some(_) => (Write::Remove, true),
            None => (Write::Keep, false),
        })?);
    }
    Ok(super::fleet::deleted(ctx, &a[1..], local))
}

/// `EXISTS key [key ...]`: counts repeats, as Redis does.
pub fn exists(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let n = a[1..]
        .iter()
        .filter(|k| ctx.shared.store.get(k).is_some())
        .count();
    Ok(Reply::Int(n as i64))
}

/// `TYPE key`
pub fn type_(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(Reply::Simple(match ctx.shared.store.get(&a[1]) {
        None => "none",
        Some(e) => e.value.type_name(),
    }))
}

/// `KEYS pattern`: only the keys the user may read (see [`super::permit`]).
pub fn keys(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let pattern = &a[1];
    let allowed = permit::key_filter(ctx, READ);
    Ok(Reply::Array(
        ctx.shared
            .store
            .iter_db(ctx.client.db)
            .filter(|e| glob::matches(pattern, e.key(), false))
            .filter(|e| allowed.as_ref().is_none_or(|f| f(e.key())))
            .map(|e| Reply::Bulk(Bytes::copy_from_slice(e.key())))
            .collect(),
    ))
}

/// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]`
///
/// The cursor is a position in the store's 64-bit key-hash space: each call returns the `COUNT`
/// keys with the smallest hashes at or after the cursor, and the next cursor is just past the
/// last of them. So, as in Redis, a full iteration returns every key that was present for the
/// whole iteration, and a key is returned once (two keys of one hash, odds about n/2^64, could
/// be split across a call boundary). Each call walks the whole keyspace, so it costs O(n).
///
/// Keys the user may not read are left out after the page is cut (like MATCH), so the cursor
/// means the same for every user and a restricted user learns no other key's name.
pub fn scan(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let cursor = std::str::from_utf8(&a[1])
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| CommandError::err("invalid cursor"))?;
    let mut args = Args::new(a);
    args.next_bytes()?;
    let mut pattern: Option<&Bytes> = None;
    let mut count = 10usize;
    let mut type_filter: Option<String> = None;
    while let Some(opt) = args.peek() {
        args.next_bytes()?;
        let val = args.next_bytes()?;
        if args::is(opt, "MATCH") {
            pattern = Some(val);
        } else if args::is(opt, "COUNT") {
            match args::int(val)? {
                n if n >= 1 => count = n as usize,
                _ => return Err(CommandError::Syntax),
            }
        } else if args::is(opt, "TYPE") {
            type_filter = Some(String::from_utf8_lossy(val).to_ascii_lowercase());
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let store = &ctx.shared.store;
    // A max-heap of the `count` smallest hashes at or after the cursor. COUNT is the client's:
    // reserving all of it up front let `SCAN 0 COUNT 4398046511104` abort the process.
    let mut heap: BinaryHeap<(u64, Bytes, &'static str)> =
        BinaryHeap::with_capacity(count.min(1024) + 1);
    let mut more = false;
    for e in store.iter_db(ctx.client.db) {
        let h = store.scan_hash(e.key());
        if h < cursor {
            continue;
        }
        if heap.len() == count {
            match heap.peek() {
                Some(top) if h < top.0 => {
                    heap.pop();
                    more = true;
                }
                _ => {
                    more = true;
                    continue;
                }
            }
        }
        heap.push((
            h,
            Bytes::copy_from_slice(e.key()),
            e.entry.value.type_name(),
        ));
    }
    let mut picked = heap.into_sorted_vec();
    let next = match picked.last() {
        Some((h, _, _)) if more => h.checked_add(1).unwrap_or(0),
        _ => 0,
    };
    let allowed = permit::key_filter(ctx, READ);
    picked.retain(|(_, k, t)| {
        allowed.as_ref().is_none_or(|f| f(k))
            && pattern.is_none_or(|p| glob::matches(p, k, false))
            && type_filter
                .as_deref()
                .is_none_or(|f| f.eq_ignore_ascii_case(t))
    });
    Ok(Reply::Array(vec![
        Reply::text(next.to_string()),
        Reply::Array(picked.into_iter().map(|(_, k, _)| Reply::Bulk(k)).collect()),
    ]))
}

#[cfg(test)]
mod tests {
    use crate::cmd::testing::{bulk, error, TestClient, TestServer};
    use crate::protocol::Reply;
    use std::collections::BTreeSet;

    /// The keys of a reply array, sorted.
    fn names(r: &Reply) -> BTreeSet<String> {
        let Reply::Array(items) = r else {
            panic!("not an array: {r:?}")
        };
        items
            .iter()
            .map(|i| match i {
                Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                other => panic!("not a key: {other:?}"),
            })
            .collect()
    }

    /// Runs a whole SCAN iteration with `options`, returning every key and the number of calls.
    fn scan_all(c: &mut TestClient, options: &[&str]) -> (Vec<String>, usize) {
        let (mut cursor, mut keys, mut calls) = ("0".to_string(), Vec::new(), 0);
        loop {
            let mut cmd = vec!["SCAN", cursor.as_str()];
            cmd.extend(options);
            let Reply::Array(parts) = c.run(&cmd) else {
                panic!("SCAN did not answer an array")
            };
            calls += 1;
            keys.extend(names(&parts[1]));
            match &parts[0] {
                Reply::Bulk(b) if b.as_ref() == b"0" => return (keys, calls),
                Reply::Bulk(b) => cursor = String::from_utf8_lossy(b).into_owned(),
                other => panic!("bad cursor {other:?}"),
            }
        }
    }

    #[test]
    fn del_and_exists_count_as_redis_counts() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["MSET", "a", "1", "b", "2"]);
        assert_eq!(c.run(&["EXISTS", "a", "a", "nope", "b"]), Reply::Int(3));
        assert_eq!(c.run(&["DEL", "a", "a", "nope"]), Reply::Int(1));
        assert_eq!(c.run(&["UNLINK", "b"]), Reply::Int(1));
        assert_eq!(c.run(&["EXISTS", "a", "b"]), Reply::Int(0));
    }

    #[test]
    fn type_names_each_kind() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["SET", "s", "v"]);
        c.run(&["HSET", "h", "f", "v"]);
        c.run(&["JSON.SET", "j", ".", "{}"]);
        assert_eq!(c.run(&["TYPE", "s"]), Reply::Simple("string"));
        assert_eq!(c.run(&["TYPE", "h"]), Reply::Simple("hash"));
        assert_eq!(c.run(&["TYPE", "nope"]), Reply::Simple("none"));
        assert_eq!(c.run(&["TYPE", "j"]), Reply::Simple("ReJSON-RL"));
    }

    #[test]
    fn keys_matches_globs_and_skips_expired_keys() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["MSET", "llm:1", "a", "llm:2", "b", "other", "c"]);
        c.run(&["SET", "llm:gone", "x", "PX", "100"]);
        server.clock.advance(100);
        assert_eq!(
            names(&c.run(&["KEYS", "llm:*"])),
            ["llm:1", "llm:2"].map(String::from).into()
        );
        assert_eq!(names(&c.run(&["KEYS", "nothing*"])), BTreeSet::new());
    }

    #[test]
    fn a_full_scan_returns_every_key_once() {
        let server = TestServer::new();
        let mut c = server.client();
        for i in 0..50 {
            c.run(&["SET", &format!("k{i}"), "v"]);
        }
        c.run(&["HSET", "h", "f", "v"]);
        let (keys, calls) = scan_all(&mut c, &["COUNT", "7"]);
        assert!(calls >= 8, "COUNT bounds each call: {calls}");
        let unique: BTreeSet<_> = keys.iter().cloned().collect();
        assert_eq!((keys.len(), unique.len()), (51, 51));
        let (hashes, _) = scan_all(&mut c, &["TYPE", "hash"]);
        assert_eq!(hashes, vec!["h".to_string()]);
        let (matched, _) = scan_all(&mut c, &["MATCH", "k1*", "COUNT", "100"]);
        assert_eq!(matched.len(), 11);
    }

    #[test]
    fn scan_refuses_bad_arguments() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(c.run(&["SCAN", "abc"]), error("ERR invalid cursor"));
        let syntax = error("ERR syntax error");
        assert_eq!(c.run(&["SCAN", "0", "COUNT", "0"]), syntax);
        assert_eq!(c.run(&["SCAN", "0", "COUNT"]), syntax);
        assert_eq!(c.run(&["SCAN", "0", "FOO", "bar"]), syntax);
        assert_eq!(
            c.run(&["SCAN", "0", "COUNT", "x"]),
            error("ERR value is not an integer or out of range")
        );
        assert_eq!(
            c.run(&["SCAN", "0"]),
            Reply::Array(vec![bulk("0"), Reply::Array(vec![])])
        );
    }
}
