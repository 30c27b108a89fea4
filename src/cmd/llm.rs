//! LLM answer commands: LLMGET, LLMSETNX, LLMABORT, LLMSTATS.
//!
//! # Format
//! ```text
//! LLMGET key [WAIT ms]
//!     -> value            a stored answer (a hit)
//!     -> nil              a miss: this caller now holds the fill lease and should call the model,
//!                         then LLMSETNX (or LLMABORT on failure). nil always and only means this.
//!     -> (blocks)         another caller holds the lease: waits in the server, then returns the
//!                         value, or nil if the lease passed to this caller, or
//!     -> -TRYAGAIN ...    the wait ran out (WAIT ms, or the server's default), or was cancelled.
//!                         WAIT 0 never blocks.
//! LLMSETNX key value [EX seconds | PX milliseconds] [TOKENS n]
//!     -> 1 stored, 0 an answer was already there (it stays). Either way the key's lease ends and
//!        every follower is woken with the stored answer. Without EX/PX the default TTL applies.
//! LLMABORT key [gen]      -> 1 if the key's lease was released (the next waiter is
//!                            promoted), else 0. Like LLMSETNX it acts whichever connection
//!                            holds the lease, so pooled clients work; call it only for a lease
//!                            you were granted. With gen (a streaming leader's generation, see
//!                            [`super::stream`]) only that attempt is aborted: a replaced leader
//!                            gets 0.
//! LLMSTATS [RESET]        -> map of counters (flat name/value array in RESP2).
//! ```
//! Answers live in the ordinary keyspace: GET, TTL, DEL and SCAN see them.

use super::args::{self, Args};
use super::keyspace::{owned, string_of, write};
use super::ttl::{self, TtlOptions};
use super::{CommandError, Ctx, Flow};
use crate::cache::flight::{Begin, Outcome};
use crate::cache::{Entry, Store, Value, Write};
use crate::metrics::llm::{llm_stats, Stat};
use crate::protocol::Reply;
use crate::state::Shared;
use bytes::Bytes;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Parses `[WAIT ms]`.
fn parse_wait(a: &[Bytes], default: Duration) -> Result<Duration, CommandError> {
    match a.len() {
        2 => Ok(default),
        4 if args::is(&a[2], "WAIT") => Ok(Duration::from_millis(args::uint(&a[3])?)),
        _ => Err(CommandError::Syntax),
    }
}

/// The wait ran out: the error LLMGET and LLMLOOKUP answer.
fn tryagain_timeout(wait: Duration) -> CommandError {
    CommandError::coded(format!(
        "TRYAGAIN no answer after waiting {} ms: another client is still filling this key",
        wait.as_millis()
    ))
}

/// `LLMGET key [WAIT ms]`
pub fn llmget(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    let wait = parse_wait(a, ctx.shared.config().llm_wait)?;
    single_flight(ctx, &a[1], wait)
}

/// The single-flight lookup behind LLMGET and LLMLOOKUP: a hit, a granted lease (nil), or a
/// wait for another caller's fill (which ends in a value, nil on promotion, or an error reply).
pub(super) fn single_flight(
    ctx: &mut Ctx<'_>,
    key: &Bytes,
    wait: Duration,
) -> Result<Flow, CommandError> {
    ctx.client.used_leases = true;
    let shared = ctx.shared;
    let stats = shared.store.stats();
    match shared
        .flights
        .begin(key, ctx.client.id(), || shared.store.get(key))
    {
        Begin::Hit(entry) => {
            let v = string_of(&entry)?;
            entry.mark_read();
            stats.llm_hits.incr();
            stats.tokens_saved.add(entry.tokens);
            stats.record_model(key, true, entry.tokens);
            Ok(Flow::Reply(Reply::Bulk(v.clone())))
        }
        Begin::Lead { flight } => {
            stats.llm_misses.incr();
            stats.record_model(key, false, 0);
            spawn_lease_timer(shared, owned(key), flight);
            Ok(Flow::Reply(Reply::Nil))
        }
        // LLMGET may lead, so `begin` never answers Miss; a read-only variant would.
        Begin::Miss => Err(CommandError::coded(crate::cache::flight::READONLY_MISS)),
        Begin::Follow(mut guard) => {
            if ctx.client.in_exec || wait.is_zero() {
                stats.wait_timeouts.incr();
                return Err(tryagain_timeout(wait));
            }
            let stats = stats.clone();
            let key = owned(key);
            Ok(Flow::Wait(Box::pin(async move {
                match tokio::time::timeout(wait, guard.wait()).await {
                    Ok(Outcome::Value { value, tokens }) => {
                        stats.coalesced.incr();
                        stats.tokens_saved.add(tokens);
                        stats.record_model(&key, true, tokens);
                        Reply::Bulk(value)
                    }
                    Ok(Outcome::Lead) => Reply::Nil,
                    Ok(Outcome::Cancelled(msg)) => Reply::Error(msg),
                    Err(_) => {
                        stats.wait_timeouts.incr();
                        tryagain_timeout(wait).into()
                    }
                }
            })))
        }
    }
}

/// Ends the flight's lease when its time is up, and each later holder's too, until the flight
/// ends. One task per flight.
pub(super) fn spawn_lease_timer(shared: &Shared, key: Bytes, flight_id: u64) {
    let flights = shared.flights.clone();
    tokio::spawn(async move {
        while let Some(deadline) = flights.deadline(&key, flight_id) {
            tokio::time::sleep_until(deadline.into()).await;
            flights.expire_due(&key, flight_id, Instant::now());
        }
    });
}

/// The store options of `LLMSETNX key value [EX seconds | PX milliseconds] [TOKENS n]` and
/// `LLMEND key gen ... [GRACE seconds]`. EX and PX follow SET's rules ([`ttl`]); TOKENS and
/// GRACE may be given once each.
pub(super) struct SetNx<'a> {
    ttl: TtlOptions<'a>,
    pub tokens: u64,
    /// Seconds an answer may be served stale after its TTL (validated; kept for stale serving).
    pub grace: Option<u64>,
}

impl<'a> SetNx<'a> {
    /// Parses the options from `a[first..]`; GRACE only when `grace` is allowed.
    pub fn parse(a: &'a [Bytes], first: usize, grace: bool) -> Result<SetNx<'a>, CommandError> {
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
            } else if grace && args::is(opt, "GRACE") && grace_arg.is_none() {
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

    /// The answer's deadline: EX / PX, else the default TTL. `command` names it in errors.
    pub fn expire_at(
        &self,
        shared: &Shared,
        command: &'static str,
    ) -> Result<Option<u64>, CommandError> {
        let now = shared.store.clock().now_ms();
        Ok(match self.ttl.deadline(now, command)? {
            Some(at) => Some(at),
            None => shared
                .config()
                .llm_default_ttl
                .map(|d| now.saturating_add(d.as_millis() as u64)),
        })
    }
}

/// `LLMSETNX key value [EX seconds | PX milliseconds] [TOKENS n]`
pub fn llmsetnx(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let s = SetNx::parse(a, 3, false)?;
    let shared = ctx.shared;
    let expire_at = s.expire_at(shared, "llmsetnx")?;
    let value = owned(&a[2]);
    let key = &a[1];
    let (stored, answer, tokens) = write(&shared.store, key, |cur| match cur {
        Some(e) => Ok((Write::Keep, (0, string_of(e)?.clone(), e.tokens))),
        None => Ok((
            Write::Put(Entry::new(Value::Str(value.clone()), expire_at).with_tokens(s.tokens)),
            (1, value.clone(), s.tokens),
        )),
    })?;
    let stats = shared.store.stats();
    if stored == 1 {
        stats.sets.incr();
    } else {
        stats.sets_existing.incr();
    }
    // The entry lets readers that were following a stream continue into the stored answer.
    let entry = entry_holding(&shared.store, key, &answer);
    shared
        .flights
        .complete(key, &answer, tokens, entry.as_ref());
    Ok(Reply::Int(stored))
}

/// Parses a generation argument (LLMAPPEND, LLMEND, LLMABORT).
pub(super) fn parse_gen(arg: &[u8]) -> Result<u64, CommandError> {
    args::uint(arg)
}

/// The entry that now holds `value` under `key`, if it is that value (for cursors into it).
pub(super) fn entry_holding(store: &Store, key: &[u8], value: &Bytes) -> Option<Arc<Entry>> {
    store
        .get(key)
        .filter(|e| matches!(&e.value, Value::Str(v) if v.as_ptr() == value.as_ptr() && v.len() == value.len()))
}

/// `LLMABORT key [gen]`: without gen, whatever attempt is running; with gen, only that one.
pub fn llmabort(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let gen = match a.len() {
        2 => None,
        3 => Some(parse_gen(&a[2])?),
        _ => return Err(CommandError::Syntax),
    };
    if ctx.shared.flights.abort(&a[1], gen) {
        ctx.shared.store.stats().aborts.incr();
        Ok(Reply::Int(1))
    } else {
        Ok(Reply::Int(0))
    }
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
