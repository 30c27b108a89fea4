//! Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET, CLIENT.

use super::{lossy, sub_name, unknown_subcommand, wrong_arity, Ctx};
use crate::client::Client;
use crate::protocol::args::{self, Args};
use crate::protocol::{Protocol, Reply};
use crate::server::{Shared, REDIS_VERSION};
use bytes::Bytes;

/// `PING [message]`
pub fn ping(_: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match a.len() {
        1 => Reply::Simple("PONG"),
        2 => Reply::Bulk(a[1].clone()),
        _ => wrong_arity("ping"),
    }
}

/// `ECHO message`
pub fn echo(_: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    Reply::Bulk(a[1].clone())
}

/// Compares in time independent of where the first difference is.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn wrongpass() -> Reply {
    Reply::error("WRONGPASS invalid username-password pair or user is disabled.")
}

/// Checks a username/password pair against `requirepass`; only the `default` user exists.
fn check_password(shared: &Shared, user: &[u8], pass: &[u8]) -> Result<(), Reply> {
    match &shared.config.requirepass {
        Some(p) if user == b"default" && same_secret(p.as_bytes(), pass) => Ok(()),
        _ => Err(wrongpass()),
    }
}

/// `AUTH [username] password`
pub fn auth(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let (user, pass): (&[u8], &[u8]) = match a.len() {
        2 => (b"default", &a[1]),
        3 => (&a[1], &a[2]),
        _ => return args::syntax_error(),
    };
    if ctx.shared.config.requirepass.is_none() && a.len() == 2 {
        return Reply::err("AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
    }
    match check_password(ctx.shared, user, pass) {
        Ok(()) => {
            ctx.client.authenticated = true;
            Reply::Ok
        }
        Err(e) => e,
    }
}

/// A client name: printable ASCII without spaces, as Redis requires.
fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]`
pub fn hello(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let mut args = Args::new(a);
    let mut proto = None;
    if let Some(v) = args.peek() {
        args.next_bytes().ok();
        let Some(n) = crate::protocol::parse::parse_i64(v) else {
            return Reply::err("Protocol version is not an integer or out of range");
        };
        proto = match n {
            2 => Some(Protocol::Resp2),
            3 => Some(Protocol::Resp3),
            _ => return Reply::error("NOPROTO unsupported protocol version"),
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
            return Reply::err(format!(
                "Syntax error in HELLO option '{}'",
                lossy(opt, 128)
            ));
        }
    }
    if let Some((user, pass)) = creds {
        if let Err(e) = check_password(ctx.shared, user, pass) {
            return e;
        }
        ctx.client.authenticated = true;
    }
    if !ctx.client.authenticated {
        return Reply::error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
    }
    if let Some(n) = name {
        if !valid_name(n) {
            return Reply::err(
                "Client names cannot contain spaces, newlines or special characters.",
            );
        }
        let n = String::from_utf8_lossy(n).into_owned();
        ctx.client.info.meta(|m| m.name = n);
    }
    if let Some(p) = proto {
        ctx.client.protocol = p;
        ctx.client.info.meta(|m| m.resp = p.version());
    }
    Reply::map([
        ("server", Reply::from_static("redis")),
        ("version", Reply::from_static(REDIS_VERSION)),
        ("proto", Reply::Int(ctx.client.protocol.version())),
        ("id", Reply::Int(ctx.client.id() as i64)),
        ("mode", Reply::from_static("standalone")),
        ("role", Reply::from_static("master")),
        ("modules", Reply::Array(vec![])),
    ])
}

/// `SELECT index`: only database 0 exists.
pub fn select(_: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    match args::int(&a[1]) {
        Ok(0) => Reply::Ok,
        Ok(_) => Reply::err("DB index is out of range"),
        Err(e) => e,
    }
}

/// `QUIT`: replies OK, then the connection closes.
pub fn quit(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Reply {
    ctx.client.close_after_reply = true;
    Reply::Ok
}

/// `RESET`: back to a fresh connection's state.
pub fn reset(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Reply {
    let c: &mut Client = ctx.client;
    c.multi = None;
    c.protocol = Protocol::Resp2;
    c.authenticated = ctx.shared.config.requirepass.is_none();
    c.info.meta(|m| {
        m.name.clear();
        m.resp = 2;
        m.multi = -1;
    });
    Reply::Simple("RESET")
}

pub const CLIENT_SUBCOMMANDS: &[&str] = &[
    "setname", "getname", "id", "setinfo", "info", "list", "no-evict", "no-touch", "help",
];

/// `CLIENT SETNAME | GETNAME | ID | SETINFO | INFO | LIST | NO-EVICT | NO-TOUCH | HELP`
pub fn client(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let sub = sub_name(a);
    let arity = |n: usize, exact: bool| {
        if (exact && a.len() != n) || (!exact && a.len() < n) {
            Err(wrong_arity(&format!("client|{sub}")))
        } else {
            Ok(())
        }
    };
    let r = match sub.as_str() {
        "setname" => arity(3, true).map(|_| {
            if !valid_name(&a[2]) {
                return Reply::err(
                    "Client names cannot contain spaces, newlines or special characters.",
                );
            }
            let n = String::from_utf8_lossy(&a[2]).into_owned();
            ctx.client.info.meta(|m| m.name = n);
            Reply::Ok
        }),
        "getname" => arity(2, true).map(|_| {
            let n = ctx.client.info.meta(|m| m.name.clone());
            if n.is_empty() {
                Reply::Nil
            } else {
                Reply::text(n)
            }
        }),
        "id" => arity(2, true).map(|_| Reply::Int(ctx.client.id() as i64)),
        "setinfo" => arity(4, true).map(|_| {
            if !valid_name(&a[3]) {
                return Reply::err(format!(
                    "{} cannot contain spaces, newlines or special characters.",
                    lossy(&a[2], 32).to_ascii_lowercase()
                ));
            }
            let v = String::from_utf8_lossy(&a[3]).into_owned();
            if args::is(&a[2], "LIB-NAME") {
                ctx.client.info.meta(|m| m.lib_name = v);
            } else if args::is(&a[2], "LIB-VER") {
                ctx.client.info.meta(|m| m.lib_ver = v);
            } else {
                return Reply::err(format!("Unrecognized option '{}'", lossy(&a[2], 128)));
            }
            Reply::Ok
        }),
        "info" => arity(2, true).map(|_| {
            Reply::Verbatim(crate::metrics::info::client_line(ctx.shared, &ctx.client.info) + "\n")
        }),
        "list" => arity(2, false).map(|_| client_list(ctx, a)),
        "no-evict" | "no-touch" => arity(3, true).map(|_| {
            if args::is(&a[2], "ON") || args::is(&a[2], "OFF") {
                Reply::Ok
            } else {
                args::syntax_error()
            }
        }),
        "help" => Ok(Reply::Array(
            [
                "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GETNAME",
                "    Return the name of the current connection.",
                "ID",
                "    Return the ID of the current connection.",
                "INFO",
                "    Return information about the current client connection.",
                "LIST [TYPE normal] [ID <id> [<id> ...]]",
                "    Return information about client connections.",
                "SETINFO <option> <value>",
                "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
                "SETNAME <name>",
                "    Assign the name <name> to the current connection.",
                "HELP",
                "    Print this help.",
            ]
            .iter()
            .map(|s| Reply::Simple(s))
            .collect(),
        )),
        _ => Ok(unknown_subcommand("client", &a[1])),
    };
    r.unwrap_or_else(|e| e)
}

/// `CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id ...]`
fn client_list(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Reply {
    let mut args = Args::new(a);
    args.next_bytes().ok();
    let mut ids: Option<Vec<u64>> = None;
    let mut only_normal = None;
    while let Some(opt) = args.peek() {
        args.next_bytes().ok();
        if args::is(opt, "TYPE") {
            let Ok(t) = args.next_bytes() else {
                return args::syntax_error();
            };
            let t = String::from_utf8_lossy(t).to_ascii_lowercase();
            only_normal = match t.as_str() {
                "normal" => Some(true),
                "master" | "replica" | "slave" | "pubsub" => Some(false),
                _ => return Reply::err(format!("Unknown client type '{t}'")),
            };
        } else if args::is(opt, "ID") {
            let mut v = Vec::new();
            while let Some(id) = args.peek() {
                match args::uint(id) {
                    Ok(n) if n > 0 => v.push(n),
                    _ => return Reply::err("Invalid client ID"),
                }
                args.next_bytes().ok();
            }
            if v.is_empty() {
                return args::syntax_error();
            }
            ids = Some(v);
        } else {
            return args::syntax_error();
        }
    }
    let mut out = String::new();
    if only_normal != Some(false) {
        for c in ctx.shared.clients.all() {
            if ids.as_ref().is_some_and(|ids| !ids.contains(&c.id)) {
                continue;
            }
            out.push_str(&crate::metrics::info::client_line(ctx.shared, &c));
            out.push('\n');
        }
    }
    Reply::Verbatim(out)
}
