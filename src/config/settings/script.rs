//! The scripting setting: how long a script runs before other clients are told `-BUSY`.
//!
//! A row of `SETTINGS` (Redis 7.0's name, default and bounds); `lua-time-limit`, its old name,
//! is an alias.

use super::super::values;
use super::Setting;
use std::time::Duration;

pub const BUSY_REPLY_THRESHOLD: Setting = Setting {
    name: "busy-reply-threshold",
    flag: true,
    env: "LLMCACHED_BUSY_REPLY_THRESHOLD",
    value_name: "MILLISECONDS",
    default: "5000",
    help: "After a script has run this many milliseconds, other clients get -BUSY instead of waiting, and SCRIPT KILL may stop it (lua-time-limit is another name for it).",
    mutable: true,
    apply: |c, v| {
        let ms: u64 = values::int(v, 0, i64::MAX as i128)?;
        c.busy_reply_threshold = Duration::from_millis(ms);
        Ok(())
    },
    show: |c| values::show(c.busy_reply_threshold.as_millis() as u64),
};
