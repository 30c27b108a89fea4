//! Merged forms of Anthropic Messages requests.
//!
//! Sources: the Messages API reference (`POST /v1/messages`, as generated into
//! `anthropics/anthropic-sdk-python`), the prompt-caching and tool-use guides.
//! `docs/KEYING.md` lists the same rules for readers.
//!
//! - `cache_control` markers dropped from `system` blocks, `tools`, message content blocks and
//!   the blocks inside `tool_result` / `search_result` content (prompt caching changes cost and
//!   latency, not the answer; the top-level `cache_control` is a per-call field);
//! - message `content` `[{"type":"text","text":S}]` -> `S` ("Using a `string` for `content`
//!   is shorthand for an array of one content block of type `"text"`"), and the same for
//!   `system`;
//! - `thinking: {"type":"disabled"}` dropped (extended thinking is off unless enabled);
//! - `disable_parallel_tool_use: false` dropped from `tool_choice` ("Defaults to `false`"),
//!   then `tool_choice: {"type":"auto"}` dropped when `tools` is non-empty (`auto` is the
//!   default when tools are provided).
//!
//! Not merged on purpose: `stop_sequences` order (the response reports *which* sequence
//! matched, so the order can matter when two overlap), `tool_result` content string against
//! blocks (not documented as equivalent), consecutive same-role turns (the reference combines
//! them, but not into a documented canonical form).

use super::{has_items, is_only, objects_mut, single_text_block_to_string};
use crate::keying::tree::{Json, Object};

/// Anthropic Messages (see the module docs).
pub(super) fn messages(body: &mut Object) {
    for block in objects_mut(body, "system") {
        block.remove("cache_control");
    }
    if let Some(system) = body.get_mut("system") {
        single_text_block_to_string(system, "text");
    }
    for tool in objects_mut(body, "tools") {
        tool.remove("cache_control");
    }
    for message in objects_mut(body, "messages") {
        for block in objects_mut(message, "content") {
            block.remove("cache_control");
            let nests_blocks = block
                .get("type")
                .is_some_and(|t| t.is_str("tool_result") || t.is_str("search_result"));
            if nests_blocks {
                for inner in objects_mut(block, "content") {
                    inner.remove("cache_control");
                }
            }
        }
        if let Some(content) = message.get_mut("content") {
            single_text_block_to_string(content, "text");
        }
    }
    body.remove_if("thinking", |t| is_only(t, "type", "disabled"));
    if let Some(choice) = body.get_mut("tool_choice").and_then(Json::as_object_mut) {
        choice.remove_if("disable_parallel_tool_use", |v| {
            matches!(v, Json::Bool(false))
        });
    }
    if has_items(body, "tools") {
        body.remove_if("tool_choice", |c| is_only(c, "type", "auto"));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::merged;
    use crate::keying::dialect::Dialect;

    #[test]
    fn cache_markers_and_shorthands_merge() {
        let blocks = r#"{"system":[{"type":"text","text":"s","cache_control":{"type":"ephemeral"}}],
            "tools":[{"name":"f","input_schema":{"type":"object","properties":{"cache_control":{"type":"string"}}},
                      "cache_control":{"type":"ephemeral","ttl":"1h"}}],
            "messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]},
                {"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{"cache_control":1}}]},
                {"role":"user","content":[{"type":"tool_result","tool_use_id":"t",
                    "content":[{"type":"text","text":"r","cache_control":{"type":"ephemeral"}}]}]}],
            "thinking":{"type":"disabled"},"tool_choice":{"type":"auto","disable_parallel_tool_use":false}}"#;
        assert_eq!(
            merged(Dialect::Anthropic, blocks),
            concat!(
                r#"{"messages":[{"content":"hi","role":"user"},"#,
                r#"{"content":[{"id":"t","input":{"cache_control":1},"name":"f","type":"tool_use"}],"role":"assistant"},"#,
                r#"{"content":[{"content":[{"text":"r","type":"text"}],"tool_use_id":"t","type":"tool_result"}],"role":"user"}],"#,
                r#""system":"s","#,
                r#""tools":[{"input_schema":{"properties":{"cache_control":{"type":"string"}},"type":"object"},"name":"f"}]}"#
            ),
            "markers go, user data named cache_control stays"
        );
    }

    #[test]
    fn non_defaults_stay() {
        let kept = r#"{"thinking":{"type":"enabled","budget_tokens":1024},
            "tool_choice":{"type":"auto","disable_parallel_tool_use":true},"stop_sequences":["b","a"]}"#;
        assert_eq!(
            merged(Dialect::Anthropic, kept),
            r#"{"stop_sequences":["b","a"],"thinking":{"budget_tokens":1024,"type":"enabled"},"tool_choice":{"disable_parallel_tool_use":true,"type":"auto"}}"#
        );
        // Without tools, tool_choice auto is not the documented default: kept.
        assert_eq!(
            merged(Dialect::Anthropic, r#"{"tool_choice":{"type":"auto"}}"#),
            r#"{"tool_choice":{"type":"auto"}}"#
        );
        assert_eq!(
            merged(
                Dialect::Anthropic,
                r#"{"system":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}"#
            ),
            r#"{"system":[{"text":"a","type":"text"},{"text":"b","type":"text"}]}"#
        );
    }
}
