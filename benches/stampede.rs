//! Cache stampede: many clients miss one key at the same instant, and the answer takes a slow model
//! call to produce. Three ways to serve them, side by side:
//!
//! - `llmcached`: `LLMGET key WAIT ms`. One caller gets nil (it holds the lease), sleeps to simulate
//!   the model, then `LLMSETNX key value EX s`; the others block inside LLMGET and get the value.
//! - `redis lock+poll`: the usual recipe on a real redis-server. `GET key`; on a miss
//!   `SET key:lock 1 NX EX 30`; the winner sleeps, then `SETEX key s value`; the losers `GET` every
//!   poll interval until the value is there.
//! - `redis pubsub floor`: a real redis-server `PUBLISH`es the value to that many `SUBSCRIBE`d
//!   connections: the fastest a server can push one value to N waiting connections.
//!
//! For each: how many model calls were made, how long after the answer was stored each follower saw
//! it (measured from the instant just before the store command was written), the total wall time
//! from the start barrier to the last follower, and how many commands were sent from the start on
//! (the floor's SUBSCRIBEs come before it). A follower that never got the answer counts as an error.
//!
//! Every connection is opened first; all start together on a barrier. Every read has a deadline.
//!
//! Usage: `cargo bench --bench stampede -- [--llmcached HOST:PORT] [--redis HOST:PORT]
//!         [--clients 100,1000] [--model-ms 500] [--poll-ms 100] [--wait-ms 30000]`
//! A scenario whose server is not given is skipped; scripts/bench-stampede.sh starts both servers.
//! Raw TCP with hand-written RESP2 keeps client overhead out of the figures.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Barrier;
use tokio::time::{sleep, timeout};

type Error = Box<dyn std::error::Error + Send + Sync>;
type Conn = BufReader<TcpStream>;

struct Args {
    llmcached: Option<String>,
    redis: Option<String>,
    clients: Vec<usize>,
    model: Duration,
    poll: Duration,
    wait_ms: u64,
}

fn parse_args() -> Result<Args, Error> {
    let mut args = Args {
        llmcached: None,
        redis: None,
        clients: vec![100, 1000],
        model: Duration::from_millis(500),
        poll: Duration::from_millis(100),
        wait_ms: 30_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            // `cargo bench` passes --bench to every benchmark binary.
            "--bench" => {}
            "--llmcached" => args.llmcached = Some(value()?),
            "--redis" => args.redis = Some(value()?),
            "--clients" => {
                args.clients = value()?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?
            }
            "--model-ms" => args.model = Duration::from_millis(value()?.parse()?),
            "--poll-ms" => args.poll = Duration::from_millis(value()?.parse()?),
            "--wait-ms" => args.wait_ms = value()?.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(args)
}

/// A RESP2 reply, as much of it as this benchmark needs.
#[derive(Debug, PartialEq)]
enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn read_reply<'a>(
    r: &'a mut (dyn AsyncBufRead + Unpin + Send),
) -> Pin<Box<dyn std::future::Future<Output = io::Result<Reply>> + Send + 'a>> {
    Box::pin(async move {
        let mut line = Vec::new();
        if r.read_until(b'\n', &mut line).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let bad = || io::Error::new(io::ErrorKind::InvalidData, "malformed reply");
        let text = std::str::from_utf8(&line)
            .map_err(|_| bad())?
            .trim_end_matches("\r\n");
        let (kind, rest) = text.split_at(1.min(text.len()));
        let number = || rest.parse::<i64>().map_err(|_| bad());
        Ok(match kind {
            "+" => Reply::Simple(rest.to_string()),
            "-" => Reply::Error(rest.to_string()),
            ":" => Reply::Int(number()?),
            "$" if number()? < 0 => Reply::Bulk(None),
            "$" => {
                let mut buf = vec![0; number()? as usize + 2];
                r.read_exact(&mut buf).await?;
                buf.truncate(buf.len() - 2);
                Reply::Bulk(Some(buf))
            }
            "*" if number()? < 0 => Reply::Array(None),
            "*" => {
                let mut items = Vec::new();
                for _ in 0..number()? {
                    items.push(read_reply(r).await?);
                }
                Reply::Array(Some(items))
            }
            _ => return Err(bad()),
        })
    })
}

/// Sends one command and reads its reply, both within `deadline`.
async fn call(conn: &mut Conn, args: &[&[u8]], deadline: Instant) -> Result<Reply, Error> {
    let left = deadline.saturating_duration_since(Instant::now());
    let reply = timeout(left, async {
        conn.get_mut().write_all(&encode(args)).await?;
        read_reply(conn).await
    })
    .await
    .map_err(|_| "timed out")??;
    Ok(reply)
}

async fn connect(addr: &str, n: usize) -> Result<Vec<Conn>, Error> {
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        let stream = timeout(Duration::from_secs(10), TcpStream::connect(addr))
            .await
            .map_err(|_| "connect timed out")??;
        stream.set_nodelay(true)?;
        conns.push(BufReader::new(stream));
    }
    Ok(conns)
}

/// What one client saw.
#[derive(Default)]
struct Outcome {
    called_model: bool,
    /// When it had the answer (followers only).
    saw_answer: Option<Instant>,
    commands: u64,
    error: Option<String>,
}

/// The figures of one scenario run.
struct Report {
    model_calls: usize,
    latencies: Vec<Duration>,
    wall: Duration,
    commands: u64,
    errors: Vec<String>,
}

/// Runs `client` on every connection at once (after a barrier) and gathers the outcomes. `stored`
/// is set by whoever writes the answer, just before writing it.
async fn run_clients<F, Fut>(conns: Vec<Conn>, client: F) -> Report
where
    F: Fn(usize, Conn, Arc<OnceLock<Instant>>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Outcome> + Send,
{
    let barrier = Arc::new(Barrier::new(conns.len() + 1));
    let stored = Arc::new(OnceLock::new());
    let client = Arc::new(client);
    let mut tasks = Vec::with_capacity(conns.len());
    for (i, conn) in conns.into_iter().enumerate() {
        let (barrier, stored, client) = (barrier.clone(), stored.clone(), client.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            client(i, conn, stored).await
        }));
    }
    barrier.wait().await;
    let start = Instant::now();
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        outcomes.push(task.await.unwrap_or_else(|e| Outcome {
            error: Some(format!("task failed: {e}")),
            ..Outcome::default()
        }));
    }
    let stored = stored.get().copied();
    let last = outcomes.iter().filter_map(|o| o.saw_answer).max();
    let mut latencies: Vec<Duration> = match stored {
        Some(t) => outcomes
            .iter()
            .filter_map(|o| o.saw_answer.map(|s| s.saturating_duration_since(t)))
            .collect(),
        None => Vec::new(),
    };
    latencies.sort();
    Report {
        model_calls: outcomes.iter().filter(|o| o.called_model).count(),
        latencies,
        wall: last.map_or(Duration::ZERO, |l| l.saturating_duration_since(start)),
        commands: outcomes.iter().map(|o| o.commands).sum(),
        errors: outcomes.into_iter().filter_map(|o| o.error).collect(),
    }
}

fn mark_stored(stored: &OnceLock<Instant>) {
    stored.get_or_init(Instant::now);
}

/// (a) llmcached: LLMGET key WAIT; nil means this client holds the lease.
async fn llmcached_client(
    mut conn: Conn,
    stored: Arc<OnceLock<Instant>>,
    key: Arc<String>,
    args: Arc<(Duration, u64, Instant)>,
) -> Outcome {
    let (model, wait_ms, deadline) = *args;
    let mut out = Outcome::default();
    let wait = wait_ms.to_string();
    let result: Result<(), Error> = async {
        out.commands += 1;
        match call(
            &mut conn,
            &[b"LLMGET", key.as_bytes(), b"WAIT", wait.as_bytes()],
            deadline,
        )
        .await?
        {
            Reply::Bulk(Some(v)) if v == ANSWER => out.saw_answer = Some(Instant::now()),
            Reply::Bulk(None) => {
                out.called_model = true;
                sleep(model).await;
                mark_stored(&stored);
                out.commands += 1;
                let reply = call(
                    &mut conn,
                    &[b"LLMSETNX", key.as_bytes(), ANSWER, b"EX", b"300"],
                    deadline,
                )
                .await?;
                if matches!(reply, Reply::Error(_)) {
                    return Err(format!("LLMSETNX: {reply:?}").into());
                }
            }
            other => return Err(format!("LLMGET: {other:?}").into()),
        }
        Ok(())
    }
    .await;
    out.error = result.err().map(|e| e.to_string());
    out
}

/// (b) redis: GET, SET lock NX EX, winner computes and SETEX, losers poll GET.
///
/// Client `i` of `n` polls at phase `i / n` of the interval: real callers arrive at scattered
/// instants, and polling in lockstep would make the figures depend on how the model time happens
/// to fall against the interval.
async fn lock_poll_client(
    i: usize,
    mut conn: Conn,
    stored: Arc<OnceLock<Instant>>,
    key: Arc<String>,
    args: Arc<(Duration, Duration, usize, Instant)>,
) -> Outcome {
    let (model, poll, n, deadline) = *args;
    let mut next_poll = poll.mul_f64(i as f64 / n.max(1) as f64);
    let lock = format!("{key}:lock");
    let mut out = Outcome::default();
    let result: Result<(), Error> = async {
        out.commands += 1;
        if let Reply::Bulk(Some(_)) = call(&mut conn, &[b"GET", key.as_bytes()], deadline).await? {
            out.saw_answer = Some(Instant::now());
            return Ok(());
        }
        out.commands += 1;
        let lock_reply = call(
            &mut conn,
            &[b"SET", lock.as_bytes(), b"1", b"NX", b"EX", b"30"],
            deadline,
        )
        .await?;
        if lock_reply == Reply::Simple("OK".into()) {
            out.called_model = true;
            sleep(model).await;
            mark_stored(&stored);
            out.commands += 1;
            call(
                &mut conn,
                &[b"SETEX", key.as_bytes(), b"300", ANSWER],
                deadline,
            )
            .await?;
            return Ok(());
        }
        loop {
            if Instant::now() + poll > deadline {
                return Err("gave up polling".into());
            }
            sleep(next_poll).await;
            next_poll = poll;
            out.commands += 1;
            if let Reply::Bulk(Some(_)) =
                call(&mut conn, &[b"GET", key.as_bytes()], deadline).await?
            {
                out.saw_answer = Some(Instant::now());
                return Ok(());
            }
        }
    }
    .await;
    out.error = result.err().map(|e| e.to_string());
    out
}

const ANSWER: &[u8] = b"the model's answer: 42";

fn print_row(name: &str, clients: usize, r: &Report) {
    let pct = |p: usize| -> String {
        if r.latencies.is_empty() {
            return "-".into();
        }
        let rank = (p * r.latencies.len()).div_ceil(100).max(1) - 1;
        format!("{:.2}", r.latencies[rank].as_secs_f64() * 1e3)
    };
    let max = r
        .latencies
        .last()
        .map_or("-".into(), |d| format!("{:.2}", d.as_secs_f64() * 1e3));
    println!(
        "{name:<24} {clients:>7} {:>11} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>6}",
        r.model_calls,
        r.latencies.len(),
        pct(50),
        pct(99),
        max,
        format!("{:.0}", r.wall.as_secs_f64() * 1e3),
        r.commands,
        r.errors.len()
    );
    for e in r.errors.iter().take(3) {
        println!("    error: {e}");
    }
}

/// Does the server know LLMGET? A probe takes (and gives back) a lease on a key of its own.
async fn has_llmget(addr: &str) -> Result<bool, Error> {
    let mut conn = connect(addr, 1).await?.remove(0);
    let deadline = Instant::now() + Duration::from_secs(10);
    let key = format!("stampede:probe:{}", std::process::id());
    match call(&mut conn, &[b"LLMGET", key.as_bytes()], deadline).await? {
        Reply::Error(e) if e.to_lowercase().contains("unknown command") => Ok(false),
        Reply::Bulk(None) => {
            call(&mut conn, &[b"LLMABORT", key.as_bytes()], deadline).await?;
            Ok(true)
        }
        _ => Ok(true),
    }
}

async fn run(args: Args) -> Result<(), Error> {
    // Keys of their own per run, so a rerun against the same servers starts from a miss.
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let llm_ok = match &args.llmcached {
        Some(addr) => {
            let ok = has_llmget(addr).await?;
            if !ok {
                println!("llmcached at {addr} answers `unknown command` to LLMGET: skipping the llmcached scenario");
            }
            ok
        }
        None => false,
    };
    let bound = args.model + Duration::from_millis(args.wait_ms) + Duration::from_secs(30);
    println!(
        "model call {} ms, lock+poll interval {} ms; latency = follower has the answer - leader starts writing it",
        args.model.as_millis(),
        args.poll.as_millis()
    );
    println!(
        "{:<24} {:>7} {:>11} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>6}",
        "scenario",
        "clients",
        "model_calls",
        "followers",
        "p50_ms",
        "p99_ms",
        "max_ms",
        "wall_ms",
        "commands",
        "errors"
    );
    for &n in &args.clients {
        if let (Some(addr), true) = (&args.llmcached, llm_ok) {
            let key = Arc::new(format!("stampede:{run_id}:llm:{n}"));
            let conns = connect(addr, n).await?;
            let params = Arc::new((args.model, args.wait_ms, Instant::now() + bound));
            let report = run_clients(conns, move |_, c, s| {
                llmcached_client(c, s, key.clone(), params.clone())
            })
            .await;
            print_row("llmcached LLMGET", n, &report);
        }
        if let Some(addr) = &args.redis {
            let key = Arc::new(format!("stampede:{run_id}:lock:{n}"));
            let conns = connect(addr, n).await?;
            let params = Arc::new((args.model, args.poll, n, Instant::now() + bound));
            let report = run_clients(conns, move |i, c, s| {
                lock_poll_client(i, c, s, key.clone(), params.clone())
            })
            .await;
            print_row("redis lock+poll", n, &report);
            let channel = format!("stampede:{run_id}:chan:{n}");
            let report = pubsub_floor(addr, n, channel, args.model, Instant::now() + bound).await?;
            print_row("redis pubsub floor", n, &report);
        }
    }
    Ok(())
}

/// (c) the floor: connection 0 PUBLISHes after the model time to `n` SUBSCRIBEd connections.
async fn pubsub_floor(
    addr: &str,
    n: usize,
    channel: String,
    model: Duration,
    deadline: Instant,
) -> Result<Report, Error> {
    let mut conns = connect(addr, n + 1).await?;
    for conn in &mut conns[1..] {
        // The confirmation means this connection will get the message.
        call(conn, &[b"SUBSCRIBE", channel.as_bytes()], deadline).await?;
    }
    let channel = Arc::new(channel);
    let report = run_clients(conns, move |i, mut conn, stored| {
        let channel = channel.clone();
        async move {
            let mut out = Outcome::default();
            if i == 0 {
                out.called_model = true;
                out.commands = 1;
                sleep(model).await;
                mark_stored(&stored);
                match call(
                    &mut conn,
                    &[b"PUBLISH", channel.as_bytes(), ANSWER],
                    deadline,
                )
                .await
                {
                    Ok(Reply::Int(got)) if got == n as i64 => {}
                    other => {
                        out.error = Some(format!(
                            "PUBLISH reached not all {n} subscribers: {other:?}"
                        ))
                    }
                }
                return out;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match timeout(left, read_reply(&mut conn)).await {
                Ok(Ok(Reply::Array(Some(m))))
                    if m.last() == Some(&Reply::Bulk(Some(ANSWER.to_vec()))) =>
                {
                    out.saw_answer = Some(Instant::now())
                }
                other => out.error = Some(format!("subscriber got {other:?}")),
            }
            out
        }
    })
    .await;
    Ok(report)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("stampede: {e}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if let Err(e) = rt.block_on(run(args)) {
        eprintln!("stampede: {e}");
        std::process::exit(1);
    }
}
