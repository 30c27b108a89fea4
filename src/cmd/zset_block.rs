//! Popping from several sorted sets, blocking or not: ZMPOP, BZMPOP, BZPOPMIN, BZPOPMAX.
//!
//! The blocking forms block as the list pops do (see the blocking module): clients blocked on
//! one key are served in the order they blocked, by the connection that writes the key (ZADD,
//! ZUNIONSTORE, a rename onto it...), right after that command.
//!
//! # Format
//! ```text
//! ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
//!     -> [key, [[member, score], ...]] | null array when every key is empty
//! BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count] -> the same, null array on timeout
//! BZPOPMIN|BZPOPMAX key [key ...] timeout -> [key, member, score] | null array on timeout
//! ```
//! Scores are text in RESP2 and doubles in RESP3; `timeout` is in seconds, a float, 0 for ever.

use super::args;
use super::blocking::{block, timeout};
use super::collection::modify;
use super::zset::score;
use super::{CommandError, Ctx, Flow};
use crate::cache::databases::user_key;
use crate::protocol::{Protocol, Reply};
use crate::state::Shared;
use crate::types::zset::ZSet;
use bytes::Bytes;
use std::sync::Arc;

fn not_a_zset(shared: &Shared, key: &[u8]) -> bool {
    shared
        .store
        .get(key)
        .is_some_and(|e| !matches!(e.value, crate::cache::Value::ZSet(_)))
}

/// A key and the (score, member) pairs popped from it.
type Popped = (Bytes, Vec<(f64, Bytes)>);

/// Pops up to `count` members from the first of `keys` that has any: the key and the members.
fn pop_first(
    shared: &Shared,
    keys: &[Bytes],
    highest: bool,
    count: usize,
) -> Result<Option<Popped>, CommandError> {
    for key in keys {
        let items = modify(&shared.store, key, |z: &mut ZSet| {
            let n = count.min(z.len());
            let items: Vec<(f64, Bytes)> = (0..n).filter_map(|_| z.pop(highest)).collect();
            let any = !items.is_empty();
            Ok((items, any))
        })?;
        if !items.is_empty() {
            return Ok(Some((key.clone(), items)));
        }
    }
    Ok(None)
}

fn mpop_reply(proto: Protocol, key: Bytes, items: Vec<(f64, Bytes)>) -> Reply {
    let items = items
        .into_iter()
        .map(|(s, m)| Reply::Array(vec![Reply::Bulk(m), score(proto, s)]))
        .collect();
    Reply::Array(vec![Reply::Bulk(user_key(&key)), Reply::Array(items)])
}

/// `numkeys key [key ...] MIN|MAX [COUNT count]` of ZMPOP / BZMPOP, from `a[at]`.
fn mpop_args(a: &[Bytes], at: usize) -> Result<(Vec<Bytes>, bool, usize), CommandError> {
    let n = match args::int(&a[at]) {
        Ok(n) if n > 0 => n as usize,
        _ => return Err(CommandError::err("numkeys should be greater than 0")),
    };
    let first = at + 1;
    if n >= a.len() - first {
        return Err(CommandError::Syntax);
    }
    let keys = a[first..first + n].to_vec();
    let side = &a[first + n];
    let highest = match () {
        _ if args::is(side, "MIN") => false,
        _ if args::is(side, "MAX") => true,
        _ => return Err(CommandError::Syntax),
    };
    let count = match &a[first + n + 1..] {
        [] => 1,
        [word, c] if args::is(word, "COUNT") => match args::int(c) {
            Ok(c) if c > 0 => c as usize,
            _ => return Err(CommandError::err("count should be greater than 0")),
        },
        _ => return Err(CommandError::Syntax),
    };
    Ok((keys, highest, count))
}

/// `ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]`
pub fn zmpop(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let (keys, highest, count) = mpop_args(a, 1)?;
    let proto = ctx.client.protocol;
    Ok(pop_first(ctx.shared, &keys, highest, count)?
        .map_or(Reply::NilArray, |(k, items)| mpop_reply(proto, k, items)))
}

/// `BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]`
pub fn bzmpop(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    let wait = timeout(&a[1])?;
    let (keys, highest, count) = mpop_args(a, 2)?;
    let proto = ctx.client.protocol;
    let ks = keys.clone();
    let attempt = Arc::new(move |shared: &Shared| {
        Ok(pop_first(shared, &ks, highest, count)?.map(|(k, items)| mpop_reply(proto, k, items)))
    });
    block(ctx, keys, wait, attempt, not_a_zset)
}

fn bzpop(ctx: &mut Ctx<'_>, a: &[Bytes], highest: bool) -> Result<Flow, CommandError> {
    let wait = timeout(&a[a.len() - 1])?;
    let keys: Vec<Bytes> = a[1..a.len() - 1].to_vec();
    let proto = ctx.client.protocol;
    let ks = keys.clone();
    let attempt = Arc::new(move |shared: &Shared| {
        let popped = pop_first(shared, &ks, highest, 1)?;
        Ok(popped.and_then(|(k, items)| {
            let (s, m) = items.into_iter().next()?;
            Some(Reply::Array(vec![
                Reply::Bulk(user_key(&k)),
                Reply::Bulk(m),
                score(proto, s),
            ]))
        }))
    });
    block(ctx, keys, wait, attempt, not_a_zset)
}

/// `BZPOPMIN key [key ...] timeout`
pub fn bzpopmin(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    bzpop(ctx, a, false)
}

/// `BZPOPMAX key [key ...] timeout`
pub fn bzpopmax(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    bzpop(ctx, a, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testing::{bulk, error, TestServer};

    #[test]
    fn zmpop_answers_as_redis_7_0() {
        let s = TestServer::new();
        let mut c = s.client();
        c.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        c.run(&["SET", "str", "x"]);
        let pair = |m: &str, sc: &str| Reply::Array(vec![bulk(m), bulk(sc)]);
        assert_eq!(
            c.run(&["ZMPOP", "2", "none", "z", "MAX", "COUNT", "2"]),
            Reply::Array(vec![
                bulk("z"),
                Reply::Array(vec![pair("c", "3"), pair("b", "2")])
            ])
        );
        assert_eq!(c.run(&["ZMPOP", "1", "none", "MIN"]), Reply::NilArray);
        for (args, want) in [
            (
                &["ZMPOP", "0", "z", "MIN"][..],
                "ERR numkeys should be greater than 0",
            ),
            (
                &["ZMPOP", "x", "z", "MIN"],
                "ERR numkeys should be greater than 0",
            ),
            (&["ZMPOP", "1", "z", "UP"], "ERR syntax error"),
            (&["ZMPOP", "3", "z", "MIN"], "ERR syntax error"),
            (
                &["ZMPOP", "1", "z", "MIN", "COUNT", "0"],
                "ERR count should be greater than 0",
            ),
            (
                &["ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "2"],
                "ERR syntax error",
            ),
            (
                &["ZMPOP", "1", "str", "MIN"],
                "WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                &["BZPOPMIN", "z", "x"],
                "ERR timeout is not a float or out of range",
            ),
            (
                &["BZMPOP", "-1", "1", "z", "MIN"],
                "ERR timeout is negative",
            ),
        ] {
            assert_eq!(c.run(args), error(want), "{args:?}");
        }
    }

    #[tokio::test]
    async fn bzpopmin_is_served_by_a_zadd_in_fifo_order() {
        let s = TestServer::new();
        let mut first = s.client();
        let mut second = s.client();
        let Flow::Wait(w1) = first.flow(&["BZPOPMIN", "q", "0"]) else {
            panic!("blocks")
        };
        let Flow::Wait(w2) = second.flow(&["BZPOPMAX", "other", "q", "0"]) else {
            panic!("blocks")
        };
        assert_eq!(s.shared.key_waits.blocked(), 2);
        let mut writer = s.client();
        assert_eq!(
            writer.run(&["ZADD", "q", "1", "a", "2", "b"]),
            Reply::Int(2)
        );
        // Both were served before ZADD replied: the set is empty now.
        assert_eq!(writer.run(&["EXISTS", "q"]), Reply::Int(0));
        assert_eq!(
            w1.await,
            Reply::Array(vec![bulk("q"), bulk("a"), bulk("1")])
        );
        assert_eq!(
            w2.await,
            Reply::Array(vec![bulk("q"), bulk("b"), bulk("2")])
        );
        assert_eq!(s.shared.key_waits.blocked(), 0);
        assert_eq!(
            first.run_async(&["BZMPOP", "0.01", "1", "q", "MIN"]).await,
            Reply::NilArray
        );
    }
}
