//! Persistence through the real server: restarts, kill -9 with `appendfsync always`, SAVE.

use crate::support::{cmd, start_with, Proc};
use llmcached::cache::Clock;
use llmcached::config::Config;
use llmcached::persistence::FsyncPolicy;
use llmcached::server::Server;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn until_loaded(shared: &llmcached::state::Shared) {
    tokio::time::timeout(Duration::from_secs(30), shared.loaded())
        .await
        .expect("never finished loading");
}

fn persistent(dir: &std::path::Path) -> impl FnOnce(&mut Config) + '_ {
    move |c| {
        c.dir = dir.to_path_buf();
        c.appendonly = true;
        c.appendfsync = FsyncPolicy::Always;
    }
}

/// Flags for a server that logs every write to `dir` with the given `--appendfsync` policy and
/// takes no scheduled snapshots, so the log alone carries the data across a kill.
fn aof_args<'a>(dir: &'a str, appendfsync: &'a str) -> [&'a str; 8] {
    [
        "--dir",
        dir,
        "--appendonly",
        "yes",
        "--appendfsync",
        appendfsync,
        "--save",
        "",
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_brings_back_keys_values_and_remaining_ttls() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_with(persistent(dir.path())).await;
    until_loaded(&s.shared).await;
    let mut c = s.conn(false).await;
    assert_eq!(cmd(&mut c, &["SET", "plain", "v"]).await, "OK");
    assert_eq!(
        cmd(&mut c, &["SET", "short", "v", "PX", "60000"]).await,
        "OK"
    );
    assert_eq!(cmd(&mut c, &["SET", "long", "v", "EX", "3600"]).await, "OK");
    assert_eq!(
        cmd(
            &mut c,
            &["LLMSETNX", "answer", "42", "EX", "7200", "TOKENS", "812"]
        )
        .await,
        "1"
    );
    assert_eq!(cmd(&mut c, &["SET", "gone", "v"]).await, "OK");
    assert_eq!(cmd(&mut c, &["DEL", "gone"]).await, "1");
    assert_eq!(cmd(&mut c, &["INCR", "n"]).await, "1");
    assert_eq!(cmd(&mut c, &["INCR", "n"]).await, "2");
    let info = cmd(&mut c, &["INFO", "persistence"]).await;
    assert!(
        info.contains("aof_enabled:1") && info.contains("loading:0"),
        "{info}"
    );
    drop(c);
    s.stop().await.unwrap();

    // Two minutes later: `short` expired while the server was down; the others count on.
    let clock = Clock::new();
    clock.advance(120_000);
    let config = Config {
        port: 0,
        dir: dir.path().to_path_buf(),
        appendfsync: FsyncPolicy::Always,
        ..Config::default()
    };
    let server = Server::bind_with_clock(config, clock).await.unwrap();
    let shared = server.shared();
    let addr = server.local_addr().unwrap();
    let task = tokio::spawn(server.run());
    until_loaded(&shared).await;
    let client = redis::Client::open(format!("redis://{addr}/")).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    assert_eq!(cmd(&mut c, &["GET", "plain"]).await, "v");
    assert_eq!(cmd(&mut c, &["GET", "short"]).await, "(nil)");
    let ttl: i64 = cmd(&mut c, &["TTL", "long"]).await.parse().unwrap();
    assert!((3470..=3480).contains(&ttl), "ttl {ttl}");
    let ttl: i64 = cmd(&mut c, &["TTL", "answer"]).await.parse().unwrap();
    assert!((7070..=7080).contains(&ttl), "ttl {ttl}");
    assert_eq!(cmd(&mut c, &["GET", "answer"]).await, "42");
    // The answer's token count came back with it: a hit saves what the model call cost.
    assert_eq!(cmd(&mut c, &["LLMGET", "answer"]).await, "42");
    let stats = cmd(&mut c, &["LLMSTATS"]).await;
    assert!(stats.contains("tokens_saved,812"), "{stats}");
    assert_eq!(cmd(&mut c, &["GET", "gone"]).await, "(nil)");
    assert_eq!(cmd(&mut c, &["GET", "n"]).await, "2");
    assert_eq!(cmd(&mut c, &["DBSIZE"]).await, "4");
    // SAVE compacts; the data is the same after another restart.
    assert_eq!(cmd(&mut c, &["SAVE"]).await, "OK");
    let last: i64 = cmd(&mut c, &["LASTSAVE"]).await.parse().unwrap();
    assert!(last > 1_700_000_000);
    assert_eq!(
        cmd(&mut c, &["BGREWRITEAOF"]).await,
        "Background append only file rewriting started"
    );
    shared.request_shutdown(None);
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_mode_touches_no_disk() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = start_with(|c| c.dir = data.clone()).await;
    let mut c = s.conn(false).await;
    assert_eq!(cmd(&mut c, &["SET", "k", "v"]).await, "OK");
    assert!(cmd(&mut c, &["SAVE"])
        .await
        .starts_with("ERROR:ERR persistence is off"));
    s.stop().await.unwrap();
    assert!(!data.exists());
}

/// kill -9 at a random moment while many clients write with `appendfsync always`: every write
/// that was acknowledged is there after the restart. 20 cycles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_with_always_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let args = aof_args(&d, "always");
    let mut acked: BTreeMap<String, String> = BTreeMap::new();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for cycle in 0..20 {
        let proc = Proc::start(&args);
        // Everything acknowledged in earlier cycles survived.
        let mut check = proc.conn().await;
        for (k, v) in &acked {
            assert_eq!(
                &cmd(&mut check, &["GET", k]).await,
                v,
                "cycle {cycle}: {k} lost"
            );
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let kill_after = 50 + (seed % 400) as usize;
        let done = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
        let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1024);
        let mut writers = Vec::new();
        for w in 0..8 {
            let mut c = proc.conn().await;
            let done = done.clone();
            let tx = tx.clone();
            writers.push(tokio::spawn(async move {
                for i in 0.. {
                    let k = format!("c{cycle}w{w}i{i}");
                    let v = format!("value-{cycle}-{w}-{i}");
                    let r: redis::RedisResult<()> =
                        redis::cmd("SET").arg(&k).arg(&v).query_async(&mut c).await;
                    if r.is_err() {
                        return;
                    }
                    done.lock().unwrap().push((k, v));
                    if tx.send(()).await.is_err() {
                        return;
                    }
                }
            }));
        }
        drop(tx);
        for _ in 0..kill_after {
            rx.recv().await.expect("writers stopped early");
        }
        proc.kill();
        drop(rx);
        for w in writers {
            let _ = tokio::time::timeout(Duration::from_secs(10), w).await;
        }
        acked.extend(done.lock().unwrap().drain(..));
    }
    let proc = Proc::start(&args);
    let mut check = proc.conn().await;
    for (k, v) in &acked {
        assert_eq!(&cmd(&mut check, &["GET", k]).await, v, "final: {k} lost");
    }
    assert!(acked.len() >= 20 * 50);
    assert_eq!(proc.terminate().code(), Some(0));
}

/// With `appendfsync everysec`, kill -9 loses at most about the last second of acknowledged
/// writes (a process kill leaves the OS's page cache, so in practice nothing older is lost).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_with_everysec_loses_at_most_the_last_second() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let args = aof_args(&d, "everysec");
    for cycle in 0..3 {
        let proc = Proc::start(&args);
        let acked = Arc::new(Mutex::new(Vec::<(String, std::time::Instant)>::new()));
        let stop = std::time::Instant::now() + Duration::from_millis(1500);
        let mut writers = Vec::new();
        for w in 0..4 {
            let mut c = proc.conn().await;
            let acked = acked.clone();
            writers.push(tokio::spawn(async move {
                let mut i = 0;
                while std::time::Instant::now() < stop {
                    let k = format!("e{cycle}w{w}i{i}");
                    let r: redis::RedisResult<()> =
                        redis::cmd("SET").arg(&k).arg("v").query_async(&mut c).await;
                    if r.is_err() {
                        return;
                    }
                    acked.lock().unwrap().push((k, std::time::Instant::now()));
                    i += 1;
                }
            }));
        }
        for w in writers {
            w.await.unwrap();
        }
        let killed_at = std::time::Instant::now();
        proc.kill();
        let proc = Proc::start(&args);
        let mut check = proc.conn().await;
        let acked = acked.lock().unwrap().clone();
        assert!(
            acked.len() > 100,
            "too few writes to judge: {}",
            acked.len()
        );
        for (k, at) in &acked {
            if killed_at.duration_since(*at) > Duration::from_secs(1) {
                assert_eq!(
                    cmd(&mut check, &["GET", k]).await,
                    "v",
                    "{k}, acknowledged over 1 s before the kill, was lost"
                );
            }
        }
        drop(check);
        assert_eq!(proc.terminate().code(), Some(0));
    }
}

/// A FLUSHALL in the log clears what came before it and nothing after, and deletions and
/// overwrites replay in order, however the loader spreads keys over its threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_keeps_the_order_of_flushes_deletes_and_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_with(persistent(dir.path())).await;
    until_loaded(&s.shared).await;
    let mut c = s.conn(false).await;
    for i in 0..2000 {
        assert_eq!(
            cmd(&mut c, &["SET", &format!("before:{i}"), "x"]).await,
            "OK"
        );
    }
    assert_eq!(cmd(&mut c, &["FLUSHALL"]).await, "OK");
    for i in 0..2000 {
        let k = format!("after:{i}");
        assert_eq!(cmd(&mut c, &["SET", &k, "old"]).await, "OK");
        assert_eq!(cmd(&mut c, &["SET", &k, &format!("new{i}")]).await, "OK");
        if i % 3 == 0 {
            assert_eq!(cmd(&mut c, &["DEL", &k]).await, "1");
        }
    }
    drop(c);
    s.stop().await.unwrap();
    let s = start_with(persistent(dir.path())).await;
    until_loaded(&s.shared).await;
    let mut c = s.conn(false).await;
    assert_eq!(cmd(&mut c, &["DBSIZE"]).await, (2000 - 667).to_string());
    assert_eq!(cmd(&mut c, &["EXISTS", "before:7"]).await, "0");
    assert_eq!(cmd(&mut c, &["GET", "after:3"]).await, "(nil)");
    assert_eq!(cmd(&mut c, &["GET", "after:4"]).await, "new4");
    assert_eq!(cmd(&mut c, &["GET", "after:1999"]).await, "new1999");
}
