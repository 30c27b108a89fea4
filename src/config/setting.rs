//! [`Setting`]: one row of the settings table (the table itself is the `settings` module).

use super::values::Reason;
use super::{Config, SettingError};
use std::fmt;

/// One setting. The value functions are private so that every change goes through
/// [`Setting::apply`] (which names the setting in its error).
pub struct Setting {
    /// The Redis name, lowercase: the redis.conf directive, the CONFIG parameter and the flag.
    pub name: &'static str,
    /// True when the setting can be given at start (`--<name>`, [`Setting::env`], a config
    /// file directive); false for a value that CONFIG GET only reports (`databases`).
    pub flag: bool,
    /// `LLMCACHED_<NAME>`, `-` written `_` (empty when `flag` is false).
    pub env: &'static str,
    /// The placeholder `--help` shows: `--port <PORT>`.
    pub value_name: &'static str,
    /// The default, spelled as a value of this setting (applying it gives `Config::default()`).
    pub default: &'static str,
    /// One paragraph of plain text, for `--help` and the README (no backticks, no `|`).
    pub help: &'static str,
    /// Whether CONFIG SET may change it while the server runs (as in Redis 7.0 where Redis has it).
    pub mutable: bool,
    pub(super) apply: fn(&mut Config, &[u8]) -> Result<(), Reason>,
    pub(super) show: fn(&Config) -> Vec<u8>,
}

impl Setting {
    /// Parses `value` and stores it in `config`, whether or not the setting is mutable (start-up
    /// sources use this; CONFIG SET goes through [`Config::set`]). On error `config` is unchanged.
    pub fn apply(&self, config: &mut Config, value: &[u8]) -> Result<(), SettingError> {
        (self.apply)(config, value).map_err(|reason| SettingError::BadValue {
            name: self.name,
            reason,
        })
    }

    /// The value as CONFIG GET shows it.
    pub fn show(&self, config: &Config) -> Vec<u8> {
        (self.show)(config)
    }
}

impl fmt::Debug for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Setting").field("name", &self.name).finish()
    }
}
