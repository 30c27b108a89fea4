//! What the shared tier holds under an answer's key: the answer itself, or the stub of a fill
//! lease that some node holds for it. One key holds both states, so every tier operation is on
//! a single key (cluster-safe, no hash tags).
//!
//! # Format
//! Little-endian, as this project's files:
//! ```text
//! answer   'A' | stored_at u64 | expire_at u64 | grace_ms u64 | tokens u64 | value bytes...
//!          stored_at and expire_at are unix milliseconds; expire_at 0 = no expiry.
//! stub     'L' | node id (the node's run id) | ':' | attempt (decimal)
//! ```
//! The answer carries its absolute expiry, so a copy on another node never outlives it. A
//! value in any other shape was not written by llmcached; it is read as an answer of unknown
//! age with no expiry of its own.

use crate::cache::{Entry, Value};
use bytes::{BufMut, Bytes, BytesMut};

const ANSWER: u8 = b'A';
const STUB: u8 = b'L';
const HEADER: usize = 1 + 4 * 8;

/// An answer as the tier holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub stored_at: u64,
    pub expire_at: Option<u64>,
    pub grace_ms: u64,
    pub tokens: u64,
    pub value: Bytes,
}

/// A fill lease held by one node: `node` is its run id, `attempt` tells its leases apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stub {
    pub node: Bytes,
    pub attempt: u64,
}

/// What a key on the tier holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    Answer(Answer),
    Stub(Stub),
}

impl Answer {
    /// The answer a store entry holds, if it holds a string.
    pub fn of(entry: &Entry) -> Option<Answer> {
        match &entry.value {
            Value::Str(v) => Some(Answer {
                stored_at: entry.stored_at,
                expire_at: entry.expire_at,
                grace_ms: entry.grace_ms,
                tokens: entry.tokens,
                value: v.clone(),
            }),
            _ => None,
        }
    }

    pub fn encode(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(HEADER + self.value.len());
        b.put_u8(ANSWER);
        b.put_u64_le(self.stored_at);
        b.put_u64_le(self.expire_at.unwrap_or(0));
        b.put_u64_le(self.grace_ms);
        b.put_u64_le(self.tokens);
        b.put_slice(&self.value);
        b.freeze()
    }

    /// The store entry for a copy of this answer, read again from the tier after `near_until`.
    pub fn entry(&self, near_until: u64) -> Entry {
        Entry::new(Value::Str(self.value.clone()), self.expire_at)
            .with_grace(self.grace_ms)
            .with_tokens(self.tokens)
            .with_stored_at(self.stored_at)
            .near_copy(near_until)
    }

    /// Whether `entry` holds this very answer (the same write: time and bytes).
    pub fn is_held_by(&self, entry: &Entry) -> bool {
        matches!(&entry.value, Value::Str(v) if *v == self.value)
            && entry.stored_at == self.stored_at
    }
}

impl Stub {
    pub fn encode(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(1 + self.node.len() + 21);
        b.put_u8(STUB);
        b.put_slice(&self.node);
        b.put_u8(b':');
        b.put_slice(self.attempt.to_string().as_bytes());
        b.freeze()
    }
}

impl Held {
    /// Reads a tier value (see the module's format).
    pub fn decode(raw: Bytes) -> Held {
        match raw.first() {
            Some(&ANSWER) if raw.len() >= HEADER => {
                let word = |i: usize| {
                    let mut w = [0u8; 8];
                    w.copy_from_slice(&raw[1 + 8 * i..9 + 8 * i]);
                    u64::from_le_bytes(w)
                };
                let expire_at = word(1);
                Held::Answer(Answer {
                    stored_at: word(0),
                    expire_at: (expire_at != 0).then_some(expire_at),
                    grace_ms: word(2),
                    tokens: word(3),
                    value: raw.slice(HEADER..),
                })
            }
            Some(&STUB) => {
                let body = raw.slice(1..);
                let split = body.iter().rposition(|&c| c == b':');
                let attempt = split.and_then(|i| {
                    std::str::from_utf8(&body[i + 1..])
                        .ok()
                        .and_then(|s| s.parse().ok())
                });
                match (split, attempt) {
                    (Some(i), Some(attempt)) => Held::Stub(Stub {
                        node: body.slice(..i),
                        attempt,
                    }),
                    _ => Held::foreign(raw),
                }
            }
            _ => Held::foreign(raw),
        }
    }

    fn foreign(raw: Bytes) -> Held {
        Held::Answer(Answer {
            stored_at: 0,
            expire_at: None,
            grace_ms: 0,
            tokens: 0,
            value: raw,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_and_a_stub_read_back_as_written() {
        let a = Answer {
            stored_at: 1_700_000_000_123,
            expire_at: Some(1_700_000_086_523),
            grace_ms: 5000,
            tokens: 42,
            value: Bytes::from_static(b"Paris"),
        };
        assert_eq!(Held::decode(a.encode()), Held::Answer(a.clone()));
        let no_ttl = Answer {
            expire_at: None,
            ..a
        };
        assert_eq!(Held::decode(no_ttl.encode()), Held::Answer(no_ttl));
        let s = Stub {
            node: Bytes::from_static(b"0123abcd"),
            attempt: 7,
        };
        assert_eq!(Held::decode(s.encode()), Held::Stub(s));
    }

    #[test]
    fn bytes_llmcached_did_not_write_are_an_answer_of_unknown_age() {
        for raw in [&b"plain"[..], b"", b"Lno-colon", b"A short"] {
            let Held::Answer(a) = Held::decode(Bytes::copy_from_slice(raw)) else {
                panic!("{raw:?}");
            };
            assert_eq!(&a.value[..], raw);
            assert_eq!(a.expire_at, None);
        }
    }

    #[test]
    fn an_answer_copy_keeps_its_times_and_is_recognised() {
        let a = Answer {
            stored_at: 10,
            expire_at: Some(100_000),
            grace_ms: 1000,
            tokens: 3,
            value: Bytes::from_static(b"v"),
        };
        let e = a.entry(50_000);
        assert!(e.is_near_copy());
        assert_eq!(
            (e.stored_at, e.expire_at, e.grace_ms, e.tokens),
            (10, Some(100_000), 1000, 3)
        );
        assert!(a.is_held_by(&e));
        assert_eq!(Answer::of(&e), Some(a));
    }
}
