//! Where each value of a RON document was written.
//!
//! serde tells us *that* a value is wrong, not where it is: after deserialising, validation looks
//! the offending field up here by its path (`die.noc.bytes_per_cycle`, `tbu_kinds[1].name`,
//! `cluster.tbus[0].1`). A small, tolerant scanner of the RON subset the format uses; it runs only
//! on text the RON parser has accepted.

use std::collections::HashMap;
use std::ops::Range;

/// Spans of values and field names by path.
#[derive(Debug, Default)]
pub(crate) struct Locations {
    values: HashMap<String, Range<usize>>,
}

impl Locations {
    /// Scans `text`.
    pub(crate) fn scan(text: &str) -> Locations {
        let mut s = Scanner { b: text.as_bytes(), pos: 0, out: Locations::default() };
        s.value(String::new());
        s.out
    }

    /// The span of the value at `path`, or of its nearest located ancestor, or the whole text.
    pub(crate) fn value(&self, path: &str) -> Range<usize> {
        let mut p = path;
        loop {
            if let Some(r) = self.values.get(p) {
                return r.clone();
            }
            match p.rfind(['.', '[']) {
                Some(i) => p = &p[..i],
                None => return self.values.get("").cloned().unwrap_or(0..0),
            }
        }
    }
}

struct Scanner<'a> {
    b: &'a [u8],
    pos: usize,
    out: Locations,
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() { field.to_owned() } else { format!("{path}.{field}") }
}

impl Scanner<'_> {
    fn skip_trivia(&mut self) {
        loop {
            while self.pos < self.b.len() && self.b[self.pos].is_ascii_whitespace() {
                self.pos += 1;
            }
            if self.b[self.pos..].starts_with(b"//") {
                while self.pos < self.b.len() && self.b[self.pos] != b'\n' {
                    self.pos += 1;
                }
            } else if self.b[self.pos..].starts_with(b"/*") {
                let mut depth = 0usize;
                while self.pos < self.b.len() {
                    if self.b[self.pos..].starts_with(b"/*") {
                        depth += 1;
                        self.pos += 2;
                    } else if self.b[self.pos..].starts_with(b"*/") {
                        depth -= 1;
                        self.pos += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        self.pos += 1;
                    }
                }
            } else {
                return;
            }
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_trivia();
        self.b.get(self.pos).copied()
    }

    fn ident(&mut self) -> Option<Range<usize>> {
        self.skip_trivia();
        let start = self.pos;
        while self.pos < self.b.len()
            && (self.b[self.pos].is_ascii_alphanumeric() || self.b[self.pos] == b'_')
        {
            self.pos += 1;
        }
        (self.pos > start).then_some(start..self.pos)
    }

    /// Whether an identifier followed by `:` starts here (a struct field), without consuming it.
    fn at_field(&mut self) -> bool {
        let save = self.pos;
        let is_field = self.ident().is_some() && self.peek() == Some(b':');
        self.pos = save;
        is_field
    }

    fn value(&mut self, path: String) {
        self.skip_trivia();
        let start = self.pos;
        match self.peek() {
            None => return,
            Some(b'[') => {
                self.pos += 1;
                let mut i = 0;
                while !matches!(self.peek(), None | Some(b']')) {
                    self.value(format!("{path}[{i}]"));
                    i += 1;
                    self.comma();
                }
                self.pos = (self.pos + 1).min(self.b.len());
            }
            Some(b'(') => self.parens(&path),
            Some(b'{') => {
                self.pos += 1;
                while !matches!(self.peek(), None | Some(b'}')) {
                    self.value(format!("{path}{{key}}"));
                    if self.peek() == Some(b':') {
                        self.pos += 1;
                    }
                    self.value(format!("{path}{{value}}"));
                    self.comma();
                }
                self.pos = (self.pos + 1).min(self.b.len());
            }
            Some(b'"') => {
                self.pos += 1;
                while self.pos < self.b.len() && self.b[self.pos] != b'"' {
                    self.pos += if self.b[self.pos] == b'\\' { 2 } else { 1 };
                }
                self.pos = (self.pos + 1).min(self.b.len());
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                self.ident();
                if self.peek() == Some(b'(') {
                    self.parens(&path);
                }
            }
            Some(_) => {
                let s = self.pos;
                while self.pos < self.b.len()
                    && (self.b[self.pos].is_ascii_alphanumeric() || b"+-._".contains(&self.b[self.pos]))
                {
                    self.pos += 1;
                }
                if self.pos == s {
                    self.pos += 1; // Not expected in accepted text; make progress.
                }
            }
        }
        self.out.values.insert(path, start..self.pos);
    }

    fn parens(&mut self, path: &str) {
        self.pos += 1;
        let mut i = 0;
        while !matches!(self.peek(), None | Some(b')')) {
            if self.at_field() {
                let key = self.ident().expect("at_field saw an identifier");
                let name = String::from_utf8_lossy(&self.b[key.clone()]).into_owned();
                self.peek();
                self.pos += 1; // the ':'
                self.value(join(path, &name));
            } else {
                self.value(join(path, &i.to_string()));
                i += 1;
            }
            self.comma();
        }
        self.pos = (self.pos + 1).min(self.b.len());
    }

    fn comma(&mut self) {
        if self.peek() == Some(b',') {
            self.pos += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_fields_list_items_and_tuple_elements() {
        let text = "A(x: 1, /* c */ b: B(y: [C(z: \"q\"), C(z: \"r\")], t: [(\"k\", 3)]), // end\n)";
        let l = Locations::scan(text);
        assert_eq!(&text[l.value("x")], "1");
        assert_eq!(&text[l.value("b.y[1].z")], "\"r\"");
        assert_eq!(&text[l.value("b.t[0].1")], "3");
        assert_eq!(&text[l.value("b.y[1].missing")], "C(z: \"r\")");
    }
}
