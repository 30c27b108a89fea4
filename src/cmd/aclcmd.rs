//! ACL and its subcommands: SETUSER, GETUSER, DELUSER, LIST, USERS, WHOAMI, CAT, LOG, LOAD,
//! SAVE, DRYRUN, GENPASS, HELP, with Redis 7.0's replies and error texts.
//!
//! The users live in [`crate::acl::Acl`] (the shared state); the checks every command passes
//! are in [`super::permit`].

use super::args;
use super::permit::{self, Denial};
use super::spec::acl::{ADMIN as CAT_ADMIN, DANGEROUS, SLOW};
use super::spec::flag::*;
use super::{command, lossy, resolve, row, CommandError, CommandSpec, Ctx, Handler};
use crate::acl::{file, log::now_ms};
use crate::protocol::Reply;
use crate::sub;
use bytes::Bytes;

const NO_ACLFILE: &str = "This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

/// `ACL`'s subcommand rows.
#[rustfmt::skip]
pub static SUBCOMMANDS: &[CommandSpec] = &[
    sub!("acl", "cat", -2, LOADING | STALE, SLOW, "server", "6.0.0", "[<category>]", "List all commands that belong to <category>, or all command categories when no category is specified.", Handler::Sync(cat)),
    sub!("acl", "deluser", -3, ADMIN | LOADING | STALE, CAT_ADMIN | DANGEROUS, "server", "6.0.0", "<username> [<username> ...]", "Delete a list of users.", Handler::Sync(deluser)),
    sub!("acl", "dryrun", -4, ADMIN | LOADING | STALE, CAT_ADMIN | DANGEROUS, "server", "7.0.0", "<username> <command> [<arg> ...]", "Returns whether the user can execute the given command without executing the command.", Handler::Sync(dryrun)),
    sub!("acl", "getuser", 3, ADMIN | LOADING | STALE, CAT_ADMIN | DANGEROUS, "server", "6.0.0", "<username>", "Get the user's details.", Handler::Sync(getuser)),
    sub!("acl", "genpass", -2, LOADING | STALE, SLOW, "server", "6.0.0", "[<bits>]", "Generate a secure 256-bit user password. The optional `bits` argument can be used to specify a different size.", Handler::Sync(genpass)),
    sub!("acl", "list", 2, ADMIN | LOADING | STALE, CAT_ADMIN | DANGEROUS, "server", "6.0.0", "", "Show users details in config file format.", Handler::Sync(list)),
    sub!("acl", "load", 2, ADMIN | LOADING | STALE, CAT_ADMIN | DANGEROUS, "server", "6.0.0", "", "Reload users from the ACL file.", Handler::Sync(load)),
    sub!("acl", "log", -2, ADMIN | LOADING | STALE, CAT_ADMIN | DANGEROUS, "server", "6.0.0", "[<count> | RESET]", "Show the ACL log entries.", Handler::Sync(log)),
    sub!("acl", "save", 2, ADMIN | LOADING | STALE, CAT_ADMIN | DANGEROUS, "server", "6.0.0", "", "Save the current config to the ACL file.", Handler::Sync(save)),
    sub!("acl", "setuser", -3, ADMIN | LOADING | STALE, CAT_ADMIN | DANGEROUS, "server", "6.0.0", "<username> <attribute> [<attribute> ...]", "Create or modify a user with the specified attributes.", Handler::Sync(setuser)),
    sub!("acl", "users", 2, ADMIN | LOADING | STALE, CAT_ADMIN | DANGEROUS, "server", "6.0.0", "", "List all the registered usernames.", Handler::Sync(users)),
    sub!("acl", "whoami", 2, LOADING | STALE, SLOW, "server", "6.0.0", "", "Return the current connection username.", Handler::Sync(whoami)),
    sub!("acl", "help", 2, LOADING | STALE, SLOW, "server", "6.0.0", "", "Show helpful text about the different subcommands.", Handler::Sync(command::help)),
];

/// `ACL SETUSER username [rule ...]`
fn setuser(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    ctx.shared
        .acl
        .set_user(&a[2], &a[3..])
        .map_err(|e| CommandError::err(e.to_string()))?;
    Ok(Reply::Ok)
}

/// `ACL GETUSER username`: a map, or nil for an unknown user.
fn getuser(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let Some(cell) = ctx.shared.acl.user(&a[2]) else {
        return Ok(Reply::Nil);
    };
    let u = cell.load();
    let catalogue = ctx.shared.acl.catalogue();
    Ok(Reply::map([
        (
            "flags",
            Reply::Array(u.flags().into_iter().map(Reply::from_static).collect()),
        ),
        (
            "passwords",
            Reply::Array(u.password_hexes().into_iter().map(Reply::text).collect()),
        ),
        ("commands", Reply::text(u.describe_commands(&catalogue))),
        ("keys", Reply::text(u.describe_keys())),
        ("channels", Reply::text(u.describe_channels())),
        ("selectors", Reply::Array(vec![])),
    ]))
}

/// Closes every connection authenticated as one of `names` (`None`: every user but default).
fn kill_users(ctx: &mut Ctx<'_>, names: Option<&[String]>) {
    for c in ctx.shared.clients.all() {
        let user = c.meta(|m| m.user.clone());
        let doomed = match names {
            Some(n) => n.contains(&user),
            None => user != "default",
        };
        if doomed {
            c.kill();
        }
    }
}

/// `ACL DELUSER username [username ...]`
fn deluser(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    if a[2..].iter().any(|n| n.as_ref() == b"default") {
        return Err(CommandError::err("The 'default' user cannot be removed"));
    }
    let gone = ctx.shared.acl.delete(&a[2..]);
    kill_users(ctx, Some(&gone));
    Ok(Reply::Int(gone.len() as i64))
}

/// `ACL LIST`
fn list(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(Reply::Array(
        ctx.shared.acl.list().into_iter().map(Reply::text).collect(),
    ))
}

/// `ACL USERS`
fn users(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(Reply::Array(
        ctx.shared
            .acl
            .users()
            .iter()
            .map(|u| Reply::text(u.name.clone()))
            .collect(),
    ))
}

/// `ACL WHOAMI`
fn whoami(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(Reply::text(ctx.client.info.meta(|m| m.user.clone())))
}

/// `ACL CAT [category]`
fn cat(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let catalogue = ctx.shared.acl.catalogue();
    match a.get(2) {
        None => Ok(Reply::Array(
            catalogue
                .categories
                .iter()
                .map(|(n, _)| Reply::from_static(n))
                .collect(),
        )),
        Some(name) if a.len() == 3 => {
            let bit = catalogue.category(name).ok_or_else(|| {
                CommandError::err(format!("Unknown category '{}'", lossy(name, 128)))
            })?;
            Ok(Reply::Array(
                catalogue
                    .in_category(bit)
                    .map(|i| Reply::from_static(catalogue.rows[i].name))
                    .collect(),
            ))
        }
        Some(_) => Err(CommandError::WrongArity("acl|cat")),
    }
}

/// `ACL GENPASS [bits]`: hex of that many random bits, rounded up to a hex digit.
fn genpass(_: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let bits = match a.get(2) {
        None => 256,
        Some(b) => match args::int(b) {
            Ok(n) if (1..=4096).contains(&n) => n as usize,
            _ => return Err(CommandError::err("ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")),
        },
    };
    let chars = bits.div_ceil(4);
    let mut bytes = vec![0u8; chars.div_ceil(2)];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| CommandError::err("the system random source failed"))?;
    let mut hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    hex.truncate(chars);
    Ok(Reply::text(hex))
}

/// `ACL LOG [count | RESET]`
fn log(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let count = match a.get(2) {
        None => 10,
        Some(w) if args::is(w, "RESET") => {
            ctx.shared.acl.log.reset();
            return Ok(Reply::Ok);
        }
        Some(n) => args::uint(n)? as usize,
    };
    if a.len() > 3 {
        return Err(CommandError::WrongArity("acl|log"));
    }
    let now = now_ms();
    let entries = ctx.shared.acl.log.newest(count);
    Ok(Reply::Array(
        entries
            .into_iter()
            .map(|e| {
                Reply::map([
                    ("count", Reply::Int(e.count as i64)),
                    ("reason", Reply::from_static(e.reason.as_str())),
                    ("context", Reply::from_static(e.context)),
                    ("object", Reply::text(e.object)),
                    ("username", Reply::text(e.username)),
                    (
                        "age-seconds",
                        Reply::Double(now.saturating_sub(e.at_ms) as f64 / 1000.0),
                    ),
                    ("client-info", Reply::text(e.client_info)),
                ])
            })
            .collect(),
    ))
}

/// `ACL LOAD`: replaces every user by the aclfile's, or changes nothing if it has an error.
/// Connections of every user but `default` are closed, as in Redis.
fn load(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    let Some(path) = ctx.shared.config().acl.aclfile.clone() else {
        return Err(CommandError::err(NO_ACLFILE));
    };
    let users = file::load(&path, &ctx.shared.acl.catalogue()).map_err(CommandError::err)?;
    ctx.shared.acl.replace(users);
    kill_users(ctx, None);
    Ok(Reply::Ok)
}

/// `ACL SAVE`
fn save(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    let Some(path) = ctx.shared.config().acl.aclfile.clone() else {
        return Err(CommandError::err(NO_ACLFILE));
    };
    file::save(&path, &ctx.shared.acl.list()).map_err(|e| {
        CommandError::err(format!("There was an error trying to save the ACLs. Please check the server logs for more information ({e})"))
    })?;
    Ok(Reply::Ok)
}

/// `ACL DRYRUN username command [arg ...]`
fn dryrun(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let Some(cell) = ctx.shared.acl.user(&a[2]) else {
        return Err(CommandError::err(format!(
            "User '{}' not found",
            lossy(&a[2], 128)
        )));
    };
    let cmd = &a[3..];
    let index = match resolve(cmd) {
        Some(Ok(i)) => i,
        Some(Err(e)) => return Err(e),
        None => {
            return Err(CommandError::err(format!(
                "Command '{}' not found",
                lossy(&cmd[0], 128)
            )))
        }
    };
    let spec = row(index).ok_or(CommandError::Syntax)?;
    if !spec.arity_ok(cmd.len()) {
        return Err(CommandError::WrongArity(spec.full_name));
    }
    let user = cell.load();
    Ok(match permit::check(&user, index, spec, cmd) {
        Ok(()) => Reply::Ok,
        Err(Denial::Command) => Reply::text(format!(
            "This user has no permissions to run the '{}' command",
            spec.full_name
        )),
        Err(Denial::Key(k)) => Reply::text(format!(
            "This user has no permissions to access the '{}' key",
            lossy(&k, 128)
        )),
    })
}

#[cfg(test)]
mod tests {
    use crate::cmd::testing::{bulk, error, TestServer};
    use crate::protocol::Reply;

    const NOPERM_KEY: &str =
        "NOPERM this user has no permissions to access one of the keys used as arguments";

    fn tenant(server: &TestServer, name: &str) -> crate::cmd::testing::TestClient {
        let mut admin = server.client();
        let pattern = format!("~{name}:*");
        assert_eq!(
            admin.run(&[
                "ACL",
                "SETUSER",
                name,
                "on",
                ">pw",
                &pattern,
                "+@all",
                "-@dangerous"
            ]),
            Reply::Ok
        );
        let mut c = server.client();
        assert_eq!(c.run(&["AUTH", name, "pw"]), Reply::Ok);
        c
    }

    #[test]
    fn users_are_confined_to_their_commands_and_keys() {
        let server = TestServer::new();
        let mut a = tenant(&server, "a");
        assert_eq!(a.run(&["SET", "a:1", "v"]), Reply::Ok);
        assert_eq!(a.run(&["GET", "b:1"]), error(NOPERM_KEY));
        assert_eq!(a.run(&["MSET", "a:2", "v", "b:2", "v"]), error(NOPERM_KEY));
        assert_eq!(
            a.run(&["FLUSHALL"]),
            error("NOPERM this user has no permissions to run the 'flushall' command")
        );
        assert_eq!(
            a.run(&["CLIENT", "LIST"]),
            error("NOPERM this user has no permissions to run the 'client|list' command")
        );
        assert_eq!(a.run(&["ACL", "WHOAMI"]), bulk("a"));
        // Denied inside MULTI: the transaction is aborted, as in Redis.
        a.run(&["MULTI"]);
        assert_eq!(a.run(&["GET", "b:1"]), error(NOPERM_KEY));
        assert!(a.run(&["EXEC"]).is_error());
        let info = server.client().run(&["INFO", "stats"]);
        let Reply::Verbatim(text) = info else {
            panic!("INFO is text")
        };
        assert!(text.contains("acl_access_denied_key:3"), "{text}");
        assert!(text.contains("acl_access_denied_cmd:2"), "{text}");
    }

    #[test]
    fn rights_are_checked_again_at_exec() {
        let server = TestServer::new();
        let mut a = tenant(&server, "a");
        a.run(&["MULTI"]);
        assert_eq!(a.run(&["SET", "a:1", "v"]), Reply::Simple("QUEUED"));
        server.client().run(&["ACL", "SETUSER", "a", "-set"]);
        assert_eq!(
            a.run(&["EXEC"]),
            Reply::Array(vec![error(
                "NOPERM this user has no permissions to run the 'set' command"
            )])
        );
        let Reply::Array(log) = server.client().run(&["ACL", "LOG", "1"]) else {
            panic!("ACL LOG is an array")
        };
        let Reply::Map(entry) = &log[0] else {
            panic!("entry is a map")
        };
        assert!(
            entry.contains(&(bulk("context"), bulk("multi"))),
            "{entry:?}"
        );
    }

    #[test]
    fn scan_and_keys_show_only_the_users_keys() {
        let server = TestServer::new();
        let mut admin = server.client();
        admin.run(&["MSET", "a:1", "x", "b:1", "y", "a:2", "z"]);
        let mut a = tenant(&server, "a");
        admin.run(&["ACL", "SETUSER", "a", "+keys"]);
        let Reply::Array(keys) = a.run(&["KEYS", "*"]) else {
            panic!()
        };
        assert_eq!(keys.len(), 2);
        let Reply::Array(page) = a.run(&["SCAN", "0", "COUNT", "100"]) else {
            panic!()
        };
        let Reply::Array(found) = &page[1] else {
            panic!()
        };
        assert_eq!(found.len(), 2);
        assert!(!found.contains(&bulk("b:1")));
    }

    #[test]
    fn deluser_closes_connections_and_off_keeps_them() {
        let server = TestServer::new();
        let mut a = tenant(&server, "a");
        let mut admin = server.client();
        assert_eq!(admin.run(&["ACL", "SETUSER", "a", "off"]), Reply::Ok);
        assert_eq!(a.run(&["PING"]), Reply::Simple("PONG"));
        assert!(!a.client.info.is_killed());
        assert_eq!(admin.run(&["ACL", "DELUSER", "a", "nobody"]), Reply::Int(1));
        assert!(a.client.info.is_killed());
        assert_eq!(
            admin.run(&["ACL", "DELUSER", "default"]),
            error("ERR The 'default' user cannot be removed")
        );
    }

    #[test]
    fn getuser_list_and_dryrun_answer_as_redis() {
        let server = TestServer::new();
        let mut c = server.client();
        c.run(&[
            "ACL", "SETUSER", "alice", "on", ">pw", "~app:*", "%R~ro:*", "+get",
        ]);
        assert_eq!(
            c.run(&["ACL", "LIST"]),
            Reply::Array(vec![
                bulk("user alice on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~app:* %R~ro:* resetchannels -@all +get"),
                bulk("user default on nopass ~* &* +@all"),
            ])
        );
        assert_eq!(
            c.run(&["ACL", "DRYRUN", "alice", "get", "app:1"]),
            Reply::Ok
        );
        assert_eq!(
            c.run(&["ACL", "DRYRUN", "alice", "get", "zz"]),
            bulk("This user has no permissions to access the 'zz' key")
        );
        assert_eq!(
            c.run(&["ACL", "DRYRUN", "alice", "set", "app:1", "v"]),
            bulk("This user has no permissions to run the 'set' command")
        );
        assert_eq!(
            c.run(&["ACL", "DRYRUN", "nobody", "get", "x"]),
            error("ERR User 'nobody' not found")
        );
        assert_eq!(c.run(&["ACL", "GETUSER", "nobody"]), Reply::Nil);
        assert_eq!(
            c.run(&["ACL", "SETUSER", "x", "foo"]),
            error("ERR Error in ACL SETUSER modifier 'foo': Syntax error")
        );
        assert_eq!(
            c.run(&["ACL", "LOAD"]),
            error("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.")
        );
        let Reply::Bulk(p) = c.run(&["ACL", "GENPASS", "5"]) else {
            panic!()
        };
        assert_eq!(p.len(), 2);
        assert!(c.run(&["ACL", "GENPASS", "0"]).is_error());
        assert_eq!(
            c.run(&["ACL", "CAT", "nosuch"]),
            error("ERR Unknown category 'nosuch'")
        );
    }
}
