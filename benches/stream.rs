//! Streamed fan-out: one leader streams chunks, N followers receive them live. Two ways, measured
//! by the same client in the same run, alternating A B A B ...:
//!
//! - `llmcached`: the leader `LLMAPPEND`s each chunk; every follower loops
//!   `LLMREAD key FROM cursor WAIT ms` (blocks until new bytes, then gets everything since its
//!   cursor).
//! - `redis PUBLISH`: a real redis-server `PUBLISH`es each chunk to N `SUBSCRIBE`d connections:
//!   the same fan-out over Redis pub/sub (fire-and-forget, no catch-up for a late reader).
//!
//! For each: the delay from the instant just before a chunk's command was written to the instant
//! each follower held that chunk's bytes (p50 / p99 / max over every chunk x follower), and the
//! server's CPU time (user + system, from /proc/<pid>/stat) per chunk during the run. Chunks are
//! sent at a fixed pace (`--interval-us`, a fast token stream); a follower that misses bytes or
//! stalls past its deadline counts as an error.
//!
//! Usage: `cargo bench --bench stream -- [--llmcached HOST:PORT --llmcached-pid PID]
//!         [--redis HOST:PORT --redis-pid PID] [--followers 1000] [--chunks 500]
//!         [--chunk-bytes 64] [--interval-us 2000] [--rounds 3]`
//! scripts/bench-stream.sh starts both servers and passes their PIDs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Barrier;
use tokio::time::timeout;

type Error = Box<dyn std::error::Error + Send + Sync>;
type Conn = BufReader<TcpStream>;

struct Args {
    llmcached: Option<(String, Option<u32>)>,
    redis: Option<(String, Option<u32>)>,
    followers: usize,
    chunks: usize,
    chunk_bytes: usize,
    interval: Duration,
    rounds: usize,
}

fn parse_args() -> Result<Args, Error> {
    let mut a = Args {
        llmcached: None,
        redis: None,
        followers: 1000,
        chunks: 500,
        chunk_bytes: 64,
        interval: Duration::from_micros(2000),
        rounds: 3,
    };
    let (mut lpid, mut rpid) = (None, None);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--bench" => {}
            "--llmcached" => a.llmcached = Some((value()?, None)),
            "--redis" => a.redis = Some((value()?, None)),
            "--llmcached-pid" => lpid = Some(value()?.parse()?),
            "--redis-pid" => rpid = Some(value()?.parse()?),
            "--followers" => a.followers = value()?.parse()?,
            "--chunks" => a.chunks = value()?.parse()?,
            "--chunk-bytes" => a.chunk_bytes = value()?.parse::<usize>()?.max(16),
            "--interval-us" => a.interval = Duration::from_micros(value()?.parse()?),
            "--rounds" => a.rounds = value()?.parse()?,
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    if let Some(l) = a.llmcached.as_mut() {
        l.1 = lpid;
    }
    if let Some(r) = a.redis.as_mut() {
        r.1 = rpid;
    }
    Ok(a)
}

/// Nanoseconds since the process's first call: one clock for the leader and every follower.
fn now_ns() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    BASE.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// A process's user + system CPU time, in milliseconds (from /proc/<pid>/stat).
fn cpu_ms(pid: Option<u32>) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
    let rest = stat.rsplit_once(") ")?.1;
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks * 1000.0 / 100.0) // USER_HZ is 100 on Linux
}

fn command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

async fn line(c: &mut Conn) -> Result<Vec<u8>, Error> {
    let mut l = Vec::new();
    if c.read_until(b'\n', &mut l).await? == 0 {
        return Err("connection closed".into());
    }
    l.truncate(l.len().saturating_sub(2));
    Ok(l)
}

async fn bulk(c: &mut Conn) -> Result<Vec<u8>, Error> {
    let l = line(c).await?;
    let n: usize = std::str::from_utf8(l.strip_prefix(b"$").ok_or("expected a bulk")?)?.parse()?;
    let mut b = vec![0u8; n + 2];
    c.read_exact(&mut b).await?;
    b.truncate(n);
    Ok(b)
}

/// Reads one reply of `*3` bulks (LLMREAD, a pub/sub message).
async fn triple(c: &mut Conn) -> Result<[Vec<u8>; 3], Error> {
    let head = line(c).await?;
    if head != b"*3" {
        return Err(format!("unexpected reply {}", String::from_utf8_lossy(&head)).into());
    }
    Ok([bulk(c).await?, bulk(c).await?, bulk(c).await?])
}

async fn connect(addr: &str, n: usize) -> Result<Vec<Conn>, Error> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        out.push(BufReader::new(s));
    }
    Ok(out)
}

/// The chunk `i`: fixed size, self-delimiting (SSE), numbered.
fn chunk(i: usize, size: usize) -> Vec<u8> {
    let mut c = format!("data: {i:06} ").into_bytes();
    c.resize(size - 2, b'x');
    c.extend_from_slice(b"\n\n");
    c
}

/// What one scenario measured.
struct Run {
    delays_us: Vec<u64>,
    cpu_ms_per_chunk: Option<f64>,
    errors: usize,
}

fn pct(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Each follower's arrival time for each chunk, turned into delays from the chunk's send time.
fn delays(sent: &[AtomicU64], got: Vec<Vec<u64>>) -> (Vec<u64>, usize) {
    let mut out = Vec::new();
    let mut errors = 0;
    for f in got {
        if f.len() != sent.len() {
            errors += 1;
        }
        for (i, at) in f.iter().enumerate() {
            let s = sent[i].load(Ordering::Relaxed);
            out.push(at.saturating_sub(s) / 1000);
        }
    }
    out.sort_unstable();
    (out, errors)
}

async fn run_llmcached(a: &Args, addr: &str, pid: Option<u32>, key: &str) -> Result<Run, Error> {
    let mut leader = connect(addr, 1).await?.remove(0);
    let followers = connect(addr, a.followers).await?;
    leader
        .get_mut()
        .write_all(&command(&[b"LLMREAD", key.as_bytes(), b"WAIT", b"0"]))
        .await?;
    let [state, cursor, _] = triple(&mut leader).await?;
    if state != b"lead" {
        return Err("the leader did not get the lease".into());
    }
    let gen = String::from_utf8(cursor)?
        .split('-')
        .next()
        .unwrap_or("0")
        .to_string();
    let total = a.chunks * a.chunk_bytes;
    let sent: Arc<Vec<AtomicU64>> = Arc::new((0..a.chunks).map(|_| AtomicU64::new(0)).collect());
    let barrier = Arc::new(Barrier::new(a.followers + 1));
    let mut tasks = Vec::new();
    for mut c in followers {
        let (barrier, key, size) = (barrier.clone(), key.to_string(), a.chunk_bytes);
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            let mut cursor = b"0".to_vec();
            let mut held = 0usize;
            let first = command(&[b"LLMREAD", key.as_bytes(), b"FROM", b"0", b"WAIT", b"0"]);
            // Registers, then waits for the start: every follower is in the server first.
            let _ = c.get_mut().write_all(&first).await;
            let _ = triple(&mut c).await;
            barrier.wait().await;
            while held < total {
                let cmd = command(&[
                    b"LLMREAD",
                    key.as_bytes(),
                    b"FROM",
                    &cursor,
                    b"WAIT",
                    b"10000",
                ]);
                if c.get_mut().write_all(&cmd).await.is_err() {
                    break;
                }
                let Ok(Ok([state, next, data])) =
                    timeout(Duration::from_secs(20), triple(&mut c)).await
                else {
                    break;
                };
                let at = now_ns();
                if state == b"reset" {
                    break;
                }
                held += data.len();
                while got.len() < held / size {
                    got.push(at);
                }
                cursor = next;
                if state == b"done" {
                    break;
                }
            }
            got
        }));
    }
    barrier.wait().await;
    let cpu0 = cpu_ms(pid);
    let mut next = tokio::time::Instant::now();
    for i in 0..a.chunks {
        tokio::time::sleep_until(next).await;
        next += a.interval;
        let body = chunk(i, a.chunk_bytes);
        let cmd = command(&[b"LLMAPPEND", key.as_bytes(), gen.as_bytes(), &body]);
        sent[i].store(now_ns(), Ordering::Relaxed);
        leader.get_mut().write_all(&cmd).await?;
        line(&mut leader).await?;
    }
    let mut got = Vec::new();
    for t in tasks {
        got.push(t.await?);
    }
    let cpu1 = cpu_ms(pid);
    leader
        .get_mut()
        .write_all(&command(&[
            b"LLMEND",
            key.as_bytes(),
            gen.as_bytes(),
            b"EX",
            b"60",
        ]))
        .await?;
    line(&mut leader).await?;
    let (delays_us, errors) = delays(&sent, got);
    Ok(Run {
        delays_us,
        cpu_ms_per_chunk: cpu0.zip(cpu1).map(|(a0, a1)| (a1 - a0) / a.chunks as f64),
        errors,
    })
}

async fn run_redis(a: &Args, addr: &str, pid: Option<u32>, channel: &str) -> Result<Run, Error> {
    let mut publisher = connect(addr, 1).await?.remove(0);
    let followers = connect(addr, a.followers).await?;
    let sent: Arc<Vec<AtomicU64>> = Arc::new((0..a.chunks).map(|_| AtomicU64::new(0)).collect());
    let barrier = Arc::new(Barrier::new(a.followers + 1));
    let mut tasks = Vec::new();
    for mut c in followers {
        let (barrier, channel, chunks) = (barrier.clone(), channel.to_string(), a.chunks);
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            let sub = command(&[b"SUBSCRIBE", channel.as_bytes()]);
            let _ = c.get_mut().write_all(&sub).await;
            let _ = triple(&mut c).await;
            barrier.wait().await;
            while got.len() < chunks {
                let Ok(Ok([_, _, _data])) = timeout(Duration::from_secs(20), triple(&mut c)).await
                else {
                    break;
                };
                got.push(now_ns());
            }
            got
        }));
    }
    barrier.wait().await;
    let cpu0 = cpu_ms(pid);
    let mut next = tokio::time::Instant::now();
    for i in 0..a.chunks {
        tokio::time::sleep_until(next).await;
        next += a.interval;
        let body = chunk(i, a.chunk_bytes);
        let cmd = command(&[b"PUBLISH", channel.as_bytes(), &body]);
        sent[i].store(now_ns(), Ordering::Relaxed);
        publisher.get_mut().write_all(&cmd).await?;
        line(&mut publisher).await?;
    }
    let mut got = Vec::new();
    for t in tasks {
        got.push(t.await?);
    }
    let cpu1 = cpu_ms(pid);
    let (delays_us, errors) = delays(&sent, got);
    Ok(Run {
        delays_us,
        cpu_ms_per_chunk: cpu0.zip(cpu1).map(|(a0, a1)| (a1 - a0) / a.chunks as f64),
        errors,
    })
}

/// One scenario's figures, a value per round.
struct Summary {
    name: &'static str,
    p50: Vec<f64>,
    p99: Vec<f64>,
    cpu: Vec<f64>,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        f64::NAN
    } else {
        v[v.len() / 2]
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let a = parse_args()?;
    println!(
        "{} followers, {} chunks of {} bytes every {} us, {} rounds (A B A B ...)",
        a.followers,
        a.chunks,
        a.chunk_bytes,
        a.interval.as_micros(),
        a.rounds
    );
    println!(
        "{:<16} {:>5} {:>9} {:>9} {:>9} {:>13} {:>6}",
        "scenario", "round", "p50_us", "p99_us", "max_us", "cpu_us/chunk", "errors"
    );
    let mut sums: Vec<Summary> = Vec::new();
    for round in 1..=a.rounds {
        for (name, target) in [("llmcached", &a.llmcached), ("redis PUBLISH", &a.redis)] {
            let Some((addr, pid)) = target else { continue };
            let key = format!("bench:stream:{round}:{}", now_ns());
            let run = if name == "llmcached" {
                run_llmcached(&a, addr, *pid, &key).await?
            } else {
                run_redis(&a, addr, *pid, &key).await?
            };
            let d = &run.delays_us;
            let cpu = run.cpu_ms_per_chunk.map_or(f64::NAN, |c| c * 1000.0);
            println!(
                "{:<16} {:>5} {:>9} {:>9} {:>9} {:>13.1} {:>6}",
                name,
                round,
                pct(d, 0.5),
                pct(d, 0.99),
                pct(d, 1.0),
                cpu,
                run.errors
            );
            let slot = match sums.iter().position(|s| s.name == name) {
                Some(i) => i,
                None => {
                    sums.push(Summary {
                        name,
                        p50: Vec::new(),
                        p99: Vec::new(),
                        cpu: Vec::new(),
                    });
                    sums.len() - 1
                }
            };
            sums[slot].p50.push(pct(d, 0.5) as f64);
            sums[slot].p99.push(pct(d, 0.99) as f64);
            sums[slot].cpu.push(cpu);
        }
    }
    println!("\nmedians of {} rounds", a.rounds);
    let mut meds = Vec::new();
    for s in &mut sums {
        let m = (median(&mut s.p50), median(&mut s.p99), median(&mut s.cpu));
        println!(
            "{:<16} p50 {:>7.0} us  p99 {:>7.0} us  cpu {:>7.1} us/chunk",
            s.name, m.0, m.1, m.2
        );
        meds.push(m);
    }
    if let [l, r] = meds[..] {
        println!(
            "ratio llmcached / redis PUBLISH: p50 {:.2}x  p99 {:.2}x  cpu {:.2}x",
            l.0 / r.0,
            l.1 / r.1,
            l.2 / r.2
        );
    }
    Ok(())
}
