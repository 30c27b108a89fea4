//! Request dialects: how each model API shapes its request body, which top-level fields are
//! per-call (left out of the key), and how a dialect is recognised.
//!
//! # Per-call fields
//!
//! A per-call field cannot change the answer, so two requests that differ only there share a
//! key. Only top-level fields are left out, and only these; any other field, known or not,
//! stays in the key (an unknown field may split a key, never merge two). `model` is not in
//! these lists: it is moved out of the body into the hashed envelope (see the module root).
//!
//! | dialect            | left out of the key                                                                                                                                |
//! |--------------------|----------------------------------------------------------------------------------------------------------------------------------------------------|
//! | `openai-chat`      | `user`, `safety_identifier`, `metadata`, `store`, `stream`, `stream_options`, `service_tier`, `prompt_cache_key`, `prompt_cache_retention`, `prompt_cache_options` |
//! | `openai-responses` | `user`, `safety_identifier`, `metadata`, `store`, `stream`, `stream_options`, `service_tier`, `prompt_cache_key`, `prompt_cache_retention`, `prompt_cache_options` |
//! | `anthropic`        | `metadata`, `stream`, `service_tier`, `cache_control`                                                                                              |
//! | `gemini`           | `labels`                                                                                                                                           |
//! | `generic`          | `stream`, `stream_options`                                                                                                                         |
//!
//! Why each is safe to drop:
//! - `user`, `safety_identifier`, `metadata` (`user_id` for Anthropic), `labels` (Vertex AI):
//!   end-user and billing tags for abuse monitoring, dashboards and cost reports.
//! - `stream`, `stream_options`: how the answer is delivered; the cache stores the complete
//!   answer.
//! - `store`: whether the provider keeps a copy of the exchange.
//! - `service_tier`: latency and price class of the same model; the answer is not affected.
//! - `prompt_cache_key`, `prompt_cache_retention`, `prompt_cache_options` (OpenAI), top-level
//!   `cache_control` (Anthropic): settings of the provider's own prompt cache (speed and price
//!   only; the markers inside messages are dropped as merged forms, see `forms/`).
//!
//! Deliberately kept, although they look per-call: `background` (OpenAI Responses: the reply
//! is a queued job, not the answer), `previous_response_id` and `conversation` (they name
//! server-side state the answer depends on; a `conversation` also makes the request
//! not cacheable, see `live.rs`), `include`, `logprobs`, `top_logprobs` (they change
//! what the answer contains), `cachedContent` (Gemini: context the answer depends on),
//! `anthropic_version` (Vertex AI and Bedrock: the API version can change the reply).
//! Request and trace ids travel in HTTP headers, which never reach the key.
//!
//! # Detection
//!
//! Without an explicit dialect, the body's shape decides, first match wins:
//! 1. `contents` present: `gemini`;
//! 2. `input` present and no `messages`: `openai-responses`;
//! 3. `messages` present and an Anthropic-only top-level field present (`system`,
//!    `stop_sequences`, `top_k`, `thinking`, `anthropic_version`, `container`,
//!    `mcp_servers`, `context_management`), or a tool declared with `input_schema`: `anthropic`;
//! 4. `messages` present: `openai-chat` (also the shape of the OpenAI-compatible endpoints);
//! 5. otherwise `generic`.
//!
//! A minimal Anthropic request (`model`, `max_tokens`, `messages` only) has exactly the OpenAI
//! Chat shape and is detected as `openai-chat`; clients that care pass the dialect explicitly.
//! The dialect is part of the key material, so detection can at worst split two spellings of
//! one request (`thinking: {"type":"disabled"}` makes a minimal request Anthropic-shaped), and
//! never makes two different requests share a key.

use std::fmt;

use super::tree::{Json, Object};

/// A model API's request format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// OpenAI Chat Completions (`POST /v1/chat/completions`) and compatible endpoints.
    OpenAiChat,
    /// OpenAI Responses (`POST /v1/responses`).
    OpenAiResponses,
    /// Anthropic Messages (`POST /v1/messages`).
    Anthropic,
    /// Google Gemini `generateContent` (the model is in the URL, not the body).
    Gemini,
    /// Any other JSON API with a top-level `model` (or a `MODEL` given with the request).
    Generic,
}

impl Dialect {
    /// Every dialect, in documentation order.
    pub const ALL: [Dialect; 5] = [
        Dialect::OpenAiChat,
        Dialect::OpenAiResponses,
        Dialect::Anthropic,
        Dialect::Gemini,
        Dialect::Generic,
    ];

    /// The dialect's name as used on the wire and hashed into the key.
    ///
    /// # Stability
    /// These strings are part of the hashed material: changing one changes every key of that
    /// dialect and needs a new key version.
    pub const fn name(self) -> &'static str {
        match self {
            Dialect::OpenAiChat => "openai-chat",
            Dialect::OpenAiResponses => "openai-responses",
            Dialect::Anthropic => "anthropic",
            Dialect::Gemini => "gemini",
            Dialect::Generic => "generic",
        }
    }

    /// Parses a dialect name, ASCII case-insensitively, without allocating.
    pub fn parse(name: &[u8]) -> Option<Dialect> {
        Dialect::ALL
            .into_iter()
            .find(|d| d.name().as_bytes().eq_ignore_ascii_case(name))
    }

    /// Top-level fields of this dialect that cannot change the answer (see the module docs).
    pub const fn per_call_fields(self) -> &'static [&'static str] {
        match self {
            Dialect::OpenAiChat | Dialect::OpenAiResponses => &[
                "user",
                "safety_identifier",
                "metadata",
                "store",
                "stream",
                "stream_options",
                "service_tier",
                "prompt_cache_key",
                "prompt_cache_retention",
                "prompt_cache_options",
            ],
            Dialect::Anthropic => &["metadata", "stream", "service_tier", "cache_control"],
            Dialect::Gemini => &["labels"],
            Dialect::Generic => &["stream", "stream_options"],
        }
    }

    /// Whether the top-level field `name` is left out of this dialect's key.
    pub fn is_per_call(self, name: &str) -> bool {
        self.per_call_fields().contains(&name)
    }

    /// Recognises the dialect of a request body by its shape (see the module docs).
    pub fn detect(body: &Object) -> Dialect {
        if body.contains_key("contents") {
            return Dialect::Gemini;
        }
        let has_messages = body.contains_key("messages");
        if !has_messages {
            return if body.contains_key("input") {
                Dialect::OpenAiResponses
            } else {
                Dialect::Generic
            };
        }
        let anthropic_field = ANTHROPIC_ONLY.iter().any(|f| body.contains_key(f));
        let anthropic_tool = body
            .get("tools")
            .and_then(Json::as_array)
            .is_some_and(|tools| tools.iter().any(|t| t.get("input_schema").is_some()));
        if anthropic_field || anthropic_tool {
            Dialect::Anthropic
        } else {
            Dialect::OpenAiChat
        }
    }
}

/// Top-level fields of Anthropic Messages that OpenAI Chat Completions does not have.
const ANTHROPIC_ONLY: &[&str] = &[
    "system",
    "stop_sequences",
    "top_k",
    "thinking",
    "anthropic_version",
    "container",
    "mcp_servers",
    "context_management",
];

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn detect(text: &str) -> Dialect {
        Dialect::detect(
            crate::keying::parse::parse(text.as_bytes())
                .unwrap()
                .as_object()
                .unwrap(),
        )
    }

    #[test]
    fn names_round_trip_case_insensitively() {
        for d in Dialect::ALL {
            assert_eq!(Dialect::parse(d.name().as_bytes()), Some(d));
            assert_eq!(Dialect::parse(d.name().to_uppercase().as_bytes()), Some(d));
        }
        assert_eq!(Dialect::parse(b"openai"), None);
        assert_eq!(Dialect::parse(b""), None);
    }

    #[test]
    fn detection_follows_the_documented_order() {
        assert_eq!(detect(r#"{"contents":[],"messages":[]}"#), Dialect::Gemini);
        assert_eq!(
            detect(r#"{"model":"m","input":"hi"}"#),
            Dialect::OpenAiResponses
        );
        assert_eq!(
            detect(r#"{"model":"m","messages":[],"input":1}"#),
            Dialect::OpenAiChat
        );
        assert_eq!(
            detect(r#"{"model":"m","messages":[],"system":"s"}"#),
            Dialect::Anthropic
        );
        assert_eq!(
            detect(r#"{"model":"m","messages":[],"tools":[{"name":"f","input_schema":{}}]}"#),
            Dialect::Anthropic
        );
        assert_eq!(
            detect(r#"{"model":"m","messages":[],"tools":[{"type":"function"}]}"#),
            Dialect::OpenAiChat
        );
        assert_eq!(detect(r#"{"model":"m","prompt":"p"}"#), Dialect::Generic);
    }

    #[test]
    fn no_dialect_drops_its_own_sampling_or_content_fields() {
        let never = [
            "model",
            "messages",
            "input",
            "instructions",
            "system",
            "contents",
            "tools",
            "tool_choice",
            "temperature",
            "top_p",
            "top_k",
            "n",
            "seed",
            "stop",
            "generationConfig",
            "response_format",
            "max_tokens",
            "background",
        ];
        for d in Dialect::ALL {
            for f in never {
                assert!(!d.is_per_call(f), "{d} drops {f}");
            }
        }
    }
}
