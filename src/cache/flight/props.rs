//! Property test of the flight state machine: random interleavings of append, read, abort,
//! expiry, an outside store and end across three readers. Every reader's final bytes are the
//! stored answer, every `reset` carries bytes from offset 0, every byte a reader holds is a
//! prefix of what was appended to (or stored for) its generation, and at most one caller may
//! append at any time.

use super::stream::Want;
use super::*;
use crate::cache::Value;
use proptest::prelude::*;
use std::collections::HashMap;

#[derive(Debug, Clone)]
enum Op {
    /// The current leader appends `n` bytes (0: a heartbeat).
    Append(u8),
    /// A stale leader (the previous one) tries to append.
    StaleAppend,
    Read(usize),
    Abort,
    Expire,
    /// Another caller stores an answer: the streamed bytes plus a tail, or something else.
    Store {
        prefix: bool,
    },
    End,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..4).prop_map(Op::Append),
        1 => Just(Op::StaleAppend),
        6 => (0usize..3).prop_map(Op::Read),
        1 => Just(Op::Abort),
        1 => Just(Op::Expire),
        1 => any::<bool>().prop_map(|prefix| Op::Store { prefix }),
        1 => Just(Op::End),
    ]
}

#[derive(Default)]
struct Reader {
    cursor: Option<(u64, u64)>,
    bytes: Vec<u8>,
    wait: Option<ReadWait>,
    done: bool,
}

struct Model {
    f: Flights,
    key: Bytes,
    store: Option<(Arc<Entry>, Bytes)>,
    /// Bytes appended per generation.
    appended: HashMap<u64, Vec<u8>>,
    leader: Option<u64>,
    stale: Option<u64>,
    readers: Vec<Reader>,
    next_byte: u8,
}

impl Model {
    fn lookup(&self) -> Result<Option<Stored>, StreamError> {
        Ok(self.store.as_ref().map(|(entry, value)| Stored {
            entry: entry.clone(),
            value: value.clone(),
        }))
    }

    fn put(&mut self, value: Bytes) -> Arc<Entry> {
        let entry = Arc::new(Entry::new(Value::Str(value.clone()), None));
        self.store = Some((entry.clone(), value));
        entry
    }

    fn read(&mut self, i: usize) {
        if self.readers[i].done {
            return;
        }
        let cursor = match self.readers[i].cursor {
            None => Cursor::Start,
            Some((gen, offset)) => Cursor::At { gen, offset },
        };
        let want = Want { cursor, limit: 3 };
        let lookup = self.lookup();
        let step = match self.readers[i].wait.take() {
            Some(w) => self.f.reread(w, want, || lookup),
            None => self.f.read(&self.key, 10 + i as u64, want, || lookup),
        };
        let r = match step.expect("reads succeed") {
            ReadStep::Pending(w) => {
                self.readers[i].wait = Some(w);
                return;
            }
            ReadStep::Ready(r) => r,
        };
        let reader = &mut self.readers[i];
        match r.state {
            ReadState::Lead => {
                assert!(
                    self.leader.is_none()
                        || self.f.current(&self.key).map(|l| l.gen) != self.leader,
                    "a second leader while the first still holds the lease"
                );
                self.stale = self.leader.replace(r.gen);
                reader.cursor = Some((r.gen, 0));
                reader.bytes.clear();
                return;
            }
            ReadState::Reset => {
                assert_eq!(
                    r.offset,
                    r.data.len() as u64,
                    "a reset carries bytes from 0"
                );
                reader.bytes.clear();
            }
            ReadState::Data | ReadState::Done => {}
        }
        reader.bytes.extend_from_slice(&r.data);
        reader.cursor = Some((r.gen, r.offset));
        assert_eq!(reader.bytes.len() as u64, r.offset);
        let source = match &self.store {
            Some((_, v)) if r.state == ReadState::Done || self.f.current(&self.key).is_none() => {
                v.to_vec()
            }
            _ => self.appended.get(&r.gen).cloned().unwrap_or_default(),
        };
        let prefix = source.starts_with(&reader.bytes)
            || self
                .store
                .as_ref()
                .is_some_and(|(_, v)| v.starts_with(&reader.bytes));
        assert!(prefix, "reader holds bytes never appended to gen {}", r.gen);
        reader.done = r.state == ReadState::Done;
    }

    fn apply(&mut self, op: Op) {
        let key = self.key.clone();
        match op {
            Op::Append(n) => {
                let Some(gen) = self.leader else { return };
                let chunk: Vec<u8> = (0..n)
                    .map(|_| {
                        self.next_byte = self.next_byte.wrapping_add(1);
                        self.next_byte
                    })
                    .collect();
                if self
                    .f
                    .append(&key, gen, Bytes::from(chunk.clone()), 1 << 20, u64::MAX)
                    .is_ok()
                {
                    self.appended
                        .entry(gen)
                        .or_default()
                        .extend_from_slice(&chunk);
                } else {
                    assert_ne!(self.f.current(&key).map(|l| l.gen), Some(gen));
                }
            }
            Op::StaleAppend => {
                if let Some(gen) = self.stale {
                    let r = self
                        .f
                        .append(&key, gen, Bytes::from_static(b"!"), 1 << 20, u64::MAX);
                    assert_eq!(r, Err(StreamError::NoLease(gen)));
                }
            }
            Op::Read(i) => self.read(i),
            Op::Abort => {
                if let Some(gen) = self.leader {
                    self.f.abort(&key, Some(gen));
                }
            }
            Op::Expire => {
                if let Some(l) = self.f.current(&key) {
                    self.f
                        .expire_due(&key, l.flight, Instant::now() + Duration::from_secs(3600));
                }
            }
            Op::Store { prefix } => {
                if self.store.is_some() {
                    return;
                }
                let mut v = match (prefix, self.f.current(&key)) {
                    (true, Some(l)) => self.appended.get(&l.gen).cloned().unwrap_or_default(),
                    _ => b"other".to_vec(),
                };
                v.extend_from_slice(b"+tail");
                let value = Bytes::from(v);
                let entry = self.put(value.clone());
                self.f.complete(&key, &value, 0, Some(&entry));
            }
            Op::End => {
                let Some(gen) = self.leader else { return };
                let stored = self.store.clone();
                let mut put = None;
                let r = self.f.end::<StreamError>(&key, gen, |value, _| {
                    Ok(match &stored {
                        Some((e, v)) => (0, v.clone(), 0, Some(e.clone())),
                        None => {
                            let entry = Arc::new(Entry::new(Value::Str(value.clone()), None));
                            put = Some((entry.clone(), value.clone()));
                            (1, value, 0, Some(entry))
                        }
                    })
                });
                if r.is_ok() {
                    if let Some(p) = put {
                        self.store = Some(p);
                    }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn every_reader_ends_with_the_stored_answer(ops in proptest::collection::vec(op(), 0..60)) {
        let mut m = Model {
            f: Flights::new(Duration::from_secs(3600)),
            key: Bytes::from_static(b"k"),
            store: None,
            appended: HashMap::new(),
            leader: None,
            stale: None,
            readers: (0..3).map(|_| Reader::default()).collect(),
            next_byte: 0,
        };
        for op in ops {
            m.apply(op);
        }
        // Finish: whoever leads (or a fresh reader) ends the attempt; everyone reads to done.
        for _ in 0..50 {
            if m.readers.iter().all(|r| r.done) {
                break;
            }
            if m.store.is_none() {
                if m.f.current(&m.key).is_none() || m.leader != m.f.current(&m.key).map(|l| l.gen) {
                    // Nobody holds a lease the model knows: a reader leads or is promoted.
                    m.apply(Op::Abort);
                }
                m.apply(Op::End);
            }
            for i in 0..3 {
                m.apply(Op::Read(i));
            }
        }
        let (_, answer) = m.store.clone().expect("an answer was stored");
        for r in &m.readers {
            prop_assert!(r.done, "a reader never finished");
            prop_assert_eq!(&r.bytes[..], &answer[..]);
        }
        drop(m.readers);
        prop_assert_eq!(m.f.readers_waiting(), 0);
        prop_assert_eq!(m.f.stream_bytes(), 0);
        prop_assert_eq!(m.f.leases_active(), 0);
    }
}
