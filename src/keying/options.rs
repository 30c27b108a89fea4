//! Options of a keying request, and their parsing from command arguments.
//!
//! # Format
//! After the request JSON, in any order, each at most once, keywords case-insensitive:
//! ```text
//! [DIALECT openai-chat|openai-responses|anthropic|gemini|generic] [MODEL name]
//! [SAMPLED] [LIVE] [FORMAT name]
//! ```
//! - `SAMPLED`: key the request even when sampling could change its answer;
//! - `LIVE`: key it even when its answer depends on live data or provider state;
//! - `FORMAT name`: the representation the caller stores under the key (`sse` for a stream of
//!   server-sent events). It is key material, so two representations of one request never
//!   share a key; without it the key is the one every earlier release computed. The name is
//!   1 to 64 of `A-Z a-z 0-9 . _ - + /`, compared exactly.

use super::dialect::Dialect;
use super::error::KeyError;

/// How to key one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyOptions {
    /// The request's dialect; `None` detects it from the body's shape.
    pub dialect: Option<Dialect>,
    /// Key the request even when sampling could change its answer.
    pub sampled: bool,
    /// Key the request even when its answer depends on live data or provider state.
    pub live: bool,
    /// The stored representation (`FORMAT`), part of the key material when given.
    pub format: Option<String>,
    /// The model, for APIs that name it outside the body (Gemini's URL). When the body has a
    /// `model` too, both must agree.
    pub model: Option<String>,
}

impl KeyOptions {
    /// Parses the option words that follow the request JSON (see the module docs).
    ///
    /// Errors: `ERR syntax error` for an unknown or repeated keyword or a missing value,
    /// `ERR unknown dialect ...`, `ERR MODEL must be valid UTF-8`, `ERR invalid FORMAT name ...`.
    pub fn parse_args<I, A>(args: I) -> Result<KeyOptions, KeyError>
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        let mut opts = KeyOptions::default();
        let mut args = args.into_iter();
        while let Some(word) = args.next() {
            let word = word.as_ref();
            if word.eq_ignore_ascii_case(b"SAMPLED") {
                if opts.sampled {
                    return Err(KeyError::Syntax);
                }
                opts.sampled = true;
            } else if word.eq_ignore_ascii_case(b"LIVE") {
                if opts.live {
                    return Err(KeyError::Syntax);
                }
                opts.live = true;
            } else if word.eq_ignore_ascii_case(b"FORMAT") {
                let name = args.next().ok_or(KeyError::Syntax)?;
                if opts.format.is_some() {
                    return Err(KeyError::Syntax);
                }
                opts.format = Some(format_name(name.as_ref())?);
            } else if word.eq_ignore_ascii_case(b"DIALECT") {
                let name = args.next().ok_or(KeyError::Syntax)?;
                let name = name.as_ref();
                if opts.dialect.is_some() {
                    return Err(KeyError::Syntax);
                }
                let dialect = Dialect::parse(name).ok_or_else(|| {
                    KeyError::UnknownDialect(String::from_utf8_lossy(name).into_owned())
                })?;
                opts.dialect = Some(dialect);
            } else if word.eq_ignore_ascii_case(b"MODEL") {
                let name = args.next().ok_or(KeyError::Syntax)?;
                if opts.model.is_some() {
                    return Err(KeyError::Syntax);
                }
                let name =
                    std::str::from_utf8(name.as_ref()).map_err(|_| KeyError::ModelNotUtf8)?;
                opts.model = Some(name.to_owned());
            } else {
                return Err(KeyError::Syntax);
            }
        }
        Ok(opts)
    }
}

/// Checks a `FORMAT` name (see the module docs).
fn format_name(name: &[u8]) -> Result<String, KeyError> {
    let valid = (1..=64).contains(&name.len())
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"._-+/".contains(&b));
    match std::str::from_utf8(name) {
        Ok(text) if valid => Ok(text.to_owned()),
        _ => {
            let shown: String = String::from_utf8_lossy(name).chars().take(64).collect();
            Err(KeyError::InvalidFormat(shown))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> Result<KeyOptions, String> {
        KeyOptions::parse_args(words.iter().map(|w| w.as_bytes())).map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_every_option_in_any_order_and_case() {
        assert_eq!(parse(&[]), Ok(KeyOptions::default()));
        let all = KeyOptions {
            dialect: Some(Dialect::Gemini),
            sampled: true,
            live: true,
            model: Some("gemini-2.0-flash".into()),
            format: Some("sse".into()),
        };
        assert_eq!(
            parse(&[
                "sampled",
                "Model",
                "gemini-2.0-flash",
                "live",
                "dialect",
                "GEMINI",
                "format",
                "sse"
            ]),
            Ok(all.clone())
        );
        assert_eq!(
            parse(&[
                "FORMAT",
                "sse",
                "DIALECT",
                "gemini",
                "MODEL",
                "gemini-2.0-flash",
                "SAMPLED",
                "LIVE"
            ]),
            Ok(all)
        );
        assert_eq!(
            parse(&["FORMAT", "text/event-stream"])
                .unwrap()
                .format
                .as_deref(),
            Some("text/event-stream")
        );
    }

    #[test]
    fn rejects_malformed_words() {
        let syntax = Err("ERR syntax error".to_string());
        assert_eq!(parse(&["SAMPLED", "SAMPLED"]), syntax);
        assert_eq!(parse(&["LIVE", "LIVE"]), syntax);
        assert_eq!(parse(&["FORMAT"]), syntax);
        assert_eq!(parse(&["FORMAT", "sse", "FORMAT", "sse"]), syntax);
        for bad in ["", "a b", "sse\r\n", &"x".repeat(65)] {
            assert!(
                parse(&["FORMAT", bad])
                    .unwrap_err()
                    .starts_with("ERR invalid FORMAT name "),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse(&["FORMAT", "a\nb"]),
            Err(
                r#"ERR invalid FORMAT name "a\nb": use 1 to 64 of A-Z a-z 0-9 . _ - + /"#
                    .to_string()
            )
        );
        assert_eq!(parse(&["MODEL"]), syntax);
        assert_eq!(parse(&["DIALECT"]), syntax);
        assert_eq!(parse(&["MODEL", "a", "MODEL", "b"]), syntax);
        assert_eq!(parse(&["FAST"]), syntax);
        assert!(parse(&["DIALECT", "cohere"])
            .unwrap_err()
            .starts_with("ERR unknown dialect \"cohere\""));
        let bad_utf8: [&[u8]; 2] = [b"MODEL", b"\xff"];
        assert_eq!(
            KeyOptions::parse_args(bad_utf8).map_err(|e| e.to_string()),
            Err("ERR MODEL must be valid UTF-8".to_string())
        );
    }
}
