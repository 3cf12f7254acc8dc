//! What schedulers see: handles of tasks and batches, and read-only views of tasks, TBUs,
//! batches, control outcomes and finished executions.

use octopus_hw::{ClusterId, TbuId};
use octopus_owg::ir::{BlockId, FlowId};

use crate::{Cycle, RequestId};

/// A ready task: one execution of a task block for one request (in one map copy or loop
/// iteration), to run as a gang on its block's shard count of TBUs. Stale handles (of a task that
/// already finished) are detected and panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskRef {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// A running batch: a gang of TBUs whose executions of one LLM block share steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BatchId(pub(crate) u32);

/// An engine-owned FIFO queue of ready tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QueueId {
    /// The machine-wide queue (a centralised scheduler's).
    Global,
    /// One cluster's queue (its CBU's local scheduler).
    Cluster(ClusterId),
    /// One TBU's private queue.
    Tbu(TbuId),
}

/// What a TBU is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TbuActivity {
    /// Nothing: it may be assigned a task, held or reconfigured.
    Idle,
    /// Held for a queued task whose gang is still collecting its TBUs ([`crate::Ctx::hold`]).
    Held {
        /// The task it is held for.
        task: TaskRef,
    },
    /// Running an execution (including its load and input transfers), alone or in a batch.
    Running {
        /// The task block.
        block: BlockId,
        /// When the execution or the batch started on it.
        since: Cycle,
        /// The batch it serves, if its block batches.
        batch: Option<BatchId>,
    },
    /// Loading a configuration ahead of time ([`crate::Ctx::reconfigure`]).
    Reconfiguring {
        /// The block being configured.
        block: BlockId,
        /// When it will be free.
        until: Cycle,
    },
}

/// The state of one TBU, as schedulers see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TbuView {
    /// What it is doing.
    pub activity: TbuActivity,
    /// The block whose configuration it holds (after the current reconfiguration, if any).
    pub configured: Option<BlockId>,
    /// The block it is reserved for, if any ([`crate::Ctx::reserve`]).
    pub reserved: Option<BlockId>,
}

/// A ready task, as schedulers see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskView {
    /// The task block.
    pub block: BlockId,
    /// The request it belongs to.
    pub request: RequestId,
    /// How many TBUs its gang needs ([`crate::Ctx::shards`]).
    pub shards: u32,
    /// Whether its block batches (an LLM block: it runs by joining a batch or opening one).
    pub batched: bool,
    /// When it became ready.
    pub ready_at: Cycle,
    /// The queue it waits in, if any.
    pub queue: Option<QueueId>,
    /// TBUs held for it so far ([`crate::Ctx::hold`]).
    pub held: u32,
}

/// A running batch, as schedulers see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchView {
    /// The LLM block whose executions it runs: the first of its group ([`crate::Ctx::group`]);
    /// it serves every block of the group.
    pub block: BlockId,
    /// Sequences in it now.
    pub members: u32,
    /// Sequences that joined and wait for the next step (their inputs, or room in the KV cache).
    pub pending: u32,
    /// The most sequences it may hold (the block's `max_batch`).
    pub max: u32,
    /// When it opened.
    pub opened_at: Cycle,
    /// The cluster of its first TBU (where its outputs leave from).
    pub cluster: ClusterId,
}

impl BatchView {
    /// Whether another sequence may join.
    pub fn has_room(&self) -> bool {
        self.members + self.pending < self.max
    }
}

/// What a control block decided when it executed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A `branch` took this flow.
    Branch {
        /// The outgoing flow taken.
        taken: FlowId,
    },
    /// A `fork` started all its successors.
    Fork,
    /// A `map` fanned out into this many copies.
    Map {
        /// Copies.
        width: u64,
    },
    /// A `loop` will run its body this many times.
    Loop {
        /// Iterations.
        count: u64,
    },
    /// A closer ran; for a loop's closer, whether another iteration starts.
    Join {
        /// Whether the loop body runs again.
        next_iteration: bool,
    },
}

/// A control block execution, reported to [`crate::Scheduler::on_control`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControlEvent {
    /// The request.
    pub request: RequestId,
    /// The control block.
    pub block: BlockId,
    /// The cluster whose CBU ran it.
    pub cluster: ClusterId,
    /// What it decided.
    pub outcome: Outcome,
}

/// A finished execution, reported to [`crate::Scheduler::on_task_done`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskDone {
    /// The task block.
    pub block: BlockId,
    /// The request.
    pub request: RequestId,
    /// The first TBU of its gang (where its outputs leave from).
    pub tbu: TbuId,
    /// TBUs its gang ran on.
    pub shards: u32,
    /// The batch it ran in, if its block batches.
    pub batch: Option<BatchId>,
    /// When it became ready.
    pub ready_at: Cycle,
    /// When it was assigned to its gang, or joined its batch.
    pub assigned_at: Cycle,
    /// When its computation started (after loads and input transfers; its first batch step).
    pub started_at: Cycle,
    /// When it finished (now).
    pub finished_at: Cycle,
}
