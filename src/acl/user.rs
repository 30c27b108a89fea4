//! One ACL user and Redis 7.0's rules that change it (`ACL SETUSER`, `user` lines, aclfiles).
//!
//! # Rules
//! `on`, `off`, `nopass`, `resetpass`, `>pass`, `<pass`, `#sha256`, `!sha256`, `~pattern`,
//! `%R~pattern`, `%W~pattern`, `%RW~pattern`, `allkeys`, `resetkeys`, `&pattern`,
//! `allchannels`, `resetchannels`, `+cmd`, `-cmd`, `+cmd|sub`, `-cmd|sub`, `+@cat`, `-@cat`,
//! `allcommands`, `nocommands`, `reset`, `sanitize-payload`, `skip-sanitize-payload`,
//! `clearselectors`. Channel rules are kept (so ACL files from Redis load and `ACL LIST` gives
//! them back) and have no effect: there is no pub/sub. Selectors `(...)` are refused.
//!
//! Two deliberate departures from 7.0.15: `%R` or `%RW` without `~` is a syntax error (7.0.15
//! stores an empty pattern, CVE-2024-51741), and `+cmd|arg` for a command without subcommands
//! (7.0's deprecated first-argument rules) is an unknown-command error.
//!
//! Commands are a bitmap over the command table's rows plus Redis's reserved bit for "commands
//! added later", which only `+@all` sets.

use super::catalogue::Catalogue;
use super::{keys_match, READ, WRITE};
use sha2::{Digest, Sha256};

/// A key pattern and the access it grants ([`READ`], [`WRITE`] or both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPattern {
    pub perm: u8,
    pub pattern: Vec<u8>,
}

/// One user. Changed only as a whole: a change builds a new `User` and swaps it in.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub enabled: bool,
    pub nopass: bool,
    /// `Some(true)` after `sanitize-payload` or `reset`, `Some(false)` after `skip-...`.
    pub(super) sanitize_payload: Option<bool>,
    /// SHA-256 of each password, in the order added.
    pub passwords: Vec<[u8; 32]>,
    /// One bit per command-table row, then the future-commands bit.
    pub(super) commands: Vec<u64>,
    /// Every command allowed and nothing removed since `+@all`: the fast path.
    pub all_commands: bool,
    pub all_keys: bool,
    pub patterns: Vec<KeyPattern>,
    pub(super) all_channels: bool,
    pub(super) channels: Vec<Vec<u8>>,
}

/// Why a rule was refused: the reason Redis gives after `Error in ACL SETUSER modifier '<op>': `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleError {
    Syntax,
    UnknownCommand,
    PatternAfterAllKeys,
    PatternAfterAllChannels,
    NoSuchPassword,
    BadHash,
    SubcommandFirstArg,
}

/// SHA-256 of a password.
pub fn hash_password(pass: &[u8]) -> [u8; 32] {
    Sha256::digest(pass).into()
}

pub(super) fn hex(h: &[u8; 32]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hash(hex: &[u8]) -> Result<[u8; 32], RuleError> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    if hex.len() != 64 {
        return Err(RuleError::BadHash);
    }
    let mut out = [0u8; 32];
    for (i, pair) in hex.chunks(2).enumerate() {
        let (hi, lo) = digit(pair[0])
            .zip(digit(pair[1]))
            .ok_or(RuleError::BadHash)?;
        out[i] = hi << 4 | lo;
    }
    Ok(out)
}

impl User {
    /// A new user as Redis creates one: `off resetchannels -@all`, no keys, no password.
    pub fn new(name: &str, catalogue: &Catalogue) -> User {
        User {
            name: name.to_string(),
            enabled: false,
            nopass: false,
            sanitize_payload: None,
            passwords: Vec::new(),
            commands: vec![0; catalogue.rows.len() / 64 + 1],
            all_commands: false,
            all_keys: false,
            patterns: Vec::new(),
            all_channels: false,
            channels: Vec::new(),
        }
    }

    /// The `default` user: `on nopass ~* &* +@all`, or with `password` instead of `nopass`.
    pub fn default_user(catalogue: &Catalogue, password: Option<&[u8]>) -> User {
        let mut u = User::new("default", catalogue);
        for rule in [&b"on"[..], b"~*", b"&*", b"+@all"] {
            let _ = u.apply(rule, catalogue);
        }
        match password {
            Some(p) => u.passwords.push(hash_password(p)),
            None => u.nopass = true,
        }
        u
    }

    pub(super) fn future_bit(&self) -> usize {
        self.commands.len() * 64 - 1
    }

    pub(super) fn bit(&self, i: usize) -> bool {
        self.commands
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn set_bit(&mut self, i: usize, on: bool) {
        if let Some(w) = self.commands.get_mut(i / 64) {
            if on {
                *w |= 1 << (i % 64);
            } else {
                *w &= !(1 << (i % 64));
                self.all_commands = false;
            }
        }
    }

    /// May this user run the row `index`? (Keys are checked apart.)
    pub fn may_run(&self, index: usize) -> bool {
        self.all_commands || (index < self.future_bit() && self.bit(index))
    }

    /// May this user access `key` with `perm` ([`READ`], [`WRITE`], both, or 0 for neither)?
    pub fn may_access(&self, key: &[u8], perm: u8) -> bool {
        self.all_keys
            || self
                .patterns
                .iter()
                .any(|p| p.perm & perm == perm && keys_match(&p.pattern, key))
    }

    /// True when a password matches (or the user is `nopass`). Constant time per stored hash.
    pub fn password_ok(&self, pass: &[u8]) -> bool {
        if self.nopass {
            return true;
        }
        let h = hash_password(pass);
        let mut ok = false;
        for p in &self.passwords {
            ok |= p.iter().zip(&h).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        }
        ok
    }

    /// Allows or denies one row; a container's subcommands follow it (Redis's
    /// `ACLChangeSelectorPerm`).
    pub(super) fn change_perm(&mut self, index: usize, on: bool, catalogue: &Catalogue) {
        self.set_bit(index, on);
        if let Some(row) = catalogue.rows.get(index) {
            for &c in &row.children {
                self.set_bit(c, on);
            }
        }
    }

    pub(super) fn set_category(&mut self, bit: u32, on: bool, catalogue: &Catalogue) {
        let rows: Vec<usize> = catalogue.in_category(bit).collect();
        for i in rows {
            self.set_bit(i, on);
        }
    }

    pub(super) fn all(&mut self, on: bool) {
        for w in &mut self.commands {
            *w = if on { u64::MAX } else { 0 };
        }
        self.all_commands = on;
    }

    /// Applies one rule. On error the user may be half changed: callers apply rules to a copy.
    pub fn apply(&mut self, rule: &[u8], catalogue: &Catalogue) -> Result<(), RuleError> {
        let lower = rule.to_ascii_lowercase();
        match lower.as_slice() {
            b"on" => self.enabled = true,
            b"off" => self.enabled = false,
            b"nopass" => {
                self.nopass = true;
                self.passwords.clear();
            }
            b"resetpass" => {
                self.nopass = false;
                self.passwords.clear();
            }
            b"sanitize-payload" => self.sanitize_payload = Some(true),
            b"skip-sanitize-payload" => self.sanitize_payload = Some(false),
            b"allkeys" | b"~*" => {
                self.all_keys = true;
                self.patterns.clear();
            }
            b"resetkeys" => {
                self.all_keys = false;
                self.patterns.clear();
            }
            b"allchannels" | b"&*" => {
                self.all_channels = true;
                self.channels.clear();
            }
            b"resetchannels" => {
                self.all_channels = false;
                self.channels.clear();
            }
            b"allcommands" | b"+@all" => self.all(true),
            b"nocommands" | b"-@all" => self.all(false),
            b"clearselectors" => {}
            b"reset" => {
                for r in [
                    &b"resetpass"[..],
                    b"resetkeys",
                    b"resetchannels",
                    b"off",
                    b"sanitize-payload",
                    b"-@all",
                ] {
                    self.apply(r, catalogue)?;
                }
            }
            _ => self.apply_prefixed(rule, catalogue)?,
        }
        Ok(())
    }

    fn apply_prefixed(&mut self, rule: &[u8], catalogue: &Catalogue) -> Result<(), RuleError> {
        let (first, rest) = rule.split_first().ok_or(RuleError::Syntax)?;
        match first {
            b'>' => {
                let h = hash_password(rest);
                if !self.passwords.contains(&h) {
                    self.passwords.push(h);
                }
                self.nopass = false;
            }
            b'#' => {
                let h = parse_hash(rest)?;
                if !self.passwords.contains(&h) {
                    self.passwords.push(h);
                }
                self.nopass = false;
            }
            b'<' | b'!' => {
                let h = if *first == b'<' {
                    hash_password(rest)
                } else {
                    parse_hash(rest)?
                };
                let before = self.passwords.len();
                self.passwords.retain(|p| *p != h);
                if self.passwords.len() == before {
                    return Err(RuleError::NoSuchPassword);
                }
            }
            b'~' | b'%' => self.add_pattern(rule)?,
            b'&' => {
                if self.all_channels {
                    return Err(RuleError::PatternAfterAllChannels);
                }
                if !self.channels.iter().any(|c| c == rest) {
                    self.channels.push(rest.to_vec());
                }
            }
            b'+' | b'-' => self.command_rule(*first == b'+', rest, catalogue)?,
            _ => return Err(RuleError::Syntax),
        }
        Ok(())
    }

    fn add_pattern(&mut self, rule: &[u8]) -> Result<(), RuleError> {
        if self.all_keys {
            return Err(RuleError::PatternAfterAllKeys);
        }
        let (perm, pattern) = if rule[0] == b'~' {
            (READ | WRITE, &rule[1..])
        } else {
            let tilde = rule
                .iter()
                .position(|&c| c == b'~')
                .ok_or(RuleError::Syntax)?;
            let mut perm = 0;
            for &c in &rule[1..tilde] {
                let bit = match c.to_ascii_uppercase() {
                    b'R' => READ,
                    b'W' => WRITE,
                    _ => return Err(RuleError::Syntax),
                };
                if perm & bit != 0 {
                    return Err(RuleError::Syntax);
                }
                perm |= bit;
            }
            if perm == 0 {
                return Err(RuleError::Syntax);
            }
            (perm, &rule[tilde + 1..])
        };
        if pattern == b"*" && perm == READ | WRITE {
            self.all_keys = true;
            self.patterns.clear();
            return Ok(());
        }
        match self.patterns.iter_mut().find(|p| p.pattern == pattern) {
            Some(p) => p.perm |= perm,
            None => self.patterns.push(KeyPattern {
                perm,
                pattern: pattern.to_vec(),
            }),
        }
        Ok(())
    }

    fn command_rule(
        &mut self,
        on: bool,
        name: &[u8],
        catalogue: &Catalogue,
    ) -> Result<(), RuleError> {
        if let Some(cat) = name.strip_prefix(b"@") {
            let bit = catalogue.category(cat).ok_or(RuleError::UnknownCommand)?;
            self.set_category(bit, on, catalogue);
            return Ok(());
        }
        if let Some(bar) = name.iter().position(|&c| c == b'|') {
            let container = catalogue
                .find(&name[..bar])
                .ok_or(RuleError::UnknownCommand)?;
            if catalogue.rows[container].parent.is_some() {
                return Err(RuleError::SubcommandFirstArg);
            }
            if bar + 1 == name.len() {
                return Err(RuleError::Syntax);
            }
        }
        let index = catalogue.find(name).ok_or(RuleError::UnknownCommand)?;
        self.change_perm(index, on, catalogue);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::catalogue::Row;

    /// get/set in @string, client with two subcommands, ping in @connection.
    fn cat() -> Catalogue {
        let row = |name, categories, parent, children| Row {
            name,
            categories,
            parent,
            children,
        };
        Catalogue {
            rows: vec![
                row("get", 1 | 4, None, vec![]),
                row("set", 2 | 4, None, vec![]),
                row("client", 0, None, vec![3, 4]),
                row("client|list", 8, Some(2), vec![]),
                row("client|setname", 8, Some(2), vec![]),
                row("ping", 8, None, vec![]),
            ],
            categories: vec![
                ("read", 1),
                ("write", 2),
                ("string", 4),
                ("connection", 8),
                ("list", 0),
            ],
        }
    }

    fn user(rules: &[&str]) -> Result<User, RuleError> {
        let c = cat();
        let mut u = User::new("u", &c);
        for r in rules {
            u.apply(r.as_bytes(), &c)?;
        }
        Ok(u)
    }

    #[test]
    fn new_and_default_users_describe_as_redis() {
        let c = cat();
        assert_eq!(
            User::new("bob", &c).describe(&c),
            "user bob off resetchannels -@all"
        );
        assert_eq!(
            User::default_user(&c, None).describe(&c),
            "user default on nopass ~* &* +@all"
        );
    }

    #[test]
    fn commands_are_described_by_best_fitting_categories() {
        let c = cat();
        let u = user(&["+@string", "-set", "+client|list"]).unwrap();
        // Redis's best fit: @read holds only get here, so it fits better than @string.
        assert_eq!(u.describe_commands(&c), "-@all +@read +client|list");
        assert!(u.may_run(0) && !u.may_run(1) && u.may_run(3) && !u.may_run(4));
        let u = user(&["+@all", "-client", "+client|setname"]).unwrap();
        assert_eq!(u.describe_commands(&c), "+@all -client +client|setname");
        assert!(!u.all_commands && u.may_run(0) && !u.may_run(3));
        assert!(user(&["+@all"]).unwrap().all_commands);
        assert!(
            user(&["+@list"]).is_ok(),
            "a Redis category without commands here"
        );
    }

    #[test]
    fn refused_rules_give_redis_reasons() {
        assert_eq!(user(&["foo"]).unwrap_err(), RuleError::Syntax);
        assert_eq!(user(&["+nosuch"]).unwrap_err(), RuleError::UnknownCommand);
        assert_eq!(user(&["+@nosuch"]).unwrap_err(), RuleError::UnknownCommand);
        assert_eq!(
            user(&["~*", "~a"]).unwrap_err(),
            RuleError::PatternAfterAllKeys
        );
        assert_eq!(
            user(&["&*", "&a"]).unwrap_err(),
            RuleError::PatternAfterAllChannels
        );
        assert_eq!(user(&["<nope"]).unwrap_err(), RuleError::NoSuchPassword);
        assert_eq!(user(&["#abc"]).unwrap_err(), RuleError::BadHash);
        assert_eq!(
            user(&["+client|list|x"]).unwrap_err(),
            RuleError::UnknownCommand
        );
        assert_eq!(user(&["+client|"]).unwrap_err(), RuleError::Syntax);
    }

    /// CVE-2024-51741: `%R` without `~` must not become an empty pattern.
    #[test]
    fn percent_without_tilde_is_a_syntax_error() {
        for r in ["%R", "%RW", "%", "%~x", "%X~a", "%RR~a"] {
            assert_eq!(user(&[r]).unwrap_err(), RuleError::Syntax, "{r}");
        }
    }

    #[test]
    fn key_patterns_grant_read_write_or_both() {
        let u = user(&["~app:*", "%R~ro:*", "%W~wo:*", "%RW~rw:*"]).unwrap();
        assert_eq!(u.describe_keys(), "~app:* %R~ro:* %W~wo:* ~rw:*");
        assert!(u.may_access(b"ro:1", READ) && !u.may_access(b"ro:1", WRITE));
        assert!(u.may_access(b"wo:1", WRITE) && !u.may_access(b"wo:1", READ | WRITE));
        assert!(u.may_access(b"app:1", READ | WRITE) && !u.may_access(b"x", 0));
        assert!(user(&["%RW~*"]).unwrap().all_keys);
        assert!(!user(&["%R~*"]).unwrap().all_keys);
    }

    #[test]
    fn passwords_are_added_removed_and_checked() {
        let u = user(&[">a", ">b", "<b"]).unwrap();
        assert!(u.password_ok(b"a") && !u.password_ok(b"b"));
        let u = user(&["nopass"]).unwrap();
        assert!(u.password_ok(b"anything"));
        let hash = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb";
        let u = user(&[&format!("#{hash}")]).unwrap();
        assert!(u.password_ok(b"a"));
        assert_eq!(u.password_hexes(), [hash]);
        let u = user(&[">a", "reset"]).unwrap();
        assert_eq!(
            u.describe(&cat()),
            "user u off sanitize-payload resetchannels -@all"
        );
    }
}
