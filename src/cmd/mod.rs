//! The command table, and dispatch.
//!
//! Every command is declared once in [`COMMANDS`]: name, arity, flags, key positions, group,
//! summary and handler. The table drives dispatch (lookup, arity, auth, loading and MULTI checks),
//! `COMMAND COUNT / INFO / DOCS`, and `INFO commandstats`. Adding a command is one handler in the
//! file of its family and one row here.
//!
//! Handlers receive the whole command (`args[0]` is the name as the client spelled it), parse
//! their arguments into typed values with [`crate::protocol::args`], apply them once and return a
//! [`Reply`]. Redis's arity convention holds: a positive arity is exact, a negative one a minimum,
//! both counting the name.

pub mod connection;
pub mod hash;
pub mod json;
pub mod keys;
pub mod llm;
pub mod llmkey;
pub mod multi;
pub mod server;
pub mod string;

use crate::client::Client;
use crate::protocol::Reply;
use crate::server::Shared;
use ahash::AHashMap as HashMap;
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// What a handler gets: the server and this client.
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

#[derive(Clone, Copy)]
pub enum Handler {
    Sync(fn(&mut Ctx<'_>, &[Bytes]) -> Reply),
    Flow(fn(&mut Ctx<'_>, &[Bytes]) -> Flow),
}

/// Command flags, as `COMMAND INFO` names them.
pub mod flag {
    pub const WRITE: u32 = 1;
    pub const READONLY: u32 = 1 << 1;
    pub const FAST: u32 = 1 << 2;
    /// Allowed before AUTH.
    pub const NO_AUTH: u32 = 1 << 3;
    /// Allowed while the data set is loading.
    pub const LOADING: u32 = 1 << 4;
    /// Executed at once even inside MULTI (MULTI, EXEC, DISCARD, QUIT, RESET, WATCH).
    pub const NO_MULTI: u32 = 1 << 5;
    pub const ADMIN: u32 = 1 << 6;
    pub const BLOCKING: u32 = 1 << 7;
    pub const DENY_OOM: u32 = 1 << 8;
    pub const STALE: u32 = 1 << 9;

    pub const NAMES: [(u32, &str); 10] = [
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENY_OOM, "denyoom"),
        (ADMIN, "admin"),
        (NO_AUTH, "no_auth"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (FAST, "fast"),
        (BLOCKING, "blocking"),
        (NO_MULTI, "no_multi"),
    ];
}

/// One row of the command table.
pub struct CommandSpec {
    /// Lower-case name.
    pub name: &'static str,
    pub arity: i32,
    pub flags: u32,
    /// Key positions: first, last (negative counts from the end), step; 0,0,0 for none.
    pub keys: (i32, i32, i32),
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub handler: Handler,
    /// Subcommand names, for COMMAND INFO / DOCS.
    pub subcommands: &'static [&'static str],
}

impl CommandSpec {
    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let arity = self.arity as i64;
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }
}

macro_rules! cmd {
    ($name:literal, $arity:expr, $flags:expr, $keys:expr, $group:literal, $since:literal, $summary:literal, $h:expr) => {
        cmd!(
            $name,
            $arity,
            $flags,
            $keys,
            $group,
            $since,
            $summary,
            $h,
            &[]
        )
    };
    ($name:literal, $arity:expr, $flags:expr, $keys:expr, $group:literal, $since:literal, $summary:literal, $h:expr, $subs:expr) => {
        CommandSpec {
            name: $name,
            arity: $arity,
            flags: $flags,
            keys: $keys,
            group: $group,
            since: $since,
            summary: $summary,
            handler: $h,
            subcommands: $subs,
        }
    };
}

use flag::*;
use Handler::{Flow as F, Sync as S};

const NOKEY: (i32, i32, i32) = (0, 0, 0);
const KEY1: (i32, i32, i32) = (1, 1, 1);
const ALLKEYS: (i32, i32, i32) = (1, -1, 1);

/// Every command the server knows.
pub static COMMANDS: &[CommandSpec] = &[
    // connection
    cmd!("ping", -1, FAST | STALE | LOADING, NOKEY, "connection", "1.0.0", "Returns the server's liveliness response.", S(connection::ping)),
    cmd!("echo", 2, FAST | LOADING | STALE, NOKEY, "connection", "1.0.0", "Returns the given string.", S(connection::echo)),
    cmd!("hello", -1, NO_AUTH | FAST | LOADING | STALE, NOKEY, "connection", "6.0.0", "Handshakes with the server: protocol version, authentication, client name.", S(connection::hello)),
    cmd!("auth", -2, NO_AUTH | FAST | LOADING | STALE, NOKEY, "connection", "1.0.0", "Authenticates the connection.", S(connection::auth)),
    cmd!("select", 2, FAST | LOADING | STALE, NOKEY, "connection", "1.0.0", "Changes the selected database (only 0 exists).", S(connection::select)),
    cmd!("quit", -1, NO_AUTH | FAST | LOADING | STALE | NO_MULTI, NOKEY, "connection", "1.0.0", "Closes the connection.", S(connection::quit)),
    cmd!("reset", 1, NO_AUTH | FAST | LOADING | STALE | NO_MULTI, NOKEY, "connection", "6.2.0", "Resets the connection.", S(connection::reset)),
    cmd!("client", -2, LOADING | STALE, NOKEY, "connection", "2.4.0", "A container for client connection commands.", S(connection::client), connection::CLIENT_SUBCOMMANDS),
    // server
    cmd!("command", -1, LOADING | STALE, NOKEY, "server", "2.8.13", "Returns detailed information about all commands.", S(server::command), server::COMMAND_SUBCOMMANDS),
    cmd!("config", -2, ADMIN | LOADING | STALE, NOKEY, "server", "2.0.0", "A container for server configuration commands.", S(server::config), server::CONFIG_SUBCOMMANDS),
    cmd!("info", -1, LOADING | STALE, NOKEY, "server", "1.0.0", "Returns information and statistics about the server.", S(server::info)),
    cmd!("dbsize", 1, READONLY | FAST, NOKEY, "server", "1.0.0", "Returns the number of keys in the database.", S(server::dbsize)),
    cmd!("flushdb", -1, WRITE, NOKEY, "server", "1.0.0", "Removes all keys from the database.", S(server::flushdb)),
    cmd!("flushall", -1, WRITE, NOKEY, "server", "1.0.0", "Removes all keys from all databases.", S(server::flushdb)),
    cmd!("time", 1, FAST | LOADING | STALE, NOKEY, "server", "2.6.0", "Returns the server time.", S(server::time)),
    cmd!("save", 1, ADMIN | NO_MULTI, NOKEY, "server", "1.0.0", "Synchronously saves the database to disk.", F(crate::durability::save)),
    cmd!("bgsave", -1, ADMIN, NOKEY, "server", "1.0.0", "Asynchronously saves the database to disk.", S(crate::durability::bgsave)),
    cmd!("bgrewriteaof", 1, ADMIN, NOKEY, "server", "1.0.0", "Asynchronously rewrites the append-only file to disk.", S(crate::durability::bgrewriteaof)),
    cmd!("lastsave", 1, FAST | LOADING | STALE, NOKEY, "server", "1.0.0", "Returns the Unix timestamp of the last successful save to disk.", S(crate::durability::lastsave)),
    cmd!("shutdown", -1, ADMIN | NO_MULTI | LOADING | STALE, NOKEY, "server", "1.0.0", "Stops the server after in-flight commands have replied.", F(server::shutdown)),
    // strings
    cmd!("get", 2, READONLY | FAST, KEY1, "string", "1.0.0", "Returns the string value of a key.", S(string::get)),
    cmd!("set", -3, WRITE | DENY_OOM, KEY1, "string", "1.0.0", "Sets the string value of a key, with options for expiry and conditions.", S(string::set)),
    cmd!("setnx", 3, WRITE | DENY_OOM | FAST, KEY1, "string", "1.0.0", "Sets the string value of a key only when the key does not exist.", S(string::setnx)),
    cmd!("setex", 4, WRITE | DENY_OOM, KEY1, "string", "2.0.0", "Sets the string value and expiration time (seconds) of a key.", S(string::setex)),
    cmd!("psetex", 4, WRITE | DENY_OOM, KEY1, "string", "2.6.0", "Sets the string value and expiration time (milliseconds) of a key.", S(string::psetex)),
    cmd!("getex", -2, WRITE | FAST, KEY1, "string", "6.2.0", "Returns the string value of a key after setting its expiration time.", S(string::getex)),
    cmd!("getdel", 2, WRITE | FAST, KEY1, "string", "6.2.0", "Returns the string value of a key after deleting the key.", S(string::getdel)),
    cmd!("mget", -2, READONLY | FAST, ALLKEYS, "string", "1.0.0", "Atomically returns the string values of one or more keys.", S(string::mget)),
    cmd!("mset", -3, WRITE | DENY_OOM, (1, -1, 2), "string", "1.0.1", "Atomically creates or modifies the string values of one or more keys.", S(string::mset)),
    cmd!("strlen", 2, READONLY | FAST, KEY1, "string", "2.2.0", "Returns the length of a string value.", S(string::strlen)),
    cmd!("incr", 2, WRITE | DENY_OOM | FAST, KEY1, "string", "1.0.0", "Increments the integer value of a key by one.", S(string::incr)),
    cmd!("incrby", 3, WRITE | DENY_OOM | FAST, KEY1, "string", "1.0.0", "Increments the integer value of a key by a number.", S(string::incrby)),
    cmd!("decr", 2, WRITE | DENY_OOM | FAST, KEY1, "string", "1.0.0", "Decrements the integer value of a key by one.", S(string::decr)),
    cmd!("decrby", 3, WRITE | DENY_OOM | FAST, KEY1, "string", "1.0.0", "Decrements a number from the integer value of a key.", S(string::decrby)),
    cmd!("append", 3, WRITE | DENY_OOM | FAST, KEY1, "string", "2.0.0", "Appends a string to the value of a key.", S(string::append)),
    // keys
    cmd!("del", -2, WRITE, ALLKEYS, "generic", "1.0.0", "Deletes one or more keys.", S(keys::del)),
    cmd!("unlink", -2, WRITE | FAST, ALLKEYS, "generic", "4.0.0", "Deletes one or more keys.", S(keys::del)),
    cmd!("exists", -2, READONLY | FAST, ALLKEYS, "generic", "1.0.0", "Determines whether one or more keys exist.", S(keys::exists)),
    cmd!("expire", -3, WRITE | FAST, KEY1, "generic", "1.0.0", "Sets the expiration time of a key in seconds.", S(keys::expire)),
    cmd!("pexpire", -3, WRITE | FAST, KEY1, "generic", "2.6.0", "Sets the expiration time of a key in milliseconds.", S(keys::pexpire)),
    cmd!("expireat", -3, WRITE | FAST, KEY1, "generic", "1.2.0", "Sets the expiration time of a key to a Unix timestamp.", S(keys::expireat)),
    cmd!("pexpireat", -3, WRITE | FAST, KEY1, "generic", "2.6.0", "Sets the expiration time of a key to a Unix milliseconds timestamp.", S(keys::pexpireat)),
    cmd!("ttl", 2, READONLY | FAST, KEY1, "generic", "1.0.0", "Returns the expiration time in seconds of a key.", S(keys::ttl)),
    cmd!("pttl", 2, READONLY | FAST, KEY1, "generic", "2.6.0", "Returns the expiration time in milliseconds of a key.", S(keys::pttl)),
    cmd!("expiretime", 2, READONLY | FAST, KEY1, "generic", "7.0.0", "Returns the expiration time of a key as a Unix timestamp.", S(keys::expiretime)),
    cmd!("pexpiretime", 2, READONLY | FAST, KEY1, "generic", "7.0.0", "Returns the expiration time of a key as a Unix milliseconds timestamp.", S(keys::pexpiretime)),
    cmd!("persist", 2, WRITE | FAST, KEY1, "generic", "2.2.0", "Removes the expiration time of a key.", S(keys::persist)),
    cmd!("type", 2, READONLY | FAST, KEY1, "generic", "1.0.0", "Determines the type of value stored at a key.", S(keys::type_)),
    cmd!("scan", -2, READONLY, NOKEY, "generic", "2.8.0", "Iterates over the key names in the database.", S(keys::scan)),
    cmd!("keys", 2, READONLY, NOKEY, "generic", "1.0.0", "Returns all key names that match a pattern.", S(keys::keys)),
    // transactions
    cmd!("multi", 1, FAST | LOADING | STALE | NO_MULTI, NOKEY, "transactions", "1.2.0", "Starts a transaction.", S(multi::multi)),
    cmd!("exec", 1, LOADING | STALE | NO_MULTI, NOKEY, "transactions", "1.2.0", "Executes all commands in a transaction.", F(multi::exec)),
    cmd!("discard", 1, FAST | LOADING | STALE | NO_MULTI, NOKEY, "transactions", "2.0.0", "Discards a transaction.", S(multi::discard)),
    // hashes
    cmd!("hset", -4, WRITE | DENY_OOM | FAST, KEY1, "hash", "2.0.0", "Creates or modifies the value of a field in a hash.", S(hash::hset)),
    cmd!("hmset", -4, WRITE | DENY_OOM | FAST, KEY1, "hash", "2.0.0", "Sets the values of multiple fields.", S(hash::hmset)),
    cmd!("hsetnx", 4, WRITE | DENY_OOM | FAST, KEY1, "hash", "2.0.0", "Sets the value of a field in a hash only when the field doesn't exist.", S(hash::hsetnx)),
    cmd!("hget", 3, READONLY | FAST, KEY1, "hash", "2.0.0", "Returns the value of a field in a hash.", S(hash::hget)),
    cmd!("hmget", -3, READONLY | FAST, KEY1, "hash", "2.0.0", "Returns the values of the given fields of a hash.", S(hash::hmget)),
    cmd!("hgetall", 2, READONLY, KEY1, "hash", "2.0.0", "Returns all fields and values in a hash.", S(hash::hgetall)),
    cmd!("hkeys", 2, READONLY, KEY1, "hash", "2.0.0", "Returns all fields in a hash.", S(hash::hkeys)),
    cmd!("hvals", 2, READONLY, KEY1, "hash", "2.0.0", "Returns all values in a hash.", S(hash::hvals)),
    cmd!("hdel", -3, WRITE | FAST, KEY1, "hash", "2.0.0", "Deletes one or more fields from a hash; deletes the hash when no field remains.", S(hash::hdel)),
    cmd!("hexists", 3, READONLY | FAST, KEY1, "hash", "2.0.0", "Determines whether a field exists in a hash.", S(hash::hexists)),
    cmd!("hlen", 2, READONLY | FAST, KEY1, "hash", "2.0.0", "Returns the number of fields in a hash.", S(hash::hlen)),
    cmd!("hstrlen", 3, READONLY | FAST, KEY1, "hash", "3.2.0", "Returns the length of the value of a field.", S(hash::hstrlen)),
    cmd!("hincrby", 4, WRITE | DENY_OOM | FAST, KEY1, "hash", "2.0.0", "Increments the integer value of a field in a hash by a number; a missing field counts as 0.", S(hash::hincrby)),
    // JSON documents (RedisJSON, root path only)
    cmd!("json.set", -4, WRITE | DENY_OOM, KEY1, "json", "1.0.0", "Sets the JSON document at a key (root path only), with NX / XX conditions.", S(json::set)),
    cmd!("json.get", -2, READONLY, KEY1, "json", "1.0.0", "Returns the JSON document at a key (root path only), optionally laid out.", S(json::get)),
    cmd!("json.mget", -3, READONLY, (1, -2, 1), "json", "1.0.0", "Returns the JSON documents at several keys (root path only).", S(json::mget)),
    cmd!("json.del", -2, WRITE, KEY1, "json", "1.0.0", "Deletes the JSON document at a key (root path only).", S(json::del)),
    cmd!("json.forget", -2, WRITE, KEY1, "json", "1.0.0", "Deletes the JSON document at a key (root path only); an alias of JSON.DEL.", S(json::del)),
    cmd!("json.type", -2, READONLY | FAST, KEY1, "json", "1.0.0", "Returns the type of the JSON document at a key (root path only).", S(json::type_)),
    // LLM answers
    cmd!("llmget", -2, READONLY | BLOCKING, KEY1, "llm", "0.1.0", "Returns a cached answer; on a miss grants the fill lease, or waits for another caller's fill.", F(llm::llmget)),
    cmd!("llmsetnx", -3, WRITE | DENY_OOM, KEY1, "llm", "0.1.0", "Stores an answer if none is there, ends the key's lease and wakes its waiters.", S(llm::llmsetnx)),
    cmd!("llmabort", 2, WRITE | FAST, KEY1, "llm", "0.1.0", "Gives up the fill lease; the longest-waiting caller is promoted.", S(llm::llmabort)),
    cmd!("llmkey", -2, FAST | LOADING | STALE, NOKEY, "llm", "0.1.0", "Returns the canonical cache key of an LLM request body.", S(llmkey::llmkey)),
    cmd!("llmlookup", -2, READONLY | BLOCKING, NOKEY, "llm", "0.1.0", "Keys a request and looks it up in one round trip, with LLMGET's single-flight semantics.", F(llmkey::llmlookup)),
    cmd!("llmpurge", 2, WRITE, NOKEY, "llm", "0.1.0", "Deletes every answer whose key matches a glob pattern.", F(llmkey::llmpurge)),
    cmd!("llmstats", -1, LOADING | STALE, NOKEY, "llm", "0.1.0", "Returns hit rate, stampede rate, evicted/expired-unread and tokens saved.", S(llm::llmstats)),
];

/// Counters behind `INFO commandstats`, one per table row.
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

/// Runs one command that passed the connection's checks, and counts it in INFO commandstats.
pub fn call(ctx: &mut Ctx<'_>, index: usize, args: &[Bytes]) -> Flow {
    let spec = &COMMANDS[index];
    if spec.has(flag::WRITE) {
        ctx.client.wrote = true;
    }
    let start = Instant::now();
    let flow = match spec.handler {
        Handler::Sync(f) => Flow::Reply(f(ctx, args)),
        Handler::Flow(f) => f(ctx, args),
    };
    let end = Instant::now();
    let usec = end.saturating_duration_since(start).as_micros() as u64;
    if let Some(stat) = ctx.shared.cmdstats.get(index) {
        stat.calls.fetch_add(1, Ordering::Relaxed);
        stat.usec.fetch_add(usec, Ordering::Relaxed);
        if matches!(&flow, Flow::Reply(r) if r.is_error()) {
            stat.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
    ctx.client.info.touch(index, end);
    flow
}

/// Longest command name in the table; longer names cannot match.
const MAX_NAME: usize = 32;

fn index() -> &'static HashMap<&'static [u8], usize> {
    static INDEX: OnceLock<HashMap<&'static [u8], usize>> = OnceLock::new();
    INDEX.get_or_init(|| {
        COMMANDS
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.as_bytes(), i))
            .collect()
    })
}

/// Finds a command by name, case-insensitively, without allocating.
pub fn lookup(name: &[u8]) -> Option<usize> {
    if name.len() > MAX_NAME {
        return None;
    }
    let mut buf = [0u8; MAX_NAME];
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    index().get(&*lower).copied()
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

/// `ERR wrong number of arguments for 'get' command`
pub fn wrong_arity(name: &str) -> Reply {
    Reply::err(format!("wrong number of arguments for '{name}' command"))
}

/// `ERR unknown subcommand 'x'. Try CLIENT HELP.`
pub fn unknown_subcommand(cmd: &str, sub: &[u8]) -> Reply {
    Reply::err(format!(
        "unknown subcommand '{}'. Try {} HELP.",
        lossy(sub, 128),
        cmd.to_ascii_uppercase()
    ))
}

/// Text of an argument for an error message: at most `max` bytes, invalid UTF-8 replaced, and no
/// line breaks.
pub fn lossy(b: &[u8], max: usize) -> String {
    let cut = &b[..b.len().min(max)];
    String::from_utf8_lossy(cut).replace(['\r', '\n'], " ")
}

/// Argument of a subcommand, case-folded for matching.
pub fn sub_name(args: &[Bytes]) -> String {
    args.get(1)
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_lower_case_unique_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for c in COMMANDS {
            assert_eq!(c.name, c.name.to_ascii_lowercase(), "{}", c.name);
            assert!(c.name.len() <= MAX_NAME);
            assert!(seen.insert(c.name), "duplicate {}", c.name);
            assert!(!c.summary.is_empty(), "{} has no summary", c.name);
            assert_ne!(c.arity, 0, "{} has no arity", c.name);
        }
    }

    #[test]
    fn lookup_is_case_insensitive() {
        assert_eq!(lookup(b"GeT").map(|i| COMMANDS[i].name), Some("get"));
        assert_eq!(lookup(b"nope"), None);
        assert_eq!(lookup(&[b'a'; 100]), None);
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
