//! Log lines for notable events, with fields a log pipeline can parse (`event=...`; with
//! `--log-format json` each is one JSON object): fill leases that expired, leases passed to a
//! waiting follower, answers evicted before anyone read them (above [`UNREAD_EVICTIONS_PER_SEC`]
//! over a [`TICK`]), and persistence turning failed or healthy again.
//!
//! The events are read from the counters INFO and LLMSTATS read, once per [`TICK`], so the hot
//! paths that count them do no logging of their own: a line says how many happened in the tick.

use crate::state::Shared;
use std::sync::Arc;
use std::time::Duration;
use tracing::{info, warn};

pub const TICK: Duration = Duration::from_secs(1);
/// Unread evictions per second above which a line is logged (an undersized cache, or answers
/// stored that nobody asks for).
pub const UNREAD_EVICTIONS_PER_SEC: u64 = 10;

/// The counters compared from one tick to the next.
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
struct Seen {
    lease_expirations: u64,
    promotions: u64,
    evicted_unread: u64,
    persistence_ok: bool,
}

fn seen(shared: &Shared) -> Seen {
    let status = shared.persistence_status();
    let persistence_ok = status
        .iter()
        .filter(|(k, _)| k.ends_with("_status"))
        .all(|(_, v)| v == "ok");
    Seen {
        lease_expirations: shared.flights.lease_expirations(),
        promotions: shared.flights.promotions(),
        evicted_unread: shared.store.stats().evicted_unread.get(),
        persistence_ok,
    }
}

/// Logs what changed between `was` and `now` over `secs` seconds.
fn report(was: Seen, now: Seen, secs: u64) {
    // A counter below its last value was reset (LLMSTATS RESET, CONFIG RESETSTAT).
    let delta = |a: u64, b: u64| b.saturating_sub(a);
    let expired = delta(was.lease_expirations, now.lease_expirations);
    if expired > 0 {
        warn!(
            event = "lease_expired",
            count = expired,
            "fill leases expired before an answer was stored"
        );
    }
    let promoted = delta(was.promotions, now.promotions);
    if promoted > 0 {
        info!(
            event = "lease_promoted",
            count = promoted,
            "fill leases passed to waiting followers"
        );
    }
    let unread = delta(was.evicted_unread, now.evicted_unread);
    if unread > UNREAD_EVICTIONS_PER_SEC * secs.max(1) {
        warn!(
            event = "unread_evictions",
            count = unread,
            seconds = secs,
            "answers evicted before anyone read them; the cache may be too small"
        );
    }
    if was.persistence_ok && !now.persistence_ok {
        warn!(
            event = "persistence_error",
            "persistence failed (INFO persistence says which part)"
        );
    } else if !was.persistence_ok && now.persistence_ok {
        info!(
            event = "persistence_recovered",
            "persistence is healthy again"
        );
    }
}

/// Watches the counters until the server shuts down.
pub async fn run(shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown_receiver();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut was = seen(&shared);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        let now = seen(&shared);
        if now != was {
            report(was, now, TICK.as_secs());
            was = now;
        }
    }
}
