//! Observability: `/metrics` scraped over real HTTP, counters that move exactly with the
//! commands sent, the model label cap, SLOWLOG / LATENCY / INFO, and blocked time kept out of
//! command time.

use crate::support::{cmd, start_with, TestServer};
use llmcached::metrics::http::MetricsListener;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The metrics endpoint of `s` on 127.0.0.1:0.
async fn metrics(s: &TestServer) -> SocketAddr {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let listener = MetricsListener::bind(addr, s.shared.clone()).await.unwrap();
    let local = listener.local_addr().unwrap();
    tokio::spawn(listener.run());
    local
}

/// Sends `request` and reads the whole response (the endpoint closes after it).
async fn http(addr: SocketAddr, request: &[u8]) -> String {
    let mut sock = TcpStream::connect(addr).await.unwrap();
    sock.write_all(request).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), sock.read_to_end(&mut out))
        .await
        .expect("response within 10 s")
        .unwrap();
    String::from_utf8(out).unwrap()
}

async fn scrape(addr: SocketAddr) -> String {
    let r = http(addr, b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    let (head, body) = r.split_once("\r\n\r\n").unwrap();
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    body.to_string()
}

/// Sample lines by `name{labels}`, as they are written.
fn samples(body: &str) -> HashMap<String, f64> {
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

fn get(m: &HashMap<String, f64>, key: &str) -> f64 {
    *m.get(key).unwrap_or_else(|| panic!("{key} missing"))
}

#[tokio::test]
async fn three_hits_move_the_hit_counters_by_exactly_three() {
    let s = start_with(|_| {}).await;
    let m = metrics(&s).await;
    let mut c = s.conn(false).await;
    assert_eq!(cmd(&mut c, &["LLMGET", "k", "WAIT", "0"]).await, "(nil)");
    assert_eq!(
        cmd(&mut c, &["LLMSETNX", "k", "v", "TOKENS", "7"]).await,
        "1"
    );
    let before = samples(&scrape(m).await);
    for _ in 0..3 {
        assert_eq!(cmd(&mut c, &["LLMGET", "k"]).await, "v");
    }
    let after = samples(&scrape(m).await);
    for key in [
        "llmcached_lookups_total{outcome=\"hit\"}",
        "llmcached_lookup_duration_seconds_count{outcome=\"hit\"}",
        "redis_commands_total{cmd=\"llmget\"}",
    ] {
        assert_eq!(get(&after, key) - get(&before, key), 3.0, "{key}");
    }
    assert_eq!(
        get(&after, "llmcached_tokens_saved_total") - get(&before, "llmcached_tokens_saved_total"),
        21.0
    );
    assert_eq!(
        get(&after, "llmcached_lookups_total{outcome=\"lead\"}"),
        1.0
    );
    // The Redis families read the same INFO a redis_exporter would.
    assert_eq!(get(&after, "redis_up"), 1.0);
    assert_eq!(get(&after, "redis_db_keys{db=\"db0\"}"), 1.0);
    assert!(get(&after, "redis_total_system_memory_bytes") > 0.0);
    assert_eq!(
        get(
            &after,
            "redis_commands_latencies_usec_count{cmd=\"llmget\"}"
        ),
        4.0
    );
}

#[tokio::test]
async fn a_coalesced_wait_is_one_follower_wait_and_not_command_time() {
    // 20 ms counts as slow: the follower's 60 ms wait must not.
    let s = start_with(|c| c.observe.slowlog_log_slower_than = 20_000).await;
    let m = metrics(&s).await;
    let mut leader = s.conn(false).await;
    let mut follower = s.conn(false).await;
    assert_eq!(cmd(&mut leader, &["LLMGET", "k"]).await, "(nil)");
    let before = samples(&scrape(m).await);
    let waiting = tokio::spawn(async move { cmd(&mut follower, &["LLMGET", "k"]).await });
    tokio::time::timeout(
        Duration::from_secs(10),
        s.shared.flights.until_followers_waiting(1),
    )
    .await
    .expect("the follower blocks");
    // The wait has to last for the test to mean something; it synchronises nothing.
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(cmd(&mut leader, &["LLMSETNX", "k", "answer"]).await, "1");
    assert_eq!(waiting.await.unwrap(), "answer");
    let after = samples(&scrape(m).await);
    let delta = |k: &str| get(&after, k) - get(&before, k);
    assert_eq!(delta("llmcached_follower_wait_seconds_count"), 1.0);
    assert!(delta("llmcached_follower_wait_seconds_sum") >= 0.06);
    assert_eq!(
        delta("llmcached_lookup_duration_seconds_count{outcome=\"coalesced\"}"),
        1.0
    );
    assert_eq!(delta("llmcached_lookups_total{outcome=\"coalesced\"}"), 1.0);
    assert!(delta("redis_commands_duration_seconds_total{cmd=\"llmget\"}") < 0.02);
    assert_eq!(cmd(&mut leader, &["SLOWLOG", "LEN"]).await, "0");
}

#[tokio::test]
async fn model_labels_are_capped_and_the_rest_is_other() {
    let s = start_with(|c| c.observe.metrics_max_models = 5).await;
    let m = metrics(&s).await;
    let mut c = s.conn(false).await;
    for i in 0..12 {
        let key = format!("llm:v1:model-{i:02}:abcd");
        assert_eq!(cmd(&mut c, &["LLMGET", &key, "WAIT", "0"]).await, "(nil)");
    }
    let body = scrape(m).await;
    let models: std::collections::BTreeSet<&str> = body
        .lines()
        .filter(|l| l.starts_with("llmcached_model_lookups_total{"))
        .filter_map(|l| l.split("model=\"").nth(1)?.split('"').next())
        .collect();
    assert_eq!(models.len(), 6, "{models:?}");
    assert!(models.contains("other"));
    let all = samples(&body);
    assert_eq!(
        get(
            &all,
            "llmcached_model_lookups_total{model=\"other\",outcome=\"miss\"}"
        ),
        7.0
    );
    // A model first seen past the cap never takes a label from one that has it.
    assert_eq!(
        cmd(&mut c, &["LLMGET", "llm:v1:a-first:abcd", "WAIT", "0"]).await,
        "(nil)"
    );
    let again = samples(&scrape(m).await);
    assert_eq!(
        get(
            &again,
            "llmcached_model_lookups_total{model=\"other\",outcome=\"miss\"}"
        ),
        8.0
    );
    assert_eq!(
        get(
            &again,
            "llmcached_model_lookups_total{model=\"model-00\",outcome=\"miss\"}"
        ),
        1.0
    );
}

#[tokio::test]
async fn bad_http_requests_are_refused_and_resp_clients_go_on() {
    let s = start_with(|_| {}).await;
    let m = metrics(&s).await;
    let r = http(m, b"POST /metrics HTTP/1.1\r\n\r\n").await;
    assert!(
        r.starts_with("HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\n"),
        "{r}"
    );
    assert!(http(m, b"GET / HTTP/1.1\r\n\r\n")
        .await
        .starts_with("HTTP/1.1 404 "));
    assert!(http(m, b"\x16\x03\x01 hello\r\n\r\n")
        .await
        .starts_with("HTTP/1.1 400 "));
    let mut huge = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 64 * 1024));
    let mut sock = TcpStream::connect(m).await.unwrap();
    // The endpoint answers after 8 KB and closes; the rest of the write may be refused.
    let _ = sock.write_all(&huge).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), sock.read_to_end(&mut out)).await;
    assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 431 "));
    let head = http(m, b"HEAD /metrics HTTP/1.0\r\n\r\n").await;
    assert!(head.ends_with("\r\n\r\n"), "HEAD has no body");
    let om = http(
        m,
        b"GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text; version=1.0.0\r\n\r\n",
    )
    .await;
    assert!(om.contains("Content-Type: application/openmetrics-text"));
    assert!(om.ends_with("# EOF\n"));
    let mut c = s.conn(false).await;
    assert_eq!(cmd(&mut c, &["PING"]).await, "PONG");
}

#[tokio::test]
async fn the_scrape_passes_promtool_check_metrics() {
    let Ok(status) = std::process::Command::new("promtool")
        .arg("--version")
        .output()
    else {
        eprintln!("promtool is not installed (Debian package prometheus): skipped");
        return;
    };
    assert!(status.status.success());
    let s = start_with(|c| c.observe.latency_monitor_threshold = 1).await;
    let m = metrics(&s).await;
    let mut c = s.conn(false).await;
    cmd(&mut c, &["SET", "a", "b"]).await;
    cmd(&mut c, &["LLMGET", "llm:v1:m:ab", "WAIT", "0"]).await;
    cmd(&mut c, &["NOPE"]).await;
    let body = scrape(m).await;
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn slowlog_logs_cuts_and_redacts_as_redis() {
    let s = start_with(|c| c.observe.slowlog_log_slower_than = 0).await;
    let mut c = s.conn(false).await;
    let many: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
    let mut args = vec!["MGET"];
    args.extend(many.iter().map(|s| s.as_str()));
    cmd(&mut c, &args).await;
    let long = "x".repeat(200);
    cmd(&mut c, &["SET", "k", &long]).await;
    cmd(&mut c, &["AUTH", "user", "secret"]).await;
    let got = cmd(&mut c, &["SLOWLOG", "GET", "3"]).await;
    assert!(got.contains("[AUTH,(redacted),(redacted)]"), "{got}");
    assert!(!got.contains("secret"));
    assert!(
        got.contains(&format!("[SET,k,{}... (72 more bytes)]", &long[..128])),
        "{got}"
    );
    assert!(got.contains(",k29,... (10 more arguments)]"), "{got}");
    assert_eq!(cmd(&mut c, &["SLOWLOG", "RESET"]).await, "OK");
    assert_eq!(
        cmd(&mut c, &["SLOWLOG", "LEN"]).await,
        "1",
        "RESET is itself logged"
    );
    cmd(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "-1"]).await;
    cmd(&mut c, &["SLOWLOG", "RESET"]).await;
    assert_eq!(cmd(&mut c, &["SLOWLOG", "LEN"]).await, "0");
}

#[tokio::test]
async fn info_reports_latencystats_and_errorstats_as_redis() {
    let s = start_with(|_| {}).await;
    let mut c = s.conn(false).await;
    cmd(&mut c, &["SET", "k", "v"]).await;
    cmd(&mut c, &["GET"]).await;
    cmd(&mut c, &["HSET", "k", "f", "v"]).await;
    let info = cmd(&mut c, &["INFO", "everything"]).await;
    let sections: Vec<&str> = info.lines().filter(|l| l.starts_with("# ")).collect();
    let pos = |s: &str| sections.iter().position(|x| *x == s).unwrap();
    assert!(pos("# Commandstats") < pos("# Errorstats"));
    assert!(pos("# Errorstats") < pos("# Latencystats"));
    assert!(pos("# Latencystats") < pos("# Cluster"));
    assert!(info.contains("errorstat_ERR:count=1\r\n"), "{info}");
    assert!(info.contains("errorstat_WRONGTYPE:count=1\r\n"));
    assert!(info.contains("total_error_replies:2\r\n"));
    let line = info
        .lines()
        .find(|l| l.starts_with("latency_percentiles_usec_set:"))
        .unwrap();
    let keys: Vec<&str> = line
        .split(':')
        .nth(1)
        .unwrap()
        .split(',')
        .map(|kv| kv.split('=').next().unwrap())
        .collect();
    assert_eq!(keys, ["p50", "p99", "p99.9"]);
    assert!(
        !cmd(&mut c, &["INFO"]).await.contains("# Latencystats"),
        "not a default section"
    );
}

/// A free loopback port, found by binding it (and letting it go for the binary to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The binary with `args`, and its stderr lines as they come.
fn spawn(args: &[&str]) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_llmcached"))
        .args([
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--appendonly",
            "no",
            "--save",
            "",
        ])
        .args(args)
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// The next line `pick` accepts (fails after 20 s).
fn until<T>(rx: &std::sync::mpsc::Receiver<String>, mut pick: impl FnMut(&str) -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = rx.recv_timeout(left).expect("the awaited log line");
        if let Some(t) = pick(&line) {
            return t;
        }
    }
}

#[tokio::test]
async fn json_logs_carry_events_and_the_binary_serves_metrics() {
    let mport = free_port();
    let mport_text = mport.to_string();
    let (mut child, rx) = spawn(&[
        "--log-format",
        "json",
        "--llm-lease-ms",
        "50",
        "--metrics-port",
        &mport_text,
    ]);
    let addr: SocketAddr = until(&rx, |l| {
        let v: serde_json::Value = serde_json::from_str(l).expect("every line is JSON");
        let msg = v["message"].as_str()?;
        msg.split("listening on ")
            .nth(1)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    });
    until(&rx, |l| l.contains("metrics on http://").then_some(()));
    let client = redis::Client::open(format!("redis://{addr}/")).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    assert_eq!(cmd(&mut c, &["LLMGET", "k"]).await, "(nil)");
    // Nobody stores an answer: the 50 ms lease expires, and the watcher says so.
    let event = until(&rx, |l| {
        let v: serde_json::Value = serde_json::from_str(l).expect("every line is JSON");
        (v["event"] == "lease_expired").then_some(v)
    });
    assert_eq!(event["count"], 1);
    assert_eq!(event["level"], "WARN");
    let body = scrape(SocketAddr::from(([127, 0, 0, 1], mport))).await;
    assert_eq!(
        get(&samples(&body), "llmcached_lease_expirations_total"),
        1.0
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
