//! Search commands (the RediSearch subset): FT.CREATE, FT.SEARCH, FT.INFO, FT.DROPINDEX,
//! FT._LIST, and MODULE LIST, which names the `search` module clients check for.
//!
//! # Format
//! ```text
//! FT.CREATE index [ON HASH] [PREFIX n p ...] [SCORE s] SCHEMA field type [opts] ...  -> OK
//! FT.SEARCH index query [NOCONTENT] [RETURN n f [AS a] ...] [SORTBY f [ASC|DESC]]
//!           [LIMIT offset num] [PARAMS n name value ...] [DIALECT d] [TIMEOUT ms]
//!     RESP2 -> [total, id, [field, value, ...], ...]
//!     RESP3 -> {attributes, format, results: [{id, extra_attributes, values}], total_results, warning}
//! FT.INFO index            -> index_name, index_definition, attributes, num_docs, ...
//! FT.DROPINDEX index [DD]  -> OK (DD also deletes the indexed hashes)
//! FT._LIST                 -> [index, ...]
//! MODULE LIST              -> [{name: search, ver: 21005, path, args}]
//! ```
//! Errors carry RediSearch's texts without a code (`-Unknown index name`), as modules send them.
//!
//! # ACL
//! As RediSearch 2.x registers them, FT.CREATE, FT.SEARCH, FT.INFO and FT.DROPINDEX take the
//! index name as their key, so it must pass the user's key patterns. And, as RediSearch 8 does,
//! FT.SEARCH, FT.INFO and FT.DROPINDEX also need the user's read patterns (read and write for
//! `DD`) to cover every prefix of the index (`~vec:*` covers `PREFIX 1 vec:`; no prefix means
//! every key), since their replies show or remove hashes under those prefixes.

use super::spec::flag::{FAST, LOADING, STALE};
use super::{args, command, permit, CommandError, CommandSpec, Ctx, Flow, Handler};
use crate::acl::{READ, WRITE};
use crate::cache::Write;
use crate::protocol::{Protocol, Reply};
use crate::search::schema::{self, Algorithm, Kind};
use crate::search::{self, query, text, Budget, Found, Index, Page};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Arc;

/// The RediSearch version llmcached answers for (2.10.5), which clients compare with 20600.
pub const SEARCH_VERSION: i64 = 21005;
/// What a search may read on the event loop, in floats (8 MB of vectors, about a millisecond): a
/// search that needs more is run again on a blocking thread. Most graph searches read a few
/// hundred vectors however many documents there are, and handing one to another thread and
/// back cost more than the walk (docs/BENCHMARKS.md, vector search on a quiet machine).
const INLINE_FLOATS: usize = 2 << 20;

fn coded(text: impl Into<String>) -> CommandError {
    CommandError::coded(text.into())
}

fn index(ctx: &Ctx<'_>, name: &[u8]) -> Option<Arc<Index>> {
    ctx.shared.search.get(name)
}

/// `FT.CREATE index ...`: indexes the hashes already under the prefix, in the background when
/// there are many (FT.INFO's `percent_indexed` shows the progress).
pub fn create(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    if ctx.client.db != 0 {
        return Err(CommandError::err("Cannot create index on db != 0"));
    }
    let def = schema::parse(&a[1], &a[2..]).map_err(coded)?;
    let idx = ctx.shared.search.create(def).map_err(coded)?;
    let entries: Vec<_> = ctx
        .shared
        .store
        .iter()
        .filter(|(k, _)| idx.def.covers(k))
        .collect();
    if entries.len() < search::BACKGROUND_BACKFILL {
        search::backfill(&idx, entries);
    } else {
        idx.set_progress(0.0);
        std::thread::spawn(move || search::backfill(&idx, entries));
    }
    Ok(Reply::Ok)
}

/// `FT.DROPINDEX index [DD]`
pub fn dropindex(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let dd = match a.get(2) {
        None => false,
        Some(x) if args::is(x, "DD") => true,
        Some(_) => return Err(CommandError::Syntax),
    };
    if a.len() > 3 {
        return Err(CommandError::WrongArity("ft.dropindex"));
    }
    let idx = index(ctx, &a[1]).ok_or_else(|| coded("Unknown Index name"))?;
    let perm = if dd { READ | WRITE } else { READ };
    permit::admit_index(ctx, &a[1], &idx.def.prefixes, perm)?;
    let gone = ctx
        .shared
        .search
        .drop_index(&a[1])
        .ok_or_else(|| coded("Unknown Index name"))?;
    if dd {
        for key in gone.keys() {
            ctx.shared.store.write(&key, |cur| match cur {
                Some(_) => (Write::Remove, ()),
                None => (Write::Keep, ()),
            })?;
        }
    }
    Ok(Reply::Ok)
}

/// `FT._LIST`
pub fn list(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    let names = ctx
        .shared
        .search
        .names()
        .into_iter()
        .map(Reply::text)
        .collect();
    Ok(if ctx.client.protocol == Protocol::Resp3 {
        Reply::Set(names)
    } else {
        Reply::Array(names)
    })
}

/// MODULE's subcommands.
#[rustfmt::skip]
pub static MODULE_SUBCOMMANDS: &[CommandSpec] = &[
    crate::sub!("module", "list", 2, FAST | LOADING | STALE, 0, "server", "4.0.0", "", "Returns all loaded modules (the built-in search module).", Handler::Sync(module_list)),
    crate::sub!("module", "help", 2, LOADING | STALE, 0, "server", "5.0.0", "", "Returns helpful text about the different subcommands.", Handler::Sync(command::help)),
];

/// `MODULE LIST`
pub fn module_list(_: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(Reply::Array(vec![Reply::map([
        ("name", Reply::from_static("search")),
        ("ver", Reply::Int(SEARCH_VERSION)),
        ("path", Reply::from_static("built-in")),
        ("args", Reply::Array(Vec::new())),
    ])]))
}

/// Flat pairs in RESP2 (with bare flags such as SORTABLE after them), a map in RESP3.
fn attrs(proto: Protocol, pairs: Vec<(&'static str, Reply)>, flags: Vec<&'static str>) -> Reply {
    if proto == Protocol::Resp3 {
        let mut m: Vec<(Reply, Reply)> = pairs
            .into_iter()
            .map(|(k, v)| (Reply::from_static(k), v))
            .collect();
        m.push((
            Reply::from_static("flags"),
            Reply::Array(flags.into_iter().map(Reply::from_static).collect()),
        ));
        Reply::Map(m)
    } else {
        let mut out = Vec::new();
        for (k, v) in pairs {
            out.push(Reply::from_static(k));
            out.push(v);
        }
        out.extend(flags.into_iter().map(Reply::from_static));
        Reply::Array(out)
    }
}

/// `FT.INFO index`
pub fn info(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let idx = index(ctx, &a[1]).ok_or_else(|| coded("Unknown index name"))?;
    permit::admit_index(ctx, &a[1], &idx.def.prefixes, READ)?;
    let proto = ctx.client.protocol;
    let def = &idx.def;
    let attributes = def
        .fields
        .iter()
        .map(|f| {
            let mut p = vec![
                ("identifier", Reply::text(f.path.clone())),
                ("attribute", Reply::text(f.name.clone())),
            ];
            match &f.kind {
                Kind::Text { weight } => {
                    p.push(("type", Reply::from_static("TEXT")));
                    p.push(("WEIGHT", Reply::text(text::g12(*weight))));
                }
                Kind::Tag { separator, .. } => {
                    p.push(("type", Reply::from_static("TAG")));
                    p.push(("SEPARATOR", Reply::text((*separator as char).to_string())));
                }
                Kind::Numeric => p.push(("type", Reply::from_static("NUMERIC"))),
                Kind::Vector(v) => {
                    p.push(("type", Reply::from_static("VECTOR")));
                    let algo = match v.algorithm {
                        Algorithm::Flat => "FLAT",
                        Algorithm::Hnsw { .. } => "HNSW",
                    };
                    p.push(("algorithm", Reply::from_static(algo)));
                    p.push(("data_type", Reply::from_static("FLOAT32")));
                    p.push(("dim", Reply::Int(v.dim as i64)));
                    p.push(("distance_metric", Reply::from_static(v.metric.name())));
                    if let Algorithm::Hnsw {
                        m, ef_construction, ..
                    } = v.algorithm
                    {
                        p.push(("M", Reply::Int(m as i64)));
                        p.push(("ef_construction", Reply::Int(ef_construction as i64)));
                    }
                }
            }
            let mut flags = Vec::new();
            if f.sortable {
                flags.push("SORTABLE");
            }
            if matches!(
                f.kind,
                Kind::Tag {
                    case_sensitive: true,
                    ..
                }
            ) {
                flags.push("CASESENSITIVE");
            }
            attrs(proto, p, flags)
        })
        .collect();
    let definition = Reply::map([
        ("key_type", Reply::from_static("HASH")),
        (
            "prefixes",
            Reply::Array(def.prefixes.iter().cloned().map(Reply::Bulk).collect()),
        ),
        ("default_score", Reply::text(text::g12(def.score))),
    ]);
    let num_docs = idx.num_docs() as i64;
    let mb = |b: usize| Reply::Double(b as f64 / (1024.0 * 1024.0));
    let indexing = idx.percent_indexed() < 1.0;
    Ok(Reply::map([
        ("index_name", Reply::text(def.name.clone())),
        ("index_options", Reply::Array(Vec::new())),
        ("index_definition", definition),
        ("attributes", Reply::Array(attributes)),
        ("num_docs", Reply::Int(num_docs)),
        ("max_doc_id", Reply::Int(num_docs)),
        ("num_terms", Reply::Int(0)),
        ("num_records", Reply::Int(num_docs)),
        ("vector_index_sz_mb", mb(idx.vector_bytes())),
        ("hash_indexing_failures", Reply::Int(idx.failures() as i64)),
        ("indexing", Reply::Int(indexing as i64)),
        ("percent_indexed", Reply::Double(idx.percent_indexed())),
        ("number_of_uses", Reply::Int(0)),
        ("cleaning", Reply::Int(0)),
    ]))
}

/// What FT.SEARCH's options asked for.
struct Options {
    nocontent: bool,
    /// (name, alias)
    fields: Option<Vec<(Bytes, Bytes)>>,
    page: Page,
    params: HashMap<String, Bytes>,
}

fn count(a: Option<&Bytes>) -> Result<usize, CommandError> {
    let n = args::uint(a.ok_or(CommandError::Syntax)?)
        .map_err(|_| coded("Bad arguments: expected a count"))?;
    Ok(n as usize)
}

fn options(a: &[Bytes]) -> Result<Options, CommandError> {
    let mut o = Options {
        nocontent: false,
        fields: None,
        page: Page {
            limit: 10,
            ..Page::default()
        },
        params: HashMap::new(),
    };
    let mut i = 0;
    while i < a.len() {
        let w = &a[i];
        i += 1;
        if args::is(w, "NOCONTENT") {
            o.nocontent = true;
        } else if ["VERBATIM", "NOSTOPWORDS", "WITHSORTKEYS", "EXPLAINSCORE"]
            .iter()
            .any(|k| args::is(w, k))
        {
        } else if args::is(w, "WITHSCORES") || args::is(w, "WITHPAYLOADS") {
            return Err(coded(format!(
                "{} is not supported",
                String::from_utf8_lossy(w)
            )));
        } else if args::is(w, "RETURN") {
            let n = count(a.get(i))?;
            let list = a
                .get(i + 1..i + 1 + n)
                .ok_or_else(|| coded("Bad arguments for RETURN: not enough fields"))?;
            let mut fields = Vec::new();
            let mut j = 0;
            while j < list.len() {
                if list.get(j + 1).is_some_and(|x| args::is(x, "AS")) {
                    let alias = list
                        .get(j + 2)
                        .ok_or_else(|| coded("Bad arguments for RETURN: AS needs a name"))?;
                    fields.push((list[j].clone(), alias.clone()));
                    j += 3;
                } else {
                    fields.push((list[j].clone(), list[j].clone()));
                    j += 1;
                }
            }
            o.fields = Some(fields);
            i += 1 + n;
        } else if args::is(w, "SORTBY") {
            let f = a
                .get(i)
                .ok_or_else(|| coded("Bad arguments for SORTBY: expected a field"))?;
            let name = String::from_utf8_lossy(f)
                .trim_start_matches('@')
                .to_string();
            i += 1;
            let mut asc = true;
            if let Some(d) = a.get(i) {
                if args::is(d, "ASC") || args::is(d, "DESC") {
                    asc = args::is(d, "ASC");
                    i += 1;
                }
            }
            o.page.sort_by = Some((name, asc));
        } else if args::is(w, "LIMIT") {
            let off = a.get(i).and_then(|x| args::uint(x).ok());
            let num = a.get(i + 1).and_then(|x| args::uint(x).ok());
            let (Some(off), Some(num)) = (off, num) else {
                return Err(coded("Bad arguments for LIMIT: expected offset and number"));
            };
            o.page.offset = off as usize;
            o.page.limit = num as usize;
            i += 2;
        } else if args::is(w, "PARAMS") {
            let n = count(a.get(i))?;
            if !n.is_multiple_of(2) {
                return Err(coded(
                    "Bad arguments for PARAMS: expected an even number of arguments",
                ));
            }
            let list = a
                .get(i + 1..i + 1 + n)
                .ok_or_else(|| coded("Bad arguments for PARAMS: not enough arguments"))?;
            for pair in list.chunks(2) {
                o.params.insert(
                    String::from_utf8_lossy(&pair[0]).into_owned(),
                    pair[1].clone(),
                );
            }
            i += 1 + n;
        } else if args::is(w, "DIALECT")
            || args::is(w, "TIMEOUT")
            || args::is(w, "SCORER")
            || args::is(w, "LANGUAGE")
            || args::is(w, "SLOP")
        {
            a.get(i).ok_or(CommandError::Syntax)?;
            i += 1;
        } else if args::is(w, "INORDER") {
        } else {
            return Err(coded(format!(
                "Unknown argument `{}` at position {}",
                String::from_utf8_lossy(w),
                i + 1
            )));
        }
    }
    Ok(o)
}

/// `FT.SEARCH index query [options]`
pub fn search(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    let name = String::from_utf8_lossy(&a[1]).into_owned();
    let idx = index(ctx, &a[1]).ok_or_else(|| coded(format!("{name}: no such index")))?;
    permit::admit_index(ctx, &a[1], &idx.def.prefixes, READ)?;
    let o = options(&a[3..])?;
    let q = query::parse(&a[2], &o.params).map_err(coded)?;
    let proto = ctx.client.protocol;
    let now = ctx.shared.store.clock().now_ms();
    // A search of a kind that last read more than the budget goes off the loop at once rather
    // than spend the budget first (a filtered KNN over 20k x 1536-d: 266 QPS tried here first,
    // 401 sent straight off).
    if idx.last_cost(&q) <= INLINE_FLOATS {
        let budget = Budget::floats(INLINE_FLOATS);
        let found = idx.search(&q, &o.page, now, &budget).map_err(coded)?;
        idx.note_cost(&q, budget.spent());
        if !budget.exhausted() {
            return Ok(Flow::Reply(reply(proto, &idx, &o, found)));
        }
    }
    Ok(Flow::Wait(Box::pin(async move {
        let run = tokio::task::spawn_blocking(move || {
            let all = Budget::unlimited();
            let found = idx.search(&q, &o.page, now, &all);
            idx.note_cost(&q, all.spent());
            match found {
                Ok(found) => reply(proto, &idx, &o, found),
                Err(e) => Reply::Error(e),
            }
        });
        run.await
            .unwrap_or_else(|_| Reply::err("the search task failed"))
    })))
}

fn reply(proto: Protocol, idx: &Index, o: &Options, found: Found) -> Reply {
    let dist_name = found.yield_as.as_deref();
    let rows: Vec<(Bytes, Vec<(Bytes, Bytes)>)> = found
        .hits
        .into_iter()
        .map(|h| {
            let dist = h.distance.map(|d| Bytes::from(text::g12(d as f64)));
            let mut vals = Vec::new();
            if o.nocontent {
                return (h.key, vals);
            }
            match &o.fields {
                None => {
                    if let (Some(n), Some(d)) = (dist_name, &dist) {
                        vals.push((Bytes::copy_from_slice(n.as_bytes()), d.clone()));
                    }
                    vals.extend(h.hash.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                Some(fields) => {
                    for (f, alias) in fields {
                        if dist_name.is_some_and(|n| n.as_bytes() == f.as_ref()) {
                            if let Some(d) = &dist {
                                vals.push((alias.clone(), d.clone()));
                            }
                            continue;
                        }
                        let name = String::from_utf8_lossy(f);
                        let path = idx
                            .def
                            .field(&name)
                            .map_or(f.clone(), |(_, fd)| Bytes::from(fd.path.clone()));
                        if let Some(v) = h.hash.get(&path) {
                            vals.push((alias.clone(), v.clone()));
                        }
                    }
                }
            }
            (h.key, vals)
        })
        .collect();
    if proto == Protocol::Resp3 {
        let results = rows
            .into_iter()
            .map(|(id, vals)| {
                let mut m = vec![(Reply::from_static("id"), Reply::Bulk(id))];
                if !o.nocontent {
                    let extra = vals
                        .into_iter()
                        .map(|(k, v)| (Reply::Bulk(k), Reply::Bulk(v)))
                        .collect();
                    m.push((Reply::from_static("extra_attributes"), Reply::Map(extra)));
                }
                m.push((Reply::from_static("values"), Reply::Array(Vec::new())));
                Reply::Map(m)
            })
            .collect();
        return Reply::map([
            ("attributes", Reply::Array(Vec::new())),
            ("format", Reply::from_static("STRING")),
            ("results", Reply::Array(results)),
            ("total_results", Reply::Int(found.total as i64)),
            ("warning", Reply::Array(Vec::new())),
        ]);
    }
    let mut out = vec![Reply::Int(found.total as i64)];
    for (id, vals) in rows {
        out.push(Reply::Bulk(id));
        if !o.nocontent {
            out.push(Reply::Array(
                vals.into_iter()
                    .flat_map(|(k, v)| [Reply::Bulk(k), Reply::Bulk(v)])
                    .collect(),
            ));
        }
    }
    Reply::Array(out)
}
