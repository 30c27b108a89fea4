//! Property tests of the keying over arbitrary JSON: any spelling of the same request gives one
//! key; any change to a kept field gives another; integers keep their exact value.
//!
//! Requests are generated as a small JSON tree and written out by a spelling-randomising
//! writer (member order, whitespace, number forms, `\u` escapes), so the properties cover the
//! parser as well as the canonical form. `keying_forms_props.rs` does the same for the merged
//! forms of each dialect.

use llmcached::keying::{cache_key, Dialect, KeyOptions};
use proptest::prelude::*;

/// A JSON value whose objects keep an explicit member order (names unique).
#[derive(Debug, Clone)]
enum J {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

fn text() -> impl Strategy<Value = String> {
    // Any scalar value, control characters and supplementary planes included.
    prop::collection::vec(any::<char>(), 0..6).prop_map(String::from_iter)
}

/// 2^53: every integer up to it in magnitude is a double.
const EXACT: f64 = 9_007_199_254_740_992.0;

fn leaf() -> impl Strategy<Value = J> {
    prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::Int),
        (-1000i64..1000).prop_map(J::Int),
        // Fractions and exponents are read as doubles, which up to 2^53 every reader agrees
        // on; beyond it only exact doubles of integers are keyable (see `integers` below).
        any::<f64>()
            .prop_filter("finite, at most 2^53", |f| f.is_finite()
                && f.abs() <= EXACT)
            .prop_map(J::Float),
        text().prop_map(J::Str),
    ]
}

/// Whether `i` is exactly a double, so that `{i}.0` names the same number.
fn exact_double(i: i64) -> bool {
    let f = i as f64;
    f.abs() < 2f64.powi(63) && f as i64 == i
}

fn dedup(members: Vec<(String, J)>) -> Vec<(String, J)> {
    let mut seen = std::collections::HashSet::new();
    members
        .into_iter()
        .filter(|(k, _)| seen.insert(k.clone()))
        .collect()
}

fn json() -> impl Strategy<Value = J> {
    leaf().prop_recursive(3, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(J::Arr),
            prop::collection::vec((text(), inner), 0..5).prop_map(|m| J::Obj(dedup(m))),
        ]
    })
}

/// A generic-dialect request: a model, temperature 0 and random other members (none of them
/// per-call, `model`, `temperature` or `n`).
fn request() -> impl Strategy<Value = Vec<(String, J)>> {
    prop::collection::vec((text(), json()), 0..6).prop_map(|members| {
        let mut all = vec![
            ("model".to_string(), J::Str("m-1".into())),
            ("temperature".to_string(), J::Int(0)),
        ];
        all.extend(members.into_iter().filter(|(k, _)| {
            !matches!(k.as_str(), "model" | "temperature" | "n") && !Dialect::Generic.is_per_call(k)
        }));
        dedup(all)
    })
}

/// Small deterministic generator for spelling choices.
struct Choices(u64);

impl Choices {
    fn next(&mut self, n: u64) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

fn ws(c: &mut Choices, out: &mut String) {
    out.push_str(["", "", " ", "\n", "\t ", "\r\n  "][c.next(6) as usize]);
}

fn write_str(s: &str, c: &mut Choices, out: &mut String) {
    out.push('"');
    for ch in s.chars() {
        let must = ch == '"' || ch == '\\' || u32::from(ch) < 0x20;
        if must || c.next(4) == 0 {
            let mut units = [0u16; 2];
            for u in ch.encode_utf16(&mut units) {
                if c.next(2) == 0 {
                    out.push_str(&format!("\\u{u:04x}"));
                } else {
                    out.push_str(&format!("\\u{u:04X}"));
                }
            }
        } else {
            out.push(ch);
        }
    }
    out.push('"');
}

/// Writes `j` as JSON text, spelled according to `c`.
fn write(j: &J, c: &mut Choices, out: &mut String) {
    ws(c, out);
    match j {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Int(i) if i.unsigned_abs() > 1 << 53 && !exact_double(*i) => {
            // Beyond 2^53 only the integer literal is exact.
            out.push_str(&i.to_string());
        }
        J::Int(i) => {
            let spelled = match c.next(5) {
                0 => format!("{i}.0"),
                1 => format!("{i}e0"),
                2 if *i == 0 => "0.0E-1".to_string(),
                2 => format!("{i}0E-1"),
                3 if *i == 0 => "-0.000".to_string(),
                _ => i.to_string(),
            };
            out.push_str(&spelled);
        }
        J::Float(f) => out.push_str(&match c.next(3) {
            0 => format!("{f:e}"),
            1 => format!("{f:E}"),
            _ => format!("{f:?}"),
        }),
        J::Str(s) => write_str(s, c, out),
        J::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, c, out);
            }
            ws(c, out);
            out.push(']');
        }
        J::Obj(members) => {
            // A random order of the members (Fisher-Yates).
            let mut order: Vec<usize> = (0..members.len()).collect();
            for i in (1..order.len()).rev() {
                order.swap(i, c.next(i as u64 + 1) as usize);
            }
            out.push('{');
            for (n, &i) in order.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                ws(c, out);
                write_str(&members[i].0, c, out);
                ws(c, out);
                out.push(':');
                write(&members[i].1, c, out);
            }
            ws(c, out);
            out.push('}');
        }
    }
    ws(c, out);
}

fn key(members: &[(String, J)], seed: u64, args: &[&str]) -> String {
    let mut text = String::new();
    write(&J::Obj(members.to_vec()), &mut Choices(seed), &mut text);
    let opts = KeyOptions::parse_args(args.iter().map(|a| a.as_bytes())).unwrap();
    cache_key(text.as_bytes(), &opts)
        .unwrap_or_else(|e| panic!("{e} for {text}"))
        .key
}

/// Changes the value at a random path so that it differs as JSON data.
fn mutate(j: &mut J, c: &mut Choices) {
    let descend = c.next(3) != 0;
    match j {
        J::Arr(items) if descend && !items.is_empty() => {
            let i = c.next(items.len() as u64) as usize;
            mutate(&mut items[i], c);
        }
        J::Obj(members) if descend && !members.is_empty() => {
            let i = c.next(members.len() as u64) as usize;
            mutate(&mut members[i].1, c);
        }
        J::Null => *j = J::Bool(false),
        J::Bool(b) => *b = !*b,
        J::Int(_) | J::Float(_) => *j = J::Str("0".into()),
        J::Str(s) => s.push('x'),
        J::Arr(items) => items.push(J::Null),
        J::Obj(members) => {
            let mut name = String::from("~added");
            while members.iter().any(|(k, _)| *k == name) {
                name.push('~');
            }
            members.push((name, J::Null));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_spelling_gives_one_key(req in request(), s1 in any::<u64>(), s2 in any::<u64>()) {
        prop_assert_eq!(key(&req, s1, &[]), key(&req, s2, &[]));
    }

    #[test]
    fn changing_a_kept_field_changes_the_key(
        req in request(), seed in any::<u64>(), pick in any::<u64>(),
    ) {
        let mut changed = req.clone();
        // Member 0 is the model and 1 the temperature; change one of the others, or add one.
        let mut c = Choices(pick);
        let mut top = J::Obj(changed[2..].to_vec());
        mutate(&mut top, &mut c);
        let J::Obj(rest) = top else { unreachable!() };
        changed.truncate(2);
        changed.extend(rest);
        prop_assert_ne!(key(&req, seed, &[]), key(&changed, seed, &[]));
    }

    #[test]
    fn per_call_fields_never_change_the_key(
        req in request(), extra in json(), seed in any::<u64>(),
    ) {
        let base = key(&req, seed, &["DIALECT", "openai-chat"]);
        for field in Dialect::OpenAiChat.per_call_fields() {
            let mut with = req.clone();
            with.push((field.to_string(), extra.clone()));
            prop_assert_eq!(&base, &key(&with, seed, &["DIALECT", "openai-chat"]), "{}", field);
        }
    }

    #[test]
    fn integers_beyond_2_53_keep_their_exact_value(
        req in request(), seed in any::<u64>(), i in (1i64 << 53)..i64::MAX, neg in any::<bool>(),
    ) {
        let i = if neg { -i } else { i };
        let with = |v: i64| {
            let mut r = req.clone();
            r.push(("~seed".to_string(), J::Int(v)));
            key(&r, seed, &[])
        };
        // One double apart is still two requests.
        prop_assert_ne!(with(i), with(if i > 0 { i - 1 } else { i + 1 }));
        // Spelled with a fraction it is the same number when a double holds it, else refused.
        let literal = format!(r#"{{"model":"m","temperature":0,"x":{i}}}"#);
        let fraction = format!(r#"{{"model":"m","temperature":0,"x":{i}.0}}"#);
        let opts = KeyOptions::default();
        let fraction_key = cache_key(fraction.as_bytes(), &opts);
        if exact_double(i) {
            prop_assert_eq!(fraction_key.unwrap().key, cache_key(literal.as_bytes(), &opts).unwrap().key);
        } else {
            let err = fraction_key.unwrap_err().to_string();
            prop_assert!(err.contains("is beyond 2^53 and no double holds it exactly"), "{}", err);
        }
    }

    #[test]
    fn duplicate_names_are_refused_wherever_they_are(req in request(), seed in any::<u64>()) {
        let mut text = String::new();
        write(&J::Obj(req.clone()), &mut Choices(seed), &mut text);
        // The same member twice, appended to the top-level object.
        let open = text.trim_end().strip_suffix('}').unwrap();
        let dup = format!("{open},\"model\":\"m-1\"}}");
        let err = cache_key(dup.as_bytes(), &KeyOptions::default()).unwrap_err().to_string();
        prop_assert!(err.starts_with("ERR request has two members named \"model\""), "{}", err);
    }

    #[test]
    fn model_and_dialect_are_part_of_the_key(req in request(), seed in any::<u64>()) {
        let mut other = req.clone();
        other[0].1 = J::Str("m-2".into());
        prop_assert_ne!(key(&req, seed, &[]), key(&other, seed, &[]));
        prop_assert_ne!(
            key(&req, seed, &["DIALECT", "generic"]),
            key(&req, seed, &["DIALECT", "anthropic"])
        );
    }
}
