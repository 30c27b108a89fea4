//! Expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL, EXPIRETIME, PEXPIRETIME,
//! PERSIST.
//!
//! Deadlines are absolute unix milliseconds on the store's clock; the unit and overflow
//! arithmetic is shared with SET's options ([`super::ttl`]).

use super::args;
use super::ttl::{self, Base, Unit};
use super::{lossy, CommandError, Ctx};
use crate::cache::{Store, Write};
use crate::protocol::Reply;
use bytes::Bytes;

/// The conditions of the EXPIRE family: `NX | XX | GT | LT`, any of which may repeat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ExpireIf {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl ExpireIf {
    /// Parses the options after the time, with Redis's errors.
    fn parse(options: &[Bytes]) -> Result<ExpireIf, CommandError> {
        let mut c = ExpireIf::default();
        for opt in options {
            let flag = if args::is(opt, "NX") {
                &mut c.nx
            } else if args::is(opt, "XX") {
                &mut c.xx
            } else if args::is(opt, "GT") {
                &mut c.gt
            } else if args::is(opt, "LT") {
                &mut c.lt
            } else {
                return Err(CommandError::err(format!(
                    "Unsupported option {}",
                    lossy(opt, 128)
                )));
            };
            *flag = true;
        }
        if c.nx && (c.xx || c.gt || c.lt) {
            return Err(CommandError::err(
                "NX and XX, GT or LT options at the same time are not compatible",
            ));
        }
        if c.gt && c.lt {
            return Err(CommandError::err(
                "GT and LT options at the same time are not compatible",
            ));
        }
        Ok(c)
    }

    /// Whether the deadline `at` may replace `current` (`None`: no TTL, which counts as
    /// infinite for GT and LT). Each given condition must hold, as in Redis: `XX LT` on a key
    /// without a TTL fails on XX.
    fn allows(self, current: Option<u64>, at: i64) -> bool {
        let at = i128::from(at);
        let current = current.map(i128::from);
        !(self.nx && current.is_some()
            || self.xx && current.is_none()
            || self.gt && current.is_none_or(|t| at <= t)
            || self.lt && current.is_some_and(|t| at >= t))
    }
}

/// The EXPIRE family: `n` in `unit` after `base`. Zero and negative times are accepted and
/// delete the key, as in Redis; options are checked before the time.
fn expire_generic(
    ctx: &mut Ctx<'_>,
    a: &[Bytes],
    unit: Unit,
    base: Base,
    command: &'static str,
) -> Result<Reply, CommandError> {
    let cond = ExpireIf::parse(&a[3..])?;
    let n = args::int(&a[2])?;
    let store = &ctx.shared.store;
    let now = store.clock().now_ms();
    let at = ttl::deadline(n, unit, base, now).ok_or(CommandError::InvalidExpire(command))?;
    Ok(store.write(&a[1], |cur| {
        let Some(e) = cur else {
            return (Write::Keep, Reply::Int(0));
        };
        if !cond.allows(e.expire_at, at) {
            (Write::Keep, Reply::Int(0))
        } else if at <= now as i64 {
            // A time in the past deletes the key, as in Redis.
            (Write::Remove, Reply::Int(1))
        } else {
            (Write::Put(e.retimed(Some(at as u64))), Reply::Int(1))
        }
    })?)
}

/// `EXPIRE key seconds [NX|XX|GT|LT]`
pub fn expire(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    expire_generic(ctx, a, Unit::Seconds, Base::Now, "expire")
}

/// `PEXPIRE key milliseconds [NX|XX|GT|LT]`
pub fn pexpire(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    expire_generic(ctx, a, Unit::Millis, Base::Now, "pexpire")
}

/// `EXPIREAT key unix-time-seconds [NX|XX|GT|LT]`
pub fn expireat(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    expire_generic(ctx, a, Unit::Seconds, Base::Epoch, "expireat")
}

/// `PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]`
pub fn pexpireat(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    expire_generic(ctx, a, Unit::Millis, Base::Epoch, "pexpireat")
}

/// Remaining time to live: -2 for a missing key, -1 for no TTL; seconds are rounded.
fn ttl_generic(store: &Store, key: &[u8], unit: Unit) -> Reply {
    let Some(e) = store.get(key) else {
        return Reply::Int(-2);
    };
    match e.expire_at {
        None => Reply::Int(-1),
        Some(at) => {
            let left = at.saturating_sub(store.clock().now_ms()) as i64;
            Reply::Int(match unit {
                Unit::Millis => left,
                Unit::Seconds => (left + 500) / 1000,
            })
        }
    }
}

/// `TTL key`
pub fn ttl(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(ttl_generic(&ctx.shared.store, &a[1], Unit::Seconds))
}

/// `PTTL key`
pub fn pttl(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(ttl_generic(&ctx.shared.store, &a[1], Unit::Millis))
}

/// The deadline as a unix time: -2 for a missing key, -1 for no TTL; seconds are rounded, as
/// Redis rounds them (`PEXPIREAT k 4000000000600` then `EXPIRETIME k` is 4000000001).
fn expiretime_generic(store: &Store, key: &[u8], unit: Unit) -> Reply {
    Reply::Int(match store.get(key) {
        None => -2,
        Some(e) => match (e.expire_at, unit) {
            (None, _) => -1,
            (Some(at), Unit::Millis) => at as i64,
            (Some(at), Unit::Seconds) => ((u128::from(at) + 500) / 1000) as i64,
        },
    })
}

/// `EXPIRETIME key`
pub fn expiretime(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(expiretime_generic(&ctx.shared.store, &a[1], Unit::Seconds))
}

/// `PEXPIRETIME key`
pub fn pexpiretime(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(expiretime_generic(&ctx.shared.store, &a[1], Unit::Millis))
}

/// `PERSIST key`
pub fn persist(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(ctx.shared.store.write(&a[1], |cur| match cur {
        Some(e) if e.expire_at.is_some() => (Write::Put(e.retimed(None)), Reply::Int(1)),
        _ => (Write::Keep, Reply::Int(0)),
    })?)
}

#[cfg(test)]
mod tests {
    use crate::cmd::testing::{error, TestServer};
    use crate::protocol::Reply;

    #[test]
    fn conditions_each_hold_as_in_redis() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["SET", "k", "v"]);
        assert_eq!(c.run(&["EXPIRE", "k", "100", "XX"]), Reply::Int(0));
        assert_eq!(c.run(&["EXPIRE", "k", "100", "GT"]), Reply::Int(0));
        // XX fails on a key without a TTL, whatever LT says.
        assert_eq!(c.run(&["EXPIRE", "k", "100", "XX", "LT"]), Reply::Int(0));
        assert_eq!(c.run(&["TTL", "k"]), Reply::Int(-1));
        assert_eq!(c.run(&["EXPIRE", "k", "100", "NX"]), Reply::Int(1));
        assert_eq!(c.run(&["EXPIRE", "k", "200", "NX", "NX"]), Reply::Int(0));
        assert_eq!(c.run(&["EXPIRE", "k", "50", "GT"]), Reply::Int(0));
        assert_eq!(c.run(&["EXPIRE", "k", "200", "XX", "GT"]), Reply::Int(1));
        assert_eq!(c.run(&["EXPIRE", "k", "300", "LT"]), Reply::Int(0));
        assert_eq!(c.run(&["PEXPIRE", "k", "50000", "lt"]), Reply::Int(1));
        assert_eq!(c.run(&["TTL", "k"]), Reply::Int(50));
        assert_eq!(c.run(&["EXPIRE", "missing", "10"]), Reply::Int(0));
    }

    #[test]
    fn option_errors_come_before_the_number() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(
            c.run(&["EXPIRE", "k", "abc", "FOO"]),
            error("ERR Unsupported option FOO")
        );
        assert_eq!(
            c.run(&["EXPIRE", "k", "10", "XX", "NX"]),
            error("ERR NX and XX, GT or LT options at the same time are not compatible")
        );
        assert_eq!(
            c.run(&["PEXPIRE", "k", "10", "GT", "LT"]),
            error("ERR GT and LT options at the same time are not compatible")
        );
        assert_eq!(
            c.run(&["EXPIRE", "k", "abc"]),
            error("ERR value is not an integer or out of range")
        );
    }

    #[test]
    fn overflow_is_an_invalid_expire_time_and_the_past_deletes() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["SET", "k", "v"]);
        for (cmd, n) in [
            ("EXPIRE", "9223372036854775"),
            ("PEXPIRE", "9223372036854775807"),
            ("EXPIREAT", "-9223372036854776"),
        ] {
            assert_eq!(
                c.run(&[cmd, "k", n]),
                error(&format!(
                    "ERR invalid expire time in '{}' command",
                    cmd.to_ascii_lowercase()
                ))
            );
        }
        assert_eq!(
            c.run(&["PEXPIREAT", "k", "9223372036854775807"]),
            Reply::Int(1)
        );
        assert_eq!(c.run(&["PEXPIRETIME", "k"]), Reply::Int(i64::MAX));
        assert_eq!(
            c.run(&["EXPIRETIME", "k"]),
            Reply::Int(9_223_372_036_854_776)
        );
        assert_eq!(c.run(&["EXPIRE", "k", "0"]), Reply::Int(1));
        assert_eq!(c.run(&["EXISTS", "k"]), Reply::Int(0));
        c.run(&["SET", "k", "v"]);
        assert_eq!(c.run(&["PEXPIREAT", "k", "-5"]), Reply::Int(1));
        assert_eq!(c.run(&["EXISTS", "k"]), Reply::Int(0));
    }

    #[test]
    fn ttl_counts_down_with_the_clock_and_persist_clears_it() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(c.run(&["TTL", "k"]), Reply::Int(-2));
        assert_eq!(c.run(&["PTTL", "k"]), Reply::Int(-2));
        assert_eq!(c.run(&["EXPIRETIME", "k"]), Reply::Int(-2));
        c.run(&["SET", "k", "v"]);
        assert_eq!(c.run(&["TTL", "k"]), Reply::Int(-1));
        assert_eq!(c.run(&["PEXPIRETIME", "k"]), Reply::Int(-1));
        assert_eq!(c.run(&["PERSIST", "k"]), Reply::Int(0));
        c.run(&["EXPIRE", "k", "100"]);
        server.clock.advance(40_000);
        assert_eq!(c.run(&["TTL", "k"]), Reply::Int(60));
        // Seconds are rounded, in TTL as in EXPIRETIME.
        c.run(&["PEXPIREAT", "k", "4000000000600"]);
        assert_eq!(c.run(&["EXPIRETIME", "k"]), Reply::Int(4_000_000_001));
        c.run(&["PEXPIREAT", "k", "4000000000499"]);
        assert_eq!(c.run(&["EXPIRETIME", "k"]), Reply::Int(4_000_000_000));
        assert_eq!(c.run(&["PERSIST", "k"]), Reply::Int(1));
        assert_eq!(c.run(&["TTL", "k"]), Reply::Int(-1));
    }
}
