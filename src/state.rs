//! The state every connection and command sees: [`Shared`].
//!
//! This module sits below the commands, the connection and the accept loop: it imports the
//! store, the flights, the client registry, the configuration and the persistence glue, and
//! nothing that imports it. So a handler can be run (and unit-tested) with a `Shared` and a
//! client, without a socket or a server; see [`Shared::new`].
//!
//! # Concurrency
//! Everything here is shared across connections: counters are atomics, the configuration is
//! swapped whole ([`Shared::config`] hands out a snapshot, [`Shared::apply_config`] installs a new
//! one), and the loading and shutdown states are watch channels that tests and connections
//! await instead of polling.

use crate::acl::Acl;
use crate::cache::watch::Watches;
use crate::cache::{flight::Flights, Clock, Observers, Store, WriteError};
use crate::client::Clients;
use crate::config::Config;
use crate::durability::Durability;
use crate::observe::Observe;
use crate::search::Registry;
use crate::tier::Tier;
use crate::types::waits::KeyWaits;
use arc_swap::ArcSwap;
use bytes::Bytes;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;
use tokio::sync::watch;

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

/// Per-command counters for `INFO commandstats`, one per row of the command table.
#[derive(Debug, Default)]
pub struct CmdStat {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    pub rejected: AtomicU64,
    pub failed: AtomicU64,
}

impl CmdStat {
    pub fn reset(&self) {
        for c in [&self.calls, &self.usec, &self.rejected, &self.failed] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// State shared by every connection.
pub struct Shared {
    config: ArcSwap<Config>,
    pub store: Arc<Store>,
    pub flights: Flights,
    /// Clients blocked on list and sorted-set pops, per key (woken through the store's observer).
    pub key_waits: Arc<KeyWaits>,
    /// CLIENT PAUSE: the commands it holds wait in their connections.
    pub pause: crate::pause::Pause,
    /// The search indexes (FT.*), following the store as its observer.
    pub search: Arc<Registry>,
    /// The keys connections WATCH (raised by every change, through the store's observer).
    pub watches: Arc<Watches>,
    /// Lua scripts: their cache, the Lua state and the gate that makes a script atomic.
    pub scripts: crate::script::Scripts,
    /// The shared tier this node keeps its answers in with other nodes (`--shared-tier`).
    pub tier: Option<Arc<Tier>>,
    /// The sentence-embedding model (`--embedding-model`), once the server has loaded it.
    pub embedder: OnceLock<Arc<crate::embed::Embedder>>,
    pub clients: Clients,
    /// ACL users (the `default` one from `requirepass` until the commands layer installs the
    /// configured users).
    pub acl: Acl,
    /// The command table's full names (`get`, `config|get`), by row index: what
    /// `cmdstats` and `CLIENT LIST`'s `cmd=` are labelled with.
    pub command_names: &'static [&'static str],
    /// Counters per command-table row, indexed as `command_names`.
    pub cmdstats: Box<[CmdStat]>,
    /// Latency histograms, the slow log, latency events, error counts (SLOWLOG, LATENCY, INFO).
    pub observe: Observe,
    pub stats: ServerStats,
    pub started: Instant,
    pub run_id: String,
    /// True while the data set is loading: most commands answer `-LOADING`.
    loading: watch::Sender<bool>,
    /// The persistence engine, once the data set is loaded (none when purely in memory).
    pub durability: OnceLock<Arc<Durability>>,
    /// Unix seconds at start (LASTSAVE without persistence).
    pub started_unix_secs: u64,
    port: AtomicU16,
    shutdown: watch::Sender<bool>,
    shutdown_save: Mutex<Option<bool>>,
    log_level: OnceLock<LogLevelHook>,
    tls_reload: OnceLock<TlsReloadHook>,
}

/// Rebuilds the TLS port's configuration from new settings (CONFIG SET of a `tls-*` setting).
pub type TlsReloadHook =
    Box<dyn Fn(&crate::config::TlsSettings) -> Result<(), String> + Send + Sync>;

/// Changes the process's log filter to a `tracing` directive (`info`, `warn`, ...).
pub type LogLevelHook = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

impl Shared {
    /// State for `config` on `clock`, with one counter per name in `command_names`.
    ///
    /// A server that persists starts out loading, until [`Shared::finish_loading`].
    pub fn new(config: Config, clock: Clock, command_names: &'static [&'static str]) -> Shared {
        let store = Arc::new(Store::new(config.maxmemory, config.eviction, clock.clone()));
        store.codec().set_policy(config.compression);
        let flights = Flights::new(config.llm_lease);
        let (shutdown, _) = watch::channel(false);
        let (loading, _) = watch::channel(config.appendonly || !config.save.is_off());
        let search = Arc::new(Registry::default());
        if config.appendonly || !config.save.is_off() {
            // Definitions load before the data, so loading the hashes rebuilds the vectors.
            if let Err(e) = search.attach_dir(config.dir.clone()) {
                tracing::warn!("search index definitions not loaded: {e}");
            }
        }
        let watches = Arc::new(Watches::default());
        let run_id = run_id();
        let tier = (!config.scale.shared_tier.is_empty()).then(|| {
            Arc::new(Tier::new(
                config.scale.clone(),
                &run_id,
                config.llm_lease,
                store.clone(),
            ))
        });
        let key_waits = Arc::new(KeyWaits::default());
        store.set_observer(Arc::new(Observers(vec![
            search.clone(),
            watches.clone(),
            key_waits.clone(),
        ])));
        Shared {
            store,
            flights,
            key_waits,
            pause: Default::default(),
            search,
            watches,
            scripts: crate::script::Scripts::default(),
            tier,
            embedder: OnceLock::new(),
            clients: Clients::default(),
            acl: Acl::new(config.requirepass.as_ref().map(|p| p.as_bytes())),
            command_names,
            cmdstats: command_names.iter().map(|_| CmdStat::default()).collect(),
            observe: Observe::new(command_names, &config.observe),
            stats: ServerStats::default(),
            started: Instant::now(),
            run_id,
            loading,
            durability: OnceLock::new(),
            started_unix_secs: clock.now_ms() / 1000,
            port: AtomicU16::new(config.port),
            shutdown,
            shutdown_save: Mutex::new(None),
            log_level: OnceLock::new(),
            tls_reload: OnceLock::new(),
            config: ArcSwap::from_pointee(config),
        }
    }

    /// The settings in force now: a snapshot, unaffected by a later CONFIG SET.
    pub fn config(&self) -> Arc<Config> {
        self.config.load_full()
    }

    /// Makes `next` the settings in force (CONFIG SET), applying what lives outside the
    /// settings first: the store's budget and policy, the lease length, the log level. `next`
    /// has been validated whole; the only refusal left is a change the state cannot make now.
    pub fn apply_config(&self, next: Config) -> Result<(), String> {
        let now = self.config();
        let store_changes = next.maxmemory != now.maxmemory || next.eviction != now.eviction;
        let persisting = now.appendonly || !now.save.is_off();
        if !persisting && !next.save.is_off() {
            return Err("persistence was off at start (appendonly no, save \"\"): restart with --save to take snapshots".into());
        }
        if store_changes && self.is_loading() {
            return Err("the budget cannot change while the data set is loading".into());
        }
        if next.loglevel != now.loglevel {
            if let Some(set_level) = self.log_level.get() {
                set_level(next.tracing_filter())?;
            }
        }
        if store_changes {
            self.store.resize(next.maxmemory, next.eviction);
        }
        self.store.codec().set_policy(next.compression);
        if next.tls != now.tls {
            if let Some(reload) = self.tls_reload.get() {
                reload(&next.tls)?;
            }
        }
        if next.requirepass != now.requirepass {
            self.acl
                .set_default_password(next.requirepass.as_ref().map(|p| p.as_bytes()));
        }
        if next.acl.log_max_len != now.acl.log_max_len {
            self.acl.log.set_max_len(next.acl.log_max_len);
        }
        if next.llm_lease != now.llm_lease {
            self.flights.set_lease(next.llm_lease);
        }
        if next.appendfsync != now.appendfsync || next.save != now.save {
            if let Some(d) = self.durability.get() {
                d.reconfigure(next.appendfsync, &next.save);
            }
        }
        self.observe.configure(&next.observe);
        self.config.store(Arc::new(next));
        Ok(())
    }

    /// Installs the function that changes the log filter (`loglevel`); the binary sets it once
    /// it has set up logging.
    pub fn set_log_level_hook(&self, hook: LogLevelHook) {
        let _ = self.log_level.set(hook);
    }

    /// Installs the TLS reload; the server sets it when it serves a TLS port.
    pub fn set_tls_reload_hook(&self, hook: TlsReloadHook) {
        let _ = self.tls_reload.set(hook);
    }

    /// The port actually bound (differs from the configured one when that was 0).
    pub fn port(&self) -> u16 {
        self.port.load(Ordering::Relaxed)
    }

    pub fn set_port(&self, port: u16) {
        self.port.store(port, Ordering::Relaxed);
    }

    pub fn is_loading(&self) -> bool {
        *self.loading.borrow()
    }

    /// Ends the loading state: commands stop answering `-LOADING`.
    pub fn finish_loading(&self) {
        self.loading.send_replace(false);
    }

    /// Resolves once the data set is loaded (at once when it is).
    pub async fn loaded(&self) {
        let mut rx = self.loading.subscribe();
        // The sender lives as long as `self`, so `wait_for` cannot fail while we hold `&self`.
        let _ = rx.wait_for(|loading| !*loading).await;
    }

    /// CONFIG RESETSTAT
    pub fn reset_stats(&self) {
        for s in self.cmdstats.iter() {
            s.reset();
        }
        self.store.stats().reset();
        self.observe.reset_stats();
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

    /// FLUSHDB: removes every key of database `db` and wakes every follower waiting on a fill
    /// (of any database: they retry).
    pub fn flush_db(&self, db: usize) -> Result<(), WriteError> {
        self.store.flush_db(db)?;
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

    /// What SHUTDOWN asked for: `Some(false)` for NOSAVE, `Some(true)` for SAVE.
    pub fn shutdown_save(&self) -> Option<bool> {
        self.shutdown_save.lock().ok().and_then(|s| *s)
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

/// The blocked clients follow the store: a key that takes a value may serve them (see the waits
/// module). Called under the key's stripe lock; waking takes only the registry's lock.
impl crate::cache::Observer for KeyWaits {
    fn put(&self, key: &Bytes, _: &crate::cache::Entry) {
        self.wake(key);
    }

    fn remove(&self, _: &[u8]) {}

    fn flush_all(&self) {}

    fn extra_weight(&self, _: &[u8], _: &crate::cache::Entry) -> usize {
        0
    }
}
