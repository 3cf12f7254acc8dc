//! The placement plan: plain serde data, versioned, readable without the compiler.

use octopus_hw::{ClusterId, TbuId, TbuKindId};
use octopus_owg::analysis::Class;
use octopus_owg::ir::{BlockId, FlowId};
use serde::{Deserialize, Serialize};

use crate::error::CompileError;

/// The plan format's version; [`Plan::from_ron`] rejects any other.
pub const PLAN_VERSION: u32 = 3;

/// Where everything of one workflow runs on one machine, and what the compiler predicts.
///
/// Entries are keyed by the workflow's [`BlockId`] and [`FlowId`], so the simulator joins them to
/// the IR; fingerprints tell it when the plan was made for another workflow or machine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// [`PLAN_VERSION`] when written.
    pub version: u32,
    /// The workflow's name.
    pub workflow: String,
    /// [`octopus_owg::fingerprint`] of the workflow IR (with [`octopus_owg::IR_VERSION`] mixed in).
    pub workflow_fingerprint: u64,
    /// The machine's name.
    pub hardware: String,
    /// [`octopus_hw::Machine::fingerprint`].
    pub machine_fingerprint: u64,
    /// How the TBUs were chosen.
    pub strategy: Strategy,
    /// One entry per task block, in block order.
    pub tasks: Vec<TaskPlan>,
    /// One entry per control block, in block order.
    pub controls: Vec<ControlPlan>,
    /// One entry per flow, in flow order.
    pub flows: Vec<FlowPlan>,
    /// Predicted loads and traffic.
    pub report: Report,
}

/// How home TBUs are chosen. `Locality` is the compiler's; the others are baselines for
/// `docs/compiler.md`'s placement-quality table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Tasks ordered by greedy growth over the byte-weighted graph, laid along a Hilbert curve of
    /// the clusters, then improved by local swaps.
    Locality,
    /// Tasks in declaration order on TBUs in row-major cluster order.
    RowMajor,
    /// Tasks in declaration order on TBUs in a seeded random order.
    Random {
        /// The seed of the permutation.
        seed: u64,
    },
}

/// Where a task block runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskPlan {
    /// The task block.
    pub block: BlockId,
    /// Its name.
    pub name: String,
    /// Stable or dynamic (from the analysis): Octopus keeps stable tasks on warm dedicated TBUs and
    /// schedules dynamic ones from an elastic pool.
    pub class: Class,
    /// The TBU kind it runs on.
    pub kind: TbuKindId,
    /// Expected executions per request.
    pub visits: f64,
    /// Expected cycles of one execution on one TBU of its kind.
    pub cycles: f64,
    /// TBUs one execution runs on: the fewest whose scratchpads hold its working set, at most its
    /// homes and one die (1 when it fits one scratchpad). Each shard is scheduled as a task of its
    /// own; the execution ends when its last shard does.
    pub shards: u32,
    /// Expected cycles of one shard on a TBU of its kind (the execution's latency on `shards` TBUs).
    pub shard_cycles: f64,
    /// Expected cycles per request: `visits * cycles`.
    pub demand: f64,
    /// Its home TBUs, ascending.
    pub homes: Vec<TbuId>,
    /// Whether its home TBU is time-shared with other task blocks (more tasks than TBUs).
    pub shared: bool,
    /// The home cluster nearest the middle of its homes: where its flows are routed from and to.
    pub anchor: ClusterId,
}

/// Where a control block runs: the CBU of one cluster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ControlPlan {
    /// The control block.
    pub block: BlockId,
    /// Its name.
    pub name: String,
    /// The cluster whose CBU runs it.
    pub cluster: ClusterId,
}

/// The route of a flow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowPlan {
    /// The flow.
    pub flow: FlowId,
    /// The producer's anchor cluster (a control block's CBU cluster).
    pub from: ClusterId,
    /// The consumer's anchor cluster.
    pub to: ClusterId,
    /// XY hops between the two anchors.
    pub hops: u32,
    /// Expected hops between a random home of the producer and a random home of the consumer.
    pub mean_hops: f64,
    /// Expected bytes per request.
    pub bytes: f64,
}

/// What the compiler predicts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// TBUs that are home to at least one task block.
    pub tbus_used: u32,
    /// TBUs of the machine.
    pub tbus_total: u32,
    /// Expected TBU cycles per request, all tasks.
    pub total_demand: f64,
    /// Load per task block.
    pub tasks: Vec<TaskLoad>,
    /// Load per cluster with any, in cluster order (clusters without load are left out).
    pub clusters: Vec<ClusterLoad>,
    /// Largest expected cycles per request on one TBU.
    pub max_tbu_load: f64,
    /// Mean expected cycles per request over all TBUs.
    pub mean_tbu_load: f64,
    /// `max_tbu_load / mean_tbu_load` (1 is perfect balance).
    pub tbu_imbalance: f64,
    /// Largest over mean cluster load, over all clusters.
    pub cluster_imbalance: f64,
    /// Expected NoC bytes x hops per request, using each flow's `mean_hops`.
    pub noc_byte_hops: f64,
    /// Expected NoC bytes per request.
    pub noc_bytes: f64,
    /// The throughput bound of the placement: clock / `max_tbu_load`, requests per second
    /// (`None` when no TBU has load).
    pub max_requests_per_second: Option<f64>,
    /// Weights and KV caches against one die's memory.
    pub memory: MemoryReport,
}

/// Weights and KV caches against one die's off-chip memory (every die holds every model).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryReport {
    /// One die's memory, bytes.
    pub die_bytes: f64,
    /// The weights held in it: each distinct LLM once, and every other block's resident bytes.
    pub weights_bytes: f64,
    /// What is left for KV caches.
    pub kv_capacity_bytes: f64,
    /// Per LLM block: its KV cache and the batch it can expect.
    pub llm: Vec<LlmMemory>,
}

/// The KV cache of one LLM block and the batch its executions are expected to share.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LlmMemory {
    /// The block.
    pub block: BlockId,
    /// Its name.
    pub name: String,
    /// KV cache bytes of one sequence at its longest, at the mean parameters.
    pub kv_bytes_mean: f64,
    /// The block's `max_batch`.
    pub max_batch: u32,
    /// The batch the compiler sizes its homes for: `max_batch`, or as many mean sequences as the
    /// KV capacity holds.
    pub design_batch: f64,
}

impl MemoryReport {
    /// The design batch of a block (1 for blocks that do not batch).
    pub fn batch_of(&self, block: BlockId) -> f64 {
        self.llm.iter().find(|l| l.block == block).map_or(1.0, |l| l.design_batch)
    }
}

/// Load of one task block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskLoad {
    /// The task block.
    pub block: BlockId,
    /// How many home TBUs.
    pub homes: u32,
    /// Expected cycles per request on each home TBU (`demand / homes`).
    pub load: f64,
}

/// Load of one cluster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterLoad {
    /// The cluster.
    pub cluster: ClusterId,
    /// Expected TBU cycles per request over its TBUs.
    pub load: f64,
}

#[derive(Deserialize)]
#[serde(rename = "Plan")]
struct VersionProbe {
    version: u32,
}

impl Plan {
    /// The plan as RON text (struct names included).
    pub fn to_ron(&self) -> String {
        octopus_hw::to_ron(self)
    }

    /// Reads a plan; a plan of another [`PLAN_VERSION`] is [`CompileError::PlanVersion`].
    pub fn from_ron(text: &str) -> Result<Plan, CompileError> {
        let syntax = |e: ron::error::SpannedError| CompileError::PlanSyntax { message: e.to_string() };
        let probe: VersionProbe = ron::from_str(text).map_err(syntax)?;
        if probe.version != PLAN_VERSION {
            return Err(CompileError::PlanVersion { found: probe.version, expected: PLAN_VERSION });
        }
        ron::from_str(text).map_err(syntax)
    }

    /// The plan of a task block.
    pub fn task(&self, block: BlockId) -> Option<&TaskPlan> {
        self.tasks.binary_search_by_key(&block, |t| t.block).ok().map(|i| &self.tasks[i])
    }

    /// The plan of a control block.
    pub fn control(&self, block: BlockId) -> Option<&ControlPlan> {
        self.controls.binary_search_by_key(&block, |c| c.block).ok().map(|i| &self.controls[i])
    }
}
