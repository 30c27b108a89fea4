//! Property tests of the ACL rule parser: no rule string makes it panic, a refused rule leaves
//! the user unchanged, and what `ACL LIST` writes reads back as the same user.

use llmcached::acl::{Acl, Catalogue, User};
use proptest::prelude::*;

fn catalogue() -> Catalogue {
    llmcached::cmd::permit::catalogue()
}

/// Rule-like strings: the prefixes rules use, then printable characters (as in a config line:
/// whitespace and quotes separate or quote words there, in Redis as here).
fn rule() -> impl Strategy<Value = Vec<u8>> {
    let prefix = prop::sample::select(vec![
        "", "~", "%", "%R", "%RW", "%W~", "%R~", "&", "+", "-", "+@", "-@", ">", "<", "#", "!",
        "(", "+client|", "-config|", "on", "off", "reset", "allkeys", "nopass",
    ]);
    let printable = (b'!'..=b'~').prop_filter("no quotes", |c| *c != b'"' && *c != b'\'');
    (prefix, prop::collection::vec(printable, 0..12)).prop_map(|(p, tail)| {
        let mut r = p.as_bytes().to_vec();
        r.extend(tail);
        r
    })
}

proptest! {
    /// Any bytes at all: the parser refuses or applies, never panics.
    #[test]
    fn arbitrary_bytes_never_panic(rules in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..16), 0..8)) {
        let c = catalogue();
        let mut u = User::new("u", &c);
        for r in &rules {
            let _ = u.apply(r, &c);
        }
        let _ = u.describe(&c);
    }

    #[test]
    fn rules_never_panic_and_list_lines_read_back(rules in prop::collection::vec(rule(), 0..8)) {
        let c = catalogue();
        let mut u = User::new("u", &c);
        for r in &rules {
            let _ = u.apply(r, &c);
        }
        let line = u.describe(&c);
        let users = llmcached::acl::file::parse(line.as_bytes(), "prop", &c);
        let users = users.map_err(|e| TestCaseError::fail(format!("{line}: {e}")))?;
        prop_assert_eq!(users[0].describe(&c), line);
    }

    #[test]
    fn a_refused_setuser_changes_nothing(rules in prop::collection::vec(rule(), 1..6)) {
        let acl = Acl::new(None);
        acl.install(std::sync::Arc::new(catalogue()), None, Vec::new());
        acl.set_user(b"u", &["on", "~a:*", "+get"]).unwrap();
        let before = acl.list();
        if acl.set_user(b"u", &rules).is_err() {
            prop_assert_eq!(acl.list(), before);
        }
    }
}
