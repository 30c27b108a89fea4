//! The data directory's file names (`log.<N>`, `base.<N>`, `base.tmp`) and reading a file
//! whole: helpers that recovery, loading, the writer and the rewrite all use.

use super::format::FileKind;
use std::io::Read;
use std::path::{Path, PathBuf};

pub(crate) const BASE_TMP: &str = "base.tmp";

#[derive(Debug)]
pub(crate) struct Source {
    pub path: PathBuf,
    pub kind: FileKind,
    pub id: u64,
    /// The last log segment: the only file that may end in a torn write.
    pub last: bool,
}

/// Parses `base.<N>` / `log.<N>`.
pub(crate) fn parse_name(name: &str) -> Option<(FileKind, u64)> {
    let (kind, num) = if let Some(n) = name.strip_prefix("base.") {
        (FileKind::Base, n)
    } else {
        (FileKind::Log, name.strip_prefix("log.")?)
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((kind, num.parse().ok()?))
}

/// Segment `id`'s path.
pub(crate) fn segment_path(dir: &std::path::Path, id: u64) -> PathBuf {
    dir.join(format!("log.{id:012}"))
}

/// Base `id`'s path.
pub(crate) fn base_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("base.{id:012}"))
}

/// Reads until `buf` is full or end of file; returns the bytes read.
pub(crate) fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
