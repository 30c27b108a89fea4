//! The request as the keying reads it, and its canonical (RFC 8785) writer.
//!
//! `serde_json::Value` cannot be used for keying: it rounds integers beyond 2^64 (and, through
//! RFC 8785, beyond 2^53) and silently keeps the last of two members with one name. This tree
//! is built by the parser (`parse.rs`) and keeps:
//! - numbers as their canonical text ([`super::number`]), so integer literals stay exact;
//! - objects with unique member names, held **sorted in canonical order** (UTF-16 code units,
//!   RFC 8785 §3.2.3): lookups are binary searches and writing needs no sort;
//! - strings as [`Text`]: a string literal whose escape sequences (if any) are spelled as JCS
//!   spells them is borrowed from the request bytes and written back verbatim: no allocation
//!   and no escape scan for nearly every string of a request.
//!
//! # Invariants
//! - The names of an [`Object`] are unique and sorted by [`cmp_utf16`]; every method that
//!   adds a member keeps it so.
//! - Two trees are equal (`==`) exactly when they write the same canonical bytes.

use std::cell::OnceCell;
use std::cmp::Ordering;
use std::fmt;
use std::ops::Deref;

use super::canonical::{cmp_utf16, write_string, Sink};
use super::number::Num;

/// A JSON value (see the module docs); `'a` is the lifetime of the request bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    Number(Num),
    String(Text<'a>),
    Array(Vec<Json<'a>>),
    Object(Object<'a>),
}

/// A string value or member name.
///
/// # Invariant
/// A borrowed `Text` is the inside of a string literal of the request whose canonical (JCS)
/// form is that literal itself: it has no escape sequence ([`Text::verbatim`]), or only the
/// escapes JCS writes (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, and lowercase `\u00xx`
/// for the other C0 controls: [`Text::canonical`]). It is written as it came and decoded only
/// when read. Only the parser borrows; every other `Text` is owned and escaped when written.
#[derive(Clone)]
pub struct Text<'a>(Repr<'a>);

/// The literals are held with their quotes, so writing one is a single piece of output.
#[derive(Clone)]
enum Repr<'a> {
    /// No escape sequence: the literal is the value.
    Plain(&'a str),
    /// Only JCS-spelled escapes; `value` is decoded on first read.
    Escaped {
        literal: &'a str,
        value: OnceCell<String>,
    },
    Owned(String),
}

impl<'a> Text<'a> {
    /// A string literal, quotes included, that has no escape sequence.
    pub(super) fn verbatim(literal: &'a str) -> Text<'a> {
        debug_assert!(literal.len() >= 2 && literal.starts_with('"') && literal.ends_with('"'));
        debug_assert!(super::canonical::next_escape(literal.as_bytes(), 1) == literal.len() - 1);
        Text(Repr::Plain(literal))
    }

    /// A string literal, quotes included, whose escapes are all spelled as JCS writes them
    /// (checked by the parser with [`canonical_escape_len`]).
    pub(super) fn canonical(literal: &'a str) -> Text<'a> {
        debug_assert!(literal.len() >= 2 && literal.starts_with('"') && literal.ends_with('"'));
        Text(Repr::Escaped {
            literal,
            value: OnceCell::new(),
        })
    }

    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Plain(literal) => unquote(literal),
            Repr::Escaped { literal, value } => {
                value.get_or_init(|| decode_canonical(unquote(literal)))
            }
            Repr::Owned(s) => s,
        }
    }

    /// Writes the canonical (JCS) form, with its quotes.
    #[inline]
    pub fn write<S: Sink>(&self, out: &mut S) {
        match &self.0 {
            Repr::Plain(literal) | Repr::Escaped { literal, .. } => out.put(literal.as_bytes()),
            Repr::Owned(s) => write_string(s, out),
        }
    }
}

/// The inside of a literal held with its (ASCII) quotes.
#[inline]
fn unquote(literal: &str) -> &str {
    literal
        .get(1..literal.len().saturating_sub(1))
        .unwrap_or_default()
}

/// The length of the escape sequence at the start of `bytes` (which starts with `\`) when JCS
/// writes its character with the same sequence, else `None`.
pub(super) fn canonical_escape_len(bytes: &[u8]) -> Option<usize> {
    match bytes.get(1)? {
        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => Some(2),
        b'u' => {
            let [b'0', b'0', high @ (b'0' | b'1'), low] = *bytes.get(2..6)? else {
                return None;
            };
            let low = match low {
                b'0'..=b'9' => low - b'0',
                b'a'..=b'f' => low - b'a' + 10,
                _ => return None,
            };
            let unit = ((high - b'0') << 4) | low;
            // These five have a short escape, which is what JCS writes.
            (!matches!(unit, 0x08 | 0x09 | 0x0A | 0x0C | 0x0D)).then_some(6)
        }
        _ => None,
    }
}

/// Decodes a literal accepted by [`Text::canonical`].
fn decode_canonical(literal: &str) -> String {
    let mut out = String::with_capacity(literal.len());
    let mut rest = literal;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let seq = &rest.as_bytes()[at..];
        let (c, len) = match seq.get(1) {
            Some(b'"') => ('"', 2),
            Some(b'\\') => ('\\', 2),
            Some(b'b') => ('\u{8}', 2),
            Some(b'f') => ('\u{c}', 2),
            Some(b'n') => ('\n', 2),
            Some(b'r') => ('\r', 2),
            Some(b't') => ('\t', 2),
            // `\u00xx`, xx lowercase hex below 0x20 (checked by the parser).
            _ => {
                let hex = rest.get(at + 4..at + 6).unwrap_or("0");
                let unit = u8::from_str_radix(hex, 16).unwrap_or(0);
                (char::from(unit), 6)
            }
        };
        out.push(c);
        rest = rest.get(at + len..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

impl PartialEq for Text<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text<'_> {}

impl Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for Text<'_> {
    fn from(s: String) -> Self {
        Text(Repr::Owned(s))
    }
}

impl From<&str> for Text<'_> {
    fn from(s: &str) -> Self {
        Text(Repr::Owned(s.to_owned()))
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<'a> Json<'a> {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Json<'a>>> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Json<'a>>> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Object<'a>> {
        match self {
            Json::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut Object<'a>> {
        match self {
            Json::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The number's double value, for numbers only.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Number(n) => Some(n.as_f64()),
            _ => None,
        }
    }

    /// The member `name` when this is an object.
    pub fn get(&self, name: &str) -> Option<&Json<'a>> {
        self.as_object().and_then(|o| o.get(name))
    }

    /// Whether this is the string `s`.
    pub fn is_str(&self, s: &str) -> bool {
        self.as_str() == Some(s)
    }

    /// Whether this is a number equal to `v` (any spelling: `1`, `1.0`, `1e0`).
    pub fn is_number(&self, v: f64) -> bool {
        self.as_f64() == Some(v)
    }
}

/// A JSON object: unique names in canonical order (see the module invariants).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Object<'a> {
    members: Vec<(Text<'a>, Json<'a>)>,
}

impl<'a> Object<'a> {
    /// Builds an object from members in any order; `Err(name)` names a duplicate.
    pub fn from_members(members: Vec<(String, Json<'a>)>) -> Result<Object<'a>, String> {
        Object::from_parsed(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// [`Object::from_members`] for members whose names are [`Text`] already (the parser's).
    pub(super) fn from_parsed(
        mut members: Vec<(Text<'a>, Json<'a>)>,
    ) -> Result<Object<'a>, String> {
        // Equal names end up adjacent, so the duplicate check is one pass.
        members.sort_unstable_by(|a, b| cmp_utf16(&a.0, &b.0));
        if let Some(pair) = members.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(pair[0].0.as_str().to_owned());
        }
        Ok(Object { members })
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.members.binary_search_by(|(k, _)| cmp_utf16(k, name))
    }

    /// The index of `name`. Request objects are small (a message, a content part, a tool),
    /// where comparing the names for equality one by one beats a binary search by order.
    #[inline]
    fn position(&self, name: &str) -> Option<usize> {
        if self.members.len() <= 8 {
            self.members.iter().position(|(k, _)| k.as_str() == name)
        } else {
            self.find(name).ok()
        }
    }

    pub fn get(&self, name: &str) -> Option<&Json<'a>> {
        self.position(name).map(|i| &self.members[i].1)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Json<'a>> {
        self.position(name).map(|i| &mut self.members[i].1)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    pub fn remove(&mut self, name: &str) -> Option<Json<'a>> {
        self.position(name).map(|i| self.members.remove(i).1)
    }

    /// Sets `name` to `value`, returning the value it replaces.
    pub fn insert(&mut self, name: String, value: Json<'a>) -> Option<Json<'a>> {
        match self.find(&name) {
            Ok(i) => Some(std::mem::replace(&mut self.members[i].1, value)),
            Err(i) => {
                self.members.insert(i, (name.into(), value));
                None
            }
        }
    }

    /// Removes `name` when its value satisfies `pred`.
    pub fn remove_if(&mut self, name: &str, pred: impl FnOnce(&Json<'a>) -> bool) {
        if let Some(i) = self.position(name) {
            if pred(&self.members[i].1) {
                self.members.remove(i);
            }
        }
    }

    /// Members in canonical order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Json<'a>)> {
        self.members.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Members in canonical order, names as [`Text`] (for the writer).
    fn entries(&self) -> impl Iterator<Item = &(Text<'a>, Json<'a>)> {
        self.members.iter()
    }

    /// Values in canonical order of their names.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Json<'a>> {
        self.members.iter_mut().map(|(_, v)| v)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|(k, _)| k.as_str())
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

/// Writes the canonical form of `value`.
pub fn write<S: Sink>(value: &Json, out: &mut S) {
    match value {
        Json::Null => out.put(b"null"),
        Json::Bool(true) => out.put(b"true"),
        Json::Bool(false) => out.put(b"false"),
        Json::Number(n) => out.put(n.text().as_bytes()),
        Json::String(s) => s.write(out),
        Json::Array(items) => {
            out.put(b"[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.put(b",");
                }
                write(item, out);
            }
            out.put(b"]");
        }
        Json::Object(map) => write_object_without(map, |_| false, out),
    }
}

/// Writes the canonical form of `map` without the members whose name `skip` accepts; this is
/// how `model` and per-call fields are left out without copying the request.
pub fn write_object_without<S: Sink>(map: &Object, skip: impl Fn(&str) -> bool, out: &mut S) {
    out.put(b"{");
    let mut first = true;
    for (name, value) in map.entries().filter(|(k, _)| !skip(k)) {
        if !first {
            out.put(b",");
        }
        first = false;
        name.write(out);
        out.put(b":");
        write(value, out);
    }
    out.put(b"}");
}

/// Canonical text of `value`.
pub fn to_text(value: &Json) -> String {
    let mut out = Vec::new();
    write(value, &mut out);
    // Built from ASCII punctuation, ASCII number text and whole `&str`s.
    String::from_utf8(out).unwrap_or_default()
}

/// Orders two values by their canonical text (for sorting unordered lists).
pub fn cmp_canonical(a: &Json, b: &Json) -> Ordering {
    to_text(a).cmp(&to_text(b))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn s(v: &str) -> Json<'static> {
        Json::String(v.into())
    }

    #[test]
    fn objects_stay_sorted_and_unique() {
        let mut o = Object::from_members(vec![
            ("b".into(), s("1")),
            ("\u{fb33}".into(), s("2")),
            ("\u{1f600}".into(), s("3")),
            ("a".into(), s("4")),
        ])
        .unwrap();
        assert_eq!(
            o.keys().collect::<Vec<_>>(),
            ["a", "b", "\u{1f600}", "\u{fb33}"]
        );
        assert_eq!(o.insert("ab".into(), Json::Null), None);
        assert_eq!(o.insert("b".into(), Json::Null), Some(s("1")));
        assert_eq!(o.remove("a"), Some(s("4")));
        assert_eq!(
            o.keys().collect::<Vec<_>>(),
            ["ab", "b", "\u{1f600}", "\u{fb33}"]
        );
        assert!(o.contains_key("\u{fb33}") && !o.contains_key("a"));
        let dup = Object::from_members(vec![("x".into(), Json::Null), ("x".into(), Json::Null)]);
        assert_eq!(dup.unwrap_err(), "x");
    }

    #[test]
    fn writer_skips_members() {
        let o = Object::from_members(vec![
            ("c".into(), Json::Bool(true)),
            ("a".into(), Json::Array(vec![Json::Null, s("\n")])),
            ("b".into(), Json::Null),
        ])
        .unwrap();
        let mut out = Vec::new();
        write_object_without(&o, |k| k == "b", &mut out);
        assert_eq!(out, br#"{"a":[null,"\n"],"c":true}"#);
        assert_eq!(
            to_text(&Json::Object(o)),
            r#"{"a":[null,"\n"],"b":null,"c":true}"#
        );
    }
}
