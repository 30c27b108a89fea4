//! Whether a stored answer is fresh, stale but servable, or not servable for one caller.
//!
//! An entry is fresh until `fresh_until` (its expiry minus its grace) and present until its
//! expiry; a caller narrows that with `MAXAGE` (the answer must be younger than this) and
//! `MAXSTALE` (a stale answer must not be stale for longer than this). The definitions are
//! RFC 9111's `max-age` and an inverted `max-stale`, as the README's LLMGET section states:
//!
//! - *fresh for this caller*: `now < fresh_until` and `now - stored_at < MAXAGE`;
//! - *staleness*: `now - min(fresh_until, stored_at + MAXAGE)`;
//! - *servable stale*: present and staleness at most `MAXSTALE` (unlimited without it).

use super::Entry;

/// What one caller accepts (`LLMGET ... [MAXAGE s] [MAXSTALE s]`), in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub max_age_ms: Option<u64>,
    pub max_stale_ms: Option<u64>,
}

/// An entry as one caller sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Fresh,
    /// Stale, and the caller accepts it while someone refreshes it.
    Stale,
    /// Present but too stale for the caller: it must be refreshed before this caller gets it.
    Unservable,
}

impl Limits {
    /// When `e` stops being fresh for this caller (unix ms), or `None` if it never does.
    pub fn fresh_until(&self, e: &Entry) -> Option<u64> {
        let by_age = self.max_age_ms.map(|a| e.stored_at.saturating_add(a));
        match (e.fresh_until(), by_age) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// How `e`, live at `now_ms`, looks to this caller.
    pub fn classify(&self, e: &Entry, now_ms: u64) -> Class {
        match self.fresh_until(e) {
            None => Class::Fresh,
            Some(until) if now_ms < until => Class::Fresh,
            Some(until) => {
                let staleness = now_ms - until;
                if self.max_stale_ms.is_none_or(|m| staleness <= m) {
                    Class::Stale
                } else {
                    Class::Unservable
                }
            }
        }
    }

    /// META's `fresh_ms`: how long `e` stays fresh for this caller (negative once stale), or
    /// `i64::MAX` for an answer that never goes stale.
    pub fn fresh_ms(&self, e: &Entry, now_ms: u64) -> i64 {
        match self.fresh_until(e) {
            None => i64::MAX,
            Some(until) => {
                let d = i128::from(until) - i128::from(now_ms);
                d.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Value;
    use bytes::Bytes;

    /// Stored at 1 s with EX 10 GRACE 20: fresh until 11 s, present until 31 s.
    fn answer() -> Entry {
        Entry::new(Value::Str(Bytes::from_static(b"v")), Some(31_000))
            .with_grace(20_000)
            .stamped(1_000)
    }

    #[test]
    fn without_limits_an_answer_is_fresh_then_stale_for_its_whole_grace() {
        let l = Limits::default();
        assert_eq!(l.classify(&answer(), 10_999), Class::Fresh);
        assert_eq!(l.classify(&answer(), 11_000), Class::Stale);
        assert_eq!(l.classify(&answer(), 30_999), Class::Stale);
        assert_eq!(l.fresh_ms(&answer(), 5_000), 6_000);
        assert_eq!(l.fresh_ms(&answer(), 15_000), -4_000);
    }

    #[test]
    fn max_age_makes_a_young_enough_answer_the_only_fresh_one() {
        let l = Limits {
            max_age_ms: Some(2_000),
            max_stale_ms: None,
        };
        assert_eq!(l.classify(&answer(), 2_999), Class::Fresh);
        // Within its own lifetime, but older than the caller accepts: stale for this caller.
        assert_eq!(l.classify(&answer(), 3_000), Class::Stale);
        assert_eq!(l.fresh_ms(&answer(), 4_000), -1_000);
    }

    #[test]
    fn max_stale_caps_how_stale_an_answer_may_be() {
        let never = Limits {
            max_age_ms: None,
            max_stale_ms: Some(0),
        };
        assert_eq!(never.classify(&answer(), 11_000), Class::Stale);
        assert_eq!(never.classify(&answer(), 11_001), Class::Unservable);
        let five = Limits {
            max_age_ms: None,
            max_stale_ms: Some(5_000),
        };
        assert_eq!(five.classify(&answer(), 16_000), Class::Stale);
        assert_eq!(five.classify(&answer(), 16_001), Class::Unservable);
    }

    #[test]
    fn an_entry_without_expiry_is_fresh_unless_max_age_says_otherwise() {
        let e = Entry::new(Value::Str(Bytes::from_static(b"v")), None).stamped(1_000);
        assert_eq!(Limits::default().classify(&e, u64::MAX), Class::Fresh);
        assert_eq!(Limits::default().fresh_ms(&e, 5), i64::MAX);
        let aged = Limits {
            max_age_ms: Some(10),
            max_stale_ms: None,
        };
        assert_eq!(aged.classify(&e, 1_010), Class::Stale);
    }
}
