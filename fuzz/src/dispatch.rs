//! Command dispatch: short command sequences from the real command table, run by two clients
//! on one in-memory server state (`appendonly no`, `save ""`).
//!
//! # Input
//! ```text
//! byte 0     settings: bit 0 requirepass "secret", bit 1 maxmemory 4 KB (eviction and OOM
//!            paths), bit 2 LRU eviction instead of TinyLFU, bit 3 no default LLM TTL
//! then, up to MAX_OPS times:
//!   op       bit 7: which client; bits 0..7: v. v < 125: that row of the table; v == 125:
//!            row 125 + the next byte (the table has more rows than one byte holds); v == 126:
//!            a command whose name is the first argument below (unknown names, odd case);
//!            v == 127: move the store's clock forward by the next u16, in seconds
//!   argc     number of arguments after the name (mod 8)
//!   arg...   tag byte t: t < 0xBF: a word (keys, numbers, option words, JSON bodies, then every
//!            subcommand name; index t mod their count); t == 0xBF: the name of table row
//!            (next byte mod the table's length); t >= 0xC0: t & 0x3F raw bytes
//! ```
//!
//! # Checks
//! No handler panics, whatever the arguments; every reply encodes (in the client's protocol)
//! to exactly one well-formed RESP frame. Replies that would block (`Flow::Wait`: LLMGET waiting
//! on the other client's fill, SAVE, LLMPURGE) are dropped unpolled, which is also what a
//! disconnecting client does to them; a client that closes (QUIT, SHUTDOWN) is replaced by a new
//! one after its leases are abandoned, as the connection does.
//!
//! # Interface
//! The server state's API is expected to move (the state [`Shared`] out of `server`); everything
//! that touches it is in [`new_state`], [`new_client`], [`end_client`] and [`execute`] below.

use crate::input::Input;
use crate::resp;
use bytes::{Bytes, BytesMut};
use llmcached::cache::{Clock, EvictionKind};
use llmcached::client::{Client, ClientInfo};
use llmcached::cmd::table::COMMANDS;
use llmcached::cmd::{self, Ctx, Flow};
use llmcached::config::{Config, Password};
use llmcached::persistence::SaveSchedule;
use llmcached::state::Shared;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

/// Commands per input: enough for MULTI ... EXEC and a lease hand-over, short enough to stay fast.
pub const MAX_OPS: usize = 24;

/// The op value that moves the clock instead of running a command.
pub const OP_CLOCK: u8 = 127;
/// An op naming its command as the first argument.
const OP_RAW: u8 = 126;
/// An op whose row is this plus the next byte.
const OP_WIDE: u8 = 125;

/// The password when bit 0 of the settings byte is set.
pub const PASSWORD: &str = "secret";

const BASE_WORDS: &[&str] = &[
    // keys (a few, so commands meet each other's data)
    "k",
    "k2",
    "h",
    "j",
    "llm:v1:m:abc",
    "",
    // numbers
    "0",
    "1",
    "-1",
    "2",
    "3",
    "10",
    "100",
    "1000",
    "1.5",
    "-0",
    "1e3",
    "abc",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "4294967296",
    // option words
    "EX",
    "PX",
    "EXAT",
    "PXAT",
    "NX",
    "XX",
    "KEEPTTL",
    "GET",
    "PERSIST",
    "GT",
    "LT",
    "WAIT",
    "TOKENS",
    "MATCH",
    "COUNT",
    "TYPE",
    "string",
    "hash",
    "ReJSON-RL",
    "ASYNC",
    "SYNC",
    "NOSAVE",
    "SAVE",
    "NOW",
    "FORCE",
    "ABORT",
    "DIALECT",
    "MODEL",
    "SAMPLED",
    "openai-chat",
    "anthropic",
    "gemini",
    "generic",
    "INDENT",
    "NEWLINE",
    "SPACE",
    "$",
    ".",
    "AUTH",
    "SETNAME",
    "default",
    PASSWORD,
    "wrong",
    "ON",
    "OFF",
    "LIB-NAME",
    "LIB-VER",
    "*",
    "k*",
    "llm:v1:*",
    "[a-z]*",
    "\\",
    "default",
    "server",
    "clients",
    "persistence",
    "commandstats",
    "everything",
    "all",
    "stats",
    "llm",
    // request bodies and JSON documents
    r#"{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"Hi"}]}"#,
    r#"{"model":"claude-3","max_tokens":8,"temperature":0,"messages":[{"role":"user","content":"Hi"}]}"#,
    r#"{"contents":[{"parts":[{"text":"Hi"}]}],"generationConfig":{"temperature":0}}"#,
    r#"{"model":"m","temperature":0.7}"#,
    r#"{"a":[1,2.5,"x",null,true],"b":{"c":{}}}"#,
    "{}",
    "[]",
    "\"s\"",
    "7",
    "{",
    "null",
];

/// Argument tags below this name a word; this one names a table row; above, raw bytes.
const TAG_NAME: u8 = 0xBF;

/// Every word an argument tag can name: the fixed ones, then every subcommand name.
fn words() -> &'static [Bytes] {
    static WORDS: OnceLock<Vec<Bytes>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let mut w: Vec<Bytes> = BASE_WORDS
            .iter()
            .map(|s| Bytes::from_static(s.as_bytes()))
            .collect();
        for c in COMMANDS {
            for s in c.subcommands {
                w.push(Bytes::from_static(s.name.as_bytes()));
            }
        }
        assert!(w.len() <= TAG_NAME as usize, "every word must have a tag");
        w
    })
}

/// A fresh in-memory server state.
pub fn new_state(settings: u8, clock: Clock) -> Arc<Shared> {
    let mut config = Config {
        port: 0,
        appendonly: false,
        save: SaveSchedule::parse("").expect("an empty schedule parses"),
        requirepass: (settings & 1 != 0).then(|| Password::from(PASSWORD)),
        ..Config::default()
    };
    if settings & 2 != 0 {
        config.maxmemory = 4096;
    }
    if settings & 4 != 0 {
        config.eviction = EvictionKind::Lru;
    }
    if settings & 8 != 0 {
        config.llm_default_ttl = None;
    }
    let shared = Arc::new(Shared::new(config, clock, cmd::row_names()));
    assert!(!shared.is_loading(), "an in-memory server does not load");
    shared
}

/// A connected client, registered as the accept loop registers it.
pub fn new_client(shared: &Shared) -> Client {
    let addr = SocketAddr::from(([127, 0, 0, 1], 40000));
    let laddr = SocketAddr::from(([127, 0, 0, 1], 6379));
    let info = Arc::new(ClientInfo::new(shared.clients.next_id(), addr, laddr));
    shared.clients.register(info.clone());
    Client::new(info, shared.config().requirepass.is_none())
}

/// A client disconnecting: its leases go to the next follower, as at the end of a connection.
pub fn end_client(shared: &Shared, client: &Client) {
    if client.used_leases {
        shared.flights.abandon_all(client.id());
    }
    shared.clients.unregister(client.id());
}

/// Runs one command as a connection does after parsing: `cmd::execute` makes the checks (unknown
/// command, arity, auth, loading, MULTI) in Redis's order, then runs the handler.
pub fn execute(shared: &Arc<Shared>, client: &mut Client, args: &[Bytes]) -> Flow {
    let mut ctx = Ctx { shared, client };
    cmd::execute(&mut ctx, args)
}

/// The position of a top-level command in the table, any case.
fn table_row(name: &str) -> Option<usize> {
    COMMANDS
        .iter()
        .position(|c| c.name.eq_ignore_ascii_case(name))
}

/// Decodes one command: `None` for a clock move (done here) or an empty name.
fn next_command(input: &mut Input<'_>, clock: &Clock) -> Option<Vec<Bytes>> {
    let op = input.byte() & 0x7F;
    if op == OP_CLOCK {
        clock.advance(u64::from(input.u16()) * 1000);
        return None;
    }
    let row = match op {
        OP_WIDE => Some(OP_WIDE as usize + input.byte() as usize),
        OP_RAW => None,
        v => Some(v as usize),
    };
    let argc = input.byte() as usize % 8;
    let mut args = Vec::with_capacity(argc + 1);
    if let Some(spec) = row.and_then(|r| COMMANDS.get(r)) {
        args.push(Bytes::from_static(spec.name.as_bytes()));
    } else {
        args.push(arg(input));
    }
    for _ in 0..argc {
        args.push(arg(input));
    }
    Some(args)
}

fn arg(input: &mut Input<'_>) -> Bytes {
    match input.byte() {
        t if t < TAG_NAME => {
            let w = words();
            w[t as usize % w.len()].clone()
        }
        TAG_NAME => {
            let row = &COMMANDS[input.byte() as usize % COMMANDS.len()];
            Bytes::from_static(row.name.as_bytes())
        }
        t => Bytes::copy_from_slice(input.take((t & 0x3F) as usize)),
    }
}

pub fn run(data: &[u8]) {
    assert!(
        COMMANDS.len() <= OP_WIDE as usize + 256,
        "every row must have an op"
    );
    // Lease timers are tokio tasks: give the handlers a runtime to spawn them on. It is never
    // driven, and dropping it at the end drops every task spawned during this input.
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    else {
        return;
    };
    let _guard = rt.enter();
    let mut input = Input::new(data);
    let clock = Clock::new();
    let shared = new_state(input.byte(), clock.clone());
    let mut clients = [new_client(&shared), new_client(&shared)];
    let mut out = BytesMut::new();
    for _ in 0..MAX_OPS {
        if input.is_empty() {
            break;
        }
        let which = usize::from(input.rest().first().is_some_and(|b| b & 0x80 != 0));
        let Some(args) = next_command(&mut input, &clock) else {
            continue;
        };
        if args[0].is_empty() {
            continue;
        }
        let client = &mut clients[which];
        let reply = match execute(&shared, client, &args) {
            Flow::Reply(r) => Some(r),
            Flow::Wait(wait) => {
                drop(wait);
                None
            }
            Flow::Close => {
                client.close_after_reply = true;
                None
            }
        };
        if crate::trace() {
            eprintln!("client {which}: {args:?} -> {reply:?}");
        }
        if let Some(r) = reply {
            out.clear();
            r.encode(client.protocol, &mut out);
            if let Err(e) = resp::check_one(&out) {
                panic!(
                    "reply to {args:?} is not one RESP frame: {e}\n{:?}",
                    String::from_utf8_lossy(&out)
                );
            }
        }
        if client.close_after_reply {
            end_client(&shared, client);
            *client = new_client(&shared);
        }
    }
    for c in &clients {
        end_client(&shared, c);
    }
}

/// One command of a seed: which client (0 or 1), the command's name and its arguments.
pub struct SeedOp<'a> {
    pub client: u8,
    pub name: &'a str,
    pub args: &'a [&'a str],
}

/// Builds an input for [`run`]. Names found in the table use their row (others are sent as a
/// raw name); arguments use their word's tag, a table name's tag, or are sent raw (at most 63
/// bytes each); at most 7 arguments per command.
pub fn encode(settings: u8, ops: &[SeedOp<'_>]) -> Vec<u8> {
    let mut out = vec![settings];
    let w = words();
    let push_arg = |out: &mut Vec<u8>, s: &str| {
        if let Some(i) = w.iter().position(|x| x == s.as_bytes()) {
            out.push(i as u8);
        } else if let Some(row) = table_row(s).filter(|_| s.len() < 0x40) {
            out.push(TAG_NAME);
            out.push(row as u8);
        } else {
            let b = &s.as_bytes()[..s.len().min(0x3F)];
            out.push(0xC0 | b.len() as u8);
            out.extend_from_slice(b);
        }
    };
    for op in ops {
        assert!(op.args.len() < 8, "at most 7 arguments per command");
        let row = table_row(op.name);
        let client = (op.client & 1) << 7;
        match row {
            Some(i) if i < OP_WIDE as usize => {
                out.push(client | i as u8);
                out.push(op.args.len() as u8);
            }
            Some(i) => {
                out.push(client | OP_WIDE);
                out.push((i - OP_WIDE as usize) as u8);
                out.push(op.args.len() as u8);
            }
            None => {
                out.push(client | OP_RAW);
                out.push(op.args.len() as u8);
                push_arg(&mut out, op.name);
            }
        }
        for a in op.args {
            push_arg(&mut out, a);
        }
    }
    out
}
