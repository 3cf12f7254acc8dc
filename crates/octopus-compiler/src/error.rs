//! The crate's one error type: workflows that cannot be compiled, and plans that cannot be loaded.

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

/// A problem compiling a workflow or loading a plan.
///
/// Compilation errors point at the block's declaration through `span`; the caller attaches the
/// `.owg` source (`miette::Report::with_source_code`) to render it.
#[derive(Debug, Error, Diagnostic)]
pub enum CompileError {
    /// A task's working set exceeds every memory of the machine, so it cannot run at all.
    #[error("task `{name}` needs {needed} of memory, more than the {available} of `{hardware}`")]
    #[diagnostic(
        code(compile::does_not_fit),
        help(
            "the working set (weights, operands and results at the parameters' upper bounds) must fit in \
             the machine's off-chip memory plus scratchpads; shrink the task or use larger hardware"
        )
    )]
    DoesNotFit {
        /// The task block.
        name: String,
        /// Its largest working set, formatted.
        needed: String,
        /// The machine's memory, formatted.
        available: String,
        /// The machine.
        hardware: String,
        /// The task's declaration.
        #[label("declared here")]
        span: Option<SourceSpan>,
    },
    /// The weights of the workflow's models do not fit one die's memory.
    #[error(
        "the weights of this workflow need {needed}, more than the {available} of one die of `{hardware}`"
    )]
    #[diagnostic(
        code(compile::weights_do_not_fit),
        help(
            "every die holds the weights of every distinct model (an LLM's parameters once for all its blocks, \
             and every other block's resident bytes): {parts}; use fewer or smaller models, a narrower dtype, \
             or hardware with more memory per die"
        )
    )]
    WeightsDoNotFit {
        /// The weights, formatted.
        needed: String,
        /// One die's memory, formatted.
        available: String,
        /// The machine.
        hardware: String,
        /// The largest contributions, formatted.
        parts: String,
        /// The declaration of the largest model's first block.
        #[label("the largest model")]
        span: Option<SourceSpan>,
    },
    /// One sequence's KV cache does not fit what the weights leave of a die's memory.
    #[error(
        "one sequence of `{name}` needs {needed} of KV cache, more than the {available} the weights leave on a die of `{hardware}`"
    )]
    #[diagnostic(
        code(compile::kv_does_not_fit),
        help(
            "the KV cache of one sequence at its longest (context and tokens at their upper bounds) must fit beside the weights"
        )
    )]
    KvDoesNotFit {
        /// The LLM block.
        name: String,
        /// Its KV cache at its longest, formatted.
        needed: String,
        /// What is left, formatted.
        available: String,
        /// The machine.
        hardware: String,
        /// The block's declaration.
        #[label("declared here")]
        span: Option<SourceSpan>,
    },
    /// The text is not a plan.
    #[error("not a valid plan: {message}")]
    #[diagnostic(
        code(plan::syntax),
        help("a plan is the RON written by `octopus compile --format ron` or `-o`")
    )]
    PlanSyntax {
        /// The RON parser's message with its line and column.
        message: String,
    },
    /// The plan was written by another version of the compiler.
    #[error("plan version {found} is not supported: this build reads version {expected}")]
    #[diagnostic(code(plan::version), help("recompile the workflow with `octopus compile`"))]
    PlanVersion {
        /// The plan's `version`.
        found: u32,
        /// [`crate::PLAN_VERSION`].
        expected: u32,
    },
}
