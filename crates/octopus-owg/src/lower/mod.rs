//! Syntax tree to IR: names resolved (statements in any order), arguments bound to parameters,
//! units converted, distributions and bounded counts built, CSV columns read through the [`Loader`].
//!
//! Every problem becomes a diagnostic and lowering goes on; a piece that could not be lowered is
//! `None` in [`Lowered`], and an error has been reported for it.
//!
//! One submodule per concern, each adding methods to the lowering context [`Cx`]:
//! `names` (declaring and resolving names, binding arguments), `numbers` (numbers and units),
//! `distributions` (a parameter's value, one function per distribution family), `counts` (the
//! bounded counts of loops and maps), `arrivals`, `blocks` (task kernels), `flows`, and `files`
//! (CSV columns).

mod arrivals;
mod blocks;
mod counts;
mod distributions;
mod files;
mod flows;
mod names;
mod numbers;

use std::collections::HashMap;
use std::rc::Rc;

use crate::Loader;
use crate::csv::Table;
use crate::diagnostics::{Diagnostic, Kind, diag};
use crate::dist::Dist;
use crate::index::IndexVec;
use crate::ir::{
    Arrivals, Block, BlockId, BlockKind, BoundedCount, Control, Flow, FlowId, SourceMap, Span, Task, Workflow,
};
use crate::parser::{OpenerKind, Stmt};

use self::names::Decl;

pub(crate) use self::names::list;

/// The lowered workflow, with holes where lowering failed.
pub(crate) struct Lowered {
    pub name: String,
    pub arrivals: Option<Arrivals>,
    pub arrivals_span: Option<Span>,
    pub blocks: IndexVec<BlockId, LBlock>,
    pub flows: IndexVec<FlowId, LFlow>,
    /// Some flow named a block that does not resolve: graph checks would report consequences, not causes.
    pub unresolved: bool,
    /// Branches that lost an outgoing flow to an unresolved name: their probabilities cannot be summed.
    pub tainted: Vec<BlockId>,
}

pub(crate) struct LBlock {
    pub name: String,
    pub span: Span,
    pub kind: LKind,
}

pub(crate) enum LKind {
    Task(Option<Box<Task>>),
    Opener { kind: OpenerKind, join: BlockId, count: Option<BoundedCount> },
    Join { opener: BlockId },
}

pub(crate) struct LFlow {
    pub from: BlockId,
    pub to: BlockId,
    pub bytes: Option<Dist>,
    pub probability: Option<f64>,
    /// The `p = ...` argument, when written.
    pub p_span: Option<Span>,
    /// `a -> b`.
    pub span: Span,
}

impl Lowered {
    /// The IR. Only called when no error was reported, so every hole is filled.
    pub fn into_ir(self) -> (Workflow, SourceMap) {
        let mut spans = SourceMap { arrivals: self.arrivals_span, ..SourceMap::default() };
        let blocks = self
            .blocks
            .into_iter()
            .map(|b| {
                spans.blocks.push(b.span);
                let kind = match b.kind {
                    LKind::Task(t) => BlockKind::Task(*t.expect("an error was reported for this task")),
                    LKind::Opener { kind, join, count } => BlockKind::Control(match kind {
                        OpenerKind::Branch => Control::Branch { join },
                        OpenerKind::Fork => Control::Fork { join },
                        OpenerKind::Map => {
                            Control::Map { width: count.expect("an error was reported for this map"), join }
                        }
                        OpenerKind::Loop => {
                            Control::Loop { count: count.expect("an error was reported for this loop"), join }
                        }
                    }),
                    LKind::Join { opener } => BlockKind::Control(Control::Join { opener }),
                };
                Block { name: b.name, kind }
            })
            .collect();
        let flows = self
            .flows
            .into_iter()
            .map(|f| {
                spans.flows.push(f.span);
                Flow {
                    from: f.from,
                    to: f.to,
                    bytes: f.bytes.expect("an error was reported for these bytes"),
                    probability: f.probability,
                }
            })
            .collect();
        let arrivals = self.arrivals.unwrap_or(Arrivals::Batch { requests: 1 });
        (Workflow { name: self.name, arrivals, blocks, flows }, spans)
    }
}

pub(crate) fn lower(
    stmts: &[Stmt<'_>],
    default_name: &str,
    loader: &dyn Loader,
    diags: &mut Vec<Diagnostic>,
) -> Lowered {
    let mut cx = Cx { diags, loader, files: HashMap::new(), names: HashMap::new(), bounds: 0 };
    let mut lowered = Lowered {
        name: default_name.to_owned(),
        arrivals: None,
        arrivals_span: None,
        blocks: IndexVec::new(),
        flows: IndexVec::new(),
        unresolved: false,
        tainted: Vec::new(),
    };

    // Declarations first, so statements may come in any order.
    for stmt in stmts {
        cx.declare_blocks(stmt, &mut lowered);
    }

    let mut workflow_span: Option<Span> = None;
    let mut flow_ids: HashMap<(BlockId, BlockId), FlowId> = HashMap::new();
    for stmt in stmts {
        match stmt {
            Stmt::Workflow { span, name } => {
                if let Some(first) = workflow_span {
                    cx.push(
                        diag(
                            Kind::DuplicateStatement,
                            *span,
                            "a second `workflow` statement",
                            "second name",
                            "a file describes one workflow: keep one `workflow` statement",
                        )
                        .with(first, "first named here"),
                    );
                } else {
                    workflow_span = Some(*span);
                    lowered.name = name.text.to_owned();
                }
            }
            Stmt::Arrivals { span, call } => {
                if let Some(first) = lowered.arrivals_span {
                    cx.push(
                        diag(
                            Kind::DuplicateStatement,
                            *span,
                            "a second `arrivals` statement",
                            "second arrival process",
                            "a workflow has one arrival process: keep one `arrivals` statement",
                        )
                        .with(first, "first given here"),
                    );
                } else {
                    lowered.arrivals_span = Some(*span);
                    lowered.arrivals = cx.arrivals(call);
                }
            }
            Stmt::Task { name, call } => {
                let task = cx.task(name, call);
                if let Some((Decl::Block(id), span)) = cx.names.get(name.text).copied()
                    && span == name.span
                {
                    lowered.blocks[id].kind = LKind::Task(task.map(Box::new));
                }
            }
            Stmt::Control { kind, name, args, join: _ } => {
                let count = cx.control(*kind, name, args.as_ref());
                if let Some((Decl::Block(id), span)) = cx.names.get(name.text).copied()
                    && span == name.span
                    && let LKind::Opener { count: slot, .. } = &mut lowered.blocks[id].kind
                {
                    *slot = count;
                }
            }
            Stmt::Flow { chain, attrs } => cx.flow(chain, attrs.as_ref(), &mut lowered, &mut flow_ids),
        }
    }

    if !lowered.blocks.iter().any(|b| matches!(b.kind, LKind::Task(_)))
        && !cx.names.values().any(|(d, _)| matches!(d, Decl::Poisoned))
    {
        let span = stmts.first().map_or(Span::new(0, 0), |s| match s {
            Stmt::Workflow { span, .. } | Stmt::Arrivals { span, .. } => *span,
            Stmt::Task { name, .. } | Stmt::Control { name, .. } => name.span,
            Stmt::Flow { chain, .. } => chain[0].span,
        });
        cx.push(diag(
            Kind::EmptyWorkflow,
            span,
            "the workflow has no task block",
            "no task in this file",
            "declare at least one task, e.g. `task infer = gemm(m = 1K, n = 1K, k = 1K)`",
        ));
    }
    lowered
}

/// The lowering context: where diagnostics go, the names declared, the files read.
struct Cx<'a, 'd> {
    diags: &'d mut Vec<Diagnostic>,
    loader: &'d dyn Loader,
    /// Loaded and parsed CSV files by path, each read once.
    files: HashMap<String, Result<Rc<Table>, String>>,
    names: HashMap<&'a str, (Decl, Span)>,
    /// The bounds of the loops and maps so far: each keeps a probability per count up to its bound.
    bounds: u64,
}

impl Cx<'_, '_> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn report(&mut self, kind: Kind, span: Span, message: String, label: &str, help: String) {
        self.diags.push(diag(kind, span, message, label, help));
    }
}
