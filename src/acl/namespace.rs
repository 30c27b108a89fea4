//! Tenant namespaces for keys the server builds (`LLMKEY`, `LLMLOOKUP`).
//!
//! # Format
//! ```text
//! LLMKEY request-json ... [NAMESPACE ns]
//!     key without a namespace:  llm:v1:<model>:<sha256>          (unchanged)
//!     key with namespace ns:    llm:ns:<ns>:v1:<model>:<sha256>  (the same SHA-256)
//! ns: 1 to 64 of A-Z a-z 0-9 . _ -
//! ```
//! With `llm-key-namespace user`, a request without `NAMESPACE` takes the authenticated user's
//! name (none for `default`). A global key's second segment is always `v1` and a namespace holds
//! no `:`, so `~llm:ns:teamA:*` matches neither global keys nor another tenant's.

use bytes::Bytes;

/// The prefix every namespaced key starts with.
pub const PREFIX: &str = "llm:ns:";

/// Splits `NAMESPACE ns` out of keying options (any position, once). Returns the namespace and
/// the other options. Errors are whole Redis error lines.
pub fn take(options: &[Bytes]) -> Result<(Option<Bytes>, Vec<Bytes>), String> {
    let mut ns = None;
    let mut rest = Vec::with_capacity(options.len());
    let mut i = 0;
    while i < options.len() {
        if options[i].eq_ignore_ascii_case(b"NAMESPACE") {
            let value = options.get(i + 1).ok_or("ERR syntax error")?;
            if ns.is_some() {
                return Err("ERR syntax error".into());
            }
            check(value)?;
            ns = Some(value.clone());
            i += 2;
        } else {
            rest.push(options[i].clone());
            i += 1;
        }
    }
    Ok((ns, rest))
}

/// Checks a namespace: 1 to 64 of `A-Z a-z 0-9 . _ -`.
pub fn check(ns: &[u8]) -> Result<(), String> {
    let ok = (1..=64).contains(&ns.len())
        && ns
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        let shown: String =
            String::from_utf8_lossy(&ns[..ns.len().min(128)]).replace(['\r', '\n'], " ");
        Err(format!(
            "ERR invalid namespace '{shown}': use 1 to 64 of A-Z a-z 0-9 . _ -"
        ))
    }
}

/// The namespace a request is keyed in: the one given, else with `from_user` the user's name
/// (none for `default`, or a name that is not a valid namespace).
pub fn resolve(given: Option<Bytes>, from_user: bool, user: &str) -> Option<Bytes> {
    given.or_else(|| {
        (from_user && user != "default" && check(user.as_bytes()).is_ok())
            .then(|| Bytes::copy_from_slice(user.as_bytes()))
    })
}

/// `llm:v1:...` -> `llm:ns:<ns>:v1:...`; a key of another shape is returned as it is.
pub fn apply(key: Bytes, ns: Option<&[u8]>) -> Bytes {
    let Some(ns) = ns else { return key };
    let Some(rest) = key.strip_prefix(b"llm:") else {
        return key;
    };
    let mut out = Vec::with_capacity(key.len() + ns.len() + 4);
    out.extend_from_slice(PREFIX.as_bytes());
    out.extend_from_slice(ns);
    out.push(b':');
    out.extend_from_slice(rest);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<Bytes> {
        w.iter().map(|s| Bytes::from(s.to_string())).collect()
    }

    #[test]
    fn namespace_is_taken_checked_and_applied() {
        let (ns, rest) = take(&words(&["SAMPLED", "namespace", "team-A.1", "MODEL", "m"])).unwrap();
        assert_eq!(ns.as_deref(), Some(&b"team-A.1"[..]));
        assert_eq!(rest, words(&["SAMPLED", "MODEL", "m"]));
        let key = apply(Bytes::from_static(b"llm:v1:gpt:abc"), ns.as_deref());
        assert_eq!(key.as_ref(), b"llm:ns:team-A.1:v1:gpt:abc");
        assert_eq!(
            take(&words(&["NAMESPACE", "a:b"])).unwrap_err(),
            "ERR invalid namespace 'a:b': use 1 to 64 of A-Z a-z 0-9 . _ -"
        );
        assert!(take(&words(&["NAMESPACE", &"x".repeat(65)])).is_err());
        assert!(take(&words(&["NAMESPACE", ""])).is_err());
        assert_eq!(
            take(&words(&["NAMESPACE"])).unwrap_err(),
            "ERR syntax error"
        );
        assert!(take(&words(&["NAMESPACE", "a", "NAMESPACE", "b"])).is_err());
    }

    #[test]
    fn the_user_namespace_applies_only_when_asked_and_not_to_default() {
        assert_eq!(resolve(None, true, "teamA").as_deref(), Some(&b"teamA"[..]));
        assert_eq!(resolve(None, true, "default"), None);
        assert_eq!(resolve(None, false, "teamA"), None);
        assert_eq!(
            resolve(Some(Bytes::from_static(b"x")), true, "teamA").as_deref(),
            Some(&b"x"[..])
        );
    }
}
