//! The crate's one error type: every problem in a hardware file, with its location.

use miette::{Diagnostic, NamedSource, SourceSpan};
use thiserror::Error;

/// A problem with a hardware description. Located variants carry the file's text and a span, so
/// they render with line, column and underline.
#[derive(Debug, Error, Diagnostic)]
pub enum HwError {
    /// The text is not valid RON, or does not have the shape of a hardware description.
    #[error("{message}")]
    #[diagnostic(code(hw::syntax))]
    Syntax {
        /// What is wrong (from the RON parser, reworded).
        message: String,
        /// The file.
        #[source_code]
        src: NamedSource<String>,
        /// Where.
        #[label("here")]
        span: SourceSpan,
        /// What would fix it.
        #[help]
        help: Option<String>,
    },
    /// A field the format does not have.
    #[error("unknown field `{field}`{}", in_struct(.outer))]
    #[diagnostic(code(hw::unknown_field))]
    UnknownField {
        /// The field written.
        field: String,
        /// The struct it was written in.
        outer: Option<String>,
        /// The file.
        #[source_code]
        src: NamedSource<String>,
        /// Where.
        #[label("not a field here")]
        span: SourceSpan,
        /// The fields that exist.
        #[help]
        help: String,
    },
    /// A required field is absent.
    #[error("missing field `{field}`{}", in_struct(.outer))]
    #[diagnostic(code(hw::missing_field), help("add `{field}: ...`; `docs/hardware.md` lists every field"))]
    MissingField {
        /// The field.
        field: String,
        /// The struct it belongs in.
        outer: Option<String>,
        /// The file.
        #[source_code]
        src: NamedSource<String>,
        /// The struct that lacks it.
        #[label("this needs `{field}`")]
        span: SourceSpan,
    },
    /// A quantity that must be positive is zero or negative (or not a number).
    #[error("`{field}` must be positive, found {value}")]
    #[diagnostic(code(hw::not_positive))]
    NotPositive {
        /// The field's path, e.g. `die.noc.bytes_per_cycle`.
        field: String,
        /// The value written.
        value: String,
        /// The file.
        #[source_code]
        src: NamedSource<String>,
        /// Where.
        #[label("must be greater than 0")]
        span: SourceSpan,
        /// Why it must be positive.
        #[help]
        help: String,
    },
    /// A fraction outside its range.
    #[error("`{field}` must be in (0, 1], found {value}")]
    #[diagnostic(code(hw::out_of_range), help("an efficiency is a fraction of peak: 0.8 means 80%"))]
    OutOfRange {
        /// The field's path.
        field: String,
        /// The value written.
        value: f64,
        /// The file.
        #[source_code]
        src: NamedSource<String>,
        /// Where.
        #[label("out of range")]
        span: SourceSpan,
    },
    /// A cluster names a TBU kind that `tbu_kinds` does not define.
    #[error("unknown TBU kind `{kind}`")]
    #[diagnostic(code(hw::unknown_kind))]
    UnknownKind {
        /// The name written.
        kind: String,
        /// The file.
        #[source_code]
        src: NamedSource<String>,
        /// Where.
        #[label("not in `tbu_kinds`")]
        span: SourceSpan,
        /// The kinds that exist.
        #[help]
        help: String,
    },
    /// Two TBU kinds with one name.
    #[error("TBU kind `{kind}` is defined twice")]
    #[diagnostic(code(hw::duplicate_kind), help("give each entry of `tbu_kinds` its own name"))]
    DuplicateKind {
        /// The name.
        kind: String,
        /// The file.
        #[source_code]
        src: NamedSource<String>,
        /// The second definition.
        #[label("second definition")]
        span: SourceSpan,
        /// The first definition.
        #[label("first definition")]
        first: SourceSpan,
    },
    /// Dimensions that do not fit together (an empty cluster, a kind no cluster uses, a machine too big).
    #[error("{message}")]
    #[diagnostic(code(hw::inconsistent))]
    Inconsistent {
        /// What is inconsistent.
        message: String,
        /// The file.
        #[source_code]
        src: NamedSource<String>,
        /// Where.
        #[label("here")]
        span: SourceSpan,
        /// What would fix it.
        #[help]
        help: String,
    },
    /// `--hw NAME` names no preset.
    #[error("unknown hardware preset `{name}`")]
    #[diagnostic(code(hw::unknown_preset), help("presets: {known}; or give a path to a `.ron` file"))]
    UnknownPreset {
        /// The name given.
        name: String,
        /// The presets, comma separated.
        known: String,
    },
}

fn in_struct(outer: &Option<String>) -> String {
    match outer {
        Some(o) => format!(" in `{o}`"),
        None => String::new(),
    }
}
