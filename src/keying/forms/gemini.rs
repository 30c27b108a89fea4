//! Merged forms of Gemini `generateContent` requests.
//!
//! Sources: the Gemini API reference (ai.google.dev/api/generate-content, the
//! `GenerateContentRequest`, `GenerationConfig`, `Content`, `Part`, `Tool`, `Schema` and
//! `SafetySetting` types). `docs/KEYING.md` lists the same rules for readers.
//!
//! - **Spelling**: the API reads protobuf JSON, which accepts a field's lowerCamelCase JSON
//!   name and its snake_case proto name alike (Google's own REST samples send `inline_data`,
//!   `mime_type`). Known fields of the request's message types are renamed to camelCase. The
//!   walk follows the message types below and never descends into free-form values
//!   (`functionCall.args`, `functionResponse.response`, `Schema.properties` names,
//!   `responseJsonSchema`, `example`, `default`, `labels`), whose names are user data.
//!   Both spellings present with equal values merge; with different values the request is
//!   refused ([`KeyError::SpellingConflict`]): which one Google reads is not documented.
//! - `generationConfig.candidateCount: 1` dropped ("If unset, this will default to 1"),
//!   `generationConfig.responseMimeType: "text/plain"` dropped ("`text/plain`: (default)"),
//!   and `generationConfig` itself once empty.
//! - `generationConfig.stopSequences` sorted ("The set of character sequences ... the API
//!   will stop at the first appearance of a stop sequence").
//! - `safetySettings` sorted by `category` ("A list of unique `SafetySetting` instances ...
//!   There should not be more than one setting for each `SafetyCategory` type"); a list with
//!   a repeated or missing category is left as it is.
//!
//! Not merged on purpose: enum values spelled as numbers (`"HARM_CATEGORY_HARASSMENT"` vs 7),
//! `topK` / `topP` defaults (they vary by model), an absent `role` against `"user"`.

use super::{sort_strings, DefaultValue};
use crate::keying::error::KeyError;
use crate::keying::parse::quoted;
use crate::keying::tree::{Json, Object};

/// Gemini `generateContent` (see the module docs).
pub(super) fn generate_content(body: &mut Object) -> Result<(), KeyError> {
    walk(Msg::Request, body).map_err(Conflict::into_error)?;
    if let Some(config) = body
        .get_mut("generationConfig")
        .and_then(Json::as_object_mut)
    {
        super::drop_defaults(
            config,
            &[
                ("candidateCount", DefaultValue::Number(1.0)),
                ("responseMimeType", DefaultValue::Str("text/plain")),
            ],
        );
        if let Some(stops) = config.get_mut("stopSequences") {
            sort_strings(stops);
        }
    }
    body.remove_if("generationConfig", |c| {
        c.as_object().is_some_and(Object::is_empty)
    });
    if let Some(Json::Array(settings)) = body.get_mut("safetySettings") {
        let categories: Option<Vec<String>> = settings
            .iter()
            .map(|s| s.get("category").and_then(Json::as_str).map(str::to_owned))
            .collect();
        if let Some(mut categories) = categories {
            categories.sort();
            if categories.windows(2).all(|w| w[0] != w[1]) {
                settings.sort_by(|a, b| {
                    let cat =
                        |v: &Json| v.get("category").and_then(Json::as_str).map(str::to_owned);
                    cat(a).cmp(&cat(b))
                });
            }
        }
    }
    Ok(())
}

/// The message types of a request, as far as the walk needs them.
#[derive(Clone, Copy)]
enum Msg {
    Request,
    Content,
    Part,
    Blob,
    FileData,
    FunctionCall,
    FunctionResponse,
    ExecutableCode,
    CodeExecutionResult,
    VideoMetadata,
    Tool,
    FunctionDeclaration,
    Schema,
    GoogleSearchRetrieval,
    DynamicRetrievalConfig,
    GoogleSearch,
    Interval,
    ComputerUse,
    FileSearch,
    GoogleMaps,
    ToolConfig,
    FunctionCallingConfig,
    RetrievalConfig,
    LatLng,
    SafetySetting,
    GenerationConfig,
    ThinkingConfig,
    ImageConfig,
    SpeechConfig,
    VoiceConfig,
    PrebuiltVoiceConfig,
    MultiSpeakerVoiceConfig,
    SpeakerVoiceConfig,
}

/// What a field holds.
#[derive(Clone, Copy)]
enum Kind {
    /// A scalar, a list of scalars, or free-form data: renamed, never entered.
    Value,
    Msg(Msg),
    List(Msg),
    /// A map from user-chosen names to messages: the names are kept, the values walked.
    Map(Msg),
}

use Kind::{List, Map, Msg as M, Value as V};

/// The fields of each message type, by their camelCase JSON name.
fn fields(msg: Msg) -> &'static [(&'static str, Kind)] {
    match msg {
        Msg::Request => &[
            ("contents", List(Msg::Content)),
            ("tools", List(Msg::Tool)),
            ("toolConfig", M(Msg::ToolConfig)),
            ("safetySettings", List(Msg::SafetySetting)),
            ("systemInstruction", M(Msg::Content)),
            ("generationConfig", M(Msg::GenerationConfig)),
            ("cachedContent", V),
        ],
        Msg::Content => &[("role", V), ("parts", List(Msg::Part))],
        Msg::Part => &[
            ("text", V),
            ("thought", V),
            ("thoughtSignature", V),
            ("inlineData", M(Msg::Blob)),
            ("fileData", M(Msg::FileData)),
            ("functionCall", M(Msg::FunctionCall)),
            ("functionResponse", M(Msg::FunctionResponse)),
            ("executableCode", M(Msg::ExecutableCode)),
            ("codeExecutionResult", M(Msg::CodeExecutionResult)),
            ("videoMetadata", M(Msg::VideoMetadata)),
            ("partMetadata", V),
            ("mediaResolution", V),
        ],
        Msg::Blob => &[("mimeType", V), ("data", V)],
        Msg::FileData => &[("mimeType", V), ("fileUri", V)],
        Msg::FunctionCall => &[("id", V), ("name", V), ("args", V)],
        Msg::FunctionResponse => &[
            ("id", V),
            ("name", V),
            ("response", V),
            ("parts", V),
            ("willContinue", V),
            ("scheduling", V),
        ],
        Msg::ExecutableCode => &[("language", V), ("code", V)],
        Msg::CodeExecutionResult => &[("outcome", V), ("output", V)],
        Msg::VideoMetadata => &[("startOffset", V), ("endOffset", V), ("fps", V)],
        Msg::Tool => &[
            ("functionDeclarations", List(Msg::FunctionDeclaration)),
            ("googleSearchRetrieval", M(Msg::GoogleSearchRetrieval)),
            ("codeExecution", V),
            ("googleSearch", M(Msg::GoogleSearch)),
            ("urlContext", V),
            ("computerUse", M(Msg::ComputerUse)),
            ("fileSearch", M(Msg::FileSearch)),
            ("googleMaps", M(Msg::GoogleMaps)),
            ("enterpriseWebSearch", V),
            ("retrieval", V),
        ],
        Msg::FunctionDeclaration => &[
            ("name", V),
            ("description", V),
            ("behavior", V),
            ("parameters", M(Msg::Schema)),
            ("parametersJsonSchema", V),
            ("response", M(Msg::Schema)),
            ("responseJsonSchema", V),
        ],
        Msg::Schema => &[
            ("type", V),
            ("format", V),
            ("title", V),
            ("description", V),
            ("nullable", V),
            ("enum", V),
            ("maxItems", V),
            ("minItems", V),
            ("properties", Map(Msg::Schema)),
            ("required", V),
            ("minProperties", V),
            ("maxProperties", V),
            ("minLength", V),
            ("maxLength", V),
            ("pattern", V),
            ("example", V),
            ("anyOf", List(Msg::Schema)),
            ("propertyOrdering", V),
            ("default", V),
            ("items", M(Msg::Schema)),
            ("minimum", V),
            ("maximum", V),
        ],
        Msg::GoogleSearchRetrieval => &[("dynamicRetrievalConfig", M(Msg::DynamicRetrievalConfig))],
        Msg::DynamicRetrievalConfig => &[("mode", V), ("dynamicThreshold", V)],
        Msg::GoogleSearch => &[("timeRangeFilter", M(Msg::Interval))],
        Msg::Interval => &[("startTime", V), ("endTime", V)],
        Msg::ComputerUse => &[("environment", V), ("excludedPredefinedFunctions", V)],
        Msg::FileSearch => &[
            ("fileSearchStoreNames", V),
            ("metadataFilter", V),
            ("topK", V),
        ],
        Msg::GoogleMaps => &[("enableWidget", V)],
        Msg::ToolConfig => &[
            ("functionCallingConfig", M(Msg::FunctionCallingConfig)),
            ("retrievalConfig", M(Msg::RetrievalConfig)),
        ],
        Msg::FunctionCallingConfig => &[("mode", V), ("allowedFunctionNames", V)],
        Msg::RetrievalConfig => &[("latLng", M(Msg::LatLng)), ("languageCode", V)],
        Msg::LatLng => &[("latitude", V), ("longitude", V)],
        Msg::SafetySetting => &[("category", V), ("threshold", V), ("method", V)],
        Msg::GenerationConfig => &[
            ("stopSequences", V),
            ("responseMimeType", V),
            ("responseSchema", M(Msg::Schema)),
            ("responseJsonSchema", V),
            ("responseModalities", V),
            ("candidateCount", V),
            ("maxOutputTokens", V),
            ("temperature", V),
            ("topP", V),
            ("topK", V),
            ("seed", V),
            ("presencePenalty", V),
            ("frequencyPenalty", V),
            ("responseLogprobs", V),
            ("logprobs", V),
            ("enableEnhancedCivicAnswers", V),
            ("speechConfig", M(Msg::SpeechConfig)),
            ("thinkingConfig", M(Msg::ThinkingConfig)),
            ("imageConfig", M(Msg::ImageConfig)),
            ("mediaResolution", V),
            ("audioTimestamp", V),
            ("routingConfig", V),
        ],
        Msg::ThinkingConfig => &[
            ("includeThoughts", V),
            ("thinkingBudget", V),
            ("thinkingLevel", V),
        ],
        Msg::ImageConfig => &[("aspectRatio", V), ("imageSize", V)],
        Msg::SpeechConfig => &[
            ("voiceConfig", M(Msg::VoiceConfig)),
            ("multiSpeakerVoiceConfig", M(Msg::MultiSpeakerVoiceConfig)),
            ("languageCode", V),
        ],
        Msg::VoiceConfig => &[("prebuiltVoiceConfig", M(Msg::PrebuiltVoiceConfig))],
        Msg::PrebuiltVoiceConfig => &[("voiceName", V)],
        Msg::MultiSpeakerVoiceConfig => &[("speakerVoiceConfigs", List(Msg::SpeakerVoiceConfig))],
        Msg::SpeakerVoiceConfig => &[("speaker", V), ("voiceConfig", M(Msg::VoiceConfig))],
    }
}

/// The proto field name of a camelCase JSON name (`maxOutputTokens` -> `max_output_tokens`).
fn snake_case(camel: &str) -> Option<String> {
    if !camel.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// A spelling conflict on its way up; the path is collected innermost first.
struct Conflict {
    camel: &'static str,
    snake: String,
    path: Vec<String>,
}

impl Conflict {
    fn within(mut self, segment: impl FnOnce() -> String) -> Self {
        self.path.push(segment());
        self
    }

    fn into_error(self) -> KeyError {
        let mut path = String::new();
        for seg in self.path.iter().rev() {
            let escaped = quoted(&seg.replace('~', "~0").replace('/', "~1"));
            path.push('/');
            path.push_str(&escaped[1..escaped.len() - 1]);
        }
        KeyError::SpellingConflict {
            camel: self.camel.to_owned(),
            snake: self.snake,
            path,
        }
    }
}

/// Renames the known fields of `object` (a `msg`) to camelCase, recursively.
fn walk(msg: Msg, object: &mut Object) -> Result<(), Conflict> {
    // Every snake_case name that differs from its camelCase one has a `_`: an object without
    // one (nearly all: a part, a function call) needs no renaming, only the descent, and is
    // spared building and looking up each field's snake_case name.
    let any_snake = object.keys().any(|k| k.contains('_'));
    for &(camel, kind) in fields(msg) {
        if let Some(snake) = any_snake.then(|| snake_case(camel)).flatten() {
            if let Some(mut value) = object.remove(&snake) {
                descend(kind, &mut value).map_err(|c| c.within(|| snake.clone()))?;
                match object.get_mut(camel) {
                    Some(existing) => {
                        descend(kind, existing).map_err(|c| c.within(|| camel.to_owned()))?;
                        if *existing != value {
                            return Err(Conflict {
                                camel,
                                snake,
                                path: Vec::new(),
                            });
                        }
                    }
                    None => {
                        object.insert(camel.to_owned(), value);
                    }
                }
                continue;
            }
        }
        if let Some(value) = object.get_mut(camel) {
            descend(kind, value).map_err(|c| c.within(|| camel.to_owned()))?;
        }
    }
    Ok(())
}

fn descend(kind: Kind, value: &mut Json) -> Result<(), Conflict> {
    match (kind, value) {
        (Kind::Msg(msg), Json::Object(object)) => walk(msg, object),
        (Kind::List(msg), Json::Array(items)) => {
            for (i, item) in items.iter_mut().enumerate() {
                if let Json::Object(object) = item {
                    walk(msg, object).map_err(|c| c.within(|| i.to_string()))?;
                }
            }
            Ok(())
        }
        (Kind::Map(msg), Json::Object(map)) => {
            let names: Vec<String> = map.keys().map(str::to_owned).collect();
            for name in names {
                if let Some(Json::Object(object)) = map.get_mut(&name) {
                    walk(msg, object).map_err(|c| c.within(|| name.clone()))?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::super::tests::merged;
    use super::*;
    use crate::keying::dialect::Dialect;
    use crate::keying::parse::parse;

    #[test]
    fn snake_case_spellings_become_camel_case_in_known_places_only() {
        let snake = r#"{"system_instruction":{"parts":[{"text":"s"}]},
            "contents":[{"role":"user","parts":[{"inline_data":{"mime_type":"image/png","data":"AA=="}},
                {"function_call":{"name":"f","args":{"max_output_tokens":1}}}]}],
            "tools":[{"function_declarations":[{"name":"f","parameters":{"type":"OBJECT",
                "properties":{"user_name":{"type":"STRING","max_length":3}},"required":["user_name"]}}]}],
            "tool_config":{"function_calling_config":{"mode":"ANY","allowed_function_names":["f"]}},
            "generation_config":{"temperature":0,"max_output_tokens":5,"thinking_config":{"thinking_budget":0}}}"#;
        assert_eq!(
            merged(Dialect::Gemini, snake),
            concat!(
                r#"{"contents":[{"parts":[{"inlineData":{"data":"AA==","mimeType":"image/png"}},"#,
                r#"{"functionCall":{"args":{"max_output_tokens":1},"name":"f"}}],"role":"user"}],"#,
                r#""generationConfig":{"maxOutputTokens":5,"temperature":0,"thinkingConfig":{"thinkingBudget":0}},"#,
                r#""systemInstruction":{"parts":[{"text":"s"}]},"#,
                r#""toolConfig":{"functionCallingConfig":{"allowedFunctionNames":["f"],"mode":"ANY"}},"#,
                r#""tools":[{"functionDeclarations":[{"name":"f","parameters":{"properties":{"user_name":{"maxLength":3,"type":"STRING"}},"required":["user_name"],"type":"OBJECT"}}]}]}"#
            )
        );
    }

    #[test]
    fn both_spellings_merge_when_equal_and_are_refused_when_not() {
        assert_eq!(
            merged(
                Dialect::Gemini,
                r#"{"generationConfig":{"topK":3,"top_k":3.0},"generation_config":{"top_k":3}}"#
            ),
            r#"{"generationConfig":{"topK":3}}"#
        );
        let mut body =
            parse(br#"{"contents":[{"parts":[{"fileData":{"fileUri":"a","file_uri":"b"}}]}]}"#)
                .unwrap();
        let err = generate_content(body.as_object_mut().unwrap()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ERR Gemini fields \"fileUri\" and \"file_uri\" are one field with two values in \
             /contents/0/parts/0/fileData; send one spelling"
        );
    }

    #[test]
    fn defaults_drop_and_sets_sort() {
        let written = r#"{"generationConfig":{"candidateCount":1,"responseMimeType":"text/plain",
            "stopSequences":["b","a"]},"safetySettings":[
            {"category":"HARM_CATEGORY_HATE_SPEECH","threshold":"BLOCK_NONE"},
            {"category":"HARM_CATEGORY_DANGEROUS_CONTENT","threshold":"OFF"}]}"#;
        assert_eq!(
            merged(Dialect::Gemini, written),
            concat!(
                r#"{"generationConfig":{"stopSequences":["a","b"]},"safetySettings":["#,
                r#"{"category":"HARM_CATEGORY_DANGEROUS_CONTENT","threshold":"OFF"},"#,
                r#"{"category":"HARM_CATEGORY_HATE_SPEECH","threshold":"BLOCK_NONE"}]}"#
            )
        );
        let repeated = r#"{"safetySettings":[{"category":"B","threshold":"x"},{"category":"A"},{"category":"B","threshold":"y"}]}"#;
        assert_eq!(
            merged(Dialect::Gemini, repeated),
            r#"{"safetySettings":[{"category":"B","threshold":"x"},{"category":"A"},{"category":"B","threshold":"y"}]}"#,
            "a repeated category is left in its order"
        );
        assert_eq!(
            merged(
                Dialect::Gemini,
                r#"{"generationConfig":{"candidateCount":1}}"#
            ),
            "{}"
        );
    }
}
