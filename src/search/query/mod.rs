//! The query language of `FT.SEARCH` (DIALECT 2), the subset vector caches speak, parsed into a
//! [`Query`] by recursive descent. Errors name the byte offset where parsing stopped.
//!
//! # Grammar
//! ```text
//! query  := union [ "=>" "[" KNN k @field $vec [EF_RUNTIME n] [AS name] "]" ]
//! union  := inter ( "|" inter )*
//! inter  := unary+
//! unary  := "-" unary | atom
//! atom   := "(" union ")" | "*" | word | "@" field ":" value
//! value  := "{" tag ( "|" tag )* "}"                          TAG, backslash escapes
//!         | "[" num num "]"                                   NUMERIC, "(" excludes, +inf / -inf
//!         | "[" VECTOR_RANGE radius $vec "]" [ "=>" "{" $YIELD_DISTANCE_AS ":" name [";" ...] "}" ]
//!         | "(" union ")" | word                              TEXT, exact tokens in that field
//! ```
//! Keywords are case-insensitive; `$name` takes a value from PARAMS.

mod fields;
mod parser;
#[cfg(test)]
mod tests;

use bytes::Bytes;
use parser::Parser;
use std::collections::HashMap;

/// A filter over documents; the vector range (if any) is one of its nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    All,
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// Any of these values (unescaped, as written).
    Tag {
        field: String,
        values: Vec<String>,
    },
    Numeric {
        field: String,
        min: Bound,
        max: Bound,
    },
    /// A lower-cased token in `field`, or in any TEXT field.
    Term {
        field: Option<String>,
        token: String,
    },
    /// Documents within `radius` of `vector`.
    Range {
        field: String,
        radius: f64,
        vector: Bytes,
        yield_as: Option<String>,
    },
}

/// One end of a numeric range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    pub value: f64,
    pub inclusive: bool,
}

/// `=>[KNN k @field $vec ...]`
#[derive(Debug, Clone, PartialEq)]
pub struct Knn {
    pub k: usize,
    pub field: String,
    pub vector: Bytes,
    pub ef_runtime: Option<usize>,
    /// The name the distance is returned under (`__<field>_score` by default).
    pub yield_as: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub filter: Node,
    pub knn: Option<Knn>,
}

impl Query {
    /// The vector range node, if the filter has one at its top level.
    pub fn range(&self) -> Option<&Node> {
        match &self.filter {
            n @ Node::Range { .. } => Some(n),
            Node::And(v) => v.iter().find(|n| matches!(n, Node::Range { .. })),
            _ => None,
        }
    }
}

/// Parses `q` with `params` (PARAMS name value ...).
pub fn parse(q: &[u8], params: &HashMap<String, Bytes>) -> Result<Query, String> {
    let mut p = Parser { s: q, i: 0, params };
    let filter = p.union(None)?;
    let mut knn = None;
    p.ws();
    if p.eat(b"=>") {
        p.ws();
        p.expect(b"[")?;
        knn = Some(p.knn()?);
    }
    p.ws();
    if p.i < p.s.len() {
        return Err(p.error());
    }
    let query = Query { filter, knn };
    check_vectors(&query.filter, true)?;
    Ok(query)
}

/// A vector range may sit only at the top level (alone or in the top intersection).
fn check_vectors(n: &Node, top: bool) -> Result<(), String> {
    match n {
        Node::Range { .. } if !top => Err(
            "Syntax error: a VECTOR_RANGE may only be combined with other filters by intersection"
                .into(),
        ),
        Node::And(v) if top => v
            .iter()
            .try_for_each(|c| check_vectors(c, !matches!(c, Node::And(_)))),
        Node::And(v) | Node::Or(v) => v.iter().try_for_each(|c| check_vectors(c, false)),
        Node::Not(c) => check_vectors(c, false),
        _ => Ok(()),
    }
}
