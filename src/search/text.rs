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
    crate::protocol::printf::g(x, 12)
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
