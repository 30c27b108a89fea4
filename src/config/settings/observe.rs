//! The observability settings: SLOWLOG, LATENCY, the metrics endpoint and the log format.
//!
//! Rows of [`super::SETTINGS`] (each row is a `const` here and named in the table), with the
//! values they set gathered in [`ObserveConfig`] (`Config::observe`). The Redis ones keep Redis
//! 7.0's names, defaults, bounds and error texts.

use super::super::values::{self, Reason};
use super::Setting;
use std::net::IpAddr;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    /// One JSON object per line (timestamp, level, target, message and the event's fields).
    Json,
}

/// What the observability rows set.
#[derive(Debug, Clone, PartialEq)]
pub struct ObserveConfig {
    /// Microseconds; a command taking at least this long is logged; -1 = off, 0 = every command.
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
    /// Milliseconds; 0 = the latency monitor is off.
    pub latency_monitor_threshold: u64,
    /// Per-command latency histograms (LATENCY HISTOGRAM, INFO latencystats).
    pub latency_tracking: bool,
    /// The percentiles INFO latencystats reports, each in 0..=100.
    pub latency_tracking_info_percentiles: Vec<f64>,
    /// 0 = no metrics endpoint.
    pub metrics_port: u16,
    /// `None` = the server's `bind` address.
    pub metrics_bind: Option<IpAddr>,
    /// Distinct `model` label values before the rest are counted as `other`.
    pub metrics_max_models: usize,
    pub log_format: LogFormat,
}

impl Default for ObserveConfig {
    fn default() -> Self {
        ObserveConfig {
            slowlog_log_slower_than: 10_000,
            slowlog_max_len: 128,
            latency_monitor_threshold: 0,
            latency_tracking: true,
            latency_tracking_info_percentiles: vec![50.0, 99.0, 99.9],
            metrics_port: 0,
            metrics_bind: None,
            metrics_max_models: 100,
            log_format: LogFormat::Text,
        }
    }
}

/// Redis's bound for `long long` settings.
const LLONG_MAX: i128 = i64::MAX as i128;

/// Redis's parser: space-separated numbers, each within 0..=100; an empty list is allowed.
fn percentiles(v: &[u8]) -> Result<Vec<f64>, Reason> {
    let text = values::utf8(v).ok_or("Invalid latency-tracking-info-percentiles parameters")?;
    let mut out = Vec::new();
    for word in text.split_ascii_whitespace() {
        let p: f64 = word
            .parse()
            .ok()
            .filter(|p: &f64| p.is_finite())
            .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&p) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .into(),
            );
        }
        out.push(p);
    }
    Ok(out)
}

fn show_percentiles(ps: &[f64]) -> Vec<u8> {
    let words: Vec<String> = ps.iter().map(|p| p.to_string()).collect();
    words.join(" ").into_bytes()
}

pub const SLOWLOG_LOG_SLOWER_THAN: Setting = Setting {
    name: "slowlog-log-slower-than",
    flag: true,
    env: "LLMCACHED_SLOWLOG_LOG_SLOWER_THAN",
    value_name: "MICROSECONDS",
    default: "10000",
    help: "Commands that take at least this many microseconds of execution (time blocked in LLMGET waits excluded) go to SLOWLOG; -1 turns it off, 0 logs every command.",
    mutable: true,
    apply: |c, v| {
        c.observe.slowlog_log_slower_than = values::int(v, -1, LLONG_MAX)?;
        Ok(())
    },
    show: |c| values::show(c.observe.slowlog_log_slower_than),
};

pub const SLOWLOG_MAX_LEN: Setting = Setting {
    name: "slowlog-max-len",
    flag: true,
    env: "LLMCACHED_SLOWLOG_MAX_LEN",
    value_name: "N",
    default: "128",
    help: "How many SLOWLOG entries are kept; the oldest go first.",
    mutable: true,
    apply: |c, v| {
        c.observe.slowlog_max_len = values::int(v, 0, LLONG_MAX)?;
        Ok(())
    },
    show: |c| values::show(c.observe.slowlog_max_len),
};

pub const LATENCY_MONITOR_THRESHOLD: Setting = Setting {
    name: "latency-monitor-threshold",
    flag: true,
    env: "LLMCACHED_LATENCY_MONITOR_THRESHOLD",
    value_name: "MILLISECONDS",
    default: "0",
    help: "Events (command, fast-command) taking at least this many milliseconds are sampled for LATENCY LATEST and HISTORY; 0 turns the monitor off.",
    mutable: true,
    apply: |c, v| {
        c.observe.latency_monitor_threshold = values::int(v, 0, LLONG_MAX)?;
        Ok(())
    },
    show: |c| values::show(c.observe.latency_monitor_threshold),
};

pub const LATENCY_TRACKING: Setting = Setting {
    name: "latency-tracking",
    flag: true,
    env: "LLMCACHED_LATENCY_TRACKING",
    value_name: "yes|no",
    default: "yes",
    help: "Keep a latency histogram per command, for LATENCY HISTOGRAM, INFO latencystats and the metrics endpoint.",
    mutable: true,
    apply: |c, v| {
        c.observe.latency_tracking = values::yes_no(v)?;
        Ok(())
    },
    show: |c| values::show_yes_no(c.observe.latency_tracking),
};

pub const LATENCY_TRACKING_INFO_PERCENTILES: Setting = Setting {
    name: "latency-tracking-info-percentiles",
    flag: true,
    env: "LLMCACHED_LATENCY_TRACKING_INFO_PERCENTILES",
    value_name: "LIST",
    default: "50 99 99.9",
    help: "The percentiles INFO latencystats reports, space-separated, each between 0 and 100.",
    mutable: true,
    apply: |c, v| {
        c.observe.latency_tracking_info_percentiles = percentiles(v)?;
        Ok(())
    },
    show: |c| show_percentiles(&c.observe.latency_tracking_info_percentiles),
};

pub const METRICS_PORT: Setting = Setting {
    name: "metrics-port",
    flag: true,
    env: "LLMCACHED_METRICS_PORT",
    value_name: "PORT",
    default: "0",
    help: "TCP port of the Prometheus endpoint (GET /metrics); 0 means no endpoint. 9121, redis_exporter's port, lets existing scrape configs point here.",
    mutable: false,
    apply: |c, v| {
        c.observe.metrics_port = values::int(v, 0, 65535)?;
        Ok(())
    },
    show: |c| values::show(c.observe.metrics_port),
};

pub const METRICS_BIND: Setting = Setting {
    name: "metrics-bind",
    flag: true,
    env: "LLMCACHED_METRICS_BIND",
    value_name: "ADDR",
    default: "",
    help: "Address of the metrics endpoint; empty means the bind address.",
    mutable: false,
    apply: |c, v| {
        c.observe.metrics_bind = if v.is_empty() {
            None
        } else {
            Some(values::ip(v)?)
        };
        Ok(())
    },
    show: |c| c.observe.metrics_bind.map(values::show).unwrap_or_default(),
};

pub const METRICS_MAX_MODELS: Setting = Setting {
    name: "metrics-max-models",
    flag: true,
    env: "LLMCACHED_METRICS_MAX_MODELS",
    value_name: "N",
    default: "100",
    help: "At most this many model label values in the per-model metrics; the rest are summed under model other.",
    mutable: true,
    apply: |c, v| {
        c.observe.metrics_max_models = values::int(v, 0, 100_000)?;
        Ok(())
    },
    show: |c| values::show(c.observe.metrics_max_models),
};

pub const LOG_FORMAT: Setting = Setting {
    name: "log-format",
    flag: true,
    env: "LLMCACHED_LOG_FORMAT",
    value_name: "text|json",
    default: "text",
    help: "Log lines as plain text or as one JSON object per line (for log pipelines).",
    mutable: false,
    apply: |c, v| {
        c.observe.log_format = values::one_of(
            v,
            &[("text", LogFormat::Text), ("json", LogFormat::Json)],
            "text, json",
        )?;
        Ok(())
    },
    show: |c| {
        match c.observe.log_format {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
        .into()
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_parse_as_redis_does() {
        assert_eq!(percentiles(b"50 99 99.9").unwrap(), vec![50.0, 99.0, 99.9]);
        assert_eq!(percentiles(b"").unwrap(), Vec::<f64>::new());
        assert_eq!(
            percentiles(b"101").unwrap_err(),
            "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
        );
        assert_eq!(
            percentiles(b"abc").unwrap_err(),
            "Invalid latency-tracking-info-percentiles parameters"
        );
        assert_eq!(show_percentiles(&[50.0, 99.0, 99.9]), b"50 99 99.9");
    }
}
