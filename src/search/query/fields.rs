//! Field values (`@f:{tags}`, `@f:[range]`, `@f:[VECTOR_RANGE ...]`), range attributes and
//! KNN clauses.

use super::parser::Parser;
use super::{Knn, Node};

impl Parser<'_> {
    pub(super) fn field_value(&mut self, field: String) -> Result<Node, String> {
        self.ws();
        match self.peek() {
            Some(b'{') => {
                self.i += 1;
                let values = self.tags()?;
                Ok(Node::Tag { field, values })
            }
            Some(b'[') => {
                self.i += 1;
                if self.keyword("VECTOR_RANGE") {
                    let radius = self.number()?;
                    if radius < 0.0 {
                        return Err(format!(
                            "Invalid radius `{radius}`: must be a non-negative number"
                        ));
                    }
                    self.ws();
                    if self.peek() != Some(b'$') {
                        return Err(self.error());
                    }
                    let vector = self.param()?;
                    self.expect(b"]")?;
                    let yield_as = self.attributes()?;
                    return Ok(Node::Range {
                        field,
                        radius,
                        vector,
                        yield_as,
                    });
                }
                let min = self.bound()?;
                let max = self.bound()?;
                self.expect(b"]")?;
                Ok(Node::Numeric { field, min, max })
            }
            Some(b'(') => {
                self.i += 1;
                let n = self.union(Some(&field))?;
                self.expect(b")")?;
                Ok(n)
            }
            _ => {
                let w = self.word()?;
                self.terms(&w, Some(&field))
            }
        }
    }

    /// The inside of `{a | b\-c}` up to and including `}`.
    pub(super) fn tags(&mut self) -> Result<Vec<String>, String> {
        let mut values = Vec::new();
        let mut cur = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.error()),
                Some(b'\\') => {
                    let e = *self.s.get(self.i + 1).ok_or_else(|| self.error())?;
                    cur.push(e);
                    self.i += 2;
                    continue;
                }
                Some(c @ (b'|' | b'}')) => {
                    let v = String::from_utf8_lossy(&cur).trim().to_string();
                    if !v.is_empty() {
                        values.push(v);
                    }
                    cur.clear();
                    self.i += 1;
                    if c == b'}' {
                        break;
                    }
                }
                Some(c) => {
                    cur.push(c);
                    self.i += 1;
                }
            }
        }
        if values.is_empty() {
            return Err(self.error());
        }
        Ok(values)
    }

    /// `=>{$YIELD_DISTANCE_AS: name; $EPSILON: x}` after a range; the yielded name.
    pub(super) fn attributes(&mut self) -> Result<Option<String>, String> {
        let save = self.i;
        self.ws();
        if !(self.eat(b"=>") && {
            self.ws();
            self.eat(b"{")
        }) {
            self.i = save;
            return Ok(None);
        }
        let mut yield_as = None;
        loop {
            self.ws();
            if self.eat(b"}") {
                return Ok(yield_as);
            }
            self.expect(b"$")?;
            let key = self.name()?.to_ascii_uppercase();
            self.expect(b":")?;
            self.ws();
            let value = if self.peek() == Some(b'$') {
                String::from_utf8_lossy(&self.param()?).into_owned()
            } else {
                let start = self.i;
                while self.peek().is_some_and(|c| !b";} \t".contains(&c)) {
                    self.i += 1;
                }
                String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
            };
            match key.as_str() {
                "YIELD_DISTANCE_AS" if !value.is_empty() => yield_as = Some(value),
                "EPSILON" | "HYBRID_POLICY" | "BATCH_SIZE" => {}
                _ => return Err(format!("Unknown attribute `${key}` in query")),
            }
            self.ws();
            self.eat(b";");
        }
    }

    /// After `=>[`: `KNN k @field $vec [EF_RUNTIME n] [AS name]]`.
    pub(super) fn knn(&mut self) -> Result<Knn, String> {
        if !self.keyword("KNN") {
            return Err(self.error());
        }
        let k = self.number()?;
        if !(k >= 0.0 && k.fract() == 0.0 && k <= 1e7) {
            return Err("Invalid k: expected a non-negative integer".into());
        }
        self.expect(b"@")?;
        let field = self.name()?;
        self.ws();
        if self.peek() != Some(b'$') {
            return Err(self.error());
        }
        let vector = self.param()?;
        let mut knn = Knn {
            k: k as usize,
            yield_as: format!("__{field}_score"),
            field,
            vector,
            ef_runtime: None,
        };
        loop {
            self.ws();
            if self.eat(b"]") {
                return Ok(knn);
            }
            if self.keyword("EF_RUNTIME") {
                let ef = self.number()?;
                if !(ef >= 1.0 && ef.fract() == 0.0) {
                    return Err("Invalid EF_RUNTIME: expected a positive integer".into());
                }
                knn.ef_runtime = Some(ef as usize);
            } else if self.keyword("AS") {
                self.ws();
                knn.yield_as = self.name()?;
            } else if self.keyword("$YIELD_DISTANCE_AS") {
                self.expect(b":")?;
                self.ws();
                knn.yield_as = self.name()?;
            } else {
                return Err(self.error());
            }
        }
    }
}
