//! `INFO` in Redis's `field:value` format, and `CLIENT LIST` lines.
//!
//! Field names are Redis's wherever Redis has the field, so redis_exporter, ioredis's ready check
//! (`loading:0`), HAProxy's `role:master` check and dashboards read them unchanged. The `llm`
//! section carries the LLMSTATS figures.

use crate::client::ClientInfo;
use crate::config::ClusterMode;
use crate::state::{Shared, REDIS_VERSION};
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
    "llm",
    "shared",
];

/// Every section, in Redis 7.0's order (`all`): the default ones with commandstats and
/// latencystats before cluster.
const ALL_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
    "llm",
    "shared",
];

/// Renders the requested sections (`[]` = default; `all`, `everything`, `default` as in Redis).
pub fn render(shared: &Shared, requested: &[String]) -> String {
    let mut wanted: Vec<&str> = Vec::new();
    if requested.is_empty() {
        wanted.extend(DEFAULT_SECTIONS);
    }
    for r in requested {
        match r.as_str() {
            "default" => wanted.extend(DEFAULT_SECTIONS),
            "all" | "everything" => wanted.extend(ALL_SECTIONS),
            other => {
                if let Some(s) = ALL_SECTIONS.iter().find(|s| **s == other) {
                    wanted.push(s);
                }
            }
        }
    }
    let mut seen = Vec::new();
    let mut out = String::new();
    for s in wanted {
        if seen.contains(&s) {
            continue;
        }
        seen.push(s);
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        section(shared, s, &mut out);
    }
    out
}

macro_rules! line {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
        $out.push_str("\r\n");
    }};
}

/// Emulated cluster mode: INFO says `redis_mode:cluster` and `cluster_enabled:1`, as a
/// cluster node does.
fn cluster_emulated(shared: &Shared) -> bool {
    shared.config().scale.cluster_mode == ClusterMode::Emulated
}

fn section(shared: &Shared, name: &str, out: &mut String) {
    match name {
        "server" => server(shared, out),
        "clients" => clients(shared, out),
        "memory" => memory(shared, out),
        "persistence" => crate::metrics::persistence_info(shared, out),
        "stats" => stats(shared, out),
        "replication" => {
            line!(out, "# Replication");
            line!(out, "role:master");
            line!(out, "connected_slaves:0");
            line!(out, "master_failover_state:no-failover");
            line!(out, "master_replid:{}", shared.run_id);
            line!(
                out,
                "master_replid2:0000000000000000000000000000000000000000"
            );
            line!(out, "master_repl_offset:0");
            line!(out, "second_repl_offset:-1");
            line!(out, "repl_backlog_active:0");
        }
        "cpu" => {
            let (user, sys) = cpu_seconds();
            line!(out, "# CPU");
            line!(out, "used_cpu_sys:{sys:.6}");
            line!(out, "used_cpu_user:{user:.6}");
        }
        "modules" => line!(out, "# Modules"),
        "errorstats" => {
            line!(out, "# Errorstats");
            for (code, n) in shared.observe.errors.by_code() {
                line!(out, "errorstat_{code}:count={n}");
            }
        }
        "latencystats" => latencystats(shared, out),
        "cluster" => {
            line!(out, "# Cluster");
            line!(
                out,
                "cluster_enabled:{}",
                u8::from(cluster_emulated(shared))
            );
        }
        "shared" => {
            line!(out, "# Shared");
            match &shared.tier {
                Some(t) => {
                    for (k, v) in t.info_fields() {
                        line!(out, "{k}:{v}");
                    }
                }
                None => line!(out, "shared_tier_status:off"),
            }
        }
        "keyspace" => {
            line!(out, "# Keyspace");
            for (db, keys, expires) in shared.store.per_database() {
                line!(out, "db{db}:keys={keys},expires={expires},avg_ttl=0");
            }
        }
        "commandstats" => {
            line!(out, "# Commandstats");
            for (name, s) in shared.command_names.iter().zip(shared.cmdstats.iter()) {
                let calls = s.calls.load(Ordering::Relaxed);
                let rejected = s.rejected.load(Ordering::Relaxed);
                if calls == 0 && rejected == 0 {
                    continue;
                }
                let usec = s.usec.load(Ordering::Relaxed);
                let per = if calls > 0 {
                    usec as f64 / calls as f64
                } else {
                    0.0
                };
                line!(
                    out,
                    "cmdstat_{}:calls={calls},usec={usec},usec_per_call={per:.2},rejected_calls={rejected},failed_calls={}",
                    name,
                    s.failed.load(Ordering::Relaxed)
                );
            }
        }
        "llm" => {
            line!(out, "# LLM");
            for (k, v) in super::llm::llm_stats(shared) {
                line!(out, "llm_{k}:{v}");
            }
            // Time followers spent blocked in lease waits: commandstats leave it out, as Redis
            // leaves out blocked time.
            let waited = shared.observe.follower_wait.snapshot().sum_seconds;
            line!(out, "llm_wait_usec:{}", (waited * 1e6).round() as u64);
        }
        _ => {}
    }
}

fn server(shared: &Shared, out: &mut String) {
    let uptime = shared.started.elapsed().as_secs();
    line!(out, "# Server");
    line!(out, "redis_version:{REDIS_VERSION}");
    line!(out, "redis_git_sha1:00000000");
    line!(out, "redis_git_dirty:0");
    line!(out, "redis_build_id:0");
    let mode = if cluster_emulated(shared) {
        "cluster"
    } else {
        "standalone"
    };
    line!(out, "redis_mode:{mode}");
    line!(out, "llmcached_version:{}", env!("CARGO_PKG_VERSION"));
    line!(
        out,
        "os:{} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    line!(out, "arch_bits:{}", usize::BITS);
    line!(out, "multiplexing_api:epoll");
    line!(out, "process_id:{}", std::process::id());
    line!(out, "run_id:{}", shared.run_id);
    line!(out, "tcp_port:{}", shared.port());
    line!(out, "server_time_usec:{}", shared.store.clock().now_us());
    line!(out, "uptime_in_seconds:{uptime}");
    line!(out, "uptime_in_days:{}", uptime / 86_400);
    line!(out, "hz:10");
    line!(out, "configured_hz:10");
    line!(
        out,
        "executable:{}",
        std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    );
    line!(out, "config_file:");
}

fn clients(shared: &Shared, out: &mut String) {
    line!(out, "# Clients");
    line!(out, "connected_clients:{}", shared.clients.count());
    line!(out, "cluster_connections:0");
    line!(out, "maxclients:{}", shared.config().maxclients);
    line!(out, "client_recent_max_input_buffer:0");
    line!(out, "client_recent_max_output_buffer:0");
    line!(
        out,
        "blocked_clients:{}",
        shared.flights.followers_waiting() + shared.key_waits.blocked()
    );
    line!(out, "tracking_clients:0");
    line!(
        out,
        "clients_in_timeout_table:{}",
        shared.flights.followers_waiting() + shared.key_waits.blocked()
    );
}

fn memory(shared: &Shared, out: &mut String) {
    let used = shared.store.used_bytes();
    let rss = rss_bytes().unwrap_or(0);
    let max = shared.store.max_bytes();
    line!(out, "# Memory");
    line!(out, "used_memory:{used}");
    line!(out, "used_memory_human:{}", human(used));
    line!(out, "used_memory_rss:{rss}");
    line!(out, "used_memory_rss_human:{}", human(rss));
    line!(out, "used_memory_dataset:{used}");
    let system = total_system_memory().unwrap_or(0);
    line!(out, "total_system_memory:{system}");
    line!(out, "total_system_memory_human:{}", human(system));
    line!(out, "maxmemory:{max}");
    line!(out, "maxmemory_human:{}", human(max));
    line!(
        out,
        "maxmemory_policy:{}",
        match shared.store.eviction() {
            crate::cache::EvictionKind::TinyLfu => "allkeys-lfu",
            crate::cache::EvictionKind::Lru => "allkeys-lru",
            crate::cache::EvictionKind::NoEviction => "noeviction",
        }
    );
    line!(out, "number_of_cached_scripts:{}", shared.scripts.len());
    let frag = if used > 0 {
        rss as f64 / used as f64
    } else {
        1.0
    };
    line!(out, "mem_fragmentation_ratio:{frag:.2}");
    line!(out, "mem_allocator:libc");
    compression(shared, out);
}

/// llmcached's own fields: string values stored compressed (counted as they were written).
fn compression(shared: &Shared, out: &mut String) {
    let codec = shared.store.codec();
    let s = &codec.stats;
    line!(
        out,
        "compression_enabled:{}",
        u8::from(codec.policy().enabled)
    );
    line!(out, "compression_dictionaries:{}", codec.dictionary_count());
    line!(out, "compressed_values_written:{}", s.packed.get());
    line!(out, "compression_skipped_values:{}", s.kept_plain.get());
    line!(out, "compressed_input_bytes:{}", s.plain_bytes.get());
    line!(out, "compressed_output_bytes:{}", s.packed_bytes.get());
}

fn stats(shared: &Shared, out: &mut String) {
    let s = &shared.stats;
    let c = shared.store.stats();
    let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    line!(out, "# Stats");
    line!(
        out,
        "total_connections_received:{}",
        get(&s.total_connections_received)
    );
    // Derived, not counted twice: every executed command is counted in its commandstats row.
    let processed: u64 = shared
        .cmdstats
        .iter()
        .map(|c| c.calls.load(Ordering::Relaxed))
        .sum();
    line!(out, "total_commands_processed:{processed}");
    line!(out, "instantaneous_ops_per_sec:0");
    line!(out, "total_net_input_bytes:{}", get(&s.net_input_bytes));
    line!(out, "total_net_output_bytes:{}", get(&s.net_output_bytes));
    line!(out, "rejected_connections:{}", get(&s.rejected_connections));
    line!(out, "expired_keys:{}", c.expired_keys.get());
    line!(out, "evicted_keys:{}", c.evicted_keys.get());
    line!(out, "keyspace_hits:{}", c.keyspace_hits.get());
    line!(out, "keyspace_misses:{}", c.keyspace_misses.get());
    line!(out, "pubsub_channels:0");
    line!(out, "pubsub_patterns:0");
    line!(
        out,
        "total_blocking_keys:{}",
        shared.flights.leases_active()
    );
    line!(out, "unexpected_error_replies:0");
    line!(out, "total_error_replies:{}", shared.observe.errors.total());
    for (name, n) in shared.acl.info_fields() {
        line!(out, "{name}:{n}");
    }
}

/// `# Latencystats`: `latency_percentiles_usec_<cmd>:p50=..,p99=..,p99.9=..` for every
/// command with a histogram, at the `latency-tracking-info-percentiles`.
fn latencystats(shared: &Shared, out: &mut String) {
    line!(out, "# Latencystats");
    let percentiles = shared
        .config()
        .observe
        .latency_tracking_info_percentiles
        .clone();
    for (i, name) in shared.command_names.iter().enumerate() {
        let Some(h) = shared.observe.histogram(i) else {
            continue;
        };
        if h.total() == 0 {
            continue;
        }
        let fields: Vec<String> = percentiles
            .iter()
            .map(|p| format!("p{p}={:.3}", h.percentile_usec(*p)))
            .collect();
        line!(out, "latency_percentiles_usec_{name}:{}", fields.join(","));
    }
}

/// One `CLIENT LIST` / `CLIENT INFO` line, with Redis's fields.
pub fn client_line(shared: &Shared, c: &ClientInfo) -> String {
    let meta = c.meta(|m| m.clone());
    let cmd = c
        .last_cmd()
        .and_then(|i| shared.command_names.get(i))
        .map_or("NULL", |s| s);
    format!(
        "id={} addr={} laddr={} fd=8 name={} age={} idle={} flags={} db={} sub=0 psub=0 ssub=0 multi={} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={} user={} redir=-1 resp={} lib-name={} lib-ver={}",
        c.id,
        c.addr,
        c.laddr,
        meta.name,
        c.created.elapsed().as_secs(),
        c.idle_secs(),
        if meta.blocked { "b" } else if meta.multi >= 0 { "x" } else { "N" },
        meta.db,
        meta.multi,
        cmd,
        meta.user,
        meta.resp,
        meta.lib_name,
        meta.lib_ver,
    )
}

/// `1.50M`-style sizes, as Redis prints them.
pub fn human(n: u64) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{n}B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.2}K", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", n / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", n / (1024.0 * 1024.0 * 1024.0))
    }
}

/// Resident set size from /proc (Linux); `None` elsewhere.
pub fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Physical memory from /proc/meminfo (Linux); `None` elsewhere.
pub fn total_system_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// User and system CPU seconds from /proc (Linux); zeros elsewhere.
fn cpu_seconds() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 100.0;
    (ticks(11), ticks(12))
}
