//! The recursive-descent core: unions, intersections, atoms, words, numbers and parameters.

use super::{Bound, Node};
use crate::search::text;
use bytes::Bytes;
use std::collections::HashMap;

/// A cursor over the query's bytes.
pub(super) struct Parser<'a> {
    pub(super) s: &'a [u8],
    pub(super) i: usize,
    pub(super) params: &'a HashMap<String, Bytes>,
}

impl Parser<'_> {
    pub(super) fn error(&self) -> String {
        let rest = &self.s[self.i.min(self.s.len())..];
        let near: String = String::from_utf8_lossy(rest).chars().take(16).collect();
        let near = near.split_whitespace().next().unwrap_or("").to_string();
        if near.is_empty() {
            format!("Syntax error at offset {} near end of query", self.i)
        } else {
            format!("Syntax error at offset {} near {near}", self.i)
        }
    }

    pub(super) fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    pub(super) fn ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    pub(super) fn at(&self, lit: &[u8]) -> bool {
        self.s[self.i..].starts_with(lit)
    }

    pub(super) fn eat(&mut self, lit: &[u8]) -> bool {
        if self.at(lit) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    pub(super) fn expect(&mut self, lit: &[u8]) -> Result<(), String> {
        self.ws();
        if self.eat(lit) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    pub(super) fn union(&mut self, scope: Option<&str>) -> Result<Node, String> {
        let mut alts = vec![self.inter(scope)?];
        loop {
            self.ws();
            if !self.eat(b"|") {
                break;
            }
            alts.push(self.inter(scope)?);
        }
        Ok(if alts.len() == 1 {
            alts.remove(0)
        } else {
            Node::Or(alts)
        })
    }

    pub(super) fn inter(&mut self, scope: Option<&str>) -> Result<Node, String> {
        let mut all = Vec::new();
        loop {
            self.ws();
            match self.peek() {
                None | Some(b')' | b'|') => break,
                Some(b'=') if self.at(b"=>") => break,
                _ => all.push(self.unary(scope)?),
            }
        }
        match all.len() {
            0 => Err(self.error()),
            1 => Ok(all.remove(0)),
            _ => Ok(Node::And(all)),
        }
    }

    pub(super) fn unary(&mut self, scope: Option<&str>) -> Result<Node, String> {
        self.ws();
        if self.eat(b"-") {
            return Ok(Node::Not(Box::new(self.unary(scope)?)));
        }
        self.atom(scope)
    }

    pub(super) fn atom(&mut self, scope: Option<&str>) -> Result<Node, String> {
        self.ws();
        match self.peek() {
            Some(b'(') => {
                self.i += 1;
                let n = self.union(scope)?;
                self.expect(b")")?;
                Ok(n)
            }
            Some(b'*') => {
                self.i += 1;
                Ok(Node::All)
            }
            Some(b'@') => {
                self.i += 1;
                let field = self.name()?;
                self.expect(b":")?;
                self.field_value(field)
            }
            Some(b'"') => self.phrase(scope),
            _ => {
                let w = self.word()?;
                self.terms(&w, scope)
            }
        }
    }

    /// A word's tokens as terms (`gpt-4o` is `gpt` and `4o`, as the document was tokenized).
    pub(super) fn terms(&self, w: &str, scope: Option<&str>) -> Result<Node, String> {
        let mut toks: Vec<Node> = text::tokens(w)
            .map(|token| Node::Term {
                field: scope.map(str::to_string),
                token,
            })
            .collect();
        Ok(match toks.len() {
            0 => Node::All,
            1 => toks.remove(0),
            _ => Node::And(toks),
        })
    }

    pub(super) fn phrase(&mut self, scope: Option<&str>) -> Result<Node, String> {
        self.i += 1;
        let start = self.i;
        while self.peek().is_some_and(|c| c != b'"') {
            self.i += 1;
        }
        let body = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        self.expect(b"\"")?;
        self.terms(&body, scope)
    }

    pub(super) fn name(&mut self) -> Result<String, String> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c >= 0x80)
        {
            self.i += 1;
        }
        if start == self.i {
            return Err(self.error());
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// A bare word with backslash escapes.
    pub(super) fn word(&mut self) -> Result<String, String> {
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            if c == b'\\' {
                match self.s.get(self.i + 1) {
                    Some(&e) => out.push(e),
                    None => return Err(self.error()),
                }
                self.i += 2;
            } else if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
                out.push(c);
                self.i += 1;
            } else {
                break;
            }
        }
        if out.is_empty() {
            return Err(self.error());
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    pub(super) fn param(&mut self) -> Result<Bytes, String> {
        let at = self.i;
        self.i += 1;
        let name = self.name()?;
        self.params.get(&name).cloned().ok_or_else(|| {
            self.i = at;
            format!("No such parameter `{name}`")
        })
    }

    /// A number, or a `$param` holding one.
    pub(super) fn number(&mut self) -> Result<f64, String> {
        self.ws();
        let at = self.i;
        let text = if self.peek() == Some(b'$') {
            String::from_utf8_lossy(&self.param()?).into_owned()
        } else {
            let start = self.i;
            while self
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
            {
                self.i += 1;
            }
            String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
        };
        match text.to_ascii_lowercase().as_str() {
            "inf" | "+inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            t => t
                .parse::<f64>()
                .ok()
                .filter(|v| !v.is_nan())
                .ok_or_else(|| {
                    self.i = at;
                    format!("Syntax error at offset {at}: expected a number, got `{text}`")
                }),
        }
    }

    pub(super) fn bound(&mut self) -> Result<Bound, String> {
        self.ws();
        let inclusive = !self.eat(b"(");
        Ok(Bound {
            value: self.number()?,
            inclusive,
        })
    }

    pub(super) fn keyword(&mut self, kw: &str) -> bool {
        self.ws();
        let end = self.i + kw.len();
        let hit = self
            .s
            .get(self.i..end)
            .is_some_and(|w| w.eq_ignore_ascii_case(kw.as_bytes()))
            && !self
                .s
                .get(end)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
        if hit {
            self.i = end;
        }
        hit
    }
}
