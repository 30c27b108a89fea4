//! The `databases` setting: how many numbered databases SELECT can reach.
//!
//! A row of `SETTINGS`, with Redis 7.0's name, default and bounds. It is fixed at start, as in
//! Redis (CONFIG SET refuses it).

use super::super::values;
use super::Setting;

pub const DATABASES: Setting = Setting {
    name: "databases",
    flag: true,
    env: "LLMCACHED_DATABASES",
    value_name: "N",
    default: "16",
    help: "Number of databases (SELECT 0 to N-1). All of them share one store and one byte budget.",
    mutable: false,
    apply: |c, v| {
        c.databases = values::int(v, 1, i32::MAX as i128)?;
        Ok(())
    },
    show: |c| values::show(c.databases as u64),
};
