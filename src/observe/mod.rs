//! What the server records about its own work, below the commands: per-command latency
//! histograms, the slow log, the latency monitor, error counts, LLM lookup timings and the
//! MONITOR feed.
//!
//! SLOWLOG, LATENCY, INFO (`# Latencystats`, `# Errorstats`) and the metrics endpoint read it;
//! the command call ([`Observe::command_done`]) and the connection (for replies that waited)
//! write it. Calls and total time per command stay in `Shared::cmdstats`: nothing here counts
//! them a second time.
//!
//! # Hot path
//! After every command: a relaxed load of each setting, one `fetch_add` into the command's
//! histogram when `latency-tracking` is on, and a comparison against each threshold. Locks are
//! taken only for a slow command, a latency spike or an error reply.
//!
//! # Blocked time
//! As in Redis, time a command spends blocked (an LLMGET waiting for another caller's fill) is
//! not execution time: the call measures the handler only, and the wait is recorded apart
//! ([`Observe::lookup_waited`]).

pub mod errors;
pub mod events;
pub mod histogram;
pub mod monitor;
pub mod slowlog;

use crate::config::ObserveConfig;
use crate::protocol::Reply;
use bytes::Bytes;
use histogram::{LatencyHistogram, SecondsHistogram};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// How an LLM lookup (LLMGET, LLMLOOKUP) ended, as its reply shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Answered from the cache at once.
    Hit,
    /// A miss: this caller got the fill lease.
    Lead,
    /// Waited for another caller's fill and got its answer.
    Coalesced,
    /// Waited, then got the lease (the leader gave up or its lease expired).
    Promoted,
    /// An error: the wait ran out or was cancelled, or the request was refused.
    Error,
}

impl Lookup {
    pub const ALL: [Lookup; 5] = [
        Lookup::Hit,
        Lookup::Lead,
        Lookup::Coalesced,
        Lookup::Promoted,
        Lookup::Error,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Lookup::Hit => "hit",
            Lookup::Lead => "lead",
            Lookup::Coalesced => "coalesced",
            Lookup::Promoted => "promoted",
            Lookup::Error => "error",
        }
    }
}

/// See the module docs.
pub struct Observe {
    slower_than_us: AtomicI64,
    slowlog_max_len: AtomicU64,
    monitor_ms: AtomicU64,
    tracking: AtomicBool,
    pub slowlog: slowlog::SlowLog,
    pub events: events::LatencyEvents,
    pub errors: errors::ErrorStats,
    /// Per command-table row, allocated on the row's first call.
    histograms: Box<[OnceLock<Box<LatencyHistogram>>]>,
    /// True for the rows whose replies are LLM lookups.
    lookup_rows: Box<[bool]>,
    /// Command arrival to reply, by [`Lookup`] (indexed as [`Lookup::ALL`]).
    lookups: [SecondsHistogram; 5],
    /// Time followers spent blocked waiting for a fill, whatever the outcome.
    pub follower_wait: SecondsHistogram,
    /// The `model` label values the metrics endpoint has handed out (at most
    /// `metrics-max-models`); once a model has a label it keeps it, so `other` only grows.
    pub model_labels: Mutex<Vec<String>>,
    /// The clients in MONITOR mode.
    pub monitors: monitor::Monitors,
}

/// Rows whose replies are LLM lookups.
const LOOKUP_COMMANDS: &[&str] = &["llmget", "llmlookup"];

impl Observe {
    /// State for a command table with rows `names`, under `config`.
    pub fn new(names: &[&str], config: &ObserveConfig) -> Observe {
        let o = Observe {
            slower_than_us: AtomicI64::new(0),
            slowlog_max_len: AtomicU64::new(0),
            monitor_ms: AtomicU64::new(0),
            tracking: AtomicBool::new(true),
            slowlog: Default::default(),
            events: Default::default(),
            errors: Default::default(),
            histograms: names.iter().map(|_| OnceLock::new()).collect(),
            lookup_rows: names.iter().map(|n| LOOKUP_COMMANDS.contains(n)).collect(),
            lookups: Default::default(),
            follower_wait: Default::default(),
            model_labels: Mutex::new(Vec::new()),
            monitors: Default::default(),
        };
        o.configure(config);
        o
    }

    /// Applies the settings (at start and on CONFIG SET).
    pub fn configure(&self, c: &ObserveConfig) {
        self.slower_than_us
            .store(c.slowlog_log_slower_than, Ordering::Relaxed);
        self.slowlog_max_len
            .store(c.slowlog_max_len, Ordering::Relaxed);
        self.slowlog.trim(max_len(c.slowlog_max_len));
        self.monitor_ms
            .store(c.latency_monitor_threshold, Ordering::Relaxed);
        self.tracking.store(c.latency_tracking, Ordering::Relaxed);
    }

    /// Records one executed command: row `index` (`full_name`, FAST or not) ran for `elapsed`
    /// (its handler only, not time blocked). `who` is asked for only if a slow log entry is made.
    #[inline]
    pub fn command_done(
        &self,
        index: usize,
        full_name: &str,
        fast: bool,
        elapsed: Duration,
        args: &[Bytes],
        who: slowlog::Who<'_>,
    ) {
        let ns = elapsed.as_nanos().min(u64::MAX as u128) as u64;
        if self.tracking.load(Ordering::Relaxed) {
            if let Some(h) = self.histograms.get(index) {
                h.get_or_init(Box::default).record(ns);
            }
        }
        let us = ns / 1000;
        let slower = self.slower_than_us.load(Ordering::Relaxed);
        // EXEC is Redis's one SKIP_SLOWLOG command: the commands inside it are logged instead.
        if slower >= 0 && us >= slower as u64 && full_name != "exec" {
            let max = max_len(self.slowlog_max_len.load(Ordering::Relaxed));
            self.slowlog
                .push(full_name, args, us, unix_secs(), max, who);
        }
        let threshold = self.monitor_ms.load(Ordering::Relaxed);
        if threshold > 0 && us / 1000 >= threshold {
            let event = if fast { "fast-command" } else { "command" };
            self.events.add(event, us / 1000, unix_secs());
        }
    }

    /// Counts an error reply (INFO errorstats); call once per error sent.
    pub fn error_reply(&self, reply: &Reply) {
        if let Reply::Error(msg) = reply {
            self.errors.record(msg);
        }
    }

    /// Records the reply of row `index` that came at once, if the row is an LLM lookup.
    #[inline]
    pub fn lookup_replied(&self, index: usize, reply: &Reply, elapsed: Duration) {
        if !self.is_lookup(index) {
            return;
        }
        let outcome = match reply {
            Reply::Nil => Lookup::Lead,
            Reply::Error(_) => Lookup::Error,
            _ => Lookup::Hit,
        };
        self.lookup_histogram(outcome).record(elapsed);
    }

    /// Records the reply of row `index` that came after blocking for `waited`.
    pub fn lookup_waited(&self, index: usize, reply: &Reply, waited: Duration) {
        if !self.is_lookup(index) {
            return;
        }
        let outcome = match reply {
            Reply::Nil => Lookup::Promoted,
            Reply::Error(_) => Lookup::Error,
            _ => Lookup::Coalesced,
        };
        self.follower_wait.record(waited);
        self.lookup_histogram(outcome).record(waited);
    }

    fn is_lookup(&self, index: usize) -> bool {
        self.lookup_rows.get(index).copied().unwrap_or(false)
    }

    pub fn lookup_histogram(&self, outcome: Lookup) -> &SecondsHistogram {
        let i = Lookup::ALL.iter().position(|o| *o == outcome).unwrap_or(0);
        &self.lookups[i]
    }

    /// Row `index`'s latency histogram, if the row has been called while tracking was on.
    pub fn histogram(&self, index: usize) -> Option<&LatencyHistogram> {
        self.histograms.get(index)?.get().map(|b| &**b)
    }

    /// CONFIG RESETSTAT: histograms and error counts (not the slow log or latency events,
    /// which have their own RESET, as in Redis).
    pub fn reset_stats(&self) {
        for h in self.histograms.iter().filter_map(|h| h.get()) {
            h.reset();
        }
        self.errors.reset();
        for h in self.lookups.iter().chain([&self.follower_wait]) {
            h.reset();
        }
    }
}

fn max_len(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
