//! Search indexes against the byte budget: what an index keeps per document (the vector copy,
//! the HNSW links, the document's bookkeeping) is counted with the hash, so maxmemory holds
//! with big indexes.

use crate::support::{start_with, text};
use llmcached::cache::Entry;
use llmcached::search::hnsw;

const MAX: u64 = 400_000;

#[tokio::test]
async fn hnsw_links_count_against_maxmemory() {
    let s = start_with(|c| c.maxmemory = MAX).await;
    let mut c = s.conn(false).await;
    let created: redis::Value = redis::cmd("FT.CREATE")
        .arg("ix")
        .arg(&[
            "ON", "HASH", "PREFIX", "1", "doc:", "SCHEMA", "v", "VECTOR", "HNSW", "10",
        ])
        .arg(&[
            "TYPE",
            "FLOAT32",
            "DIM",
            "4",
            "DISTANCE_METRIC",
            "L2",
            "M",
            "16",
        ])
        .arg(&["EF_CONSTRUCTION", "32"])
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(text(&created), "OK");
    // Small vectors: the graph's links (about 150 bytes a node) outweigh the 16-byte vector,
    // so leaving them out would let the index grow far past what the budget saw.
    for chunk in 0..30 {
        let mut p = redis::pipe();
        for i in chunk * 200..(chunk + 1) * 200 {
            let v: Vec<u8> = (0..4)
                .map(|j| ((i * 7 + j * 13) % 101) as f32)
                .flat_map(f32::to_le_bytes)
                .collect();
            p.cmd("HSET")
                .arg(format!("doc:{i}"))
                .arg("v")
                .arg(v)
                .ignore();
        }
        p.query_async::<()>(&mut c).await.unwrap();
        // As the store's housekeeping does between writes: evictions reach the index, whose
        // arrays then stay near the live count (ids are reused).
        s.shared.store.run_maintenance();
    }
    let idx = s.shared.search.get(b"ix").unwrap();
    let live = s.shared.store.len() as usize;
    assert!(live < 6000, "nothing was evicted");
    assert_eq!(idx.num_docs(), live);
    let used = s.shared.store.used_bytes();
    assert!(used <= MAX, "{used} bytes used of {MAX}");
    // What the budget counted beyond the hashes themselves must cover what the index holds
    // (its arrays grow by steps: some slack).
    let hashes: u64 = s
        .shared
        .store
        .iter()
        .map(|(k, e)| Entry::weight(&k, &e) as u64)
        .sum();
    let extra = (used - hashes) as usize;
    let held = idx.vector_bytes();
    assert!(
        held <= extra * 3 / 2,
        "{extra} bytes counted beyond the hashes, the index holds {held} in vectors and links"
    );
    assert!(extra / live >= hnsw::bytes_per_node(16) + 16);
}
