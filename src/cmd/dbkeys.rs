//! The key arguments of a command, put in the stored form of the client's database before the
//! handler runs (see [`crate::cache::databases`] for the form).
//!
//! [`super::call`] hands every handler the stored form, so that handlers read and write the
//! one store without knowing about databases; ACL checks, MONITOR, the slow log and cluster
//! slots see the command as the client sent it. Where the key arguments are:
//! - the table's key positions (first, last, step) for most rows;
//! - a `numkeys` list for LMPOP, ZMPOP, SINTERCARD, ZINTERCARD, ZUNION, ZINTER, ZDIFF (the
//!   table declares those loosely, as Redis's legacy key range does), BLMPOP and BZMPOP, and a
//!   destination before it for ZUNIONSTORE, ZINTERSTORE and ZDIFFSTORE;
//! - SORT's key, its `BY` and `GET` patterns (but `GET #`) and its `STORE` destination;
//! - none for EVAL and its kin: a script's keys reach the store through `redis.call`, which
//!   runs in the script's database.
//!
//! Database 0 costs one byte compare per key argument: its keys are stored as sent unless they
//! start with [`MARK`].

use super::{args, row_names, CommandSpec};
use crate::cache::databases::{stored, MARK};
use bytes::Bytes;
use std::sync::OnceLock;

/// Where a row's key arguments are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    /// The table's (first, last, step).
    Range,
    /// `numkeys` at this position, the keys after it.
    NumKeys(usize),
    /// A destination at 1, `numkeys` at 2, the keys after it.
    DestNumKeys,
    Sort,
    /// The keys are passed on to a script, which names them itself.
    PassOn,
}

fn rule_of(full_name: &str) -> Rule {
    match full_name {
        "lmpop" | "zmpop" | "sintercard" | "zintercard" | "zunion" | "zinter" | "zdiff" => {
            Rule::NumKeys(1)
        }
        "blmpop" | "bzmpop" => Rule::NumKeys(2),
        "zunionstore" | "zinterstore" | "zdiffstore" => Rule::DestNumKeys,
        "sort" | "sort_ro" => Rule::Sort,
        "eval" | "evalsha" | "eval_ro" | "evalsha_ro" => Rule::PassOn,
        _ => Rule::Range,
    }
}

/// Each row's rule, by row index.
fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| row_names().iter().map(|n| rule_of(n)).collect())
}

/// Calls `f` with the position of every key argument of `args` (run as `spec`, by `rule`).
#[inline]
fn each_key(rule: Rule, spec: &CommandSpec, args: &[Bytes], mut f: impl FnMut(usize)) {
    let argc = args.len();
    let numkeys = |at: usize| -> usize {
        args.get(at)
            .and_then(|n| args::int(n).ok())
            .map_or(0, |n| n.clamp(0, argc as i64) as usize)
    };
    match rule {
        Rule::Range => {
            let (first, last, step) = spec.keys;
            if first <= 0 {
                return;
            }
            let last = if last < 0 {
                argc as i64 + last as i64
            } else {
                last as i64
            };
            let end = (last.min(argc as i64 - 1) + 1).max(0) as usize;
            (first as usize..end)
                .step_by(step.max(1) as usize)
                .for_each(f);
        }
        Rule::NumKeys(at) => (at + 1..(at + 1 + numkeys(at)).min(argc)).for_each(f),
        Rule::DestNumKeys => {
            if argc > 1 {
                f(1);
            }
            (3..(3 + numkeys(2)).min(argc)).for_each(f);
        }
        Rule::Sort => {
            if argc > 1 {
                f(1);
            }
            let mut i = 2;
            while i < argc {
                let a = &args[i];
                if args::is(a, "LIMIT") {
                    i += 3;
                } else if args::is(a, "BY") || args::is(a, "STORE") {
                    if i + 1 < argc {
                        f(i + 1);
                    }
                    i += 2;
                } else if args::is(a, "GET") {
                    if i + 1 < argc && &args[i + 1][..] != b"#" {
                        f(i + 1);
                    }
                    i += 2;
                } else {
                    i += 1;
                }
            }
        }
        Rule::PassOn => {}
    }
}

/// `args` with its key arguments in their stored form for database `db`, or `None` where every
/// key is stored as sent.
#[inline]
pub fn stored_args(
    db: usize,
    index: usize,
    spec: &CommandSpec,
    args: &[Bytes],
) -> Option<Vec<Bytes>> {
    let rule = rules().get(index).copied().unwrap_or(Rule::Range);
    if rule == Rule::PassOn || (rule == Rule::Range && spec.keys.0 <= 0) {
        return None;
    }
    let mut changed: Option<Vec<Bytes>> = None;
    each_key(rule, spec, args, |i| {
        let key = &args[i];
        if db == 0 && key.first() != Some(&MARK) {
            return;
        }
        if let Some(s) = stored(db, key) {
            changed.get_or_insert_with(|| args.to_vec())[i] = s;
        }
    });
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::{resolve, row};

    fn stored_of(db: usize, words: &[&str]) -> Vec<Vec<u8>> {
        let args: Vec<Bytes> = words.iter().map(|w| Bytes::from(w.to_string())).collect();
        let index = resolve(&args).unwrap().unwrap();
        let out = stored_args(db, index, row(index).unwrap(), &args).unwrap_or(args);
        out.iter().map(|b| b.to_vec()).collect()
    }

    fn k(db: usize, key: &str) -> Vec<u8> {
        stored(db, key.as_bytes()).unwrap().to_vec()
    }

    fn w(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    #[test]
    fn key_arguments_take_the_stored_form_and_nothing_else_does() {
        assert_eq!(stored_of(3, &["GET", "a"]), vec![w("GET"), k(3, "a")]);
        assert_eq!(
            stored_of(3, &["MSET", "a", "1", "b", "2"]),
            vec![w("MSET"), k(3, "a"), w("1"), k(3, "b"), w("2")]
        );
        assert_eq!(
            stored_of(2, &["ZUNIONSTORE", "d", "2", "x", "y", "WEIGHTS", "1", "2"]),
            vec![
                w("ZUNIONSTORE"),
                k(2, "d"),
                w("2"),
                k(2, "x"),
                k(2, "y"),
                w("WEIGHTS"),
                w("1"),
                w("2")
            ]
        );
        assert_eq!(
            stored_of(2, &["BLMPOP", "0", "1", "l", "LEFT"]),
            vec![w("BLMPOP"), w("0"), w("1"), k(2, "l"), w("LEFT")]
        );
        assert_eq!(
            stored_of(
                1,
                &[
                    "SORT", "l", "BY", "w_*", "LIMIT", "0", "1", "GET", "#", "GET", "o_*->f",
                    "STORE", "d"
                ]
            ),
            vec![
                w("SORT"),
                k(1, "l"),
                w("BY"),
                k(1, "w_*"),
                w("LIMIT"),
                w("0"),
                w("1"),
                w("GET"),
                w("#"),
                w("GET"),
                k(1, "o_*->f"),
                w("STORE"),
                k(1, "d")
            ]
        );
        assert_eq!(
            stored_of(1, &["EVAL", "return 1", "1", "a"]),
            vec![w("EVAL"), w("return 1"), w("1"), w("a")]
        );
        assert_eq!(stored_of(1, &["OBJECT", "ENCODING", "a"])[2], k(1, "a"));
        // Database 0 stores keys as sent, but for the reserved first byte.
        assert_eq!(stored_of(0, &["GET", "a"]), vec![w("GET"), w("a")]);
        let args = vec![Bytes::from_static(b"GET"), Bytes::from_static(b"\xffx")];
        let index = resolve(&args).unwrap().unwrap();
        let out = stored_args(0, index, row(index).unwrap(), &args).unwrap();
        assert_eq!(&out[1][..], b"\xff\xffx");
    }
}
