//! Numbered databases in the one store: how a key of database n is stored, and the walks,
//! counts and flushes of one database.
//!
//! All databases share one moka cache and one byte budget, so eviction weighs every database's
//! keys together, as Redis's `maxmemory` does. A key of database 0 is stored as itself. A key
//! of database n > 0 is stored behind a reserved prefix: the byte [`MARK`], n in decimal
//! digits, [`MARK`] again (`"\xff9\xffuser:1"` is `user:1` of database 9). A key of database 0
//! that itself starts with [`MARK`] is stored with one more [`MARK`] in front, so that no key of
//! one database can be taken for a key of another: a stored key that starts with [`MARK`] and a
//! digit belongs to the database the digits name, one that starts with two [`MARK`]s to
//! database 0.
//!
//! The prefix holds no glob or SORT pattern character (`*`, `?`, `[`, `-`, `>`), so a SORT
//! pattern can be stored the same way and still substitute as the user wrote it. The prefix
//! also puts the keys of one database into scopes of their own wherever a key's prefix scopes
//! it (semantic spaces, compression dictionaries per key prefix).
//!
//! Invariant: [`Store::numbered`] is true once any key of a database other than 0 (or an
//! escaped key of database 0) may be stored; while it is false, database 0 is the whole store
//! and its walks and counts take the store's own fast paths.

use super::{Entry, Store, Write, WriteError};
use ahash::AHashMap;
use bytes::{BufMut, Bytes, BytesMut};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

/// The byte that starts the stored form of every key outside database 0's plain keys.
pub const MARK: u8 = 0xFF;

/// The stored form of `key` in database `db`, or `None` where it is `key` itself (database 0,
/// a key that does not start with [`MARK`]).
#[inline]
pub fn stored(db: usize, key: &[u8]) -> Option<Bytes> {
    if db == 0 {
        if key.first() != Some(&MARK) {
            return None;
        }
        let mut b = BytesMut::with_capacity(key.len() + 1);
        b.put_u8(MARK);
        b.put_slice(key);
        return Some(b.freeze());
    }
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(db).as_bytes();
    let mut b = BytesMut::with_capacity(key.len() + digits.len() + 2);
    b.put_u8(MARK);
    b.put_slice(digits);
    b.put_u8(MARK);
    b.put_slice(key);
    Some(b.freeze())
}

/// [`stored`], as owned bytes either way.
pub fn stored_key(db: usize, key: &Bytes) -> Bytes {
    stored(db, key).unwrap_or_else(|| key.clone())
}

/// The database a stored key belongs to and the key as its user names it. A stored key that
/// starts with [`MARK`] but not in either stored form (written before databases existed) is
/// database 0's, as it is.
pub fn split(stored: &[u8]) -> (usize, &[u8]) {
    if stored.first() != Some(&MARK) {
        return (0, stored);
    }
    if stored.get(1) == Some(&MARK) {
        return (0, &stored[1..]);
    }
    let digits = stored[1..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let (num, rest) = stored[1..].split_at(digits);
    let db = std::str::from_utf8(num)
        .ok()
        .and_then(|s| s.parse::<usize>().ok());
    match (db, rest.first()) {
        (Some(db), Some(&MARK)) if db > 0 => (db, &rest[1..]),
        _ => (0, stored),
    }
}

/// The key its user names, of a stored key (a slice of the same bytes, no copy).
pub fn user_key(stored: &Bytes) -> Bytes {
    if stored.first() != Some(&MARK) {
        return stored.clone();
    }
    let (_, key) = split(stored);
    stored.slice_ref(key)
}

/// The stored form, in database `db`, of the key stored as `stored` (MOVE, COPY ... DB).
pub fn moved_to(db: usize, stored: &Bytes) -> Bytes {
    stored_key(db, &user_key(stored))
}

impl Store {
    /// Whether a key outside database 0's plain keys may be stored (see the module's invariant).
    #[inline]
    pub fn numbered(&self) -> bool {
        self.numbered.load(Ordering::Relaxed)
    }

    /// Notes that a key outside database 0's plain keys may be stored from now on.
    #[inline]
    pub fn note_numbered(&self) {
        if !self.numbered() {
            self.numbered.store(true, Ordering::Relaxed);
        }
    }

    /// The number of keys in all databases as moka last counted them (without running its
    /// pending maintenance): cheap, and right to within the writes of the last moments.
    pub fn approx_len(&self) -> u64 {
        self.cache.load().entry_count()
    }

    /// The live keys of database `db`, each as stored and as its user names it, with its entry
    /// as stored (see [`Store::iter_stored`]).
    pub fn iter_db(&self, db: usize) -> impl Iterator<Item = DbEntry> {
        let all = db == 0 && !self.numbered();
        self.iter_stored().filter_map(move |(stored, entry)| {
            let from = if all {
                0
            } else {
                let (d, key) = split(&stored);
                if d != db {
                    return None;
                }
                stored.len() - key.len()
            };
            Some(DbEntry {
                stored,
                from,
                entry,
            })
        })
    }

    /// The number of keys of database `db` (DBSIZE), after the pending maintenance (as
    /// [`Store::len`]): database 0's are moka's count less the other databases'.
    pub fn len_db(&self, db: usize) -> u64 {
        let total = self.len();
        let counts = self.stats.databases.snapshot();
        match db {
            0 => total.saturating_sub(counts.values().map(|c| c.0).sum()),
            _ => counts.get(&db).map_or(0, |c| c.0),
        }
    }

    /// Keys and keys with a TTL of every database that holds keys, in order (INFO keyspace),
    /// after the pending maintenance.
    pub fn per_database(&self) -> Vec<(usize, u64, u64)> {
        let total = self.len();
        let expires = self.stats.expires.get();
        let counts = self.stats.databases.snapshot();
        let (others, others_expiring) =
            counts.values().fold((0, 0), |(k, e), c| (k + c.0, e + c.1));
        let zero = total.saturating_sub(others);
        let mut dbs = vec![(0, zero, expires.saturating_sub(others_expiring).min(zero))];
        let mut rest: Vec<_> = counts.into_iter().map(|(db, c)| (db, c.0, c.1)).collect();
        rest.sort_unstable();
        dbs.extend(rest);
        dbs.retain(|d| d.1 > 0);
        dbs
    }

    /// Removes every key of database `db` (FLUSHDB), one journaled deletion each; the whole
    /// store at once while database 0 is all there is.
    pub fn flush_db(&self, db: usize) -> Result<(), WriteError> {
        if db == 0 && !self.numbered() {
            return self.flush();
        }
        for e in self.iter_db(db) {
            self.write(&e.stored_bytes(), |_| (Write::Remove, ()))?;
        }
        Ok(())
    }
}

/// The keys, and keys with a TTL, of each database other than 0, kept as the store keeps its
/// `expires` count: one more at every moka insert of such a key, one less at every removal
/// moka reports (a replacement is both), so the counts are exact once maintenance has run.
/// Database 0's keys cost one byte compare here.
#[derive(Debug, Default)]
pub struct DbCounts(Mutex<AHashMap<usize, (i64, i64)>>);

impl DbCounts {
    /// Counts `entry` stored under `key` in (`delta` 1) or out (-1).
    #[inline]
    pub fn count(&self, key: &[u8], entry: &Entry, delta: i64) {
        if key.first() != Some(&MARK) {
            return;
        }
        let (db, _) = split(key);
        if db == 0 {
            return;
        }
        let mut counts = match self.0.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        let c = counts.entry(db).or_default();
        c.0 += delta;
        if entry.expire_at.is_some() {
            c.1 += delta;
        }
        if *c == (0, 0) {
            counts.remove(&db);
        }
    }

    /// Each database's (keys, keys with a TTL), the counts as they stand.
    fn snapshot(&self) -> AHashMap<usize, (u64, u64)> {
        let counts = match self.0.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        counts
            .iter()
            .map(|(db, c)| (*db, (c.0.max(0) as u64, c.1.max(0) as u64)))
            .collect()
    }
}

/// One key of a database, from [`Store::iter_db`]: the store's own copy of the key (shared,
/// not copied, so that a walk of the keyspace allocates nothing per key).
pub struct DbEntry {
    /// As stored.
    pub stored: Arc<[u8]>,
    /// Where the name its user knows starts in `stored`.
    from: usize,
    pub entry: Arc<Entry>,
}

impl DbEntry {
    /// The key as its user names it.
    pub fn key(&self) -> &[u8] {
        &self.stored[self.from..]
    }

    /// The key as stored, as the store's writes take it (a copy).
    pub fn stored_bytes(&self) -> Bytes {
        Bytes::copy_from_slice(&self.stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_forms_never_meet_across_databases() {
        assert_eq!(stored(0, b"user:1"), None);
        let nine = stored(9, b"user:1").unwrap();
        assert_eq!(&nine[..], b"\xff9\xffuser:1");
        assert_eq!(split(&nine), (9, &b"user:1"[..]));
        let escaped = stored(0, b"\xff9\xffuser:1").unwrap();
        assert_eq!(split(&escaped), (0, &b"\xff9\xffuser:1"[..]));
        assert_eq!(split(b"plain"), (0, &b"plain"[..]));
        // A key stored before databases existed keeps its name.
        assert_eq!(split(b"\xffold"), (0, &b"\xffold"[..]));
        assert_eq!(split(b"\xff0\xffx"), (0, &b"\xff0\xffx"[..]));
        let twelve = stored(12, b"").unwrap();
        assert_eq!(split(&twelve), (12, &b""[..]));
        assert_eq!(split(&moved_to(3, &twelve)), (3, &b""[..]));
        assert_eq!(&user_key(&Bytes::from_static(b"\xff12\xffk"))[..], b"k");
    }
}
