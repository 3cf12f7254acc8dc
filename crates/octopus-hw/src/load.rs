//! Text to a validated [`Machine`]: RON parsing, then every check, each problem located.

use miette::{NamedSource, SourceSpan};
use ron::error::{Error as RonError, Position};

use crate::error::HwError;
use crate::locate::Locations;
use crate::spec::HardwareSpec;

/// Parses a hardware description (`origin` names the file in diagnostics). Structural problems
/// (RON syntax, an unknown or missing field, a value of the wrong type) stop at the first one, as
/// the RON parser does; [`crate::Machine::from_ron`] then reports every value problem at once.
// Errors carry the file's text for rendering; they are built once per bad file, never on a hot path.
#[allow(clippy::result_large_err)]
pub fn parse_spec(text: &str, origin: &str) -> Result<HardwareSpec, HwError> {
    ron::Options::default()
        .from_str::<HardwareSpec>(text)
        .map_err(|e| ron_error(text, origin, e.code, e.position))
}

pub(crate) fn source(text: &str, origin: &str) -> NamedSource<String> {
    NamedSource::new(origin, text.to_owned())
}

/// The byte offset of a 1-based line and column (columns count characters).
fn offset_of(text: &str, pos: Position) -> usize {
    let mut line_start = 0;
    for _ in 1..pos.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line = &text[line_start..];
    let line = &line[..line.find('\n').unwrap_or(line.len())];
    line_start + line.char_indices().nth(pos.col.saturating_sub(1)).map_or(line.len(), |(i, _)| i)
}

/// The span of the identifier or token that ends at or starts at `offset`.
fn token_at(text: &str, offset: usize) -> SourceSpan {
    let b = text.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-';
    let mut start = offset.min(b.len());
    while start > 0 && word(b[start - 1]) {
        start -= 1;
    }
    let mut end = start;
    while end < b.len() && word(b[end]) {
        end += 1;
    }
    if end == start {
        end = (start + 1).min(b.len());
    }
    (start, end - start).into()
}

/// The span of the last whole-word occurrence of `name` that starts before `before`.
fn last_occurrence(text: &str, name: &str, before: usize) -> Option<SourceSpan> {
    let hay = &text[..before.min(text.len())];
    let b = text.as_bytes();
    let mut end = hay.len();
    while let Some(i) = hay[..end].rfind(name) {
        let after = i + name.len();
        let boundary_before = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        let boundary_after = after >= b.len() || !(b[after].is_ascii_alphanumeric() || b[after] == b'_');
        if boundary_before && boundary_after {
            return Some((i, name.len()).into());
        }
        end = i;
    }
    None
}

fn ron_error(text: &str, origin: &str, code: RonError, pos: Position) -> HwError {
    let offset = offset_of(text, pos);
    let src = source(text, origin);
    match code {
        RonError::NoSuchStructField { expected, found, outer } => HwError::UnknownField {
            span: last_occurrence(text, &found, offset + 1).unwrap_or_else(|| token_at(text, offset)),
            help: format!("expected one of {}", list(expected)),
            field: found,
            outer,
            src,
        },
        RonError::MissingStructField { field, outer } => {
            // The parser stops at the struct's closing parenthesis; point at it.
            let at = text[..offset.min(text.len())].rfind(')').unwrap_or(offset);
            HwError::MissingField { field: field.to_owned(), outer, src, span: (at, 1).into() }
        }
        RonError::DuplicateStructField { field, outer } => HwError::Syntax {
            message: format!("field `{field}` is written twice{}", outer.map(|o| format!(" in `{o}`")).unwrap_or_default()),
            span: last_occurrence(text, field, offset + 1).unwrap_or_else(|| token_at(text, offset)),
            help: Some("keep one of them".into()),
            src,
        },
        RonError::IntegerOutOfBounds | RonError::ExpectedInteger => HwError::Syntax {
            message: "expected a whole number at least 0".into(),
            span: token_at(text, offset),
            help: Some("counts, sizes and cycles are non-negative whole numbers; only GHz, GB/s, GiB and efficiencies take decimals".into()),
            src,
        },
        other => HwError::Syntax {
            message: lower_first(&other.to_string()),
            span: token_at(text, offset),
            help: None,
            src,
        },
    }
}

fn list(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Collects value problems with their locations.
pub(crate) struct Checker<'a> {
    pub(crate) text: &'a str,
    pub(crate) origin: &'a str,
    pub(crate) loc: Locations,
    pub(crate) errors: Vec<HwError>,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(text: &'a str, origin: &'a str) -> Checker<'a> {
        Checker { text, origin, loc: Locations::scan(text), errors: Vec::new() }
    }

    pub(crate) fn src(&self) -> NamedSource<String> {
        source(self.text, self.origin)
    }

    pub(crate) fn span(&self, path: &str) -> SourceSpan {
        let r = self.loc.value(path);
        (r.start, r.end - r.start).into()
    }

    pub(crate) fn positive_int(&mut self, path: &str, value: u64, why: &str) {
        if value == 0 {
            self.errors.push(HwError::NotPositive {
                field: path.to_owned(),
                value: "0".into(),
                src: self.src(),
                span: self.span(path),
                help: why.to_owned(),
            });
        }
    }

    pub(crate) fn positive_real(&mut self, path: &str, value: f64, why: &str) {
        if !(value > 0.0 && value.is_finite()) {
            self.errors.push(HwError::NotPositive {
                field: path.to_owned(),
                value: value.to_string(),
                src: self.src(),
                span: self.span(path),
                help: why.to_owned(),
            });
        }
    }

    pub(crate) fn fraction(&mut self, path: &str, value: f64) {
        if !(value > 0.0 && value <= 1.0) {
            self.errors.push(HwError::OutOfRange {
                field: path.to_owned(),
                value,
                src: self.src(),
                span: self.span(path),
            });
        }
    }

    pub(crate) fn inconsistent(&mut self, path: &str, message: String, help: String) {
        let span = self.span(path);
        self.errors.push(HwError::Inconsistent { message, src: self.src(), span, help });
    }
}
