//! Finding things in the JSON text again, for error spans.
//!
//! `serde_json::Value` keeps no positions, and most instances are small enough that searching the
//! text for a string literal is cheap. The spans are hints: the first matching literal, searched from
//! the task that holds the reference, which is where a reader looks first.

use miette::SourceSpan;

/// `s` as a JSON string literal, quotes included.
fn literal(s: &str) -> String {
    serde_json::to_string(s).expect("a string always serialises")
}

/// The span of the first literal `s` at or after byte `from`, else the first anywhere.
pub(crate) fn literal_from(text: &str, s: &str, from: usize) -> Option<SourceSpan> {
    let lit = literal(s);
    let from = from.min(text.len());
    let at =
        text.get(from..).and_then(|rest| rest.find(&lit)).map(|i| i + from).or_else(|| text.find(&lit))?;
    Some((at, lit.len()).into())
}

/// The byte offset of the `nth` (0-based) declaration `"KEY": "<id>"` of a task, for a `KEY` in `keys`.
pub(crate) fn nth_decl(text: &str, id: &str, keys: &[&str], nth: usize) -> Option<usize> {
    let lit = literal(id);
    let mut seen = 0;
    let mut start = 0;
    while let Some(i) = text.get(start..).and_then(|rest| rest.find(&lit)) {
        let at = start + i;
        let before = text[..at].trim_end();
        if let Some(before) = before.strip_suffix(':') {
            let before = before.trim_end();
            if keys.iter().any(|k| {
                before.strip_suffix('"').and_then(|b| b.strip_suffix(k)).is_some_and(|b| b.ends_with('"'))
            }) {
                if seen == nth {
                    return Some(at);
                }
                seen += 1;
            }
        }
        start = at + lit.len();
    }
    None
}

/// The byte offset of the first declaration of a task.
pub(crate) fn task_decl(text: &str, id: &str) -> Option<usize> {
    nth_decl(text, id, &["id", "name"], 0)
}

/// The span of a task's `nth` declaration under one of `keys`.
pub(crate) fn decl_span(text: &str, id: &str, keys: &[&str], nth: usize) -> Option<SourceSpan> {
    nth_decl(text, id, keys, nth).map(|at| (at, literal(id).len()).into())
}

/// A byte offset for serde_json's 1-based line and column (columns count bytes), clamped to the
/// text and to a character boundary.
pub(crate) fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (n, l) in text.split_inclusive('\n').enumerate() {
        if n + 1 == line {
            offset += column.saturating_sub(1).min(l.len());
            break;
        }
        offset += l.len();
    }
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_declarations_not_references() {
        let text = r#"{"tasks": [{"parents": ["a"], "id": "b"}, {"id" : "a"}, {"name":"a"}]}"#;
        let both = &["id", "name"];
        assert_eq!(nth_decl(text, "a", both, 0), text.find(r#""a"}"#));
        assert_eq!(nth_decl(text, "a", both, 1), text.rfind(r#""a""#));
        assert_eq!(nth_decl(text, "a", both, 2), None);
        assert_eq!(nth_decl(text, "a", &["id"], 1), None);
        assert_eq!(nth_decl(text, "zz", both, 0), None);
    }

    #[test]
    fn literal_from_prefers_after_then_anywhere() {
        let text = r#"["x", "y", "x"]"#;
        assert_eq!(literal_from(text, "x", 2), Some((11, 3).into()));
        assert_eq!(literal_from(text, "y", 12), Some((6, 3).into()));
        assert_eq!(literal_from(text, "q", 0), None);
        assert_eq!(literal_from(text, "x", 999), Some((1, 3).into()));
    }

    #[test]
    fn offsets_clamp_and_respect_char_boundaries() {
        let text = "ab\ncé\nf";
        assert_eq!(offset_of(text, 1, 1), 0);
        assert_eq!(offset_of(text, 2, 2), 4);
        assert_eq!(offset_of(text, 2, 3), 4, "inside `é`, moved back to its start");
        assert_eq!(offset_of(text, 3, 1), 7);
        assert_eq!(offset_of(text, 9, 9), text.len());
        assert_eq!(offset_of("", 1, 5), 0);
    }
}
