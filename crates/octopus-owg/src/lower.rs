//! Syntax tree to IR: names resolved (statements in any order), arguments bound to parameters,
//! units converted, distributions and bounded counts built, CSV columns read through the [`Loader`].
//!
//! Every problem becomes a diagnostic and lowering goes on; a piece that could not be lowered is
//! `None` in [`Lowered`], and an error has been reported for it.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::rc::Rc;

use crate::Loader;
use crate::csv::{self, Table};
use crate::diagnostics::{Diagnostic, Kind, diag, num};
use crate::dist::{Dist, normal_cdf};
use crate::index::{Idx, IndexVec};
use crate::ir::{
    Arrivals, Block, BlockId, BlockKind, BoundedCount, Control, CountDist, DType, Dimension, Flow, FlowId,
    Kernel, KernelKind, SourceMap, Span, Task, Workflow,
};
use crate::parser::{Arg, Args, Call, Name, OpenerKind, Stmt, Value};
use crate::units;

/// The largest `max` of a loop or map: bounded counts keep a probability for each value up to it.
pub(crate) const MAX_BOUND: u64 = 1_000_000;

/// The largest sum of the bounds of all loops and maps of a workflow.
pub(crate) const MAX_TOTAL_BOUND: u64 = 10_000_000;

/// The largest whole number a count may hold exactly (2^53).
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// A loop or map bound that cuts off more than this share of its count distribution is warned about.
const TRUNCATION_WARNING: f64 = 0.01;

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

/// What a name stands for.
#[derive(Clone, Copy)]
enum Decl {
    Block(BlockId),
    /// Declared twice: reported, and flows naming it are dropped silently.
    Poisoned,
}

/// What a number means where it is written.
#[derive(Clone, Copy)]
struct Param<'s> {
    /// How diagnostics name it: "`m`", "`count`".
    name: &'s str,
    dimension: Dimension,
    integer: bool,
    /// Whether 0 is allowed (`context`, `bytes`, counts of loops and maps).
    allow_zero: bool,
    /// Whether it must be a constant.
    constant: bool,
}

/// The kinds of argument of a distribution.
#[derive(Clone, Copy, PartialEq)]
enum DistArg {
    /// In the units of the parameter.
    Value,
    /// A plain number (coefficient of variation).
    Ratio,
    /// A string (file, column).
    Str,
}

const DISTRIBUTIONS: [(&str, &[(&str, DistArg)]); 7] = [
    ("const", &[("x", DistArg::Value)]),
    ("uniform", &[("lo", DistArg::Value), ("hi", DistArg::Value)]),
    ("normal", &[("mean", DistArg::Value), ("cv", DistArg::Ratio)]),
    ("lognormal", &[("mean", DistArg::Value), ("cv", DistArg::Ratio)]),
    ("exponential", &[("mean", DistArg::Value)]),
    ("choice", &[]),
    ("empirical", &[("file", DistArg::Str), ("column", DistArg::Str)]),
];

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
        match stmt {
            Stmt::Task { name, .. } if cx.declare(name, &[]) => {
                let id = lowered.blocks.push(LBlock {
                    name: name.text.to_owned(),
                    span: name.span,
                    kind: LKind::Task(None),
                });
                cx.names.insert(name.text, (Decl::Block(id), name.span));
            }
            Stmt::Control { kind, name, join, .. } => {
                let ok_opener = cx.declare(name, &[]);
                let ok_join = cx.declare(join, &[name]);
                if ok_opener && ok_join {
                    let opener = BlockId::new(lowered.blocks.len());
                    let closer = BlockId::new(lowered.blocks.len() + 1);
                    lowered.blocks.push(LBlock {
                        name: name.text.to_owned(),
                        span: name.span,
                        kind: LKind::Opener { kind: *kind, join: closer, count: None },
                    });
                    lowered.blocks.push(LBlock {
                        name: join.text.to_owned(),
                        span: join.span,
                        kind: LKind::Join { opener },
                    });
                    cx.names.insert(name.text, (Decl::Block(opener), name.span));
                    cx.names.insert(join.text, (Decl::Block(closer), join.span));
                } else {
                    for n in [name, join] {
                        cx.names.entry(n.text).or_insert((Decl::Poisoned, n.span));
                    }
                }
            }
            _ => {}
        }
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
            Stmt::Flow { chain, attrs } => {
                let (bytes, p) = match attrs {
                    Some(a) => cx.flow_attrs(a),
                    None => (Some(Dist::Const(0.0)), None),
                };
                let ids: Vec<Option<BlockId>> = chain.iter().map(|n| cx.resolve(n, &mut lowered)).collect();
                for (i, pair) in chain.windows(2).enumerate() {
                    let span = pair[0].span.to(pair[1].span);
                    let (Some(from), Some(to)) = (ids[i], ids[i + 1]) else {
                        if let Some(from) = ids[i] {
                            lowered.tainted.push(from);
                        }
                        continue;
                    };
                    match flow_ids.entry((from, to)) {
                        Entry::Occupied(e) => {
                            let first = lowered.flows[*e.get()].span;
                            cx.push(
                                diag(
                                    Kind::DuplicateFlow,
                                    span,
                                    format!(
                                        "the flow `{}` -> `{}` is declared twice",
                                        pair[0].text, pair[1].text
                                    ),
                                    "declared again here",
                                    "declare each flow once; give it all its attributes there",
                                )
                                .with(first, "first declared here"),
                            );
                        }
                        Entry::Vacant(e) => {
                            let id = lowered.flows.push(LFlow {
                                from,
                                to,
                                bytes: bytes.clone(),
                                probability: p.map(|(p, _)| p),
                                p_span: p.map(|(_, s)| s),
                                span,
                            });
                            e.insert(id);
                        }
                    }
                }
            }
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

struct Cx<'a, 'd> {
    diags: &'d mut Vec<Diagnostic>,
    loader: &'d dyn Loader,
    /// Loaded and parsed CSV files by path, each read once.
    files: HashMap<String, Result<Rc<Table>, String>>,
    names: HashMap<&'a str, (Decl, Span)>,
    /// The bounds of the loops and maps so far: each keeps a probability per count up to its bound.
    bounds: u64,
}

impl<'a> Cx<'a, '_> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn report(&mut self, kind: Kind, span: Span, message: String, label: &str, help: String) {
        self.diags.push(diag(kind, span, message, label, help));
    }

    /// Declares `name` unless taken (also by `also`, names of the same statement); reports duplicates.
    fn declare(&mut self, name: &Name<'a>, also: &[&Name<'a>]) -> bool {
        let first = self
            .names
            .get(name.text)
            .map(|(_, s)| *s)
            .or_else(|| also.iter().find(|n| n.text == name.text).map(|n| n.span));
        match first {
            Some(first) => {
                self.push(
                    diag(
                        Kind::DuplicateName,
                        name.span,
                        format!("the name `{}` is declared twice", name.text),
                        "declared again here",
                        "names are unique across tasks, control blocks and closers: rename one of them",
                    )
                    .with(first, "first declared here"),
                );
                false
            }
            None => true,
        }
    }

    fn resolve(&mut self, name: &Name<'a>, lowered: &mut Lowered) -> Option<BlockId> {
        match self.names.get(name.text) {
            Some((Decl::Block(id), _)) => Some(*id),
            Some((Decl::Poisoned, _)) => {
                lowered.unresolved = true;
                None
            }
            None => {
                lowered.unresolved = true;
                let help = match suggest(name.text, self.names.keys().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "declare it, e.g. `task {} = compute(ops = 1M)`, or fix the spelling",
                        name.text
                    ),
                };
                self.report(
                    Kind::UnknownBlock,
                    name.span,
                    format!("unknown block `{}`", name.text),
                    "not declared",
                    help,
                );
                None
            }
        }
    }

    /// Binds arguments to parameter names: positional ones (at most `positional`) first, then named
    /// ones. Reports misplaced, unknown and duplicate arguments; returns one slot per name.
    fn bind<'x, 'y>(
        &mut self,
        args: &'x Args<'y>,
        names: &[&str],
        positional: usize,
        owner: &dyn fmt::Display,
    ) -> (Vec<Option<&'x Arg<'y>>>, bool) {
        let mut slots: Vec<Option<&Arg<'y>>> = vec![None; names.len()];
        let mut rejected = false;
        let mut seen_named = false;
        let mut position = 0;
        for arg in &args.items {
            if let Some(w) = &arg.weight {
                self.report(
                    Kind::BadArgument,
                    w.span(),
                    "a weighted pair `value: weight` outside `choice`".into(),
                    "unexpected weight",
                    "only `choice(v1: w1, v2: w2, ...)` takes weighted values".into(),
                );
                continue;
            }
            let slot = match &arg.name {
                Some(n) => {
                    seen_named = true;
                    match names.iter().position(|p| *p == n.text) {
                        Some(i) => i,
                        None => {
                            let help = match suggest(n.text, names.iter().copied()) {
                                Some(s) => format!("did you mean `{s}`? {owner} takes {}", list(names)),
                                None if names.is_empty() => format!("{owner} takes no arguments"),
                                None => format!("{owner} takes {}", list(names)),
                            };
                            self.report(
                                Kind::UnknownParam,
                                n.span,
                                format!("unknown argument `{}` of {owner}", n.text),
                                "unknown argument",
                                help,
                            );
                            continue;
                        }
                    }
                }
                None if seen_named => {
                    rejected = true;
                    self.report(
                        Kind::BadArgument,
                        arg.span,
                        format!("a positional argument after a named one, in {owner}"),
                        "positional argument",
                        format!("write positional arguments first, or name this one ({})", list(names)),
                    );
                    continue;
                }
                None if position >= positional.min(names.len()) => {
                    rejected = true;
                    let help = if positional == 0 {
                        format!("{owner} takes named arguments only: {}", list(names))
                    } else {
                        format!("{owner} takes at most {positional} positional arguments: {}", list(names))
                    };
                    self.report(
                        Kind::BadArgument,
                        arg.span,
                        format!("too many positional arguments for {owner}"),
                        "one too many",
                        help,
                    );
                    position += 1;
                    continue;
                }
                None => {
                    position += 1;
                    position - 1
                }
            };
            match slots[slot] {
                Some(first) => {
                    let span = arg.name.map_or(arg.span, |n| n.span);
                    self.push(
                        diag(
                            Kind::DuplicateParam,
                            span,
                            format!("the argument `{}` of {owner} is given twice", names[slot]),
                            "given again here",
                            "give each argument once",
                        )
                        .with(first.span, "first given here"),
                    );
                }
                None => slots[slot] = Some(arg),
            }
        }
        (slots, rejected)
    }

    /// Reports a missing argument, unless `rejected`: an argument was misplaced, and is likely the missing one.
    fn missing(&mut self, rejected: bool, at: Span, param: &str, owner: &dyn fmt::Display, doc: &str) {
        if rejected {
            return;
        }
        self.report(
            Kind::MissingParam,
            at,
            format!("missing argument `{param}` of {owner}"),
            &format!("`{param}` is needed"),
            if doc.is_empty() {
                format!("add `{param} = ...`")
            } else {
                format!("add `{param} = ...` ({doc})")
            },
        );
    }

    // ---- numbers and distributions ----

    /// A number in base units, checked against the dimension (unit conversion, warnings for bare
    /// times and rates). `None` after reporting an error.
    fn number(&mut self, value: &Value<'_>, dimension: Dimension, what: &dyn fmt::Display) -> Option<f64> {
        let Value::Number { value: x, number, unit, span } = value else {
            self.report(
                Kind::BadValue,
                value.span(),
                format!("expected a number for {what}, found {}", value.describe()),
                "not a number",
                format!("write {}, e.g. {}", dimension.describe(), example(dimension)),
            );
            return None;
        };
        let span = *span;
        if !x.is_finite() {
            self.report(
                Kind::BadNumber,
                *number,
                "this number is out of range".into(),
                "too large for a 64-bit float",
                "numbers must stay below about 1.8e308".into(),
            );
            return None;
        }
        let factor = match unit {
            None => {
                if matches!(dimension, Dimension::Time | Dimension::Rate) {
                    let (unit, meaning) =
                        if dimension == Dimension::Time { ("s", "seconds") } else { ("/s", "per second") };
                    self.report(
                        Kind::BareNumber,
                        span,
                        format!("a bare number for {what}, {}, is taken as {meaning}", dimension.describe()),
                        "no unit",
                        format!("write the unit, e.g. `{}{unit}`", num(*x)),
                    );
                }
                1.0
            }
            Some(u) => match units::lookup(u.text) {
                None => {
                    let help = match units::near_miss(u.text) {
                        Some(s) => format!(
                            "did you mean `{s}`? units of {}: {}",
                            dimension.describe(),
                            units::units_of(dimension)
                        ),
                        None => format!("units of {}: {}", noun(dimension), units::units_of(dimension)),
                    };
                    self.report(
                        Kind::UnknownUnit,
                        u.span,
                        format!("unknown unit `{}`", u.text),
                        "unknown unit",
                        help,
                    );
                    return None;
                }
                Some((d, f)) if d == dimension => f,
                Some((d, _)) => {
                    let help = if dimension == Dimension::Ratio {
                        format!("{what} is a plain number: remove the unit")
                    } else {
                        format!("units of {}: {}", noun(dimension), units::units_of(dimension))
                    };
                    self.report(
                        Kind::UnitMismatch,
                        u.span,
                        format!(
                            "{what} is {}, but `{}` is a unit of {}",
                            dimension.describe(),
                            u.text,
                            d.describe()
                        ),
                        &format!("a unit of {}", d.describe()),
                        help,
                    );
                    return None;
                }
            },
        };
        let v = x * factor;
        if !v.is_finite() {
            self.report(
                Kind::BadNumber,
                span,
                "this number is out of range".into(),
                "too large for a 64-bit float",
                "numbers must stay below about 1.8e308".into(),
            );
            return None;
        }
        Some(v)
    }

    /// A parameter's value: a number or a distribution, checked for sign and shape.
    fn dist(&mut self, value: &Value<'_>, p: Param<'_>) -> Option<Dist> {
        let what = Quoted("", p.name);
        let dist = match value {
            Value::Call(call) => self.dist_call(call, p)?,
            _ => Dist::Const(self.number(value, p.dimension, &what)?),
        };
        let written = dist.mean();
        let dist = if p.integer { round_dist(dist) } else { dist };
        if p.constant && !dist.is_const() {
            self.report(
                Kind::ShapeMismatch,
                value.span(),
                format!("{what} must be a constant, not a distribution"),
                "a distribution",
                format!("write a single number for {what}"),
            );
            return None;
        }
        // Keep constant-valued distributions in their simplest form.
        let dist =
            if dist.is_const() && !matches!(dist, Dist::Const(_)) { Dist::Const(dist.mean()) } else { dist };
        if let Dist::Const(c) = dist {
            if c < 0.0 || (c == 0.0 && !p.allow_zero) {
                let rounds =
                    if written != c { format!(" (rounded from {})", num(written)) } else { String::new() };
                self.report(
                    Kind::NonPositive,
                    value.span(),
                    format!("{what} must be {}, found {}{rounds}", positive(p.allow_zero), num(c)),
                    if c < 0.0 { "negative" } else { "zero" },
                    if p.allow_zero {
                        format!("{what} is {}: 0 or more", p.dimension.describe())
                    } else {
                        format!("{what} is {}: give it a value above zero", p.dimension.describe())
                    },
                );
                return None;
            }
        } else if dist.upper() <= 0.0 && !p.allow_zero {
            self.report(
                Kind::NonPositive,
                value.span(),
                format!("{what} must be positive, but every draw of this distribution is 0"),
                "always 0",
                format!("{what} is {}: give it values above zero", p.dimension.describe()),
            );
            return None;
        }
        Some(dist)
    }

    fn dist_call(&mut self, call: &Call<'_>, p: Param<'_>) -> Option<Dist> {
        let Some((name, specs)) = DISTRIBUTIONS.iter().find(|(n, _)| *n == call.name.text) else {
            let names: Vec<&str> = DISTRIBUTIONS.iter().map(|(n, _)| *n).collect();
            let help = match suggest(call.name.text, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? distributions: {}", list(&names)),
                None => format!("distributions: {}", list(&names)),
            };
            self.report(
                Kind::UnknownDistribution,
                call.name.span,
                format!("unknown distribution `{}`", call.name.text),
                "not a distribution",
                help,
            );
            return None;
        };
        let owner = Quoted("", name);
        if *name == "choice" {
            return self.choice(call, p);
        }
        let names: Vec<&str> = specs.iter().map(|(n, _)| *n).collect();
        let (slots, rejected) = self.bind(&call.args, &names, names.len(), &owner);
        let mut values = Vec::with_capacity(specs.len());
        let mut ok = true;
        let mut strings = Vec::new();
        for ((pname, kind), slot) in specs.iter().zip(&slots) {
            let Some(arg) = slot else {
                if !(*name == "empirical" && *pname == "column") {
                    self.missing(rejected, call.name.span, pname, &owner, "");
                    ok = false;
                }
                strings.push(None);
                values.push(f64::NAN);
                continue;
            };
            match kind {
                DistArg::Str => match &arg.value {
                    Value::Str { text, span } => strings.push(Some((text.clone(), *span))),
                    v => {
                        self.report(
                            Kind::BadValue,
                            v.span(),
                            format!("expected a string for `{pname}` of {owner}, found {}", v.describe()),
                            "not a string",
                            format!("write `{pname}` in double quotes, e.g. \"trace.csv\""),
                        );
                        ok = false;
                        strings.push(None);
                    }
                },
                DistArg::Value | DistArg::Ratio => {
                    strings.push(None);
                    let dim = if *kind == DistArg::Ratio { Dimension::Ratio } else { p.dimension };
                    if let Value::Call(c) = &arg.value {
                        self.report(
                            Kind::BadValue,
                            c.span,
                            format!("the arguments of {owner} are numbers, not distributions"),
                            "a distribution",
                            "distributions do not nest: write a number".into(),
                        );
                        ok = false;
                        values.push(f64::NAN);
                        continue;
                    }
                    match self.number(&arg.value, dim, &format_args!("`{pname}` of {owner}")) {
                        Some(v) => values.push(v),
                        None => {
                            ok = false;
                            values.push(f64::NAN);
                        }
                    }
                }
            }
        }
        if !ok {
            return None;
        }
        let arg_span = |i: usize| slots[i].map_or(call.span, |a| a.value.span());
        match *name {
            "const" => Some(Dist::Const(values[0])),
            "uniform" => {
                let (lo, hi) = (values[0], values[1]);
                if lo > hi {
                    self.report(
                        Kind::BadDistribution,
                        call.span,
                        format!("`uniform` needs `lo <= hi`, found {} > {}", num(lo), num(hi)),
                        "empty range",
                        "swap the bounds".into(),
                    );
                    return None;
                }
                if lo < 0.0 {
                    self.report(
                        Kind::NonPositive,
                        arg_span(0),
                        format!("`uniform` for `{}` can draw negative values", p.name),
                        "negative",
                        format!("`{}` cannot be negative: make `lo` at least 0", p.name),
                    );
                    return None;
                }
                if p.integer && hi <= MAX_EXACT {
                    let (l, h) = (lo.ceil(), hi.floor());
                    if l > h {
                        self.report(
                            Kind::BadDistribution,
                            call.span,
                            format!(
                                "`uniform({}, {})` holds no whole number, and `{}` is a whole number",
                                num(lo),
                                num(hi),
                                p.name
                            ),
                            "no whole number",
                            "widen the range to include a whole number".into(),
                        );
                        return None;
                    }
                    return Some(Dist::UniformInt { lo: l as i64, hi: h as i64 });
                }
                Some(Dist::Uniform { lo, hi })
            }
            "normal" | "lognormal" => {
                let (mean, cv) = (values[0], values[1]);
                if mean <= 0.0 {
                    self.report(
                        Kind::BadDistribution,
                        arg_span(0),
                        format!("the mean of `{name}` must be positive, found {}", num(mean)),
                        "not positive",
                        "a mean and a coefficient of variation describe positive quantities".into(),
                    );
                    return None;
                }
                if cv < 0.0 {
                    self.report(
                        Kind::BadDistribution,
                        arg_span(1),
                        format!(
                            "the coefficient of variation of `{name}` cannot be negative, found {}",
                            num(cv)
                        ),
                        "negative",
                        "`cv` is the standard deviation over the mean: 0 or more".into(),
                    );
                    return None;
                }
                if *name == "normal" {
                    let below = if cv > 0.0 { normal_cdf(-1.0 / cv) } else { 0.0 };
                    if below > 0.001 {
                        self.report(
                            Kind::NormalNegative,
                            call.span,
                            format!(
                                "{}% of this normal distribution lies below 0; those draws are clamped to 0",
                                num((below * 1000.0).round() / 10.0)
                            ),
                            "much mass below 0",
                            "use `lognormal(mean, cv)` for a positive quantity with a large spread".into(),
                        );
                    }
                    Some(Dist::Normal { mean, cv })
                } else {
                    Some(Dist::LogNormal { mean, cv })
                }
            }
            "exponential" => {
                let mean = values[0];
                if mean <= 0.0 {
                    self.report(
                        Kind::BadDistribution,
                        arg_span(0),
                        format!("the mean of `exponential` must be positive, found {}", num(mean)),
                        "not positive",
                        "give a mean above zero".into(),
                    );
                    return None;
                }
                Some(Dist::Exponential { mean })
            }
            "empirical" => {
                let (file, file_span) = strings[0].clone().expect("checked above");
                let (column, column_span) = match &strings[1] {
                    Some((c, s)) => (c.clone(), *s),
                    None => {
                        self.missing(
                            rejected,
                            call.name.span,
                            "column",
                            &owner,
                            "the CSV column to draw from",
                        );
                        return None;
                    }
                };
                let cells = self.column(&file, file_span, &column, column_span)?;
                let mut out = Vec::with_capacity(cells.len());
                for (line, cell) in cells {
                    match csv::number(&cell) {
                        Some(v) if v >= 0.0 => out.push(v),
                        _ => {
                            self.report(
                                Kind::Csv,
                                column_span,
                                format!("`{file}` line {line}: `{column}` holds `{cell}`, not a number of 0 or more"),
                                "bad value in this column",
                                "an empirical column holds plain numbers in base units (counts, bytes, seconds)"
                                    .into(),
                            );
                            return None;
                        }
                    }
                }
                if out.is_empty() {
                    self.report(
                        Kind::Csv,
                        column_span,
                        format!("`{file}` has no rows: the column `{column}` is empty"),
                        "empty column",
                        "an empirical distribution needs at least one value".into(),
                    );
                    return None;
                }
                Some(Dist::Empirical { source: format!("{file}#{column}"), values: out })
            }
            _ => unreachable!("every distribution is handled"),
        }
    }

    fn choice(&mut self, call: &Call<'_>, p: Param<'_>) -> Option<Dist> {
        let mut items = Vec::new();
        let mut ok = true;
        for arg in &call.args.items {
            if let Some(n) = arg.name {
                self.report(
                    Kind::BadArgument,
                    n.span,
                    "`choice` takes weighted values, not named arguments".into(),
                    "a name",
                    "write `choice(v1: w1, v2: w2, ...)`".into(),
                );
                ok = false;
                continue;
            }
            let Some(w) = &arg.weight else {
                self.report(
                    Kind::BadArgument,
                    arg.span,
                    "a value of `choice` without a weight".into(),
                    "no weight",
                    "write `value: weight`, e.g. `choice(2: 0.7, 4: 0.3)`".into(),
                );
                ok = false;
                continue;
            };
            let v = self.number(&arg.value, p.dimension, &Quoted("a value of ", p.name));
            let w = self.number(w, Dimension::Ratio, &"a weight of `choice`").map(|x| (x, w.span()));
            match (v, w) {
                (Some(v), Some((w, wspan))) => {
                    if w < 0.0 {
                        self.report(
                            Kind::BadDistribution,
                            wspan,
                            format!("a weight of `choice` is negative: {}", num(w)),
                            "negative",
                            "weights are 0 or more; they are divided by their sum".into(),
                        );
                        ok = false;
                    } else if v < 0.0 {
                        self.report(
                            Kind::NonPositive,
                            arg.value.span(),
                            format!("`{}` cannot be negative, found {}", p.name, num(v)),
                            "negative",
                            format!("`{}` is {}", p.name, p.dimension.describe()),
                        );
                        ok = false;
                    } else {
                        items.push((v, w));
                    }
                }
                _ => ok = false,
            }
        }
        if !ok {
            return None;
        }
        let total: f64 = items.iter().map(|(_, w)| w).sum();
        if !(total > 0.0 && total.is_finite()) {
            self.report(
                Kind::BadDistribution,
                call.span,
                "the weights of `choice` sum to 0".into(),
                "no weight",
                "give at least one value a positive weight, e.g. `choice(2: 0.7, 4: 0.3)`".into(),
            );
            return None;
        }
        Some(Dist::Choice(items.into_iter().map(|(v, w)| (v, w / total)).collect()))
    }

    /// The cells of a CSV column, reading the file through the loader once.
    fn column(
        &mut self,
        file: &str,
        file_span: Span,
        column: &str,
        column_span: Span,
    ) -> Option<Vec<(usize, String)>> {
        let table = match self.files.get(file) {
            Some(t) => t.clone(),
            None => {
                let t = self.loader.load(file).and_then(|text| Table::parse(&text)).map(Rc::new);
                self.files.insert(file.to_owned(), t.clone());
                t
            }
        };
        let table = match table {
            Ok(t) => t,
            Err(e) => {
                self.report(
                    Kind::Csv,
                    file_span,
                    format!("cannot read `{file}`: {e}"),
                    "this file",
                    "the path is relative to the `.owg` file; check that it exists and is a CSV file".into(),
                );
                return None;
            }
        };
        match table.column(column) {
            None => {
                let cols: Vec<&str> = table.columns().iter().map(String::as_str).collect();
                let help = match suggest(column, cols.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`? columns: {}", list(&cols)),
                    None => format!("columns: {}", list(&cols)),
                };
                self.report(
                    Kind::Csv,
                    column_span,
                    format!("`{file}` has no column `{column}`"),
                    "no such column",
                    help,
                );
                None
            }
            Some(Err(line)) => {
                self.report(
                    Kind::Csv,
                    column_span,
                    format!("`{file}` line {line} has no `{column}` field"),
                    "missing in a row",
                    "every row needs as many fields as the header".into(),
                );
                None
            }
            Some(Ok(cells)) => Some(cells.into_iter().map(|(l, c)| (l, c.to_owned())).collect()),
        }
    }

    // ---- statements ----

    fn task(&mut self, name: &Name<'_>, call: &Call<'_>) -> Option<Task> {
        let Some(kind) = KernelKind::from_name(call.name.text) else {
            let names: Vec<&str> = KernelKind::ALL.iter().map(|k| k.name()).collect();
            let help = match suggest(call.name.text, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? kernels: {}", list(&names)),
                None => format!("kernels: {}", list(&names)),
            };
            self.report(
                Kind::UnknownKernel,
                call.name.span,
                format!("unknown kernel `{}`", call.name.text),
                "not a kernel",
                help,
            );
            return None;
        };
        let specs = kind.params();
        let owner = Quoted("kernel ", kind.name());
        let mut names: Vec<&str> = specs.iter().map(|s| s.name).collect();
        names.push("dtype");
        let (slots, rejected) = self.bind(&call.args, &names, specs.len(), &owner);
        let mut params = Vec::with_capacity(specs.len());
        let mut ok = true;
        for (spec, slot) in specs.iter().zip(&slots) {
            let d = match slot {
                Some(arg) => {
                    let allow_zero = spec.default == Some(0.0);
                    let p = Param {
                        name: spec.name,
                        dimension: spec.dimension,
                        integer: spec.integer,
                        allow_zero,
                        constant: spec.constant,
                    };
                    self.dist(&arg.value, p)
                }
                None => match spec.default {
                    Some(d) => Some(Dist::Const(d)),
                    None => {
                        self.missing(rejected, call.name.span, spec.name, &owner, spec.doc);
                        None
                    }
                },
            };
            match d {
                Some(d) => params.push(d),
                None => ok = false,
            }
        }
        let dtype = match slots[specs.len()] {
            None => Some(DType::Fp16),
            Some(arg) => match &arg.value {
                Value::Name(n) if DType::from_name(n.text).is_some() => DType::from_name(n.text),
                v => {
                    self.report(
                        Kind::BadValue,
                        v.span(),
                        format!("`dtype` must be `int8`, `fp16`, `bf16` or `fp32`, found {}", v.describe()),
                        "not a dtype",
                        "write e.g. `dtype = bf16`".into(),
                    );
                    None
                }
            },
        };
        if !ok {
            return None;
        }
        let kernel = Kernel::from_params(kind, params);
        if let Kernel::Conv2d { h, w, kernel: k, .. } = &kernel
            && k.lower() > h.upper().min(w.upper())
        {
            {
                let at = slots[4].map_or(call.name.span, |a| a.value.span());
                self.report(
                    Kind::ShapeMismatch,
                    at,
                    format!(
                        "the convolution kernel ({}) is larger than its input ({} x {})",
                        num(k.upper()),
                        num(h.upper()),
                        num(w.upper())
                    ),
                    "larger than the input",
                    "a `conv2d` kernel is at most as large as the input's height and width".into(),
                );
                return None;
            }
        }
        let (coef, factors) = kernel.ops_monomial();
        let (mean, second) = factors
            .iter()
            .fold((coef, coef * coef), |(m, s), (d, k)| (m * d.raw_moment(*k), s * d.raw_moment(2 * *k)));
        if !(mean.is_finite() && second.is_finite()) {
            self.report(
                Kind::Overflow,
                name.span,
                format!("the operation count of `{}` overflows a 64-bit float", name.text),
                "too many operations",
                "check the units and magnitudes of the parameters".into(),
            );
            return None;
        }
        Some(Task { kernel, dtype: dtype? })
    }

    /// Lowers a control statement's arguments: the bounded count of a loop or map.
    fn control(
        &mut self,
        kind: OpenerKind,
        name: &Name<'_>,
        args: Option<&Args<'_>>,
    ) -> Option<BoundedCount> {
        let owner = Quoted("", kind.keyword());
        let empty = Args { items: Vec::new() };
        let args = args.unwrap_or(&empty);
        match kind {
            OpenerKind::Branch | OpenerKind::Fork => {
                self.bind(args, &[], 0, &owner);
                None
            }
            OpenerKind::Map => {
                let (slots, rejected) = self.bind(args, &["width", "max"], 0, &owner);
                let width = match slots[0] {
                    Some(a) => self.dist(&a.value, count_param("width")),
                    None => {
                        self.missing(
                            rejected,
                            name.span,
                            "width",
                            &owner,
                            "how many copies of the region run",
                        );
                        return None;
                    }
                };
                let max = match slots[1] {
                    Some(a) => Some(self.bound(a)?),
                    None => None,
                };
                let width = width?;
                let at = slots[0].map_or(name.span, |a| a.value.span());
                let max = match max {
                    Some(m) => m,
                    None if width.is_bounded() => {
                        let upper = width.upper().round().max(0.0);
                        if upper > MAX_BOUND as f64 {
                            self.report(
                                Kind::BoundTooLarge,
                                at,
                                format!(
                                    "the width of map `{}` reaches {}, above {MAX_BOUND}",
                                    name.text,
                                    num(upper)
                                ),
                                "too wide",
                                format!("widths up to {MAX_BOUND} are supported"),
                            );
                            return None;
                        }
                        upper as u64
                    }
                    None => {
                        self.report(
                            Kind::MapUnbounded,
                            at,
                            format!("the width of map `{}` is unbounded and it has no `max`", name.text),
                            "unbounded",
                            "add a bound, e.g. `max = 64`: draws above it are clamped to it".into(),
                        );
                        return None;
                    }
                };
                self.budget(max, at)?;
                let count = BoundedCount::new(CountDist::Dist(width), max);
                self.truncation(&count, at, "width", name.text);
                Some(count)
            }
            OpenerKind::Loop => {
                let (slots, rejected) = self.bind(args, &["count", "continue", "max"], 0, &owner);
                let max = match slots[2] {
                    Some(a) => self.bound(a),
                    None => {
                        self.report(
                            Kind::LoopUnbounded,
                            name.span,
                            format!("loop `{}` has no bound `max`", name.text),
                            "no `max`",
                            "every loop needs a bound, e.g. `max = 10`: the count is clamped to it".into(),
                        );
                        None
                    }
                };
                let dist = match (slots[0], slots[1]) {
                    (Some(a), Some(b)) => {
                        self.push(
                            diag(
                                Kind::BadArgument,
                                b.span,
                                format!("loop `{}` gives both `count` and `continue`", name.text),
                                "second way to count",
                                "give either `count = DIST` or `continue = P`",
                            )
                            .with(a.span, "`count` given here"),
                        );
                        None
                    }
                    (None, None) => {
                        self.missing(
                            rejected,
                            name.span,
                            "count",
                            &owner,
                            "a distribution of iterations, or `continue = P` instead",
                        );
                        None
                    }
                    (Some(a), None) => {
                        self.dist(&a.value, count_param("count")).map(|d| (CountDist::Dist(d), a))
                    }
                    (None, Some(a)) => self.continue_p(a).map(|p| (CountDist::Continue(p), a)),
                };
                let (max, (dist, arg)) = (max?, dist?);
                let at = arg.value.span();
                let cannot = match &dist {
                    CountDist::Continue(p) if *p >= 1.0 => {
                        Some(format!("loop `{}` always continues: only its bound {max} ends it", name.text))
                    }
                    CountDist::Dist(d) if d.cdf_rounded(max as f64) <= 0.0 => Some(format!(
                        "every count of loop `{}` exceeds its bound {max}: only the bound ends it",
                        name.text
                    )),
                    _ => None,
                };
                if let Some(message) = cannot {
                    self.report(
                        Kind::LoopCannotTerminate,
                        at,
                        message,
                        "never stops by itself",
                        "a loop must end by its own count: lower the count or `continue`, or raise `max`"
                            .into(),
                    );
                    return None;
                }
                self.budget(max, at)?;
                let count = BoundedCount::new(dist, max);
                self.truncation(&count, at, "count", name.text);
                Some(count)
            }
        }
    }

    /// Counts a bound against [`MAX_TOTAL_BOUND`]; reports when the workflow's bounds exceed it.
    fn budget(&mut self, max: u64, at: Span) -> Option<()> {
        self.bounds += max;
        if self.bounds > MAX_TOTAL_BOUND {
            self.report(
                Kind::BoundTooLarge,
                at,
                format!(
                    "the bounds of the loops and maps so far add up to {}, above {MAX_TOTAL_BOUND}",
                    self.bounds
                ),
                "one bound too many",
                "the analysis keeps a probability for every count up to each bound: lower the bounds".into(),
            );
            return None;
        }
        Some(())
    }

    /// Warns when a bound cuts off more than [`TRUNCATION_WARNING`] of a count's mass.
    fn truncation(&mut self, count: &BoundedCount, at: Span, what: &str, block: &str) {
        let cut = match &count.dist {
            CountDist::Continue(p) => p.powf(count.max as f64),
            CountDist::Dist(d) => 1.0 - d.cdf_rounded(count.max as f64),
        };
        if cut > TRUNCATION_WARNING {
            self.report(
                Kind::LoopBoundTruncates,
                at,
                format!(
                    "the bound {} of `{block}` cuts off {}% of its {what} distribution",
                    count.max,
                    num((cut * 1000.0).round() / 10.0)
                ),
                "often above the bound",
                "draws above `max` are clamped to it; raise `max` if that is not intended".into(),
            );
        }
    }

    /// A `max = N`: a constant whole number from 1 to [`MAX_BOUND`].
    fn bound(&mut self, arg: &Arg<'_>) -> Option<u64> {
        let v = self.whole(&arg.value, &"`max`")?;
        if v < 1.0 {
            self.report(
                Kind::NonPositive,
                arg.value.span(),
                format!("`max` must be at least 1, found {}", num(v)),
                "not positive",
                "a bound of 0 would never run the region".into(),
            );
            return None;
        }
        if v > MAX_BOUND as f64 {
            self.report(
                Kind::BoundTooLarge,
                arg.value.span(),
                format!("`max` is {}, above the largest supported bound {MAX_BOUND}", num(v)),
                "too large",
                format!("bounds up to {MAX_BOUND} are supported"),
            );
            return None;
        }
        Some(v as u64)
    }

    /// A constant whole number (a bound or a request count).
    fn whole(&mut self, value: &Value<'_>, what: &dyn fmt::Display) -> Option<f64> {
        if let Value::Call(c) = value {
            self.report(
                Kind::ShapeMismatch,
                c.span,
                format!("{what} must be a constant, not a distribution"),
                "a distribution",
                format!("write a single whole number for {what}"),
            );
            return None;
        }
        let v = self.number(value, Dimension::Count, what)?;
        if v.fract() != 0.0 || v.abs() > MAX_EXACT {
            self.report(
                Kind::BadValue,
                value.span(),
                format!("{what} must be a whole number, found {}", num(v)),
                "not a whole number",
                format!("write {what} as a whole number below 2^53"),
            );
            return None;
        }
        Some(v)
    }

    fn continue_p(&mut self, arg: &Arg<'_>) -> Option<f64> {
        let p = self.probability(&arg.value, &"`continue`")?;
        Some(p)
    }

    /// A constant probability in `[0, 1]`.
    fn probability(&mut self, value: &Value<'_>, what: &dyn fmt::Display) -> Option<f64> {
        if let Value::Call(c) = value {
            self.report(
                Kind::ShapeMismatch,
                c.span,
                format!("{what} must be a constant probability, not a distribution"),
                "a distribution",
                "write a number between 0 and 1".into(),
            );
            return None;
        }
        let p = self.number(value, Dimension::Ratio, what)?;
        if !(0.0..=1.0).contains(&p) {
            self.report(
                Kind::InvalidProbability,
                value.span(),
                format!("{what} is {}, outside [0, 1]", num(p)),
                "not a probability",
                "a probability is between 0 and 1".into(),
            );
            return None;
        }
        Some(p)
    }

    /// `[bytes = SIZE, p = P]`: the bytes (`None` after an error) and the probability with its span.
    fn flow_attrs(&mut self, attrs: &Args<'_>) -> (Option<Dist>, Option<(f64, Span)>) {
        let (slots, _) = self.bind(attrs, &["bytes", "p"], 0, &"a flow");
        let bytes = match slots[0] {
            Some(a) => self.dist(
                &a.value,
                Param {
                    name: "bytes",
                    dimension: Dimension::Bytes,
                    integer: false,
                    allow_zero: true,
                    constant: false,
                },
            ),
            None => Some(Dist::Const(0.0)),
        };
        // A bad probability was reported; keep the flow marked as carrying one.
        let p = slots[1].map(|a| (self.probability(&a.value, &"`p`").unwrap_or(f64::NAN), a.span));
        (bytes, p)
    }

    fn arrivals(&mut self, call: &Call<'_>) -> Option<Arrivals> {
        match call.name.text {
            "poisson" => {
                let (slots, rejected) = self.bind(&call.args, &["rate", "requests"], 2, &"`poisson`");
                let rate = match slots[0] {
                    None => {
                        self.missing(
                            rejected,
                            call.name.span,
                            "rate",
                            &"`poisson`",
                            "requests per unit of time, e.g. `2/s`",
                        );
                        None
                    }
                    Some(a) => self.dist(
                        &a.value,
                        Param {
                            name: "rate",
                            dimension: Dimension::Rate,
                            integer: false,
                            allow_zero: false,
                            constant: true,
                        },
                    ),
                };
                let requests = self.requests(slots[1], Some(1000));
                match (rate, requests) {
                    (Some(rate), Some(Some(requests))) => {
                        Some(Arrivals::Poisson { rate: rate.mean(), requests })
                    }
                    _ => None,
                }
            }
            "batch" => {
                let (slots, rejected) = self.bind(&call.args, &["requests"], 1, &"`batch`");
                if slots[0].is_none() {
                    self.missing(
                        rejected,
                        call.name.span,
                        "requests",
                        &"`batch`",
                        "how many requests are present at time 0",
                    );
                    return None;
                }
                self.requests(slots[0], Some(1))?.map(|requests| Arrivals::Batch { requests })
            }
            "replay" => {
                let (slots, rejected) =
                    self.bind(&call.args, &["file", "column", "requests"], 3, &"`replay`");
                let requests = self.requests(slots[2], None);
                let file = match slots[0] {
                    None => {
                        self.missing(
                            rejected,
                            call.name.span,
                            "file",
                            &"`replay`",
                            "a CSV file of arrival times",
                        );
                        None
                    }
                    Some(a) => self.string(a, "file"),
                };
                let column = match slots[1] {
                    None => Some(("TIMESTAMP".to_owned(), None)),
                    Some(a) => self.string(a, "column").map(|(c, s)| (c, Some(s))),
                };
                let ((file, file_span), (column, column_span), requests) = (file?, column?, requests?);
                let column_span = column_span.unwrap_or(file_span);
                let cells = self.column(&file, file_span, &column, column_span)?;
                let take = requests.map_or(cells.len(), |r| (r as usize).min(cells.len()));
                let mut raw = Vec::with_capacity(take);
                for (line, cell) in cells.into_iter().take(take) {
                    match csv::time(&cell) {
                        Some(t) => raw.push(t),
                        None => {
                            self.report(
                                Kind::Csv,
                                column_span,
                                format!("`{file}` line {line}: `{column}` holds `{cell}`, not a time"),
                                "bad time in this column",
                                "times are seconds (`12.5`) or timestamps `YYYY-MM-DD hh:mm:ss[.frac]`"
                                    .into(),
                            );
                            return None;
                        }
                    }
                }
                let Some(&first) = raw.iter().min_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1))) else {
                    self.report(
                        Kind::Csv,
                        column_span,
                        format!("`{file}` has no rows: no arrival to replay"),
                        "empty column",
                        "a replayed trace needs at least one arrival".into(),
                    );
                    return None;
                };
                let mut times: Vec<f64> =
                    raw.into_iter().map(|(s, f)| s.saturating_sub(first.0) as f64 + (f - first.1)).collect();
                times.sort_by(f64::total_cmp);
                Some(Arrivals::Replay { source: format!("{file}#{column}"), times })
            }
            other => {
                let names = ["poisson", "batch", "replay"];
                let help = match suggest(other, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`? arrival processes: {}", list(&names)),
                    None => format!("arrival processes: {}", list(&names)),
                };
                self.report(
                    Kind::UnknownArrivals,
                    call.name.span,
                    format!("unknown arrival process `{other}`"),
                    "not an arrival process",
                    help,
                );
                None
            }
        }
    }

    /// `requests = N` (or `all`, where `default` is `None`).
    fn requests(&mut self, slot: Option<&Arg<'_>>, default: Option<u64>) -> Option<Option<u64>> {
        let Some(a) = slot else { return Some(default) };
        if let Value::Name(n) = &a.value
            && n.text == "all"
            && default.is_none()
        {
            return Some(None);
        }
        let v = self.whole(&a.value, &"`requests`")?;
        if v < 1.0 {
            self.report(
                Kind::NonPositive,
                a.value.span(),
                format!("`requests` must be at least 1, found {}", num(v)),
                "not positive",
                "simulate at least one request".into(),
            );
            return None;
        }
        Some(Some(v as u64))
    }

    fn string(&mut self, arg: &Arg<'_>, what: &str) -> Option<(String, Span)> {
        match &arg.value {
            Value::Str { text, span } => Some((text.clone(), *span)),
            v => {
                self.report(
                    Kind::BadValue,
                    v.span(),
                    format!("expected a string for `{what}`, found {}", v.describe()),
                    "not a string",
                    format!("write `{what}` in double quotes"),
                );
                None
            }
        }
    }
}

fn count_param(name: &str) -> Param<'_> {
    Param { name, dimension: Dimension::Count, integer: true, allow_zero: true, constant: false }
}

/// For whole-number parameters: the values of discrete distributions rounded, as draws will be.
fn round_dist(d: Dist) -> Dist {
    match d {
        Dist::Const(c) => Dist::Const(c.round()),
        Dist::Choice(items) => Dist::Choice(items.into_iter().map(|(v, w)| (v.round(), w)).collect()),
        Dist::Empirical { source, values } => {
            Dist::Empirical { source, values: values.into_iter().map(f64::round).collect() }
        }
        d => d,
    }
}

/// The dimension as the object of "a unit of ...".
fn noun(d: Dimension) -> &'static str {
    match d {
        Dimension::Count => "count",
        Dimension::Bytes => "size",
        Dimension::Time => "time",
        Dimension::Rate => "rate",
        Dimension::Ratio => "plain numbers",
    }
}

fn positive(allow_zero: bool) -> &'static str {
    if allow_zero { "0 or more" } else { "positive" }
}

fn example(d: Dimension) -> &'static str {
    match d {
        Dimension::Count => "`4K`",
        Dimension::Bytes => "`16 KiB`",
        Dimension::Time => "`20 ms`",
        Dimension::Rate => "`2/s`",
        Dimension::Ratio => "`0.5`",
    }
}

/// "`a`, `b` and `c`".
pub(crate) fn list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.len() {
        0 => "nothing".into(),
        1 => quoted[0].clone(),
        n => format!("{} and {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

/// `prefix` and a quoted name, such as "kernel `gemm`", formatted only when a message needs it.
struct Quoted<'s>(&'static str, &'s str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}`{}`", self.0, self.1)
    }
}

/// The closest candidate within a small edit distance, for "did you mean".
pub(crate) fn suggest<'c>(name: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    if name.len() > 64 {
        return None;
    }
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .take(10_000)
        .filter(|c| c.len() <= 64)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb { prev } else { 1 + prev.min(cur).min(row[j]) };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest("thinck", ["think", "answer"].into_iter()), Some("think"));
        assert_eq!(suggest("zzz", ["think", "answer"].into_iter()), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
