//! One vector field's store: the vectors in one contiguous array by document id (the FLAT index,
//! exact), plus the HNSW graph over them when the field asked for one.
//!
//! # Invariants
//! - `data[id * dim..][..dim]` is the prepared vector of document `id` iff `present[id]`.
//! - The graph (if any) holds exactly the present ids.

use super::distance::{distance, Near};
use super::hnsw::Graph;
use super::schema::{Algorithm, Metric, VectorParams};
use std::collections::BinaryHeap;

/// Brute-force scans of at least this many floats are split across threads.
const PARALLEL_FLOATS: usize = 4 << 20;

pub struct VecStore {
    /// Schema position of the field.
    pub field: usize,
    pub dim: usize,
    pub metric: Metric,
    data: Vec<f32>,
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
            data: Vec::new(),
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
        self.data.capacity() * 4 + self.graph.as_ref().map_or(0, Graph::bytes)
    }

    pub fn get(&self, id: u32) -> Option<&[f32]> {
        let i = id as usize;
        if *self.present.get(i)? {
            Some(&self.data[i * self.dim..(i + 1) * self.dim])
        } else {
            None
        }
    }

    pub fn set(&mut self, id: u32, v: &[f32]) {
        let i = id as usize;
        if self.present.len() <= i {
            self.present.resize(i + 1, false);
            self.data.resize((i + 1) * self.dim, 0.0);
        }
        if self.present[i] {
            self.clear(id);
        }
        self.data[i * self.dim..(i + 1) * self.dim].copy_from_slice(v);
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
        self.data = Vec::new();
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
        if let Some(v) = self
            .data
            .get(id as usize * self.dim..(id as usize + 1) * self.dim)
        {
            super::distance::prefetch(v);
        }
    }

    fn to(&self, q: &[f32], b: u32) -> f32 {
        self.get(b)
            .map_or(f32::INFINITY, |y| distance(self.metric, q, y))
    }

    /// The `k` nearest present ids that `accept` lets through, nearest first. Exact on FLAT; on
    /// HNSW a graph search with `ef` candidates that keeps only accepted ids as it walks (a
    /// filtered search walks further), falling back to the exact scan of the accepted ids when
    /// the graph gives fewer than `k` (a filter that lets few documents through).
    pub fn knn(
        &self,
        q: &[f32],
        k: usize,
        ef: Option<usize>,
        accept: &(dyn Fn(u32) -> bool + Sync),
    ) -> Vec<Near> {
        if k == 0 {
            return Vec::new();
        }
        if let Some(g) = &self.graph {
            let ef = ef.unwrap_or(g.ef_default()).max(k);
            let mut found = g.search(&|b| self.to(q, b), &|n| self.prefetch(n), ef, Some(accept));
            if found.len() >= k || found.len() >= self.count {
                found.truncate(k);
                return found;
            }
        }
        self.scan(q, &|d| d, k, accept)
    }

    /// Every accepted id within `radius`, nearest first.
    pub fn range(
        &self,
        q: &[f32],
        radius: f32,
        accept: &(dyn Fn(u32) -> bool + Sync),
    ) -> Vec<Near> {
        if let Some(g) = &self.graph {
            let mut found = g.range(
                &|b| self.to(q, b),
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
        );
        all.retain(|n| !n.0.is_nan());
        all
    }

    /// Exact scan: the `k` smallest `score(distance)` (NaN: left out), nearest first.
    fn scan(
        &self,
        q: &[f32],
        score: &(dyn Fn(f32) -> f32 + Sync),
        k: usize,
        accept: &(dyn Fn(u32) -> bool + Sync),
    ) -> Vec<Near> {
        let ids = self.present.len();
        let part = |lo: usize, hi: usize| {
            let mut heap: BinaryHeap<Near> = BinaryHeap::new();
            for i in lo..hi {
                if !self.present[i] || !accept(i as u32) {
                    continue;
                }
                let d = score(distance(
                    self.metric,
                    q,
                    &self.data[i * self.dim..(i + 1) * self.dim],
                ));
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
