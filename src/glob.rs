//! Redis's glob patterns (`KEYS`, `SCAN MATCH`, `CONFIG GET`, `LLMPURGE`).
//!
//! `*` any run of bytes, `?` one byte, `[abc]`, `[^a-z]` classes, `\x` a literal; matching is on
//! bytes, as in Redis's `stringmatchlen`.

/// True if `text` matches `pattern`. `nocase` folds ASCII case (CONFIG GET uses it).
pub fn matches(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
    // Iterative with one backtrack point for the last `*`: linear in practice, no recursion.
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    let eq = |a: u8, b: u8| {
        if nocase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    while t < text.len() {
        if p < pattern.len() {
            match pattern[p] {
                b'*' => {
                    while p < pattern.len() && pattern[p] == b'*' {
                        p += 1;
                    }
                    if p == pattern.len() {
                        return true;
                    }
                    star = Some((p, t));
                    continue;
                }
                b'?' => {
                    p += 1;
                    t += 1;
                    continue;
                }
                b'[' => {
                    if let Some((ok, next)) = class(pattern, p, text[t], nocase) {
                        if ok {
                            p = next;
                            t += 1;
                            continue;
                        }
                    }
                }
                b'\\' if p + 1 < pattern.len() => {
                    if eq(pattern[p + 1], text[t]) {
                        p += 2;
                        t += 1;
                        continue;
                    }
                }
                c => {
                    if eq(c, text[t]) {
                        p += 1;
                        t += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, st)) => {
                p = sp;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

/// True if every text that starts with `prefix` matches `pattern` (whether a key pattern grants
/// a whole key range, as a search index's prefix is).
///
/// Exact for the patterns ACL rules use (`llm:ns:a:*`, `*`) and never true when some text under
/// `prefix` would not match: the pattern must end in an unescaped `*` (nothing else matches
/// texts of every length), and what comes before that `*` must match `prefix` or a part of it
/// from the start, the `*` taking the rest.
pub fn covers_prefix(pattern: &[u8], prefix: &[u8]) -> bool {
    // Where the trailing run of `*` tokens starts: `\*` is a literal and a class runs to its
    // `]` (or, unterminated, to the end), so a `*` in either is no wildcard.
    let (mut p, mut stars_from) = (0usize, None);
    while p < pattern.len() {
        let next = match pattern[p] {
            b'\\' if p + 1 < pattern.len() => p + 2,
            b'[' => class(pattern, p, 0, false).map_or(pattern.len(), |(_, n)| n),
            _ => p + 1,
        };
        stars_from = match (pattern[p], stars_from) {
            (b'*', None) => Some(p),
            (b'*', keep) => keep,
            _ => None,
        };
        p = next;
    }
    let Some(head) = stars_from.map(|at| &pattern[..at]) else {
        return false;
    };
    (0..=prefix.len()).any(|n| matches(head, &prefix[..n], false))
}

/// Matches one byte against the class starting at `pattern[start] == b'['`. Returns whether it
/// matched and the index after the class. An unterminated class runs to the end of the pattern,
/// as in Redis.
fn class(pattern: &[u8], start: usize, c: u8, nocase: bool) -> Option<(bool, usize)> {
    let mut p = start + 1;
    let negate = p < pattern.len() && pattern[p] == b'^';
    if negate {
        p += 1;
    }
    let fold = |b: u8| if nocase { b.to_ascii_lowercase() } else { b };
    let c = fold(c);
    let mut matched = false;
    while p < pattern.len() && pattern[p] != b']' {
        if pattern[p] == b'\\' && p + 1 < pattern.len() {
            p += 1;
            if fold(pattern[p]) == c {
                matched = true;
            }
        } else if p + 2 < pattern.len() && pattern[p + 1] == b'-' && pattern[p + 2] != b']' {
            let (mut lo, mut hi) = (fold(pattern[p]), fold(pattern[p + 2]));
            if lo > hi {
                std::mem::swap(&mut lo, &mut hi);
            }
            if c >= lo && c <= hi {
                matched = true;
            }
            p += 2;
        } else if fold(pattern[p]) == c {
            matched = true;
        }
        p += 1;
    }
    let next = (p + 1).min(pattern.len().max(p));
    Some((matched != negate, next))
}

#[cfg(test)]
mod tests {
    use super::{covers_prefix, matches};

    #[test]
    fn a_pattern_covers_a_prefix_only_if_it_matches_everything_under_it() {
        assert!(covers_prefix(b"*", b""));
        assert!(covers_prefix(b"*", b"vec:"));
        assert!(covers_prefix(b"llm:ns:a:*", b"llm:ns:a:"));
        assert!(covers_prefix(b"llm:ns:a:*", b"llm:ns:a:v1:"));
        assert!(covers_prefix(b"llm:*", b"llm:ns:a:"));
        assert!(covers_prefix(b"ll?:*", b"llm:x"));
        assert!(covers_prefix(b"h[a-z]:**", b"hb:"));
        // Narrower than the prefix, or not open-ended: some key under the prefix escapes.
        assert!(!covers_prefix(b"llm:ns:a:*", b"llm:ns:"));
        assert!(!covers_prefix(b"llm:ns:a:*", b"llm:ns:b:"));
        assert!(!covers_prefix(b"llm:ns:a:*", b""));
        assert!(!covers_prefix(b"vec:1", b"vec:"));
        assert!(!covers_prefix(b"vec:*1", b"vec:"));
        assert!(!covers_prefix(b"vec:\\*", b"vec:"));
        assert!(!covers_prefix(b"vec:[*", b"vec:"));
        assert!(!covers_prefix(b"vec:[*]", b"vec:"));
        assert!(!covers_prefix(b"", b""));
    }

    #[test]
    fn redis_glob_cases() {
        assert!(matches(b"*", b"anything", false));
        assert!(matches(b"h?llo", b"hello", false));
        assert!(matches(b"h*llo", b"heeeello", false));
        assert!(matches(b"h[ae]llo", b"hallo", false));
        assert!(!matches(b"h[^e]llo", b"hello", false));
        assert!(matches(b"h[a-b]llo", b"hbllo", false));
        assert!(matches(b"llm:v1:gpt-4o:*", b"llm:v1:gpt-4o:abc", false));
        assert!(!matches(b"llm:v1:gpt-4o:*", b"llm:v1:gpt-4:abc", false));
        assert!(matches(b"a\\*b", b"a*b", false));
        assert!(!matches(b"a\\*b", b"axb", false));
        assert!(matches(b"MAX*", b"maxmemory", true));
        assert!(matches(b"*a*b*c", b"xxaxxbxxc", false));
        assert!(!matches(b"*a*b*c", b"xxaxxbxx", false));
        assert!(matches(b"", b"", false));
        assert!(!matches(b"", b"a", false));
    }
}
