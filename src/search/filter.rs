//! Documents as an index sees them ([`Doc`], built from a hash) and the filter a query compiles
//! to ([`Plan`]): field names resolved to schema positions once, then evaluated per document.

use super::query::{Bound, Node};
use super::schema::{IndexDef, Kind};
use super::text;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Arc;

/// What one schema field holds in one document.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Missing,
    /// Tag values, lower-cased unless the field is CASESENSITIVE.
    Tags(Vec<String>),
    Num(f64),
    /// Sorted, de-duplicated tokens.
    Text(Vec<String>),
    /// The vector lives in the field's vector store.
    Vector,
}

/// One indexed hash.
#[derive(Debug, Clone)]
pub struct Doc {
    pub key: Bytes,
    /// The hash itself, shared with the store's entry (RETURN and SORTBY read it).
    pub hash: Arc<HashMap<Bytes, Bytes>>,
    pub expire_at: Option<u64>,
    /// By schema position.
    pub values: Vec<Value>,
}

/// Why a hash could not be indexed (counted in `hash_indexing_failures`).
#[derive(Debug)]
pub struct Failure;

/// The document for `hash`, and the decoded vectors by schema position. A vector of the wrong
/// length fails the whole document, as in RediSearch.
#[allow(clippy::type_complexity)]
pub fn build(
    def: &IndexDef,
    key: &Bytes,
    hash: &Arc<HashMap<Bytes, Bytes>>,
    expire_at: Option<u64>,
) -> Result<(Doc, Vec<(usize, Vec<f32>)>), Failure> {
    let mut values = Vec::with_capacity(def.fields.len());
    let mut vectors = Vec::new();
    for (i, f) in def.fields.iter().enumerate() {
        let Some(raw) = hash.get(f.path.as_bytes()) else {
            values.push(Value::Missing);
            continue;
        };
        let s = || String::from_utf8_lossy(raw);
        values.push(match &f.kind {
            Kind::Text { .. } => {
                let mut t: Vec<String> = text::tokens(&s()).collect();
                t.sort_unstable();
                t.dedup();
                Value::Text(t)
            }
            Kind::Tag {
                separator,
                case_sensitive,
            } => Value::Tags(
                s().split(*separator as char)
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(|t| {
                        if *case_sensitive {
                            t.to_string()
                        } else {
                            t.to_lowercase()
                        }
                    })
                    .collect(),
            ),
            Kind::Numeric => match s().trim().parse::<f64>() {
                Ok(n) if !n.is_nan() => Value::Num(n),
                _ => return Err(Failure),
            },
            Kind::Vector(p) => {
                let mut v = super::distance::decode(raw, p.dim).ok_or(Failure)?;
                super::distance::prepare(p.metric, &mut v);
                vectors.push((i, v));
                Value::Vector
            }
        });
    }
    let doc = Doc {
        key: key.clone(),
        hash: hash.clone(),
        expire_at,
        values,
    };
    Ok((doc, vectors))
}

/// A compiled filter: the query's nodes with fields resolved. The vector range is kept apart
/// (see [`compile`]) and is not part of the plan.
#[derive(Debug, Clone)]
pub enum Plan {
    All,
    And(Vec<Plan>),
    Or(Vec<Plan>),
    Not(Box<Plan>),
    Tag {
        field: usize,
        values: Vec<String>,
    },
    Numeric {
        field: usize,
        min: Bound,
        max: Bound,
    },
    /// A token in one of these fields.
    Term {
        fields: Vec<usize>,
        token: String,
    },
}

/// The range part of a query, resolved.
#[derive(Debug, Clone)]
pub struct RangeClause {
    pub field: usize,
    pub radius: f64,
    pub vector: Bytes,
    pub yield_as: Option<String>,
}

/// Resolves `node` against `def`; the top-level vector range is returned on its own.
pub fn compile(def: &IndexDef, node: &Node) -> Result<(Plan, Option<RangeClause>), String> {
    let mut range = None;
    let plan = match node {
        Node::Range { .. } => {
            range = Some(range_clause(def, node)?);
            Plan::All
        }
        Node::And(parts) => {
            let mut plans = Vec::new();
            for p in parts {
                if matches!(p, Node::Range { .. }) {
                    range = Some(range_clause(def, p)?);
                } else {
                    plans.push(resolve(def, p)?);
                }
            }
            Plan::And(plans)
        }
        other => resolve(def, other)?,
    };
    Ok((plan, range))
}

fn range_clause(def: &IndexDef, node: &Node) -> Result<RangeClause, String> {
    let Node::Range {
        field,
        radius,
        vector,
        yield_as,
    } = node
    else {
        return Err("internal: not a range".into());
    };
    let (i, f) = def
        .field(field)
        .ok_or_else(|| format!("Unknown field `{field}`"))?;
    if !matches!(f.kind, Kind::Vector(_)) {
        return Err(format!("Field `{field}` is not a vector field"));
    }
    Ok(RangeClause {
        field: i,
        radius: *radius,
        vector: vector.clone(),
        yield_as: yield_as.clone(),
    })
}

fn field_of(
    def: &IndexDef,
    name: &str,
    want: &str,
    ok: impl Fn(&Kind) -> bool,
) -> Result<usize, String> {
    match def.field(name) {
        None => Err(format!("Unknown field `{name}`")),
        Some((i, f)) if ok(&f.kind) => Ok(i),
        Some(_) => Err(format!("Field `{name}` is not a {want} field")),
    }
}

fn resolve(def: &IndexDef, node: &Node) -> Result<Plan, String> {
    Ok(match node {
        Node::All => Plan::All,
        Node::And(v) => Plan::And(
            v.iter()
                .map(|n| resolve(def, n))
                .collect::<Result<_, _>>()?,
        ),
        Node::Or(v) => Plan::Or(
            v.iter()
                .map(|n| resolve(def, n))
                .collect::<Result<_, _>>()?,
        ),
        Node::Not(n) => Plan::Not(Box::new(resolve(def, n)?)),
        Node::Tag { field, values } => {
            let i = field_of(def, field, "TAG", |k| matches!(k, Kind::Tag { .. }))?;
            let cs = matches!(
                def.fields[i].kind,
                Kind::Tag {
                    case_sensitive: true,
                    ..
                }
            );
            let values = values
                .iter()
                .map(|v| if cs { v.clone() } else { v.to_lowercase() })
                .collect();
            Plan::Tag { field: i, values }
        }
        Node::Numeric { field, min, max } => Plan::Numeric {
            field: field_of(def, field, "NUMERIC", |k| matches!(k, Kind::Numeric))?,
            min: *min,
            max: *max,
        },
        Node::Term {
            field: Some(f),
            token,
        } => Plan::Term {
            fields: vec![field_of(def, f, "TEXT", |k| {
                matches!(k, Kind::Text { .. })
            })?],
            token: token.clone(),
        },
        Node::Term { field: None, token } => Plan::Term {
            fields: (0..def.fields.len())
                .filter(|&i| matches!(def.fields[i].kind, Kind::Text { .. }))
                .collect(),
            token: token.clone(),
        },
        Node::Range { .. } => {
            return Err(
                "a VECTOR_RANGE may only be combined with other filters by intersection".into(),
            )
        }
    })
}

impl Plan {
    pub fn is_all(&self) -> bool {
        match self {
            Plan::All => true,
            Plan::And(v) => v.iter().all(Plan::is_all),
            _ => false,
        }
    }

    pub fn matches(&self, doc: &Doc) -> bool {
        match self {
            Plan::All => true,
            Plan::And(v) => v.iter().all(|p| p.matches(doc)),
            Plan::Or(v) => v.iter().any(|p| p.matches(doc)),
            Plan::Not(p) => !p.matches(doc),
            Plan::Tag { field, values } => match &doc.values[*field] {
                Value::Tags(t) => t.iter().any(|x| values.contains(x)),
                _ => false,
            },
            Plan::Numeric { field, min, max } => match doc.values[*field] {
                Value::Num(n) => {
                    let lo = if min.inclusive {
                        n >= min.value
                    } else {
                        n > min.value
                    };
                    let hi = if max.inclusive {
                        n <= max.value
                    } else {
                        n < max.value
                    };
                    lo && hi
                }
                _ => false,
            },
            Plan::Term { fields, token } => fields.iter().any(|&f| match &doc.values[f] {
                Value::Text(t) => t.binary_search(token).is_ok(),
                _ => false,
            }),
        }
    }
}
