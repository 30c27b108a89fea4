//! `ACL LOG`: the most recent denied attempts, newest first, as Redis 7.0 keeps them.
//!
//! An attempt like one logged less than 60 seconds ago (same reason, context, object and
//! user) adds to that entry's count instead of making a new one. At most `acllog-max-len`
//! entries are kept.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Within this many milliseconds a repeated attempt is counted on its earlier entry.
const GROUP_MS: u64 = 60_000;

/// What was denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Auth,
    Command,
    Key,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Auth => "auth",
            Reason::Command => "command",
            Reason::Key => "key",
        }
    }
}

/// One entry of the log.
#[derive(Debug, Clone)]
pub struct Entry {
    pub count: u64,
    pub reason: Reason,
    /// `toplevel` or `multi`.
    pub context: &'static str,
    /// The command (`client|list`), the key, or `AUTH`.
    pub object: String,
    pub username: String,
    /// Unix milliseconds of the last attempt.
    pub at_ms: u64,
    /// The client's `CLIENT LIST` line at the last attempt.
    pub client_info: String,
}

/// The log itself.
#[derive(Debug)]
pub struct AclLog {
    entries: Mutex<VecDeque<Entry>>,
    max_len: AtomicUsize,
}

impl Default for AclLog {
    fn default() -> Self {
        AclLog {
            entries: Mutex::default(),
            max_len: AtomicUsize::new(128),
        }
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl AclLog {
    pub fn set_max_len(&self, n: usize) {
        self.max_len.store(n, Ordering::Relaxed);
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        e.truncate(n);
    }

    /// Records one denied attempt at `now` (unix ms).
    pub fn add(&self, mut entry: Entry) {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let same = e.iter().position(|o| {
            o.reason == entry.reason
                && o.context == entry.context
                && o.object == entry.object
                && o.username == entry.username
                && entry.at_ms.saturating_sub(o.at_ms) < GROUP_MS
        });
        if let Some(i) = same {
            if let Some(old) = e.remove(i) {
                entry.count = old.count + 1;
            }
        }
        e.push_front(entry);
        e.truncate(self.max_len.load(Ordering::Relaxed));
    }

    /// The newest `n` entries.
    pub fn newest(&self, n: usize) -> Vec<Entry> {
        let e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        e.iter().take(n).cloned().collect()
    }

    pub fn reset(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(object: &str, at_ms: u64) -> Entry {
        Entry {
            count: 1,
            reason: Reason::Command,
            context: "toplevel",
            object: object.into(),
            username: "u".into(),
            at_ms,
            client_info: String::new(),
        }
    }

    #[test]
    fn repeats_within_a_minute_are_counted_on_one_entry() {
        let log = AclLog::default();
        log.add(entry("get", 1000));
        log.add(entry("set", 2000));
        log.add(entry("get", 3000));
        let e = log.newest(10);
        assert_eq!((e.len(), e[0].object.as_str(), e[0].count), (2, "get", 2));
        log.add(entry("get", 3000 + GROUP_MS));
        assert_eq!(log.newest(10).len(), 3);
        log.set_max_len(1);
        assert_eq!(log.newest(10).len(), 1);
        log.reset();
        assert!(log.newest(10).is_empty());
    }
}
