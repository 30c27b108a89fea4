//! Compressed string values through the real server: every reader sees the bytes that were
//! written, the budget counts the compressed size, and compressed answers and their
//! dictionary come back after a restart and after a rewrite.

use crate::support::{cmd, start_with};
use llmcached::config::Config;
use llmcached::persistence::FsyncPolicy;
use std::time::Duration;

#[path = "../fixtures/prose.rs"]
mod fixture;

/// An answer as the seed's `cached_call` stores it: JSON around about 2 KB of prose (each
/// answer differs, all share their words).
fn answer(seed: u64) -> String {
    let text = fixture::prose(seed, 1900);
    format!(
        r#"{{"text": "{text}", "usage": {{"input": {}, "output": 480}}, "model": "claude-sonnet-4-5", "stop_reason": "end_turn"}}"#,
        seed % 4000
    )
}

fn info_field(info: &str, name: &str) -> u64 {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {info}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_answers_read_back_whole_through_every_reader() {
    let s = start_with(|c| c.compression.enabled = true).await;
    let mut c = s.conn(false).await;
    let v = answer(1);
    assert_eq!(
        cmd(&mut c, &["SETEX", "llmcache:v1:a", "3600", &v]).await,
        "OK"
    );
    assert_eq!(cmd(&mut c, &["SET", "llmcache:v1:b", &v]).await, "OK");
    assert_eq!(
        cmd(&mut c, &["LLMSETNX", "llm:v1:m:c", &v, "EX", "3600"]).await,
        "1"
    );
    let info = cmd(&mut c, &["INFO", "memory"]).await;
    assert_eq!(info_field(&info, "compressed_values_written"), 3, "{info}");
    for k in ["llmcache:v1:a", "llmcache:v1:b", "llm:v1:m:c"] {
        assert_eq!(cmd(&mut c, &["GET", k]).await, v, "{k}");
        // Charged its compressed size: well under the value's own length.
        let usage: usize = cmd(&mut c, &["MEMORY", "USAGE", k]).await.parse().unwrap();
        assert!(usage < v.len(), "{k}: {usage} for {} bytes", v.len());
    }
    let k = "llmcache:v1:a";
    assert_eq!(cmd(&mut c, &["STRLEN", k]).await, v.len().to_string());
    assert_eq!(cmd(&mut c, &["GETRANGE", k, "0", "8"]).await, &v[..9]);
    assert_eq!(
        cmd(&mut c, &["GETRANGE", k, "-5", "-1"]).await,
        &v[v.len() - 5..]
    );
    assert_eq!(cmd(&mut c, &["LLMGET", "llm:v1:m:c"]).await, v);
    assert_eq!(
        cmd(
            &mut c,
            &["EVAL", "return redis.call('GET', KEYS[1])", "1", k]
        )
        .await,
        v
    );
    assert_eq!(cmd(&mut c, &["OBJECT", "ENCODING", k]).await, "raw");
    assert_eq!(cmd(&mut c, &["TYPE", k]).await, "string");
    // EXPIRE keeps the value; COPY copies it; APPEND extends the original bytes.
    assert_eq!(cmd(&mut c, &["EXPIRE", k, "100"]).await, "1");
    assert_eq!(cmd(&mut c, &["GET", k]).await, v);
    assert_eq!(cmd(&mut c, &["COPY", k, "llmcache:v1:copy"]).await, "1");
    assert_eq!(cmd(&mut c, &["GET", "llmcache:v1:copy"]).await, v);
    let appended = (v.len() + 4).to_string();
    assert_eq!(cmd(&mut c, &["APPEND", k, "tail"]).await, appended);
    assert_eq!(cmd(&mut c, &["GET", k]).await, format!("{v}tail"));
    assert_eq!(cmd(&mut c, &["GETDEL", "llmcache:v1:b"]).await, v);
    assert_eq!(cmd(&mut c, &["GET", "llmcache:v1:b"]).await, "(nil)");
    // Off: later values are stored as they came (and read the same).
    assert_eq!(
        cmd(&mut c, &["CONFIG", "SET", "compression", "no"]).await,
        "OK"
    );
    assert_eq!(cmd(&mut c, &["SET", "llmcache:v1:plain", &v]).await, "OK");
    let usage: usize = cmd(&mut c, &["MEMORY", "USAGE", "llmcache:v1:plain"])
        .await
        .parse()
        .unwrap();
    assert!(usage > v.len(), "{usage}");
    assert_eq!(cmd(&mut c, &["GET", "llmcache:v1:plain"]).await, v);
}

fn persistent(dir: &std::path::Path) -> impl FnOnce(&mut Config) + '_ {
    move |c| {
        c.compression.enabled = true;
        c.dir = dir.to_path_buf();
        c.appendonly = true;
        c.appendfsync = FsyncPolicy::EverySec;
    }
}

async fn until_loaded(shared: &llmcached::state::Shared) {
    tokio::time::timeout(Duration::from_secs(60), shared.loaded())
        .await
        .expect("never finished loading");
}

/// Enough answers under one prefix to train its dictionary, then more packed with it; the log
/// holds the dictionary and both kinds of frame, and so does the base a rewrite makes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_answers_and_their_dictionary_survive_a_restart_and_a_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let n = 600u64;
    let s = start_with(persistent(dir.path())).await;
    until_loaded(&s.shared).await;
    let mut c = s.conn(false).await;
    for i in 0..520 {
        assert_eq!(
            cmd(
                &mut c,
                &["SETEX", &format!("llmcache:v1:{i}"), "3600", &answer(i)]
            )
            .await,
            "OK"
        );
    }
    let codec = s.shared.store.codec().clone();
    let trained = tokio::task::spawn_blocking(move || {
        codec.wait_for_dictionaries(1, Duration::from_secs(120))
    });
    assert!(trained.await.unwrap(), "no dictionary trained");
    let without: usize = cmd(&mut c, &["MEMORY", "USAGE", "llmcache:v1:0"])
        .await
        .parse()
        .unwrap();
    for i in 520..n {
        assert_eq!(
            cmd(
                &mut c,
                &["SETEX", &format!("llmcache:v1:{i}"), "3600", &answer(i)]
            )
            .await,
            "OK"
        );
    }
    let with: usize = cmd(
        &mut c,
        &["MEMORY", "USAGE", &format!("llmcache:v1:{}", n - 1)],
    )
    .await
    .parse()
    .unwrap();
    assert!(
        with < without,
        "with the dictionary {with}, without {without}"
    );
    drop(c);
    s.stop().await.unwrap();

    for step in ["restart", "rewrite"] {
        let s = start_with(persistent(dir.path())).await;
        until_loaded(&s.shared).await;
        assert_eq!(
            s.shared.store.codec().dictionary_count(),
            1,
            "after the {step}"
        );
        let mut c = s.conn(false).await;
        assert_eq!(
            cmd(&mut c, &["DBSIZE"]).await,
            n.to_string(),
            "after the {step}"
        );
        for i in [0, 1, 519, 520, n - 1] {
            let k = format!("llmcache:v1:{i}");
            assert_eq!(
                cmd(&mut c, &["GET", &k]).await,
                answer(i),
                "{k} after the {step}"
            );
        }
        let usage: usize = cmd(
            &mut c,
            &["MEMORY", "USAGE", &format!("llmcache:v1:{}", n - 1)],
        )
        .await
        .parse()
        .unwrap();
        assert_eq!(usage, with, "loaded as stored, after the {step}");
        // A new answer under the prefix uses the loaded dictionary: no second one is trained.
        assert_eq!(
            cmd(&mut c, &["SET", "llmcache:v1:new", &answer(n)]).await,
            "OK"
        );
        assert_eq!(cmd(&mut c, &["GET", "llmcache:v1:new"]).await, answer(n));
        assert_eq!(cmd(&mut c, &["DEL", "llmcache:v1:new"]).await, "1");
        // The second start compacts into a new base: the next one loads from it.
        assert_eq!(cmd(&mut c, &["SAVE"]).await, "OK");
        drop(c);
        s.stop().await.unwrap();
    }
}
