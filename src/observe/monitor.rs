//! MONITOR: every command the server runs, as Redis 7.0.15 prints it to its monitors:
//! `+<unix seconds>.<micros> [<db> <addr>] "cmd" "arg" ...`, each argument quoted as Redis's
//! `sdscatrepr` quotes it, `<addr>` `lua` for a command a script calls.
//!
//! What is shown follows Redis: a command is fed as it starts (a blocking command when it
//! blocks, EVAL before the commands its script calls), EXEC after the commands it ran;
//! administrative commands (the table's `admin` rows, MONITOR itself, `ACL SETUSER` whole) are
//! never shown, and commands refused before they run (unknown, wrong arity, NOAUTH, NOPERM) are
//! not shown. Passwords are redacted as Redis redacts them: every argument of AUTH and the two
//! after HELLO's `AUTH` become `(redacted)`.
//!
//! # Cost
//! With no monitor attached a command pays one relaxed atomic load ([`Monitors::active`]). With
//! monitors, the line is formatted once and queued to each (an unbounded queue per monitor,
//! drained by its connection).

use bytes::Bytes;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// The attached monitors.
#[derive(Default)]
pub struct Monitors {
    active: AtomicUsize,
    subs: Mutex<Vec<(u64, UnboundedSender<Bytes>)>>,
}

impl Monitors {
    /// Some monitor is attached: only then is a command formatted.
    #[inline]
    pub fn active(&self) -> bool {
        self.active.load(Ordering::Relaxed) > 0
    }

    fn subs(&self) -> std::sync::MutexGuard<'_, Vec<(u64, UnboundedSender<Bytes>)>> {
        match self.subs.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Attaches client `id` as a monitor: the lines come through the receiver.
    pub fn attach(&self, id: u64) -> UnboundedReceiver<Bytes> {
        let (tx, rx) = unbounded_channel();
        let mut subs = self.subs();
        subs.retain(|(i, _)| *i != id);
        subs.push((id, tx));
        self.active.store(subs.len(), Ordering::Relaxed);
        rx
    }

    /// Detaches client `id` (RESET, disconnect).
    pub fn detach(&self, id: u64) {
        let mut subs = self.subs();
        subs.retain(|(i, _)| *i != id);
        self.active.store(subs.len(), Ordering::Relaxed);
    }

    /// Monitors attached now.
    pub fn count(&self) -> usize {
        self.active.load(Ordering::Relaxed)
    }

    /// Sends one command to every monitor. `addr` is the client's `ip:port`, or `lua`.
    pub fn feed(&self, db: usize, addr: &str, args: &[Bytes]) {
        let line = Bytes::from(line(SystemTime::now(), db, addr, args));
        let mut subs = self.subs();
        subs.retain(|(_, tx)| tx.send(line.clone()).is_ok());
        self.active.store(subs.len(), Ordering::Relaxed);
    }
}

/// The argument at `i` of `args` as a monitor shows it: `(redacted)` for a password.
fn redacted(args: &[Bytes], i: usize) -> bool {
    let Some(name) = args.first() else {
        return false;
    };
    if name.eq_ignore_ascii_case(b"auth") {
        return i > 0;
    }
    if name.eq_ignore_ascii_case(b"hello") {
        // HELLO protover [AUTH username password] [SETNAME name]: the two after AUTH.
        let mut j = 2;
        while j < args.len() {
            if args[j].eq_ignore_ascii_case(b"auth") {
                if i == j + 1 || i == j + 2 {
                    return true;
                }
                j += 3;
            } else if args[j].eq_ignore_ascii_case(b"setname") {
                j += 2;
            } else {
                j += 1;
            }
        }
    }
    false
}

/// One monitor line, `\r\n` included.
pub fn line(at: SystemTime, db: usize, addr: &str, args: &[Bytes]) -> Vec<u8> {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let mut out = format!(
        "+{}.{:06} [{db} {addr}]",
        since.as_secs(),
        since.subsec_micros()
    )
    .into_bytes();
    for (i, a) in args.iter().enumerate() {
        out.push(b' ');
        if redacted(args, i) {
            out.extend_from_slice(b"\"(redacted)\"");
        } else {
            repr(&mut out, a);
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Redis's `sdscatrepr`: `"..."` with `\\`, `\"`, `\n`, `\r`, `\t`, `\a`, `\b` escaped,
/// printable ASCII as is and every other byte as `\xhh`.
fn repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' | b'"' => {
                out.push(b'\\');
                out.push(c);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(c),
            _ => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn args(words: &[&[u8]]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::copy_from_slice(w)).collect()
    }

    #[test]
    fn lines_quote_and_redact_as_redis_7_0() {
        let at = UNIX_EPOCH + Duration::from_micros(1_796_194_995_346_999);
        let set = args(&[b"SET", b"k", b"a b\"c\\\n\x01\xc3\xbf"]);
        assert_eq!(
            String::from_utf8_lossy(&line(at, 0, "127.0.0.1:5000", &set)),
            "+1796194995.346999 [0 127.0.0.1:5000] \"SET\" \"k\" \"a b\\\"c\\\\\\n\\x01\\xc3\\xbf\"\r\n"
        );
        let bin = args(&[b"SET", b"bin\x00\x7f\x80\t\r\x07\x08", b"v"]);
        assert_eq!(
            String::from_utf8_lossy(&line(at, 0, "lua", &bin)),
            "+1796194995.346999 [0 lua] \"SET\" \"bin\\x00\\x7f\\x80\\t\\r\\a\\b\" \"v\"\r\n"
        );
        let hello = args(&[b"HELLO", b"3", b"AUTH", b"default", b"x", b"SETNAME", b"n"]);
        assert!(
            String::from_utf8_lossy(&line(at, 0, "a", &hello)).ends_with(
                "\"HELLO\" \"3\" \"AUTH\" \"(redacted)\" \"(redacted)\" \"SETNAME\" \"n\"\r\n"
            )
        );
        let auth = args(&[b"auth", b"u", b"pw"]);
        assert!(String::from_utf8_lossy(&line(at, 0, "a", &auth))
            .ends_with("\"auth\" \"(redacted)\" \"(redacted)\"\r\n"));
    }

    #[test]
    fn a_detached_or_dropped_monitor_costs_nothing_more() {
        let m = Monitors::default();
        assert!(!m.active());
        let rx = m.attach(7);
        assert!(m.active());
        drop(rx);
        m.feed(0, "lua", &args(&[b"PING"]));
        assert!(!m.active());
        let _rx = m.attach(8);
        m.detach(8);
        assert_eq!(m.count(), 0);
    }
}
