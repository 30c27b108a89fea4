//! The accept loop, the connection limit, and graceful shutdown; and [`Shared`], the state every
//! connection sees.
//!
//! # Shutdown
//! SIGINT, SIGTERM or SHUTDOWN: the listener closes, each connection finishes the batch of
//! commands it is executing and sends its replies, blocked LLMGET callers are answered with a
//! `TRYAGAIN` error, persistence is flushed, and [`Server::run`] returns.

use crate::cache::{flight::Flights, Clock, Store, WriteError};
use crate::client::{ClientInfo, Clients};
use crate::cmd::{CmdStat, COMMANDS};
use crate::config::Config;
use crate::connection;
use crate::durability::{self, Durability};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tracing::{info, warn};

/// The Redis version llmcached reports to clients (HELLO, INFO): the Redis 7 behaviour it follows.
pub const REDIS_VERSION: &str = "7.2.4";

/// Server-wide counters for INFO stats.
#[derive(Debug, Default)]
pub struct ServerStats {
    pub total_connections_received: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub blocked_clients: AtomicU64,
}

/// State shared by every connection.
pub struct Shared {
    pub config: Config,
    pub store: Store,
    pub flights: Flights,
    pub clients: Clients,
    pub cmdstats: Box<[CmdStat]>,
    pub stats: ServerStats,
    pub started: Instant,
    pub run_id: String,
    /// True while the data set is loading: most commands answer `-LOADING`.
    pub loading: AtomicBool,
    /// The persistence engine, once the data set is loaded (none when purely in memory).
    pub durability: OnceLock<Arc<Durability>>,
    /// Unix seconds at start (LASTSAVE without persistence).
    pub started_unix_secs: u64,
    port: AtomicU16,
    shutdown: watch::Sender<bool>,
    shutdown_save: Mutex<Option<bool>>,
}

impl Shared {
    pub fn new(config: Config, clock: Clock) -> Shared {
        let store = Store::new(config.maxmemory, config.eviction, clock.clone());
        let flights = Flights::new(config.llm_lease);
        let (shutdown, _) = watch::channel(false);
        Shared {
            store,
            flights,
            clients: Clients::default(),
            cmdstats: COMMANDS.iter().map(|_| CmdStat::default()).collect(),
            stats: ServerStats::default(),
            started: Instant::now(),
            run_id: run_id(),
            // A server that persists starts out loading, until its data set is in memory.
            loading: AtomicBool::new(matches!(durability::options(&config), Ok(Some(_)) | Err(_))),
            durability: OnceLock::new(),
            started_unix_secs: clock.now_ms() / 1000,
            port: AtomicU16::new(config.port),
            shutdown,
            shutdown_save: Mutex::new(None),
            config,
        }
    }

    /// The port actually bound (differs from the configured one when that was 0).
    pub fn port(&self) -> u16 {
        self.port.load(Ordering::Relaxed)
    }

    pub fn is_loading(&self) -> bool {
        self.loading.load(Ordering::Relaxed)
    }

    /// CONFIG RESETSTAT
    pub fn reset_stats(&self) {
        for s in self.cmdstats.iter() {
            s.reset();
        }
        self.store.stats().reset();
        for c in [
            &self.stats.total_connections_received,
            &self.stats.rejected_connections,
            &self.stats.net_input_bytes,
            &self.stats.net_output_bytes,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }

    /// FLUSHDB / FLUSHALL: removes every key and wakes every follower waiting on a fill.
    pub fn flush(&self) -> Result<(), WriteError> {
        self.store.flush()?;
        self.flights
            .cancel_all("TRYAGAIN the keyspace was flushed while waiting; retry");
        Ok(())
    }

    /// Starts a graceful shutdown. `save`: `Some(false)` for SHUTDOWN NOSAVE.
    pub fn request_shutdown(&self, save: Option<bool>) {
        if let Ok(mut s) = self.shutdown_save.lock() {
            *s = save;
        }
        self.flights.close("TRYAGAIN server is shutting down");
        self.shutdown.send_replace(true);
    }

    pub fn shutdown_requested(&self) -> bool {
        *self.shutdown.borrow()
    }

    pub fn shutdown_receiver(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Resolves once every write applied so far is as durable as the fsync policy promises.
    /// The error is the whole Redis error line to send instead of the batch's replies.
    pub async fn durable(&self) -> Result<(), String> {
        match self.durability.get() {
            Some(d) => d.durable().await,
            None => Ok(()),
        }
    }

    /// The `INFO persistence` fields after `loading`.
    pub fn persistence_status(&self) -> Vec<(&'static str, String)> {
        if let Some(d) = self.durability.get() {
            return d.status_fields(self.store.clock().now_ms());
        }
        vec![
            ("rdb_changes_since_last_save", "0".into()),
            ("rdb_bgsave_in_progress", "0".into()),
            ("rdb_last_save_time", "0".into()),
            ("rdb_last_bgsave_status", "ok".into()),
            ("aof_enabled", "0".into()),
            ("aof_rewrite_in_progress", "0".into()),
            ("aof_last_bgrewrite_status", "ok".into()),
            ("aof_last_write_status", "ok".into()),
        ]
    }
}

fn run_id() -> String {
    use sha2::{Digest, Sha256};
    let seed = format!(
        "{:?}{}{:?}",
        std::time::SystemTime::now(),
        std::process::id(),
        Instant::now()
    );
    let digest = Sha256::digest(seed.as_bytes());
    digest[..20].iter().map(|b| format!("{b:02x}")).collect()
}

/// A bound server, ready to run.
pub struct Server {
    shared: Arc<Shared>,
    listener: TcpListener,
}

impl Server {
    /// Binds the configured address with a fresh clock.
    pub async fn bind(config: Config) -> io::Result<Server> {
        Server::bind_with_clock(config, Clock::new()).await
    }

    /// Binds the configured address; the store runs on `clock` (tests advance it).
    pub async fn bind_with_clock(config: Config, clock: Clock) -> io::Result<Server> {
        let listener = TcpListener::bind(SocketAddr::new(config.bind, config.port)).await?;
        let shared = Arc::new(Shared::new(config, clock));
        shared
            .port
            .store(listener.local_addr()?.port(), Ordering::Relaxed);
        Ok(Server { shared, listener })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Accepts connections until shutdown, then drains them.
    pub async fn run(self) -> io::Result<()> {
        let Server { shared, listener } = self;
        let limit = Arc::new(Semaphore::new(shared.config.maxclients));
        let mut shutdown = shared.shutdown_receiver();
        let mut tasks = JoinSet::new();
        // Clients are accepted while the data set loads; they get -LOADING until it is done.
        let persistent = shared.is_loading();
        let loader_shared = shared.clone();
        let mut loading = tokio::task::spawn_blocking(move || {
            let r = durability::open_and_load(&loader_shared);
            loader_shared.loading.store(false, Ordering::Relaxed);
            r
        });
        let mut loaded = !persistent;
        let maintenance = tokio::spawn(maintenance(shared.clone()));
        let mut failure = None;
        loop {
            tokio::select! {
                done = &mut loading, if !loaded => {
                    loaded = true;
                    match done {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => { failure = Some(e); break; }
                        Err(e) => { failure = Some(format!("loading failed: {e}")); break; }
                    }
                }
                accepted = listener.accept() => {
                    let (mut socket, addr) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // Out of file descriptors and the like: back off briefly, go on.
                            warn!("accept failed: {e}");
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    };
                    shared.stats.total_connections_received.fetch_add(1, Ordering::Relaxed);
                    let Ok(permit) = limit.clone().try_acquire_owned() else {
                        shared.stats.rejected_connections.fetch_add(1, Ordering::Relaxed);
                        tasks.spawn(async move {
                            let _ = socket.write_all(b"-ERR max number of clients reached\r\n").await;
                        });
                        continue;
                    };
                    let _ = socket.set_nodelay(true);
                    let laddr = socket.local_addr().unwrap_or(addr);
                    let info = Arc::new(ClientInfo::new(shared.clients.next_id(), addr, laddr));
                    let shared = shared.clone();
                    tasks.spawn(async move {
                        shared.clients.register(info.clone());
                        connection::serve(shared.clone(), socket, info.clone()).await;
                        shared.clients.unregister(info.id);
                        drop(permit);
                    });
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                _ = shutdown.changed() => break,
            }
        }
        drop(listener);
        info!("shutting down: draining {} connections", tasks.len());
        shared.flights.close("TRYAGAIN server is shutting down");
        // Connections finish their current batch and close; a stuck peer cannot hold us forever.
        let drain = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(10), drain)
            .await
            .is_err()
        {
            warn!("some connections did not close within 10s; closing them");
            tasks.abort_all();
        }
        maintenance.abort();
        shared.store.run_maintenance();
        if let Some(d) = shared.durability.get() {
            let waiting = d.clone();
            let _ = tokio::task::spawn_blocking(move || {
                waiting.finish_background(Duration::from_secs(20))
            })
            .await;
            let save = shared.shutdown_save.lock().ok().and_then(|s| *s);
            // As Redis: a snapshot on the way out when save points are configured (or SAVE was
            // asked for), unless NOSAVE. With the log on, flushing it is what matters.
            let snapshot =
                save.unwrap_or(!shared.config.save.is_empty() && !shared.config.appendonly);
            // After a log write error only a base from memory keeps what the log missed.
            let snapshot = snapshot || d.needs_base();
            if snapshot {
                if let Err(e) = d.rewrite(&shared.store) {
                    warn!("final snapshot failed: {e}");
                }
            }
            if let Err(e) = d.shutdown() {
                warn!("persistence shutdown: {e}");
            }
        }
        if let Some(e) = failure {
            return Err(io::Error::other(e));
        }
        info!("bye");
        Ok(())
    }
}

/// Runs moka's maintenance and lease expiry in the background, so evictions and expirations are
/// counted promptly and expired leases promote a follower even when no command touches them.
async fn maintenance(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let s = shared.clone();
        // moka's maintenance can take a while on a big cache: keep it off the async workers.
        let _ = tokio::task::spawn_blocking(move || s.store.run_maintenance()).await;
        if let Some(d) = shared.durability.get() {
            if d.rewrite_due(shared.store.clock().now_ms()) {
                durability::spawn_rewrite(&shared);
            }
        }
    }
}
