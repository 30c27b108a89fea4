//! Runs the keying vectors in `tests/data/keying/*.json` (their `about` field gives the format).
//!
//! The golden keys and the parser's refusals there were computed by an independent
//! implementation of the key rules (`keyrules.py`); they pin the key format. Keys from before
//! the second pass of the rules are pinned separately (`keying_v1.rs`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use llmcached::keying::{cache_key, key_material, CacheKey, KeyError, KeyOptions};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keying")
}

fn load_all() -> Vec<(String, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| !p.ends_with("v1_examples.json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let doc = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{name} is not valid JSON: {e}"));
            (name, doc)
        })
        .collect()
}

/// The request bytes: a string is sent as is, anything else as its compact JSON text.
fn body(request: &Value) -> Vec<u8> {
    match request {
        Value::String(raw) => raw.as_bytes().to_vec(),
        other => serde_json::to_vec(other).unwrap(),
    }
}

fn options(args: Option<&Value>) -> Result<KeyOptions, KeyError> {
    let words: Vec<&str> = args
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|w| w.as_str().unwrap()).collect())
        .unwrap_or_default();
    KeyOptions::parse_args(words.iter().map(|w| w.as_bytes()))
}

fn key_of(request: &Value, args: Option<&Value>) -> Result<CacheKey, KeyError> {
    cache_key(&body(request), &options(args)?)
}

fn section<'a>(doc: &'a Value, name: &str) -> &'a [Value] {
    doc.get(name)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn label(file: &str, case: &Value) -> String {
    format!("{file}: {}", case["name"].as_str().unwrap_or("?"))
}

/// Keys of both sides of a pair; both must be keyable.
fn pair_keys(file: &str, case: &Value) -> (String, String) {
    let args = case.get("args");
    let b_args = case.get("b_args").or(args);
    let a = key_of(&case["a"], args).unwrap_or_else(|e| panic!("{}: a: {e}", label(file, case)));
    let b = key_of(&case["b"], b_args).unwrap_or_else(|e| panic!("{}: b: {e}", label(file, case)));
    (a.key, b.key)
}

#[test]
fn every_dialect_has_vectors() {
    let docs = load_all();
    let dialects: BTreeSet<&str> = docs
        .iter()
        .map(|(_, d)| d["dialect"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<&str> = [
        "anthropic",
        "gemini",
        "generic",
        "openai-chat",
        "openai-responses",
    ]
    .into();
    assert_eq!(dialects, expected);
    for (file, doc) in &docs {
        for s in ["same", "different", "golden", "errors"] {
            assert!(!section(doc, s).is_empty(), "{file} has no {s} vectors");
        }
    }
}

#[test]
fn equivalent_requests_share_a_key() {
    for (file, doc) in load_all() {
        for case in section(&doc, "same") {
            let (a, b) = pair_keys(&file, case);
            assert_eq!(a, b, "{}", label(&file, case));
        }
    }
}

#[test]
fn different_requests_get_different_keys() {
    for (file, doc) in load_all() {
        for case in section(&doc, "different") {
            let (a, b) = pair_keys(&file, case);
            assert_ne!(a, b, "{}", label(&file, case));
        }
    }
}

#[test]
fn golden_keys_never_change() {
    for (file, doc) in load_all() {
        for case in section(&doc, "golden") {
            let label = label(&file, case);
            let request = body(&case["request"]);
            let opts = options(case.get("args")).unwrap();
            let material = key_material(&request, &opts).unwrap();
            assert_eq!(
                material,
                case["material"].as_str().unwrap(),
                "{label}: material"
            );
            let key = cache_key(&request, &opts).unwrap();
            assert_eq!(key.key, case["key"].as_str().unwrap(), "{label}: key");
            let hex: String = Sha256::digest(material.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert!(
                key.key.ends_with(&format!(":{hex}")),
                "{label}: hash of material"
            );
            assert_eq!(
                key.dialect.name(),
                doc["dialect"].as_str().unwrap(),
                "{label}"
            );
        }
    }
}

#[test]
fn errors_read_exactly() {
    for (file, doc) in load_all() {
        for case in section(&doc, "errors") {
            let got = match key_of(&case["request"], case.get("args")) {
                Ok(k) => panic!("{}: got key {}", label(&file, case), k.key),
                Err(e) => e.to_string(),
            };
            assert_eq!(
                got,
                case["error"].as_str().unwrap(),
                "{}",
                label(&file, case)
            );
        }
    }
}

#[test]
fn key_exposes_the_model_and_has_no_glob_characters() {
    for (file, doc) in load_all() {
        for case in section(&doc, "golden") {
            let key = key_of(&case["request"], case.get("args")).unwrap();
            assert!(!key.model.is_empty());
            let segment = &key.key["llm:v1:".len()..key.key.len() - 65];
            assert!(
                segment
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b"*?[]\\:".contains(&b)),
                "{}: {}",
                label(&file, case),
                key.key
            );
        }
    }
}
