//! Lock-free histograms: per-command latency ([`LatencyHistogram`], what LATENCY HISTOGRAM and
//! INFO latencystats read) and fixed-bucket seconds histograms for the metrics endpoint
//! ([`SecondsHistogram`]).
//!
//! # Concurrency
//! Recording is one relaxed `fetch_add` per bucket (and one for a sum); readers sum the buckets,
//! so a reader racing writers sees each bucket at some moment, never a torn count.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Sub-buckets per power of two: values are kept to within 1/16 (about 6%).
const SUB_BITS: u32 = 4;
const SUB: usize = 1 << SUB_BITS;
/// Redis's tracked range: 1 ns to 1 s; longer commands are counted as 1 s.
const MIN_NS: u64 = 1;
const MAX_NS: u64 = 1_000_000_000;
const BUCKETS: usize = bucket_of(MAX_NS) + 1;
/// LATENCY HISTOGRAM reports cumulative counts at 1024 ns, 2048 ns, ... (Redis's HDR log
/// iterator, first bucket 1024, factor 2).
const FIRST_REPORT_NS: u64 = 1024;

const fn bucket_of(v: u64) -> usize {
    if v < SUB as u64 {
        return v as usize;
    }
    let msb = 63 - v.leading_zeros();
    let shift = msb - SUB_BITS;
    let mantissa = (v >> shift) as usize;
    (shift as usize + 1) * SUB + mantissa - SUB
}

/// The smallest and largest value bucket `i` holds.
fn bounds(i: usize) -> (u64, u64) {
    if i < SUB {
        return (i as u64, i as u64);
    }
    let shift = (i / SUB - 1) as u32;
    let low = ((i % SUB + SUB) as u64) << shift;
    (low, low + (1u64 << shift) - 1)
}

/// Redis's HDR histogram (2 significant figures) reports a value as the highest value its
/// bucket holds; LATENCY HISTOGRAM's keys are that, in microseconds, for each report level.
fn hdr_highest_equivalent(v: u64) -> u64 {
    // With 2 significant figures a bucket holds 1/128 of its power of two.
    if v < 256 {
        v
    } else {
        let msb = 63 - v.leading_zeros();
        let width = 1u64 << (msb - 7);
        (v & !(width - 1)) + width - 1
    }
}

/// The latencies of one command, in nanoseconds.
pub struct LatencyHistogram {
    buckets: [AtomicU64; BUCKETS],
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl LatencyHistogram {
    pub fn record(&self, ns: u64) {
        let i = bucket_of(ns.clamp(MIN_NS, MAX_NS));
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
    }

    fn counts(&self) -> [u64; BUCKETS] {
        std::array::from_fn(|i| self.buckets[i].load(Ordering::Relaxed))
    }

    pub fn total(&self) -> u64 {
        self.counts().iter().sum()
    }

    /// `(microseconds, cumulative count)` at each report level where the count grew, as
    /// Redis's `fillCommandCDF`.
    pub fn cdf(&self) -> Vec<(u64, u64)> {
        let counts = self.counts();
        let total: u64 = counts.iter().sum();
        let mut out = Vec::new();
        let (mut level, mut cumulative, mut next, mut previous) = (FIRST_REPORT_NS, 0, 0, 0);
        while cumulative < total && next < BUCKETS {
            let last = bucket_of(level.min(MAX_NS));
            while next <= last {
                cumulative += counts[next];
                next += 1;
            }
            if cumulative > previous {
                out.push((hdr_highest_equivalent(level) / 1000, cumulative));
            }
            previous = cumulative;
            level *= 2;
        }
        out
    }

    /// The value at percentile `p` (0..=100) in microseconds, as Redis's
    /// `hdr_value_at_percentile` reports it (the highest value of the bucket it falls in; the
    /// lowest for p = 0).
    pub fn percentile_usec(&self, p: f64) -> f64 {
        let counts = self.counts();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return 0.0;
        }
        let want = ((p / 100.0) * total as f64 + 0.5) as u64;
        let want = want.clamp(1, total);
        let mut cumulative = 0;
        for (i, c) in counts.iter().enumerate() {
            cumulative += c;
            if cumulative >= want {
                let (low, high) = bounds(i);
                let v = if p == 0.0 { low } else { high };
                return v as f64 / 1000.0;
            }
        }
        0.0
    }

    pub fn reset(&self) {
        for b in &self.buckets {
            b.store(0, Ordering::Relaxed);
        }
    }
}

/// The metrics endpoint's bucket bounds in seconds (the design's catalogue).
pub const SECONDS_BOUNDS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// A Prometheus histogram over [`SECONDS_BOUNDS`] (plus `+Inf`), with its sum in microseconds.
pub struct SecondsHistogram {
    buckets: [AtomicU64; SECONDS_BOUNDS.len() + 1],
    sum_us: AtomicU64,
}

impl Default for SecondsHistogram {
    fn default() -> Self {
        SecondsHistogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_us: AtomicU64::new(0),
        }
    }
}

/// One read of a [`SecondsHistogram`]: cumulative counts per bound (the last is `+Inf`).
pub struct SecondsSnapshot {
    pub cumulative: Vec<u64>,
    pub sum_seconds: f64,
}

impl SecondsHistogram {
    pub fn record(&self, d: Duration) {
        let s = d.as_secs_f64();
        let i = SECONDS_BOUNDS
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(SECONDS_BOUNDS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_us
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> SecondsSnapshot {
        let mut running = 0;
        let cumulative = self
            .buckets
            .iter()
            .map(|b| {
                running += b.load(Ordering::Relaxed);
                running
            })
            .collect();
        SecondsSnapshot {
            cumulative,
            sum_seconds: self.sum_us.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }

    pub fn reset(&self) {
        for b in &self.buckets {
            b.store(0, Ordering::Relaxed);
        }
        self.sum_us.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_the_range_in_order() {
        let mut last = 0;
        for v in [1, 2, 15, 16, 17, 31, 32, 1000, 1024, 65_535, MAX_NS] {
            let i = bucket_of(v);
            assert!(i >= last);
            let (low, high) = bounds(i);
            assert!(low <= v && v <= high, "{v} in {low}..={high}");
            last = i;
        }
        assert!(bucket_of(MAX_NS) < BUCKETS);
    }

    #[test]
    fn cdf_keys_are_redis_report_levels() {
        let h = LatencyHistogram::default();
        // Redis reports 2 µs for 1.5 µs, 16 for 10 µs, 132 for 100 µs.
        for ns in [1_500, 10_000, 10_000, 100_000] {
            h.record(ns);
        }
        assert_eq!(h.cdf(), vec![(2, 1), (16, 3), (132, 4)]);
        assert_eq!(h.total(), 4);
        assert!((h.percentile_usec(50.0) - 10.239).abs() < 0.5);
        h.record(5_000_000_000);
        assert_eq!(h.cdf().last(), Some(&(1_082_130, 5)));
    }

    #[test]
    fn seconds_buckets_are_cumulative() {
        let h = SecondsHistogram::default();
        h.record(Duration::from_micros(50));
        h.record(Duration::from_secs(2));
        h.record(Duration::from_secs(1000));
        let s = h.snapshot();
        assert_eq!(s.cumulative[0], 1);
        assert_eq!(s.cumulative[13], 2);
        assert_eq!(*s.cumulative.last().unwrap(), 3);
        assert!((s.sum_seconds - 1002.00005).abs() < 1e-6);
    }
}
