//! Typed errors of the persistence engine, and the Redis error replies they map to.

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
    /// A write or fsync of the log failed earlier: the engine refuses writes until restart,
    /// because after a failed fsync the kernel may have dropped the dirty pages and no later
    /// success can prove the log is whole.
    FailStop { reason: String },
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
}

impl PersistError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        PersistError::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// The Redis error reply (without the leading `-`) a write command gets when `append` or
    /// `durable` fails with this error.
    pub fn reply_text(&self) -> String {
        match self {
            PersistError::FailStop { reason } => {
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
            other => format!("ERR {other}"),
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
                write!(f, "persistence stopped after a write error: {reason}")
            }
            PersistError::SnapshotFailed => f.write_str("the last snapshot failed"),
            PersistError::Loading => f.write_str("the data set is still loading"),
            PersistError::RewriteInProgress => f.write_str("a rewrite is already in progress"),
            PersistError::RecordTooLarge { bytes } => {
                write!(f, "record of {bytes} bytes exceeds the on-disk limit")
            }
            PersistError::Closed => f.write_str("persistence is shut down"),
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
