//! Streaming single-flight: LLMREAD / LLMAPPEND / LLMEND against the real server, with leaders
//! and followers on separate connections (RESP2 and RESP3), raw sockets for dropped leaders.

use crate::support::{call, cmd, start, start_with, TestServer};
use redis::aio::MultiplexedConnection;
use redis::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One LLMREAD reply: state, cursor, data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub state: String,
    pub cursor: String,
    pub data: Vec<u8>,
}

fn bulk(v: &Value) -> Vec<u8> {
    match v {
        Value::BulkString(b) => b.clone(),
        Value::SimpleString(s) => s.clone().into_bytes(),
        other => panic!("expected a bulk string, got {other:?}"),
    }
}

pub async fn llmread(con: &mut MultiplexedConnection, key: &str, opts: &[&str]) -> Read {
    let mut args = vec!["LLMREAD", key];
    args.extend_from_slice(opts);
    match call(con, &args).await {
        Value::Array(items) if items.len() == 3 => Read {
            state: String::from_utf8_lossy(&bulk(&items[0])).into_owned(),
            cursor: String::from_utf8_lossy(&bulk(&items[1])).into_owned(),
            data: bulk(&items[2]),
        },
        other => panic!("LLMREAD answered {other:?}"),
    }
}

fn gen_of(cursor: &str) -> String {
    cursor.split('-').next().unwrap_or_default().to_string()
}

/// How a follower's read loop ended.
#[derive(Debug)]
enum Ended {
    /// `done`: the bytes rebuilt, the number of LLMREAD calls, the resets seen.
    Done {
        bytes: Vec<u8>,
        calls: usize,
        resets: usize,
    },
    /// `lead`: this follower holds the lease at this generation.
    Lead {
        gen: String,
        con: MultiplexedConnection,
    },
}

/// When a follower held how many bytes.
type Seen = Arc<Mutex<Vec<(usize, Instant)>>>;

/// Reads `key` from 0 until `done` or `lead`, as a streaming client would. `seen` records when
/// each new byte count arrived (for delivery delays).
async fn follow(mut con: MultiplexedConnection, key: String, seen: Option<Seen>) -> Ended {
    let (mut bytes, mut calls, mut resets) = (Vec::new(), 0, 0);
    let mut cursor = "0".to_string();
    loop {
        let r = llmread(&mut con, &key, &["FROM", &cursor, "WAIT", "10000"]).await;
        calls += 1;
        match r.state.as_str() {
            "lead" => {
                return Ended::Lead {
                    gen: gen_of(&r.cursor),
                    con,
                }
            }
            "reset" => {
                resets += 1;
                bytes.clear();
            }
            "data" | "done" => {}
            other => panic!("unknown state {other}"),
        }
        bytes.extend_from_slice(&r.data);
        if let Some(seen) = &seen {
            if !r.data.is_empty() {
                seen.lock().unwrap().push((bytes.len(), Instant::now()));
            }
        }
        cursor = r.cursor;
        if r.state == "done" {
            return Ended::Done {
                bytes,
                calls,
                resets,
            };
        }
    }
}

async fn until_readers(s: &TestServer, n: u64) {
    tokio::time::timeout(
        Duration::from_secs(10),
        s.shared.flights.until_readers_waiting(n),
    )
    .await
    .unwrap_or_else(|_| panic!("readers never reached {n}"));
}

async fn lead(con: &mut MultiplexedConnection, key: &str) -> String {
    let r = llmread(con, key, &["FROM", "0", "WAIT", "0"]).await;
    assert_eq!(r.state, "lead", "{r:?}");
    assert!(r.cursor.ends_with("-0") && r.data.is_empty());
    gen_of(&r.cursor)
}

fn chunk(i: usize) -> String {
    format!("data: {{\"i\":{i},\"t\":\"tok{i}\"}}\n\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_followers_rebuild_the_leaders_bytes_live_and_llmget_gets_the_whole() {
    let s = start().await;
    let mut leader = s.conn(false).await;
    let gen = lead(&mut leader, "k").await;
    let chunks = 100;
    let seen: Vec<_> = (0..50).map(|_| Arc::new(Mutex::new(Vec::new()))).collect();
    let mut tasks = Vec::new();
    for (i, seen) in seen.iter().enumerate() {
        let con = s.conn(i % 2 == 1).await;
        tasks.push(tokio::spawn(follow(con, "k".into(), Some(seen.clone()))));
    }
    // A plain LLMGET caller of the same key shares the model call and waits for the whole.
    let mut plain = s.conn(true).await;
    let get = tokio::spawn(async move { cmd(&mut plain, &["LLMGET", "k", "WAIT", "20000"]).await });
    until_readers(&s, 50).await;
    let mut sent = Vec::new();
    let mut whole = String::new();
    let mut late = None;
    for i in 0..chunks {
        let c = chunk(i);
        whole.push_str(&c);
        sent.push((whole.len(), Instant::now()));
        let n = cmd(&mut leader, &["LLMAPPEND", "k", &gen, &c]).await;
        assert_eq!(n, whole.len().to_string());
        if i == 60 {
            let con = s.conn(true).await;
            late = Some(tokio::spawn(follow(con, "k".into(), None)));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        cmd(&mut leader, &["LLMEND", "k", &gen, "TOKENS", "42"]).await,
        "1"
    );
    for t in tasks.into_iter().chain(late) {
        match t.await.unwrap() {
            Ended::Done {
                bytes,
                calls,
                resets,
            } => {
                assert_eq!(String::from_utf8(bytes).unwrap(), whole);
                assert!(
                    calls <= chunks + 5,
                    "{calls} LLMREAD calls for {chunks} chunks"
                );
                assert_eq!(resets, 0);
            }
            Ended::Lead { .. } => panic!("a follower was handed the lease"),
        }
    }
    assert_eq!(get.await.unwrap(), whole);
    assert_eq!(cmd(&mut leader, &["LLMGET", "k"]).await, whole);
    // Delivery delay: from just before each LLMAPPEND to the follower holding those bytes.
    let mut delays = Vec::new();
    for seen in &seen {
        let seen = seen.lock().unwrap();
        for (end, at) in &sent {
            if let Some((_, got)) = seen.iter().find(|(n, _)| n >= end) {
                delays.push(got.saturating_duration_since(*at));
            }
        }
    }
    delays.sort();
    let median = delays[delays.len() / 2];
    // Pushed, not polled: a follower holds the bytes one wake-up after the append. The bound is
    // loose for loaded test machines (a debug build, 50 clients in-process); the benchmark
    // measures the real figure.
    assert!(
        median < Duration::from_millis(100),
        "median delivery {median:?}"
    );
    let stats = cmd(&mut leader, &["LLMSTATS"]).await;
    for (name, want) in [
        ("misses", "1".to_string()),
        ("stream_appends", chunks.to_string()),
        ("stream_bytes_appended", whole.len().to_string()),
        ("streams_active", "0".into()),
        ("stream_bytes", "0".into()),
        ("stream_resets", "0".into()),
        ("readers_waiting", "0".into()),
    ] {
        assert!(
            stats.contains(&format!("{name},{want}")),
            "{name} != {want} in {stats}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_mid_stream_resets_readers_and_promotes_exactly_one() {
    let s = start().await;
    let mut leader = s.conn(true).await;
    let g1 = lead(&mut leader, "k").await;
    cmd(&mut leader, &["LLMAPPEND", "k", &g1, "partial "]).await;
    let n = 10;
    let mut tasks = Vec::new();
    for i in 0..n {
        let con = s.conn(i % 2 == 0).await;
        tasks.push(tokio::spawn(follow(con, "k".into(), None)));
    }
    until_readers(&s, n as u64).await;
    assert_eq!(cmd(&mut leader, &["LLMABORT", "k", &g1]).await, "1");
    // Exactly one follower is handed the lease; the others are reset and wait again.
    let mut new_leader = None;
    let mut rest = Vec::new();
    until_readers(&s, n as u64 - 1).await;
    for t in tasks {
        if t.is_finished() {
            match t.await.unwrap() {
                Ended::Lead { gen, con } => {
                    assert!(new_leader.replace((gen, con)).is_none(), "two leaders")
                }
                other => panic!("finished early: {other:?}"),
            }
        } else {
            rest.push(t);
        }
    }
    let (g2, mut con) = new_leader.expect("one follower leads");
    assert!(g2.parse::<u64>().unwrap() > g1.parse::<u64>().unwrap());
    let stale = cmd(&mut leader, &["LLMAPPEND", "k", &g1, "x"]).await;
    assert_eq!(
        stale,
        format!("ERROR:NOLEASE no fill lease is held for this key at generation {g1}")
    );
    assert_eq!(cmd(&mut leader, &["LLMABORT", "k", &g1]).await, "0");
    cmd(&mut con, &["LLMAPPEND", "k", &g2, "fresh "]).await;
    cmd(&mut con, &["LLMAPPEND", "k", &g2, "answer"]).await;
    assert_eq!(cmd(&mut con, &["LLMEND", "k", &g2]).await, "1");
    assert!(cmd(&mut leader, &["LLMEND", "k", &g1])
        .await
        .starts_with("ERROR:NOLEASE"));
    for t in rest {
        match t.await.unwrap() {
            Ended::Done { bytes, resets, .. } => {
                assert_eq!(bytes, b"fresh answer");
                assert_eq!(resets, 1, "every reader restarted once");
            }
            other => panic!("{other:?}"),
        }
    }
    let stats = cmd(&mut leader, &["LLMSTATS"]).await;
    assert!(stats.contains("stream_resets=1"), "{stats}");
    assert!(stats.contains("lease_promotions=1"), "{stats}");
}

/// Reads one raw reply and returns the lead generation out of `["lead", "<gen>-0", ""]`.
async fn raw_lead(raw: &mut crate::support::Raw, key: &str) -> String {
    raw.send(
        format!(
            "*4\r\n$7\r\nLLMREAD\r\n${}\r\n{key}\r\n$4\r\nWAIT\r\n$1\r\n0\r\n",
            key.len()
        )
        .as_bytes(),
    )
    .await;
    let reply = raw.read_reply().await;
    let lines: Vec<&str> = reply.split("\r\n").collect();
    assert_eq!(lines[2], "lead", "{reply}");
    gen_of(lines[4])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_leader_socket_promotes_a_reader_at_once() {
    let s = start().await;
    let mut raw = s.raw().await;
    let g1 = raw_lead(&mut raw, "k").await;
    let append = format!(
        "*4\r\n$9\r\nLLMAPPEND\r\n$1\r\nk\r\n${}\r\n{g1}\r\n$3\r\nabc\r\n",
        g1.len()
    );
    assert_eq!(raw.roundtrip(append.as_bytes(), ":3\r\n").await, ":3\r\n");
    let a = tokio::spawn(follow(s.conn(false).await, "k".into(), None));
    until_readers(&s, 1).await;
    let b = tokio::spawn(follow(s.conn(true).await, "k".into(), None));
    until_readers(&s, 2).await;
    let dropped = Instant::now();
    drop(raw);
    let Ended::Lead { gen, mut con } = a.await.unwrap() else {
        panic!("the longest-blocked reader leads")
    };
    let took = dropped.elapsed();
    assert!(took < Duration::from_millis(50), "promotion took {took:?}");
    assert_ne!(gen, g1);
    cmd(&mut con, &["LLMAPPEND", "k", &gen, "xyz"]).await;
    assert_eq!(cmd(&mut con, &["LLMEND", "k", &gen]).await, "1");
    match b.await.unwrap() {
        Ended::Done { bytes, resets, .. } => {
            assert_eq!(bytes, b"xyz");
            assert_eq!(resets, 1);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lease_expires_when_silent_and_heartbeats_keep_it() {
    let s = start_with(|c| c.llm_lease = Duration::from_millis(500)).await;
    let mut leader = s.conn(false).await;
    // Silent leader: the blocked reader leads after the lease (500 ms).
    let g1 = lead(&mut leader, "silent").await;
    let started = Instant::now();
    let r = follow(s.conn(false).await, "silent".into(), None).await;
    let took = started.elapsed();
    let Ended::Lead { gen, mut con } = r else {
        panic!("{r:?}")
    };
    assert_eq!(cmd(&mut con, &["LLMABORT", "silent", &gen]).await, "1");
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_millis(2000),
        "{took:?}"
    );
    assert!(cmd(&mut leader, &["LLMAPPEND", "silent", &g1, "late"])
        .await
        .starts_with("ERROR:NOLEASE"));
    // A leader that appends (or heartbeats) every 200 ms keeps its lease well past 500 ms.
    let g = lead(&mut leader, "busy").await;
    let reader = tokio::spawn(follow(s.conn(true).await, "busy".into(), None));
    for i in 0..8 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let piece = if i % 2 == 0 { "" } else { "t" };
        let n = cmd(&mut leader, &["LLMAPPEND", "busy", &g, piece]).await;
        assert_eq!(n, ((i + 1) / 2).to_string());
    }
    assert_eq!(cmd(&mut leader, &["LLMEND", "busy", &g]).await, "1");
    match reader.await.unwrap() {
        Ended::Done { bytes, resets, .. } => assert_eq!((bytes, resets), (b"tttt".to_vec(), 0)),
        other => panic!("{other:?}"),
    }
    let stats = cmd(&mut leader, &["LLMSTATS"]).await;
    assert!(stats.contains("lease_expirations,1"), "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llmsetnx_during_a_stream_continues_a_prefix_and_resets_otherwise() {
    let s = start().await;
    let mut leader = s.conn(false).await;
    let mut other = s.conn(false).await;
    for (key, stored, resets) in [("p", "hello world", 0), ("q", "goodbye", 1)] {
        let g = lead(&mut leader, key).await;
        cmd(&mut leader, &["LLMAPPEND", key, &g, "hello "]).await;
        let reader = tokio::spawn(follow(s.conn(true).await, key.into(), None));
        until_readers(&s, 1).await;
        assert_eq!(cmd(&mut other, &["LLMSETNX", key, stored]).await, "1");
        match reader.await.unwrap() {
            Ended::Done {
                bytes, resets: r, ..
            } => {
                assert_eq!(bytes, stored.as_bytes(), "{key}");
                assert_eq!(r, resets, "{key}");
            }
            o => panic!("{o:?}"),
        }
        // The replaced leader is fenced; the stored answer stays.
        assert!(cmd(&mut leader, &["LLMAPPEND", key, &g, "x"])
            .await
            .starts_with("ERROR:NOLEASE"));
        assert!(cmd(&mut leader, &["LLMEND", key, &g])
            .await
            .starts_with("ERROR:NOLEASE"));
        assert_eq!(cmd(&mut leader, &["GET", key]).await, stored);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_cursors_and_edges() {
    let s = start_with(|c| c.llm_stream_max_bytes = 10).await;
    for resp3 in [false, true] {
        let mut c = s.conn(resp3).await;
        let key = if resp3 { "k3" } else { "k2" };
        let g = lead(&mut c, key).await;
        assert_eq!(
            cmd(&mut c, &["LLMAPPEND", key, &g, "0123456789"]).await,
            "10"
        );
        assert_eq!(
            cmd(&mut c, &["LLMAPPEND", key, &g, "!"]).await,
            "ERROR:ERR LLMAPPEND would grow the stream past llm-stream-max-bytes (10)"
        );
        // WAIT 0 and MULTI never block: the same cursor, no bytes.
        let at_end = format!("{g}-10");
        let r = llmread(&mut c, key, &["FROM", &at_end, "WAIT", "0"]).await;
        assert_eq!(
            (r.state.as_str(), r.cursor.as_str(), r.data.len()),
            ("data", at_end.as_str(), 0)
        );
        let r = llmread(&mut c, key, &["LIMIT", "1", "FROM", &format!("{g}-3")]).await;
        assert_eq!(
            (r.state.as_str(), r.cursor, r.data),
            ("data", format!("{g}-4"), b"3".to_vec())
        );
        assert_eq!(
            cmd(&mut c, &["LLMREAD", key, "FROM", &format!("{g}-11")]).await,
            "ERROR:ERR cursor offset is past the end of the answer"
        );
        // Another generation during the flight (offset 0 included) is reset from 0.
        let r = llmread(&mut c, key, &["FROM", "999999-0", "LIMIT", "4"]).await;
        assert_eq!(
            (r.state.as_str(), r.cursor, r.data),
            ("reset", format!("{g}-4"), b"0123".to_vec())
        );
        for bad in [
            "abc",
            "5",
            "1-",
            "-1",
            "1-2-3",
            " 1-2",
            "0x1-0",
            "+1-0",
            "18446744073709551616-0",
        ] {
            assert_eq!(
                cmd(&mut c, &["LLMREAD", key, "FROM", bad]).await,
                "ERROR:ERR invalid cursor",
                "{bad}"
            );
        }
        for (args, want) in [
            (
                &["WAIT", "-1"][..],
                "ERROR:ERR value is not an integer or out of range",
            ),
            (
                &["LIMIT", "0"],
                "ERROR:ERR value is not an integer or out of range",
            ),
            (
                &["LIMIT", "x"],
                "ERROR:ERR value is not an integer or out of range",
            ),
            (&["WAIT", "1", "WAIT", "1"], "ERROR:ERR syntax error"),
            (&["FROM"], "ERROR:ERR syntax error"),
            (&["LATER", "1"], "ERROR:ERR syntax error"),
        ] {
            let mut full = vec!["LLMREAD", key];
            full.extend_from_slice(args);
            assert_eq!(cmd(&mut c, &full).await, want, "{args:?}");
        }
        assert_eq!(
            cmd(&mut c, &["LLMAPPEND", key, "x", "y"]).await,
            "ERROR:ERR value is not an integer or out of range"
        );
        assert_eq!(
            cmd(&mut c, &["LLMEND", key, &g, "EX", "0"]).await,
            "ERROR:ERR invalid expire time in 'llmend' command"
        );
        assert_eq!(
            cmd(&mut c, &["LLMEND", key, &g, "GRACE", "-1"]).await,
            "ERROR:ERR value is not an integer or out of range"
        );
        assert_eq!(
            cmd(&mut c, &["LLMEND", key, &g, "TOKENS", "1", "TOKENS", "2"]).await,
            "ERROR:ERR syntax error"
        );
        // Inside MULTI the read does not block.
        assert_eq!(cmd(&mut c, &["MULTI"]).await, "OK");
        assert_eq!(
            cmd(&mut c, &["LLMREAD", key, "FROM", &at_end, "WAIT", "5000"]).await,
            "QUEUED"
        );
        let exec = cmd(&mut c, &["EXEC"]).await;
        assert_eq!(exec, format!("[[data,{at_end},]]"));
        assert_eq!(
            cmd(&mut c, &["LLMEND", key, &g, "EX", "100", "GRACE", "0"]).await,
            "1"
        );
        assert_eq!(cmd(&mut c, &["TTL", key]).await, "100");
        // A finished answer cut by LIMIT: every piece but the last is `data`.
        let r = llmread(&mut c, key, &["LIMIT", "6"]).await;
        assert_eq!(
            (r.state.as_str(), r.cursor.clone(), r.data),
            ("data", format!("{g}-6"), b"012345".to_vec())
        );
        let r = llmread(&mut c, key, &["FROM", &r.cursor, "LIMIT", "6"]).await;
        assert_eq!(
            (r.state.as_str(), r.cursor, r.data),
            ("done", format!("{g}-10"), b"6789".to_vec())
        );
        // After the flight: `<any>-0` is done from 0, another gen past 0 is reset, the answer's
        // own gen past its end is an error.
        let r = llmread(&mut c, key, &["FROM", "999999-0"]).await;
        assert_eq!((r.state.as_str(), r.data.len()), ("done", 10));
        let r = llmread(&mut c, key, &["FROM", "999999-3"]).await;
        assert_eq!((r.state.as_str(), r.data.len()), ("reset", 10));
        assert_eq!(
            cmd(&mut c, &["LLMREAD", key, "FROM", &format!("{g}-11")]).await,
            "ERROR:ERR cursor offset is past the end of the answer"
        );
        assert!(cmd(&mut c, &["LLMEND", key, &g])
            .await
            .starts_with("ERROR:NOLEASE"));
    }
    let mut c = s.conn(false).await;
    cmd(&mut c, &["HSET", "h", "f", "v"]).await;
    assert_eq!(
        cmd(&mut c, &["LLMREAD", "h"]).await,
        "ERROR:WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    assert_eq!(cmd(&mut c, &["PING"]).await, "PONG");
}
