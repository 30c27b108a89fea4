//! Writes the seed corpora under `fuzz/corpus/<target>/`: a handful of inputs per target, built
//! from real commands, the keying vectors in `tests/data/keying/`, and files written by the
//! real persistence engine.
//!
//! Run: `cargo run --manifest-path fuzz/Cargo.toml --example seeds` (any toolchain). The output
//! is deterministic, so re-running it only changes files when a format changed.

use llmcached::persistence::{Record, SetMeta, Value};
use llmcached_fuzz::dispatch::{self, SeedOp};
use llmcached_fuzz::keying::{self, SeedOptions};
use llmcached_fuzz::parser::{self, encode_command, SeedLimits};
use llmcached_fuzz::recovery::{self, FileName, SeedFile, NOW_MS};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

fn main() -> std::io::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let corpus = root.join("corpus");
    write_all(&corpus.join("parser"), parser_seeds())?;
    write_all(&corpus.join("dispatch"), dispatch_seeds())?;
    write_all(
        &corpus.join("keying"),
        keying_seeds(&root.join("../tests/data/keying"))?,
    )?;
    write_all(&corpus.join("recovery"), recovery_seeds())?;
    Ok(())
}

fn write_all(dir: &Path, seeds: Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, data) in seeds {
        std::fs::write(dir.join(name), data)?;
    }
    Ok(())
}

fn parser_seeds() -> Vec<(String, Vec<u8>)> {
    let mut pipeline = encode_command(&["PING"]);
    pipeline.extend(encode_command(&["SET", "k", "v", "EX", "10"]));
    pipeline.extend(encode_command(&["GET", "k"]));
    let body =
        r#"{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"Hi"}]}"#;
    let mut llm = encode_command(&["LLMKEY", body, "DIALECT", "openai-chat"]);
    llm.extend(encode_command(&[
        "LLMSETNX",
        "llm:v1:gpt-4o-mini:ab",
        "an\r\nanswer",
    ]));
    vec![
        (
            "pipeline".into(),
            parser::encode(SeedLimits::Default, &[], None, &pipeline),
        ),
        (
            "pipeline-small-reads".into(),
            parser::encode(
                SeedLimits::Small([31, 16, 8, 64]),
                &[2, 1, 6],
                None,
                &pipeline,
            ),
        ),
        (
            "llm-bodies".into(),
            parser::encode(SeedLimits::Default, &[9, 30], None, &llm),
        ),
        (
            "inline".into(),
            parser::encode(
                SeedLimits::Small([15, 8, 4, 64]),
                &[3, 1, 7],
                None,
                b"set k \"a b\\x41\\n\"\r\nPING\r\n\r\nget 'it\\'s'\n*0\r\n*-1\r\nECHO x\r\n",
            ),
        ),
        (
            // An inline command just under the default 64 KB limit, in 16 KB reads.
            "long-inline".into(),
            parser::encode(
                SeedLimits::Default,
                &[16384],
                Some((65_000, b'a', 6)),
                b"set k \r\nPING\r\n",
            ),
        ),
        (
            // A 60 KB bulk argument, in reads that end inside it.
            "long-bulk".into(),
            parser::encode(
                SeedLimits::Default,
                &[1000, 16384],
                Some((60_000, b'x', 28)),
                b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$60000\r\n\r\n",
            ),
        ),
        (
            "unauthenticated".into(),
            parser::encode(
                SeedLimits::Unauthenticated,
                &[4],
                None,
                &encode_command(&["AUTH", "secret"]),
            ),
        ),
    ]
}

fn op<'a>(client: u8, name: &'a str, args: &'a [&'a str]) -> SeedOp<'a> {
    SeedOp { client, name, args }
}

fn dispatch_seeds() -> Vec<(String, Vec<u8>)> {
    let chat =
        r#"{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"Hi"}]}"#;
    let doc = r#"{"a":[1,2.5,"x",null,true],"b":{"c":{}}}"#;
    vec![
        (
            "strings".into(),
            dispatch::encode(
                0,
                &[
                    op(0, "set", &["k", "v", "EX", "10"]),
                    op(0, "get", &["k"]),
                    op(0, "ttl", &["k"]),
                    op(0, "incr", &["k2"]),
                    op(0, "append", &["k", "x"]),
                    op(0, "mget", &["k", "k2"]),
                    op(0, "getex", &["k", "PERSIST"]),
                    op(0, "del", &["k"]),
                ],
            ),
        ),
        (
            "transaction".into(),
            dispatch::encode(
                0,
                &[
                    op(0, "multi", &[]),
                    op(0, "set", &["k", "1"]),
                    op(0, "incrby", &["k", "10"]),
                    op(0, "nosuchcommand", &[]),
                    op(0, "exec", &[]),
                    op(0, "multi", &[]),
                    op(0, "get", &["k"]),
                    op(0, "exec", &[]),
                ],
            ),
        ),
        (
            "hash-and-scan".into(),
            dispatch::encode(
                0,
                &[
                    op(0, "hset", &["h", "k", "v", "k2", "1"]),
                    op(0, "hgetall", &["h"]),
                    op(0, "hincrby", &["h", "k2", "10"]),
                    op(0, "type", &["h"]),
                    op(0, "scan", &["0", "MATCH", "*", "COUNT", "10"]),
                    op(0, "keys", &["h*"]),
                ],
            ),
        ),
        (
            "single-flight".into(),
            dispatch::encode(
                8,
                &[
                    op(0, "llmget", &["llm:v1:m:abc"]),
                    op(1, "llmget", &["llm:v1:m:abc", "WAIT", "100"]),
                    op(
                        0,
                        "llmsetnx",
                        &["llm:v1:m:abc", "v", "EX", "100", "TOKENS", "10"],
                    ),
                    op(1, "llmget", &["llm:v1:m:abc"]),
                    op(0, "llmstats", &[]),
                    op(1, "llmget", &["k"]),
                    op(1, "quit", &[]),
                    op(0, "llmget", &["k", "WAIT", "0"]),
                ],
            ),
        ),
        (
            "json".into(),
            dispatch::encode(
                0,
                &[
                    op(0, "json.set", &["j", "$", doc]),
                    op(0, "json.get", &["j", "INDENT", "\\"]),
                    op(0, "json.type", &["j"]),
                    op(0, "json.mget", &["j", "k", "$"]),
                    op(0, "json.del", &["j"]),
                ],
            ),
        ),
        (
            "auth-and-server".into(),
            dispatch::encode(
                1,
                &[
                    op(0, "get", &["k"]),
                    op(0, "auth", &["secret"]),
                    op(0, "hello", &["3"]),
                    op(0, "client", &["setname", "k"]),
                    op(0, "client", &["list"]),
                    op(0, "info", &["everything"]),
                    op(0, "command", &["info", "get", "set"]),
                    op(0, "config", &["get", "*"]),
                ],
            ),
        ),
        (
            "keyed-lookups".into(),
            dispatch::encode(
                2,
                &[
                    op(0, "llmkey", &[chat]),
                    op(0, "llmlookup", &[chat, "WAIT", "10"]),
                    op(1, "llmlookup", &[chat]),
                    op(0, "llmpurge", &["llm:v1:*"]),
                    op(0, "flushall", &["ASYNC"]),
                    op(0, "dbsize", &[]),
                ],
            ),
        ),
    ]
}

/// A vector's request: a JSON object is sent as its compact text, a string as it is.
fn request_bytes(v: &Json) -> Vec<u8> {
    match v {
        Json::String(s) => s.clone().into_bytes(),
        other => other.to_string().into_bytes(),
    }
}

fn seed_options(args: Option<&Json>) -> String {
    args.and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Json::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

fn keying_seeds(vectors: &Path) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut seeds = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(vectors)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for path in files {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&path)?;
        let Ok(doc) = serde_json::from_str::<Json>(&text) else {
            continue;
        };
        let mut push = |name: &str, case: Option<&Json>, field: &str| {
            let Some(case) = case else { return };
            let Some(req) = case.get(field) else { return };
            let words = seed_options(case.get("args"));
            let opts = if words.is_empty() {
                SeedOptions::Typed(false, 0, None)
            } else {
                SeedOptions::Words(&words)
            };
            seeds.push((
                format!("{stem}-{name}"),
                keying::encode(opts, &request_bytes(req)),
            ));
        };
        push("golden", doc["golden"].get(0), "request");
        push("respelled", doc["same"].get(0), "b");
        push("error", doc["errors"].get(0), "request");
    }
    Ok(seeds)
}

fn set(key: &str, value: Value, expire_at_ms: Option<u64>) -> Record {
    Record::Set {
        key: key.as_bytes().to_vec().into(),
        value,
        expire_at_ms,
        meta: SetMeta::default(),
    }
}

fn recovery_seeds() -> Vec<(String, Vec<u8>)> {
    let str_value = |s: &str| Value::Str(s.as_bytes().to_vec().into());
    let records = vec![
        set("a", str_value("1"), None),
        set(
            "h",
            Value::Hash(vec![("f".into(), "v".into())]),
            Some(NOW_MS + 60_000),
        ),
        Record::Del { key: "a".into() },
        set("j", Value::Json(r#"{"x":[1,2]}"#.into()), None),
        set("gone", str_value("x"), Some(NOW_MS - 1)),
        Record::FlushAll,
        set("c", str_value("3"), None),
    ];
    let base = vec![
        set("b", str_value("2"), None),
        set("h", Value::Hash(vec![("g".into(), "w".into())]), None),
    ];
    let as_seed = |files: Vec<(FileName, Vec<u8>)>, fix: bool| -> Vec<SeedFile> {
        files
            .into_iter()
            .map(|(name, content)| SeedFile {
                name,
                fix_checksums: fix,
                content,
            })
            .collect()
    };
    let log_only = recovery::real_files(&[], &records);
    let with_base = recovery::real_files(&base, &records[..3]);
    let mut torn = log_only.clone();
    if let Some((_, last)) = torn.last_mut() {
        let keep = last.len() - 5;
        last.truncate(keep);
    }
    let mut stray = with_base.clone();
    stray.push((FileName::Log(0), Vec::new()));
    let mut stray = as_seed(stray, false);
    stray.push(SeedFile {
        name: FileName::BaseTmp,
        fix_checksums: false,
        content: b"half a base".to_vec(),
    });
    vec![
        (
            "log".into(),
            recovery::encode(false, true, &as_seed(log_only, false)),
        ),
        (
            "base-and-log".into(),
            recovery::encode(false, true, &as_seed(with_base, true)),
        ),
        (
            "torn-tail".into(),
            recovery::encode(false, true, &as_seed(torn.clone(), false)),
        ),
        (
            "torn-tail-load-corrupt".into(),
            recovery::encode(true, true, &as_seed(torn, true)),
        ),
        ("leftovers".into(), recovery::encode(false, false, &stray)),
    ]
}
