//! DUMP / RESTORE payloads: one value in llmcached's own serialization.
//!
//! A payload is one framed `Set` record of the persistence format (see [`super::format`]: its
//! length and its contents each carry a CRC-32C) with an empty key, no expiry and no metadata,
//! followed by the format version as a little-endian u16. It is not Redis's RDB serialization:
//! a payload moves values between llmcached servers (`redis-cli --pipe` of DUMPs, MIGRATE-style
//! copies by a client), and a Redis refuses it, as llmcached refuses Redis's, with
//! `ERR DUMP payload version or checksum are wrong`. Compressed strings are dumped as their
//! plain bytes, so a payload never names a dictionary that the other server lacks.

use super::format::{self, Decoded, FORMAT_VERSION, FRAME_LEN, OLDEST_READABLE_VERSION};
use super::{Record, SetMeta, Value};
use bytes::Bytes;

/// Why a payload was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DumpError {
    /// Not a payload of a version this build reads, or damaged (a checksum does not match).
    VersionOrChecksum,
    /// The checksums match but the record inside is not one value.
    BadFormat,
    /// The value is too large for one record.
    TooLarge,
}

impl std::fmt::Display for DumpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DumpError::VersionOrChecksum => "DUMP payload version or checksum are wrong",
            DumpError::BadFormat => "Bad data format",
            DumpError::TooLarge => "the value is too large to dump",
        })
    }
}

/// The payload of `value` (never [`Value::Packed`]: the caller passes plain bytes).
pub fn encode(value: Value) -> Result<Vec<u8>, DumpError> {
    let rec = Record::Set {
        key: Bytes::new(),
        value,
        expire_at_ms: None,
        meta: SetMeta::default(),
    };
    let mut out = Vec::new();
    format::encode_record(&rec, &mut out).map_err(|_| DumpError::TooLarge)?;
    out.extend_from_slice(&(FORMAT_VERSION as u16).to_le_bytes());
    Ok(out)
}

/// The value of a payload made by [`encode`] (of this or an older format version).
pub fn decode(payload: &[u8]) -> Result<Value, DumpError> {
    let Some((body, version)) = payload.split_last_chunk::<2>() else {
        return Err(DumpError::VersionOrChecksum);
    };
    let version = u16::from_le_bytes(*version) as u32;
    if !(OLDEST_READABLE_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(DumpError::VersionOrChecksum);
    }
    let Some((frame, record)) = body.split_first_chunk::<FRAME_LEN>() else {
        return Err(DumpError::VersionOrChecksum);
    };
    let frame = format::decode_frame(frame);
    if !frame.len_ok || frame.len != record.len() || !frame.payload_ok(record) {
        return Err(DumpError::VersionOrChecksum);
    }
    match format::decode_payload(Bytes::copy_from_slice(record)) {
        Ok(Decoded::Record(Record::Set { key, value, .. }))
            if key.is_empty() && !matches!(value, Value::Packed(_)) =>
        {
            Ok(value)
        }
        _ => Err(DumpError::BadFormat),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_round_trips_and_any_damage_is_refused() {
        let value = Value::ZSet(vec![(1.5, Bytes::from("a")), (-2.0, Bytes::from("b"))]);
        let payload = encode(value.clone()).unwrap();
        assert_eq!(decode(&payload), Ok(value));
        for i in 0..payload.len() {
            let mut bad = payload.clone();
            bad[i] ^= 0x10;
            assert!(decode(&bad).is_err(), "a flipped byte {i} went unnoticed");
        }
        assert_eq!(decode(b""), Err(DumpError::VersionOrChecksum));
        assert_eq!(
            decode(&payload[..payload.len() - 3]),
            Err(DumpError::VersionOrChecksum)
        );
        // Redis's serialization of the string "x": type 0, length 1, "x", RDB 10, CRC-64.
        let redis = b"\x00\x01x\x0a\x00\x8b\x1e\xb2\xd8\x9b\x36\x93\x3d";
        assert_eq!(decode(redis), Err(DumpError::VersionOrChecksum));
    }
}
