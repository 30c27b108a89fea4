//! Vector distances over `f32` slices, written as eight independent accumulators over
//! `chunks_exact(8)` so that the compiler turns the loops into SIMD. The same loops are compiled
//! a second time with AVX2 enabled and chosen at run time when the CPU has it (the default
//! x86-64 target only allows SSE2, half as wide).
//!
//! COSINE vectors are stored normalised, so every metric reduces to a dot product or a squared
//! difference: COSINE and IP answer `1 - a.b`, L2 the squared Euclidean distance (RediSearch's
//! figures for all three).

use super::schema::Metric;
use std::cmp::Ordering;

/// A (distance, id) pair ordered by distance, then id (a total order: NaN sorts last).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Near(pub f32, pub u32);

impl Eq for Near {}
impl PartialOrd for Near {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Near {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.total_cmp(&o.0).then(self.1.cmp(&o.1))
    }
}

const LANES: usize = 8;

/// `a . b`
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has just been found to support AVX2, all `dot_avx2` requires.
        return unsafe { dot_avx2(a, b) };
    }
    dot_portable(a, b)
}

/// `|a - b|^2`
#[inline]
pub fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: as in `dot`.
        return unsafe { l2_avx2(a, b) };
    }
    l2_portable(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    dot_portable(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn l2_avx2(a: &[f32], b: &[f32]) -> f32 {
    l2_portable(a, b)
}

#[inline(always)]
fn dot_portable(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

#[inline(always)]
fn l2_portable(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            let d = x[i] - y[i];
            acc[i] += d * d;
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += (x - y) * (x - y);
    }
    s
}

/// The distance of `a` and `b` (both prepared with [`prepare`]).
#[inline]
pub fn distance(metric: Metric, a: &[f32], b: &[f32]) -> f32 {
    match metric {
        Metric::L2 => l2_squared(a, b),
        Metric::Ip | Metric::Cosine => 1.0 - dot(a, b),
    }
}

/// Decodes a little-endian FLOAT32 blob of `dim` values; `None` if its length is wrong.
pub fn decode(blob: &[u8], dim: usize) -> Option<Vec<f32>> {
    if blob.len() != dim * 4 {
        return None;
    }
    Some(
        blob.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

/// Makes `v` ready for [`distance`]: COSINE vectors are normalised (a zero vector stays zero).
pub fn prepare(metric: Metric, v: &mut [f32]) {
    if metric == Metric::Cosine {
        let norm = dot(v, v).sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_match_the_definitions() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..19).map(|i| 3.0 - i as f32).collect();
        let naive_dot: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        let naive_l2: f32 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
        assert!((dot(&a, &b) - naive_dot).abs() < 1e-3);
        assert!((l2_squared(&a, &b) - naive_l2).abs() < 1e-2);
        let (mut x, mut y) = (vec![1.0, 0.0], vec![1.0, 1.0]);
        prepare(Metric::Cosine, &mut x);
        prepare(Metric::Cosine, &mut y);
        let d = distance(Metric::Cosine, &x, &y);
        assert!((d - (1.0 - 0.5f32.sqrt())).abs() < 1e-6);
        assert_eq!(decode(&[0, 0, 128, 63], 1), Some(vec![1.0]));
        assert_eq!(decode(&[0, 0, 128], 1), None);
    }
}
