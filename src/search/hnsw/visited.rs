//! The reused scratch space of graph searches: an epoch-stamped visited set and the heaps.

use crate::search::distance::Near;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Ids seen by one search: `stamps[id] == epoch` means seen. A new search bumps the epoch
/// instead of clearing the array.
#[derive(Default)]
pub struct Visited {
    pub stamps: Vec<u32>,
    pub epoch: u32,
}

impl Visited {
    pub fn start(&mut self, ids: usize) {
        if self.stamps.len() < ids {
            self.stamps.resize(ids, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.stamps.fill(0);
            self.epoch = 1;
        }
    }

    /// True if `id` was not seen before (an id outside the graph counts as seen).
    #[inline]
    pub fn insert(&mut self, id: u32) -> bool {
        match self.stamps.get_mut(id as usize) {
            Some(s) if *s != self.epoch => {
                *s = self.epoch;
                true
            }
            _ => false,
        }
    }
}

/// What a layer search needs besides the graph, kept between searches.
#[derive(Default)]
pub struct Scratch {
    pub seen: Visited,
    pub todo: BinaryHeap<Reverse<Near>>,
    pub best: BinaryHeap<Near>,
    /// The unseen links of the node being expanded.
    pub fresh: Vec<u32>,
}
