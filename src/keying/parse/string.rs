//! String literals: the borrowed fast path and the general decoder, with serde_json's errors.

use super::{Parser, Step};
use crate::keying::canonical::next_escape;
use crate::keying::tree::{canonical_escape_len, Text};

impl<'a> Parser<'a> {
    /// Parses a string at `self.pos` (which holds the opening quote). A literal whose
    /// escapes are all spelled as JCS spells them (nearly all of them) is borrowed; the
    /// others are decoded into a copy, which is also where every error is found.
    pub(super) fn string(&mut self) -> Step<Text<'a>> {
        let open = self.pos;
        let start = open + 1;
        let mut at = next_escape(self.bytes, start);
        let mut escaped = false;
        loop {
            match self.bytes.get(at) {
                Some(b'"') => {
                    self.pos = at + 1;
                    // Split only at ASCII bytes, so the slice is whole characters.
                    let literal = &self.text[open..=at];
                    return Ok(if escaped {
                        Text::canonical(literal)
                    } else {
                        Text::verbatim(literal)
                    });
                }
                Some(b'\\') => match canonical_escape_len(&self.bytes[at..]) {
                    Some(len) => {
                        escaped = true;
                        at = next_escape(self.bytes, at + len);
                    }
                    None => break,
                },
                _ => break,
            }
        }
        self.pos = start;
        self.decode_string()
    }

    /// The general string path from `self.pos` (just past the opening quote): decodes every
    /// escape and reports every error.
    fn decode_string(&mut self) -> Step<Text<'a>> {
        let mut out = String::new();
        loop {
            let start = self.pos;
            let stop = next_escape(self.bytes, start);
            // The bytes before an ASCII stop byte are whole characters of valid UTF-8.
            out.push_str(&self.text[start..stop]);
            self.pos = stop;
            match self.peek() {
                None => return self.err("EOF while parsing a string"),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Text::from(out));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => {
                    return self
                        .err("control character (\\u0000-\\u001F) found while parsing a string")
                }
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Step<()> {
        let Some(b) = self.peek() else {
            return self.err("EOF while parsing a string");
        };
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                match unit {
                    0xD800..=0xDBFF => {
                        if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                            return self.err("unexpected end of hex escape");
                        }
                        self.pos += 2;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            self.pos -= 1;
                            return self.err("lone leading surrogate in hex escape");
                        }
                        let c = 0x1_0000
                            + ((u32::from(unit) - 0xD800) << 10)
                            + (u32::from(low) - 0xDC00);
                        match char::from_u32(c) {
                            Some(c) => c,
                            None => return self.err("invalid unicode code point"),
                        }
                    }
                    0xDC00..=0xDFFF => {
                        self.pos -= 1;
                        // serde_json words it this way too.
                        return self.err("lone leading surrogate in hex escape");
                    }
                    _ => match char::from_u32(u32::from(unit)) {
                        Some(c) => c,
                        None => return self.err("invalid unicode code point"),
                    },
                }
            }
            _ => {
                self.pos -= 1;
                return self.err("invalid escape");
            }
        };
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Step<u16> {
        let Some(quad) = self.bytes.get(self.pos..self.pos + 4) else {
            self.pos = self.bytes.len();
            return self.err("EOF while parsing a string");
        };
        let mut v: u16 = 0;
        for &b in quad {
            let d = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => {
                    // Reported at the last of the four, as serde_json does.
                    self.pos += 3;
                    return self.err("invalid escape");
                }
            };
            v = (v << 4) | u16::from(d);
        }
        self.pos += 4;
        Ok(v)
    }
}
