//! Shared scaffolding: a model of the keyspace that records are replayed into, options on a
//! `SimFs`, record builders and bounded waits for durability.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use llmcached::persistence::sim::SimFs;
use llmcached::persistence::{
    FsyncPolicy, Lsn, Options, PersistError, Persistence, Record, SetMeta, Value,
};
use tokio::runtime::Runtime;

pub const NOW: u64 = 1_800_000_000_000;

/// The keyspace as the records describe it: key -> (value, absolute expiry in ms).
pub type Model = BTreeMap<Bytes, (Value, Option<u64>)>;

pub fn apply(m: &mut Model, rec: Record) {
    match rec {
        Record::Set {
            key,
            value,
            expire_at_ms,
            ..
        } => {
            m.insert(key, (value, expire_at_ms));
        }
        Record::Del { key } => {
            m.remove(&key);
        }
        Record::FlushAll => m.clear(),
        Record::Dict { .. } => {}
    }
}

pub fn dir() -> PathBuf {
    PathBuf::from("/data")
}

pub fn opts(fs: &SimFs, fsync: FsyncPolicy) -> Options {
    let mut o = Options::new(dir());
    o.fs = Arc::new(fs.clone());
    o.fsync = fsync;
    o
}

/// Opens and drives the loader to the end.
pub fn load(o: Options, now: u64) -> Result<(Persistence, Model), PersistError> {
    let (p, loader) = Persistence::open(o, now)?;
    let mut m = Model::new();
    for rec in loader {
        apply(&mut m, rec?);
    }
    Ok((p, m))
}

pub fn set(k: &str, v: &str) -> Record {
    Record::Set {
        key: Bytes::copy_from_slice(k.as_bytes()),
        value: Value::Str(Bytes::copy_from_slice(v.as_bytes())),
        expire_at_ms: None,
        meta: SetMeta::default(),
    }
}

pub fn del(k: &str) -> Record {
    Record::Del {
        key: Bytes::copy_from_slice(k.as_bytes()),
    }
}

pub fn as_records(m: &Model) -> impl Iterator<Item = Record> + '_ {
    m.iter().map(|(k, (v, e))| Record::Set {
        key: k.clone(),
        value: v.clone(),
        expire_at_ms: *e,
        meta: SetMeta::default(),
    })
}

pub fn rt() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

/// Waits until `lsn` is durable. The bound turns a lost wake-up into a failure, not a hang.
pub fn durable_on(rt: &Runtime, p: &Persistence, lsn: Lsn) -> Result<(), PersistError> {
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(10), p.durable(lsn))
            .await
            .expect("durable() did not resolve within 10 s")
    })
}

pub fn durable(p: &Persistence, lsn: Lsn) -> Result<(), PersistError> {
    durable_on(&rt(), p, lsn)
}
