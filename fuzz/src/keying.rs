//! The keying canonicaliser (`LLMKEY`): arbitrary request bytes and options.
//!
//! # Input
//! ```text
//! byte 0    bit 0: SAMPLED; bits 1..4: DIALECT, 0 = detect, 1..=5 = Dialect::ALL[d - 1],
//!           6 or 7 = the options are option words instead (below); bit 4: MODEL follows
//! [model]   (bit 4) a length byte (mod 40) and the model name (UTF-8, lossily)
//! [words]   (d = 6, 7) a length byte and that many bytes of option words, split on spaces,
//!           parsed as LLMKEY's arguments
//! rest      the request body
//! ```
//!
//! # Checks
//! - Keying the same body with the same options twice gives the same key, or the same error.
//! - The key is `llm:v1:<model segment>:<sha256 of the key material>`, the material is what
//!   `key_material` returns, and the model segment is what `model_pattern` matches.
//! - The canonical JSON of any JSON value is a fixed point: canonicalising it again (after
//!   parsing it back) gives the same text.
//! - Spelling does not matter: the canonical text of the body keys to the same key as the body
//!   (or fails the same way).

use crate::input::Input;
use llmcached::keying::{
    self, cache_key, canonicalize, key_material, Dialect, KeyError, KeyOptions,
};
use sha2::{Digest, Sha256};

/// Dialect selector values that switch to option words.
const DIALECT_WORDS: u8 = 6;

pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let flags = input.byte();
    let dialect = (flags >> 1) & 7;
    let opts = if dialect >= DIALECT_WORDS {
        let n = input.byte() as usize;
        let words = input.take(n);
        let words: Vec<&[u8]> = words
            .split(|&b| b == b' ')
            .filter(|w| !w.is_empty())
            .collect();
        let first = KeyOptions::parse_args(&words);
        let again = KeyOptions::parse_args(&words);
        assert_eq!(
            first.as_ref().map_err(|e| e.to_string()),
            again.as_ref().map_err(|e| e.to_string())
        );
        match first {
            Ok(o) => o,
            Err(_) => return,
        }
    } else {
        let model = if flags & 16 != 0 {
            let n = input.byte() as usize % 40;
            Some(String::from_utf8_lossy(input.take(n)).into_owned())
        } else {
            None
        };
        KeyOptions {
            sampled: flags & 1 != 0,
            live: flags & 32 != 0,
            format: (flags & 64 != 0).then(|| "sse".to_string()),
            dialect: (dialect > 0).then(|| Dialect::ALL[dialect as usize - 1]),
            model,
        }
    };
    check(input.rest(), &opts);
}

fn check(body: &[u8], opts: &KeyOptions) {
    let first = cache_key(body, opts);
    let again = cache_key(body, opts);
    let text = |r: &Result<keying::CacheKey, keying::KeyError>| match r {
        Ok(k) => Ok(k.clone()),
        Err(e) => Err(e.to_string()),
    };
    assert_eq!(text(&first), text(&again), "keying is not deterministic");

    let material = key_material(body, opts);
    match (&first, &material) {
        (Ok(key), Ok(material)) => {
            let hex: String = Sha256::digest(material.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let pattern = keying::model_pattern(&key.model);
            let segment = pattern.trim_end_matches('*');
            assert_eq!(
                key.key,
                format!("{segment}{hex}"),
                "the key is not <model pattern><sha256(material)>"
            );
            assert!(key.key.starts_with(keying::KEY_PREFIX));
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!("cache_key gave {a:?} but key_material gave {b:?}"),
    }

    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return;
    };
    // Plain RFC 8785 rounds integers beyond 2^53 to doubles; the keying keeps them exact, so
    // for such bodies the respelling below is another request.
    if has_big_number(&value) {
        return;
    }
    let Ok(canonical) = canonicalize(&value) else {
        return;
    };
    let back: serde_json::Value = match serde_json::from_str(&canonical) {
        Ok(v) => v,
        Err(e) => panic!("canonical text {canonical:?} does not parse: {e}"),
    };
    assert_eq!(
        canonicalize(&back).ok().as_deref(),
        Some(canonical.as_str()),
        "canonical JSON is not a fixed point"
    );
    let respelled = cache_key(canonical.as_bytes(), opts);
    // The respelling goes through serde_json and plain RFC 8785, which read some bodies
    // differently from the keying: they keep the last of duplicate names (the keying refuses
    // them) and write an integer beyond 2^53 as the nearest double (the keying keeps it exact
    // and refuses inexact doubles). So it is the same request only when both parse for the
    // keying.
    if matches!(&first, Err(KeyError::Json(_))) || matches!(&respelled, Err(KeyError::Json(_))) {
        return;
    }
    match (&first, &respelled) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the body's spelling changed its key: {canonical}"),
        (Err(a), Err(b)) => assert_eq!(
            std::mem::discriminant(a),
            std::mem::discriminant(b),
            "the body's spelling changed its error: {a} / {b}"
        ),
        (a, b) => panic!("the body's spelling changed the result: {a:?} / {b:?} for {canonical}"),
    }
}

/// The options part of a seed.
#[derive(Debug, Clone, Copy)]
pub enum SeedOptions<'a> {
    /// SAMPLED, dialect index (0 = detect, else `Dialect::ALL[d - 1]`), MODEL.
    Typed(bool, u8, Option<&'a str>),
    /// Option words as a client sends them after the body.
    Words(&'a str),
}

/// Builds an input for [`run`].
pub fn encode(opts: SeedOptions<'_>, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match opts {
        SeedOptions::Typed(sampled, dialect, model) => {
            let mut flags = u8::from(sampled) | ((dialect.min(5)) << 1);
            if model.is_some() {
                flags |= 16;
            }
            out.push(flags);
            if let Some(m) = model {
                let m = &m.as_bytes()[..m.len().min(39)];
                out.push(m.len() as u8);
                out.extend_from_slice(m);
            }
        }
        SeedOptions::Words(w) => {
            out.push(DIALECT_WORDS << 1);
            let w = &w.as_bytes()[..w.len().min(255)];
            out.push(w.len() as u8);
            out.extend_from_slice(w);
        }
    }
    out.extend_from_slice(body);
    out
}

/// True when `v` holds a number of magnitude 2^53 or more, anywhere.
fn has_big_number(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Number(n) => n
            .as_f64()
            .is_none_or(|f| f.abs() >= 9_007_199_254_740_992.0),
        Value::Array(items) => items.iter().any(has_big_number),
        Value::Object(members) => members.values().any(has_big_number),
        _ => false,
    }
}
