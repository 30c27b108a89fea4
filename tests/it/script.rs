//! Scripting as a user meets it: EVAL / EVALSHA with KEYS and ARGV, the NOSCRIPT then SCRIPT
//! LOAD path, Redis's conversions and error texts, EVAL_RO, -BUSY and SCRIPT KILL from another
//! connection, atomicity, ACL per `redis.call`, and a script's writes surviving a restart.

use crate::support::{cmd, start, Proc};

const SET_AND_GET: &str = "redis.call('set', KEYS[1], ARGV[1]) return redis.call('get', KEYS[1])";

#[tokio::test]
async fn a_session_with_eval_evalsha_and_script_load() {
    let server = start().await;
    let mut c = server.conn(false).await;
    assert_eq!(
        cmd(&mut c, &["EVAL", SET_AND_GET, "1", "greeting", "hello"]).await,
        "hello"
    );
    assert_eq!(cmd(&mut c, &["GET", "greeting"]).await, "hello");
    // What a client library does: EVALSHA first, SCRIPT LOAD on NOSCRIPT, EVALSHA again.
    let sha = llmcached::script::sha1hex(b"return {KEYS[1], ARGV[1], 3.99, true, false, 'after'}");
    assert_eq!(
        cmd(&mut c, &["EVALSHA", &sha, "1", "k", "a"]).await,
        "ERROR:NOSCRIPT No matching script. Please use EVAL."
    );
    let body = "return {KEYS[1], ARGV[1], 3.99, true, false, 'after'}";
    assert_eq!(cmd(&mut c, &["SCRIPT", "LOAD", body]).await, sha);
    // `false` is a null element; a table would stop at its first `nil`.
    assert_eq!(
        cmd(&mut c, &["EVALSHA", &sha.to_uppercase(), "1", "k", "a"]).await,
        "[k,a,3,1,(nil),after]"
    );
    assert_eq!(
        cmd(&mut c, &["EVAL", "return {1, 2, nil, 4}", "0"]).await,
        "[1,2]"
    );
    assert_eq!(
        cmd(&mut c, &["SCRIPT", "EXISTS", &sha, "ffff"]).await,
        "[1,0]"
    );
    let info = cmd(&mut c, &["INFO", "memory"]).await;
    assert!(info.contains("number_of_cached_scripts:3"), "{info}");
    assert_eq!(cmd(&mut c, &["SCRIPT", "FLUSH"]).await, "OK");
    assert_eq!(cmd(&mut c, &["SCRIPT", "EXISTS", &sha]).await, "[0]");
    assert_eq!(
        cmd(&mut c, &["EVAL", "return redis.call('incr', 'n')", "0"]).await,
        "1"
    );
    assert_eq!(
        cmd(&mut c, &["EVAL", "return {ok='fine'}", "0"]).await,
        "fine"
    );
    assert_eq!(
        cmd(
            &mut c,
            &["EVAL", "return redis.error_reply('MY Error')", "0"]
        )
        .await,
        "ERROR:MY Error"
    );
    assert_eq!(
        cmd(&mut c, &["EVAL", "return redis.call('get', 'nokey')", "0"]).await,
        "(nil)"
    );
    // Redis 7.0.15's words for a failed call, with the script's SHA1 and line.
    let body = "return redis.call('incr', 'greeting')";
    assert_eq!(
        cmd(&mut c, &["EVAL", body, "0"]).await,
        format!(
            "ERROR:ERR value is not an integer or out of range script: {}, on @user_script:1.",
            llmcached::script::sha1hex(body.as_bytes())
        )
    );
    assert_eq!(
        cmd(
            &mut c,
            &["EVAL", "return redis.pcall('incr', 'greeting')", "0"]
        )
        .await,
        "ERROR:ERR value is not an integer or out of range"
    );
    assert_eq!(
        cmd(&mut c, &["EVAL", "return 1", "2", "a"]).await,
        "ERROR:ERR Number of keys can't be greater than number of args"
    );
    assert_eq!(
        cmd(&mut c, &["EVAL", "return 1", "-1"]).await,
        "ERROR:ERR Number of keys can't be negative"
    );
    assert!(cmd(&mut c, &["EVAL", "return os.time()", "0"])
        .await
        .contains("nonexistent global variable 'os'"));
    assert!(cmd(&mut c, &["EVAL", "x = 1", "0"])
        .await
        .contains("Attempt to modify a readonly table"));
    assert_eq!(
        cmd(
            &mut c,
            &["EVAL", "return cjson.decode(ARGV[1]).a", "0", "{\"a\":7}"]
        )
        .await,
        "7"
    );
    assert_eq!(cmd(&mut c, &["PING"]).await, "PONG");
}

#[tokio::test]
async fn eval_ro_and_noscript_commands_are_refused() {
    let server = start().await;
    let mut c = server.conn(false).await;
    let body = "return redis.call('set', 'a', 'b')";
    assert_eq!(
        cmd(&mut c, &["EVAL_RO", body, "0"]).await,
        format!(
            "ERROR:ERR Write commands are not allowed from read-only scripts. script: {}, on @user_script:1.",
            llmcached::script::sha1hex(body.as_bytes())
        )
    );
    assert_eq!(cmd(&mut c, &["EXISTS", "a"]).await, "0");
    cmd(&mut c, &["SET", "a", "1"]).await;
    assert_eq!(
        cmd(&mut c, &["EVAL_RO", "return redis.call('get', 'a')", "0"]).await,
        "1"
    );
    for inner in [
        "'multi'",
        "'exec'",
        "'eval', 'return 1', '0'",
        "'script', 'load', 'return 1'",
    ] {
        let body = format!("return redis.pcall({inner})");
        assert_eq!(
            cmd(&mut c, &["EVAL", &body, "0"]).await,
            "ERROR:ERR This Redis command is not allowed from script",
            "{inner}"
        );
    }
    for unknown in ["'nosuch'", "'client', 'nosuch'"] {
        let body = format!("return redis.pcall({unknown})");
        assert_eq!(
            cmd(&mut c, &["EVAL", &body, "0"]).await,
            "ERROR:ERR Unknown Redis command called from script"
        );
    }
    // Inside MULTI a script is queued and runs in EXEC.
    assert_eq!(cmd(&mut c, &["MULTI"]).await, "OK");
    assert_eq!(
        cmd(&mut c, &["EVAL", "return redis.call('incr', 'a')", "0"]).await,
        "QUEUED"
    );
    assert_eq!(cmd(&mut c, &["EXEC"]).await, "[2]");
}

#[tokio::test]
async fn resp3_conversions_after_setresp() {
    let server = start().await;
    let mut c = server.conn(true).await;
    cmd(&mut c, &["HSET", "h", "f", "v"]).await;
    assert_eq!(
        cmd(
            &mut c,
            &[
                "EVAL",
                "redis.setresp(3) return redis.call('hgetall', 'h').map.f",
                "0"
            ]
        )
        .await,
        "v"
    );
    assert_eq!(
        cmd(&mut c, &["EVAL", "return redis.call('hgetall', 'h')", "0"]).await,
        "[f,v]"
    );
    assert_eq!(
        cmd(
            &mut c,
            &["EVAL", "redis.setresp(3) return {map={a=1}}", "0"]
        )
        .await,
        "{a=1}"
    );
    assert_eq!(
        cmd(&mut c, &["EVAL", "return {double=3.5}", "0"]).await,
        "3.5"
    );
    assert_eq!(
        cmd(&mut c, &["EVAL", "redis.setresp(3) return false", "0"]).await,
        "false"
    );
    assert_eq!(cmd(&mut c, &["EVAL", "return false", "0"]).await, "(nil)");
}

#[tokio::test]
async fn a_busy_script_answers_busy_and_script_kill_stops_it() {
    let server = start().await;
    let mut runner = server.conn(false).await;
    let mut other = server.conn(false).await;
    assert_eq!(
        cmd(&mut other, &["CONFIG", "SET", "lua-time-limit", "50"]).await,
        "OK"
    );
    assert_eq!(
        cmd(&mut other, &["CONFIG", "GET", "busy-reply-threshold"]).await,
        "[busy-reply-threshold,50]"
    );
    assert_eq!(
        cmd(&mut other, &["CONFIG", "GET", "lua-time-limit"]).await,
        "[lua-time-limit,50]"
    );
    assert_eq!(
        cmd(&mut other, &["SCRIPT", "KILL"]).await,
        "ERROR:NOTBUSY No scripts in execution right now."
    );
    let body = "local i = 0 while true do i = i + 1 end";
    let script = tokio::spawn(async move { cmd(&mut runner, &["EVAL", body, "0"]).await });
    // Every command waits for the script, then is refused once it has run 50 ms.
    loop {
        let r = cmd(&mut other, &["GET", "x"]).await;
        if r.starts_with("ERROR:BUSY") {
            assert_eq!(r, "ERROR:BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
            break;
        }
        assert_eq!(r, "(nil)");
    }
    assert_eq!(cmd(&mut other, &["SCRIPT", "KILL"]).await, "OK");
    assert_eq!(
        script.await.unwrap(),
        format!(
            "ERROR:ERR Script killed by user with SCRIPT KILL... script: {}, on @user_script:1.",
            llmcached::script::sha1hex(body.as_bytes())
        )
    );
    assert_eq!(cmd(&mut other, &["GET", "x"]).await, "(nil)");

    // A script that wrote cannot be killed; it ends on its own, after one to two seconds (at
    // least one whole second, so that it runs long past the busy threshold: ending at the
    // first clock second, it could end within 50 ms, before any command saw it busy).
    let mut runner = server.conn(false).await;
    let body = "redis.call('set', 'w', '1') local t = redis.call('time') while true do local n = redis.call('time') if n[1] - t[1] >= 2 then break end end return 'done'";
    let script = tokio::spawn(async move { cmd(&mut runner, &["EVAL", body, "0"]).await });
    // Once other commands are turned away as BUSY the script is 50 ms in, long past its
    // write: a kill must be refused. (Killing before the write would be allowed.)
    loop {
        let r = cmd(&mut other, &["GET", "x"]).await;
        if r.starts_with("ERROR:BUSY") {
            break;
        }
    }
    let r = cmd(&mut other, &["SCRIPT", "KILL"]).await;
    assert!(r.starts_with("ERROR:UNKILLABLE"), "{r}");
    assert_eq!(script.await.unwrap(), "done");
    assert_eq!(cmd(&mut other, &["GET", "w"]).await, "1");
}

/// Redis's "MULTI and script timeout": inside MULTI, a command sent while a script is busy is
/// refused (not queued) and the transaction then aborts; none of it runs.
#[tokio::test]
async fn commands_queued_while_a_script_is_busy_abort_the_transaction() {
    let server = start().await;
    let mut runner = server.conn(false).await;
    let mut other = server.conn(false).await;
    let mut tx = server.conn(false).await;
    assert_eq!(
        cmd(&mut other, &["CONFIG", "SET", "busy-reply-threshold", "50"]).await,
        "OK"
    );
    assert_eq!(cmd(&mut other, &["SET", "xx", "1"]).await, "OK");
    // A transaction queued before the script, executed while it is busy ("EXEC and script
    // timeout"): EXEC itself is refused, the transaction discarded.
    let mut early = server.conn(false).await;
    assert_eq!(cmd(&mut early, &["MULTI"]).await, "OK");
    assert_eq!(cmd(&mut early, &["INCR", "xx"]).await, "QUEUED");
    let body = "local i = 0 while true do i = i + 1 end";
    let script = tokio::spawn(async move { cmd(&mut runner, &["EVAL", body, "0"]).await });
    // Each GET waits for the running script, then is refused once it is busy; bounded, so a
    // script that never starts fails the test instead of hanging it.
    let mut busy = false;
    for _ in 0..10_000 {
        if cmd(&mut other, &["GET", "x"])
            .await
            .starts_with("ERROR:BUSY")
        {
            busy = true;
            break;
        }
    }
    assert!(busy, "the script never turned busy");
    assert_eq!(
        cmd(&mut early, &["EXEC"]).await,
        "ERROR:EXECABORT Transaction discarded because of: BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
    );
    assert_eq!(cmd(&mut tx, &["MULTI"]).await, "OK");
    assert!(cmd(&mut tx, &["INCR", "xx"])
        .await
        .starts_with("ERROR:BUSY"));
    assert_eq!(cmd(&mut other, &["SCRIPT", "KILL"]).await, "OK");
    assert!(script.await.unwrap().contains("Script killed"));
    // The aborted transaction left its connection out of MULTI.
    assert_eq!(cmd(&mut early, &["PING", "out"]).await, "out");
    assert_eq!(cmd(&mut tx, &["INCR", "xx"]).await, "QUEUED");
    assert_eq!(
        cmd(&mut tx, &["EXEC"]).await,
        "ERROR:EXECABORT Transaction discarded because of previous errors."
    );
    assert_eq!(cmd(&mut other, &["GET", "xx"]).await, "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_runs_in_the_middle_of_a_script() {
    let server = start().await;
    let mut runner = server.conn(false).await;
    let mut reader = server.conn(false).await;
    cmd(&mut reader, &["SET", "k", "0"]).await;
    let body = "redis.call('set', 'k', 'half') for i = 1, 3000000 do end redis.call('set', 'k', 'done') return 1";
    let script = tokio::spawn(async move { cmd(&mut runner, &["EVAL", body, "0"]).await });
    let mut seen = Vec::new();
    loop {
        let v = cmd(&mut reader, &["GET", "k"]).await;
        let done = v == "done";
        seen.push(v);
        if done {
            break;
        }
    }
    assert_eq!(script.await.unwrap(), "1");
    assert!(
        !seen.iter().any(|v| v == "half"),
        "a reader saw the middle of a script"
    );
}

#[tokio::test]
async fn each_redis_call_is_checked_against_the_callers_acl_user() {
    let server = start().await;
    let mut admin = server.conn(false).await;
    assert_eq!(
        cmd(
            &mut admin,
            &["ACL", "SETUSER", "reader", "on", ">pw", "~*", "+@all", "-set"]
        )
        .await,
        "OK"
    );
    let mut c = server.conn(false).await;
    assert_eq!(cmd(&mut c, &["AUTH", "reader", "pw"]).await, "OK");
    let r = cmd(
        &mut c,
        &["EVAL", "return redis.pcall('set', 'a', 'b')", "0"],
    )
    .await;
    assert_eq!(
        r,
        "ERROR:ERR The user executing the script can't run this command or subcommand"
    );
    assert_eq!(
        cmd(&mut c, &["EVAL", "return redis.call('incr', 'a')", "0"]).await,
        "1"
    );
    assert_eq!(cmd(&mut admin, &["GET", "a"]).await, "1");
    assert_eq!(
        cmd(
            &mut admin,
            &["ACL", "SETUSER", "keyed", "on", ">pw", "~ok:*", "+@all"]
        )
        .await,
        "OK"
    );
    let mut k = server.conn(false).await;
    assert_eq!(cmd(&mut k, &["AUTH", "keyed", "pw"]).await, "OK");
    assert_eq!(
        cmd(&mut k, &["EVAL", "return redis.pcall('set', 'no:a', 'b')", "0"]).await,
        "ERROR:ERR The user executing the script can't access at least one of the keys mentioned in the command arguments"
    );
    assert_eq!(
        cmd(
            &mut k,
            &["EVAL", "return redis.call('set', 'ok:a', 'b')", "0"]
        )
        .await,
        "OK"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripts_writes_are_journaled_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let args = [
        "--dir",
        &d,
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--save",
        "",
    ];
    let proc = Proc::start(&args);
    let mut c = proc.conn().await;
    let body = "redis.call('set', KEYS[1], ARGV[1]) redis.call('hset', KEYS[2], 'f', ARGV[1]) redis.call('incrby', KEYS[3], 5) return 'ok'";
    assert_eq!(
        cmd(&mut c, &["EVAL", body, "3", "s", "h", "n", "v"]).await,
        "ok"
    );
    drop(c);
    proc.kill();
    let proc = Proc::start(&args);
    let mut c = proc.conn().await;
    assert_eq!(cmd(&mut c, &["GET", "s"]).await, "v");
    assert_eq!(cmd(&mut c, &["HGET", "h", "f"]).await, "v");
    assert_eq!(cmd(&mut c, &["GET", "n"]).await, "5");
    // The script cache is not persisted, as in Redis.
    let sha = llmcached::script::sha1hex(body.as_bytes());
    assert_eq!(cmd(&mut c, &["SCRIPT", "EXISTS", &sha]).await, "[0]");
}
