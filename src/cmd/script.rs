//! Scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD / EXISTS / FLUSH / KILL / HELP.
//!
//! # Format
//! ```text
//! EVAL script numkeys [key ...] [arg ...]
//! EVALSHA sha1 numkeys [key ...] [arg ...]
//! SCRIPT LOAD script | EXISTS sha1 [sha1 ...] | FLUSH [ASYNC|SYNC] | KILL
//! ```
//!
//! A script runs with the gate's exclusive pass (nothing else touches the data set meanwhile),
//! on a blocking thread of its own, so that other connections are served while it runs: they
//! wait for it, and once it has run for `busy-reply-threshold` they get `-BUSY` and may send
//! SCRIPT KILL. Inside EXEC (which holds the pass already) a script runs in place.
//!
//! Each `redis.call` goes through the command table as a client's command does: the row's arity,
//! the `noscript` flag, the caller's ACL user (checked per call), and under EVAL_RO the `write`
//! flag; the handlers are the same, so a script's writes reach the journal as the same records
//! the commands would write on their own.

use super::spec::flag::{DENY_OOM, NO_SCRIPT, WRITE};
use super::{call, resolve, row, CommandError, Ctx, Flow};
use crate::client::Client;
use crate::protocol::{Protocol, Reply};
use crate::script::gate::{KillError, RunState};
use crate::script::{Host, Outcome, Source};
use crate::state::Shared;
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Runs the commands a script calls, as the calling client.
struct ScriptHost<'a> {
    shared: &'a Arc<Shared>,
    client: &'a mut Client,
    read_only: bool,
    run: Arc<RunState>,
    /// The store refused growth (`noeviction`, past the budget) when the script started.
    oom: bool,
    /// The script has called a write command.
    wrote: bool,
}

impl Host for ScriptHost<'_> {
    fn call(&mut self, args: Vec<Bytes>, resp3: bool) -> Reply {
        self.client.protocol = if resp3 {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        };
        let index = match resolve(&args) {
            Some(Ok(index)) => index,
            // An unknown subcommand is an unknown command here, as in Redis.
            Some(Err(_)) | None => {
                return CommandError::err("Unknown Redis command called from script").into()
            }
        };
        let Some(spec) = row(index) else {
            return CommandError::err("Unknown Redis command called from script").into();
        };
        if spec.has(NO_SCRIPT) {
            return CommandError::err("This Redis command is not allowed from script").into();
        }
        if !spec.arity_ok(args.len()) {
            return CommandError::err("Wrong number of args calling Redis command from script")
                .into();
        }
        if spec.has(WRITE) && self.read_only {
            return CommandError::err("Write commands are not allowed from read-only scripts.")
                .into();
        }
        // Redis's scriptVerifyOOM: past the budget at the start, a script that has not written
        // yet may not grow memory.
        if self.oom && !self.wrote && spec.has(DENY_OOM) {
            return CommandError::Oom.into();
        }
        if spec.has(WRITE) {
            self.run.note_write();
            self.wrote = true;
        }
        let mut ctx = Ctx {
            shared: self.shared,
            client: self.client,
        };
        // The caller's ACL user, with Redis's words for a script (the denial is logged as usual).
        if let Err(denied) = super::permit::admit(&mut ctx, index, spec, &args) {
            let command = matches!(&denied, Reply::Error(e) if e.contains("permissions to run"));
            return CommandError::err(if command {
                "The user executing the script can't run this command or subcommand"
            } else {
                "The user executing the script can't access at least one of the keys mentioned in the command arguments"
            })
            .into();
        }
        // `in_exec` is set: nothing blocks (and `call` checks the ACL again, as in EXEC).
        match call(&mut ctx, index, &args) {
            Flow::Reply(r) => r,
            Flow::Wait(_) | Flow::Close => {
                CommandError::err("This Redis command is not allowed from script").into()
            }
        }
    }
}

/// The client a script's commands run as: the caller's user, identity and rights.
fn script_client(caller: &Client) -> Client {
    let mut c = Client::new(caller.info.clone(), true);
    c.user = caller.user.clone();
    c.db = caller.db;
    c.in_exec = true;
    c.script = true;
    c
}

/// What a script is run with, owned so it can move to the script's thread.
struct Job {
    source: Bytes,
    by_sha: bool,
    keys: Vec<Bytes>,
    argv: Vec<Bytes>,
    read_only: bool,
}

fn parse(a: &[Bytes], by_sha: bool, read_only: bool) -> Result<Job, CommandError> {
    let numkeys: i64 = std::str::from_utf8(&a[2])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(CommandError::NotInteger)?;
    if numkeys < 0 {
        return Err(CommandError::err("Number of keys can't be negative"));
    }
    let rest = &a[3..];
    if numkeys as u64 > rest.len() as u64 {
        return Err(CommandError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    let (keys, argv) = rest.split_at(numkeys as usize);
    Ok(Job {
        source: a[1].clone(),
        by_sha,
        keys: keys.to_vec(),
        argv: argv.to_vec(),
        read_only,
    })
}

/// Runs `job` as `client`; the caller holds the exclusive pass.
fn run(shared: &Arc<Shared>, client: &mut Client, job: &Job) -> Reply {
    let source = if job.by_sha {
        Source::Sha(&job.source)
    } else {
        Source::Body(&job.source)
    };
    let mut host = ScriptHost {
        shared,
        client,
        read_only: job.read_only,
        run: shared.scripts.gate.run_state(),
        oom: shared.store.refuses_growth(),
        wrote: false,
    };
    match shared.scripts.run(source, &job.keys, &job.argv, &mut host) {
        Outcome::Reply(r) => r,
        Outcome::NoScript => CommandError::NoScript.into(),
    }
}

fn eval_flow(ctx: &mut Ctx<'_>, a: &[Bytes], by_sha: bool, ro: bool) -> Result<Flow, CommandError> {
    let job = parse(a, by_sha, ro)?;
    let mut client = script_client(ctx.client);
    if ctx.client.in_exec {
        let reply = run(ctx.shared, &mut client, &job);
        ctx.client.wrote |= client.wrote;
        return Ok(Flow::Reply(reply));
    }
    let shared = ctx.shared.clone();
    let exclusive_run = move |shared: &Arc<Shared>, client: &mut Client| {
        let gate = &shared.scripts.gate;
        match gate.exclusive(|| shared.config().busy_reply_threshold) {
            Ok(_pass) => run(shared, client, &job),
            Err(_) => CommandError::Busy.into(),
        }
    };
    if tokio::runtime::Handle::try_current().is_err() {
        let reply = exclusive_run(&shared, &mut client);
        ctx.client.wrote |= client.wrote;
        return Ok(Flow::Reply(reply));
    }
    let wrote = ctx.client.deferred_write.clone();
    Ok(Flow::Wait(Box::pin(async move {
        let task = tokio::task::spawn_blocking(move || {
            let reply = exclusive_run(&shared, &mut client);
            if client.wrote {
                wrote.store(true, Ordering::Release);
            }
            reply
        });
        task.await
            .unwrap_or_else(|_| CommandError::err("the script's thread failed").into())
    })))
}

/// `EVAL script numkeys [key ...] [arg ...]`
pub fn eval(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    eval_flow(ctx, a, false, false)
}

/// `EVALSHA sha1 numkeys [key ...] [arg ...]`
pub fn evalsha(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    eval_flow(ctx, a, true, false)
}

/// `EVAL_RO script numkeys [key ...] [arg ...]`
pub fn eval_ro(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    eval_flow(ctx, a, false, true)
}

/// `EVALSHA_RO sha1 numkeys [key ...] [arg ...]`
pub fn evalsha_ro(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Flow, CommandError> {
    eval_flow(ctx, a, true, true)
}

/// `SCRIPT LOAD script`
pub fn load(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    Ok(match ctx.shared.scripts.load(&a[2]) {
        Ok(sha) => Reply::text(sha),
        Err(e) => e,
    })
}

/// `SCRIPT EXISTS sha1 [sha1 ...]`
pub fn exists(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    let scripts = &ctx.shared.scripts;
    Ok(Reply::Array(
        a[2..]
            .iter()
            .map(|sha| Reply::Int(i64::from(scripts.exists(sha))))
            .collect(),
    ))
}

/// `SCRIPT FLUSH [ASYNC|SYNC]`
pub fn flush(ctx: &mut Ctx<'_>, a: &[Bytes]) -> Result<Reply, CommandError> {
    match a.get(2) {
        None => {}
        Some(m) if m.eq_ignore_ascii_case(b"async") || m.eq_ignore_ascii_case(b"sync") => {}
        Some(_) => {
            return Err(CommandError::err(
                "SCRIPT FLUSH only support SYNC|ASYNC option",
            ))
        }
    }
    if a.len() > 3 {
        return Err(CommandError::err(
            "SCRIPT FLUSH only support SYNC|ASYNC option",
        ));
    }
    ctx.shared.scripts.flush();
    Ok(Reply::Ok)
}

/// `SCRIPT KILL`
pub fn kill(ctx: &mut Ctx<'_>, _: &[Bytes]) -> Result<Reply, CommandError> {
    match ctx.shared.scripts.gate.kill() {
        Ok(()) => Ok(Reply::Ok),
        Err(KillError::NotBusy) => Err(CommandError::coded(
            "NOTBUSY No scripts in execution right now.",
        )),
        Err(KillError::Unkillable) => Err(CommandError::coded(
            "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
        )),
    }
}
