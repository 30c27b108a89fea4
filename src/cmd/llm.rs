//! LLM answer commands: LLMSETNX, LLMABORT, LLMSTATS (reads are in [`super::llmget`]).
//!
//! # Format
//! ```text
//! LLMSETNX key value [EX seconds | PX milliseconds] [TOKENS n] [GRACE seconds]
//!     -> 1 stored, 0 an answer was already there (it stays), unless a refresh lease of the key
//!        is held: then the answer is replaced and the reply is 1. Either way the key's lease
//!        ends and every follower is woken with the stored answer. EX/PX is the fresh lifetime
//!        (default llm-default-ttl); GRACE how long after it the answer may be served stale
//!        (default llm-default-grace). TTL reports both together.
//! LLMABORT key [gen] [BACKOFF ms]
//!     -> 1 if the key's lease was released (the next waiter is promoted), else 0. Like
//!        LLMSETNX it acts whichever connection holds the lease, so pooled clients work; call
//!        it only for a lease you were granted. With gen (a streaming leader's generation, see
//!        the streaming commands) only that attempt is aborted: a replaced leader gets 0. BACKOFF:
//!        the model failed; for ms (at most llm-max-backoff-ms) nobody is granted the lease,
//!        and readers get a servable stale answer or -BACKOFF.
//! LLMSTATS [RESET]        -> map of counters (flat name/value array in RESP2).
//! ```
//! Answers live in the ordinary keyspace: GET, TTL, DEL and SCAN see them.

use super::args::{self, Args};
use super::keyspace::{owned, string_of, write};
use super::lease::entry_holding;
use super::ttl::{self, TtlOptions};
use super::{CommandError, Ctx, Flow};
use crate::cache::flight::BackoffLeft;
use crate::cache::{Entry, Value, Write};
use crate::metrics::llm::{llm_stats, Stat};
use crate::protocol::Reply;
use crate::state::Shared;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;

/// The store options of `LLMSETNX key value [EX seconds | PX milliseconds] [TOKENS n]
/// [GRACE seconds]` and `LLMEND key gen ...` (the same). EX and PX follow SET's rules
/// ([`ttl`]); TOKENS and GRACE may be given once each.
pub(super) struct SetNx<'a> {
    ttl: TtlOptions<'a>,
    pub tokens: u64,
    /// Seconds an answer may be served stale after its fresh life; `None`: the default.
    pub grace: Option<u64>,
}

impl<'a> SetNx<'a> {
    /// Parses the options from `a[first..]`.
    pub fn parse(a: &'a [Bytes], first: usize) -> Result<SetNx<'a>, CommandError> {
        let mut s = SetNx {
            ttl: TtlOptions::default(),
            tokens: 0,
            grace: None,
        };
        let (mut tokens, mut grace_arg) = (None, None);
        let mut args = Args::new(a);
        for _ in 1..first {
            args.next_bytes()?;
        }
        while let Some(opt) = args.peek() {
            if s.ttl.take(ttl::LLMSETNX, &mut args) {
                continue;
            }
            args.next_bytes()?;
            let val = args.next_bytes()?;
            if args::is(opt, "TOKENS") && tokens.is_none() {
                tokens = Some(val);
            } else if args::is(opt, "GRACE") && grace_arg.is_none() {
                grace_arg = Some(val);
            } else {
                return Err(CommandError::Syntax);
            }
        }
        if let Some(t) = tokens {
            s.tokens = args::uint(t)?;
        }
        if let Some(g) = grace_arg {
            s.grace = Some(args::uint(g)?);
        }
        Ok(s)
    }

    /// The answer to store: `value` fresh until EX / PX (else the default TTL), then servable
    /// stale for GRACE (else the default grace); its expiry is the end of both. `command`
    /// names it in errors.
    pub fn entry(
        &self,
        shared: &Shared,
        value: Bytes,
        command: &'static str,
    ) -> Result<Entry, CommandError> {
        let now = shared.store.clock().now_ms();
        let config = shared.config();
        let fresh_until = match self.ttl.deadline(now, command)? {
            Some(at) => Some(at),
            None => config
                .llm_default_ttl
                .map(|d| now.saturating_add(d.as_millis() as u64)),
        };
        let grace_ms = match self.grace {
            Some(s) => s.saturating_mul(1000),
            None => config.llm_default_grace.as_millis() as u64,
        };
        let expire_at = fresh_until.map(|at| at.saturating_add(grace_ms));
        Ok(Entry::new(Value::Str(value), expire_at)
            .with_tokens(self.tokens)
            .with_grace(grace_ms))
    }
}

/// What storing an answer did: LLMSETNX's reply, the answer now stored, its tokens and entry
/// (the shape [`crate::cache::flight::Flights::settle`] ends the flight with).
pub(super) type Settled = (i64, Bytes, u64, Option<Arc<Entry>>);

/// Stores `entry` under `key` unless an answer is there, or replaces it when `refreshing` (a
/// refresh lease of the key is held). Counts the outcome.
pub(super) fn store_answer(
    shared: &Shared,
    key: &Bytes,
    entry: Entry,
    refreshing: bool,
) -> Result<Settled, CommandError> {
    let store = &shared.store;
    let (value, tokens) = match &entry.value {
        Value::Str(v) => (v.clone(), entry.tokens),
        _ => (Bytes::new(), 0),
    };
    let (stored, answer, tokens) = write(store, key, |cur| match cur {
        Some(e) if refreshing => {
            string_of(e)?;
            Ok((Write::Put(entry), (2, value.clone(), tokens)))
        }
        Some(e) => Ok((Write::Keep, (0, string_of(e)?.clone(), e.tokens))),
        None => Ok((Write::Put(entry), (1, value.clone(), tokens))),
    })?;
    let stats = store.stats();
    match stored {
        0 => stats.sets_existing.incr(),
        2 => stats.refresh_replaced.incr(),
        _ => stats.sets.incr(),
    }
    // The entry lets readers that were following a stream continue into the stored answer.
    let entry = entry_holding(store, key, &answer);
    Ok((stored.min(1), answer, tokens, entry))
}

/// `LLMSETNX key value [EX seconds | PX milliseconds] [TOKENS n] [GRACE seconds]`
pub fn llmsetnx(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    let shared = ctx.shared;
    let entry = SetNx::parse(a, 3)?.entry(shared, owned(&a[2]), "llmsetnx")?;
    let key = &a[1];
    let tier = shared.tier.as_ref();
    let up = tier.is_some_and(|t| t.is_up());
    // With the tier up the answer is kept as a copy of the tier's (not journaled here).
    let entry = match tier {
        Some(t) if up => entry.near_copy(t.near_until()),
        _ => entry,
    };
    let mut replace = false;
    let stored = shared.flights.settle(key, |refreshing| {
        replace = refreshing;
        store_answer(shared, key, entry, refreshing)
    })?;
    Ok(super::fleet::stored(ctx, key, stored, up, replace))
}

/// Parses a generation argument (LLMAPPEND, LLMEND, LLMABORT).
pub(super) fn parse_gen(arg: &[u8]) -> Result<u64, CommandError> {
    args::uint(arg)
}

/// `LLMABORT key [gen] [BACKOFF ms]`: without gen, whatever attempt is running; with gen, only
/// that one. BACKOFF opens the key's window (cut to llm-max-backoff-ms).
pub fn llmabort(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let (gen, backoff) = match a.len() {
        2 => (None, None),
        3 => (Some(parse_gen(&a[2])?), None),
        4 if args::is(&a[2], "BACKOFF") => (None, Some(args::uint(&a[3])?)),
        5 if args::is(&a[3], "BACKOFF") => (Some(parse_gen(&a[2])?), Some(args::uint(&a[4])?)),
        _ => return Err(CommandError::Syntax),
    };
    let shared = ctx.shared;
    // BACKOFF 0 is a plain abort.
    let window = backoff
        .map(|ms| Duration::from_millis(ms).min(shared.config().llm_max_backoff))
        .filter(|w| !w.is_zero());
    let ended = match window {
        Some(w) => {
            let left = BackoffLeft {
                ago_ms: 0,
                left_ms: w.as_millis() as u64,
            };
            let text = super::llmget::backoff_error(left).to_string();
            shared.flights.abort_with(&a[1], gen, Some((w, &text)))
        }
        None => shared.flights.abort(&a[1], gen),
    };
    if !ended {
        return Ok(Reply::Int(0));
    }
    if let Some(tier) = shared.tier.clone() {
        // The fleet's lease too, if this node holds it: other nodes' followers try it again.
        let key = a[1].clone();
        tokio::spawn(async move { tier.release(&key).await });
    }
    let stats = shared.store.stats();
    stats.aborts.incr();
    if window.is_some() {
        stats.backoffs.incr();
    }
    Ok(Reply::Int(1))
}

/// `LLMSTATS [RESET]`
pub fn llmstats(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    match a.len() {
        1 => {}
        2 if args::is(&a[1], "RESET") => {
            ctx.shared.store.stats().reset();
            ctx.shared.flights.reset_counters();
            return Ok(Reply::Ok);
        }
        _ => return Err(CommandError::Syntax),
    }
    ctx.shared.store.run_maintenance();
    let mut pairs: Vec<(Reply, Reply)> = llm_stats(ctx.shared)
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Stat::Int(n) => Reply::Int(n as i64),
                Stat::Ratio(r) => Reply::Double((r * 10_000.0).round() / 10_000.0),
            };
            (Reply::from_static(k), v)
        })
        .collect();
    let models = ctx.shared.store.stats().models();
    pairs.push((
        Reply::from_static("models"),
        Reply::Map(
            models
                .into_iter()
                .map(|(m, s)| {
                    (
                        Reply::text(m),
                        Reply::map([
                            ("hits", Reply::Int(s.hits as i64)),
                            ("misses", Reply::Int(s.misses as i64)),
                            ("tokens_saved", Reply::Int(s.tokens_saved as i64)),
                        ]),
                    )
                })
                .collect(),
        ),
    ));
    Ok(Reply::Map(pairs))
}

#[cfg(test)]
mod tests {
    use crate::cmd::testing::{bulk, error, TestServer};
    use crate::cmd::Flow;
    use crate::config::Config;
    use crate::protocol::Reply;

    /// One LLMSTATS figure.
    fn stat(r: &Reply, name: &str) -> Reply {
        let Reply::Map(pairs) = r else {
            panic!("LLMSTATS is a map: {r:?}")
        };
        pairs
            .iter()
            .find(|(k, _)| *k == bulk(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name}"))
    }

    #[tokio::test]
    async fn a_miss_grants_the_lease_and_llmsetnx_wakes_the_follower() {
        let server = TestServer::new();
        let (mut leader, mut follower) = (server.client(), server.client());
        assert_eq!(leader.run(&["LLMGET", "k"]), Reply::Nil);
        let Flow::Wait(wait) = follower.flow(&["LLMGET", "k"]) else {
            panic!("the follower should wait for the fill")
        };
        let stats = leader.run(&["LLMSTATS"]);
        assert_eq!(stat(&stats, "followers_waiting"), Reply::Int(1));
        assert_eq!(stat(&stats, "leases_active"), Reply::Int(1));
        assert_eq!(
            leader.run(&["LLMSETNX", "k", "answer", "TOKENS", "30"]),
            Reply::Int(1)
        );
        assert_eq!(wait.await, bulk("answer"));
        assert_eq!(follower.run(&["LLMGET", "k"]), bulk("answer"));
        let stats = leader.run(&["LLMSTATS"]);
        for (name, n) in [
            ("hits", 1),
            ("misses", 1),
            ("coalesced", 1),
            ("tokens_saved", 60),
            ("sets", 1),
            ("followers_waiting", 0),
            ("leases_active", 0),
        ] {
            assert_eq!(stat(&stats, name), Reply::Int(n), "{name}");
        }
        assert_eq!(stat(&stats, "hit_rate"), Reply::Double(0.6667));
    }

    #[tokio::test]
    async fn abort_promotes_the_follower_and_wait_zero_never_blocks() {
        let server = TestServer::new();
        let (mut leader, mut follower) = (server.client(), server.client());
        assert_eq!(leader.run(&["LLMABORT", "k"]), Reply::Int(0));
        assert_eq!(leader.run(&["LLMGET", "k"]), Reply::Nil);
        let r = follower.run(&["LLMGET", "k", "WAIT", "0"]);
        assert!(
            matches!(&r, Reply::Error(e) if e.starts_with("TRYAGAIN no answer after waiting 0 ms")),
            "{r:?}"
        );
        let Flow::Wait(wait) = follower.flow(&["LLMGET", "k", "wait", "60000"]) else {
            panic!("the follower should wait")
        };
        assert_eq!(leader.run(&["LLMABORT", "k"]), Reply::Int(1));
        // Promoted: nil means "you hold the lease now".
        assert_eq!(wait.await, Reply::Nil);
        assert_eq!(follower.run(&["LLMSETNX", "k", "v"]), Reply::Int(1));
        let stats = leader.run(&["LLMSTATS"]);
        assert_eq!(stat(&stats, "aborts"), Reply::Int(1));
        assert_eq!(stat(&stats, "lease_promotions"), Reply::Int(1));
        assert_eq!(stat(&stats, "wait_timeouts"), Reply::Int(1));
    }

    #[tokio::test]
    async fn llmget_argument_errors() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(
            c.run(&["LLMGET", "k", "WAIT", "x"]),
            error("ERR value is not an integer or out of range")
        );
        assert_eq!(
            c.run(&["LLMGET", "k", "WAIT", "-1"]),
            error("ERR value is not an integer or out of range")
        );
        assert_eq!(
            c.run(&["LLMGET", "k", "LATER", "1"]),
            error("ERR syntax error")
        );
        assert_eq!(c.run(&["LLMGET", "k", "WAIT"]), error("ERR syntax error"));
        c.run(&["HSET", "h", "f", "v"]);
        assert_eq!(
            c.run(&["LLMGET", "h"]),
            error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
    }

    #[test]
    fn llmsetnx_takes_sets_expiry_rules_and_the_default_ttl() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(c.run(&["LLMSETNX", "d", "v"]), Reply::Int(1));
        assert_eq!(c.run(&["TTL", "d"]), Reply::Int(86_400));
        assert_eq!(
            c.run(&["LLMSETNX", "e", "v", "EX", "10", "EX", "20"]),
            Reply::Int(1)
        );
        assert_eq!(c.run(&["TTL", "e"]), Reply::Int(20));
        assert_eq!(
            c.run(&["LLMSETNX", "p", "v", "PX", "5000", "TOKENS", "3"]),
            Reply::Int(1)
        );
        assert_eq!(c.run(&["TTL", "p"]), Reply::Int(5));
        // An answer already there stays, TTL and all.
        assert_eq!(
            c.run(&["LLMSETNX", "p", "other", "EX", "100"]),
            Reply::Int(0)
        );
        assert_eq!(c.run(&["GET", "p"]), bulk("v"));
        assert_eq!(c.run(&["TTL", "p"]), Reply::Int(5));
        let invalid = error("ERR invalid expire time in 'llmsetnx' command");
        assert_eq!(c.run(&["LLMSETNX", "x", "v", "EX", "0"]), invalid);
        assert_eq!(
            c.run(&["LLMSETNX", "x", "v", "EX", "9223372036854775"]),
            invalid
        );
        let syntax = error("ERR syntax error");
        for bad in [
            &["LLMSETNX", "x", "v", "EXAT", "10"][..],
            &["LLMSETNX", "x", "v", "EX", "10", "PX", "10"],
            &["LLMSETNX", "x", "v", "TOKENS", "1", "TOKENS", "2"],
            &["LLMSETNX", "x", "v", "TOKENS"],
            &["LLMSETNX", "x", "v", "EX", "0", "FOO", "1"],
        ] {
            assert_eq!(c.run(bad), syntax, "{bad:?}");
        }
        assert_eq!(
            c.run(&["LLMSETNX", "x", "v", "TOKENS", "-1"]),
            error("ERR value is not an integer or out of range")
        );
        assert_eq!(c.run(&["EXISTS", "x"]), Reply::Int(0));
        c.run(&["HSET", "h", "f", "v"]);
        assert_eq!(
            c.run(&["LLMSETNX", "h", "v"]),
            error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
    }

    #[test]
    fn without_a_default_ttl_answers_do_not_expire() {
        let server = TestServer::with_config(Config {
            llm_default_ttl: None,
            ..Config::default()
        });
        let mut c = server.client();
        assert_eq!(c.run(&["LLMSETNX", "k", "v"]), Reply::Int(1));
        assert_eq!(c.run(&["TTL", "k"]), Reply::Int(-1));
    }

    #[test]
    fn llmstats_reset_zeroes_the_counters() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["LLMSETNX", "k", "v", "TOKENS", "5"]);
        c.run(&["LLMSETNX", "k", "v"]);
        let stats = c.run(&["LLMSTATS"]);
        assert_eq!(stat(&stats, "sets"), Reply::Int(1));
        assert_eq!(stat(&stats, "sets_existing"), Reply::Int(1));
        assert_eq!(stat(&stats, "entries"), Reply::Int(1));
        assert_eq!(c.run(&["llmstats", "reset"]), Reply::Ok);
        let stats = c.run(&["LLMSTATS"]);
        assert_eq!(stat(&stats, "sets"), Reply::Int(0));
        assert_eq!(stat(&stats, "entries"), Reply::Int(1));
        assert_eq!(c.run(&["LLMSTATS", "FOO"]), error("ERR syntax error"));
    }
}
