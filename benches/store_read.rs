//! What one read of a key costs, in the store and in the maps it could be built on.
//!
//! Run: `cargo bench --bench store_read`. 10,000 keys shaped as redis-benchmark's
//! (`key:000000004242`) with 2 KB values, read in a fixed shuffled order (so each read misses
//! the CPU caches the way a server's reads do); each group reads 10,000 keys per iteration:
//! - `store_get`: `Store::get` and the read recorded on the entry, what GET does (the store's
//!   table of keys, the slot's entry, the expiry check, moka told of the read once a second);
//! - `moka_get`: moka alone, built as the store builds it (weigher, TinyLFU, ahash), holding
//!   the same `Arc`s;
//! - `hashmap_get`: a `HashMap` with ahash behind a read lock, the floor a table of our own
//!   beside moka would cost per read.
//!
//! The figures are per 10,000 reads; divide by 10,000 for one.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use llmcached::cache::{Clock, Entry, EvictionKind, Store, Value};

const KEYS: usize = 10_000;

fn keys() -> Vec<Bytes> {
    (0..KEYS)
        .map(|i| Bytes::from(format!("key:{i:012}")))
        .collect()
}

/// The keys in an order that jumps around the table (a fixed odd stride modulo a prime).
fn read_order(keys: &[Bytes]) -> Vec<Bytes> {
    (0..KEYS).map(|i| keys[(i * 7919) % KEYS].clone()).collect()
}

fn bench(c: &mut Criterion) {
    let keys = keys();
    let order = read_order(&keys);
    let value = Bytes::from(vec![b'x'; 2048]);

    let store = Store::new(512 << 20, EvictionKind::TinyLfu, Clock::new());
    for k in &keys {
        let _ = store.put(k, Entry::new(Value::Str(value.clone()), None));
    }

    let moka: moka::sync::Cache<Bytes, Arc<Entry>, ahash::RandomState> =
        moka::sync::Cache::builder()
            .max_capacity(512 << 20)
            .weigher(|k: &Bytes, v: &Arc<Entry>| Entry::weight(k, v))
            .eviction_policy(moka::policy::EvictionPolicy::tiny_lfu())
            .build_with_hasher(ahash::RandomState::new());
    let mut map: HashMap<Bytes, Arc<Entry>, ahash::RandomState> =
        HashMap::with_hasher(ahash::RandomState::new());
    for k in &keys {
        let e = Arc::new(Entry::new(Value::Str(value.clone()), None));
        moka.insert(k.clone(), e.clone());
        map.insert(k.clone(), e);
    }
    moka.run_pending_tasks();
    let map = parking_lot::RwLock::new(map);

    let mut g = c.benchmark_group("read_10k");
    g.throughput(Throughput::Elements(KEYS as u64));
    g.measurement_time(Duration::from_secs(3));
    g.bench_function("store_get", |b| {
        b.iter(|| {
            for k in &order {
                // As GET reads: the entry, then the read recorded on it.
                if let Some(e) = store.get(k) {
                    e.mark_read(store.clock().now_ms());
                    black_box(e);
                }
            }
        })
    });
    g.bench_function("moka_get", |b| {
        b.iter(|| {
            for k in &order {
                black_box(moka.get(k.as_ref()));
            }
        })
    });
    g.bench_function("hashmap_get", |b| {
        b.iter(|| {
            for k in &order {
                black_box(map.read().get(k.as_ref()).cloned());
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
