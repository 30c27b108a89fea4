//! A list value: a `VecDeque` of items with its weight kept as it changes.

use super::Weigh;
use bytes::Bytes;
use std::collections::VecDeque;

/// Bytes counted per list item besides the item itself: its `Bytes` handle in the deque and the
/// item's allocation (an estimate from the sizes of the parts, not a measurement).
pub const ITEM_OVERHEAD: usize = 40;

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Left,
    Right,
}

/// A list. Every change keeps `bytes` (the items' lengths plus their overhead) exact.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct List {
    items: VecDeque<Bytes>,
    bytes: usize,
}

impl Weigh for List {
    fn weight(&self) -> usize {
        self.bytes
    }
}

fn cost(b: &Bytes) -> usize {
    b.len() + ITEM_OVERHEAD
}

impl List {
    pub fn from_items(items: impl IntoIterator<Item = Bytes>) -> List {
        let mut l = List::default();
        for i in items {
            l.push(End::Right, i);
        }
        l
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Bytes> + ExactSizeIterator {
        self.items.iter()
    }

    pub fn push(&mut self, end: End, item: Bytes) {
        self.bytes += cost(&item);
        match end {
            End::Left => self.items.push_front(item),
            End::Right => self.items.push_back(item),
        }
    }

    pub fn pop(&mut self, end: End) -> Option<Bytes> {
        let item = match end {
            End::Left => self.items.pop_front(),
            End::Right => self.items.pop_back(),
        }?;
        self.bytes -= cost(&item);
        Some(item)
    }

    /// The position of a Redis index (negative counts from the end), if it is in range.
    pub fn position(&self, index: i64) -> Option<usize> {
        let len = self.items.len() as i64;
        let i = if index < 0 { len + index } else { index };
        (0..len).contains(&i).then_some(i as usize)
    }

    pub fn get(&self, index: i64) -> Option<&Bytes> {
        self.position(index).and_then(|i| self.items.get(i))
    }

    /// Replaces the item at `index`; false if the index is out of range.
    pub fn set(&mut self, index: i64, item: Bytes) -> bool {
        let Some(i) = self.position(index) else {
            return false;
        };
        self.bytes += cost(&item);
        let old = std::mem::replace(&mut self.items[i], item);
        self.bytes -= cost(&old);
        true
    }

    /// The positions `start..=stop` (Redis's clamping of negative and past-the-end indexes), or
    /// `None` for an empty range.
    pub fn span(&self, start: i64, stop: i64) -> Option<(usize, usize)> {
        span(self.items.len(), start, stop)
    }

    /// Keeps only the items in `start..=stop`.
    pub fn trim(&mut self, start: i64, stop: i64) {
        match self.span(start, stop) {
            None => {
                self.items.clear();
                self.bytes = 0;
            }
            Some((a, b)) => {
                for item in self.items.drain(b + 1..) {
                    self.bytes -= cost(&item);
                }
                for item in self.items.drain(..a) {
                    self.bytes -= cost(&item);
                }
            }
        }
    }

    /// Removes up to `count` items equal to `item` (all for 0; from the tail for a negative
    /// count); returns how many went.
    pub fn remove(&mut self, count: i64, item: &[u8]) -> usize {
        let limit = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs() as usize
        };
        let mut removed = 0;
        if count >= 0 {
            let mut i = 0;
            while i < self.items.len() && removed < limit {
                if self.items[i] == item {
                    if let Some(old) = self.items.remove(i) {
                        self.bytes -= cost(&old);
                    }
                    removed += 1;
                } else {
                    i += 1;
                }
            }
        } else {
            let mut i = self.items.len();
            while i > 0 && removed < limit {
                i -= 1;
                if self.items[i] == item {
                    if let Some(old) = self.items.remove(i) {
                        self.bytes -= cost(&old);
                    }
                    removed += 1;
                }
            }
        }
        removed
    }

    /// Inserts `item` before (or after) the first item equal to `pivot`; false if there is none.
    pub fn insert(&mut self, before: bool, pivot: &[u8], item: Bytes) -> bool {
        let Some(i) = self.items.iter().position(|x| x == pivot) else {
            return false;
        };
        self.bytes += cost(&item);
        self.items.insert(if before { i } else { i + 1 }, item);
        true
    }
}

/// Redis's range of `start..=stop` over `len` items (negative indexes count from the end, both
/// ends clamped), or `None` when it is empty.
pub fn span(len: usize, start: i64, stop: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut stop = if stop < 0 { len + stop } else { stop };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= len {
        return None;
    }
    if stop >= len {
        stop = len - 1;
    }
    Some((start as usize, stop as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> List {
        List::from_items(items.iter().map(|s| Bytes::copy_from_slice(s.as_bytes())))
    }

    fn items(l: &List) -> Vec<String> {
        l.iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    }

    #[test]
    fn the_weight_follows_every_change() {
        let mut l = list(&["a", "bb"]);
        assert_eq!(l.weight(), 3 + 2 * ITEM_OVERHEAD);
        l.set(0, Bytes::from_static(b"cccc"));
        assert_eq!(l.weight(), 6 + 2 * ITEM_OVERHEAD);
        l.insert(true, b"bb", Bytes::from_static(b"d"));
        l.remove(0, b"cccc");
        assert_eq!(items(&l), ["d", "bb"]);
        assert_eq!(l.weight(), 3 + 2 * ITEM_OVERHEAD);
        l.trim(1, -1);
        l.pop(End::Left);
        assert_eq!((l.len(), l.weight()), (0, 0));
    }

    #[test]
    fn ranges_clamp_as_redis() {
        assert_eq!(span(5, 0, -1), Some((0, 4)));
        assert_eq!(span(5, -100, 100), Some((0, 4)));
        assert_eq!(span(5, 3, 1), None);
        assert_eq!(span(5, 5, 10), None);
        assert_eq!(span(0, 0, -1), None);
        let mut l = list(&["a", "b", "a", "c", "a"]);
        assert_eq!(l.remove(-2, b"a"), 2);
        assert_eq!(items(&l), ["a", "b", "c"]);
        assert_eq!(l.get(-1).map(|b| b.as_ref()), Some(&b"c"[..]));
        assert_eq!(l.get(3), None);
    }
}
