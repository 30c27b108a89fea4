//! The latency monitor (LATENCY LATEST / HISTORY / RESET / DOCTOR): per event class, the last
//! [`SAMPLES`] spikes at or above `latency-monitor-threshold`, one per second at most, and the
//! worst ever, as Redis 7.0 keeps them (`src/latency.c`). Event names are matched exactly
//! (case-sensitive), as Redis matches them.
//!
//! # Concurrency
//! One mutex, taken only when an event reached the threshold and by LATENCY itself.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Redis's `LATENCY_TS_LEN`.
pub const SAMPLES: usize = 160;

/// One spike: Unix seconds and milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub time: u64,
    pub latency_ms: u64,
}

#[derive(Debug, Default, Clone)]
pub struct Series {
    /// Oldest first, at most [`SAMPLES`].
    pub samples: Vec<Sample>,
    pub max_ms: u64,
}

#[derive(Default)]
pub struct LatencyEvents {
    series: Mutex<BTreeMap<&'static str, Series>>,
}

impl LatencyEvents {
    /// Records a spike of `event`; a second spike in the same second keeps the larger.
    pub fn add(&self, event: &'static str, latency_ms: u64, now_secs: u64) {
        let Ok(mut all) = self.series.lock() else {
            return;
        };
        let s = all.entry(event).or_default();
        s.max_ms = s.max_ms.max(latency_ms);
        if let Some(last) = s.samples.last_mut().filter(|l| l.time == now_secs) {
            last.latency_ms = last.latency_ms.max(latency_ms);
            return;
        }
        if s.samples.len() == SAMPLES {
            s.samples.remove(0);
        }
        s.samples.push(Sample {
            time: now_secs,
            latency_ms,
        });
    }

    /// Every event with its series.
    pub fn all(&self) -> Vec<(&'static str, Series)> {
        match self.series.lock() {
            Ok(all) => all.iter().map(|(k, v)| (*k, v.clone())).collect(),
            Err(_) => Vec::new(),
        }
    }

    pub fn history(&self, event: &[u8]) -> Vec<Sample> {
        match self.series.lock() {
            Ok(all) => all
                .iter()
                .find(|(k, _)| k.as_bytes() == event)
                .map(|(_, s)| s.samples.clone())
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    /// Resets the named events (all when `events` is empty); the number of series dropped.
    pub fn reset(&self, events: &[&[u8]]) -> usize {
        let Ok(mut all) = self.series.lock() else {
            return 0;
        };
        if events.is_empty() {
            let n = all.len();
            all.clear();
            return n;
        }
        let before = all.len();
        all.retain(|k, _| !events.contains(&k.as_bytes()));
        before - all.len()
    }

    /// LATENCY DOCTOR's report, in Redis's words (without Redis's fork and AOF advice, which
    /// concern machinery llmcached does not have).
    pub fn doctor(&self, threshold_ms: u64) -> String {
        let all = self.all();
        if all.is_empty() && threshold_ms == 0 {
            return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".into();
        }
        if all.is_empty() {
            return "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n".into();
        }
        let mut out = String::from("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        for (n, (event, s)) in all.iter().enumerate() {
            let count = s.samples.len().max(1) as u64;
            let avg = s.samples.iter().map(|x| x.latency_ms).sum::<u64>() / count;
            let mad = s
                .samples
                .iter()
                .map(|x| x.latency_ms.abs_diff(avg))
                .sum::<u64>()
                / count;
            let span = match (s.samples.first(), s.samples.last()) {
                (Some(a), Some(b)) => b.time - a.time,
                _ => 0,
            };
            out.push_str(&format!(
                "{}. {event}: {} latency spikes (average {avg}ms, mean deviation {mad}ms, period {:.2} sec). Worst all time event {}ms.\n",
                n + 1,
                s.samples.len(),
                span as f64 / count as f64,
                s.max_ms,
            ));
        }
        out.push_str("\nI have a few advices for you:\n\n");
        out.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
        if all
            .iter()
            .any(|(e, _)| *e == "command" || *e == "fast-command")
        {
            out.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sample_per_second_keeping_the_worst() {
        let e = LatencyEvents::default();
        e.add("command", 5, 100);
        e.add("command", 9, 100);
        e.add("command", 3, 101);
        let all = e.all();
        assert_eq!(all[0].1.samples.len(), 2);
        assert_eq!(all[0].1.samples[0].latency_ms, 9);
        assert_eq!(all[0].1.max_ms, 9);
        assert_eq!(e.history(b"command").len(), 2);
        assert!(
            e.history(b"COMMAND").is_empty(),
            "event names are case-sensitive, as in Redis"
        );
        for t in 0..200 {
            e.add("fast-command", 1, t);
        }
        assert_eq!(e.history(b"fast-command").len(), SAMPLES);
        assert!(e.doctor(1).contains("1. command: 2 latency spikes"));
        assert_eq!(e.reset(&[b"command", b"nope"]), 1);
        assert_eq!(e.reset(&[]), 1);
        assert!(e.doctor(0).starts_with("I'm sorry, Dave"));
    }
}
