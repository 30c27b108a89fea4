//! Merged forms of OpenAI Chat Completions and Responses requests.
//!
//! Sources: the OpenAI API reference (its OpenAPI description, `openai/openai-openapi`), schema
//! names given per rule. `docs/KEYING.md` lists the same rules for readers.
//!
//! Chat Completions (`CreateChatCompletionRequest`):
//! - message `content` `[{"type":"text","text":S}]` -> `S` for the system, developer, user,
//!   assistant and tool roles (the text part and the string are the two documented forms of
//!   their text content);
//! - `prompt_cache_breakpoint` dropped from content parts (a prompt-cache marker);
//! - image part `image_url.detail: "auto"` dropped (`default: auto`);
//! - dropped at their documented defaults: `n: 1`, `presence_penalty: 0`,
//!   `frequency_penalty: 0`, `top_p: 1`, `logprobs: false`, `parallel_tool_calls: true`,
//!   `response_format: {"type":"text"}` ("Default response format"), and `tool_choice: "auto"`
//!   when `tools` is non-empty ("`auto` is the default if tools are present").
//!
//! Responses (`CreateResponse`):
//! - `input: [{"role":"user","content":S}]` -> `input: S` ("A text input to the model,
//!   equivalent to a text input with the `user` role");
//! - `type: "message"` dropped from an input message that has only `role` and `content`
//!   besides (`EasyInputMessage.type`: "Always `message`"); output items keep it;
//! - user, system and developer message `content` `[{"type":"input_text","text":S}]` -> `S`;
//! - `prompt_cache_breakpoint` dropped from content parts; `input_image` `detail: "auto"`
//!   dropped ("Defaults to `auto`");
//! - dropped at their documented defaults: `top_p: 1`, `parallel_tool_calls: true`,
//!   `truncation: "disabled"`, `background: false`; `text.format: {"type":"text"}` ("The
//!   default format is `{ "type": "text" }`"), and `text` itself once empty;
//! - `include` sorted: each value switches on one piece of extra output, so the list is a set.
//!
//! Not merged on purpose: `stop` (the reference does not say the order is irrelevant, and
//! overlapping stop sequences can match at once), `reasoning_effort` / `reasoning.effort`
//! (the default differs between models), `modalities` ("most models" default to text),
//! `null` against an absent field.

use super::{
    drop_defaults, has_items, is_only, objects_mut, single_text_block_to_string, sort_strings,
    DefaultValue,
};
use crate::keying::tree::{Json, Object};

/// Chat Completions (see the module docs).
pub(super) fn chat(body: &mut Object) {
    for message in objects_mut(body, "messages") {
        for part in objects_mut(message, "content") {
            part.remove("prompt_cache_breakpoint");
            if part.get("type").is_some_and(|t| t.is_str("image_url")) {
                if let Some(image) = part.get_mut("image_url").and_then(Json::as_object_mut) {
                    image.remove_if("detail", |d| d.is_str("auto"));
                }
            }
        }
        let text_roles = ["system", "developer", "user", "assistant", "tool"];
        let role = message.get("role").and_then(Json::as_str).unwrap_or("");
        if text_roles.contains(&role) {
            if let Some(content) = message.get_mut("content") {
                single_text_block_to_string(content, "text");
            }
        }
    }
    drop_defaults(
        body,
        &[
            ("n", DefaultValue::Number(1.0)),
            ("presence_penalty", DefaultValue::Number(0.0)),
            ("frequency_penalty", DefaultValue::Number(0.0)),
            ("top_p", DefaultValue::Number(1.0)),
            ("logprobs", DefaultValue::Bool(false)),
            ("parallel_tool_calls", DefaultValue::Bool(true)),
        ],
    );
    body.remove_if("response_format", |f| is_only(f, "type", "text"));
    if has_items(body, "tools") {
        body.remove_if("tool_choice", |c| c.is_str("auto"));
    }
}

/// Responses (see the module docs).
pub(super) fn responses(body: &mut Object) {
    for item in objects_mut(body, "input") {
        if !item.contains_key("role") {
            continue;
        }
        let easy_message = item
            .keys()
            .all(|k| matches!(k, "type" | "role" | "content"));
        if easy_message {
            item.remove_if("type", |t| t.is_str("message"));
        }
        for part in objects_mut(item, "content") {
            part.remove("prompt_cache_breakpoint");
            if part.get("type").is_some_and(|t| t.is_str("input_image")) {
                part.remove_if("detail", |d| d.is_str("auto"));
            }
        }
        let instruction_or_user = item
            .get("role")
            .is_some_and(|r| r.is_str("user") || r.is_str("system") || r.is_str("developer"));
        if instruction_or_user {
            if let Some(content) = item.get_mut("content") {
                single_text_block_to_string(content, "input_text");
            }
        }
    }
    if let Some(input) = body.get_mut("input") {
        let text = match input {
            Json::Array(items) => match items.as_mut_slice() {
                [Json::Object(only)]
                    if only.len() == 2
                        && only.get("role").is_some_and(|r| r.is_str("user"))
                        && only.get("content").is_some_and(|c| c.as_str().is_some()) =>
                {
                    only.remove("content")
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(text) = text {
            *input = text;
        }
    }
    drop_defaults(
        body,
        &[
            ("top_p", DefaultValue::Number(1.0)),
            ("parallel_tool_calls", DefaultValue::Bool(true)),
            ("truncation", DefaultValue::Str("disabled")),
            ("background", DefaultValue::Bool(false)),
        ],
    );
    if let Some(text) = body.get_mut("text").and_then(Json::as_object_mut) {
        text.remove_if("format", |f| is_only(f, "type", "text"));
    }
    body.remove_if("text", |t| t.as_object().is_some_and(Object::is_empty));
    if let Some(include) = body.get_mut("include") {
        sort_strings(include);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::merged;
    use crate::keying::dialect::Dialect;

    #[test]
    fn chat_merges_documented_forms_only() {
        let written = r#"{"messages":[{"role":"user","content":[{"type":"text","text":"hi",
            "prompt_cache_breakpoint":{"mode":"explicit"}}]},
            {"role":"user","content":[{"type":"image_url","image_url":{"url":"u","detail":"auto"}}]}],
            "n":1.0,"top_p":1,"presence_penalty":0,"frequency_penalty":-0.0,"logprobs":false,
            "parallel_tool_calls":true,"response_format":{"type":"text"},
            "tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"auto"}"#;
        assert_eq!(
            merged(Dialect::OpenAiChat, written),
            r#"{"messages":[{"content":"hi","role":"user"},{"content":[{"image_url":{"url":"u"},"type":"image_url"}],"role":"user"}],"tools":[{"function":{"name":"f"},"type":"function"}]}"#
        );
        // Not defaults: kept.
        let kept = r#"{"n":2,"top_p":0.9,"logprobs":true,"parallel_tool_calls":false,
            "tool_choice":"auto","stop":["b","a"],"response_format":{"type":"json_object"}}"#;
        assert_eq!(
            merged(Dialect::OpenAiChat, kept),
            r#"{"logprobs":true,"n":2,"parallel_tool_calls":false,"response_format":{"type":"json_object"},"stop":["b","a"],"tool_choice":"auto","top_p":0.9}"#,
            "tool_choice auto without tools, stop order and non-defaults stay"
        );
    }

    #[test]
    fn responses_merges_documented_forms_only() {
        let written = r#"{"input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}],
            "top_p":1,"truncation":"disabled","background":false,"parallel_tool_calls":true,
            "text":{"format":{"type":"text"}},"include":["b","a"]}"#;
        assert_eq!(
            merged(Dialect::OpenAiResponses, written),
            r#"{"include":["a","b"],"input":"hi"}"#
        );
        let kept = r#"{"input":[{"role":"assistant","content":[{"type":"output_text","text":"x"}]},
            {"role":"user","content":[{"type":"input_image","image_url":"u","detail":"high"}]}],
            "text":{"format":{"type":"text"},"verbosity":"low"},"truncation":"auto"}"#;
        assert_eq!(
            merged(Dialect::OpenAiResponses, kept),
            r#"{"input":[{"content":[{"text":"x","type":"output_text"}],"role":"assistant"},{"content":[{"detail":"high","image_url":"u","type":"input_image"}],"role":"user"}],"text":{"verbosity":"low"},"truncation":"auto"}"#
        );
        // Two messages are not one string; a developer message is not user input.
        let two = r#"{"input":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}"#;
        assert_eq!(
            merged(Dialect::OpenAiResponses, two),
            r#"{"input":[{"content":"a","role":"user"},{"content":"b","role":"user"}]}"#
        );
        let output =
            r#"{"input":[{"type":"message","role":"assistant","id":"msg_1","content":"a"}]}"#;
        assert_eq!(
            merged(Dialect::OpenAiResponses, output),
            r#"{"input":[{"content":"a","id":"msg_1","role":"assistant","type":"message"}]}"#,
            "an output item keeps its type"
        );
        let dev = r#"{"input":[{"role":"developer","content":"a"}]}"#;
        assert_eq!(
            merged(Dialect::OpenAiResponses, dev),
            r#"{"input":[{"content":"a","role":"developer"}]}"#
        );
    }
}
