//! Splitting a redis.conf line into arguments, as Redis's `sdssplitargs` does, over bytes.
//!
//! Kept here only until the protocol layer has its own splitter with the same contract
//! (`split_args(line: &[u8]) -> Result<Vec<Vec<u8>>, UnbalancedQuotes>`); [`super::file`]
//! imports it by that one name so that switching is a one-line change.

/// The line has a quote that is not closed, or a closing quote not followed by a space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnbalancedQuotes;

/// Redis's `isspace` (C locale), which separates arguments.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Splits `line` into arguments.
///
/// Whitespace separates arguments. A quote opens a quoted part, also in the middle of a word
/// (`a"b c"` is `ab c`): `"..."` takes the escapes `\n \r \t \b \a \\ \"` and `\xHH`, which is
/// one raw byte (any other `\c` is `c`); `'...'` takes `\'`. A closing quote ends the argument
/// and must be followed by whitespace or the end of the line.
pub fn split_args(line: &[u8]) -> Result<Vec<Vec<u8>>, UnbalancedQuotes> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while line.get(i).is_some_and(|&b| is_space(b)) {
            i += 1;
        }
        if i >= line.len() {
            return Ok(out);
        }
        let mut word = Vec::new();
        while let Some(&b) = line.get(i) {
            i += 1;
            match b {
                b' ' | b'\n' | b'\r' | b'\t' => break,
                b'"' => {
                    i = double_quoted(line, i, &mut word)?;
                    closing_quote_ends_word(line.get(i))?;
                    break;
                }
                b'\'' => {
                    i = single_quoted(line, i, &mut word)?;
                    closing_quote_ends_word(line.get(i))?;
                    break;
                }
                _ => word.push(b),
            }
        }
        out.push(word);
    }
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Reads from `i` up to and past the closing `"`, resolving escapes; returns the next index.
fn double_quoted(line: &[u8], mut i: usize, word: &mut Vec<u8>) -> Result<usize, UnbalancedQuotes> {
    loop {
        let b = *line.get(i).ok_or(UnbalancedQuotes)?;
        i += 1;
        match b {
            b'"' => return Ok(i),
            b'\\' => {
                let c = *line.get(i).ok_or(UnbalancedQuotes)?;
                i += 1;
                let pair = line
                    .get(i)
                    .copied()
                    .and_then(hex)
                    .zip(line.get(i + 1).copied().and_then(hex));
                match (c, pair) {
                    (b'x', Some((hi, lo))) => {
                        word.push(hi << 4 | lo);
                        i += 2;
                    }
                    (b'n', _) => word.push(b'\n'),
                    (b'r', _) => word.push(b'\r'),
                    (b't', _) => word.push(b'\t'),
                    (b'b', _) => word.push(0x08),
                    (b'a', _) => word.push(0x07),
                    (c, _) => word.push(c),
                }
            }
            b => word.push(b),
        }
    }
}

/// Reads from `i` up to and past the closing `'`; only `\'` is an escape.
fn single_quoted(line: &[u8], mut i: usize, word: &mut Vec<u8>) -> Result<usize, UnbalancedQuotes> {
    loop {
        let b = *line.get(i).ok_or(UnbalancedQuotes)?;
        i += 1;
        match b {
            b'\\' if line.get(i) == Some(&b'\'') => {
                i += 1;
                word.push(b'\'');
            }
            b'\'' => return Ok(i),
            b => word.push(b),
        }
    }
}

fn closing_quote_ends_word(next: Option<&u8>) -> Result<(), UnbalancedQuotes> {
    match next {
        Some(&b) if !is_space(b) => Err(UnbalancedQuotes),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> Result<Vec<Vec<u8>>, UnbalancedQuotes> {
        split_args(line.as_bytes())
    }

    #[test]
    fn arguments_split_like_redis() {
        assert_eq!(
            split("  port   6379 ").unwrap(),
            [b"port".as_slice(), b"6379"]
        );
        assert_eq!(split(r#"save """#).unwrap(), [b"save".as_slice(), b""]);
        assert_eq!(
            split(r#"requirepass "a b\"c\x41\n""#).unwrap(),
            [b"requirepass".as_slice(), b"a b\"cA\n"]
        );
        assert_eq!(
            split(r"x 'it\'s' '\n'").unwrap(),
            [b"x".as_slice(), b"it's", b"\\n"]
        );
        assert_eq!(split(r#"x "\xZZ""#).unwrap(), [b"x".as_slice(), b"xZZ"]);
        assert_eq!(
            split(r#"dir /a"b c" x"#).unwrap(),
            [b"dir".as_slice(), b"/ab c", b"x"]
        );
        assert_eq!(split(r#"x "\q""#).unwrap(), [b"x".as_slice(), b"q"]);
        assert_eq!(split(""), Ok(vec![]));
        assert_eq!(split(r#"x "open"#), Err(UnbalancedQuotes));
        assert_eq!(split("x 'open"), Err(UnbalancedQuotes));
        assert_eq!(split(r#"x "a"b"#), Err(UnbalancedQuotes));
        assert_eq!(split(r#"x "trailing\"#), Err(UnbalancedQuotes));
    }

    #[test]
    fn hex_escapes_above_0x7f_are_one_raw_byte() {
        assert_eq!(
            split(r#"requirepass "\xff\x80\xC3""#).unwrap(),
            [b"requirepass".as_slice(), b"\xff\x80\xc3"]
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_pass_through() {
        assert_eq!(
            split_args(b"requirepass \xfe\xff").unwrap(),
            [b"requirepass".as_slice(), b"\xfe\xff"]
        );
    }
}
