//! Compression dictionaries: one per key prefix, trained with zstd's dictionary builder from
//! the first values stored under that prefix.
//!
//! A prefix's sampler keeps up to [`SAMPLE_BYTES`] of each value long enough to compress,
//! until it holds [`TRAIN_SAMPLES`] samples or [`TRAIN_BYTES`] bytes; then a thread trains a
//! dictionary of at most [`DICT_BYTES`] from them, and the values stored under the prefix after
//! it is published are compressed with it (those stored before keep their dictionary-less
//! frames). A prefix is trained once: after a success or a failure it samples no more.
//!
//! Memory is bounded: at most [`MAX_SAMPLERS`] prefixes sample at once (a new prefix takes the
//! place of the one with the fewest samples), and at most [`MAX_DICTS`] dictionaries exist.

use bytes::Bytes;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use zstd::zstd_safe::{CDict, DDict};

/// Longest key prefix a dictionary is chosen by.
pub const MAX_PREFIX: usize = 64;
/// Most dictionaries a store holds (each about 64 KB, plus zstd's prepared tables).
pub const MAX_DICTS: usize = 64;
/// Largest dictionary trained. At 2 KB answers, 64 KB gives about 3.5x where 16 KB gives
/// 2.9x (zstd CLI on the benchmark's answers, level 3).
pub const DICT_BYTES: usize = 64 * 1024;
/// Samples a prefix collects before it is trained.
pub const TRAIN_SAMPLES: usize = 512;
/// Bytes of samples a prefix collects before it is trained, whatever their number.
pub const TRAIN_BYTES: usize = 1024 * 1024;
/// Bytes of one value kept as a sample (its beginning).
pub const SAMPLE_BYTES: usize = 4096;
/// Prefixes sampling at once.
pub const MAX_SAMPLERS: usize = 16;
/// zstd's dictionary magic number, little-endian, followed by the dictionary id (u32 LE).
const DICT_MAGIC: [u8; 4] = [0x37, 0xA4, 0x30, 0xEC];

/// One dictionary, prepared for compressing (at [`super::LEVEL`]) and decompressing.
pub struct Dict {
    id: u32,
    prefix: Bytes,
    raw: Bytes,
    cdict: CDict<'static>,
    ddict: DDict<'static>,
}

impl Dict {
    /// A dictionary from its bytes, which must carry `id` in their header (see [`set_id`]):
    /// frames compressed with it name it by that id.
    pub fn new(id: u32, prefix: Bytes, raw: Bytes) -> Result<Dict, String> {
        if raw.len() < 8 || raw[..4] != DICT_MAGIC || raw[4..8] != id.to_le_bytes() {
            return Err(format!("dictionary {id} does not carry its id"));
        }
        let cdict = CDict::try_create(&raw, super::LEVEL)
            .ok_or_else(|| format!("zstd refused dictionary {id}"))?;
        let ddict =
            DDict::try_create(&raw).ok_or_else(|| format!("zstd refused dictionary {id}"))?;
        Ok(Dict {
            id,
            prefix,
            raw,
            cdict,
            ddict,
        })
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    pub fn prefix(&self) -> &Bytes {
        &self.prefix
    }

    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    pub fn cdict(&self) -> &CDict<'static> {
        &self.cdict
    }

    pub fn ddict(&self) -> &DDict<'static> {
        &self.ddict
    }
}

/// Writes `id` into a trained dictionary's header, so frames name it by our id (one byte in
/// each frame below 256) rather than the random 32-bit one the trainer picks.
pub fn set_id(raw: &mut [u8], id: u32) -> Result<(), String> {
    if raw.len() < 8 || raw[..4] != DICT_MAGIC {
        return Err("the trainer made a dictionary without a header".into());
    }
    raw[4..8].copy_from_slice(&id.to_le_bytes());
    Ok(())
}

/// Every dictionary, by id and by prefix. Replaced whole when one is added (rarely: at most
/// [`MAX_DICTS`] times), read without locks.
#[derive(Default)]
pub struct Dicts {
    by_id: HashMap<u32, Arc<Dict>>,
    by_prefix: HashMap<Bytes, Arc<Dict>>,
    /// Ids in the order they were added.
    order: Vec<u32>,
}

impl Dicts {
    pub fn by_id(&self, id: u32) -> Option<&Arc<Dict>> {
        self.by_id.get(&id)
    }

    pub fn for_prefix(&self, prefix: &[u8]) -> Option<&Arc<Dict>> {
        if self.by_prefix.is_empty() {
            return None;
        }
        self.by_prefix.get(prefix)
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<Dict>> {
        self.order.iter().filter_map(|id| self.by_id.get(id))
    }

    /// The id a new dictionary gets: past every id held (loaded ones included).
    pub fn next_id(&self) -> u32 {
        self.order.iter().max().map_or(1, |m| m + 1)
    }

    /// These dictionaries and `d`. A prefix keeps its first dictionary.
    pub fn with(&self, d: Arc<Dict>) -> Dicts {
        let mut by_id = self.by_id.clone();
        let mut by_prefix = self.by_prefix.clone();
        let mut order = self.order.clone();
        by_prefix
            .entry(d.prefix.clone())
            .or_insert_with(|| d.clone());
        order.push(d.id);
        by_id.insert(d.id, d);
        Dicts {
            by_id,
            by_prefix,
            order,
        }
    }
}

/// Samples gathered for one prefix.
#[derive(Default)]
pub struct SampleSet {
    data: Vec<u8>,
    sizes: Vec<usize>,
}

impl SampleSet {
    fn full(&self) -> bool {
        self.sizes.len() >= TRAIN_SAMPLES || self.data.len() >= TRAIN_BYTES
    }

    /// Trains a dictionary from the samples (slow: run it off the event loop).
    pub fn train(self) -> Result<Vec<u8>, String> {
        zstd::dict::from_continuous(&self.data, &self.sizes, DICT_BYTES).map_err(|e| e.to_string())
    }
}

/// The prefixes sampling now, and those done with it.
#[derive(Default)]
pub struct Samplers {
    open: HashMap<Bytes, SampleSet>,
    settled: HashSet<Bytes>,
}

impl Samplers {
    /// Whether `prefix` samples no more (trained, training, or failed).
    pub fn settled(&self, prefix: &[u8]) -> bool {
        self.settled.contains(prefix)
    }

    /// Adds a sample of `value` to `prefix`'s set; the set, once full, to be trained.
    pub fn add(&mut self, prefix: &[u8], value: &[u8]) -> Option<(Bytes, SampleSet)> {
        if !self.open.contains_key(prefix) && self.open.len() >= MAX_SAMPLERS {
            let smallest = self
                .open
                .iter()
                .min_by_key(|(_, s)| s.data.len())
                .map(|(p, _)| p.clone());
            if let Some(p) = smallest {
                self.open.remove(&p);
            }
        }
        let set = self.open.entry(Bytes::copy_from_slice(prefix)).or_default();
        let take = &value[..value.len().min(SAMPLE_BYTES)];
        set.data.extend_from_slice(take);
        set.sizes.push(take.len());
        if !set.full() {
            return None;
        }
        let (prefix, set) = self.open.remove_entry(prefix)?;
        self.settled.insert(prefix.clone());
        Some((prefix, set))
    }
}
