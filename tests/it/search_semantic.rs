//! Semantic single-flight (`LLMLOOKUP ... SEMANTIC`): a burst of concurrent paraphrases makes one
//! model call, answers are found by distance within one model, and leave with their keys.

use crate::support::{start, text};
use redis::aio::MultiplexedConnection;
use redis::Value;

fn body(model: &str, prompt: &str) -> String {
    format!(
        r#"{{"model":"{model}","temperature":0,"messages":[{{"role":"user","content":"{prompt}"}}]}}"#
    )
}

fn blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

async fn lookup(
    c: &mut MultiplexedConnection,
    model: &str,
    prompt: &str,
    v: &[f32],
    d: &str,
) -> Value {
    redis::cmd("LLMLOOKUP")
        .arg(body(model, prompt))
        .arg("SEMANTIC")
        .arg("qa")
        .arg(blob(v))
        .arg(d)
        .query_async(c)
        .await
        .unwrap_or_else(|e| Value::SimpleString(format!("ERROR:{e}")))
}

fn parts(v: &Value) -> (String, Value, Value) {
    let Value::Array(p) = v else { panic!("{v:?}") };
    (text(&p[0]), p[1].clone(), p[2].clone())
}

#[tokio::test]
async fn a_burst_of_concurrent_paraphrases_makes_one_model_call() {
    let s = start().await;
    const N: usize = 40;
    let mut tasks = tokio::task::JoinSet::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..N {
        let mut c = s.conn(false).await;
        let tx = tx.clone();
        tasks.spawn(async move {
            // Paraphrases: distinct requests (distinct exact keys), nearly the same vector.
            let v = [1.0, 0.01 * (i % 5) as f32, 0.0];
            let r = lookup(
                &mut c,
                "gpt-4o",
                &format!("What is RAG, variant {i}?"),
                &v,
                "0.05",
            )
            .await;
            // The connection goes along: a lease ends when its holder's connection closes.
            let _ = tx.send((r, c));
        });
    }
    // Exactly one caller is told to call the model; the others wait inside the server.
    let (first, _leader_conn) = rx.recv().await.unwrap();
    let (leader_key, value, dist) = parts(&first);
    assert_eq!((value, dist), (Value::Nil, Value::Nil), "{first:?}");
    s.shared
        .flights
        .until_followers_waiting((N - 1) as u64)
        .await;
    let mut c = s.conn(false).await;
    let stored: Value = redis::cmd("LLMSETNX")
        .arg(&leader_key)
        .arg("RAG is retrieval-augmented generation.")
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(text(&stored), "1");
    for _ in 1..N {
        let (r, _) = rx.recv().await.unwrap();
        let (k, v, _) = parts(&r);
        assert_eq!(k, leader_key);
        assert_eq!(text(&v), "RAG is retrieval-augmented generation.");
    }
    while tasks.join_next().await.is_some() {}
    // Later paraphrases find the stored answer by distance, with the distance.
    let r = lookup(&mut c, "gpt-4o", "Explain RAG", &[1.0, 0.02, 0.0], "0.05").await;
    let (k, v, d) = parts(&r);
    assert_eq!(k, leader_key);
    assert_eq!(text(&v), "RAG is retrieval-augmented generation.");
    assert!(text(&d).parse::<f64>().unwrap() < 0.05);
}

#[tokio::test]
async fn answers_are_scoped_by_model_and_leave_with_their_key() {
    let s = start().await;
    let mut c = s.conn(false).await;
    let v = [0.0, 1.0];
    let (key, value, _) = parts(&lookup(&mut c, "gpt-4o", "What is HNSW?", &v, "0.1").await);
    assert_eq!(value, Value::Nil);
    let _: Value = redis::cmd("LLMSETNX")
        .arg(&key)
        .arg("a graph")
        .query_async(&mut c)
        .await
        .unwrap();
    // The exact request: distance 0.
    let (k, val, d) = parts(&lookup(&mut c, "gpt-4o", "What is HNSW?", &v, "0.1").await);
    assert_eq!(
        (k.as_str(), text(&val).as_str(), text(&d).as_str()),
        (key.as_str(), "a graph", "0")
    );
    // Another model never gets this answer; a far question neither.
    let (k2, val2, _) = parts(&lookup(&mut c, "claude", "What is HNSW?", &v, "0.1").await);
    assert_ne!(k2, key);
    assert_eq!(val2, Value::Nil);
    let (_, far, _) = parts(&lookup(&mut c, "gpt-4o", "Bake bread", &[1.0, 0.0], "0.1").await);
    assert_eq!(far, Value::Nil);
    // Deleted: no longer found by distance.
    let _: Value = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut c)
        .await
        .unwrap();
    let (k3, val3, _) =
        parts(&lookup(&mut c, "gpt-4o", "Tell me about HNSW", &[0.0, 1.0], "0.1").await);
    assert_ne!(k3, key);
    assert_eq!(val3, Value::Nil);
    // Bad arguments are errors, and the connection lives on.
    let bad: Result<Value, _> = redis::cmd("LLMLOOKUP")
        .arg(body("m", "x"))
        .arg("SEMANTIC")
        .arg("qa")
        .arg("abc")
        .arg("0.1")
        .query_async(&mut c)
        .await;
    assert!(bad.is_err());
    let bad: Result<Value, _> = redis::cmd("LLMLOOKUP")
        .arg(body("m", "x"))
        .arg("SEMANTIC")
        .arg("qa")
        .arg(blob(&v))
        .arg("nope")
        .query_async(&mut c)
        .await;
    assert!(bad.unwrap_err().to_string().contains("max-distance"));
    let dims: Result<Value, _> = redis::cmd("LLMLOOKUP")
        .arg(body("m", "x"))
        .arg("SEMANTIC")
        .arg("qa")
        .arg(blob(&[1.0, 2.0, 3.0]))
        .arg("0.1")
        .query_async(&mut c)
        .await;
    assert!(dims.unwrap_err().to_string().contains("dimensions"));
    let pong: String = redis::cmd("PING").query_async(&mut c).await.unwrap();
    assert_eq!(pong, "PONG");
}
