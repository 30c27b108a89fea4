//! Single-flight fills: who calls the model for a missing key, and who waits for the answer.
//!
//! A *flight* exists for a key while some client holds its fill *lease*: that client was told
//! "miss" by LLMGET and is expected to store the answer (LLMSETNX) or give up (LLMABORT). Other
//! LLMGET callers for the key become *followers*: they wait, in FIFO order, inside the server.
//!
//! # Invariants
//! - The store is checked under the flight shard's lock ([`Flights::begin`]) and LLMSETNX writes
//!   the store before it takes that lock ([`Flights::complete`]). So a follower either sees the
//!   stored value or is queued before `complete` runs and is woken by it: no value is missed.
//! - Every queued follower ends exactly once: with the value, with the lease (promotion), with a
//!   cancellation (FLUSHDB, shutdown), or by its own timeout or disconnect. Its [`WaitGuard`]
//!   removes it from the queue on drop, and if a promotion reached it after it stopped waiting
//!   (timeout or disconnect racing the promotion), the guard hands the lease on to the next
//!   follower, so a dead client never holds a lease.
//! - A lease ends when it is completed, aborted, its time is up ([`Flights::expire_due`], run by
//!   a timer task per flight), or its holder's connection closes ([`Flights::abandon_all`]). If
//!   followers remain, the one that waited longest becomes the holder; otherwise the flight goes.

use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

const SHARDS: usize = 64;

/// How a follower's wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The answer was stored; `tokens` is what it cost (for tokens saved).
    Value { value: Bytes, tokens: u64 },
    /// The previous holder gave up: this follower now holds the lease.
    Lead,
    /// The wait was cancelled (flush, shutdown); the error reply to send.
    Cancelled(String),
}

/// What [`Flights::begin`] decided.
pub enum Begin<T> {
    /// The store had the key.
    Hit(T),
    /// No one was filling: the caller now holds the lease of a new flight, whose lease timer
    /// the caller must start.
    Lead { flight: u64 },
    /// Another client holds the lease: wait on this.
    Follow(WaitGuard),
}

struct Waiter {
    id: u64,
    client: u64,
    tx: oneshot::Sender<Outcome>,
}

struct Flight {
    id: u64,
    holder: u64,
    deadline: Instant,
    waiters: VecDeque<Waiter>,
}

struct Inner {
    shards: Box<[Mutex<HashMap<Bytes, Flight>>]>,
    hasher: ahash::RandomState,
    /// Lease length in milliseconds (CONFIG SET llm-lease-ms changes it for later leases).
    lease_ms: AtomicU64,
    next_id: AtomicU64,
    leases_active: AtomicU64,
    /// Followers blocked right now, as a watch so that tests can await a count.
    followers_waiting: watch::Sender<u64>,
    promotions: AtomicU64,
    lease_expirations: AtomicU64,
    /// Set by [`Flights::close`]: a lease that ends is no longer handed on.
    closing: std::sync::atomic::AtomicBool,
}

/// The table of flights. Cheap to clone (shared inside).
#[derive(Clone)]
pub struct Flights {
    inner: Arc<Inner>,
}

impl Flights {
    /// `lease`: how long a holder may take before a follower is promoted.
    pub fn new(lease: Duration) -> Flights {
        Flights {
            inner: Arc::new(Inner {
                shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
                hasher: Default::default(),
                lease_ms: AtomicU64::new(lease.as_millis() as u64),
                next_id: AtomicU64::new(1),
                leases_active: AtomicU64::new(0),
                followers_waiting: watch::channel(0).0,
                promotions: AtomicU64::new(0),
                lease_expirations: AtomicU64::new(0),
                closing: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    pub fn lease(&self) -> Duration {
        Duration::from_millis(self.inner.lease_ms.load(Ordering::Relaxed))
    }

    /// Sets the length of leases granted or handed on from now on; running leases keep theirs.
    pub fn set_lease(&self, lease: Duration) {
        self.inner
            .lease_ms
            .store(lease.as_millis() as u64, Ordering::Relaxed);
    }

    /// Flights (keys with a lease held) right now.
    pub fn leases_active(&self) -> u64 {
        self.inner.leases_active.load(Ordering::Relaxed)
    }

    /// Followers blocked right now.
    pub fn followers_waiting(&self) -> u64 {
        *self.inner.followers_waiting.borrow()
    }

    /// Resolves once exactly `n` followers are blocked (tests wait on this event).
    pub async fn until_followers_waiting(&self, n: u64) {
        let mut rx = self.inner.followers_waiting.subscribe();
        // The sender lives as long as `self`: `wait_for` cannot fail while we borrow it.
        let _ = rx.wait_for(|waiting| *waiting == n).await;
    }

    /// Leases handed to a follower because the holder gave up, timed out or disconnected.
    pub fn promotions(&self) -> u64 {
        self.inner.promotions.load(Ordering::Relaxed)
    }

    /// Leases whose time ran out.
    pub fn lease_expirations(&self) -> u64 {
        self.inner.lease_expirations.load(Ordering::Relaxed)
    }

    pub fn reset_counters(&self) {
        self.inner.promotions.store(0, Ordering::Relaxed);
        self.inner.lease_expirations.store(0, Ordering::Relaxed);
    }

    fn shard(&self, key: &[u8]) -> MutexGuard<'_, HashMap<Bytes, Flight>> {
        let i = (self.inner.hasher.hash_one(key) as usize) % SHARDS;
        // A poisoned shard means a panic between two map operations, which leave the map valid.
        match self.inner.shards[i].lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// LLMGET: checks the store (with `lookup`, under the shard lock) and either returns the hit,
    /// grants the lease to `client`, or queues `client` as a follower.
    pub fn begin<T>(
        &self,
        key: &Bytes,
        client: u64,
        lookup: impl FnOnce() -> Option<T>,
    ) -> Begin<T> {
        let mut shard = self.shard(key);
        if let Some(hit) = lookup() {
            return Begin::Hit(hit);
        }
        if let Some(flight) = shard.get_mut(key.as_ref()) {
            // The holder's own connection asking again waits like anyone else: with a pooled
            // client (redis-py, Jedis) that connection may now carry another thread's request,
            // and answering it nil would start a second model call.
            let (tx, rx) = oneshot::channel();
            let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
            flight.waiters.push_back(Waiter { id, client, tx });
            self.inner.followers_waiting.send_modify(|n| *n += 1);
            return Begin::Follow(WaitGuard {
                flights: self.clone(),
                key: key.clone(),
                waiter: id,
                client,
                rx: Some(rx),
            });
        }
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        shard.insert(
            Bytes::copy_from_slice(key),
            Flight {
                id,
                holder: client,
                deadline: Instant::now() + self.lease(),
                waiters: VecDeque::new(),
            },
        );
        self.inner.leases_active.fetch_add(1, Ordering::Relaxed);
        Begin::Lead { flight: id }
    }

    /// LLMSETNX: the answer is stored. Ends the flight, whoever holds it, and wakes every
    /// follower with the value. Returns how many followers were woken.
    pub fn complete(&self, key: &[u8], value: &Bytes, tokens: u64) -> usize {
        let flight = self.shard(key).remove(key);
        let Some(flight) = flight else { return 0 };
        self.inner.leases_active.fetch_sub(1, Ordering::Relaxed);
        let mut woken = 0;
        for w in flight.waiters {
            let sent = w.tx.send(Outcome::Value {
                value: value.clone(),
                tokens,
            });
            woken += usize::from(sent.is_ok());
        }
        woken
    }

    /// LLMABORT: the key's lease is given up, whichever connection holds it (a pooled client
    /// may abort over another connection than the one that was granted the lease, as it may
    /// store the answer over another). Returns false if no lease was held.
    pub fn abort(&self, key: &[u8]) -> bool {
        let mut shard = self.shard(key);
        if shard.contains_key(key) {
            self.hand_on(&mut shard, key);
            true
        } else {
            false
        }
    }

    /// Ends the current lease of `key`'s flight: promotes the follower that waited longest and is
    /// still waiting, or removes the flight when there is none.
    fn hand_on(&self, shard: &mut HashMap<Bytes, Flight>, key: &[u8]) {
        let Some(flight) = shard.get_mut(key) else {
            return;
        };
        if self.inner.closing.load(Ordering::Acquire) {
            // Shutting down: a follower promoted now could never store its answer.
            for w in flight.waiters.drain(..) {
                let _ = w.tx.send(Outcome::Cancelled(
                    "TRYAGAIN server is shutting down".into(),
                ));
            }
        }
        while let Some(w) = flight.waiters.pop_front() {
            if w.tx.send(Outcome::Lead).is_ok() {
                flight.holder = w.client;
                flight.deadline = Instant::now() + self.lease();
                self.inner.promotions.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        shard.remove(key);
        self.inner.leases_active.fetch_sub(1, Ordering::Relaxed);
    }

    /// When the lease of flight `flight_id` on `key` runs out, or `None` once that flight ended.
    pub fn deadline(&self, key: &[u8], flight_id: u64) -> Option<Instant> {
        self.shard(key)
            .get(key)
            .filter(|f| f.id == flight_id)
            .map(|f| f.deadline)
    }

    /// Ends the lease of flight `flight_id` if its time is up (the lease timer calls this).
    pub fn expire_due(&self, key: &[u8], flight_id: u64, now: Instant) {
        let mut shard = self.shard(key);
        let due = matches!(shard.get(key), Some(f) if f.id == flight_id && f.deadline <= now);
        if due {
            self.inner.lease_expirations.fetch_add(1, Ordering::Relaxed);
            self.hand_on(&mut shard, key);
        }
    }

    /// A connection closed: every lease it holds is handed on.
    pub fn abandon_all(&self, client: u64) {
        for i in 0..SHARDS {
            let mut shard = match self.inner.shards[i].lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            let held: Vec<Bytes> = shard
                .iter()
                .filter(|(_, f)| f.holder == client)
                .map(|(k, _)| k.clone())
                .collect();
            for key in held {
                self.hand_on(&mut shard, &key);
            }
        }
    }

    /// Shutdown: ends every flight, answers every follower with `reply`, and from now on a lease
    /// that ends (its holder disconnecting as the server closes) is not handed on.
    pub fn close(&self, reply: &str) {
        self.inner.closing.store(true, Ordering::Release);
        self.cancel_all(reply);
    }

    /// Ends every flight and answers every follower with `reply` (FLUSHDB, shutdown).
    pub fn cancel_all(&self, reply: &str) {
        for i in 0..SHARDS {
            let flights: Vec<Flight> = {
                let mut shard = match self.inner.shards[i].lock() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                shard.drain().map(|(_, f)| f).collect()
            };
            for f in flights {
                self.inner.leases_active.fetch_sub(1, Ordering::Relaxed);
                for w in f.waiters {
                    let _ = w.tx.send(Outcome::Cancelled(reply.to_string()));
                }
            }
        }
    }

    /// Removes a follower that stopped waiting; if a promotion reached it first, hands the lease on.
    fn leave(&self, key: &[u8], waiter: u64, client: u64, rx: &mut oneshot::Receiver<Outcome>) {
        let mut shard = self.shard(key);
        rx.close();
        if let Ok(Outcome::Lead) = rx.try_recv() {
            if matches!(shard.get(key), Some(f) if f.holder == client) {
                self.inner.promotions.fetch_sub(1, Ordering::Relaxed);
                self.hand_on(&mut shard, key);
            }
            return;
        }
        if let Some(f) = shard.get_mut(key) {
            f.waiters.retain(|w| w.id != waiter);
        }
    }
}

/// A follower's place in a flight's queue. Await [`WaitGuard::wait`]; dropping the guard (on
/// timeout or disconnect) leaves the queue cleanly.
pub struct WaitGuard {
    flights: Flights,
    key: Bytes,
    waiter: u64,
    client: u64,
    rx: Option<oneshot::Receiver<Outcome>>,
}

impl WaitGuard {
    /// Waits for the outcome. Cancel-safe: if this future is dropped, the guard's drop cleans up.
    pub async fn wait(&mut self) -> Outcome {
        let Some(rx) = self.rx.as_mut() else {
            return Outcome::Cancelled("TRYAGAIN wait already ended".into());
        };
        let out = rx.await;
        // Received: nothing left for drop to clean up.
        self.rx = None;
        out.unwrap_or_else(|_| Outcome::Cancelled("TRYAGAIN the fill ended; retry".into()))
    }
}

impl Drop for WaitGuard {
    fn drop(&mut self) {
        self.flights
            .inner
            .followers_waiting
            .send_modify(|n| *n = n.saturating_sub(1));
        if let Some(mut rx) = self.rx.take() {
            self.flights
                .leave(&self.key, self.waiter, self.client, &mut rx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Bytes {
        Bytes::from_static(b"k")
    }

    fn follow(f: &Flights, client: u64) -> WaitGuard {
        match f.begin::<()>(&key(), client, || None) {
            Begin::Follow(g) => g,
            _ => panic!("expected to follow"),
        }
    }

    #[tokio::test]
    async fn first_leads_others_follow_and_get_the_value() {
        let f = Flights::new(Duration::from_secs(60));
        assert!(matches!(
            f.begin::<()>(&key(), 1, || None),
            Begin::Lead { .. }
        ));
        let mut a = follow(&f, 2);
        let mut b = follow(&f, 3);
        assert_eq!(f.followers_waiting(), 2);
        assert_eq!(f.complete(b"k", &Bytes::from_static(b"v"), 7), 2);
        let want = Outcome::Value {
            value: Bytes::from_static(b"v"),
            tokens: 7,
        };
        assert_eq!(a.wait().await, want);
        assert_eq!(b.wait().await, want);
        drop((a, b));
        assert_eq!(f.followers_waiting(), 0);
        assert_eq!(f.leases_active(), 0);
    }

    #[tokio::test]
    async fn abort_promotes_the_oldest_follower_only() {
        let f = Flights::new(Duration::from_secs(60));
        let _ = f.begin::<()>(&key(), 1, || None);
        let mut a = follow(&f, 2);
        let b = follow(&f, 3);
        assert!(f.abort(b"k"));
        assert_eq!(a.wait().await, Outcome::Lead);
        assert_eq!(f.promotions(), 1);
        assert_eq!(
            f.followers_waiting(),
            2,
            "b still waits; a's guard not dropped yet"
        );
        drop(a);
        assert_eq!(f.followers_waiting(), 1);
        // a holds the lease now: its abort promotes b.
        assert!(f.abort(b"k"));
        let mut b = b;
        assert_eq!(b.wait().await, Outcome::Lead);
    }

    #[tokio::test]
    async fn a_follower_that_left_after_being_promoted_hands_the_lease_on() {
        let f = Flights::new(Duration::from_secs(60));
        let _ = f.begin::<()>(&key(), 1, || None);
        let a = follow(&f, 2);
        let mut b = follow(&f, 3);
        assert!(f.abort(b"k"));
        // `a` was promoted but stops waiting without reading the outcome (disconnect).
        drop(a);
        assert_eq!(b.wait().await, Outcome::Lead);
        assert_eq!(f.promotions(), 1);
    }

    #[tokio::test]
    async fn expiry_and_abandon_promote_and_cancel_all_wakes_everyone() {
        let f = Flights::new(Duration::from_millis(0));
        let id = match f.begin::<()>(&key(), 1, || None) {
            Begin::Lead { flight } => flight,
            _ => panic!(),
        };
        let mut a = follow(&f, 2);
        let mut b = follow(&f, 3);
        f.expire_due(b"k", id, Instant::now());
        assert_eq!(a.wait().await, Outcome::Lead);
        assert_eq!(f.lease_expirations(), 1);
        f.abandon_all(2);
        assert_eq!(b.wait().await, Outcome::Lead);
        let mut c = follow(&f, 4);
        f.cancel_all("TRYAGAIN flushed");
        assert_eq!(
            c.wait().await,
            Outcome::Cancelled("TRYAGAIN flushed".into())
        );
        assert_eq!(f.leases_active(), 0);
    }

    #[tokio::test]
    async fn the_holders_connection_asking_again_waits_like_anyone() {
        let f = Flights::new(Duration::from_secs(60));
        let _ = f.begin::<()>(&key(), 1, || None);
        let mut again = follow(&f, 1);
        assert!(!f.abort(b"other"));
        assert_eq!(f.complete(b"k", &Bytes::from_static(b"v"), 0), 1);
        assert!(matches!(again.wait().await, Outcome::Value { .. }));
    }

    #[test]
    fn a_stored_value_is_a_hit_without_a_flight() {
        let f = Flights::new(Duration::from_secs(1));
        assert!(matches!(f.begin(&key(), 1, || Some(5)), Begin::Hit(5)));
        assert_eq!(f.leases_active(), 0);
    }
}
