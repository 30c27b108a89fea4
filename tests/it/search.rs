//! FT.* against the real server: exact neighbours and distances, the index following the
//! keyspace (HSET, HDEL, DEL, EXPIRE, FLUSHALL, eviction), reply shapes in RESP2 and RESP3, and
//! errors that leave the connection alive.

use crate::support::{start, start_with, text};
use redis::aio::MultiplexedConnection;
use redis::Value;

fn vecbytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Deterministic pseudo-random vectors.
fn vectors(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            (0..dim)
                .map(|_| {
                    s = s
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((s >> 33) as f32 / (1u64 << 31) as f32) - 0.5
                })
                .collect()
        })
        .collect()
}

async fn run(con: &mut MultiplexedConnection, args: Vec<Vec<u8>>) -> Value {
    let mut c = redis::cmd(std::str::from_utf8(&args[0]).unwrap());
    for a in &args[1..] {
        c.arg(a.as_slice());
    }
    match c.query_async::<Value>(con).await {
        Ok(v) => v,
        // A module's error has no code of its own: the first word is what the crate calls one.
        Err(e) => Value::SimpleString(format!(
            "ERROR:{} {}",
            e.code().unwrap_or(""),
            e.detail().unwrap_or("")
        )),
    }
}

macro_rules! a {
    ($($x:expr),* $(,)?) => { vec![$(AsRef::<[u8]>::as_ref(&$x).to_vec()),*] };
}

async fn create(con: &mut MultiplexedConnection, metric: &str, dim: usize, algo: &str) {
    let dim = dim.to_string();
    let params: Vec<&str> = if algo == "HNSW" {
        vec![
            "HNSW",
            "12",
            "TYPE",
            "FLOAT32",
            "DIM",
            &dim,
            "DISTANCE_METRIC",
            metric,
            "M",
            "8",
            "EF_CONSTRUCTION",
            "64",
            "EF_RUNTIME",
            "100",
        ]
    } else {
        vec![
            "FLAT",
            "6",
            "TYPE",
            "FLOAT32",
            "DIM",
            &dim,
            "DISTANCE_METRIC",
            metric,
        ]
    };
    let mut args = a![
        "FT.CREATE",
        "ix",
        "ON",
        "HASH",
        "PREFIX",
        "1",
        "doc:",
        "SCHEMA",
        "model",
        "TAG",
        "n",
        "NUMERIC",
        "prompt",
        "TEXT",
        "v",
        "VECTOR"
    ];
    args.extend(params.iter().map(|p| p.as_bytes().to_vec()));
    assert_eq!(text(&run(con, args).await), "OK");
}

fn exact(data: &[Vec<f32>], q: &[f32], metric: &str) -> Vec<(usize, f64)> {
    let norm = |v: &[f32]| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let mut d: Vec<(usize, f64)> = data
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let dot: f64 = v.iter().zip(q).map(|(a, b)| *a as f64 * *b as f64).sum();
            let dist = match metric {
                "L2" => v
                    .iter()
                    .zip(q)
                    .map(|(a, b)| (*a as f64 - *b as f64).powi(2))
                    .sum(),
                "IP" => 1.0 - dot,
                _ => 1.0 - dot / (norm(v) * norm(q)),
            };
            (i, dist)
        })
        .collect();
    d.sort_by(|a, b| a.1.total_cmp(&b.1));
    d
}

/// `[total, id, [f, v, ...], ...]` -> (total, [(id, fields)])
type Row = (String, Vec<(String, String)>);

fn rows(v: &Value) -> (i64, Vec<Row>) {
    let Value::Array(items) = v else {
        panic!("{v:?}")
    };
    let Value::Int(total) = items[0] else {
        panic!("{v:?}")
    };
    let mut out = Vec::new();
    for pair in items[1..].chunks(2) {
        let Value::Array(f) = &pair[1] else {
            panic!("{v:?}")
        };
        let f = f.chunks(2).map(|kv| (text(&kv[0]), text(&kv[1]))).collect();
        out.push((text(&pair[0]), f));
    }
    (total, out)
}

#[tokio::test]
async fn knn_returns_the_exact_neighbours_and_distances_for_every_metric() {
    for metric in ["COSINE", "L2", "IP"] {
        let s = start().await;
        let mut c = s.conn(false).await;
        create(&mut c, metric, 16, "FLAT").await;
        let data = vectors(300, 16, 7);
        for (i, v) in data.iter().enumerate() {
            let model = if i % 3 == 0 { "gpt-4o" } else { "other" };
            run(
                &mut c,
                a![
                    "HSET",
                    format!("doc:{i}"),
                    "v",
                    vecbytes(v),
                    "model",
                    model,
                    "n",
                    i.to_string()
                ],
            )
            .await;
        }
        let q = &vectors(1, 16, 99)[0];
        let got = run(
            &mut c,
            a![
                "FT.SEARCH",
                "ix",
                "*=>[KNN 10 @v $q AS d]",
                "PARAMS",
                "2",
                "q",
                vecbytes(q),
                "RETURN",
                "1",
                "d",
                "DIALECT",
                "2"
            ],
        )
        .await;
        let (total, hits) = rows(&got);
        assert_eq!(total, 10);
        let want = exact(&data, q, metric);
        for (h, (i, d)) in hits.iter().zip(&want) {
            assert_eq!(h.0, format!("doc:{i}"), "{metric}");
            let got: f64 = h.1[0].1.parse().unwrap();
            assert!((got - d).abs() < 1e-4, "{metric}: {got} vs {d}");
        }
        // A pre-filter keeps only matching documents, still exact.
        let got = run(
            &mut c,
            a![
                "FT.SEARCH",
                "ix",
                r"(@model:{gpt\-4o})=>[KNN 5 @v $q AS d]",
                "PARAMS",
                "2",
                "q",
                vecbytes(q),
                "NOCONTENT",
                "DIALECT",
                "2"
            ],
        )
        .await;
        let want: Vec<String> = want
            .iter()
            .filter(|(i, _)| i % 3 == 0)
            .take(5)
            .map(|(i, _)| format!("doc:{i}"))
            .collect();
        let Value::Array(items) = &got else {
            panic!("{got:?}")
        };
        assert_eq!(
            items[1..].iter().map(text).collect::<Vec<_>>(),
            want,
            "{metric}"
        );
    }
}

#[tokio::test]
async fn hnsw_recall_is_high_on_random_data() {
    let s = start().await;
    let mut c = s.conn(false).await;
    create(&mut c, "COSINE", 16, "HNSW").await;
    let data = vectors(1000, 16, 3);
    for (i, v) in data.iter().enumerate() {
        run(&mut c, a!["HSET", format!("doc:{i}"), "v", vecbytes(v)]).await;
    }
    let mut hits = 0;
    let queries = vectors(20, 16, 5);
    for q in &queries {
        let got = run(
            &mut c,
            a![
                "FT.SEARCH",
                "ix",
                "*=>[KNN 10 @v $q]",
                "PARAMS",
                "2",
                "q",
                vecbytes(q),
                "NOCONTENT"
            ],
        )
        .await;
        let Value::Array(items) = &got else {
            panic!("{got:?}")
        };
        let want: Vec<String> = exact(&data, q, "COSINE")
            .iter()
            .take(10)
            .map(|(i, _)| format!("doc:{i}"))
            .collect();
        hits += items[1..]
            .iter()
            .filter(|id| want.contains(&text(id)))
            .count();
    }
    let recall = hits as f64 / (queries.len() * 10) as f64;
    assert!(recall >= 0.95, "recall {recall}");
}

#[tokio::test]
async fn the_index_follows_hset_hdel_del_expire_and_flushall() {
    let s = start().await;
    let mut c = s.conn(false).await;
    create(&mut c, "L2", 2, "FLAT").await;
    let count = |v: Value| rows(&v).0;
    let all = a!["FT.SEARCH", "ix", "*", "NOCONTENT"];
    run(
        &mut c,
        a!["HSET", "doc:1", "v", vecbytes(&[0.0, 0.0]), "model", "a"],
    )
    .await;
    run(
        &mut c,
        a!["HSET", "doc:2", "v", vecbytes(&[1.0, 0.0]), "model", "a"],
    )
    .await;
    run(&mut c, a!["HSET", "other:3", "v", vecbytes(&[1.0, 0.0])]).await;
    let Value::Array(x) = run(&mut c, all.clone()).await else {
        panic!()
    };
    assert_eq!(x.len(), 3);
    // Changing a field re-indexes the document.
    run(&mut c, a!["HSET", "doc:2", "model", "b"]).await;
    let v = run(&mut c, a!["FT.SEARCH", "ix", "@model:{b}", "NOCONTENT"]).await;
    assert_eq!(text(&v), "[1,doc:2]");
    // Losing the vector field: still a document, no longer a vector match.
    run(&mut c, a!["HDEL", "doc:2", "v"]).await;
    let knn = a![
        "FT.SEARCH",
        "ix",
        "*=>[KNN 5 @v $q]",
        "PARAMS",
        "2",
        "q",
        vecbytes(&[1.0, 0.0]),
        "NOCONTENT"
    ];
    assert_eq!(text(&run(&mut c, knn.clone()).await), "[1,doc:1]");
    run(&mut c, a!["DEL", "doc:2"]).await;
    assert_eq!(text(&run(&mut c, all.clone()).await), "[1,doc:1]");
    // Expiry: gone from results as soon as the key is gone.
    run(&mut c, a!["PEXPIRE", "doc:1", "1000"]).await;
    s.shared.store.clock().advance(1001);
    assert_eq!(count(run(&mut c, all.clone()).await), 0);
    run(&mut c, a!["HSET", "doc:5", "v", vecbytes(&[0.5, 0.5])]).await;
    run(&mut c, a!["FLUSHALL"]).await;
    assert_eq!(count(run(&mut c, all.clone()).await), 0);
    let info = text(&run(&mut c, a!["FT.INFO", "ix"]).await);
    assert!(info.contains("num_docs,0"), "{info}");
}

#[tokio::test]
async fn a_vector_of_the_wrong_length_is_stored_but_counted_as_a_failure() {
    let s = start().await;
    let mut c = s.conn(false).await;
    create(&mut c, "COSINE", 4, "FLAT").await;
    assert_eq!(
        text(&run(&mut c, a!["HSET", "doc:1", "v", vecbytes(&[1.0, 2.0])]).await),
        "1"
    );
    assert_eq!(text(&run(&mut c, a!["EXISTS", "doc:1"]).await), "1");
    let info = text(&run(&mut c, a!["FT.INFO", "ix"]).await);
    assert!(
        info.contains("num_docs,0") && info.contains("hash_indexing_failures,1"),
        "{info}"
    );
}

#[tokio::test]
async fn evicted_hashes_leave_the_index() {
    let s = start_with(|c| c.maxmemory = 200_000).await;
    let mut c = s.conn(false).await;
    create(&mut c, "L2", 64, "FLAT").await;
    for i in 0..2000 {
        run(
            &mut c,
            a!["HSET", format!("doc:{i}"), "v", vecbytes(&[i as f32; 64])],
        )
        .await;
    }
    s.shared.store.run_maintenance();
    let idx = s.shared.search.get(b"ix").unwrap();
    let keys = s.shared.store.len() as usize;
    assert!(keys < 2000, "nothing was evicted");
    assert_eq!(idx.num_docs(), keys);
}

#[tokio::test]
async fn ft_create_indexes_existing_keys_in_the_background() {
    let s = start().await;
    let mut c = s.conn(false).await;
    for chunk in (0..12_000).collect::<Vec<_>>().chunks(1000) {
        let mut p = redis::pipe();
        for i in chunk {
            p.cmd("HSET")
                .arg(format!("doc:{i}"))
                .arg("v")
                .arg(vecbytes(&[*i as f32, 1.0]))
                .ignore();
        }
        let _: () = p.query_async(&mut c).await.unwrap();
    }
    create(&mut c, "L2", 2, "FLAT").await;
    s.shared.search.get(b"ix").unwrap().indexed().await;
    let v = run(
        &mut c,
        a![
            "FT.SEARCH",
            "ix",
            "*=>[KNN 1 @v $q]",
            "PARAMS",
            "2",
            "q",
            vecbytes(&[42.2, 1.0]),
            "NOCONTENT"
        ],
    )
    .await;
    assert_eq!(text(&v), "[1,doc:42]");
    let info = text(&run(&mut c, a!["FT.INFO", "ix"]).await);
    assert!(
        info.contains("num_docs,12000") && info.contains("percent_indexed,1"),
        "{info}"
    );
}

#[tokio::test]
async fn redisvl_range_query_in_resp3_has_the_map_shape() {
    let s = start().await;
    let mut c = s.conn(true).await;
    create(&mut c, "COSINE", 2, "FLAT").await;
    run(
        &mut c,
        a![
            "HSET",
            "doc:1",
            "v",
            vecbytes(&[1.0, 0.0]),
            "model",
            "gpt-4o",
            "n",
            "2",
            "prompt",
            "What is RAG?"
        ],
    )
    .await;
    run(
        &mut c,
        a![
            "HSET",
            "doc:2",
            "v",
            vecbytes(&[0.0, 1.0]),
            "model",
            "gpt-4o",
            "n",
            "2"
        ],
    )
    .await;
    run(
        &mut c,
        a![
            "HSET",
            "doc:3",
            "v",
            vecbytes(&[1.0, 0.1]),
            "model",
            "other",
            "n",
            "2"
        ],
    )
    .await;
    let q = r"@v:[VECTOR_RANGE $distance_threshold $vector]=>{$YIELD_DISTANCE_AS: vector_distance} (@model:{gpt\-4o} @n:[(1 +inf])";
    let v = run(
        &mut c,
        a![
            "FT.SEARCH",
            "ix",
            q,
            "RETURN",
            "2",
            "prompt",
            "vector_distance",
            "SORTBY",
            "vector_distance",
            "ASC",
            "DIALECT",
            "2",
            "LIMIT",
            "0",
            "5",
            "PARAMS",
            "4",
            "vector",
            vecbytes(&[1.0, 0.0]),
            "distance_threshold",
            "0.2"
        ],
    )
    .await;
    assert_eq!(
        text(&v),
        "{attributes=[],format=STRING,results=[{id=doc:1,extra_attributes={prompt=What is RAG?,vector_distance=0},values=[]}],total_results=1,warning=[]}"
    );
    let v = run(&mut c, a!["FT.SEARCH", "ix", "@prompt:rag", "NOCONTENT"]).await;
    assert!(text(&v).contains("total_results=1"), "{v:?}");
}

#[tokio::test]
async fn bad_searches_get_clear_errors_and_the_connection_lives() {
    let s = start().await;
    let mut c = s.conn(false).await;
    create(&mut c, "COSINE", 2, "FLAT").await;
    let cases: Vec<(Vec<Vec<u8>>, &str)> = vec![
        (a!["FT.SEARCH", "nope", "*"], "nope: no such index"),
        (a!["FT.INFO", "nope"], "Unknown index name"),
        (a!["FT.DROPINDEX", "nope"], "Unknown Index name"),
        (
            a!["FT.SEARCH", "ix", "@model:{a"],
            "Syntax error at offset 9 near end of query",
        ),
        (
            a![
                "FT.SEARCH",
                "ix",
                "*=>[KNN 2 @v $q]",
                "PARAMS",
                "2",
                "q",
                "abc"
            ],
            "query vector blob size (3) does not match index's expected size (8)",
        ),
        (
            a!["FT.SEARCH", "ix", "*=>[KNN 2 @v $q]"],
            "No such parameter `q`",
        ),
        (
            a![
                "FT.SEARCH",
                "ix",
                "@v:[VECTOR_RANGE -1 $q]",
                "PARAMS",
                "2",
                "q",
                "abcdefgh"
            ],
            "Invalid radius",
        ),
        (
            a!["FT.SEARCH", "ix", "*", "SORTBY", "zz"],
            "Property `zz` not loaded nor in schema",
        ),
        (a!["FT.SEARCH", "ix", "@zz:{a}"], "Unknown field `zz`"),
        (
            a!["FT.CREATE", "ix", "SCHEMA", "a", "TEXT"],
            "Index already exists",
        ),
        (
            a!["FT.CREATE", "x", "SCHEMA", "a", "BLOB"],
            "Invalid field type for field `a`",
        ),
    ];
    for (args, want) in cases {
        let got = text(&run(&mut c, args).await);
        assert!(
            got.starts_with("ERROR:") && got.contains(want),
            "{got} should contain {want}"
        );
        assert_eq!(text(&run(&mut c, a!["PING"]).await), "PONG");
    }
    // The text has no code of its own, as RediSearch sends it.
    let mut raw = s.raw().await;
    let got = raw
        .roundtrip(
            b"*2\r\n$7\r\nFT.INFO\r\n$4\r\nnope\r\n",
            "-Unknown index name\r\n",
        )
        .await;
    assert_eq!(got, "-Unknown index name\r\n");
    let v = run(&mut c, a!["MODULE", "LIST"]).await;
    assert_eq!(text(&v), "[[name,search,ver,21005,path,built-in,args,[]]]");
    assert_eq!(text(&run(&mut c, a!["FT._LIST"]).await), "[ix]");
    assert_eq!(
        text(&run(&mut c, a!["FT.DROPINDEX", "ix", "DD"]).await),
        "OK"
    );
    assert_eq!(text(&run(&mut c, a!["FT._LIST"]).await), "[]");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexes_survive_a_restart_with_their_vectors_rebuilt_from_the_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let persistent = |c: &mut llmcached::config::Config| {
        c.dir = dir.path().to_path_buf();
        c.appendonly = true;
    };
    let s = start_with(persistent).await;
    s.shared.loaded().await;
    let mut c = s.conn(false).await;
    create(&mut c, "L2", 2, "HNSW").await;
    for i in 0..50 {
        run(
            &mut c,
            a![
                "HSET",
                format!("doc:{i}"),
                "v",
                vecbytes(&[i as f32, 0.0]),
                "model",
                "m"
            ],
        )
        .await;
    }
    drop(c);
    s.stop().await.unwrap();
    assert!(dir.path().join(llmcached::search::store::FILE).exists());

    let s = start_with(persistent).await;
    s.shared.loaded().await;
    let mut c = s.conn(true).await;
    let v = run(
        &mut c,
        a![
            "FT.SEARCH",
            "ix",
            "@model:{m}=>[KNN 2 @v $q AS d]",
            "PARAMS",
            "2",
            "q",
            vecbytes(&[7.2, 0.0]),
            "RETURN",
            "1",
            "d",
            "DIALECT",
            "2"
        ],
    )
    .await;
    let t = text(&v);
    assert!(
        t.contains("total_results=2")
            && t.contains("id=doc:7,extra_attributes={d=0.03999")
            && t.contains("id=doc:8"),
        "{t}"
    );
    let info = text(&run(&mut c, a!["FT.INFO", "ix"]).await);
    assert!(
        info.contains("num_docs=50") && info.contains("algorithm=HNSW"),
        "{info}"
    );
    // Dropped indexes stay dropped.
    assert_eq!(text(&run(&mut c, a!["FT.DROPINDEX", "ix"]).await), "OK");
    drop(c);
    s.stop().await.unwrap();
    let s = start_with(persistent).await;
    s.shared.loaded().await;
    assert!(s.shared.search.names().is_empty());
}
