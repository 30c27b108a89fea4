//! ACL files and `user` lines of the config file, read and written as Redis 7.0 does.
//!
//! An aclfile holds one `user <name> <rules...>` per line; blank lines are skipped and every
//! other line (comments included, as in Redis) is an error. All errors of a file are collected
//! and reported together, in Redis's words, and nothing is applied unless the whole file is
//! good. `ACL SAVE` writes `ACL LIST`'s lines to a temporary file and renames it into place.

use super::{valid_name, Catalogue, RuleError, User};
use crate::protocol::split::split_args;
use std::path::Path;

/// Redis's suffix of a refused load.
pub const NO_CHANGE: &str =
    "WARNING: ACL errors detected, no change to the previously active ACL rules was performed";

/// Parses an aclfile's text (`file` names it in errors). The error is Redis's whole message.
pub fn parse(text: &[u8], file: &str, catalogue: &Catalogue) -> Result<Vec<User>, String> {
    let mut errors = String::new();
    let mut users: Vec<User> = Vec::new();
    for (n, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line = n + 1;
        let trimmed = raw.trim_ascii();
        if trimmed.is_empty() {
            continue;
        }
        let Ok(words) = split_args(trimmed) else {
            errors.push_str(&format!("{file}:{line}: unbalanced quotes in acl line. "));
            continue;
        };
        if words.len() < 2 || !words[0].eq_ignore_ascii_case(b"user") {
            errors.push_str(&format!(
                "{file}:{line} should start with user keyword followed by the username. "
            ));
            continue;
        }
        if !valid_name(&words[1]) {
            errors.push_str(&format!(
                "{file}:{line}: username '{}' contains invalid characters. ",
                String::from_utf8_lossy(&words[1])
            ));
            continue;
        }
        let name = String::from_utf8_lossy(&words[1]).into_owned();
        if users.iter().any(|u| u.name == name) {
            errors.push_str(&format!(
                "WARNING: Duplicate user '{name}' found on line {line}. "
            ));
            continue;
        }
        let mut u = User::new(&name, catalogue);
        for rule in &words[2..] {
            if let Err(e) = u.apply(rule, catalogue) {
                let op = String::from_utf8_lossy(rule);
                let msg = match e {
                    RuleError::UnknownCommand => {
                        format!("Error in applying operation '{op}': {}", e.reason())
                    }
                    _ => e.reason().to_string(),
                };
                errors.push_str(&format!("{file}:{line}: {msg}. "));
            }
        }
        users.push(u);
    }
    if errors.is_empty() {
        Ok(users)
    } else {
        Err(format!("{errors}{NO_CHANGE}"))
    }
}

/// Reads and parses the aclfile at `path`.
pub fn load(path: &Path, catalogue: &Catalogue) -> Result<Vec<User>, String> {
    let text = std::fs::read(path)
        .map_err(|e| format!("Error loading ACLs, opening file '{}': {e}", path.display()))?;
    parse(&text, &path.display().to_string(), catalogue)
}

/// Writes `lines` to `path` through a temporary file in the same directory, then renames it.
pub fn save(path: &Path, lines: &[String]) -> std::io::Result<()> {
    let mut text = lines.join("\n");
    text.push('\n');
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

/// Applies the config file's `user` lines (each a list of words after `user`), in order.
/// A user defined twice is refused, as Redis does.
pub fn from_config_lines(
    lines: &[Vec<Vec<u8>>],
    catalogue: &Catalogue,
) -> Result<Vec<User>, String> {
    let mut users: Vec<User> = Vec::new();
    for words in lines {
        let Some((name, rules)) = words.split_first() else {
            return Err("Error in user declaration: a user line needs a name".into());
        };
        let shown = String::from_utf8_lossy(name).into_owned();
        if !valid_name(name) {
            return Err(format!(
                "Error in user declaration '{shown}': Usernames can't contain spaces or null characters"
            ));
        }
        if users.iter().any(|u| u.name == shown) {
            return Err(format!("Error in user declaration '{shown}': Duplicate user found. A user can only be defined once in config files"));
        }
        let mut u = User::new(&shown, catalogue);
        for r in rules {
            u.apply(r, catalogue).map_err(|e| {
                format!(
                    "Error in user declaration '{shown}': Error in ACL SETUSER modifier '{}': {}",
                    String::from_utf8_lossy(r),
                    e.reason()
                )
            })?;
        }
        users.push(u);
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_with_errors_reports_them_all_as_redis_does() {
        let text =
            b"user alice on >pw ~a:*\n\n# comment\nuser bob on nosuch\nuser alice on\nuser\n";
        let e = parse(text, "u.acl", &Catalogue::default()).unwrap_err();
        assert_eq!(
            e,
            "u.acl:3 should start with user keyword followed by the username. \
             u.acl:4: Syntax error. WARNING: Duplicate user 'alice' found on line 5. \
             u.acl:6 should start with user keyword followed by the username. \
             WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
        );
        let users = parse(
            b"user alice on >pw ~a:*\r\n\nuser default on nopass\n",
            "u.acl",
            &Catalogue::default(),
        )
        .unwrap();
        assert_eq!(users.len(), 2);
        assert!(users[0].password_ok(b"pw"));
    }

    #[test]
    fn save_then_load_gives_the_same_users() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.acl");
        let c = Catalogue::default();
        let lines = vec!["user a on nopass ~x:* resetchannels -@all".to_string()];
        save(&path, &lines).unwrap();
        let users = load(&path, &c).unwrap();
        assert_eq!(users[0].describe(&c), lines[0]);
        assert!(load(&dir.path().join("missing"), &c).is_err());
    }

    #[test]
    fn config_lines_refuse_duplicates() {
        let line = |w: &[&str]| w.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();
        let c = Catalogue::default();
        let e = from_config_lines(&[line(&["y", "on"]), line(&["y", "off"])], &c).unwrap_err();
        assert_eq!(e, "Error in user declaration 'y': Duplicate user found. A user can only be defined once in config files");
        assert_eq!(
            from_config_lines(&[line(&["y", "on", "~k"])], &c)
                .unwrap()
                .len(),
            1
        );
    }
}
