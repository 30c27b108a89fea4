//! Old against new: the keys of the keying before its fast path (borrowed strings, verbatim
//! literals, SSE2 scanning) were recorded, and the current keying must give each of them
//! byte for byte, errors included.
//!
//! - `tests/data/keying/crosscheck.txt`: one line per generated case of
//!   `keying_crosscheck/bodies.rs` (random objects and OpenAI, Anthropic, Gemini and
//!   Responses shapes, with every escape spelling, number form and a share of broken bodies),
//!   the key or the error text the earlier keying gave;
//! - the real-shaped transcripts of `benches/llmkey/fixtures.rs`, with their recorded keys.

#[path = "keying_crosscheck/bodies.rs"]
mod bodies;
#[path = "../benches/llmkey/fixtures.rs"]
mod fixtures;

use llmcached::keying::{cache_key, KeyOptions};

fn key_or_error(body: &[u8], args: &[Vec<u8>]) -> String {
    match KeyOptions::parse_args(args).and_then(|o| cache_key(body, &o)) {
        Ok(k) => k.key,
        Err(e) => e.to_string(),
    }
}

#[test]
fn generated_bodies_keep_their_recorded_keys_and_errors() {
    let recorded = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/keying/crosscheck.txt"
    ))
    .unwrap();
    let recorded: Vec<&str> = recorded.lines().collect();
    assert_eq!(recorded.len() as u64, bodies::CASES);
    let mut keys = 0;
    for (case, want) in recorded.iter().enumerate() {
        let (body, args) = bodies::body(case as u64);
        let got = key_or_error(&body, &args);
        assert_eq!(
            got,
            *want,
            "case {case}: {}",
            String::from_utf8_lossy(&body)
        );
        keys += usize::from(got.starts_with("llm:v1:"));
    }
    // Both halves are exercised: keys and errors.
    assert!(keys > 1000 && recorded.len() - keys > 1000, "{keys} keys");
}

#[test]
fn real_shaped_transcripts_keep_their_recorded_keys() {
    let gemini_model = [b"MODEL".to_vec(), b"gemini-2.5-pro".to_vec()];
    for (body, args, want) in [
        (
            fixtures::chat_request(1_000),
            &[][..],
            "llm:v1:gpt-4o-mini-2024-07-18:099caed1b851c265dd12791bdb0c3d46c08404aced084316b84aa407a7d1aaf6",
        ),
        (
            fixtures::chat_request(200_000),
            &[],
            "llm:v1:gpt-4o-mini-2024-07-18:fa7b1c7b40f1c49379895ded8f5033c6ef71eef81f1cdf6a30755c4cbc13b70d",
        ),
        (
            fixtures::agent_transcript(196_000),
            &[],
            "llm:v1:gpt-4.1-2025-04-14:f5e8622bb0376ae5e3b6c44932d7dcb378d4379101dd7d147459356c06a2c3d4",
        ),
        (
            fixtures::anthropic_transcript(100_000),
            &[],
            "llm:v1:claude-sonnet-4-5:6a910b4c3dc3bcdd467c4d663b75ab2d65d76596fe980410f18ca6f7373003b5",
        ),
        (
            fixtures::gemini_transcript(100_000),
            &gemini_model[..],
            "llm:v1:gemini-2.5-pro:f68918a77b008a00d94d487b9836780457ebbf440bb4933e703e0bfe28049bcd",
        ),
    ] {
        assert_eq!(key_or_error(&body, args), want);
    }
}
