//! Engine status for `INFO persistence`, with Redis 7's field names.

use super::{FsyncPolicy, LoadProgress};

/// A snapshot of the engine's state; see [`Status::info_fields`] for the INFO rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub aof_enabled: bool,
    pub fsync: FsyncPolicy,
    /// The loader has not finished yet.
    pub loading: bool,
    /// Loading progress: live while loading, final figures afterwards.
    pub load: LoadProgress,
    /// Unix ms when loading started.
    pub load_started_ms: u64,
    pub rewrite_in_progress: bool,
    /// Unix ms when the running rewrite started (as passed to `rewrite`).
    pub rewrite_started_ms: Option<u64>,
    /// Outcome of the last rewrite/snapshot (true before the first).
    pub last_rewrite_ok: bool,
    /// Duration of the last rewrite/snapshot.
    pub last_rewrite_took_ms: Option<u64>,
    /// Successful rewrites/snapshots since startup.
    pub rewrites: u64,
    /// Failed attempts since the last success.
    pub rewrite_failures_in_a_row: u64,
    /// The last rewrite failed and will be retried after a backoff.
    pub rewrite_scheduled: bool,
    /// False while the log is not whole: a write or fsync failed and no base has repaired it
    /// yet, or fail-stop.
    pub last_write_ok: bool,
    /// The log is broken and a base written from memory would repair it (the server's
    /// maintenance writes one; writes are refused until then).
    pub needs_base: bool,
    /// What failed, with its path (for logs; never sent to clients).
    pub fail_reason: Option<String>,
    /// Unix ms of the last successful snapshot/rewrite, or of startup.
    pub last_save_ms: u64,
    pub changes_since_last_save: u64,
    /// Bytes of base plus log segments on disk.
    pub current_size: u64,
    pub base_size: u64,
}

fn flag(b: bool) -> String {
    if b { "1" } else { "0" }.to_owned()
}

fn ok(b: bool) -> String {
    if b { "ok" } else { "err" }.to_owned()
}

fn secs(ms: Option<u64>) -> String {
    ms.map_or_else(|| "-1".to_owned(), |m| (m / 1000).to_string())
}

impl Status {
    /// The `INFO persistence` fields this engine can answer, in Redis's order, given the
    /// current time. One rewrite serves both BGSAVE and BGREWRITEAOF, so the `rdb_*` and
    /// `aof_*` twins report the same operation. Fields about fork and copy-on-write are left
    /// to the caller (Redis reports 0 for them without a fork).
    pub fn info_fields(&self, now_ms: u64) -> Vec<(&'static str, String)> {
        let current = self.rewrite_started_ms.map(|t| now_ms.saturating_sub(t));
        let mut f = vec![
            ("loading", flag(self.loading)),
            ("async_loading", "0".to_owned()),
            (
                "rdb_changes_since_last_save",
                self.changes_since_last_save.to_string(),
            ),
            ("rdb_bgsave_in_progress", flag(self.rewrite_in_progress)),
            ("rdb_last_save_time", (self.last_save_ms / 1000).to_string()),
            ("rdb_last_bgsave_status", ok(self.last_rewrite_ok)),
            ("rdb_last_bgsave_time_sec", secs(self.last_rewrite_took_ms)),
            ("rdb_current_bgsave_time_sec", secs(current)),
            ("rdb_saves", self.rewrites.to_string()),
            ("rdb_last_load_keys_expired", self.load.expired.to_string()),
            ("rdb_last_load_keys_loaded", self.load.records.to_string()),
            ("aof_enabled", flag(self.aof_enabled)),
            ("aof_rewrite_in_progress", flag(self.rewrite_in_progress)),
            ("aof_rewrite_scheduled", flag(self.rewrite_scheduled)),
            ("aof_last_rewrite_time_sec", secs(self.last_rewrite_took_ms)),
            ("aof_current_rewrite_time_sec", secs(current)),
            ("aof_last_bgrewrite_status", ok(self.last_rewrite_ok)),
            ("aof_rewrites", self.rewrites.to_string()),
            (
                "aof_rewrites_consecutive_failures",
                self.rewrite_failures_in_a_row.to_string(),
            ),
            ("aof_last_write_status", ok(self.last_write_ok)),
        ];
        if self.aof_enabled {
            f.push(("aof_current_size", self.current_size.to_string()));
            f.push(("aof_base_size", self.base_size.to_string()));
        }
        if self.loading {
            let total = self.load.bytes_total;
            let done = self.load.bytes_done;
            let perc = if total == 0 {
                0.0
            } else {
                done as f64 * 100.0 / total as f64
            };
            f.push((
                "loading_start_time",
                (self.load_started_ms / 1000).to_string(),
            ));
            f.push(("loading_total_bytes", total.to_string()));
            f.push(("loading_loaded_bytes", done.to_string()));
            f.push(("loading_loaded_perc", format!("{perc:.2}")));
        }
        f
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn info_fields_use_redis_names_and_formats() {
        let st = Status {
            aof_enabled: true,
            fsync: FsyncPolicy::EverySec,
            loading: false,
            load: LoadProgress::default(),
            load_started_ms: 0,
            rewrite_in_progress: true,
            rewrite_started_ms: Some(10_000),
            last_rewrite_ok: false,
            last_rewrite_took_ms: None,
            rewrites: 2,
            rewrite_failures_in_a_row: 1,
            rewrite_scheduled: true,
            last_write_ok: false,
            needs_base: true,
            fail_reason: None,
            last_save_ms: 1_700_000_000_999,
            changes_since_last_save: 7,
            current_size: 300,
            base_size: 100,
        };
        let f: std::collections::HashMap<_, _> = st.info_fields(13_500).into_iter().collect();
        assert_eq!(f["rdb_last_save_time"], "1700000000");
        assert_eq!(f["aof_last_bgrewrite_status"], "err");
        assert_eq!(f["aof_last_rewrite_time_sec"], "-1");
        assert_eq!(f["aof_current_rewrite_time_sec"], "3");
        assert_eq!(f["aof_rewrite_in_progress"], "1");
        assert_eq!(f["aof_current_size"], "300");
        assert_eq!(f["rdb_changes_since_last_save"], "7");
        assert_eq!(f["rdb_last_bgsave_status"], "err");
        assert_eq!(f["aof_rewrite_scheduled"], "1");
        assert_eq!(f["aof_rewrites_consecutive_failures"], "1");
        assert_eq!(f["aof_last_write_status"], "err");
        assert!(!f.contains_key("loading_total_bytes"));
    }
}
