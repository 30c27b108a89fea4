//! The LLM cache's own figures (LLMSTATS, INFO's `# LLM` section), computed from the state.

use crate::state::Shared;

/// One LLMSTATS figure.
pub enum Stat {
    Int(u64),
    Ratio(f64),
}

impl std::fmt::Display for Stat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stat::Int(n) => write!(f, "{n}"),
            Stat::Ratio(r) => write!(f, "{r:.4}"),
        }
    }
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Every LLMSTATS figure, in order. `hit_rate` is answers served from the cache (hits, stale
/// answers and coalesced waits) over lookups that ended in an answer or a model call (those
/// plus misses and promotions); `stampede_rate` is coalesced waits per miss.
pub fn llm_stats(shared: &Shared) -> Vec<(&'static str, Stat)> {
    let s = shared.store.stats();
    let f = &shared.flights;
    let (hits, misses, coalesced) = (s.llm_hits.get(), s.llm_misses.get(), s.coalesced.get());
    let served = hits + coalesced + s.stale_served.get();
    let lookups = served + misses + f.promotions();
    vec![
        ("entries", Stat::Int(shared.store.len())),
        // Open streams count against the byte budget beside the stored answers.
        (
            "used_bytes",
            Stat::Int(shared.store.used_bytes() + f.stream_bytes()),
        ),
        ("max_bytes", Stat::Int(shared.store.max_bytes())),
        ("hits", Stat::Int(hits)),
        ("misses", Stat::Int(misses)),
        ("hit_rate", Stat::Ratio(ratio(served, lookups))),
        ("coalesced", Stat::Int(coalesced)),
        ("wait_timeouts", Stat::Int(s.wait_timeouts.get())),
        ("lease_promotions", Stat::Int(f.promotions())),
        ("lease_expirations", Stat::Int(f.lease_expirations())),
        ("aborts", Stat::Int(s.aborts.get())),
        ("stampede_rate", Stat::Ratio(ratio(coalesced, misses))),
        ("sets", Stat::Int(s.sets.get())),
        ("sets_existing", Stat::Int(s.sets_existing.get())),
        ("evictions", Stat::Int(s.evicted_keys.get())),
        ("expirations", Stat::Int(s.expired_keys.get())),
        ("evicted_unread", Stat::Int(s.evicted_unread.get())),
        ("expired_unread", Stat::Int(s.expired_unread.get())),
        ("tokens_saved", Stat::Int(s.tokens_saved.get())),
        ("leases_active", Stat::Int(f.leases_active())),
        ("followers_waiting", Stat::Int(f.followers_waiting())),
        ("stream_appends", Stat::Int(s.stream_appends.get())),
        (
            "stream_bytes_appended",
            Stat::Int(s.stream_bytes_appended.get()),
        ),
        ("stream_resets", Stat::Int(f.stream_resets())),
        (
            "stream_readers_served",
            Stat::Int(s.stream_readers_served.get()),
        ),
        ("streams_active", Stat::Int(f.streams_active())),
        ("stream_bytes", Stat::Int(f.stream_bytes())),
        ("readers_waiting", Stat::Int(f.readers_waiting())),
        ("stale_served", Stat::Int(s.stale_served.get())),
        ("refreshes", Stat::Int(s.refreshes.get())),
        ("refresh_replaced", Stat::Int(s.refresh_replaced.get())),
        ("backoffs", Stat::Int(s.backoffs.get())),
        ("backoff_rejections", Stat::Int(s.backoff_rejections.get())),
        ("readonly_misses", Stat::Int(s.readonly_misses.get())),
        ("bypasses", Stat::Int(s.bypasses.get())),
    ]
}
