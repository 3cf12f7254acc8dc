//! The validated intermediate representation of a workflow.
//!
//! A [`Workflow`] is an arena of [`Block`]s (task blocks and control blocks) and an arena of
//! [`Flow`]s between them, addressed by typed IDs. Source locations live beside it in
//! [`SourceMap`], and derived facts in [`crate::analysis::Analysis`], so these types stay small,
//! comparable and serialisable. The kernel catalogue ([`Kernel`], [`KernelKind`], [`ParamSpec`])
//! and the bounded counts of loops and maps ([`BoundedCount`]) have modules of their own,
//! re-exported here.
//!
//! Invariants, established by [`crate::check`] and relied on by every later stage:
//! - every `BlockId` and `FlowId` stored here is in range;
//! - each opener (`branch`, `fork`, `map`, `loop`) names its closer, a [`Control::Join`] that names it back;
//! - the flow graph is acyclic (loops repeat a region, they are not back edges) and every region is
//!   single-entry single-exit (see `docs/language.md`);
//! - exactly the flows leaving a `branch` carry a probability, and those sum to 1.

use serde::{Deserialize, Serialize};

pub use crate::count::{BoundedCount, CountDist};
use crate::define_index;
use crate::dist::Dist;
use crate::index::IndexVec;
pub use crate::kernel::{Kernel, KernelKind, ParamSpec};

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
    /// What a TBU configured for the block keeps besides its configuration.
    pub resident: Resident,
    /// For `llm_prefill` and `llm_decode`: the model's shape and the batch limit (what the file
    /// gives; the cost model fills in the rest).
    pub llm: LlmSpec,
}

impl Task {
    /// A task with nothing marked resident beyond its kernel's own weights and no LLM shape.
    pub fn new(kernel: Kernel<Dist>, dtype: DType) -> Task {
        Task { kernel, dtype, resident: Resident::Implied, llm: LlmSpec::default() }
    }
}

/// The bytes a TBU configured for a task block keeps (its weights), besides the configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resident {
    /// The kernel's own weights: a `conv2d`'s filters, an LLM's parameters; nothing for the others.
    #[default]
    Implied,
    /// `gemm(..., weights = true)`: the right operand, `[k x n]`, is a weight matrix.
    GemmWeights,
    /// `resident = SIZE`: this many bytes, whatever the kernel.
    Bytes(f64),
}

/// The shape of an LLM block's model and its batch limit, each `None` when the file leaves it
/// out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmSpec {
    /// Transformer layers.
    pub layers: Option<u32>,
    /// Hidden (model) dimension.
    pub hidden: Option<u32>,
    /// Key-value heads.
    pub kv_heads: Option<u32>,
    /// Dimension of one attention head.
    pub head_dim: Option<u32>,
    /// Sequences one batch holds at most.
    pub max_batch: Option<u32>,
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
