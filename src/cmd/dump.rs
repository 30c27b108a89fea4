//! DUMP and RESTORE: a key's value as a payload, and back.
//!
//! # Format
//! ```text
//! DUMP key                 -> the payload, or nil
//! RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]  -> OK
//!     ttl: milliseconds to live, 0 for none (with ABSTTL a unix time in ms; one already
//!     past leaves the key absent, and REPLACE still deletes the old value)
//!     -BUSYKEY Target key name already exists.       (without REPLACE)
//!     -ERR DUMP payload version or checksum are wrong (not an llmcached payload, or damaged)
//! ```
//! The payload is llmcached's own serialization ([`crate::persistence::dump`]), not Redis's
//! RDB form: payloads move between llmcached servers, and a payload of Redis's is refused
//! with Redis's own words for a payload it cannot read. Like Redis, DUMP carries neither the
//! TTL nor the LLM metadata (tokens, grace), only the value.

use super::args::{self, Args};
use super::{CommandError, Ctx};
use crate::cache::access::Access;
use crate::cache::{Entry, Value, Write};
use crate::durability::{from_value, persisted};
use crate::persistence::dump;
use crate::protocol::Reply;
use bytes::Bytes;

/// `DUMP key`
pub fn dump(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let Some(entry) = ctx.shared.store.get(&a[1]) else {
        return Ok(Reply::Nil);
    };
    if matches!(entry.value, Value::Packed(_)) {
        // The store hands readers plain strings; a packed one here could not be restored.
        return Err(CommandError::err("the value could not be read"));
    }
    let payload =
        dump::encode(persisted(&entry.value)).map_err(|e| CommandError::err(e.to_string()))?;
    Ok(Reply::Bulk(Bytes::from(payload)))
}

/// What follows RESTORE's payload.
struct Options {
    replace: bool,
    absttl: bool,
    idle: Option<u64>,
    freq: Option<u8>,
}

fn options(a: &[Bytes]) -> Result<Options, CommandError> {
    let mut o = Options {
        replace: false,
        absttl: false,
        idle: None,
        freq: None,
    };
    let mut rest = Args::new(&a[3..]);
    while let Some(opt) = rest.peek() {
        rest.next_bytes()?;
        if args::is(opt, "REPLACE") {
            o.replace = true;
        } else if args::is(opt, "ABSTTL") {
            o.absttl = true;
        } else if args::is(opt, "IDLETIME") && !rest.is_empty() && o.freq.is_none() {
            let idle = rest.next_int()?;
            if idle < 0 {
                return Err(CommandError::err("Invalid IDLETIME value, must be >= 0"));
            }
            o.idle = Some(idle as u64);
        } else if args::is(opt, "FREQ") && !rest.is_empty() && o.idle.is_none() {
            let freq = rest.next_int()?;
            if !(0..=255).contains(&freq) {
                return Err(CommandError::err(
                    "Invalid FREQ value, must be >= 0 and <= 255",
                ));
            }
            o.freq = Some(freq as u8);
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(o)
}

/// `RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]`,
/// checked in Redis's order: options, an existing key, the TTL, the payload.
pub fn restore(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let o = options(a)?;
    let store = &ctx.shared.store;
    let key = &a[1];
    if !o.replace && store.get(key).is_some() {
        return Err(CommandError::coded(
            "BUSYKEY Target key name already exists.",
        ));
    }
    let ttl = args::int(&a[2])?;
    if ttl < 0 {
        return Err(CommandError::err("Invalid TTL value, must be >= 0"));
    }
    let value = dump::decode(&a[3]).map_err(|e| CommandError::err(e.to_string()))?;
    let now = store.clock().now_ms();
    let expire_at = match (ttl as u64, o.absttl) {
        (0, _) => None,
        (t, true) => Some(t),
        (t, false) => Some(now.saturating_add(t)),
    };
    if expire_at.is_some_and(|at| at <= now) {
        // Already expired: the key is left absent (the old value deleted under REPLACE).
        store.write(key, |_| (Write::Remove, ()))?;
        return Ok(Reply::Ok);
    }
    let entry =
        Entry::new(from_value(value), expire_at).with_access(Access::given(now, o.idle, o.freq));
    store.write(key, |cur| match cur {
        Some(_) if !o.replace => (
            Write::Keep,
            Err(CommandError::coded(
                "BUSYKEY Target key name already exists.",
            )),
        ),
        _ => (Write::Put(entry), Ok(())),
    })??;
    Ok(Reply::Ok)
}

#[cfg(test)]
mod tests {
    use crate::cmd::testing::{bulk, error, TestServer};
    use crate::protocol::Reply;

    #[test]
    fn a_dumped_value_restores_with_its_type_and_a_new_ttl() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["ZADD", "z", "1", "a", "2.5", "b"]);
        c.run(&["EXPIRE", "z", "100"]);
        let payload = c.run_bytes(&["DUMP", "z"]);
        assert_eq!(c.run(&["DUMP", "none"]), Reply::Nil);
        assert_eq!(
            c.run_with(&[b"RESTORE", b"z", b"0", &payload]),
            error("BUSYKEY Target key name already exists.")
        );
        assert_eq!(c.run_with(&[b"RESTORE", b"z2", b"0", &payload]), Reply::Ok);
        assert_eq!(c.run(&["ZSCORE", "z2", "b"]), bulk("2.5"));
        assert_eq!(c.run(&["TTL", "z2"]), Reply::Int(-1));
        assert_eq!(
            c.run(&["RESTORE", "z3", "0", "not a payload"]),
            error("ERR DUMP payload version or checksum are wrong")
        );
        assert_eq!(
            c.run(&["RESTORE", "z4", "-1", "x"]),
            error("ERR Invalid TTL value, must be >= 0")
        );
        assert_eq!(
            c.run(&["RESTORE", "z4", "0", "x", "FREQ", "300"]),
            error("ERR Invalid FREQ value, must be >= 0 and <= 255")
        );
        assert_eq!(
            c.run(&["RESTORE", "z4", "0", "x", "IDLETIME", "1", "FREQ", "1"]),
            error("ERR syntax error")
        );
    }

    #[test]
    fn restore_round_trips_every_type() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["SET", "s", "text"]);
        c.run(&["HSET", "h", "f", "v"]);
        c.run(&["RPUSH", "l", "a", "b"]);
        c.run(&["SADD", "set", "m"]);
        for key in ["s", "h", "l", "set"] {
            let payload = c.run_bytes(&["DUMP", key]);
            let restored = format!("{key}-copy");
            assert_eq!(
                c.run_with(&[b"RESTORE", restored.as_bytes(), b"5000", &payload]),
                Reply::Ok
            );
            assert_eq!(c.run(&["TYPE", key]), c.run(&["TYPE", &restored]));
            let ttl = c.run(&["PTTL", &restored]);
            assert!(
                matches!(ttl, Reply::Int(t) if t > 4000 && t <= 5000),
                "{ttl:?}"
            );
            assert_eq!(
                c.run_with(&[
                    b"RESTORE",
                    restored.as_bytes(),
                    b"0",
                    &payload,
                    b"REPLACE",
                    b"FREQ",
                    b"42"
                ]),
                Reply::Ok
            );
            assert_eq!(c.run(&["PTTL", &restored]), Reply::Int(-1));
            let freq = c.run(&["OBJECT", "FREQ", &restored]);
            assert!(matches!(freq, Reply::Int(42 | 43)), "{freq:?}");
        }
        assert_eq!(
            c.run(&["LRANGE", "l-copy", "0", "-1"]),
            Reply::Array(vec![bulk("a"), bulk("b")])
        );
        assert_eq!(c.run(&["GET", "s-copy"]), bulk("text"));
        // A TTL already past under ABSTTL leaves the key absent.
        let payload = c.run_bytes(&["DUMP", "s"]);
        assert_eq!(
            c.run_with(&[b"RESTORE", b"s", b"1", &payload, b"ABSTTL", b"REPLACE"]),
            Reply::Ok
        );
        assert_eq!(c.run(&["EXISTS", "s"]), Reply::Int(0));
    }
}
