//! The cache's own families (`llmcached_*`), read at scrape time from the counters LLMSTATS and
//! INFO read, and from the lookup histograms in [`crate::observe`].
//!
//! Per-model families carry at most `metrics-max-models` distinct `model` values. A model keeps
//! the label it was first given; models seen once the cap is reached are summed under
//! `model="other"`, so every series, `other` included, only grows.

use super::exposition::{Exposition, Kind};
use crate::cache::stats::ModelStats;
use crate::observe::histogram::{SecondsSnapshot, SECONDS_BOUNDS};
use crate::observe::Lookup;
use crate::state::Shared;

/// The label `other` stands for every model past the cap.
pub const OTHER: &str = "other";

pub fn write(shared: &Shared, e: &mut Exposition) {
    let s = shared.store.stats();
    let f = &shared.flights;
    e.family(
        "llmcached_lookups_total",
        Kind::Counter,
        "LLM lookups (LLMGET, LLMLOOKUP and their read-only twins) by outcome.",
    );
    for (outcome, n) in [
        ("hit", s.llm_hits.get()),
        ("lead", s.llm_misses.get()),
        ("coalesced", s.coalesced.get()),
        ("wait_timeout", s.wait_timeouts.get()),
        ("stale", s.stale_served.get()),
        ("readonly_miss", s.readonly_misses.get()),
        ("backoff", s.backoff_rejections.get()),
        ("bypass", s.bypasses.get()),
    ] {
        e.sample("llmcached_lookups_total", &[("outcome", outcome)], n as f64);
    }
    e.family("llmcached_lookup_duration_seconds", Kind::Histogram, "Time from an LLM lookup's arrival to its reply, by outcome (coalesced and promoted include the wait).");
    for outcome in Lookup::ALL {
        let snap = shared.observe.lookup_histogram(outcome).snapshot();
        seconds_histogram(
            e,
            "llmcached_lookup_duration_seconds",
            &[("outcome", outcome.label())],
            &snap,
        );
    }
    e.family(
        "llmcached_follower_wait_seconds",
        Kind::Histogram,
        "Time followers spent blocked waiting for another caller's fill.",
    );
    seconds_histogram(
        e,
        "llmcached_follower_wait_seconds",
        &[],
        &shared.observe.follower_wait.snapshot(),
    );
    for (name, kind, help, v) in [
        (
            "llmcached_leases_active",
            Kind::Gauge,
            "Fill leases held now.",
            f.leases_active(),
        ),
        (
            "llmcached_followers_waiting",
            Kind::Gauge,
            "Callers blocked waiting for a fill now.",
            f.followers_waiting(),
        ),
        (
            "llmcached_lease_promotions_total",
            Kind::Counter,
            "Leases passed to a waiting follower after the leader gave up or died.",
            f.promotions(),
        ),
        (
            "llmcached_lease_expirations_total",
            Kind::Counter,
            "Leases that ran out before the leader stored an answer.",
            f.lease_expirations(),
        ),
        (
            "llmcached_aborts_total",
            Kind::Counter,
            "LLMABORT calls that released a lease.",
            s.aborts.get(),
        ),
        (
            "llmcached_refreshes_total",
            Kind::Counter,
            "Refresh leases granted (a stale answer's, or MODE REFRESH's).",
            s.refreshes.get(),
        ),
        (
            "llmcached_refresh_replaced_total",
            Kind::Counter,
            "Answers replaced by the store that ended a refresh lease.",
            s.refresh_replaced.get(),
        ),
        (
            "llmcached_backoffs_total",
            Kind::Counter,
            "BACKOFF windows opened by LLMABORT after a failed fill.",
            s.backoffs.get(),
        ),
        (
            "llmcached_stream_appends_total",
            Kind::Counter,
            "LLMAPPEND calls that added to a stream.",
            s.stream_appends.get(),
        ),
        (
            "llmcached_stream_bytes_appended_total",
            Kind::Counter,
            "Bytes appended to streams.",
            s.stream_bytes_appended.get(),
        ),
        (
            "llmcached_stream_resets_total",
            Kind::Counter,
            "Streamed attempts discarded (abort, expiry, disconnect, another answer stored).",
            f.stream_resets(),
        ),
        (
            "llmcached_streams_active",
            Kind::Gauge,
            "Flights whose current attempt is streaming now.",
            f.streams_active(),
        ),
        (
            "llmcached_stream_bytes",
            Kind::Gauge,
            "Bytes held by open streams.",
            f.stream_bytes(),
        ),
        (
            "llmcached_sets_total",
            Kind::Counter,
            "Answers stored by LLMSETNX.",
            s.sets.get(),
        ),
        (
            "llmcached_sets_existing_total",
            Kind::Counter,
            "LLMSETNX calls that found an answer already there.",
            s.sets_existing.get(),
        ),
        (
            "llmcached_tokens_saved_total",
            Kind::Counter,
            "Tokens of the answers served from the cache (hits and coalesced waits).",
            s.tokens_saved.get(),
        ),
        (
            "llmcached_entries",
            Kind::Gauge,
            "Keys in the store.",
            shared.store.len(),
        ),
        (
            "llmcached_used_bytes",
            Kind::Gauge,
            "Bytes the store holds.",
            shared.store.used_bytes(),
        ),
        (
            "llmcached_max_bytes",
            Kind::Gauge,
            "The store's byte budget.",
            shared.store.max_bytes(),
        ),
    ] {
        e.single(name, kind, help, v as f64);
    }
    e.family(
        "llmcached_removals_total",
        Kind::Counter,
        "Keys removed by the store, by reason.",
    );
    e.sample(
        "llmcached_removals_total",
        &[("reason", "evicted")],
        s.evicted_keys.get() as f64,
    );
    e.sample(
        "llmcached_removals_total",
        &[("reason", "expired")],
        s.expired_keys.get() as f64,
    );
    e.family(
        "llmcached_unread_removals_total",
        Kind::Counter,
        "Answers removed before anyone read them, by reason.",
    );
    e.sample(
        "llmcached_unread_removals_total",
        &[("reason", "evicted")],
        s.evicted_unread.get() as f64,
    );
    e.sample(
        "llmcached_unread_removals_total",
        &[("reason", "expired")],
        s.expired_unread.get() as f64,
    );
    per_model(shared, e);
}

fn seconds_histogram(e: &mut Exposition, name: &str, labels: &[(&str, &str)], s: &SecondsSnapshot) {
    let buckets: Vec<(f64, u64)> = SECONDS_BOUNDS
        .iter()
        .copied()
        .zip(s.cumulative.iter().copied())
        .collect();
    let count = s.cumulative.last().copied().unwrap_or(0);
    e.histogram(name, labels, &buckets, count, s.sum_seconds);
}

/// Groups per-model figures under at most `max` labels (the rest as [`OTHER`]), keeping the
/// labels already handed out in `labels`.
pub fn capped(
    models: Vec<(String, ModelStats)>,
    labels: &mut Vec<String>,
    max: usize,
) -> Vec<(String, ModelStats)> {
    if labels.iter().any(|l| !models.iter().any(|(m, _)| m == l)) {
        // A labelled model is gone: the figures were reset; start the labels afresh.
        labels.clear();
    }
    let mut out: Vec<(String, ModelStats)> = Vec::new();
    let mut other = ModelStats::default();
    let mut has_other = false;
    for (model, m) in models {
        let labelled = labels.contains(&model)
            || (labels.len() < max && {
                labels.push(model.clone());
                true
            });
        if labelled && model != OTHER {
            out.push((model, m));
        } else {
            has_other = true;
            other.hits += m.hits;
            other.misses += m.misses;
            other.tokens_saved += m.tokens_saved;
        }
    }
    if has_other {
        out.push((OTHER.to_string(), other));
    }
    out
}

fn per_model(shared: &Shared, e: &mut Exposition) {
    let max = shared.config().observe.metrics_max_models;
    let models = shared.store.stats().models();
    let rows = match shared.observe.model_labels.lock() {
        Ok(mut labels) => capped(models, &mut labels, max),
        Err(_) => Vec::new(),
    };
    e.family(
        "llmcached_model_lookups_total",
        Kind::Counter,
        "Lookups of LLMKEY-made keys by model and outcome.",
    );
    for (model, m) in &rows {
        e.sample(
            "llmcached_model_lookups_total",
            &[("model", model), ("outcome", "hit")],
            m.hits as f64,
        );
        e.sample(
            "llmcached_model_lookups_total",
            &[("model", model), ("outcome", "miss")],
            m.misses as f64,
        );
    }
    e.family(
        "llmcached_model_tokens_saved_total",
        Kind::Counter,
        "Tokens served from the cache for LLMKEY-made keys, by model.",
    );
    for (model, m) in &rows {
        e.sample(
            "llmcached_model_tokens_saved_total",
            &[("model", model)],
            m.tokens_saved as f64,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(hits: u64) -> ModelStats {
        ModelStats {
            hits,
            misses: 0,
            tokens_saved: 0,
        }
    }

    #[test]
    fn models_past_the_cap_are_other_and_labels_stick() {
        let mut labels = Vec::new();
        let first = capped(
            vec![("a".into(), m(1)), ("b".into(), m(2)), ("c".into(), m(3))],
            &mut labels,
            2,
        );
        let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "b", "other"]);
        assert_eq!(first[2].1.hits, 3);
        // A model sorting before the labelled ones does not take a label away.
        let next = capped(
            vec![
                ("0".into(), m(5)),
                ("a".into(), m(1)),
                ("b".into(), m(2)),
                ("c".into(), m(3)),
            ],
            &mut labels,
            2,
        );
        let names: Vec<&str> = next.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "b", "other"]);
        assert_eq!(next[2].1.hits, 8);
    }
}
