//! LLMKEY, LLMLOOKUP and LLMPURGE: keys built by the server from the request body.

use crate::support::{call, cmd, start, text};
use redis::Value;

const CHAT: &str = r#"{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"Capital of France?"}]}"#;
/// The same request: other key order, whitespace, 0.0 for 0, and per-call fields.
const CHAT_AGAIN: &str = r#"{ "messages": [ {"content": "Capital of France?", "role": "user"} ],
  "temperature": 0.0, "model": "gpt-4o-mini", "user": "u-123", "stream": true,
  "metadata": {"trace": "abc"} }"#;

#[tokio::test]
async fn the_same_request_in_any_spelling_gets_one_key() {
    let s = start().await;
    let mut c = s.conn(false).await;
    let a = cmd(&mut c, &["LLMKEY", CHAT]).await;
    let b = cmd(&mut c, &["LLMKEY", CHAT_AGAIN]).await;
    assert!(
        a.starts_with("llm:v1:gpt-4o-mini:") && a.len() == "llm:v1:gpt-4o-mini:".len() + 64,
        "{a}"
    );
    assert_eq!(a, b);
    let other = CHAT.replace("France", "Spain");
    assert_ne!(cmd(&mut c, &["LLMKEY", &other]).await, a);
    let seeded = CHAT.replace("\"temperature\":0", "\"temperature\":0,\"seed\":7");
    assert_ne!(cmd(&mut c, &["LLMKEY", &seeded]).await, a);
}

#[tokio::test]
async fn sampled_requests_are_refused_unless_opted_in() {
    let s = start().await;
    let mut c = s.conn(false).await;
    let hot = CHAT.replace("\"temperature\":0", "\"temperature\":0.7");
    let r = cmd(&mut c, &["LLMKEY", &hot]).await;
    assert!(
        r.starts_with("ERROR:NOTCACHEABLE") && r.contains("SAMPLED"),
        "{r}"
    );
    let no_temp = r#"{"model":"m","messages":[]}"#;
    assert!(cmd(&mut c, &["LLMKEY", no_temp])
        .await
        .starts_with("ERROR:NOTCACHEABLE"));
    assert!(cmd(&mut c, &["LLMKEY", &hot, "SAMPLED"])
        .await
        .starts_with("llm:v1:gpt-4o-mini:"));
    assert!(cmd(&mut c, &["LLMKEY", "not json"])
        .await
        .starts_with("ERROR:ERR"));
    assert!(cmd(&mut c, &["LLMKEY", "[1,2]"])
        .await
        .starts_with("ERROR:ERR"));
    assert!(cmd(&mut c, &["LLMKEY", r#"{"temperature":0}"#])
        .await
        .starts_with("ERROR:ERR"));
    assert_eq!(
        cmd(&mut c, &["LLMKEY", CHAT, "BOGUS"]).await,
        "ERROR:ERR syntax error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_fills_once_then_hits_and_purge_removes_one_model() {
    let s = start().await;
    for resp3 in [false, true] {
        let mut c = s.conn(resp3).await;
        assert_eq!(cmd(&mut c, &["FLUSHALL"]).await, "OK");
        let Value::Array(first) = call(&mut c, &["LLMLOOKUP", CHAT, "WAIT", "1000"]).await else {
            panic!("LLMLOOKUP replies with an array")
        };
        let key = text(&first[0]);
        assert_eq!(first[1], Value::Nil, "a miss: this caller holds the lease");
        assert_eq!(
            cmd(&mut c, &["LLMSETNX", &key, "Paris", "TOKENS", "9"]).await,
            "1"
        );
        assert_eq!(
            cmd(&mut c, &["LLMLOOKUP", CHAT_AGAIN]).await,
            format!("[{key},Paris]")
        );
        let other = r#"{"model":"claude-x","max_tokens":10,"temperature":0,"system":"s","messages":[{"role":"user","content":"hi"}]}"#;
        let Value::Array(o) = call(&mut c, &["LLMLOOKUP", other]).await else {
            panic!()
        };
        let okey = text(&o[0]);
        assert!(okey.starts_with("llm:v1:claude-x:"), "{okey}");
        assert_eq!(cmd(&mut c, &["LLMSETNX", &okey, "hello"]).await, "1");
        assert_eq!(
            cmd(&mut c, &["LLMPURGE", "llm:v1:gpt-4o-mini:*"]).await,
            "1"
        );
        assert_eq!(cmd(&mut c, &["GET", &key]).await, "(nil)");
        assert_eq!(cmd(&mut c, &["GET", &okey]).await, "hello");
        let stats = cmd(&mut c, &["LLMSTATS"]).await;
        assert!(stats.contains("gpt-4o-mini"), "{stats}");
    }
}

/// An OpenAI Chat request of about `bytes`, past the default `llm-key-offload-bytes` (64kb)
/// when `bytes` is.
fn long_chat(bytes: usize, temperature: &str) -> String {
    let turn = r#"{"role":"user","content":"Résumé of step \"n\":\tcafé 東京 😀, fn main() {}\n"}"#;
    let turns = vec![turn; bytes / turn.len() + 1].join(",");
    format!(r#"{{"model":"gpt-4o-mini","temperature":{temperature},"messages":[{turns}]}}"#)
}

#[tokio::test]
async fn large_bodies_keyed_off_the_loop_get_the_keys_and_errors_of_the_loop() {
    let s = start().await;
    let mut c = s.conn(false).await;
    let big = long_chat(300_000, "0");
    let hot = long_chat(300_000, "0.7");
    let broken = format!("{big} x");
    let duplicate = big.replacen(
        "\"temperature\":0",
        "\"temperature\":0,\"temperature\":0",
        1,
    );
    let mut seen: Vec<Vec<String>> = Vec::new();
    // 64kb: the large bodies go off the loop; 0: everything on it; 1: everything off it.
    for threshold in ["64kb", "0", "1"] {
        assert_eq!(
            cmd(
                &mut c,
                &["CONFIG", "SET", "llm-key-offload-bytes", threshold]
            )
            .await,
            "OK"
        );
        let mut replies = Vec::new();
        for body in [&big, &hot, &broken, &duplicate] {
            replies.push(cmd(&mut c, &["LLMKEY", body]).await);
        }
        replies.push(cmd(&mut c, &["LLMKEY", &hot, "SAMPLED", "NAMESPACE", "t1"]).await);
        replies.push(cmd(&mut c, &["LLMKEY", CHAT]).await);
        replies.push(cmd(&mut c, &["LLMKEY", &big, "BOGUS"]).await);
        seen.push(replies);
    }
    let first = &seen[0];
    assert!(first[0].starts_with("llm:v1:gpt-4o-mini:"), "{}", first[0]);
    assert!(
        first[1].starts_with("ERROR:NOTCACHEABLE temperature 0.7"),
        "{}",
        first[1]
    );
    assert!(
        first[2].starts_with("ERROR:ERR request is not valid JSON: trailing characters"),
        "{}",
        first[2]
    );
    assert!(
        first[3].starts_with("ERROR:ERR request has two members named \"temperature\""),
        "{}",
        first[3]
    );
    assert!(
        first[4].starts_with("llm:ns:t1:v1:gpt-4o-mini:"),
        "{}",
        first[4]
    );
    assert_eq!(first[6], "ERROR:ERR syntax error");
    assert_eq!(seen[1], *first, "on the loop");
    assert_eq!(seen[2], *first, "every body off the loop");
}

#[tokio::test]
async fn large_bodies_in_multi_are_keyed_in_place() {
    let s = start().await;
    let mut c = s.conn(false).await;
    let big = long_chat(100_000, "0");
    let key = cmd(&mut c, &["LLMKEY", &big]).await;
    assert_eq!(cmd(&mut c, &["MULTI"]).await, "OK");
    assert_eq!(cmd(&mut c, &["LLMKEY", &big]).await, "QUEUED");
    assert_eq!(cmd(&mut c, &["EXEC"]).await, format!("[{key}]"));
}

#[tokio::test]
async fn large_lookup_off_the_loop_leases_fills_hits_and_hands_the_lease_on() {
    let s = start().await;
    let big = long_chat(200_000, "0");
    let mut a = s.conn(false).await;
    let key = cmd(&mut a, &["LLMKEY", &big]).await;
    let Value::Array(first) = call(&mut a, &["LLMLOOKUP", &big, "WAIT", "0"]).await else {
        panic!("LLMLOOKUP replies with an array")
    };
    assert_eq!((text(&first[0]), &first[1]), (key.clone(), &Value::Nil));
    // The lease is this connection's: another client is told to try again.
    let mut b = s.conn(false).await;
    let busy = cmd(&mut b, &["LLMLOOKUP", &big, "WAIT", "0"]).await;
    assert!(busy.starts_with("ERROR:TRYAGAIN"), "{busy}");
    // The lease holder goes away: its lease is handed on, to a waiting client.
    drop(a);
    let Value::Array(next) = call(&mut b, &["LLMLOOKUP", &big, "WAIT", "10000"]).await else {
        panic!("LLMLOOKUP replies with an array")
    };
    assert_eq!((text(&next[0]), &next[1]), (key.clone(), &Value::Nil));
    assert_eq!(cmd(&mut b, &["LLMSETNX", &key, "answer"]).await, "1");
    let mut c = s.conn(true).await;
    assert_eq!(
        cmd(&mut c, &["LLMLOOKUP_RO", &big]).await,
        format!("[{key},answer]")
    );
}
