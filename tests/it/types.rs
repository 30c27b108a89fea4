//! Hashes and JSON documents through the `redis` crate (RESP2 and RESP3), the sequences the
//! LangChain caches send, and the binary started with a redis.conf file.

use crate::support::{call, cmd, start, text};
use redis::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const WRONGTYPE: &str = "ERROR:WRONGTYPE Operation against a key holding the wrong kind of value";

/// HGETALL's reply as sorted `field=value` pairs, whichever shape the protocol gave it.
fn pairs(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = match v {
        Value::Map(m) => m
            .iter()
            .map(|(k, v)| format!("{}={}", text(k), text(v)))
            .collect(),
        Value::Array(items) => items
            .chunks(2)
            .map(|p| format!("{}={}", text(&p[0]), text(&p[1])))
            .collect(),
        other => panic!("not a map: {other:?}"),
    };
    out.sort();
    out
}

fn sorted(v: &Value) -> Vec<String> {
    let Value::Array(items) = v else {
        panic!("not an array: {v:?}")
    };
    let mut out: Vec<String> = items.iter().map(text).collect();
    out.sort();
    out
}

#[tokio::test]
async fn hash_commands_answer_as_redis_7() {
    let s = start().await;
    for resp3 in [false, true] {
        let mut c = s.conn(resp3).await;
        assert_eq!(cmd(&mut c, &["FLUSHDB"]).await, "OK");
        assert_eq!(cmd(&mut c, &["HSET", "h", "a", "1", "b", "2"]).await, "2");
        assert_eq!(cmd(&mut c, &["HSET", "h", "a", "3"]).await, "0");
        for bad in [&["HSET", "h", "a"][..], &["HSET", "h", "a", "1", "b"]] {
            assert_eq!(
                cmd(&mut c, bad).await,
                "ERROR:ERR wrong number of arguments for 'hset' command"
            );
        }
        assert_eq!(cmd(&mut c, &["HMSET", "h", "c", "3"]).await, "OK");
        assert_eq!(
            cmd(&mut c, &["HMSET", "h", "c"]).await,
            "ERROR:ERR wrong number of arguments for 'hmset' command"
        );
        assert_eq!(cmd(&mut c, &["HGET", "h", "a"]).await, "3");
        assert_eq!(cmd(&mut c, &["HGET", "h", "zz"]).await, "(nil)");
        assert_eq!(cmd(&mut c, &["HGET", "nokey", "a"]).await, "(nil)");
        assert_eq!(
            cmd(&mut c, &["HMGET", "h", "a", "zz", "b"]).await,
            "[3,(nil),2]"
        );
        assert_eq!(cmd(&mut c, &["HMGET", "nokey", "a"]).await, "[(nil)]");
        let all = call(&mut c, &["HGETALL", "h"]).await;
        assert_eq!(matches!(all, Value::Map(_)), resp3, "{all:?}");
        assert_eq!(pairs(&all), ["a=3", "b=2", "c=3"]);
        assert!(pairs(&call(&mut c, &["HGETALL", "nokey"]).await).is_empty());
        assert_eq!(
            sorted(&call(&mut c, &["HKEYS", "h"]).await),
            ["a", "b", "c"]
        );
        assert_eq!(
            sorted(&call(&mut c, &["HVALS", "h"]).await),
            ["2", "3", "3"]
        );
        assert_eq!(cmd(&mut c, &["HKEYS", "nokey"]).await, "[]");
        assert_eq!(cmd(&mut c, &["HLEN", "h"]).await, "3");
        assert_eq!(cmd(&mut c, &["HLEN", "nokey"]).await, "0");
        assert_eq!(cmd(&mut c, &["HEXISTS", "h", "a"]).await, "1");
        assert_eq!(cmd(&mut c, &["HEXISTS", "h", "zz"]).await, "0");
        assert_eq!(cmd(&mut c, &["HSTRLEN", "h", "a"]).await, "1");
        assert_eq!(cmd(&mut c, &["HSTRLEN", "h", "zz"]).await, "0");
        assert_eq!(cmd(&mut c, &["HSTRLEN", "nokey", "a"]).await, "0");
        assert_eq!(cmd(&mut c, &["HSETNX", "h", "c", "9"]).await, "0");
        assert_eq!(cmd(&mut c, &["HSETNX", "h", "new", "9"]).await, "1");
        assert_eq!(cmd(&mut c, &["HGET", "h", "new"]).await, "9");
        assert_eq!(cmd(&mut c, &["HDEL", "h", "zz"]).await, "0");
        assert_eq!(cmd(&mut c, &["HDEL", "h", "a", "a", "b"]).await, "2");
        assert_eq!(cmd(&mut c, &["HLEN", "h"]).await, "2");
        assert_eq!(cmd(&mut c, &["TYPE", "h"]).await, "hash");
        // Deleting the last field deletes the key.
        assert_eq!(cmd(&mut c, &["HDEL", "h", "c", "new"]).await, "2");
        assert_eq!(cmd(&mut c, &["EXISTS", "h"]).await, "0");
        assert_eq!(cmd(&mut c, &["TYPE", "h"]).await, "none");
    }
}

#[tokio::test]
async fn hincrby_counts_and_words_its_errors_as_redis() {
    let s = start().await;
    for resp3 in [false, true] {
        let mut c = s.conn(resp3).await;
        assert_eq!(cmd(&mut c, &["FLUSHDB"]).await, "OK");
        assert_eq!(cmd(&mut c, &["HINCRBY", "h", "n", "5"]).await, "5");
        assert_eq!(cmd(&mut c, &["HINCRBY", "h", "n", "-7"]).await, "-2");
        assert_eq!(cmd(&mut c, &["HGET", "h", "n"]).await, "-2");
        assert_eq!(
            cmd(&mut c, &["HINCRBY", "h", "n", "x"]).await,
            "ERROR:ERR value is not an integer or out of range"
        );
        for not_int in ["abc", " 12", "1.5", "007"] {
            assert_eq!(cmd(&mut c, &["HSET", "h", "s", not_int]).await.len(), 1);
            assert_eq!(
                cmd(&mut c, &["HINCRBY", "h", "s", "1"]).await,
                "ERROR:ERR hash value is not an integer"
            );
        }
        assert_eq!(
            cmd(&mut c, &["HSET", "h", "big", "9223372036854775807"]).await,
            "1"
        );
        assert_eq!(
            cmd(&mut c, &["HINCRBY", "h", "big", "1"]).await,
            "ERROR:ERR increment or decrement would overflow"
        );
        assert_eq!(
            cmd(&mut c, &["HINCRBY", "h", "n", "-9223372036854775808"]).await,
            "ERROR:ERR increment or decrement would overflow"
        );
        assert_eq!(
            cmd(&mut c, &["HGET", "h", "big"]).await,
            "9223372036854775807"
        );
    }
}

#[tokio::test]
async fn hashes_strings_and_json_refuse_each_others_commands() {
    let s = start().await;
    let mut c = s.conn(false).await;
    assert_eq!(cmd(&mut c, &["SET", "s", "str"]).await, "OK");
    assert_eq!(cmd(&mut c, &["HSET", "h", "f", "v"]).await, "1");
    assert_eq!(cmd(&mut c, &["JSON.SET", "j", ".", "{}"]).await, "OK");
    for args in [
        &["HGET", "s", "a"][..],
        &["HSET", "s", "a", "1"],
        &["HMSET", "s", "a", "1"],
        &["HGETALL", "s"],
        &["HLEN", "s"],
        &["HDEL", "s", "a"],
        &["HEXISTS", "s", "a"],
        &["HMGET", "s", "a"],
        &["HKEYS", "s"],
        &["HVALS", "s"],
        &["HINCRBY", "s", "a", "1"],
        &["HSETNX", "s", "a", "1"],
        &["HSTRLEN", "s", "a"],
        &["GET", "h"],
        &["APPEND", "h", "x"],
        &["INCR", "h"],
        &["HGET", "j", "a"],
        &["GET", "j"],
    ] {
        assert_eq!(cmd(&mut c, args).await, WRONGTYPE, "{args:?}");
    }
    for args in [
        &["JSON.GET", "h"][..],
        &["JSON.SET", "s", "$", "1"],
        &["JSON.SET", "s", "$", "not json"],
        &["JSON.DEL", "h"],
        &["JSON.TYPE", "s"],
    ] {
        assert_eq!(
            cmd(&mut c, args).await,
            "ERROR:WRONGTYPE Existing key has wrong Redis type",
            "{args:?}"
        );
    }
    // A bad increment is reported before the key's type, as in Redis.
    assert_eq!(
        cmd(&mut c, &["HINCRBY", "s", "a", "x"]).await,
        "ERROR:ERR value is not an integer or out of range"
    );
    assert_eq!(cmd(&mut c, &["TYPE", "j"]).await, "ReJSON-RL");
    assert_eq!(cmd(&mut c, &["GET", "s"]).await, "str");
    assert_eq!(
        cmd(&mut c, &["JSON.MGET", "j", "s", "h", "none", "."]).await,
        "[{},(nil),(nil),(nil)]"
    );
}

#[tokio::test]
async fn field_changes_keep_the_ttl() {
    let s = start().await;
    let mut c = s.conn(true).await;
    assert_eq!(cmd(&mut c, &["HSET", "t", "a", "1"]).await, "1");
    assert_eq!(cmd(&mut c, &["EXPIRE", "t", "100"]).await, "1");
    for change in [
        &["HSET", "t", "b", "2"][..],
        &["HMSET", "t", "b", "3"],
        &["HDEL", "t", "a"],
        &["HINCRBY", "t", "c", "1"],
        &["HSETNX", "t", "d", "1"],
    ] {
        cmd(&mut c, change).await;
        assert_eq!(cmd(&mut c, &["TTL", "t"]).await, "100", "{change:?}");
    }
    assert_eq!(cmd(&mut c, &["JSON.SET", "j", "$", "[1]"]).await, "OK");
    assert_eq!(cmd(&mut c, &["EXPIRE", "j", "100"]).await, "1");
    assert_eq!(cmd(&mut c, &["JSON.SET", "j", "$", "[2]"]).await, "OK");
    assert_eq!(cmd(&mut c, &["TTL", "j"]).await, "100");
    assert_eq!(cmd(&mut c, &["JSON.GET", "j"]).await, "[2]");
    // A TTL that passes removes the hash like any key.
    s.shared.store.clock().advance(100_001);
    assert_eq!(cmd(&mut c, &["HGETALL", "t"]).await, "{}");
    assert_eq!(cmd(&mut c, &["EXISTS", "t", "j"]).await, "0");
}

#[tokio::test]
async fn hgetall_is_a_map_in_resp3_and_a_flat_array_in_resp2_on_the_wire() {
    let s = start().await;
    let mut raw = s.raw().await;
    let want = ":1\r\n";
    assert_eq!(raw.roundtrip(b"HSET h f v\r\n", want).await, want);
    let want = "*2\r\n$1\r\nf\r\n$1\r\nv\r\n";
    assert_eq!(raw.roundtrip(b"HGETALL h\r\n", want).await, want);
    raw.send(b"HELLO 3\r\n").await;
    raw.read_reply().await;
    let want = "%1\r\n$1\r\nf\r\n$1\r\nv\r\n";
    assert_eq!(raw.roundtrip(b"HGETALL h\r\n", want).await, want);
    let want = "%0\r\n";
    assert_eq!(raw.roundtrip(b"HGETALL nokey\r\n", want).await, want);
    // A malformed hash command leaves the connection usable.
    raw.send(b"HSET h f\r\n").await;
    raw.read_reply().await;
    assert_eq!(raw.roundtrip(b"PING\r\n", "+PONG\r\n").await, "+PONG\r\n");
}

/// langchain_community.cache.RedisCache: `update` runs a transaction (redis-py's default
/// pipeline) of `HSET key 0 <generation json>` and `EXPIRE key ttl`; `lookup` is `HGETALL key`.
#[tokio::test]
async fn langchain_community_redis_cache_store_and_lookup() {
    let s = start().await;
    let generation = r#"{"lc": 1, "type": "constructor", "id": ["langchain", "schema", "output", "Generation"], "kwargs": {"text": "Paris", "type": "Generation"}}"#;
    for resp3 in [false, true] {
        let mut c = s.conn(resp3).await;
        let key = format!("6d3f1b2a9c:{resp3}");
        let (added, expired): (i64, i64) = redis::pipe()
            .atomic()
            .cmd("HSET")
            .arg(&key)
            .arg("0")
            .arg(generation)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(3600)
            .query_async(&mut c)
            .await
            .unwrap();
        assert_eq!((added, expired), (1, 1));
        let found = call(&mut c, &["HGETALL", &key]).await;
        assert_eq!(pairs(&found), [format!("0={generation}")]);
        assert_eq!(cmd(&mut c, &["TTL", &key]).await, "3600");
        // A miss is an empty reply, which the cache reads as "not cached".
        assert!(pairs(&call(&mut c, &["HGETALL", "absent"]).await).is_empty());
    }
}

#[tokio::test]
async fn json_set_get_del_on_the_root() {
    let s = start().await;
    for resp3 in [false, true] {
        let mut c = s.conn(resp3).await;
        assert_eq!(cmd(&mut c, &["FLUSHDB"]).await, "OK");
        let doc = r#"{ "text": "Paris", "n": [1, 2.5, true, null], "o": {} }"#;
        let compact = r#"{"text":"Paris","n":[1,2.5,true,null],"o":{}}"#;
        assert_eq!(cmd(&mut c, &["JSON.SET", "k", ".", doc]).await, "OK");
        assert_eq!(cmd(&mut c, &["JSON.GET", "k"]).await, compact);
        assert_eq!(cmd(&mut c, &["JSON.GET", "k", "."]).await, compact);
        assert_eq!(
            cmd(&mut c, &["json.get", "k", "$"]).await,
            format!("[{compact}]")
        );
        assert_eq!(
            cmd(&mut c, &["JSON.GET", "k", "NOESCAPE", "."]).await,
            compact
        );
        assert_eq!(
            cmd(&mut c, &["JSON.GET", "k", "INDENT", "  ", "NEWLINE", "\n", "SPACE", " "]).await,
            "{\n  \"text\": \"Paris\",\n  \"n\": [\n    1,\n    2.5,\n    true,\n    null\n  ],\n  \"o\": {}\n}"
        );
        assert_eq!(
            cmd(&mut c, &["JSON.GET", "k", "$", "."]).await,
            format!(r#"{{"$":[{compact}],".":[{compact}]}}"#)
        );
        assert_eq!(cmd(&mut c, &["JSON.GET", "missing"]).await, "(nil)");
        assert_eq!(cmd(&mut c, &["JSON.GET", "missing", "$"]).await, "(nil)");
        // NX / XX.
        assert_eq!(
            cmd(&mut c, &["JSON.SET", "k", "$", "1", "NX"]).await,
            "(nil)"
        );
        assert_eq!(
            cmd(&mut c, &["JSON.SET", "new", "$", "1", "XX"]).await,
            "(nil)"
        );
        assert_eq!(cmd(&mut c, &["EXISTS", "new"]).await, "0");
        assert_eq!(
            cmd(&mut c, &["JSON.SET", "new", "$", "\"s\"", "nx"]).await,
            "OK"
        );
        assert_eq!(
            cmd(&mut c, &["JSON.SET", "new", "$", "[]", "XX"]).await,
            "OK"
        );
        assert_eq!(cmd(&mut c, &["JSON.GET", "new"]).await, "[]");
        assert_eq!(
            cmd(&mut c, &["JSON.SET", "new", "$", "1", "NX", "XX"]).await,
            "ERROR:ERR syntax error"
        );
        // Types.
        let t = |r: &str| {
            if resp3 {
                format!("[{r}]")
            } else {
                r.to_string()
            }
        };
        assert_eq!(cmd(&mut c, &["JSON.TYPE", "k"]).await, t("object"));
        assert_eq!(cmd(&mut c, &["JSON.TYPE", "k", "$"]).await, t("[object]"));
        assert_eq!(cmd(&mut c, &["JSON.TYPE", "new"]).await, t("array"));
        assert_eq!(cmd(&mut c, &["JSON.TYPE", "missing"]).await, t("(nil)"));
        assert_eq!(cmd(&mut c, &["TYPE", "k"]).await, "ReJSON-RL");
        // MGET, DEL, FORGET.
        assert_eq!(
            cmd(&mut c, &["JSON.MGET", "new", "missing", "$"]).await,
            "[[[]],(nil)]"
        );
        assert_eq!(cmd(&mut c, &["JSON.DEL", "k"]).await, "1");
        assert_eq!(cmd(&mut c, &["JSON.DEL", "k", "$"]).await, "0");
        assert_eq!(cmd(&mut c, &["JSON.FORGET", "new", "."]).await, "1");
        assert_eq!(cmd(&mut c, &["DBSIZE"]).await, "0");
    }
}

#[tokio::test]
async fn json_errors_are_clear_and_keep_the_connection() {
    let s = start().await;
    let mut c = s.conn(false).await;
    assert_eq!(
        cmd(&mut c, &["JSON.SET", "k", "$", "{\"a\":"]).await,
        "ERROR:ERR EOF while parsing a value at line 1 column 5"
    );
    assert_eq!(
        cmd(&mut c, &["JSON.SET", "k", "$", "{'a':1}"]).await,
        "ERROR:ERR key must be a string at line 1 column 2"
    );
    assert_eq!(cmd(&mut c, &["EXISTS", "k"]).await, "0");
    let only_root = "ERROR:ERR llmcached supports only the root path ('.' or '$') in JSON commands";
    assert_eq!(cmd(&mut c, &["JSON.SET", "k", "$.a", "1"]).await, only_root);
    assert_eq!(
        cmd(&mut c, &["JSON.SET", "k", ".", "{\"a\":1}"]).await,
        "OK"
    );
    for args in [
        &["JSON.GET", "k", "$.a"][..],
        &["JSON.GET", "k", ".a"],
        &["JSON.GET", "k", "a"],
        &["JSON.DEL", "k", "$.a"],
        &["JSON.TYPE", "k", ".a"],
        &["JSON.MGET", "k", "$..a"],
    ] {
        assert_eq!(cmd(&mut c, args).await, only_root, "{args:?}");
    }
    assert_eq!(
        cmd(&mut c, &["JSON.GET", "k", "INDENT"]).await,
        "ERROR:ERR wrong number of arguments for 'json.get' command"
    );
    assert_eq!(
        cmd(&mut c, &["JSON.SET", "k", "$"]).await,
        "ERROR:ERR wrong number of arguments for 'json.set' command"
    );
    let unknown = cmd(&mut c, &["JSON.ARRAPPEND", "k", "$", "1"]).await;
    assert!(
        unknown.starts_with("ERROR:ERR unknown command 'JSON.ARRAPPEND'"),
        "{unknown}"
    );
    assert_eq!(cmd(&mut c, &["JSON.GET", "k"]).await, r#"{"a":1}"#);
}

/// langchain_redis.RedisCache: `update` is `JSON.SET key . <json>` then `EXPIRE key ttl`;
/// `lookup` is `JSON.GET key .` (redis-py adds the `.`), parsed back as JSON.
#[tokio::test]
async fn langchain_redis_json_cache_store_and_lookup() {
    let s = start().await;
    let generation = serde_json::json!({
        "lc": 1, "type": "constructor", "id": ["langchain", "schema", "output", "Generation"],
        "kwargs": {"text": "Paris, \"the\" capital\n", "type": "Generation", "score": 0.25}
    });
    for resp3 in [false, true] {
        let mut c = s.conn(resp3).await;
        let key = format!("redis:5d41402abc4b2a76:7d793037a0760186:{resp3}");
        let body = generation.to_string();
        assert_eq!(cmd(&mut c, &["JSON.SET", &key, ".", &body]).await, "OK");
        assert_eq!(cmd(&mut c, &["EXPIRE", &key, "60"]).await, "1");
        let got = cmd(&mut c, &["JSON.GET", &key, "."]).await;
        let back: serde_json::Value = serde_json::from_str(&got).unwrap();
        assert_eq!(back, generation);
        assert_eq!(cmd(&mut c, &["TTL", &key]).await, "60");
        assert_eq!(cmd(&mut c, &["JSON.GET", "redis:miss", "."]).await, "(nil)");
    }
}

/// The binary, killed when the test ends however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn llmcached(args: &[&std::ffi::OsStr]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_llmcached"));
    c.args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("LLMCACHED_") {
            c.env_remove(k);
        }
    }
    c
}

/// Starts the binary and waits for its `listening on` line; returns it, the lines logged before
/// it, and the address.
fn start_binary(args: &[&std::ffi::OsStr]) -> (Running, Vec<String>, String) {
    let mut child = llmcached(args).spawn().expect("spawn llmcached");
    let stderr = child.stderr.take().expect("piped stderr");
    let running = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                // Keep draining so the server never blocks on a full pipe.
                continue;
            }
        }
    });
    let mut before = Vec::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no 'listening on' line; got {before:#?}"));
        if let Some(rest) = line.split("listening on ").nth(1) {
            let addr = rest.split_whitespace().next().unwrap().to_string();
            return (running, before, addr);
        }
        before.push(line);
    }
}

#[tokio::test]
async fn binary_reads_a_redis_conf_and_flags_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("redis.conf");
    std::fs::write(
        &conf,
        format!(
            "# llmcached test configuration\n\
             port 6399\n\
             bind 127.0.0.1\n\
             requirepass \"from file\"\n\
             maxmemory 32mb\n\
             maxmemory-policy allkeys-lru\n\
             timeout 120\n\
             appendonly no\n\
             save \"\"\n\
             dir {}\n\
             daemonize no\n\
             protected-mode yes\n\
             databases 16\n\
             not-a-redis-directive 1\n\
             llm-wait-ms 1500\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let (_server, log, addr) = start_binary(&[
        conf.as_os_str(),
        "--port".as_ref(),
        "0".as_ref(),
        "--maxmemory".as_ref(),
        "48mb".as_ref(),
    ]);
    assert!(
        log.iter().any(|l| l.contains(&format!(
            "unknown directive 'not-a-redis-directive' at line 14 of {}: ignored",
            conf.display()
        ))),
        "{log:#?}"
    );
    assert!(!log.iter().any(|l| l.contains("daemonize")), "{log:#?}");
    let port = addr.rsplit(':').next().unwrap();
    assert_ne!(port, "6399", "--port overrides the file");

    let client = redis::Client::open(format!("redis://:from%20file@{addr}/")).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let get = |v: Value| match v {
        Value::Array(items) => text(&items[1]),
        Value::Map(m) => text(&m[0].1),
        other => panic!("{other:?}"),
    };
    for (name, want) in [
        ("maxmemory", (48u64 << 20).to_string()),
        ("maxmemory-policy", "allkeys-lru".into()),
        ("timeout", "120".into()),
        ("requirepass", "from file".into()),
        ("appendonly", "no".into()),
        ("save", "".into()),
        ("dir", dir.path().display().to_string()),
        ("llm-wait-ms", "1500".into()),
        ("port", port.to_string()),
    ] {
        assert_eq!(
            get(call(&mut c, &["CONFIG", "GET", name]).await),
            want,
            "{name}"
        );
    }
    // The password comes from the file: a connection without it is refused.
    let mut anon = redis::Client::open(format!("redis://{addr}/"))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    assert!(cmd(&mut anon, &["GET", "k"])
        .await
        .starts_with("ERROR:NOAUTH"));
}

#[test]
fn binary_refuses_a_bad_config_file_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("bad.conf");
    std::fs::write(&conf, "port 0\nappendfsync sometimes\n").unwrap();
    let out = llmcached(&[conf.as_os_str()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}:2: invalid appendfsync 'sometimes'",
            conf.display()
        )),
        "{err}"
    );
}
