//! `octopus-owg`: the Orchestrated Workflow Graph language.
//!
//! Text in, validated IR out: [`check`] parses a `.owg` source with the pest grammar in
//! `grammar.pest`, lowers it to a [`ir::Workflow`] with a [`ir::SourceMap`] beside it, validates
//! the graph (names, units, distributions, regions, cycles), and derives an
//! [`analysis::Analysis`] side table (expected visits, work, critical path, stable/dynamic class).
//! Every problem is reported, not only the first, as a [`Diagnostic`] with a stable code and a span.
//!
//! [`fingerprint`] is the stable hash of a workflow's IR (with [`IR_VERSION`] mixed in) that plans
//! record; [`hash`] has the generic FNV-1a helpers it is built on.
//!
//! This crate knows nothing of hardware and reads no files: empirical distributions and replayed
//! arrivals name CSV files, which the caller's [`Loader`] provides.

pub mod analysis;
pub mod dist;
pub mod hash;
pub mod index;
pub mod ir;

mod count;
mod csv;
mod diagnostics;
mod kernel;
mod lower;
mod parser;
mod units;
mod validate;

pub use diagnostics::{Diagnostic, render};
pub use hash::{IR_VERSION, fingerprint};

/// Reads the files a source names (CSV files of `empirical` distributions and `replay` arrivals).
pub trait Loader {
    /// Reads a file named in the source (path as written, relative to the `.owg` file); `Err(message)` when it cannot.
    fn load(&self, path: &str) -> Result<String, String>;
}

/// A [`Loader`] for contexts that read no files: every load fails.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoFiles;

impl Loader for NoFiles {
    fn load(&self, _path: &str) -> Result<String, String> {
        Err("this context reads no files".to_owned())
    }
}

/// A valid workflow: the IR, where each piece was written, and the analysis.
#[derive(Clone, Debug)]
pub struct Module {
    /// The validated IR.
    pub workflow: ir::Workflow,
    /// Source spans of the IR's blocks, flows and arrivals.
    pub spans: ir::SourceMap,
    /// Derived facts: visits, classes, work, critical path.
    pub analysis: analysis::Analysis,
}

/// The outcome of [`check`].
#[derive(Clone, Debug)]
pub struct Checked {
    /// The module, present exactly when there is no error (warnings allowed).
    pub module: Option<Module>,
    /// Every error and warning, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses, validates and analyses a `.owg` source.
///
/// `default_name` names the workflow when the source has no `workflow` statement (the file stem);
/// `loader` reads the CSV files the source names. Never panics, whatever the input.
pub fn check(source: &str, default_name: &str, loader: &dyn Loader) -> Checked {
    let mut diagnostics = Vec::new();
    let module = match parser::parse(source) {
        Err(errors) => {
            diagnostics = errors;
            None
        }
        Ok(stmts) => {
            let lowered = lower::lower(&stmts, default_name, loader, &mut diagnostics);
            let graph = validate::validate(&lowered, &mut diagnostics);
            if diagnostics.iter().any(Diagnostic::is_error) {
                None
            } else {
                let graph = graph.expect("graph facts exist when there is no error");
                let (workflow, spans) = lowered.into_ir();
                let analysis = analysis::analyse(&workflow, graph);
                Some(Module { workflow, spans, analysis })
            }
        }
    };
    diagnostics.sort_by_key(|d| d.span().map_or(0, |s| s.start));
    Checked { module, diagnostics }
}
