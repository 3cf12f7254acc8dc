//! What the validator derives from a workflow: the side table (naga's `ModuleInfo` shape) that
//! later stages require as input, so they never re-derive graph facts.
//!
//! Costs here are *nominal operations*: a kernel's operation count, and `delay` tasks at
//! [`NOMINAL_OPS_PER_SECOND`]. The `*_with` methods take another cost (e.g. cycles from the
//! hardware's cost model) and reuse the same exact structure.

use serde::{Deserialize, Serialize};

use crate::index::IndexVec;
use crate::ir::{BlockId, FlowId};

/// A task block is dynamic when the coefficient of variation of its operations per execution, or
/// of its executions per request, exceeds this. Our choice; see `docs/language.md`.
pub const CLASS_CV_THRESHOLD: f64 = 0.3;

/// How `delay` tasks count in nominal operations.
pub const NOMINAL_OPS_PER_SECOND: f64 = 1e9;

/// Stable or dynamic: the two kinds of task block that Discriminate Dual-Scheduling treats apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// Time and frequency vary little: worth dedicated, warm TBUs.
    Stable,
    /// Time or frequency varies a lot: scheduled at run time from an elastic pool.
    Dynamic,
}

/// Facts about one block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockInfo {
    /// Expected executions per request (exact).
    pub visits: f64,
    /// Coefficient of variation of executions per request (exact).
    pub visits_cv: f64,
    /// Expected nominal operations per execution (0 for control blocks).
    pub ops: f64,
    /// Coefficient of variation of nominal operations per execution.
    pub ops_cv: f64,
    /// Stable or dynamic; `None` for control blocks.
    pub class: Option<Class>,
    /// The innermost region enclosing the block: the region's opener. `None` at top level.
    /// An opener and its closer belong to the region around them, not their own.
    pub region: Option<BlockId>,
}

/// The analysis side table of a validated workflow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Per block facts.
    pub blocks: IndexVec<BlockId, BlockInfo>,
    /// Outgoing flows of each block, in declaration order.
    pub succs: IndexVec<BlockId, Vec<FlowId>>,
    /// Incoming flows of each block, in declaration order.
    pub preds: IndexVec<BlockId, Vec<FlowId>>,
    /// A topological order of all blocks (ties broken by declaration order).
    pub topo: Vec<BlockId>,
    /// Blocks without incoming flows, where a request starts, in declaration order.
    pub entries: Vec<BlockId>,
    /// Expected nominal operations per request.
    pub expected_work: f64,
    /// Worst-case nominal operations per request.
    pub worst_work: f64,
    /// Expected critical path per request, in nominal operations.
    pub critical_path: f64,
}
