//! Counters on string keys: INCR, INCRBY, DECR, DECRBY, INCRBYFLOAT.
//!
//! A counter is a string holding a 64-bit integer in Redis's spelling (`string2ll`: no leading
//! `+`, zeros or spaces); a missing key counts as 0 and the key keeps its TTL, as in Redis.
//! INCRBYFLOAT's result is written in plain positional notation, the shortest digits that read
//! back as the same double (Redis prints its long double with 17 digits, trailing zeros cut;
//! both give `10.6` for `10.5 + 0.1`).

use super::args;
use super::keyspace::{string_of, write};
use super::{CommandError, Ctx};
use crate::cache::{Entry, Value, Write};
use crate::protocol::parse::parse_i64;
use crate::protocol::reply::format_double;
use crate::protocol::Reply;
use bytes::Bytes;

/// Adds `by` to the integer stored at `key`, keeping its TTL.
fn incr_by(ctx: &mut Ctx<'_>, key: &Bytes, by: i64) -> Result<Reply, CommandError> {
    write(&ctx.shared.store, key, |cur| {
        let (n, expire_at) = match cur {
            None => (0, None),
            Some(e) => (
                parse_i64(string_of(e)?).ok_or(CommandError::NotInteger)?,
                e.expire_at,
            ),
        };
        let n = n.checked_add(by).ok_or(CommandError::Overflow)?;
        let mut buf = itoa::Buffer::new();
        let text = Bytes::copy_from_slice(buf.format(n).as_bytes());
        Ok((
            Write::Put(Entry::new(Value::Str(text), expire_at)),
            Reply::Int(n),
        ))
    })
}

/// `INCR key`
pub fn incr(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    incr_by(ctx, &a[1], 1)
}

/// `DECR key`
pub fn decr(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    incr_by(ctx, &a[1], -1)
}

/// `INCRBY key increment`
pub fn incrby(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    incr_by(ctx, &a[1], args::int(&a[2])?)
}

/// `DECRBY key decrement`
pub fn decrby(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    match args::int(&a[2])? {
        // Its negation does not exist; Redis words this case apart.
        i64::MIN => Err(CommandError::err("decrement would overflow")),
        by => incr_by(ctx, &a[1], -by),
    }
}

/// `INCRBYFLOAT key increment`
pub fn incrbyfloat(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let by = args::float(&a[2])?;
    write(&ctx.shared.store, &a[1], |cur| {
        let (n, expire_at) = match cur {
            None => (0.0, None),
            Some(e) => (args::float(string_of(e)?)?, e.expire_at),
        };
        let sum = n + by;
        if !sum.is_finite() {
            return Err(CommandError::err("increment would produce NaN or Infinity"));
        }
        let text = Bytes::from(format_double(sum));
        Ok((
            Write::Put(Entry::new(Value::Str(text.clone()), expire_at)),
            Reply::Bulk(text),
        ))
    })
}

#[cfg(test)]
mod tests {
    use crate::cmd::testing::{bulk, error, TestServer};
    use crate::protocol::Reply;

    #[test]
    fn counters_start_at_zero_and_keep_the_ttl() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(c.run(&["INCR", "n"]), Reply::Int(1));
        assert_eq!(c.run(&["INCRBY", "n", "41"]), Reply::Int(42));
        assert_eq!(c.run(&["DECR", "n"]), Reply::Int(41));
        assert_eq!(c.run(&["DECRBY", "n", "-9"]), Reply::Int(50));
        assert_eq!(c.run(&["GET", "n"]), bulk("50"));
        c.run(&["EXPIRE", "n", "10"]);
        assert_eq!(c.run(&["INCR", "n"]), Reply::Int(51));
        assert_eq!(c.run(&["TTL", "n"]), Reply::Int(10));
    }

    #[test]
    fn overflow_and_non_integers_are_refused_and_change_nothing() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["SET", "n", &i64::MAX.to_string()]);
        let overflow = error("ERR increment or decrement would overflow");
        assert_eq!(c.run(&["INCR", "n"]), overflow);
        assert_eq!(
            c.run(&["DECRBY", "n", &i64::MIN.to_string()]),
            error("ERR decrement would overflow")
        );
        assert_eq!(c.run(&["GET", "n"]), bulk(&i64::MAX.to_string()));
        let not_int = error("ERR value is not an integer or out of range");
        assert_eq!(c.run(&["INCRBY", "n", "1.5"]), not_int);
        for text in ["01", " 1", "+1", "abc"] {
            c.run(&["SET", "s", text]);
            assert_eq!(c.run(&["INCR", "s"]), not_int, "{text:?}");
        }
        c.run(&["HSET", "h", "f", "1"]);
        assert_eq!(
            c.run(&["INCR", "h"]),
            error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
    }

    #[test]
    fn incrbyfloat_adds_and_prints_like_redis() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["SET", "f", "10.50"]);
        assert_eq!(c.run(&["INCRBYFLOAT", "f", "0.1"]), bulk("10.6"));
        assert_eq!(c.run(&["INCRBYFLOAT", "f", "-5"]), bulk("5.6"));
        c.run(&["SET", "f", "5.0e3"]);
        assert_eq!(c.run(&["INCRBYFLOAT", "f", "2.0e2"]), bulk("5200"));
        assert_eq!(c.run(&["INCRBYFLOAT", "new", "3"]), bulk("3"));
        c.run(&["EXPIRE", "new", "100"]);
        c.run(&["INCRBYFLOAT", "new", "1.5"]);
        assert_eq!(c.run(&["TTL", "new"]), Reply::Int(100));
        let not_float = error("ERR value is not a valid float");
        assert_eq!(c.run(&["INCRBYFLOAT", "f", "abc"]), not_float);
        assert_eq!(c.run(&["INCRBYFLOAT", "f", " 1"]), not_float);
        assert_eq!(c.run(&["INCRBYFLOAT", "f", "nan"]), not_float);
        assert_eq!(
            c.run(&["INCRBYFLOAT", "f", "inf"]),
            error("ERR increment would produce NaN or Infinity")
        );
        c.run(&["SET", "s", "text"]);
        assert_eq!(c.run(&["INCRBYFLOAT", "s", "1"]), not_float);
    }
}
