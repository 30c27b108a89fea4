//! Splitting one line into arguments the way Redis's `sdssplitargs` does: the rule for inline
//! commands on the wire and for the lines of a redis.conf file.
//!
//! This module depends on nothing else in the crate, so any reader of Redis-style lines can use it.
//!
//! # Rules (Redis 7.0's `sdssplitargs`)
//! - Arguments are separated by blanks: C's `isspace` in the C locale (space, `\t`, `\n`, `\v`,
//!   `\f`, `\r`). Inside an unquoted argument only space, `\t`, `\n` and `\r` end it, so `a\fb`
//!   is one argument, as in Redis.
//! - `"double quotes"` take the escapes `\n \r \t \b \a`, `\xHH` (two hex digits: **one raw
//!   byte**, never a UTF-8 encoding, so `"\xff"` is the single byte 0xff), and `\<any>` for that
//!   byte itself (`\\`, `\"`, `\q` is `q`).
//! - `'single quotes'` take only `\'`; every other byte, backslashes included, is literal.
//! - Quotes may start inside an argument (`a"b c"` is `ab c`), but a closing quote must be
//!   followed by a blank or the end of the line, otherwise the line is refused; so is a quote
//!   that is never closed. `""` and `''` are empty arguments.
//!
//! # NUL bytes
//! Redis reads the line as a C string, so it never sees past a NUL (on the wire it goes on
//! waiting for a newline it cannot find). A byte slice has no such end: here a NUL outside
//! quotes is a blank, and inside quotes it is a byte of the argument.

use std::fmt;

/// The line has a quote that is never closed, or a closing quote followed by something other
/// than a blank. Each reader words the error its own way (inline commands:
/// `Protocol error: unbalanced quotes in request`; redis.conf: `Unbalanced quotes in
/// configuration line`), so this type only says what went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnbalancedQuotes;

impl fmt::Display for UnbalancedQuotes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unbalanced quotes")
    }
}

impl std::error::Error for UnbalancedQuotes {}

/// Splits `line` into arguments with Redis's `sdssplitargs` rules (see the module docs).
///
/// The result holds raw bytes: arguments need not be UTF-8, and `\xHH` gives exactly one byte.
/// An empty or all-blank line gives no arguments. The line should not include its line
/// terminator, though a trailing `\r` or `\n` is only a blank.
pub fn split_args(line: &[u8]) -> Result<Vec<Vec<u8>>, UnbalancedQuotes> {
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && is_blank(line[i]) {
            i += 1;
        }
        if i == line.len() {
            return Ok(args);
        }
        let (arg, next) = token(line, i)?;
        args.push(arg);
        i = next;
    }
}

/// Where a token is: outside quotes, inside `"..."`, or inside `'...'`.
#[derive(Clone, Copy)]
enum Mode {
    Bare,
    Double,
    Single,
}

/// Reads the argument starting at `line[i]` (not a blank); returns it and the index after it.
fn token(line: &[u8], mut i: usize) -> Result<(Vec<u8>, usize), UnbalancedQuotes> {
    let at = |i: usize| line.get(i).copied();
    let mut cur = Vec::new();
    let mut mode = Mode::Bare;
    loop {
        let Some(c) = at(i) else {
            return match mode {
                Mode::Bare => Ok((cur, i)),
                Mode::Double | Mode::Single => Err(UnbalancedQuotes),
            };
        };
        match mode {
            Mode::Bare => match c {
                // Not `\v` or `\f`: Redis's token loop stops only at these.
                b' ' | b'\t' | b'\n' | b'\r' | 0 => return Ok((cur, i)),
                b'"' => mode = Mode::Double,
                b'\'' => mode = Mode::Single,
                _ => cur.push(c),
            },
            Mode::Double => match (c, at(i + 1)) {
                (b'\\', Some(b'x')) if is_hex_pair(at(i + 2), at(i + 3)) => {
                    cur.push((hex(line[i + 2]) << 4) | hex(line[i + 3]));
                    i += 3;
                }
                (b'\\', Some(e)) => {
                    cur.push(match e {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                    i += 1;
                }
                (b'"', next) => return closed(cur, i, next),
                _ => cur.push(c),
            },
            Mode::Single => match (c, at(i + 1)) {
                (b'\\', Some(b'\'')) => {
                    cur.push(b'\'');
                    i += 1;
                }
                (b'\'', next) => return closed(cur, i, next),
                _ => cur.push(c),
            },
        }
        i += 1;
    }
}

/// A closing quote at `line[i]`: the argument ends, provided a blank or the end follows.
fn closed(cur: Vec<u8>, i: usize, next: Option<u8>) -> Result<(Vec<u8>, usize), UnbalancedQuotes> {
    match next {
        Some(n) if !is_blank(n) => Err(UnbalancedQuotes),
        _ => Ok((cur, i + 1)),
    }
}

/// C's `isspace` in the C locale, plus NUL (see the module docs). Not `u8::is_ascii_whitespace`,
/// which leaves out `\v`.
fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0)
}

fn is_hex_pair(a: Option<u8>, b: Option<u8>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a.is_ascii_hexdigit() && b.is_ascii_hexdigit())
}

/// The value of one hex digit; callers check [`is_hex_pair`] first.
fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn split(line: &[u8]) -> Vec<Vec<u8>> {
        split_args(line).unwrap()
    }

    fn words(ws: &[&[u8]]) -> Vec<Vec<u8>> {
        ws.iter().map(|w| w.to_vec()).collect()
    }

    #[test]
    fn blanks_separate_and_are_trimmed() {
        assert_eq!(
            split(b"  set  key \t value \r\n"),
            words(&[b"set", b"key", b"value"])
        );
        assert_eq!(split(b""), Vec::<Vec<u8>>::new());
        assert_eq!(split(b" \t\r\n"), Vec::<Vec<u8>>::new());
    }

    #[test]
    fn hex_escape_gives_one_raw_byte() {
        assert_eq!(split(br#""\xff""#), vec![vec![0xff]]);
        assert_eq!(
            split(br#""\x41\x6a\xC3\xA9""#),
            vec![b"Aj\xc3\xa9".to_vec()]
        );
        // Not two hex digits: `\x` is an ordinary escape for `x`.
        assert_eq!(split(br#""\xZZ""#), words(&[b"xZZ"]));
        assert_eq!(split(br#""\x4""#), words(&[b"x4"]));
    }

    #[test]
    fn double_quote_escapes() {
        assert_eq!(
            split(br#""\n\r\t\b\a\\\"\q""#),
            vec![b"\n\r\t\x08\x07\\\"q".to_vec()]
        );
        assert_eq!(split(br#"set k "a b""#), words(&[b"set", b"k", b"a b"]));
    }

    #[test]
    fn single_quotes_only_escape_the_quote() {
        assert_eq!(split(br"'it\'s'"), words(&[b"it's"]));
        assert_eq!(split(br"'\n\x41\\ '"), words(&[br"\n\x41\\ "]));
    }

    #[test]
    fn empty_quoted_arguments_are_arguments() {
        assert_eq!(split(br#"save """#), words(&[b"save", b""]));
        assert_eq!(split(b"a '' b"), words(&[b"a", b"", b"b"]));
    }

    #[test]
    fn quotes_may_open_inside_an_argument() {
        assert_eq!(split(br#"dir /a"b c" x"#), words(&[b"dir", b"/ab c", b"x"]));
        assert_eq!(split(b"a'b c'"), words(&[b"ab c"]));
    }

    #[test]
    fn unbalanced_quotes_are_refused() {
        for line in [
            &br#"x "open"#[..],
            b"x 'open",
            br#"x "a"b"#,
            b"x 'a'b",
            br#"x "ends in an escaped quote\""#,
            br#"x "trailing backslash\"#,
            br"x 'a\\'",
        ] {
            assert_eq!(
                split_args(line),
                Err(UnbalancedQuotes),
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    /// Redis skips `\v` and `\f` between arguments (C's `isspace`) but keeps them inside one,
    /// at its end too.
    #[test]
    fn vertical_tab_and_form_feed_are_blanks_like_c_isspace() {
        assert_eq!(split(b"\x0b\x0cPING"), words(&[b"PING"]));
        assert_eq!(
            split(b"ECHO \x0ca\x0bb\x0b"),
            words(&[b"ECHO", b"a\x0bb\x0b"])
        );
        assert_eq!(split(b"ECHO \"a\"\x0b"), words(&[b"ECHO", b"a"]));
        assert_eq!(split(b"ECHO 'a'\x0c"), words(&[b"ECHO", b"a"]));
    }

    #[test]
    fn carriage_return_ends_an_unquoted_argument() {
        assert_eq!(split(b"ECHO a\rb"), words(&[b"ECHO", b"a", b"b"]));
    }

    #[test]
    fn nul_is_a_blank_outside_quotes_and_a_byte_inside() {
        assert_eq!(
            split(b"\x00\x01garbage\x00x"),
            words(&[b"\x01garbage", b"x"])
        );
        assert_eq!(split(b"\"a\x00b\"\x00c"), words(&[b"a\x00b", b"c"]));
    }

    #[test]
    fn bytes_that_are_not_utf8_pass_through() {
        assert_eq!(split(b"\xff \xc3("), words(&[b"\xff", b"\xc3("]));
    }

    /// Quotes an argument as Redis's `sdscatrepr` does.
    fn repr(arg: &[u8]) -> Vec<u8> {
        let mut out = vec![b'"'];
        for &b in arg {
            match b {
                b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x07 => out.extend_from_slice(b"\\a"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x20..=0x7e => out.push(b),
                _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
            }
        }
        out.push(b'"');
        out
    }

    proptest! {
        /// Whatever the arguments, quoting them as Redis prints them and splitting the line
        /// gives them back.
        #[test]
        fn repr_then_split_round_trips(
            args in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 0..6),
        ) {
            let mut line = Vec::new();
            for a in &args {
                line.extend_from_slice(&repr(a));
                line.push(b' ');
            }
            prop_assert_eq!(split_args(&line), Ok(args));
        }

        /// Any bytes at all: an answer, never a panic.
        #[test]
        fn arbitrary_lines_never_panic(line in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = split_args(&line);
        }
    }
}
