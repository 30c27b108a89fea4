//! Redis 7 ACL users: who may connect, which commands they may run and which keys they may
//! touch.
//!
//! # Layout
//! - [`catalogue`]: what the rules know of the command table (built by the commands layer).
//! - [`user`]: one [`User`] and the rule syntax (`on`, `>pass`, `~pattern`, `+@read`, ...);
//!   `describe`: how a user is shown (`ACL GETUSER`, `ACL LIST`).
//! - [`log`]: `ACL LOG`, the denied attempts.
//! - [`file`]: aclfile and `user` config lines.
//! - [`namespace`]: tenant namespaces for server-built keys (`NAMESPACE ns`).
//!
//! # Concurrency
//! [`Acl`] lives in the shared state. Each user is an [`ArcSwap`] cell that connections hold
//! (`Client::user`): `ACL SETUSER` builds a new [`User`] from a copy and swaps it into the cell,
//! so every connection authenticated as that user sees the change at its next command, and a
//! refused rule changes nothing. The cell's `load` on the command path takes no lock and
//! allocates nothing. The registry's map is behind a lock that only AUTH and ACL commands take.

pub mod catalogue;
mod describe;
pub mod file;
pub mod log;
pub mod namespace;
pub mod user;

pub use catalogue::Catalogue;
pub use user::{RuleError, User};

use arc_swap::ArcSwap;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock, RwLock};

/// Read access to a key (Redis's `%R`).
pub const READ: u8 = 1;
/// Write access to a key (Redis's `%W`).
pub const WRITE: u8 = 2;

/// A user as connections hold it: swapped whole on every change.
pub type UserCell = ArcSwap<User>;

/// Redis's glob, as key patterns use it.
fn keys_match(pattern: &[u8], key: &[u8]) -> bool {
    crate::glob::matches(pattern, key, false)
}

/// May `user` access, with `perm`, every key that starts with `prefix` (a search index's
/// prefix; empty: every key)? Some key pattern with that access must cover the whole range.
pub fn may_access_prefix(user: &User, prefix: &[u8], perm: u8) -> bool {
    user.all_keys
        || user
            .patterns
            .iter()
            .any(|p| p.perm & perm == perm && crate::glob::covers_prefix(&p.pattern, prefix))
}

/// Counters for `INFO stats`.
#[derive(Debug, Default)]
pub struct Denied {
    pub auth: AtomicU64,
    pub cmd: AtomicU64,
    pub key: AtomicU64,
    pub channel: AtomicU64,
}

/// A refused `ACL SETUSER`: the rule and why, or a bad user name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetUserError {
    BadName,
    Rule { op: String, error: RuleError },
}

impl std::fmt::Display for SetUserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetUserError::BadName => {
                f.write_str("Usernames can't contain spaces or null characters")
            }
            SetUserError::Rule { op, error } => write!(
                f,
                "Error in ACL SETUSER modifier '{op}': {}",
                error.reason()
            ),
        }
    }
}

/// Every user, and the ACL log.
pub struct Acl {
    users: RwLock<BTreeMap<String, Arc<UserCell>>>,
    /// The `default` user's cell: never removed, so connections that hold it keep it.
    default: Arc<UserCell>,
    catalogue: OnceLock<Arc<Catalogue>>,
    pub log: log::AclLog,
    pub denied: Denied,
}

impl std::fmt::Debug for Acl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acl").finish_non_exhaustive()
    }
}

/// Whether `name` may name a user.
pub fn valid_name(name: &[u8]) -> bool {
    !name.contains(&b' ') && !name.contains(&0)
}

impl Acl {
    /// Only the default user, with `requirepass` as its password. The command table's
    /// catalogue comes later ([`Acl::install`]); until then the default user is all-commands.
    pub fn new(requirepass: Option<&[u8]>) -> Acl {
        let empty = Catalogue::default();
        let default = Arc::new(ArcSwap::from_pointee(User::default_user(
            &empty,
            requirepass,
        )));
        let mut users = BTreeMap::new();
        users.insert("default".to_string(), default.clone());
        Acl {
            users: RwLock::new(users),
            default,
            catalogue: OnceLock::new(),
            log: log::AclLog::default(),
            denied: Denied::default(),
        }
    }

    /// Installs the command table's catalogue and the users from the configuration:
    /// `users` (already parsed lines), with `requirepass` applied to `default` first.
    pub fn install(&self, catalogue: Arc<Catalogue>, requirepass: Option<&[u8]>, users: Vec<User>) {
        let _ = self.catalogue.set(catalogue.clone());
        self.default
            .store(Arc::new(User::default_user(&catalogue, requirepass)));
        self.replace(users);
    }

    /// The command table's catalogue (empty before [`Acl::install`]).
    pub fn catalogue(&self) -> Arc<Catalogue> {
        self.catalogue.get().cloned().unwrap_or_default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<UserCell>>> {
        self.users.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<UserCell>>> {
        self.users.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn default_cell(&self) -> Arc<UserCell> {
        self.default.clone()
    }

    /// The default user's cell, borrowed (the command path's check takes no reference count).
    pub fn default_ref(&self) -> &UserCell {
        &self.default
    }

    /// Redis's `authRequired`: a client that has not authenticated may run commands only
    /// while the default user is `on` and `nopass`.
    pub fn auth_required(&self) -> bool {
        let d = self.default.load();
        !d.nopass || !d.enabled
    }

    /// Protected mode's condition: the default user has no password.
    pub fn default_is_nopass(&self) -> bool {
        self.default.load().nopass
    }

    pub fn user(&self, name: &[u8]) -> Option<Arc<UserCell>> {
        let name = std::str::from_utf8(name).ok()?;
        self.read().get(name).cloned()
    }

    /// The user's cell when `name` exists, is `on` and `pass` is one of its passwords.
    pub fn authenticate(&self, name: &[u8], pass: &[u8]) -> Option<Arc<UserCell>> {
        let cell = self.user(name)?;
        let u = cell.load();
        (u.enabled && u.password_ok(pass)).then(|| cell.clone())
    }

    /// `ACL SETUSER name rules...`: all rules apply or none.
    pub fn set_user(&self, name: &[u8], rules: &[impl AsRef<[u8]>]) -> Result<(), SetUserError> {
        if !valid_name(name) {
            return Err(SetUserError::BadName);
        }
        let name = String::from_utf8_lossy(name).into_owned();
        let catalogue = self.catalogue();
        let mut users = self.write();
        let existing = users.get(&name).cloned();
        let mut next = match &existing {
            Some(cell) => User::clone(&cell.load()),
            None => User::new(&name, &catalogue),
        };
        for r in rules {
            let r = r.as_ref();
            next.apply(r, &catalogue)
                .map_err(|error| SetUserError::Rule {
                    op: String::from_utf8_lossy(r).into_owned(),
                    error,
                })?;
        }
        match existing {
            Some(cell) => cell.store(Arc::new(next)),
            None => {
                users.insert(name, Arc::new(ArcSwap::from_pointee(next)));
            }
        }
        Ok(())
    }

    /// `ACL DELUSER`: removes the users that exist; returns their names. `default` is refused
    /// by the caller.
    pub fn delete(&self, names: &[impl AsRef<[u8]>]) -> Vec<String> {
        let mut users = self.write();
        let mut gone = Vec::new();
        for n in names {
            let n = String::from_utf8_lossy(n.as_ref()).into_owned();
            if n != "default" && users.remove(&n).is_some() {
                gone.push(n);
            }
        }
        gone
    }

    /// Replaces every user by `users` (ACL LOAD, start). The default user keeps its cell (its
    /// connections stay) and takes the new definition, or the plain default if none is given.
    pub fn replace(&self, users: Vec<User>) {
        let mut map = BTreeMap::new();
        map.insert("default".to_string(), self.default.clone());
        for u in users {
            if u.name == "default" {
                self.default.store(Arc::new(u));
            } else {
                map.insert(u.name.clone(), Arc::new(ArcSwap::from_pointee(u)));
            }
        }
        *self.write() = map;
    }

    /// CONFIG SET requirepass: `resetpass` then `>pass`, or `nopass` for an empty one.
    pub fn set_default_password(&self, pass: Option<&[u8]>) {
        let catalogue = self.catalogue();
        let mut next = User::clone(&self.default.load());
        let _ = next.apply(b"resetpass", &catalogue);
        match pass {
            Some(p) => {
                let mut rule = b">".to_vec();
                rule.extend_from_slice(p);
                let _ = next.apply(&rule, &catalogue);
            }
            None => {
                let _ = next.apply(b"nopass", &catalogue);
            }
        }
        self.default.store(Arc::new(next));
    }

    /// Every user, by name.
    pub fn users(&self) -> Vec<Arc<User>> {
        self.read().values().map(|c| c.load_full()).collect()
    }

    /// The `INFO stats` fields of the ACL.
    pub fn info_fields(&self) -> [(&'static str, u64); 4] {
        use std::sync::atomic::Ordering::Relaxed;
        let d = &self.denied;
        [
            ("acl_access_denied_auth", d.auth.load(Relaxed)),
            ("acl_access_denied_cmd", d.cmd.load(Relaxed)),
            ("acl_access_denied_key", d.key.load(Relaxed)),
            ("acl_access_denied_channel", d.channel.load(Relaxed)),
        ]
    }

    /// `ACL LIST`: one config line per user, by name.
    pub fn list(&self) -> Vec<String> {
        let catalogue = self.catalogue();
        self.users()
            .iter()
            .map(|u| u.describe(&catalogue))
            .collect()
    }
}

/// True for a command whose arguments must not be shown (slow log, monitors, debug logs):
/// `ACL SETUSER` whole, as Redis 7.0 keeps it out of SLOWLOG and MONITOR.
pub fn is_secret_command(args: &[impl AsRef<[u8]>]) -> bool {
    match args {
        [cmd, sub, ..] => {
            cmd.as_ref().eq_ignore_ascii_case(b"acl")
                && sub.as_ref().eq_ignore_ascii_case(b"setuser")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setuser_is_atomic_and_seen_through_held_cells() {
        let acl = Acl::new(None);
        acl.set_user(b"u", &["on", ">pw", "~a:*"]).unwrap();
        let held = acl.authenticate(b"u", b"pw").unwrap();
        let e = acl.set_user(b"u", &["~b:*", "+nosuch"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"
        );
        assert_eq!(held.load().describe_keys(), "~a:*", "nothing applied");
        acl.set_user(b"u", &["off"]).unwrap();
        assert!(!held.load().enabled, "the held cell sees the change");
        assert!(acl.authenticate(b"u", b"pw").is_none());
        assert_eq!(acl.set_user(b"a b", &["on"]), Err(SetUserError::BadName));
    }

    #[test]
    fn default_user_follows_requirepass() {
        let acl = Acl::new(Some(b"pw"));
        assert!(acl.auth_required());
        assert!(acl.authenticate(b"default", b"pw").is_some());
        acl.set_default_password(None);
        assert!(!acl.auth_required() && acl.default_is_nopass());
        assert_eq!(acl.delete(&["default", "nobody"]), Vec::<String>::new());
    }

    #[test]
    fn secret_commands_are_recognised() {
        assert!(is_secret_command(&["acl", "SetUser", "u", ">pw"]));
        assert!(!is_secret_command(&["acl", "list"]));
    }
}
