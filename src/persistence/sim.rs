//! An in-memory [`Fs`] for deterministic crash tests.
//!
//! It keeps, for every file, the bytes written and how many of them were synced, and for every
//! directory the live entries and the entries made durable by the last `sync_dir`. A crash
//! image ([`SimFs::crash`]) keeps only what a power cut would: durable entries, synced bytes,
//! plus whatever part of the unsynced tail the test chooses to let survive (a torn write).

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::fs::{Fs, FsFile};

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

    /// Makes every later `sync_data`/`sync_dir`/`truncate` fail with an I/O error (or succeed
    /// again), as a failing disk would.
    pub fn set_fail_sync(&self, fail: bool) {
        self.lock().fail_sync = fail;
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
        let node = s
            .inodes
            .get_mut(&self.ino)
            .ok_or_else(|| io::Error::other("inode gone"))?;
        node.data.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl FsFile for SimFile {
    fn sync_data(&mut self) -> io::Result<()> {
        let mut s = self.fs.lock();
        if s.fail_sync {
            return Err(io::Error::other("simulated fsync failure"));
        }
        s.syncs += 1;
        if let Some(node) = s.inodes.get_mut(&self.ino) {
            node.synced_len = node.data.len();
        }
        Ok(())
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
            return Err(io::Error::other("simulated fsync failure"));
        }
        let ino = *s.live.get(path).ok_or_else(|| not_found(path))?;
        let node = s.inodes.get_mut(&ino).ok_or_else(|| not_found(path))?;
        node.data.truncate(len as usize);
        node.synced_len = node.synced_len.min(node.data.len());
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.lock();
        let ino = s.live.remove(from).ok_or_else(|| not_found(from))?;
        s.live.insert(to.to_path_buf(), ino);
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.live.remove(path).ok_or_else(|| not_found(path))?;
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.lock();
        if s.fail_sync {
            return Err(io::Error::other("simulated fsync failure"));
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
