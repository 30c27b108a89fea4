//! On-disk format: file headers, record frames and record payloads.
//!
//! Everything is little-endian. Every header and every record carries a CRC-32C (Castagnoli).
//! Two kinds of files live in the data directory (see `recovery.rs` for how they combine):
//!
//! * `base.<N>`: a snapshot of the whole keyspace, written to `base.tmp`, fsynced and renamed, so
//!   it is either absent or complete. It ends with an `End` record holding the record count.
//! * `log.<N>`: an append-only log segment. Replayed in ascending `N` over the base with the
//!   highest `N` whose header says `log_start <= N`.
//!
//! # File header (both kinds, 32 bytes)
//!
//! | offset | size | field                                                              |
//! |-------:|-----:|--------------------------------------------------------------------|
//! |      0 |    8 | magic: `LLMCBASE` or `LLMCLOG\0`                                   |
//! |      8 |    4 | format version, u32 (written: [`FORMAT_VERSION`]; read: 1 to 3)   |
//! |     12 |    4 | reserved, zero                                                     |
//! |     16 |    8 | base: first log segment to replay after it; log: its own segment id |
//! |     24 |    4 | base: unix seconds when it was written; log: zero                  |
//! |     28 |    4 | CRC-32C of bytes 0..28                                             |
//!
//! # Record frame (follows the header, repeated until end of file)
//!
//! | offset | size | field                                              |
//! |-------:|-----:|----------------------------------------------------|
//! |      0 |    4 | payload length `n`, u32 (at most [`MAX_PAYLOAD`]) |
//! |      4 |    4 | CRC-32C of bytes 0..4 (the length)                 |
//! |      8 |    4 | CRC-32C of the payload                             |
//! |     12 |    n | payload                                            |
//!
//! The length has its own checksum so that a damaged length is reported as corruption
//! instead of being mistaken for a record cut short by a crash.
//!
//! # Payloads (offsets relative to the payload)
//!
//! | kind         | layout                                                                           |
//! |--------------|----------------------------------------------------------------------------------|
//! | 1 `Set`      | 0: kind u8, 1: flags u8 (bit 0 = has expiry, bit 1 = has metadata), 2: value     |
//! |              | type u8, 3: reserved u8, 4: expire_at unix ms u64 (0 without expiry), 12: with  |
//! |              | metadata: stored_at unix ms u64, grace ms u64, tokens u64; then key (blob) and  |
//! |              | the value                                                                        |
//! | 2 `Del`      | 0: kind u8, 1: key (blob)                                                       |
//! | 3 `FlushAll` | 0: kind u8                                                                      |
//! | 4 `End`      | 0: kind u8, 1: record count u64 (base files only, always last)                  |
//! | 5 `Dict`     | 0: kind u8, 1: dictionary id u32, 5: key prefix (blob), then the dictionary     |
//! |              | (blob: a zstd dictionary whose header carries the same id)                      |
//!
//! A blob is a u32 length followed by that many bytes. Values by type:
//! 1 string = blob; 2 hash = u32 pair count, then field blob + value blob per pair;
//! 3 JSON = blob (the serialized document); 4 list = u32 item count, then an item blob per
//! item, head first; 5 set = u32 member count, then a member blob per member; 6 sorted set =
//! u32 member count, then per member its score (f64, IEEE 754 bits, little-endian) and blob;
//! 7 compressed string = blob holding one zstd frame with its content size, whose dictionary
//! id field (absent: no dictionary) names a `Dict` record that comes before it in the files.
//! Types 4 to 6 came without a version change: files without them read as before.
//!
//! # Versions
//!
//! Version 2 added the metadata of a `Set` (flag bit 1). Version 1 files never set that bit, so
//! their records read the same way, with zero metadata: a reader of version 2 loads both.
//!
//! Version 3 added compressed strings (value type 7) and `Dict` records (kind 5). Files of
//! versions 1 and 2 hold neither, so the same decoder reads all three; a build that reads only
//! up to version 2 refuses a version 3 file by its header instead of failing on a record.

use bytes::{BufMut, Bytes};

use super::{Record, SetMeta, Value};

/// Version written into every header.
pub const FORMAT_VERSION: u32 = 3;
/// The oldest version this build reads (see the module docs: every version up to
/// [`FORMAT_VERSION`] reads with the same decoder).
pub const OLDEST_READABLE_VERSION: u32 = 1;
pub const BASE_MAGIC: [u8; 8] = *b"LLMCBASE";
pub const LOG_MAGIC: [u8; 8] = *b"LLMCLOG\0";

pub const HEADER_LEN: usize = 32;
const HDR_MAGIC: usize = 0;
const HDR_VERSION: usize = 8;
const HDR_ID: usize = 16;
const HDR_TIME: usize = 24;
const HDR_CRC: usize = 28;

pub const FRAME_LEN: usize = 12;
const FRAME_LEN_AT: usize = 0;
const FRAME_LEN_CRC_AT: usize = 4;
const FRAME_CRC_AT: usize = 8;
/// Longest payload a reader accepts: a larger length field can only be damage.
pub const MAX_PAYLOAD: usize = 1 << 30;

const KIND_SET: u8 = 1;
const KIND_DEL: u8 = 2;
const KIND_FLUSHALL: u8 = 3;
const KIND_END: u8 = 4;
const KIND_DICT: u8 = 5;
const SET_HAS_EXPIRY: u8 = 1;
const SET_HAS_META: u8 = 2;
const SET_EXPIRE_AT: usize = 4;
const SET_META_AT: usize = 12;
const TYPE_STR: u8 = 1;
const TYPE_HASH: u8 = 2;
const TYPE_JSON: u8 = 3;
const TYPE_LIST: u8 = 4;
const TYPE_SET: u8 = 5;
const TYPE_ZSET: u8 = 6;
const TYPE_PACKED: u8 = 7;

/// Which file a header belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Base,
    Log,
}

/// A decoded, checksum-verified file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub kind: FileKind,
    /// Base: first log segment replayed after it. Log: the segment's own id.
    pub id: u64,
    /// Base: unix seconds of writing. Log: zero.
    pub time_secs: u32,
}

pub fn encode_header(h: &Header) -> [u8; HEADER_LEN] {
    let mut b = [0u8; HEADER_LEN];
    let magic = match h.kind {
        FileKind::Base => BASE_MAGIC,
        FileKind::Log => LOG_MAGIC,
    };
    b[HDR_MAGIC..HDR_MAGIC + 8].copy_from_slice(&magic);
    b[HDR_VERSION..HDR_VERSION + 4].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    b[HDR_ID..HDR_ID + 8].copy_from_slice(&h.id.to_le_bytes());
    b[HDR_TIME..HDR_TIME + 4].copy_from_slice(&h.time_secs.to_le_bytes());
    let crc = crc32c::crc32c(&b[..HDR_CRC]);
    b[HDR_CRC..HDR_CRC + 4].copy_from_slice(&crc.to_le_bytes());
    b
}

/// Decodes a header, or says what is wrong with it.
pub fn decode_header(b: &[u8; HEADER_LEN], kind: FileKind) -> Result<Header, String> {
    let magic = match kind {
        FileKind::Base => BASE_MAGIC,
        FileKind::Log => LOG_MAGIC,
    };
    if b[HDR_MAGIC..HDR_MAGIC + 8] != magic {
        return Err("bad magic in file header".into());
    }
    if read_u32(b, HDR_CRC) != crc32c::crc32c(&b[..HDR_CRC]) {
        return Err("file header checksum mismatch".into());
    }
    let version = read_u32(b, HDR_VERSION);
    if !(OLDEST_READABLE_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(format!(
            "unsupported format version {version} (this build reads \
             {OLDEST_READABLE_VERSION} to {FORMAT_VERSION})"
        ));
    }
    Ok(Header {
        kind,
        id: read_u64(b, HDR_ID),
        time_secs: read_u32(b, HDR_TIME),
    })
}

/// Appends one framed record to `out`. Fails only if the payload exceeds [`MAX_PAYLOAD`], in
/// which case `out` is left as it was.
pub fn encode_record(rec: &Record, out: &mut Vec<u8>) -> Result<(), usize> {
    let start = out.len();
    out.extend_from_slice(&[0u8; FRAME_LEN]);
    match rec {
        Record::Set {
            key,
            value,
            expire_at_ms,
            meta,
        } => {
            let ty = match value {
                Value::Str(_) => TYPE_STR,
                Value::Hash(_) => TYPE_HASH,
                Value::Json(_) => TYPE_JSON,
                Value::List(_) => TYPE_LIST,
                Value::Set(_) => TYPE_SET,
                Value::ZSet(_) => TYPE_ZSET,
                Value::Packed(_) => TYPE_PACKED,
            };
            let has_meta = *meta != SetMeta::default();
            let mut flags = 0;
            if expire_at_ms.is_some() {
                flags |= SET_HAS_EXPIRY;
            }
            if has_meta {
                flags |= SET_HAS_META;
            }
            out.extend_from_slice(&[KIND_SET, flags, ty, 0]);
            out.put_u64_le(expire_at_ms.unwrap_or(0));
            if has_meta {
                out.put_u64_le(meta.stored_at_ms);
                out.put_u64_le(meta.grace_ms);
                out.put_u64_le(meta.tokens);
            }
            put_blob(out, key);
            match value {
                Value::Str(v) | Value::Json(v) | Value::Packed(v) => put_blob(out, v),
                Value::Hash(pairs) => {
                    out.put_u32_le(pairs.len() as u32);
                    for (f, v) in pairs {
                        put_blob(out, f);
                        put_blob(out, v);
                    }
                }
                Value::List(items) | Value::Set(items) => {
                    out.put_u32_le(items.len() as u32);
                    for i in items {
                        put_blob(out, i);
                    }
                }
                Value::ZSet(pairs) => {
                    out.put_u32_le(pairs.len() as u32);
                    for (score, m) in pairs {
                        out.put_u64_le(score.to_bits());
                        put_blob(out, m);
                    }
                }
            }
        }
        Record::Del { key } => {
            out.push(KIND_DEL);
            put_blob(out, key);
        }
        Record::FlushAll => out.push(KIND_FLUSHALL),
        Record::Dict { id, prefix, dict } => {
            out.push(KIND_DICT);
            out.put_u32_le(*id);
            put_blob(out, prefix);
            put_blob(out, dict);
        }
    }
    finish_frame(out, start)
}

/// Appends the `End` record that closes a base file.
pub fn encode_end(count: u64, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0u8; FRAME_LEN]);
    out.push(KIND_END);
    out.put_u64_le(count);
    finish_frame(out, start).expect("an End payload is 9 bytes");
}

fn finish_frame(out: &mut Vec<u8>, start: usize) -> Result<(), usize> {
    let n = out.len() - start - FRAME_LEN;
    if n > MAX_PAYLOAD {
        out.truncate(start);
        return Err(n);
    }
    let len = (n as u32).to_le_bytes();
    let f = &mut out[start..start + FRAME_LEN];
    f[FRAME_LEN_AT..FRAME_LEN_AT + 4].copy_from_slice(&len);
    f[FRAME_LEN_CRC_AT..FRAME_LEN_CRC_AT + 4].copy_from_slice(&crc32c::crc32c(&len).to_le_bytes());
    let crc = crc32c::crc32c(&out[start + FRAME_LEN..]);
    out[start + FRAME_CRC_AT..start + FRAME_CRC_AT + 4].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

fn put_blob(out: &mut Vec<u8>, b: &[u8]) {
    // Blobs longer than u32 cannot fit in a payload under MAX_PAYLOAD anyway; finish_frame
    // rejects the record, so the truncated length written here is never read.
    out.put_u32_le(b.len() as u32);
    out.extend_from_slice(b);
}

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    pub len: usize,
    /// The length field matches its checksum.
    pub len_ok: bool,
    pub payload_crc: u32,
}

pub fn decode_frame(b: &[u8; FRAME_LEN]) -> Frame {
    let len = read_u32(b, FRAME_LEN_AT);
    Frame {
        len: len as usize,
        len_ok: crc32c::crc32c(&len.to_le_bytes()) == read_u32(b, FRAME_LEN_CRC_AT),
        payload_crc: read_u32(b, FRAME_CRC_AT),
    }
}

impl Frame {
    /// Checks a payload against the checksum of its frame.
    pub fn payload_ok(&self, payload: &[u8]) -> bool {
        crc32c::crc32c(payload) == self.payload_crc
    }
}

/// A decoded payload: a record, or the end marker of a base file.
#[derive(Debug, PartialEq)]
pub enum Decoded {
    Record(Record),
    End { count: u64 },
}

/// Decodes a checksum-verified payload. Keys and values are zero-copy slices of `p`.
pub fn decode_payload(p: Bytes) -> Result<Decoded, String> {
    let mut c = Cursor { p: &p, at: 0 };
    let kind = c.u8()?;
    let decoded = match kind {
        KIND_SET => {
            let flags = c.u8()?;
            let ty = c.u8()?;
            c.at = SET_EXPIRE_AT;
            let expire = c.u64()?;
            debug_assert_eq!(c.at, SET_META_AT);
            let meta = if flags & SET_HAS_META != 0 {
                SetMeta {
                    stored_at_ms: c.u64()?,
                    grace_ms: c.u64()?,
                    tokens: c.u64()?,
                }
            } else {
                SetMeta::default()
            };
            let key = c.blob()?;
            let value = match ty {
                TYPE_STR => Value::Str(c.blob()?),
                TYPE_JSON => Value::Json(c.blob()?),
                TYPE_PACKED => Value::Packed(c.blob()?),
                TYPE_HASH => {
                    let n = c.u32()? as usize;
                    // Each pair takes at least 8 bytes: bound the allocation by what is there.
                    let mut pairs = Vec::with_capacity(n.min(c.remaining() / 8));
                    for _ in 0..n {
                        pairs.push((c.blob()?, c.blob()?));
                    }
                    Value::Hash(pairs)
                }
                TYPE_LIST | TYPE_SET => {
                    let n = c.u32()? as usize;
                    // Each item takes at least 4 bytes.
                    let mut items = Vec::with_capacity(n.min(c.remaining() / 4));
                    for _ in 0..n {
                        items.push(c.blob()?);
                    }
                    if ty == TYPE_LIST {
                        Value::List(items)
                    } else {
                        Value::Set(items)
                    }
                }
                TYPE_ZSET => {
                    let n = c.u32()? as usize;
                    // Each member takes at least 12 bytes.
                    let mut pairs = Vec::with_capacity(n.min(c.remaining() / 12));
                    for _ in 0..n {
                        let score = f64::from_bits(c.u64()?);
                        if score.is_nan() {
                            return Err("a sorted set member with a NaN score".into());
                        }
                        pairs.push((score, c.blob()?));
                    }
                    Value::ZSet(pairs)
                }
                other => return Err(format!("unknown value type {other}")),
            };
            Decoded::Record(Record::Set {
                key,
                value,
                expire_at_ms: (flags & SET_HAS_EXPIRY != 0).then_some(expire),
                meta,
            })
        }
        KIND_DEL => Decoded::Record(Record::Del { key: c.blob()? }),
        KIND_FLUSHALL => Decoded::Record(Record::FlushAll),
        KIND_END => Decoded::End { count: c.u64()? },
        KIND_DICT => Decoded::Record(Record::Dict {
            id: c.u32()?,
            prefix: c.blob()?,
            dict: c.blob()?,
        }),
        other => return Err(format!("unknown record kind {other}")),
    };
    if c.remaining() != 0 {
        return Err(format!("{} trailing bytes in record", c.remaining()));
    }
    Ok(decoded)
}

struct Cursor<'a> {
    p: &'a Bytes,
    at: usize,
}

impl Cursor<'_> {
    fn remaining(&self) -> usize {
        self.p.len().saturating_sub(self.at)
    }
    fn take(&mut self, n: usize) -> Result<std::ops::Range<usize>, String> {
        if self.remaining() < n {
            return Err("record shorter than its fields".into());
        }
        let r = self.at..self.at + n;
        self.at += n;
        Ok(r)
    }
    fn u8(&mut self) -> Result<u8, String> {
        let r = self.take(1)?;
        Ok(self.p[r.start])
    }
    fn u32(&mut self) -> Result<u32, String> {
        let r = self.take(4)?;
        Ok(read_u32(self.p, r.start))
    }
    fn u64(&mut self) -> Result<u64, String> {
        let r = self.take(8)?;
        Ok(read_u64(self.p, r.start))
    }
    fn blob(&mut self) -> Result<Bytes, String> {
        let n = self.u32()? as usize;
        let r = self.take(n)?;
        Ok(self.p.slice(r))
    }
}

fn read_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn read_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

#[cfg(test)]
mod tests;
