use super::*;

/// A host that answers every command with what the test gives, and records the calls.
struct Fake {
    calls: Vec<Vec<Bytes>>,
    reply: Reply,
}

impl Host for Fake {
    fn call(&mut self, args: Vec<Bytes>, _resp3: bool) -> Reply {
        self.calls.push(args);
        self.reply.clone()
    }
}

fn eval(scripts: &Scripts, body: &str, reply: Reply) -> (Reply, Vec<Vec<Bytes>>) {
    let mut host = Fake {
        calls: Vec::new(),
        reply,
    };
    let keys = [Bytes::from_static(b"k1")];
    let argv = [Bytes::from_static(b"a1")];
    let out = scripts.run(Source::Body(body.as_bytes()), &keys, &argv, &mut host);
    let Outcome::Reply(r) = out else {
        panic!("not run")
    };
    (r, host.calls)
}

fn err(scripts: &Scripts, body: &str) -> String {
    match eval(scripts, body, Reply::Ok).0 {
        Reply::Error(e) => e,
        other => panic!("{body}: {other:?}"),
    }
}

#[test]
fn errors_are_worded_as_redis_7_0() {
    let s = Scripts::default();
    let sha = sha1hex(b"return foo");
    assert_eq!(
        err(&s, "return foo"),
        format!("ERR user_script:1: Script attempted to access nonexistent global variable 'foo' script: {sha}, on @user_script:1.")
    );
    let sha = sha1hex(b"foo=1");
    assert_eq!(
        err(&s, "foo=1"),
        format!("ERR user_script:1: Attempt to modify a readonly table script: {sha}, on @user_script:1.")
    );
    assert_eq!(
        err(&s, "return ("),
        "ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'"
    );
    let body = "local x = 1\nerror('line2')";
    assert_eq!(
        err(&s, body),
        format!(
            "ERR user_script:2: line2 script: {}, on @user_script:2.",
            sha1hex(body.as_bytes())
        )
    );
    let body = "error({err='TAB err'})";
    assert_eq!(
        err(&s, body),
        format!(
            "TAB err script: {}, on @user_script:1.",
            sha1hex(body.as_bytes())
        )
    );
    let body = "return redis.setresp(4)";
    assert_eq!(
        err(&s, body),
        format!(
            "ERR RESP version must be 2 or 3. script: {}, on @user_script:1.",
            sha1hex(body.as_bytes())
        )
    );
    assert_eq!(err(&s, "return redis.error_reply('My Error')"), "My Error");
    for name in [
        "os", "io", "require", "loadfile", "dofile", "print", "debug",
    ] {
        let e = err(&s, &format!("return {name}"));
        assert!(e.contains("nonexistent global variable"), "{name}: {e}");
    }
    assert!(err(&s, "redis.call = nil").contains("readonly table"));
    assert!(err(&s, "string.x = 1").contains("readonly table"));
    assert!(err(&s, "rawset(_G, 'x', 1)").contains("readonly table"));
    assert!(err(&s, "setmetatable(_G, nil)").contains("protected metatable"));
}

#[test]
fn redis_call_raises_and_pcall_returns_the_error() {
    let s = Scripts::default();
    let (r, calls) = eval(
        &s,
        "return redis.call('get', KEYS[1], ARGV[1], 3.7, 2)",
        Reply::bulk("v"),
    );
    assert_eq!(r, Reply::bulk("v"));
    assert_eq!(
        calls,
        vec![vec![
            Bytes::from("get"),
            Bytes::from("k1"),
            Bytes::from("a1"),
            Bytes::from("3.7000000000000002"),
            Bytes::from("2")
        ]]
    );
    let no = Reply::err("value is not an integer or out of range");
    let body = "return redis.call('incr', 'x')";
    assert_eq!(
        eval(&s, body, no.clone()).0,
        Reply::Error(format!(
            "ERR value is not an integer or out of range script: {}, on @user_script:1.",
            sha1hex(body.as_bytes())
        ))
    );
    assert_eq!(
        eval(&s, "return redis.pcall('incr', 'x')", no.clone()).0,
        no
    );
    assert_eq!(
        eval(
            &s,
            "local ok, e = pcall(redis.call, 'incr', 'x') return e",
            no.clone()
        )
        .0,
        no
    );
    assert_eq!(
        eval(&s, "return redis.pcall()", Reply::Ok).0,
        Reply::err("Please specify at least one argument for this redis lib call")
    );
    assert_eq!(
        eval(&s, "return redis.pcall('set', 'k', {})", Reply::Ok).0,
        Reply::err("Lua redis lib command arguments must be strings or integers")
    );
    assert_eq!(
        eval(&s, "return type(redis.call('get', 'nokey'))", Reply::Nil).0,
        Reply::bulk("boolean")
    );
    assert_eq!(
        eval(&s, "return redis.call('set', 'a', 'b')", Reply::Ok).0,
        Reply::Status("OK".into())
    );
}

#[test]
fn setresp_3_changes_what_replies_become() {
    let s = Scripts::default();
    let map = Reply::Map(vec![(Reply::bulk("f"), Reply::bulk("v"))]);
    let (r, _) = eval(
        &s,
        "redis.setresp(3) return redis.call('hgetall', 'h').map.f",
        map.clone(),
    );
    assert_eq!(r, Reply::bulk("v"));
    let (r, _) = eval(&s, "return redis.call('hgetall', 'h')[2]", map);
    assert_eq!(r, Reply::bulk("v"));
    let (r, _) = eval(
        &s,
        "redis.setresp(3) return redis.call('get', 'nokey') == nil",
        Reply::Nil,
    );
    assert_eq!(r, Reply::Bool(true));
    // Each script starts in RESP2 again.
    let (r, _) = eval(&s, "return true", Reply::Nil);
    assert_eq!(r, Reply::Int(1));
}

#[test]
fn cache_load_exists_flush() {
    let s = Scripts::default();
    let sha = s.load(b"return 1").unwrap();
    assert_eq!(sha, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
    assert!(s.exists(sha.to_ascii_uppercase().as_bytes()));
    let mut host = Fake {
        calls: vec![],
        reply: Reply::Ok,
    };
    assert_eq!(
        s.run(Source::Sha(sha.as_bytes()), &[], &[], &mut host),
        Outcome::Reply(Reply::Int(1))
    );
    s.flush();
    assert!(!s.exists(sha.as_bytes()));
    assert_eq!(
        s.run(Source::Sha(sha.as_bytes()), &[], &[], &mut host),
        Outcome::NoScript
    );
    assert!(s.load(b"return (").is_err());
}

#[test]
fn libraries_are_there() {
    let s = Scripts::default();
    let cases = [
        (
            "return redis.sha1hex('')",
            Reply::bulk("da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ),
        (
            "return cjson.encode({1,2,{a=1}})",
            Reply::bulk("[1,2,{\"a\":1}]"),
        ),
        ("return bit.band(0xff, 0x0f)", Reply::Int(15)),
        ("return redis.LOG_WARNING", Reply::Int(3)),
        (
            "redis.log(redis.LOG_NOTICE, 'hello', 'there') return 1",
            Reply::Int(1),
        ),
        ("return #KEYS + #ARGV", Reply::Int(2)),
        ("return string.format('%d', 3)", Reply::bulk("3")),
        ("return loadstring('return 5')()", Reply::Int(5)),
    ];
    for (body, want) in cases {
        assert_eq!(eval(&s, body, Reply::Ok).0, want, "{body}");
    }
}

#[test]
fn a_killed_script_stops_with_redis_error() {
    let s = Scripts::default();
    let body = "local i = 0 while true do i = i + 1 end";
    let run = s.gate.run_state();
    // The kill flag is raised as soon as the script starts (a second thread would do this).
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while s.gate.kill().is_err() {
                std::thread::yield_now();
            }
        });
        let (r, _) = eval(&s, body, Reply::Ok);
        assert_eq!(
            r,
            Reply::Error(format!(
                "ERR Script killed by user with SCRIPT KILL... script: {}, on @user_script:1.",
                sha1hex(body.as_bytes())
            ))
        );
    });
    assert!(!run.is_killed());
    assert!(!s.gate.script_running());
}

#[test]
fn g17_prints_as_c() {
    assert_eq!(g17(3.7), "3.7000000000000002");
    assert_eq!(g17(2.0), "2");
    assert_eq!(g17(0.5), "0.5");
    assert_eq!(g17(1e20), "1e+20");
    assert_eq!(g17(-1.5e-7), "-1.4999999999999999e-07");
}
