//! A stampede spread over several llmcached nodes that share one tier, against the same stampede
//! on one node: how many model calls, and how long after the answer was stored each follower
//! had it (measured from the instant just before the leader's LLMSETNX was sent).
//!
//! Every caller has its own connection, opened first; all start together on a barrier and are
//! spread round-robin over the nodes. The caller that gets nil sleeps for the model's latency,
//! then stores the answer. A caller with no answer within the wait counts as an error.
//!
//! Usage: `cargo bench --bench fleet -- --nodes HOST:PORT[,HOST:PORT...] [--clients 1000]
//!         [--model-ms 500] [--key k]`; scripts/bench-fleet.sh starts the servers and alternates
//! the scenarios.

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::Barrier;

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Args {
    nodes: Vec<String>,
    clients: usize,
    model: Duration,
    key: String,
}

fn parse_args() -> Result<Args, Error> {
    let mut a = Args {
        nodes: Vec::new(),
        clients: 1000,
        model: Duration::from_millis(500),
        key: format!("llm:v1:fleet-bench-{}", std::process::id()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--bench" => {}
            "--nodes" => a.nodes = value()?.split(',').map(str::to_owned).collect(),
            "--clients" => a.clients = value()?.parse()?,
            "--model-ms" => a.model = Duration::from_millis(value()?.parse()?),
            "--key" => a.key = value()?,
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    if a.nodes.is_empty() {
        return Err("--nodes is required".into());
    }
    Ok(a)
}

async fn connect(addr: &str) -> Result<MultiplexedConnection, Error> {
    let client = Client::open(format!("redis://{addr}/"))?;
    let cfg = AsyncConnectionConfig::new().set_response_timeout(None);
    Ok(client
        .get_multiplexed_async_connection_with_config(&cfg)
        .await?)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn run(a: Args) -> Result<(), Error> {
    let mut conns = Vec::with_capacity(a.clients);
    for i in 0..a.clients {
        conns.push(connect(&a.nodes[i % a.nodes.len()]).await?);
    }
    let barrier = Arc::new(Barrier::new(a.clients));
    let stored: Arc<OnceLock<Instant>> = Arc::new(OnceLock::new());
    let calls = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(a.clients);
    for mut con in conns {
        let (barrier, stored, calls, errors) = (
            barrier.clone(),
            stored.clone(),
            calls.clone(),
            errors.clone(),
        );
        let (key, model) = (a.key.clone(), a.model);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let got: redis::RedisResult<Value> = redis::cmd("LLMGET")
                .arg(&key)
                .arg("WAIT")
                .arg(60_000)
                .query_async(&mut con)
                .await;
            match got {
                Ok(Value::Nil) => {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(model).await;
                    let _ = stored.set(Instant::now());
                    let _: redis::RedisResult<i64> = redis::cmd("LLMSETNX")
                        .arg(&key)
                        .arg("the answer")
                        .arg("EX")
                        .arg(600)
                        .query_async(&mut con)
                        .await;
                    None
                }
                Ok(Value::BulkString(_)) => Some(Instant::now()),
                _ => {
                    errors.fetch_add(1, Ordering::SeqCst);
                    None
                }
            }
        }));
    }
    let mut seen = Vec::new();
    for t in tasks {
        if let Ok(Some(at)) = t.await {
            seen.push(at);
        }
    }
    let base = stored.get().copied();
    let mut waits: Vec<Duration> = seen
        .iter()
        .map(|at| base.map_or(Duration::ZERO, |b| at.saturating_duration_since(b)))
        .collect();
    waits.sort();
    println!(
        "nodes={} clients={} model_calls={} errors={} wake_p50_ms={:.2} wake_p99_ms={:.2} wake_max_ms={:.2}",
        a.nodes.len(),
        a.clients,
        calls.load(Ordering::SeqCst),
        errors.load(Ordering::SeqCst),
        percentile(&waits, 0.5).as_secs_f64() * 1e3,
        percentile(&waits, 0.99).as_secs_f64() * 1e3,
        waits.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    Ok(())
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("fleet: {e}");
            std::process::exit(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fleet: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = rt.block_on(run(args)) {
        eprintln!("fleet: {e}");
        std::process::exit(1);
    }
}
