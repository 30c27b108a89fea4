//! The collection values a key can hold besides strings, hashes and JSON: lists, sets and
//! sorted sets, and the registry of clients blocked on list pops.
//!
//! - [`list`]: a list ([`list::List`], a `VecDeque`).
//! - [`set`]: a set ([`set::Set`], an insertion-ordered hash set with O(1) random members).
//! - [`zset`]: a sorted set ([`zset::ZSet`], an ordered set of (score, member) plus a member ->
//!   score map) and Redis's score text.
//! - [`waits`]: clients blocked in BLPOP / BRPOP / BLMOVE / BRPOPLPUSH, per key, in FIFO order.
//!
//! # Why a collection lives in a [`Coll`] cell
//! An entry is shared as `Arc<Entry>` (moka and every reader hold clones), so `Arc::make_mut`
//! on a value moka also holds would copy the whole collection on every write: an RPUSH on a
//! list of n items would cost O(n). Instead a collection value holds its collection in a cell
//! (`Arc<Mutex<T>>`) that writes change in place: a write takes the key's stripe lock in
//! `Store::write`, changes the collection through the cell, and stores a new entry that points
//! at the same cell with the collection's new weight. So a write is O(1) or O(log n) in memory
//! (the journal, when persistence is on, still records the key's whole new state, as for a
//! hash), concurrent writers never lose an update (they are serialised by the stripe lock), and
//! moka is told the new weight through the new entry.
//!
//! # Invariants
//! - Only a writer holding the key's stripe lock changes a cell, and only the cell of the key's
//!   current entry; it then always stores a new entry (or removes the key), so the weight moka
//!   counts follows the collection.
//! - A reader holding an older `Arc<Entry>` of the same key sees the collection as it is now,
//!   not as it was when it loaded the entry: entries with a collection are not snapshots.
//!   Cloning the value shares the cell (what re-timing a key wants); a copy for another key
//!   (COPY) takes [`Coll::deep_copy`].

pub mod list;
pub mod set;
pub mod waits;
pub mod zset;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

/// Bytes a collection counts against the byte budget besides its key and entry.
pub trait Weigh {
    fn weight(&self) -> usize;
}

/// A collection changed in place under the key's stripe lock (see the module docs), with the
/// weight it had when this handle was made.
pub struct Coll<T> {
    cell: Arc<Mutex<T>>,
    weight: usize,
}

impl<T: Weigh> Coll<T> {
    pub fn new(value: T) -> Coll<T> {
        let weight = value.weight();
        Coll {
            cell: Arc::new(Mutex::new(value)),
            weight,
        }
    }

    fn lock(&self) -> MutexGuard<'_, T> {
        // A panic inside a change leaves the collection as the change left it; carry on.
        match self.cell.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Reads the collection as it is now.
    pub fn read<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.lock())
    }

    /// Changes the collection in place and returns a handle with its new weight, to be stored
    /// as the key's new entry. Only for a writer holding the key's stripe lock (`Store::write`).
    pub fn change<R>(&self, f: impl FnOnce(&mut T) -> R) -> (Coll<T>, R) {
        let mut g = self.lock();
        let r = f(&mut g);
        let weight = g.weight();
        drop(g);
        (
            Coll {
                cell: self.cell.clone(),
                weight,
            },
            r,
        )
    }

    /// The weight when this handle was made (what moka counts for the entry).
    pub fn weight(&self) -> usize {
        self.weight
    }

    /// An independent copy (for another key).
    pub fn deep_copy(&self) -> Coll<T>
    where
        T: Clone,
    {
        Coll::new(self.lock().clone())
    }
}

impl<T> Clone for Coll<T> {
    /// Shares the cell: the clone is the same collection.
    fn clone(&self) -> Self {
        Coll {
            cell: self.cell.clone(),
            weight: self.weight,
        }
    }
}

impl<T: Weigh + PartialEq> PartialEq for Coll<T> {
    fn eq(&self, other: &Self) -> bool {
        if Arc::ptr_eq(&self.cell, &other.cell) {
            return true;
        }
        *self.lock() == *other.lock()
    }
}

impl<T: Weigh + fmt::Debug> fmt::Debug for Coll<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.lock().fmt(f)
    }
}

/// The most positions a negative count may ask of [`Rng::picks`]: past it the commands refuse
/// the count ("value is out of range") where Redis would build the reply whatever its size
/// (gigabytes for a count near `-LONG_MAX`).
pub const PICKS_MAX: u64 = 1 << 24;

/// A small xorshift generator for SPOP / SRANDMEMBER (members are picked, not secrets).
pub struct Rng(u64);

impl Rng {
    /// Seeded from the process's random hasher state and the time.
    pub fn new() -> Rng {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let seed = ahash::RandomState::new().hash_one(nanos) | 1;
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Positions to answer SRANDMEMBER / HRANDFIELD / ZRANDMEMBER `count` from a collection of
    /// `len` items, as Redis picks them: a negative count is `-count` positions that may repeat;
    /// a count of `len` or more is every position, in order; a smaller positive count is that
    /// many distinct positions. Empty for an empty collection.
    pub fn picks(&mut self, len: usize, count: i64) -> Vec<usize> {
        if len == 0 {
            return Vec::new();
        }
        if count < 0 {
            return (0..count.unsigned_abs()).map(|_| self.below(len)).collect();
        }
        let n = count as u64;
        if n >= len as u64 {
            return (0..len).collect();
        }
        let mut chosen = std::collections::HashSet::with_capacity(n as usize);
        let mut out = Vec::with_capacity(n as usize);
        while out.len() < n as usize {
            let i = self.below(len);
            if chosen.insert(i) {
                out.push(i);
            }
        }
        out
    }
}

impl Default for Rng {
    fn default() -> Self {
        Rng::new()
    }
}
