//! Clients blocked on keys (the list pops BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP and the
//! sorted-set pops BZPOPMIN, BZPOPMAX, BZMPOP), queued per key in the order they blocked, and
//! served as Redis serves them (`handleClientsBlockedOnKeys`): after the command that made a key
//! ready and before that command's connection runs its next one.
//!
//! A blocked client registers on each of its keys with the attempt that would serve it
//! ([`KeyWaits::block`]). A write to a key that has blocked clients marks it ready
//! ([`KeyWaits::wake`]); the connection that wrote then calls [`KeyWaits::serve`] once its
//! command is done, which runs the attempts of the clients queued on each ready key, in order,
//! and hands each served client its reply. An attempt that writes (BLMOVE pushing to its
//! destination) makes keys ready too; they are served in the same call, so a chain of blocked
//! BLMOVEs has moved the item to its last list before the pushing command replies (Redis's
//! "Linked LMOVEs").
//!
//! # Invariants
//! - No wake is lost: a client is registered before its key can be marked for it; registering
//!   marks its keys ready, so a push that landed between its first try and its registration is
//!   seen by the serve that follows the blocking command itself.
//! - FIFO: the clients of one key are tried in the order they blocked, and one [`serve`] runs at
//!   a time (`serving`), so with two clients blocked on one key the first gets the first item.
//! - A client gets one outcome: its state goes from waiting to served (with its reply) or to
//!   gone (timed out, disconnected) under its own lock, and an attempt runs only while that lock
//!   is held and the state is waiting. A reply that lands as the timeout fires wins.
//! - Lock order: a client's state, then the store's stripe locks (inside the attempt), then the
//!   registry; the registry lock is never held while taking a client's state.
//! - With nobody blocked, [`KeyWaits::wake`] and [`KeyWaits::serve`] cost one atomic load each.
//! - The count of blocked clients ([`KeyWaits::blocked`], INFO `blocked_clients`) is the number
//!   of live [`Blocked`] guards.
//!
//! [`serve`]: KeyWaits::serve

use crate::protocol::Reply;
use bytes::Bytes;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;
use tokio::time::Instant;

/// What serves a blocked client once one of its keys is ready: its reply, or `None` to keep it
/// blocked (nothing there yet, or a key of another type).
pub type Attempt = Box<dyn Fn() -> Option<Reply> + Send + Sync>;

enum State {
    Waiting,
    Served(Reply),
    Gone,
}

struct Waiter {
    id: u64,
    state: Mutex<State>,
    notify: Notify,
    attempt: Attempt,
    keys: Vec<Bytes>,
}

#[derive(Default)]
struct Inner {
    keys: HashMap<Bytes, VecDeque<Arc<Waiter>>>,
    /// Keys written since the last serve that have clients blocked on them, in order.
    ready: VecDeque<Bytes>,
    ready_set: HashSet<Bytes>,
    next_id: u64,
}

impl Inner {
    fn mark(&mut self, key: &[u8]) -> bool {
        if !self.keys.contains_key(key) || self.ready_set.contains(key) {
            return false;
        }
        let k = Bytes::copy_from_slice(key);
        self.ready_set.insert(k.clone());
        self.ready.push_back(k);
        true
    }

    fn unqueue(&mut self, w: &Waiter) {
        for k in &w.keys {
            if let Some(q) = self.keys.get_mut(k) {
                q.retain(|e| e.id != w.id);
                if q.is_empty() {
                    self.keys.remove(k);
                }
            }
        }
    }
}

/// The registry, shared by every connection. It follows the store as an observer: every write
/// of a key (`Observer::put`, in the state module) wakes the clients blocked on it, whatever command wrote it
/// (a push, ZADD, RENAME, COPY, a script).
#[derive(Default)]
pub struct KeyWaits {
    inner: Arc<Mutex<Inner>>,
    /// Some key is ready: [`KeyWaits::serve`] has work.
    pending: AtomicBool,
    serving: Mutex<()>,
    blocked: Arc<AtomicU64>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl KeyWaits {
    /// Registers a client blocked on `keys` (in their order), at the end of each key's queue,
    /// and marks the keys ready so that the serve after this command tries it once more.
    pub fn block(&self, keys: &[Bytes], attempt: Attempt) -> Blocked {
        let mut inner = lock(&self.inner);
        inner.next_id += 1;
        let w = Arc::new(Waiter {
            id: inner.next_id,
            state: Mutex::new(State::Waiting),
            notify: Notify::new(),
            attempt,
            keys: keys.to_vec(),
        });
        for k in keys {
            inner
                .keys
                .entry(k.clone())
                .or_default()
                .push_back(w.clone());
        }
        let mut any = false;
        for k in keys {
            any |= inner.mark(k);
        }
        if any {
            self.pending.store(true, Ordering::Release);
        }
        drop(inner);
        self.blocked.fetch_add(1, Ordering::Relaxed);
        Blocked {
            inner: self.inner.clone(),
            blocked: self.blocked.clone(),
            waiter: w,
        }
    }

    /// `key` was written: if clients are blocked on it, marks it ready for the next serve.
    pub fn wake(&self, key: &[u8]) {
        if self.blocked.load(Ordering::Relaxed) == 0 {
            return;
        }
        if lock(&self.inner).mark(key) {
            self.pending.store(true, Ordering::Release);
        }
    }

    /// Serves the clients blocked on every ready key, keys in the order they became ready and
    /// each key's clients in the order they blocked, until no key is ready. Called by a
    /// connection after each command (a no-op unless a key is ready).
    pub fn serve(&self) {
        if !self.pending.load(Ordering::Acquire) {
            return;
        }
        let _one_at_a_time = lock(&self.serving);
        loop {
            let (key, queue) = {
                let mut inner = lock(&self.inner);
                let Some(key) = inner.ready.pop_front() else {
                    self.pending.store(false, Ordering::Release);
                    return;
                };
                inner.ready_set.remove(&key);
                let queue: Vec<Arc<Waiter>> = inner
                    .keys
                    .get(&key)
                    .map(|q| q.iter().cloned().collect())
                    .unwrap_or_default();
                (key, queue)
            };
            drop(key);
            for w in queue {
                let mut st = lock(&w.state);
                if !matches!(*st, State::Waiting) {
                    continue;
                }
                if let Some(reply) = (w.attempt)() {
                    *st = State::Served(reply);
                    drop(st);
                    lock(&self.inner).unqueue(&w);
                    w.notify.notify_one();
                }
            }
        }
    }

    /// Some key is ready: a [`KeyWaits::serve`] now would have work.
    pub fn has_ready(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Clients blocked now.
    pub fn blocked(&self) -> u64 {
        self.blocked.load(Ordering::Relaxed)
    }
}

/// One blocked client's place in the queues of its keys. Dropping it leaves them.
pub struct Blocked {
    inner: Arc<Mutex<Inner>>,
    blocked: Arc<AtomicU64>,
    waiter: Arc<Waiter>,
}

impl Blocked {
    /// The reply a serve handed this client, awaited until `deadline` (`None`: for ever);
    /// `None` if the deadline passed first.
    pub async fn reply(&self, deadline: Option<Instant>) -> Option<Reply> {
        let w = &self.waiter;
        loop {
            if let Some(r) = self.take() {
                return Some(r);
            }
            let woken = match deadline {
                Some(at) => tokio::time::timeout_at(at, w.notify.notified())
                    .await
                    .is_ok(),
                None => {
                    w.notify.notified().await;
                    true
                }
            };
            if !woken {
                let mut st = lock(&w.state);
                return match std::mem::replace(&mut *st, State::Gone) {
                    State::Served(r) => Some(r),
                    _ => None,
                };
            }
        }
    }

    /// Stops waiting (CLIENT UNBLOCK): the reply a serve already handed over, if one did (it
    /// wins: its item was taken for this client).
    pub fn cancel(&self) -> Option<Reply> {
        let mut st = lock(&self.waiter.state);
        match std::mem::replace(&mut *st, State::Gone) {
            State::Served(r) => Some(r),
            _ => None,
        }
    }

    fn take(&self) -> Option<Reply> {
        let mut st = lock(&self.waiter.state);
        match std::mem::replace(&mut *st, State::Gone) {
            State::Served(r) => Some(r),
            other => {
                *st = other;
                None
            }
        }
    }
}

impl Drop for Blocked {
    fn drop(&mut self) {
        *lock(&self.waiter.state) = State::Gone;
        lock(&self.inner).unqueue(&self.waiter);
        self.blocked.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn key(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    /// An attempt that serves while `items` is positive, taking one.
    fn taker(items: &Arc<AtomicUsize>, name: &'static str) -> Attempt {
        let items = items.clone();
        Box::new(move || {
            let n = items.load(Ordering::SeqCst);
            (n > 0).then(|| {
                items.store(n - 1, Ordering::SeqCst);
                Reply::from_static(name)
            })
        })
    }

    #[tokio::test]
    async fn the_first_blocked_is_served_first_and_nobody_is_left_behind() {
        let w = KeyWaits::default();
        let items = Arc::new(AtomicUsize::new(0));
        let a = w.block(&[key("k")], taker(&items, "a"));
        let b = w.block(&[key("k"), key("other")], taker(&items, "b"));
        w.serve();
        assert_eq!(w.blocked(), 2);
        items.store(1, Ordering::SeqCst);
        w.wake(b"k");
        w.serve();
        let now = Instant::now();
        assert_eq!(a.reply(Some(now)).await, Some(Reply::from_static("a")));
        assert_eq!(b.reply(Some(now)).await, None);
        drop(a);
        drop(b);
        assert_eq!(w.blocked(), 0);
        assert!(lock(&w.inner).keys.is_empty());
    }

    #[tokio::test]
    async fn a_wake_with_nobody_blocked_marks_nothing() {
        let w = KeyWaits::default();
        w.wake(b"k");
        assert!(!w.pending.load(Ordering::SeqCst));
        assert!(lock(&w.inner).ready.is_empty());
    }
}
