//! Crash and recovery tests of the persistence engine, below the process level.
//!
//! Most run on `SimFs`, which knows which bytes were fsynced: a "crash" keeps exactly those
//! (plus a torn part of the rest when a test asks for it), so every outcome is deterministic.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use llmcached::persistence::sim::SimFs;
use llmcached::persistence::{FsyncPolicy, PersistError, Persistence, Record, SetMeta, Value};

use crate::support::{apply, del, dir, durable, load, opts, rt, set, Model, NOW};

fn log_files(fs: &SimFs) -> Vec<String> {
    fs.files(&dir())
        .into_iter()
        .filter(|n| n.starts_with("log."))
        .collect()
}

/// Writes `recs` with `always`, waits until durable, and returns the model they build.
fn write_all(p: &Persistence, recs: &[Record]) -> Model {
    let mut m = Model::new();
    let mut last = 0;
    for r in recs {
        last = p.append(r).unwrap();
        apply(&mut m, r.clone());
    }
    durable(p, last).unwrap();
    m
}

fn sample() -> Vec<Record> {
    vec![
        set("a", "1"),
        set("b", "2"),
        Record::Set {
            key: "h".into(),
            value: Value::Hash(vec![("f".into(), "v".into())]),
            expire_at_ms: Some(NOW + 60_000),
            meta: SetMeta::default(),
        },
        del("a"),
        Record::Set {
            key: "j".into(),
            value: Value::Json("{\"x\":[1,2]}".into()),
            expire_at_ms: None,
            meta: SetMeta::default(),
        },
        set("c", "3"),
    ]
}

#[test]
fn acknowledged_always_writes_survive_a_crash() {
    let fs = SimFs::new();
    let (p, m0) = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
    assert!(m0.is_empty());
    let want = write_all(&p, &sample());
    // Power cut right after the acknowledgement: only fsynced bytes and entries survive.
    let (_p2, got) = load(opts(&fs.crash(), FsyncPolicy::Always), NOW).unwrap();
    assert_eq!(got, want);
}

#[test]
fn group_commit_covers_many_appends_with_few_fsyncs() {
    let fs = SimFs::new();
    let (p, _) = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
    let p = Arc::new(p);
    let before = fs.sync_count();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let all = async {
        let mut tasks = Vec::new();
        for t in 0..50 {
            let p = Arc::clone(&p);
            tasks.push(tokio::spawn(async move {
                for i in 0..20 {
                    let lsn = p.append(&set(&format!("k{t}-{i}"), "v")).unwrap();
                    p.durable(lsn).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    };
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(30), all)
            .await
            .expect("acknowledgements did not arrive within 30 s")
    });
    let syncs = fs.sync_count() - before;
    assert!(
        syncs < 1000,
        "1000 acknowledged appends took {syncs} fsyncs"
    );
    let (_p2, got) = load(opts(&fs.crash(), FsyncPolicy::Always), NOW).unwrap();
    assert_eq!(got.len(), 1000);
}

/// `everysec` acknowledges at once and fsyncs once a second has passed on the writer's clock
/// (a clock the test moves: no wall-clock figure is asserted). Waiting for that fsync (an event,
/// not a sleep) makes the write survive a power cut.
#[test]
fn everysec_fsyncs_within_about_a_second() {
    let fs = SimFs::new();
    let clock = llmcached::persistence::ManualClock::new();
    let mut o = opts(&fs, FsyncPolicy::EverySec);
    o.clock = llmcached::persistence::WriterClock::Manual(clock.clone());
    let (p, _) = load(o, NOW).unwrap();
    let lsn = p.append(&set("k", "v")).unwrap();
    // Acknowledged at once under everysec; before a second has passed on the writer's clock,
    // no fsync is due.
    durable(&p, lsn).unwrap();
    clock.advance(Duration::from_millis(500));
    let early = rt()
        .block_on(async { tokio::time::timeout(Duration::from_millis(200), p.synced(lsn)).await });
    assert!(early.is_err(), "fsynced before a second had passed");
    clock.advance(Duration::from_millis(500));
    rt().block_on(async {
        tokio::time::timeout(Duration::from_secs(10), p.synced(lsn))
            .await
            .expect("no fsync once a second had passed")
    })
    .unwrap();
    let (_p2, got) = load(opts(&fs.crash(), FsyncPolicy::EverySec), NOW).unwrap();
    assert_eq!(got.len(), 1);
}

/// Every prefix of the unsynced tail a power cut may leave recovers to the state after some
/// prefix of the records, never to anything else, and recovering twice gives the same result.
#[test]
fn any_torn_tail_recovers_to_a_prefix_of_the_records() {
    let fs = SimFs::new();
    let recs = sample();
    let (p, _) = load(opts(&fs, FsyncPolicy::No), NOW).unwrap();
    for r in &recs {
        p.append(r).unwrap();
    }
    // Clean shutdown writes and fsyncs; we crash a copy taken before it instead.
    let mut prefixes = vec![Model::new()];
    for r in &recs {
        let mut m = prefixes.last().unwrap().clone();
        apply(&mut m, r.clone());
        prefixes.push(m);
    }
    p.shutdown().unwrap();
    let seg = dir().join(log_files(&fs).last().unwrap());
    let full = fs.read(&seg).unwrap();
    let mut best = 0;
    for cut in 32..=full.len() {
        let img = fs.crash();
        img.write_durable(&seg, full[..cut].to_vec());
        let (p1, first) = load(opts(&img, FsyncPolicy::No), NOW).unwrap();
        drop(p1);
        let (_p2, second) = load(opts(&img, FsyncPolicy::No), NOW).unwrap();
        assert_eq!(first, second, "recovery not idempotent at cut {cut}");
        let i = prefixes
            .iter()
            .position(|m| *m == first)
            .unwrap_or_else(|| panic!("cut {cut} recovered a state no prefix had"));
        assert!(i >= best, "cut {cut} went back in time");
        best = i;
    }
    assert_eq!(best, recs.len());
}

fn shut_down_log(recs: &[Record]) -> (SimFs, PathBuf, Model) {
    let fs = SimFs::new();
    let (p, _) = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
    let m = write_all(&p, recs);
    p.shutdown().unwrap();
    let seg = dir().join(log_files(&fs).last().unwrap());
    (fs, seg, m)
}

#[test]
fn torn_tails_are_cut_off_and_loading_continues() {
    let whole = {
        let (fs, seg, _) = shut_down_log(&[set("x", "tail-record")]);
        fs.read(&seg).unwrap()[32..].to_vec()
    };
    let mut flipped_last = whole.clone();
    *flipped_last.last_mut().unwrap() ^= 1;
    let tails: Vec<(&str, Vec<u8>)> = vec![
        ("partial frame header", whole[..3].to_vec()),
        ("partial payload", whole[..whole.len() - 4].to_vec()),
        ("garbled last record", flipped_last),
        ("zero-filled extension", vec![0; 4096]),
    ];
    for (what, tail) in tails {
        let (fs, seg, want) = shut_down_log(&sample());
        let mut bytes = fs.read(&seg).unwrap();
        let good_len = bytes.len();
        bytes.extend_from_slice(&tail);
        fs.write_durable(&seg, bytes);
        let (p, got) = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
        assert_eq!(got, want, "{what}");
        assert_eq!(
            fs.read(&seg).unwrap().len(),
            good_len,
            "{what}: tail not cut"
        );
        // Writes after recovery land in a new segment and everything reloads cleanly.
        let lsn = p.append(&set("after", "1")).unwrap();
        durable(&p, lsn).unwrap();
        drop(p);
        let (_p, again) = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
        assert_eq!(again.len(), want.len() + 1, "{what}");
    }
}

/// Returns the byte offset of record `i` (0-based) in a segment holding `recs`.
fn record_offset(fs: &SimFs, seg: &Path, i: usize) -> usize {
    let b = fs.read(seg).unwrap();
    let mut at = 32;
    for _ in 0..i {
        let len = u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
        at += 12 + len;
    }
    at
}

#[test]
fn corruption_in_the_middle_names_file_and_offset() {
    let (fs, seg, _) = shut_down_log(&sample());
    let at = record_offset(&fs, &seg, 2);
    let mut bytes = fs.read(&seg).unwrap();
    bytes[at + 10] ^= 0xff;
    fs.write_durable(&seg, bytes.clone());
    for _ in 0..2 {
        match load(opts(&fs, FsyncPolicy::Always), NOW) {
            Err(PersistError::Corrupt { path, offset, .. }) => {
                assert_eq!(path, seg);
                assert_eq!(offset, at as u64);
            }
            other => panic!("expected corruption, got {:?}", other.map(|r| r.1)),
        }
        // Failing to load changed nothing on disk.
        assert_eq!(fs.read(&seg).unwrap(), bytes);
    }
    let msg = load(opts(&fs, FsyncPolicy::Always), NOW)
        .err()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("log.") && msg.contains(&format!("offset {at}")),
        "{msg}"
    );
}

/// A flipped bit in a length field must not pass for a torn tail: that would silently cut
/// off every record after it.
#[test]
fn damaged_length_in_the_last_segment_is_corruption_not_a_torn_tail() {
    let (fs, seg, _) = shut_down_log(&sample());
    let at = record_offset(&fs, &seg, 1);
    let mut bytes = fs.read(&seg).unwrap();
    bytes[at + 3] ^= 0x80; // the length now points far past end of file
    fs.write_durable(&seg, bytes.clone());
    match load(opts(&fs, FsyncPolicy::Always), NOW) {
        Err(PersistError::Corrupt { offset, reason, .. }) => {
            assert_eq!(offset, at as u64);
            assert!(reason.contains("length"), "{reason}");
        }
        other => panic!("expected corruption, got {:?}", other.map(|r| r.1)),
    }
    assert_eq!(fs.read(&seg).unwrap(), bytes, "nothing was truncated");
}

#[test]
fn restarts_without_writes_do_not_pile_up_segments() {
    let (fs, _, want) = shut_down_log(&sample());
    for _ in 0..5 {
        let (_p, got) = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
        assert_eq!(got, want);
    }
    assert_eq!(log_files(&fs).len(), 2, "{:?}", fs.files(&dir()));
}

#[test]
fn load_corrupt_keeps_the_valid_records_and_the_rewrite_cleans_up() {
    let (fs, seg, _) = shut_down_log(&sample());
    let at = record_offset(&fs, &seg, 2);
    let mut bytes = fs.read(&seg).unwrap();
    bytes[at + 10] ^= 0xff;
    fs.write_durable(&seg, bytes);
    let mut o = opts(&fs, FsyncPolicy::Always);
    o.load_corrupt = true;
    let (p, got) = load(o, NOW).unwrap();
    let mut want = Model::new();
    for r in &sample()[..2] {
        apply(&mut want, r.clone());
    }
    assert_eq!(got, want);
    assert!(p.needs_rewrite());
    let snapshot = got.clone();
    p.rewrite(NOW, || {
        snapshot
            .into_iter()
            .map(|(key, (value, expire_at_ms))| Record::Set {
                key,
                value,
                expire_at_ms,
                meta: SetMeta::default(),
            })
    })
    .unwrap();
    assert!(!p.needs_rewrite());
    drop(p);
    // Without the option the directory loads again.
    let (_p, again) = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
    assert_eq!(again, want);
}

#[test]
fn keys_expired_while_down_are_not_loaded_and_ttls_keep_counting() {
    let fs = SimFs::new();
    let (p, _) = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
    let ttl = |k: &str, at: u64| Record::Set {
        key: Bytes::copy_from_slice(k.as_bytes()),
        value: Value::Str("v".into()),
        expire_at_ms: Some(at),
        meta: SetMeta::default(),
    };
    write_all(
        &p,
        &[
            ttl("short", NOW + 1_000),
            ttl("long", NOW + 100_000),
            set("plain", "v"),
            // Overwritten by a value with a TTL that lapses while down: must not resurrect.
            set("over", "old"),
            ttl("over", NOW + 2_000),
        ],
    );
    drop(p);
    let (_p, got) = load(opts(&fs, FsyncPolicy::Always), NOW + 5_000).unwrap();
    let keys: Vec<&[u8]> = got.keys().map(|k| k.as_ref()).collect();
    assert_eq!(keys, vec![&b"long"[..], b"plain"]);
    assert_eq!(got[&Bytes::from("long")].1, Some(NOW + 100_000));
}

#[test]
fn fsync_failure_stops_writes_and_says_so() {
    let fs = SimFs::new();
    let (p, _) = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
    fs.set_fail_sync(true);
    let lsn = p.append(&set("k", "v")).unwrap();
    let err = durable(&p, lsn).unwrap_err();
    assert!(matches!(err, PersistError::FailStop { .. }), "{err}");
    assert!(
        err.reply_text().starts_with("MISCONF "),
        "{}",
        err.reply_text()
    );
    // Even once the disk works again, the engine does not pretend.
    fs.set_fail_sync(false);
    assert!(matches!(
        p.append(&set("k2", "v")),
        Err(PersistError::FailStop { .. })
    ));
    assert!(p.check_writable().is_err());
    assert!(matches!(
        p.rewrite(NOW, std::iter::empty::<Record>),
        Err(PersistError::FailStop { .. })
    ));
    let st = p.status();
    assert!(!st.last_write_ok);
    assert!(st.fail_reason.unwrap().contains("fsync"));
    assert!(p.shutdown().is_err());
}

#[test]
fn appends_wait_for_the_loader_to_finish() {
    let fs = SimFs::new();
    let (p, _) = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
    write_all(&p, &sample());
    drop(p);
    let (p, mut loader) = Persistence::open(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
    assert!(p.status().loading);
    assert!(matches!(
        p.append(&set("x", "1")),
        Err(PersistError::Loading)
    ));
    let total = loader.progress().bytes_total;
    assert!(total > 0);
    let mut n = 0;
    for r in loader.by_ref() {
        r.unwrap();
        n += 1;
    }
    assert_eq!(n, sample().len());
    assert_eq!(loader.progress().bytes_done, total);
    let st = p.status();
    assert!(!st.loading);
    assert_eq!(st.load.records, sample().len() as u64);
    assert_eq!(st.load.bytes_done, total);
    p.append(&set("x", "1")).unwrap();
}

/// Files written by format version 1, frozen. If this test fails, version 1 files no longer
/// load: every release must keep reading them.
#[test]
fn version_1_files_still_load() {
    const BASE_V1: &str = "4c4c4d43424153450100000000000000020000000000000000f153657852bdca16\
        00000088e84665427e1882010001000000000000000000010000007301000000761f000000d621474e401c\
        59b80101020000409452a3030000010000006801000000010000006601000000310900000099826663de50\
        52f7040200000000000000";
    const LOG_V1: &str = "4c4c4d434c4f47000100000000000000020000000000000000000000fea8720b18\
        0000001c994757faf3e44c010003000000000000000000010000006a030000005b315d06000000b559228c\
        1c147fd6020100000073010000007fe12295a5a02d41031600000088e846658942faaf01010100e8030000\
        0000000001000000740100000078";
    let hex = |s: &str| -> Vec<u8> {
        let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        s.chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    };
    let fs = SimFs::new();
    fs.write_durable(&dir().join("base.000000000002"), hex(BASE_V1));
    fs.write_durable(&dir().join("log.000000000002"), hex(LOG_V1));
    let (_p, loader) = Persistence::open(opts(&fs, FsyncPolicy::Always), 2_000).unwrap();
    let got: Vec<Record> = loader.map(Result::unwrap).collect();
    let want = vec![
        set("s", "v"),
        Record::Set {
            key: "h".into(),
            value: Value::Hash(vec![("f".into(), "1".into())]),
            expire_at_ms: Some(4_000_000_000_000),
            meta: SetMeta::default(),
        },
        Record::Set {
            key: "j".into(),
            value: Value::Json("[1]".into()),
            expire_at_ms: None,
            meta: SetMeta::default(),
        },
        del("s"),
        Record::FlushAll,
        // Expired at 1_000, loaded at 2_000: comes out as a delete.
        del("t"),
    ];
    assert_eq!(got, want);
}

/// Files written by format version 2 (answer metadata: write time, grace and tokens), frozen.
/// Version 2 is read by the same decoder as version 1 (`version_1_files_still_load`).
#[test]
fn version_2_files_load_with_their_metadata() {
    const BASE_V2: &str = "4c4c4d434241534502000000000000000200000000000000010000001f1bdb963b\
        000000ae0440e2d7fc085e0103010030b59452a3030000c0fd8452a303000030750000000000002a000000\
        000000000a0000006c6c6d3a76313a6d3a610500000050617269731600000088e84665427e188201000100\
        0000000000000000010000007301000000760900000099826663de5052f7040200000000000000";
    const LOG_V2: &str = "4c4c4d434c4f4700020000000000000002000000000000000000000039b0b6523a\
        00000016ae053ff0b952ff010201000000000000000000e09e8c52a3030000000000000000000007000000\
        000000000a0000006c6c6d3a76313a6d3a6204000000526f6d65";
    let hex = |s: &str| -> Vec<u8> {
        let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        s.chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    };
    let fs = SimFs::new();
    fs.write_durable(&dir().join("base.000000000002"), hex(BASE_V2));
    fs.write_durable(&dir().join("log.000000000002"), hex(LOG_V2));
    let (_p, loader) = Persistence::open(opts(&fs, FsyncPolicy::Always), 2_000).unwrap();
    let got: Vec<Record> = loader.map(Result::unwrap).collect();
    let want = vec![
        Record::Set {
            key: "llm:v1:m:a".into(),
            value: Value::Str("Paris".into()),
            expire_at_ms: Some(4_000_000_030_000),
            meta: SetMeta {
                stored_at_ms: 3_999_999_000_000,
                grace_ms: 30_000,
                tokens: 42,
            },
        },
        set("s", "v"),
        Record::Set {
            key: "llm:v1:m:b".into(),
            value: Value::Str("Rome".into()),
            expire_at_ms: None,
            meta: SetMeta {
                stored_at_ms: 3_999_999_500_000,
                grace_ms: 0,
                tokens: 7,
            },
        },
    ];
    assert_eq!(got, want);
}
