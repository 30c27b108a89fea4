//! The connections to the shared tier: one for data (multiplexed; a cluster connection that
//! follows MOVED and ASK when the tier is a Redis Cluster) and, per master, one RESP3
//! connection that receives the tier's invalidations and runs the whole-tier commands (SCAN,
//! FLUSHALL).
//!
//! Every call is bounded by the tier timeout: an answer later than that is a failure, and the
//! caller decides what a failure means (see the breaker in [`super::health`]).

use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::cluster_async::ClusterConnection;
use redis::{
    AsyncConnectionConfig, Client, Cmd, ConnectionAddr, ConnectionInfo, FromRedisValue,
    IntoConnectionInfo, ProtocolVersion, PushInfo, RedisError, RedisResult, Value,
};
use std::time::Duration;
use tokio::sync::mpsc;

/// Why a tier call failed.
#[derive(Debug)]
pub enum Failure {
    /// No answer within the timeout.
    Timeout,
    /// The connection failed or the tier said it cannot serve (`CLUSTERDOWN`, `LOADING`, ...).
    Down(RedisError),
    /// The tier answered with an error that is about the command, not the tier.
    Refused(RedisError),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Timeout => f.write_str("timed out"),
            Failure::Down(e) | Failure::Refused(e) => write!(f, "{e}"),
        }
    }
}

impl From<RedisError> for Failure {
    fn from(e: RedisError) -> Self {
        if e.is_timeout() {
            // The crate's own response timeout: one slow reply is not an outage.
            return Failure::Timeout;
        }
        let down = e.is_io_error()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
            || matches!(
                e.code(),
                Some("CLUSTERDOWN" | "LOADING" | "MISCONF" | "MASTERDOWN" | "TRYAGAIN")
            );
        if down {
            Failure::Down(e)
        } else {
            Failure::Refused(e)
        }
    }
}

/// Bounds `fut` by `timeout`.
pub async fn bounded<T>(
    timeout: Duration,
    fut: impl std::future::Future<Output = RedisResult<T>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r.map_err(Failure::from),
        Err(_) => Failure::Timeout.into_err(),
    }
}

impl Failure {
    fn into_err<T>(self) -> Result<T, Failure> {
        Err(self)
    }
}

/// The data connection.
#[derive(Clone)]
pub enum Data {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Data {
    /// Connects to the tier at `urls` (one URL, or a cluster's seeds).
    pub async fn connect(urls: &[String], cluster: bool, timeout: Duration) -> RedisResult<Data> {
        if cluster {
            let client = redis::cluster::ClusterClientBuilder::new(urls.to_vec())
                .connection_timeout(timeout)
                .response_timeout(timeout)
                .retries(2)
                .build()?;
            Ok(Data::Cluster(client.get_async_connection().await?))
        } else {
            let url = urls.first().map(String::as_str).unwrap_or_default();
            let client = Client::open(url)?;
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(timeout))
                .set_response_timeout(Some(timeout))
                .set_number_of_retries(1);
            Ok(Data::Single(
                ConnectionManager::new_with_config(client, config).await?,
            ))
        }
    }

    /// Sends `cmd` and reads its reply as `T`.
    pub async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> RedisResult<T> {
        match self.clone() {
            Data::Single(mut c) => cmd.query_async(&mut c).await,
            Data::Cluster(mut c) => cmd.query_async(&mut c).await,
        }
    }

    /// Runs a script (EVALSHA, loading it on NOSCRIPT).
    pub async fn script<T: FromRedisValue>(
        &self,
        script: &redis::Script,
        key: &[u8],
        args: &[&[u8]],
    ) -> RedisResult<T> {
        let mut inv = script.key(key);
        for a in args {
            inv.arg(*a);
        }
        match self.clone() {
            Data::Single(mut c) => inv.invoke_async(&mut c).await,
            Data::Cluster(mut c) => inv.invoke_async(&mut c).await,
        }
    }

    /// The masters' addresses: the one server, or every master a cluster's slot map names.
    pub async fn masters(&self, seed: &str) -> RedisResult<Vec<ConnectionInfo>> {
        let seed = seed.into_connection_info()?;
        let Data::Cluster(_) = self else {
            return Ok(vec![seed]);
        };
        let slots: Value = self
            .query(&redis::cmd("CLUSTER").arg("SLOTS").clone())
            .await?;
        let mut masters: Vec<(String, u16)> = Vec::new();
        if let Value::Array(ranges) = slots {
            for range in ranges {
                let Value::Array(parts) = range else { continue };
                let Some(Value::Array(node)) = parts.get(2) else {
                    continue;
                };
                let host: Option<String> = node
                    .first()
                    .and_then(|v| String::from_redis_value(v.clone()).ok());
                let port: Option<u16> = node
                    .get(1)
                    .and_then(|v| u16::from_redis_value(v.clone()).ok());
                if let (Some(host), Some(port)) = (host, port) {
                    if !masters.contains(&(host.clone(), port)) {
                        masters.push((host, port));
                    }
                }
            }
        }
        masters.sort();
        Ok(masters
            .into_iter()
            .map(|(host, port)| {
                let addr = match seed.addr() {
                    ConnectionAddr::TcpTls {
                        insecure,
                        tls_params,
                        ..
                    } => ConnectionAddr::TcpTls {
                        host,
                        port,
                        insecure: *insecure,
                        tls_params: tls_params.clone(),
                    },
                    _ => ConnectionAddr::Tcp(host, port),
                };
                seed.clone().set_addr(addr)
            })
            .collect())
    }
}

/// A master's RESP3 connection whose pushes (invalidations, and the library's notice that the
/// connection dropped) go to `pushes`, tagged with `index`.
pub async fn master(
    info: ConnectionInfo,
    index: usize,
    pushes: mpsc::UnboundedSender<(usize, PushInfo)>,
    timeout: Duration,
) -> RedisResult<MultiplexedConnection> {
    let redis_settings = info
        .redis_settings()
        .clone()
        .set_protocol(ProtocolVersion::RESP3);
    let client = Client::open(info.set_redis_settings(redis_settings))?;
    let (tx, mut rx) = mpsc::unbounded_channel::<PushInfo>();
    tokio::spawn(async move {
        while let Some(p) = rx.recv().await {
            if pushes.send((index, p)).is_err() {
                break;
            }
        }
    });
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_push_sender(tx);
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

/// The address of a master, as `host:port`, for logs.
pub fn address(info: &ConnectionInfo) -> String {
    match info.addr() {
        ConnectionAddr::Tcp(h, p)
        | ConnectionAddr::TcpTls {
            host: h, port: p, ..
        } => {
            format!("{h}:{p}")
        }
        ConnectionAddr::Unix(p) => p.display().to_string(),
        #[allow(unreachable_patterns)]
        _ => String::from("?"),
    }
}
