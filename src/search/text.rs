//! Text helpers: how TEXT fields and query words are cut into tokens, and how numbers are
//! printed in replies (C's `%.12g`, as RediSearch prints distances).

/// Lower-cased tokens of `s`: runs of letters, digits and `_` (punctuation and spaces separate,
/// as RediSearch's default tokenizer does; no stemming).
pub fn tokens(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
}

/// `x` printed as C's `printf("%.12g", x)`.
pub fn g12(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    const P: i32 = 12;
    // The exponent after rounding to P significant digits decides the style.
    let sci = format!("{:.*e}", (P - 1) as usize, x);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..P).contains(&exp) {
        let mant = trim_zeros(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (P - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{x:.decimals$}")).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_printf_g12() {
        for (x, want) in [
            (0.0513167381287_f64, "0.0513167381287"),
            (1.0, "1"),
            (0.000012345, "1.2345e-05"),
            (123456789012345.0, "1.23456789012e+14"),
            (0.1f32 as f64, "0.10000000149"),
            (-2.5, "-2.5"),
            (0.0, "0"),
        ] {
            assert_eq!(g12(x), want, "{x}");
        }
    }

    #[test]
    fn tokens_split_on_punctuation_and_lower_case() {
        let t: Vec<_> = tokens("What is RAG? gpt-4o_x").collect();
        assert_eq!(t, ["what", "is", "rag", "gpt", "4o_x"]);
    }
}
