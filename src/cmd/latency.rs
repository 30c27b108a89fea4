//! LATENCY and its subcommands, with Redis 7.0's reply shapes and texts.
//!
//! # Format
//! ```text
//! LATENCY LATEST                -> [[event, unix-time, latest-ms, max-ms], ...]
//! LATENCY HISTORY event         -> [[unix-time, ms], ...] oldest first
//! LATENCY RESET [event ...]     -> number of event series dropped (all without arguments)
//! LATENCY HISTOGRAM [cmd ...]   -> {cmd: {calls: n, histogram_usec: {usec: cumulative, ...}}}
//!                                  (flat arrays in RESP2); every called command by default
//! LATENCY DOCTOR                -> a report (verbatim string)
//! LATENCY HELP                  -> lines
//! ```
//! Events are `command` and `fast-command` (see [`crate::observe::events`]).

use super::spec::flag::*;
use super::{CommandError, CommandSpec, Ctx, Handler};
use crate::protocol::Reply;
use crate::sub;
use bytes::Bytes;

/// `LATENCY`'s subcommand rows.
#[rustfmt::skip]
pub static SUBCOMMANDS: &[CommandSpec] = &[
    sub!("latency", "latest", 2, ADMIN | LOADING | STALE, 0, "server", "2.8.13", "", "Returns the latest latency samples for all events.", Handler::Sync(latest)),
    sub!("latency", "history", 3, ADMIN | LOADING | STALE, 0, "server", "2.8.13", "event", "Returns timestamp-latency samples for an event.", Handler::Sync(history)),
    sub!("latency", "reset", -2, ADMIN | LOADING | STALE, 0, "server", "2.8.13", "[event [event ...]]", "Resets the latency data for one or more events.", Handler::Sync(reset)),
    sub!("latency", "histogram", -2, ADMIN | LOADING | STALE, 0, "server", "7.0.0", "[command [command ...]]", "Returns the cumulative distribution of latencies of a subset or all commands.", Handler::Sync(histogram)),
    sub!("latency", "doctor", 2, ADMIN | LOADING | STALE, 0, "server", "2.8.13", "", "Returns a human-readable latency analysis report.", Handler::Sync(doctor)),
    sub!("latency", "help", 2, LOADING | STALE, 0, "server", "2.8.13", "", "Returns helpful text about the different subcommands.", Handler::Sync(help)),
];

/// Redis 7.0.15's `LATENCY HELP`, without GRAPH (llmcached has no ASCII graphs).
const HELP: &[&str] = &[
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
    "HELP",
    "    Prints this help.",
];

/// `LATENCY LATEST`
fn latest(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    let all = ctx.shared.observe.events.all();
    Ok(Reply::Array(
        all.into_iter()
            .filter_map(|(event, s)| {
                let last = s.samples.last()?;
                Some(Reply::Array(vec![
                    Reply::text(event),
                    Reply::Int(last.time as i64),
                    Reply::Int(last.latency_ms as i64),
                    Reply::Int(s.max_ms as i64),
                ]))
            })
            .collect(),
    ))
}

/// `LATENCY HISTORY event`
fn history(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let samples = ctx.shared.observe.events.history(&a[2]);
    Ok(Reply::Array(
        samples
            .into_iter()
            .map(|s| {
                Reply::Array(vec![
                    Reply::Int(s.time as i64),
                    Reply::Int(s.latency_ms as i64),
                ])
            })
            .collect(),
    ))
}

/// `LATENCY RESET [event ...]`
fn reset(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let events: Vec<&[u8]> = a[2..].iter().map(|e| &e[..]).collect();
    Ok(Reply::Int(ctx.shared.observe.events.reset(&events) as i64))
}

/// `LATENCY HISTOGRAM [command ...]`: names are full names (`config|get`), any case; names
/// that are not commands, or were never called, are left out.
fn histogram(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let names = ctx.shared.command_names;
    let rows: Vec<usize> = if a.len() == 2 {
        (0..names.len()).collect()
    } else {
        a[2..]
            .iter()
            .filter_map(|want| {
                names
                    .iter()
                    .position(|n| n.as_bytes().eq_ignore_ascii_case(want))
            })
            .collect()
    };
    let mut out = Vec::new();
    for i in rows {
        let Some(h) = ctx.shared.observe.histogram(i) else {
            continue;
        };
        let buckets = h
            .cdf()
            .into_iter()
            .map(|(us, n)| (Reply::Int(us as i64), Reply::Int(n as i64)))
            .collect();
        out.push((
            Reply::text(names[i]),
            Reply::map([
                ("calls", Reply::Int(h.total() as i64)),
                ("histogram_usec", Reply::Map(buckets)),
            ]),
        ));
    }
    Ok(Reply::Map(out))
}

/// `LATENCY DOCTOR`
fn doctor(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    let threshold = ctx.shared.config().observe.latency_monitor_threshold;
    Ok(Reply::Verbatim(ctx.shared.observe.events.doctor(threshold)))
}

/// `LATENCY HELP`
fn help(_: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(Reply::Array(
        HELP.iter().map(|l| Reply::Simple(l)).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use crate::cmd::testing::TestServer;
    use crate::protocol::Reply;

    #[test]
    fn histogram_lists_called_commands_with_cumulative_buckets() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["SET", "k", "v"]);
        c.run(&["SET", "k", "v"]);
        let Reply::Map(all) = c.run(&["LATENCY", "HISTOGRAM", "SET", "nope", "get"]) else {
            panic!("not a map")
        };
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].0, Reply::text("set"));
        let Reply::Map(fields) = &all[0].1 else {
            panic!("not a map")
        };
        assert_eq!(fields[0], (Reply::text("calls"), Reply::Int(2)));
        let Reply::Map(buckets) = &fields[1].1 else {
            panic!("no buckets")
        };
        assert_eq!(buckets.last().map(|b| b.1.clone()), Some(Reply::Int(2)));
    }

    #[test]
    fn latest_and_history_are_empty_until_a_spike() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(c.run(&["LATENCY", "LATEST"]), Reply::Array(vec![]));
        assert_eq!(
            c.run(&["LATENCY", "HISTORY", "command"]),
            Reply::Array(vec![])
        );
        assert_eq!(c.run(&["LATENCY", "RESET"]), Reply::Int(0));
    }
}
