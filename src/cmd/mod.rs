//! Commands: the table's types, lookup, and the call that runs one command.
//!
//! Every command and subcommand is one row ([`CommandSpec`]) of the table in [`table`]: name,
//! arity, flags, ACL categories, key positions, group, summary, argument syntax and handler. A
//! container (CLIENT, CONFIG, COMMAND, CLUSTER) is a row whose `subcommands` are rows too, as Valkey
//! declares them. The rows drive dispatch (lookup, arity, auth, loading and MULTI checks),
//! `HELP` of every container, `COMMAND COUNT / INFO / DOCS / LIST`, `INFO commandstats`, and the
//! conformance sweep in the tests. Adding a command is one handler in the file of its family and
//! one row.
//!
//! Handlers receive the whole command (`args[0]` is the name as the client spelled it; for a
//! subcommand `args[1]` is its name), parse their arguments into typed values with
//! [`args`], apply them once and return `Result<Reply, CommandError>`. Redis's
//! arity convention holds: a positive arity is exact, a negative one a minimum, both counting the
//! name (and, for a subcommand, the container's name).

pub mod aclcmd;
pub mod args;
pub mod bits;
pub mod blocking;
pub mod client;
pub mod cluster;
pub mod collection;
pub mod command;
pub mod config;
pub mod connection;
pub mod counters;
pub mod cscan;
pub mod databases;
pub mod dbkeys;
pub mod dump;
pub mod embed;
pub mod error;
pub mod execute;
pub mod expire;
pub mod fleet;
pub mod hash;
pub mod json;
pub mod keyops;
pub mod keys;
pub mod keyspace;
pub mod latency;
pub mod lease;
pub mod list;
pub mod list_block;
pub mod llm;
pub mod llmget;
pub mod llmkey;
pub mod monitor;
pub mod multi;
pub mod object;
pub mod permit;
pub mod persist;
pub mod range;
pub mod script;
pub mod search;
pub mod semantic;
pub mod server;
pub mod set;
pub mod slowlog;
pub mod sort;
pub mod spec;
pub mod stream;
pub mod string;
pub mod table;
#[cfg(test)]
pub mod testing;
pub mod ttl;
pub mod zalgebra;
pub mod zrange;
pub mod zset;
pub mod zset_block;

pub use error::{lossy, CommandError};
pub use execute::{execute, serve_blocked};
pub use spec::{acl, flag, CommandSpec, Handler};

use crate::client::Client;
use crate::protocol::Reply;
use crate::state::Shared;
use ahash::AHashMap as HashMap;
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// What a handler gets: the server state and this client.
pub struct Ctx<'a> {
    pub shared: &'a Arc<Shared>,
    pub client: &'a mut Client,
}

/// A reply that is not ready yet: the connection awaits it (this connection only; others go on).
pub type Wait = Pin<Box<dyn Future<Output = Reply> + Send>>;

/// The outcome of a handler that may block or end the connection.
pub enum Flow {
    Reply(Reply),
    /// Await this, then reply with its output. Dropped if the client disconnects meanwhile.
    Wait(Wait),
    /// Close the connection without a reply (SHUTDOWN).
    Close,
}

/// Every row, containers' subcommands included, in a fixed order: a row's index here is its
/// identity for counters (`INFO commandstats`), `CLIENT LIST`'s `cmd=` and MULTI's queue.
struct Rows {
    rows: Vec<&'static CommandSpec>,
    names: Vec<&'static str>,
    /// Top-level name -> index.
    index: HashMap<&'static [u8], usize>,
    /// Index of a container's first subcommand row, by the container's index.
    first_sub: HashMap<usize, usize>,
}

fn rows() -> &'static Rows {
    static ROWS: OnceLock<Rows> = OnceLock::new();
    ROWS.get_or_init(|| {
        let mut r = Rows {
            rows: Vec::new(),
            names: Vec::new(),
            index: HashMap::default(),
            first_sub: HashMap::default(),
        };
        for c in table::COMMANDS {
            let i = r.rows.len();
            r.rows.push(c);
            r.names.push(c.full_name);
            r.index.insert(c.name.as_bytes(), i);
            if !c.subcommands.is_empty() {
                r.first_sub.insert(i, r.rows.len());
                for s in c.subcommands {
                    r.rows.push(s);
                    r.names.push(s.full_name);
                }
            }
        }
        r
    })
}

/// The top-level rows of the command table, containers carrying their subcommands. The handlers
/// that list commands (COMMAND, the containers' HELP) read them here: the table names those
/// handlers, so they must not name the table.
pub fn commands() -> &'static [CommandSpec] {
    table::COMMANDS
}

/// The full names of every row, by index (`get`, `config|get`, ...).
pub fn row_names() -> &'static [&'static str] {
    &rows().names
}

/// The row at `index`.
pub fn row(index: usize) -> Option<&'static CommandSpec> {
    rows().rows.get(index).copied()
}

/// Every row, subcommands after their container.
pub fn all_rows() -> impl Iterator<Item = &'static CommandSpec> {
    rows().rows.iter().copied()
}

/// Longest command name in the table; longer names cannot match.
const MAX_NAME: usize = 32;

fn lowered(name: &[u8], buf: &mut [u8; MAX_NAME]) -> Option<usize> {
    if name.len() > MAX_NAME {
        return None;
    }
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    Some(name.len())
}

/// Finds a top-level command by name, case-insensitively, without allocating.
pub fn lookup(name: &[u8]) -> Option<usize> {
    let mut buf = [0u8; MAX_NAME];
    let n = lowered(name, &mut buf)?;
    rows().index.get(&buf[..n]).copied()
}

/// Finds the row a command runs: the command's, or for a container called with a subcommand,
/// the subcommand's. `None`: no such command. Errors: an unknown subcommand.
pub fn resolve(args: &[Bytes]) -> Option<Result<usize, CommandError>> {
    let top = lookup(args.first()?)?;
    let spec = rows().rows[top];
    if spec.subcommands.is_empty() || args.len() < 2 {
        return Some(Ok(top));
    }
    let first = rows().first_sub[&top];
    let mut buf = [0u8; MAX_NAME];
    let found = lowered(&args[1], &mut buf).and_then(|n| {
        spec.subcommands
            .iter()
            .position(|s| s.name.as_bytes() == &buf[..n])
    });
    Some(match found {
        Some(k) => Ok(first + k),
        None => Err(CommandError::unknown_subcommand(spec.name, &args[1])),
    })
}

/// Runs one command that passed the connection's checks, and counts it in INFO commandstats.
pub fn call(ctx: &mut Ctx<'_>, index: usize, args: &[Bytes]) -> Flow {
    let Some(spec) = row(index) else {
        return Flow::Reply(unknown_command(args));
    };
    // Inside EXEC the user's rights are checked again: they may have changed since queueing.
    if ctx.client.in_exec {
        if let Err(e) = permit::admit(ctx, index, spec, args) {
            return Flow::Reply(e);
        }
    }
    if spec.has(flag::WRITE) {
        ctx.client.wrote = true;
    }
    let monitored = ctx.shared.observe.monitors.active() && monitor::shown(spec, args);
    let exec = spec.full_name == "exec";
    if monitored && !exec {
        monitor::feed(ctx, args);
    }
    // The handler sees the keys in their stored form for the client's database.
    let stored = dbkeys::stored_args(ctx.client.db, index, spec, args);
    if stored.is_some() {
        ctx.shared.store.note_numbered();
    }
    let keyed = stored.as_deref().unwrap_or(args);
    let start = Instant::now();
    let flow = match spec.handler {
        Handler::Sync(f) => Flow::Reply(f(ctx, keyed).unwrap_or_else(Reply::from)),
        Handler::Flow(f) => f(ctx, keyed).unwrap_or_else(|e| Flow::Reply(e.into())),
    };
    let end = Instant::now();
    if monitored && exec {
        // As Redis: EXEC is shown after the commands it ran.
        monitor::feed(ctx, args);
    }
    let elapsed = end.saturating_duration_since(start);
    let usec = elapsed.as_micros() as u64;
    if let Some(stat) = ctx.shared.cmdstats.get(index) {
        stat.calls.fetch_add(1, Ordering::Relaxed);
        stat.usec.fetch_add(usec, Ordering::Relaxed);
        if matches!(&flow, Flow::Reply(r) if r.is_error()) {
            stat.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
    observe(ctx, index, spec, elapsed, args, &flow);
    ctx.client.info.touch(index, end);
    if ctx.client.info.is_killed() {
        // ACL DELUSER / LOAD closed this connection's user: answer this command, then close.
        ctx.client.close_after_reply = true;
    }
    flow
}

/// Whether CLIENT PAUSE WRITE holds `args`: a write row, EVAL / EVALSHA (their scripts may
/// write), or EXEC of a transaction that queued a write, as Redis decides.
pub fn may_write(client: &Client, args: &[Bytes]) -> bool {
    let Some(Ok(index)) = resolve(args) else {
        return false;
    };
    let Some(spec) = row(index) else {
        return false;
    };
    match spec.full_name {
        "eval" | "evalsha" => true,
        "exec" => client.multi.as_ref().is_some_and(|m| {
            m.queued
                .iter()
                .any(|(i, _)| row(*i).is_some_and(|s| s.has(flag::WRITE)))
        }),
        _ => spec.has(flag::WRITE),
    }
}

/// Feeds the slow log, the latency histograms and monitor, error counts and LLM lookup
/// timings with one executed command (a blocked command's wait is not in `elapsed`).
#[inline]
fn observe(
    ctx: &Ctx<'_>,
    index: usize,
    spec: &CommandSpec,
    elapsed: std::time::Duration,
    args: &[Bytes],
    flow: &Flow,
) {
    let info = &ctx.client.info;
    let who = || (info.addr.to_string(), info.meta(|m| m.name.clone()));
    let o = &ctx.shared.observe;
    o.command_done(
        index,
        spec.full_name,
        spec.has(flag::FAST),
        elapsed,
        args,
        &who,
    );
    if let Flow::Reply(r) = flow {
        if r.is_error() {
            o.error_reply(r);
        }
        o.lookup_replied(index, r, elapsed);
    }
}

/// `ERR unknown command 'x', with args beginning with: 'a' 'b' `, worded and truncated as Redis.
pub fn unknown_command(args: &[Bytes]) -> Reply {
    let name = args.first().map(|a| lossy(a, 128)).unwrap_or_default();
    let mut rest = String::new();
    for a in args.iter().skip(1) {
        if rest.len() >= 128 {
            break;
        }
        let room = 128 - rest.len();
        rest.push('\'');
        rest.push_str(&lossy(a, room));
        rest.push_str("' ");
    }
    Reply::err(format!(
        "unknown command '{name}', with args beginning with: {rest}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_lower_case_unique_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for c in all_rows() {
            assert_eq!(c.name, c.name.to_ascii_lowercase(), "{}", c.name);
            assert!(c.name.len() <= MAX_NAME);
            assert!(seen.insert(c.full_name), "duplicate {}", c.full_name);
            assert!(!c.summary.is_empty(), "{} has no summary", c.full_name);
            assert_ne!(c.arity, 0, "{} has no arity", c.full_name);
        }
    }

    #[test]
    fn lookup_is_case_insensitive() {
        assert_eq!(lookup(b"GeT").and_then(row).map(|c| c.name), Some("get"));
        assert_eq!(lookup(b"nope"), None);
        assert_eq!(lookup(&[b'a'; 100]), None);
    }

    #[test]
    fn subcommands_resolve_to_their_rows() {
        let args: Vec<Bytes> = ["Config", "GET", "x"]
            .iter()
            .map(|s| Bytes::from(*s))
            .collect();
        let i = resolve(&args).unwrap().unwrap();
        assert_eq!(row(i).map(|c| c.full_name), Some("config|get"));
        let bad: Vec<Bytes> = ["config", "nope"].iter().map(|s| Bytes::from(*s)).collect();
        assert_eq!(
            resolve(&bad).unwrap().unwrap_err().to_string(),
            "ERR unknown subcommand 'nope'. Try CONFIG HELP."
        );
    }

    #[test]
    fn unknown_command_text_matches_redis() {
        let args: Vec<Bytes> = ["foo", "a", "b"].iter().map(|s| Bytes::from(*s)).collect();
        assert_eq!(
            unknown_command(&args),
            Reply::err("unknown command 'foo', with args beginning with: 'a' 'b' ")
        );
    }
}
