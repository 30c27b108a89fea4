//! The sorted-set commands through the table, against Redis 7.0.15's replies (RESP2 unless
//! said otherwise).

use crate::cmd::testing::{bulk, error, TestServer};
use crate::protocol::{Protocol, Reply};

fn arr(items: &[&str]) -> Reply {
    Reply::Array(items.iter().map(|s| bulk(s)).collect())
}

#[test]
fn zadd_flags_as_redis() {
    let s = TestServer::new();
    let mut c = s.client();
    assert_eq!(
        c.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]),
        Reply::Int(3)
    );
    for (args, want) in [
        (
            &["ZADD", "z", "NX", "XX", "1", "a"][..],
            "ERR XX and NX options at the same time are not compatible",
        ),
        (
            &["ZADD", "z", "GT", "LT", "1", "a"],
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ),
        (
            &["ZADD", "z", "NX", "GT", "1", "a"],
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ),
        (
            &["ZADD", "z", "INCR", "1", "a", "2", "b"],
            "ERR INCR option supports a single increment-element pair",
        ),
        (&["ZADD", "z", "x", "a"], "ERR value is not a valid float"),
        (&["ZADD", "z", "nan", "a"], "ERR value is not a valid float"),
        (&["ZADD", "z", "1", "a", "2"], "ERR syntax error"),
    ] {
        assert_eq!(c.run(args), error(want), "{args:?}");
    }
    assert_eq!(c.run(&["ZADD", "z", "INCR", "5", "a"]), bulk("6"));
    assert_eq!(c.run(&["ZADD", "z", "XX", "INCR", "5", "zz"]), Reply::Nil);
    assert_eq!(c.run(&["ZADD", "z", "NX", "INCR", "5", "a"]), Reply::Nil);
    assert_eq!(c.run(&["ZADD", "z", "GT", "INCR", "-1", "a"]), Reply::Nil);
    assert_eq!(
        c.run(&["ZADD", "z", "CH", "10", "a", "20", "new"]),
        Reply::Int(2)
    );
    assert_eq!(c.run(&["ZADD", "z", "GT", "CH", "5", "a"]), Reply::Int(0));
    assert_eq!(c.run(&["ZADD", "z", "LT", "CH", "5", "a"]), Reply::Int(1));
    assert_eq!(c.run(&["ZINCRBY", "z", "inf", "a"]), bulk("inf"));
    assert_eq!(
        c.run(&["ZINCRBY", "z", "-inf", "a"]),
        error("ERR resulting score is not a number (NaN)")
    );
    assert_eq!(c.run(&["ZSCORE", "z", "a"]), bulk("inf"));
    assert_eq!(c.run(&["ZADD", "f", "1.1", "m"]), Reply::Int(1));
    assert_eq!(
        c.run(&["ZINCRBY", "f", "1.5", "m"]),
        bulk("2.6000000000000001")
    );
    assert_eq!(
        c.run(&["ZMSCORE", "f", "m", "no"]),
        Reply::Array(vec![bulk("2.6000000000000001"), Reply::Nil])
    );
    assert_eq!(c.run(&["TYPE", "f"]), Reply::Simple("zset"));
    assert_eq!(c.run(&["ZREM", "f", "m", "no"]), Reply::Int(1));
    assert_eq!(c.run(&["EXISTS", "f"]), Reply::Int(0));
}

#[test]
fn ranges_by_rank_score_and_lex() {
    let s = TestServer::new();
    let mut c = s.client();
    c.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "20", "d"]);
    assert_eq!(
        c.run(&["ZRANGE", "z", "0", "-1"]),
        arr(&["a", "b", "c", "d"])
    );
    assert_eq!(
        c.run(&["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        arr(&["a", "1", "b", "2"])
    );
    assert_eq!(
        c.run(&["ZRANGE", "z", "(1", "5", "BYSCORE"]),
        arr(&["b", "c"])
    );
    assert_eq!(
        c.run(&["ZRANGE", "z", "5", "(1", "BYSCORE", "REV"]),
        arr(&["c", "b"])
    );
    assert_eq!(
        c.run(&["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "2"]),
        arr(&["b", "c"])
    );
    assert_eq!(
        c.run(&["ZRANGE", "z", "[b", "(d", "BYLEX"]),
        arr(&["b", "c"])
    );
    assert_eq!(c.run(&["ZRANGE", "z", "0", "0", "REV"]), arr(&["d"]));
    assert_eq!(
        c.run(&["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"]),
        error(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
        )
    );
    assert_eq!(
        c.run(&["ZRANGE", "z", "0", "-1", "BYSCORE", "LIMIT", "0"]),
        error("ERR syntax error")
    );
    assert_eq!(
        c.run(&["ZRANGE", "z", "a", "b", "BYLEX"]),
        error("ERR min or max not valid string range item")
    );
    assert_eq!(
        c.run(&["ZRANGE", "z", "0", "-1", "BYSCORE", "BYLEX"]),
        error("ERR syntax error")
    );
    assert_eq!(
        c.run(&[
            "ZRANGEBYSCORE",
            "z",
            "-inf",
            "+inf",
            "WITHSCORES",
            "LIMIT",
            "1",
            "2"
        ]),
        arr(&["b", "2", "c", "3"])
    );
    assert_eq!(
        c.run(&["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", "0", "1"]),
        arr(&["d"])
    );
    assert_eq!(
        c.run(&["ZREVRANGE", "z", "0", "0", "WITHSCORES"]),
        arr(&["d", "20"])
    );
    assert_eq!(c.run(&["ZCOUNT", "z", "(1", "+inf"]), Reply::Int(3));
    assert_eq!(
        c.run(&["ZCOUNT", "z", "x", "1"]),
        error("ERR min or max is not a float")
    );
    assert_eq!(c.run(&["ZCOUNT", "z", "(2", "(2"]), Reply::Int(0));
    assert_eq!(c.run(&["ZCOUNT", "z", "5", "1"]), Reply::Int(0));
    assert_eq!(c.run(&["ZRANK", "z", "b"]), Reply::Int(1));
    assert_eq!(c.run(&["ZREVRANK", "z", "b"]), Reply::Int(2));
    assert_eq!(c.run(&["ZRANK", "z", "nope"]), Reply::Nil);
    assert_eq!(
        c.run(&["ZREMRANGEBYSCORE", "z", "-inf", "(3"]),
        Reply::Int(2)
    );
    assert_eq!(c.run(&["ZREMRANGEBYRANK", "z", "0", "0"]), Reply::Int(1));
    assert_eq!(c.run(&["ZCARD", "z"]), Reply::Int(1));
    assert_eq!(c.run(&["ZREMRANGEBYRANK", "z", "0", "-1"]), Reply::Int(1));
    assert_eq!(c.run(&["EXISTS", "z"]), Reply::Int(0));
}

#[test]
fn pops_and_resp3_shapes() {
    let s = TestServer::new();
    let mut c = s.client();
    c.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(c.run(&["ZPOPMIN", "z"]), arr(&["a", "1"]));
    assert_eq!(
        c.run(&["ZPOPMIN", "z", "-1"]),
        error("ERR value is out of range, must be positive")
    );
    assert_eq!(c.run(&["ZPOPMIN", "nokey"]), Reply::Array(vec![]));
    c.client.protocol = Protocol::Resp3;
    assert_eq!(c.run(&["ZSCORE", "z", "b"]), Reply::Double(2.0));
    assert_eq!(
        c.run(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
        Reply::Array(vec![
            Reply::Array(vec![bulk("b"), Reply::Double(2.0)]),
            Reply::Array(vec![bulk("c"), Reply::Double(3.0)]),
        ])
    );
    assert_eq!(
        c.run(&["ZPOPMAX", "z"]),
        Reply::Array(vec![bulk("c"), Reply::Double(3.0)])
    );
    assert_eq!(
        c.run(&["ZPOPMAX", "z", "5"]),
        Reply::Array(vec![Reply::Array(vec![bulk("b"), Reply::Double(2.0)])])
    );
    assert_eq!(c.run(&["EXISTS", "z"]), Reply::Int(0));
    c.run(&["ZADD", "z", "1.5", "m"]);
    // ZSCAN gives scores as text in both protocols.
    assert_eq!(
        c.run(&["ZSCAN", "z", "0"]),
        Reply::Array(vec![bulk("0"), arr(&["m", "1.5"])])
    );
}
