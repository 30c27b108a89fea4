//! RFC 8785 (JSON Canonicalization Scheme) examples, run through the public canonicalizer.

use llmcached::keying::{cache_key, canonicalize, KeyOptions};
use serde_json::Value;

fn canon(text: &str) -> String {
    canonicalize(&serde_json::from_str::<Value>(text).unwrap()).unwrap()
}

/// RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text. Each double is given to
/// the parser as Rust's shortest round-trip text, so the test covers parsing too.
#[test]
fn appendix_b_numbers() {
    let table = [
        (0x0000000000000000_u64, "0"),
        (0x8000000000000000, "0"),
        (0x0000000000000001, "5e-324"),
        (0x8000000000000001, "-5e-324"),
        (0x7fefffffffffffff, "1.7976931348623157e+308"),
        (0xffefffffffffffff, "-1.7976931348623157e+308"),
        (0x4340000000000000, "9007199254740992"),
        (0xc340000000000000, "-9007199254740992"),
        (0x4430000000000000, "295147905179352830000"),
        (0x44b52d02c7e14af5, "9.999999999999997e+22"),
        (0x44b52d02c7e14af6, "1e+23"),
        (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
        (0x444b1ae4d6e2ef4e, "999999999999999700000"),
        (0x444b1ae4d6e2ef4f, "999999999999999900000"),
        (0x444b1ae4d6e2ef50, "1e+21"),
        (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
        (0x3eb0c6f7a0b5ed8d, "0.000001"),
        (0x41b3de4355555553, "333333333.3333332"),
        (0x41b3de4355555554, "333333333.33333325"),
        (0x41b3de4355555555, "333333333.3333333"),
        (0x41b3de4355555556, "333333333.3333334"),
        (0x41b3de4355555557, "333333333.33333343"),
        (0xbecbf647612f3696, "-0.0000033333333333333333"),
        (0x43143ff3c1cb0959, "1424953923781206.2"),
    ];
    for (bits, expected) in table {
        let text = format!("{:e}", f64::from_bits(bits));
        assert_eq!(canon(&text), expected, "{bits:016x} given as {text}");
        // The canonical text must itself parse back to the same double.
        assert_eq!(canon(expected), expected, "{bits:016x} re-canonicalised");
    }
}

/// Appendix B also lists NaN and Infinity: they have no canonical form. JSON text cannot
/// spell them, but a number beyond the double range rounds to infinity and must be refused.
#[test]
fn appendix_b_non_finite_is_refused() {
    let body = br#"{"model":"m","temperature":0,"x":1e400}"#;
    let err = cache_key(body, &KeyOptions::default())
        .unwrap_err()
        .to_string();
    // With `arbitrary_precision` the parser keeps the text and the canonicaliser refuses it;
    // without it the parser refuses it. Either way: an ERR, never a key.
    assert!(
        (err.starts_with("ERR number 1e") && err.ends_with(" is out of the range of a double"))
            || err.starts_with("ERR request is not valid JSON: number out of range"),
        "{err}"
    );
}

/// RFC 8785 §3.2.2: the sample that exercises literals, numbers and string escaping.
#[test]
fn section_3_2_2_sample() {
    let input = r#"{
        "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
        "literals": [null, true, false]
    }"#;
    let expected = concat!(
        r#"{"literals":[null,true,false],"#,
        r#""numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"#,
        "\"string\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}"
    );
    assert_eq!(canon(input), expected);
}

/// RFC 8785 §3.2.3: member names sort by UTF-16 code units, not by code points.
#[test]
fn section_3_2_3_sorting() {
    let input = r#"{
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\ud83d\ude00": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis"
    }"#;
    let expected = concat!(
        "{\"\\r\":\"Carriage Return\",",
        "\"1\":\"One\",",
        "\"\u{80}\":\"Control\",",
        "\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",",
        "\"\u{20ac}\":\"Euro Sign\",",
        "\"\u{1f600}\":\"Emoji: Grinning Face\",",
        "\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}",
    );
    assert_eq!(canon(input), expected);
}
