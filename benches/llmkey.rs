//! LLMKEY cost against SHA-256 of the same bytes, on request bodies shaped like real traffic.
//!
//! Run: `cargo bench --bench llmkey` (or `scripts/bench-llmkey.sh`, which prints each
//! `cache_key / sha256` ratio from criterion's estimates). Bodies (`llmkey/fixtures.rs`):
//! OpenAI Chat conversations of about 1 KB, 20 KB and 200 KB, the 196 KB agent transcript
//! (many short turns, tool calls with JSON arguments, 20 tools, non-ASCII text) and its
//! Anthropic and Gemini forms at 100 KB. Groups, per body:
//! - `sha256`: SHA-256 of the body bytes, the floor the keying is measured against;
//! - `cache_key`: the full key, canonical bytes streamed into SHA-256;
//! - `material_then_hash`: the same bytes built into a buffer first, then hashed (the
//!   alternative `cache_key` was measured against);
//! - `serde_json`: parsing the body into a `serde_json::Value`, for scale.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use llmcached::keying::{cache_key, key_material, KeyOptions};
use sha2::{Digest, Sha256};

#[path = "llmkey/fixtures.rs"]
mod fixtures;

fn bench(c: &mut Criterion) {
    let bodies: [(&str, Vec<u8>, &[&str]); 6] = [
        ("1KB", fixtures::chat_request(1_000), &[]),
        ("20KB", fixtures::chat_request(20_000), &[]),
        ("200KB", fixtures::chat_request(200_000), &[]),
        ("agent196KB", fixtures::agent_transcript(196_000), &[]),
        (
            "anthropic100KB",
            fixtures::anthropic_transcript(100_000),
            &[],
        ),
        (
            "gemini100KB",
            fixtures::gemini_transcript(100_000),
            &["MODEL", "gemini-2.5-pro"],
        ),
    ];
    for (label, body, args) in &bodies {
        let opts = KeyOptions::parse_args(args.iter()).expect("valid options");
        let mut group = c.benchmark_group("llmkey");
        group
            .throughput(Throughput::Bytes(body.len() as u64))
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .sample_size(30);
        group.bench_with_input(BenchmarkId::new("sha256", label), body, |b, body| {
            b.iter(|| Sha256::digest(black_box(body)))
        });
        group.bench_with_input(BenchmarkId::new("cache_key", label), body, |b, body| {
            b.iter(|| cache_key(black_box(body), &opts).expect("keyable"))
        });
        group.bench_with_input(
            BenchmarkId::new("material_then_hash", label),
            body,
            |b, body| {
                b.iter(|| {
                    let material = key_material(black_box(body), &opts).expect("keyable");
                    Sha256::digest(material.as_bytes())
                })
            },
        );
        group.bench_with_input(BenchmarkId::new("serde_json", label), body, |b, body| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(body)))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
