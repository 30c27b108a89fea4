//! The tier operations: on one key (lead, take over, read, complete, release, delete) and on
//! the whole tier (purge by pattern, flush). Each is bounded by the tier timeout and reports a
//! failure to the breaker; none is retried here (the callers fall back to the node alone).

use super::envelope::{Answer, Held, Stub};
use super::link::{bounded, Data, Failure};
use super::{lock, Tier};
use bytes::Bytes;
use redis::{Script, Value};
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

/// What `SET key <stub> NX PX <lease> GET` found.
#[derive(Debug)]
pub enum Lead {
    /// This node holds the fleet's lease.
    Granted,
    /// An answer is there.
    Answer(Answer),
    /// A node (maybe this one, for an attempt that ended) holds the lease.
    Elsewhere(Stub),
}

/// How a completion ended.
#[derive(Debug)]
pub enum Completed {
    /// The answer is on the tier.
    Stored,
    /// Another answer was already there (it stays).
    Existing(Answer),
}

/// Stores the answer (ARGV[1]) unless an answer is already there: a stub, whoever's, or no key
/// at all is replaced (a completion whose stub expired still lands). Returns 1, or the answer
/// that was there. ARGV[2] is the absolute expiry in ms, 0 for none; ARGV[3] "1" to replace an
/// answer too (a refresh).
const COMPLETE: &str = r"
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 1) ~= 'L' and ARGV[3] ~= '1' then return v end
if ARGV[2] == '0' then redis.call('SET', KEYS[1], ARGV[1])
else redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2]) end
return 1
";

/// Replaces stub ARGV[1] by stub ARGV[2] for ARGV[3] ms; 1 if it did.
const TAKE_OVER: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1
end
return 0
";

/// Deletes the key if it still holds stub ARGV[1]; 1 if it did.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

fn script(cell: &'static OnceLock<Script>, src: &str) -> &'static Script {
    cell.get_or_init(|| Script::new(src))
}

static COMPLETE_SCRIPT: OnceLock<Script> = OnceLock::new();
static TAKE_OVER_SCRIPT: OnceLock<Script> = OnceLock::new();
static RELEASE_SCRIPT: OnceLock<Script> = OnceLock::new();

/// How many keys a purge deletes per UNLINK.
const PURGE_BATCH: usize = 500;

impl Tier {
    fn conn(&self) -> Result<Arc<Data>, Failure> {
        // Callers check `is_up` first; recovery uses the connection before announcing it.
        self.data.load_full().ok_or(Failure::Timeout)
    }

    /// Runs `op` on the data connection within the timeout, reporting the outcome.
    async fn run<T, F, Fut>(&self, op: F) -> Result<T, Failure>
    where
        F: FnOnce(Arc<Data>) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let data = self.conn()?;
        let out = bounded(self.settings.shared_timeout, op(data)).await;
        match &out {
            Ok(_) => self.succeeded(),
            Err(f) => self.failed(f),
        }
        out
    }

    fn new_stub(&self) -> Stub {
        Stub {
            node: self.node.clone(),
            attempt: self.attempts.fetch_add(1, Ordering::Relaxed) + 1,
        }
    }

    fn px(&self) -> u64 {
        (self.lease.as_millis() as u64).max(1)
    }

    /// Tries to take the fleet's fill lease for `key`.
    pub async fn lead(&self, key: &Bytes) -> Result<Lead, Failure> {
        let stub = self.new_stub();
        let cmd = redis::cmd("SET")
            .arg(key.as_ref())
            .arg(stub.encode().as_ref())
            .arg("NX")
            .arg("PX")
            .arg(self.px())
            .arg("GET")
            .clone();
        let old: Option<Vec<u8>> = self.run(|d| async move { d.query(&cmd).await }).await?;
        Ok(match old.map(|v| Held::decode(Bytes::from(v))) {
            None => {
                lock(&self.held).insert(key.clone(), stub);
                Lead::Granted
            }
            Some(Held::Answer(a)) => Lead::Answer(a),
            Some(Held::Stub(s)) => Lead::Elsewhere(s),
        })
    }

    /// Replaces `old` (a stub of this node's, for an attempt that ended) by a new lease.
    pub async fn take_over(&self, key: &Bytes, old: &Stub) -> Result<bool, Failure> {
        let stub = self.new_stub();
        let (o, n, px) = (old.encode(), stub.encode(), self.px().to_string());
        let took: i64 = self
            .run(|d| async move {
                d.script(
                    script(&TAKE_OVER_SCRIPT, TAKE_OVER),
                    key,
                    &[&o, &n, px.as_bytes()],
                )
                .await
            })
            .await?;
        if took == 1 {
            lock(&self.held).insert(key.clone(), stub);
        }
        Ok(took == 1)
    }

    /// What the tier holds for `key`.
    pub async fn read(&self, key: &Bytes) -> Result<Option<Held>, Failure> {
        let cmd = redis::cmd("GET").arg(key.as_ref()).clone();
        let v: Option<Vec<u8>> = self.run(|d| async move { d.query(&cmd).await }).await?;
        Ok(v.map(|v| Held::decode(Bytes::from(v))))
    }

    /// Stores `answer` for `key` unless an answer is there (or whatever is there, if `replace`).
    pub async fn complete(
        &self,
        key: &Bytes,
        answer: &Answer,
        replace: bool,
    ) -> Result<Completed, Failure> {
        lock(&self.held).remove(key);
        let env = answer.encode();
        let at = answer.expire_at.unwrap_or(0).to_string();
        let flag: &[u8] = if replace { b"1" } else { b"0" };
        let out: Value = self
            .run(|d| async move {
                d.script(
                    script(&COMPLETE_SCRIPT, COMPLETE),
                    key,
                    &[&env, at.as_bytes(), flag],
                )
                .await
            })
            .await?;
        Ok(match out {
            Value::BulkString(v) => match Held::decode(Bytes::from(v)) {
                Held::Answer(a) => Completed::Existing(a),
                Held::Stub(_) => Completed::Stored,
            },
            _ => Completed::Stored,
        })
    }

    /// Gives up this node's lease on `key`, if it holds one (LLMABORT).
    pub async fn release(&self, key: &Bytes) -> Result<bool, Failure> {
        let Some(stub) = lock(&self.held).remove(key) else {
            return Ok(false);
        };
        let s = stub.encode();
        let n: i64 = self
            .run(|d| async move { d.script(script(&RELEASE_SCRIPT, RELEASE), key, &[&s]).await })
            .await?;
        Ok(n == 1)
    }

    /// Deletes `keys` on the tier; per key, whether it was there.
    pub async fn delete(&self, keys: &[Bytes]) -> Result<Vec<bool>, Failure> {
        let mut pipe = redis::pipe();
        for k in keys {
            pipe.cmd("DEL").arg(k.as_ref());
        }
        let counts: Vec<i64> = self
            .run(|d| async move {
                match d.as_ref().clone() {
                    Data::Single(mut c) => pipe.query_async(&mut c).await,
                    Data::Cluster(mut c) => pipe.query_async(&mut c).await,
                }
            })
            .await?;
        Ok(counts.into_iter().map(|n| n > 0).collect())
    }

    /// Deletes every key matching `pattern` on every master; returns the keys deleted.
    pub async fn purge(&self, pattern: &[u8]) -> Result<Vec<Bytes>, Failure> {
        let masters: Vec<_> = lock(&self.masters).clone();
        if !self.is_up() || masters.is_empty() {
            return Err(Failure::Timeout);
        }
        let mut deleted = Vec::new();
        for mut m in masters {
            let mut cursor: u64 = 0;
            loop {
                let scan = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(pattern)
                    .arg("COUNT")
                    .arg(1000)
                    .clone();
                let (next, keys): (u64, Vec<Vec<u8>>) = self.checked(
                    bounded(self.settings.shared_timeout, scan.query_async(&mut m)).await,
                )?;
                for batch in keys.chunks(PURGE_BATCH) {
                    // One UNLINK per key: a cluster master refuses keys of several slots at once.
                    let mut unlink = redis::pipe();
                    for k in batch {
                        unlink.cmd("UNLINK").arg(k).ignore();
                    }
                    let _: () = self.checked(
                        bounded(self.settings.shared_timeout, unlink.query_async(&mut m)).await,
                    )?;
                    deleted.extend(batch.iter().map(|k| Bytes::copy_from_slice(k)));
                }
                cursor = next;
                if cursor == 0 {
                    break;
                }
            }
        }
        Ok(deleted)
    }

    /// Empties every master (FLUSHALL).
    pub async fn flush(&self) -> Result<(), Failure> {
        let masters: Vec<_> = lock(&self.masters).clone();
        if !self.is_up() || masters.is_empty() {
            return Err(Failure::Timeout);
        }
        for mut m in masters {
            let cmd = redis::cmd("FLUSHALL");
            let _: () =
                self.checked(bounded(self.settings.shared_timeout, cmd.query_async(&mut m)).await)?;
        }
        Ok(())
    }

    fn checked<T>(&self, out: Result<T, Failure>) -> Result<T, Failure> {
        match &out {
            Ok(_) => self.succeeded(),
            Err(f) => self.failed(f),
        }
        out
    }
}
