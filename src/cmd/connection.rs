//! Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET (CLIENT has a file of its
//! own).

use super::args::{self, Args};
use super::{lossy, permit, CommandError, Ctx};
use crate::acl::log::Reason;
use crate::client::Client;
use crate::config::ClusterMode;
use crate::protocol::{Protocol, Reply};
use crate::state::REDIS_VERSION;
use bytes::Bytes;
use std::sync::atomic::Ordering;

/// `PING [message]`
pub fn ping(_: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    match a.len() {
        1 => Ok(Reply::Simple("PONG")),
        2 => Ok(Reply::Bulk(a[1].clone())),
        _ => Err(CommandError::WrongArity("ping")),
    }
}

/// `ECHO message`
pub fn echo(_: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(Reply::Bulk(a[1].clone()))
}

/// Authenticates the connection as `user` with `pass`: on success the connection takes the
/// user's cell (so later `ACL SETUSER` changes reach it); on failure the attempt is counted
/// and logged in ACL LOG, and the reply is `WRONGPASS`.
fn log_in(ctx: &mut Ctx<'_>, user: &[u8], pass: &[u8]) -> Result<(), CommandError> {
    match ctx.shared.acl.authenticate(user, pass) {
        Some(cell) => {
            let name = cell.load().name.clone();
            ctx.client.user = Some(cell);
            ctx.client.authenticated = true;
            ctx.client.info.meta(|m| m.user = name);
            Ok(())
        }
        None => {
            ctx.shared.acl.denied.auth.fetch_add(1, Ordering::Relaxed);
            // The log names the user that was tried, not the connection's.
            permit::log_as(ctx, Reason::Auth, "AUTH".into(), lossy(user, 128));
            Err(CommandError::WrongPass)
        }
    }
}

/// `AUTH [username] password`
pub fn auth(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let (user, pass): (&[u8], &[u8]) = match a.len() {
        2 => (b"default", &a[1]),
        3 => (&a[1], &a[2]),
        _ => return Err(CommandError::Syntax),
    };
    if a.len() == 2 && ctx.shared.acl.default_is_nopass() {
        return Err(CommandError::err("AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"));
    }
    log_in(ctx, user, pass)?;
    Ok(Reply::Ok)
}

/// A client name: printable ASCII without spaces, as Redis requires.
pub(super) fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]`
pub fn hello(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let mut args = Args::new(a);
    let mut proto = None;
    if let Some(v) = args.peek() {
        args.next_bytes().ok();
        let Some(n) = crate::protocol::parse::parse_i64(v) else {
            return Err(CommandError::err(
                "Protocol version is not an integer or out of range",
            ));
        };
        proto = match n {
            2 => Some(Protocol::Resp2),
            3 => Some(Protocol::Resp3),
            _ => return Err(CommandError::coded("NOPROTO unsupported protocol version")),
        };
    }
    let mut creds = None;
    let mut name = None;
    while let Some(opt) = args.peek() {
        args.next_bytes().ok();
        if args::is(opt, "AUTH") && args.remaining() >= 2 {
            let user = args.next_bytes().ok();
            let pass = args.next_bytes().ok();
            creds = user.zip(pass);
        } else if args::is(opt, "SETNAME") && args.remaining() >= 1 {
            name = args.next_bytes().ok();
        } else {
            return Err(CommandError::err(format!(
                "Syntax error in HELLO option '{}'",
                lossy(opt, 128)
            )));
        }
    }
    if let Some((user, pass)) = creds {
        log_in(ctx, user, pass)?;
    }
    if !ctx.client.authenticated && ctx.shared.acl.auth_required() {
        return Err(CommandError::coded("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"));
    }
    if let Some(n) = name {
        if !valid_name(n) {
            return Err(CommandError::err(
                "Client names cannot contain spaces, newlines or special characters.",
            ));
        }
        let n = String::from_utf8_lossy(n).into_owned();
        ctx.client.info.meta(|m| m.name = n);
    }
    if let Some(p) = proto {
        ctx.client.protocol = p;
        ctx.client.info.meta(|m| m.resp = p.version());
    }
    // A cluster node says `cluster` here; emulated cluster mode is one.
    let mode = match ctx.shared.config().scale.cluster_mode {
        ClusterMode::Emulated => "cluster",
        ClusterMode::No => "standalone",
    };
    Ok(Reply::map([
        ("server", Reply::from_static("redis")),
        ("version", Reply::from_static(REDIS_VERSION)),
        ("proto", Reply::Int(ctx.client.protocol.version())),
        ("id", Reply::Int(ctx.client.id() as i64)),
        ("mode", Reply::from_static(mode)),
        ("role", Reply::from_static("master")),
        ("modules", Reply::Array(vec![])),
    ]))
}

/// `QUIT`: replies OK, then the connection closes.
pub fn quit(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    ctx.client.close_after_reply = true;
    Ok(Reply::Ok)
}

/// `RESET`: back to a fresh connection's state.
pub fn reset(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    let c: &mut Client = ctx.client;
    if c.monitor.take().is_some() {
        ctx.shared.observe.monitors.detach(c.id());
    }
    c.multi = None;
    c.watching = None;
    c.db = 0;
    c.protocol = Protocol::Resp2;
    c.user = None;
    c.authenticated = !ctx.shared.acl.auth_required();
    c.info.meta(|m| {
        m.user = "default".into();
        m.name.clear();
        m.resp = 2;
        m.multi = -1;
        m.db = 0;
    });
    Ok(Reply::Simple("RESET"))
}

#[cfg(test)]
mod tests {
    use crate::cmd::testing::{bulk, error, TestServer};
    use crate::config::{Config, Password};
    use crate::protocol::{Protocol, Reply};

    fn with_password() -> TestServer {
        TestServer::with_config(Config {
            requirepass: Some(Password::from("s3cret")),
            ..Config::default()
        })
    }

    #[test]
    fn ping_and_echo() {
        let server = TestServer::new();
        let mut c = server.client();
        assert_eq!(c.run(&["PING"]), Reply::Simple("PONG"));
        assert_eq!(c.run(&["ping", "hi"]), bulk("hi"));
        assert_eq!(
            c.run(&["PING", "a", "b"]),
            error("ERR wrong number of arguments for 'ping' command")
        );
        assert_eq!(c.run(&["ECHO", "x y"]), bulk("x y"));
    }

    #[test]
    fn auth_gates_commands_when_a_password_is_set() {
        let server = with_password();
        let mut c = server.client();
        assert_eq!(
            c.run(&["GET", "k"]),
            error("NOAUTH Authentication required.")
        );
        // Unknown commands and arity are checked before authentication, as in Redis.
        assert_eq!(
            c.run(&["GET"]),
            error("ERR wrong number of arguments for 'get' command")
        );
        let wrongpass = error("WRONGPASS invalid username-password pair or user is disabled.");
        assert_eq!(c.run(&["AUTH", "nope"]), wrongpass);
        assert_eq!(c.run(&["AUTH", "someone", "s3cret"]), wrongpass);
        assert_eq!(c.run(&["AUTH", "default", "s3cret"]), Reply::Ok);
        assert_eq!(c.run(&["GET", "k"]), Reply::Nil);
        // RESET goes back to unauthenticated.
        assert_eq!(c.run(&["RESET"]), Reply::Simple("RESET"));
        assert_eq!(
            c.run(&["GET", "k"]),
            error("NOAUTH Authentication required.")
        );
    }

    #[test]
    fn auth_without_a_password_configured() {
        let server = TestServer::new();
        let mut c = server.client();
        let Reply::Error(e) = c.run(&["AUTH", "x"]) else {
            panic!("AUTH without requirepass is an error")
        };
        assert!(
            e.starts_with("ERR AUTH <password> called without any password"),
            "{e}"
        );
        // A nopass user takes any password, as in Redis 7.0.
        assert_eq!(c.run(&["AUTH", "default", "x"]), Reply::Ok);
        assert_eq!(
            c.run(&["AUTH", "nobody", "x"]),
            error("WRONGPASS invalid username-password pair or user is disabled.")
        );
    }

    #[test]
    fn hello_switches_protocol_names_the_client_and_authenticates() {
        let server = with_password();
        let mut c = server.client();
        let Reply::Error(e) = c.run(&["HELLO", "3"]) else {
            panic!("HELLO before AUTH is refused")
        };
        assert_eq!(e, "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
        assert_eq!(
            c.run(&["HELLO", "4"]),
            error("NOPROTO unsupported protocol version")
        );
        assert_eq!(
            c.run(&["HELLO", "x"]),
            error("ERR Protocol version is not an integer or out of range")
        );
        assert_eq!(
            c.run(&["HELLO", "3", "AUTH", "default"]),
            error("ERR Syntax error in HELLO option 'AUTH'")
        );
        let Reply::Map(pairs) =
            c.run(&["HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "me"])
        else {
            panic!("HELLO answers a map")
        };
        assert!(pairs.contains(&(bulk("proto"), Reply::Int(3))));
        assert!(pairs.contains(&(bulk("id"), Reply::Int(c.client.id() as i64))));
        assert_eq!(c.client.protocol, Protocol::Resp3);
        assert_eq!(c.run(&["CLIENT", "GETNAME"]), bulk("me"));
        assert_eq!(
            c.run(&["HELLO", "2", "SETNAME", "two words"]),
            error("ERR Client names cannot contain spaces, newlines or special characters.")
        );
        assert_eq!(c.client.protocol, Protocol::Resp3);
        c.run(&["RESET"]);
        assert_eq!(c.client.protocol, Protocol::Resp2);
        assert_eq!(
            c.run(&["CLIENT", "GETNAME"]),
            error("NOAUTH Authentication required.")
        );
    }

    /// Redis 7.0.15: with the default user off, HELLO without AUTH is refused in its words,
    /// and HELLO AUTH logs in as another user.
    #[test]
    fn hello_with_the_default_user_off() {
        let server = TestServer::new();
        let mut admin = server.client();
        admin.run(&["ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*"]);
        admin.run(&["ACL", "SETUSER", "default", "off"]);
        let mut c = server.client();
        assert_eq!(
            c.run(&["HELLO", "3"]),
            error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
        );
        assert_eq!(c.run(&["PING"]), error("NOAUTH Authentication required."));
        assert!(matches!(
            c.run(&["HELLO", "3", "AUTH", "u", "pw"]),
            Reply::Map(_)
        ));
        assert_eq!(c.run(&["ACL", "WHOAMI"]), bulk("u"));
    }

    #[test]
    fn reset_selects_database_zero_and_quit_closes_after_the_reply() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&["SELECT", "2"]);
        c.run(&["SET", "k", "v"]);
        assert_eq!(c.run(&["RESET"]), Reply::Simple("RESET"));
        assert_eq!(c.run(&["GET", "k"]), Reply::Nil);
        assert!(!c.client.close_after_reply);
        assert_eq!(c.run(&["QUIT"]), Reply::Ok);
        assert!(c.client.close_after_reply);
    }
}
