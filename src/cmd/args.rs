//! Turning raw arguments into typed values, with Redis's error texts.
//!
//! Handlers parse their arguments through these helpers so that every command words the same
//! mistake the same way ([`CommandError::NotInteger`], [`CommandError::Syntax`], ...).

use super::CommandError;
use crate::protocol::parse::parse_i64;
use bytes::Bytes;

/// Parses an integer argument as Redis does (`string2ll`).
pub fn int(arg: &[u8]) -> Result<i64, CommandError> {
    parse_i64(arg).ok_or(CommandError::NotInteger)
}

/// Parses a non-negative integer argument.
pub fn uint(arg: &[u8]) -> Result<u64, CommandError> {
    match parse_i64(arg) {
        Some(n) if n >= 0 => Ok(n as u64),
        _ => Err(CommandError::NotInteger),
    }
}

/// Parses a floating-point argument as Redis does (`strtold` over the whole argument): no
/// spaces, `inf` allowed, NaN refused.
pub fn float(arg: &[u8]) -> Result<f64, CommandError> {
    std::str::from_utf8(arg)
        .ok()
        .filter(|s| !s.starts_with(|c: char| c.is_ascii_whitespace()))
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|f| !f.is_nan())
        .ok_or(CommandError::NotFloat)
}

/// Case-insensitive comparison of an argument with an upper-case ASCII word.
pub fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// The `count [WITHSCORES|WITHVALUES]` of HRANDFIELD and ZRANDMEMBER, with Redis 7.0.15's
/// range errors: the count (never `i64::MIN`) and whether `with` was given (which halves the
/// range, as the reply doubles). A negative count past [`PICKS_MAX`] is refused too.
///
/// [`PICKS_MAX`]: crate::types::PICKS_MAX
pub fn random_count(count: &[u8], rest: &[Bytes], with: &str) -> Result<(i64, bool), CommandError> {
    let count = match int(count)? {
        i64::MIN => return Err(CommandError::err(
            "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        )),
        n => n,
    };
    let with = match rest {
        [] => false,
        [w] if is(w, with) => {
            if !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
                return Err(CommandError::err("value is out of range"));
            }
            true
        }
        _ => return Err(CommandError::Syntax),
    };
    if count < 0 && count.unsigned_abs() > crate::types::PICKS_MAX {
        return Err(CommandError::err("value is out of range"));
    }
    Ok((count, with))
}

/// A cursor over a command's arguments.
#[derive(Debug)]
pub struct Args<'a> {
    args: &'a [Bytes],
    pos: usize,
}

impl<'a> Args<'a> {
    /// `args` is the whole command, name included; the cursor starts after the name.
    pub fn new(args: &'a [Bytes]) -> Self {
        Args { args, pos: 1 }
    }

    /// A cursor after a subcommand's name (`CONFIG GET` -> at the first pattern).
    pub fn after_subcommand(args: &'a [Bytes]) -> Self {
        Args { args, pos: 2 }
    }

    pub fn remaining(&self) -> usize {
        self.args.len().saturating_sub(self.pos)
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next argument, or a syntax error if there is none.
    pub fn next_bytes(&mut self) -> Result<&'a Bytes, CommandError> {
        let arg = self.args.get(self.pos).ok_or(CommandError::Syntax)?;
        self.pos += 1;
        Ok(arg)
    }

    pub fn next_int(&mut self) -> Result<i64, CommandError> {
        int(self.next_bytes()?)
    }

    /// The next argument if it equals `word` (case-insensitively), consuming it.
    pub fn eat(&mut self, word: &str) -> bool {
        match self.args.get(self.pos) {
            Some(a) if is(a, word) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    pub fn peek(&self) -> Option<&'a Bytes> {
        self.args.get(self.pos)
    }

    /// Everything not yet consumed.
    pub fn rest(&self) -> &'a [Bytes] {
        self.args.get(self.pos..).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_walks_options() {
        let cmd: Vec<Bytes> = ["SET", "k", "v", "ex", "10"]
            .iter()
            .map(|s| Bytes::from(*s))
            .collect();
        let mut a = Args::new(&cmd);
        assert_eq!(a.next_bytes().unwrap().as_ref(), b"k");
        assert_eq!(a.next_bytes().unwrap().as_ref(), b"v");
        assert!(!a.eat("PX"));
        assert!(a.eat("EX"));
        assert_eq!(a.next_int().unwrap(), 10);
        assert!(a.is_empty());
        assert_eq!(a.next_bytes(), Err(CommandError::Syntax));
    }
}
