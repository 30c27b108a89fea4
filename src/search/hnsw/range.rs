//! The range walk of a graph: every node within a radius of the query.

use super::{Graph, Scratch};
use crate::search::distance::Near;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// How far past the radius a range walk looks, as a fraction of the radius.
const RANGE_MARGIN: f32 = 0.01;

impl Graph {
    /// Every id within `radius` of the query, nearest first, in one best-first walk: a node
    /// is expanded while it is among the `ef` nearest found so far (a plain search, which finds
    /// the region however far the entry point is) or nearer than the radius plus a margin of
    /// `RANGE_MARGIN` of it (RediSearch's EPSILON), however many such nodes there are. Each
    /// node is measured once; a first search followed by a walk from its results measured the
    /// region twice, and widening a plain search cost 512 candidates for a hundred documents.
    pub fn range(
        &self,
        dist: &impl Fn(u32) -> f32,
        pre: &impl Fn(u32),
        radius: f32,
        ef: usize,
    ) -> Vec<Near> {
        let Some(ep) = self.descend(dist) else {
            return Vec::new();
        };
        let ef = ef.max(1);
        let bound = radius + radius.abs() * RANGE_MARGIN;
        let mut s = self.take_scratch();
        s.seen.start(self.levels.len());
        s.todo.clear();
        s.best.clear();
        let mut out = Vec::new();
        // A node is worth expanding (and its links measuring) while it is within `bound` or
        // the `ef` nearest are not yet all within reach of it.
        let reach = |best: &BinaryHeap<Near>| match best.peek() {
            Some(w) if best.len() >= ef => w.0.max(bound),
            _ => f32::INFINITY,
        };
        let take = |s: &mut Scratch, out: &mut Vec<Near>, n: Near| {
            if n.0 <= radius {
                out.push(n);
            }
            if n.0 <= reach(&s.best) {
                s.todo.push(Reverse(n));
                s.best.push(n);
                if s.best.len() > ef {
                    s.best.pop();
                }
            }
        };
        s.seen.insert(ep.1);
        take(&mut s, &mut out, ep);
        while let Some(Reverse(c)) = s.todo.pop() {
            if c.0 > reach(&s.best) {
                break;
            }
            s.fresh.clear();
            for &n in self.links(c.1, 0) {
                if s.seen.insert(n) {
                    pre(n);
                    s.fresh.push(n);
                }
            }
            for i in 0..s.fresh.len() {
                let n = s.fresh[i];
                take(&mut s, &mut out, Near(dist(n), n));
            }
        }
        self.give_scratch(s);
        out.retain(|n| n.0.is_finite());
        out.sort_unstable();
        out
    }
}
