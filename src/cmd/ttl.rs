//! Expiry options, parsed once for every command that takes them.
//!
//! SET, GETEX and LLMSETNX take their TTL words through [`TtlOptions::take`]; SET, GETEX,
//! SETEX / PSETEX and LLMSETNX turn the number into a deadline with [`Expiry::resolve`]; the
//! EXPIRE family shares the unit and overflow arithmetic ([`deadline`]). The rules are Redis
//! 7.0's (`parseExtendedStringArgumentsOrReply`, `getExpireMillisecondsOrReply`,
//! `expireGenericCommand`):
//! - An option may repeat (`EX 10 EX 20`: the last wins), but two different expiry words, or one
//!   with KEEPTTL / PERSIST, are `ERR syntax error`, as is a word missing its number.
//! - The number is read only after every option has been parsed, so a syntax error anywhere
//!   wins over a bad number (`SET k v EX 0 NX XX` is a syntax error).
//! - For SET and its kin the number must be an integer (`ERR value is not an integer or out of
//!   range`), above zero, and the deadline must fit in an i64 of unix milliseconds, else
//!   `ERR invalid expire time in '<command>' command`. A deadline in the past (EXAT 1) is valid:
//!   the key is gone at once.
//! - The EXPIRE family accepts zero and negative numbers (the key is deleted); only an overflow
//!   is an invalid expire time.

use super::args::{self, Args};
use super::CommandError;
use bytes::Bytes;

/// What an expiry number counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Millis,
}

/// What an expiry number counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// Relative: from the store's clock now (EX, PX, EXPIRE, PEXPIRE).
    Now,
    /// Absolute: from the unix epoch (EXAT, PXAT, EXPIREAT, PEXPIREAT).
    Epoch,
}

/// `n` units after `base`, in unix milliseconds; `None` if that does not fit in an i64 (Redis's
/// overflow checks, which make it an invalid expire time).
pub fn deadline(n: i64, unit: Unit, base: Base, now_ms: u64) -> Option<i64> {
    let ms = match unit {
        Unit::Seconds => n.checked_mul(1000)?,
        Unit::Millis => n,
    };
    match base {
        Base::Now => i64::try_from(now_ms).ok()?.checked_add(ms),
        Base::Epoch => Some(ms),
    }
}

/// An expiry word: EX, PX, EXAT or PXAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ex,
    Px,
    ExAt,
    PxAt,
}

impl Kind {
    /// The word `arg` names, case-insensitively.
    pub fn of(arg: &[u8]) -> Option<Kind> {
        [
            ("EX", Kind::Ex),
            ("PX", Kind::Px),
            ("EXAT", Kind::ExAt),
            ("PXAT", Kind::PxAt),
        ]
        .into_iter()
        .find(|(w, _)| args::is(arg, w))
        .map(|(_, k)| k)
    }

    fn unit(self) -> Unit {
        match self {
            Kind::Ex | Kind::ExAt => Unit::Seconds,
            Kind::Px | Kind::PxAt => Unit::Millis,
        }
    }

    fn base(self) -> Base {
        match self {
            Kind::Ex | Kind::Px => Base::Now,
            Kind::ExAt | Kind::PxAt => Base::Epoch,
        }
    }
}

/// An expiry as the command gave it: the word and its number, not yet read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry<'a> {
    pub kind: Kind,
    arg: &'a [u8],
}

impl<'a> Expiry<'a> {
    pub fn new(kind: Kind, arg: &'a [u8]) -> Self {
        Expiry { kind, arg }
    }

    /// The deadline in unix milliseconds (in the past for an EXAT / PXAT that has passed).
    /// `command` names the command in the error text (`set`, `getex`, `setex`, ...).
    pub fn resolve(&self, now_ms: u64, command: &'static str) -> Result<u64, CommandError> {
        let n = args::int(self.arg)?;
        let invalid = CommandError::InvalidExpire(command);
        if n <= 0 {
            return Err(invalid);
        }
        match deadline(n, self.kind.unit(), self.kind.base(), now_ms) {
            Some(at) if at > 0 => Ok(at as u64),
            _ => Err(invalid),
        }
    }
}

/// Which TTL words a command takes besides EX and PX.
#[derive(Debug, Clone, Copy)]
pub struct Accepts {
    /// EXAT and PXAT.
    absolute: bool,
    keepttl: bool,
    persist: bool,
}

/// SET: `EX | PX | EXAT | PXAT | KEEPTTL`.
pub const SET: Accepts = Accepts {
    absolute: true,
    keepttl: true,
    persist: false,
};

/// GETEX: `EX | PX | EXAT | PXAT | PERSIST`.
pub const GETEX: Accepts = Accepts {
    absolute: true,
    keepttl: false,
    persist: true,
};

/// LLMSETNX: `EX | PX`.
pub const LLMSETNX: Accepts = Accepts {
    absolute: false,
    keepttl: false,
    persist: false,
};

/// The TTL options of one command, gathered while its options are parsed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TtlOptions<'a> {
    pub expiry: Option<Expiry<'a>>,
    /// KEEPTTL: the key keeps its current expiry.
    pub keepttl: bool,
    /// PERSIST: the key loses its expiry.
    pub persist: bool,
}

impl<'a> TtlOptions<'a> {
    /// Takes the TTL option at the cursor, with its number, if it is one that `accepts` allows
    /// and that does not conflict with those taken before; returns whether it did. When it did
    /// not, the caller tries its own options and answers `ERR syntax error` if none fits, which
    /// is how Redis treats a conflicting or incomplete TTL option.
    pub fn take(&mut self, accepts: Accepts, args: &mut Args<'a>) -> bool {
        let rest = args.rest();
        let Some(word) = rest.first() else {
            return false;
        };
        let taken = if accepts.keepttl && args::is(word, "KEEPTTL") {
            if self.expiry.is_some() || self.persist {
                return false;
            }
            self.keepttl = true;
            1
        } else if accepts.persist && args::is(word, "PERSIST") {
            if self.expiry.is_some() || self.keepttl {
                return false;
            }
            self.persist = true;
            1
        } else if let Some(kind) =
            Kind::of(word).filter(|k| accepts.absolute || k.base() == Base::Now)
        {
            // The same word again replaces the number; any other expiry word conflicts.
            let conflict =
                self.keepttl || self.persist || self.expiry.is_some_and(|e| e.kind != kind);
            let Some(n) = rest.get(1).filter(|_| !conflict) else {
                return false;
            };
            self.expiry = Some(Expiry::new(kind, n));
            2
        } else {
            return false;
        };
        for _ in 0..taken {
            let _ = args.next_bytes();
        }
        true
    }

    /// The new deadline, if an expiry was given; its errors are Redis's (see [`Expiry::resolve`]).
    pub fn deadline(
        &self,
        now_ms: u64,
        command: &'static str,
    ) -> Result<Option<u64>, CommandError> {
        self.expiry.map(|e| e.resolve(now_ms, command)).transpose()
    }
}

/// Parses the arguments of the command `a` from index `first` on, when they are all TTL
/// options (GETEX's).
pub fn parse_all<'a>(
    a: &'a [Bytes],
    first: usize,
    accepts: Accepts,
) -> Result<TtlOptions<'a>, CommandError> {
    let mut args = Args::new(a);
    for _ in 1..first {
        args.next_bytes()?;
    }
    let mut ttl = TtlOptions::default();
    while !args.is_empty() {
        if !ttl.take(accepts, &mut args) {
            return Err(CommandError::Syntax);
        }
    }
    Ok(ttl)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000_000;

    /// `cmd key` followed by `words`.
    fn argv(words: &[&str]) -> Vec<Bytes> {
        ["cmd", "key"]
            .iter()
            .chain(words)
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    fn set_ttl(words: &[&str]) -> Result<Option<u64>, CommandError> {
        let a = argv(words);
        parse_all(&a, 2, SET)?.deadline(NOW, "set")
    }

    #[test]
    fn each_word_counts_from_its_base_in_its_unit() {
        assert_eq!(set_ttl(&["EX", "10"]), Ok(Some(NOW + 10_000)));
        assert_eq!(set_ttl(&["px", "10"]), Ok(Some(NOW + 10)));
        assert_eq!(set_ttl(&["ExAt", "10"]), Ok(Some(10_000)));
        assert_eq!(set_ttl(&["PXAT", "10"]), Ok(Some(10)));
        assert_eq!(set_ttl(&[]), Ok(None));
    }

    #[test]
    fn a_repeated_word_wins_and_a_different_one_is_a_syntax_error() {
        assert_eq!(set_ttl(&["EX", "10", "EX", "20"]), Ok(Some(NOW + 20_000)));
        for bad in [
            &["EX", "10", "PX", "10"][..],
            &["EX", "10", "KEEPTTL"],
            &["KEEPTTL", "PXAT", "10"],
            &["EX"],
            &["PERSIST"],
        ] {
            assert_eq!(set_ttl(bad), Err(CommandError::Syntax), "{bad:?}");
        }
        let a = argv(&["KEEPTTL", "KEEPTTL"]);
        assert!(parse_all(&a, 2, SET).unwrap().keepttl);
        let a = argv(&["PERSIST", "PERSIST"]);
        assert!(parse_all(&a, 2, GETEX).unwrap().persist);
        let a = argv(&["EXAT", "10"]);
        assert_eq!(parse_all(&a, 2, LLMSETNX), Err(CommandError::Syntax));
    }

    #[test]
    fn numbers_are_checked_as_redis_checks_them() {
        let invalid = Err(CommandError::InvalidExpire("set"));
        assert_eq!(set_ttl(&["EX", "0"]), invalid);
        assert_eq!(set_ttl(&["PXAT", "-1"]), invalid);
        assert_eq!(set_ttl(&["EX", "x"]), Err(CommandError::NotInteger));
        assert_eq!(set_ttl(&["EX", "05"]), Err(CommandError::NotInteger));
        // Overflow of the unit, then of the addition to now.
        assert_eq!(set_ttl(&["EX", "9223372036854776"]), invalid);
        assert_eq!(set_ttl(&["EX", "9223372036854775"]), invalid);
        assert_eq!(set_ttl(&["PX", &i64::MAX.to_string()]), invalid);
        assert_eq!(set_ttl(&["EXAT", "9223372036854776"]), invalid);
        assert_eq!(
            set_ttl(&["EXAT", "9223372036854775"]),
            Ok(Some(9_223_372_036_854_775_000))
        );
        assert_eq!(
            set_ttl(&["PXAT", &i64::MAX.to_string()]),
            Ok(Some(i64::MAX as u64))
        );
    }

    #[test]
    fn expire_arithmetic_allows_the_past_and_refuses_overflow() {
        assert_eq!(
            deadline(-1, Unit::Seconds, Base::Now, NOW),
            Some(NOW as i64 - 1000)
        );
        assert_eq!(deadline(0, Unit::Millis, Base::Epoch, NOW), Some(0));
        assert_eq!(
            deadline(i64::MIN / 1000 - 1, Unit::Seconds, Base::Epoch, NOW),
            None
        );
        assert_eq!(deadline(i64::MAX, Unit::Millis, Base::Now, NOW), None);
        assert_eq!(
            deadline(i64::MAX, Unit::Millis, Base::Epoch, NOW),
            Some(i64::MAX)
        );
    }
}
