//! Keeping the tier connected: the first connection, the breaker's probe after a failure, the
//! tracking connections (one per master, re-made when the cluster's masters change), and what
//! recovery does (drop the copies, write back the answers kept meanwhile).

use super::envelope::Answer;
use super::link::{self, bounded, Data};
use super::ops::Completed;
use super::{lock, Tier};
use crate::cache::Value;
use redis::PushInfo;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How often a cluster tier's masters are compared with the ones tracked (resharding, failover).
const TOPOLOGY_EVERY: Duration = Duration::from_secs(2);
/// PINGs tried before the tier counts as unreachable.
const PROBES: usize = 3;

impl Tier {
    /// Connects in the background and keeps the tier connected for as long as the process runs.
    /// The node serves alone until the first connection succeeds.
    /// Stops when `shutdown` turns true.
    pub fn start(self: &Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let tier = self.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = tier.clone().supervise() => {}
                _ = shutdown.wait_for(|down| *down) => {}
            }
            tier.set_up(false);
            lock(&tier.masters).clear();
            tier.data.store(None);
        });
    }

    async fn supervise(self: Arc<Self>) {
        let mut ever_up = false;
        // Logged when it changes, not on every retry.
        let mut last_error = String::new();
        loop {
            let (tx, rx) = mpsc::unbounded_channel();
            match self.connect(tx).await {
                Ok(masters) => {
                    if ever_up {
                        self.stats
                            .tracking_reconnects
                            .fetch_add(1, Ordering::Relaxed);
                    }
                    ever_up = true;
                    last_error.clear();
                    tracing::info!(
                        "shared tier up: {} ({} master{})",
                        self.settings.shared_tier.join(","),
                        masters,
                        if masters == 1 { "" } else { "s" }
                    );
                    self.recovered().await;
                    self.serve(rx).await;
                }
                Err(e) => {
                    if e != last_error {
                        // CLIENT TRACKING or EVAL refused (a managed service) shows here too.
                        tracing::warn!("shared tier not usable, serving from this node alone: {e}");
                        last_error = e;
                    }
                    self.set_up(false);
                }
            }
            lock(&self.masters).clear();
            tokio::time::sleep(self.settings.shared_retry).await;
        }
    }

    /// Connects the data connection and a tracking connection per master; the number of masters.
    async fn connect(
        self: &Arc<Self>,
        pushes: mpsc::UnboundedSender<(usize, PushInfo)>,
    ) -> Result<usize, String> {
        let s = &self.settings;
        let timeout = s.shared_timeout.max(Duration::from_secs(1));
        let data = match self.data.load_full() {
            Some(d) => d,
            None => {
                let d = bounded(
                    timeout,
                    Data::connect(&s.shared_tier, s.shared_tier_cluster, timeout),
                )
                .await
                .map_err(|e| e.to_string())?;
                let d = Arc::new(d);
                self.data.store(Some(d.clone()));
                d
            }
        };
        // The probe. A connection that broke while the tier was away fails its first command
        // and reconnects: give it a few tries.
        let mut probe = Err(link::Failure::Timeout);
        for _ in 0..PROBES {
            probe = bounded(timeout, data.query::<String>(&redis::cmd("PING"))).await;
            if probe.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        probe.map_err(|e| format!("PING: {e}"))?;
        let seed = s.shared_tier.first().cloned().unwrap_or_default();
        let infos = bounded(timeout, data.masters(&seed))
            .await
            .map_err(|e| e.to_string())?;
        if infos.is_empty() {
            return Err("the tier names no master".into());
        }
        let mut masters = Vec::with_capacity(infos.len());
        for (i, info) in infos.into_iter().enumerate() {
            let addr = link::address(&info);
            let mut m = bounded(timeout, link::master(info, i, pushes.clone(), timeout))
                .await
                .map_err(|e| format!("{addr}: {e}"))?;
            let on = redis::cmd("CLIENT")
                .arg("TRACKING")
                .arg("ON")
                .arg("BCAST")
                .clone();
            let _: () = bounded(timeout, on.query_async(&mut m))
                .await
                .map_err(|e| format!("CLIENT TRACKING on {addr}: {e}"))?;
            masters.push(m);
        }
        let n = masters.len();
        *lock(&self.masters) = masters;
        Ok(n)
    }

    /// The tier is back (or reached for the first time): copies made before may have missed
    /// invalidations; answers kept alone go back to the tier.
    async fn recovered(&self) {
        self.drop_copies();
        self.timeouts_in_row.store(0, Ordering::Relaxed);
        self.write_back().await;
        self.set_up(true);
    }

    /// Writes back the answers stored while the tier was down, each with NX (an answer another
    /// node stored meanwhile wins) and its own expiry.
    async fn write_back(&self) {
        loop {
            let Some(key) = lock(&self.writeback).pop_front() else {
                return;
            };
            let Some(entry) = self.store.get(&key) else {
                continue;
            };
            if entry.is_near_copy() || !matches!(entry.value, Value::Str(_)) {
                continue;
            }
            let Some(answer) = Answer::of(&entry) else {
                continue;
            };
            let version = self.version(&key);
            match self.complete(&key, &answer, false).await {
                Ok(done) => {
                    self.stats.written_back.fetch_add(1, Ordering::Relaxed);
                    if let Completed::Existing(other) = done {
                        // Another node's answer got there first: take it, as LLMSETNX would.
                        self.install(&key, &other, version);
                    }
                }
                Err(e) => {
                    tracing::debug!("write-back stopped: {e}");
                    lock(&self.writeback).push_front(key);
                    return;
                }
            }
        }
    }

    /// Applies pushes until the tier fails or a cluster's masters change.
    async fn serve(self: &Arc<Self>, mut rx: mpsc::UnboundedReceiver<(usize, PushInfo)>) {
        let seed = self
            .settings
            .shared_tier
            .first()
            .cloned()
            .unwrap_or_default();
        let mut topology = tokio::time::interval(TOPOLOGY_EVERY);
        topology.tick().await;
        loop {
            tokio::select! {
                push = rx.recv() => match push {
                    Some((_, p)) => self.on_push(p),
                    None => return,
                },
                _ = self.failed.notified() => {
                    if !self.is_up() {
                        return;
                    }
                }
                _ = topology.tick(), if self.settings.shared_tier_cluster => {
                    let Some(data) = self.data.load_full() else { return };
                    let timeout = self.settings.shared_timeout;
                    let now = bounded(timeout, data.masters(&seed)).await;
                    let tracked = lock(&self.masters).len();
                    match now {
                        Ok(m) if m.len() == tracked => {}
                        Ok(_) => {
                            tracing::info!("shared tier's masters changed: tracking again");
                            return;
                        }
                        Err(e) => self.failed(&e),
                    }
                }
            }
        }
    }
}
