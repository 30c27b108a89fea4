//! Cache LLM answers in llmcached with the `redis` crate, calling the model once per distinct
//! request.
//!
//! `LLMLOOKUP request-json [WAIT ms] [SAMPLED]` computes the request's canonical key on the server
//! and looks it up in one round trip, replying `[key, answer]`. A nil answer means this client now
//! holds the fill lease: call the model, then `LLMSETNX key answer [EX s] [TOKENS n]`, or
//! `LLMABORT key` if the model failed. While another client holds the lease the server blocks the
//! lookup and replies once the answer is stored; a wait that runs out is a `TRYAGAIN` error.
//! Only requests whose answer sampling cannot change (temperature 0, one choice) get a key; others
//! get a `NOTCACHEABLE` error, and this wrapper then calls the model uncached. The `sampled` flag
//! (`SAMPLED`) caches one sampled answer and serves it to everyone.
//!
//! The `redis` crate gives up on a reply after 500 ms by default, which would cut every blocked
//! lookup short: the connection here waits a little longer than the server-side `WAIT`.
//!
//! Run it as a self-test: `cargo run --example rust_llm_cache -- --host 127.0.0.1 --port 6379`.
//! Exit status: 0 all checks passed, 1 a check failed, 77 the server lacks the LLM commands.

use std::future::Future;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ErrorKind, RedisError, ServerErrorKind};
use tokio::sync::{watch, Notify};

/// A cached, single-flight wrapper around a model call.
struct LlmCache {
    conn: MultiplexedConnection,
    /// Seconds an answer is kept; `None` keeps it until evicted.
    ttl: Option<u64>,
    /// How long one lookup waits in the server for another client's fill.
    wait: Duration,
    max_tries: u32,
}

/// Why a cached call failed: the cache, or the model (whose lease was then released).
#[derive(Debug)]
enum CallError<E> {
    Cache(RedisError),
    Model(E),
}

impl<E: std::fmt::Display> std::fmt::Display for CallError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Cache(err) => write!(f, "cache: {err}"),
            CallError::Model(err) => write!(f, "model: {err}"),
        }
    }
}

impl<E> From<RedisError> for CallError<E> {
    fn from(err: RedisError) -> Self {
        CallError::Cache(err)
    }
}

impl LlmCache {
    /// Connects with a reply timeout longer than `wait`, so blocked lookups are not cut short.
    async fn connect(url: &str, wait: Duration, ttl: Option<u64>) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let config =
            AsyncConnectionConfig::new().set_response_timeout(Some(wait + Duration::from_secs(5)));
        let conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        Ok(LlmCache {
            conn,
            ttl,
            wait,
            max_tries: 3,
        })
    }

    /// The server's canonical key for a request body.
    async fn key(&mut self, request: &serde_json::Value) -> redis::RedisResult<String> {
        redis::cmd("LLMKEY")
            .arg(request.to_string())
            .query_async(&mut self.conn)
            .await
    }

    /// The cached answer to `request`; `model` runs only on a miss, or every time for a request
    /// the server will not key (sampled, without `sampled`).
    async fn call<F, Fut, E>(
        &mut self,
        request: &serde_json::Value,
        sampled: bool,
        model: F,
    ) -> Result<String, CallError<E>>
    where
        F: FnOnce(serde_json::Value) -> Fut,
        Fut: Future<Output = Result<String, E>>,
    {
        let body = request.to_string();
        let wait_ms = u64::try_from(self.wait.as_millis()).unwrap_or(u64::MAX);
        let mut attempt = 1;
        let (key, answer) = loop {
            let mut cmd = redis::cmd("LLMLOOKUP");
            cmd.arg(&body).arg("WAIT").arg(wait_ms);
            if sampled {
                cmd.arg("SAMPLED");
            }
            let reply: redis::RedisResult<(String, Option<String>)> =
                cmd.query_async(&mut self.conn).await;
            match reply {
                Err(err) if err.code() == Some("NOTCACHEABLE") => {
                    return model(request.clone()).await.map_err(CallError::Model);
                }
                // The lease holder is slow or gone: look up again (wait more or take over).
                Err(err)
                    if err.kind() == ErrorKind::Server(ServerErrorKind::TryAgain)
                        && attempt < self.max_tries =>
                {
                    attempt += 1;
                }
                other => break other?,
            }
        };
        if let Some(answer) = answer {
            return Ok(answer);
        }
        // We hold the lease for `key`.
        match model(request.clone()).await {
            Ok(answer) => {
                let mut cmd = redis::cmd("LLMSETNX");
                cmd.arg(&key).arg(&answer);
                if let Some(ttl) = self.ttl {
                    cmd.arg("EX").arg(ttl);
                }
                let _: redis::Value = cmd.query_async(&mut self.conn).await?;
                Ok(answer)
            }
            Err(err) => {
                // Release the lease at once so that waiters do not sit out their whole WAIT.
                let _: redis::Value = redis::cmd("LLMABORT")
                    .arg(&key)
                    .query_async(&mut self.conn)
                    .await?;
                Err(CallError::Model(err))
            }
        }
    }
}

/// Stands in for a provider: echoes the last message and counts its calls. A gated call
/// announces itself on `entered` and then waits until `open` turns true.
#[derive(Clone)]
struct FakeModel {
    calls: Arc<AtomicUsize>,
    entered: Arc<Notify>,
    open: Arc<watch::Sender<bool>>,
}

impl Default for FakeModel {
    fn default() -> Self {
        FakeModel {
            calls: Arc::default(),
            entered: Arc::default(),
            open: Arc::new(watch::channel(false).0),
        }
    }
}

impl FakeModel {
    async fn answer(&self, request: serde_json::Value, gated: bool) -> Result<String, String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if gated {
            self.entered.notify_one();
            let mut open = self.open.subscribe();
            open.wait_for(|open| *open)
                .await
                .map_err(|e| e.to_string())?;
        }
        let content = request["messages"][0]["content"]
            .as_str()
            .unwrap_or_default();
        Ok(format!("echo: {content}"))
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

/// An OpenAI-style chat request; temperature 0 makes it cacheable.
fn chat(content: &str, temperature: f64) -> serde_json::Value {
    serde_json::json!({
        "model": "fake-1",
        "temperature": temperature,
        "messages": [{"role": "user", "content": content}],
    })
}

async fn self_test(url: &str) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let wait = Duration::from_secs(10);
    let mut cache = LlmCache::connect(url, wait, Some(60)).await?;
    let (sec, usec): (u64, u64) = redis::cmd("TIME").query_async(&mut cache.conn).await?;
    let nonce = format!("{sec}.{usec}");

    let hello = chat(&format!("hello {nonce}"), 0.0);
    let key = match cache.key(&hello).await {
        Ok(key) => key,
        Err(err) if err.to_string().to_lowercase().contains("unknown command") => {
            println!("SKIP: the server does not know the LLM commands yet ({err})");
            return Ok(ExitCode::from(77));
        }
        Err(err) => return Err(err.into()),
    };

    check(key.starts_with("llm:v1:fake-1:"), "unexpected key format")?;

    let model = FakeModel::default();
    let first = cache
        .call(&hello, false, |r| model.answer(r, false))
        .await
        .map_err(|e| e.to_string())?;
    let second = cache
        .call(&hello, false, |r| model.answer(r, false))
        .await
        .map_err(|e| e.to_string())?;
    let expected = format!("echo: hello {nonce}");
    check(
        first == expected && second == expected,
        "a repeated request got another answer",
    )?;
    check(model.calls() == 1, "a repeated request reached the model")?;
    let stored: Option<String> = redis::cmd("LLMGET")
        .arg(&key)
        .query_async(&mut cache.conn)
        .await?;
    check(
        stored.as_deref() == Some(expected.as_str()),
        "LLMGET disagrees with LLMLOOKUP",
    )?;

    // Concurrent identical requests on separate connections: one model call.
    let model = FakeModel::default();
    let burst = chat(&format!("burst {nonce}"), 0.0);
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (model, burst) = (model.clone(), burst.clone());
        let mut own = LlmCache::connect(url, wait, Some(60)).await?;
        tasks.push(tokio::spawn(async move {
            own.call(
                &burst,
                false,
                |r| async move { model.answer(r, true).await },
            )
            .await
        }));
    }
    // Open the gate once the lease holder is inside the model; the rest wait in the server.
    tokio::time::timeout(wait, model.entered.notified())
        .await
        .map_err(|_| "no client took the fill lease")?;
    model.open.send_replace(true);
    for task in tasks {
        let answer = task.await?.map_err(|e| e.to_string())?;
        check(
            answer == format!("echo: burst {nonce}"),
            "a burst caller got another answer",
        )?;
    }
    check(
        model.calls() == 1,
        "a burst of identical requests called the model more than once",
    )?;

    // A failed model call releases the lease; the next caller fills the key.
    let flaky = chat(&format!("flaky {nonce}"), 0.0);
    let failed = cache
        .call(&flaky, false, |_| async {
            Err::<String, _>("provider unavailable")
        })
        .await;
    check(
        matches!(failed, Err(CallError::Model(_))),
        "the model's error was swallowed",
    )?;
    let model = FakeModel::default();
    let refilled = cache
        .call(&flaky, false, |r| model.answer(r, false))
        .await
        .map_err(|e| e.to_string())?;
    check(
        refilled == format!("echo: flaky {nonce}"),
        "no refill after an abort",
    )?;

    // A sampled request is not cached unless asked for with SAMPLED.
    let model = FakeModel::default();
    let creative = chat(&format!("a poem {nonce}"), 0.9);
    for sampled in [false, false, true, true] {
        cache
            .call(&creative, sampled, |r| model.answer(r, false))
            .await
            .map_err(|e| e.to_string())?;
    }
    check(
        model.calls() == 3,
        "SAMPLED alone should cache a sampled request",
    )?;

    println!("rust_llm_cache: all checks passed");
    Ok(ExitCode::SUCCESS)
}

fn check(ok: bool, what: &str) -> Result<(), Box<dyn std::error::Error>> {
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
