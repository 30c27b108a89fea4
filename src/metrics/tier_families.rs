//! The shared tier's families (`llmcached_shared_*`), present when a tier is configured: its
//! status and the counters INFO `# Shared` shows.

use super::exposition::{Exposition, Kind};
use crate::state::Shared;
use std::sync::atomic::Ordering;

pub fn write(shared: &Shared, e: &mut Exposition) {
    let Some(tier) = &shared.tier else {
        return;
    };
    e.single(
        "llmcached_shared_tier_up",
        Kind::Gauge,
        "1 while the shared tier is reachable, 0 while this node serves alone.",
        f64::from(u8::from(tier.is_up())),
    );
    let s = &tier.stats;
    for (name, help, c) in [
        (
            "llmcached_shared_tier_errors_total",
            "Shared-tier operations that failed or timed out.",
            &s.errors,
        ),
        (
            "llmcached_shared_hits_total",
            "Answers read from the shared tier (another node's, or this node's from before).",
            &s.shared_hits,
        ),
        (
            "llmcached_shared_near_hits_total",
            "Answers served from this node's copy of a shared answer.",
            &s.near_hits,
        ),
        (
            "llmcached_shared_remote_follows_total",
            "Misses that waited on another node's fill.",
            &s.remote_follows,
        ),
        (
            "llmcached_shared_remote_promotions_total",
            "Fleet leases taken after another node's lease ended without an answer.",
            &s.remote_promotions,
        ),
        (
            "llmcached_shared_invalidations_total",
            "Invalidations received from the shared tier.",
            &s.invalidations_received,
        ),
        (
            "llmcached_shared_tracking_reconnects_total",
            "Times the invalidation connections were made again (the node's copies dropped).",
            &s.tracking_reconnects,
        ),
        (
            "llmcached_shared_written_back_total",
            "Answers stored while the tier was down and written to it since.",
            &s.written_back,
        ),
    ] {
        e.single(name, Kind::Counter, help, c.load(Ordering::Relaxed) as f64);
    }
    e.single(
        "llmcached_shared_writeback_queued",
        Kind::Gauge,
        "Answers stored while the tier was down, waiting to be written to it.",
        tier.writeback_len() as f64,
    );
}
