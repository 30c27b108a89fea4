//! C's `printf("%.<P>g", x)`, the way Redis and its modules print doubles: `%.17g` for sorted-set
//! scores and Lua numbers, `%.12g` for RediSearch's distances and weights.

/// `x` printed as C's `printf("%.<precision>g", x)` (`precision` at least 1), with `nan`,
/// `inf` and `-inf` spelled as Redis spells them.
pub fn g(x: f64, precision: usize) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let p = precision.max(1) as i32;
    // The exponent after rounding to `p` significant digits decides the style, as in C.
    let sci = format!("{:.*e}", (p - 1) as usize, x);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..p).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim_zeros(mantissa), exp.abs())
    } else {
        let decimals = (p - 1 - exp).max(0) as usize;
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
    use super::g;

    #[test]
    fn prints_like_c() {
        for (x, p, want) in [
            (0.0513167381287_f64, 12, "0.0513167381287"),
            (0.000012345, 12, "1.2345e-05"),
            (123456789012345.0, 12, "1.23456789012e+14"),
            (1.1, 17, "1.1000000000000001"),
            (1e20, 17, "1e+20"),
            (-1.5e-7, 17, "-1.4999999999999999e-07"),
            (3.0, 17, "3"),
            (-0.0, 17, "-0"),
            (f64::NEG_INFINITY, 17, "-inf"),
        ] {
            assert_eq!(g(x, p), want, "{x} %.{p}g");
        }
    }
}
