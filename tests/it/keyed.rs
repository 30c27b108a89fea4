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
