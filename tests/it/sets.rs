//! Sets through the `redis` crate: tags on cached answers (SADD, SINTER, SSCAN), in RESP2 and
//! RESP3, and sets across a restart.

use crate::support::{call, cmd, start, start_with, text};
use llmcached::persistence::FsyncPolicy;
use redis::Value;

fn sorted(v: &Value) -> Vec<String> {
    let (Value::Array(items) | Value::Set(items)) = v else {
        panic!("not a collection: {v:?}")
    };
    let mut out: Vec<String> = items.iter().map(text).collect();
    out.sort();
    out
}

#[tokio::test]
async fn tagging_answers_with_sets() {
    let s = start().await;
    for resp3 in [false, true] {
        let mut c = s.conn(resp3).await;
        assert_eq!(cmd(&mut c, &["FLUSHDB"]).await, "OK");
        assert_eq!(
            cmd(&mut c, &["SADD", "tag:gpt", "k1", "k2", "k3"]).await,
            "3"
        );
        assert_eq!(
            cmd(&mut c, &["SADD", "tag:fresh", "k2", "k3", "k4"]).await,
            "3"
        );
        let both = call(&mut c, &["SINTER", "tag:gpt", "tag:fresh"]).await;
        // RESP3 answers a set type, RESP2 an array, as Redis.
        assert_eq!(matches!(both, Value::Set(_)), resp3, "{both:?}");
        assert_eq!(sorted(&both), ["k2", "k3"]);
        assert_eq!(
            sorted(&call(&mut c, &["SUNION", "tag:gpt", "tag:fresh"]).await),
            ["k1", "k2", "k3", "k4"]
        );
        assert_eq!(
            cmd(&mut c, &["SDIFFSTORE", "stale", "tag:gpt", "tag:fresh"]).await,
            "1"
        );
        assert_eq!(cmd(&mut c, &["SMEMBERS", "stale"]).await, "[k1]");
        assert_eq!(
            cmd(&mut c, &["SINTERCARD", "2", "tag:gpt", "tag:fresh"]).await,
            "2"
        );
        assert_eq!(
            cmd(&mut c, &["SMOVE", "tag:gpt", "tag:fresh", "k1"]).await,
            "1"
        );
        assert_eq!(cmd(&mut c, &["SCARD", "tag:fresh"]).await, "4");
        assert_eq!(cmd(&mut c, &["TYPE", "tag:fresh"]).await, "set");
        let scan = cmd(&mut c, &["SCAN", "0", "TYPE", "set", "COUNT", "100"]).await;
        assert!(
            scan.contains("tag:fresh") && scan.contains("stale"),
            "{scan}"
        );
        let scan = call(&mut c, &["SSCAN", "tag:fresh", "0", "MATCH", "k[12]"]).await;
        let Value::Array(parts) = &scan else {
            panic!("{scan:?}")
        };
        assert_eq!(text(&parts[0]), "0");
        assert_eq!(sorted(&parts[1]), ["k1", "k2"]);
        assert_eq!(cmd(&mut c, &["SREM", "stale", "k1"]).await, "1");
        assert_eq!(cmd(&mut c, &["EXISTS", "stale"]).await, "0");
        assert_eq!(
            cmd(&mut c, &["SPOP", "tag:fresh", "-1"]).await,
            "ERROR:ERR value is out of range, must be positive"
        );
        assert_eq!(
            cmd(&mut c, &["SADD", "tag:fresh"]).await,
            "ERROR:ERR wrong number of arguments for 'sadd' command"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sets_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let tune = |p: std::path::PathBuf| {
        move |c: &mut llmcached::config::Config| {
            c.dir = p;
            c.appendonly = true;
            c.appendfsync = FsyncPolicy::Always;
        }
    };
    let s = start_with(tune(dir.path().to_path_buf())).await;
    s.shared.loaded().await;
    let mut c = s.conn(false).await;
    assert_eq!(cmd(&mut c, &["SADD", "s", "a", "", "b"]).await, "3");
    assert_eq!(cmd(&mut c, &["SREM", "s", "b"]).await, "1");
    drop(c);
    s.stop().await.unwrap();
    let s = start_with(tune(dir.path().to_path_buf())).await;
    s.shared.loaded().await;
    let mut c = s.conn(false).await;
    assert_eq!(sorted(&call(&mut c, &["SMEMBERS", "s"]).await), ["", "a"]);
    assert_eq!(cmd(&mut c, &["TYPE", "s"]).await, "set");
}
