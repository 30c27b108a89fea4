//! One vector field's store: the vectors in one contiguous array by document id (the FLAT index,
//! exact), plus the HNSW graph over them when the field asked for one.
//!
//! # Invariants
//! - `row(id)` (`BLOCK` rows to a block) is the prepared vector of document `id` iff
//!   `present[id]`.
//! - The graph (if any) holds exactly the present ids.
//!
//! The rows sit in blocks of [`BLOCK`], never moved once written: one array grown by
//! reallocation held the old and the new array at once at each growth and copied every row
//! into fresh pages (a quarter of the page faults of loading 100k x 384-d).

use super::distance::{distance, Near};
use super::hnsw::Graph;
use super::schema::{Algorithm, Metric, VectorParams};
use std::cell::Cell;
use std::collections::BinaryHeap;

/// Rows per block of vectors.
const BLOCK: usize = 1024;

/// Brute-force scans of at least this many floats are split across threads.
const PARALLEL_FLOATS: usize = 4 << 20;

/// How much a search may read before it gives up, in floats (a document a scan visits counts as
/// [`Budget::DOC`]). A search that runs out stops early with an incomplete result, which its
/// caller throws away (to run it again where it may take longer, off the event loop).
pub struct Budget {
    limit: usize,
    left: Cell<usize>,
    out: Cell<bool>,
}

impl Budget {
    /// What a scan pays per document it visits: about a cache miss's worth of floats.
    pub const DOC: usize = 64;

    pub fn unlimited() -> Budget {
        Budget::floats(usize::MAX)
    }

    pub fn floats(n: usize) -> Budget {
        Budget {
            limit: n,
            left: Cell::new(n),
            out: Cell::new(false),
        }
    }

    /// Takes `n` floats from what is left; false (and exhausted from then on) if too few are.
    pub fn spend(&self, n: usize) -> bool {
        match self.left.get().checked_sub(n) {
            Some(left) if !self.out.get() => {
                self.left.set(left);
                true
            }
            _ => {
                self.out.set(true);
                false
            }
        }
    }

    /// Floats spent so far (all of them once exhausted).
    pub fn spent(&self) -> usize {
        if self.out.get() {
            self.limit
        } else {
            self.limit - self.left.get()
        }
    }

    /// Whether a search ran out, so that its result is incomplete.
    pub fn exhausted(&self) -> bool {
        self.out.get()
    }
}

pub struct VecStore {
    /// Schema position of the field.
    pub field: usize,
    pub dim: usize,
    pub metric: Metric,
    blocks: Vec<Box<[f32]>>,
    present: Vec<bool>,
    count: usize,
    graph: Option<Graph>,
}

/// Threads a big scan is split across: the cores this process may use, found once (asking
/// costs several file reads under cgroups).
fn threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8)
    })
}

impl VecStore {
    pub fn new(field: usize, p: &VectorParams) -> VecStore {
        let graph = match p.algorithm {
            Algorithm::Flat => None,
            Algorithm::Hnsw {
                m,
                ef_construction,
                ef_runtime,
            } => Some(Graph::new(m, ef_construction, ef_runtime)),
        };
        VecStore {
            field,
            dim: p.dim,
            metric: p.metric,
            blocks: Vec::new(),
            present: Vec::new(),
            count: 0,
            graph,
        }
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes held for vectors (the array and the graph's links).
    pub fn bytes(&self) -> usize {
        self.blocks.len() * BLOCK * self.dim * 4 + self.graph.as_ref().map_or(0, Graph::bytes)
    }

    pub fn get(&self, id: u32) -> Option<&[f32]> {
        let i = id as usize;
        if *self.present.get(i)? {
            Some(self.row(i))
        } else {
            None
        }
    }

    /// The row of id `i` (whether present or not; `i` below `present.len()`).
    #[inline]
    fn row(&self, i: usize) -> &[f32] {
        let at = (i % BLOCK) * self.dim;
        &self.blocks[i / BLOCK][at..at + self.dim]
    }

    fn row_mut(&mut self, i: usize) -> &mut [f32] {
        let at = (i % BLOCK) * self.dim;
        &mut self.blocks[i / BLOCK][at..at + self.dim]
    }

    pub fn set(&mut self, id: u32, v: &[f32]) {
        let i = id as usize;
        if self.present.len() <= i {
            self.present.resize(i + 1, false);
            while self.blocks.len() * BLOCK <= i {
                self.blocks
                    .push(vec![0.0; BLOCK * self.dim].into_boxed_slice());
            }
        }
        if self.present[i] {
            self.clear(id);
        }
        self.row_mut(i).copy_from_slice(v);
        self.present[i] = true;
        self.count += 1;
        if let Some(mut g) = self.graph.take() {
            g.insert(id, &|a, b| self.pair(a, b), &|n| self.prefetch(n));
            self.graph = Some(g);
        }
    }

    pub fn clear(&mut self, id: u32) {
        let i = id as usize;
        if self.present.get(i).copied().unwrap_or(false) {
            self.present[i] = false;
            self.count -= 1;
            if let Some(mut g) = self.graph.take() {
                g.remove(id, &|a, b| self.pair(a, b));
                self.graph = Some(g);
            }
        }
    }

    pub fn clear_all(&mut self) {
        self.blocks = Vec::new();
        self.present = Vec::new();
        self.count = 0;
        if let Some(g) = &mut self.graph {
            g.clear();
        }
    }

    fn pair(&self, a: u32, b: u32) -> f32 {
        match (self.get(a), self.get(b)) {
            (Some(x), Some(y)) => distance(self.metric, x, y),
            _ => f32::INFINITY,
        }
    }

    /// Asks the CPU to bring the start of `id`'s vector into the cache (a hint; the hardware
    /// prefetcher follows the rest of the contiguous row).
    #[inline]
    fn prefetch(&self, id: u32) {
        if (id as usize) < self.blocks.len() * BLOCK {
            super::distance::prefetch(self.row(id as usize));
        }
    }

    fn to(&self, q: &[f32], b: u32) -> f32 {
        self.get(b)
            .map_or(f32::INFINITY, |y| distance(self.metric, q, y))
    }

    /// The distance from `q` to `b`, paid from `budget`; infinite once it has run out, which
    /// ends a graph walk (nothing infinitely far is expanded).
    fn to_within(&self, q: &[f32], b: u32, budget: &Budget) -> f32 {
        if budget.spend(self.dim) {
            self.to(q, b)
        } else {
            f32::INFINITY
        }
    }

    /// The `k` nearest present ids that `accept` (if given) lets through, nearest first. Exact
    /// on FLAT; on HNSW a graph search with `ef` candidates that keeps only accepted ids as it
    /// walks (a filtered search walks further), falling back to the exact scan of the accepted
    /// ids when the graph gives fewer than `k` (a filter that lets few documents through).
    pub fn knn(
        &self,
        q: &[f32],
        k: usize,
        ef: Option<usize>,
        accept: Option<&(dyn Fn(u32) -> bool + Sync)>,
        budget: &Budget,
    ) -> Vec<Near> {
        if k == 0 {
            return Vec::new();
        }
        if let Some(g) = &self.graph {
            let ef = ef.unwrap_or(g.ef_default()).max(k);
            let walk = accept.map(|a| a as &dyn Fn(u32) -> bool);
            let dist = |b| self.to_within(q, b, budget);
            let mut found = g.search(&dist, &|n| self.prefetch(n), ef, walk);
            if found.len() >= k || found.len() >= self.count || budget.exhausted() {
                found.truncate(k);
                return found;
            }
        }
        self.scan(q, &|d| d, k, accept.unwrap_or(&|_| true), budget)
    }

    /// Every accepted id within `radius`, nearest first.
    pub fn range(
        &self,
        q: &[f32],
        radius: f32,
        accept: &(dyn Fn(u32) -> bool + Sync),
        budget: &Budget,
    ) -> Vec<Near> {
        if let Some(g) = &self.graph {
            let mut found = g.range(
                &|b| self.to_within(q, b, budget),
                &|n| self.prefetch(n),
                radius,
                g.ef_default(),
            );
            found.retain(|n| accept(n.1));
            return found;
        }
        let mut all = self.scan(
            q,
            &|d| if d <= radius { d } else { f32::NAN },
            usize::MAX,
            accept,
            budget,
        );
        all.retain(|n| !n.0.is_nan());
        all
    }

    /// Exact scan: the `k` smallest `score(distance)` (NaN: left out), nearest first. Paid
    /// for whole before it starts: nothing if the budget cannot cover every row.
    fn scan(
        &self,
        q: &[f32],
        score: &(dyn Fn(f32) -> f32 + Sync),
        k: usize,
        accept: &(dyn Fn(u32) -> bool + Sync),
        budget: &Budget,
    ) -> Vec<Near> {
        let ids = self.present.len();
        if !budget.spend(ids.saturating_mul(self.dim + Budget::DOC)) {
            return Vec::new();
        }
        let part = |lo: usize, hi: usize| {
            let mut heap: BinaryHeap<Near> = BinaryHeap::new();
            for i in lo..hi {
                if !self.present[i] || !accept(i as u32) {
                    continue;
                }
                let d = score(distance(self.metric, q, self.row(i)));
                if d.is_nan() {
                    continue;
                }
                if heap.len() < k {
                    heap.push(Near(d, i as u32));
                } else if heap.peek().is_some_and(|top| Near(d, i as u32) < *top) {
                    heap.pop();
                    heap.push(Near(d, i as u32));
                }
            }
            heap.into_vec()
        };
        let threads = threads();
        let mut all = if ids * self.dim >= PARALLEL_FLOATS && threads > 1 {
            let chunk = ids.div_ceil(threads);
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let part = &part;
                        s.spawn(move || part(t * chunk, ((t + 1) * chunk).min(ids)))
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap_or_default())
                    .collect::<Vec<_>>()
            })
        } else {
            part(0, ids)
        };
        all.sort_unstable();
        all.truncate(k);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(algorithm: Algorithm, n: u32) -> VecStore {
        let p = VectorParams {
            algorithm,
            dim: 8,
            metric: Metric::L2,
        };
        let mut s = VecStore::new(0, &p);
        let mut x = 0x2545_F491_u32;
        for i in 0..n {
            let v: Vec<f32> = (0..8)
                .map(|_| {
                    x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (x >> 8) as f32 / (1 << 24) as f32
                })
                .collect();
            s.set(i, &v);
        }
        s
    }

    #[test]
    fn a_search_within_its_budget_matches_an_unlimited_one() {
        let hnsw = Algorithm::Hnsw {
            m: 8,
            ef_construction: 50,
            ef_runtime: None,
        };
        for s in [store(Algorithm::Flat, 300), store(hnsw, 300)] {
            let q = [0.5; 8];
            let all = s.knn(&q, 5, None, None, &Budget::unlimited());
            let budget = Budget::floats(1 << 20);
            assert_eq!(s.knn(&q, 5, None, None, &budget), all);
            assert!(!budget.exhausted());
            let radius = s.knn(&q, 50, None, None, &Budget::unlimited())[49].0;
            let r = s.range(&q, radius, &|_| true, &Budget::unlimited());
            assert!(r.len() >= 40 && r.len() < 300, "{} in range", r.len());
            assert_eq!(s.range(&q, radius, &|_| true, &budget), r);
            assert!(!budget.exhausted());
        }
    }

    #[test]
    fn a_search_past_its_budget_says_so() {
        let q = [0.5; 8];
        // A scan is paid before it starts: 300 rows cost more than 100 rows' worth.
        let flat = store(Algorithm::Flat, 300);
        let budget = Budget::floats(100 * (8 + Budget::DOC));
        assert!(flat.knn(&q, 5, None, None, &budget).is_empty());
        assert!(budget.exhausted());
        // A graph walk stops where the budget ends, ten distances in.
        let hnsw = store(
            Algorithm::Hnsw {
                m: 8,
                ef_construction: 50,
                ef_runtime: None,
            },
            300,
        );
        let budget = Budget::floats(10 * 8);
        hnsw.range(&q, 1e9, &|_| true, &budget);
        assert!(budget.exhausted());
        assert!(!budget.spend(1), "an exhausted budget stays exhausted");
    }
}
