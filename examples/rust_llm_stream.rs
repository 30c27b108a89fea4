//! Share one streamed model call between every caller of the same request, with the `redis`
//! crate.
//!
//! `LLMKEY request-json FORMAT sse` keys the request (FORMAT keeps SSE answers apart from JSON
//! ones). Then loop `LLMREAD key FROM cursor WAIT ms`, which replies `[state, cursor, data]`:
//! `data` forward the bytes and read again from the new cursor; `done` forward the rest and stop;
//! `lead` this caller holds the lease at `<gen>` (cursor `<gen>-0`): call the model with
//! stream=true, `LLMAPPEND key gen frame` per SSE frame (forwarding it), `LLMEND key gen EX s`
//! at the end, `LLMABORT key gen` if the model fails; `reset` the attempt being read was
//! abandoned: what was forwarded is void and the data restarts at offset 0.
//!
//! The connection's reply timeout is longer than `WAIT` (the crate's default is 500 ms).
//!
//! Run it as a self-test: `cargo run --example rust_llm_stream -- --host 127.0.0.1 --port 6379`.
//! Exit status: 0 all checks passed, 1 a check failed, 77 the server lacks the streaming commands.

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, RedisResult};

/// What a relay receives.
#[derive(Debug, PartialEq, Eq)]
enum Event {
    Data(Vec<u8>),
    /// Everything forwarded so far is void: the answer restarts.
    Reset,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

struct StreamCache {
    conn: MultiplexedConnection,
    wait_ms: u64,
    ttl: u64,
}

impl StreamCache {
    async fn connect(url: &str) -> RedisResult<StreamCache> {
        let wait_ms = 1000;
        let config = AsyncConnectionConfig::new().set_response_timeout(Some(
            Duration::from_millis(wait_ms) + Duration::from_secs(5),
        ));
        let conn = redis::Client::open(url)?
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        Ok(StreamCache {
            conn,
            wait_ms,
            ttl: 3600,
        })
    }

    /// Streams the answer to `request` into `out`; `model` produces the frames when this caller
    /// leads (an `Err` frame is a failed model call).
    async fn stream<F>(
        &mut self,
        request: &serde_json::Value,
        model: F,
        out: &mut Vec<Event>,
    ) -> Result<(), Error>
    where
        F: Fn() -> Vec<Result<String, String>>,
    {
        let key: String = redis::cmd("LLMKEY")
            .arg(request.to_string())
            .arg("FORMAT")
            .arg("sse")
            .query_async(&mut self.conn)
            .await?;
        let (mut cursor, mut forwarded) = ("0".to_string(), false);
        loop {
            let (state, next, data): (String, String, Vec<u8>) = redis::cmd("LLMREAD")
                .arg(&key)
                .arg("FROM")
                .arg(&cursor)
                .arg("WAIT")
                .arg(self.wait_ms)
                .query_async(&mut self.conn)
                .await?;
            cursor = next;
            match state.as_str() {
                "lead" => {
                    if forwarded {
                        out.push(Event::Reset);
                    }
                    let gen = cursor.split('-').next().unwrap_or("0").to_string();
                    if self.lead(&key, &gen, &model, out).await? {
                        return Ok(());
                    }
                    (cursor, forwarded) = ("0".to_string(), false);
                    out.push(Event::Reset);
                    continue;
                }
                "reset" => out.push(Event::Reset),
                _ => {}
            }
            if !data.is_empty() {
                forwarded = true;
                out.push(Event::Data(data));
            }
            if state == "done" {
                return Ok(());
            }
        }
    }

    /// Streams the model's frames as the leader at `gen`; false when replaced (`-NOLEASE`).
    async fn lead<F>(
        &mut self,
        key: &str,
        gen: &str,
        model: &F,
        out: &mut Vec<Event>,
    ) -> Result<bool, Error>
    where
        F: Fn() -> Vec<Result<String, String>>,
    {
        for frame in model() {
            let frame = match frame {
                Ok(f) => f,
                Err(e) => {
                    let _: i64 = redis::cmd("LLMABORT")
                        .arg(key)
                        .arg(gen)
                        .query_async(&mut self.conn)
                        .await?;
                    return Err(e.into());
                }
            };
            let appended: RedisResult<i64> = redis::cmd("LLMAPPEND")
                .arg(key)
                .arg(gen)
                .arg(&frame)
                .query_async(&mut self.conn)
                .await;
            match appended {
                Ok(_) => out.push(Event::Data(frame.into_bytes())),
                Err(e) if e.code() == Some("NOLEASE") => return Ok(false),
                Err(e) => return Err(e.into()),
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let _: i64 = redis::cmd("LLMEND")
            .arg(key)
            .arg(gen)
            .arg("EX")
            .arg(self.ttl)
            .query_async(&mut self.conn)
            .await?;
        Ok(true)
    }
}

/// What a relay's client ends up with: the data since the last reset.
fn collect(events: &[Event]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in events {
        match e {
            Event::Reset => out.clear(),
            Event::Data(d) => out.extend_from_slice(d),
        }
    }
    out
}

/// OpenAI-style `chat.completion.chunk` SSE frames for `text`, then `[DONE]`.
fn frames(text: &str) -> Vec<String> {
    let mut out: Vec<String> = (0..20)
        .map(|i| {
            let chunk = serde_json::json!({"object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {"content": format!("{text}-{i} ")}}]});
            format!("data: {chunk}\n\n")
        })
        .collect();
    out.push("data: [DONE]\n\n".into());
    out
}

async fn self_test(url: &str) -> Result<ExitCode, Error> {
    let mut probe = StreamCache::connect(url).await?;
    let probed: RedisResult<redis::Value> = redis::cmd("LLMREAD")
        .arg("llm-stream-probe")
        .arg("WAIT")
        .arg(0)
        .query_async(&mut probe.conn)
        .await;
    if let Err(e) = probed {
        if e.to_string().to_lowercase().contains("unknown command") {
            println!("SKIP: the server lacks the streaming commands ({e})");
            return Ok(ExitCode::from(77));
        }
        return Err(e.into());
    }
    let _: i64 = redis::cmd("LLMABORT")
        .arg("llm-stream-probe")
        .query_async(&mut probe.conn)
        .await?;
    let (sec, usec): (u64, u64) = redis::cmd("TIME").query_async(&mut probe.conn).await?;

    for fail_first in [false, true] {
        let text = format!(
            "{} {sec}-{usec}",
            if fail_first { "flaky" } else { "burst" }
        );
        let request = serde_json::json!({"model": "fake-1", "temperature": 0, "stream": true,
            "messages": [{"role": "user", "content": text}]});
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let (request, calls, text, url) = (
                request.clone(),
                calls.clone(),
                text.clone(),
                url.to_string(),
            );
            tasks.push(tokio::spawn(async move {
                let mut cache = StreamCache::connect(&url).await?;
                let model = || {
                    let first = calls.fetch_add(1, Ordering::SeqCst) == 0;
                    let mut f: Vec<Result<String, String>> =
                        frames(&text).into_iter().map(Ok).collect();
                    if fail_first && first {
                        f[5] = Err("provider dropped the stream".into());
                    }
                    f
                };
                let mut events = Vec::new();
                cache.stream(&request, model, &mut events).await?;
                Ok::<_, Error>(collect(&events))
            }));
        }
        let whole = frames(&text).concat().into_bytes();
        let (mut ok, mut failed) = (0, 0);
        for t in tasks {
            match t.await? {
                Ok(bytes) => {
                    check(bytes == whole, "a caller rebuilt other bytes")?;
                    ok += 1;
                }
                Err(_) => failed += 1,
            }
        }
        let want_calls = if fail_first { 2 } else { 1 };
        check(
            calls.load(Ordering::SeqCst) == want_calls,
            "model calls per request",
        )?;
        check(
            (ok, failed) == if fail_first { (3, 1) } else { (4, 0) },
            "callers that finished",
        )?;
    }
    println!("rust_llm_stream: all checks passed");
    Ok(ExitCode::SUCCESS)
}

fn check(ok: bool, what: &str) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(format!("check failed: {what}").into())
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str, default: &str| -> String {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .unwrap_or_else(|| default.to_string())
    };
    let url = format!(
        "redis://{}:{}/",
        flag("--host", "127.0.0.1"),
        flag("--port", "6379")
    );
    match self_test(&url).await {
        Ok(code) => code,
        Err(err) => {
            eprintln!("FAILED: {err}");
            ExitCode::FAILURE
        }
    }
}
