//! The [`Scheduler`] trait: the decisions a control plane makes, called by the event loop at the
//! moments a real one would decide, and [`Ctx`], the scheduler's view of the machine and its
//! levers.
//!
//! # The contract
//!
//! - The engine owns all state; a scheduler reads it through [`Ctx`] and acts through `Ctx`'s
//!   `&mut self` methods, whose effects are immediate (an [`Ctx::assign`] makes the TBU busy at
//!   once, so a second `assign` in the same callback sees it).
//! - Every ready task (one execution of a task block) is handed to [`Scheduler::on_ready`]
//!   exactly once. By the end of *every* callback, each ready task must be assigned to a gang
//!   ([`Ctx::assign_gang`]), joined to a batch ([`Ctx::join`]) or waiting in a queue ([`QueueId`]);
//!   a task left floating is a scheduler bug and the engine panics with the scheduler's name.
//! - An execution runs on a gang of exactly [`Ctx::shards`] TBUs that start together. While a
//!   queued task collects its gang, the scheduler may hold TBUs for it ([`Ctx::hold`]).
//! - The executions of an LLM block batch ([`Ctx::batched`]): a ready one joins a running batch of
//!   its block with room ([`Ctx::join`]), or opens one on a gang ([`Ctx::assign_gang`]), or
//!   queues. [`Scheduler::on_batch_room`] says when a batch has room at a step boundary.
//! - Queues are engine-owned FIFO lists (intrusive, allocation-free): one global queue, one per
//!   cluster, one per TBU. The engine never takes work out of a queue by itself: when a TBU becomes
//!   free, [`Scheduler::on_tbu_free`] decides what it runs next. A scheduler that queues work must
//!   therefore make sure some later `on_tbu_free` (or `on_tick`) takes it, or the run stalls
//!   (reported as [`crate::SimError::Stalled`]: when no event is left, or when 10,000 ticks in a
//!   row find nothing else pending).
//! - Schedulers see what a real control plane sees: queue contents, TBU states, configured and
//!   reserved blocks, *expected* costs from the cost model ([`Ctx::expected_cycles`]), the outcome
//!   of control blocks as they execute ([`Scheduler::on_control`]), and the observed duration of
//!   finished tasks ([`Scheduler::on_task_done`]). They never see the parameters a ready task drew,
//!   nor how long it will run.
//! - Determinism: callbacks are called in a deterministic order; schedulers must not iterate hash
//!   maps or use their own randomness except from a seed derived from [`Ctx::seed`].

use octopus_compiler::Plan;
use octopus_hw::{ClusterId, Machine, TbuId};
use octopus_owg::ir::BlockId;
use octopus_owg::ir::Workflow;

pub use crate::state::Ctx;
pub use crate::view::{
    BatchId, BatchView, ControlEvent, Outcome, QueueId, TaskDone, TaskRef, TaskView, TbuActivity, TbuView,
};
use crate::{Cycle, RequestId};

/// A runtime scheduler: the control plane's policy. See the module docs for the contract.
pub trait Scheduler: Send {
    /// Its registry name (`static`, `greedy`, ...).
    fn name(&self) -> &str;

    /// Whether this scheduler can run `workflow` on `machine`, asked before the run starts;
    /// `Err(reason)` refuses the run ([`crate::SimError::Refused`]). Most schedulers run anything.
    fn accepts(&self, _workflow: &Workflow, _machine: &Machine, _plan: &Plan) -> Result<(), String> {
        Ok(())
    }

    /// Called once at time 0, before the first request arrives. TBUs start configured with the
    /// plan's placement (each home TBU holds its task block, at no cost).
    fn init(&mut self, _ctx: &mut Ctx<'_>) {}

    /// The period of [`Scheduler::on_tick`], in cycles, or `None` for no ticks. Asked once, after `init`.
    fn tick_period(&self) -> Option<Cycle> {
        None
    }

    /// A request arrived (its entry blocks become ready right after this call).
    fn on_arrival(&mut self, _ctx: &mut Ctx<'_>, _request: RequestId) {}

    /// A task became ready: assign it to an idle TBU or put it in a queue, now.
    fn on_ready(&mut self, ctx: &mut Ctx<'_>, task: TaskRef);

    /// A TBU became idle (its execution finished, its batch closed, or its reconfiguration
    /// completed): give it work, or not. Called once per TBU of a gang, in TBU order.
    fn on_tbu_free(&mut self, ctx: &mut Ctx<'_>, tbu: TbuId);

    /// A batch is at a step boundary with room for another sequence while tasks of its block
    /// are queued: the moment to [`Ctx::join`] one. If the batch is empty and nothing joins, it
    /// closes and its TBUs become free.
    fn on_batch_room(&mut self, _ctx: &mut Ctx<'_>, _batch: BatchId) {}

    /// Which cluster's CBU runs an opener (`branch`, `fork`, `map`, `loop`) with one incoming flow,
    /// whose data comes from cluster `from`: asked once per instance, when its input is sent. Its
    /// closer runs on the same CBU. Default: the plan's CBU (the compile-time placement).
    fn control_cluster(&self, ctx: &Ctx<'_>, block: BlockId, _from: ClusterId) -> ClusterId {
        ctx.cbu_of(block)
    }

    /// A control block executed: the branch taken, loop count or map width is now known. The hook
    /// a proactive scheduler forecasts from.
    fn on_control(&mut self, _ctx: &mut Ctx<'_>, _event: &ControlEvent) {}

    /// An execution finished (called before `on_tbu_free` for its TBUs): its observed timings.
    fn on_task_done(&mut self, _ctx: &mut Ctx<'_>, _done: &TaskDone) {}

    /// A time asked for with [`Ctx::wake_at`] has come.
    fn on_wake(&mut self, _ctx: &mut Ctx<'_>) {}

    /// Called once the callbacks of one event are all done (the TBUs an execution freed have all had
    /// their `on_tbu_free`): the point at which a scheduler's invariants hold. For checks in tests.
    fn after_event(&mut self, _ctx: &mut Ctx<'_>) {}

    /// Called every [`Scheduler::tick_period`] cycles while requests are in flight or yet to arrive.
    fn on_tick(&mut self, _ctx: &mut Ctx<'_>) {}

    /// Counts of the scheduler's own mechanisms, asked once after the run, reported in
    /// [`crate::SimResult::counters`] (e.g. Octopus's diffusion moves). None by default.
    fn counters(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
}
