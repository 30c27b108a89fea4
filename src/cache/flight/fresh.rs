//! Freshness on the flight table: what LLMGET decides for one caller given what the store holds
//! ([`Flights::begin_as`]), refresh leases that replace a stale answer, callers that may not
//! lead (MODE READONLY), and the BACKOFF window after a failed fill.
//!
//! # Invariants
//! - At most one lease per key, refresh or fill: a stale answer gets exactly one refresher,
//!   and every other caller that accepts it is answered at once with the stale value.
//! - During a key's BACKOFF window no lease of it is granted to anyone; the window is cleared
//!   by its end, and an answer stored meanwhile is served as usual.
//! - A store made while a refresh lease is held replaces the answer ([`Flights::settle`]),
//!   decided under the shard lock, so it cannot replace an answer another store just made
//!   after the refresh ended.

use super::{Flights, Lease, Shard, WaitGuard, Waiter};
use crate::cache::Entry;
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Remembered backoff windows per shard before the ended ones are swept.
const BACKOFFS_PER_SHARD: usize = 1024;

/// What the store holds for a key, as the caller sees it ([`crate::cache::fresh`]).
pub enum Found<T> {
    Fresh(T),
    /// Stale, and this caller accepts it.
    Stale(T),
    /// Nothing this caller may be given: absent, or `Some` present but too stale for it (or
    /// ignored by MODE REFRESH), which a lease then refreshes.
    Unservable(Option<T>),
}

/// How a caller may take part in a key's flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    /// False for MODE READONLY: it waits for a fill but never holds a lease.
    pub may_lead: bool,
}

impl Default for Ask {
    fn default() -> Ask {
        Ask { may_lead: true }
    }
}

/// How long ago a key's fill failed and how long its BACKOFF window has left, in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffLeft {
    pub ago_ms: u64,
    pub left_ms: u64,
}

/// A key's BACKOFF window.
pub(super) struct Backoff {
    at: Instant,
    until: Instant,
    window_ms: u64,
}

/// What [`Flights::begin_as`] decided.
pub enum Begin<T> {
    /// A fresh answer.
    Hit(T),
    /// The caller now holds the lease of a new flight (whose lease timer it must start);
    /// `old` is the present answer the lease refreshes, if any.
    Lead {
        flight: u64,
        gen: u64,
        old: Option<T>,
    },
    /// A servable stale answer and no flight: the caller holds the refresh lease.
    StaleLead { value: T, flight: u64, gen: u64 },
    /// A servable stale answer while a lease is held or cannot be granted: serve it, no wait.
    Stale(T),
    /// Another client holds the lease: wait on this.
    Follow(WaitGuard),
    /// MODE READONLY and nothing servable, no flight to wait for.
    Miss,
    /// Nothing servable and the key's last fill failed moments ago.
    Backoff(BackoffLeft),
}

impl Flights {
    /// LLMGET in MODE DEFAULT: `lookup` returns a fresh answer or nothing.
    pub fn begin<T>(
        &self,
        key: &Bytes,
        client: u64,
        lookup: impl FnOnce() -> Option<T>,
    ) -> Begin<T> {
        self.begin_as(key, client, Ask::default(), || match lookup() {
            Some(v) => Found::Fresh(v),
            None => Found::Unservable(None),
        })
    }

    /// LLMGET: classifies the store's answer with `lookup` (under the shard lock) and decides:
    /// a hit, a stale answer (with the refresh lease if nobody holds one), the lease, a wait
    /// behind the holder, a READONLY miss or the BACKOFF rejection.
    pub fn begin_as<T>(
        &self,
        key: &Bytes,
        client: u64,
        ask: Ask,
        lookup: impl FnOnce() -> Found<T>,
    ) -> Begin<T> {
        let mut shard = self.shard(key);
        let old = match lookup() {
            Found::Fresh(v) => return Begin::Hit(v),
            Found::Stale(v) => {
                if !ask.may_lead
                    || shard.flights.contains_key(key.as_ref())
                    || backoff_left(&mut shard, key).is_some()
                {
                    return Begin::Stale(v);
                }
                let lease = self.open_refresh(&mut shard, key, client, true);
                return Begin::StaleLead {
                    value: v,
                    flight: lease.flight,
                    gen: lease.gen,
                };
            }
            Found::Unservable(old) => old,
        };
        if let Some(flight) = shard.flights.get_mut(key.as_ref()) {
            // The holder's own connection asking again waits like anyone else: with a pooled
            // client (redis-py, Jedis) that connection may now carry another thread's request,
            // and answering it nil would start a second model call.
            let (tx, rx) = oneshot::channel();
            let id = self.next_id();
            flight.waiters.push_back(Waiter {
                id,
                client,
                may_lead: ask.may_lead,
                tx,
            });
            self.inner.followers_waiting.send_modify(|n| *n += 1);
            return Begin::Follow(WaitGuard::new(self.clone(), key.clone(), id, client, rx));
        }
        if let Some(left) = backoff_left(&mut shard, key) {
            return Begin::Backoff(left);
        }
        if !ask.may_lead {
            return Begin::Miss;
        }
        let lease = self.open_refresh(&mut shard, key, client, old.is_some());
        Begin::Lead {
            flight: lease.flight,
            gen: lease.gen,
            old,
        }
    }

    /// Opens a flight whose store replaces the present answer when `refresh` is set.
    fn open_refresh(&self, shard: &mut Shard, key: &[u8], client: u64, refresh: bool) -> Lease {
        let lease = self.open(shard, key, client);
        if let Some(f) = shard.flights.get_mut(key) {
            f.refresh = refresh;
        }
        lease
    }

    /// LLMSETNX: runs `store` under the key's shard lock, telling it whether a refresh lease of
    /// the key is held (then it replaces the answer), and ends the flight with the answer it
    /// reports: `(reply, answer now stored, its tokens, its entry)`, as [`Flights::complete`].
    pub fn settle<E>(
        &self,
        key: &[u8],
        store: impl FnOnce(bool) -> Result<(i64, Bytes, u64, Option<Arc<Entry>>), E>,
    ) -> Result<i64, E> {
        let mut shard = self.shard(key);
        let refreshing = shard.flights.get(key).is_some_and(|f| f.refresh);
        let (stored, answer, tokens, entry) = store(refreshing)?;
        self.finish(&mut shard, key, &answer, tokens, entry.as_ref());
        Ok(stored)
    }

    /// `LLMABORT ... BACKOFF`: ends the flight without promoting anyone and opens the key's
    /// BACKOFF window of `window`; every waiter is told at once, blocked readers with `reply`.
    pub(super) fn back_off(&self, shard: &mut Shard, key: &[u8], window: Duration, reply: &str) {
        let Some(flight) = shard.flights.remove(key) else {
            return;
        };
        self.inner.g.leases_active.fetch_sub(1, Ordering::Relaxed);
        if flight.stream.started() {
            self.inner.g.stream_resets.fetch_add(1, Ordering::Relaxed);
        }
        self.drop_stream(&flight.stream);
        let window_ms = (window.as_millis() as u64).max(1);
        let left = BackoffLeft {
            ago_ms: 0,
            left_ms: window_ms,
        };
        for w in flight.waiters {
            let _ = w.tx.send(super::Outcome::Backoff(left));
        }
        flight.signal.send_replace(Some(reply.into()));
        let now = Instant::now();
        if shard.backoffs.len() >= BACKOFFS_PER_SHARD {
            shard.backoffs.retain(|_, b| b.until > now);
        }
        shard.backoffs.insert(
            Bytes::copy_from_slice(key),
            Backoff {
                at: now,
                until: now + Duration::from_millis(window_ms),
                window_ms,
            },
        );
    }

    /// The BACKOFF window `key` is in, if any (for LLMREAD, which may lead too).
    pub fn backoff(&self, key: &[u8]) -> Option<BackoffLeft> {
        backoff_left(&mut self.shard(key), key)
    }
}

/// The key's BACKOFF window if it is still open; forgets an ended one.
pub(super) fn backoff_left(shard: &mut Shard, key: &[u8]) -> Option<BackoffLeft> {
    let b = shard.backoffs.get(key)?;
    let now = Instant::now();
    if b.until <= now {
        shard.backoffs.remove(key);
        return None;
    }
    // The two figures add up to the window, as the -BACKOFF text promises.
    let ago_ms = (now.duration_since(b.at).as_millis() as u64).min(b.window_ms - 1);
    Some(BackoffLeft {
        ago_ms,
        left_ms: b.window_ms - ago_ms,
    })
}
