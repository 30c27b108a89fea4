//! Sorted-set algebra: ZUNION, ZINTER, ZDIFF, their STORE forms, and ZINTERCARD.
//!
//! Inputs may be sorted sets or plain sets (a set member scores 1), as Redis allows; a missing
//! key is an empty input. Scores are multiplied by the input's weight and combined with the
//! aggregate; a NaN that comes of it (`inf * 0`, `inf + -inf`) is 0, as in Redis. Inputs are
//! combined smallest first (Redis sorts them by cardinality), which fixes the order in which
//! float sums are taken.
//!
//! # Format
//! ```text
//! ZUNION|ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
//! ZDIFF numkeys key [key ...] [WITHSCORES]
//! ZUNIONSTORE|ZINTERSTORE destination numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...]
//!     -> members stored (an empty result deletes destination)
//! ZDIFFSTORE destination numkeys key [key ...]
//! ZINTERCARD numkeys key [key ...] [LIMIT limit] -> members of the intersection (at most limit)
//! ```
//! Checks come in Redis's order: numkeys, then every input's type (WRONGTYPE), then the options.

use super::args;
use super::collection::store;
use super::keyspace::lookup_read;
use super::zset::with_scores;
use super::{CommandError, Ctx};
use crate::cache::Value;
use crate::protocol::Reply;
use crate::types::zset::{parse_score, ZSet};
use ahash::AHashMap as HashMap;
use bytes::Bytes;

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    fn apply(self, acc: &mut f64, v: f64) {
        match self {
            Aggregate::Sum => {
                *acc += v;
                if acc.is_nan() {
                    *acc = 0.0;
                }
            }
            Aggregate::Min => *acc = acc.min(v),
            Aggregate::Max => *acc = acc.max(v),
        }
    }
}

/// One input: its members with their scores, in its own order, and a lookup by member.
struct Input {
    items: Vec<(Bytes, f64)>,
    index: HashMap<Bytes, f64>,
    weight: f64,
}

/// The members and scores at `key`: a sorted set's, a set's (score 1), none for a missing key.
fn input(ctx: &Ctx<'_>, key: &[u8]) -> Result<Vec<(Bytes, f64)>, CommandError> {
    let Some(e) = lookup_read(&ctx.shared.store, key) else {
        return Ok(Vec::new());
    };
    match &e.value {
        Value::ZSet(c) => Ok(c.read(|z| z.iter().map(|(s, m)| (m.clone(), s)).collect())),
        Value::Set(c) => Ok(c.read(|s| s.iter().map(|m| (m.clone(), 1.0)).collect())),
        _ => Err(CommandError::WrongType),
    }
}

/// A parsed command: inputs (weights applied later), aggregate, WITHSCORES, LIMIT.
struct Parsed {
    inputs: Vec<Input>,
    aggregate: Aggregate,
    scores: bool,
    limit: usize,
}

/// What a command form accepts after its keys.
#[derive(Clone, Copy)]
struct Form {
    op: Op,
    /// The name in `at least 1 input key is needed for '...' command`.
    name: &'static str,
    store: bool,
    card: bool,
}

/// Parses `numkeys key [key ...] options` starting at `a[at]`, reading the inputs.
fn parse(ctx: &Ctx<'_>, a: &[Bytes], at: usize, form: Form) -> Result<Parsed, CommandError> {
    let n = args::int(&a[at])?;
    if n < 1 {
        return Err(CommandError::err(format!(
            "at least 1 input key is needed for '{}' command",
            form.name
        )));
    }
    if n > (a.len() - at - 1) as i64 {
        return Err(CommandError::Syntax);
    }
    let n = n as usize;
    let keys = &a[at + 1..at + 1 + n];
    let mut inputs = Vec::with_capacity(n);
    for k in keys {
        let items = input(ctx, k)?;
        inputs.push(Input {
            index: HashMap::default(),
            items,
            weight: 1.0,
        });
    }
    let mut p = Parsed {
        inputs,
        aggregate: Aggregate::Sum,
        scores: false,
        limit: 0,
    };
    let mut j = at + 1 + n;
    while j < a.len() {
        let remaining = a.len() - j;
        let word = &a[j];
        let algebra = form.op != Op::Diff && !form.card;
        if algebra && remaining > n && args::is(word, "WEIGHTS") {
            for (i, w) in a[j + 1..j + 1 + n].iter().enumerate() {
                p.inputs[i].weight = parse_score(w)
                    .ok_or_else(|| CommandError::err("weight value is not a float"))?;
            }
            j += 1 + n;
        } else if algebra && remaining >= 2 && args::is(word, "AGGREGATE") {
            let v = &a[j + 1];
            p.aggregate = match () {
                _ if args::is(v, "SUM") => Aggregate::Sum,
                _ if args::is(v, "MIN") => Aggregate::Min,
                _ if args::is(v, "MAX") => Aggregate::Max,
                _ => return Err(CommandError::Syntax),
            };
            j += 2;
        } else if !form.store && !form.card && args::is(word, "WITHSCORES") {
            p.scores = true;
            j += 1;
        } else if form.card && remaining >= 2 && args::is(word, "LIMIT") {
            p.limit = args::uint(&a[j + 1])
                .map_err(|_| CommandError::err("LIMIT can't be negative"))?
                as usize;
            j += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(p)
}

/// `weight * score`, 0 for the NaN of `inf * 0`.
fn weighted(weight: f64, score: f64) -> f64 {
    let v = weight * score;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// The result of `op` over the inputs, as (member, score) in no particular order. For a diff
/// the inputs after the first must be indexed ([`index_others`]).
fn combine(op: Op, mut p: Parsed) -> Vec<(Bytes, f64)> {
    if op == Op::Diff {
        let mut iter = p.inputs.into_iter();
        let Some(first) = iter.next() else {
            return Vec::new();
        };
        let others: Vec<Input> = iter.collect();
        return first
            .items
            .into_iter()
            .filter(|(m, _)| !others.iter().any(|o| o.index.contains_key(m)))
            .collect();
    }
    p.inputs.sort_by_key(|i| i.items.len());
    match op {
        Op::Inter => {
            if p.inputs.first().is_none_or(|i| i.items.is_empty()) {
                return Vec::new();
            }
            for i in p.inputs.iter_mut().skip(1) {
                i.index = i.items.iter().cloned().collect();
            }
            let (first, rest) = p.inputs.split_at(1);
            let first = &first[0];
            first
                .items
                .iter()
                .filter_map(|(m, s)| {
                    let mut acc = weighted(first.weight, *s);
                    for o in rest {
                        let v = o.index.get(m)?;
                        p.aggregate.apply(&mut acc, weighted(o.weight, *v));
                    }
                    Some((m.clone(), acc))
                })
                .collect()
        }
        _ => {
            let mut acc: indexmap::IndexMap<Bytes, f64, ahash::RandomState> = Default::default();
            for i in &p.inputs {
                for (m, s) in &i.items {
                    let v = weighted(i.weight, *s);
                    match acc.get_mut(m) {
                        Some(cur) => p.aggregate.apply(cur, v),
                        None => {
                            acc.insert(m.clone(), v);
                        }
                    }
                }
            }
            acc.into_iter().collect()
        }
    }
}

/// Diff's others are looked up by member: index them first.
fn index_others(op: Op, p: &mut Parsed) {
    if op == Op::Diff {
        for i in p.inputs.iter_mut().skip(1) {
            i.index = std::mem::take(&mut i.items).into_iter().collect();
        }
    }
}

fn result(ctx: &Ctx<'_>, a: &[Bytes], at: usize, form: Form) -> Result<(ZSet, bool), CommandError> {
    let mut p = parse(ctx, a, at, form)?;
    index_others(form.op, &mut p);
    let scores = p.scores;
    let z = ZSet::from_pairs(combine(form.op, p).into_iter().map(|(m, s)| (s, m)));
    Ok((z, scores))
}

fn read_form(
    ctx: &mut Ctx<'_>,
    a: &[Bytes],
    op: Op,
    name: &'static str,
) -> Result<Reply, CommandError> {
    let form = Form {
        op,
        name,
        store: false,
        card: false,
    };
    let (z, scores) = result(ctx, a, 1, form)?;
    let items: Vec<(f64, Bytes)> = z.iter().map(|(s, m)| (s, m.clone())).collect();
    Ok(if scores {
        with_scores(ctx.client.protocol, items, false)
    } else {
        Reply::Array(items.into_iter().map(|(_, m)| Reply::Bulk(m)).collect())
    })
}

fn store_form(
    ctx: &mut Ctx<'_>,
    a: &[Bytes],
    op: Op,
    name: &'static str,
) -> Result<Reply, CommandError> {
    let form = Form {
        op,
        name,
        store: true,
        card: false,
    };
    let (z, _) = result(ctx, a, 2, form)?;
    let n = z.len();
    store(&ctx.shared.store, &a[1], z)?;
    Ok(Reply::Int(n as i64))
}

/// `ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`
pub fn zunion(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    read_form(ctx, a, Op::Union, "zunion")
}

/// `ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`
pub fn zinter(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    read_form(ctx, a, Op::Inter, "zinter")
}

/// `ZDIFF numkeys key [key ...] [WITHSCORES]`
pub fn zdiff(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    read_form(ctx, a, Op::Diff, "zdiff")
}

/// `ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]`
pub fn zunionstore(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    store_form(ctx, a, Op::Union, "zunionstore")
}

/// `ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]`
pub fn zinterstore(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    store_form(ctx, a, Op::Inter, "zinterstore")
}

/// `ZDIFFSTORE destination numkeys key [key ...]`
pub fn zdiffstore(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    store_form(ctx, a, Op::Diff, "zdiffstore")
}

/// `ZINTERCARD numkeys key [key ...] [LIMIT limit]`
pub fn zintercard(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let form = Form {
        op: Op::Inter,
        name: "zintercard",
        store: false,
        card: true,
    };
    let p = parse(ctx, a, 1, form)?;
    let limit = p.limit;
    let n = combine(Op::Inter, p).len();
    Ok(Reply::Int(if limit > 0 { n.min(limit) } else { n } as i64))
}

#[cfg(test)]
mod tests {
    use crate::cmd::testing::{bulk, error, TestServer};
    use crate::protocol::Reply;

    fn flat(items: &[&str]) -> Reply {
        Reply::Array(items.iter().map(|i| bulk(i)).collect())
    }

    #[test]
    fn union_inter_diff_answer_as_redis_7_0() {
        let s = TestServer::new();
        let mut c = s.client();
        c.run(&["ZADD", "z1", "1", "a", "2", "b", "3", "c"]);
        c.run(&["ZADD", "z2", "1", "b", "2", "c", "3", "d"]);
        c.run(&["SADD", "s1", "a", "d", "x"]);
        c.run(&["SET", "str", "x"]);
        for (args, want) in [
            (
                &["ZUNION", "2", "z1", "z2", "WITHSCORES"][..],
                &["a", "1", "b", "3", "d", "3", "c", "5"][..],
            ),
            (
                &["ZUNION", "2", "z1", "s1", "WITHSCORES"],
                &["d", "1", "x", "1", "a", "2", "b", "2", "c", "3"],
            ),
            (
                &[
                    "ZINTER",
                    "2",
                    "z1",
                    "z2",
                    "WEIGHTS",
                    "2",
                    "3",
                    "AGGREGATE",
                    "MAX",
                    "WITHSCORES",
                ],
                &["b", "4", "c", "6"],
            ),
            (&["ZDIFF", "2", "z1", "z2", "WITHSCORES"], &["a", "1"]),
            (
                &["ZUNION", "2", "z1", "z2", "WEIGHTS", "1", "inf"],
                &["a", "b", "c", "d"],
            ),
        ] {
            assert_eq!(c.run(args), flat(want), "{args:?}");
        }
        for (args, want) in [
            (
                &["ZUNION", "0", "z1"][..],
                "ERR at least 1 input key is needed for 'zunion' command",
            ),
            (
                &["ZUNIONSTORE", "d", "-1", "z1"],
                "ERR at least 1 input key is needed for 'zunionstore' command",
            ),
            (&["ZUNION", "3", "z1", "z2"], "ERR syntax error"),
            (
                &["ZUNION", "x", "z1"],
                "ERR value is not an integer or out of range",
            ),
            (
                &["ZUNION", "2", "z1", "str"],
                "WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                &["ZUNION", "2", "z1", "z2", "WEIGHTS", "1"],
                "ERR syntax error",
            ),
            (
                &["ZUNION", "2", "z1", "z2", "WEIGHTS", "1", "x"],
                "ERR weight value is not a float",
            ),
            (
                &["ZUNION", "2", "z1", "z2", "AGGREGATE", "foo"],
                "ERR syntax error",
            ),
            (
                &["ZDIFF", "2", "z1", "z2", "WEIGHTS", "1", "2"],
                "ERR syntax error",
            ),
            (
                &["ZUNIONSTORE", "d", "2", "z1", "z2", "WITHSCORES"],
                "ERR syntax error",
            ),
            (
                &["ZINTERCARD", "2", "z1", "z2", "LIMIT", "-1"],
                "ERR LIMIT can't be negative",
            ),
            (
                &["ZINTERCARD", "0", "z1"],
                "ERR at least 1 input key is needed for 'zintercard' command",
            ),
        ] {
            assert_eq!(c.run(args), error(want), "{args:?}");
        }
        assert_eq!(
            c.run(&["ZUNIONSTORE", "dst", "2", "z1", "z2"]),
            Reply::Int(4)
        );
        assert_eq!(
            c.run(&["ZINTERSTORE", "dst", "2", "z1", "z2"]),
            Reply::Int(2)
        );
        assert_eq!(
            c.run(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
            flat(&["b", "3", "c", "5"])
        );
        assert_eq!(
            c.run(&["ZDIFFSTORE", "dst", "2", "z1", "z1"]),
            Reply::Int(0)
        );
        assert_eq!(c.run(&["EXISTS", "dst"]), Reply::Int(0));
        assert_eq!(c.run(&["ZINTERCARD", "2", "z1", "z2"]), Reply::Int(2));
        assert_eq!(
            c.run(&["ZINTERCARD", "2", "z1", "z2", "LIMIT", "1"]),
            Reply::Int(1)
        );
        assert_eq!(c.run(&["ZINTERCARD", "2", "z1", "s1"]), Reply::Int(1));
        // inf + -inf is NaN, which Redis stores as 0.
        c.run(&["ZADD", "i1", "inf", "m"]);
        c.run(&["ZADD", "i2", "-inf", "m"]);
        assert_eq!(
            c.run(&["ZUNION", "2", "i1", "i2", "WITHSCORES"]),
            flat(&["m", "0"])
        );
    }
}
