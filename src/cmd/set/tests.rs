//! The set commands through the table, against Redis 7.0.15's replies.

use crate::cmd::testing::{bulk, error, TestServer};
use crate::protocol::Reply;

fn sorted(r: Reply) -> Vec<String> {
    let (Reply::Set(items) | Reply::Array(items)) = r else {
        panic!("not a collection: {r:?}")
    };
    let mut v: Vec<String> = items
        .into_iter()
        .map(|i| match i {
            Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
            other => panic!("{other:?}"),
        })
        .collect();
    v.sort();
    v
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

#[test]
fn members_and_membership() {
    let s = TestServer::new();
    let mut c = s.client();
    assert_eq!(c.run(&["SADD", "s", "a", "b", "a"]), Reply::Int(2));
    assert_eq!(c.run(&["SADD", "s", "b", "c"]), Reply::Int(1));
    assert_eq!(sorted(c.run(&["SMEMBERS", "s"])), ["a", "b", "c"]);
    assert_eq!(c.run(&["SISMEMBER", "s", "a"]), Reply::Int(1));
    assert_eq!(
        c.run(&["SMISMEMBER", "s", "a", "zz"]),
        Reply::Array(vec![Reply::Int(1), Reply::Int(0)])
    );
    assert_eq!(
        c.run(&["SMISMEMBER", "none", "a"]),
        Reply::Array(vec![Reply::Int(0)])
    );
    assert_eq!(c.run(&["SCARD", "s"]), Reply::Int(3));
    assert_eq!(c.run(&["SREM", "s", "a", "zz"]), Reply::Int(1));
    assert_eq!(c.run(&["TYPE", "s"]), Reply::Simple("set"));
    assert_eq!(c.run(&["SREM", "s", "b", "c"]), Reply::Int(2));
    assert_eq!(c.run(&["EXISTS", "s"]), Reply::Int(0));
    c.run(&["SET", "str", "x"]);
    assert_eq!(c.run(&["SADD", "str", "a"]), error(WRONGTYPE));
    assert_eq!(c.run(&["SINTER", "s", "str"]), error(WRONGTYPE));
}

#[test]
fn random_members_and_pops() {
    let s = TestServer::new();
    let mut c = s.client();
    c.run(&["SADD", "s", "1", "2", "3"]);
    // A negative count repeats members: five picks of three members.
    let picks = sorted(c.run(&["SRANDMEMBER", "s", "-5"]));
    assert_eq!(picks.len(), 5);
    assert!(picks.iter().all(|p| ["1", "2", "3"].contains(&p.as_str())));
    assert_eq!(sorted(c.run(&["SRANDMEMBER", "s", "10"])), ["1", "2", "3"]);
    assert_eq!(sorted(c.run(&["SRANDMEMBER", "s", "2"])).len(), 2);
    assert_eq!(c.run(&["SRANDMEMBER", "s", "0"]), Reply::Array(vec![]));
    assert_eq!(c.run(&["SRANDMEMBER", "none"]), Reply::Nil);
    assert_eq!(c.run(&["SRANDMEMBER", "none", "2"]), Reply::Array(vec![]));
    assert_eq!(
        c.run(&["SPOP", "s", "-1"]),
        error("ERR value is out of range, must be positive")
    );
    assert_eq!(c.run(&["SPOP", "none"]), Reply::Nil);
    assert_eq!(c.run(&["SPOP", "none", "2"]), Reply::Set(vec![]));
    let popped = sorted(c.run(&["SPOP", "s", "2"]));
    assert_eq!(popped.len(), 2);
    let Reply::Bulk(last) = c.run(&["SPOP", "s"]) else {
        panic!()
    };
    let mut all = popped;
    all.push(String::from_utf8_lossy(&last).into_owned());
    all.sort();
    assert_eq!(all, ["1", "2", "3"]);
    assert_eq!(c.run(&["EXISTS", "s"]), Reply::Int(0));
}

#[test]
fn algebra_and_store_forms() {
    let s = TestServer::new();
    let mut c = s.client();
    c.run(&["SADD", "a", "1", "2", "3"]);
    c.run(&["SADD", "b", "2", "3", "4"]);
    assert_eq!(sorted(c.run(&["SINTER", "a", "b"])), ["2", "3"]);
    assert_eq!(sorted(c.run(&["SUNION", "a", "b"])), ["1", "2", "3", "4"]);
    assert_eq!(sorted(c.run(&["SDIFF", "a", "b"])), ["1"]);
    assert_eq!(
        sorted(c.run(&["SINTER", "a", "none"])),
        Vec::<String>::new()
    );
    assert_eq!(c.run(&["SINTERSTORE", "d", "a", "b"]), Reply::Int(2));
    assert_eq!(sorted(c.run(&["SMEMBERS", "d"])), ["2", "3"]);
    assert_eq!(c.run(&["SDIFFSTORE", "d", "none"]), Reply::Int(0));
    assert_eq!(c.run(&["EXISTS", "d"]), Reply::Int(0));
    assert_eq!(c.run(&["SUNIONSTORE", "d", "a", "b"]), Reply::Int(4));
    assert_eq!(c.run(&["SINTERCARD", "2", "a", "b"]), Reply::Int(2));
    assert_eq!(
        c.run(&["SINTERCARD", "2", "a", "b", "LIMIT", "1"]),
        Reply::Int(1)
    );
    assert_eq!(
        c.run(&["SINTERCARD", "0", "a"]),
        error("ERR numkeys should be greater than 0")
    );
    assert_eq!(
        c.run(&["SINTERCARD", "3", "a", "b"]),
        error("ERR Number of keys can't be greater than number of args")
    );
    assert_eq!(
        c.run(&["SINTERCARD", "2", "a", "b", "LIMIT", "-1"]),
        error("ERR LIMIT can't be negative")
    );
    assert_eq!(
        c.run(&["SINTERCARD", "2", "a", "b", "x"]),
        error("ERR syntax error")
    );
    assert_eq!(c.run(&["SMOVE", "a", "b", "1"]), Reply::Int(1));
    assert_eq!(c.run(&["SMOVE", "a", "b", "99"]), Reply::Int(0));
    assert_eq!(c.run(&["SISMEMBER", "b", "1"]), Reply::Int(1));
    c.run(&["SET", "str", "x"]);
    assert_eq!(c.run(&["SMOVE", "a", "str", "2"]), error(WRONGTYPE));
    assert_eq!(c.run(&["SISMEMBER", "a", "2"]), Reply::Int(1));
}

#[test]
fn sscan_walks_small_and_big_sets() {
    let s = TestServer::new();
    let mut c = s.client();
    c.run(&["SADD", "small", "1", "2", "3"]);
    let Reply::Array(r) = c.run(&["SSCAN", "small", "0", "COUNT", "1"]) else {
        panic!()
    };
    assert_eq!(r[0], bulk("0"));
    assert_eq!(sorted(r[1].clone()), ["1", "2", "3"]);
    let mut args = vec!["SADD".to_string(), "big".into()];
    args.extend((0..300).map(|i| format!("m{i}")));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    c.run(&refs);
    let (mut cursor, mut seen) = ("0".to_string(), Vec::new());
    loop {
        let Reply::Array(r) = c.run(&["SSCAN", "big", &cursor, "MATCH", "m1*"]) else {
            panic!()
        };
        let Reply::Bulk(next) = &r[0] else { panic!() };
        seen.extend(sorted(r[1].clone()));
        cursor = String::from_utf8_lossy(next).into_owned();
        if cursor == "0" {
            break;
        }
    }
    seen.sort();
    seen.dedup();
    // m1, m10..m19, m100..m199
    assert_eq!(seen.len(), 111);
    assert_eq!(c.run(&["SSCAN", "big", "x"]), error("ERR invalid cursor"));
    assert_eq!(
        c.run(&["SSCAN", "big", "0", "COUNT", "0"]),
        error("ERR syntax error")
    );
}
