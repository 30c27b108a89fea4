//! The blocking list pops: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP (and LMPOP, its
//! non-blocking form).
//!
//! A pop that finds nothing blocks on its keys (see the blocking module): it is served by the
//! connection that writes one of them, right after that command and before its reply, in the
//! order the clients blocked.
//!
//! # Format
//! ```text
//! BLPOP|BRPOP key [key ...] timeout        -> [key, element] | null array on timeout
//! BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout -> element | null array on timeout
//! BRPOPLPUSH source destination timeout    -> element | null array on timeout
//! LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]          -> [key, [element, ...]] | null array
//! BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count] -> the same, or null array on timeout
//! ```
//! `timeout` is in seconds, a float; 0 waits for ever. Inside MULTI nothing blocks: a pop that
//! finds nothing answers the timeout reply at once, as in Redis.

use super::blocking::{block, timeout};
use super::list::{end, move_one, pop_n};
use super::{CommandError, Ctx, Flow};
use crate::cache::databases::user_key;
use crate::protocol::Reply;
use crate::state::Shared;
use crate::types::list::End;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;

fn not_a_list(shared: &Shared, key: &[u8]) -> bool {
    shared
        .store
        .get(key)
        .is_some_and(|e| !matches!(e.value, crate::cache::Value::List(_)))
}

/// Pops one item from the first of `keys` that has one.
fn pop_first(shared: &Shared, keys: &[Bytes], end: End) -> Result<Option<Reply>, CommandError> {
    for key in keys {
        if let Some(item) = pop_n(shared, key, end, 1)?.and_then(|v| v.into_iter().next()) {
            return Ok(Some(Reply::Array(vec![
                Reply::Bulk(user_key(key)),
                Reply::Bulk(item),
            ])));
        }
    }
    Ok(None)
}

fn bpop(ctx: &mut Ctx<'_>, a: &[Bytes], end: End) -> Result<Flow, CommandError> {
    let wait = timeout(&a[a.len() - 1])?;
    let keys: Vec<Bytes> = a[1..a.len() - 1].to_vec();
    let ks = keys.clone();
    block(
        ctx,
        keys,
        wait,
        Arc::new(move |shared| pop_first(shared, &ks, end)),
        not_a_list,
    )
}

/// `BLPOP key [key ...] timeout`
pub fn blpop(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    bpop(ctx, a, End::Left)
}

/// `BRPOP key [key ...] timeout`
pub fn brpop(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    bpop(ctx, a, End::Right)
}

fn bmove(
    ctx: &mut Ctx<'_>,
    from: &Bytes,
    to: &Bytes,
    wherefrom: End,
    whereto: End,
    wait: Option<Duration>,
) -> Result<Flow, CommandError> {
    let (f, t) = (from.clone(), to.clone());
    block(
        ctx,
        vec![from.clone()],
        wait,
        Arc::new(move |shared| Ok(move_one(shared, &f, &t, wherefrom, whereto)?.map(Reply::Bulk))),
        not_a_list,
    )
}

/// `BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout`
pub fn blmove(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    let (wherefrom, whereto) = (end(&a[3])?, end(&a[4])?);
    let wait = timeout(&a[5])?;
    bmove(ctx, &a[1], &a[2], wherefrom, whereto, wait)
}

/// `BRPOPLPUSH source destination timeout`
pub fn brpoplpush(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    let wait = timeout(&a[3])?;
    bmove(ctx, &a[1], &a[2], End::Right, End::Left, wait)
}

/// `numkeys key [key ...] LEFT|RIGHT [COUNT count]` of LMPOP / BLMPOP, from `a[at]`.
fn mpop_args(a: &[Bytes], at: usize) -> Result<(Vec<Bytes>, End, usize), CommandError> {
    let n = match super::args::int(&a[at]) {
        Ok(n) if n > 0 => n as usize,
        _ => return Err(CommandError::err("numkeys should be greater than 0")),
    };
    let first = at + 1;
    if first + n >= a.len() {
        return Err(CommandError::Syntax);
    }
    let keys = a[first..first + n].to_vec();
    let side = end(&a[first + n])?;
    let count = match &a[first + n + 1..] {
        [] => 1,
        [word, c] if super::args::is(word, "COUNT") => match super::args::int(c) {
            Ok(c) if c > 0 => c as usize,
            _ => return Err(CommandError::err("count should be greater than 0")),
        },
        _ => return Err(CommandError::Syntax),
    };
    Ok((keys, side, count))
}

/// Pops up to `count` items from the first of `keys` that has any: `[key, [items]]`.
fn mpop_first(
    shared: &Shared,
    keys: &[Bytes],
    side: End,
    count: usize,
) -> Result<Option<Reply>, CommandError> {
    for key in keys {
        if let Some(items) = pop_n(shared, key, side, count)? {
            return Ok(Some(Reply::Array(vec![
                Reply::Bulk(user_key(key)),
                Reply::Array(items.into_iter().map(Reply::Bulk).collect()),
            ])));
        }
    }
    Ok(None)
}

/// `LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]`
pub fn lmpop(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let (keys, side, count) = mpop_args(a, 1)?;
    Ok(mpop_first(ctx.shared, &keys, side, count)?.unwrap_or(Reply::NilArray))
}

/// `BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]`
pub fn blmpop(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    let wait = timeout(&a[1])?;
    let (keys, side, count) = mpop_args(a, 2)?;
    let ks = keys.clone();
    block(
        ctx,
        keys,
        wait,
        Arc::new(move |shared| mpop_first(shared, &ks, side, count)),
        not_a_list,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lmpop_and_blmpop_answer_as_redis_7_0() {
        use crate::cmd::testing::{bulk, error, TestServer};
        let s = TestServer::new();
        let mut c = s.client();
        c.run(&["RPUSH", "l", "a", "b", "c"]);
        let popped = |key: &str, items: &[&str]| {
            Reply::Array(vec![
                bulk(key),
                Reply::Array(items.iter().map(|i| bulk(i)).collect()),
            ])
        };
        assert_eq!(
            c.run(&["LMPOP", "1", "l", "LEFT", "COUNT", "2"]),
            popped("l", &["a", "b"])
        );
        assert_eq!(
            c.run(&["LMPOP", "2", "none", "l", "RIGHT"]),
            popped("l", &["c"])
        );
        assert_eq!(c.run(&["LMPOP", "1", "l", "LEFT"]), Reply::NilArray);
        for (args, want) in [
            (
                &["LMPOP", "0", "l", "LEFT"][..],
                "ERR numkeys should be greater than 0",
            ),
            (&["LMPOP", "1", "l", "UP"], "ERR syntax error"),
            (&["LMPOP", "3", "l", "LEFT"], "ERR syntax error"),
            (
                &["LMPOP", "1", "l", "LEFT", "COUNT", "0"],
                "ERR count should be greater than 0",
            ),
            (
                &["LMPOP", "1", "l", "LEFT", "COUNT", "1", "COUNT", "2"],
                "ERR syntax error",
            ),
            (
                &["BLMPOP", "x", "1", "l", "LEFT"],
                "ERR timeout is not a float or out of range",
            ),
        ] {
            assert_eq!(c.run(args), error(want), "{args:?}");
        }
        assert_eq!(
            c.run_async(&["BLMPOP", "0.01", "1", "l", "LEFT"]).await,
            Reply::NilArray
        );
        let Flow::Wait(w) = c.flow(&["BLMPOP", "0", "2", "x", "y", "RIGHT", "COUNT", "5"]) else {
            panic!("blocks")
        };
        let w = tokio::spawn(w);
        while s.shared.key_waits.blocked() == 0 {
            tokio::task::yield_now().await;
        }
        let mut pusher = s.client();
        pusher.run(&["RPUSH", "y", "1", "2"]);
        assert_eq!(w.await.unwrap(), popped("y", &["2", "1"]));
    }
}
