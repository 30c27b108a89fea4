//! The redis_exporter families, named, typed and labelled as redis_exporter exports them for a
//! Redis, so its dashboard and the redis-mixin alerts work on a scrape of llmcached alone.
//!
//! They are read from the server's own INFO text, parsed the way redis_exporter parses it
//! (`extractInfoMetrics`: the gauge and counter maps, `cmdstat_*`, `errorstat_*`,
//! `latency_percentiles_usec_*`, `db*`), so redis_exporter pointed at llmcached and this
//! endpoint give the same numbers; SLOWLOG and LATENCY figures come from the same state those
//! commands read.

use super::exposition::{Exposition, Kind};
use crate::state::Shared;
use std::collections::HashMap;

/// redis_exporter's gauge map, for the INFO fields llmcached has.
const GAUGES: &[(&str, &str)] = &[
    ("uptime_in_seconds", "uptime_in_seconds"),
    ("process_id", "process_id"),
    ("connected_clients", "connected_clients"),
    ("blocked_clients", "blocked_clients"),
    ("tracking_clients", "tracking_clients"),
    ("maxclients", "max_clients"),
    ("clients_in_timeout_table", "clients_in_timeout_table"),
    (
        "client_recent_max_output_buffer",
        "client_recent_max_output_buffer_bytes",
    ),
    (
        "client_recent_max_input_buffer",
        "client_recent_max_input_buffer_bytes",
    ),
    ("used_memory", "memory_used_bytes"),
    ("used_memory_rss", "memory_used_rss_bytes"),
    ("used_memory_dataset", "memory_used_dataset_bytes"),
    ("maxmemory", "memory_max_bytes"),
    ("total_system_memory", "total_system_memory_bytes"),
    ("mem_fragmentation_ratio", "mem_fragmentation_ratio"),
    ("loading", "loading_dump_file"),
    ("rdb_changes_since_last_save", "rdb_changes_since_last_save"),
    ("rdb_bgsave_in_progress", "rdb_bgsave_in_progress"),
    ("rdb_last_save_time", "rdb_last_save_timestamp_seconds"),
    ("rdb_last_bgsave_status", "rdb_last_bgsave_status"),
    ("aof_enabled", "aof_enabled"),
    ("aof_rewrite_in_progress", "aof_rewrite_in_progress"),
    ("aof_last_bgrewrite_status", "aof_last_bgrewrite_status"),
    ("aof_last_write_status", "aof_last_write_status"),
    ("pubsub_channels", "pubsub_channels"),
    ("pubsub_patterns", "pubsub_patterns"),
    ("connected_slaves", "connected_slaves"),
    ("repl_backlog_active", "repl_backlog_is_active"),
    ("master_repl_offset", "master_repl_offset"),
    ("second_repl_offset", "second_repl_offset"),
];

/// redis_exporter's counter map, for the INFO fields llmcached has.
const COUNTERS: &[(&str, &str)] = &[
    ("total_connections_received", "connections_received_total"),
    ("total_commands_processed", "commands_processed_total"),
    ("rejected_connections", "rejected_connections_total"),
    ("total_net_input_bytes", "net_input_bytes_total"),
    ("total_net_output_bytes", "net_output_bytes_total"),
    ("expired_keys", "expired_keys_total"),
    ("evicted_keys", "evicted_keys_total"),
    ("keyspace_hits", "keyspace_hits_total"),
    ("keyspace_misses", "keyspace_misses_total"),
    ("used_cpu_sys", "cpu_sys_seconds_total"),
    ("used_cpu_user", "cpu_user_seconds_total"),
];

/// Counters in redis_exporter's map whose names lack `_total`: typed `gauge` here (same name,
/// same value) because `promtool check metrics` rejects a counter without the suffix.
const UNSUFFIXED_COUNTERS: &[(&str, &str)] = &[
    ("unexpected_error_replies", "unexpected_error_replies"),
    ("total_error_replies", "total_error_replies"),
];

/// redis_exporter's reading of a field value: a number, or a status (`ok` = 1).
fn value(v: &str) -> Option<f64> {
    match v {
        "ok" | "up" => Some(1.0),
        "err" | "fail" | "down" => Some(0.0),
        _ => v.parse().ok(),
    }
}

/// `calls=1,usec=2,...` -> the named numbers, in order.
fn fields(v: &str) -> Fields<'_> {
    Fields(
        v.split(',')
            .filter_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                Some((k, v.parse().ok()?))
            })
            .collect(),
    )
}

struct Fields<'a>(Vec<(&'a str, f64)>);

impl Fields<'_> {
    fn get(&self, name: &str) -> Option<f64> {
        self.0.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }
}

/// The INFO text, split as redis_exporter splits it.
struct Info<'a> {
    plain: HashMap<&'a str, &'a str>,
    /// `(section, key, value)` of the per-item sections, in INFO's order.
    items: Vec<(&'a str, &'a str, &'a str)>,
}

fn parse(text: &str) -> Info<'_> {
    let mut info = Info {
        plain: HashMap::new(),
        items: Vec::new(),
    };
    let mut section = "";
    for line in text.lines().map(str::trim) {
        if let Some(s) = line.strip_prefix("# ") {
            section = s;
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        match section {
            "Commandstats" | "Errorstats" | "Latencystats" | "Keyspace" => {
                info.items.push((section, k, v))
            }
            _ => {
                info.plain.insert(k, v);
            }
        }
    }
    info
}

/// Writes every redis_exporter family llmcached can fill.
pub fn write(shared: &Shared, e: &mut Exposition) {
    let text = super::info::render(shared, &["everything".to_string()]);
    let info = parse(&text);
    e.single(
        "redis_up",
        Kind::Gauge,
        "Information about the Redis instance",
        1.0,
    );
    let label = |k: &str| info.plain.get(k).copied().unwrap_or("");
    e.family(
        "redis_instance_info",
        Kind::Gauge,
        "Information about the Redis instance",
    );
    e.sample(
        "redis_instance_info",
        &[
            ("role", label("role")),
            ("redis_version", label("redis_version")),
            ("redis_build_id", label("redis_build_id")),
            ("redis_mode", label("redis_mode")),
            ("os", label("os")),
            ("maxmemory_policy", label("maxmemory_policy")),
            ("tcp_port", label("tcp_port")),
            ("run_id", label("run_id")),
            ("process_id", label("process_id")),
            ("master_replid", label("master_replid")),
        ],
        1.0,
    );
    if let Some(up) = info.plain.get("uptime_in_seconds").and_then(|v| value(v)) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        e.single(
            "redis_start_time_seconds",
            Kind::Gauge,
            "Start time of the Redis instance since unix epoch in seconds.",
            now as f64 - up,
        );
    }
    for (kind, map) in [
        (Kind::Gauge, GAUGES),
        (Kind::Counter, COUNTERS),
        (Kind::Gauge, UNSUFFIXED_COUNTERS),
    ] {
        for (field, name) in map {
            if let Some(v) = info.plain.get(field).and_then(|v| value(v)) {
                let name = format!("redis_{name}");
                e.single(&name, kind, &format!("{field} metric"), v);
            }
        }
    }
    keyspace(&info, e);
    commandstats(&info, e);
    errorstats(&info, e);
    latencystats(&info, e);
    slowlog_and_latency(shared, e);
}

fn keyspace(info: &Info<'_>, e: &mut Exposition) {
    let dbs: Vec<(&str, Fields<'_>)> = info
        .items
        .iter()
        .filter(|(s, k, _)| *s == "Keyspace" && k.starts_with("db"))
        .map(|(_, k, v)| (*k, fields(v)))
        .collect();
    // redis_exporter reports db0 with 0 keys when INFO lists no db0 line.
    let dbs = if dbs.is_empty() {
        vec![("db0", Fields(Vec::new()))]
    } else {
        dbs
    };
    for (name, help, field) in [
        ("redis_db_keys", "Total number of keys by DB", "keys"),
        (
            "redis_db_keys_expiring",
            "Total number of expiring keys by DB",
            "expires",
        ),
    ] {
        e.family(name, Kind::Gauge, help);
        for (db, f) in &dbs {
            e.sample(name, &[("db", db)], f.get(field).unwrap_or(0.0));
        }
    }
    e.family(
        "redis_db_avg_ttl_seconds",
        Kind::Gauge,
        "Avg TTL in seconds",
    );
    for (db, f) in &dbs {
        if let Some(ttl) = f.get("avg_ttl") {
            e.sample("redis_db_avg_ttl_seconds", &[("db", db)], ttl / 1000.0);
        }
    }
}

fn commandstats(info: &Info<'_>, e: &mut Exposition) {
    let cmds: Vec<(&str, Fields<'_>)> = info
        .items
        .iter()
        .filter(|(s, _, _)| *s == "Commandstats")
        .filter_map(|(_, k, v)| Some((k.strip_prefix("cmdstat_")?, fields(v))))
        .collect();
    for (name, help, field, scale) in [
        (
            "redis_commands_total",
            "Total number of calls per command",
            "calls",
            1.0,
        ),
        (
            "redis_commands_duration_seconds_total",
            "Total amount of time in seconds spent per command",
            "usec",
            1e6,
        ),
        (
            "redis_commands_rejected_calls_total",
            "Total number of errors prior command execution per command",
            "rejected_calls",
            1.0,
        ),
        (
            "redis_commands_failed_calls_total",
            "Total number of errors within command execution per command",
            "failed_calls",
            1.0,
        ),
    ] {
        e.family(name, Kind::Counter, help);
        for (cmd, f) in &cmds {
            e.sample(name, &[("cmd", cmd)], f.get(field).unwrap_or(0.0) / scale);
        }
    }
}

fn errorstats(info: &Info<'_>, e: &mut Exposition) {
    e.family(
        "redis_errors_total",
        Kind::Counter,
        "Total number of errors per error type",
    );
    for (_, k, v) in info.items.iter().filter(|(s, _, _)| *s == "Errorstats") {
        if let (Some(err), Some(n)) = (k.strip_prefix("errorstat_"), fields(v).get("count")) {
            e.sample("redis_errors_total", &[("err", err)], n);
        }
    }
}

fn latencystats(info: &Info<'_>, e: &mut Exposition) {
    let calls: HashMap<&str, Fields<'_>> = info
        .items
        .iter()
        .filter(|(s, _, _)| *s == "Commandstats")
        .filter_map(|(_, k, v)| Some((k.strip_prefix("cmdstat_")?, fields(v))))
        .collect();
    e.family(
        "redis_latency_percentiles_usec",
        Kind::Summary,
        "A summary of latency percentile distribution per command",
    );
    for (_, k, v) in info.items.iter().filter(|(s, _, _)| *s == "Latencystats") {
        let Some(cmd) = k.strip_prefix("latency_percentiles_usec_") else {
            continue;
        };
        for (p, usec) in fields(v).0 {
            let Some(q) = p.strip_prefix('p').and_then(|q| q.parse::<f64>().ok()) else {
                continue;
            };
            // 99.9 / 100 is 0.9990000000000001 in binary; redis_exporter's label is 0.999.
            let q = format!("{}", (q * 1e4).round() / 1e6);
            e.sample(
                "redis_latency_percentiles_usec",
                &[("cmd", cmd), ("quantile", &q)],
                usec,
            );
        }
        let c = calls.get(cmd);
        let get = |f: &str| c.and_then(|c| c.get(f)).unwrap_or(0.0);
        e.sample(
            "redis_latency_percentiles_usec_sum",
            &[("cmd", cmd)],
            get("usec"),
        );
        e.sample(
            "redis_latency_percentiles_usec_count",
            &[("cmd", cmd)],
            get("calls"),
        );
    }
}

fn slowlog_and_latency(shared: &Shared, e: &mut Exposition) {
    let o = &shared.observe;
    e.single(
        "redis_slowlog_length",
        Kind::Gauge,
        "Total slowlog",
        o.slowlog.len() as f64,
    );
    let last = o.slowlog.newest(1);
    let (id, secs) = last
        .first()
        .map_or((0.0, 0.0), |l| (l.id as f64, l.duration_us as f64 / 1e6));
    e.single(
        "redis_slowlog_last_id",
        Kind::Gauge,
        "Last id of slowlog",
        id,
    );
    e.single(
        "redis_last_slow_execution_duration_seconds",
        Kind::Gauge,
        "The amount of time needed for last slow execution, in seconds",
        secs,
    );
    let events = o.events.all();
    e.family(
        "redis_latency_spike_last",
        Kind::Gauge,
        "When the latency spike last occurred",
    );
    for (event, s) in &events {
        if let Some(l) = s.samples.last() {
            e.sample(
                "redis_latency_spike_last",
                &[("event_name", event)],
                l.time as f64,
            );
        }
    }
    e.family(
        "redis_latency_spike_duration_seconds",
        Kind::Gauge,
        "Length of the last latency spike in seconds",
    );
    for (event, s) in &events {
        if let Some(l) = s.samples.last() {
            e.sample(
                "redis_latency_spike_duration_seconds",
                &[("event_name", event)],
                l.latency_ms as f64 / 1000.0,
            );
        }
    }
    e.family(
        "redis_commands_latencies_usec",
        Kind::Histogram,
        "A histogram of latencies per command",
    );
    for (i, name) in shared.command_names.iter().enumerate() {
        let Some(h) = o.histogram(i) else { continue };
        let cdf = h.cdf();
        let Some(&(_, count)) = cdf.last() else {
            continue;
        };
        let buckets: Vec<(f64, u64)> = cdf.iter().map(|(us, n)| (*us as f64, *n)).collect();
        let usec = shared
            .cmdstats
            .get(i)
            .map_or(0, |s| s.usec.load(std::sync::atomic::Ordering::Relaxed));
        e.histogram(
            "redis_commands_latencies_usec",
            &[("cmd", name)],
            &buckets,
            count,
            usec as f64,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_is_read_as_redis_exporter_reads_it() {
        let info = parse("# Stats\r\nkeyspace_hits:3\r\n# Commandstats\r\ncmdstat_get:calls=2,usec=5,usec_per_call=2.50\r\n# Keyspace\r\ndb0:keys=4,expires=1,avg_ttl=0\r\n");
        assert_eq!(info.plain.get("keyspace_hits"), Some(&"3"));
        assert_eq!(info.items.len(), 2);
        assert_eq!(value("ok"), Some(1.0));
        assert_eq!(fields("calls=2,usec=5").get("usec"), Some(5.0));
    }
}
