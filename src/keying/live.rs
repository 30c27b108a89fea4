//! The live-data policy: a request is cacheable only when its answer cannot change because of
//! data outside the request, unless the caller passes `LIVE`.
//!
//! A request that makes the model search or fetch from the web, read a store kept by the
//! provider that can change, call remote tools, or continue a conversation the provider keeps
//! (and grows on every call) can get another answer tomorrow with the same body. Such a
//! request gets `NOTCACHEABLE <what> <why>; pass LIVE to cache it anyway`.
//!
//! | dialect            | not cacheable without `LIVE` |
//! |--------------------|------------------------------|
//! | `openai-chat`      | `web_search_options`; a search model (`*-search-preview`, `*-search-api`) |
//! | `openai-responses` | tools `web_search*`, `file_search`, `mcp`; `code_interpreter` with a container id or `file_ids`; `conversation`; `prompt` without `version` |
//! | `anthropic`        | tools `web_search_*`, `web_fetch_*`, `mcp_toolset`; `mcp_servers`; `container` |
//! | `gemini`           | tools `googleSearch`, `googleSearchRetrieval`, `urlContext`, `googleMaps`, `enterpriseWebSearch`, `retrieval`, `fileSearch` |
//! | `generic`          | (nothing: the API is unknown) |
//!
//! Still cacheable: `previous_response_id` (it names one immutable response), file ids and
//! image URLs in the input (the caller names that content, as it names its own bytes), client
//! tools (functions, shell, computer use: their results come back in a later request),
//! Gemini `cachedContent` (its contents cannot be edited).
//!
//! The policy reads the request after the merged forms (Gemini names are camelCase there).
//! `LIVE` skips it but not the keying: the tools stay in the key.

use super::dialect::Dialect;
use super::error::{KeyError, LiveReason, NotCacheable};
use super::parse::quoted;
use super::tree::{Json, Object};

/// Returns `Ok` when no part of `body` reads changing data (see the module docs).
pub(crate) fn check(dialect: Dialect, body: &Object, model: &str) -> Result<(), KeyError> {
    let found = match dialect {
        Dialect::OpenAiChat => chat(body, model),
        Dialect::OpenAiResponses => responses(body),
        Dialect::Anthropic => anthropic(body),
        Dialect::Gemini => gemini(body),
        Dialect::Generic => None,
    };
    match found {
        None => Ok(()),
        Some((what, why)) => Err(KeyError::NotCacheable(NotCacheable::Live { what, why })),
    }
}

type Found = Option<(String, LiveReason)>;

fn present(body: &Object, name: &str) -> bool {
    body.get(name).is_some_and(|v| !matches!(v, Json::Null))
}

fn tools<'b>(body: &'b Object<'_>) -> impl Iterator<Item = &'b Object<'b>> {
    body.get("tools")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_object)
}

fn tool_type<'b>(tool: &'b Object<'_>) -> &'b str {
    tool.get("type").and_then(Json::as_str).unwrap_or("")
}

fn tool_named(kind: &str) -> String {
    format!("tool {}", quoted(kind))
}

fn chat(body: &Object, model: &str) -> Found {
    if present(body, "web_search_options") {
        return Some(("web_search_options".into(), LiveReason::WebSearch));
    }
    // OpenAI's search models search on every call, with or without web_search_options.
    if model.contains("-search-preview") || model.contains("-search-api") {
        return Some((format!("model {}", quoted(model)), LiveReason::SearchModel));
    }
    None
}

fn responses(body: &Object) -> Found {
    if present(body, "conversation") {
        return Some(("conversation".into(), LiveReason::Conversation));
    }
    if let Some(prompt) = body.get("prompt").and_then(Json::as_object) {
        let pinned = prompt
            .get("version")
            .is_some_and(|v| !matches!(v, Json::Null));
        if !pinned {
            let id = prompt.get("id").and_then(Json::as_str).unwrap_or("");
            return Some((format!("prompt {}", quoted(id)), LiveReason::PromptTemplate));
        }
    }
    for tool in tools(body) {
        let kind = tool_type(tool);
        let why = if kind.starts_with("web_search") {
            Some(LiveReason::WebSearch)
        } else if kind == "file_search" {
            Some(LiveReason::ProviderStore)
        } else if kind == "mcp" {
            Some(LiveReason::RemoteTool)
        } else if kind == "code_interpreter" && code_interpreter_has_state(tool) {
            Some(LiveReason::ProviderFiles)
        } else {
            None
        };
        if let Some(why) = why {
            return Some((tool_named(kind), why));
        }
    }
    None
}

/// A container id names a container whose files change as code runs; `file_ids` put
/// provider-side files into a new one.
fn code_interpreter_has_state(tool: &Object) -> bool {
    match tool.get("container") {
        Some(Json::String(_)) => true,
        Some(Json::Object(container)) => container
            .get("file_ids")
            .and_then(Json::as_array)
            .is_some_and(|ids| !ids.is_empty()),
        _ => false,
    }
}

fn anthropic(body: &Object) -> Found {
    if body
        .get("mcp_servers")
        .and_then(Json::as_array)
        .is_some_and(|s| !s.is_empty())
    {
        return Some(("mcp_servers".into(), LiveReason::RemoteTool));
    }
    if present(body, "container") {
        return Some(("container".into(), LiveReason::ProviderFiles));
    }
    for tool in tools(body) {
        let kind = tool_type(tool);
        let why = if kind.starts_with("web_search") {
            Some(LiveReason::WebSearch)
        } else if kind.starts_with("web_fetch") {
            Some(LiveReason::WebFetch)
        } else if kind == "mcp_toolset" {
            Some(LiveReason::RemoteTool)
        } else {
            None
        };
        if let Some(why) = why {
            return Some((tool_named(kind), why));
        }
    }
    None
}

fn gemini(body: &Object) -> Found {
    const LIVE_TOOLS: &[(&str, LiveReason)] = &[
        ("googleSearch", LiveReason::WebSearch),
        ("googleSearchRetrieval", LiveReason::WebSearch),
        ("enterpriseWebSearch", LiveReason::WebSearch),
        ("urlContext", LiveReason::WebFetch),
        ("googleMaps", LiveReason::Maps),
        ("retrieval", LiveReason::ProviderStore),
        ("fileSearch", LiveReason::ProviderStore),
    ];
    for tool in tools(body) {
        for &(name, why) in LIVE_TOOLS {
            if present(tool, name) {
                return Some((tool_named(name), why));
            }
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::keying::parse::parse;

    fn check_text(dialect: Dialect, text: &str, model: &str) -> Result<(), String> {
        let body = parse(text.as_bytes()).unwrap();
        check(dialect, body.as_object().unwrap(), model).map_err(|e| e.to_string())
    }

    #[test]
    fn live_requests_name_the_reason() {
        let cases = [
            (
                Dialect::OpenAiChat,
                r#"{"web_search_options":{}}"#,
                "web_search_options searches the web (live data)",
            ),
            (
                Dialect::OpenAiResponses,
                r#"{"tools":[{"type":"function"},{"type":"web_search_preview"}]}"#,
                "tool \"web_search_preview\" searches the web (live data)",
            ),
            (
                Dialect::OpenAiResponses,
                r#"{"tools":[{"type":"file_search","vector_store_ids":["vs"]}]}"#,
                "tool \"file_search\" reads a provider-side store that can change",
            ),
            (
                Dialect::OpenAiResponses,
                r#"{"tools":[{"type":"mcp","server_url":"u"}]}"#,
                "tool \"mcp\" calls tools on remote servers",
            ),
            (
                Dialect::OpenAiResponses,
                r#"{"tools":[{"type":"code_interpreter","container":"cntr_1"}]}"#,
                "tool \"code_interpreter\" runs code over provider-side files or state",
            ),
            (
                Dialect::OpenAiResponses,
                r#"{"conversation":"conv_1"}"#,
                "conversation continues a provider-side conversation that grows on every call",
            ),
            (
                Dialect::OpenAiResponses,
                r#"{"prompt":{"id":"pmpt_1"}}"#,
                "prompt \"pmpt_1\" names a stored prompt without a version (it follows the latest)",
            ),
            (
                Dialect::Anthropic,
                r#"{"tools":[{"type":"web_fetch_20250910","name":"web_fetch"}]}"#,
                "tool \"web_fetch_20250910\" fetches web pages (live data)",
            ),
            (
                Dialect::Anthropic,
                r#"{"mcp_servers":[{"type":"url","url":"u","name":"n"}]}"#,
                "mcp_servers calls tools on remote servers",
            ),
            (
                Dialect::Gemini,
                r#"{"tools":[{"googleSearch":{}}]}"#,
                "tool \"googleSearch\" searches the web (live data)",
            ),
            (
                Dialect::Gemini,
                r#"{"tools":[{"urlContext":{}}]}"#,
                "tool \"urlContext\" fetches web pages (live data)",
            ),
        ];
        for (dialect, text, want) in cases {
            assert_eq!(
                check_text(dialect, text, "m"),
                Err(format!("NOTCACHEABLE {want}; pass LIVE to cache it anyway")),
                "{text}"
            );
        }
        assert!(check_text(Dialect::OpenAiChat, "{}", "gpt-4o-mini-search-preview")
            .unwrap_err()
            .starts_with("NOTCACHEABLE model \"gpt-4o-mini-search-preview\" searches the web on every call"));
    }

    #[test]
    fn immutable_references_stay_cacheable() {
        let cases = [
            (
                Dialect::OpenAiResponses,
                r#"{"previous_response_id":"resp_1","conversation":null}"#,
            ),
            (
                Dialect::OpenAiResponses,
                r#"{"prompt":{"id":"pmpt_1","version":"3"}}"#,
            ),
            (
                Dialect::OpenAiResponses,
                r#"{"tools":[{"type":"code_interpreter","container":{"type":"auto"}}]}"#,
            ),
            (
                Dialect::OpenAiResponses,
                r#"{"tools":[{"type":"function","name":"web_search"}]}"#,
            ),
            (
                Dialect::Anthropic,
                r#"{"tools":[{"name":"web_search","input_schema":{}}],"mcp_servers":[]}"#,
            ),
            (
                Dialect::Gemini,
                r#"{"tools":[{"codeExecution":{}},{"functionDeclarations":[{"name":"googleSearch"}]}],"cachedContent":"c"}"#,
            ),
            (Dialect::Generic, r#"{"tools":[{"type":"web_search"}]}"#),
        ];
        for (dialect, text) in cases {
            assert_eq!(check_text(dialect, text, "gpt-4o"), Ok(()), "{text}");
        }
    }
}
