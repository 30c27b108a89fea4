//! Whole-key operations: RENAME, RENAMENX, COPY, TOUCH, RANDOMKEY.
//!
//! # Format
//! ```text
//! RENAME key newkey              -> OK; the value and its TTL move; ERR no such key
//! RENAMENX key newkey            -> 1, or 0 if newkey exists
//! COPY source destination [DB db] [REPLACE]  -> 1, or 0 if destination exists
//! TOUCH key [key ...]            -> how many exist (each counts as read)
//! RANDOMKEY                      -> a key, or nil when the keyspace is empty
//! ```
//! A list that RENAME or COPY puts at a key wakes a client blocked there (BLPOP and the other
//! blocking pops), as Redis signals the key as ready.
//!
//! The two keys of RENAME and COPY are written one after the other. With the default single
//! event loop nothing runs in between, so each is atomic as in Redis; with `--io-threads` above
//! 1 another thread's write to one of the two keys can interleave (as for MULTI).

use super::args::{self, Args};
use super::keyspace::lookup_read;
use super::{CommandError, Ctx};
use crate::cache::databases::moved_to;
use crate::cache::{Entry, Write};
use crate::config::ClusterMode;
use crate::protocol::Reply;
use bytes::Bytes;

/// Moves `src` to `dst`; `only_new`: leave an existing `dst` alone (RENAMENX).
fn rename_to(
    ctx: &mut Ctx<'_>,
    src: &Bytes,
    dst: &Bytes,
    only_new: bool,
) -> Result<bool, CommandError> {
    let store = &ctx.shared.store;
    let Some(entry) = store.get(src) else {
        return Err(CommandError::err("no such key"));
    };
    if src == dst {
        // Redis: renaming a key to itself changes nothing; RENAMENX says the target exists.
        return Ok(!only_new);
    }
    let moved = store.write(dst, |cur| match cur {
        Some(_) if only_new => (Write::Keep, false),
        _ => (Write::Put(Entry::clone_of(&entry)), true),
    })?;
    if moved {
        store.write(src, |_| (Write::Remove, ()))?;
    }
    Ok(moved)
}

/// `RENAME key newkey`
pub fn rename(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    rename_to(ctx, &a[1], &a[2], false)?;
    Ok(Reply::Ok)
}

/// `RENAMENX key newkey`
pub fn renamenx(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(Reply::Int(rename_to(ctx, &a[1], &a[2], true)? as i64))
}

/// `COPY source destination [DB destination-db] [REPLACE]`
pub fn copy(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let mut replace = false;
    let mut to = ctx.client.db;
    let mut args = Args::new(&a[2..]);
    while let Some(opt) = args.peek() {
        args.next_bytes()?;
        if args::is(opt, "REPLACE") {
            replace = true;
        } else if args::is(opt, "DB") && !args.is_empty() {
            to = super::databases::index(ctx, args.next_bytes()?, None)?;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    if to != ctx.client.db && ctx.shared.config().scale.cluster_mode == ClusterMode::Emulated {
        return Err(CommandError::err(
            "Copying to another database is not allowed in cluster mode",
        ));
    }
    let src = &a[1];
    let dst = &if to == ctx.client.db {
        a[2].clone()
    } else {
        ctx.shared.store.note_numbered();
        moved_to(to, &a[2])
    };
    if src == dst {
        return Err(CommandError::err(
            "source and destination objects are the same",
        ));
    }
    let store = &ctx.shared.store;
    let Some(entry) = store.get(src) else {
        return Ok(Reply::Int(0));
    };
    let copied = store.write(dst, |cur| match cur {
        Some(_) if !replace => (Write::Keep, false),
        _ => {
            // The copy must not share a collection that later writes to the source change.
            let mut copy = Entry::clone_of(&entry);
            copy.value = entry.value.deep_copy();
            (Write::Put(copy), true)
        }
    })?;
    Ok(Reply::Int(copied as i64))
}

/// `TOUCH key [key ...]`
pub fn touch(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let store = &ctx.shared.store;
    let n = a[1..]
        .iter()
        .filter(|k| lookup_read(store, k).is_some())
        .count();
    Ok(Reply::Int(n as i64))
}

/// `RANDOMKEY`: one live key, each about equally likely. It walks the keyspace once, as SCAN
/// does.
pub fn randomkey(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    let store = &ctx.shared.store;
    let live: Vec<_> = store.iter_db(ctx.client.db).collect();
    if live.is_empty() {
        return Ok(Reply::Nil);
    }
    let pick =
        (store.clock().now_us() as usize ^ live.len().wrapping_mul(0x9E37_79B9)) % live.len();
    Ok(Reply::Bulk(Bytes::copy_from_slice(live[pick].key())))
}

#[cfg(test)]
mod tests {
    use crate::cmd::testing::{bulk, error, TestServer};
    use crate::protocol::Reply;

    #[test]
    fn rename_moves_the_value_and_its_ttl() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["SET", "a", "1", "EX", "100"]);
        c.run(&["SET", "b", "old"]);
        assert_eq!(c.run(&["RENAME", "a", "b"]), Reply::Ok);
        assert_eq!(c.run(&["GET", "b"]), bulk("1"));
        assert_eq!(c.run(&["TTL", "b"]), Reply::Int(100));
        assert_eq!(c.run(&["EXISTS", "a"]), Reply::Int(0));
        assert_eq!(c.run(&["RENAME", "a", "b"]), error("ERR no such key"));
        assert_eq!(c.run(&["RENAME", "b", "b"]), Reply::Ok);
        c.run(&["HSET", "h", "f", "v"]);
        assert_eq!(c.run(&["RENAMENX", "b", "h"]), Reply::Int(0));
        assert_eq!(c.run(&["RENAMENX", "b", "b"]), Reply::Int(0));
        assert_eq!(c.run(&["RENAMENX", "h", "h2"]), Reply::Int(1));
        assert_eq!(c.run(&["HGET", "h2", "f"]), bulk("v"));
    }

    #[test]
    fn copy_keeps_the_source_and_needs_replace_to_overwrite() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["SET", "a", "1", "EX", "100"]);
        assert_eq!(c.run(&["COPY", "a", "c"]), Reply::Int(1));
        assert_eq!(c.run(&["TTL", "c"]), Reply::Int(100));
        assert_eq!(c.run(&["COPY", "a", "c"]), Reply::Int(0));
        c.run(&["SET", "a", "2"]);
        assert_eq!(
            c.run(&["COPY", "a", "c", "REPLACE", "DB", "0"]),
            Reply::Int(1)
        );
        assert_eq!(c.run(&["GET", "c"]), bulk("2"));
        assert_eq!(c.run(&["COPY", "missing", "c"]), Reply::Int(0));
        assert_eq!(
            c.run(&["COPY", "a", "a"]),
            error("ERR source and destination objects are the same")
        );
        assert_eq!(
            c.run(&["COPY", "a", "d", "DB", "16"]),
            error("ERR DB index is out of range")
        );
        // To the same name in another database.
        assert_eq!(c.run(&["COPY", "a", "a", "DB", "1"]), Reply::Int(1));
        c.run(&["SELECT", "1"]);
        assert_eq!(c.run(&["GET", "a"]), c.run(&["GET", "a"]));
        assert_eq!(c.run(&["EXISTS", "a", "d"]), Reply::Int(1));
        c.run(&["SELECT", "0"]);
        assert_eq!(c.run(&["COPY", "a", "d", "FOO"]), error("ERR syntax error"));
        // A copied list is a list of its own.
        c.run(&["RPUSH", "l", "x"]);
        assert_eq!(c.run(&["COPY", "l", "l2"]), Reply::Int(1));
        c.run(&["RPUSH", "l", "y"]);
        assert_eq!(c.run(&["LLEN", "l2"]), Reply::Int(1));
        assert_eq!(c.run(&["LLEN", "l"]), Reply::Int(2));
    }

    #[test]
    fn touch_counts_and_randomkey_picks_a_live_key() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(c.run(&["RANDOMKEY"]), Reply::Nil);
        c.run(&["MSET", "a", "1", "b", "2"]);
        assert_eq!(c.run(&["TOUCH", "a", "b", "zz"]), Reply::Int(2));
        for _ in 0..20 {
            let r = c.run(&["RANDOMKEY"]);
            assert!(r == bulk("a") || r == bulk("b"), "{r:?}");
        }
    }
}
