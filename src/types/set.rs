//! A set value: members in an insertion-ordered hash set, so that a random member (SPOP,
//! SRANDMEMBER) is O(1) and removing one is O(1) (`swap_remove`).

use super::{Rng, Weigh};
use bytes::Bytes;
use indexmap::IndexSet;

/// Bytes counted per member besides the member itself: the hash table's slot and index entry
/// and the member's allocation (an estimate from the sizes of the parts).
pub const MEMBER_OVERHEAD: usize = 48;

/// A set. `bytes` (members' lengths plus their overhead) is kept exact by every change.
#[derive(Debug, Clone, Default)]
pub struct Set {
    members: IndexSet<Bytes, ahash::RandomState>,
    bytes: usize,
}

impl PartialEq for Set {
    fn eq(&self, other: &Self) -> bool {
        self.members.len() == other.members.len()
            && self.members.iter().all(|m| other.members.contains(m))
    }
}

impl Weigh for Set {
    fn weight(&self) -> usize {
        self.bytes
    }
}

impl Set {
    pub fn from_members(members: impl IntoIterator<Item = Bytes>) -> Set {
        let mut s = Set::default();
        for m in members {
            s.insert(m);
        }
        s
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        self.members.contains(m)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Bytes> {
        self.members.iter()
    }

    /// True if the member is new.
    pub fn insert(&mut self, m: Bytes) -> bool {
        let n = m.len();
        let added = self.members.insert(m);
        if added {
            self.bytes += n + MEMBER_OVERHEAD;
        }
        added
    }

    /// True if the member was there.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        let removed = self.members.swap_remove(m);
        if removed {
            self.bytes -= m.len() + MEMBER_OVERHEAD;
        }
        removed
    }

    /// A member at random, if any.
    pub fn random(&self, rng: &mut Rng) -> Option<&Bytes> {
        if self.members.is_empty() {
            return None;
        }
        self.members.get_index(rng.below(self.members.len()))
    }

    /// Removes and returns a member at random.
    pub fn pop_random(&mut self, rng: &mut Rng) -> Option<Bytes> {
        if self.members.is_empty() {
            return None;
        }
        let m = self
            .members
            .swap_remove_index(rng.below(self.members.len()))?;
        self.bytes -= m.len() + MEMBER_OVERHEAD;
        Some(m)
    }

    /// The member at position `i` of the table (SSCAN walks positions).
    pub fn at(&self, i: usize) -> Option<&Bytes> {
        self.members.get_index(i)
    }

    /// Whether every member is an integer and there are few of them (Redis's `intset`).
    pub fn all_integers(&self) -> bool {
        self.members
            .iter()
            .all(|m| crate::protocol::parse::parse_i64(m).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_and_random_members() {
        let mut s = Set::from_members([Bytes::from_static(b"a"), Bytes::from_static(b"bb")]);
        assert!(!s.insert(Bytes::from_static(b"a")));
        assert_eq!(s.weight(), 3 + 2 * MEMBER_OVERHEAD);
        let mut rng = Rng::new();
        let m = s.random(&mut rng).cloned().unwrap();
        assert!(s.contains(&m));
        let popped = s.pop_random(&mut rng).unwrap();
        assert!(!s.contains(&popped));
        assert!(s.remove(s.at(0).cloned().unwrap().as_ref()));
        assert_eq!((s.len(), s.weight()), (0, 0));
        assert_eq!(s.pop_random(&mut rng), None);
    }
}
