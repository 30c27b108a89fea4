//! Introspection of keys and memory: OBJECT and MEMORY, with Redis 7.0's subcommands and texts.
//!
//! # Format
//! ```text
//! OBJECT ENCODING key     -> the encoding Redis would use for this value and size
//! OBJECT FREQ key         -> the LFU counter (only under an LFU policy, as in Redis)
//! OBJECT IDLETIME key     -> seconds since the last read (only under an LRU policy)
//! OBJECT REFCOUNT key     -> 1 (2147483647 for the small integers Redis shares)
//! MEMORY USAGE key [SAMPLES n] -> the bytes the key weighs against the byte budget
//! MEMORY STATS            -> a map of the server's memory figures
//! MEMORY DOCTOR           -> a report in words
//! MEMORY PURGE | MALLOC-STATS | HELP
//! ```
//! A missing key is a nil reply for every key subcommand. `MEMORY USAGE` is the weight the
//! store charges the key (key, value, per-entry overhead and any vector an index keeps for it),
//! the figure `maxmemory` is enforced with; `SAMPLES` is accepted and has nothing to sample.

use super::args;
use super::keyspace::lookup_read;
use super::spec::flag::*;
use super::{CommandError, CommandSpec, Ctx, Handler};
use crate::cache::{EvictionKind, Value};
use crate::metrics::info;
use crate::protocol::parse::parse_i64;
use crate::protocol::Reply;
use crate::sub;
use bytes::Bytes;

const KEY: (i32, i32, i32) = (2, 2, 1);

/// `OBJECT`'s subcommand rows.
#[rustfmt::skip]
pub static OBJECT: &[CommandSpec] = &[
    sub!("object", "encoding", 3, READONLY, 0, "generic", "2.2.3", "key", "Returns the internal encoding of a Redis object.", Handler::Sync(encoding), keys: KEY),
    sub!("object", "freq", 3, READONLY, 0, "generic", "4.0.0", "key", "Returns the logarithmic access frequency counter of a Redis object.", Handler::Sync(freq), keys: KEY),
    sub!("object", "idletime", 3, READONLY, 0, "generic", "2.2.3", "key", "Returns the time since the last access to a Redis object.", Handler::Sync(idletime), keys: KEY),
    sub!("object", "refcount", 3, READONLY, 0, "generic", "2.2.3", "key", "Returns the reference count of a value of a key.", Handler::Sync(refcount), keys: KEY),
    sub!("object", "help", 2, LOADING | STALE, 0, "generic", "6.2.0", "", "Returns helpful text about the different subcommands.", Handler::Sync(object_help)),
];

/// `MEMORY`'s subcommand rows.
#[rustfmt::skip]
pub static MEMORY: &[CommandSpec] = &[
    sub!("memory", "doctor", 2, 0, 0, "server", "4.0.0", "", "Outputs a memory problems report.", Handler::Sync(doctor)),
    sub!("memory", "malloc-stats", 2, 0, 0, "server", "4.0.0", "", "Returns the allocator statistics.", Handler::Sync(malloc_stats)),
    sub!("memory", "purge", 2, 0, 0, "server", "4.0.0", "", "Asks the allocator to release memory.", Handler::Sync(purge)),
    sub!("memory", "stats", 2, 0, 0, "server", "4.0.0", "", "Returns details about memory usage.", Handler::Sync(stats)),
    sub!("memory", "usage", -3, READONLY, 0, "server", "4.0.0", "key [SAMPLES count]", "Estimates the memory usage of a key.", Handler::Sync(usage), keys: KEY),
    sub!("memory", "help", 2, LOADING | STALE, 0, "server", "4.0.0", "", "Returns helpful text about the different subcommands.", Handler::Sync(memory_help)),
];

/// Redis 7.0.15's `OBJECT HELP`, word for word.
const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// Redis 7.0.15's `MEMORY HELP`, word for word.
const MEMORY_HELP: &[&str] = &[
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
];

fn lines(text: &'static [&'static str]) -> Reply {
    Reply::Array(text.iter().map(|l| Reply::Simple(l)).collect())
}

fn object_help(_: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(lines(OBJECT_HELP))
}

fn memory_help(_: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(lines(MEMORY_HELP))
}

/// Redis's limits for the compact encodings (its default `*-max-listpack-*` settings).
const LISTPACK_ENTRIES: usize = 128;
const LISTPACK_VALUE: usize = 64;
/// The longest string Redis stores as `embstr`.
const EMBSTR_MAX: usize = 44;

/// The encoding Redis would report for `value`.
pub fn encoding_of(value: &Value) -> &'static str {
    match value {
        Value::Str(s) if s.len() <= 20 && parse_i64(s).is_some() => "int",
        Value::Str(s) if s.len() <= EMBSTR_MAX => "embstr",
        Value::Str(_) => "raw",
        // Readers get strings unpacked; a compressed one is a long string.
        Value::Packed(_) => "raw",
        Value::Hash(h)
            if h.len() <= LISTPACK_ENTRIES
                && h.iter()
                    .all(|(k, v)| k.len() <= LISTPACK_VALUE && v.len() <= LISTPACK_VALUE) =>
        {
            "listpack"
        }
        Value::Hash(_) => "hashtable",
        Value::List(c) => c.read(super::list::encoding),
        Value::Set(c) => c.read(super::set::encoding),
        Value::ZSet(c) => c.read(super::zset::encoding),
        // A module type (RedisJSON) reports the raw encoding in Redis.
        Value::Json(_) => "raw",
    }
}

fn encoding(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(match ctx.shared.store.get(&a[2]) {
        Some(e) => Reply::from_static(encoding_of(&e.value)),
        None => Reply::Nil,
    })
}

fn refcount(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(match ctx.shared.store.get(&a[2]) {
        // Redis shares the objects of the integers 0..10000 (OBJ_SHARED_REFCOUNT).
        Some(e) => match e.as_str().and_then(|s| parse_i64(s)) {
            Some(n) if (0..10_000).contains(&n) => Reply::Int(i32::MAX as i64),
            _ => Reply::Int(1),
        },
        None => Reply::Nil,
    })
}

fn freq(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let store = &ctx.shared.store;
    let Some(e) = store.get(&a[2]) else {
        return Ok(Reply::Nil);
    };
    if store.eviction() != EvictionKind::TinyLfu {
        return Err(CommandError::err("An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    Ok(Reply::Int(e.access().freq(store.clock().now_ms()) as i64))
}

fn idletime(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let store = &ctx.shared.store;
    let Some(e) = store.get(&a[2]) else {
        return Ok(Reply::Nil);
    };
    if store.eviction() == EvictionKind::TinyLfu {
        return Err(CommandError::err("An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    Ok(Reply::Int(
        e.access().idle_secs(store.clock().now_ms()) as i64
    ))
}

fn usage(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    match a.len() {
        3 => {}
        5 if args::is(&a[3], "SAMPLES") => {
            args::int(&a[4])?;
        }
        _ => return Err(CommandError::Syntax),
    }
    Ok(match lookup_read(&ctx.shared.store, &a[2]) {
        Some(_) => match ctx.shared.store.weight_of(&a[2]) {
            Some(w) => Reply::Int(w as i64),
            None => Reply::Nil,
        },
        None => Reply::Nil,
    })
}

fn stats(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    let store = &ctx.shared.store;
    let used = store.used_bytes();
    let rss = info::rss_bytes().unwrap_or(0);
    let keys = store.len();
    let per_key = used.checked_div(keys).unwrap_or(0);
    let frag = if used > 0 {
        rss as f64 / used as f64
    } else {
        1.0
    };
    let ratio = |n: u64, d: u64| {
        Reply::Double(if d > 0 {
            100.0 * n as f64 / d as f64
        } else {
            0.0
        })
    };
    Ok(Reply::map([
        ("peak.allocated", Reply::Int(used as i64)),
        ("total.allocated", Reply::Int(used as i64)),
        ("startup.allocated", Reply::Int(0)),
        ("replication.backlog", Reply::Int(0)),
        ("clients.slaves", Reply::Int(0)),
        (
            "clients.normal",
            Reply::Int(ctx.shared.clients.count() as i64),
        ),
        ("cluster.links", Reply::Int(0)),
        ("aof.buffer", Reply::Int(0)),
        ("lua.caches", Reply::Int(0)),
        ("functions.caches", Reply::Int(0)),
        ("overhead.total", Reply::Int(0)),
        ("keys.count", Reply::Int(keys as i64)),
        ("keys.bytes-per-key", Reply::Int(per_key as i64)),
        ("dataset.bytes", Reply::Int(used as i64)),
        ("dataset.percentage", ratio(used, used)),
        ("peak.percentage", ratio(used, used)),
        ("fragmentation", Reply::Double(frag)),
        ("fragmentation.bytes", Reply::Int(rss as i64 - used as i64)),
    ]))
}

fn doctor(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    let used = ctx.shared.store.used_bytes();
    let rss = info::rss_bytes().unwrap_or(0);
    // Redis's thresholds: below 5 MB there is nothing to judge; fragmentation above 1.4.
    let text = if used < 5 << 20 {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.".to_string()
    } else if rss as f64 / used as f64 > 1.4 {
        format!("Sam, I detected a few issues in this instance memory implants:\n\n * High fragmentation: This instance has a memory fragmentation greater than 1.4 (this means that the Resident Set Size of the process is much larger than the dataset: {rss} bytes of RSS for {used} bytes of data). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot.\n\nI'm here to keep you safe, Sam. I want to help you.\n")
    } else {
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.".to_string()
    };
    Ok(Reply::Verbatim(text))
}

fn purge(_: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    // As Redis with an allocator other than jemalloc: nothing to ask of it. The allocator
    // returns freed pages to the system on its own after its purge delay (see main.rs).
    Ok(Reply::Ok)
}

fn malloc_stats(_: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(Reply::Verbatim(
        "Stats not supported for the current allocator".into(),
    ))
}

#[cfg(test)]
mod tests {
    use crate::cache::EvictionKind;
    use crate::cmd::testing::{bulk, TestServer};
    use crate::config::Config;
    use crate::protocol::Reply;

    #[test]
    fn object_encoding_follows_redis_size_rules() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["SET", "int", "12345"]);
        c.run(&["SET", "short", "hello"]);
        c.run(&["SET", "long", &"x".repeat(45)]);
        c.run(&["HSET", "small", "f", "v"]);
        c.run(&["HSET", "big", "f", &"v".repeat(65)]);
        for (key, want) in [
            ("int", "int"),
            ("short", "embstr"),
            ("long", "raw"),
            ("small", "listpack"),
            ("big", "hashtable"),
        ] {
            assert_eq!(c.run(&["OBJECT", "ENCODING", key]), bulk(want), "{key}");
        }
        assert_eq!(c.run(&["OBJECT", "ENCODING", "missing"]), Reply::Nil);
        assert_eq!(c.run(&["OBJECT", "REFCOUNT", "short"]), Reply::Int(1));
        c.run(&["SET", "shared", "7"]);
        assert_eq!(
            c.run(&["OBJECT", "REFCOUNT", "shared"]),
            Reply::Int(2147483647)
        );
    }

    #[test]
    fn freq_under_lfu_and_idletime_under_lru() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["SET", "k", "v"]);
        assert_eq!(c.run(&["OBJECT", "FREQ", "k"]), Reply::Int(5));
        for _ in 0..200 {
            c.run(&["GET", "k"]);
        }
        let Reply::Int(hot) = c.run(&["OBJECT", "FREQ", "k"]) else {
            panic!("no counter")
        };
        assert!(hot > 5, "{hot}");
        assert!(c.run(&["OBJECT", "IDLETIME", "k"]).is_error());

        let lru = TestServer::with_config(Config {
            eviction: EvictionKind::Lru,
            ..Config::default()
        });
        let mut c = lru.client();
        c.run(&["SET", "k", "v"]);
        lru.shared.store.clock().advance(7_000);
        assert_eq!(c.run(&["OBJECT", "IDLETIME", "k"]), Reply::Int(7));
        c.run(&["GET", "k"]);
        assert_eq!(c.run(&["OBJECT", "IDLETIME", "k"]), Reply::Int(0));
        assert!(c.run(&["OBJECT", "FREQ", "k"]).is_error());
    }

    #[test]
    fn memory_usage_is_the_weight_the_budget_charges() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["SET", "k", &"x".repeat(1000)]);
        let Reply::Int(w) = c.run(&["MEMORY", "USAGE", "k"]) else {
            panic!("no usage")
        };
        let store = &server.shared.store;
        store.run_maintenance();
        assert_eq!(w as u64, store.used_bytes());
        // Stored as they came (compression is off by default): key, value and overhead.
        let overhead = crate::cache::entry::ENTRY_OVERHEAD as i64;
        assert_eq!(w, overhead + 1 + 1000);
        // Compressed, 1000 x's are charged far below 1000.
        c.run(&["CONFIG", "SET", "compression", "yes"]);
        c.run(&["SET", "z", &"x".repeat(1000)]);
        let Reply::Int(z) = c.run(&["MEMORY", "USAGE", "z"]) else {
            panic!("no usage")
        };
        assert!(z > overhead && z < overhead + 100, "{z}");
        assert_eq!(
            c.run(&["MEMORY", "USAGE", "k", "SAMPLES", "0"]),
            Reply::Int(w)
        );
        assert_eq!(c.run(&["MEMORY", "USAGE", "missing"]), Reply::Nil);
        assert!(c.run(&["MEMORY", "USAGE", "k", "FOO", "1"]).is_error());
        let Reply::Map(stats) = c.run(&["MEMORY", "STATS"]) else {
            panic!("stats is a map")
        };
        assert!(stats.contains(&(bulk("keys.count"), Reply::Int(2))));
    }

    #[test]
    fn encodings_are_redis_7_0_names_for_the_size() {
        let s = TestServer::new();
        let mut c = s.client();
        c.run(&["SET", "n", "123"]);
        c.run(&["SET", "e", "hello"]);
        c.run(&["SET", "r", &"x".repeat(45)]);
        c.run(&["HSET", "h", "a", "1"]);
        c.run(&["RPUSH", "l", "a"]);
        c.run(&["SADD", "si", "1", "2"]);
        c.run(&["SADD", "ss", "a"]);
        c.run(&["ZADD", "z", "1", "a"]);
        c.run(&["ZADD", "zb", "1", &"m".repeat(65)]);
        for (key, want) in [
            ("n", "int"),
            ("e", "embstr"),
            ("r", "raw"),
            ("h", "listpack"),
            ("l", "quicklist"),
            ("si", "intset"),
            ("ss", "hashtable"),
            ("z", "listpack"),
            ("zb", "skiplist"),
        ] {
            assert_eq!(c.run(&["OBJECT", "ENCODING", key]), bulk(want), "{key}");
        }
        assert_eq!(c.run(&["OBJECT", "ENCODING", "nokey"]), Reply::Nil);
        let Reply::Array(lines) = c.run(&["OBJECT", "HELP"]) else {
            panic!()
        };
        assert_eq!(lines.last(), Some(&Reply::Simple("    Prints this help.")));
    }
}
