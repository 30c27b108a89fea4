//! Why a request body is not a keyable JSON text, and how the parser's errors read.

use std::fmt;

use crate::keying::canonical::write_string;
use crate::keying::number::NumberError;

/// Why a body is not a keyable JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not JSON: what was expected, and where (1-based line, column as `serde_json` counts).
    Syntax {
        msg: &'static str,
        line: usize,
        column: usize,
    },
    /// An object has two members named `name`; `path` is the object's JSON Pointer.
    Duplicate { name: String, path: String },
    /// A number has no canonical form; `path` is its JSON Pointer.
    Number { error: NumberError, path: String },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Syntax { msg, line, column } => write!(
                f,
                "request is not valid JSON: {msg} at line {line} column {column}"
            ),
            ParseError::Duplicate { name, path } => write!(
                f,
                "request has two members named {} {}; providers differ in which one they read",
                quoted(name),
                where_(path)
            ),
            ParseError::Number { error, path } => {
                // "number X is ..." -> "number X (at /p) is ..."
                let text = error.to_string();
                match text.split_once(" is ") {
                    Some((head, tail)) if !path.is_empty() => {
                        write!(f, "{head} (at {path}) is {tail}")
                    }
                    _ => f.write_str(&text),
                }
            }
        }
    }
}

impl std::error::Error for ParseError {}

fn where_(path: &str) -> String {
    if path.is_empty() {
        "at the top level".to_owned()
    } else {
        format!("in {path}")
    }
}

/// `name` as a JSON string, cut to a readable length; never holds a raw CR or LF.
pub(crate) fn quoted(name: &str) -> String {
    let mut cut = name.len().min(64);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut out = Vec::new();
    write_string(&name[..cut], &mut out);
    let mut text = String::from_utf8(out).unwrap_or_default();
    if cut < name.len() {
        text.insert_str(text.len() - 1, "...");
    }
    text
}

/// One step of a path into the request.
pub(super) enum Segment {
    Index(usize),
    Name(String),
}

/// RFC 6901 JSON Pointer of `path` (innermost last in `path`), cut to a readable length; names
/// are escaped as JSON strings are, so the pointer has no raw control characters.
pub(super) fn pointer(path: Vec<Segment>) -> String {
    let mut out = String::new();
    for seg in path.into_iter().rev() {
        out.push('/');
        match seg {
            Segment::Index(i) => out.push_str(&i.to_string()),
            Segment::Name(n) => {
                let q = quoted(&n.replace('~', "~0").replace('/', "~1"));
                out.push_str(&q[1..q.len() - 1]);
            }
        }
        if out.len() > 120 {
            out.push_str("/...");
            break;
        }
    }
    out
}

pub(super) fn syntax_at(bytes: &[u8], at: usize, msg: &'static str, eof: bool) -> ParseError {
    let before = &bytes[..at.min(bytes.len())];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    // serde_json counts the characters consumed on the line: the offending one included,
    // or all of them at the end of the input.
    let column = if eof {
        before.len() - line_start
    } else {
        before.len() - line_start + 1
    };
    ParseError::Syntax { msg, line, column }
}
