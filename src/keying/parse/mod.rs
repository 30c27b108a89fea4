//! A strict JSON (RFC 8259) parser into the keying tree ([`super::tree`]).
//!
//! It differs from `serde_json` where keying needs it to:
//! - a duplicate member name is an error (RFC 8785 §3.1 requires unique names, and providers
//!   differ in which of two members they keep), reported with the path of its object;
//! - numbers go through [`super::number`], so an integer literal keeps its exact value and a
//!   number with no canonical form is an error, also reported with its path.
//!
//! Syntax errors read like `serde_json`'s (`EOF while parsing a value at line 1 column 9`).
//! Nesting deeper than [`MAX_DEPTH`] is refused, so the recursive parser, normaliser and
//! writer cannot overflow the stack.

mod error;
mod string;

pub(crate) use error::quoted;
pub use error::ParseError;

use super::number::{self, NumberError};
use super::tree::{Json, Object};
use error::{pointer, syntax_at, Segment};

/// Deepest nesting of arrays and objects accepted (`serde_json`'s limit too).
pub const MAX_DEPTH: usize = 127;

/// Parses `bytes` as one JSON value.
/// Strings without escape sequences borrow from `bytes` (see [`Text`]).
pub fn parse(bytes: &[u8]) -> Result<Json<'_>, ParseError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => return Err(syntax_at(bytes, e.valid_up_to(), "invalid UTF-8", false)),
    };
    let mut p = Parser {
        text,
        bytes,
        pos: 0,
    };
    p.skip_ws();
    let value = p.value(0).map_err(|e| e.finish(bytes))?;
    p.skip_ws();
    if p.pos < bytes.len() {
        return Err(syntax_at(bytes, p.pos, "trailing characters", false));
    }
    Ok(value)
}

/// An error on its way up: the path is collected innermost first.
enum Pending {
    Syntax {
        msg: &'static str,
        at: usize,
        eof: bool,
    },
    Duplicate {
        name: String,
        path: Vec<Segment>,
    },
    Number {
        error: NumberError,
        path: Vec<Segment>,
    },
}

impl Pending {
    fn within(mut self, seg: impl FnOnce() -> Segment) -> Self {
        if let Pending::Duplicate { path, .. } | Pending::Number { path, .. } = &mut self {
            path.push(seg());
        }
        self
    }

    fn finish(self, bytes: &[u8]) -> ParseError {
        match self {
            Pending::Syntax { msg, at, eof } => syntax_at(bytes, at, msg, eof),
            Pending::Duplicate { name, path } => ParseError::Duplicate {
                name,
                path: pointer(path),
            },
            Pending::Number { error, path } => ParseError::Number {
                error,
                path: pointer(path),
            },
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

type Step<T> = Result<T, Pending>;

impl<'a> Parser<'a> {
    fn err<T>(&self, msg: &'static str) -> Step<T> {
        let eof = self.pos >= self.bytes.len();
        Err(Pending::Syntax {
            msg,
            at: self.pos,
            eof,
        })
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn value(&mut self, depth: usize) -> Step<Json<'a>> {
        match self.peek() {
            None => self.err("EOF while parsing a value"),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => self.err("expected value"),
        }
    }

    fn literal(&mut self, word: &'static str, value: Json<'a>) -> Step<Json<'a>> {
        for &expected in word.as_bytes() {
            match self.peek() {
                Some(b) if b == expected => self.pos += 1,
                None => return self.err("EOF while parsing a value"),
                Some(_) => return self.err("expected ident"),
            }
        }
        Ok(value)
    }

    fn array(&mut self, depth: usize) -> Step<Json<'a>> {
        if depth > MAX_DEPTH {
            return self.err("recursion limit exceeded");
        }
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_ws();
            let index = items.len();
            let item = self
                .value(depth)
                .map_err(|e| e.within(|| Segment::Index(index)))?;
            items.push(item);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                None => return self.err("EOF while parsing a list"),
                Some(_) => return self.err("expected `,` or `]`"),
            }
            self.skip_ws();
            if self.peek() == Some(b']') {
                return self.err("trailing comma");
            }
        }
    }

    fn object(&mut self, depth: usize) -> Step<Json<'a>> {
        if depth > MAX_DEPTH {
            return self.err("recursion limit exceeded");
        }
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(Object::default()));
        }
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'"') => {}
                None => return self.err("EOF while parsing an object"),
                Some(_) => return self.err("key must be a string"),
            }
            let name = self.string()?;
            self.skip_ws();
            match self.peek() {
                Some(b':') => self.pos += 1,
                None => return self.err("EOF while parsing an object"),
                Some(_) => return self.err("expected `:`"),
            }
            self.skip_ws();
            let value = match self.value(depth) {
                Ok(v) => v,
                Err(e) => return Err(e.within(|| Segment::Name(name.as_str().to_owned()))),
            };
            members.push((name, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Object::from_parsed(members)
                        .map(Json::Object)
                        .map_err(|name| Pending::Duplicate {
                            name,
                            path: Vec::new(),
                        });
                }
                None => return self.err("EOF while parsing an object"),
                Some(_) => return self.err("expected `,` or `}`"),
            }
            self.skip_ws();
            if self.peek() == Some(b'}') {
                return self.err("trailing comma");
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Step<Json<'a>> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return self.err("invalid number");
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            None => return self.err("EOF while parsing a value"),
            Some(_) => return self.err("invalid number"),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return if self.peek().is_none() {
                    self.err("EOF while parsing a value")
                } else {
                    self.err("invalid number")
                };
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return if self.peek().is_none() {
                    self.err("EOF while parsing a value")
                } else {
                    self.err("invalid number")
                };
            }
        }
        number::canonical(&self.text[start..self.pos])
            .map(Json::Number)
            .map_err(|error| Pending::Number {
                error,
                path: Vec::new(),
            })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::keying::tree::{canonical_escape_len, to_text};

    fn canon(text: &str) -> String {
        to_text(&parse(text.as_bytes()).unwrap())
    }

    fn err(text: &str) -> String {
        parse(text.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn parses_and_canonicalises() {
        assert_eq!(
            canon(" {\"b\" : [1, 1.0, -0, \"\\u00e9\\ud83d\\ude00\\/\"], \"a\":{\"z\":null,\"y\":true}}\n"),
            "{\"a\":{\"y\":true,\"z\":null},\"b\":[1,1,0,\"é😀/\"]}"
        );
        assert_eq!(canon("9007199254740993"), "9007199254740993");
        assert_eq!(
            canon("\"\\b\\f\\n\\r\\t\\\"\\\\\""),
            "\"\\b\\f\\n\\r\\t\\\"\\\\\""
        );
    }

    #[test]
    fn syntax_errors_read_like_serde_json() {
        // The same texts and positions serde_json reports.
        for (text, want) in [
            ("{\"model\":", "EOF while parsing a value at line 1 column 9"),
            ("", "EOF while parsing a value at line 1 column 0"),
            ("{\"a\" 1}", "expected `:` at line 1 column 6"),
            ("[1,]", "trailing comma at line 1 column 4"),
            ("{\"a\":1,}", "trailing comma at line 1 column 8"),
            ("[1 2]", "expected `,` or `]` at line 1 column 4"),
            ("{1:2}", "key must be a string at line 1 column 2"),
            ("\n  nul", "EOF while parsing a value at line 2 column 5"),
            ("01", "invalid number at line 1 column 2"),
            ("1 2", "trailing characters at line 1 column 3"),
            ("\"\\x\"", "invalid escape at line 1 column 3"),
            ("\"\\ud800\"", "unexpected end of hex escape at line 1 column 8"),
            ("\"\\ud800\\u0041\"", "lone leading surrogate in hex escape at line 1 column 13"),
            ("\"\\udc00\"", "lone leading surrogate in hex escape at line 1 column 7"),
            ("\"\\u00zz\"", "invalid escape at line 1 column 7"),
            ("\"a\tb\"", "control character (\\u0000-\\u001F) found while parsing a string at line 1 column 3"),
        ] {
            let got = err(text);
            let serde = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
            assert_eq!(got, format!("request is not valid JSON: {want}"), "{text:?}");
            assert_eq!(want, serde.to_string(), "{text:?} as serde_json reads it");
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(err(&deep).starts_with("request is not valid JSON: recursion limit exceeded"));
        assert!(parse(format!("{}{}", "[".repeat(127), "]".repeat(127)).as_bytes()).is_ok());
        assert_eq!(
            err(&format!("{}{}", "[".repeat(128), "]".repeat(128))),
            "request is not valid JSON: recursion limit exceeded at line 1 column 128"
        );
        assert_eq!(
            parse(b"\"\xff\"").unwrap_err().to_string(),
            "request is not valid JSON: invalid UTF-8 at line 1 column 2"
        );
    }

    #[test]
    fn duplicates_and_numbers_carry_their_path() {
        assert_eq!(
            err(r#"{"temperature":0,"temperature":1}"#),
            "request has two members named \"temperature\" at the top level; \
             providers differ in which one they read"
        );
        assert_eq!(
            err(r#"{"messages":[{"role":"user"},{"role":"a","ro\u006ce":"b"}]}"#),
            "request has two members named \"role\" in /messages/1; \
             providers differ in which one they read"
        );
        assert_eq!(
            err(r#"{"a/b~":{"seed":9007199254740993.0}}"#),
            "number 9007199254740993.0 (at /a~1b~0/seed) is beyond 2^53 and no double holds it \
             exactly; write an integer without fraction or exponent"
        );
        assert_eq!(err("1e400"), "number 1e400 is out of the range of a double");
        let long = format!(r#"{{"{}\n":1,"{}\n":2}}"#, "x".repeat(80), "x".repeat(80));
        let msg = err(&long);
        assert!(msg.contains("xxx...\"") && !msg.contains('\n'), "{msg}");
    }

    #[test]
    fn borrowed_literals_write_back_as_they_came_and_read_decoded() {
        // Every escape JCS writes itself: the literal is its own canonical form.
        for literal in [
            r#""plain café 😀""#,
            r#""a\"b\\c\bd\fe\nf\rg\th""#,
            r#""\u0000\u0001\u001f\u000b""#,
        ] {
            let value = parse(literal.as_bytes()).unwrap();
            assert_eq!(to_text(&value), literal);
            let decoded: String = serde_json::from_str(literal).unwrap();
            assert_eq!(value.as_str(), Some(decoded.as_str()), "{literal}");
        }
        // Escapes JCS spells otherwise are decoded and written the JCS way.
        for (literal, canonical) in [
            (r#""\/""#, r#""/""#),
            (r#""\u00e9""#, "\"é\""),
            (r#""\u001F""#, r#""\u001f""#),
            (r#""\u000a\u0009""#, r#""\n\t""#),
            (r#""\u0022""#, r#""\"""#),
            (r#""\ud83d\ude00""#, "\"😀\""),
            (r#""\u007f""#, "\"\u{7f}\""),
        ] {
            assert_eq!(to_text(&parse(literal.as_bytes()).unwrap()), canonical);
        }
        assert_eq!(canonical_escape_len(b"\\u001f"), Some(6));
        assert_eq!(canonical_escape_len(b"\\u000d"), None);
        assert_eq!(canonical_escape_len(b"\\u001F"), None);
        assert_eq!(canonical_escape_len(b"\\u0020"), None);
        assert_eq!(canonical_escape_len(b"\\u00"), None);
        assert_eq!(canonical_escape_len(b"\\/"), None);
        // Equality is by value, whatever the spelling.
        let a = parse(br#"{"k":"\u00e9\n"}"#).unwrap();
        let b = parse("{\"k\":\"é\\n\"}".as_bytes()).unwrap();
        assert_eq!(a, b);
        assert_eq!(Json::String("x\ny".into()), parse(br#""x\ny""#).unwrap());
    }
}
