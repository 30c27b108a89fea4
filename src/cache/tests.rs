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
