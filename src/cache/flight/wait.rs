//! The guards of callers blocked on a flight: an LLMGET follower ([`WaitGuard`]) waiting for the
//! complete answer, and an LLMREAD reader ([`ReadWait`]) waiting for the stream to change.
//!
//! Both are cancel-safe: dropping one (timeout, disconnect) leaves the flight cleanly, and if a
//! promotion reached it after it stopped waiting, the lease is handed on at once so that a dead
//! client never holds it.

use super::{Ended, Flights, Outcome};
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::{oneshot, watch};

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
    pub(super) fn new(
        flights: Flights,
        key: Bytes,
        waiter: u64,
        client: u64,
        rx: oneshot::Receiver<Outcome>,
    ) -> WaitGuard {
        WaitGuard {
            flights,
            key,
            waiter,
            client,
            rx: Some(rx),
        }
    }

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

/// How a blocked reader's wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Woken {
    /// The flight changed (bytes, reset, promotion, end): read again.
    Changed,
    /// The flight was cancelled (flush, shutdown): the error reply to send.
    Cancelled(String),
}

/// A blocked LLMREAD: registered in its flight's promotion order until it reads again
/// ([`Flights::reread`]) or is dropped.
pub struct ReadWait {
    flights: Flights,
    key: Bytes,
    client: u64,
    seq: u64,
    /// The attempt it blocked on (for tests and logs).
    gen: u64,
    rx: watch::Receiver<Option<Arc<str>>>,
    /// False once [`ReadWait::into_parts`] handed its place on to a new read.
    armed: bool,
}

impl ReadWait {
    pub(super) fn new(
        flights: Flights,
        key: Bytes,
        client: u64,
        seq: u64,
        gen: u64,
        rx: watch::Receiver<Option<Arc<str>>>,
    ) -> ReadWait {
        ReadWait {
            flights,
            key,
            client,
            seq,
            gen,
            rx,
            armed: true,
        }
    }

    /// The attempt this reader is blocked on.
    pub fn gen(&self) -> u64 {
        self.gen
    }

    /// Resolves at the flight's next change. Cancel-safe.
    pub async fn changed(&mut self) -> Woken {
        // An error means the flight ended and its signal is gone: reading again tells how.
        let _ = self.rx.changed().await;
        match self.rx.borrow_and_update().as_ref() {
            Some(reply) => Woken::Cancelled(reply.to_string()),
            None => Woken::Changed,
        }
    }

    pub(super) fn into_parts(mut self) -> (Bytes, u64, u64) {
        self.armed = false;
        (std::mem::take(&mut self.key), self.client, self.seq)
    }
}

impl Drop for ReadWait {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let f = &self.flights;
        f.readers_moved(false);
        let mut shard = f.shard(&self.key);
        let Some(flight) = shard.flights.get_mut(self.key.as_ref()) else {
            return;
        };
        flight.readers.remove(&self.seq);
        if flight.promoted == Some(self.seq) {
            // Promoted, then gone before it woke to lead: the lease goes on at once.
            flight.promoted = None;
            f.inner.g.promotions.fetch_sub(1, Ordering::Relaxed);
            f.hand_on(&mut shard, &self.key, Ended::Abandoned);
        }
    }
}

impl Flights {
    /// Removes a follower that stopped waiting; if a promotion reached it first, hands the lease on.
    fn leave(&self, key: &[u8], waiter: u64, client: u64, rx: &mut oneshot::Receiver<Outcome>) {
        let mut shard = self.shard(key);
        rx.close();
        if let Ok(Outcome::Lead) = rx.try_recv() {
            if matches!(shard.flights.get(key), Some(f) if f.holder == client && f.promoted.is_none())
            {
                self.inner.g.promotions.fetch_sub(1, Ordering::Relaxed);
                self.hand_on(&mut shard, key, Ended::Abandoned);
            }
            return;
        }
        if let Some(f) = shard.flights.get_mut(key) {
            f.waiters.retain(|w| w.id != waiter);
        }
    }
}
