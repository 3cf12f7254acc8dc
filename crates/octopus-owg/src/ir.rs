//! The validated intermediate representation of a workflow.
//!
//! A [`Workflow`] is an arena of [`Block`]s (task blocks and control blocks) and an arena of
//! [`Flow`]s between them, addressed by typed IDs. Source locations live beside it in
//! [`SourceMap`], and derived facts in [`crate::analysis::Analysis`], so these types stay small,
//! comparable and serialisable.
//!
//! Invariants, established by [`crate::check`] and relied on by every later stage:
//! - every `BlockId` and `FlowId` stored here is in range;
//! - each opener (`branch`, `fork`, `map`, `loop`) names its closer, a [`Control::Join`] that names it back;
//! - the flow graph is acyclic (loops repeat a region, they are not back edges) and every region is
//!   single-entry single-exit (see `docs/language.md`);
//! - exactly the flows leaving a `branch` carry a probability, and those sum to 1.

use serde::{Deserialize, Serialize};

use crate::define_index;
use crate::dist::Dist;
use crate::index::IndexVec;

define_index! {
    /// A block (task or control) of a [`Workflow`].
    pub struct BlockId;
}

define_index! {
    /// A flow (edge) of a [`Workflow`].
    pub struct FlowId;
}

/// A whole orchestrated workflow graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workflow {
    /// The name from the `workflow` statement, or the file stem given by the caller.
    pub name: String,
    /// How requests arrive.
    pub arrivals: Arrivals,
    /// Task blocks and control blocks, in declaration order.
    pub blocks: IndexVec<BlockId, Block>,
    /// Task flows, in declaration order (a chain `a -> b -> c` declares two flows).
    pub flows: IndexVec<FlowId, Flow>,
}

impl Workflow {
    /// The block called `name`, if any.
    pub fn block_by_name(&self, name: &str) -> Option<BlockId> {
        self.blocks.iter_enumerated().find(|(_, b)| b.name == name).map(|(id, _)| id)
    }

    /// The IDs of the task blocks, in declaration order.
    pub fn tasks(&self) -> impl Iterator<Item = BlockId> + '_ {
        self.blocks.iter_enumerated().filter(|(_, b)| b.is_task()).map(|(id, _)| id)
    }
}

/// One node of the graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Block {
    /// The user's name for it; unique within the workflow.
    pub name: String,
    /// What it does.
    pub kind: BlockKind,
}

impl Block {
    /// Whether this is a task block.
    pub fn is_task(&self) -> bool {
        matches!(self.kind, BlockKind::Task(_))
    }

    /// The task, if this is a task block.
    pub fn task(&self) -> Option<&Task> {
        match &self.kind {
            BlockKind::Task(t) => Some(t),
            BlockKind::Control(_) => None,
        }
    }

    /// The control, if this is a control block.
    pub fn control(&self) -> Option<&Control> {
        match &self.kind {
            BlockKind::Control(c) => Some(c),
            BlockKind::Task(_) => None,
        }
    }
}

/// Task block or control block.
// Kept unboxed: the IR stays plain data, and blocks number in the thousands at most.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum BlockKind {
    /// Computation on a TBU.
    Task(Task),
    /// A decision or synchronisation point on a CBU.
    Control(Control),
}

/// A task block: a kernel with (possibly random) parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// The kernel and its parameters.
    pub kernel: Kernel<Dist>,
    /// Element type of tensors and weights.
    pub dtype: DType,
}

/// Element types; the cost model needs their width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// 8-bit integer.
    Int8,
    /// 16-bit float (the default).
    Fp16,
    /// bfloat16.
    Bf16,
    /// 32-bit float.
    Fp32,
}

impl DType {
    /// Bytes per element.
    pub fn bytes(self) -> u32 {
        match self {
            DType::Int8 => 1,
            DType::Fp16 | DType::Bf16 => 2,
            DType::Fp32 => 4,
        }
    }

    /// The spelling in `.owg` files.
    pub fn name(self) -> &'static str {
        match self {
            DType::Int8 => "int8",
            DType::Fp16 => "fp16",
            DType::Bf16 => "bf16",
            DType::Fp32 => "fp32",
        }
    }

    /// Parses the spelling in `.owg` files.
    pub fn from_name(name: &str) -> Option<DType> {
        [DType::Int8, DType::Fp16, DType::Bf16, DType::Fp32].into_iter().find(|d| d.name() == name)
    }
}

/// A kernel with parameters of type `P`: [`Dist`] in the IR (what the user wrote), `f64` once a
/// run has drawn a concrete instance (see [`Kernel::sample`]).
///
/// Every parameter is in base units: counts are plain numbers, sizes are bytes, times are seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kernel<P> {
    /// Matrix multiply `[m x k] * [k x n]`.
    Gemm {
        /// Rows of the left operand and of the result.
        m: P,
        /// Columns of the right operand and of the result.
        n: P,
        /// The shared (reduction) dimension.
        k: P,
    },
    /// 2-D convolution, `same` padding: output is `h/stride x w/stride x cout`.
    Conv2d {
        /// Input height.
        h: P,
        /// Input width.
        w: P,
        /// Input channels.
        cin: P,
        /// Output channels.
        cout: P,
        /// Square kernel size.
        kernel: P,
        /// Stride (a constant).
        stride: P,
    },
    /// Multi-head self-attention over a sequence: `QK^T` and `PV`.
    Attention {
        /// Sequence length.
        seq: P,
        /// Number of heads.
        heads: P,
        /// Dimension of one head.
        dim: P,
    },
    /// LLM prompt processing: all prompt tokens in one pass over the weights.
    LlmPrefill {
        /// Model parameters (weights).
        params: P,
        /// Prompt tokens.
        tokens: P,
    },
    /// LLM generation: one pass over the weights per generated token.
    LlmDecode {
        /// Model parameters (weights).
        params: P,
        /// Generated tokens.
        tokens: P,
        /// Context length (prompt plus history) the KV cache holds.
        context: P,
    },
    /// Elementwise map over a tensor (activation, normalisation, NMS scoring).
    Elementwise {
        /// Elements.
        elems: P,
        /// Operations per element.
        ops_per_elem: P,
    },
    /// Reduction of a tensor to a scalar or a row (sum, max, top-k).
    Reduce {
        /// Elements read.
        elems: P,
    },
    /// General computation (tool calls, parsing, search, tracking): an operation count that a PEA
    /// runs at a lower efficiency than AI kernels.
    Compute {
        /// Operations.
        ops: P,
        /// Bytes of memory traffic.
        bytes: P,
    },
    /// A fixed duration, whatever the hardware: a measured runtime from a trace.
    Delay {
        /// Seconds.
        time: P,
    },
}

/// Which kernel, without its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KernelKind {
    /// [`Kernel::Gemm`].
    Gemm,
    /// [`Kernel::Conv2d`].
    Conv2d,
    /// [`Kernel::Attention`].
    Attention,
    /// [`Kernel::LlmPrefill`].
    LlmPrefill,
    /// [`Kernel::LlmDecode`].
    LlmDecode,
    /// [`Kernel::Elementwise`].
    Elementwise,
    /// [`Kernel::Reduce`].
    Reduce,
    /// [`Kernel::Compute`].
    Compute,
    /// [`Kernel::Delay`].
    Delay,
}

/// The physical dimension of a number; units are checked against it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dimension {
    /// A plain count (`K`, `M`, `G` suffixes allowed).
    Count,
    /// A size in bytes (`B`, `KiB`, `MB`, ...).
    Bytes,
    /// A time in seconds (`ns`, `us`, `ms`, `s`, `min`, `h`).
    Time,
    /// A rate in events per second (`/s`, `/ms`, `/min`, ...).
    Rate,
    /// A dimensionless real number (probabilities, coefficients of variation, weights).
    Ratio,
}

impl Dimension {
    /// How diagnostics name it.
    pub fn describe(self) -> &'static str {
        match self {
            Dimension::Count => "a count",
            Dimension::Bytes => "a size in bytes",
            Dimension::Time => "a time",
            Dimension::Rate => "a rate",
            Dimension::Ratio => "a plain number",
        }
    }
}

/// The declaration of one kernel parameter: what `.owg` files may write.
#[derive(Clone, Copy, Debug)]
pub struct ParamSpec {
    /// Its name in `.owg` files.
    pub name: &'static str,
    /// Its dimension.
    pub dimension: Dimension,
    /// Whether values are whole numbers (samples are rounded).
    pub integer: bool,
    /// The value when omitted; `None` makes it required.
    pub default: Option<f64>,
    /// Whether it must be a constant rather than a distribution.
    pub constant: bool,
    /// One line for the docs and for `help` texts.
    pub doc: &'static str,
}

const fn req(name: &'static str, dimension: Dimension, integer: bool, doc: &'static str) -> ParamSpec {
    ParamSpec { name, dimension, integer, default: None, constant: false, doc }
}

const fn opt(
    name: &'static str,
    dimension: Dimension,
    integer: bool,
    default: f64,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec { name, dimension, integer, default: Some(default), constant: false, doc }
}

use Dimension::{Bytes, Count, Time};

static GEMM: [ParamSpec; 3] = [
    req("m", Count, true, "rows of the left operand"),
    req("n", Count, true, "columns of the right operand"),
    req("k", Count, true, "shared (reduction) dimension"),
];
static CONV2D: [ParamSpec; 6] = [
    req("h", Count, true, "input height"),
    req("w", Count, true, "input width"),
    req("cin", Count, true, "input channels"),
    req("cout", Count, true, "output channels"),
    opt("kernel", Count, true, 3.0, "square kernel size"),
    ParamSpec {
        name: "stride",
        dimension: Count,
        integer: true,
        default: Some(1.0),
        constant: true,
        doc: "stride (a constant)",
    },
];
static ATTENTION: [ParamSpec; 3] = [
    req("seq", Count, true, "sequence length"),
    req("heads", Count, true, "number of heads"),
    opt("dim", Count, true, 128.0, "dimension of one head"),
];
static LLM_PREFILL: [ParamSpec; 2] =
    [req("params", Count, false, "model parameters"), req("tokens", Count, true, "prompt tokens")];
static LLM_DECODE: [ParamSpec; 3] = [
    req("params", Count, false, "model parameters"),
    req("tokens", Count, true, "generated tokens"),
    opt("context", Count, true, 0.0, "context tokens held in the KV cache"),
];
static ELEMENTWISE: [ParamSpec; 2] =
    [req("elems", Count, true, "elements"), opt("ops_per_elem", Count, false, 1.0, "operations per element")];
static REDUCE: [ParamSpec; 1] = [req("elems", Count, true, "elements read")];
static COMPUTE: [ParamSpec; 2] =
    [req("ops", Count, false, "operations"), opt("bytes", Bytes, false, 0.0, "bytes of memory traffic")];
static DELAY: [ParamSpec; 1] = [req("time", Time, false, "fixed duration")];

impl KernelKind {
    /// Every kernel, in documentation order.
    pub const ALL: [KernelKind; 9] = [
        KernelKind::Gemm,
        KernelKind::Conv2d,
        KernelKind::Attention,
        KernelKind::LlmPrefill,
        KernelKind::LlmDecode,
        KernelKind::Elementwise,
        KernelKind::Reduce,
        KernelKind::Compute,
        KernelKind::Delay,
    ];

    /// Its name in `.owg` files.
    pub fn name(self) -> &'static str {
        match self {
            KernelKind::Gemm => "gemm",
            KernelKind::Conv2d => "conv2d",
            KernelKind::Attention => "attention",
            KernelKind::LlmPrefill => "llm_prefill",
            KernelKind::LlmDecode => "llm_decode",
            KernelKind::Elementwise => "elementwise",
            KernelKind::Reduce => "reduce",
            KernelKind::Compute => "compute",
            KernelKind::Delay => "delay",
        }
    }

    /// Parses a kernel name.
    pub fn from_name(name: &str) -> Option<KernelKind> {
        KernelKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Its parameters, in the order [`Kernel::from_params`] takes them.
    pub fn params(self) -> &'static [ParamSpec] {
        match self {
            KernelKind::Gemm => &GEMM,
            KernelKind::Conv2d => &CONV2D,
            KernelKind::Attention => &ATTENTION,
            KernelKind::LlmPrefill => &LLM_PREFILL,
            KernelKind::LlmDecode => &LLM_DECODE,
            KernelKind::Elementwise => &ELEMENTWISE,
            KernelKind::Reduce => &REDUCE,
            KernelKind::Compute => &COMPUTE,
            KernelKind::Delay => &DELAY,
        }
    }

    /// Whether this is an AI kernel (runs at the PEA's full efficiency) rather than general compute.
    pub fn is_ai(self) -> bool {
        !matches!(self, KernelKind::Compute | KernelKind::Delay)
    }
}

impl<P> Kernel<P> {
    /// Which kernel this is.
    pub fn kind(&self) -> KernelKind {
        match self {
            Kernel::Gemm { .. } => KernelKind::Gemm,
            Kernel::Conv2d { .. } => KernelKind::Conv2d,
            Kernel::Attention { .. } => KernelKind::Attention,
            Kernel::LlmPrefill { .. } => KernelKind::LlmPrefill,
            Kernel::LlmDecode { .. } => KernelKind::LlmDecode,
            Kernel::Elementwise { .. } => KernelKind::Elementwise,
            Kernel::Reduce { .. } => KernelKind::Reduce,
            Kernel::Compute { .. } => KernelKind::Compute,
            Kernel::Delay { .. } => KernelKind::Delay,
        }
    }

    /// Builds a kernel from its parameters in the order of [`KernelKind::params`].
    ///
    /// # Panics
    /// When `params` has the wrong length: the caller checked it against the spec.
    pub fn from_params(kind: KernelKind, params: Vec<P>) -> Kernel<P> {
        assert_eq!(params.len(), kind.params().len(), "wrong parameter count for {}", kind.name());
        let mut it = params.into_iter();
        let mut next = || it.next().expect("length checked above");
        match kind {
            KernelKind::Gemm => Kernel::Gemm { m: next(), n: next(), k: next() },
            KernelKind::Conv2d => Kernel::Conv2d {
                h: next(),
                w: next(),
                cin: next(),
                cout: next(),
                kernel: next(),
                stride: next(),
            },
            KernelKind::Attention => Kernel::Attention { seq: next(), heads: next(), dim: next() },
            KernelKind::LlmPrefill => Kernel::LlmPrefill { params: next(), tokens: next() },
            KernelKind::LlmDecode => Kernel::LlmDecode { params: next(), tokens: next(), context: next() },
            KernelKind::Elementwise => Kernel::Elementwise { elems: next(), ops_per_elem: next() },
            KernelKind::Reduce => Kernel::Reduce { elems: next() },
            KernelKind::Compute => Kernel::Compute { ops: next(), bytes: next() },
            KernelKind::Delay => Kernel::Delay { time: next() },
        }
    }

    /// The parameters in the order of [`KernelKind::params`].
    pub fn params(&self) -> Vec<&P> {
        match self {
            Kernel::Gemm { m, n, k } => vec![m, n, k],
            Kernel::Conv2d { h, w, cin, cout, kernel, stride } => vec![h, w, cin, cout, kernel, stride],
            Kernel::Attention { seq, heads, dim } => vec![seq, heads, dim],
            Kernel::LlmPrefill { params, tokens } => vec![params, tokens],
            Kernel::LlmDecode { params, tokens, context } => vec![params, tokens, context],
            Kernel::Elementwise { elems, ops_per_elem } => vec![elems, ops_per_elem],
            Kernel::Reduce { elems } => vec![elems],
            Kernel::Compute { ops, bytes } => vec![ops, bytes],
            Kernel::Delay { time } => vec![time],
        }
    }

    /// The same kernel with every parameter mapped through `f`.
    pub fn map<Q>(&self, mut f: impl FnMut(&P, &ParamSpec) -> Q) -> Kernel<Q> {
        let specs = self.kind().params();
        let mapped = self.params().into_iter().zip(specs).map(|(p, s)| f(p, s)).collect();
        Kernel::from_params(self.kind(), mapped)
    }

    /// Operations of one execution as a monomial `coef * prod(param^power)`, so that exact moments
    /// follow from the parameters' raw moments (parameters are independent).
    /// `Delay` has no operations (`coef` 0).
    pub fn ops_monomial(&self) -> (f64, Vec<(&P, i32)>) {
        match self {
            Kernel::Gemm { m, n, k } => (2.0, vec![(m, 1), (n, 1), (k, 1)]),
            // Output pixels h*w/stride^2, each cin*cout*kernel^2 multiply-adds; stride is a constant.
            Kernel::Conv2d { h, w, cin, cout, kernel, stride } => {
                (2.0, vec![(h, 1), (w, 1), (cin, 1), (cout, 1), (kernel, 2), (stride, -2)])
            }
            // QK^T and PV: two seq x seq x dim products per head.
            Kernel::Attention { seq, heads, dim } => (4.0, vec![(seq, 2), (heads, 1), (dim, 1)]),
            Kernel::LlmPrefill { params, tokens } | Kernel::LlmDecode { params, tokens, .. } => {
                (2.0, vec![(params, 1), (tokens, 1)])
            }
            Kernel::Elementwise { elems, ops_per_elem } => (1.0, vec![(elems, 1), (ops_per_elem, 1)]),
            Kernel::Reduce { elems } => (1.0, vec![(elems, 1)]),
            Kernel::Compute { ops, .. } => (1.0, vec![(ops, 1)]),
            Kernel::Delay { time } => (0.0, vec![(time, 1)]),
        }
    }
}

impl Kernel<f64> {
    /// Operations of this concrete instance: [`Kernel::ops_monomial`] evaluated, factor by factor
    /// in its order (so the result is the same to the bit), without its vector: the simulator
    /// calls this for every task it runs.
    pub fn ops(&self) -> f64 {
        let f = |acc: f64, x: f64, p: i32| acc * x.powi(p);
        match *self {
            Kernel::Gemm { m, n, k } => f(f(f(2.0, m, 1), n, 1), k, 1),
            Kernel::Conv2d { h, w, cin, cout, kernel, stride } => {
                f(f(f(f(f(f(2.0, h, 1), w, 1), cin, 1), cout, 1), kernel, 2), stride, -2)
            }
            Kernel::Attention { seq, heads, dim } => f(f(f(4.0, seq, 2), heads, 1), dim, 1),
            Kernel::LlmPrefill { params, tokens } | Kernel::LlmDecode { params, tokens, .. } => {
                f(f(2.0, params, 1), tokens, 1)
            }
            Kernel::Elementwise { elems, ops_per_elem } => f(f(1.0, elems, 1), ops_per_elem, 1),
            Kernel::Reduce { elems } => f(1.0, elems, 1),
            Kernel::Compute { ops, .. } => f(1.0, ops, 1),
            Kernel::Delay { time } => f(0.0, time, 1),
        }
    }
}

impl Kernel<Dist> {
    /// Draws a concrete instance: every parameter sampled independently.
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> Kernel<f64> {
        self.map(|d, spec| d.sample(rng, spec.integer))
    }
}

/// A control block: runs on a CBU at a small fixed cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    /// Exactly one successor runs, chosen by the probabilities on its outgoing flows.
    Branch {
        /// Its closer.
        join: BlockId,
    },
    /// All successors run in parallel; the join waits for all.
    Fork {
        /// Its closer.
        join: BlockId,
    },
    /// Dynamic fan-out: the region up to `join` runs `width` times in parallel.
    Map {
        /// Copies per execution (whole numbers, at most `max`).
        width: BoundedCount,
        /// Its closer.
        join: BlockId,
    },
    /// The region up to `join` runs `count` times in sequence.
    Loop {
        /// Iterations per execution (at most `max`).
        count: BoundedCount,
        /// Its closer.
        join: BlockId,
    },
    /// The closer of a region: merges a branch, waits for a fork's or a map's copies, ends a loop.
    Join {
        /// The opener whose region this closes.
        opener: BlockId,
    },
}

impl Control {
    /// The closer, for an opener.
    pub fn join(&self) -> Option<BlockId> {
        match *self {
            Control::Branch { join } | Control::Fork { join } => Some(join),
            Control::Map { join, .. } | Control::Loop { join, .. } => Some(join),
            Control::Join { .. } => None,
        }
    }

    /// The keyword that declares it.
    pub fn keyword(&self) -> &'static str {
        match self {
            Control::Branch { .. } => "branch",
            Control::Fork { .. } => "fork",
            Control::Map { .. } => "map",
            Control::Loop { .. } => "loop",
            Control::Join { .. } => "join",
        }
    }
}

/// A bounded random count (loop iterations, map width): an exact probability for each value
/// `0..=max`, so analysis never samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoundedCount {
    /// What the user wrote.
    pub dist: CountDist,
    /// The bound: draws above it are clamped to it.
    pub max: u64,
    /// `pmf[i]` is the probability of the value `i`; sums to 1 and has `max + 1` entries.
    pub pmf: Vec<f64>,
}

/// How a [`BoundedCount`] was written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountDist {
    /// `count = DIST` or `width = DIST`: draws rounded to the nearest whole number, clamped to `0..=max`.
    Dist(Dist),
    /// `continue = P`: at least one iteration, and each further one with probability `P`.
    Continue(f64),
}

impl BoundedCount {
    /// Builds the exact distribution of a bounded count.
    pub fn new(dist: CountDist, max: u64) -> BoundedCount {
        let n = max as usize + 1;
        let mut pmf = vec![0.0; n];
        match &dist {
            CountDist::Continue(p) => {
                // 1 + Geometric(p) extra iterations, the tail folded onto `max`.
                let mut mass = 1.0;
                for (i, slot) in pmf.iter_mut().enumerate().skip(1) {
                    if i == n - 1 {
                        *slot = mass;
                    } else {
                        *slot = mass * (1.0 - p);
                        mass *= p;
                    }
                }
                if n == 1 {
                    pmf[0] = 1.0;
                }
            }
            // Discrete distributions: a histogram, linear in values plus bound (the CDF route
            // would cost values times bound).
            CountDist::Dist(Dist::Choice(items)) => {
                for (v, w) in items {
                    pmf[(v.round().max(0.0) as usize).min(n - 1)] += w;
                }
            }
            CountDist::Dist(Dist::Empirical { values, .. }) => {
                for v in values {
                    pmf[(v.round().max(0.0) as usize).min(n - 1)] += 1.0;
                }
            }
            CountDist::Dist(d) => {
                let mut prev = 0.0;
                for (i, slot) in pmf.iter_mut().enumerate() {
                    let upper = if i == n - 1 { 1.0 } else { d.cdf_rounded(i as f64) };
                    *slot = (upper - prev).max(0.0);
                    prev = upper.max(prev);
                }
            }
        }
        let total: f64 = pmf.iter().sum();
        if total > 0.0 {
            pmf.iter_mut().for_each(|p| *p /= total);
        }
        BoundedCount { dist, max, pmf }
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        self.pmf.iter().enumerate().map(|(i, p)| i as f64 * p).sum()
    }

    /// The variance.
    pub fn variance(&self) -> f64 {
        let m = self.mean();
        self.pmf.iter().enumerate().map(|(i, p)| (i as f64 - m).powi(2) * p).sum()
    }

    /// The largest value with a non-zero probability.
    pub fn upper(&self) -> u64 {
        self.pmf.iter().rposition(|&p| p > 0.0).unwrap_or(0) as u64
    }

    /// Draws a value by inverting the exact distribution.
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        let u: f64 = rng.random();
        let mut acc = 0.0;
        for (i, p) in self.pmf.iter().enumerate() {
            acc += p;
            if u < acc {
                return i as u64;
            }
        }
        self.upper()
    }
}

/// A task flow: data from one block to the next.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    /// Producer.
    pub from: BlockId,
    /// Consumer.
    pub to: BlockId,
    /// Bytes carried per execution.
    pub bytes: Dist,
    /// The probability of taking this flow, on flows leaving a `branch`; `None` elsewhere.
    pub probability: Option<f64>,
}

/// How requests arrive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrivals {
    /// A Poisson process.
    Poisson {
        /// Requests per second.
        rate: f64,
        /// How many requests a run simulates.
        requests: u64,
    },
    /// A closed batch: all requests present at time zero (the makespan setting).
    Batch {
        /// How many requests.
        requests: u64,
    },
    /// Replay of recorded arrival times.
    Replay {
        /// Where they came from (`path#column`), for reports.
        source: String,
        /// Arrival times in seconds after the first, ascending.
        times: Vec<f64>,
    },
}

impl Arrivals {
    /// How many requests a run simulates.
    pub fn requests(&self) -> u64 {
        match self {
            Arrivals::Poisson { requests, .. } | Arrivals::Batch { requests } => *requests,
            Arrivals::Replay { times, .. } => times.len() as u64,
        }
    }
}

/// A byte range in the source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from byte offsets.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start: start as u32, end: end as u32 }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        (s.start as usize, (s.end - s.start) as usize).into()
    }
}

/// Where each piece of the IR was written: kept beside the IR, not in it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceMap {
    /// The name in each block's declaration.
    pub blocks: IndexVec<BlockId, Span>,
    /// Each flow's `a -> b` arrow.
    pub flows: IndexVec<FlowId, Span>,
    /// The `arrivals` statement, if written.
    pub arrivals: Option<Span>,
}
