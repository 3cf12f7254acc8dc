//! The [`Scheduler`] trait: the decisions a control plane makes, called by the event loop at the
//! moments a real one would decide, and [`Ctx`], the scheduler's view of the machine and its
//! levers.
//!
//! # The contract
//!
//! - The engine owns all state; a scheduler reads it through [`Ctx`] and acts through `Ctx`'s
//!   `&mut self` methods, whose effects are immediate (an [`Ctx::assign`] makes the TBU busy at
//!   once, so a second `assign` in the same callback sees it).
//! - Every ready task is handed to [`Scheduler::on_ready`] exactly once. By the end of *every*
//!   callback, each ready task must be either assigned to a TBU or waiting in a queue
//!   ([`QueueId`]); a task left floating is a scheduler bug and the engine panics with the
//!   scheduler's name.
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
use octopus_hw::{ClusterId, CostModel, Machine, TbuId, TbuKindId};
use octopus_owg::analysis::Analysis;
use octopus_owg::index::Idx;
use octopus_owg::ir::{BlockId, FlowId, Workflow};

use crate::engine::{Env, NONE, State, TbuStatus};
use crate::{Cycle, RequestId};

/// A ready task instance: one execution of a task block for one request (in one map copy or loop
/// iteration). Stale handles (of a task that already finished) are detected and panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskRef {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

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
    /// Nothing: it may be assigned a task or reconfigured.
    Idle,
    /// Running a task (including its reconfiguration and input transfer).
    Running {
        /// The task block.
        block: BlockId,
        /// When the assignment was made.
        since: Cycle,
    },
    /// Loading a configuration ahead of time ([`Ctx::reconfigure`]).
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
    /// The block it is reserved for, if any ([`Ctx::reserve`]).
    pub reserved: Option<BlockId>,
}

/// A ready task, as schedulers see it: one shard of a task block's execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskView {
    /// The task block.
    pub block: BlockId,
    /// The request it belongs to.
    pub request: RequestId,
    /// Which shard of the execution it is, from 0.
    pub shard: u32,
    /// How many shards the execution has ([`Ctx::shards`]).
    pub shards: u32,
    /// When it became ready.
    pub ready_at: Cycle,
    /// The queue it waits in, if any.
    pub queue: Option<QueueId>,
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

/// A control block execution, reported to [`Scheduler::on_control`].
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

/// A finished task execution, reported to [`Scheduler::on_task_done`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskDone {
    /// The task block.
    pub block: BlockId,
    /// The request.
    pub request: RequestId,
    /// Where it ran.
    pub tbu: TbuId,
    /// Which shard of its execution it was (0 when the block is not sharded).
    pub shard: u32,
    /// Whether it was its execution's last shard to end: the block instance is done and its
    /// outputs have been sent (always true when the block is not sharded).
    pub complete: bool,
    /// When it became ready.
    pub ready_at: Cycle,
    /// When it was assigned to the TBU.
    pub assigned_at: Cycle,
    /// When its computation started (after reconfiguration and input transfers).
    pub started_at: Cycle,
    /// When it finished (now).
    pub finished_at: Cycle,
}

/// A runtime scheduler: the control plane's policy. See the module docs for the contract.
pub trait Scheduler: Send {
    /// Its registry name (`static`, `greedy`, ...).
    fn name(&self) -> &str;

    /// Whether this scheduler can run `workflow` on `machine`, asked before the run starts;
    /// `Err(reason)` refuses the run ([`crate::SimError::Refused`]). Most schedulers run anything.
    fn accepts(&self, _workflow: &Workflow, _machine: &Machine) -> Result<(), String> {
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

    /// A TBU became idle (its task finished, or its reconfiguration completed): give it work, or not.
    fn on_tbu_free(&mut self, ctx: &mut Ctx<'_>, tbu: TbuId);

    /// A control block executed: the branch taken, loop count or map width is now known. The hook
    /// a proactive scheduler forecasts from.
    fn on_control(&mut self, _ctx: &mut Ctx<'_>, _event: &ControlEvent) {}

    /// A task finished (called before `on_tbu_free` for its TBU): its observed timings.
    fn on_task_done(&mut self, _ctx: &mut Ctx<'_>, _done: &TaskDone) {}

    /// Called every [`Scheduler::tick_period`] cycles while requests are in flight or yet to arrive.
    fn on_tick(&mut self, _ctx: &mut Ctx<'_>) {}
}

/// The scheduler's view of the simulation and its levers (the "SimView").
pub struct Ctx<'a> {
    pub(crate) env: &'a Env<'a>,
    pub(crate) st: &'a mut State,
}

impl<'a> Ctx<'a> {
    // ---- reading ----

    /// The current time.
    pub fn now(&self) -> Cycle {
        self.st.now
    }

    /// The run's seed (derive any randomness of a scheduler from it).
    pub fn seed(&self) -> u64 {
        self.env.seed
    }

    /// The workflow.
    pub fn workflow(&self) -> &'a Workflow {
        self.env.wf
    }

    /// Its analysis.
    pub fn analysis(&self) -> &'a Analysis {
        self.env.an
    }

    /// The machine.
    pub fn machine(&self) -> &'a Machine {
        self.env.machine
    }

    /// The cost model.
    pub fn cost(&self) -> &'a CostModel<'a> {
        self.env.cost
    }

    /// The compiled plan.
    pub fn plan(&self) -> &'a Plan {
        self.env.plan
    }

    /// The plan's home TBUs of a task block (empty for control blocks).
    pub fn homes(&self, block: BlockId) -> &'a [TbuId] {
        &self.env.homes[block.index()]
    }

    /// How many shards each execution of `block` runs as (the plan's; 1 for control blocks).
    pub fn shards(&self, block: BlockId) -> u32 {
        self.env.shards[block.index()]
    }

    /// The cluster whose CBU runs a control block (from the plan).
    pub fn cbu_of(&self, block: BlockId) -> ClusterId {
        self.env.cbu[block.index()]
    }

    /// Number of TBUs.
    pub fn tbu_count(&self) -> usize {
        self.st.tbus.len()
    }

    /// Number of clusters.
    pub fn cluster_count(&self) -> usize {
        self.env.machine.clusters.len()
    }

    /// The cluster of a TBU.
    pub fn cluster_of(&self, tbu: TbuId) -> ClusterId {
        self.env.machine.tbus[tbu].cluster
    }

    /// The kind of a TBU.
    pub fn kind_of(&self, tbu: TbuId) -> TbuKindId {
        self.env.machine.tbus[tbu].kind
    }

    /// Mesh hops between two clusters.
    pub fn hops(&self, a: ClusterId, b: ClusterId) -> u32 {
        self.env.machine.hops(a, b)
    }

    /// The state of a TBU.
    pub fn tbu(&self, tbu: TbuId) -> TbuView {
        let t = &self.st.tbus[tbu.index()];
        let activity = match t.status {
            TbuStatus::Idle => TbuActivity::Idle,
            TbuStatus::Running => {
                TbuActivity::Running { block: self.st.tasks[t.task as usize].block, since: t.since }
            }
            TbuStatus::Reconfiguring => TbuActivity::Reconfiguring {
                block: t.config.expect("reconfiguring to a block"),
                until: t.until,
            },
        };
        TbuView { activity, configured: t.config, reserved: t.reserved }
    }

    /// The block whose configuration a TBU holds (after its current reconfiguration, if any): the
    /// `configured` of [`Ctx::tbu`], without building the whole view.
    pub fn configured(&self, tbu: TbuId) -> Option<BlockId> {
        self.st.tbus[tbu.index()].config
    }

    /// The block a TBU is reserved for ([`Ctx::reserve`]), if any.
    pub fn reserved(&self, tbu: TbuId) -> Option<BlockId> {
        self.st.tbus[tbu.index()].reserved
    }

    /// When a TBU reconfiguring ahead of time ([`Ctx::reconfigure`]) will be free, and for which
    /// block; `None` when it is idle or running.
    pub fn reconfiguring(&self, tbu: TbuId) -> Option<(BlockId, Cycle)> {
        let t = &self.st.tbus[tbu.index()];
        match t.status {
            TbuStatus::Reconfiguring => Some((t.config.expect("reconfiguring to a block"), t.until)),
            _ => None,
        }
    }

    /// Whether a TBU is idle.
    pub fn is_idle(&self, tbu: TbuId) -> bool {
        self.st.tbus[tbu.index()].status == TbuStatus::Idle
    }

    /// Number of idle TBUs in the machine.
    pub fn idle_count(&self) -> usize {
        self.st.n_idle as usize
    }

    /// Whether every TBU of a cluster is running a task (none idle, none reconfiguring ahead of
    /// time): a search for an idle or preparing TBU may skip it.
    pub fn all_running(&self, cluster: ClusterId) -> bool {
        self.st.not_running[cluster.index()] == 0
    }

    /// Calls `f` on each TBU of cluster `c` that is not running a task (idle, or reconfiguring
    /// ahead of time), in TBU order, until it returns `false`; whether it saw them all. The same
    /// TBUs as filtering the cluster's TBUs by activity, without looking at the running ones.
    pub fn each_not_running(&self, c: ClusterId, mut f: impl FnMut(TbuId) -> bool) -> bool {
        let mut seen = 0;
        let all = self.each_not_running_masked(
            c,
            |_| u64::MAX,
            |t| {
                seen += 1;
                f(t)
            },
        );
        debug_assert!(!all || seen == self.st.not_running[c.index()], "cluster {}'s set is stale", c.0);
        all
    }

    /// [`Ctx::each_not_running`] over the TBUs also in `mask(w)`: the bits of TBUs `64 w .. 64 w
    /// + 64` a scheduler keeps (a [`crate::bits::Bits`] word), to skip TBUs it would refuse.
    pub(crate) fn each_not_running_masked(
        &self,
        c: ClusterId,
        mask: impl Fn(usize) -> u64,
        mut f: impl FnMut(TbuId) -> bool,
    ) -> bool {
        let cl = &self.env.machine.clusters[c];
        let first = cl.first_tbu.index();
        self.st.not_running_set.each_in_masked(first..first + cl.tbu_count as usize, mask, |t| {
            debug_assert!(self.st.tbus[t].status != TbuStatus::Running, "TBU {t} is running");
            f(TbuId(t as u32))
        })
    }

    /// Expected cycles of one execution of a task block on a TBU, from the cost model (the mean
    /// over the block's parameter distributions; see `CostModel::expected_task_cycles`).
    pub fn expected_cycles(&self, block: BlockId, tbu: TbuId) -> Cycle {
        self.env.expected_on(block, self.env.machine.tbus[tbu].kind)
    }

    /// Cycles to reconfigure a TBU.
    pub fn reconfig_cycles(&self, tbu: TbuId) -> Cycle {
        self.env.cost.reconfig_cycles(self.env.machine.tbus[tbu].kind)
    }

    /// When a TBU is expected to be free of its current work and its private queue: now when
    /// idle, else the expected end of what it runs (start plus expected cycles, at least now) plus
    /// the expected cycles of every task in its queue ([`QueueId::Tbu`]).
    pub fn expected_free(&self, tbu: TbuId) -> Cycle {
        self.st.expected_free(tbu)
    }

    /// A ready task.
    pub fn task(&self, task: TaskRef) -> TaskView {
        let t = self.st.task(task);
        TaskView {
            block: t.block,
            request: RequestId(t.request),
            shard: t.shard,
            shards: self.env.shards[t.block.index()],
            ready_at: t.ready_at,
            queue: (t.queue != NONE).then(|| self.st.queue_id(t.queue)),
        }
    }

    /// The inputs of a ready task: `(cluster where the data is, bytes)` per incoming flow; a shard
    /// receives its part of each input (the bytes over the shard count, rounded up).
    pub fn inputs(&self, task: TaskRef) -> impl Iterator<Item = (ClusterId, u64)> + '_ {
        let t = self.st.task(task);
        let shards = u64::from(self.env.shards[t.block.index()]);
        self.st.task_inputs(self.env, t).iter().map(move |s| (ClusterId(s.cluster), s.bytes.div_ceil(shards)))
    }

    /// Tasks waiting in a queue.
    pub fn queue_len(&self, queue: QueueId) -> usize {
        self.st.queues[self.st.queue_index(queue)].len as usize
    }

    /// The oldest task in a queue.
    pub fn queue_front(&self, queue: QueueId) -> Option<TaskRef> {
        let head = self.st.queues[self.st.queue_index(queue)].head;
        (head != NONE).then(|| self.st.task_ref(head))
    }

    /// The tasks of a queue, oldest first.
    pub fn queue_iter(&self, queue: QueueId) -> impl Iterator<Item = TaskRef> + '_ {
        let mut at = self.st.queues[self.st.queue_index(queue)].head;
        std::iter::from_fn(move || {
            if at == NONE {
                return None;
            }
            let r = self.st.task_ref(at);
            at = self.st.tasks[at as usize].next;
            Some(r)
        })
    }

    /// Expected cycles of the work in a queue (each task on the queue's TBU kind; kind 0 for
    /// global and cluster queues).
    pub fn queue_expected_cycles(&self, queue: QueueId) -> Cycle {
        self.st.queues[self.st.queue_index(queue)].expected
    }

    /// Tasks queued in a cluster: its cluster queue plus the private queues of its TBUs.
    pub fn queued_in_cluster(&self, cluster: ClusterId) -> usize {
        self.st.cluster_queued[cluster.index()] as usize
    }

    /// Tasks of a block waiting in any queue.
    pub fn queued_of_block(&self, block: BlockId) -> usize {
        self.st.block_queued[block.index()] as usize
    }

    /// Tasks waiting in all queues.
    pub fn queued_total(&self) -> usize {
        self.st.total_queued as usize
    }

    /// Requests arrived and not yet complete.
    pub fn requests_in_flight(&self) -> usize {
        self.st.inflight as usize
    }

    /// When a request arrived.
    pub fn arrival_of(&self, request: RequestId) -> Cycle {
        self.st.reqs[request.0 as usize].arrival
    }

    // ---- acting ----

    /// Starts a ready task on an idle TBU now: the TBU reconfigures if it holds another block's
    /// configuration, the task's inputs cross the NoC to the TBU's cluster (both at once), then it
    /// computes. Removes the task from its queue if it was queued.
    ///
    /// # Panics
    /// When the TBU is not idle, is reserved for another block, or the handle is stale: scheduler bugs.
    pub fn assign(&mut self, task: TaskRef, tbu: TbuId) {
        self.st.assign(self.env, task, tbu);
    }

    /// Appends a ready task to a queue (moving it if it waits in another).
    pub fn enqueue(&mut self, task: TaskRef, queue: QueueId) {
        let i = self.st.check_ref(task);
        if self.st.tasks[i as usize].queue != NONE {
            self.st.unlink(self.env, i);
        }
        self.st.link(self.env, i, queue);
    }

    /// Reconfigures an idle TBU for `block` ahead of time, taking its reconfiguration cycles plus
    /// `extra_delay` (e.g. a migration's drain and hand-over). [`Scheduler::on_tbu_free`] is called
    /// when it is done. Does nothing if it already holds that configuration and `extra_delay` is 0.
    ///
    /// # Panics
    /// When the TBU is not idle.
    pub fn reconfigure(&mut self, tbu: TbuId, block: BlockId, extra_delay: Cycle) {
        self.st.reconfigure_ahead(self.env, tbu, block, extra_delay);
    }

    /// Reserves a TBU for the next task of `block` (`None` lifts the reservation): until then the
    /// engine refuses to assign it another block's task. Assigning a task of `block` consumes it.
    pub fn reserve(&mut self, tbu: TbuId, block: Option<BlockId>) {
        self.st.tbus[tbu.index()].reserved = block;
    }
}
