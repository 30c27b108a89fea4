//! [`execute`]: one command from its arguments to its outcome, with the checks Redis makes
//! before running a command, in Redis's order: unknown command or subcommand, arity,
//! authentication, ACL permissions, loading, then MULTI queueing. The connection calls this for every command it
//! parses; tests call it with a [`Ctx`] and no socket.

use super::{call, flag, resolve, row, unknown_command, CommandError, Ctx, Flow};
use crate::protocol::Reply;
use bytes::Bytes;
use std::sync::atomic::Ordering;

/// Checks and runs (or, inside MULTI, queues) the command `args`, then serves the clients
/// blocked on keys it wrote (as Redis's `handleClientsBlockedOnKeys`: after the command, before
/// its reply and before this connection's next command; a no-op costing one atomic load when no
/// key is ready).
pub fn execute(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Flow {
    let flow = run(ctx, args);
    serve_blocked(ctx.shared);
    flow
}

/// Serves the clients blocked on keys written since the last serve. [`execute`] calls it after
/// a command that replied at once; the connection calls it again when a command that waited
/// (EVAL on its script thread, a background write) has its reply, since that command's writes
/// landed after `execute` returned.
pub fn serve_blocked(shared: &crate::state::Shared) {
    if shared.key_waits.has_ready() {
        // Serving writes: not while a script runs (a busy one leaves the keys ready for the
        // serve after its own EVAL).
        let threshold = || shared.config().busy_reply_threshold;
        if let Ok(_pass) = shared.scripts.gate.shared(threshold) {
            shared.key_waits.serve();
        }
    }
}

/// The commands that run at once inside MULTI instead of being queued (Redis decides these
/// by name too).
const RUN_AT_ONCE: &[&str] = &["multi", "exec", "discard", "watch", "quit", "reset"];

fn run(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Flow {
    match admit(ctx, args) {
        Ok(index) => {
            if ctx.client.multi.is_some() {
                let spec = row(index);
                let queue = spec.is_some_and(|spec| !RUN_AT_ONCE.contains(&spec.full_name));
                // While a script is busy a command is refused rather than queued, and the
                // transaction is marked dirty, as Redis refuses it before queueing.
                let allowed = spec.is_some_and(|spec| spec.has(flag::ALLOW_BUSY));
                if queue && !allowed && script_busy(ctx.shared) {
                    if let Some(m) = ctx.client.multi.as_mut() {
                        m.dirty = true;
                    }
                    return Flow::Reply(busy(ctx, index));
                }
                if let (true, Some(multi)) = (queue, ctx.client.multi.as_mut()) {
                    multi.queued.push((index, args.to_vec()));
                    let n = multi.queued.len() as i64;
                    ctx.client.info.meta(|m| m.multi = n);
                    return Flow::Reply(Reply::Simple("QUEUED"));
                }
            }
            let Some(spec) = row(index) else {
                return call(ctx, index, args);
            };
            if spec.has(flag::ALLOW_BUSY) || spec.has(flag::EXCLUSIVE) {
                return call(ctx, index, args);
            }
            let shared = ctx.shared.clone();
            let _pass = match shared
                .scripts
                .gate
                .shared(|| shared.config().busy_reply_threshold)
            {
                Ok(pass) => pass,
                Err(_) => return Flow::Reply(busy(ctx, index)),
            };
            call(ctx, index, args)
        }
        Err(e) => Flow::Reply(e),
    }
}

/// Whether `spec` may grow memory, so that `noeviction` refuses it past the budget (Redis's
/// rule): a command flagged so, EXEC of a transaction that queued one, and inside MULTI any
/// command but EXEC, DISCARD, QUIT and RESET (a queue grows too).
fn grows(ctx: &Ctx<'_>, spec: &super::CommandSpec) -> bool {
    if spec.has(flag::DENY_OOM) {
        return true;
    }
    let Some(multi) = ctx.client.multi.as_ref() else {
        return false;
    };
    match spec.name {
        "exec" => multi
            .queued
            .iter()
            .any(|(i, _)| row(*i).is_some_and(|s| s.has(flag::DENY_OOM))),
        "discard" | "quit" | "reset" => false,
        _ => true,
    }
}

/// Whether a script has run past the busy threshold (waiting for a running one until then, as
/// any command does).
fn script_busy(shared: &crate::state::Shared) -> bool {
    let threshold = || shared.config().busy_reply_threshold;
    shared.scripts.gate.shared(threshold).is_err()
}

/// `-BUSY`: a script has run past the busy threshold, and this command may not run meanwhile.
fn busy(ctx: &mut Ctx<'_>, index: usize) -> Reply {
    if let Some(s) = ctx.shared.cmdstats.get(index) {
        s.rejected.fetch_add(1, Ordering::Relaxed);
    }
    let e = CommandError::Busy.into();
    ctx.shared.observe.error_reply(&e);
    e
}

/// The row to run for `args`, or the reply that refuses it. A refusal inside MULTI marks the
/// transaction dirty (EXEC then aborts), except `-LOADING`, as in Redis.
fn admit(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Result<usize, Reply> {
    let refuse = |ctx: &mut Ctx<'_>, index: Option<usize>, e: Reply, dirty: bool| {
        if let Some(s) = index.and_then(|i| ctx.shared.cmdstats.get(i)) {
            s.rejected.fetch_add(1, Ordering::Relaxed);
        }
        ctx.shared.observe.error_reply(&e);
        if dirty {
            if let Some(m) = ctx.client.multi.as_mut() {
                m.dirty = true;
            }
        }
        Err(e)
    };
    let index = match resolve(args) {
        Some(Ok(index)) => index,
        Some(Err(e)) => return refuse(ctx, None, e.into(), true),
        None => return refuse(ctx, None, unknown_command(args), true),
    };
    let Some(spec) = row(index) else {
        return refuse(ctx, None, unknown_command(args), true);
    };
    if !spec.arity_ok(args.len()) {
        let e = CommandError::WrongArity(spec.full_name).into();
        return refuse(ctx, Some(index), e, true);
    }
    if !ctx.client.authenticated && !spec.has(flag::NO_AUTH) && ctx.shared.acl.auth_required() {
        return refuse(ctx, Some(index), CommandError::NoAuth.into(), true);
    }
    if let Err(e) = super::permit::admit(ctx, index, spec, args) {
        return refuse(ctx, Some(index), e, true);
    }
    if let Some(e) = super::monitor::refused(ctx, spec) {
        return refuse(ctx, Some(index), e.into(), true);
    }
    if ctx.client.multi.is_some() && spec.has(flag::NO_MULTI) {
        let e = CommandError::err("Command not allowed inside a transaction");
        return refuse(ctx, Some(index), e.into(), true);
    }
    if ctx.shared.store.refuses_growth() && grows(ctx, spec) {
        if spec.name == "exec" {
            // Redis's execCommandAbort: the transaction is discarded, with the reason.
            ctx.client.multi = None;
            ctx.client.watching = None;
            ctx.client.info.meta(|m| m.multi = -1);
            let e = CommandError::coded(format!(
                "EXECABORT Transaction discarded because of: {}",
                CommandError::Oom
            ));
            return refuse(ctx, Some(index), e.into(), false);
        }
        return refuse(ctx, Some(index), CommandError::Oom.into(), true);
    }
    if ctx.shared.is_loading() && !spec.has(flag::LOADING) {
        return refuse(ctx, Some(index), CommandError::Loading.into(), false);
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Clock;
    use crate::client::{Client, ClientInfo};
    use crate::config::Config;
    use crate::state::Shared;
    use std::sync::Arc;

    fn args(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::from(w.to_string())).collect()
    }

    fn reply(flow: Flow) -> Reply {
        match flow {
            Flow::Reply(r) => r,
            Flow::Wait(_) => panic!("blocked"),
            Flow::Close => panic!("closed"),
        }
    }

    fn client() -> Client {
        let addr = "127.0.0.1:1".parse().unwrap();
        Client::new(Arc::new(ClientInfo::new(1, addr, addr)), true)
    }

    /// A server that persists starts out loading; no loader runs here, so it stays loading.
    #[test]
    fn ping_answers_loading_while_the_data_set_loads() {
        let config = Config {
            appendonly: true,
            ..Config::default()
        };
        let shared = Arc::new(Shared::new(config, Clock::new(), super::super::row_names()));
        assert!(shared.is_loading());
        let mut client = client();
        let mut ctx = Ctx {
            shared: &shared,
            client: &mut client,
        };
        assert_eq!(
            reply(execute(&mut ctx, &args(&["PING"]))),
            Reply::error("LOADING Redis is loading the dataset in memory")
        );
        // What a probe or a client needs while waiting still answers.
        assert!(!reply(execute(&mut ctx, &args(&["INFO", "persistence"]))).is_error());
        shared.finish_loading();
        assert_eq!(
            reply(execute(&mut ctx, &args(&["PING"]))),
            Reply::Simple("PONG")
        );
    }

    #[test]
    fn refusals_inside_multi_abort_the_transaction() {
        let config = Config {
            appendonly: false,
            save: crate::persistence::SaveSchedule::parse("").unwrap(),
            ..Config::default()
        };
        let shared = Arc::new(Shared::new(config, Clock::new(), super::super::row_names()));
        let mut client = client();
        let mut ctx = Ctx {
            shared: &shared,
            client: &mut client,
        };
        assert_eq!(reply(execute(&mut ctx, &args(&["MULTI"]))), Reply::Ok);
        assert_eq!(
            reply(execute(&mut ctx, &args(&["SET", "k", "v"]))),
            Reply::Simple("QUEUED")
        );
        assert!(reply(execute(&mut ctx, &args(&["GET"]))).is_error());
        // SAVE and SHUTDOWN are refused inside a transaction, not run nor queued.
        assert_eq!(
            reply(execute(&mut ctx, &args(&["SHUTDOWN"]))),
            Reply::error("ERR Command not allowed inside a transaction")
        );
        assert!(!shared.shutdown_requested());
        assert_eq!(
            reply(execute(&mut ctx, &args(&["EXEC"]))),
            Reply::error("EXECABORT Transaction discarded because of previous errors.")
        );
        assert!(shared.store.get(b"k").is_none());
    }
}
