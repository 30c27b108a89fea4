//! Compression through the store: what is packed, that every read gets the original bytes,
//! the weight, the dictionaries and the order the journal sees them in.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use super::*;
use crate::cache::{Clock, Entry, EvictionKind, Store, Value, Write};
use std::time::Duration;

#[path = "../../../tests/fixtures/prose.rs"]
mod fixture;

fn prose(seed: u64, len: usize) -> Bytes {
    Bytes::from(fixture::prose(seed, len))
}

/// Bytes no compressor shrinks.
fn noise(len: usize) -> Bytes {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect::<Vec<_>>()
        .into()
}

fn store() -> Store {
    let s = Store::new(64 << 20, EvictionKind::Lru, Clock::new());
    s.codec().set_policy(Policy {
        enabled: true,
        ..Policy::default()
    });
    s
}

fn stored(s: &Store, key: &[u8]) -> Arc<Entry> {
    s.iter_stored()
        .find(|(k, _)| **k == *key)
        .map(|(_, e)| e)
        .unwrap()
}

fn put(s: &Store, key: &str, v: Bytes) {
    s.put(
        &Bytes::from(key.to_owned()),
        Entry::new(Value::Str(v), None),
    )
    .unwrap();
}

#[test]
fn long_compressible_strings_are_stored_packed_and_read_back_whole() {
    let s = store();
    let v = prose(1, 2048);
    put(&s, "a:1", v.clone());
    assert!(matches!(stored(&s, b"a:1").value, Value::Packed(_)));
    assert_eq!(s.get(b"a:1").unwrap().as_str(), Some(&v));
    assert_eq!(
        s.iter()
            .find(|(k, _)| **k == b"a:1"[..])
            .unwrap()
            .1
            .as_str(),
        Some(&v)
    );
    s.with_locked(b"a:1", |e| assert_eq!(e.unwrap().as_str(), Some(&v)));
    s.write(&Bytes::from_static(b"a:1"), |e| {
        assert_eq!(e.unwrap().as_str(), Some(&v));
        (Write::Keep, ())
    })
    .unwrap();
    // The budget counts the frame, not the original.
    let w = s.weight_of(b"a:1").unwrap() as usize;
    assert!(
        w < 3 + v.len() / 2 + crate::cache::entry::ENTRY_OVERHEAD,
        "weight {w}"
    );
    assert_eq!(s.codec().stats.packed.get(), 1);
}

#[test]
fn short_and_incompressible_values_are_stored_as_they_came() {
    let s = store();
    put(&s, "short", prose(2, 255));
    put(&s, "noise", noise(4096));
    for k in [&b"short"[..], b"noise"] {
        assert!(matches!(stored(&s, k).value, Value::Str(_)), "{k:?}");
    }
    assert_eq!(s.get(b"noise").unwrap().as_str(), Some(&noise(4096)));
    assert_eq!(
        s.weight_of(b"noise").unwrap() as usize,
        5 + 4096 + crate::cache::entry::ENTRY_OVERHEAD
    );
    // Tried once (too long to skip), not kept; the short one was not even tried.
    assert_eq!(s.codec().stats.kept_plain.get(), 1);
}

#[test]
fn compression_off_stores_every_value_plain() {
    let s = store();
    s.codec().set_policy(Policy {
        enabled: false,
        min_bytes: 256,
    });
    put(&s, "a:1", prose(3, 4096));
    assert!(matches!(stored(&s, b"a:1").value, Value::Str(_)));
}

/// A read of an unpacked entry is the key's read (OBJECT FREQ / IDLETIME, expired-unread).
#[test]
fn reads_of_an_unpacked_entry_are_recorded_on_the_stored_one() {
    let s = store();
    put(&s, "a:1", prose(4, 2048));
    assert!(!stored(&s, b"a:1").was_read());
    s.get(b"a:1").unwrap().mark_read(5_000);
    assert!(stored(&s, b"a:1").was_read());
}

/// EXPIRE re-stores the same value: its frame is kept, not compressed anew.
#[test]
fn retiming_a_packed_value_keeps_its_frame() {
    let s = store();
    put(&s, "a:1", prose(5, 2048));
    let Value::Packed(before) = stored(&s, b"a:1").value.clone() else {
        panic!("not packed")
    };
    let at = s.clock().now_ms() + 60_000;
    s.write(&Bytes::from_static(b"a:1"), |e| {
        (Write::Put(e.unwrap().retimed(Some(at))), ())
    })
    .unwrap();
    let after = stored(&s, b"a:1");
    let Value::Packed(p) = &after.value else {
        panic!("not packed")
    };
    assert_eq!(p.frame().as_ptr(), before.frame().as_ptr());
    assert_eq!(
        (after.expire_at, s.codec().stats.packed.get()),
        (Some(at), 1)
    );
    assert_eq!(s.get(b"a:1").unwrap().as_str(), Some(&prose(5, 2048)));
}

#[test]
fn the_prefix_is_the_key_up_to_its_last_colon() {
    assert_eq!(prefix_of(b"llmcache:v1:abc"), b"llmcache:v1:");
    assert_eq!(prefix_of(b"llm:v1:gpt-4o:00ff"), b"llm:v1:gpt-4o:");
    assert_eq!(prefix_of(b"plain"), b"");
    let long = [b'x'; 100];
    assert_eq!(prefix_of(&long), b"");
}

/// What a journal is told, in order.
#[derive(Default)]
struct Log(Mutex<Vec<String>>);

impl Journal for Log {
    fn check_writable(&self) -> Result<(), String> {
        Ok(())
    }
    fn put(&self, key: &Bytes, entry: &Entry) {
        let what = match &entry.value {
            Value::Packed(p) => format!(
                "packed {} dict {}",
                String::from_utf8_lossy(key),
                p.dict_id()
            ),
            _ => format!("plain {}", String::from_utf8_lossy(key)),
        };
        lock(&self.0).push(what);
    }
    fn remove(&self, _: &Bytes) {}
    fn flush_all(&self) {}
    fn put_dict(&self, id: u32, prefix: &Bytes, _: &Bytes) {
        lock(&self.0).push(format!("dict {id} {}", String::from_utf8_lossy(prefix)));
    }
}

/// A prefix's first values train its dictionary; later values are packed with it, smaller,
/// and the journal is told of the dictionary before any value that names it.
#[test]
fn a_prefix_trains_a_dictionary_that_later_values_use_after_the_journal_has_it() {
    let s = store();
    let log = Arc::new(Log::default());
    s.set_journal(log.clone());
    for i in 0..dict::TRAIN_SAMPLES as u64 {
        put(&s, &format!("llm:m:{i}"), prose(i, 2048));
    }
    assert!(s.codec().wait_for_dictionaries(1, Duration::from_secs(60)));
    let before = s.weight_of(b"llm:m:0").unwrap();
    put(&s, "llm:m:new", prose(0, 2048));
    let after = s.weight_of(b"llm:m:new").unwrap();
    assert!(
        after < before,
        "with the dictionary {after}, without {before}"
    );
    assert_eq!(s.get(b"llm:m:new").unwrap().as_str(), Some(&prose(0, 2048)));
    let log = lock(&log.0).clone();
    let dict_at = log.iter().position(|l| l == "dict 1 llm:m:").unwrap();
    let first_use = log.iter().position(|l| l.ends_with("dict 1")).unwrap();
    assert!(dict_at < first_use, "{log:?}");
    assert_eq!(
        log.last().map(String::as_str),
        Some("packed llm:m:new dict 1")
    );
    // Another prefix has no dictionary yet.
    put(&s, "other:1", prose(9, 2048));
    assert!(matches!(&stored(&s, b"other:1").value, Value::Packed(p) if p.dict_id() == 0));
}

/// A restart's store reads what the first one packed once its dictionaries are loaded; a
/// value whose dictionary is missing is not loaded at all.
#[test]
fn loaded_dictionaries_read_old_frames_and_a_missing_one_drops_its_value() {
    let s = store();
    for i in 0..dict::TRAIN_SAMPLES as u64 {
        put(&s, &format!("p:{i}"), prose(i, 2048));
    }
    assert!(s.codec().wait_for_dictionaries(1, Duration::from_secs(60)));
    put(&s, "p:x", prose(77, 3000));
    let e = stored(&s, b"p:x");
    assert!(matches!(&e.value, Value::Packed(p) if p.dict_id() == 1));
    let again = store();
    let Value::Packed(p) = &e.value else { panic!() };
    assert_eq!(
        again.codec().unpack(p),
        Err(PackError::UnknownDictionary(1))
    );
    again.load(
        Bytes::from_static(b"p:x"),
        Entry::new(e.value.clone(), None),
    );
    assert!(again.get(b"p:x").is_none());
    for (id, prefix, raw) in s.codec().dictionaries() {
        again
            .codec()
            .load_dictionary(id, prefix.clone(), raw.clone())
            .unwrap();
        // The same dictionary twice (a base and the log after it) is one.
        again.codec().load_dictionary(id, prefix, raw).unwrap();
    }
    again.load(
        Bytes::from_static(b"p:x"),
        Entry::new(e.value.clone(), None),
    );
    assert_eq!(again.get(b"p:x").unwrap().as_str(), Some(&prose(77, 3000)));
    // New values under the prefix use the loaded dictionary instead of training another.
    put(&again, "p:y", prose(78, 2048));
    assert!(matches!(&stored(&again, b"p:y").value, Value::Packed(p) if p.dict_id() == 1));
    assert_eq!(again.codec().dictionary_count(), 1);
}

#[test]
fn damaged_frames_are_errors_not_panics() {
    let c = Codec::new(Arc::new(OnceLock::new()));
    c.set_policy(Policy {
        enabled: true,
        ..Policy::default()
    });
    for frame in [&b""[..], b"\x28\xb5\x2f\xfd", b"not a frame at all"] {
        assert!(c
            .unpack(&Packed::from_frame(Bytes::copy_from_slice(frame)))
            .is_err());
    }
    let c = Arc::new(c);
    let good = c.pack(b"k", &prose(1, 1000)).unwrap();
    let mut cut = good.frame().to_vec();
    cut.truncate(cut.len() - 3);
    assert!(c.unpack(&Packed::from_frame(cut.into())).is_err());
}
