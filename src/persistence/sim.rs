//! An in-memory [`Fs`] for deterministic crash tests.
//!
//! It keeps, for every file, the bytes written and how many of them were synced, and for every
//! directory the live entries and the entries made durable by the last `sync_dir`. A crash
//! image ([`SimFs::crash`]) keeps only what a power cut would: durable entries, synced bytes,
//! plus whatever part of the unsynced tail the test chooses to let survive (a torn write).
//!
//! Faults a test can inject, each as the kernel reports it (raw OS errors, so replies carry
//! the same `strerror` text as on a real disk):
//! * a full disk ([`SimFs::fill`], [`SimFs::set_capacity`]): a write stores what fits, then
//!   fails with `ENOSPC`; [`SimFs::free_space`] makes room again;
//! * a failing fsync ([`SimFs::set_fail_sync`]): `EIO`, and as Linux does, the unsynced bytes
//!   of that file are dropped, so a later fsync that succeeds does not bring them back;
//! * a directory that refuses new entries ([`SimFs::set_dir_writable`]): `EACCES` on create,
//!   rename and remove, while files already open keep accepting writes.
//!
//! Directory locks ([`Fs::lock_dir`]) are process state: a crash image starts without any.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::fs::{DirLock, DirLockError, Fs, FsFile};

const ENOSPC: i32 = 28;
const EIO: i32 = 5;
const EACCES: i32 = 13;

#[derive(Debug, Default, Clone)]
struct Inode {
    data: Vec<u8>,
    synced_len: usize,
}

#[derive(Debug, Default)]
struct State {
    next_ino: u64,
    inodes: HashMap<u64, Inode>,
    /// Live directory entries: path -> inode.
    live: BTreeMap<PathBuf, u64>,
    /// Entries a crash keeps: updated from `live` by `sync_dir`.
    durable: BTreeMap<PathBuf, u64>,
    dirs: Vec<PathBuf>,
    fail_sync: bool,
    syncs: u64,
    /// Bytes the live files may hold in all; `None` is unlimited.
    capacity: Option<u64>,
    read_only_dirs: BTreeSet<PathBuf>,
    locked: BTreeSet<PathBuf>,
}

impl State {
    /// Bytes held by live files.
    fn used(&self) -> u64 {
        let inos: BTreeSet<u64> = self.live.values().copied().collect();
        inos.iter()
            .filter_map(|i| self.inodes.get(i))
            .map(|n| n.data.len() as u64)
            .sum()
    }

    fn check_dir_writable(&self, path: &Path) -> io::Result<()> {
        match path.parent() {
            Some(dir) if self.read_only_dirs.contains(dir) => {
                Err(io::Error::from_raw_os_error(EACCES))
            }
            _ => Ok(()),
        }
    }
}

/// A simulated file system; clones share the same state.
#[derive(Debug, Default, Clone)]
pub struct SimFs {
    state: Arc<Mutex<State>>,
}

fn not_found(p: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{} not found", p.display()),
    )
}

impl SimFs {
    pub fn new() -> SimFs {
        SimFs::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock is a test failure already; keep going to report it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes every later `sync_data`/`sync_dir`/`truncate` fail with `EIO` (or succeed
    /// again), as a failing disk would. A failed `sync_data` drops the file's unsynced bytes.
    pub fn set_fail_sync(&self, fail: bool) {
        self.lock().fail_sync = fail;
    }

    /// Limits the bytes all live files may hold together (`None`: no limit).
    pub fn set_capacity(&self, bytes: Option<u64>) {
        self.lock().capacity = bytes;
    }

    /// The disk is full from now on: the next byte written fails with `ENOSPC`.
    pub fn fill(&self) {
        let mut s = self.lock();
        s.capacity = Some(s.used());
    }

    /// Space is freed: writes succeed again.
    pub fn free_space(&self) {
        self.lock().capacity = None;
    }

    /// Bytes held by live files.
    pub fn used(&self) -> u64 {
        self.lock().used()
    }

    /// Makes `dir` refuse (or accept again) new, renamed and removed entries with `EACCES`.
    pub fn set_dir_writable(&self, dir: &Path, writable: bool) {
        let mut s = self.lock();
        if writable {
            s.read_only_dirs.remove(dir);
        } else {
            s.read_only_dirs.insert(dir.to_path_buf());
        }
    }

    /// Number of successful `sync_data` calls so far.
    pub fn sync_count(&self) -> u64 {
        self.lock().syncs
    }

    /// The current (not necessarily durable) content of a file.
    pub fn read(&self, path: &Path) -> Option<Vec<u8>> {
        let s = self.lock();
        let ino = s.live.get(path)?;
        Some(s.inodes[ino].data.clone())
    }

    /// Replaces a file's content, durably (for planting damage in tests).
    pub fn write_durable(&self, path: &Path, data: Vec<u8>) {
        let mut s = self.lock();
        let ino = match s.live.get(path) {
            Some(&i) => i,
            None => {
                s.next_ino += 1;
                let i = s.next_ino;
                s.live.insert(path.to_path_buf(), i);
                i
            }
        };
        s.durable.insert(path.to_path_buf(), ino);
        let synced_len = data.len();
        s.inodes.insert(ino, Inode { data, synced_len });
    }

    /// Names of the live files in `dir`, sorted.
    pub fn files(&self, dir: &Path) -> Vec<String> {
        self.list(dir).unwrap_or_default()
    }

    /// A power cut: a new file system holding only what was durable. `unsynced` decides, per
    /// file, which of its unsynced tail bytes survive anyway (return an empty Vec to lose them,
    /// a prefix for a torn write, zeros for a file system that extended the size only).
    pub fn crash_with(&self, mut unsynced: impl FnMut(&Path, &[u8]) -> Vec<u8>) -> SimFs {
        let s = self.lock();
        let mut out = State {
            next_ino: s.next_ino,
            dirs: s.dirs.clone(),
            ..State::default()
        };
        for (path, ino) in &s.durable {
            let node = &s.inodes[ino];
            let mut data = node.data[..node.synced_len].to_vec();
            data.extend(unsynced(path, &node.data[node.synced_len..]));
            let synced_len = data.len();
            out.inodes.insert(*ino, Inode { data, synced_len });
            out.live.insert(path.clone(), *ino);
            out.durable.insert(path.clone(), *ino);
        }
        SimFs {
            state: Arc::new(Mutex::new(out)),
        }
    }

    /// A power cut that loses every unsynced byte.
    pub fn crash(&self) -> SimFs {
        self.crash_with(|_, _| Vec::new())
    }
}

struct SimFile {
    fs: SimFs,
    ino: u64,
}

impl Write for SimFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut s = self.fs.lock();
        let room = match s.capacity {
            Some(cap) => usize::try_from(cap.saturating_sub(s.used())).unwrap_or(usize::MAX),
            None => usize::MAX,
        };
        let n = buf.len().min(room);
        if n == 0 && !buf.is_empty() {
            return Err(io::Error::from_raw_os_error(ENOSPC));
        }
        let node = s
            .inodes
            .get_mut(&self.ino)
            .ok_or_else(|| io::Error::other("inode gone"))?;
        node.data.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl FsFile for SimFile {
    fn sync_data(&mut self) -> io::Result<()> {
        let mut s = self.fs.lock();
        let fail = s.fail_sync;
        let node = s
            .inodes
            .get_mut(&self.ino)
            .ok_or_else(|| io::Error::other("inode gone"))?;
        if fail {
            // Linux marks the pages clean after a failed writeback: the bytes are gone.
            node.data.truncate(node.synced_len);
            return Err(io::Error::from_raw_os_error(EIO));
        }
        node.synced_len = node.data.len();
        s.syncs += 1;
        Ok(())
    }

    fn truncate_to(&mut self, len: u64) -> io::Result<()> {
        let mut s = self.fs.lock();
        let node = s
            .inodes
            .get_mut(&self.ino)
            .ok_or_else(|| io::Error::other("inode gone"))?;
        node.data
            .truncate(usize::try_from(len).unwrap_or(usize::MAX));
        node.synced_len = node.synced_len.min(node.data.len());
        Ok(())
    }
}

#[derive(Debug)]
struct SimDirLock {
    fs: SimFs,
    dir: PathBuf,
}

impl DirLock for SimDirLock {}

impl Drop for SimDirLock {
    fn drop(&mut self) {
        self.fs.lock().locked.remove(&self.dir);
    }
}

impl Fs for SimFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.lock();
        if !s.dirs.iter().any(|d| d == dir) {
            s.dirs.push(dir.to_path_buf());
        }
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let s = self.lock();
        if !s.dirs.iter().any(|d| d == dir) {
            return Err(not_found(dir));
        }
        Ok(s.live
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
            .collect())
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let mut s = self.lock();
        let dir = path.parent().unwrap_or(Path::new(""));
        if !s.dirs.iter().any(|d| d == dir) {
            return Err(not_found(dir));
        }
        s.check_dir_writable(path)?;
        s.next_ino += 1;
        let ino = s.next_ino;
        s.inodes.insert(ino, Inode::default());
        s.live.insert(path.to_path_buf(), ino);
        Ok(Box::new(SimFile {
            fs: self.clone(),
            ino,
        }))
    }

    fn open_read(&self, path: &Path) -> io::Result<Box<dyn Read + Send>> {
        let data = self.read(path).ok_or_else(|| not_found(path))?;
        Ok(Box::new(io::Cursor::new(data)))
    }

    fn len(&self, path: &Path) -> io::Result<u64> {
        let s = self.lock();
        let ino = s.live.get(path).ok_or_else(|| not_found(path))?;
        Ok(s.inodes[ino].data.len() as u64)
    }

    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        let mut s = self.lock();
        if s.fail_sync {
            return Err(io::Error::from_raw_os_error(EIO));
        }
        let ino = *s.live.get(path).ok_or_else(|| not_found(path))?;
        let node = s.inodes.get_mut(&ino).ok_or_else(|| not_found(path))?;
        node.data.truncate(len as usize);
        node.synced_len = node.synced_len.min(node.data.len());
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.check_dir_writable(from)?;
        s.check_dir_writable(to)?;
        let ino = s.live.remove(from).ok_or_else(|| not_found(from))?;
        s.live.insert(to.to_path_buf(), ino);
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.check_dir_writable(path)?;
        s.live.remove(path).ok_or_else(|| not_found(path))?;
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.lock();
        if s.fail_sync {
            return Err(io::Error::from_raw_os_error(EIO));
        }
        let State { live, durable, .. } = &mut *s;
        durable.retain(|p, _| p.parent() != Some(dir));
        for (p, ino) in live.iter() {
            if p.parent() == Some(dir) {
                durable.insert(p.clone(), *ino);
            }
        }
        Ok(())
    }

    fn lock_dir(&self, dir: &Path) -> Result<Box<dyn DirLock>, DirLockError> {
        if !self.lock().locked.insert(dir.to_path_buf()) {
            return Err(DirLockError::Held {
                pid: Some(std::process::id()),
            });
        }
        Ok(Box::new(SimDirLock {
            fs: self.clone(),
            dir: dir.to_path_buf(),
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn crash_keeps_only_synced_bytes_and_durable_entries() {
        let fs = SimFs::new();
        let dir = Path::new("/d");
        fs.create_dir_all(dir).unwrap();
        let mut a = fs.create(&dir.join("a")).unwrap();
        a.write_all(b"hello").unwrap();
        fs.sync_dir(dir).unwrap();
        a.sync_data().unwrap();
        a.write_all(b" world").unwrap();
        let _b = fs.create(&dir.join("b")).unwrap();

        let c = fs.crash();
        assert_eq!(c.files(dir), vec!["a".to_string()]);
        assert_eq!(c.read(&dir.join("a")).unwrap(), b"hello");

        let torn = fs.crash_with(|_, tail| tail[..3].to_vec());
        assert_eq!(torn.read(&dir.join("a")).unwrap(), b"hello wo");
    }

    #[test]
    fn a_full_disk_stores_what_fits_then_refuses() {
        let fs = SimFs::new();
        let dir = Path::new("/d");
        fs.create_dir_all(dir).unwrap();
        let mut a = fs.create(&dir.join("a")).unwrap();
        a.write_all(b"12").unwrap();
        fs.set_capacity(Some(5));
        let e = a.write_all(b"3456").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(ENOSPC));
        assert_eq!(fs.read(&dir.join("a")).unwrap(), b"12345");
        fs.free_space();
        a.write_all(b"6").unwrap();
        assert_eq!(fs.used(), 6);
    }

    #[test]
    fn a_failed_fsync_drops_the_unsynced_bytes() {
        let fs = SimFs::new();
        let dir = Path::new("/d");
        fs.create_dir_all(dir).unwrap();
        let mut a = fs.create(&dir.join("a")).unwrap();
        fs.sync_dir(dir).unwrap();
        a.write_all(b"kept").unwrap();
        a.sync_data().unwrap();
        a.write_all(b"lost").unwrap();
        fs.set_fail_sync(true);
        assert!(a.sync_data().is_err());
        fs.set_fail_sync(false);
        a.sync_data().unwrap();
        assert_eq!(fs.crash().read(&dir.join("a")).unwrap(), b"kept");
    }

    #[test]
    fn a_read_only_dir_refuses_entries_but_open_files_write_on() {
        let fs = SimFs::new();
        let dir = Path::new("/d");
        fs.create_dir_all(dir).unwrap();
        let mut a = fs.create(&dir.join("a")).unwrap();
        fs.set_dir_writable(dir, false);
        assert_eq!(
            fs.create(&dir.join("b")).err().unwrap().raw_os_error(),
            Some(EACCES)
        );
        assert!(fs.remove(&dir.join("a")).is_err());
        a.write_all(b"x").unwrap();
        fs.set_dir_writable(dir, true);
        fs.create(&dir.join("b")).unwrap();
    }

    #[test]
    fn a_dir_lock_excludes_a_second_holder_until_dropped() {
        let fs = SimFs::new();
        let dir = Path::new("/d");
        let held = fs.lock_dir(dir).unwrap();
        assert!(matches!(fs.lock_dir(dir), Err(DirLockError::Held { .. })));
        // A crash image belongs to a new process: no lock carries over.
        drop(fs.crash().lock_dir(dir).unwrap());
        drop(held);
        fs.lock_dir(dir).unwrap();
    }

    #[test]
    fn rename_is_durable_only_after_sync_dir() {
        let fs = SimFs::new();
        let dir = Path::new("/d");
        fs.create_dir_all(dir).unwrap();
        fs.write_durable(&dir.join("old"), b"1".to_vec());
        let mut t = fs.create(&dir.join("tmp")).unwrap();
        t.write_all(b"2").unwrap();
        t.sync_data().unwrap();
        fs.rename(&dir.join("tmp"), &dir.join("old")).unwrap();
        assert_eq!(fs.crash().read(&dir.join("old")).unwrap(), b"1");
        fs.sync_dir(dir).unwrap();
        assert_eq!(fs.crash().read(&dir.join("old")).unwrap(), b"2");
    }
}
