//! Why an import failed: one error type for the crate, with stable `import::` codes and, where the
//! input can be pointed at, a span into the JSON text.

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

/// An input that cannot be turned into a workflow.
///
/// Spans are byte ranges into the JSON text given to [`crate::wfcommons`]; attach that text with
/// `miette::Report::with_source_code` to render them.
#[derive(Clone, Debug, PartialEq, Eq, Error, Diagnostic)]
pub enum ImportError {
    /// The text is not JSON, or is cut short.
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    #[diagnostic(code(import::json))]
    Json {
        /// serde_json's description, without its position.
        message: String,
        /// What to do about it.
        #[help]
        help: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// Where the parser stopped.
        #[label("here")]
        span: SourceSpan,
    },

    /// The JSON is well formed but lacks a section every WfFormat version has.
    #[error("missing `{section}`: this is not a WfCommons (WfFormat) instance")]
    #[diagnostic(
        code(import::missing_section),
        help(
            "WfFormat 1.5 and 1.6 list tasks in `workflow.specification.tasks`; \
             1.3 and 1.4 in `workflow.tasks`"
        )
    )]
    MissingSection {
        /// The dotted path of the missing section.
        section: String,
    },

    /// A field has a type no version of the format allows, and it cannot be read leniently.
    #[error("`{path}` should be {expected}")]
    #[diagnostic(code(import::bad_field))]
    BadField {
        /// Where, as a dotted path with indices (`workflow.specification.tasks[3].parents`).
        path: String,
        /// What was expected there.
        expected: &'static str,
        /// The field's value, when it can be found in the text.
        #[label("here")]
        span: Option<SourceSpan>,
    },

    /// The workflow has no tasks.
    #[error("the workflow has no tasks")]
    #[diagnostic(code(import::empty_workflow), help("`{section}` is an empty list"))]
    EmptyWorkflow {
        /// The section that lists tasks.
        section: String,
    },

    /// Two tasks share an ID, so references to it are ambiguous.
    #[error("two tasks have the ID `{id}`")]
    #[diagnostic(
        code(import::duplicate_task),
        help("task IDs must be unique: dependencies name tasks by ID")
    )]
    DuplicateTask {
        /// The repeated ID.
        id: String,
        /// Its second declaration, when it can be found in the text.
        #[label("declared again here")]
        span: Option<SourceSpan>,
    },

    /// A dependency names a task that the instance does not declare.
    #[error("task `{task}` names an unknown {relation} `{reference}`")]
    #[diagnostic(
        code(import::unknown_task),
        help("no task has this ID (or, in WfFormat 1.3 and 1.4, this name){more}")
    )]
    UnknownTask {
        /// The task holding the reference.
        task: String,
        /// `parent` or `child`.
        relation: &'static str,
        /// The unknown reference.
        reference: String,
        /// How many further unknown references there are, as a help suffix.
        more: String,
        /// The reference, when it can be found in the text.
        #[label("unknown task")]
        span: Option<SourceSpan>,
    },

    /// A task reads or writes a file missing from the instance's list of files.
    #[error("task `{task}` names an unknown file `{file}`")]
    #[diagnostic(
        code(import::unknown_file),
        help("`workflow.specification.files` lists no file with this ID (or name){more}")
    )]
    UnknownFile {
        /// The task holding the reference.
        task: String,
        /// The unknown file ID.
        file: String,
        /// How many further unknown file references there are, as a help suffix.
        more: String,
        /// The reference, when it can be found in the text.
        #[label("unknown file")]
        span: Option<SourceSpan>,
    },

    /// The dependencies form a cycle, so the tasks have no order to run in.
    #[error("the dependencies form a cycle: {}", cycle_text(.tasks))]
    #[diagnostic(
        code(import::cycle),
        help("a workflow trace is a DAG; each task's parents must finish before it starts")
    )]
    Cycle {
        /// The task IDs along the cycle, in order; the first follows the last.
        tasks: Vec<String>,
        /// The first task's declaration, when it can be found in the text.
        #[label("this task depends on itself through the cycle")]
        span: Option<SourceSpan>,
    },
}

fn cycle_text(tasks: &[String]) -> String {
    let mut s: String = tasks.iter().map(|t| format!("`{t}` -> ")).collect();
    if let Some(first) = tasks.first() {
        s.push_str(&format!("`{first}`"));
    }
    s
}

/// Help suffix for "and N more" counts.
pub(crate) fn more_suffix(extra: usize, what: &str) -> String {
    match extra {
        0 => String::new(),
        1 => format!("; 1 more {what} is unknown"),
        n => format!("; {n} more {what}s are unknown"),
    }
}
