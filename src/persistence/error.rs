//! Typed errors of the persistence engine, and the Redis error replies they map to.
//!
//! Replies never name a path: the data directory is the operator's business, not a client's
//! (the logs carry the full text). [`os_reason`] turns an I/O error into the `strerror` text
//! Redis puts in its replies.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in the engine.
#[derive(Debug)]
pub enum PersistError {
    /// An I/O call failed outside the write path (open, recovery, rewrite).
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// A file holds bytes that are not a valid record, away from the torn tail that a crash
    /// can leave. `offset` is the byte offset of the bad record (or header) in `path`.
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    /// `appendfsync always` and a write or fsync of the log failed: the engine refuses writes
    /// until restart (Redis exits in this case), because an acknowledged write must be on disk
    /// and no later success can prove that the log is whole.
    FailStop {
        /// The `strerror` text of the failure, without any path.
        reason: String,
    },
    /// `appendfsync everysec` or `no` and a write or fsync of the log failed: writes are refused
    /// until a base written from memory has made the disk whole again, which the engine asks
    /// for through [`needs_base`](super::Persistence::needs_base). Nothing acknowledged is lost
    /// while the process runs: memory holds it.
    WriteFailed {
        /// The `strerror` text of the failure, without any path.
        reason: String,
    },
    /// Snapshot-only mode and the last snapshot failed: writes are refused until one succeeds
    /// (Redis's `stop-writes-on-bgsave-error yes`).
    SnapshotFailed,
    /// The data set is still being loaded.
    Loading,
    /// A rewrite or snapshot is already running.
    RewriteInProgress,
    /// A record's encoding exceeds the format's limit.
    RecordTooLarge { bytes: usize },
    /// The engine was shut down.
    Closed,
    /// Another process holds the data directory's lock (two servers on one `--dir` would
    /// destroy each other's files).
    Locked { dir: PathBuf, pid: Option<u32> },
}

/// The `strerror` part of an I/O error ("No space left on device"), without Rust's
/// " (os error 28)" suffix and without any path a custom error might carry.
pub fn os_reason(e: &io::Error) -> String {
    if e.raw_os_error().is_some() {
        let s = e.to_string();
        return match s.rfind(" (os error ") {
            Some(i) => s[..i].to_owned(),
            None => s,
        };
    }
    // A custom message may name a file: only the kind is safe to repeat.
    e.kind().to_string()
}

impl PersistError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        PersistError::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// The Redis error reply (without the leading `-`) a command gets when the engine fails
    /// with this error. Never contains a path.
    pub fn reply_text(&self) -> String {
        match self {
            // Redis 7: "-MISCONF Errors writing to the AOF file: %s" with strerror(errno).
            PersistError::FailStop { reason } | PersistError::WriteFailed { reason } => {
                format!("MISCONF Errors writing to the AOF file: {reason}")
            }
            PersistError::SnapshotFailed => "MISCONF Redis is configured to save RDB snapshots, \
                but it's currently unable to persist to disk. Commands that may modify the data \
                set are disabled, because this instance is configured to report errors during \
                writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please \
                check the Redis logs for details about the RDB error."
                .to_owned(),
            PersistError::Loading => "LOADING Redis is loading the dataset in memory".to_owned(),
            PersistError::RewriteInProgress => "ERR Background save already in progress".to_owned(),
            // Redis 7 answers a failed SAVE with a bare "-ERR" and logs the reason.
            PersistError::Io { .. } => "ERR".to_owned(),
            PersistError::Corrupt { offset, reason, .. } => {
                format!("ERR corrupt data at offset {offset}: {reason}")
            }
            PersistError::Locked { .. } => {
                "ERR the data directory is in use by another process".to_owned()
            }
            PersistError::RecordTooLarge { .. } | PersistError::Closed => format!("ERR {self}"),
        }
    }
}

impl fmt::Display for PersistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PersistError::Io { op, path, source } => {
                write!(f, "{op} {}: {source}", path.display())
            }
            PersistError::Corrupt {
                path,
                offset,
                reason,
            } => write!(
                f,
                "corrupt data in {} at offset {offset}: {reason} (start with --aof-load-corrupt yes \
                 to load the valid records and skip the rest of that file)",
                path.display()
            ),
            PersistError::FailStop { reason } => {
                write!(f, "persistence stopped after a log write error: {reason}")
            }
            PersistError::WriteFailed { reason } => write!(
                f,
                "writing the log failed ({reason}); writes are refused until a base written \
                 from memory succeeds"
            ),
            PersistError::SnapshotFailed => f.write_str("the last snapshot failed"),
            PersistError::Loading => f.write_str("the data set is still loading"),
            PersistError::RewriteInProgress => f.write_str("a rewrite is already in progress"),
            PersistError::RecordTooLarge { bytes } => {
                write!(f, "record of {bytes} bytes exceeds the on-disk limit")
            }
            PersistError::Closed => f.write_str("persistence is shut down"),
            PersistError::Locked { dir, pid } => {
                let holder = match pid {
                    Some(p) => format!("pid {p}"),
                    None => "a process whose pid is not recorded".to_owned(),
                };
                write!(
                    f,
                    "the data directory {} is in use by another llmcached ({holder}, holding \
                     {}/LOCK): two servers must not share one --dir",
                    dir.display(),
                    dir.display()
                )
            }
        }
    }
}

impl std::error::Error for PersistError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PersistError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn os_reason_is_strerror_without_suffix_or_path() {
        let e = io::Error::from_raw_os_error(28);
        assert_eq!(os_reason(&e), "No space left on device");
        let custom = io::Error::new(io::ErrorKind::NotFound, "/secret/dir/log.1 not found");
        assert_eq!(os_reason(&custom), "entity not found");
    }

    #[test]
    fn no_reply_names_a_path() {
        let path = PathBuf::from("/very/secret/data");
        let errors = [
            PersistError::io(
                "write",
                path.join("log.1"),
                io::Error::from_raw_os_error(28),
            ),
            PersistError::Corrupt {
                path: path.join("base.1"),
                offset: 3,
                reason: "record checksum mismatch".into(),
            },
            PersistError::Locked {
                dir: path.clone(),
                pid: Some(7),
            },
            PersistError::WriteFailed {
                reason: "No space left on device".into(),
            },
        ];
        for e in &errors {
            let r = e.reply_text();
            assert!(!r.contains('/'), "{r}");
        }
        assert_eq!(
            errors[3].reply_text(),
            "MISCONF Errors writing to the AOF file: No space left on device"
        );
    }
}
