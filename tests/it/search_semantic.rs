//! Semantic single-flight (`LLMLOOKUP ... SEMANTIC`): a burst of concurrent paraphrases makes one
//! model call, answers are found by distance within one model and one tenant, and leave with
//! their keys.

use crate::support::{cmd, start, start_with, text, TestServer};
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Value};

fn body(model: &str, prompt: &str) -> String {
    format!(
        r#"{{"model":"{model}","temperature":0,"messages":[{{"role":"user","content":"{prompt}"}}]}}"#
    )
}

fn blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The `i`th of 40 distinct wordings of one question (no numbers or other names in them: the
/// guards would rightly tell such requests apart).
fn paraphrase(i: usize) -> String {
    const ASK: [&str; 5] = [
        "What is RAG",
        "Explain RAG",
        "Tell me about RAG",
        "Describe RAG",
        "what is rag",
    ];
    const END: [&str; 8] = [
        "?",
        " please?",
        ", briefly?",
        " in short?",
        " quickly?",
        "!",
        ".",
        " simply?",
    ];
    format!("{}{}", ASK[i % 5], END[(i / 5) % 8])
}

async fn lookup(
    c: &mut MultiplexedConnection,
    model: &str,
    prompt: &str,
    v: &[f32],
    d: &str,
) -> Value {
    lookup_in(c, &[], model, prompt, v, d).await
}

/// LLMLOOKUP with keying options `extra` (such as `NAMESPACE ns`) before SEMANTIC.
async fn lookup_in(
    c: &mut MultiplexedConnection,
    extra: &[&str],
    model: &str,
    prompt: &str,
    v: &[f32],
    d: &str,
) -> Value {
    redis::cmd("LLMLOOKUP")
        .arg(body(model, prompt))
        .arg(extra)
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
            let r = lookup(&mut c, "gpt-4o", &paraphrase(i), &v, "0.05").await;
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

/// Users `a` and `b`, each confined to its namespace's keys, with `llm-key-namespace user`.
async fn tenants() -> TestServer {
    let s = start_with(|c| c.acl.key_namespace_user = true).await;
    let mut admin = s.conn(false).await;
    for t in ["a", "b"] {
        let pattern = format!("~llm:ns:{t}:*");
        let rules = [
            "ACL",
            "SETUSER",
            t,
            "on",
            ">pw",
            "resetkeys",
            "-@all",
            "+@llm",
        ];
        let mut rules = rules.to_vec();
        rules.extend(["+@connection", &pattern]);
        assert_eq!(cmd(&mut admin, &rules).await, "OK");
    }
    s
}

async fn login(s: &TestServer, user: &str) -> MultiplexedConnection {
    let url = format!("redis://{user}:pw@{}/", s.addr);
    let cfg = AsyncConnectionConfig::new().set_response_timeout(None);
    Client::open(url)
        .expect("client")
        .get_multiplexed_async_connection_with_config(&cfg)
        .await
        .expect("log in")
}

async fn store(c: &mut MultiplexedConnection, key: &str, answer: &str) {
    let stored: Value = redis::cmd("LLMSETNX")
        .arg(key)
        .arg(answer)
        .query_async(c)
        .await
        .unwrap();
    assert_eq!(text(&stored), "1", "{key}");
}

/// Who asks, and the prefix its keys must have: two tenants, or a tenant and the default user.
const PAIRS: [[(&str, &str); 2]; 2] = [
    [("a", "llm:ns:a:v1:gpt-4o:"), ("b", "llm:ns:b:v1:gpt-4o:")],
    [("default", "llm:v1:gpt-4o:"), ("a", "llm:ns:a:v1:gpt-4o:")],
];

async fn conn_as(s: &TestServer, user: &str) -> MultiplexedConnection {
    if user == "default" {
        s.conn(false).await
    } else {
        login(s, user).await
    }
}

#[tokio::test]
async fn two_tenants_asking_paraphrases_at_once_each_make_exactly_one_fill() {
    for pair in PAIRS {
        let s = tenants().await;
        const N: usize = 12;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..2 * N {
            let (user, prefix) = pair[i % 2];
            let mut c = conn_as(&s, user).await;
            let tx = tx.clone();
            tasks.spawn(async move {
                // The same paraphrases in both tenants: same requests, same vectors.
                let v = [1.0, 0.01 * ((i / 2) % 4) as f32, 0.0];
                let prompt = paraphrase(i / 2);
                let r = lookup(&mut c, "gpt-4o", &prompt, &v, "0.05").await;
                let _ = tx.send((prefix, r, c));
            });
        }
        // One leader per tenant; everyone else waits inside the server, for its own tenant.
        let mut leaders = Vec::new();
        for _ in 0..2 {
            let (prefix, r, c) = rx.recv().await.unwrap();
            let (key, value, dist) = parts(&r);
            assert_eq!((value, dist), (Value::Nil, Value::Nil), "{r:?}");
            assert!(key.starts_with(prefix), "{key} for {prefix}");
            leaders.push((prefix, key, c));
        }
        assert_ne!(leaders[0].0, leaders[1].0, "one leader in each tenant");
        s.shared
            .flights
            .until_followers_waiting(2 * (N as u64 - 1))
            .await;
        assert!(
            rx.try_recv().is_err(),
            "nobody else was told to call the model"
        );
        for (prefix, key, c) in &mut leaders {
            store(c, key, &format!("answer for {prefix}")).await;
        }
        for _ in 0..2 * (N - 1) {
            let (prefix, r, _) = rx.recv().await.unwrap();
            let (k, v, _) = parts(&r);
            let leader = leaders.iter().find(|l| l.0 == prefix).unwrap();
            assert_eq!(k, leader.1, "a follower got its own tenant's key");
            assert_eq!(text(&v), format!("answer for {prefix}"));
        }
        while tasks.join_next().await.is_some() {}
    }
}

#[tokio::test]
async fn no_answer_crosses_tenants_even_at_distance_0() {
    for (pair, d) in PAIRS.iter().flat_map(|p| [(p, "0"), (p, "2")]) {
        let [(first, first_prefix), (second, second_prefix)] = *pair;
        let s = tenants().await;
        let (mut one, mut two) = (conn_as(&s, first).await, conn_as(&s, second).await);
        let v = [0.0, 1.0, 0.0];
        let (key, value, _) = parts(&lookup(&mut one, "gpt-4o", "What is HNSW?", &v, d).await);
        assert!(
            key.starts_with(first_prefix) && value == Value::Nil,
            "{key}"
        );
        store(&mut one, &key, "the first tenant's answer").await;
        // The very same request and vector from the other tenant, at the nearest or the widest
        // distance: a miss on its own key, never the other's key, answer or distance.
        let r = lookup(&mut two, "gpt-4o", "What is HNSW?", &v, d).await;
        let (own, val, dist) = parts(&r);
        assert!(own.starts_with(second_prefix), "{r:?}");
        assert_eq!((val, dist), (Value::Nil, Value::Nil), "{r:?}");
        store(&mut two, &own, "the second tenant's answer").await;
        // Each finds its own answer by distance (0: the vectors are the same).
        for (c, k, answer) in [
            (&mut one, &key, "the first tenant's answer"),
            (&mut two, &own, "the second tenant's answer"),
        ] {
            let r = lookup(c, "gpt-4o", "Tell me about HNSW", &v, d).await;
            let (got, val, dist) = parts(&r);
            assert_eq!(
                (&got, text(&val), text(&dist)),
                (k, answer.into(), "0".into())
            );
        }
        // A space's dimension is each tenant's own: the first's 3 does not bind the second.
        for (c, dims) in [(&mut one, 3), (&mut two, 2)] {
            let r: Value = redis::cmd("LLMLOOKUP")
                .arg(body("gpt-4o", &format!("Shape {dims}")))
                .arg("SEMANTIC")
                .arg("dims")
                .arg(blob(&vec![1.0; dims]))
                .arg("0.1")
                .query_async(c)
                .await
                .unwrap();
            assert_eq!(parts(&r).1, Value::Nil, "{r:?}");
        }
    }
}

#[tokio::test]
async fn a_tenant_may_not_look_up_semantically_in_another_tenants_namespace() {
    let s = tenants().await;
    let mut a = login(&s, "a").await;
    let v = [1.0, 0.0];
    let r = lookup_in(&mut a, &["NAMESPACE", "b"], "m", "q", &v, "0.1").await;
    let refused = text(&r);
    assert!(
        refused.contains("no permissions to access one of the keys"),
        "{refused}"
    );
    let r = lookup_in(&mut a, &["NAMESPACE", "a"], "m", "q", &v, "0.1").await;
    assert!(parts(&r).0.starts_with("llm:ns:a:v1:m:"), "{r:?}");
}

/// A near answer is one of the caller's own database: the same question asked in another
/// database leads its own fill there, and the reply names keys as the caller's database does.
#[tokio::test]
async fn answers_are_scoped_by_database() {
    let s = start().await;
    let in_db = |db: usize| {
        let url = format!("redis://{}/{db}", s.addr);
        async move {
            Client::open(url)
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .unwrap()
        }
    };
    let (mut three, mut zero) = (in_db(3).await, in_db(0).await);
    let v = [0.6, 0.8];
    let (key, value, _) =
        parts(&lookup(&mut three, "gpt-4o", "What is a B-tree?", &v, "0.1").await);
    assert_eq!(value, Value::Nil);
    assert!(
        key.starts_with("llm:"),
        "the key as the user names it: {key:?}"
    );
    let stored: Value = redis::cmd("LLMSETNX")
        .arg(&key)
        .arg("a balanced tree")
        .query_async(&mut three)
        .await
        .unwrap();
    assert_eq!(text(&stored), "1");
    let near = [0.61, 0.79];
    let (k, val, _) = parts(&lookup(&mut three, "gpt-4o", "Explain B-trees", &near, "0.1").await);
    assert_eq!(
        (k.as_str(), text(&val).as_str()),
        (key.as_str(), "a balanced tree")
    );
    // Database 0 has neither the exact answer nor the near one: it leads its own fill.
    let (k0, val0, _) = parts(&lookup(&mut zero, "gpt-4o", "Explain B-trees", &near, "0.1").await);
    assert_eq!(val0, Value::Nil);
    assert_ne!(k0, key);
    let exists: Value = redis::cmd("EXISTS")
        .arg(&key)
        .query_async(&mut zero)
        .await
        .unwrap();
    assert_eq!(text(&exists), "0");
}
