//! Clients blocked on list pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH), queued per key in the order
//! they blocked, as Redis serves them.
//!
//! A blocked client registers on each of its keys ([`KeyWaits::block`]), then tries its pop;
//! a push wakes the first client queued on the key ([`KeyWaits::wake`]), which tries again.
//!
//! # Invariants
//! - No wake is lost: a client registers before its first try and clears its wake marks before
//!   each try ([`Blocked::rearm`]), so a push that lands after a try finds it registered and
//!   unmarked, and its wake is stored by the `Notify` until the client awaits it.
//! - FIFO: a key has at most one woken client at a time (the first one queued). A woken client
//!   that served itself and sees items left wakes the next one ([`KeyWaits::wake`] again); one
//!   that stops waiting while marked (timeout, disconnect) hands its wake on in its drop. So
//!   with two clients blocked on one key, the one that blocked first gets the first item.
//! - The count of blocked clients ([`KeyWaits::blocked`], INFO `blocked_clients`) is the number
//!   of live [`Blocked`] guards.

use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

struct Queued {
    id: u64,
    notify: Arc<Notify>,
    /// Woken for this key and not yet tried since.
    woken: bool,
}

#[derive(Default)]
struct Inner {
    keys: HashMap<Bytes, VecDeque<Queued>>,
    next_id: u64,
}

/// The registry, shared by every connection.
#[derive(Default)]
pub struct KeyWaits {
    inner: Arc<Mutex<Inner>>,
    blocked: Arc<AtomicU64>,
}

impl KeyWaits {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        lock(&self.inner)
    }

    /// Registers a client blocked on `keys` (in their order), at the end of each key's queue.
    pub fn block(&self, keys: &[Bytes]) -> Blocked {
        let notify = Arc::new(Notify::new());
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        for k in keys {
            inner.keys.entry(k.clone()).or_default().push_back(Queued {
                id,
                notify: notify.clone(),
                woken: false,
            });
        }
        drop(inner);
        self.blocked.fetch_add(1, Ordering::Relaxed);
        Blocked {
            inner: self.inner.clone(),
            blocked: self.blocked.clone(),
            id,
            keys: keys.to_vec(),
            notify,
        }
    }

    /// Items arrived at `key`: wakes the first client queued on it, unless it is already woken.
    pub fn wake(&self, key: &[u8]) {
        wake_first(&mut self.lock(), key);
    }

    /// Clients blocked now.
    pub fn blocked(&self) -> u64 {
        self.blocked.load(Ordering::Relaxed)
    }
}

fn lock(m: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

fn wake_first(inner: &mut Inner, key: &[u8]) {
    if let Some(first) = inner.keys.get_mut(key).and_then(|q| q.front_mut()) {
        if !first.woken {
            first.woken = true;
            first.notify.notify_one();
        }
    }
}

/// One blocked client's place in the queues of its keys. Dropping it leaves them (handing a
/// wake it did not use on to the next client).
pub struct Blocked {
    inner: Arc<Mutex<Inner>>,
    blocked: Arc<AtomicU64>,
    id: u64,
    keys: Vec<Bytes>,
    notify: Arc<Notify>,
}

impl Blocked {
    /// Clears this client's wake marks: call before each try.
    pub fn rearm(&self) {
        let mut inner = lock(&self.inner);
        for k in &self.keys {
            if let Some(q) = inner.keys.get_mut(k) {
                for e in q.iter_mut().filter(|e| e.id == self.id) {
                    e.woken = false;
                }
            }
        }
    }

    /// Resolves when a push wakes this client (at once if one did since the last await).
    pub async fn woken(&self) {
        self.notify.notified().await;
    }
}

impl Drop for Blocked {
    fn drop(&mut self) {
        let mut inner = lock(&self.inner);
        for k in &self.keys {
            let Some(q) = inner.keys.get_mut(k) else {
                continue;
            };
            let mut handed_on = false;
            q.retain(|e| {
                if e.id == self.id {
                    handed_on |= e.woken;
                    false
                } else {
                    true
                }
            });
            if q.is_empty() {
                inner.keys.remove(k);
            } else if handed_on {
                wake_first(&mut inner, k);
            }
        }
        drop(inner);
        self.blocked.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn key(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    async fn is_woken(b: &Blocked) -> bool {
        tokio::time::timeout(Duration::from_millis(20), b.woken())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn the_first_blocked_is_woken_first_and_a_dropped_wake_moves_on() {
        let w = KeyWaits::default();
        let a = w.block(&[key("k")]);
        let b = w.block(&[key("k"), key("other")]);
        assert_eq!(w.blocked(), 2);
        w.wake(b"k");
        // A second push while the first client is woken does not jump the queue.
        w.wake(b"k");
        assert!(!is_woken(&b).await);
        assert!(is_woken(&a).await);
        // `a` stops waiting without trying: its wake goes to `b`.
        drop(a);
        assert!(is_woken(&b).await);
        assert_eq!(w.blocked(), 1);
        drop(b);
        assert_eq!(w.blocked(), 0);
        assert!(w.lock().keys.is_empty());
    }

    #[tokio::test]
    async fn a_wake_before_the_await_is_kept() {
        let w = KeyWaits::default();
        let a = w.block(&[key("k")]);
        a.rearm();
        w.wake(b"k");
        assert!(is_woken(&a).await);
        // Rearmed, the next push wakes it again.
        a.rearm();
        w.wake(b"k");
        assert!(is_woken(&a).await);
    }
}
