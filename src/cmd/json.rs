//! RedisJSON commands on the root path: JSON.SET, JSON.GET, JSON.MGET, JSON.DEL / JSON.FORGET,
//! JSON.TYPE.
//!
//! Enough of RedisJSON for caches that store one document per key (langchain-redis's
//! `RedisCache` sends `JSON.SET key . <json>` and `JSON.GET key .`). A document is a
//! [`Value::Json`] holding its compact serialisation, validated by serde_json when it is set, so a
//! read of the whole document is a copy-free reply of the stored bytes. Object members keep their
//! order; an integer stays an integer and any other number becomes a double (`1e2` is stored as
//! `100.0`), as in RedisJSON.
//!
//! # Paths
//! Only the root is supported, in both spellings: `.` (RedisJSON's legacy path: replies hold the
//! value itself) and `$` (JSONPath: replies hold the list of matches, here `[value]`). Any other
//! path is refused with [`unsupported_path`]; other JSON.* commands are unknown commands.
//!
//! # Differences from RedisJSON
//! - Errors carry an error code: RedisJSON sends a serde_json parse error bare
//!   (`-expected value at line 1 column 1`) and a key of another type as
//!   `-Existing key has wrong Redis type`; here they are `ERR <serde_json's message>` and
//!   `WRONGTYPE Existing key has wrong Redis type`, which clients branch on.
//! - `JSON.GET ... FORMAT` accepts only `STRING` (the default).

use super::args;
use super::keyspace::{lookup_read, write};
use super::{CommandError, Ctx};
use crate::cache::{Entry, Value, Write};
use crate::protocol::{Protocol, Reply};
use bytes::Bytes;

/// The error for any path but the root.
pub fn unsupported_path() -> CommandError {
    CommandError::err("llmcached supports only the root path ('.' or '$') in JSON commands")
}

/// A key of another type: RedisJSON's text, with the WRONGTYPE code.
fn wrong_json_type() -> CommandError {
    CommandError::coded("WRONGTYPE Existing key has wrong Redis type")
}

/// A root path, in one of its two spellings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Root {
    /// `.`: replies hold the value.
    Legacy,
    /// `$`: replies hold the array of matches.
    JsonPath,
}

fn root(path: &[u8]) -> Result<Root, CommandError> {
    match path {
        b"." => Ok(Root::Legacy),
        b"$" => Ok(Root::JsonPath),
        _ => Err(unsupported_path()),
    }
}

/// The document at `key`: `Ok(None)` if the key is missing, WRONGTYPE if it is not JSON.
fn read_doc(ctx: &Ctx<'_>, key: &[u8]) -> Result<Option<Bytes>, CommandError> {
    match lookup_read(&ctx.shared.store, key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Json(doc) => Ok(Some(doc.clone())),
            _ => Err(wrong_json_type()),
        },
    }
}

/// Validates a document and returns its compact serialisation.
pub fn compact(text: &[u8]) -> Result<Bytes, CommandError> {
    let value: serde_json::Value =
        serde_json::from_slice(text).map_err(|e| CommandError::err(e.to_string()))?;
    serde_json::to_vec(&value)
        .map(Bytes::from)
        .map_err(|e| CommandError::err(e.to_string()))
}

/// `JSON.SET key path json [NX | XX]`: OK, or nil when NX / XX is not met.
///
/// Replacing a document keeps the key's TTL, as RedisJSON does (it swaps the value in place).
pub fn set(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let (mut nx, mut xx) = (false, false);
    for opt in &a[4..] {
        if args::is(opt, "NX") && !nx && !xx {
            nx = true;
        } else if args::is(opt, "XX") && !nx && !xx {
            xx = true;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    root(&a[2])?;
    // Parsed before taking the key's lock; a wrong type still wins over a parse error, as in
    // RedisJSON, which opens the key first.
    let doc = compact(&a[3]);
    write(&ctx.shared.store, &a[1], |cur| {
        if cur.is_some_and(|e| !matches!(e.value, Value::Json(_))) {
            return Err(wrong_json_type());
        }
        let doc = doc?;
        if (nx && cur.is_some()) || (xx && cur.is_none()) {
            return Ok((Write::Keep, Reply::Nil));
        }
        let expire_at = cur.and_then(|e| e.expire_at);
        Ok((
            Write::Put(Entry::new(Value::Json(doc), expire_at)),
            Reply::Ok,
        ))
    })
}

/// How JSON.GET lays out its output: RedisJSON's INDENT / NEWLINE / SPACE options.
#[derive(Debug, Default, Clone, Copy)]
struct Layout<'a> {
    indent: Option<&'a [u8]>,
    newline: Option<&'a [u8]>,
    space: Option<&'a [u8]>,
}

impl Layout<'_> {
    fn is_compact(&self) -> bool {
        self.indent.is_none() && self.newline.is_none() && self.space.is_none()
    }
}

/// Writes `value` in RedisJSON's layout: before each member of a non-empty array or object, and
/// before its closing bracket, NEWLINE then INDENT once per level; SPACE after each `:`. Empty
/// containers stay `[]` / `{}`. Scalars are written by serde_json (escaping, number text).
fn write_laid_out(value: &serde_json::Value, layout: Layout<'_>, depth: usize, out: &mut Vec<u8>) {
    use serde_json::Value as J;
    let line = |out: &mut Vec<u8>, depth: usize| {
        if let Some(n) = layout.newline {
            out.extend_from_slice(n);
        }
        if let Some(i) = layout.indent {
            for _ in 0..depth {
                out.extend_from_slice(i);
            }
        }
    };
    match value {
        J::Array(items) if !items.is_empty() => {
            out.push(b'[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                line(out, depth + 1);
                write_laid_out(item, layout, depth + 1, out);
            }
            line(out, depth);
            out.push(b']');
        }
        J::Object(members) if !members.is_empty() => {
            out.push(b'{');
            for (n, (k, v)) in members.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                line(out, depth + 1);
                // Writing into memory fails only on IO errors, which a Vec has none of.
                let _ = serde_json::to_writer(&mut *out, k);
                out.push(b':');
                if let Some(s) = layout.space {
                    out.extend_from_slice(s);
                }
                write_laid_out(v, layout, depth + 1, out);
            }
            line(out, depth);
            out.push(b'}');
        }
        other => {
            let _ = serde_json::to_writer(&mut *out, other);
        }
    }
}

fn render(value: &serde_json::Value, layout: Layout<'_>) -> Bytes {
    let mut out = Vec::new();
    write_laid_out(value, layout, 0, &mut out);
    Bytes::from(out)
}

/// The reply for one root path of a stored document.
fn get_one(doc: &Bytes, path: Root, layout: Layout<'_>) -> Result<Bytes, CommandError> {
    if layout.is_compact() {
        // The stored text is already the compact serialisation.
        return Ok(match path {
            Root::Legacy => doc.clone(),
            Root::JsonPath => {
                let mut out = Vec::with_capacity(doc.len() + 2);
                out.push(b'[');
                out.extend_from_slice(doc);
                out.push(b']');
                Bytes::from(out)
            }
        });
    }
    let value = parse_stored(doc)?;
    Ok(match path {
        Root::Legacy => render(&value, layout),
        Root::JsonPath => render(&serde_json::Value::Array(vec![value]), layout),
    })
}

fn parse_stored(doc: &[u8]) -> Result<serde_json::Value, CommandError> {
    serde_json::from_slice(doc)
        .map_err(|e| CommandError::err(format!("stored document unreadable: {e}")))
}

/// Takes the value of a JSON.GET layout option; a missing one is an arity error, as in RedisJSON.
fn option_value<'a>(
    value: Option<&'a Bytes>,
    slot: &mut Option<&'a [u8]>,
) -> Result<usize, CommandError> {
    let v = value.ok_or(CommandError::WrongArity("json.get"))?;
    *slot = Some(v.as_ref());
    Ok(2)
}

/// `JSON.GET key [INDENT s] [NEWLINE s] [SPACE s] [NOESCAPE] [FORMAT STRING] [path ...]`
///
/// No path means `.`. One path replies with that path's output; several reply with an object
/// from each path to its output, where every output is an array of matches as soon as one path
/// is a `$` path (RedisJSON's rule). The same in RESP2 and RESP3, as RedisJSON's default
/// `FORMAT STRING`.
pub fn get(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let mut layout: Layout<'_> = Layout::default();
    let mut paths: Vec<(&Bytes, Root)> = Vec::new();
    let mut i = 2;
    while i < a.len() {
        let arg = &a[i];
        let value = a.get(i + 1);
        let step = if args::is(arg, "INDENT") {
            option_value(value, &mut layout.indent)
        } else if args::is(arg, "NEWLINE") {
            option_value(value, &mut layout.newline)
        } else if args::is(arg, "SPACE") {
            option_value(value, &mut layout.space)
        } else if args::is(arg, "NOESCAPE") {
            // Accepted and ignored, as RedisJSON does (a ReJSON 1.0 option).
            Ok(1)
        } else if args::is(arg, "FORMAT") {
            match value {
                None => Err(CommandError::WrongArity("json.get")),
                Some(v) if args::is(v, "STRING") => Ok(2),
                Some(_) => Err(CommandError::err(
                    "llmcached supports only FORMAT STRING in JSON.GET",
                )),
            }
        } else {
            root(arg).map(|r| {
                paths.push((arg, r));
                1
            })
        };
        i += step?;
    }
    let Some(doc) = read_doc(ctx, &a[1])? else {
        return Ok(Reply::Nil);
    };
    let out = match paths.as_slice() {
        [] => get_one(&doc, Root::Legacy, layout),
        [(_, path)] => get_one(&doc, *path, layout),
        many => get_many(&doc, many, layout),
    };
    out.map(Reply::Bulk)
}

fn get_many(
    doc: &[u8],
    paths: &[(&Bytes, Root)],
    layout: Layout<'_>,
) -> Result<Bytes, CommandError> {
    let value = parse_stored(doc)?;
    let legacy = paths.iter().all(|(_, r)| *r == Root::Legacy);
    let mut out = serde_json::Map::new();
    for (name, _) in paths {
        let v = if legacy {
            value.clone()
        } else {
            serde_json::Value::Array(vec![value.clone()])
        };
        out.insert(String::from_utf8_lossy(name).into_owned(), v);
    }
    Ok(render(&serde_json::Value::Object(out), layout))
}

/// `JSON.MGET key [key ...] path`: one reply per key, nil for a missing key or one holding
/// another type.
pub fn mget(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let (keys, path) = a[1..].split_at(a.len() - 2);
    let path = root(&path[0])?;
    let store = &ctx.shared.store;
    Ok(Reply::Array(
        keys.iter()
            .map(
                |k| match lookup_read(store, k).as_deref().map(|e| &e.value) {
                    Some(Value::Json(doc)) => {
                        get_one(doc, path, Layout::default()).map_or_else(Reply::from, Reply::Bulk)
                    }
                    _ => Reply::Nil,
                },
            )
            .collect(),
    ))
}

/// `JSON.DEL key [path]` and `JSON.FORGET key [path]`: 1 if the document was deleted, 0 if the
/// key was missing. Arguments after the path are ignored, as RedisJSON does.
pub fn del(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    if let Some(p) = a.get(2) {
        root(p)?;
    }
    write(&ctx.shared.store, &a[1], |cur| match cur {
        None => Ok((Write::Keep, Reply::Int(0))),
        Some(e) if matches!(e.value, Value::Json(_)) => Ok((Write::Remove, Reply::Int(1))),
        Some(_) => Err(wrong_json_type()),
    })
}

/// The JSON type name of a compact document's root, read from its first bytes.
fn type_name(doc: &[u8]) -> &'static str {
    match doc.first() {
        Some(b'{') => "object",
        Some(b'[') => "array",
        Some(b'"') => "string",
        Some(b't' | b'f') => "boolean",
        Some(b'n') => "null",
        // A number: RedisJSON stores one with a fraction or an exponent as a double.
        _ if doc.iter().any(|c| matches!(c, b'.' | b'e' | b'E')) => "number",
        _ => "integer",
    }
}

/// `JSON.TYPE key [path]`: the root's type (`object`, `array`, `string`, `integer`, `number`,
/// `boolean`, `null`); with `$`, an array of it; nil for a missing key. RESP3 wraps the reply in
/// one more array, as RedisJSON does.
pub fn type_(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let path = a.get(2).map_or(Ok(Root::Legacy), |p| root(p))?;
    let reply = match read_doc(ctx, &a[1])? {
        None => Reply::Nil,
        Some(doc) => match path {
            Root::Legacy => Reply::from_static(type_name(&doc)),
            Root::JsonPath => Reply::Array(vec![Reply::Simple(type_name(&doc))]),
        },
    };
    Ok(match ctx.client.protocol {
        Protocol::Resp3 => Reply::Array(vec![reply]),
        Protocol::Resp2 => reply,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(r: Result<Bytes, CommandError>) -> String {
        String::from_utf8(r.unwrap().to_vec()).unwrap()
    }

    #[test]
    fn documents_are_stored_compact_in_member_order() {
        let doc = compact(br#" { "b" : [1, 2.50, 1e2, -3], "a" : {"x": null} } "#).unwrap();
        assert_eq!(&doc[..], br#"{"b":[1,2.5,100.0,-3],"a":{"x":null}}"#);
    }

    #[test]
    fn invalid_json_has_serde_jsons_message() {
        assert_eq!(
            compact(b"{").unwrap_err(),
            CommandError::err("EOF while parsing an object at line 1 column 1")
        );
        assert!(compact(b"{\"a\":1} x").is_err());
        assert!(compact(b"").is_err());
    }

    #[test]
    fn root_paths_only() {
        assert_eq!(root(b"."), Ok(Root::Legacy));
        assert_eq!(root(b"$"), Ok(Root::JsonPath));
        for p in [&b"$.a"[..], b".a", b"a", b"", b"$$"] {
            assert_eq!(root(p), Err(unsupported_path()));
        }
    }

    #[test]
    fn json_path_output_is_wrapped_in_an_array() {
        let doc = Bytes::from_static(br#"{"a":1}"#);
        let compact = Layout::default();
        assert_eq!(show(get_one(&doc, Root::Legacy, compact)), r#"{"a":1}"#);
        assert_eq!(show(get_one(&doc, Root::JsonPath, compact)), r#"[{"a":1}]"#);
    }

    #[test]
    fn layout_options_follow_redisjson() {
        let doc = Bytes::from_static(br#"{"a":[1,{}],"b":"x"}"#);
        let layout = Layout {
            indent: Some(b"\t"),
            newline: Some(b"\n"),
            space: Some(b" "),
        };
        assert_eq!(
            show(get_one(&doc, Root::Legacy, layout)),
            "{\n\t\"a\": [\n\t\t1,\n\t\t{}\n\t],\n\t\"b\": \"x\"\n}"
        );
        let space_only = Layout {
            space: Some(b" "),
            ..Layout::default()
        };
        assert_eq!(
            show(get_one(&doc, Root::JsonPath, space_only)),
            r#"[{"a": [1,{}],"b": "x"}]"#
        );
    }

    #[test]
    fn several_paths_make_an_object() {
        let doc = br#"{"a":1}"#;
        let dot = Bytes::from_static(b".");
        let dollar = Bytes::from_static(b"$");
        let legacy = [(&dot, Root::Legacy), (&dot, Root::Legacy)];
        assert_eq!(
            show(get_many(doc, &legacy, Layout::default())),
            r#"{".":{"a":1}}"#
        );
        let mixed = [(&dollar, Root::JsonPath), (&dot, Root::Legacy)];
        assert_eq!(
            show(get_many(doc, &mixed, Layout::default())),
            r#"{"$":[{"a":1}],".":[{"a":1}]}"#
        );
    }

    #[test]
    fn type_names() {
        for (doc, name) in [
            (&b"{}"[..], "object"),
            (b"[1]", "array"),
            (b"\"s\"", "string"),
            (b"true", "boolean"),
            (b"false", "boolean"),
            (b"null", "null"),
            (b"-12", "integer"),
            (b"1.5", "number"),
            (b"1e3", "number"),
        ] {
            assert_eq!(type_name(doc), name);
        }
    }
}
