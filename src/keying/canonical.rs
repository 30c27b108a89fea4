//! RFC 8785 JSON Canonicalization Scheme (JCS): its string, name-order and number
//! primitives, and the whole scheme over `serde_json::Value`.
//!
//! Key material does not go through `serde_json::Value`: it is written from the keying tree
//! (`tree.rs`) with these same primitives, except that integer literals keep their exact
//! value (`number.rs`). [`canonicalize`] is RFC 8785 exactly, for callers that want it.
//!
//! The canonical form of a value is:
//! - objects: members sorted by their names compared as sequences of UTF-16 code units
//!   (RFC 8785 §3.2.3), written `{"name":value,...}` with no whitespace;
//! - arrays: elements in their original order, `[a,b,...]`;
//! - strings: the exact characters given (no Unicode normalisation), escaped the way
//!   ECMAScript's `JSON.stringify` does: `\"`, `\\`, `\b`, `\t`, `\n`, `\f`, `\r`, and `\u00xx`
//!   (lowercase hex) for the other characters below U+0020; everything else literal UTF-8;
//! - numbers: the IEEE 754 double nearest to the text, written by ECMAScript's
//!   `Number.prototype.toString` (so `0`, `0.0`, `0e0` and `-0` all become `0`, and `1.0`
//!   becomes `1`); NaN and infinities have no JSON form and are an error;
//! - `true`, `false`, `null` as themselves.
//!
//! # Invariants
//! - Two values that are equal as JSON data (same members, any order; same numbers, any
//!   spelling) produce the same bytes, and the bytes differ whenever the data differs, except
//!   for numbers that round to the same double (which JCS treats as equal on purpose).
//! - Output is written through a [`Sink`], so it can go straight into a hasher without
//!   building the whole canonical text first.
//!
//! Duplicate member names cannot reach [`canonicalize`]: `serde_json` keeps the last one
//! while parsing (the keying parser refuses them instead).
//!
//! Number accuracy: with `serde_json`'s `arbitrary_precision` feature a number keeps its text
//! and is read with the standard library's correctly rounded parser. Without it, enable
//! `float_roundtrip`, or a few decimal spellings may land one ULP off the nearest double.

use std::cmp::Ordering;
use std::fmt;

use serde_json::{Map, Number, Value};

/// Where canonical bytes go: a buffer, or a hasher.
pub trait Sink {
    /// Appends `bytes` to the output.
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// A value that has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CanonicalError {
    /// A number outside the range of an IEEE 754 double (JCS allows finite doubles only).
    /// Carries the number as the parser kept it.
    NumberOutOfRange(String),
}

impl fmt::Display for CanonicalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CanonicalError::NumberOutOfRange(n) => {
                write!(f, "number {n} is out of the range of a double")
            }
        }
    }
}

impl std::error::Error for CanonicalError {}

/// Returns the RFC 8785 canonical text of `value`.
pub fn canonicalize(value: &Value) -> Result<String, CanonicalError> {
    let mut out = Vec::new();
    write_value(value, &mut out)?;
    // Every byte written is either ASCII punctuation, an ASCII number, or a copy of a whole
    // `&str` (split only at ASCII bytes), so the buffer is UTF-8.
    Ok(String::from_utf8(out).expect("canonical JSON is built from whole UTF-8 strings"))
}

/// Writes the canonical form of `value` to `out`.
pub fn write_value<S: Sink>(value: &Value, out: &mut S) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.put(b"null"),
        Value::Bool(true) => out.put(b"true"),
        Value::Bool(false) => out.put(b"false"),
        Value::Number(n) => write_number(n, out)?,
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.put(b"[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.put(b",");
                }
                write_value(item, out)?;
            }
            out.put(b"]");
        }
        Value::Object(map) => write_object(map, out)?,
    }
    Ok(())
}

fn write_object<S: Sink>(map: &Map<String, Value>, out: &mut S) -> Result<(), CanonicalError> {
    let mut members: Vec<(&str, &Value)> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
    // Names are unique within a map, so an unstable sort is deterministic.
    members.sort_unstable_by(|a, b| cmp_utf16(a.0, b.0));
    out.put(b"{");
    for (i, (name, value)) in members.into_iter().enumerate() {
        if i > 0 {
            out.put(b",");
        }
        write_string(name, out);
        out.put(b":");
        write_value(value, out)?;
    }
    out.put(b"}");
    Ok(())
}

/// Compares two strings as sequences of UTF-16 code units (RFC 8785 §3.2.3).
///
/// UTF-8 byte order equals code point order, which differs from UTF-16 order only between
/// U+E000..U+FFFF and the supplementary planes (encoded as surrogates 0xD800..0xDFFF). So the
/// common byte prefix is skipped and only the first differing characters are compared.
pub fn cmp_utf16(a: &str, b: &str) -> Ordering {
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let Some(first_diff) = ab.iter().zip(bb).position(|(x, y)| x != y) else {
        return ab.len().cmp(&bb.len());
    };
    // Two ASCII bytes are two whole characters, each one UTF-16 unit of the same value.
    // Names are ASCII nearly always, so this decides almost every sort and lookup.
    if ab[first_diff] < 0x80 && bb[first_diff] < 0x80 {
        return ab[first_diff].cmp(&bb[first_diff]);
    }
    // Back up to the start of the character holding the first differing byte. The bytes
    // before it are equal in both strings, so it is a character boundary in both.
    let mut start = first_diff;
    while !a.is_char_boundary(start) {
        start -= 1;
    }
    let ca = a.get(start..).and_then(|s| s.chars().next());
    let cb = b.get(start..).and_then(|s| s.chars().next());
    match (ca, cb) {
        (Some(x), Some(y)) => utf16_units(x).cmp(&utf16_units(y)),
        // Unreachable for valid `&str`s; byte order is a safe, total fallback.
        _ => ab.cmp(bb),
    }
}

/// The UTF-16 code units of `c`, padded with 0 for a BMP character (a BMP character is never
/// a surrogate, so the padding cannot tie with a real pair).
fn utf16_units(c: char) -> (u32, u32) {
    let c = u32::from(c);
    if c < 0x1_0000 {
        (c, 0)
    } else {
        let v = c - 0x1_0000;
        (0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
    }
}

/// Writes a JSON string with ECMAScript `JSON.stringify` escaping (RFC 8785 §3.2.2.2).
pub fn write_string<S: Sink>(s: &str, out: &mut S) {
    out.put(b"\"");
    let bytes = s.as_bytes();
    let mut run_start = 0;
    let mut i = 0;
    loop {
        i = next_escape(bytes, i);
        let Some(&b) = bytes.get(i) else { break };
        out.put(&bytes[run_start..i]);
        match b {
            b'"' => out.put(b"\\\""),
            b'\\' => out.put(b"\\\\"),
            0x08 => out.put(b"\\b"),
            0x09 => out.put(b"\\t"),
            0x0A => out.put(b"\\n"),
            0x0C => out.put(b"\\f"),
            0x0D => out.put(b"\\r"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.put(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xF)],
                ]);
            }
        }
        i += 1;
        run_start = i;
    }
    out.put(&bytes[run_start..]);
    out.put(b"\"");
}

/// Index of the first byte at or after `from` that needs escaping, or `bytes.len()`.
///
/// Prompts are long runs of plain text, so whole 16-byte blocks are skipped with SSE2 (part
/// of every x86-64 CPU) while none of their bytes needs escaping; elsewhere, and for the
/// tail, 8-byte words, and a word that has one is looked at byte by byte.
#[inline]
pub(crate) fn next_escape(bytes: &[u8], from: usize) -> usize {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    let from = sse2::skip_plain(bytes, from);
    let mut i = from;
    loop {
        while let Some(chunk) = bytes.get(i..i + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            if word_needs_escape(u64::from_le_bytes(word)) {
                break;
            }
            i += 8;
        }
        let end = bytes.len().min(i + 8);
        if let Some(at) = bytes[i..end]
            .iter()
            .position(|&b| NEEDS_ESCAPE[usize::from(b)])
        {
            return i + at;
        }
        if end == bytes.len() {
            return end;
        }
        i = end;
    }
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };

    /// The first byte at or after `from` that needs escaping when it is found in a whole
    /// 16-byte block, else the start of the tail shorter than 16 bytes: every byte before
    /// the returned index is plain.
    #[inline]
    pub(super) fn skip_plain(bytes: &[u8], from: usize) -> usize {
        let mut i = from;
        // SAFETY: SSE2 is enabled for this target (the cfg above); each load reads the 16
        // bytes `bytes[i..i + 16]`, in bounds by the loop condition, unaligned loads allowed.
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let backslash = _mm_set1_epi8(b'\\' as i8);
            let control_max = _mm_set1_epi8(0x1F);
            while i + 16 <= bytes.len() {
                let v = _mm_loadu_si128(bytes.as_ptr().add(i).cast::<__m128i>());
                // max(v, 0x1F) == 0x1F exactly for the bytes 0x00..=0x1F (unsigned).
                let control = _mm_cmpeq_epi8(_mm_max_epu8(v, control_max), control_max);
                let special = _mm_or_si128(
                    control,
                    _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                );
                let mask = _mm_movemask_epi8(special);
                if mask != 0 {
                    return i + mask.trailing_zeros() as usize;
                }
                i += 16;
            }
        }
        i
    }
}

/// Whether any byte of `x` is below 0x20, `"` or `\`.
///
/// Uses the exact word predicates "has a byte less than n" (`(x - n*ONES) & !x & HIGH`, for
/// n <= 128) and "has a zero byte" applied to `x ^ (c*ONES)`.
#[inline]
fn word_needs_escape(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH != 0;
    let has_control = x.wrapping_sub(ONES * 0x20) & !x & HIGH != 0;
    has_control || has_zero(x ^ (ONES * u64::from(b'"'))) || has_zero(x ^ (ONES * u64::from(b'\\')))
}

/// Bytes that cannot appear literally in a JCS string: `"`, `\` and C0 controls. All are
/// ASCII, so splitting a UTF-8 string at them never cuts a character.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = true;
        i += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Largest integer magnitude every double can hold exactly; below it ECMAScript prints an
/// integer as its plain decimal digits, which is what `itoa` writes.
const EXACT_INT: u64 = 1 << 53;

/// Writes a number in ECMAScript `Number.prototype.toString` form (RFC 8785 §3.2.2.3).
pub fn write_number<S: Sink>(n: &Number, out: &mut S) -> Result<(), CanonicalError> {
    // Fast path for the common case (token counts, n, seeds): exact small integers.
    if let Some(i) = n.as_i64() {
        if i.unsigned_abs() <= EXACT_INT {
            out.put(itoa::Buffer::new().format(i).as_bytes());
            return Ok(());
        }
    } else if let Some(u) = n.as_u64() {
        if u <= EXACT_INT {
            out.put(itoa::Buffer::new().format(u).as_bytes());
            return Ok(());
        }
    }
    match n.as_f64() {
        Some(f) if f.is_finite() => {
            out.put(ryu_js::Buffer::new().format_finite(f).as_bytes());
            Ok(())
        }
        _ => {
            // The text is as long as the client made it; keep the error line short.
            let mut text = n.to_string();
            if text.len() > 40 {
                text.truncate(40);
                text.push_str("...");
            }
            Err(CanonicalError::NumberOutOfRange(text))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn canon(text: &str) -> String {
        canonicalize(&serde_json::from_str(text).unwrap()).unwrap()
    }

    #[test]
    fn zero_spellings_agree() {
        for z in ["0", "0.0", "0e0", "-0", "-0.0", "0E+5", "0.000e-3"] {
            assert_eq!(canon(z), "0", "{z}");
        }
        assert_eq!(canon("[1, 1.0, 1e0, 10e-1, 100E-2]"), "[1,1,1,1,1]");
    }

    #[test]
    fn large_integers_go_through_doubles() {
        assert_eq!(canon("9007199254740993"), "9007199254740992");
        assert_eq!(canon("18446744073709551615"), "18446744073709552000");
        assert_eq!(canon("-9223372036854775808"), "-9223372036854776000");
        assert_eq!(canon("1e21"), "1e+21");
    }

    #[test]
    fn control_characters_escape_lowercase() {
        assert_eq!(
            canon(r#""\u001F\u007f\u2028/""#),
            "\"\\u001f\u{7f}\u{2028}/\""
        );
        assert_eq!(canon(r#""\b\t\n\f\r\u0000""#), r#""\b\t\n\f\r\u0000""#);
    }

    #[test]
    fn utf16_order_differs_from_code_point_order() {
        // U+FB33 sorts after U+1F600 in UTF-16 (surrogates 0xD83D..) but before it in UTF-8.
        assert_eq!(cmp_utf16("\u{fb33}", "\u{1f600}"), Ordering::Greater);
        assert_eq!(cmp_utf16("a\u{1f600}", "a\u{1f601}"), Ordering::Less);
        assert_eq!(cmp_utf16("ab", "abc"), Ordering::Less);
        assert_eq!(cmp_utf16("é", "é"), Ordering::Equal);
        // Differ in a continuation byte of the same lead byte.
        assert_eq!(cmp_utf16("\u{e9}", "\u{e8}"), Ordering::Greater);
    }

    #[test]
    fn word_scan_finds_every_special_byte_at_every_offset() {
        for special in (0u8..0x20).chain([b'"', b'\\']) {
            for len in 0..40 {
                for at in 0..len {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = special;
                    // Non-ASCII neighbours must not hide or fake a match.
                    if at > 0 {
                        bytes[at - 1] = 0xC3;
                    }
                    assert_eq!(next_escape(&bytes, 0), at, "{special:#x} at {at} of {len}");
                }
                let plain: Vec<u8> = (0..len).map(|i| [b'a', 0xE2, 0x7F, b' '][i % 4]).collect();
                assert_eq!(next_escape(&plain, 0), len);
            }
        }
    }
}
