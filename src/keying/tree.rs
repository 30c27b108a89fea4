//! The request as the keying reads it, and its canonical (RFC 8785) writer.
//!
//! `serde_json::Value` cannot be used for keying: it rounds integers beyond 2^64 (and, through
//! RFC 8785, beyond 2^53) and silently keeps the last of two members with one name. This tree
//! is built by the parser (`parse.rs`) and keeps:
//! - numbers as their canonical text ([`super::number`]), so integer literals stay exact;
//! - objects with unique member names, held **sorted in canonical order** (UTF-16 code units,
//!   RFC 8785 §3.2.3): lookups are binary searches and writing needs no sort.
//!
//! # Invariants
//! - The names of an [`Object`] are unique and sorted by [`cmp_utf16`]; every method that
//!   adds a member keeps it so.
//! - Two trees are equal (`==`) exactly when they write the same canonical bytes.

use std::cmp::Ordering;

use super::canonical::{cmp_utf16, write_string, Sink};
use super::number::Num;

/// A JSON value (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(Num),
    String(String),
    Array(Vec<Json>),
    Object(Object),
}

impl Json {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Json>> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Json>> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Json::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut Object> {
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
    pub fn get(&self, name: &str) -> Option<&Json> {
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
pub struct Object {
    members: Vec<(String, Json)>,
}

impl Object {
    /// Builds an object from members in any order; `Err(name)` names a duplicate.
    pub fn from_members(mut members: Vec<(String, Json)>) -> Result<Object, String> {
        // Equal names end up adjacent, so the duplicate check is one pass.
        members.sort_unstable_by(|a, b| cmp_utf16(&a.0, &b.0));
        if let Some(pair) = members.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(pair[0].0.clone());
        }
        Ok(Object { members })
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.members.binary_search_by(|(k, _)| cmp_utf16(k, name))
    }

    pub fn get(&self, name: &str) -> Option<&Json> {
        self.find(name).ok().map(|i| &self.members[i].1)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Json> {
        self.find(name).ok().map(|i| &mut self.members[i].1)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    pub fn remove(&mut self, name: &str) -> Option<Json> {
        self.find(name).ok().map(|i| self.members.remove(i).1)
    }

    /// Sets `name` to `value`, returning the value it replaces.
    pub fn insert(&mut self, name: String, value: Json) -> Option<Json> {
        match self.find(&name) {
            Ok(i) => Some(std::mem::replace(&mut self.members[i].1, value)),
            Err(i) => {
                self.members.insert(i, (name, value));
                None
            }
        }
    }

    /// Removes `name` when its value satisfies `pred`.
    pub fn remove_if(&mut self, name: &str, pred: impl FnOnce(&Json) -> bool) {
        if let Ok(i) = self.find(name) {
            if pred(&self.members[i].1) {
                self.members.remove(i);
            }
        }
    }

    /// Members in canonical order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Json)> {
        self.members.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Values in canonical order of their names.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Json> {
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
        Json::String(s) => write_string(s, out),
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
    for (name, value) in map.iter().filter(|(k, _)| !skip(k)) {
        if !first {
            out.put(b",");
        }
        first = false;
        write_string(name, out);
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

    fn s(v: &str) -> Json {
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
