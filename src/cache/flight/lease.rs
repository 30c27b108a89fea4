//! How a lease ends without an answer: LLMABORT, expiry, the holder's connection closing, and
//! FLUSHDB / shutdown. Each discards the attempt's stream, bumps the generation and hands the
//! lease to the caller that has been blocked longest and may lead.

use super::{relock, Ended, Flight, Flights, Outcome, Shard, SHARDS};
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

impl Flights {
    /// LLMABORT: the key's lease is given up, whichever connection holds it (a pooled client
    /// may abort over another connection than the one that was granted the lease, as it may
    /// store the answer over another). With `gen`, only if that is the current attempt
    /// (fencing). Returns false if no such lease was held.
    pub fn abort(&self, key: &[u8], gen: Option<u64>) -> bool {
        self.abort_with(key, gen, None)
    }

    /// LLMABORT, with `LLMABORT ... BACKOFF ms` as `backoff`: the window (and the reply blocked
    /// readers get) during which nobody is granted the key's lease; see [`Flights::abort`].
    pub fn abort_with(
        &self,
        key: &[u8],
        gen: Option<u64>,
        backoff: Option<(Duration, &str)>,
    ) -> bool {
        let mut shard = self.shard(key);
        match shard.flights.get(key) {
            Some(f) if gen.is_none_or(|g| g == f.gen && f.promoted.is_none()) => {
                match backoff {
                    None => self.hand_on(&mut shard, key, Ended::Abort),
                    Some((window, reply)) => self.back_off(&mut shard, key, window, reply),
                }
                true
            }
            _ => false,
        }
    }

    /// Ends the current lease of `key`'s flight: discards its stream, bumps the generation and
    /// promotes the caller that has been blocked longest and may lead, or removes the flight
    /// when there is none. Wakes every reader (they answer `reset`, or `lead` for the one).
    pub(super) fn hand_on(&self, shard: &mut Shard, key: &[u8], why: Ended) {
        let Some(flight) = shard.flights.get_mut(key) else {
            return;
        };
        if why == Ended::Expired {
            self.inner
                .g
                .lease_expirations
                .fetch_add(1, Ordering::Relaxed);
        }
        if flight.stream.started() {
            self.inner.g.stream_resets.fetch_add(1, Ordering::Relaxed);
        }
        let old = std::mem::take(&mut flight.stream);
        self.drop_stream(&old);
        flight.gen = self.next_gen();
        flight.promoted = None;
        if self.inner.closing.load(Ordering::Acquire) {
            // Shutting down: a waiter promoted now could never store its answer.
            let reply: Arc<str> = "TRYAGAIN server is shutting down".into();
            for w in flight.waiters.drain(..) {
                let _ = w.tx.send(Outcome::Cancelled(reply.to_string()));
            }
            flight.readers.clear();
            flight.signal.send_replace(Some(reply));
        }
        loop {
            // READONLY followers are passed over: they wait for the answer, never lead.
            let follower = flight.waiters.iter().position(|w| w.may_lead);
            let reader = flight.readers.first_key_value().map(|(s, c)| (*s, *c));
            match (follower, reader) {
                (Some(i), r) if r.is_none_or(|(s, _)| flight.waiters[i].id < s) => {
                    let Some(w) = flight.waiters.remove(i) else {
                        break;
                    };
                    if w.tx.send(Outcome::Lead).is_err() {
                        continue;
                    }
                    flight.holder = w.client;
                }
                (_, Some((seq, client))) => {
                    flight.readers.remove(&seq);
                    flight.promoted = Some(seq);
                    flight.holder = client;
                }
                _ => break,
            }
            flight.deadline = Instant::now() + self.lease();
            self.inner.g.promotions.fetch_add(1, Ordering::Relaxed);
            flight.signal.send_replace(None);
            return;
        }
        if let Some(f) = shard.flights.remove(key) {
            self.inner.g.leases_active.fetch_sub(1, Ordering::Relaxed);
            for w in f.waiters {
                let _ = w.tx.send(Outcome::NoLease);
            }
            if !self.inner.closing.load(Ordering::Acquire) {
                f.signal.send_replace(None);
            }
        }
    }

    /// When the lease of flight `flight_id` on `key` runs out, or `None` once that flight ended.
    pub fn deadline(&self, key: &[u8], flight_id: u64) -> Option<Instant> {
        self.shard(key)
            .flights
            .get(key)
            .filter(|f| f.id == flight_id)
            .map(|f| f.deadline)
    }

    /// Ends the lease of flight `flight_id` if its time is up (the lease timer calls this).
    pub fn expire_due(&self, key: &[u8], flight_id: u64, now: Instant) {
        let mut shard = self.shard(key);
        let due =
            matches!(shard.flights.get(key), Some(f) if f.id == flight_id && f.deadline <= now);
        if due {
            self.hand_on(&mut shard, key, Ended::Expired);
        }
    }

    /// A connection closed: every lease it holds is handed on.
    pub fn abandon_all(&self, client: u64) {
        for i in 0..SHARDS {
            let mut shard = relock(&self.inner.shards[i]);
            let held: Vec<Bytes> = shard
                .flights
                .iter()
                .filter(|(_, f)| f.holder == client && f.promoted.is_none())
                .map(|(k, _)| k.clone())
                .collect();
            for key in held {
                self.hand_on(&mut shard, &key, Ended::Abandoned);
            }
        }
    }

    /// Shutdown: ends every flight, answers every waiter with `reply`, and from now on a lease
    /// that ends (its holder disconnecting as the server closes) is not handed on.
    pub fn close(&self, reply: &str) {
        self.inner.closing.store(true, Ordering::Release);
        self.cancel_all(reply);
    }

    /// Ends every flight and answers every waiter with `reply` (FLUSHDB, shutdown).
    pub fn cancel_all(&self, reply: &str) {
        let reply: Arc<str> = reply.into();
        for i in 0..SHARDS {
            let flights: Vec<Flight> = {
                let mut shard = relock(&self.inner.shards[i]);
                shard.ended.clear();
                shard.flights.drain().map(|(_, f)| f).collect()
            };
            for f in flights {
                self.inner.g.leases_active.fetch_sub(1, Ordering::Relaxed);
                self.drop_stream(&f.stream);
                for w in f.waiters {
                    let _ = w.tx.send(Outcome::Cancelled(reply.to_string()));
                }
                f.signal.send_replace(Some(reply.clone()));
            }
        }
    }
}
