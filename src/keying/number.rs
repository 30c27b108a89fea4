//! The canonical text of a JSON number literal in key material.
//!
//! RFC 8785 reads every number as the nearest IEEE 754 double. Providers do not: an integer
//! field (`seed`, an enum value of a strict `json_schema`) is read as an exact integer, so
//! `9007199254740993` and `9007199254740992`, one double apart, are two requests. The rule:
//!
//! 1. An **integer literal** (no fraction, no exponent) keeps its exact value: its canonical
//!    text is its digits (`-0` is `0`). Up to 2^53 in magnitude this is exactly what RFC 8785
//!    writes, so keys of requests without bigger integers do not change.
//! 2. Any **other number** is read as the nearest double, as RFC 8785 does, and written in
//!    ECMAScript form (`1.0` -> `1`, `1e21` -> `1e+21`), except that
//!    - a number whose magnitude is beyond 2^53 and whose written value the double does not
//!      hold exactly is refused ([`NumberError::Inexact`]): above 2^53 a double reader and an
//!      exact reader (protobuf JSON's int64, a bignum) see two different numbers, so no
//!      canonical text can be right for both;
//!    - an integral double between 2^53 and 10^21 (exclusive) is written as its exact digits,
//!      so `9007199254740994.0` and the literal `9007199254740994` agree, and a double never
//!      takes the text of a different integer literal (ECMAScript would print 2^60 as
//!      `1152921504606847000`, which is another integer);
//!    - a number outside the range of a double is refused ([`NumberError::OutOfRange`]).
//!
//! Below 2^53 every integer is an exact double, so fractional spellings that round to one
//! double (`0.1`, `0.10000000000000001`) are read alike by every reader that accepts a
//! fraction, and keep the RFC 8785 meaning.

use std::cmp::Ordering;
use std::fmt;

/// A number with its canonical text and its value as a double (for the policy checks).
#[derive(Debug, Clone, PartialEq)]
pub struct Num {
    text: Box<str>,
    value: f64,
}

impl Num {
    /// The canonical text (see the module docs).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The nearest double, for comparisons such as "temperature is 0". An integer literal
    /// too large for a double reads as infinity here; its text stays exact.
    pub fn as_f64(&self) -> f64 {
        self.value
    }
}

/// A number literal with no canonical text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberError {
    /// Outside the range of a double; carries the literal (cut to a readable length).
    OutOfRange(String),
    /// Beyond 2^53, not an integer literal, and not exactly a double; carries the literal.
    Inexact(String),
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumberError::OutOfRange(n) => write!(f, "number {n} is out of the range of a double"),
            NumberError::Inexact(n) => write!(
                f,
                "number {n} is beyond 2^53 and no double holds it exactly; \
                 write an integer without fraction or exponent"
            ),
        }
    }
}

/// 2^53: below it (inclusive) every integer is a double.
const EXACT_INT: &str = "9007199254740992";

/// Canonical form of `literal`, which must match the JSON number grammar (the parser checked).
pub fn canonical(literal: &str) -> Result<Num, NumberError> {
    let integer = !literal.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'));
    if integer {
        let text = if literal == "-0" { "0" } else { literal };
        // A long literal overflows to infinity here, which only the policy checks see.
        let value = text.parse::<f64>().unwrap_or(f64::INFINITY);
        return Ok(Num {
            text: text.into(),
            value,
        });
    }
    let value: f64 = literal
        .parse()
        .map_err(|_| NumberError::OutOfRange(short(literal)))?;
    if !value.is_finite() {
        return Err(NumberError::OutOfRange(short(literal)));
    }
    // Below 2^52 the double is within half a unit of the written value, so the value is
    // below 2^53: the common case (0.7, 1.0) needs no exact decimal reading.
    if value.abs() < 4_503_599_627_370_496.0 {
        return Ok(Num {
            text: es(value).into(),
            value,
        });
    }
    let decimal = Decimal::of(literal);
    if !decimal.beyond_exact_int() {
        return Ok(Num {
            text: es(value).into(),
            value,
        });
    }
    // Beyond 2^53 every double is an integer: the written value must be that integer.
    let exact = decimal
        .integer_digits()
        .filter(|digits| *digits == exact_integer_digits(value.abs()));
    let Some(digits) = exact else {
        return Err(NumberError::Inexact(short(literal)));
    };
    let text = if value.abs() < 1e21 {
        if value < 0.0 {
            format!("-{digits}")
        } else {
            digits
        }
    } else {
        es(value)
    };
    Ok(Num {
        text: text.into(),
        value,
    })
}

/// ECMAScript `Number.prototype.toString` of a finite double (RFC 8785 §3.2.2.3).
pub(crate) fn es(value: f64) -> String {
    ryu_js::Buffer::new().format_finite(value).to_owned()
}

/// The literal as it appears in an error line: ASCII already, cut to a readable length.
fn short(literal: &str) -> String {
    if literal.len() > 40 {
        format!("{}...", &literal[..40])
    } else {
        literal.to_owned()
    }
}

/// The exact value of a decimal literal: `digits` × 10^`exp`, digits without leading or
/// trailing zeros (empty for zero). Sign is irrelevant to the magnitude checks.
struct Decimal {
    digits: String,
    exp: i64,
}

impl Decimal {
    fn of(literal: &str) -> Decimal {
        let unsigned = literal.strip_prefix('-').unwrap_or(literal);
        let (mantissa, exp) = match unsigned.find(['e', 'E']) {
            // The exponent is all digits after an optional sign; saturate absurd lengths,
            // which only matter when the mantissa is zero (the value is then 0 anyway).
            Some(at) => (&unsigned[..at], parse_exp(&unsigned[at + 1..])),
            None => (unsigned, 0),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let mut digits: String = int_part.chars().chain(frac_part.chars()).collect();
        let frac_len = i64::try_from(frac_part.len()).unwrap_or(i64::MAX);
        let mut exp = exp.saturating_sub(frac_len);
        let trimmed = digits.trim_end_matches('0').len();
        exp = exp.saturating_add(i64::try_from(digits.len() - trimmed).unwrap_or(0));
        digits.truncate(trimmed);
        let lead = digits.len() - digits.trim_start_matches('0').len();
        digits.drain(..lead);
        Decimal { digits, exp }
    }

    /// Number of digits before the decimal point (can be negative or huge).
    fn integer_len(&self) -> i64 {
        i64::try_from(self.digits.len())
            .unwrap_or(i64::MAX)
            .saturating_add(self.exp)
    }

    /// Whether the magnitude is strictly greater than 2^53.
    fn beyond_exact_int(&self) -> bool {
        if self.digits.is_empty() {
            return false;
        }
        match self.integer_len().cmp(&16) {
            Ordering::Less => false,
            Ordering::Greater => true,
            Ordering::Equal => {
                // Compare the 16 integer digits with 2^53; any digit beyond them is a
                // non-zero fraction (trailing zeros were trimmed).
                let mut head: String = self.digits.chars().take(16).collect();
                while head.len() < 16 {
                    head.push('0');
                }
                match head.as_str().cmp(EXACT_INT) {
                    Ordering::Greater => true,
                    Ordering::Less => false,
                    Ordering::Equal => self.digits.len() > 16,
                }
            }
        }
    }

    /// The decimal digits of the value when it is an integer.
    fn integer_digits(&self) -> Option<String> {
        if self.exp < 0 {
            return None;
        }
        // Only called beyond 2^53 and within the double range, so exp is at most ~308.
        let zeros = usize::try_from(self.exp).ok()?;
        let mut out = String::with_capacity(self.digits.len() + zeros);
        out.push_str(&self.digits);
        out.extend(std::iter::repeat_n('0', zeros));
        Some(out)
    }
}

fn parse_exp(text: &str) -> i64 {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = digits.bytes().fold(0i64, |acc, d| {
        acc.saturating_mul(10).saturating_add(i64::from(d - b'0'))
    });
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

/// The exact decimal digits of a non-negative integral double.
fn exact_integer_digits(value: f64) -> String {
    if value < 18_446_744_073_709_551_616.0 {
        // Integral and below 2^64: the conversion is exact.
        return (value as u64).to_string();
    }
    let bits = value.to_bits();
    let exponent = ((bits >> 52) & 0x7FF) as u32;
    let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
    // value = mantissa × 2^shift, shift > 0 here (value >= 2^64).
    let shift = exponent - 1075;
    let mut limbs: Vec<u32> = vec![mantissa as u32, (mantissa >> 32) as u32];
    let whole = (shift / 32) as usize;
    let part = shift % 32;
    if part > 0 {
        let mut carry = 0u32;
        for limb in &mut limbs {
            let next = *limb >> (32 - part);
            *limb = (*limb << part) | carry;
            carry = next;
        }
        limbs.push(carry);
    }
    let mut number: Vec<u32> = vec![0; whole];
    number.extend(limbs);
    // Repeated division by 10^9 from the most significant limb.
    let mut chunks = Vec::new();
    while number.iter().any(|&l| l != 0) {
        let mut rem = 0u64;
        for limb in number.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        chunks.push(rem as u32);
        while number.last() == Some(&0) {
            number.pop();
        }
    }
    let mut out = String::new();
    for (i, chunk) in chunks.iter().rev().enumerate() {
        if i == 0 {
            out.push_str(&chunk.to_string());
        } else {
            out.push_str(&format!("{chunk:09}"));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn text(literal: &str) -> Result<String, NumberError> {
        canonical(literal).map(|n| n.text().to_owned())
    }

    #[test]
    fn small_numbers_keep_their_rfc_8785_text() {
        for (lit, want) in [
            ("0", "0"),
            ("-0", "0"),
            ("0.0", "0"),
            ("-0.0", "0"),
            ("64.0", "64"),
            ("6.4e1", "64"),
            ("1e-7", "1e-7"),
            ("0.1", "0.1"),
            ("-9007199254740992", "-9007199254740992"),
            ("9007199254740992.0", "9007199254740992"),
            ("9007199254740991.5", "9007199254740992"),
            ("1e21", "1e+21"),
            ("1e-400", "0"),
        ] {
            assert_eq!(text(lit).as_deref(), Ok(want), "{lit}");
        }
    }

    #[test]
    fn integer_literals_beyond_2_53_stay_exact() {
        assert_eq!(text("9007199254740993").unwrap(), "9007199254740993");
        assert_eq!(
            text("-18446744073709551617").unwrap(),
            "-18446744073709551617"
        );
        let long = format!("1{}", "0".repeat(400));
        assert_eq!(text(&long).unwrap(), long);
        assert_eq!(canonical(&long).unwrap().as_f64(), f64::INFINITY);
    }

    #[test]
    fn other_numbers_beyond_2_53_must_be_exact_doubles() {
        assert_eq!(text("9007199254740994.0").unwrap(), "9007199254740994");
        assert_eq!(text("9.007199254740994e15").unwrap(), "9007199254740994");
        // 2^60: ECMAScript would print 1152921504606847000, another integer.
        assert_eq!(
            text("1152921504606846976.0").unwrap(),
            "1152921504606846976"
        );
        assert_eq!(text("1e20").unwrap(), "100000000000000000000");
        assert_eq!(text("1.5e300"), Err(NumberError::Inexact("1.5e300".into())));
        for lit in [
            "9007199254740993.0",
            "9007199254740992.5",
            "1e30",
            "-9.007199254740993e15",
        ] {
            assert!(matches!(text(lit), Err(NumberError::Inexact(_))), "{lit}");
        }
        // 2^64 and 2^70 take the big-integer path.
        assert_eq!(
            text("18446744073709551616.0").unwrap(),
            "18446744073709551616"
        );
        assert_eq!(
            text("1180591620717411303424.0").unwrap(),
            "1.1805916207174113e+21"
        );
        assert_eq!(
            exact_integer_digits(2f64.powi(70)),
            "1180591620717411303424"
        );
        assert_eq!(
            exact_integer_digits(f64::MAX),
            "179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368"
        );
    }

    #[test]
    fn out_of_range_and_long_literals_read_well() {
        assert_eq!(text("1e400"), Err(NumberError::OutOfRange("1e400".into())));
        let long = format!("1.{}e400", "5".repeat(60));
        let err = text(&long).unwrap_err().to_string();
        assert!(
            err.starts_with("number 1.555") && err.contains("..."),
            "{err}"
        );
        assert_eq!(text("0e99999999999999999999").unwrap(), "0");
    }
}
