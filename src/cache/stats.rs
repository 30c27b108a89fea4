//! Counters of what happened to the keyspace, shared by the store, the LLM commands and INFO.
//!
//! Every counter is a relaxed atomic: each is exact on its own, and a reader sees a value that was
//! true at some moment (two counters read one after the other may be from different moments).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn incr(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn decr(&self) {
        // Saturating: a reset between an increment and its decrement must not wrap.
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_sub(1))
            });
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
    pub fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

/// Per-model figures for keys made by `LLMKEY` (`llm:v<N>:<model>:<hash>`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ModelStats {
    pub hits: u64,
    pub misses: u64,
    pub tokens_saved: u64,
}

#[derive(Debug, Default)]
pub struct Stats {
    // Redis's INFO stats.
    pub keyspace_hits: Counter,
    pub keyspace_misses: Counter,
    pub expired_keys: Counter,
    pub evicted_keys: Counter,
    /// Keys currently holding a TTL (INFO keyspace `expires=`), kept by the store's write path and
    /// its removal listener.
    pub expires: Counter,
    /// Keys and keys with a TTL of each database other than 0, kept the same way.
    pub databases: super::databases::DbCounts,

    // LLM answers.
    pub expired_unread: Counter,
    pub evicted_unread: Counter,
    pub llm_hits: Counter,
    pub llm_misses: Counter,
    pub coalesced: Counter,
    pub wait_timeouts: Counter,
    pub aborts: Counter,
    pub sets: Counter,
    pub sets_existing: Counter,
    pub tokens_saved: Counter,
    // Streaming (LLMREAD / LLMAPPEND).
    pub stream_appends: Counter,
    pub stream_bytes_appended: Counter,
    /// LLMREAD replies that carried bytes.
    pub stream_readers_served: Counter,
    // Freshness and modes (LLMGET MAXAGE / MAXSTALE / MODE, LLMABORT BACKOFF).
    /// Stale answers served (within their grace, while one caller refreshes them).
    pub stale_served: Counter,
    /// Refresh leases granted (a stale answer's, or MODE REFRESH's).
    pub refreshes: Counter,
    /// Answers replaced by the store that ended a refresh lease.
    pub refresh_replaced: Counter,
    /// BACKOFF windows opened by LLMABORT.
    pub backoffs: Counter,
    /// Lookups answered -BACKOFF (nothing servable during a window).
    pub backoff_rejections: Counter,
    /// MODE READONLY lookups answered -MISS.
    pub readonly_misses: Counter,
    /// MODE BYPASS lookups.
    pub bypasses: Counter,
    models: Mutex<HashMap<String, ModelStats>>,
}

impl Stats {
    /// Records a hit, a miss or saved tokens against the model a key names, if it is an LLMKEY key.
    pub fn record_model(&self, key: &[u8], hit: bool, tokens: u64) {
        let Some(model) = model_of(key) else { return };
        let Ok(mut models) = self.models.lock() else {
            return;
        };
        let m = models.entry(model.to_string()).or_default();
        if hit {
            m.hits += 1;
            m.tokens_saved += tokens;
        } else {
            m.misses += 1;
        }
    }

    pub fn models(&self) -> Vec<(String, ModelStats)> {
        let mut out: Vec<_> = match self.models.lock() {
            Ok(m) => m.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            Err(_) => Vec::new(),
        };
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// `LLMSTATS RESET` and `CONFIG RESETSTAT`: zero every event counter (not the gauges).
    pub fn reset(&self) {
        for c in [
            &self.keyspace_hits,
            &self.keyspace_misses,
            &self.expired_keys,
            &self.evicted_keys,
            &self.expired_unread,
            &self.evicted_unread,
            &self.llm_hits,
            &self.llm_misses,
            &self.coalesced,
            &self.wait_timeouts,
            &self.aborts,
            &self.sets,
            &self.sets_existing,
            &self.tokens_saved,
            &self.stream_appends,
            &self.stream_bytes_appended,
            &self.stream_readers_served,
            &self.stale_served,
            &self.refreshes,
            &self.refresh_replaced,
            &self.backoffs,
            &self.backoff_rejections,
            &self.readonly_misses,
            &self.bypasses,
        ] {
            c.reset();
        }
        if let Ok(mut m) = self.models.lock() {
            m.clear();
        }
    }
}

/// The model segment of a key of the shape `llm:v<N>:<model>:<hex>`, or a tenant's
/// `llm:ns:<namespace>:v<N>:<model>:<hex>` (LLMKEY percent-encodes the model and a namespace
/// holds no colon; keys written by hand may, so the hash is taken from the right), in any
/// database.
pub fn model_of(key: &[u8]) -> Option<&str> {
    let key = super::databases::split(key).1;
    let s = std::str::from_utf8(key).ok()?.strip_prefix("llm:")?;
    let s = match s.strip_prefix("ns:") {
        Some(tenant) => tenant.split_once(':')?.1,
        None => s,
    };
    let rest = s.strip_prefix("v")?;
    let (version, rest) = rest.split_once(':')?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (model, _hash) = rest.rsplit_once(':')?;
    if model.is_empty() {
        None
    } else {
        Some(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_is_read_from_llmkey_keys() {
        assert_eq!(model_of(b"llm:v1:gpt-4o:abcd"), Some("gpt-4o"));
        assert_eq!(model_of(b"llm:ns:acme:v1:gpt-4o:abcd"), Some("gpt-4o"));
        assert_eq!(model_of(b"llm:ns:acme:gpt-4o:abcd"), None);
        assert_eq!(
            model_of(b"llm:v1:ft:gpt-4o:org:abcd"),
            Some("ft:gpt-4o:org")
        );
        assert_eq!(model_of(b"user:1"), None);
        assert_eq!(model_of(b"llm:vx:m:abcd"), None);
    }
}
