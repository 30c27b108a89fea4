//! The file-system operations the engine needs, behind a trait so crash tests can run against
//! the simulated file system of the `sim` module, which knows which bytes and directory entries are durable.
//!
//! The engine relies on exactly these promises (POSIX on Linux gives them):
//! * bytes written to a file are durable after that file's `sync_data` returns Ok;
//! * a created, renamed or removed directory entry is durable after `sync_dir` of its directory;
//! * `rename` replaces the target atomically.
//!
//! One more: [`Fs::lock_dir`] gives one process at a time the directory (`flock` on
//! `<dir>/LOCK`, which the kernel releases when the holder dies, even by kill -9).

use std::fmt::Debug;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Name of the lock file in the data directory; recovery ignores it.
pub const LOCK_FILE: &str = "LOCK";

/// A file open for writing at its end.
pub trait FsFile: Write + Send {
    /// Makes every byte written so far durable (`fdatasync`).
    fn sync_data(&mut self) -> io::Result<()>;
    /// Cuts the file to `len` bytes and goes on writing from there (undoes a partial write).
    fn truncate_to(&mut self, len: u64) -> io::Result<()>;
}

/// Exclusive ownership of a data directory; dropping it releases the lock.
pub trait DirLock: Send + Sync + Debug {}

/// Why [`Fs::lock_dir`] failed.
#[derive(Debug)]
pub enum DirLockError {
    /// Another process holds the lock; `pid` is what it wrote into the lock file.
    Held {
        pid: Option<u32>,
    },
    Io(io::Error),
}

/// Directory and file operations used by the engine. Paths are full paths.
pub trait Fs: Send + Sync + Debug {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// Names (not paths) of the regular files in `dir`.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Creates `path`, truncating it if it exists, and opens it for writing.
    fn create(&self, path: &Path) -> io::Result<Box<dyn FsFile>>;
    fn open_read(&self, path: &Path) -> io::Result<Box<dyn Read + Send>>;
    fn len(&self, path: &Path) -> io::Result<u64>;
    /// Cuts `path` to `len` bytes and makes the new length durable.
    fn truncate(&self, path: &Path, len: u64) -> io::Result<()>;
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Makes the directory entries of `dir` durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Takes `dir` for this process alone, without waiting; see [`DirLock`].
    fn lock_dir(&self, dir: &Path) -> Result<Box<dyn DirLock>, DirLockError>;
}

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsFs;

struct OsFile(File);

impl Write for OsFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl FsFile for OsFile {
    fn sync_data(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }

    fn truncate_to(&mut self, len: u64) -> io::Result<()> {
        self.0.set_len(len)?;
        // The file position stays where the failed write left it: move it back, or the next
        // write would leave a hole of zeros.
        self.0.seek(SeekFrom::Start(len))?;
        Ok(())
    }
}

/// Holds the `flock` for as long as the file is open.
#[derive(Debug)]
struct OsDirLock {
    _file: File,
}

impl DirLock for OsDirLock {}

impl Fs for OsFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                if let Some(name) = entry.file_name().to_str() {
                    names.push(name.to_owned());
                }
            }
        }
        Ok(names)
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        Ok(Box::new(OsFile(f)))
    }

    fn open_read(&self, path: &Path) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(File::open(path)?))
    }

    fn len(&self, path: &Path) -> io::Result<u64> {
        Ok(std::fs::metadata(path)?.len())
    }

    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        let f = OpenOptions::new().write(true).open(path)?;
        f.set_len(len)?;
        f.sync_all()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    fn lock_dir(&self, dir: &Path) -> Result<Box<dyn DirLock>, DirLockError> {
        // Not truncated on open: until we hold the lock, the pid in it is the holder's.
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(LOCK_FILE))
            .map_err(DirLockError::Io)?;
        match f.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                // The holder may be between taking the lock and writing its pid.
                let pid = f
                    .read_to_string(&mut text)
                    .ok()
                    .and_then(|_| text.trim().parse().ok());
                return Err(DirLockError::Held { pid });
            }
            Err(TryLockError::Error(e)) => return Err(DirLockError::Io(e)),
        }
        f.set_len(0).map_err(DirLockError::Io)?;
        f.write_all(format!("{}\n", std::process::id()).as_bytes())
            .map_err(DirLockError::Io)?;
        Ok(Box::new(OsDirLock { _file: f }))
    }
}
