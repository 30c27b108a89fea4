//! The determinism policy: a request is cacheable only when sampling cannot change its answer.
//!
//! | dialect            | temperature must be 0            | answer count must be 1 (when present)           |
//! |--------------------|----------------------------------|-------------------------------------------------|
//! | `openai-chat`      | `temperature`                    | `n`                                             |
//! | `openai-responses` | `temperature`                    | (none in the API)                               |
//! | `anthropic`        | `temperature`                    | (none in the API)                               |
//! | `gemini`           | `generationConfig.temperature`   | `generationConfig.candidateCount`               |
//! | `generic`          | `temperature`                    | `n`                                             |
//!
//! A temperature that is absent or `null` means the provider's default, which samples, so it
//! is not cacheable. Any number equal to 0 (`0`, `0.0`, `-0`, `0e5`) is. An absent or `null`
//! count means 1. The policy reads the request after the merged forms (`forms/`), so Gemini's snake_case
//! spellings (`generation_config`, `candidate_count`) are read as their camelCase twins.
//!
//! Models that refuse `temperature` (OpenAI's reasoning models, Anthropic's extended thinking
//! which requires 1) are therefore cacheable only with `SAMPLED`. `SAMPLED` skips this policy
//! but not the keying: every sampling parameter stays in the key.
//!
//! Requests whose answer depends on live data or provider state have their own policy and
//! opt-in (`live.rs`, `LIVE`).

use super::dialect::Dialect;
use super::error::{KeyError, NotCacheable};
use super::tree::{to_text, Json, Object};

/// Returns `Ok` when sampling cannot change the answer of `body` (see the module docs).
pub(crate) fn check(dialect: Dialect, body: &Object) -> Result<(), KeyError> {
    let (params, count_field) = match dialect {
        Dialect::OpenAiChat | Dialect::Generic => (Some(body), Some("n")),
        Dialect::OpenAiResponses | Dialect::Anthropic => (Some(body), None),
        Dialect::Gemini => {
            let config = body.get("generationConfig").and_then(Json::as_object);
            (config, config.map(|_| "candidateCount"))
        }
    };
    check_temperature(params.and_then(|p| p.get("temperature")))?;
    if let (Some(field), Some(params)) = (count_field, params) {
        check_count(field, params.get(field))?;
    }
    Ok(())
}

fn check_temperature(value: Option<&Json>) -> Result<(), KeyError> {
    let why = match value {
        None | Some(Json::Null) => NotCacheable::TemperatureNotSet,
        Some(Json::Number(n)) => {
            if n.as_f64() == 0.0 {
                return Ok(());
            }
            NotCacheable::Temperature(n.text().to_owned())
        }
        Some(other) => NotCacheable::TemperatureNotNumber(short_json(other)),
    };
    Err(KeyError::NotCacheable(why))
}

fn check_count(field: &'static str, value: Option<&Json>) -> Result<(), KeyError> {
    match value {
        None | Some(Json::Null) => Ok(()),
        Some(Json::Number(n)) if n.as_f64() == 1.0 => Ok(()),
        Some(other) => Err(KeyError::NotCacheable(NotCacheable::Count {
            field,
            value: short_json(other),
        })),
    }
}

/// Canonical JSON of `value` for an error line, cut to a readable length. Canonical JSON has
/// no raw CR or LF, which a Redis error line cannot hold.
pub(crate) fn short_json(value: &Json) -> String {
    const LIMIT: usize = 64;
    let mut text = to_text(value);
    if text.len() > LIMIT {
        let mut cut = LIMIT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("...");
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn check_text(dialect: Dialect, text: &str) -> Result<(), String> {
        let body = crate::keying::parse::parse(text.as_bytes()).unwrap();
        check(dialect, body.as_object().unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn zero_temperature_in_any_spelling_is_cacheable() {
        for t in ["0", "0.0", "-0", "0e5", "-0.0E-3"] {
            let req = format!(r#"{{"temperature":{t}}}"#);
            assert_eq!(check_text(Dialect::OpenAiChat, &req), Ok(()), "{t}");
        }
    }

    #[test]
    fn messages_match_the_documented_text() {
        assert_eq!(
            check_text(Dialect::OpenAiChat, r#"{"temperature":0.70}"#),
            Err("NOTCACHEABLE temperature 0.7 samples; pass SAMPLED to cache it anyway".into())
        );
        assert_eq!(
            check_text(Dialect::Anthropic, r#"{"temperature":null}"#),
            Err(
                "NOTCACHEABLE temperature not set (provider default samples); \
                 pass SAMPLED to cache it anyway"
                    .into()
            )
        );
        assert_eq!(
            check_text(Dialect::OpenAiChat, r#"{"temperature":0,"n":2}"#),
            Err(
                "NOTCACHEABLE n 2 asks for several answers; pass SAMPLED to cache it anyway".into()
            )
        );
        assert_eq!(
            check_text(Dialect::Generic, r#"{"temperature":"0"}"#),
            Err(
                r#"NOTCACHEABLE temperature "0" is not a number; pass SAMPLED to cache it anyway"#
                    .into()
            )
        );
    }

    #[test]
    fn gemini_reads_generation_config() {
        let ok = r#"{"generationConfig":{"temperature":0,"candidateCount":1}}"#;
        assert_eq!(check_text(Dialect::Gemini, ok), Ok(()));
        assert!(check_text(Dialect::Gemini, r#"{"temperature":0}"#).is_err());
        let two = r#"{"generationConfig":{"temperature":0,"candidateCount":2.0}}"#;
        assert!(check_text(Dialect::Gemini, two)
            .unwrap_err()
            .starts_with("NOTCACHEABLE candidateCount 2 "));
    }

    #[test]
    fn long_values_are_cut_at_a_character_boundary() {
        let long = format!(r#"{{"temperature":"{}"}}"#, "é".repeat(100));
        let msg = check_text(Dialect::OpenAiChat, &long).unwrap_err();
        assert!(msg.contains("...") && msg.len() < 160, "{msg}");
    }
}
