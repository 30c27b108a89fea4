//! Index definitions: what `FT.CREATE` declares, parsed once into an [`IndexDef`].
//!
//! # Format
//! ```text
//! FT.CREATE index [ON HASH] [PREFIX count prefix ...] [SCORE s] [LANGUAGE l] [STOPWORDS n w ...]
//!     SCHEMA field [AS alias] type [options] [field ...]
//! type:  TEXT [WEIGHT w] [NOSTEM] [SORTABLE]
//!        TAG [SEPARATOR c] [CASESENSITIVE] [SORTABLE]
//!        NUMERIC [SORTABLE]
//!        VECTOR FLAT|HNSW nargs TYPE FLOAT32 DIM d DISTANCE_METRIC COSINE|L2|IP
//!               [INITIAL_CAP n] [BLOCK_SIZE n] [M m] [EF_CONSTRUCTION e] [EF_RUNTIME e] [EPSILON x]
//! ```
//! Only hashes are indexed (`ON JSON` is refused). Keywords are case-insensitive; the error texts
//! are RediSearch's.

use bytes::Bytes;

/// How two vectors' distance is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Squared Euclidean distance (RediSearch reports the square, not the root).
    L2,
    /// `1 - a.b`
    Ip,
    /// `1 - cos(a, b)`
    Cosine,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::L2 => "L2",
            Metric::Ip => "IP",
            Metric::Cosine => "COSINE",
        }
    }
}

/// Which vector index serves the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Flat,
    /// The graph's parameters: links per node, candidate lists when building and searching
    /// (`ef_runtime` only if the field gave one: llmcached's default differs from RediSearch's
    /// 10, see the graph's `ef_default`).
    Hnsw {
        m: usize,
        ef_construction: usize,
        ef_runtime: Option<usize>,
    },
}

/// A vector field's declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorParams {
    pub algorithm: Algorithm,
    pub dim: usize,
    pub metric: Metric,
}

/// What kind of field, with its options.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Text { weight: f64 },
    Tag { separator: u8, case_sensitive: bool },
    Numeric,
    Vector(VectorParams),
}

/// One field of the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The hash field it reads.
    pub path: String,
    /// The name queries use (`AS alias`, or the path).
    pub name: String,
    pub kind: Kind,
    pub sortable: bool,
}

/// A whole `FT.CREATE`.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDef {
    pub name: String,
    /// Key prefixes the index follows; an empty list follows every key.
    pub prefixes: Vec<Bytes>,
    pub score: f64,
    pub fields: Vec<Field>,
    /// The arguments after the index name, as sent: what persists the definition.
    pub args: Vec<Bytes>,
}

impl IndexDef {
    /// Whether keys named `key` (as stored) belong to this index. Indexes follow database 0,
    /// as RediSearch's do: a key of another database (stored behind
    /// [`crate::cache::databases::MARK`]) never belongs, nor does the rare key of database 0
    /// that starts with that byte.
    pub fn covers(&self, key: &[u8]) -> bool {
        key.first() != Some(&crate::cache::databases::MARK)
            && (self.prefixes.is_empty() || self.prefixes.iter().any(|p| key.starts_with(p)))
    }

    pub fn field(&self, name: &str) -> Option<(usize, &Field)> {
        self.fields.iter().enumerate().find(|(_, f)| f.name == name)
    }
}

fn word(a: &[u8]) -> String {
    String::from_utf8_lossy(a).into_owned()
}

fn is(a: &[u8], w: &str) -> bool {
    a.eq_ignore_ascii_case(w.as_bytes())
}

fn num<T: std::str::FromStr>(a: Option<&Bytes>) -> Option<T> {
    std::str::from_utf8(a?).ok()?.parse().ok()
}

/// Parses `FT.CREATE`'s arguments after the name. Errors are whole RediSearch error texts.
pub fn parse(name: &[u8], args: &[Bytes]) -> Result<IndexDef, String> {
    let mut def = IndexDef {
        name: word(name),
        prefixes: Vec::new(),
        score: 1.0,
        fields: Vec::new(),
        // Copies, as the prefixes below: the arguments are slices of the request's buffer.
        args: args.iter().map(|a| Bytes::copy_from_slice(a)).collect(),
    };
    let mut i = 0;
    let at = |i: usize| args.get(i);
    loop {
        let Some(a) = at(i) else {
            return Err("No schema found".into());
        };
        if is(a, "SCHEMA") {
            i += 1;
            break;
        } else if is(a, "ON") {
            match at(i + 1) {
                Some(t) if is(t, "HASH") => {}
                Some(t) if is(t, "JSON") => return Err("JSON indexes are not supported".into()),
                _ => return Err("Invalid `ON` value: expected HASH".into()),
            }
            i += 2;
        } else if is(a, "PREFIX") {
            let n: usize = num(at(i + 1)).ok_or("Bad arguments for PREFIX: expected a count")?;
            if i + 2 + n > args.len() {
                return Err("Bad arguments for PREFIX: not enough prefixes".into());
            }
            def.prefixes.extend(
                args[i + 2..i + 2 + n]
                    .iter()
                    .map(|p| Bytes::copy_from_slice(p)),
            );
            i += 2 + n;
        } else if is(a, "SCORE") {
            def.score = num(at(i + 1)).ok_or("Invalid score")?;
            i += 2;
        } else if is(a, "LANGUAGE") || is(a, "LANGUAGE_FIELD") || is(a, "SCORE_FIELD") {
            at(i + 1).ok_or("Bad arguments for LANGUAGE")?;
            i += 2;
        } else if is(a, "STOPWORDS") {
            let n: usize = num(at(i + 1)).ok_or("Bad arguments for STOPWORDS")?;
            i += 2 + n;
        } else if [
            "MAXTEXTFIELDS",
            "NOOFFSETS",
            "NOHL",
            "NOFIELDS",
            "NOFREQS",
            "SKIPINITIALSCAN",
        ]
        .iter()
        .any(|w| is(a, w))
        {
            i += 1;
        } else {
            return Err(format!("Unknown argument `{}`", word(a)));
        }
    }
    if i >= args.len() {
        return Err("Fields arguments are missing".into());
    }
    while i < args.len() {
        let path = word(&args[i]);
        i += 1;
        let mut name = path.clone();
        if at(i).is_some_and(|a| is(a, "AS")) {
            name = word(at(i + 1).ok_or("Bad arguments for AS")?);
            i += 2;
        }
        if def.fields.iter().any(|f| f.name == name) {
            return Err(format!("Duplicate field in schema - {name}"));
        }
        let ty = at(i).ok_or_else(|| format!("Field `{name}` does not have a type"))?;
        i += 1;
        let kind = if is(ty, "TEXT") {
            Kind::Text { weight: 1.0 }
        } else if is(ty, "TAG") {
            Kind::Tag {
                separator: b',',
                case_sensitive: false,
            }
        } else if is(ty, "NUMERIC") {
            Kind::Numeric
        } else if is(ty, "VECTOR") {
            let (params, used) = vector(&args[i..], &name)?;
            i += used;
            Kind::Vector(params)
        } else {
            return Err(format!("Invalid field type for field `{name}`"));
        };
        let mut field = Field {
            path,
            name,
            kind,
            sortable: false,
        };
        // Field options, until the next field's name.
        while let Some(a) = at(i) {
            match &mut field.kind {
                Kind::Text { weight } if is(a, "WEIGHT") => {
                    *weight =
                        num(at(i + 1)).ok_or("Bad arguments for WEIGHT: expected a number")?;
                    i += 2;
                }
                Kind::Tag { separator, .. } if is(a, "SEPARATOR") => {
                    match at(i + 1).map(|s| s.as_ref()) {
                        Some([c]) => *separator = *c,
                        _ => return Err("Tag separator must be a single character".into()),
                    }
                    i += 2;
                }
                Kind::Tag { case_sensitive, .. } if is(a, "CASESENSITIVE") => {
                    *case_sensitive = true;
                    i += 1;
                }
                Kind::Text { .. } | Kind::Tag { .. } | Kind::Numeric if is(a, "SORTABLE") => {
                    field.sortable = true;
                    i += 1;
                    if at(i).is_some_and(|a| is(a, "UNF")) {
                        i += 1;
                    }
                }
                _ if [
                    "NOSTEM",
                    "NOINDEX",
                    "INDEXEMPTY",
                    "INDEXMISSING",
                    "WITHSUFFIXTRIE",
                ]
                .iter()
                .any(|w| is(a, w)) =>
                {
                    i += 1;
                }
                Kind::Text { .. } if is(a, "PHONETIC") => i += 2,
                _ => break,
            }
        }
        def.fields.push(field);
    }
    Ok(def)
}

/// `FLAT|HNSW nargs key value ...`: the params and how many arguments they took.
fn vector(args: &[Bytes], field: &str) -> Result<(VectorParams, usize), String> {
    let bad = |what: &str| format!("Bad arguments for vector similarity index `{field}`: {what}");
    let algo = args.first().ok_or_else(|| bad("expected FLAT or HNSW"))?;
    let hnsw = if is(algo, "HNSW") {
        true
    } else if is(algo, "FLAT") {
        false
    } else {
        return Err(bad("expected FLAT or HNSW"));
    };
    let n: usize = num(args.get(1)).ok_or_else(|| bad("expected the number of arguments"))?;
    if !n.is_multiple_of(2) || 2 + n > args.len() {
        return Err(bad("expected pairs of attribute and value"));
    }
    let (mut dim, mut metric, mut ty) = (None, None, false);
    let (mut m, mut efc, mut efr) = (16usize, 200usize, None);
    for pair in args[2..2 + n].chunks(2) {
        let (k, v) = (&pair[0], Some(&pair[1]));
        if is(k, "TYPE") {
            if !is(&pair[1], "FLOAT32") {
                return Err(bad("only TYPE FLOAT32 is supported"));
            }
            ty = true;
        } else if is(k, "DIM") {
            dim = Some(
                num::<usize>(v)
                    .filter(|d| (1..=32768).contains(d))
                    .ok_or_else(|| bad("DIM must be a positive integer"))?,
            );
        } else if is(k, "DISTANCE_METRIC") {
            metric = Some(match &pair[1] {
                x if is(x, "COSINE") => Metric::Cosine,
                x if is(x, "L2") => Metric::L2,
                x if is(x, "IP") => Metric::Ip,
                _ => return Err(bad("DISTANCE_METRIC must be COSINE, L2 or IP")),
            });
        } else if is(k, "M") && hnsw {
            m = num(v)
                .filter(|&m: &usize| (2..=512).contains(&m))
                .ok_or_else(|| bad("M must be between 2 and 512"))?;
        } else if is(k, "EF_CONSTRUCTION") && hnsw {
            efc = num(v)
                .filter(|&e: &usize| e >= 1)
                .ok_or_else(|| bad("EF_CONSTRUCTION must be a positive integer"))?;
        } else if is(k, "EF_RUNTIME") && hnsw {
            efr = Some(
                num(v)
                    .filter(|&e: &usize| e >= 1)
                    .ok_or_else(|| bad("EF_RUNTIME must be a positive integer"))?,
            );
        } else if is(k, "INITIAL_CAP") || is(k, "BLOCK_SIZE") || (hnsw && is(k, "EPSILON")) {
            num::<f64>(v).ok_or_else(|| bad("expected a number"))?;
        } else {
            return Err(bad(&format!("unknown attribute `{}`", word(k))));
        }
    }
    let (Some(dim), Some(metric), true) = (dim, metric, ty) else {
        return Err(bad("TYPE, DIM and DISTANCE_METRIC are required"));
    };
    let algorithm = if hnsw {
        Algorithm::Hnsw {
            m,
            ef_construction: efc,
            ef_runtime: efr,
        }
    } else {
        Algorithm::Flat
    };
    Ok((
        VectorParams {
            algorithm,
            dim,
            metric,
        },
        2 + n,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<Bytes> {
        s.split(' ').map(|w| Bytes::from(w.to_string())).collect()
    }

    #[test]
    fn parses_what_redisvl_sends() {
        let d = parse(b"llmcache", &args("ON HASH PREFIX 1 llmcache SCORE 1.0 SCHEMA prompt TEXT WEIGHT 1 response TEXT WEIGHT 1 inserted_at NUMERIC updated_at NUMERIC prompt_vector VECTOR FLAT 6 TYPE FLOAT32 DIM 3 DISTANCE_METRIC COSINE model TAG SEPARATOR ,")).unwrap();
        assert_eq!(d.prefixes, vec![Bytes::from("llmcache")]);
        assert_eq!(d.fields.len(), 6);
        assert_eq!(
            d.fields[4].kind,
            Kind::Vector(VectorParams {
                algorithm: Algorithm::Flat,
                dim: 3,
                metric: Metric::Cosine
            })
        );
        assert!(d.covers(b"llmcache:1") && !d.covers(b"other"));
    }

    #[test]
    fn bad_definitions_are_refused_with_their_reason() {
        assert_eq!(
            parse(b"i", &args("ON HASH")).unwrap_err(),
            "No schema found"
        );
        assert_eq!(
            parse(b"i", &args("BOGUS SCHEMA a TEXT")).unwrap_err(),
            "Unknown argument `BOGUS`"
        );
        assert_eq!(
            parse(b"i", &args("SCHEMA a FOO")).unwrap_err(),
            "Invalid field type for field `a`"
        );
        assert!(
            parse(b"i", &args("SCHEMA v VECTOR FLAT 4 TYPE FLOAT32 DIM 3"))
                .unwrap_err()
                .contains("required")
        );
        assert!(parse(
            b"i",
            &args("SCHEMA v VECTOR HNSW 8 TYPE FLOAT32 DIM 3 DISTANCE_METRIC L2 M 1")
        )
        .unwrap_err()
        .contains("M must"));
        assert_eq!(
            parse(b"i", &args("SCHEMA a TEXT a TAG")).unwrap_err(),
            "Duplicate field in schema - a"
        );
    }
}
