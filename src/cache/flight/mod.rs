//! Single-flight fills: who calls the model for a missing key, who waits for the answer, and the
//! answer's bytes while they are streamed.
//!
//! A *flight* exists for a key while some client holds its fill *lease*: that client was told
//! "miss" (LLMGET's nil, LLMREAD's `lead`) and is expected to store the answer (LLMSETNX, or
//! LLMAPPEND ... LLMEND) or give up (LLMABORT). Other callers wait inside the server: LLMGET
//! *followers* in a FIFO queue for the complete answer, LLMREAD *readers* for the next bytes.
//!
//! - [`stream`]: the bytes of the current attempt, cursors, and LLMREAD / LLMAPPEND / LLMEND.
//! - [`wait`]: the guards of a blocked follower and a blocked reader.
//!
//! # Generations and fencing
//! Every attempt at filling a key has a *generation*, drawn from one counter for the whole
//! table, so a later attempt's generation is always greater than an earlier one's, whatever the
//! key. A lease is named by `(key, gen)` ([`Lease`]): LLMAPPEND, LLMEND and a fenced LLMABORT
//! act only while `gen` is the flight's current generation, so a leader that was replaced
//! (abort, expiry, disconnect, another caller's store) is fenced off (`-NOLEASE`). The lease is
//! an inactivity timeout: each LLMAPPEND (an empty one is a heartbeat) renews the deadline.
//!
//! # Invariants
//! - The store is checked under the flight shard's lock ([`Flights::begin`]; [`Flights::read`]
//!   when no flight runs)
//!   and a store ends its flight after writing ([`Flights::complete`]) or while holding that lock
//!   ([`Flights::end`]). So a waiter either sees the stored value or is registered before the
//!   flight ends and is woken by it: no value is missed. Lock order: shard, then the store's
//!   stripe; nothing takes a shard lock while holding a stripe.
//! - Every queued follower ends exactly once: with the value, with the lease (promotion), with a
//!   cancellation (FLUSHDB, shutdown), or by its own timeout or disconnect. Its guard removes it
//!   from the queue on drop, and if a promotion reached it after it stopped waiting, the guard
//!   hands the lease on, so a dead client never holds a lease. Blocked readers follow the same
//!   rules ([`wait::ReadWait`]).
//! - A lease ends when it is completed, aborted, its time is up ([`Flights::expire_due`], run by
//!   a timer task per flight), or its holder's connection closes ([`Flights::abandon_all`]).
//!   Ending it discards the partial stream and bumps the generation (readers get `reset`); then
//!   the caller that has been blocked longest and may lead (a follower or a reader) becomes the
//!   holder; if there is none the flight goes.
//! - Readers are woken by one broadcast per flight (a `watch` channel), not one message each:
//!   an append costs one wake-up per blocked reader and no allocation per reader.

mod fresh;
mod lease;
#[cfg(test)]
mod props;
pub mod stream;
#[cfg(test)]
mod tests;
pub mod wait;

pub use fresh::{Ask, BackoffLeft, Begin, Found};
pub use stream::{Cursor, ReadReply, ReadState, ReadStep, Stored, StreamError};
pub use wait::{ReadWait, WaitGuard, Woken};

use super::Entry;
use bytes::Bytes;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};
use stream::{remember, Stream};
use tokio::sync::{oneshot, watch};

const SHARDS: usize = 64;
/// Remembered generations of stored answers per shard before the dead ones are swept.
const ENDED_PER_SHARD: usize = 256;
/// How long a stored answer's generation is remembered for readers still mid-stream.
const ENDED_FOR: Duration = Duration::from_secs(300);

/// How a follower's wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The answer was stored; `tokens` is what it cost (for tokens saved).
    Value { value: Bytes, tokens: u64 },
    /// The previous holder gave up: this follower now holds the lease.
    Lead,
    /// The lease ended and nobody may take it for this caller: it may not lead (MODE READONLY)
    /// and no caller that may was waiting.
    NoLease,
    /// The fill failed and the key is in its BACKOFF window: no lease for anyone until it ends.
    Backoff(BackoffLeft),
    /// The wait was cancelled (flush, shutdown); the error reply to send.
    Cancelled(String),
}

/// A fill lease: the key's flight (for its lease timer) and the generation it was granted at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// Identifies the flight for [`Flights::deadline`] / [`Flights::expire_due`]; stays the same
    /// across promotions.
    pub flight: u64,
    /// The attempt this lease may append to and end.
    pub gen: u64,
}

/// Why a lease ended without an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    Abort,
    Expired,
    Abandoned,
}

struct Waiter {
    /// Position in the promotion order (shared with readers' `seq`).
    id: u64,
    client: u64,
    /// False for a MODE READONLY caller: it waits for the answer but is never promoted.
    may_lead: bool,
    tx: oneshot::Sender<Outcome>,
}

/// The signal readers of a flight wait on: bumped on every change, `Some(reply)` once the flight
/// was cancelled (the error readers answer).
type Signal = watch::Sender<Option<Arc<str>>>;

struct Flight {
    id: u64,
    gen: u64,
    holder: u64,
    deadline: Instant,
    /// LLMGET followers, oldest first.
    waiters: VecDeque<Waiter>,
    /// Blocked LLMREAD callers that may lead, by the order they blocked in: seq -> client.
    readers: BTreeMap<u64, u64>,
    /// A blocked reader handed the lease that has not yet woken to claim it.
    promoted: Option<u64>,
    stream: Stream,
    signal: Signal,
    /// The lease refreshes an answer that is still stored (stale, or REFRESH mode): the store
    /// that ends it replaces that answer instead of keeping it.
    refresh: bool,
}

/// What a stored answer remembers, in memory only: the generation whose stream produced it.
struct Remembered {
    gen: u64,
    entry: Weak<Entry>,
    at: Instant,
}

#[derive(Default)]
struct Shard {
    flights: HashMap<Bytes, Flight>,
    ended: HashMap<Bytes, Remembered>,
    /// Keys whose last fill failed with `LLMABORT ... BACKOFF`: no lease until `until`.
    backoffs: HashMap<Bytes, fresh::Backoff>,
}

#[derive(Default)]
struct Gauges {
    leases_active: AtomicU64,
    promotions: AtomicU64,
    lease_expirations: AtomicU64,
    stream_resets: AtomicU64,
    streams_active: AtomicU64,
    stream_bytes: AtomicU64,
}

struct Inner {
    shards: Box<[Mutex<Shard>]>,
    hasher: ahash::RandomState,
    /// Lease length in milliseconds (CONFIG SET llm-lease-ms changes it for later leases).
    lease_ms: AtomicU64,
    next_id: AtomicU64,
    next_gen: AtomicU64,
    g: Gauges,
    /// Followers blocked right now, as a watch so that tests can await a count.
    followers_waiting: watch::Sender<u64>,
    /// Readers blocked right now. An atomic, mirrored into `readers_watch` only while someone
    /// awaits a count: a hot key's readers block and wake at every append, and a shared watch
    /// lock there would serialise them all.
    readers_waiting: AtomicU64,
    readers_watch: watch::Sender<u64>,
    /// Set by [`Flights::close`]: a lease that ends is no longer handed on.
    closing: AtomicBool,
}

/// The table of flights. Cheap to clone (shared inside).
#[derive(Clone)]
pub struct Flights {
    inner: Arc<Inner>,
}

fn relock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned shard means a panic between two map operations, which leave the map valid.
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Flights {
    /// `lease`: how long a holder may stay silent before a waiter is promoted.
    pub fn new(lease: Duration) -> Flights {
        Flights {
            inner: Arc::new(Inner {
                shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
                hasher: Default::default(),
                lease_ms: AtomicU64::new(lease.as_millis() as u64),
                next_id: AtomicU64::new(1),
                next_gen: AtomicU64::new(1),
                g: Gauges::default(),
                followers_waiting: watch::channel(0).0,
                readers_waiting: AtomicU64::new(0),
                readers_watch: watch::channel(0).0,
                closing: AtomicBool::new(false),
            }),
        }
    }

    pub fn lease(&self) -> Duration {
        Duration::from_millis(self.inner.lease_ms.load(Ordering::Relaxed))
    }

    /// Sets the length of leases granted, handed on or renewed from now on.
    pub fn set_lease(&self, lease: Duration) {
        self.inner
            .lease_ms
            .store(lease.as_millis() as u64, Ordering::Relaxed);
    }

    fn gauge(&self, g: impl Fn(&Gauges) -> &AtomicU64) -> u64 {
        g(&self.inner.g).load(Ordering::Relaxed)
    }

    /// Flights (keys with a lease held) right now.
    pub fn leases_active(&self) -> u64 {
        self.gauge(|g| &g.leases_active)
    }

    /// Followers blocked right now.
    pub fn followers_waiting(&self) -> u64 {
        *self.inner.followers_waiting.borrow()
    }

    /// LLMREAD callers blocked right now.
    pub fn readers_waiting(&self) -> u64 {
        self.inner.readers_waiting.load(Ordering::Relaxed)
    }

    /// Counts a reader that blocks (+1) or stops being blocked (-1).
    fn readers_moved(&self, up: bool) {
        let n = &self.inner.readers_waiting;
        if up {
            n.fetch_add(1, Ordering::AcqRel);
        } else {
            let _ = n.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                Some(v.saturating_sub(1))
            });
        }
        let w = &self.inner.readers_watch;
        if w.receiver_count() > 0 {
            // Loaded under the watch's lock: the last update to take it sees every change.
            w.send_modify(|v| *v = n.load(Ordering::Acquire));
        }
    }

    /// Resolves once exactly `n` followers are blocked (tests wait on this event).
    pub async fn until_followers_waiting(&self, n: u64) {
        let mut rx = self.inner.followers_waiting.subscribe();
        // The sender lives as long as `self`: `wait_for` cannot fail while we borrow it.
        let _ = rx.wait_for(|waiting| *waiting == n).await;
    }

    /// Resolves once exactly `n` readers are blocked (tests wait on this event).
    pub async fn until_readers_waiting(&self, n: u64) {
        let mut rx = self.inner.readers_watch.subscribe();
        let now = &self.inner.readers_waiting;
        self.inner
            .readers_watch
            .send_modify(|v| *v = now.load(Ordering::Acquire));
        let _ = rx.wait_for(|waiting| *waiting == n).await;
    }

    /// Leases handed to a waiter because the holder gave up, timed out or disconnected.
    pub fn promotions(&self) -> u64 {
        self.gauge(|g| &g.promotions)
    }

    /// Leases whose time ran out.
    pub fn lease_expirations(&self) -> u64 {
        self.gauge(|g| &g.lease_expirations)
    }

    /// Streamed attempts discarded (abort, expiry, disconnect, a different answer stored).
    pub fn stream_resets(&self) -> u64 {
        self.gauge(|g| &g.stream_resets)
    }

    /// Flights whose current attempt has begun streaming.
    pub fn streams_active(&self) -> u64 {
        self.gauge(|g| &g.streams_active)
    }

    /// Bytes held by open streams (counted in the memory figures beside the store's).
    pub fn stream_bytes(&self) -> u64 {
        self.gauge(|g| &g.stream_bytes)
    }

    pub fn reset_counters(&self) {
        for c in [
            &self.inner.g.promotions,
            &self.inner.g.lease_expirations,
            &self.inner.g.stream_resets,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }

    fn shard(&self, key: &[u8]) -> MutexGuard<'_, Shard> {
        let i = (self.inner.hasher.hash_one(key) as usize) % SHARDS;
        relock(&self.inner.shards[i])
    }

    fn next_id(&self) -> u64 {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn next_gen(&self) -> u64 {
        self.inner.next_gen.fetch_add(1, Ordering::Relaxed)
    }

    /// Opens a flight for `key` held by `client` (the caller checked there is none).
    fn open(&self, shard: &mut Shard, key: &[u8], client: u64) -> Lease {
        let lease = Lease {
            flight: self.next_id(),
            gen: self.next_gen(),
        };
        shard.flights.insert(
            Bytes::copy_from_slice(key),
            Flight {
                id: lease.flight,
                gen: lease.gen,
                holder: client,
                deadline: Instant::now() + self.lease(),
                waiters: VecDeque::new(),
                readers: BTreeMap::new(),
                promoted: None,
                stream: Stream::default(),
                signal: watch::channel(None).0,
                refresh: false,
            },
        );
        self.inner.g.leases_active.fetch_add(1, Ordering::Relaxed);
        lease
    }

    /// The current lease of `key`'s flight, if one is running.
    pub fn current(&self, key: &[u8]) -> Option<Lease> {
        self.shard(key).flights.get(key).map(|f| Lease {
            flight: f.id,
            gen: f.gen,
        })
    }

    /// LLMSETNX: `value` is now the stored answer (this caller's or one already there; `entry`
    /// is its store entry when known). Ends the flight, whoever holds it: followers get the
    /// value; readers continue to `done` if the streamed bytes are a prefix of it, else they
    /// are reset. Returns how many followers were woken.
    pub fn complete(
        &self,
        key: &[u8],
        value: &Bytes,
        tokens: u64,
        entry: Option<&Arc<Entry>>,
    ) -> usize {
        let mut shard = self.shard(key);
        self.finish(&mut shard, key, value, tokens, entry)
    }

    /// Ends `key`'s flight with `value` stored, under the shard lock (see [`Flights::complete`]).
    fn finish(
        &self,
        shard: &mut Shard,
        key: &[u8],
        value: &Bytes,
        tokens: u64,
        entry: Option<&Arc<Entry>>,
    ) -> usize {
        let Some(flight) = shard.flights.remove(key) else {
            return 0;
        };
        self.inner.g.leases_active.fetch_sub(1, Ordering::Relaxed);
        let gen = if flight.stream.is_prefix_of(value) {
            flight.gen
        } else {
            if flight.stream.started() {
                self.inner.g.stream_resets.fetch_add(1, Ordering::Relaxed);
            }
            self.next_gen()
        };
        self.drop_stream(&flight.stream);
        if let Some(entry) = entry {
            remember(shard, key, gen, entry);
        }
        let mut woken = 0;
        for w in flight.waiters {
            let sent = w.tx.send(Outcome::Value {
                value: value.clone(),
                tokens,
            });
            woken += usize::from(sent.is_ok());
        }
        flight.signal.send_replace(None);
        woken
    }

    fn drop_stream(&self, s: &Stream) {
        self.inner
            .g
            .stream_bytes
            .fetch_sub(s.len(), Ordering::Relaxed);
        if s.started() {
            self.inner.g.streams_active.fetch_sub(1, Ordering::Relaxed);
        }
    }
}
