//! Keys from before the second pass of the keying rules stay what they were.
//!
//! `tests/data/keying/v1_examples.json` holds every example request of the repository with
//! the key (or error line) the code gave it before exact integers, merged forms, the live-data
//! policy and FORMAT were added. Keys are persisted, so an ordinary request must keep its key;
//! only the entries marked `changed` (each with its reason) may differ, and they must.

use llmcached::keying::{cache_key, KeyOptions};
use serde_json::Value;

fn examples() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/keying/v1_examples.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["examples"].as_array().unwrap().clone()
}

/// The key of an example, or `error: <line>` as the fixture writes refusals.
fn outcome(example: &Value) -> String {
    let args: Vec<&str> = example["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let request = example["request"].as_str().unwrap().as_bytes();
    match KeyOptions::parse_args(args.iter().map(|a| a.as_bytes()))
        .and_then(|opts| cache_key(request, &opts))
    {
        Ok(key) => key.key,
        Err(e) => format!("error: {e}"),
    }
}

#[test]
fn ordinary_requests_keep_their_v1_keys() {
    let examples = examples();
    let mut kept = 0;
    for example in examples.iter().filter(|e| e.get("changed").is_none()) {
        assert_eq!(
            outcome(example),
            example["v1"].as_str().unwrap(),
            "{} ({})",
            example["name"],
            example["source"]
        );
        kept += 1;
    }
    // The pins written for this file, and the requests of examples/, the docs and the
    // integration tests, are all ordinary.
    for source in [
        "examples/python/llm_cache.py",
        "examples/rust_llm_cache.rs",
        "tests/it/keyed.rs",
        "tests/clients/test_llmkey.py",
        "docs/KEYING.md",
        "tests/data/keying/v1_examples.json",
    ] {
        assert!(
            examples
                .iter()
                .filter(|e| e["source"] == source)
                .all(|e| e.get("changed").is_none()),
            "{source}"
        );
    }
    assert!(kept >= 200, "{kept}");
}

#[test]
fn only_the_listed_requests_change_and_each_says_why() {
    let examples = examples();
    let changed: Vec<&Value> = examples
        .iter()
        .filter(|e| e.get("changed").is_some())
        .collect();
    for example in &changed {
        let why = example["changed"].as_str().unwrap();
        assert!(
            why.starts_with("merged form: ")
                || why.starts_with("integer beyond 2^53")
                || why.starts_with("live data: "),
            "{why}"
        );
        let now = outcome(example);
        assert_ne!(now, example["v1"].as_str().unwrap(), "{}", example["name"]);
        if why.starts_with("live data: ") {
            assert!(
                now.starts_with("error: NOTCACHEABLE ")
                    && now.ends_with("pass LIVE to cache it anyway"),
                "{now}"
            );
        } else {
            assert!(now.starts_with("llm:v1:"), "{}: {now}", example["name"]);
        }
    }
    // docs/KEYING.md ("How many keys changed") states these figures.
    assert_eq!((changed.len(), examples.len()), (58, 289));
}
