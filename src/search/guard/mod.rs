//! Guards on semantic matches: two requests near in embedding space are only taken as the same
//! question if they agree on what decides the answer.
//!
//! An embedding puts "5 miles in km" next to "5 km in miles", "sweets with gelatin" next to
//! "sweets without gelatin", and "Is 57 prime?" next to "Is 59 prime?". No distance threshold
//! separates those from true paraphrases, so llmcached's own semantic mode (not FT.*, which stays
//! RediSearch's) compares a [`Signature`] of each request, taken from its system prompt and its
//! last user message:
//! - **numbers** with the unit after each, in order: `5 miles` is not `5 km`;
//! - **polarity**: the parity of negations (`not`, `no`, `without`, `never`, `n't`, `-free`, ...);
//! - **names**: capitalised words and acronyms (bar the usual sentence openers); the names of
//!   one must all occur in the other, in any case, one way or the other: `RAG` is `RAG in AI`,
//!   but `France` is not `Germany` and `RAG` is not `RLHF`;
//! - **languages and formats**: programming languages, natural languages and output formats
//!   named (`Python` / `Rust`, `French` / `Spanish`, `JSON` / `YAML`);
//! - **quoted text**, which is usually the thing to translate or transform;
//! - **the system prompt**, whitespace and case aside.
//!
//! Each check is cheap, explainable and errs towards a miss: a guarded-out paraphrase costs a
//! model call, a wrong hit costs a user a wrong answer.

mod texts;

pub use texts::texts_of;

use std::collections::BTreeSet;

/// The words a guard looks at in one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signature {
    system: String,
    numbers: Vec<(String, String)>,
    negated: bool,
    names: BTreeSet<String>,
    /// Every word, lower case: a name of one request must be among the other's words.
    words: BTreeSet<String>,
    kinds: BTreeSet<&'static str>,
    quoted: Vec<String>,
}

/// Why two signatures disagree (the first check that failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    System,
    Numbers,
    Polarity,
    Names,
    Languages,
    Quoted,
}

const NEGATIONS: &[&str] = &[
    "not",
    "no",
    "never",
    "without",
    "none",
    "nothing",
    "nobody",
    "neither",
    "nor",
    "free",
    "exclude",
    "excluding",
    "except",
    "lacking",
    "avoid",
];

/// Sentence openers and other words that are capitalised without being names.
const OPENERS: &[&str] = &[
    "a",
    "an",
    "the",
    "what",
    "whats",
    "what's",
    "how",
    "which",
    "who",
    "whom",
    "whose",
    "where",
    "when",
    "why",
    "is",
    "are",
    "was",
    "were",
    "do",
    "does",
    "did",
    "can",
    "could",
    "would",
    "should",
    "will",
    "shall",
    "may",
    "might",
    "must",
    "tell",
    "please",
    "explain",
    "describe",
    "give",
    "show",
    "list",
    "name",
    "define",
    "write",
    "make",
    "convert",
    "translate",
    "i",
    "i'm",
    "im",
    "my",
    "me",
    "we",
    "you",
    "your",
    "it",
    "its",
    "in",
    "on",
    "of",
    "for",
    "to",
    "and",
    "or",
    "if",
    "so",
    "hi",
    "hello",
    "hey",
    "ok",
    "okay",
    "yes",
    "no",
    "not",
    "let",
    "lets",
    "let's",
    "quick",
    "question",
    "help",
    "find",
    "compute",
    "calculate",
    "say",
    "any",
    "some",
];

/// Words that name a language (programming or natural) or an output format.
const KINDS: &[&str] = &[
    "python",
    "rust",
    "javascript",
    "js",
    "typescript",
    "ts",
    "java",
    "kotlin",
    "go",
    "golang",
    "c",
    "c++",
    "cpp",
    "c#",
    "csharp",
    "ruby",
    "php",
    "swift",
    "scala",
    "haskell",
    "perl",
    "bash",
    "shell",
    "powershell",
    "sql",
    "r",
    "julia",
    "lua",
    "elixir",
    "erlang",
    "dart",
    "zig",
    "english",
    "french",
    "spanish",
    "german",
    "italian",
    "portuguese",
    "dutch",
    "russian",
    "chinese",
    "mandarin",
    "japanese",
    "korean",
    "arabic",
    "hindi",
    "turkish",
    "polish",
    "swedish",
    "greek",
    "hebrew",
    "json",
    "yaml",
    "xml",
    "csv",
    "markdown",
    "html",
    "toml",
    "table",
    "bullet",
    "bullets",
    "haiku",
    "poem",
    "tweet",
    "summary",
    "essay",
];

/// The unit a word names, in one spelling; `None` for a word that is no unit.
fn normal_unit(w: &str) -> Option<&'static str> {
    let w = w.trim_end_matches('.');
    let canon = match w {
        "km" | "kms" | "kilometer" | "kilometers" | "kilometre" | "kilometres" => "km",
        "mi" | "mile" | "miles" => "mi",
        "m" | "meter" | "meters" | "metre" | "metres" => "m",
        "cm" | "centimeter" | "centimeters" | "centimetre" | "centimetres" => "cm",
        "ft" | "foot" | "feet" => "ft",
        "inch" | "inches" => "in",
        "kg" | "kgs" | "kilogram" | "kilograms" | "kilo" | "kilos" => "kg",
        "g" | "gram" | "grams" => "g",
        "lb" | "lbs" | "pound" | "pounds" => "lb",
        "oz" | "ounce" | "ounces" => "oz",
        "c" | "celsius" | "°c" => "c",
        "f" | "fahrenheit" | "°f" => "f",
        "l" | "liter" | "liters" | "litre" | "litres" => "l",
        "gal" | "gallon" | "gallons" => "gal",
        "usd" | "dollar" | "dollars" | "$" => "usd",
        "eur" | "euro" | "euros" | "€" => "eur",
        "%" | "percent" => "%",
        _ => return None,
    };
    Some(canon)
}

/// Splits text into words: letters, digits and `.,'#+` inside words; numbers keep their
/// decimal point and lose thousands separators.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied().unwrap_or(' ');
        let inner =
            matches!(c, '.' | ',' | '\'' | '’') && !cur.is_empty() && next.is_alphanumeric();
        if c.is_alphanumeric() || matches!(c, '#' | '+' | '%' | '$' | '€' | '°') || inner {
            cur.push(if c == '’' { '\'' } else { c });
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Numbers spelled as words, as their digits ("two dictionaries" is "2 dictionaries"). "one"
/// is left out: it is as often a pronoun ("which one").
const NUMBER_WORDS: &[(&str, &str)] = &[
    ("zero", "0"),
    ("two", "2"),
    ("three", "3"),
    ("four", "4"),
    ("five", "5"),
    ("six", "6"),
    ("seven", "7"),
    ("eight", "8"),
    ("nine", "9"),
    ("ten", "10"),
    ("eleven", "11"),
    ("twelve", "12"),
    ("twenty", "20"),
    ("hundred", "100"),
    ("thousand", "1000"),
    ("million", "1000000"),
];

fn number(w: &str) -> Option<String> {
    let lower = w.to_lowercase();
    if let Some((_, n)) = NUMBER_WORDS.iter().find(|(word, _)| *word == lower) {
        return Some((*n).to_string());
    }
    let t: String = w.chars().filter(|&c| c != ',').collect();
    let t = t.trim_start_matches(['$', '€']).trim_end_matches('%');
    t.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(|f| f.to_string())
}

fn quoted(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (open, close) in [('"', '"'), ('“', '”'), ('«', '»'), ('`', '`')] {
        let mut rest = text;
        while let Some(i) = rest.find(open) {
            let after = &rest[i + open.len_utf8()..];
            let Some(j) = after.find(close) else { break };
            out.push(after[..j].trim().to_lowercase());
            rest = &after[j + close.len_utf8()..];
        }
    }
    out.sort();
    out
}

impl Signature {
    /// The signature of a request whose system prompt is `system` and whose last user
    /// message is `user`.
    pub fn of(system: &str, user: &str) -> Signature {
        let ws = words(user);
        let lower: Vec<String> = ws.iter().map(|w| w.to_lowercase()).collect();
        let mut sig = Signature {
            system: system
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase(),
            quoted: quoted(user),
            ..Signature::default()
        };
        let mut negations = 0usize;
        for (i, (w, l)) in ws.iter().zip(&lower).enumerate() {
            if let Some(n) = number(w) {
                let unit = match (w.ends_with('%'), lower.get(i + 1)) {
                    (true, _) => Some("%"),
                    (false, Some(next)) => normal_unit(next),
                    _ => None,
                };
                sig.numbers.push((n, unit.unwrap_or_default().to_string()));
                continue;
            }
            let bare = l.trim_end_matches("'s");
            if NEGATIONS.contains(&bare) || bare.ends_with("n't") {
                negations += 1;
            }
            if let Some(k) = KINDS.iter().find(|k| **k == bare) {
                sig.kinds.insert(k);
                sig.words.insert(bare.to_string());
                continue;
            }
            let capital = w.chars().next().is_some_and(char::is_uppercase);
            let acronym = w.chars().filter(|c| c.is_uppercase()).count() >= 2;
            if (capital || acronym) && !OPENERS.contains(&bare) {
                sig.names.insert(bare.to_string());
            }
            sig.words.insert(bare.to_string());
        }
        sig.negated = negations % 2 == 1;
        sig
    }

    /// Why `self` and `other` are not the same question, or `None` if every guard agrees.
    pub fn mismatch(&self, other: &Signature) -> Option<Mismatch> {
        if self.system != other.system {
            return Some(Mismatch::System);
        }
        if self.numbers != other.numbers {
            return Some(Mismatch::Numbers);
        }
        if self.negated != other.negated {
            return Some(Mismatch::Polarity);
        }
        // One request may name more than the other ("RAG" / "RAG in AI"); each naming
        // something the other does not ("France" / "Germany") is another question.
        let named_in = |a: &Signature, b: &Signature| a.names.iter().all(|n| b.words.contains(n));
        if !named_in(self, other) && !named_in(other, self) {
            return Some(Mismatch::Names);
        }
        if self.kinds != other.kinds {
            return Some(Mismatch::Languages);
        }
        if self.quoted != other.quoted {
            return Some(Mismatch::Quoted);
        }
        None
    }
}

impl Mismatch {
    /// The reason as META reports it for a candidate a guard refused.
    pub fn as_str(self) -> &'static str {
        match self {
            Mismatch::System => "another system prompt",
            Mismatch::Numbers => "other numbers or units",
            Mismatch::Polarity => "the opposite negation",
            Mismatch::Names => "other names",
            Mismatch::Languages => "another language or format",
            Mismatch::Quoted => "other quoted text",
        }
    }
}

impl Signature {
    /// What the guards compared and found equal, for a near answer they accepted (META's
    /// `accepted`): one line per guard, with the words it looked at.
    pub fn agreement(&self, other: &Signature) -> Vec<String> {
        let list = |items: Vec<String>| {
            if items.is_empty() {
                "none".to_string()
            } else {
                items.join(", ")
            }
        };
        let numbers = self
            .numbers
            .iter()
            .map(|(n, u)| {
                if u.is_empty() {
                    n.clone()
                } else {
                    format!("{n} {u}")
                }
            })
            .collect();
        let names: BTreeSet<&String> = self.names.union(&other.names).collect();
        vec![
            format!(
                "system prompt: {}",
                if self.system.is_empty() {
                    "none"
                } else {
                    "the same"
                }
            ),
            format!("numbers: {}", list(numbers)),
            format!(
                "negation: {}",
                if self.negated {
                    "negated"
                } else {
                    "affirmative"
                }
            ),
            format!("names: {}", list(names.into_iter().cloned().collect())),
            format!(
                "languages and formats: {}",
                list(self.kinds.iter().map(|k| k.to_string()).collect())
            ),
            format!("quoted: {}", list(self.quoted.clone())),
        ]
    }
}

#[cfg(test)]
mod tests;
