//! A RESP2 / RESP3 framing check: does a byte string hold exactly one well-formed reply?
//!
//! Written from the protocol's description, independent of llmcached's encoder, so that an
//! encoder bug (a length that does not match its payload, a line break inside a simple string
//! or an error, a bad aggregate count) shows up as a failed check rather than as a client that
//! reads garbage.

/// Deepest nesting accepted; llmcached's replies nest a few levels at most.
const MAX_DEPTH: usize = 64;

/// Checks that `buf` is exactly one RESP value; returns what is wrong otherwise.
pub fn check_one(buf: &[u8]) -> Result<(), String> {
    let end = value(buf, 0, 0)?;
    if end != buf.len() {
        return Err(format!("{} bytes after the reply", buf.len() - end));
    }
    Ok(())
}

/// The line starting at `at` (without its `\r\n`) and the offset after it.
fn line(buf: &[u8], at: usize) -> Result<(&[u8], usize), String> {
    let rest = buf.get(at..).ok_or("reply cut short")?;
    let nl = rest
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or_else(|| format!("no CRLF after offset {at}"))?;
    let text = &rest[..nl];
    if text.contains(&b'\r') || text.contains(&b'\n') {
        return Err(format!("line break inside a line at offset {at}"));
    }
    Ok((text, at + nl + 2))
}

fn int(text: &[u8]) -> Result<i64, String> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| format!("not an integer: {:?}", String::from_utf8_lossy(text)))
}

/// Parses one value at `at`; returns the offset after it.
fn value(buf: &[u8], at: usize, depth: usize) -> Result<usize, String> {
    if depth > MAX_DEPTH {
        return Err("nested too deep".into());
    }
    let tag = *buf.get(at).ok_or("reply cut short")?;
    let (text, next) = line(buf, at + 1)?;
    match tag {
        b'+' | b'-' => Ok(next),
        b':' => int(text).map(|_| next),
        b'(' => {
            let digits = text.strip_prefix(b"-").unwrap_or(text);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err("bad big number".into());
            }
            Ok(next)
        }
        b',' => {
            let s = std::str::from_utf8(text).map_err(|_| "double is not UTF-8")?;
            let ok = matches!(s, "inf" | "-inf" | "nan") || s.parse::<f64>().is_ok();
            if !ok {
                return Err(format!("bad double {s:?}"));
            }
            Ok(next)
        }
        b'_' if text.is_empty() => Ok(next),
        b'#' if text == b"t" || text == b"f" => Ok(next),
        b'$' | b'=' | b'!' => {
            let n = int(text)?;
            if n == -1 && tag == b'$' {
                return Ok(next);
            }
            let n = usize::try_from(n).map_err(|_| format!("bad length {n}"))?;
            let end = next.checked_add(n).ok_or("length overflow")?;
            if buf.get(end..end + 2) != Some(b"\r\n") {
                return Err(format!(
                    "payload of {n} bytes at {next} is not followed by CRLF"
                ));
            }
            if tag == b'=' && (n < 4 || buf[next + 3] != b':') {
                return Err("verbatim string without its format".into());
            }
            Ok(end + 2)
        }
        b'*' | b'~' | b'>' | b'%' => {
            let n = int(text)?;
            if n == -1 && tag == b'*' {
                return Ok(next);
            }
            let n = usize::try_from(n).map_err(|_| format!("bad count {n}"))?;
            let items = if tag == b'%' { n.saturating_mul(2) } else { n };
            let mut at = next;
            for _ in 0..items {
                at = value(buf, at, depth + 1)?;
            }
            Ok(at)
        }
        other => Err(format!("unknown type byte {:?}", other as char)),
    }
}

#[cfg(test)]
mod tests {
    use super::check_one;

    #[test]
    fn accepts_replies_and_refuses_broken_ones() {
        for ok in [
            &b"+OK\r\n"[..],
            b"$-1\r\n",
            b"*2\r\n$1\r\na\r\n:5\r\n",
            b"%1\r\n+a\r\n_\r\n",
            b"=7\r\ntxt:abc\r\n",
            b",1.5\r\n",
        ] {
            assert_eq!(check_one(ok), Ok(()), "{:?}", String::from_utf8_lossy(ok));
        }
        for bad in [
            &b"+OK\r\n+OK\r\n"[..],
            b"$3\r\nab\r\n",
            b"*2\r\n:1\r\n",
            b"-ERR a\rb\r\n",
        ] {
            assert!(
                check_one(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
