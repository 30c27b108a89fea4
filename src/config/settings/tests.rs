//! The settings table's own rules: names, environment variables, defaults.

use super::*;

#[test]
fn every_flag_has_its_llmcached_environment_variable() {
    for s in SETTINGS {
        let want = if s.flag {
            format!(
                "LLMCACHED_{}",
                s.name.to_ascii_uppercase().replace('-', "_")
            )
        } else {
            String::new()
        };
        assert_eq!(s.env, want, "{}", s.name);
    }
}

#[test]
fn names_are_unique_lowercase_and_help_is_plain_text() {
    for (i, s) in SETTINGS.iter().enumerate() {
        assert_eq!(s.name, s.name.to_ascii_lowercase());
        assert!(SETTINGS[..i].iter().all(|o| o.name != s.name), "{}", s.name);
        assert!(!s.help.contains(['`', '|', '\n']), "{}", s.name);
    }
}

#[test]
fn applying_every_default_gives_config_default() {
    let base = format!("{:?}", Config::default());
    for s in SETTINGS {
        let mut c = Config::default();
        s.apply(&mut c, s.default.as_bytes()).unwrap();
        assert_eq!(format!("{c:?}"), base, "{}", s.name);
        assert_eq!(s.show(&c), s.default_shown(), "{}", s.name);
    }
}

impl Setting {
    /// The default as CONFIG GET shows it (sizes in bytes).
    fn default_shown(&self) -> Vec<u8> {
        match values::memory(self.default.as_bytes()) {
            Ok(n) if self.value_name == "BYTES" => n.to_string().into_bytes(),
            _ => self.default.as_bytes().to_vec(),
        }
    }
}

#[test]
fn find_ignores_case() {
    assert_eq!(find("MaxMemory").map(|s| s.name), Some("maxmemory"));
    assert!(find("frobnicate").is_none());
}

#[test]
fn lua_time_limit_is_busy_reply_threshold() {
    assert_eq!(
        find("LUA-TIME-LIMIT").map(|s| s.name),
        Some("busy-reply-threshold")
    );
}
