//! Deterministic request bodies for the old-versus-new key cross-check.
//!
//! The bodies are a pure function of their case number (a splitmix64 stream seeded by it), so
//! `tests/data/keying/crosscheck.txt` can hold the keys that the keying computed before its
//! fast path without holding the bodies. Changing anything here changes the bodies and makes
//! the recorded keys meaningless: add cases at the end instead.

/// splitmix64: small, fast, and the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// Pieces of string literals, as they appear inside the quotes: plain and non-ASCII text,
/// every escape JCS writes as it came (`\n`, `\"`, `\u001f`), and escapes it rewrites
/// (`\/`, `\u00e9`, uppercase hex, short controls as `\u000a`, surrogate pairs).
const PIECES: &[&str] = &[
    "hello",
    " ",
    "Lorem ipsum dolor sit amet",
    "café",
    "東京",
    "😀",
    "Ω",
    "\u{7f}",
    "\u{2028}",
    "\\n",
    "\\t",
    "\\r",
    "\\b",
    "\\f",
    "\\\"",
    "\\\\",
    "\\u001f",
    "\\u0000",
    "\\u0001",
    "\\u001b",
    "\\/",
    "\\u00e9",
    "\\u00E9",
    "\\u001F",
    "\\u000a",
    "\\u0009",
    "\\u0022",
    "\\u005c",
    "\\ud83d\\ude00",
    "\\uD83D\\uDE00",
    "\\u2028",
    "\\u0041",
    "a\\\\nb",
    "{\\\"x\\\":1}",
];

/// Broken pieces: each makes the literal (and so the body) an error.
const BROKEN: &[&str] = &[
    "\\x",
    "\\u12",
    "\\ud800",
    "\\udc00",
    "\\ud800\\u0041",
    "\t",
    "\\u00zz",
    "\\",
];

const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "0.0",
    "1.0",
    "1e0",
    "1E+2",
    "0.1",
    "-2.5e-3",
    "123456789",
    "9007199254740992",
    "9007199254740993",
    "18446744073709551616",
    "1e21",
    "1.5e300",
    "1e400",
    "9007199254740993.0",
    "0.7",
    "2",
    "1.0e-7",
    "00",
    "1.",
    "-",
];

const NAMES: &[&str] = &[
    "a",
    "b",
    "role",
    "content",
    "type",
    "text",
    "model",
    "temperature",
    "n",
    "top_p",
    "tools",
    "stream",
    "user",
    "metadata",
    "é",
    "\u{fb33}",
    "😀",
    "A",
    "ab",
    "\\u0061",
    "\\n",
];

/// A string literal (with quotes), broken with a small chance when `broken` is set.
fn literal(rng: &mut Rng, broken: bool) -> String {
    let mut s = String::from("\"");
    for _ in 0..rng.below(6) {
        s.push_str(rng.pick(PIECES));
    }
    if broken && rng.below(40) == 0 {
        s.push_str(rng.pick(BROKEN));
    }
    s.push('"');
    s
}

fn ws(rng: &mut Rng) -> &'static str {
    rng.pick(&["", "", "", " ", "\n  ", "\t", " \r\n"])
}

/// A random value of at most `depth` levels.
fn value(rng: &mut Rng, depth: usize, broken: bool, out: &mut String) {
    let kind = if depth == 0 {
        rng.below(5)
    } else {
        rng.below(7)
    };
    match kind {
        0 => out.push_str(rng.pick(&["null", "true", "false"])),
        1 | 2 => {
            let n = rng.pick(NUMBERS);
            // Invalid number spellings only where errors are wanted.
            if broken || !matches!(n, "00" | "1." | "-") {
                out.push_str(n);
            } else {
                out.push('7');
            }
        }
        3 | 4 => out.push_str(&literal(rng, broken)),
        5 => {
            out.push('[');
            for i in 0..rng.below(5) {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(ws(rng));
                value(rng, depth - 1, broken, out);
            }
            out.push(']');
        }
        _ => object(rng, depth - 1, broken, out),
    }
}

fn object(rng: &mut Rng, depth: usize, broken: bool, out: &mut String) {
    out.push('{');
    let mut names: Vec<&str> = Vec::new();
    for _ in 0..rng.below(6) {
        let name = rng.pick(NAMES);
        // A duplicate name only where errors are wanted.
        if !broken && names.contains(&name) {
            continue;
        }
        if !names.is_empty() {
            out.push(',');
        }
        names.push(name);
        out.push_str(ws(rng));
        out.push('"');
        out.push_str(name);
        out.push('"');
        out.push_str(ws(rng));
        out.push(':');
        out.push_str(ws(rng));
        value(rng, depth, broken, out);
    }
    out.push_str(ws(rng));
    out.push('}');
}

/// A message of one of the documented shapes, with random text.
fn message(rng: &mut Rng, out: &mut String) {
    let role = rng.pick(&["system", "user", "assistant", "tool", "developer"]);
    let text = literal(rng, false);
    let content = match rng.below(5) {
        0 => format!(r#"[{{"type":"text","text":{text}}}]"#),
        1 => format!(r#"[{{"type":"text","text":{text}}},{{"type":"text","text":"x"}}]"#),
        2 => r#"[{"type":"image_url","image_url":{"url":"https://x/y.png","detail":"auto"}}]"#
            .to_string(),
        _ => text,
    };
    out.push_str(&format!(r#"{{"role":"{role}","content":{content}}}"#));
}

/// Case `case`: a random body of one of several shapes. Cases cycle through the shapes, so
/// every shape is covered by any long enough run.
pub fn body(case: u64) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut rng = Rng::new(case);
    let mut out = String::new();
    let broken = case % 5 == 4;
    let args: &[&str] = match case % 4 {
        0 => &[],
        1 => &["SAMPLED"],
        2 => &["SAMPLED", "LIVE", "FORMAT", "sse"],
        _ => &["MODEL", "m-1"],
    };
    match case % 6 {
        // Any JSON object.
        0 => object(&mut rng, 3, broken, &mut out),
        // OpenAI Chat.
        1 => {
            out.push_str(r#"{"model":"gpt-4o-mini","temperature":0,"messages":["#);
            for i in 0..1 + rng.below(6) {
                if i > 0 {
                    out.push(',');
                }
                message(&mut rng, &mut out);
            }
            out.push_str(r#"],"n":1,"stream":true,"user":"u","extra":"#);
            value(&mut rng, 2, broken, &mut out);
            out.push('}');
        }
        // Anthropic Messages.
        2 => {
            out.push_str(r#"{"model":"claude-sonnet-4-5","max_tokens":1024,"system":["#);
            out.push_str(&format!(
                r#"{{"type":"text","text":{}}}"#,
                literal(&mut rng, false)
            ));
            out.push_str(r#"],"messages":[{"role":"user","content":[{"type":"text","text":"#);
            out.push_str(&literal(&mut rng, broken));
            out.push_str(
                r#","cache_control":{"type":"ephemeral"}}]}],"tools":[{"name":"f","input_schema":"#,
            );
            object(&mut rng, 2, false, &mut out);
            out.push_str(r#"}],"temperature":0,"metadata":{"user_id":"x"}}"#);
        }
        // Gemini generateContent, both spellings.
        3 => {
            out.push_str(r#"{"contents":[{"role":"user","parts":[{"text":"#);
            out.push_str(&literal(&mut rng, broken));
            out.push_str("}]}],");
            out.push_str(rng.pick(&[
                r#""generationConfig":{"temperature":0,"maxOutputTokens":100}"#,
                r#""generation_config":{"temperature":0,"max_output_tokens":100}"#,
                r#""generationConfig":{"temperature":0},"generation_config":{"temperature":0}"#,
                r#""generationConfig":{"temperature":0},"generation_config":{"temperature":1}"#,
            ]));
            out.push_str(r#","labels":{"a":"b"}}"#);
            return (out.into_bytes(), gemini_args(args));
        }
        // OpenAI Responses.
        4 => {
            out.push_str(
                r#"{"model":"gpt-4.1","temperature":0,"input":[{"role":"user","content":"#,
            );
            out.push_str(&literal(&mut rng, broken));
            out.push_str(r#"}],"include":["b","a"],"top_p":1,"extra":"#);
            value(&mut rng, 2, broken, &mut out);
            out.push('}');
        }
        // A body cut short or with trailing bytes: syntax errors and their positions.
        _ => {
            object(&mut rng, 3, broken, &mut out);
            let cut = rng.below(out.len() + 1);
            out.truncate(
                (0..=cut)
                    .rev()
                    .find(|&i| out.is_char_boundary(i))
                    .unwrap_or(0),
            );
            if rng.below(3) == 0 {
                out.push_str(" x");
            }
        }
    }
    (
        out.into_bytes(),
        args.iter().map(|a| a.as_bytes().to_vec()).collect(),
    )
}

/// Gemini bodies carry no model: always pass one.
fn gemini_args(args: &[&str]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
    if !args.contains(&"MODEL") {
        out.extend([b"MODEL".to_vec(), b"gemini-2.0-flash".to_vec()]);
    }
    out
}

/// Number of recorded cases.
pub const CASES: u64 = 3000;
