//! The scale-out settings: the shared tier (a Redis or Valkey that several llmcached nodes keep
//! their answers in) and the emulated cluster mode (one node answering CLUSTER as the owner of
//! every slot).
//!
//! Rows of [`super::SETTINGS`], with the values they set gathered in [`ScaleConfig`]
//! (`Config::scale`). None can change while the server runs: the tier's connections and the
//! cluster identity are made once, at start.

use super::super::values::{self, Reason};
use super::Setting;
use std::net::IpAddr;
use std::time::Duration;

/// Whether this node answers CLUSTER commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterMode {
    /// Cluster support disabled, as a standalone Redis.
    No,
    /// One node that owns all 16384 slots, for cluster-aware clients.
    Emulated,
}

/// What the scale-out rows set.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleConfig {
    /// `redis://` or `rediss://` URLs of the shared tier; empty = no tier. Several are the seeds
    /// of a cluster.
    pub shared_tier: Vec<String>,
    /// The tier is a Redis or Valkey Cluster.
    pub shared_tier_cluster: bool,
    /// One tier operation taking longer than this counts as a failure.
    pub shared_timeout: Duration,
    /// How often a node waiting on another node's lease reads the key again (the wake-up's
    /// guarantee when the invalidation that should wake it is lost).
    pub shared_poll: Duration,
    /// Longest a copy of a tier answer lives in this node's store without being read again from
    /// the tier.
    pub shared_near_ttl: Duration,
    /// How long the tier is left alone after a failure before a PING probes it.
    pub shared_retry: Duration,
    pub cluster_mode: ClusterMode,
    /// The address emulated cluster mode announces; `None` = the bind address.
    pub cluster_announce_ip: Option<IpAddr>,
    /// The port it announces; 0 = the port served.
    pub cluster_announce_port: u16,
}

impl Default for ScaleConfig {
    fn default() -> Self {
        ScaleConfig {
            shared_tier: Vec::new(),
            shared_tier_cluster: false,
            shared_timeout: Duration::from_millis(200),
            shared_poll: Duration::from_millis(500),
            shared_near_ttl: Duration::from_secs(300),
            shared_retry: Duration::from_millis(1000),
            cluster_mode: ClusterMode::No,
            cluster_announce_ip: None,
            cluster_announce_port: 0,
        }
    }
}

/// Comma- or space-separated `redis://` / `rediss://` URLs.
fn urls(v: &[u8]) -> Result<Vec<String>, Reason> {
    let text = values::utf8(v).ok_or("argument must be redis:// or rediss:// URLs")?;
    let list: Vec<String> = text
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    match list
        .iter()
        .find(|u| !(u.starts_with("redis://") || u.starts_with("rediss://")))
    {
        Some(bad) => Err(format!("'{bad}' is not a redis:// or rediss:// URL")),
        None => Ok(list),
    }
}

fn millis(v: &[u8], min: i128) -> Result<Duration, Reason> {
    let ms: u64 = values::int(v, min, i64::MAX as i128)?;
    Ok(Duration::from_millis(ms))
}

pub const SHARED_TIER: Setting = Setting {
    name: "shared-tier",
    flag: true,
    env: "LLMCACHED_SHARED_TIER",
    value_name: "URLS",
    default: "",
    help: "A Redis or Valkey that this node shares answers and fill leases with, as redis:// or rediss:// URLs separated by commas (several are a cluster's seeds); empty means no shared tier.",
    mutable: false,
    apply: |c, v| {
        c.scale.shared_tier = urls(v)?;
        Ok(())
    },
    show: |c| c.scale.shared_tier.join(",").into_bytes(),
};

pub const SHARED_TIER_CLUSTER: Setting = Setting {
    name: "shared-tier-cluster",
    flag: true,
    env: "LLMCACHED_SHARED_TIER_CLUSTER",
    value_name: "yes|no",
    default: "no",
    help: "The shared tier is a Redis or Valkey Cluster (keys are routed by slot, invalidations read from every master).",
    mutable: false,
    apply: |c, v| {
        c.scale.shared_tier_cluster = values::yes_no(v)?;
        Ok(())
    },
    show: |c| values::show_yes_no(c.scale.shared_tier_cluster),
};

pub const SHARED_TIMEOUT_MS: Setting = Setting {
    name: "shared-timeout-ms",
    flag: true,
    env: "LLMCACHED_SHARED_TIMEOUT_MS",
    value_name: "MILLISECONDS",
    default: "200",
    help: "A shared-tier operation that takes longer than this many milliseconds counts as a failure (the tier is then treated as down).",
    mutable: false,
    apply: |c, v| {
        c.scale.shared_timeout = millis(v, 1)?;
        Ok(())
    },
    show: |c| values::show(c.scale.shared_timeout.as_millis() as u64),
};

pub const SHARED_POLL_MS: Setting = Setting {
    name: "shared-poll-ms",
    flag: true,
    env: "LLMCACHED_SHARED_POLL_MS",
    value_name: "MILLISECONDS",
    default: "500",
    help: "How often a node waiting on another node's fill reads the key again, should the tier's notice of the answer be lost.",
    mutable: false,
    apply: |c, v| {
        c.scale.shared_poll = millis(v, 1)?;
        Ok(())
    },
    show: |c| values::show(c.scale.shared_poll.as_millis() as u64),
};

pub const SHARED_NEAR_TTL: Setting = Setting {
    name: "shared-near-ttl",
    flag: true,
    env: "LLMCACHED_SHARED_NEAR_TTL",
    value_name: "SECONDS",
    default: "300",
    help: "Seconds a copy of a shared answer lives in this node before it is read from the tier again (the bound on staleness should an invalidation be lost).",
    mutable: false,
    apply: |c, v| {
        let s: u64 = values::int(v, 1, (i64::MAX / 1000) as i128)?;
        c.scale.shared_near_ttl = Duration::from_secs(s);
        Ok(())
    },
    show: |c| values::show(c.scale.shared_near_ttl.as_secs()),
};

pub const SHARED_RETRY_MS: Setting = Setting {
    name: "shared-retry-ms",
    flag: true,
    env: "LLMCACHED_SHARED_RETRY_MS",
    value_name: "MILLISECONDS",
    default: "1000",
    help: "After a shared-tier failure, how many milliseconds the node works alone before it probes the tier again.",
    mutable: false,
    apply: |c, v| {
        c.scale.shared_retry = millis(v, 1)?;
        Ok(())
    },
    show: |c| values::show(c.scale.shared_retry.as_millis() as u64),
};

pub const CLUSTER_MODE: Setting = Setting {
    name: "cluster-mode",
    flag: true,
    env: "LLMCACHED_CLUSTER_MODE",
    value_name: "no|emulated",
    default: "no",
    help: "emulated: answer CLUSTER commands as a one-node cluster that owns all 16384 slots, so cluster-aware clients can use this node.",
    mutable: false,
    apply: |c, v| {
        c.scale.cluster_mode = values::one_of(
            v,
            &[("no", ClusterMode::No), ("emulated", ClusterMode::Emulated)],
            "no, emulated",
        )?;
        Ok(())
    },
    show: |c| match c.scale.cluster_mode {
        ClusterMode::No => b"no".to_vec(),
        ClusterMode::Emulated => b"emulated".to_vec(),
    },
};

pub const CLUSTER_ANNOUNCE_IP: Setting = Setting {
    name: "cluster-announce-ip",
    flag: true,
    env: "LLMCACHED_CLUSTER_ANNOUNCE_IP",
    value_name: "ADDR",
    default: "",
    help: "The address CLUSTER SLOTS, SHARDS and NODES give clients in emulated cluster mode; empty means the bind address (set it when binding 0.0.0.0).",
    mutable: false,
    apply: |c, v| {
        c.scale.cluster_announce_ip = if v.is_empty() {
            None
        } else {
            Some(values::ip(v)?)
        };
        Ok(())
    },
    show: |c| {
        c.scale
            .cluster_announce_ip
            .map_or_else(Vec::new, values::show)
    },
};

pub const CLUSTER_ANNOUNCE_PORT: Setting = Setting {
    name: "cluster-announce-port",
    flag: true,
    env: "LLMCACHED_CLUSTER_ANNOUNCE_PORT",
    value_name: "PORT",
    default: "0",
    help: "The port emulated cluster mode announces; 0 means the port served.",
    mutable: false,
    apply: |c, v| {
        c.scale.cluster_announce_port = values::int(v, 0, 65535)?;
        Ok(())
    },
    show: |c| values::show(c.scale.cluster_announce_port),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_tier_takes_urls_separated_by_commas() {
        assert_eq!(
            urls(b"redis://a:1,rediss://b:2").unwrap(),
            vec!["redis://a:1".to_string(), "rediss://b:2".to_string()]
        );
        assert!(urls(b"").unwrap().is_empty());
        assert!(urls(b"http://a").unwrap_err().contains("http://a"));
    }
}
