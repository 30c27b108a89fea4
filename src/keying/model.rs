//! Which model a request is for, and how the model appears in a key.
//!
//! # Model resolution
//! The model is the `MODEL` argument if given, else the body's top-level `model` string. When
//! both are given they must be equal. For Gemini a leading `models/` is removed first, since
//! `models/gemini-2.0-flash` and `gemini-2.0-flash` name the same model in that API.
//!
//! # Key segment ("slug")
//! In the key the model is percent-encoded: ASCII letters, digits and `-._~/@+` are kept,
//! every other byte of its UTF-8 form becomes `%XX` (uppercase hex). So the segment never holds
//! a glob metacharacter of `SCAN MATCH` (`*?[]\`), whitespace, a control character or the `:`
//! that separates key segments, and distinct models always have distinct segments:
//! `ft:gpt-4o-mini:acme::x1` becomes `ft%3Agpt-4o-mini%3Aacme%3A%3Ax1`.

use super::dialect::Dialect;
use super::error::KeyError;
use super::tree::{Json, Object};

/// Longest model name accepted, in bytes. Real names are far shorter; the limit keeps a hostile
/// request from making a huge key.
pub const MAX_MODEL_LEN: usize = 256;

/// Resolves the request's model (see the module docs).
pub(crate) fn resolve<'a>(
    dialect: Dialect,
    body: &'a Object,
    argument: Option<&'a str>,
) -> Result<&'a str, KeyError> {
    let from_body = match body.get("model") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(checked(normalise(dialect, s))?),
        Some(_) => return Err(KeyError::ModelNotString),
    };
    let from_argument = match argument {
        Some(m) => Some(checked(normalise(dialect, m))?),
        None => None,
    };
    match (from_argument, from_body) {
        (Some(arg), Some(body)) if arg != body => Err(KeyError::ModelMismatch {
            argument: arg.to_owned(),
            body: body.to_owned(),
        }),
        (Some(model), _) | (None, Some(model)) => Ok(model),
        (None, None) => Err(KeyError::NoModel(dialect)),
    }
}

/// Checks the length first, so no later message can quote a huge model.
fn checked(model: &str) -> Result<&str, KeyError> {
    if model.is_empty() {
        return Err(KeyError::EmptyModel);
    }
    if model.len() > MAX_MODEL_LEN {
        return Err(KeyError::ModelTooLong {
            len: model.len(),
            limit: MAX_MODEL_LEN,
        });
    }
    Ok(model)
}

fn normalise(dialect: Dialect, model: &str) -> &str {
    match dialect {
        Dialect::Gemini => model.strip_prefix("models/").unwrap_or(model),
        _ => model,
    }
}

/// Appends the key segment for `model` to `out` (see the module docs).
pub(crate) fn push_slug(model: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in model.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/@+".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn slug(model: &str) -> String {
        let mut s = String::new();
        push_slug(model, &mut s);
        s
    }

    #[test]
    fn slug_keeps_common_names_readable() {
        assert_eq!(slug("gpt-4o-mini-2024-07-18"), "gpt-4o-mini-2024-07-18");
        assert_eq!(
            slug("claude-3-5-sonnet@20240620"),
            "claude-3-5-sonnet@20240620"
        );
        assert_eq!(slug("meta-llama/Llama-3.1-8B"), "meta-llama/Llama-3.1-8B");
        assert_eq!(slug("llama3.1:8b"), "llama3.1%3A8b");
    }

    #[test]
    fn slug_has_no_glob_space_control_or_separator() {
        let nasty = "a*b?c[d]e\\f g\th\ni\r\u{0}j:k%l\u{7f}é\u{2028}";
        let s = slug(nasty);
        assert!(
            s.bytes()
                .all(|b| b.is_ascii_graphic() && !b"*?[]\\:".contains(&b)),
            "{s}"
        );
        assert_eq!(
            slug("a%3A"),
            "a%253A",
            "percent itself is encoded, so the map is injective"
        );
    }

    #[test]
    fn argument_and_body_must_agree() {
        let parsed =
            crate::keying::parse::parse(br#"{"model":"models/gemini-2.0-flash"}"#).unwrap();
        let body = parsed.as_object().unwrap();
        assert_eq!(
            resolve(Dialect::Gemini, body, Some("gemini-2.0-flash")),
            Ok("gemini-2.0-flash")
        );
        assert!(matches!(
            resolve(Dialect::Generic, body, Some("gemini-2.0-flash")),
            Err(KeyError::ModelMismatch { .. })
        ));
        let empty = Object::default();
        assert_eq!(
            resolve(Dialect::Gemini, &empty, None),
            Err(KeyError::NoModel(Dialect::Gemini))
        );
        assert_eq!(
            resolve(Dialect::Generic, &empty, Some("")),
            Err(KeyError::EmptyModel)
        );
        let long = "m".repeat(MAX_MODEL_LEN + 1);
        assert_eq!(
            resolve(Dialect::Generic, &empty, Some(&long)),
            Err(KeyError::ModelTooLong {
                len: MAX_MODEL_LEN + 1,
                limit: MAX_MODEL_LEN
            })
        );
        // A mismatch with a huge model reports the length, never quotes the model.
        assert_eq!(
            resolve(Dialect::Generic, body, Some(&long)),
            Err(KeyError::ModelTooLong {
                len: MAX_MODEL_LEN + 1,
                limit: MAX_MODEL_LEN
            })
        );
    }
}
