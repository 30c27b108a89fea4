//! Numbered databases: SELECT, MOVE, SWAPDB (COPY ... DB is with the other whole-key
//! operations, FLUSHDB and DBSIZE with the server commands).
//!
//! # Format
//! ```text
//! SELECT index        -> OK; ERR DB index is out of range
//! MOVE key db         -> 1, or 0 if the key is missing or db holds it already
//! SWAPDB index index  -> OK: every client of one database now sees the other's keys
//! ```
//! The databases share one store (see [`crate::cache::databases`]); the handlers get their key
//! arguments in the stored form of the client's database. SELECT inside a script changes the
//! script's database only, as in Redis 7. In emulated cluster mode only database 0 exists, and
//! these commands are refused in a cluster node's words.
//!
//! SWAPDB moves each key of the two databases to its stored form in the other, so it costs
//! O(keys of the two) where Redis swaps two pointers; a client blocked on a key that the swap
//! fills is served, as in Redis.

use super::args;
use super::{CommandError, Ctx};
use crate::cache::databases::{moved_to, stored_key};
use crate::cache::{Entry, Write};
use crate::config::ClusterMode;
use crate::protocol::Reply;
use bytes::Bytes;

fn cluster(ctx: &Ctx<'_>) -> bool {
    ctx.shared.config().scale.cluster_mode == ClusterMode::Emulated
}

/// A database index the server has, from `arg`: Redis's errors for a non-integer and for one
/// outside 32 bits (or `invalid`'s words for both, where SWAPDB has its own), then `ERR DB
/// index is out of range`.
pub fn index(
    ctx: &Ctx<'_>,
    arg: &[u8],
    invalid: Option<&'static str>,
) -> Result<usize, CommandError> {
    let n = match (args::int(arg), invalid) {
        (Ok(n), _) if n >= i32::MIN as i64 && n <= i32::MAX as i64 => n,
        (_, Some(words)) => return Err(CommandError::err(words)),
        (Ok(_), None) => {
            return Err(CommandError::err(
                "value is out of range, value must between -2147483648 and 2147483647",
            ))
        }
        (Err(_), None) => return Err(CommandError::NotInteger),
    };
    match usize::try_from(n) {
        Ok(db) if db < ctx.shared.config().databases => Ok(db),
        _ => Err(CommandError::err("DB index is out of range")),
    }
}

/// `SELECT index`
pub fn select(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let n = args::int(&a[1])?;
    if cluster(ctx) && n != 0 {
        return Err(CommandError::err("SELECT is not allowed in cluster mode"));
    }
    let db = index(ctx, &a[1], None)?;
    ctx.client.db = db;
    if !ctx.client.script {
        ctx.client.info.meta(|m| m.db = db);
    }
    Ok(Reply::Ok)
}

/// `MOVE key db`: the value and its TTL go to the same key of database `db`.
pub fn move_(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    if cluster(ctx) {
        return Err(CommandError::err("MOVE is not allowed in cluster mode"));
    }
    let to = index(ctx, &a[2], None)?;
    if to == ctx.client.db {
        return Err(CommandError::err(
            "source and destination objects are the same",
        ));
    }
    let src = &a[1];
    let dst = moved_to(to, src);
    let store = &ctx.shared.store;
    let Some(entry) = store.get(src) else {
        return Ok(Reply::Int(0));
    };
    // Noted before the key lands, so that no count takes it for one of database 0's.
    store.note_numbered();
    let moved = store.write(&dst, |cur| match cur {
        Some(_) => (Write::Keep, false),
        None => (Write::Put(Entry::clone_of(&entry)), true),
    })?;
    if moved {
        store.write(src, |_| (Write::Remove, ()))?;
    }
    Ok(Reply::Int(moved as i64))
}

/// `SWAPDB index1 index2`
pub fn swapdb(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    if cluster(ctx) {
        return Err(CommandError::err("SWAPDB is not allowed in cluster mode"));
    }
    let one = index(ctx, &a[1], Some("invalid first DB index"))?;
    let two = index(ctx, &a[2], Some("invalid second DB index"))?;
    if one == two {
        return Ok(Reply::Ok);
    }
    let store = &ctx.shared.store;
    store.note_numbered();
    // Every key leaves first, so that no key of one database lands on one of the other that
    // has not moved yet.
    let mut moving = Vec::new();
    for (from, to) in [(one, two), (two, one)] {
        for e in store.iter_db(from) {
            store.write(&e.stored_bytes(), |_| (Write::Remove, ()))?;
            moving.push((stored_key(to, &Bytes::copy_from_slice(e.key())), e.entry));
        }
    }
    for (key, entry) in moving {
        store.write(&key, |_| (Write::Put(Entry::clone_of(&entry)), ()))?;
    }
    Ok(Reply::Ok)
}

#[cfg(test)]
mod tests {
    use crate::cmd::testing::{bulk, error, TestServer};
    use crate::protocol::Reply;

    #[test]
    fn each_database_has_its_own_keys() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["SET", "k", "zero"]);
        assert_eq!(c.run(&["SELECT", "9"]), Reply::Ok);
        assert_eq!(c.run(&["GET", "k"]), Reply::Nil);
        c.run(&["SET", "k", "nine"]);
        c.run(&["RPUSH", "l", "a", "b"]);
        assert_eq!(c.run(&["DBSIZE"]), Reply::Int(2));
        let Reply::Array(mut keys) = c.run(&["KEYS", "*"]) else {
            panic!("KEYS answers an array");
        };
        keys.sort_by_key(|k| format!("{k:?}"));
        assert_eq!(keys, vec![bulk("k"), bulk("l")]);
        let random = c.run(&["RANDOMKEY"]);
        assert!(random == bulk("k") || random == bulk("l"), "{random:?}");
        assert_eq!(c.run(&["SELECT", "0"]), Reply::Ok);
        assert_eq!(c.run(&["GET", "k"]), bulk("zero"));
        assert_eq!(c.run(&["DBSIZE"]), Reply::Int(1));
        assert_eq!(
            c.run(&["SELECT", "16"]),
            error("ERR DB index is out of range")
        );
        assert_eq!(
            c.run(&["SELECT", "-1"]),
            error("ERR DB index is out of range")
        );
        assert_eq!(
            c.run(&["SELECT", "x"]),
            error("ERR value is not an integer or out of range")
        );
    }

    #[test]
    fn move_and_swapdb_carry_values_and_ttls() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["SET", "a", "1", "EX", "100"]);
        assert_eq!(c.run(&["MOVE", "a", "3"]), Reply::Int(1));
        assert_eq!(c.run(&["EXISTS", "a"]), Reply::Int(0));
        assert_eq!(c.run(&["MOVE", "a", "3"]), Reply::Int(0));
        assert_eq!(
            c.run(&["MOVE", "a", "0"]),
            error("ERR source and destination objects are the same")
        );
        c.run(&["SELECT", "3"]);
        assert_eq!(c.run(&["TTL", "a"]), Reply::Int(100));
        c.run(&["SET", "b", "2"]);
        c.run(&["SELECT", "0"]);
        c.run(&["SET", "b", "x"]);
        assert_eq!(c.run(&["MOVE", "b", "3"]), Reply::Int(0));
        assert_eq!(c.run(&["SWAPDB", "0", "3"]), Reply::Ok);
        assert_eq!(c.run(&["GET", "a"]), bulk("1"));
        assert_eq!(c.run(&["GET", "b"]), bulk("2"));
        assert_eq!(c.run(&["DBSIZE"]), Reply::Int(2));
        c.run(&["SELECT", "3"]);
        assert_eq!(c.run(&["GET", "b"]), bulk("x"));
        assert_eq!(c.run(&["FLUSHDB"]), Reply::Ok);
        assert_eq!(c.run(&["DBSIZE"]), Reply::Int(0));
        c.run(&["SELECT", "0"]);
        assert_eq!(c.run(&["DBSIZE"]), Reply::Int(2));
        assert_eq!(
            c.run(&["SWAPDB", "0", "x"]),
            error("ERR invalid second DB index")
        );
        assert_eq!(
            c.run(&["SWAPDB", "0", "99"]),
            error("ERR DB index is out of range")
        );
    }
}
