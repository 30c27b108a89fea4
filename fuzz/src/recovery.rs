//! Persistence recovery from arbitrary files, on the simulated file system.
//!
//! # Input
//! ```text
//! byte 0     bit 0: load_corrupt (`aof-load-corrupt yes`); bit 1: write after recovering
//! then, up to MAX_FILES times:
//!   name     bits 0..4: N; bits 4..6: 0 = base.N, 1 = log.N, 2 = base.tmp, 3 = an unrelated
//!            file; bit 6: fix the checksums (below)
//!   len      u16, little-endian
//!   bytes    the file's content (a later file of the same name replaces an earlier one)
//! ```
//! Random bytes almost never carry valid CRC-32C checksums, so most inputs would stop at the
//! first header. With bit 6 set the harness rewrites the header checksum and walks the record
//! frames, clamping each length to the bytes left and rewriting both checksums, so the fuzzer
//! reaches the payload decoder and the replay rules too. The frame layout mirrors the byte
//! tables in `src/persistence/format.rs`.
//!
//! # Checks
//! - Recovery never panics: it yields records or a `PersistError`.
//! - Recovery is idempotent: a second recovery of the directory the first one left yields the
//!   same records (or the same error).
//! - With bit 1, a write appended after a successful recovery is in the state the next recovery
//!   builds: records -> state, then the write, equals the third recovery's state.

use crate::input::Input;
use bytes::Bytes;
use llmcached::persistence::sim::SimFs;
use llmcached::persistence::{FsyncPolicy, Options, Persistence, Record, SetMeta, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Files per input.
pub const MAX_FILES: usize = 6;

/// The clock of every recovery: keys expiring before it come out as deletions.
pub const NOW_MS: u64 = 1_800_000_000_000;

const DIR: &str = "/data";
const HEADER_LEN: usize = 32;
const HEADER_CRC_AT: usize = 28;
const FRAME_LEN: usize = 12;

/// The keyspace a record stream builds: key -> (value, absolute expiry in ms).
pub type State = BTreeMap<Bytes, (Value, Option<u64>)>;

pub fn apply(state: &mut State, rec: Record) {
    match rec {
        Record::Set {
            key,
            value,
            expire_at_ms,
            ..
        } => {
            state.insert(key, (value, expire_at_ms));
        }
        Record::Del { key } => {
            state.remove(&key);
        }
        Record::FlushAll => state.clear(),
        // A compression dictionary changes no key.
        Record::Dict { .. } => {}
    }
}

/// What a file of the input is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileName {
    Base(u8),
    Log(u8),
    BaseTmp,
    Other,
}

impl FileName {
    fn decode(b: u8) -> FileName {
        let n = b & 0x0F;
        match (b >> 4) & 3 {
            0 => FileName::Base(n),
            1 => FileName::Log(n),
            2 => FileName::BaseTmp,
            _ => FileName::Other,
        }
    }

    fn encode(self) -> u8 {
        match self {
            FileName::Base(n) => n & 0x0F,
            FileName::Log(n) => 0x10 | (n & 0x0F),
            FileName::BaseTmp => 0x20,
            FileName::Other => 0x30,
        }
    }

    /// The path, spelled as the engine spells its own files.
    fn path(self) -> PathBuf {
        let name = match self {
            FileName::Base(n) => format!("base.{n:012}"),
            FileName::Log(n) => format!("log.{n:012}"),
            FileName::BaseTmp => "base.tmp".to_owned(),
            FileName::Other => "notes.txt".to_owned(),
        };
        Path::new(DIR).join(name)
    }
}

/// Rewrites the checksums of a header and of every record frame after it, clamping record
/// lengths to the bytes left (see the module docs).
fn fix_checksums(data: &mut [u8]) {
    if data.len() >= HEADER_LEN {
        let crc = crc32c::crc32c(&data[..HEADER_CRC_AT]);
        data[HEADER_CRC_AT..HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
    }
    let mut at = HEADER_LEN;
    while at + FRAME_LEN <= data.len() {
        let room = data.len() - at - FRAME_LEN;
        let declared = u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
        let len = (declared as usize).min(room);
        let len_bytes = (len as u32).to_le_bytes();
        data[at..at + 4].copy_from_slice(&len_bytes);
        data[at + 4..at + 8].copy_from_slice(&crc32c::crc32c(&len_bytes).to_le_bytes());
        let payload_crc = crc32c::crc32c(&data[at + FRAME_LEN..at + FRAME_LEN + len]);
        data[at + 8..at + 12].copy_from_slice(&payload_crc.to_le_bytes());
        at += FRAME_LEN + len;
    }
}

fn options(fs: &SimFs, load_corrupt: bool) -> Options {
    let mut o = Options::new(DIR);
    o.fs = Arc::new(fs.clone());
    o.fsync = FsyncPolicy::No;
    o.load_corrupt = load_corrupt;
    o
}

/// Opens the directory and drives the loader to its end: the engine and every record, or the
/// error's text.
fn recover(fs: &SimFs, load_corrupt: bool) -> (Option<Persistence>, Result<Vec<Record>, String>) {
    let (p, loader) = match Persistence::open(options(fs, load_corrupt), NOW_MS) {
        Ok(opened) => opened,
        Err(e) => return (None, Err(format!("open: {e}"))),
    };
    let mut records = Vec::new();
    for rec in loader {
        match rec {
            Ok(r) => records.push(r),
            Err(e) => return (Some(p), Err(format!("load: {e}"))),
        }
    }
    (Some(p), Ok(records))
}

pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let flags = input.byte();
    let load_corrupt = flags & 1 != 0;
    let fs = SimFs::new();
    for _ in 0..MAX_FILES {
        if input.is_empty() {
            break;
        }
        let name = input.byte();
        let len = input.u16() as usize;
        let mut content = input.take(len).to_vec();
        if name & 0x40 != 0 {
            fix_checksums(&mut content);
        }
        fs.write_durable(&FileName::decode(name).path(), content);
    }

    let (first_engine, first) = recover(&fs, load_corrupt);
    if crate::trace() {
        eprintln!(
            "files: {:?}\nfirst recovery: {first:?}",
            fs.files(Path::new(DIR))
        );
    }
    drop(first_engine);
    let (engine, second) = recover(&fs, load_corrupt);
    assert_eq!(
        first,
        second,
        "recovering the directory again gave another result; files now: {:?}",
        fs.files(Path::new(DIR))
    );

    let (Some(engine), Ok(records)) = (engine, second) else {
        return;
    };
    if flags & 2 == 0 {
        return;
    }
    let mut want = State::new();
    for r in records {
        apply(&mut want, r);
    }
    let write = Record::Set {
        key: Bytes::from_static(b"fuzz:written-after-recovery"),
        value: Value::Str(Bytes::from_static(b"v")),
        expire_at_ms: None,
        meta: SetMeta::default(),
    };
    let appended = engine.append(&write).and_then(|_| engine.shutdown());
    if let Err(e) = appended {
        panic!("a write after a successful recovery failed: {e}");
    }
    drop(engine);
    apply(&mut want, write);
    let (_engine, third) = recover(&fs, load_corrupt);
    let third = match third {
        Ok(records) => records,
        Err(e) => panic!("recovery after a clean shutdown failed: {e}"),
    };
    let mut got = State::new();
    for r in third {
        apply(&mut got, r);
    }
    assert_eq!(
        got, want,
        "the state after a write and a restart is not the state plus the write"
    );
}

/// One file of a seed.
pub struct SeedFile {
    pub name: FileName,
    pub fix_checksums: bool,
    pub content: Vec<u8>,
}

/// Builds an input for [`run`].
pub fn encode(load_corrupt: bool, write_after: bool, files: &[SeedFile]) -> Vec<u8> {
    let mut out = vec![u8::from(load_corrupt) | (u8::from(write_after) << 1)];
    for f in files.iter().take(MAX_FILES) {
        out.push(f.name.encode() | if f.fix_checksums { 0x40 } else { 0 });
        let content = &f.content[..f.content.len().min(u16::MAX as usize)];
        out.extend_from_slice(&(content.len() as u16).to_le_bytes());
        out.extend_from_slice(content);
    }
    out
}

/// Writes `records` through the real engine on a fresh simulated file system (optionally a
/// base of `base` first, via a rewrite), shuts it down, and returns the files it left, for
/// seeds made of real files.
pub fn real_files(base: &[Record], records: &[Record]) -> Vec<(FileName, Vec<u8>)> {
    let fs = SimFs::new();
    let (p, loader) = match Persistence::open(options(&fs, false), NOW_MS) {
        Ok(opened) => opened,
        Err(e) => panic!("opening an empty directory failed: {e}"),
    };
    for rec in loader {
        if let Err(e) = rec {
            panic!("loading an empty directory failed: {e}");
        }
    }
    let wrote = (|| {
        if !base.is_empty() {
            p.rewrite(NOW_MS, || base.to_vec())?;
        }
        for r in records {
            p.append(r)?;
        }
        p.shutdown()
    })();
    if let Err(e) = wrote {
        panic!("writing seed records failed: {e}");
    }
    drop(p);
    let mut files = Vec::new();
    for name in fs.files(Path::new(DIR)) {
        let parsed = if let Some(n) = name.strip_prefix("base.") {
            n.parse().ok().map(FileName::Base)
        } else if let Some(n) = name.strip_prefix("log.") {
            n.parse().ok().map(FileName::Log)
        } else {
            None
        };
        if let (Some(f), Some(data)) = (parsed, fs.read(&Path::new(DIR).join(&name))) {
            files.push((f, data));
        }
    }
    files
}
