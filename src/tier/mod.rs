//! The shared tier: a Redis or Valkey (standalone or Cluster) that several llmcached nodes keep
//! their answers and fill leases in, each node keeping copies of the answers it serves in its
//! own store (the near cache).
//!
//! - [`envelope`]: the bytes the tier holds per key (an answer with its times, or a lease stub).
//! - [`link`]: the connections (data; one RESP3 connection per master for invalidations).
//! - [`ops`]: the operations on one key: lead, read, complete, release; and the whole-tier ones.
//! - [`invalidate`]: what an invalidation does to the near cache and to nodes waiting on a fill.
//! - [`supervise`]: connecting, the breaker, recovery (dropping copies, writing answers back).
//!
//! # Protocol
//! One key per answer on the tier, named as in llmcached. A node that misses leads locally
//! first (its own flights keep one tier operation per key per node), then `SET key <stub> NX
//! PX <lease> GET`: nil grants the fleet's lease; an answer is a hit; another node's stub makes
//! this node a remote follower, woken by the tier's invalidation of the key (CLIENT TRACKING
//! BCAST) and by a poll every `shared-poll-ms`, the guarantee. When the stub disappears (the
//! leader aborted, or its node died and the stub's PX ran out), the followers try the lease
//! again and one wins: promotion across nodes. An answer is completed by a script that stores it
//! unless an answer is already there, so LLMSETNX's 0 keeps meaning "an answer was there".
//!
//! # Invariants
//! - Copies of tier answers ([`crate::cache::Entry::near_until`]) are never journaled and are
//!   all dropped when the tracking connections are (re)established: invalidations may have been
//!   missed meanwhile. While the tier is down, copies keep being served.
//! - An invalidation bumps the key's version under the key's stripe lock, and a copy read from
//!   the tier is installed under the same lock only if the version is still the one read before
//!   the request was sent: a reply overtaken by an invalidation is never installed.
//! - This node's own writes come back as invalidations too (they are made on another
//!   connection than the tracking one): an invalidated copy is read again and kept only if the
//!   tier still holds that very answer.
//! - While the tier is down, misses lead locally (one model call per node), answers stay in the
//!   node (journaled as its own) and are queued, at most [`WRITEBACK_MAX`], to be written back
//!   with NX once the tier is back.

pub mod envelope;
mod invalidate;
pub mod link;
mod ops;
mod supervise;

pub use envelope::{Answer, Held, Stub};
pub use link::Failure;
pub use ops::{Completed, Lead};

use crate::cache::Store;
use crate::config::ScaleConfig;
use arc_swap::ArcSwapOption;
use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Answers stored while the tier was down, kept to be written back; the oldest go first.
pub const WRITEBACK_MAX: usize = 10_000;
/// Buckets of invalidation versions and wake-up bells (keys share them by hash).
const BUCKETS: usize = 4096;
/// Consecutive timeouts that open the breaker (one slow reply after a restart does not).
const TIMEOUTS_TO_TRIP: u32 = 3;

/// Counters for INFO `# Shared` and the metrics.
#[derive(Debug, Default)]
pub struct TierStats {
    pub errors: AtomicU64,
    pub shared_hits: AtomicU64,
    pub near_hits: AtomicU64,
    pub remote_follows: AtomicU64,
    pub remote_promotions: AtomicU64,
    pub invalidations_received: AtomicU64,
    pub tracking_reconnects: AtomicU64,
    pub written_back: AtomicU64,
}

/// The node's handle on the shared tier.
pub struct Tier {
    settings: ScaleConfig,
    /// This node's run id: the owner named in its lease stubs.
    node: Bytes,
    lease: Duration,
    attempts: AtomicU64,
    data: ArcSwapOption<link::Data>,
    /// One connection per master: invalidations, SCAN, FLUSHALL.
    masters: Mutex<Vec<redis::aio::MultiplexedConnection>>,
    up: AtomicBool,
    /// The same as `up`, for those who wait for a change of status.
    status: watch::Sender<bool>,
    timeouts_in_row: AtomicU32,
    /// Rung when the tier failed, for the supervisor.
    failed: Notify,
    store: Arc<Store>,
    versions: Box<[AtomicU64]>,
    bells: Box<[Notify]>,
    /// The tier leases this node holds, by key: released on LLMABORT.
    held: Mutex<HashMap<Bytes, Stub>>,
    writeback: Mutex<VecDeque<Bytes>>,
    pub stats: TierStats,
}

impl Tier {
    /// A tier handle for `store`, not yet connected: [`Tier::start`] connects it.
    pub fn new(settings: ScaleConfig, node: &str, lease: Duration, store: Arc<Store>) -> Tier {
        Tier {
            settings,
            node: Bytes::copy_from_slice(node.as_bytes()),
            lease,
            attempts: AtomicU64::new(0),
            data: ArcSwapOption::empty(),
            masters: Mutex::new(Vec::new()),
            up: AtomicBool::new(false),
            status: watch::channel(false).0,
            timeouts_in_row: AtomicU32::new(0),
            failed: Notify::new(),
            store,
            versions: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            bells: (0..BUCKETS).map(|_| Notify::new()).collect(),
            held: Mutex::new(HashMap::new()),
            writeback: Mutex::new(VecDeque::new()),
            stats: TierStats::default(),
        }
    }

    /// Whether the tier is reachable (the breaker is closed).
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// Waits until the tier's status is `up` (true: reachable; false: down).
    pub async fn wait_status(&self, up: bool) {
        let mut rx = self.status.subscribe();
        let _ = rx.wait_for(|s| *s == up).await;
    }

    fn set_up(&self, up: bool) -> bool {
        let was = self.up.swap(up, Ordering::AcqRel);
        self.status.send_replace(up);
        was
    }

    /// The URLs of the tier, as configured.
    pub fn urls(&self) -> &[String] {
        &self.settings.shared_tier
    }

    pub fn poll(&self) -> Duration {
        self.settings.shared_poll
    }

    /// When a copy of an answer read or stored now is to be read from the tier again.
    pub fn near_until(&self) -> u64 {
        self.store.clock().now_ms() + self.settings.shared_near_ttl.as_millis() as u64
    }

    /// Whether `stub` is one of this node's.
    pub fn is_mine(&self, stub: &Stub) -> bool {
        stub.node == self.node
    }

    /// Queues `key`'s answer (stored while the tier was down) to be written back.
    pub fn queue_writeback(&self, key: &Bytes) {
        let mut q = lock(&self.writeback);
        if q.len() >= WRITEBACK_MAX {
            q.pop_front();
        }
        q.push_back(key.clone());
    }

    /// How many answers wait to be written back.
    pub fn writeback_len(&self) -> usize {
        lock(&self.writeback).len()
    }

    /// Records a failed tier call: a connection failure opens the breaker at once, timeouts do
    /// after [`TIMEOUTS_TO_TRIP`] in a row; an error about the command itself does not.
    pub fn failed(&self, f: &Failure) {
        let trip = match f {
            Failure::Down(_) => true,
            Failure::Timeout => {
                self.timeouts_in_row.fetch_add(1, Ordering::Relaxed) + 1 >= TIMEOUTS_TO_TRIP
            }
            Failure::Refused(_) => false,
        };
        self.stats.errors.fetch_add(1, Ordering::Relaxed);
        if trip {
            self.trip(&f.to_string());
        }
    }

    fn succeeded(&self) {
        self.timeouts_in_row.store(0, Ordering::Relaxed);
    }

    /// Opens the breaker: the node works alone until the supervisor reconnects.
    fn trip(&self, why: &str) {
        if self.set_up(false) {
            tracing::warn!("shared tier down ({why}): serving from this node alone");
        }
        self.failed.notify_one();
    }

    fn bucket(&self, key: &[u8]) -> usize {
        (self.store.scan_hash(key) as usize) % BUCKETS
    }

    /// The invalidation version of `key` (shared with the keys of its bucket).
    pub fn version(&self, key: &[u8]) -> u64 {
        self.versions[self.bucket(key)].load(Ordering::Acquire)
    }

    /// Rung whenever the tier invalidates `key` (or a key of its bucket).
    pub fn bell(&self, key: &[u8]) -> &Notify {
        &self.bells[self.bucket(key)]
    }

    /// INFO `# Shared` fields.
    pub fn info_fields(&self) -> Vec<(&'static str, String)> {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed).to_string();
        let s = &self.stats;
        vec![
            (
                "shared_tier_status",
                if self.is_up() { "up" } else { "down" }.into(),
            ),
            (
                "shared_tier_cluster",
                u8::from(self.settings.shared_tier_cluster).to_string(),
            ),
            ("shared_tier_masters", lock(&self.masters).len().to_string()),
            ("shared_tier_errors", n(&s.errors)),
            ("shared_hits", n(&s.shared_hits)),
            ("near_hits", n(&s.near_hits)),
            ("remote_follows", n(&s.remote_follows)),
            ("remote_promotions", n(&s.remote_promotions)),
            ("invalidations_received", n(&s.invalidations_received)),
            ("tracking_reconnects", n(&s.tracking_reconnects)),
            ("writeback_queued", self.writeback_len().to_string()),
            ("written_back", n(&s.written_back)),
        ]
    }
}

/// Locks `m`, carrying on after a panic elsewhere (the guarded data stays consistent: every
/// critical section here is a single insert, remove or swap).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}
