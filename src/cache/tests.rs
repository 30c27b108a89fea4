//! Unit tests of the store facade.

use super::*;

fn s(v: &str) -> Value {
    Value::Str(Bytes::from(v.to_string()))
}

#[test]
fn overwrites_in_place_or_insert_and_the_budget_stays_exact() {
    let store = Store::new(1 << 20, EvictionKind::TinyLfu, Clock::new());
    let k = Bytes::from_static(b"k");
    store.put(&k, Entry::new(s("aaaa"), None)).unwrap();
    store.run_maintenance();
    let w = store.used_bytes();
    // Same weight, same expiry: swapped in place.
    store.put(&k, Entry::new(s("bbbb"), None)).unwrap();
    store.run_maintenance();
    assert_eq!(store.get(b"k").unwrap().as_str().unwrap().as_ref(), b"bbbb");
    assert_eq!(store.used_bytes(), w);
    // Another size or another expiry: a real insert, so moka's weight and timer follow.
    store.put(&k, Entry::new(s("cccccccc"), None)).unwrap();
    store.run_maintenance();
    assert_eq!(store.used_bytes(), w + 4);
    let at = store.clock().now_ms() + 1000;
    store.put(&k, Entry::new(s("dddddddd"), Some(at))).unwrap();
    assert_eq!(store.get(b"k").unwrap().expire_at, Some(at));
    assert_eq!(store.len(), 1);
    assert_eq!(store.stats().expires.get(), 1);
    store.clock().advance(1000);
    assert!(store.get(b"k").is_none());
}

/// What moka evicts leaves the store's table of keys too: every key a read finds is one moka
/// holds, after evictions on writes and after a smaller budget (CONFIG SET maxmemory).
#[test]
fn reads_find_exactly_the_keys_moka_keeps_through_evictions_and_a_resize() {
    let store = Store::new(200_000, EvictionKind::Lru, Clock::new());
    let keys: Vec<Bytes> = (0..2_000).map(|i| Bytes::from(format!("k:{i}"))).collect();
    for k in &keys {
        store.put(k, Entry::new(s(&"v".repeat(100)), None)).unwrap();
    }
    let readable = |store: &Store| keys.iter().filter(|k| store.get(k).is_some()).count();
    let kept = store.len();
    assert!(
        kept > 0 && kept < keys.len() as u64,
        "{kept} of {}",
        keys.len()
    );
    assert_eq!(readable(&store) as u64, kept);

    store.resize(50_000, EvictionKind::Lru);
    let kept = store.len();
    assert!(kept > 0 && kept < 2_000 / 4, "{kept}");
    assert_eq!(readable(&store) as u64, kept);
    // Keys written after the resize are evicted by the new cache, and leave the table with it.
    for k in &keys {
        store.put(k, Entry::new(s(&"w".repeat(100)), None)).unwrap();
    }
    let kept = store.len();
    assert_eq!(readable(&store) as u64, kept);

    store.flush().unwrap();
    assert_eq!(readable(&store), 0);
}

/// An overwrite swapped in place is read back, and a key removed is gone from reads at once.
#[test]
fn a_swapped_value_is_read_and_a_removed_key_is_gone() {
    let store = Store::new(1 << 20, EvictionKind::TinyLfu, Clock::new());
    let k = Bytes::from_static(b"k");
    store.put(&k, Entry::new(s("aaaa"), None)).unwrap();
    store.put(&k, Entry::new(s("bbbb"), None)).unwrap();
    assert_eq!(store.get(b"k").unwrap().as_str().unwrap().as_ref(), b"bbbb");
    store.write(&k, |_| (Write::Remove, ())).unwrap();
    assert!(store.get(b"k").is_none());
    assert_eq!(store.len(), 0);
}
