//! Lists through the `redis` crate, as an application uses them: a queue with RPUSH / LPOP,
//! blocking pops woken by another connection (the waiters of python-redis-lock), FIFO order of
//! blocked clients, and lists across a restart.

use crate::support::{call, cmd, start, start_with, until_blocked};
use llmcached::persistence::FsyncPolicy;

const WRONGTYPE: &str = "ERROR:WRONGTYPE Operation against a key holding the wrong kind of value";

#[tokio::test]
async fn a_work_queue_session() {
    let s = start().await;
    for resp3 in [false, true] {
        let mut c = s.conn(resp3).await;
        assert_eq!(cmd(&mut c, &["FLUSHDB"]).await, "OK");
        assert_eq!(cmd(&mut c, &["RPUSH", "jobs", "a", "b", "c"]).await, "3");
        assert_eq!(cmd(&mut c, &["LPUSH", "jobs", "urgent"]).await, "4");
        assert_eq!(
            cmd(&mut c, &["LRANGE", "jobs", "0", "-1"]).await,
            "[urgent,a,b,c]"
        );
        assert_eq!(cmd(&mut c, &["TYPE", "jobs"]).await, "list");
        assert_eq!(cmd(&mut c, &["LPOP", "jobs"]).await, "urgent");
        assert_eq!(
            cmd(&mut c, &["LMOVE", "jobs", "working", "LEFT", "RIGHT"]).await,
            "a"
        );
        assert_eq!(cmd(&mut c, &["LREM", "working", "1", "a"]).await, "1");
        assert_eq!(cmd(&mut c, &["EXISTS", "working"]).await, "0");
        assert_eq!(cmd(&mut c, &["EXPIRE", "jobs", "100"]).await, "1");
        assert_eq!(cmd(&mut c, &["RPUSH", "jobs", "d"]).await, "3");
        // A push keeps the TTL.
        let ttl: i64 = cmd(&mut c, &["TTL", "jobs"]).await.parse().unwrap();
        assert!((90..=100).contains(&ttl), "{ttl}");
        assert_eq!(cmd(&mut c, &["RPOP", "jobs", "5"]).await, "[d,c,b]");
        assert_eq!(cmd(&mut c, &["LPOP", "jobs"]).await, "(nil)");
        assert_eq!(cmd(&mut c, &["LPOP", "jobs", "2"]).await, "(nil)");
        assert_eq!(
            cmd(&mut c, &["LPOP", "jobs", "-2"]).await,
            "ERROR:ERR value is out of range, must be positive"
        );
        assert_eq!(cmd(&mut c, &["SET", "s", "x"]).await, "OK");
        assert_eq!(cmd(&mut c, &["RPUSH", "s", "x"]).await, WRONGTYPE);
        assert_eq!(cmd(&mut c, &["BLPOP", "s", "0"]).await, WRONGTYPE);
        assert_eq!(cmd(&mut c, &["BLPOP", "none", "0.01"]).await, "(nil)");
        assert_eq!(cmd(&mut c, &["SCAN", "0", "TYPE", "list"]).await, "[0,[]]");
        cmd(&mut c, &["RPUSH", "l", "x"]).await;
        assert_eq!(cmd(&mut c, &["SCAN", "0", "TYPE", "list"]).await, "[0,[l]]");
    }
}

/// The waiter of a lock: BLPOP blocks until another connection pushes, and gets that item.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blpop_is_woken_by_an_lpush_from_another_connection() {
    let s = start().await;
    let mut waiter = s.conn(false).await;
    let mut other = s.conn(false).await;
    let blocked =
        tokio::spawn(async move { cmd(&mut waiter, &["BLPOP", "lock:signal", "0"]).await });
    until_blocked(&mut other, 1).await;
    let list = cmd(&mut other, &["CLIENT", "LIST"]).await;
    assert!(
        list.contains("flags=b") && list.contains("cmd=blpop"),
        "{list}"
    );
    assert_eq!(cmd(&mut other, &["LPUSH", "lock:signal", "1"]).await, "1");
    assert_eq!(blocked.await.unwrap(), "[lock:signal,1]");
    until_blocked(&mut other, 0).await;
    assert_eq!(cmd(&mut other, &["EXISTS", "lock:signal"]).await, "0");
}

/// CLIENT UNBLOCK ends a blocked pop as at its timeout, or with `-UNBLOCKED`; a client that is
/// not blocked is left alone (0).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_unblock_ends_a_blocked_pop() {
    let s = start().await;
    let mut admin = s.conn(false).await;
    for (how, want) in [
        (None, "(nil)"),
        (Some("TIMEOUT"), "(nil)"),
        (
            Some("ERROR"),
            "ERROR:UNBLOCKED client unblocked via CLIENT UNBLOCK",
        ),
    ] {
        let mut waiter = s.conn(false).await;
        let id = cmd(&mut waiter, &["CLIENT", "ID"]).await;
        assert_eq!(cmd(&mut admin, &["CLIENT", "UNBLOCK", &id]).await, "0");
        let blocked = tokio::spawn(async move { cmd(&mut waiter, &["BLPOP", "q", "0"]).await });
        until_blocked(&mut admin, 1).await;
        let mut argv = vec!["CLIENT", "UNBLOCK", &id];
        argv.extend(how);
        assert_eq!(cmd(&mut admin, &argv).await, "1");
        assert_eq!(blocked.await.unwrap(), want, "{how:?}");
        until_blocked(&mut admin, 0).await;
    }
    // The queue was left: a push now stays in the list.
    assert_eq!(cmd(&mut admin, &["RPUSH", "q", "job"]).await, "1");
    assert_eq!(
        cmd(&mut admin, &["CLIENT", "UNBLOCK", "1", "LATER"]).await,
        "ERROR:ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
    );
    assert_eq!(
        cmd(&mut admin, &["CLIENT", "UNBLOCK", "x"]).await,
        "ERROR:ERR value is not an integer or out of range"
    );
}

/// python-redis-lock's release: a script pushes to the signal list, and its waiter is woken
/// though nothing else is sent after the script (the serve follows the script's own reply).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blpop_is_woken_by_a_script_that_pushes() {
    let s = start().await;
    let mut waiter = s.conn(false).await;
    let mut holder = s.conn(false).await;
    // A bounded wait: without the wake it answers nil after 20 s instead of hanging.
    let blocked = tokio::spawn(async move { cmd(&mut waiter, &["BLPOP", "lock:sig", "20"]).await });
    until_blocked(&mut holder, 1).await;
    let release = "redis.call('del', KEYS[1]); redis.call('lpush', KEYS[1], 1); \
                   redis.call('pexpire', KEYS[1], 1000); return 0";
    assert_eq!(
        cmd(&mut holder, &["EVAL", release, "1", "lock:sig"]).await,
        "0"
    );
    assert_eq!(blocked.await.unwrap(), "[lock:sig,1]");
}

/// Redis's "BLPOP when new key is moved into place": a list that RENAME (or COPY) puts at the
/// key a client is blocked on wakes it; a string moved there does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blpop_is_woken_when_rename_or_copy_moves_a_list_into_place() {
    let s = start().await;
    let mut other = s.conn(false).await;
    for (verb, extra) in [("RENAME", None), ("COPY", Some("REPLACE"))] {
        let mut waiter = s.conn(false).await;
        let blocked = tokio::spawn(async move { cmd(&mut waiter, &["BLPOP", "foo", "0"]).await });
        until_blocked(&mut other, 1).await;
        cmd(&mut other, &["SET", "str", "x"]).await;
        assert_eq!(cmd(&mut other, &["COPY", "str", "foo"]).await, "1");
        cmd(&mut other, &["DEL", "foo"]).await;
        until_blocked(&mut other, 1).await;
        assert_eq!(
            cmd(&mut other, &["RPUSH", "bob", "abc", "def", "hij"]).await,
            "3"
        );
        let mut argv = vec![verb, "bob", "foo"];
        argv.extend(extra);
        let moved = cmd(&mut other, &argv).await;
        assert!(moved == "OK" || moved == "1", "{verb}: {moved}");
        assert_eq!(blocked.await.unwrap(), "[foo,abc]", "{verb}");
        until_blocked(&mut other, 0).await;
        cmd(&mut other, &["DEL", "foo", "bob", "str"]).await;
    }
}

/// Two clients blocked on one key are served in the order they blocked, as Redis serves them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_waiters_are_served_first_come_first_served() {
    let s = start().await;
    let mut pusher = s.conn(true).await;
    let mut first = s.conn(false).await;
    let mut second = s.conn(true).await;
    let a = tokio::spawn(async move { cmd(&mut first, &["BRPOP", "q", "0"]).await });
    until_blocked(&mut pusher, 1).await;
    let b = tokio::spawn(async move {
        cmd(&mut second, &["BLMOVE", "q", "done", "LEFT", "RIGHT", "0"]).await
    });
    until_blocked(&mut pusher, 2).await;
    assert_eq!(cmd(&mut pusher, &["RPUSH", "q", "one"]).await, "1");
    assert_eq!(a.await.unwrap(), "[q,one]");
    // The second is still blocked: the first item went to the first waiter only.
    until_blocked(&mut pusher, 1).await;
    assert_eq!(cmd(&mut pusher, &["RPUSH", "q", "two"]).await, "1");
    assert_eq!(b.await.unwrap(), "two");
    assert_eq!(
        cmd(&mut pusher, &["LRANGE", "done", "0", "-1"]).await,
        "[two]"
    );
    // A timed-out wait answers nil in both protocols.
    assert_eq!(
        cmd(&mut pusher, &["BRPOPLPUSH", "q", "d", "0.05"]).await,
        "(nil)"
    );
    let v = call(&mut pusher, &["BLPOP", "q", "0.01"]).await;
    assert!(matches!(v, redis::Value::Nil), "{v:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let tune = |p: std::path::PathBuf| {
        move |c: &mut llmcached::config::Config| {
            c.dir = p;
            c.appendonly = true;
            c.appendfsync = FsyncPolicy::Always;
        }
    };
    let s = start_with(tune(path.clone())).await;
    s.shared.loaded().await;
    let mut c = s.conn(false).await;
    assert_eq!(cmd(&mut c, &["RPUSH", "l", "a", "", "b", "a"]).await, "4");
    assert_eq!(cmd(&mut c, &["LPOP", "l"]).await, "a");
    assert_eq!(cmd(&mut c, &["RPUSH", "gone", "x"]).await, "1");
    assert_eq!(cmd(&mut c, &["RPOP", "gone"]).await, "x");
    assert_eq!(cmd(&mut c, &["RPUSH", "ttl", "x"]).await, "1");
    assert_eq!(cmd(&mut c, &["EXPIRE", "ttl", "1000"]).await, "1");
    drop(c);
    s.stop().await.unwrap();
    let s = start_with(tune(path)).await;
    s.shared.loaded().await;
    let mut c = s.conn(false).await;
    assert_eq!(cmd(&mut c, &["LRANGE", "l", "0", "-1"]).await, "[,b,a]");
    assert_eq!(cmd(&mut c, &["EXISTS", "gone"]).await, "0");
    let ttl: i64 = cmd(&mut c, &["TTL", "ttl"]).await.parse().unwrap();
    assert!((990..=1000).contains(&ttl), "{ttl}");
    // SAVE writes the lists into a base; they come back from it too.
    assert_eq!(cmd(&mut c, &["SAVE"]).await, "OK");
    drop(c);
    s.stop().await.unwrap();
    let s = start_with(tune(dir.path().to_path_buf())).await;
    s.shared.loaded().await;
    let mut c = s.conn(false).await;
    assert_eq!(cmd(&mut c, &["LRANGE", "l", "0", "-1"]).await, "[,b,a]");
    assert_eq!(cmd(&mut c, &["TYPE", "l"]).await, "list");
}

/// Redis's "Linked LMOVEs" (tests/unit/type/list.tcl): two BLMOVEs chained through list2 have
/// moved the item to list3 by the time RPUSH replies, because blocked clients are served right
/// after the command that wrote their key and before its reply. Before that fix the item was
/// still on its way when the next command ran.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linked_lmoves_are_served_before_the_push_replies() {
    let s = start().await;
    let mut r = s.conn(false).await;
    let mut rd1 = s.conn(false).await;
    let mut rd2 = s.conn(false).await;
    let a = tokio::spawn(async move {
        cmd(
            &mut rd1,
            &["BLMOVE", "list1", "list2", "RIGHT", "LEFT", "0"],
        )
        .await
    });
    until_blocked(&mut r, 1).await;
    let b = tokio::spawn(async move {
        cmd(
            &mut rd2,
            &["BLMOVE", "list2", "list3", "LEFT", "RIGHT", "0"],
        )
        .await
    });
    until_blocked(&mut r, 2).await;
    assert_eq!(cmd(&mut r, &["RPUSH", "list1", "foo"]).await, "1");
    assert_eq!(cmd(&mut r, &["LRANGE", "list1", "0", "-1"]).await, "[]");
    assert_eq!(cmd(&mut r, &["LRANGE", "list2", "0", "-1"]).await, "[]");
    assert_eq!(cmd(&mut r, &["LRANGE", "list3", "0", "-1"]).await, "[foo]");
    assert_eq!(a.await.unwrap(), "foo");
    assert_eq!(b.await.unwrap(), "foo");
}

/// A push inside MULTI serves a blocked client after EXEC, once, with the state EXEC left:
/// an LPUSH followed by a DEL in the same transaction serves nobody (Redis's "BLPOP, LPUSH +
/// DEL should not awake blocked client").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_and_del_in_one_exec_serves_nobody() {
    let s = start().await;
    let mut r = s.conn(false).await;
    let mut waiter = s.conn(false).await;
    let w = tokio::spawn(async move { cmd(&mut waiter, &["BLPOP", "l", "0"]).await });
    until_blocked(&mut r, 1).await;
    let mut pipe = redis::pipe();
    pipe.atomic()
        .cmd("LPUSH")
        .arg("l")
        .arg("a")
        .cmd("DEL")
        .arg("l");
    let _: redis::Value = pipe.query_async(&mut r).await.unwrap();
    until_blocked(&mut r, 1).await;
    assert_eq!(cmd(&mut r, &["RPUSH", "l", "b"]).await, "1");
    assert_eq!(w.await.unwrap(), "[l,b]");
}

/// LMPOP and BLMPOP through a client; BLMPOP woken by another connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blmpop_is_woken_by_a_push_to_any_of_its_keys() {
    let s = start().await;
    let mut r = s.conn(true).await;
    let mut waiter = s.conn(false).await;
    let w = tokio::spawn(async move {
        cmd(
            &mut waiter,
            &["BLMPOP", "0", "2", "a", "b", "LEFT", "COUNT", "3"],
        )
        .await
    });
    until_blocked(&mut r, 1).await;
    assert_eq!(cmd(&mut r, &["RPUSH", "b", "1", "2"]).await, "2");
    assert_eq!(w.await.unwrap(), "[b,[1,2]]");
    assert_eq!(cmd(&mut r, &["LMPOP", "1", "b", "LEFT"]).await, "(nil)");
}
