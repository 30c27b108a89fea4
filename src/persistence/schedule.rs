//! The Redis `save` schedule: "snapshot after S seconds if at least C keys changed".
//!
//! # Format
//!
//! ```text
//! save "<seconds> <changes> [<seconds> <changes> ...]"    e.g. "3600 1 300 100 60 10000"
//! save ""                                                  snapshots off
//! ```
//!
//! Decisions take the clock as an argument, so they are testable without sleeping.

use std::fmt;

/// Redis 7's default schedule.
pub const DEFAULT_SAVE: &str = "3600 1 300 100 60 10000";

/// After a failed snapshot, wait this long before the schedule tries again (Redis:
/// CONFIG_BGSAVE_RETRY_DELAY), so a full disk is not hammered.
pub const RETRY_DELAY_MS: u64 = 5_000;

/// One `<seconds> <changes>` pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaveRule {
    pub seconds: u64,
    pub changes: u64,
}

/// A parsed save schedule; empty means snapshots are off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaveSchedule {
    rules: Vec<SaveRule>,
}

/// Why a schedule string was refused; the text matches Redis's CONFIG SET error wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError(pub String);

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScheduleError {}

impl SaveSchedule {
    /// Parses a schedule string. Whitespace separated; an empty (or blank) string turns
    /// snapshots off.
    pub fn parse(s: &str) -> Result<SaveSchedule, ScheduleError> {
        let words: Vec<&str> = s.split_whitespace().collect();
        if !words.len().is_multiple_of(2) {
            return Err(ScheduleError("Invalid save parameters".into()));
        }
        let mut rules = Vec::with_capacity(words.len() / 2);
        for pair in words.chunks(2) {
            let num = |w: &str| {
                w.parse::<u64>()
                    .map_err(|_| ScheduleError("Invalid save parameters".into()))
            };
            rules.push(SaveRule {
                seconds: num(pair[0])?,
                changes: num(pair[1])?,
            });
        }
        Ok(SaveSchedule { rules })
    }

    /// True when no rule is set (`save ""`).
    pub fn is_off(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn rules(&self) -> &[SaveRule] {
        &self.rules
    }

    /// Is a snapshot due? `changes` counts writes since the last successful snapshot,
    /// `last_save_ms` is when that was, `last_attempt` is the time and outcome of the last try.
    pub fn is_due(
        &self,
        now_ms: u64,
        changes: u64,
        last_save_ms: u64,
        last_attempt: Option<(u64, bool)>,
    ) -> bool {
        if let Some((at, false)) = last_attempt {
            if now_ms.saturating_sub(at) < RETRY_DELAY_MS {
                return false;
            }
        }
        let elapsed = now_ms.saturating_sub(last_save_ms);
        self.rules.iter().any(|r| {
            changes >= r.changes && changes > 0 && elapsed >= r.seconds.saturating_mul(1000)
        })
    }
}

impl fmt::Display for SaveSchedule {
    /// Renders as Redis's `CONFIG GET save` does: "3600 1 300 100".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.rules.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{} {}", r.seconds, r.changes)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn parses_the_redis_default() {
        let s = SaveSchedule::parse(DEFAULT_SAVE).unwrap();
        assert_eq!(s.rules().len(), 3);
        assert_eq!(
            s.rules()[1],
            SaveRule {
                seconds: 300,
                changes: 100
            }
        );
        assert_eq!(s.to_string(), DEFAULT_SAVE);
    }

    #[test]
    fn empty_turns_snapshots_off() {
        assert!(SaveSchedule::parse("").unwrap().is_off());
        assert!(SaveSchedule::parse("  ").unwrap().is_off());
    }

    #[test]
    fn rejects_odd_or_non_numeric() {
        assert!(SaveSchedule::parse("3600").is_err());
        assert!(SaveSchedule::parse("3600 x").is_err());
        assert!(SaveSchedule::parse("-1 5").is_err());
    }

    #[test]
    fn due_when_any_rule_matches() {
        let s = SaveSchedule::parse(DEFAULT_SAVE).unwrap();
        let t0 = 1_000_000;
        assert!(!s.is_due(t0 + 59_000, 10_000, t0, None));
        assert!(s.is_due(t0 + 60_000, 10_000, t0, None));
        assert!(!s.is_due(t0 + 299_000, 99, t0, None));
        assert!(s.is_due(t0 + 300_000, 100, t0, None));
        assert!(!s.is_due(t0 + 3_599_999, 1, t0, None));
        assert!(s.is_due(t0 + 3_600_000, 1, t0, None));
        assert!(!s.is_due(t0 + 10_000_000, 0, t0, None));
    }

    #[test]
    fn failed_attempt_delays_the_retry() {
        let s = SaveSchedule::parse("1 1").unwrap();
        let t0 = 1_000_000;
        assert!(!s.is_due(t0 + 10_000, 5, t0, Some((t0 + 9_000, false))));
        assert!(s.is_due(t0 + 14_000, 5, t0, Some((t0 + 9_000, false))));
        assert!(s.is_due(t0 + 10_000, 5, t0, Some((t0 + 9_999, true))));
    }
}
