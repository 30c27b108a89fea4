//! Canonical request keying: a model API request body -> a cache key.
//!
//! Two requests share a key when they ask the same model the same question in the same dialect:
//! spelling (member order, whitespace, number forms, string escapes) and the fields that cannot
//! change the answer are ignored; everything else, known or not, is part of the key.
//!
//! # Key format
//! ```text
//! llm:v1:<model segment>:<64 lowercase hex digits>
//! ```
//! - `v1` is the version of everything below; see "Stability".
//! - the model segment is the model, percent-encoded so it holds no `SCAN MATCH` glob
//!   character, whitespace, control character or `:` ([`model`] has the rule). So an operator
//!   can find or purge one model's answers with `SCAN 0 MATCH llm:v1:gpt-4o-mini:*`.
//! - the hex digits are the SHA-256 of the *key material* (below).
//!
//! # Key material
//! The RFC 8785 canonical JSON ([`canonical`], [`tree`]) of the array
//! ```text
//! ["llm:v1", <dialect name>, <model>, <body>]              without FORMAT
//! ["llm:v1", <dialect name>, <model>, <body>, <format>]    with FORMAT <format>
//! ```
//! where `<body>` is the request object without its `model` member (the model is the third
//! element instead, so a Gemini request keyed with `MODEL` and one carrying `model` agree),
//! without the dialect's per-call fields ([`dialect`] lists them), and in its merged form
//! ([`forms`]: documented defaults left out, documented shorthands and spellings unified).
//! The dialect is hashed so two dialects never share a key by accident; the format is a fifth
//! element, so a key with `FORMAT` never equals one without.
//!
//! Numbers keep RFC 8785's text except that integer literals beyond 2^53 keep their exact
//! digits ([`number`]); a number with no exact reading is refused, as are duplicate member
//! names ([`parse`]).
//!
//! # Cacheability
//! Unless the caller passes `SAMPLED`, only requests whose answer sampling cannot change get
//! a key ([`policy`]); unless it passes `LIVE`, only requests that read no live data or
//! provider state ([`live`]). The others get a `NOTCACHEABLE` error naming the reason.
//!
//! # Stability
//! Keys are persisted and shared between server versions, so the same request must produce the
//! same key in every release. Any change to the canonical form, the per-call field lists, the
//! merged forms, the detection rules, the dialect names or the model rule changes
//! [`KEY_VERSION`] (and so the prefix and the material), with one recorded exception: the
//! second pass of the rules (exact integers, merged forms, FORMAT) kept `v1`, because it
//! changes only keys of requests that hold an integer beyond 2^53 or a merged form, which
//! before could share a key with another request or missed their twin.
//! `tests/data/keying/*.json` pins exact keys ("golden" vectors) and
//! `tests/data/keying/v1_examples.json` the keys computed before the second pass.

pub mod canonical;
pub mod dialect;
mod error;
mod forms;
pub mod live;
pub mod model;
pub mod number;
mod options;
pub mod parse;
pub mod policy;
pub mod tree;

pub use canonical::{canonicalize, CanonicalError};
pub use dialect::Dialect;
pub use error::{KeyError, LiveReason, NotCacheable};
pub use options::KeyOptions;
pub use parse::ParseError;

use sha2::{Digest, Sha256};

use canonical::Sink;
use tree::Object;

/// Version of the key format and material; part of every key.
pub const KEY_VERSION: &str = "v1";

/// Every key starts with this.
pub const KEY_PREFIX: &str = "llm:v1:";

/// First element of the key material array.
const MATERIAL_TAG: &str = "llm:v1";

/// The key of one request, and what a per-model breakdown needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    /// The full key, `llm:v1:<model segment>:<hex sha256>`.
    pub key: String,
    /// The model as resolved (see [`model`]), not percent-encoded; for statistics labels.
    pub model: String,
    /// The dialect the request was keyed as (given or detected).
    pub dialect: Dialect,
}

/// Computes the cache key of the request `body` (see the module docs).
///
/// ```
/// use llmcached::keying::{cache_key, Dialect, KeyOptions};
///
/// let body = br#"{"model":"gpt-4o-mini","temperature":0,"stream":true,
///                 "messages":[{"role":"user","content":"Hi"}]}"#;
/// let key = cache_key(body, &KeyOptions::default())?;
/// assert!(key.key.starts_with("llm:v1:gpt-4o-mini:"));
/// assert_eq!((key.model.as_str(), key.dialect), ("gpt-4o-mini", Dialect::OpenAiChat));
///
/// let sampled = br#"{"model":"gpt-4o-mini","temperature":0.7,"messages":[]}"#;
/// let err = cache_key(sampled, &KeyOptions::default()).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "NOTCACHEABLE temperature 0.7 samples; pass SAMPLED to cache it anyway"
/// );
/// # Ok::<(), llmcached::keying::KeyError>(())
/// ```
///
/// # Errors
/// `ERR` for a body that is not a JSON object, has a duplicate member name, a number with no
/// exact canonical form, conflicting Gemini spellings or no usable model; `NOTCACHEABLE` when
/// sampling could change the answer (and `opts.sampled` is false) or the answer depends on live
/// data or provider state (and `opts.live` is false).
pub fn cache_key(body: &[u8], opts: &KeyOptions) -> Result<CacheKey, KeyError> {
    let prepared = Prepared::new(body, opts)?;
    let mut hasher = HashSink::new();
    prepared.write_material(&mut hasher);
    let digest = hasher.finish();

    let mut key = String::with_capacity(KEY_PREFIX.len() + prepared.model.len() + 1 + 64);
    key.push_str(KEY_PREFIX);
    model::push_slug(&prepared.model, &mut key);
    key.push(':');
    push_hex(&digest, &mut key);
    Ok(CacheKey {
        key,
        model: prepared.model,
        dialect: prepared.dialect,
    })
}

/// The `SCAN MATCH` pattern of every key of `model` (as in [`CacheKey::model`]):
/// `llm:v1:<model segment>:*`. The segment has no glob characters, so the pattern matches
/// exactly that model's keys and no other model's.
pub fn model_pattern(model: &str) -> String {
    let mut pattern = String::with_capacity(KEY_PREFIX.len() + model.len() + 2);
    pattern.push_str(KEY_PREFIX);
    model::push_slug(model, &mut pattern);
    pattern.push_str(":*");
    pattern
}

/// Returns the key material of `body`: the exact bytes whose SHA-256 is the key's hash part.
///
/// Meant for tests and for explaining a key; [`cache_key`] hashes the same bytes as it writes
/// them and never builds this buffer.
pub fn key_material(body: &[u8], opts: &KeyOptions) -> Result<String, KeyError> {
    let prepared = Prepared::new(body, opts)?;
    let mut out = Vec::with_capacity(body.len() + 64);
    prepared.write_material(&mut out);
    Ok(String::from_utf8(out).expect("canonical JSON is built from whole UTF-8 strings"))
}

/// A request that passed every check, in its merged form, ready to be hashed.
struct Prepared<'a, 'o> {
    body: Object<'a>,
    dialect: Dialect,
    model: String,
    format: Option<&'o str>,
}

impl<'a, 'o> Prepared<'a, 'o> {
    /// Parses, resolves the model, merges the forms and applies both policies, in that order
    /// (the policies read the merged form, so every spelling of a field is judged alike).
    fn new(bytes: &'a [u8], opts: &'o KeyOptions) -> Result<Self, KeyError> {
        let tree::Json::Object(mut body) = parse::parse(bytes)? else {
            return Err(KeyError::NotAnObject);
        };
        let dialect = opts.dialect.unwrap_or_else(|| Dialect::detect(&body));
        let model = model::resolve(dialect, &body, opts.model.as_deref())?.to_owned();
        forms::normalise(dialect, &mut body)?;
        if !opts.sampled {
            policy::check(dialect, &body)?;
        }
        if !opts.live {
            live::check(dialect, &body, &model)?;
        }
        Ok(Prepared {
            body,
            dialect,
            model,
            format: opts.format.as_deref(),
        })
    }

    /// Writes `["llm:v1",<dialect>,<model>,<body>(,<format>)]` in canonical form.
    fn write_material<S: Sink>(&self, out: &mut S) {
        out.put(b"[");
        canonical::write_string(MATERIAL_TAG, out);
        out.put(b",");
        canonical::write_string(self.dialect.name(), out);
        out.put(b",");
        canonical::write_string(&self.model, out);
        out.put(b",");
        let dialect = self.dialect;
        tree::write_object_without(
            &self.body,
            |name| name == "model" || dialect.is_per_call(name),
            out,
        );
        if let Some(format) = self.format {
            out.put(b",");
            canonical::write_string(format, out);
        }
        out.put(b"]");
    }
}

/// Feeds canonical bytes to SHA-256 through a small buffer: the canonical writer emits many
/// tiny pieces (punctuation, short names), and batching them lets the hasher work on whole
/// blocks instead of paying its per-call cost for each piece. Measured as fast as building the
/// whole material and hashing it once (`benches/llmkey.rs`), without a body-sized allocation.
struct HashSink {
    hasher: Sha256,
    buf: [u8; HashSink::CAPACITY],
    len: usize,
}

impl HashSink {
    const CAPACITY: usize = 4096;

    fn new() -> Self {
        HashSink {
            hasher: Sha256::new(),
            buf: [0; HashSink::CAPACITY],
            len: 0,
        }
    }

    fn finish(mut self) -> [u8; 32] {
        self.hasher.update(&self.buf[..self.len]);
        self.hasher.finalize().into()
    }
}

impl Sink for HashSink {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        if bytes.len() > Self::CAPACITY - self.len {
            self.hasher.update(&self.buf[..self.len]);
            self.len = 0;
            if bytes.len() >= Self::CAPACITY {
                self.hasher.update(bytes);
                return;
            }
        }
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }
}

fn push_hex(bytes: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xF)]));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    const CHAT: &str = r#"{"model":"gpt-4o-mini","temperature":0,
        "messages":[{"role":"user","content":"Hi"}],"user":"u1","stream":true}"#;

    #[test]
    fn key_is_the_hash_of_the_material() {
        let opts = KeyOptions::default();
        let key = cache_key(CHAT.as_bytes(), &opts).unwrap();
        let material = key_material(CHAT.as_bytes(), &opts).unwrap();
        assert_eq!(
            material,
            r#"["llm:v1","openai-chat","gpt-4o-mini",{"messages":[{"content":"Hi","role":"user"}],"temperature":0}]"#
        );
        let mut hex = String::new();
        push_hex(&Sha256::digest(material.as_bytes()), &mut hex);
        assert_eq!(key.key, format!("llm:v1:gpt-4o-mini:{hex}"));
        assert_eq!(key.model, "gpt-4o-mini");
        assert_eq!(key.dialect, Dialect::OpenAiChat);
        let pattern = model_pattern(&key.model);
        assert_eq!(pattern, "llm:v1:gpt-4o-mini:*");
        assert!(key.key.starts_with(pattern.trim_end_matches('*')));
        assert_eq!(model_pattern("a:b*"), "llm:v1:a%3Ab%2A:*");
    }

    #[test]
    fn version_constants_agree() {
        assert_eq!(KEY_PREFIX, format!("llm:{KEY_VERSION}:"));
        assert_eq!(MATERIAL_TAG, format!("llm:{KEY_VERSION}"));
    }

    #[test]
    fn hash_sink_matches_one_shot_digest_across_buffer_edges() {
        // Pieces straddling, filling and exceeding the buffer.
        let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        for sizes in [
            &[1usize, 4095, 1, 4096, 5000, 3][..],
            &[4096, 4096, 9000],
            &[7; 50],
        ] {
            let mut sink = HashSink::new();
            let mut expected = Sha256::new();
            let mut at = 0;
            for &n in sizes.iter().cycle().take(40) {
                let end = (at + n).min(data.len());
                sink.put(&data[at..end]);
                expected.update(&data[at..end]);
                at = end;
            }
            assert_eq!(sink.finish(), <[u8; 32]>::from(expected.finalize()));
        }
    }

    #[test]
    fn structural_errors_read_well() {
        let opts = KeyOptions::default();
        let err = |body: &str| cache_key(body.as_bytes(), &opts).unwrap_err().to_string();
        assert!(err("{").starts_with("ERR request is not valid JSON: "));
        // Nesting is bounded by the parser, so the recursive writer cannot overflow the stack.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(
            err(&format!(r#"{{"model":"m","temperature":0,"x":{deep}}}"#))
                .starts_with("ERR request is not valid JSON: recursion limit exceeded")
        );
        assert_eq!(err("[1]"), "ERR request must be a JSON object");
        assert_eq!(
            err(r#"{"temperature":0}"#),
            "ERR request has no model; pass MODEL name"
        );
        assert_eq!(err(r#"{"model":7}"#), "ERR request model must be a string");
        assert_eq!(
            err(r#"{"contents":[]}"#),
            "ERR request has no model (Gemini puts it in the URL); pass MODEL name"
        );
    }
}
