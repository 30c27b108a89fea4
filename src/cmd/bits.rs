//! Bits of strings: SETBIT, GETBIT, BITCOUNT. Bit 0 is the most significant bit of the first
//! byte, as in Redis.
//!
//! # Format
//! ```text
//! SETBIT key offset 0|1                     -> the bit's old value; the string grows with zeros
//! GETBIT key offset                         -> 0 or 1 (0 past the end)
//! BITCOUNT key [start end [BYTE|BIT]]       -> the number of set bits in the range
//! ```

use super::args::{self, Args};
use super::keyspace::{lookup_read, string_of, write};
use super::range::clip;
use super::{CommandError, Ctx};
use crate::cache::{Entry, Value, Write};
use crate::protocol::Reply;
use bytes::Bytes;

/// Redis caps a bit offset at 2^32 - 1 (a 512 MB string).
const MAX_BIT_OFFSET: u64 = (1 << 32) - 1;

fn bit_offset(arg: &[u8], max_bulk: usize) -> Result<u64, CommandError> {
    let bad = || CommandError::err("bit offset is not an integer or out of range");
    let n = args::uint(arg).map_err(|_| bad())?;
    if n > MAX_BIT_OFFSET || (n >> 3) >= max_bulk as u64 {
        return Err(bad());
    }
    Ok(n)
}

/// `SETBIT key offset value`
pub fn setbit(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let offset = bit_offset(&a[2], ctx.shared.config().proto_max_bulk_len)?;
    let on = match a[3].as_ref() {
        b"0" => false,
        b"1" => true,
        _ => return Err(CommandError::err("bit is not an integer or out of range")),
    };
    let (byte, mask) = ((offset >> 3) as usize, 0x80u8 >> (offset & 7));
    write(&ctx.shared.store, &a[1], |cur| {
        let mut v = match cur {
            None => Vec::new(),
            Some(e) => string_of(e)?.to_vec(),
        };
        if v.len() <= byte {
            v.resize(byte + 1, 0);
        }
        let old = v[byte] & mask != 0;
        if on {
            v[byte] |= mask;
        } else {
            v[byte] &= !mask;
        }
        let entry = Entry::new(Value::Str(Bytes::from(v)), cur.and_then(|e| e.expire_at));
        Ok((Write::Put(entry), Reply::Int(old as i64)))
    })
}

/// `GETBIT key offset`
pub fn getbit(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let offset = bit_offset(&a[2], ctx.shared.config().proto_max_bulk_len)?;
    let Some(e) = lookup_read(&ctx.shared.store, &a[1]) else {
        return Ok(Reply::Int(0));
    };
    let v = string_of(&e)?;
    let bit = v
        .get((offset >> 3) as usize)
        .is_some_and(|b| b & (0x80 >> (offset & 7)) != 0);
    Ok(Reply::Int(bit as i64))
}

/// `BITCOUNT key [start end [BYTE|BIT]]`
pub fn bitcount(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let mut args = Args::new(&a[1..]);
    let range = match args.remaining() {
        0 => None,
        1 => return Err(CommandError::Syntax),
        _ => {
            let (start, end) = (args.next_int()?, args.next_int()?);
            let bits = if args.eat("BIT") {
                true
            } else {
                args.eat("BYTE");
                false
            };
            if !args.is_empty() {
                return Err(CommandError::Syntax);
            }
            Some((start, end, bits))
        }
    };
    let Some(e) = lookup_read(&ctx.shared.store, &a[1]) else {
        return Ok(Reply::Int(0));
    };
    let v = string_of(&e)?;
    let ones = |b: &[u8]| b.iter().map(|x| x.count_ones() as i64).sum::<i64>();
    Ok(Reply::Int(match range {
        None => ones(v),
        Some((start, end, false)) => clip(v.len(), start, end).map_or(0, |(s, e)| ones(&v[s..=e])),
        Some((start, end, true)) => match clip(v.len() * 8, start, end) {
            None => 0,
            Some((s, e)) => (s..=e)
                .filter(|i| v[i >> 3] & (0x80 >> (i & 7)) != 0)
                .count() as i64,
        },
    }))
}

#[cfg(test)]
mod tests {
    use crate::cmd::testing::{bulk, error, TestServer};
    use crate::protocol::Reply;

    #[test]
    fn setbit_and_getbit_address_bits_from_the_most_significant() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(c.run(&["SETBIT", "k", "1", "1"]), Reply::Int(0));
        assert_eq!(c.run(&["SETBIT", "k", "7", "1"]), Reply::Int(0));
        assert_eq!(c.run(&["GET", "k"]), bulk("A"));
        assert_eq!(c.run(&["SETBIT", "k", "7", "0"]), Reply::Int(1));
        assert_eq!(c.run(&["GETBIT", "k", "1"]), Reply::Int(1));
        assert_eq!(c.run(&["GETBIT", "k", "1000"]), Reply::Int(0));
        assert_eq!(c.run(&["SETBIT", "k", "23", "1"]), Reply::Int(0));
        assert_eq!(c.run(&["STRLEN", "k"]), Reply::Int(3));
        let bad_offset = error("ERR bit offset is not an integer or out of range");
        assert_eq!(c.run(&["SETBIT", "k", "-1", "1"]), bad_offset);
        assert_eq!(c.run(&["GETBIT", "k", "4294967296"]), bad_offset);
        assert_eq!(
            c.run(&["SETBIT", "k", "0", "2"]),
            error("ERR bit is not an integer or out of range")
        );
    }

    #[test]
    fn bitcount_over_bytes_and_bits() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["SET", "k", "foobar"]);
        assert_eq!(c.run(&["BITCOUNT", "k"]), Reply::Int(26));
        assert_eq!(c.run(&["BITCOUNT", "k", "0", "0"]), Reply::Int(4));
        assert_eq!(c.run(&["BITCOUNT", "k", "1", "1"]), Reply::Int(6));
        assert_eq!(c.run(&["BITCOUNT", "k", "1", "1", "BYTE"]), Reply::Int(6));
        assert_eq!(c.run(&["BITCOUNT", "k", "5", "30", "BIT"]), Reply::Int(17));
        assert_eq!(c.run(&["BITCOUNT", "k", "-2", "-1"]), Reply::Int(7));
        assert_eq!(c.run(&["BITCOUNT", "missing"]), Reply::Int(0));
        assert_eq!(c.run(&["BITCOUNT", "k", "0"]), error("ERR syntax error"));
    }
}
