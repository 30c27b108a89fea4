//! A sorted set value: members ordered by (score, member) in a `BTreeSet`, and a member ->
//! score map for O(1) ZSCORE. Adding, removing and re-scoring a member is O(log n).
//!
//! Also Redis's score text ([`format_score`], `%.17g`) and its range bounds ([`ScoreBound`],
//! [`LexBound`]).

use super::Weigh;
use bytes::Bytes;
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;

/// Bytes counted per member besides the member itself: its tree entry, its map entry and the
/// member's allocation (shared by both). An estimate from the sizes of the parts.
pub const MEMBER_OVERHEAD: usize = 96;

/// A score with a total order (NaN never gets in: commands refuse it).
#[derive(Debug, Clone, Copy)]
pub struct Score(pub f64);

impl PartialEq for Score {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Score {}
impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Score {
    fn cmp(&self, other: &Self) -> Ordering {
        // -0 and 0 are one score, as in Redis.
        let (a, b) = (self.0 + 0.0, other.0 + 0.0);
        a.total_cmp(&b)
    }
}

/// A sorted set; `bytes` is kept exact by every change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ZSet {
    order: BTreeSet<(Score, Bytes)>,
    scores: HashMap<Bytes, f64, ahash::RandomState>,
    bytes: usize,
}

impl Weigh for ZSet {
    fn weight(&self) -> usize {
        self.bytes
    }
}

impl ZSet {
    pub fn from_pairs(pairs: impl IntoIterator<Item = (f64, Bytes)>) -> ZSet {
        let mut z = ZSet::default();
        for (s, m) in pairs {
            z.insert(m, s);
        }
        z
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn score(&self, m: &[u8]) -> Option<f64> {
        self.scores.get(m).copied()
    }

    /// Members in order, lowest score first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (f64, &Bytes)> {
        self.order.iter().map(|(s, m)| (s.0, m))
    }

    /// Sets the member's score; true if the member is new.
    pub fn insert(&mut self, m: Bytes, score: f64) -> bool {
        match self.scores.insert(m.clone(), score) {
            Some(old) => {
                if Score(old) != Score(score) || old.to_bits() != score.to_bits() {
                    self.order.remove(&(Score(old), m.clone()));
                    self.order.insert((Score(score), m));
                }
                false
            }
            None => {
                self.bytes += m.len() + MEMBER_OVERHEAD;
                self.order.insert((Score(score), m));
                true
            }
        }
    }

    /// True if the member was there.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        let Some((key, score)) = self.scores.remove_entry(m) else {
            return false;
        };
        self.order.remove(&(Score(score), key));
        self.bytes -= m.len() + MEMBER_OVERHEAD;
        true
    }

    /// The member's position, lowest score first.
    pub fn rank(&self, m: &[u8]) -> Option<usize> {
        let score = self.score(m)?;
        let key = (Score(score), Bytes::copy_from_slice(m));
        Some(self.order.range(..key).count())
    }

    /// Members with a score within the bounds, lowest first: O(log n) to find the first.
    pub fn by_score(
        &self,
        min: ScoreBound,
        max: ScoreBound,
    ) -> impl DoubleEndedIterator<Item = (f64, &Bytes)> {
        let none = Bytes::new();
        let lo = match min.exclusive {
            _ if min.exclusive && min.value == f64::INFINITY => None,
            true => Some(Score(min.value.next_up())),
            false => Some(Score(min.value)),
        };
        let hi = if max.exclusive {
            Bound::Excluded((Score(max.value), none.clone()))
        } else if max.value == f64::INFINITY {
            Bound::Unbounded
        } else {
            Bound::Excluded((Score(max.value.next_up()), none.clone()))
        };
        let range = match (lo, &hi) {
            (None, _) => None,
            (Some(lo), Bound::Excluded((h, _))) if lo > *h => None,
            (Some(lo), _) => Some(self.order.range((Bound::Included((lo, none)), hi))),
        };
        range.into_iter().flatten().map(|(s, m)| (s.0, m))
    }

    /// Members between the lexicographic bounds (meant for members of one score), in order.
    pub fn by_lex<'a>(
        &'a self,
        min: &'a LexBound,
        max: &'a LexBound,
    ) -> impl DoubleEndedIterator<Item = (f64, &'a Bytes)> + 'a {
        self.order
            .iter()
            .filter(move |(_, m)| min.admits_low(m) && max.admits_high(m))
            .map(|(s, m)| (s.0, m))
    }

    /// Removes and returns the lowest (or highest) member.
    pub fn pop(&mut self, highest: bool) -> Option<(f64, Bytes)> {
        let (s, m) = if highest {
            self.order.pop_last()
        } else {
            self.order.pop_first()
        }?;
        self.scores.remove(&m);
        self.bytes -= m.len() + MEMBER_OVERHEAD;
        Some((s.0, m))
    }
}

/// One end of a score range: `1.5`, `(1.5` (exclusive), `-inf`, `+inf`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreBound {
    pub value: f64,
    pub exclusive: bool,
}

impl ScoreBound {
    /// Parses a bound as Redis does; `None` for anything else (NaN included).
    pub fn parse(b: &[u8]) -> Option<ScoreBound> {
        let (exclusive, text) = match b.first() {
            Some(b'(') => (true, &b[1..]),
            _ => (false, b),
        };
        let value = parse_score(text)?;
        Some(ScoreBound { value, exclusive })
    }
}

/// One end of a lexicographic range: `[a`, `(a`, `-`, `+`.
#[derive(Debug, Clone, PartialEq)]
pub enum LexBound {
    Min,
    Max,
    At(Bytes, Bound<()>),
}

impl LexBound {
    pub fn parse(b: &Bytes) -> Option<LexBound> {
        match b.first() {
            Some(b'-') if b.len() == 1 => Some(LexBound::Min),
            Some(b'+') if b.len() == 1 => Some(LexBound::Max),
            Some(b'[') => Some(LexBound::At(b.slice(1..), Bound::Included(()))),
            Some(b'(') => Some(LexBound::At(b.slice(1..), Bound::Excluded(()))),
            _ => None,
        }
    }

    fn admits_low(&self, m: &[u8]) -> bool {
        match self {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::At(v, Bound::Excluded(())) => m > v.as_ref(),
            LexBound::At(v, _) => m >= v.as_ref(),
        }
    }

    fn admits_high(&self, m: &[u8]) -> bool {
        match self {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::At(v, Bound::Excluded(())) => m < v.as_ref(),
            LexBound::At(v, _) => m <= v.as_ref(),
        }
    }
}

/// Parses a score as Redis's `strtod` does: decimal, exponent, hexadecimal integers (`0x10`),
/// `inf` / `-inf` / `+inf` (any case); `None` for NaN, overflow (`1e400`), empty text, spaces or
/// trailing junk.
pub fn parse_score(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?;
    if s.is_empty() || s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let (negative, unsigned) = match lower.as_bytes()[0] {
        b'-' => (true, &lower[1..]),
        b'+' => (false, &lower[1..]),
        _ => (false, &lower[..]),
    };
    let signed = |v: f64| if negative { -v } else { v };
    let v = match unsigned {
        "inf" | "infinity" => signed(f64::INFINITY),
        _ if unsigned.contains("inf") || unsigned.contains("nan") => return None,
        _ if unsigned.starts_with("0x") => {
            let digits = &unsigned[2..];
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            let v = digits.bytes().fold(0f64, |acc, c| {
                acc * 16.0 + f64::from((c as char).to_digit(16).unwrap_or(0))
            });
            signed(v)
        }
        _ => {
            let v = s.parse::<f64>().ok()?;
            // strtod's ERANGE: a finite text that overflows is refused.
            if v.is_infinite() {
                return None;
            }
            v
        }
    };
    (!v.is_nan()).then_some(v)
}

/// A score as Redis 7.0 writes it: `%.17g` (`0.10000000000000001`, `1e+20`, `3`), `inf`,
/// `-inf`.
pub fn format_score(d: f64) -> String {
    crate::protocol::printf::g(d, 17)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_print_as_redis_7_0() {
        for (d, text) in [
            (1.1, "1.1000000000000001"),
            (0.1, "0.10000000000000001"),
            (1e20, "1e+20"),
            (1e-5, "1.0000000000000001e-05"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (3.0, "3"),
            (-2.5, "-2.5"),
            (1.1 + 1.5, "2.6000000000000001"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (0.0001, "0.0001"),
        ] {
            assert_eq!(format_score(d), text, "{d}");
        }
    }

    #[test]
    fn scores_parse_as_strtod() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"1e3"), Some(1000.0));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"-0X1f"), Some(-31.0));
        for bad in [
            &b"nan"[..],
            b"",
            b" 1",
            b"1x",
            b"abc",
            b"1e400",
            b"0x",
            b"0xg",
        ] {
            assert_eq!(parse_score(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn order_ranks_ranges_and_weight() {
        let mut z = ZSet::default();
        let b = |s: &'static str| Bytes::from_static(s.as_bytes());
        assert!(z.insert(b("a"), 1.0));
        assert!(z.insert(b("b"), 2.0));
        assert!(z.insert(b("c"), 2.0));
        assert!(!z.insert(b("a"), 3.0));
        assert_eq!(z.rank(b"a"), Some(2));
        assert_eq!(z.rank(b"c"), Some(1));
        let min = ScoreBound::parse(b"(1").unwrap();
        let max = ScoreBound::parse(b"2").unwrap();
        let got: Vec<_> = z.by_score(min, max).map(|(_, m)| m.clone()).collect();
        assert_eq!(got, [b("b"), b("c")]);
        assert_eq!(z.weight(), 3 + 3 * MEMBER_OVERHEAD);
        assert_eq!(z.pop(true), Some((3.0, b("a"))));
        assert!(z.remove(b"b"));
        assert_eq!(z.weight(), 1 + MEMBER_OVERHEAD);
    }

    /// Score ranges found through the tree agree with a plain filter, for every kind of bound
    /// (inclusive, exclusive, infinite, equal ends, empty ranges).
    #[test]
    fn score_ranges_agree_with_a_filter() {
        let mut rng = crate::types::Rng::new();
        let mut z = ZSet::default();
        for i in 0..200 {
            let s = (rng.below(21) as f64 - 10.0) / 2.0;
            z.insert(Bytes::from(format!("m{i}")), s);
        }
        z.insert(Bytes::from_static(b"lo"), f64::NEG_INFINITY);
        z.insert(Bytes::from_static(b"hi"), f64::INFINITY);
        let values = [
            f64::NEG_INFINITY,
            -5.0,
            -2.5,
            -0.0,
            0.0,
            1.5,
            5.0,
            f64::INFINITY,
        ];
        for &a in &values {
            for &b in &values {
                for (ea, eb) in [(false, false), (true, false), (false, true), (true, true)] {
                    let min = ScoreBound {
                        value: a,
                        exclusive: ea,
                    };
                    let max = ScoreBound {
                        value: b,
                        exclusive: eb,
                    };
                    let got: Vec<_> = z.by_score(min, max).map(|(_, m)| m.clone()).collect();
                    let want: Vec<_> = z
                        .iter()
                        .filter(|(s, _)| {
                            (if ea { *s > a } else { *s >= a })
                                && (if eb { *s < b } else { *s <= b })
                        })
                        .map(|(_, m)| m.clone())
                        .collect();
                    assert_eq!(got, want, "{min:?} {max:?}");
                }
            }
        }
    }
}
