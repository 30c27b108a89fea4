//! Disk faults below the process level, on `SimFs`: a full disk and a failing fsync under
//! `everysec` (repaired by a base from memory, with nothing acknowledged lost), a rewrite
//! that fails while the log is healthy (writes go on, the rewrite is retried), and the lock
//! that keeps a second engine off a directory. Time is a `ManualClock` the test moves.

use std::time::Duration;

use llmcached::persistence::sim::SimFs;
use llmcached::persistence::{
    FsyncPolicy, Lsn, ManualClock, Options, PersistError, Persistence, Record, WriterClock,
};

use crate::support::{apply, as_records, dir, durable, load, opts, rt, set, Model, NOW};

fn everysec(fs: &SimFs, clock: &ManualClock) -> Options {
    let mut o = opts(fs, FsyncPolicy::EverySec);
    o.clock = WriterClock::Manual(clock.clone());
    o
}

/// Waits until `lsn` is fsynced or the log has failed: moves the writer's clock a second on,
/// so the `everysec` fsync is due, and waits for that event.
fn sync_or_fail(p: &Persistence, clock: &ManualClock, lsn: Lsn) -> Result<(), PersistError> {
    clock.advance(Duration::from_secs(1));
    rt().block_on(async {
        tokio::time::timeout(Duration::from_secs(10), p.synced(lsn))
            .await
            .expect("neither an fsync nor a failure within 10 s")
    })
}

/// A write the server acknowledges: checked, applied to memory, appended, durable per policy.
fn write(p: &Persistence, m: &mut Model, rec: Record) -> Lsn {
    p.check_writable().unwrap();
    apply(m, rec.clone());
    let lsn = p.append(&rec).unwrap();
    durable(p, lsn).unwrap();
    lsn
}

fn has_tmp(fs: &SimFs) -> bool {
    fs.files(&dir()).iter().any(|n| n == "base.tmp")
}

/// The fault as found: on a full disk under `everysec`, writes were acknowledged, then
/// refused; after space was freed they stayed refused, and a restart lost acknowledged
/// writes. Now: refused with Redis's MISCONF text while the disk is full; once space is
/// freed, the housekeeping rewrite (what `rewrite_due` asks for) makes the disk whole from
/// memory and writes are accepted again; a power cut then loses nothing acknowledged.
#[test]
fn disk_full_under_everysec_loses_no_acknowledged_write_and_recovers_by_itself() {
    let fs = SimFs::new();
    let clock = ManualClock::new();
    let (p, _) = load(everysec(&fs, &clock), NOW).unwrap();
    let mut m = Model::new();
    let mut last = 0;
    for i in 0..50 {
        last = write(&p, &mut m, set(&format!("before:{i}"), "v"));
    }
    sync_or_fail(&p, &clock, last).unwrap();

    fs.fill();
    // Acknowledged until the writer meets the full disk (within milliseconds): memory has
    // them, the log does not. The first is always taken: the writer had nothing to write.
    let mut acked = 0;
    while acked < 1000 {
        let rec = set(&format!("acked:{acked}"), "v");
        if p.check_writable().is_err() {
            break;
        }
        apply(&mut m, rec.clone());
        last = p.append(&rec).unwrap();
        durable(&p, last).unwrap();
        acked += 1;
    }
    assert!(acked > 0);
    let err = sync_or_fail(&p, &clock, last).unwrap_err();
    assert!(matches!(err, PersistError::WriteFailed { .. }), "{err}");
    let refused = p.check_writable().unwrap_err();
    assert_eq!(
        refused.reply_text(),
        "MISCONF Errors writing to the AOF file: No space left on device"
    );
    // A write already applied when the error showed up is still taken.
    let late = set("in-flight", "v");
    apply(&mut m, late.clone());
    p.append(&late).unwrap();
    let st = p.status();
    assert!(!st.last_write_ok && st.needs_base && p.needs_base());

    // Still full: the repair is tried, fails, cleans up after itself and backs off.
    assert!(p.rewrite_due(NOW));
    assert!(p.rewrite(NOW, || as_records(&m)).is_err());
    assert!(!has_tmp(&fs), "{:?}", fs.files(&dir()));
    assert!(p.check_writable().is_err());
    assert!(!p.rewrite_due(NOW + 999));
    assert!(p.rewrite_due(NOW + 1_000));

    fs.free_space();
    assert!(p.rewrite_due(NOW + 1_000));
    p.rewrite(NOW + 1_000, || as_records(&m)).unwrap();
    p.check_writable().unwrap();
    let st = p.status();
    assert!(st.last_write_ok && !st.needs_base);
    assert!(!p.rewrite_due(NOW + 2_000));
    for i in 0..10 {
        last = write(&p, &mut m, set(&format!("after:{i}"), "v"));
    }
    sync_or_fail(&p, &clock, last).unwrap();

    let (_p, got) = load(everysec(&fs.crash(), &clock), NOW).unwrap();
    assert_eq!(got, m);
}

/// After a failed fsync Linux may drop the dirty pages and report success on the next
/// fsync, so the log silently misses records. A base from memory is what makes it whole.
#[test]
fn fsync_failure_under_everysec_is_repaired_by_a_base_from_memory() {
    let fs = SimFs::new();
    let clock = ManualClock::new();
    let (p, _) = load(everysec(&fs, &clock), NOW).unwrap();
    let mut m = Model::new();
    let mut last = write(&p, &mut m, set("synced", "v"));
    sync_or_fail(&p, &clock, last).unwrap();
    for i in 0..10 {
        last = write(&p, &mut m, set(&format!("dropped:{i}"), "v"));
    }
    fs.set_fail_sync(true);
    let err = sync_or_fail(&p, &clock, last).unwrap_err();
    assert_eq!(
        err.reply_text(),
        "MISCONF Errors writing to the AOF file: Input/output error"
    );
    fs.set_fail_sync(false);
    // The disk works again, but what it holds is not what was acknowledged.
    let (_p, before_repair) = load(everysec(&fs.crash(), &clock), NOW).unwrap();
    assert_ne!(before_repair, m);
    assert!(
        p.check_writable().is_err(),
        "no success proves the log whole"
    );

    assert!(p.rewrite_due(NOW));
    p.rewrite(NOW, || as_records(&m)).unwrap();
    p.check_writable().unwrap();
    let (_p, got) = load(everysec(&fs.crash(), &clock), NOW).unwrap();
    assert_eq!(got, m);
}

/// A failure inside the segment a repair started cannot be covered by that repair's base.
#[test]
fn a_write_error_after_the_repair_began_keeps_writes_refused() {
    let fs = SimFs::new();
    let clock = ManualClock::new();
    let (p, _) = load(everysec(&fs, &clock), NOW).unwrap();
    let mut m = Model::new();
    let lsn = write(&p, &mut m, set("a", "1"));
    fs.set_fail_sync(true);
    sync_or_fail(&p, &clock, lsn).unwrap_err();
    fs.set_fail_sync(false);
    p.rewrite(NOW, || {
        // The repair has rotated; now the new segment fails too.
        let rec = set("b", "2");
        apply(&mut m, rec.clone());
        let lsn = p.append(&rec).unwrap();
        fs.set_fail_sync(true);
        sync_or_fail(&p, &clock, lsn).unwrap_err();
        fs.set_fail_sync(false);
        as_records(&m).collect::<Vec<_>>()
    })
    .unwrap();
    assert!(p.check_writable().is_err());
    assert!(p.rewrite_due(NOW));
    p.rewrite(NOW, || as_records(&m)).unwrap();
    p.check_writable().unwrap();
    let (_p, got) = load(everysec(&fs.crash(), &clock), NOW).unwrap();
    assert_eq!(got, m);
}

/// `always` acknowledges only fsynced writes; after a log error nothing can prove the log
/// whole, and Redis exits: the engine refuses writes until restart, and no base repairs it.
#[test]
fn disk_full_under_always_is_fail_stop() {
    let fs = SimFs::new();
    let (p, _) = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
    let mut m = Model::new();
    write(&p, &mut m, set("a", "1"));
    fs.fill();
    let lsn = p.append(&set("b", "2")).unwrap();
    let err = durable(&p, lsn).unwrap_err();
    assert!(matches!(err, PersistError::FailStop { .. }), "{err}");
    fs.free_space();
    assert!(!p.needs_base() && !p.rewrite_due(NOW + 100_000));
    assert!(p.rewrite(NOW, || as_records(&m)).is_err());
    assert!(p.check_writable().is_err());
    let (_p, got) = load(opts(&fs.crash(), FsyncPolicy::Always), NOW).unwrap();
    assert_eq!(got, m);
}

/// The fault as found: with the data directory unwritable, BGREWRITEAOF failed and every
/// later write was refused, though the live log was healthy. Now the rewrite fails alone: it
/// is counted, retried after a backoff, and writes (fsynced under `always`) go on.
#[test]
fn a_failed_rewrite_does_not_stop_writes() {
    let fs = SimFs::new();
    let (p, _) = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
    let mut m = Model::new();
    write(&p, &mut m, set("a", "1"));
    fs.set_dir_writable(&dir(), false);
    let err = p.rewrite(NOW, || as_records(&m)).unwrap_err();
    assert!(!err.reply_text().contains('/'), "{}", err.reply_text());
    let st = p.status();
    assert!(!st.last_rewrite_ok && st.rewrite_scheduled && st.last_write_ok);
    assert_eq!(st.rewrite_failures_in_a_row, 1);
    let info: std::collections::HashMap<_, _> = st.info_fields(NOW).into_iter().collect();
    assert_eq!(info["aof_last_bgrewrite_status"], "err");
    assert_eq!(info["rdb_last_bgsave_status"], "err");
    assert_eq!(info["aof_last_write_status"], "ok");
    // Writes go on, fsynced into the segment that was live before.
    for i in 0..10 {
        write(&p, &mut m, set(&format!("during:{i}"), "v"));
    }
    let (_p, got) = load(opts(&fs.crash(), FsyncPolicy::Always), NOW).unwrap();
    assert_eq!(got, m);

    // Retried after the backoff, which grows with each failure.
    assert!(!p.rewrite_due(NOW + 999));
    assert!(p.rewrite_due(NOW + 1_000));
    p.rewrite(NOW + 1_000, || as_records(&m)).unwrap_err();
    assert!(!p.rewrite_due(NOW + 2_999));
    assert!(p.rewrite_due(NOW + 3_000));
    fs.set_dir_writable(&dir(), true);
    p.rewrite(NOW + 3_000, || as_records(&m)).unwrap();
    let st = p.status();
    assert!(st.last_rewrite_ok && !st.rewrite_scheduled);
    assert_eq!((st.rewrites, st.rewrite_failures_in_a_row), (1, 0));
    assert!(!p.rewrite_due(NOW + 100_000));
    write(&p, &mut m, set("after", "v"));
    let (_p, got) = load(opts(&fs.crash(), FsyncPolicy::Always), NOW).unwrap();
    assert_eq!(got, m);
}

/// A base that does not fit: its temporary file is removed (giving the space back to the
/// log), the log goes on, and the retry succeeds once there is room.
#[test]
fn a_rewrite_that_fills_the_disk_removes_its_temp_file_and_writes_go_on() {
    let fs = SimFs::new();
    let (p, _) = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
    let mut m = Model::new();
    let big = "x".repeat(1000);
    for i in 0..100 {
        write(&p, &mut m, set(&format!("k{i}"), &big));
    }
    // Room for a new segment and some records, not for a base of the whole keyspace.
    fs.set_capacity(Some(fs.used() + 4096));
    let err = p.rewrite(NOW, || as_records(&m)).unwrap_err();
    assert!(err.to_string().contains("No space left"), "{err}");
    assert!(!has_tmp(&fs), "{:?}", fs.files(&dir()));
    assert!(p.status().last_write_ok);
    write(&p, &mut m, set("small", "v"));
    fs.free_space();
    p.rewrite(NOW + 1_000, || as_records(&m)).unwrap();
    let (_p, got) = load(opts(&fs.crash(), FsyncPolicy::Always), NOW).unwrap();
    assert_eq!(got, m);
}

/// The fault as found: two servers on one directory both started, and the second removed
/// the first one's files. The second engine now refuses to open, naming the directory and
/// the holder's pid; the lock is released by shutdown.
#[test]
fn two_engines_on_one_dir_the_second_refuses() {
    let fs = SimFs::new();
    let (first, _) = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
    let err = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap_err();
    assert!(matches!(err, PersistError::Locked { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("/data"), "{text}");
    assert!(
        text.contains(&format!("pid {}", std::process::id())),
        "{text}"
    );
    first.shutdown().unwrap();
    let (_second, _) = load(opts(&fs, FsyncPolicy::Always), NOW).unwrap();
}

/// The same with `flock` on a real directory: the lock file records the holder's pid.
#[test]
fn the_real_file_system_locks_the_data_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Options::new(tmp.path().join("data"));
    let (first, _) = load(o.clone(), NOW).unwrap();
    let pid = std::fs::read_to_string(o.dir.join("LOCK")).unwrap();
    assert_eq!(pid.trim(), std::process::id().to_string());
    match load(o.clone(), NOW) {
        Err(PersistError::Locked { dir, pid }) => {
            assert_eq!(dir, o.dir);
            assert_eq!(pid, Some(std::process::id()));
        }
        other => panic!("a second engine opened the directory: {other:?}"),
    }
    first.shutdown().unwrap();
    let (_second, _) = load(o, NOW).unwrap();
}
