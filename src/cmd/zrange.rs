//! Sorted-set ranges: ZRANGE (by rank, BYSCORE, BYLEX, REV, LIMIT, WITHSCORES), ZRANGEBYSCORE,
//! ZREVRANGE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX, ZCOUNT, ZLEXCOUNT,
//! ZREMRANGEBYSCORE, ZREMRANGEBYRANK, ZREMRANGEBYLEX.
//!
//! # Format
//! ```text
//! ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
//!     with REV, start and stop are the high end first for BYSCORE / BYLEX
//! ZRANGESTORE dst src start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] -> members stored
//! ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
//! ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
//! ZREVRANGE key start stop [WITHSCORES]
//! ```
//! A score range costs O(log n) to find its first member; a rank range O(start + count).

use super::args::{self, Args};
use super::collection::{modify, read, store};
use super::zset::with_scores;
use super::{CommandError, Ctx};
use crate::protocol::Reply;
use crate::types::list::span;
use crate::types::zset::{LexBound, ScoreBound, ZSet};
use bytes::Bytes;

/// What a range selects.
enum By {
    Rank(i64, i64),
    Score(ScoreBound, ScoreBound),
    Lex(LexBound, LexBound),
}

struct Range {
    by: By,
    rev: bool,
    /// Offset and count (negative: all).
    limit: Option<(i64, i64)>,
    scores: bool,
}

fn score_bound(b: &[u8]) -> Result<ScoreBound, CommandError> {
    ScoreBound::parse(b).ok_or_else(|| CommandError::err("min or max is not a float"))
}

fn lex_bound(b: &Bytes) -> Result<LexBound, CommandError> {
    LexBound::parse(b).ok_or_else(|| CommandError::err("min or max not valid string range item"))
}

/// The members a range selects, in reply order.
fn select(z: &ZSet, r: &Range) -> Vec<(f64, Bytes)> {
    let (offset, count) = r.limit.unwrap_or((0, -1));
    if offset < 0 {
        return Vec::new();
    }
    let take = if count < 0 {
        usize::MAX
    } else {
        count as usize
    };
    let pick = |it: &mut dyn Iterator<Item = (f64, &Bytes)>| -> Vec<(f64, Bytes)> {
        it.skip(offset as usize)
            .take(take)
            .map(|(s, m)| (s, m.clone()))
            .collect()
    };
    match &r.by {
        By::Rank(start, stop) => {
            let Some((a, b)) = span(z.len(), *start, *stop) else {
                return Vec::new();
            };
            let n = b - a + 1;
            if r.rev {
                pick(&mut z.iter().rev().skip(a).take(n))
            } else {
                pick(&mut z.iter().skip(a).take(n))
            }
        }
        By::Score(min, max) if r.rev => pick(&mut z.by_score(*min, *max).rev()),
        By::Score(min, max) => pick(&mut z.by_score(*min, *max)),
        By::Lex(min, max) if r.rev => pick(&mut z.by_lex(min, max).rev()),
        By::Lex(min, max) => pick(&mut z.by_lex(min, max)),
    }
}

fn reply(ctx: &mut Ctx<'_>, key: &[u8], r: Range) -> Result<Reply, CommandError> {
    let items = read(&ctx.shared.store, key, |z: &ZSet| select(z, &r))?.unwrap_or_default();
    Ok(if r.scores {
        with_scores(ctx.client.protocol, items, false)
    } else {
        Reply::Array(items.into_iter().map(|(_, m)| Reply::Bulk(m)).collect())
    })
}

fn limit(opts: &mut Args<'_>) -> Result<(i64, i64), CommandError> {
    let offset = opts.next_int()?;
    let count = opts.next_int()?;
    Ok((offset, count))
}

/// Parses `start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]` from `a[at]`
/// (WITHSCORES only when not `store`, as ZRANGESTORE refuses it).
fn parse_range(a: &[Bytes], at: usize, store: bool) -> Result<Range, CommandError> {
    let mut opts = Args::new(a);
    for _ in 1..at + 2 {
        opts.next_bytes()?;
    }
    let (mut byscore, mut bylex, mut rev, mut scores, mut lim) = (false, false, false, false, None);
    while !opts.is_empty() {
        if opts.eat("BYSCORE") {
            byscore = true;
        } else if opts.eat("BYLEX") {
            bylex = true;
        } else if opts.eat("REV") {
            rev = true;
        } else if !store && opts.eat("WITHSCORES") {
            scores = true;
        } else if opts.eat("LIMIT") {
            lim = Some(limit(&mut opts)?);
        } else {
            return Err(CommandError::Syntax);
        }
    }
    if byscore && bylex {
        return Err(CommandError::Syntax);
    }
    if lim.is_some() && !byscore && !bylex {
        return Err(CommandError::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if scores && bylex {
        return Err(CommandError::err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    // With REV the first bound is the high one.
    let (lo, hi) = if rev && (byscore || bylex) {
        (&a[at + 1], &a[at])
    } else {
        (&a[at], &a[at + 1])
    };
    let by = if byscore {
        By::Score(score_bound(lo)?, score_bound(hi)?)
    } else if bylex {
        By::Lex(lex_bound(lo)?, lex_bound(hi)?)
    } else {
        By::Rank(args::int(lo)?, args::int(hi)?)
    };
    Ok(Range {
        by,
        rev,
        limit: lim,
        scores,
    })
}

/// `ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]`
pub fn zrange(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let r = parse_range(a, 2, false)?;
    reply(ctx, &a[1], r)
}

/// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]`: the members
/// stored at `dst` (replacing what it held, without a TTL; an empty range deletes it).
pub fn zrangestore(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let r = parse_range(a, 3, true)?;
    let items = read(&ctx.shared.store, &a[2], |z: &ZSet| select(z, &r))?.unwrap_or_default();
    let z = ZSet::from_pairs(items);
    let n = z.len();
    store(&ctx.shared.store, &a[1], z)?;
    Ok(Reply::Int(n as i64))
}

/// The options of ZRANGEBYSCORE / ZREVRANGEBYSCORE after the bounds.
fn byscore_options(a: &[Bytes]) -> Result<(bool, Option<(i64, i64)>), CommandError> {
    let mut opts = Args::new(a);
    for _ in 0..3 {
        opts.next_bytes()?;
    }
    let (mut scores, mut lim) = (false, None);
    while !opts.is_empty() {
        if opts.eat("WITHSCORES") {
            scores = true;
        } else if opts.eat("LIMIT") {
            lim = Some(limit(&mut opts)?);
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok((scores, lim))
}

/// `ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]`
pub fn zrangebyscore(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let (scores, limit) = byscore_options(a)?;
    let by = By::Score(score_bound(&a[2])?, score_bound(&a[3])?);
    let r = Range {
        by,
        rev: false,
        limit,
        scores,
    };
    reply(ctx, &a[1], r)
}

/// `ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]`
pub fn zrevrangebyscore(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let (scores, limit) = byscore_options(a)?;
    let by = By::Score(score_bound(&a[3])?, score_bound(&a[2])?);
    let r = Range {
        by,
        rev: true,
        limit,
        scores,
    };
    reply(ctx, &a[1], r)
}

/// The `[LIMIT offset count]` of ZRANGEBYLEX / ZREVRANGEBYLEX.
fn bylex_limit(a: &[Bytes]) -> Result<Option<(i64, i64)>, CommandError> {
    let mut opts = Args::new(a);
    for _ in 0..3 {
        opts.next_bytes()?;
    }
    let mut lim = None;
    while !opts.is_empty() {
        if opts.eat("LIMIT") {
            lim = Some(limit(&mut opts)?);
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(lim)
}

/// `ZRANGEBYLEX key min max [LIMIT offset count]`
pub fn zrangebylex(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let limit = bylex_limit(a)?;
    let by = By::Lex(lex_bound(&a[2])?, lex_bound(&a[3])?);
    let r = Range {
        by,
        rev: false,
        limit,
        scores: false,
    };
    reply(ctx, &a[1], r)
}

/// `ZREVRANGEBYLEX key max min [LIMIT offset count]`
pub fn zrevrangebylex(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let limit = bylex_limit(a)?;
    let by = By::Lex(lex_bound(&a[3])?, lex_bound(&a[2])?);
    let r = Range {
        by,
        rev: true,
        limit,
        scores: false,
    };
    reply(ctx, &a[1], r)
}

/// `ZLEXCOUNT key min max`
pub fn zlexcount(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let (min, max) = (lex_bound(&a[2])?, lex_bound(&a[3])?);
    let n = read(&ctx.shared.store, &a[1], |z: &ZSet| {
        z.by_lex(&min, &max).count()
    })?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

/// `ZREMRANGEBYLEX key min max`
pub fn zremrangebylex(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let (min, max) = (lex_bound(&a[2])?, lex_bound(&a[3])?);
    modify(&ctx.shared.store, &a[1], |z: &mut ZSet| {
        let gone: Vec<Bytes> = z.by_lex(&min, &max).map(|(_, m)| m.clone()).collect();
        Ok(remove_all(z, gone))
    })
}

/// `ZREVRANGE key start stop [WITHSCORES]`
pub fn zrevrange(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let scores = match a.get(4) {
        None => false,
        Some(w) if args::is(w, "WITHSCORES") && a.len() == 5 => true,
        Some(_) => return Err(CommandError::Syntax),
    };
    let by = By::Rank(args::int(&a[2])?, args::int(&a[3])?);
    let r = Range {
        by,
        rev: true,
        limit: None,
        scores,
    };
    reply(ctx, &a[1], r)
}

/// `ZCOUNT key min max`
pub fn zcount(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let (min, max) = (score_bound(&a[2])?, score_bound(&a[3])?);
    let n = read(&ctx.shared.store, &a[1], |z: &ZSet| {
        z.by_score(min, max).count()
    })?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

fn remove_all(z: &mut ZSet, members: Vec<Bytes>) -> (Reply, bool) {
    for m in &members {
        z.remove(m);
    }
    (Reply::Int(members.len() as i64), !members.is_empty())
}

/// `ZREMRANGEBYSCORE key min max`: the number removed (the sliding window's expiry step).
pub fn zremrangebyscore(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let (min, max) = (score_bound(&a[2])?, score_bound(&a[3])?);
    modify(&ctx.shared.store, &a[1], |z: &mut ZSet| {
        let gone: Vec<Bytes> = z.by_score(min, max).map(|(_, m)| m.clone()).collect();
        Ok(remove_all(z, gone))
    })
}

/// `ZREMRANGEBYRANK key start stop`
pub fn zremrangebyrank(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let (start, stop) = (args::int(&a[2])?, args::int(&a[3])?);
    modify(&ctx.shared.store, &a[1], |z: &mut ZSet| {
        let gone: Vec<Bytes> = match span(z.len(), start, stop) {
            None => Vec::new(),
            Some((x, y)) => z
                .iter()
                .skip(x)
                .take(y - x + 1)
                .map(|(_, m)| m.clone())
                .collect(),
        };
        Ok(remove_all(z, gone))
    })
}
