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
    use super::matches;

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
