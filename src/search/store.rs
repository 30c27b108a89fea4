//! Index definitions kept across restarts: one side file, `search-indexes.bin`, in the data
//! directory, rewritten whole (to a temporary file, fsynced, renamed) on every FT.CREATE and
//! FT.DROPINDEX. The vectors are not saved: they are rebuilt from the hashes as the data set
//! loads, so the file is loaded before the data.
//!
//! # Format (little-endian)
//! ```text
//! offset  size  field
//! 0       8     magic "LLMCSRCH"
//! 8       4     version (1)
//! 12      4     number of definitions
//! 16      ...   per definition: u32 name length, name, u32 argument count,
//!               per argument: u32 length, bytes (FT.CREATE's arguments after the name)
//! end-4   4     CRC-32C of every byte before it
//! ```

use super::schema::{self, IndexDef};
use bytes::Bytes;
use std::io::Write;
use std::path::Path;

pub const FILE: &str = "search-indexes.bin";
const MAGIC: &[u8; 8] = b"LLMCSRCH";
const VERSION: u32 = 1;

fn put(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

pub fn encode(defs: &[IndexDef]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(defs.len() as u32).to_le_bytes());
    for d in defs {
        put(&mut out, d.name.as_bytes());
        out.extend_from_slice(&(d.args.len() as u32).to_le_bytes());
        for a in &d.args {
            put(&mut out, a);
        }
    }
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn u32(&mut self) -> Result<u32, String> {
        let (h, t) = self.0.split_at_checked(4).ok_or("truncated")?;
        self.0 = t;
        Ok(u32::from_le_bytes([h[0], h[1], h[2], h[3]]))
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.u32()? as usize;
        let (h, t) = self.0.split_at_checked(n).ok_or("truncated")?;
        self.0 = t;
        Ok(h)
    }
}

pub fn decode(b: &[u8]) -> Result<Vec<IndexDef>, String> {
    let (body, crc) = b
        .split_at_checked(b.len().saturating_sub(4))
        .ok_or("truncated")?;
    if body.len() < 16 || &body[..8] != MAGIC {
        return Err("not a search index file".into());
    }
    if crc.len() != 4
        || crc32c::crc32c(body) != u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]])
    {
        return Err("checksum mismatch".into());
    }
    let mut r = Reader(&body[8..]);
    let version = r.u32()?;
    if version != VERSION {
        return Err(format!("unknown version {version}"));
    }
    let n = r.u32()?;
    let mut defs = Vec::new();
    for _ in 0..n {
        let name = r.bytes()?.to_vec();
        let argc = r.u32()?;
        let mut args = Vec::new();
        for _ in 0..argc {
            args.push(Bytes::copy_from_slice(r.bytes()?));
        }
        defs.push(schema::parse(&name, &args)?);
    }
    Ok(defs)
}

/// The definitions saved in `dir` (none if there is no file).
pub fn load(dir: &Path) -> Result<Vec<IndexDef>, String> {
    let path = dir.join(FILE);
    match std::fs::read(&path) {
        Ok(b) => decode(&b).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Replaces the file in `dir` with `defs`, atomically.
pub fn save(dir: &Path, defs: &[IndexDef]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{FILE}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&encode(defs))?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(FILE))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_round_trip_and_damage_is_detected() {
        let args: Vec<Bytes> = "ON HASH PREFIX 1 p: SCHEMA t TAG v VECTOR HNSW 6 TYPE FLOAT32 DIM 4 DISTANCE_METRIC L2"
            .split(' ')
            .map(|w| Bytes::from(w.to_string()))
            .collect();
        let def = schema::parse(b"ix", &args).unwrap();
        let bytes = encode(std::slice::from_ref(&def));
        assert_eq!(decode(&bytes).unwrap(), vec![def]);
        let mut bad = bytes.clone();
        bad[20] ^= 1;
        assert!(decode(&bad).unwrap_err().contains("checksum"));
        assert!(decode(&bytes[..10]).is_err());
    }
}
