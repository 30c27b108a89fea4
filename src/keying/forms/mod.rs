//! Merged forms: spellings of one request that the provider's reference documents as the same
//! request are rewritten to one form before the key is computed.
//!
//! Each rule is listed, per dialect and with its source, in `docs/KEYING.md` ("Merged forms");
//! the rule sets live in [`openai`], [`anthropic`] and [`gemini`]. The `generic` dialect has none.
//!
//! # Invariants
//! - **Conservative**: a rule exists only where the reference states the equivalence (a
//!   documented default, a documented shorthand, a list documented as a set). A wrong share
//!   gives one caller another request's answer; a missed merge only costs a model call.
//! - **Canonical direction**: each rule rewrites towards the form most requests already use
//!   (a string rather than one text block, a default left out, camelCase, sorted lists), so a
//!   request already in that form keeps its v1 material byte for byte.
//! - **Idempotent**: normalising a normalised request changes nothing.
//! - Rules only look at documented positions (a message's `content`, a tool's top level);
//!   user data such as tool arguments, JSON schemas and `metadata` is never rewritten.

mod anthropic;
mod gemini;
mod openai;

use super::dialect::Dialect;
use super::error::KeyError;
use super::tree::{cmp_canonical, Json, Object};

/// Rewrites `body` into its merged form for `dialect` (see the module docs).
///
/// # Errors
/// Gemini only: [`KeyError::SpellingConflict`] when both spellings of a field carry different
/// values, since the provider's choice between them is not documented.
pub(crate) fn normalise(dialect: Dialect, body: &mut Object) -> Result<(), KeyError> {
    match dialect {
        Dialect::OpenAiChat => openai::chat(body),
        Dialect::OpenAiResponses => openai::responses(body),
        Dialect::Anthropic => anthropic::messages(body),
        Dialect::Gemini => gemini::generate_content(body)?,
        Dialect::Generic => {}
    }
    Ok(())
}

/// `[{"type": <block_type>, "text": S}]` (exactly those two members) becomes `S`.
fn single_text_block_to_string(content: &mut Json, block_type: &str) {
    let Json::Array(blocks) = content else { return };
    let [Json::Object(block)] = blocks.as_mut_slice() else {
        return;
    };
    let is_text_block = block.len() == 2
        && block.get("type").is_some_and(|t| t.is_str(block_type))
        && block.get("text").is_some_and(|t| t.as_str().is_some());
    if is_text_block {
        if let Some(text) = block.remove("text") {
            *content = text;
        }
    }
}

/// Removes each `(name, default)` member whose value equals its documented default.
fn drop_defaults(body: &mut Object, defaults: &[(&str, DefaultValue)]) {
    for (name, default) in defaults {
        body.remove_if(name, |v| default.matches(v));
    }
}

/// A documented default value.
enum DefaultValue {
    Number(f64),
    Bool(bool),
    Str(&'static str),
}

impl DefaultValue {
    fn matches(&self, v: &Json) -> bool {
        match self {
            DefaultValue::Number(n) => v.is_number(*n),
            DefaultValue::Bool(b) => matches!(v, Json::Bool(x) if x == b),
            DefaultValue::Str(s) => v.is_str(s),
        }
    }
}

/// Whether `v` is an object with exactly the one member `name` equal to the string `value`
/// (e.g. `{"type": "text"}`).
fn is_only(v: &Json, name: &str, value: &str) -> bool {
    v.as_object()
        .is_some_and(|o| o.len() == 1 && o.get(name).is_some_and(|x| x.is_str(value)))
}

/// Sorts a list of strings (a list the reference defines as a set); other lists are left
/// alone, so a malformed one keeps its own key.
fn sort_strings(list: &mut Json) {
    if let Json::Array(items) = list {
        if items.iter().all(|i| i.as_str().is_some()) {
            items.sort_by(cmp_canonical);
        }
    }
}

/// The objects of an array member, for in-place rewriting.
fn objects_mut<'p, 'a>(
    parent: &'p mut Object<'a>,
    name: &str,
) -> impl Iterator<Item = &'p mut Object<'a>> {
    parent
        .get_mut(name)
        .and_then(Json::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Json::as_object_mut)
}

/// Whether `body[name]` is a non-empty array (e.g. "tools are present").
fn has_items(body: &Object, name: &str) -> bool {
    body.get(name)
        .and_then(Json::as_array)
        .is_some_and(|a| !a.is_empty())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::keying::parse::parse;
    use crate::keying::tree::to_text;

    /// The merged form of `text` as canonical JSON.
    pub(super) fn merged(dialect: Dialect, text: &str) -> String {
        let mut body = parse(text.as_bytes()).unwrap();
        normalise(dialect, body.as_object_mut().unwrap()).unwrap();
        let once = to_text(&body);
        normalise(dialect, body.as_object_mut().unwrap()).unwrap();
        assert_eq!(to_text(&body), once, "normalising twice changes nothing");
        once
    }

    #[test]
    fn single_text_block_needs_exactly_type_and_text() {
        for (text, want) in [
            (r#"[{"type":"text","text":"hi"}]"#, r#""hi""#),
            (r#"[{"text":"hi","type":"text"}]"#, r#""hi""#),
            (
                r#"[{"type":"text","text":"hi","citations":[]}]"#,
                r#"[{"citations":[],"text":"hi","type":"text"}]"#,
            ),
            (
                r#"[{"type":"text","text":"a"},{"type":"text","text":"b"}]"#,
                r#"[{"text":"a","type":"text"},{"text":"b","type":"text"}]"#,
            ),
            (
                r#"[{"type":"input_text","text":"hi"}]"#,
                r#"[{"text":"hi","type":"input_text"}]"#,
            ),
            (
                r#"[{"type":"text","text":7}]"#,
                r#"[{"text":7,"type":"text"}]"#,
            ),
            ("[]", "[]"),
        ] {
            let mut v = parse(text.as_bytes()).unwrap();
            single_text_block_to_string(&mut v, "text");
            assert_eq!(to_text(&v), want, "{text}");
        }
    }

    #[test]
    fn generic_requests_are_left_alone() {
        let text = r#"{"n":1,"top_p":1,"stop":["b","a"],"content":[{"type":"text","text":"x"}]}"#;
        assert_eq!(
            merged(Dialect::Generic, text),
            r#"{"content":[{"text":"x","type":"text"}],"n":1,"stop":["b","a"],"top_p":1}"#
        );
    }
}
