//! Persistence engine tests, below the process level: crash and recovery, rewrite
//! (compaction), snapshot-only and in-memory modes, and the frozen version-1 format.

mod faults;
mod recovery;
mod rewrite;
mod support;
