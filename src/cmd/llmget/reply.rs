//! The reply of a read: the plain value (or LLMLOOKUP's `[key, value]`), or the META map
//! `status, value, age_ms, fresh_ms, gen, tokens` (with a first `key` pair for LLMLOOKUP), a
//! RESP3 map or a flat RESP2 array.

use crate::cache::fresh::Limits;
use crate::cache::{Entry, Value};
use crate::protocol::Reply;
use bytes::Bytes;

/// How the reply is shaped: plain or META, and for LLMLOOKUP with the key.
#[derive(Clone)]
pub(super) struct Shape {
    pub meta: bool,
    /// LLMLOOKUP's key: `[key, reply]` plain, a first `key` pair with META.
    pub key: Option<Bytes>,
}

/// One answer as META describes it.
pub(super) struct Meta {
    pub status: &'static str,
    pub value: Option<Bytes>,
    pub age_ms: i64,
    /// `None`: the answer never goes stale.
    pub fresh_ms: Option<i64>,
    pub gen: u64,
    pub tokens: u64,
}

impl Meta {
    pub fn of(
        status: &'static str,
        e: Option<&Entry>,
        limits: &Limits,
        now: u64,
        gen: u64,
    ) -> Meta {
        let value = e.and_then(|e| match &e.value {
            Value::Str(v) => Some(v.clone()),
            _ => None,
        });
        Meta {
            status,
            age_ms: e.map_or(-1, |e| e.age_ms(now).min(i64::MAX as u64) as i64),
            fresh_ms: match e {
                Some(e) => match limits.fresh_ms(e, now) {
                    i64::MAX => None,
                    ms => Some(ms),
                },
                None => Some(-1),
            },
            tokens: e.map_or(0, |e| e.tokens),
            value,
            gen,
        }
    }
}

impl Shape {
    /// A successful read's reply. Errors are sent as they are, in either shape.
    pub fn reply(&self, r: Reply, meta: impl FnOnce() -> Meta) -> Reply {
        if !self.meta {
            return match &self.key {
                Some(k) => Reply::Array(vec![Reply::Bulk(k.clone()), r]),
                None => r,
            };
        }
        let m = meta();
        let mut pairs = Vec::with_capacity(7);
        if let Some(k) = &self.key {
            pairs.push((Reply::from_static("key"), Reply::Bulk(k.clone())));
        }
        let int = |n: i64| Reply::Int(n);
        pairs.extend([
            (Reply::from_static("status"), Reply::from_static(m.status)),
            (
                Reply::from_static("value"),
                m.value.map_or(Reply::Nil, Reply::Bulk),
            ),
            (Reply::from_static("age_ms"), int(m.age_ms)),
            (
                Reply::from_static("fresh_ms"),
                m.fresh_ms.map_or(Reply::Nil, int),
            ),
            (Reply::from_static("gen"), int(m.gen as i64)),
            (Reply::from_static("tokens"), int(m.tokens as i64)),
        ]);
        Reply::Map(pairs)
    }
}
