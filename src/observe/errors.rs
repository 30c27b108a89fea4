//! Error replies counted by their code (INFO `# Errorstats`, `total_error_replies`), as Redis
//! 7.0's `afterErrorReply`: the code is the error's first word when a space comes within its
//! first 32 bytes, else `ERR`; at most [`MAX_CODES`] codes are tracked (later new codes still
//! count in the total).
//!
//! # Concurrency
//! The total is an atomic; the per-code table is behind a mutex taken only for error replies.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Redis's `ERROR_STATS_NUMBER`.
pub const MAX_CODES: usize = 128;

#[derive(Default)]
pub struct ErrorStats {
    total: AtomicU64,
    /// Sorted by code, as Redis's rax lists them.
    by_code: Mutex<BTreeMap<String, u64>>,
}

impl ErrorStats {
    /// Counts one error reply whose text is `msg` (`ERR syntax error`, `WRONGTYPE ...`).
    pub fn record(&self, msg: &str) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let head = &msg.as_bytes()[..msg.len().min(32)];
        let code = match head.iter().position(|&b| b == b' ') {
            Some(end) => &msg[..end],
            None => "ERR",
        };
        let Ok(mut by_code) = self.by_code.lock() else {
            return;
        };
        if let Some(n) = by_code.get_mut(code) {
            *n += 1;
        } else if by_code.len() < MAX_CODES {
            by_code.insert(code.to_string(), 1);
        }
    }

    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// `(code, count)`, sorted by code.
    pub fn by_code(&self) -> Vec<(String, u64)> {
        match self.by_code.lock() {
            Ok(m) => m.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            Err(_) => Vec::new(),
        }
    }

    pub fn reset(&self) {
        self.total.store(0, Ordering::Relaxed);
        if let Ok(mut m) = self.by_code.lock() {
            m.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_first_word_or_err() {
        let e = ErrorStats::default();
        e.record("ERR syntax error");
        e.record("WRONGTYPE Operation against a key holding the wrong kind of value");
        e.record("NOSPACEINTHISLONGERRORTEXTATALLREALLY at all");
        e.record("ERR x");
        assert_eq!(e.total(), 4);
        assert_eq!(
            e.by_code(),
            vec![("ERR".to_string(), 3), ("WRONGTYPE".to_string(), 1)]
        );
        for i in 0..200 {
            e.record(&format!("E{i} x"));
        }
        assert_eq!(e.by_code().len(), MAX_CODES);
        assert_eq!(e.total(), 204);
    }
}
