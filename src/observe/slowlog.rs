//! The slow log (SLOWLOG): the last `slowlog-max-len` commands whose execution took at least
//! `slowlog-log-slower-than` microseconds, as Redis 7.0 keeps them (`src/slowlog.c`).
//!
//! An entry keeps at most [`MAX_ARGS`] arguments (the last one then says how many more there
//! were) and at most [`MAX_STRING`] bytes of each; secrets are replaced by `(redacted)` as Redis's
//! commands redact them (AUTH, HELLO AUTH, CONFIG SET of a password, ACL SETUSER).
//!
//! # Concurrency
//! One mutex, taken only by a command that was slow enough and by SLOWLOG itself; ids come
//! from a counter under the same lock, so they grow in the order entries are added.

use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::Mutex;

/// Redis's `SLOWLOG_ENTRY_MAX_ARGC`.
pub const MAX_ARGS: usize = 32;
/// Redis's `SLOWLOG_ENTRY_MAX_STRING`.
pub const MAX_STRING: usize = 128;

/// One slow command.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: u64,
    /// Unix seconds when it was logged.
    pub time: u64,
    pub duration_us: u64,
    pub args: Vec<Bytes>,
    /// `ip:port` of the client.
    pub peer: String,
    pub client_name: String,
}

#[derive(Default)]
struct Inner {
    /// Newest first.
    entries: VecDeque<Entry>,
    next_id: u64,
}

#[derive(Default)]
pub struct SlowLog {
    inner: Mutex<Inner>,
}

/// Who ran a command: `(ip:port, client name)`, asked for only when an entry is made.
pub type Who<'a> = &'a dyn Fn() -> (String, String);

impl SlowLog {
    /// Adds an entry for the command `args` (row `full_name`), keeping the newest `max_len`.
    pub fn push(
        &self,
        full_name: &str,
        args: &[Bytes],
        duration_us: u64,
        now_secs: u64,
        max_len: usize,
        who: Who<'_>,
    ) {
        let (peer, client_name) = who();
        let args = shorten(&redact(full_name, args));
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let id = inner.next_id;
        inner.next_id += 1;
        inner.entries.push_front(Entry {
            id,
            time: now_secs,
            duration_us,
            args,
            peer,
            client_name,
        });
        inner.entries.truncate(max_len);
    }

    /// The newest `count` entries, newest first.
    pub fn newest(&self, count: usize) -> Vec<Entry> {
        match self.inner.lock() {
            Ok(inner) => inner.entries.iter().take(count).cloned().collect(),
            Err(_) => Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.inner.lock().map_or(0, |i| i.entries.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// SLOWLOG RESET: drops every entry; ids keep counting.
    pub fn reset(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.entries.clear();
        }
    }

    /// Applies a smaller `slowlog-max-len` at once.
    pub fn trim(&self, max_len: usize) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.entries.truncate(max_len);
        }
    }
}

const REDACTED: &[u8] = b"(redacted)";

/// The settings whose CONFIG SET value Redis redacts.
const SECRET_SETTINGS: &[&str] = &[
    "requirepass",
    "masterauth",
    "tls-key-file-pass",
    "tls-client-key-file-pass",
];

/// `args` with the secrets Redis's commands redact replaced.
fn redact(full_name: &str, args: &[Bytes]) -> Vec<Bytes> {
    let mut out = args.to_vec();
    let hide = |out: &mut Vec<Bytes>, i: usize| {
        if let Some(a) = out.get_mut(i) {
            *a = Bytes::from_static(REDACTED);
        }
    };
    match full_name {
        "auth" => (1..out.len()).for_each(|i| hide(&mut out, i)),
        "hello" => {
            let mut j = 2;
            while j < out.len() {
                if out[j].eq_ignore_ascii_case(b"auth") && j + 2 < out.len() {
                    hide(&mut out, j + 1);
                    hide(&mut out, j + 2);
                    j += 3;
                } else {
                    j += 1;
                }
            }
        }
        "acl|setuser" => (2..out.len()).for_each(|i| hide(&mut out, i)),
        "config|set" => {
            let mut j = 2;
            while j + 1 < out.len() {
                let name = String::from_utf8_lossy(&out[j]).to_ascii_lowercase();
                if SECRET_SETTINGS.contains(&name.as_str()) {
                    hide(&mut out, j + 1);
                }
                j += 2;
            }
        }
        _ => {}
    }
    out
}

/// Redis's limits: [`MAX_ARGS`] arguments (the last saying how many more) and [`MAX_STRING`]
/// bytes each (then how many more bytes).
fn shorten(args: &[Bytes]) -> Vec<Bytes> {
    let kept = args.len().min(MAX_ARGS);
    (0..kept)
        .map(|j| {
            if kept != args.len() && j == kept - 1 {
                let more = args.len() - kept + 1;
                Bytes::from(format!("... ({more} more arguments)"))
            } else if args[j].len() > MAX_STRING {
                let mut s = args[j][..MAX_STRING].to_vec();
                let more = args[j].len() - MAX_STRING;
                s.extend_from_slice(format!("... ({more} more bytes)").as_bytes());
                Bytes::from(s)
            } else {
                // A copy: an argument is a slice of the connection's read buffer, which a
                // clone would keep alive for as long as the entry stays in the log.
                Bytes::copy_from_slice(&args[j])
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::from(w.to_string())).collect()
    }

    fn who() -> (String, String) {
        ("127.0.0.1:1".into(), String::new())
    }

    #[test]
    fn long_commands_are_cut_as_redis_cuts_them() {
        let many: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        let refs: Vec<&str> = many.iter().map(|s| s.as_str()).collect();
        let out = shorten(&b(&refs));
        assert_eq!(out.len(), 32);
        assert_eq!(out[31], "... (9 more arguments)");
        let long = "x".repeat(200);
        let out = shorten(&b(&["set", "k", &long]));
        assert_eq!(out[2].len(), 128 + "... (72 more bytes)".len());
        assert!(out[2].ends_with(b"... (72 more bytes)"));
    }

    #[test]
    fn secrets_are_redacted() {
        assert_eq!(
            redact("auth", &b(&["AUTH", "u", "p"])),
            b(&["AUTH", "(redacted)", "(redacted)"])
        );
        assert_eq!(
            redact(
                "hello",
                &b(&["hello", "3", "AUTH", "u", "p", "SETNAME", "n"])
            ),
            b(&[
                "hello",
                "3",
                "AUTH",
                "(redacted)",
                "(redacted)",
                "SETNAME",
                "n"
            ])
        );
        assert_eq!(
            redact(
                "config|set",
                &b(&["config", "set", "maxmemory", "1", "requirepass", "s"])
            ),
            b(&[
                "config",
                "set",
                "maxmemory",
                "1",
                "requirepass",
                "(redacted)"
            ])
        );
        assert_eq!(
            redact("acl|setuser", &b(&["acl", "setuser", "u", ">p"])),
            b(&["acl", "setuser", "(redacted)", "(redacted)"])
        );
    }

    #[test]
    fn newest_first_bounded_and_ids_survive_reset() {
        let log = SlowLog::default();
        for i in 0..5 {
            log.push("get", &b(&["get", &i.to_string()]), 10, 1, 3, &who);
        }
        let got = log.newest(10);
        assert_eq!(got.iter().map(|e| e.id).collect::<Vec<_>>(), vec![4, 3, 2]);
        log.reset();
        assert!(log.is_empty());
        log.push("get", &b(&["get"]), 10, 1, 3, &who);
        assert_eq!(log.newest(1)[0].id, 5);
    }
}
