//! Reading answers: LLMGET and LLMGET_RO, with freshness limits, modes and the META reply
//! (LLMLOOKUP shares all of it).
//!
//! # Format
//! ```text
//! LLMGET    key [WAIT ms] [MAXAGE s] [MAXSTALE s] [MODE DEFAULT|READONLY|REFRESH|WRITEONLY|BYPASS] [META]
//! LLMGET_RO key [WAIT ms] [MAXAGE s] [MAXSTALE s] [META]         (MODE READONLY)
//!     plain:  value (fresh, or stale while someone refreshes it) | nil (you hold the lease)
//!             | blocks behind the holder | -MISS | -BACKOFF | -BYPASS | -TRYAGAIN
//!     META:   status, value, age_ms, fresh_ms, gen, tokens (a map; a flat array in RESP2)
//!             status: hit | stale | stale-lead | lead | refresh-lead
//! ```
//! Options come in any order, each once; keywords are case-insensitive. An answer is fresh for
//! a caller as [`crate::cache::fresh`] defines; a stale one is served at once while exactly one
//! caller holds its refresh lease (plain callers get that lease as nil, META callers get the
//! stale value with status `stale-lead` and refresh in the background). `nil` keeps meaning one
//! thing: you hold the lease.

mod fleet;
mod options;
mod reply;
#[cfg(test)]
mod tests;

pub use options::{Mode, ReadOptions};

use super::lease::{entry_holding, spawn_lease_timer};
use super::{CommandError, Ctx, Flow};
use crate::cache::flight::{Ask, BackoffLeft, Begin, Found, Outcome};
use crate::cache::fresh::Class;
use crate::cache::stats::Counter;
use crate::cache::{Entry, Value};
use crate::protocol::Reply;
use crate::state::Shared;
use bytes::Bytes;
use reply::{Meta, Shape};
use std::sync::Arc;
use std::time::Duration;

/// `-BACKOFF`: the key's last fill failed; no lease until the window ends.
pub fn backoff_error(left: BackoffLeft) -> CommandError {
    CommandError::coded(format!(
        "BACKOFF the last fill of this key failed {} ms ago; retry in {} ms",
        left.ago_ms, left.left_ms
    ))
}

fn miss_error() -> CommandError {
    CommandError::coded("MISS no answer is cached for this key and MODE READONLY grants no lease")
}

fn bypass_error() -> CommandError {
    CommandError::coded("BYPASS MODE BYPASS: call the model and do not store the answer")
}

/// The wait ran out: the error LLMGET and LLMLOOKUP answer.
fn tryagain_timeout(wait: Duration) -> CommandError {
    CommandError::coded(format!(
        "TRYAGAIN no answer after waiting {} ms: another client is still filling this key",
        wait.as_millis()
    ))
}

/// The reply of a hit on `entry` as META describes it (status `hit`), for a read that found
/// its answer elsewhere than through its own key (a semantic near answer). Plain without META.
pub fn hit_reply(shared: &Shared, entry: &Entry, opts: &ReadOptions) -> Reply {
    let now = shared.store.clock().now_ms();
    let shape = Shape {
        meta: opts.meta,
        key: None,
    };
    let value = entry.as_str().cloned().map_or(Reply::Nil, Reply::Bulk);
    shape.reply(value, || Meta::of("hit", Some(entry), &opts.limits, now, 0))
}

/// `LLMGET key [WAIT ms] [MAXAGE s] [MAXSTALE s] [MODE m] [META]`
pub fn llmget(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    let opts = ReadOptions::parse(a, 2, ctx.shared, false, None)?;
    single_flight(ctx, &a[1], opts, None)
}

/// `LLMGET_RO key [WAIT ms] [MAXAGE s] [MAXSTALE s] [META]`
pub fn llmget_ro(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    let opts = ReadOptions::parse(a, 2, ctx.shared, true, None)?;
    single_flight(ctx, &a[1], opts, None)
}

/// The stored answer as this read sees it. A value of another type is given as fresh, so that
/// the read answers WRONGTYPE without taking a lease.
fn classify(shared: &Shared, key: &[u8], opts: &ReadOptions) -> Found<Arc<Entry>> {
    let Some(e) = shared.store.get(key) else {
        return Found::Unservable(None);
    };
    if !matches!(e.value, Value::Str(_)) {
        return Found::Fresh(e);
    }
    let now = shared.store.clock().now_ms();
    if e.is_near_copy() && e.near_until <= now && shared.tier.as_ref().is_some_and(|t| t.is_up()) {
        // A copy of a tier answer past its near life: read the tier again, as on a miss.
        return Found::Unservable(None);
    }
    if opts.mode == Mode::Refresh {
        return Found::Unservable(Some(e));
    }
    match opts.limits.classify(&e, now) {
        Class::Fresh => Found::Fresh(e),
        Class::Stale => Found::Stale(e),
        Class::Unservable => Found::Unservable(Some(e)),
    }
}

/// The single-flight read behind LLMGET, LLMGET_RO and LLMLOOKUP (which passes its key in
/// `lookup_key` to be named in the reply).
pub(super) fn single_flight(
    ctx: &mut Ctx<'_>,
    key: &Bytes,
    opts: ReadOptions,
    lookup_key: Option<Bytes>,
) -> Result<Flow, CommandError> {
    let shared = ctx.shared;
    let stats = shared.store.stats();
    let shape = Shape {
        meta: opts.meta,
        key: lookup_key,
    };
    if opts.mode == Mode::Bypass {
        stats.bypasses.incr();
        return Ok(Flow::Reply(Reply::from(bypass_error())));
    }
    ctx.client.used_leases = true;
    let now = shared.store.clock().now_ms();
    let limits = opts.limits;
    let ask = Ask {
        may_lead: opts.mode != Mode::ReadOnly,
    };
    let begun = shared
        .flights
        .begin_as(key, ctx.client.id(), ask, || classify(shared, key, &opts));
    let reply = match begun {
        Begin::Hit(e) => {
            let v = super::keyspace::string_of(&e)?.clone();
            e.mark_read(shared.store.clock().now_ms());
            stats.llm_hits.incr();
            if let (true, Some(t)) = (e.is_near_copy(), &shared.tier) {
                t.stats
                    .near_hits
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            stats.tokens_saved.add(e.tokens);
            stats.record_model(key, true, e.tokens);
            shape.reply(Reply::Bulk(v), || {
                Meta::of("hit", Some(&e), &limits, now, 0)
            })
        }
        Begin::Stale(e) => {
            let v = serve_stale(shared, key, &e);
            shape.reply(Reply::Bulk(v), || {
                Meta::of("stale", Some(&e), &limits, now, 0)
            })
        }
        Begin::StaleLead {
            value: e,
            flight,
            gen,
        } => {
            spawn_lease_timer(shared, key.clone(), flight);
            stats.refreshes.incr();
            if shape.meta {
                // Served stale, and refreshed in the background by this caller.
                serve_stale(shared, key, &e);
                shape.reply(Reply::Nil, || {
                    Meta::of("stale-lead", Some(&e), &limits, now, gen)
                })
            } else {
                stats.llm_misses.incr();
                stats.record_model(key, false, 0);
                Reply::Nil
            }
        }
        Begin::Lead { flight, gen, old } => {
            spawn_lease_timer(shared, key.clone(), flight);
            let tier = shared.tier.clone().filter(|t| t.is_up());
            if let (Some(tier), None, false) = (tier, &old, ctx.client.in_exec) {
                // A plain miss: the fleet's lease first (refreshes stay with this node).
                let shared = shared.clone();
                let key = key.clone();
                return Ok(Flow::Wait(Box::pin(async move {
                    let deadline = tokio::time::Instant::now() + opts.wait;
                    let fleet = fleet::lead(&shared, &tier, &key, deadline).await;
                    fleet_reply(&shared, &key, fleet, gen, &opts, &shape)
                })));
            }
            lead_reply(shared, key, old, gen, &opts, &shape)
        }
        Begin::Miss => {
            let tier = shared.tier.clone().filter(|t| t.is_up());
            if let (Some(tier), false) = (tier, ctx.client.in_exec) {
                let shared = shared.clone();
                let key = key.clone();
                return Ok(Flow::Wait(Box::pin(async move {
                    let deadline = tokio::time::Instant::now() + opts.wait;
                    match fleet::read_only(&shared, &tier, &key, deadline).await {
                        fleet::Fleet::Lead => {
                            shared.store.stats().readonly_misses.incr();
                            Reply::from(miss_error())
                        }
                        other => fleet_reply(&shared, &key, other, 0, &opts, &shape),
                    }
                })));
            }
            stats.readonly_misses.incr();
            Reply::from(miss_error())
        }
        Begin::Backoff(left) => {
            stats.backoff_rejections.incr();
            Reply::from(backoff_error(left))
        }
        Begin::Follow(mut guard) => {
            let wait = opts.wait;
            if ctx.client.in_exec || wait.is_zero() {
                stats.wait_timeouts.incr();
                return Err(tryagain_timeout(wait));
            }
            let shared = shared.clone();
            let key = key.clone();
            return Ok(Flow::Wait(Box::pin(async move {
                let deadline = tokio::time::Instant::now() + wait;
                let out = tokio::time::timeout(wait, guard.wait()).await;
                let tier = shared.tier.clone().filter(|t| t.is_up());
                if let (Ok(Outcome::Lead), Some(tier)) = (&out, tier) {
                    // Promoted here: the fleet's lease next, within what is left of the wait.
                    let gen = shared.flights.current(&key).map_or(0, |l| l.gen);
                    let fleet = fleet::lead(&shared, &tier, &key, deadline).await;
                    return fleet_reply(&shared, &key, fleet, gen, &opts, &shape);
                }
                followed(&shared, &key, out.ok(), &opts, &shape, wait)
            })));
        }
    };
    Ok(Flow::Reply(reply))
}

/// The reply of a caller that holds the lease: nil (META `lead`, or `refresh-lead` with the
/// stale answer it renews).
fn lead_reply(
    shared: &Shared,
    key: &Bytes,
    old: Option<Arc<Entry>>,
    gen: u64,
    opts: &ReadOptions,
    shape: &Shape,
) -> Reply {
    let stats = shared.store.stats();
    let now = shared.store.clock().now_ms();
    if old.is_some() {
        stats.refreshes.incr();
    }
    stats.llm_misses.incr();
    stats.record_model(key, false, 0);
    let status = if opts.mode == Mode::Refresh && old.is_some() {
        "refresh-lead"
    } else {
        "lead"
    };
    // A stale answer this caller would not take is not shown to it (META `lead`).
    let shown = old.filter(|_| status == "refresh-lead");
    shape.reply(Reply::Nil, || {
        Meta::of(status, shown.as_deref(), &opts.limits, now, gen)
    })
}

/// The reply once the fleet answered a local leader (see [`fleet::lead`]).
fn fleet_reply(
    shared: &Shared,
    key: &Bytes,
    fleet: fleet::Fleet,
    gen: u64,
    opts: &ReadOptions,
    shape: &Shape,
) -> Reply {
    let stats = shared.store.stats();
    let now = shared.store.clock().now_ms();
    match fleet {
        fleet::Fleet::Lead => lead_reply(shared, key, None, gen, opts, shape),
        fleet::Fleet::Hit(a, entry) => {
            stats.llm_hits.incr();
            stats.tokens_saved.add(a.tokens);
            stats.record_model(key, true, a.tokens);
            if let Some(e) = &entry {
                e.mark_read(now);
            }
            shape.reply(Reply::Bulk(a.value.clone()), || {
                let mut m = Meta::of("hit", entry.as_deref(), &opts.limits, now, 0);
                m.value = Some(a.value.clone());
                m.tokens = a.tokens;
                m
            })
        }
        fleet::Fleet::TimedOut => {
            // Give the local lease back: the next local caller tries the fleet in turn.
            shared.flights.abort(key, Some(gen));
            stats.wait_timeouts.incr();
            tryagain_timeout(opts.wait).into()
        }
    }
}

/// Counts a stale answer served and returns its value (a stale answer saves a model call too).
fn serve_stale(shared: &Shared, key: &[u8], e: &Entry) -> Bytes {
    let stats = shared.store.stats();
    e.mark_read(shared.store.clock().now_ms());
    stats.stale_served.incr();
    stats.tokens_saved.add(e.tokens);
    stats.record_model(key, true, e.tokens);
    match &e.value {
        Value::Str(v) => v.clone(),
        _ => Bytes::new(),
    }
}

/// The reply of a follower once its wait ended (`None`: it ran out).
fn followed(
    shared: &Shared,
    key: &Bytes,
    out: Option<Outcome>,
    opts: &ReadOptions,
    shape: &Shape,
    wait: Duration,
) -> Reply {
    let stats = shared.store.stats();
    let now = shared.store.clock().now_ms();
    let limits = &opts.limits;
    // After a fill that ended without an answer: whatever stale answer this caller accepts,
    // else the error (counted by `rejected`).
    let stale_or = |err: CommandError, rejected: &Counter| match classify(shared, key, opts) {
        Found::Stale(e) => {
            let v = serve_stale(shared, key, &e);
            shape.reply(Reply::Bulk(v), || {
                Meta::of("stale", Some(&e), limits, now, 0)
            })
        }
        _ => {
            rejected.incr();
            Reply::from(err)
        }
    };
    match out {
        Some(Outcome::Value { value, tokens }) => {
            stats.coalesced.incr();
            stats.tokens_saved.add(tokens);
            stats.record_model(key, true, tokens);
            let entry = entry_holding(&shared.store, key, &value);
            shape.reply(Reply::Bulk(value), || {
                let mut m = Meta::of("hit", entry.as_deref(), limits, now, 0);
                m.tokens = tokens;
                m
            })
        }
        Some(Outcome::Lead) => {
            let gen = shared.flights.current(key).map_or(0, |l| l.gen);
            shape.reply(Reply::Nil, || Meta::of("lead", None, limits, now, gen))
        }
        Some(Outcome::NoLease) => stale_or(miss_error(), &stats.readonly_misses),
        Some(Outcome::Backoff(left)) => stale_or(backoff_error(left), &stats.backoff_rejections),
        Some(Outcome::Cancelled(msg)) => Reply::Error(msg),
        None => {
            stats.wait_timeouts.incr();
            tryagain_timeout(wait).into()
        }
    }
}
