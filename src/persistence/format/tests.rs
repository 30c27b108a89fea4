//! The byte layout of headers and records, pinned; damage is detected, not a panic.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test
use super::*;

fn roundtrip(rec: Record) {
    let mut out = Vec::new();
    encode_record(&rec, &mut out).unwrap();
    let f = decode_frame(out[..FRAME_LEN].try_into().unwrap());
    assert!(f.len_ok);
    assert_eq!(f.len, out.len() - FRAME_LEN);
    assert!(f.payload_ok(&out[FRAME_LEN..]));
    let got = decode_payload(Bytes::copy_from_slice(&out[FRAME_LEN..])).unwrap();
    assert_eq!(got, Decoded::Record(rec));
}

#[test]
fn records_roundtrip() {
    roundtrip(Record::Set {
        key: Bytes::from_static(b"k"),
        value: Value::Str(Bytes::from_static(b"v")),
        expire_at_ms: None,
        meta: SetMeta::default(),
    });
    roundtrip(Record::Set {
        key: Bytes::new(),
        value: Value::Hash(vec![
            (Bytes::from_static(b"f"), Bytes::from_static(b"1")),
            (Bytes::from_static(b""), Bytes::from_static(b"")),
        ]),
        expire_at_ms: Some(1_700_000_000_123),
        meta: SetMeta {
            stored_at_ms: 1_699_999_000_000,
            grace_ms: 30_000,
            tokens: 812,
        },
    });
    roundtrip(Record::Set {
        key: Bytes::from_static(b"j"),
        value: Value::Json(Bytes::from_static(b"{\"a\":1}")),
        expire_at_ms: Some(0),
        meta: SetMeta {
            stored_at_ms: 1,
            grace_ms: 0,
            tokens: 0,
        },
    });
    roundtrip(Record::Del {
        key: Bytes::from_static(b"gone"),
    });
    roundtrip(Record::FlushAll);
}

/// Pins the byte layout documented in the table above: a change here is a format change
/// and needs a new FORMAT_VERSION.
#[test]
fn set_record_bytes_match_the_table() {
    let mut out = Vec::new();
    let rec = Record::Set {
        key: Bytes::from_static(b"ab"),
        value: Value::Str(Bytes::from_static(b"xyz")),
        expire_at_ms: Some(0x0102_0304_0506_0708),
        meta: SetMeta::default(),
    };
    encode_record(&rec, &mut out).unwrap();
    let payload: &[u8] = &[
        1, 1, 1, 0, // kind Set, has expiry, string, reserved
        8, 7, 6, 5, 4, 3, 2, 1, // expire_at LE
        2, 0, 0, 0, b'a', b'b', // key blob
        3, 0, 0, 0, b'x', b'y', b'z', // value blob
    ];
    assert_eq!(&out[..4], &(payload.len() as u32).to_le_bytes());
    assert_eq!(&out[4..8], &crc32c::crc32c(&out[..4]).to_le_bytes());
    assert_eq!(&out[8..12], &crc32c::crc32c(payload).to_le_bytes());
    assert_eq!(&out[FRAME_LEN..], payload);
}

/// Version 2's metadata sits between the expiry and the key, announced by flag bit 1.
#[test]
fn set_record_metadata_bytes_match_the_table() {
    let mut out = Vec::new();
    let rec = Record::Set {
        key: Bytes::from_static(b"k"),
        value: Value::Str(Bytes::from_static(b"v")),
        expire_at_ms: Some(9),
        meta: SetMeta {
            stored_at_ms: 5,
            grace_ms: 3,
            tokens: 7,
        },
    };
    encode_record(&rec, &mut out).unwrap();
    let payload: &[u8] = &[
        1, 3, 1, 0, // kind Set, has expiry and metadata, string, reserved
        9, 0, 0, 0, 0, 0, 0, 0, // expire_at LE
        5, 0, 0, 0, 0, 0, 0, 0, // stored_at
        3, 0, 0, 0, 0, 0, 0, 0, // grace
        7, 0, 0, 0, 0, 0, 0, 0, // tokens
        1, 0, 0, 0, b'k', // key blob
        1, 0, 0, 0, b'v', // value blob
    ];
    assert_eq!(&out[FRAME_LEN..], payload);
}

/// A version 1 header is still read (its records have no metadata flag); other versions are
/// refused with a reason.
#[test]
fn version_one_headers_still_load() {
    let h = Header {
        kind: FileKind::Base,
        id: 3,
        time_secs: 7,
    };
    let mut b = encode_header(&h);
    for (version, readable) in [(0u32, false), (1, true), (2, true), (3, true), (4, false)] {
        b[HDR_VERSION..HDR_VERSION + 4].copy_from_slice(&version.to_le_bytes());
        let crc = crc32c::crc32c(&b[..HDR_CRC]);
        b[HDR_CRC..HDR_CRC + 4].copy_from_slice(&crc.to_le_bytes());
        let got = decode_header(&b, FileKind::Base);
        assert_eq!(got.is_ok(), readable, "version {version}: {got:?}");
    }
}

#[test]
fn header_roundtrip_and_damage() {
    let h = Header {
        kind: FileKind::Log,
        id: 42,
        time_secs: 0,
    };
    let mut b = encode_header(&h);
    assert_eq!(decode_header(&b, FileKind::Log), Ok(h));
    assert!(decode_header(&b, FileKind::Base).is_err());
    b[HDR_ID] ^= 1;
    assert!(decode_header(&b, FileKind::Log)
        .unwrap_err()
        .contains("checksum"));
}

#[test]
fn flipped_byte_fails_the_checksum() {
    let mut out = Vec::new();
    encode_record(&Record::Del { key: "k".into() }, &mut out).unwrap();
    for i in 0..out.len() {
        let mut bad = out.clone();
        bad[i] ^= 0x40;
        let f = decode_frame(bad[..FRAME_LEN].try_into().unwrap());
        let ok = f.len_ok && f.len == bad.len() - FRAME_LEN && f.payload_ok(&bad[FRAME_LEN..]);
        assert!(!ok, "flip at byte {i} went unnoticed");
    }
}

#[test]
fn malformed_payloads_are_errors_not_panics() {
    for p in [
        &[][..],
        &[9],
        &[1, 0, 1, 0, 0],
        &[2, 5, 0, 0, 0, b'a'],
        &[
            1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255,
        ],
        &[3, 0],
    ] {
        assert!(decode_payload(Bytes::copy_from_slice(p)).is_err(), "{p:?}");
    }
}

/// Lists (type 4), sets (5) and sorted sets (6) round-trip, scores bit for bit (infinities,
/// negative zero), empty members included.
#[test]
fn collections_roundtrip() {
    let b = |s: &'static str| Bytes::from_static(s.as_bytes());
    for value in [
        Value::List(vec![b("a"), b(""), b("a")]),
        Value::Set(vec![b("x"), b("")]),
        Value::ZSet(vec![
            (f64::NEG_INFINITY, b("lo")),
            (-0.0, b("zero")),
            (1.5, b("")),
            (f64::INFINITY, b("hi")),
        ]),
    ] {
        roundtrip(Record::Set {
            key: b("k"),
            value,
            expire_at_ms: Some(1_700_000_000_000),
            meta: SetMeta::default(),
        });
    }
}

/// The type codes of the collections are pinned: 4 list, 5 set, 6 sorted set.
#[test]
fn collection_type_codes_are_pinned() {
    let b = |s: &'static str| Bytes::from_static(s.as_bytes());
    for (value, code) in [
        (Value::List(vec![b("a")]), 4u8),
        (Value::Set(vec![b("a")]), 5),
        (Value::ZSet(vec![(2.0, b("a"))]), 6),
    ] {
        let mut out = Vec::new();
        encode_record(
            &Record::Set {
                key: b("k"),
                value,
                expire_at_ms: None,
                meta: SetMeta::default(),
            },
            &mut out,
        )
        .unwrap();
        assert_eq!(out[FRAME_LEN + 2], code);
    }
}

/// A sorted set record with a NaN score is damage, reported, not loaded.
#[test]
fn a_nan_score_is_refused() {
    let mut out = Vec::new();
    encode_record(
        &Record::Set {
            key: Bytes::from_static(b"k"),
            value: Value::ZSet(vec![(f64::NAN, Bytes::from_static(b"m"))]),
            expire_at_ms: None,
            meta: SetMeta::default(),
        },
        &mut out,
    )
    .unwrap();
    assert!(decode_payload(Bytes::copy_from_slice(&out[FRAME_LEN..])).is_err());
}

/// Version 3's additions, byte for byte as the table says: a `Dict` record and a compressed
/// string (value type 7).
#[test]
fn dict_and_packed_records_match_the_table() {
    let dict = Record::Dict {
        id: 7,
        prefix: Bytes::from_static(b"llm:"),
        dict: Bytes::from_static(b"DICT"),
    };
    let mut out = Vec::new();
    encode_record(&dict, &mut out).unwrap();
    let payload: &[u8] = &[
        5, 7, 0, 0, 0, 4, 0, 0, 0, b'l', b'l', b'm', b':', 4, 0, 0, 0, b'D', b'I', b'C', b'T',
    ];
    assert_eq!(&out[FRAME_LEN..], payload);
    roundtrip(dict);

    let packed = Record::Set {
        key: Bytes::from_static(b"k"),
        value: Value::Packed(Bytes::from_static(b"zz")),
        expire_at_ms: None,
        meta: SetMeta::default(),
    };
    let mut out = Vec::new();
    encode_record(&packed, &mut out).unwrap();
    assert_eq!(out[FRAME_LEN + 2], 7, "value type of a compressed string");
    roundtrip(packed);
}
