//! Diagnostics: every problem [`crate::check`] finds, errors and warnings alike.
//!
//! One enum, one variant per kind of problem, each with a stable code (`owg::snake_name`, listed in
//! `docs/language.md`). All variants carry the same fields: a message, a primary span with its
//! label, a help text, and secondary labels. Rendering is miette's: [`crate::render`] for plain text.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};

use crate::ir::Span;

macro_rules! diagnostics {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident = $code:tt, $severity:ident;
    )*) => {
        /// A problem found in a `.owg` source: an error (the workflow is invalid) or a warning.
        #[derive(Clone, Debug, thiserror::Error, miette::Diagnostic)]
        pub enum Diagnostic {
            $(
                $(#[doc = $doc])*
                #[error("{message}")]
                #[diagnostic(code($code), severity($severity))]
                $variant {
                    /// What is wrong: lowercase, no final period, user names in backticks.
                    message: String,
                    /// The offending source text.
                    #[label(primary, "{label}")]
                    span: Span,
                    /// Shown under `span`.
                    label: String,
                    /// How to fix it.
                    #[help]
                    help: String,
                    /// Other places involved (the first declaration of a duplicate, the rest of a cycle, ...).
                    #[label(collection)]
                    related: Vec<LabeledSpan>,
                },
            )*
        }

        /// Which kind of diagnostic to build; one per variant of [`Diagnostic`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub(crate) enum Kind {
            $($variant,)*
        }

        impl Kind {
            /// Every kind, in declaration order.
            #[cfg(test)]
            pub(crate) const ALL: &[Kind] = &[$(Kind::$variant,)*];
        }

        impl Diagnostic {
            /// Every code, errors first, in the order of `docs/language.md`.
            pub const CODES: &[&str] = &[$($code,)*];
        }

        impl Diagnostic {
            /// Builds a diagnostic of `kind`.
            pub(crate) fn new(kind: Kind, span: Span, message: String, label: String, help: String) -> Diagnostic {
                let related = Vec::new();
                match kind {
                    $(Kind::$variant => Diagnostic::$variant { message, span, label, help, related },)*
                }
            }

            /// Its kind.
            #[cfg(test)]
            pub(crate) fn kind(&self) -> Kind {
                match self {
                    $(Diagnostic::$variant { .. } => Kind::$variant,)*
                }
            }

            /// The stable code, such as `owg::unknown_block`.
            pub fn code_str(&self) -> &'static str {
                match self {
                    $(Diagnostic::$variant { .. } => $code,)*
                }
            }

            /// Whether it is an error (the workflow is invalid) rather than a warning.
            pub fn is_error(&self) -> bool {
                match self {
                    $(Diagnostic::$variant { .. } => stringify!($severity) == "Error",)*
                }
            }

            fn parts(&self) -> (&String, Span, &String, &Vec<LabeledSpan>) {
                match self {
                    $(Diagnostic::$variant { message, span, help, related, .. } => (message, *span, help, related),)*
                }
            }

            fn related_mut(&mut self) -> &mut Vec<LabeledSpan> {
                match self {
                    $(Diagnostic::$variant { related, .. } => related,)*
                }
            }
        }
    };
}

diagnostics! {
    /// The text does not follow the grammar.
    Syntax = "owg::syntax", Error;
    /// A number that does not fit in a 64-bit float (`1e400`).
    BadNumber = "owg::bad_number", Error;
    /// A flow names a block that is not declared.
    UnknownBlock = "owg::unknown_block", Error;
    /// Two declarations of the same name.
    DuplicateName = "owg::duplicate_name", Error;
    /// A second `workflow` or `arrivals` statement.
    DuplicateStatement = "owg::duplicate_statement", Error;
    /// The same flow `a -> b` declared twice.
    DuplicateFlow = "owg::duplicate_flow", Error;
    /// A task names a kernel that does not exist.
    UnknownKernel = "owg::unknown_kernel", Error;
    /// A distribution name that does not exist.
    UnknownDistribution = "owg::unknown_distribution", Error;
    /// An argument name that the kernel, distribution, control block or flow does not take.
    UnknownParam = "owg::unknown_param", Error;
    /// A required argument is not given.
    MissingParam = "owg::missing_param", Error;
    /// An argument given twice (by name, or by position and by name).
    DuplicateParam = "owg::duplicate_param", Error;
    /// An argument in the wrong form: positional after named, too many positional, a `v: w` pair outside `choice`.
    BadArgument = "owg::bad_argument", Error;
    /// A value of the wrong kind: a name or string where a number is expected, an unknown `dtype`.
    BadValue = "owg::bad_value", Error;
    /// A unit of the wrong dimension.
    UnitMismatch = "owg::unit_mismatch", Error;
    /// A unit that does not exist.
    UnknownUnit = "owg::unknown_unit", Error;
    /// A distribution with impossible parameters.
    BadDistribution = "owg::bad_distribution", Error;
    /// A size, count or rate that must be positive is zero or negative.
    NonPositive = "owg::non_positive", Error;
    /// A loop or map bound above the largest supported one.
    BoundTooLarge = "owg::bound_too_large", Error;
    /// A task's operation count overflows a 64-bit float.
    Overflow = "owg::overflow", Error;
    /// A parameter in the wrong shape: a constant-only one given a distribution, a kernel larger than its input.
    ShapeMismatch = "owg::shape_mismatch", Error;
    /// The probabilities leaving a branch do not sum to 1.
    BranchWeights = "owg::branch_weights", Error;
    /// A probability on a flow not leaving a branch, or none on one that does.
    MisplacedProbability = "owg::misplaced_probability", Error;
    /// A probability outside `[0, 1]`.
    InvalidProbability = "owg::invalid_probability", Error;
    /// A cycle in the flow graph.
    Cycle = "owg::cycle", Error;
    /// A loop without `max`.
    LoopUnbounded = "owg::loop_unbounded", Error;
    /// A loop that never ends by itself.
    LoopCannotTerminate = "owg::loop_cannot_terminate", Error;
    /// A map whose width is unbounded and has no `max`.
    MapUnbounded = "owg::map_unbounded", Error;
    /// A path from an opener never reaches its closer.
    RegionNotClosed = "owg::region_not_closed", Error;
    /// A flow enters a region other than through its opener.
    RegionEntered = "owg::region_entered", Error;
    /// Two regions overlap without one holding the other.
    RegionOverlap = "owg::region_overlap", Error;
    /// Two alternatives of a branch meet before its closer.
    BranchPathsMeet = "owg::branch_paths_meet", Error;
    /// Blocks that no request can ever reach.
    Unreachable = "owg::unreachable", Error;
    /// A CSV file that cannot be read or used.
    Csv = "owg::csv", Error;
    /// An arrival process that does not exist.
    UnknownArrivals = "owg::unknown_arrivals", Error;
    /// A workflow without a task block.
    EmptyWorkflow = "owg::empty_workflow", Error;
    /// A bare number for a time or a rate, taken as seconds.
    BareNumber = "owg::bare_number", Warning;
    /// A branch alternative with probability 0: never runs.
    ZeroProbabilityPath = "owg::zero_probability_path", Warning;
    /// A normal distribution with much of its mass below zero (clamped).
    NormalNegative = "owg::normal_negative", Warning;
    /// A task block without flows.
    IsolatedBlock = "owg::isolated_block", Warning;
    /// A branch with a single outgoing flow.
    SinglePathBranch = "owg::single_path_branch", Warning;
    /// A loop or map bound that cuts off much of its count distribution.
    LoopBoundTruncates = "owg::loop_bound_truncates", Warning;
}

impl Diagnostic {
    /// The primary span: the offending source text.
    pub fn span(&self) -> Option<Span> {
        Some(self.parts().1)
    }

    /// The message (what `Display` prints).
    pub fn message(&self) -> &str {
        self.parts().0
    }

    /// The help text.
    pub fn help_text(&self) -> &str {
        self.parts().2
    }

    /// Adds a secondary label.
    pub(crate) fn with(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.related_mut().push(LabeledSpan::new_with_span(Some(label.into()), span));
        self
    }

    /// The secondary labels.
    #[cfg(test)]
    pub(crate) fn related(&self) -> &[LabeledSpan] {
        self.parts().3
    }
}

/// A short constructor: `diag(Kind::UnknownBlock, span, message, label, help)`.
pub(crate) fn diag(
    kind: Kind,
    span: Span,
    message: impl Into<String>,
    label: impl Into<String>,
    help: impl Into<String>,
) -> Diagnostic {
    Diagnostic::new(kind, span, message.into(), label.into(), help.into())
}

/// How many diagnostics [`render`] draws with their source; the rest get one line each, so that
/// the output stays proportionate on pathological inputs.
pub const RENDER_FULL: usize = 100;

/// Renders diagnostics as plain, colour-free text 100 columns wide, like rustc: the first
/// [`RENDER_FULL`] with their source lines and labels, any further ones as `path:line:col` lines.
pub fn render(diagnostics: &[Diagnostic], source: &str, path: &str) -> String {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(100);
    let named = Arc::new(NamedSource::new(path, source.to_owned()));
    let mut out = String::new();
    for d in diagnostics.iter().take(RENDER_FULL) {
        let report = miette::Report::new(d.clone()).with_source_code(Arc::clone(&named));
        if handler.render_report(&mut out, report.as_ref()).is_err() {
            // Writing into a String cannot fail; keep the message at least.
            out.push_str(&d.to_string());
        }
        out.push('\n');
    }
    if diagnostics.len() > RENDER_FULL {
        let line_starts: Vec<usize> =
            std::iter::once(0).chain(source.match_indices('\n').map(|(i, _)| i + 1)).collect();
        let _ = writeln!(out, "... and {} more:", diagnostics.len() - RENDER_FULL);
        for d in &diagnostics[RENDER_FULL..] {
            let at = d.parts().1.start as usize;
            let line = line_starts.partition_point(|s| *s <= at);
            let start = line_starts[line - 1];
            let col = source.get(start..at).map_or(1, |s| s.chars().count() + 1);
            let kind = if d.is_error() { "error" } else { "warning" };
            let _ = writeln!(out, "{path}:{line}:{col}: {kind}[{}]: {d}", d.code_str());
        }
    }
    out
}

/// Formats a number for messages: integers without a fraction, others with up to 6 significant digits.
pub(crate) fn num(x: f64) -> impl fmt::Display {
    struct N(f64);
    impl fmt::Display for N {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let x = self.0;
            if x.is_finite() && x == x.trunc() && x.abs() < 1e15 {
                write!(f, "{}", x as i64)
            } else if x.is_finite() && (x.abs() >= 1e6 || x.abs() < 1e-3) && x != 0.0 {
                write!(f, "{x:e}")
            } else {
                let s = format!("{x:.6}");
                let s = s.trim_end_matches('0').trim_end_matches('.');
                write!(f, "{s}")
            }
        }
    }
    N(x)
}

#[cfg(test)]
mod tests {
    use miette::Diagnostic as _;

    use super::*;

    #[test]
    fn codes_are_stable_distinct_and_match_miette() {
        let mut seen = std::collections::HashSet::new();
        for &kind in Kind::ALL {
            let d = diag(kind, Span::new(0, 1), "m", "l", "h");
            assert_eq!(d.kind(), kind);
            assert_eq!(d.code().map(|c| c.to_string()).as_deref(), Some(d.code_str()));
            assert!(d.code_str().starts_with("owg::"));
            assert!(seen.insert(d.code_str()), "{} twice", d.code_str());
            let warning = d.severity() == Some(miette::Severity::Warning);
            assert_eq!(d.is_error(), !warning, "{}", d.code_str());
            assert_eq!(d.span(), Some(Span::new(0, 1)));
            assert_eq!(d.help_text(), "h");
        }
        assert!(Kind::ALL.iter().filter(|k| diag(**k, Span::default(), "", "", "").is_error()).count() >= 15);
    }

    #[test]
    fn renders_plain_text_with_labels() {
        let src = "task a = gemm(1, 2, 3)\ntask a = gemm(1, 2, 3)\n";
        let d =
            diag(Kind::DuplicateName, Span::new(28, 29), "the name `a` is declared twice", "again", "rename")
                .with(Span::new(5, 6), "first");
        assert_eq!(d.related().len(), 1);
        let out = render(&[d], src, "x.owg");
        assert!(out.contains("owg::duplicate_name"), "{out}");
        assert!(out.contains("x.owg:2:6"), "{out}");
        assert!(out.contains("first") && out.contains("again") && out.contains("help: rename"), "{out}");
        assert!(!out.contains('\u{1b}'), "no colour codes");
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(3.0).to_string(), "3");
        assert_eq!(num(0.25).to_string(), "0.25");
        assert_eq!(num(1.0 / 3.0).to_string(), "0.333333");
        assert_eq!(num(2.5e20).to_string(), "2.5e20");
    }

    fn assert_traits<T: Send + Sync + Clone + std::fmt::Debug + 'static>() {}

    #[test]
    fn diagnostics_are_shareable() {
        assert_traits::<Diagnostic>();
    }
}
