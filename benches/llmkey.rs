//! LLMKEY cost on OpenAI Chat requests of about 1 KB, 20 KB and 200 KB.
//!
//! Run: `cargo bench --bench llmkey`. Groups:
//! - `parse_only`: `serde_json` parsing of the body into a `Value` (the floor);
//! - `cache_key`: the full key, canonical bytes streamed into SHA-256;
//! - `material_then_hash`: the same bytes built into a buffer first, then hashed (the
//!   alternative `cache_key` was measured against).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use llmcached::keying::{cache_key, key_material, KeyOptions};
use sha2::{Digest, Sha256};

/// A chat request of at least `target` bytes: a system prompt, a tool, and a conversation of
/// alternating turns with some non-ASCII text, escapes and numbers, as real requests have.
fn chat_request(target: usize) -> Vec<u8> {
    let mut messages = vec![serde_json::json!({
        "role": "system",
        "content": "You are a careful assistant. Answer in at most three sentences.",
    })];
    let mut size = 0;
    let mut turn = 0;
    while size < target {
        let role = if turn % 2 == 0 { "user" } else { "assistant" };
        let content = format!(
            "Turn {turn}: the quick brown fox jumps over the lazy dog; \"quoted\", \
             tab\there, café, naïve, 東京, emoji 😀, number {}. \
             Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.",
            turn * 37
        );
        size += content.len() + 40;
        messages.push(serde_json::json!({ "role": role, "content": content }));
        turn += 1;
    }
    let request = serde_json::json!({
        "model": "gpt-4o-mini-2024-07-18",
        "messages": messages,
        "temperature": 0,
        "max_tokens": 512,
        "top_p": 1.0,
        "user": "user-42",
        "stream": true,
        "tools": [{"type": "function", "function": {
            "name": "lookup",
            "description": "Look a city up",
            "parameters": {"type": "object",
                           "properties": {"city": {"type": "string"}},
                           "required": ["city"]}}}],
    });
    serde_json::to_vec(&request).expect("a json! value serialises")
}

fn bench(c: &mut Criterion) {
    let opts = KeyOptions::default();
    for (label, target) in [("1KB", 1_000), ("20KB", 20_000), ("200KB", 200_000)] {
        let body = chat_request(target);
        let mut group = c.benchmark_group("llmkey");
        group
            .throughput(Throughput::Bytes(body.len() as u64))
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .sample_size(30);
        group.bench_with_input(BenchmarkId::new("parse_only", label), &body, |b, body| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(body)))
        });
        group.bench_with_input(BenchmarkId::new("cache_key", label), &body, |b, body| {
            b.iter(|| cache_key(black_box(body), &opts))
        });
        group.bench_with_input(
            BenchmarkId::new("material_then_hash", label),
            &body,
            |b, body| {
                b.iter(|| {
                    let material = key_material(black_box(body), &opts).expect("keyable");
                    Sha256::digest(material.as_bytes())
                })
            },
        );
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
