//! Options of a keying request, and their parsing from command arguments.
//!
//! # Format
//! After the request JSON, in any order, each at most once, keywords case-insensitive:
//! ```text
//! [DIALECT openai-chat|openai-responses|anthropic|gemini|generic] [MODEL name] [SAMPLED]
//! ```

use super::dialect::Dialect;
use super::error::KeyError;

/// How to key one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyOptions {
    /// The request's dialect; `None` detects it from the body's shape.
    pub dialect: Option<Dialect>,
    /// Key the request even when sampling could change its answer.
    pub sampled: bool,
    /// The model, for APIs that name it outside the body (Gemini's URL). When the body has a
    /// `model` too, both must agree.
    pub model: Option<String>,
}

impl KeyOptions {
    /// Parses the option words that follow the request JSON (see the module docs).
    ///
    /// Errors: `ERR syntax error` for an unknown or repeated keyword or a missing value,
    /// `ERR unknown dialect ...`, `ERR MODEL must be valid UTF-8`.
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
            model: Some("gemini-2.0-flash".into()),
        };
        assert_eq!(
            parse(&["sampled", "Model", "gemini-2.0-flash", "dialect", "GEMINI"]),
            Ok(all.clone())
        );
        assert_eq!(
            parse(&["DIALECT", "gemini", "MODEL", "gemini-2.0-flash", "SAMPLED"]),
            Ok(all)
        );
    }

    #[test]
    fn rejects_malformed_words() {
        let syntax = Err("ERR syntax error".to_string());
        assert_eq!(parse(&["SAMPLED", "SAMPLED"]), syntax);
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
