//! Vector distances over `f32` slices. On x86-64 CPUs with AVX2 and FMA (found at run time; the
//! default target only allows SSE2) the loops are written with intrinsics: four independent
//! 8-lane fused multiply-add accumulators, so that the adds do not wait on each other (one
//! accumulator left the loop bound by the add latency, at a quarter of the FMA throughput).
//! Elsewhere a portable loop of eight accumulators that the compiler vectorises.
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

/// True if the CPU runs the AVX2 + FMA kernels (the detection is cached by std).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn simd() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// `a . b`
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if simd() {
        // SAFETY: the CPU has just been found to support AVX2 and FMA, all `avx::dot` requires.
        return unsafe { avx::dot(a, b) };
    }
    dot_portable(a, b)
}

/// `|a - b|^2`
#[inline]
pub fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if simd() {
        // SAFETY: as in `dot`.
        return unsafe { avx::l2(a, b) };
    }
    l2_portable(a, b)
}

/// A hint that `v` will be read soon: the first cache lines of it are requested now.
#[inline(always)]
pub fn prefetch(v: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // Four lines (64 floats); the hardware prefetcher streams the rest of the row.
        for line in v.chunks(16).take(4) {
            // SAFETY: SSE is part of the x86-64 baseline; a prefetch never faults.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = v;
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;

    /// The sum of the eight lanes of `v`.
    #[target_feature(enable = "avx2,fma")]
    fn hsum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
        _mm_cvtss_f32(s)
    }

    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        // SAFETY (every load below): `i + width <= n`, and both slices hold at least `n` floats;
        // `loadu` has no alignment requirement.
        unsafe {
            while i + 32 <= n {
                for (k, s) in acc.iter_mut().enumerate() {
                    let x = _mm256_loadu_ps(pa.add(i + 8 * k));
                    let y = _mm256_loadu_ps(pb.add(i + 8 * k));
                    *s = _mm256_fmadd_ps(x, y, *s);
                }
                i += 32;
            }
            while i + 8 <= n {
                let x = _mm256_loadu_ps(pa.add(i));
                let y = _mm256_loadu_ps(pb.add(i));
                acc[0] = _mm256_fmadd_ps(x, y, acc[0]);
                i += 8;
            }
        }
        let v = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        let mut s = hsum(v);
        for j in i..n {
            s += a[j] * b[j];
        }
        s
    }

    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn l2(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        // SAFETY: as in `dot`.
        unsafe {
            while i + 32 <= n {
                for (k, s) in acc.iter_mut().enumerate() {
                    let d = _mm256_sub_ps(
                        _mm256_loadu_ps(pa.add(i + 8 * k)),
                        _mm256_loadu_ps(pb.add(i + 8 * k)),
                    );
                    *s = _mm256_fmadd_ps(d, d, *s);
                }
                i += 32;
            }
            while i + 8 <= n {
                let d = _mm256_sub_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)));
                acc[0] = _mm256_fmadd_ps(d, d, acc[0]);
                i += 8;
            }
        }
        let v = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        let mut s = hsum(v);
        for j in i..n {
            s += (a[j] - b[j]) * (a[j] - b[j]);
        }
        s
    }
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

    #[test]
    fn simd_kernels_agree_with_the_portable_loops_at_every_length() {
        // Lengths around the 32- and 8-float steps and their remainders.
        for n in [0, 1, 7, 8, 9, 31, 32, 33, 40, 63, 64, 100, 384, 1536] {
            let a: Vec<f32> = (0..n).map(|i| ((i * 7 % 13) as f32 - 6.0) / 5.0).collect();
            let b: Vec<f32> = (0..n).map(|i| ((i * 3 % 11) as f32 - 5.0) / 4.0).collect();
            let tol = 1e-4 * (n as f32 + 1.0);
            assert!(
                (dot(&a, &b) - dot_portable(&a, &b)).abs() < tol,
                "dot at {n}"
            );
            assert!(
                (l2_squared(&a, &b) - l2_portable(&a, &b)).abs() < tol,
                "l2 at {n}"
            );
        }
    }
}
