//! Rewrite (compaction), snapshot-only and in-memory modes, the real file system, and the
//! frozen version-1 format.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use llmcached::persistence::sim::SimFs;
use llmcached::persistence::{
    FsyncPolicy, Options, PersistError, Persistence, Record, SaveSchedule, SetMeta, Value,
};

use crate::support::{
    apply, as_records, dir, durable, durable_on, load, opts, rt, set, Model, NOW,
};

/// A striped store: one lock per key, held around apply + append as the server does.
struct Store {
    keys: Vec<Mutex<Option<Value>>>,
}

impl Store {
    fn new(n: usize) -> Store {
        Store {
            keys: (0..n).map(|_| Mutex::new(None)).collect(),
        }
    }

    fn key(i: usize) -> Bytes {
        Bytes::from(format!("key:{i}"))
    }

    /// Reads the keyspace one key at a time, so writes interleave with the iteration.
    fn iter(&self) -> impl Iterator<Item = Record> + '_ {
        self.keys.iter().enumerate().filter_map(|(i, k)| {
            let v = k.lock().unwrap().clone()?;
            Some(Record::Set {
                key: Store::key(i),
                value: v,
                expire_at_ms: None,
                meta: SetMeta::default(),
            })
        })
    }

    fn model(&self) -> Model {
        let mut m = Model::new();
        for rec in self.iter() {
            apply(&mut m, rec);
        }
        m
    }
}

/// Writers hammer a striped store while rewrites run back to back; after an unclean stop
/// (a crash image taken with `always`, so every write was acknowledged) no key is lost and
/// none comes back from the dead.
#[test]
fn compaction_under_write_load_neither_loses_nor_resurrects_keys() {
    let fs = SimFs::new();
    let (p, _) = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
    let p = Arc::new(p);
    let store = Arc::new(Store::new(64));
    let rewrites = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    const REWRITES: u64 = 15;

    let writers: Vec<_> = (0..2u64)
        .map(|t| {
            let (p, store, rewrites) = (Arc::clone(&p), Arc::clone(&store), Arc::clone(&rewrites));
            std::thread::spawn(move || {
                let rt = rt();
                let mut x = t + 1;
                let mut ops = 0u64;
                // Bounded: stops once the rewrites are done, or after a fixed number of ops.
                while rewrites.load(Ordering::Acquire) < REWRITES && ops < 200_000 {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let i = (x >> 33) as usize % 64;
                    let mut slot = store.keys[i].lock().unwrap();
                    let rec = if (x >> 20) % 4 == 0 {
                        *slot = None;
                        Record::Del { key: Store::key(i) }
                    } else {
                        let v = Value::Str(Bytes::from(format!("{t}:{ops}")));
                        *slot = Some(v.clone());
                        Record::Set {
                            key: Store::key(i),
                            value: v,
                            expire_at_ms: None,
                            meta: SetMeta::default(),
                        }
                    };
                    let lsn = p.append(&rec).unwrap();
                    drop(slot);
                    if ops.is_multiple_of(64) {
                        durable_on(&rt, &p, lsn).unwrap();
                    }
                    ops += 1;
                }
                ops
            })
        })
        .collect();
    let rewriter = {
        let (p, store, rewrites, stop) = (
            Arc::clone(&p),
            Arc::clone(&store),
            Arc::clone(&rewrites),
            Arc::clone(&stop),
        );
        let fs = fs.clone();
        std::thread::spawn(move || {
            let mut images = Vec::new();
            while rewrites.load(Ordering::Acquire) < REWRITES && !stop.load(Ordering::Acquire) {
                p.rewrite(NOW, || {
                    // A power cut in the middle of a rewrite, with writers going on.
                    images.push(fs.crash());
                    store.iter()
                })
                .unwrap();
                rewrites.fetch_add(1, Ordering::Release);
            }
            images
        })
    };
    let ops: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    stop.store(true, Ordering::Release);
    let images = rewriter.join().unwrap();
    assert!(ops > 0);
    // Every power cut taken mid-rewrite recovers without error to values that were written.
    for image in &images {
        let (_p, got) = load(opts(image, FsyncPolicy::Always), NOW).unwrap();
        for (k, (v, _)) in got {
            assert!(k.starts_with(b"key:"), "{k:?}");
            assert!(matches!(v, Value::Str(ref s) if s.contains(&b':')), "{v:?}");
        }
    }
    assert_eq!(rewrites.load(Ordering::Acquire), REWRITES);

    // Make the last writes durable, then cut the power without a clean shutdown.
    let lsn = p.append(&set("last", "1")).unwrap();
    durable(&p, lsn).unwrap();
    let mut want = store.model();
    apply(&mut want, set("last", "1"));
    let image = fs.crash();
    let (_p2, got) = load(opts(&image, FsyncPolicy::Always), NOW).unwrap();
    assert_eq!(got, want);
    // Only the newest base and the segments after it remain.
    let bases = image
        .files(&dir())
        .iter()
        .filter(|n| n.starts_with("base."))
        .count();
    assert_eq!(bases, 1, "{:?}", image.files(&dir()));
}

fn disk_bytes(fs: &SimFs) -> u64 {
    fs.files(&dir())
        .iter()
        .map(|n| fs.read(&dir().join(n)).unwrap().len() as u64)
        .sum()
}

/// With `always`, waiting on the last append makes the writer's accounting equal to the disk
/// at each check, so the bound below is exact rather than timing-dependent.
#[test]
fn automatic_rewrites_keep_the_disk_near_twice_the_live_data() {
    let fs = SimFs::new();
    let mut o = opts(&fs, FsyncPolicy::Always);
    o.rewrite_min_size = 64 << 10;
    let (p, _) = load(o.clone(), NOW).unwrap();
    let rt = rt();
    let mut m = Model::new();
    let value = "x".repeat(1000);
    let mut rewrites = 0;
    // 5000 writes of ~1 KiB over 100 keys: ~5 MiB written, ~100 KiB live.
    for i in 0..5_000 {
        let rec = set(&format!("k{}", i % 100), &format!("{value}{i}"));
        let lsn = p.append(&rec).unwrap();
        apply(&mut m, rec);
        if i % 50 == 49 {
            durable_on(&rt, &p, lsn).unwrap();
            if p.needs_rewrite() {
                p.rewrite(NOW, || as_records(&m)).unwrap();
                rewrites += 1;
            }
            let st = p.status();
            let disk = disk_bytes(&fs);
            assert_eq!(st.current_size, disk, "size accounting drifted");
            let bound = 2 * st.base_size + o.rewrite_min_size;
            assert!(disk <= bound, "write {i}: disk {disk} bytes, bound {bound}");
        }
    }
    assert!(rewrites >= 3, "{rewrites} rewrites");
    drop(p);
    let (_p, got) = load(o, NOW).unwrap();
    assert_eq!(got, m);
}

#[test]
fn a_snapshot_taken_inside_a_rewrite_is_refused() {
    let fs = SimFs::new();
    let (p, _) = load(opts(&fs, FsyncPolicy::EverySec), NOW).unwrap();
    let mut inner = None;
    p.rewrite(NOW, || {
        assert!(p.status().rewrite_in_progress);
        inner = Some(p.rewrite(NOW, std::iter::empty::<Record>));
        std::iter::empty()
    })
    .unwrap();
    assert!(matches!(inner, Some(Err(PersistError::RewriteInProgress))));
    assert!(!p.status().rewrite_in_progress);
}

/// Writes made while the base is being written live in the new segment; a crash before the
/// base is committed falls back to the old base and logs, with nothing lost.
#[test]
fn crash_during_a_rewrite_loses_nothing_acknowledged() {
    let fs = SimFs::new();
    let (p, _) = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
    let rt = rt();
    let mut m = Model::new();
    for i in 0..10 {
        let rec = set(&format!("k{i}"), "before");
        let lsn = p.append(&rec).unwrap();
        durable_on(&rt, &p, lsn).unwrap();
        apply(&mut m, rec);
    }
    let mut image = None;
    let snapshot = m.clone();
    p.rewrite(NOW, || {
        for rec in [set("k1", "during"), Record::Del { key: "k2".into() }] {
            let lsn = p.append(&rec).unwrap();
            durable_on(&rt, &p, lsn).unwrap();
            apply(&mut m, rec);
        }
        image = Some(fs.crash());
        as_records(&snapshot).collect::<Vec<_>>()
    })
    .unwrap();
    let (_p, got) = load(opts(&image.unwrap(), FsyncPolicy::Always), NOW).unwrap();
    assert_eq!(got, m);
    // And after the commit, base (older values for k1/k2) + new segment converge too.
    drop(p);
    let (_p, got) = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
    assert_eq!(got, m);
}

#[test]
fn leftovers_of_an_interrupted_rewrite_are_ignored_and_removed() {
    let fs = SimFs::new();
    let (p, _) = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
    let old_log = fs.files(&dir())[0].clone();
    let lsn = p.append(&set("gone", "1")).unwrap();
    durable(&p, lsn).unwrap();
    let old_bytes = fs.read(&dir().join(&old_log)).unwrap();
    // The key is deleted in memory; the rewrite captures that.
    p.append(&Record::Del { key: "gone".into() }).unwrap();
    p.rewrite(NOW, std::iter::empty::<Record>).unwrap();
    p.shutdown().unwrap();
    drop(p);
    assert!(!fs.files(&dir()).contains(&old_log));
    // As if the process died after committing the base but before removing old files.
    fs.write_durable(&dir().join(&old_log), old_bytes);
    fs.write_durable(&dir().join("base.tmp"), b"half a base".to_vec());
    let (_p, got) = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
    assert!(got.is_empty(), "a covered segment was replayed: {got:?}");
    let files = fs.files(&dir());
    assert!(!files.contains(&old_log) && !files.contains(&"base.tmp".to_string()));
}

#[test]
fn snapshot_only_mode_counts_changes_and_saves_on_schedule() {
    let fs = SimFs::new();
    let mut o = opts(&fs, FsyncPolicy::EverySec);
    o.appendonly = false;
    o.save = SaveSchedule::parse("1 1").unwrap();
    let (p, _) = load(o.clone(), NOW).unwrap();
    assert!(!p.status().aof_enabled);
    let mut m = Model::new();
    for rec in [set("a", "1"), set("b", "2")] {
        let lsn = p.append(&rec).unwrap();
        durable(&p, lsn).unwrap();
        apply(&mut m, rec);
    }
    assert!(fs.files(&dir()).is_empty(), "no log in snapshot-only mode");
    assert_eq!(p.status().changes_since_last_save, 2);
    assert!(!p.snapshot_due(NOW + 999));
    assert!(p.snapshot_due(NOW + 1_000));

    // A failing disk: the snapshot fails, writes are refused (MISCONF) and retries wait.
    fs.set_fail_sync(true);
    assert!(p.rewrite(NOW + 1_000, || as_records(&m)).is_err());
    let err = p.check_writable().unwrap_err();
    assert!(err.reply_text().starts_with("MISCONF "));
    assert!(!p.status().last_rewrite_ok);
    assert_eq!(p.status().rewrite_failures_in_a_row, 1);
    assert!(!p.snapshot_due(NOW + 2_000));
    assert!(p.snapshot_due(NOW + 6_000));
    fs.set_fail_sync(false);
    p.rewrite(NOW + 6_000, || as_records(&m)).unwrap();
    p.check_writable().unwrap();
    let st = p.status();
    assert_eq!((st.rewrites, st.rewrite_failures_in_a_row), (1, 0));
    assert_eq!(st.changes_since_last_save, 0);
    assert_eq!(st.last_save_ms, NOW + 6_000);
    assert!(st.base_size > 0);
    assert!(!p.snapshot_due(NOW + 100_000));

    // Writes after the snapshot are lost on a crash, as in Redis's RDB-only mode.
    p.append(&set("c", "3")).unwrap();
    drop(p);
    let (_p, got) = load(o, NOW).unwrap();
    assert_eq!(got, m);
}

#[test]
fn in_memory_mode_never_touches_the_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let sub = tmp.path().join("data");
    let mut o = Options::new(&sub);
    o.appendonly = false;
    o.save = SaveSchedule::parse("").unwrap();
    let (p, loader) = Persistence::open(o, NOW).unwrap();
    assert_eq!(loader.count(), 0);
    let lsn = p.append(&set("a", "1")).unwrap();
    durable(&p, lsn).unwrap();
    assert!(!p.snapshot_due(NOW + 10_000_000));
    assert!(!p.needs_rewrite());
    p.shutdown().unwrap();
    assert!(!sub.exists());
}

#[test]
fn real_file_system_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let mut o = Options::new(tmp.path().join("data"));
    o.fsync = FsyncPolicy::Always;
    let (p, _) = load(o.clone(), NOW).unwrap();
    let mut m = Model::new();
    for i in 0..100 {
        let rec = set(&format!("k{}", i % 10), &format!("v{i}"));
        let lsn = p.append(&rec).unwrap();
        durable(&p, lsn).unwrap();
        apply(&mut m, rec);
    }
    p.rewrite(NOW, || as_records(&m)).unwrap();
    let rec = Record::Del { key: "k3".into() };
    p.append(&rec).unwrap();
    apply(&mut m, rec);
    drop(p); // clean shutdown through Drop
    let (p, got) = load(o.clone(), NOW).unwrap();
    assert_eq!(got, m);
    let st = p.status();
    assert!(st.aof_enabled && st.last_write_ok && st.base_size > 0);
    let mut names: Vec<String> = std::fs::read_dir(&o.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    // The directory lock stays behind (unlocked) for the next server to take.
    assert_eq!(names.first().map(String::as_str), Some("LOCK"), "{names:?}");
    names.remove(0);
    assert!(names[0].starts_with("base."), "{names:?}");
    assert!(
        names[1..].iter().all(|n| n.starts_with("log.")),
        "{names:?}"
    );
}
