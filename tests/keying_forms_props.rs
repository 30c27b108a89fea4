//! Property tests of the merged forms, per dialect: every documented spelling of a request
//! (a string or one text block, defaults written out or left out, cache markers, per-call
//! fields, camelCase or snake_case, sets in any order) gets one key, and changing anything that
//! can change the answer gets another.
//!
//! Each dialect has a small request model; `render` writes it with random choices among the
//! equivalent forms, and `mutate` changes one answer-affecting part of it.

use llmcached::keying::{cache_key, KeyOptions};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

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

    fn coin(&mut self) -> bool {
        self.next(2) == 0
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.next(i as u64 + 1) as usize);
        }
    }
}

/// Sets `name` to `value` on a coin flip (a documented default or a per-call field).
fn maybe(body: &mut Map<String, Value>, c: &mut Choices, name: &str, value: Value) {
    if c.coin() {
        body.insert(name.to_owned(), value);
    }
}

fn key(body: &Value, args: &[&str]) -> String {
    let opts = KeyOptions::parse_args(args.iter().map(|a| a.as_bytes())).unwrap();
    let text = serde_json::to_string(body).unwrap();
    cache_key(text.as_bytes(), &opts)
        .unwrap_or_else(|e| panic!("{e} for {text}"))
        .key
}

fn words() -> impl Strategy<Value = String> {
    "[a-z]{1,6}( [a-z]{1,6}){0,3}"
}

/// Distinct strings (stop sequences, tool names), at most `n`.
fn distinct(n: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::btree_set("[a-z]{1,5}", 0..=n).prop_map(|s| s.into_iter().collect())
}

/// A text content: the string, or one text block of `block_type` (with extra members that
/// the reference documents as answer-neutral).
fn text_content(
    text: &str,
    block_type: &str,
    marker: Option<(&str, Value)>,
    c: &mut Choices,
) -> Value {
    if c.coin() {
        return json!(text);
    }
    let mut block = json!({"type": block_type, "text": text});
    if let Some((name, value)) = marker {
        if c.coin() {
            block[name] = value;
        }
    }
    json!([block])
}

// ---------- OpenAI Chat Completions ----------

#[derive(Debug, Clone)]
struct Chat {
    messages: Vec<(usize, String)>,
    max_tokens: u32,
    stop: Vec<String>,
    tools: Vec<String>,
    seed: Option<i64>,
}

const CHAT_ROLES: [&str; 4] = ["system", "developer", "user", "assistant"];

fn chat() -> impl Strategy<Value = Chat> {
    (
        prop::collection::vec((0..4usize, words()), 1..5),
        1..4096u32,
        distinct(3),
        distinct(2),
        prop::option::of(prop_oneof![any::<i64>(), (1i64 << 53)..(1i64 << 62)]),
    )
        .prop_map(|(messages, max_tokens, stop, tools, seed)| Chat {
            messages,
            max_tokens,
            stop,
            tools,
            seed,
        })
}

fn render_chat(r: &Chat, c: &mut Choices) -> Value {
    let marker = ("prompt_cache_breakpoint", json!({"mode": "explicit"}));
    let messages: Vec<Value> = r
        .messages
        .iter()
        .map(|(role, text)| json!({"role": CHAT_ROLES[*role], "content": text_content(text, "text", Some(marker.clone()), c)}))
        .collect();
    let mut body = Map::new();
    body.insert("model".into(), json!("gpt-4o-mini"));
    body.insert(
        "temperature".into(),
        if c.coin() { json!(0) } else { json!(0.0) },
    );
    body.insert("messages".into(), json!(messages));
    body.insert("max_tokens".into(), json!(r.max_tokens));
    if !r.stop.is_empty() {
        body.insert("stop".into(), json!(r.stop));
    }
    if let Some(seed) = r.seed {
        body.insert("seed".into(), json!(seed));
    }
    if !r.tools.is_empty() {
        let tools: Vec<Value> = r
            .tools
            .iter()
            .map(|n| json!({"type": "function", "function": {"name": n}}))
            .collect();
        body.insert("tools".into(), json!(tools));
        maybe(&mut body, c, "tool_choice", json!("auto"));
    }
    for (name, value) in [
        ("n", json!(1)),
        ("top_p", json!(1.0)),
        ("presence_penalty", json!(0)),
        ("frequency_penalty", json!(0)),
        ("logprobs", json!(false)),
        ("parallel_tool_calls", json!(true)),
        ("response_format", json!({"type": "text"})),
        ("user", json!("someone")),
        ("stream", json!(true)),
        ("metadata", json!({"trace": "t"})),
        ("prompt_cache_options", json!({"ttl": "30m"})),
    ] {
        maybe(&mut body, c, name, value);
    }
    Value::Object(body)
}

fn mutate_chat(r: &mut Chat, pick: u64) {
    let i = (pick / 8) as usize % r.messages.len();
    match pick % 8 {
        0 => r.messages[i].1.push('x'),
        1 => r.messages[i].0 = (r.messages[i].0 + 1) % 4,
        2 => r.max_tokens += 1,
        3 if r.stop.len() >= 2 => r.stop.swap(0, 1),
        4 if !r.tools.is_empty() => r.tools[0].push('x'),
        5 => {
            r.seed = Some(
                r.seed
                    .map_or(0, |s| if s == i64::MAX { s - 1 } else { s + 1 }),
            )
        }
        6 => r.messages.push((2, "x".into())),
        _ => r.stop.push("zzzzzz".into()),
    }
}

// ---------- Anthropic Messages ----------

#[derive(Debug, Clone)]
struct Anthropic {
    system: String,
    messages: Vec<(bool, String)>,
    tools: Vec<String>,
    stop_sequences: Vec<String>,
    max_tokens: u32,
}

fn anthropic() -> impl Strategy<Value = Anthropic> {
    (
        words(),
        prop::collection::vec((any::<bool>(), words()), 1..5),
        distinct(2),
        distinct(3),
        1..4096u32,
    )
        .prop_map(
            |(system, messages, tools, stop_sequences, max_tokens)| Anthropic {
                system,
                messages,
                tools,
                stop_sequences,
                max_tokens,
            },
        )
}

fn render_anthropic(r: &Anthropic, c: &mut Choices) -> Value {
    let marker = ("cache_control", json!({"type": "ephemeral"}));
    let messages: Vec<Value> = r
        .messages
        .iter()
        .map(|(user, text)| {
            json!({"role": if *user { "user" } else { "assistant" },
                   "content": text_content(text, "text", Some(marker.clone()), c)})
        })
        .collect();
    let mut body = Map::new();
    body.insert("model".into(), json!("claude-sonnet-4-5"));
    body.insert("temperature".into(), json!(0));
    body.insert("max_tokens".into(), json!(r.max_tokens));
    body.insert(
        "system".into(),
        text_content(&r.system, "text", Some(marker.clone()), c),
    );
    body.insert("messages".into(), json!(messages));
    if !r.stop_sequences.is_empty() {
        body.insert("stop_sequences".into(), json!(r.stop_sequences));
    }
    if !r.tools.is_empty() {
        let tools: Vec<Value> = r
            .tools
            .iter()
            .map(|n| {
                let mut t = json!({"name": n, "input_schema": {"type": "object", "properties": {"cache_control": {"type": "string"}}}});
                if c.coin() {
                    t["cache_control"] = json!({"type": "ephemeral", "ttl": "1h"});
                }
                t
            })
            .collect();
        body.insert("tools".into(), json!(tools));
        let auto = if c.coin() {
            json!({"type": "auto"})
        } else {
            json!({"type": "auto", "disable_parallel_tool_use": false})
        };
        maybe(&mut body, c, "tool_choice", auto);
    }
    for (name, value) in [
        ("thinking", json!({"type": "disabled"})),
        ("cache_control", json!({"type": "ephemeral"})),
        ("metadata", json!({"user_id": "u"})),
        ("stream", json!(false)),
        ("service_tier", json!("auto")),
    ] {
        maybe(&mut body, c, name, value);
    }
    Value::Object(body)
}

fn mutate_anthropic(r: &mut Anthropic, pick: u64) {
    let i = (pick / 8) as usize % r.messages.len();
    match pick % 8 {
        0 => r.messages[i].1.push('x'),
        1 => r.messages[i].0 = !r.messages[i].0,
        2 => r.system.push('x'),
        3 if r.stop_sequences.len() >= 2 => r.stop_sequences.swap(0, 1),
        4 if !r.tools.is_empty() => r.tools[0].push('x'),
        5 => r.max_tokens += 1,
        6 => r.tools.push("zzzzzz".into()),
        _ => r.messages.push((true, "x".into())),
    }
}

// ---------- OpenAI Responses ----------

#[derive(Debug, Clone)]
struct Responses {
    instructions: Option<String>,
    /// One user text (which has three documented spellings) or several messages.
    input: Vec<(usize, String)>,
    include: Vec<String>,
}

const RESPONSE_ROLES: [&str; 3] = ["user", "developer", "system"];

fn responses() -> impl Strategy<Value = Responses> {
    (
        prop::option::of(words()),
        prop::collection::vec((0..3usize, words()), 1..4),
        distinct(3),
    )
        .prop_map(|(instructions, input, include)| Responses {
            instructions,
            input,
            include,
        })
}

fn render_responses(r: &Responses, c: &mut Choices) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!("gpt-4.1"));
    body.insert("temperature".into(), json!(0));
    if let Some(i) = &r.instructions {
        body.insert("instructions".into(), json!(i));
    }
    let item = |role: usize, text: &str, c: &mut Choices| {
        let mut m = json!({"role": RESPONSE_ROLES[role], "content": text_content(text, "input_text", None, c)});
        if c.coin() {
            m["type"] = json!("message");
        }
        m
    };
    let input = match r.input.as_slice() {
        [(0, text)] if c.coin() => json!(text),
        items => json!(items
            .iter()
            .map(|(role, text)| item(*role, text, c))
            .collect::<Vec<_>>()),
    };
    body.insert("input".into(), input);
    if !r.include.is_empty() {
        let mut include = r.include.clone();
        c.shuffle(&mut include);
        body.insert("include".into(), json!(include));
    }
    for (name, value) in [
        ("top_p", json!(1)),
        ("truncation", json!("disabled")),
        ("background", json!(false)),
        ("parallel_tool_calls", json!(true)),
        ("text", json!({"format": {"type": "text"}})),
        ("store", json!(true)),
        ("prompt_cache_key", json!("k")),
    ] {
        maybe(&mut body, c, name, value);
    }
    Value::Object(body)
}

fn mutate_responses(r: &mut Responses, pick: u64) {
    let i = (pick / 8) as usize % r.input.len();
    match pick % 5 {
        0 => r.input[i].1.push('x'),
        1 => r.input[i].0 = (r.input[i].0 + 1) % 3,
        2 => r.include.push("zzzzzz".into()),
        3 => r.instructions = Some(r.instructions.take().map_or("x".into(), |s| s + "x")),
        _ => r.input.push((0, "x".into())),
    }
}

// ---------- Gemini ----------

#[derive(Debug, Clone)]
struct Gemini {
    contents: Vec<(bool, Vec<String>)>,
    system: Option<String>,
    max_output_tokens: u32,
    stop: Vec<String>,
    /// Category index -> threshold index; unique categories.
    safety: Vec<(usize, usize)>,
    /// User-chosen property names of a function's schema.
    properties: Vec<String>,
}

const CATEGORIES: [&str; 4] = [
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
];
const THRESHOLDS: [&str; 3] = ["BLOCK_NONE", "BLOCK_ONLY_HIGH", "OFF"];

fn gemini() -> impl Strategy<Value = Gemini> {
    (
        prop::collection::vec((any::<bool>(), prop::collection::vec(words(), 1..3)), 1..4),
        prop::option::of(words()),
        1..8192u32,
        distinct(4),
        prop::collection::btree_map(0..4usize, 0..3usize, 0..4),
        prop::collection::btree_set("[a-z]{1,4}(_[a-z]{1,4})?", 0..3),
    )
        .prop_map(
            |(contents, system, max_output_tokens, stop, safety, properties)| Gemini {
                contents,
                system,
                max_output_tokens,
                stop,
                safety: safety.into_iter().collect(),
                properties: properties.into_iter().collect(),
            },
        )
}

/// `camel` or its snake_case proto name, at random.
fn spell(camel: &str, c: &mut Choices) -> String {
    if c.coin() {
        return camel.to_owned();
    }
    camel
        .chars()
        .flat_map(|ch| {
            if ch.is_ascii_uppercase() {
                vec!['_', ch.to_ascii_lowercase()]
            } else {
                vec![ch]
            }
        })
        .collect()
}

fn render_gemini(r: &Gemini, c: &mut Choices) -> Value {
    let contents: Vec<Value> = r
        .contents
        .iter()
        .map(|(user, parts)| {
            let parts: Vec<Value> = parts.iter().map(|t| json!({"text": t})).collect();
            json!({"role": if *user { "user" } else { "model" }, "parts": parts})
        })
        .collect();
    let mut body = Map::new();
    body.insert("contents".into(), json!(contents));
    if let Some(s) = &r.system {
        body.insert(
            spell("systemInstruction", c),
            json!({"parts": [{"text": s}]}),
        );
    }
    let mut config = Map::new();
    config.insert("temperature".into(), json!(0));
    config.insert(spell("maxOutputTokens", c), json!(r.max_output_tokens));
    if !r.stop.is_empty() {
        let mut stop = r.stop.clone();
        c.shuffle(&mut stop);
        config.insert(spell("stopSequences", c), json!(stop));
    }
    let default_count = spell("candidateCount", c);
    maybe(&mut config, c, &default_count, json!(1));
    let default_mime = spell("responseMimeType", c);
    maybe(&mut config, c, &default_mime, json!("text/plain"));
    body.insert(spell("generationConfig", c), Value::Object(config));
    if !r.safety.is_empty() {
        let mut settings: Vec<Value> = r
            .safety
            .iter()
            .map(|(cat, th)| json!({"category": CATEGORIES[*cat], "threshold": THRESHOLDS[*th]}))
            .collect();
        c.shuffle(&mut settings);
        body.insert(spell("safetySettings", c), json!(settings));
    }
    if !r.properties.is_empty() {
        let properties: Map<String, Value> = r
            .properties
            .iter()
            .map(|p| {
                (
                    p.clone(),
                    json!({"type": "STRING", spell("maxLength", c): 9}),
                )
            })
            .collect();
        let declaration =
            json!({"name": "f", "parameters": {"type": "OBJECT", "properties": properties}});
        body.insert(
            "tools".into(),
            json!([{spell("functionDeclarations", c): [declaration]}]),
        );
    }
    maybe(&mut body, c, "labels", json!({"team": "t"}));
    Value::Object(body)
}

fn mutate_gemini(r: &mut Gemini, pick: u64) {
    let i = (pick / 8) as usize % r.contents.len();
    match pick % 7 {
        0 => r.contents[i].1[0].push('x'),
        1 => r.contents[i].0 = !r.contents[i].0,
        2 => r.max_output_tokens += 1,
        3 => r.stop.push("zzzzzz".into()),
        4 if !r.safety.is_empty() => r.safety[0].1 = (r.safety[0].1 + 1) % 3,
        // A user property name in the other spelling is another schema.
        5 if !r.properties.is_empty() => {
            let p = &mut r.properties[0];
            *p = if p.contains('_') {
                p.replace('_', "X")
            } else {
                format!("{p}_y")
            };
        }
        _ => r.contents[i].1.push("x".into()),
    }
}

macro_rules! dialect_properties {
    ($name:ident, $strategy:expr, $render:ident, $mutate:ident, $args:expr) => {
        mod $name {
            use super::*;

            proptest! {
                #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

                #[test]
                fn every_documented_spelling_gets_one_key(r in $strategy, s1 in any::<u64>(), s2 in any::<u64>()) {
                    let a = key(&$render(&r, &mut Choices(s1)), $args);
                    let b = key(&$render(&r, &mut Choices(s2)), $args);
                    prop_assert_eq!(a, b);
                }

                #[test]
                fn changing_the_question_changes_the_key(
                    r in $strategy, s1 in any::<u64>(), s2 in any::<u64>(), pick in any::<u64>(),
                ) {
                    let mut changed = r.clone();
                    $mutate(&mut changed, pick);
                    prop_assume!(format!("{changed:?}") != format!("{r:?}"));
                    let a = key(&$render(&r, &mut Choices(s1)), $args);
                    let b = key(&$render(&changed, &mut Choices(s2)), $args);
                    prop_assert_ne!(a, b, "{:?} -> {:?}", r, changed);
                }
            }
        }
    };
}

dialect_properties!(openai_chat, chat(), render_chat, mutate_chat, &[]);
dialect_properties!(
    anthropic_messages,
    anthropic(),
    render_anthropic,
    mutate_anthropic,
    &["DIALECT", "anthropic"]
);
dialect_properties!(
    openai_responses,
    responses(),
    render_responses,
    mutate_responses,
    &["DIALECT", "openai-responses"]
);
dialect_properties!(
    gemini_generate,
    gemini(),
    render_gemini,
    mutate_gemini,
    &["DIALECT", "gemini", "MODEL", "gemini-2.5-flash"]
);
