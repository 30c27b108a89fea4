//! The list commands through the table, as a client sees them, against Redis 7.0.15's replies.

use crate::cmd::testing::{bulk, error, TestServer};
use crate::protocol::Reply;

fn arr(items: &[&str]) -> Reply {
    Reply::Array(items.iter().map(|s| bulk(s)).collect())
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

#[test]
fn pushes_pops_and_ranges() {
    let s = TestServer::new();
    let mut c = s.client();
    assert_eq!(c.run(&["RPUSH", "l", "a", "b", "c"]), Reply::Int(3));
    assert_eq!(c.run(&["LPUSH", "l", "z"]), Reply::Int(4));
    assert_eq!(
        c.run(&["LRANGE", "l", "0", "-1"]),
        arr(&["z", "a", "b", "c"])
    );
    assert_eq!(c.run(&["LRANGE", "l", "-2", "100"]), arr(&["b", "c"]));
    assert_eq!(c.run(&["LPOP", "l"]), bulk("z"));
    assert_eq!(c.run(&["RPOP", "l", "2"]), arr(&["c", "b"]));
    assert_eq!(c.run(&["LPOP", "l", "0"]), arr(&[]));
    assert_eq!(c.run(&["LLEN", "l"]), Reply::Int(1));
    assert_eq!(c.run(&["LPOP", "l", "5"]), arr(&["a"]));
    // The last pop removed the key.
    assert_eq!(c.run(&["EXISTS", "l"]), Reply::Int(0));
    assert_eq!(c.run(&["LPOP", "l"]), Reply::Nil);
    assert_eq!(c.run(&["LPOP", "l", "1"]), Reply::NilArray);
    assert_eq!(c.run(&["LPUSHX", "l", "a"]), Reply::Int(0));
    assert_eq!(c.run(&["EXISTS", "l"]), Reply::Int(0));
    assert_eq!(
        c.run(&["LPOP", "l", "-1"]),
        error("ERR value is out of range, must be positive")
    );
    assert_eq!(
        c.run(&["LPOP", "l", "1", "2"]),
        error("ERR wrong number of arguments for 'lpop' command")
    );
    c.run(&["SET", "s", "x"]);
    assert_eq!(c.run(&["LPUSH", "s", "a"]), error(WRONGTYPE));
    assert_eq!(c.run(&["LRANGE", "s", "0", "1"]), error(WRONGTYPE));
    assert_eq!(c.run(&["TYPE", "s"]), Reply::Simple("string"));
    c.run(&["RPUSH", "l", "a"]);
    assert_eq!(c.run(&["TYPE", "l"]), Reply::Simple("list"));
}

#[test]
fn index_set_insert_remove_trim() {
    let s = TestServer::new();
    let mut c = s.client();
    c.run(&["RPUSH", "l", "a", "b", "a", "c", "a"]);
    assert_eq!(c.run(&["LINDEX", "l", "-1"]), bulk("a"));
    assert_eq!(c.run(&["LINDEX", "l", "9"]), Reply::Nil);
    assert_eq!(c.run(&["LSET", "l", "1", "B"]), Reply::Ok);
    assert_eq!(
        c.run(&["LSET", "l", "9", "x"]),
        error("ERR index out of range")
    );
    assert_eq!(
        c.run(&["LSET", "nokey", "0", "x"]),
        error("ERR no such key")
    );
    assert_eq!(c.run(&["LINSERT", "l", "BEFORE", "c", "x"]), Reply::Int(6));
    assert_eq!(c.run(&["LINSERT", "l", "after", "zz", "x"]), Reply::Int(-1));
    assert_eq!(
        c.run(&["LINSERT", "nokey", "after", "zz", "x"]),
        Reply::Int(0)
    );
    assert_eq!(
        c.run(&["LINSERT", "l", "middle", "a", "x"]),
        error("ERR syntax error")
    );
    assert_eq!(c.run(&["LPOS", "l", "a"]), Reply::Int(0));
    assert_eq!(
        c.run(&["LPOS", "l", "a", "RANK", "-1", "COUNT", "0"]),
        Reply::Array(vec![Reply::Int(5), Reply::Int(2), Reply::Int(0)])
    );
    assert_eq!(
        c.run(&["LPOS", "l", "a", "COUNT", "0", "MAXLEN", "3"]),
        Reply::Array(vec![Reply::Int(0), Reply::Int(2)])
    );
    assert_eq!(c.run(&["LPOS", "l", "zz"]), Reply::Nil);
    assert!(
        matches!(c.run(&["LPOS", "l", "a", "RANK", "0"]), Reply::Error(e) if e.starts_with("ERR RANK can't be zero"))
    );
    assert_eq!(
        c.run(&["LPOS", "l", "a", "COUNT", "-1"]),
        error("ERR COUNT can't be negative")
    );
    assert_eq!(c.run(&["LREM", "l", "-2", "a"]), Reply::Int(2));
    assert_eq!(
        c.run(&["LRANGE", "l", "0", "-1"]),
        arr(&["a", "B", "x", "c"])
    );
    assert_eq!(c.run(&["LTRIM", "l", "1", "-2"]), Reply::Ok);
    assert_eq!(c.run(&["LRANGE", "l", "0", "-1"]), arr(&["B", "x"]));
    assert_eq!(c.run(&["LTRIM", "l", "5", "9"]), Reply::Ok);
    assert_eq!(c.run(&["EXISTS", "l"]), Reply::Int(0));
}

#[test]
fn moves_between_lists() {
    let s = TestServer::new();
    let mut c = s.client();
    c.run(&["RPUSH", "a", "1", "2", "3"]);
    assert_eq!(c.run(&["LMOVE", "a", "b", "LEFT", "RIGHT"]), bulk("1"));
    assert_eq!(c.run(&["RPOPLPUSH", "a", "b"]), bulk("3"));
    assert_eq!(c.run(&["LRANGE", "b", "0", "-1"]), arr(&["3", "1"]));
    // Rotation of one list.
    assert_eq!(c.run(&["LMOVE", "b", "b", "LEFT", "RIGHT"]), bulk("3"));
    assert_eq!(c.run(&["LRANGE", "b", "0", "-1"]), arr(&["1", "3"]));
    assert_eq!(c.run(&["LMOVE", "none", "b", "LEFT", "LEFT"]), Reply::Nil);
    assert_eq!(
        c.run(&["LMOVE", "a", "b", "UP", "LEFT"]),
        error("ERR syntax error")
    );
    c.run(&["SET", "s", "x"]);
    assert_eq!(
        c.run(&["LMOVE", "a", "s", "LEFT", "LEFT"]),
        error(WRONGTYPE)
    );
    // The failed move left the source alone.
    assert_eq!(c.run(&["LRANGE", "a", "0", "-1"]), arr(&["2"]));
    // A missing source answers nil before the destination's type is looked at, as in Redis.
    assert_eq!(c.run(&["LMOVE", "none", "s", "LEFT", "LEFT"]), Reply::Nil);
    assert_eq!(
        c.run(&["LMOVE", "s", "a", "LEFT", "LEFT"]),
        error(WRONGTYPE)
    );
}

#[tokio::test]
async fn a_blocked_pop_is_woken_by_a_push_in_fifo_order() {
    let s = TestServer::new();
    let (mut first, mut second, mut pusher) = (s.client(), s.client(), s.client());
    let crate::cmd::Flow::Wait(w1) = first.flow(&["BLPOP", "q", "other", "0"]) else {
        panic!("BLPOP on an empty list blocks")
    };
    let crate::cmd::Flow::Wait(w2) = second.flow(&["BRPOP", "q", "0"]) else {
        panic!("blocks")
    };
    let (w1, w2) = (tokio::spawn(w1), tokio::spawn(w2));
    // Both blocked before the push (registered when their futures first ran).
    while s.shared.key_waits.blocked() < 2 {
        tokio::task::yield_now().await;
    }
    assert_eq!(pusher.run(&["RPUSH", "q", "x"]), Reply::Int(1));
    assert_eq!(w1.await.unwrap(), arr(&["q", "x"]));
    assert_eq!(pusher.run(&["RPUSH", "q", "y"]), Reply::Int(1));
    assert_eq!(w2.await.unwrap(), arr(&["q", "y"]));
    assert_eq!(s.shared.key_waits.blocked(), 0);
    assert_eq!(pusher.run(&["EXISTS", "q"]), Reply::Int(0));
}

#[tokio::test]
async fn blocking_pops_time_out_and_do_not_block_in_multi() {
    let s = TestServer::new();
    let mut c = s.client();
    assert_eq!(c.run_async(&["BLPOP", "q", "0.01"]).await, Reply::NilArray);
    assert_eq!(
        c.run_async(&["BLMOVE", "q", "d", "LEFT", "LEFT", "0.01"])
            .await,
        Reply::NilArray
    );
    assert_eq!(
        c.run(&["BLPOP", "q", "-1"]),
        error("ERR timeout is negative")
    );
    assert_eq!(
        c.run(&["BLPOP", "q", "x"]),
        error("ERR timeout is not a float or out of range")
    );
    c.run(&["MULTI"]);
    c.run(&["BRPOPLPUSH", "q", "d", "0"]);
    c.run(&["RPUSH", "q", "x"]);
    c.run(&["BRPOPLPUSH", "q", "d", "0"]);
    assert_eq!(
        c.run(&["EXEC"]),
        Reply::Array(vec![Reply::NilArray, Reply::Int(1), bulk("x")])
    );
    assert_eq!(c.run(&["LRANGE", "d", "0", "-1"]), arr(&["x"]));
    // A blocked move whose destination holds another type answers WRONGTYPE once an item
    // arrives, and leaves the item where it was, as Redis.
    c.run(&["SET", "str", "x"]);
    let crate::cmd::Flow::Wait(w) = c.flow(&["BRPOPLPUSH", "src", "str", "0"]) else {
        panic!("blocks")
    };
    let w = tokio::spawn(w);
    while s.shared.key_waits.blocked() == 0 {
        tokio::task::yield_now().await;
    }
    let mut pusher = s.client();
    pusher.run(&["RPUSH", "src", "foo"]);
    assert_eq!(w.await.unwrap(), error(WRONGTYPE));
    assert_eq!(c.run(&["LRANGE", "src", "0", "-1"]), arr(&["foo"]));
    // An item already there is served without blocking.
    c.run(&["RPUSH", "q", "y"]);
    assert_eq!(c.run(&["BLPOP", "q", "0"]), arr(&["q", "y"]));
}

/// Regression: a client blocked on two keys, woken by a push to its second key, that served
/// itself from its first key dropped the second key's wake, and the next client blocked there
/// waited for ever (Redis's "BLMPOP with multiple blocked clients").
#[tokio::test]
async fn a_wake_for_another_key_is_passed_on_after_serving() {
    let s = TestServer::new();
    let (mut one, mut two, mut pusher) = (s.client(), s.client(), s.client());
    let crate::cmd::Flow::Wait(w1) = one.flow(&["BLPOP", "a", "b", "0"]) else {
        panic!("blocks")
    };
    let w1 = tokio::spawn(w1);
    while s.shared.key_waits.blocked() < 1 {
        tokio::task::yield_now().await;
    }
    let crate::cmd::Flow::Wait(w2) = two.flow(&["BLPOP", "a", "b", "0"]) else {
        panic!("blocks")
    };
    let w2 = tokio::spawn(w2);
    while s.shared.key_waits.blocked() < 2 {
        tokio::task::yield_now().await;
    }
    // Both pushes land before either client runs, as inside one EXEC.
    pusher.run(&["RPUSH", "a", "x"]);
    pusher.run(&["RPUSH", "b", "y"]);
    assert_eq!(w1.await.unwrap(), arr(&["a", "x"]));
    let second = tokio::time::timeout(std::time::Duration::from_secs(10), w2).await;
    assert_eq!(
        second.expect("the second client was never woken").unwrap(),
        arr(&["b", "y"])
    );
}
