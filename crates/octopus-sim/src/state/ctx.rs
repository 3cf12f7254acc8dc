//! [`Ctx`]: the scheduler's view of the simulation and its levers (the "SimView").

use octopus_compiler::Plan;
use octopus_hw::{ClusterId, CostModel, DieId, Machine, TbuId, TbuKindId};
use octopus_owg::analysis::Analysis;
use octopus_owg::index::Idx;
use octopus_owg::ir::{BlockId, Workflow};

use super::{Env, NONE, State, TbuStatus};
use crate::view::{BatchId, BatchView, QueueId, TaskRef, TaskView, TbuActivity, TbuView};
use crate::{Cycle, RequestId};

/// The scheduler's view of the simulation and its levers (the "SimView"). Reading it is free;
/// acting through it takes effect at once (see `crate::scheduler` for the contract).
pub struct Ctx<'a> {
    pub(crate) env: &'a Env<'a>,
    pub(crate) st: &'a mut State,
}

impl<'a> Ctx<'a> {
    // ---- reading: the run and the machine ----

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

    /// How many TBUs one execution of `block` runs on, as a gang (the plan's; 1 for control blocks).
    pub fn shards(&self, block: BlockId) -> u32 {
        self.env.shards[block.index()]
    }

    /// Whether the executions of `block` batch (an LLM block).
    pub fn batched(&self, block: BlockId) -> bool {
        self.env.profile[block.index()].batched()
    }

    /// The cluster whose CBU runs a control block, or a task block's plan anchor.
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

    /// The die of a cluster.
    pub fn die_of(&self, cluster: ClusterId) -> DieId {
        self.env.machine.clusters[cluster].die
    }

    /// The kind of a TBU.
    pub fn kind_of(&self, tbu: TbuId) -> TbuKindId {
        self.env.machine.tbus[tbu].kind
    }

    /// Mesh hops between two clusters.
    pub fn hops(&self, a: ClusterId, b: ClusterId) -> u32 {
        self.env.machine.hops(a, b)
    }

    // ---- reading: TBUs ----

    /// The state of a TBU.
    pub fn tbu(&self, tbu: TbuId) -> TbuView {
        let t = &self.st.tbus[tbu.index()];
        let activity = match t.status {
            TbuStatus::Idle => TbuActivity::Idle,
            TbuStatus::Held => TbuActivity::Held { task: self.st.task_ref(t.task) },
            TbuStatus::Running if t.batch != NONE => TbuActivity::Running {
                block: self.st.batches[t.batch as usize].block,
                since: t.since,
                batch: Some(BatchId(t.batch)),
            },
            TbuStatus::Running => TbuActivity::Running {
                block: self.st.tasks[t.task as usize].block,
                since: t.since,
                batch: None,
            },
            TbuStatus::Reconfiguring => TbuActivity::Reconfiguring {
                block: t.config.expect("reconfiguring to a block"),
                until: t.until,
            },
        };
        TbuView { activity, configured: t.config, reserved: t.reserved }
    }

    /// The block whose configuration a TBU holds (after its current reconfiguration, if any); for
    /// blocks of a batch group ([`Ctx::group`]), the group's first block.
    pub fn configured(&self, tbu: TbuId) -> Option<BlockId> {
        self.st.tbus[tbu.index()].config
    }

    /// Whether a TBU holds `block` (its configuration and resident bytes, or its group's): a warm TBU.
    pub fn warm(&self, tbu: TbuId, block: BlockId) -> bool {
        self.configured(tbu) == Some(self.env.group(block))
    }

    /// The block whose configuration, weights and batches `block` shares: itself, but for LLM
    /// blocks of one model and phase (one serving instance per model and phase), the first of them.
    /// Batches of a group are listed under it ([`Ctx::batches`]) and serve all its blocks.
    pub fn group(&self, block: BlockId) -> BlockId {
        self.env.group(block)
    }

    /// The block a TBU is reserved for ([`Ctx::reserve`]), if any.
    pub fn reserved(&self, tbu: TbuId) -> Option<BlockId> {
        self.st.tbus[tbu.index()].reserved
    }

    /// When a TBU reconfiguring ahead of time ([`Ctx::reconfigure`]) will be free, and for which
    /// block; `None` when it is doing anything else.
    pub fn reconfiguring(&self, tbu: TbuId) -> Option<(BlockId, Cycle)> {
        let t = &self.st.tbus[tbu.index()];
        match t.status {
            TbuStatus::Reconfiguring => Some((t.config.expect("reconfiguring to a block"), t.until)),
            _ => None,
        }
    }

    /// Whether a TBU is idle (not running, reconfiguring or held).
    pub fn is_idle(&self, tbu: TbuId) -> bool {
        self.st.tbus[tbu.index()].status == TbuStatus::Idle
    }

    /// The task a TBU is held for ([`Ctx::hold`]), if it is held.
    pub fn held_for(&self, tbu: TbuId) -> Option<TaskRef> {
        let t = &self.st.tbus[tbu.index()];
        (t.status == TbuStatus::Held).then(|| self.st.task_ref(t.task))
    }

    /// Number of idle TBUs in the machine.
    pub fn idle_count(&self) -> usize {
        self.st.n_idle as usize
    }

    /// Whether every TBU of a cluster is running or held (none idle, none reconfiguring ahead
    /// of time): a search for an idle or preparing TBU may skip it.
    pub fn all_running(&self, cluster: ClusterId) -> bool {
        self.st.not_running[cluster.index()] == 0
    }

    /// Calls `f` on each TBU of cluster `c` that is idle or reconfiguring ahead of time, in TBU
    /// order, until it returns `false`; whether it saw them all.
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
            debug_assert!(
                matches!(self.st.tbus[t].status, TbuStatus::Idle | TbuStatus::Reconfiguring),
                "TBU {t} is running or held"
            );
            f(TbuId(t as u32))
        })
    }

    // ---- reading: expected costs ----

    /// Expected cycles of one execution of a task block on a gang of warm TBUs of `tbu`'s kind:
    /// its run and its collectives, from the cost model's means (`CostModel::expected_exec`; an
    /// LLM execution alone in its batch).
    pub fn expected_cycles(&self, block: BlockId, tbu: TbuId) -> Cycle {
        self.env.expected_on(block, self.env.machine.tbus[tbu].kind)
    }

    /// The extra cycles `tbu` pays to run `block`: 0 when it holds the block, else loading its
    /// configuration and its share of the block's resident bytes (the same `expected_exec`).
    pub fn load_cycles(&self, block: BlockId, tbu: TbuId) -> Cycle {
        if self.warm(tbu, block) { 0 } else { self.env.load_on(block, self.env.machine.tbus[tbu].kind) }
    }

    /// Cycles to load only a configuration on a TBU (its kind's `reconfig_cycles`).
    pub fn reconfig_cycles(&self, tbu: TbuId) -> Cycle {
        self.env.cost.reconfig_cycles(self.env.machine.tbus[tbu].kind)
    }

    /// When a TBU is expected to be free of its current work and its private queue: now when
    /// idle, else the expected end of what it runs plus the expected cycles of every task in its
    /// queue ([`QueueId::Tbu`]). A TBU in a batch is expected free when the batch's sequences are
    /// expected to be done (their mean tokens, at the current step's length).
    pub fn expected_free(&self, tbu: TbuId) -> Cycle {
        self.st.expected_free(self.env, tbu)
    }

    // ---- reading: tasks and queues ----

    /// A ready task.
    pub fn task(&self, task: TaskRef) -> TaskView {
        let t = self.st.task(task);
        TaskView {
            block: t.block,
            request: RequestId(t.request),
            shards: t.shards,
            batched: self.env.profile[t.block.index()].batched(),
            ready_at: t.ready_at,
            queue: (t.queue != NONE).then(|| self.st.queue_id(t.queue)),
            held: t.tbus.len() as u32,
        }
    }

    /// The TBUs held for a queued task so far, by the order they were held.
    pub fn held_tbus(&self, task: TaskRef) -> &[TbuId] {
        &self.st.task(task).tbus
    }

    /// The inputs of a ready task: `(cluster where the data is, bytes)` per incoming flow, as one
    /// TBU of its gang receives them (the bytes over the gang's size, rounded up).
    pub fn inputs(&self, task: TaskRef) -> impl Iterator<Item = (ClusterId, u64)> + '_ {
        let t = self.st.task(task);
        let shards = u64::from(t.shards.max(1));
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

    /// When a request arrived (a request in flight).
    pub fn arrival_of(&self, request: RequestId) -> Cycle {
        self.st.reqs[request.0].arrival
    }

    /// Every request numbered below this one is complete: a scheduler's per-request state of them
    /// can go (so that it grows with the requests in flight, not with the run).
    pub fn oldest_in_flight(&self) -> RequestId {
        RequestId(self.st.reqs.base())
    }

    // ---- reading: batches ----

    /// The running batches that may take a task of `block` (its group's), in the order they opened.
    pub fn batches(&self, block: BlockId) -> impl Iterator<Item = BatchId> + '_ {
        self.st.block_batches[self.env.group(block).index()].iter().map(|&b| BatchId(b))
    }

    /// A running batch.
    ///
    /// # Panics
    /// When the batch has closed.
    pub fn batch(&self, batch: BatchId) -> BatchView {
        let b = &self.st.batches[batch.0 as usize];
        assert!(b.live, "batch {} has closed", batch.0);
        BatchView {
            block: b.block,
            members: b.members.len() as u32,
            pending: b.pending.len() as u32,
            max: b.max,
            opened_at: b.opened_at,
            cluster: self.env.machine.tbus[b.tbus[0]].cluster,
        }
    }

    /// The TBUs of a running batch, by ID.
    pub fn batch_tbus(&self, batch: BatchId) -> &[TbuId] {
        &self.st.batches[batch.0 as usize].tbus
    }

    /// Bytes of KV cache free on a die.
    pub fn kv_free(&self, die: DieId) -> f64 {
        (self.env.kv_capacity[die.index()] - self.st.kv_used[die.index()]).max(0.0)
    }

    // ---- acting ----

    /// Starts a ready task of a one-TBU block on an idle TBU now ([`Ctx::assign_gang`] with one TBU).
    pub fn assign(&mut self, task: TaskRef, tbu: TbuId) {
        self.st.assign(self.env, task, &[tbu], 0);
    }

    /// Starts a ready task on a gang of exactly [`Ctx::shards`] TBUs now: each one idle (not
    /// reserved for another block) or held for this task, and every TBU held for it among them.
    /// Each TBU loads the block if it is cold and receives its part of the inputs; the shards
    /// start together when the last is ready. For a batched block this opens a batch on the gang
    /// with the task as its first sequence. Takes the task off its queue.
    ///
    /// # Panics
    /// When a TBU is busy, held for another task or reserved for another block, the gang has the
    /// wrong size, or the handle is stale: scheduler bugs.
    pub fn assign_gang(&mut self, task: TaskRef, tbus: &[TbuId]) {
        self.st.assign(self.env, task, tbus, 0);
    }

    /// [`Ctx::assign_gang`] after `delay` cycles of control messages: the gang is committed now
    /// and starts loading and pulling its inputs when the message arrives.
    pub fn dispatch(&mut self, task: TaskRef, tbus: &[TbuId], delay: Cycle) {
        self.st.assign(self.env, task, tbus, delay);
    }

    /// Holds an idle TBU for a queued task whose gang is collecting its TBUs: the TBU runs
    /// nothing else until the task is assigned or the TBU released.
    pub fn hold(&mut self, task: TaskRef, tbu: TbuId) {
        self.st.hold(self.env, task, tbu);
    }

    /// Releases a held TBU: it is idle again. (No `on_tbu_free` follows: the caller decides.)
    pub fn release(&mut self, tbu: TbuId) {
        self.st.unhold(self.env, tbu);
    }

    /// Adds a ready task of a batched block to a running batch of its block: its inputs cross to
    /// the batch's TBUs and it joins at the first step boundary after they are in (and the KV
    /// cache has room). Takes the task off its queue.
    ///
    /// # Panics
    /// When the batch is of another block, has no room, or the task holds TBUs.
    pub fn join(&mut self, task: TaskRef, batch: BatchId) {
        let i = self.st.check_ref(task);
        let b = &self.st.batches[batch.0 as usize];
        assert!(b.live, "joined batch {} that has closed", batch.0);
        assert!(
            b.block == self.env.group(self.st.tasks[i as usize].block),
            "joined a batch of another group"
        );
        assert!(b.members.len() + b.pending.len() < b.max as usize, "joined a full batch");
        assert!(self.st.tasks[i as usize].tbus.is_empty(), "a task holding TBUs joined a batch");
        self.st.take_off_queue(self.env, i);
        let now = self.st.now;
        self.st.join_batch(self.env, i, batch.0, now);
    }

    /// Appends a ready task to a queue (moving it if it waits in another).
    pub fn enqueue(&mut self, task: TaskRef, queue: QueueId) {
        let i = self.st.check_ref(task);
        if self.st.tasks[i as usize].queue != NONE {
            self.st.unlink(self.env, i);
        }
        self.st.link(self.env, i, queue);
    }

    /// Reconfigures an idle TBU for `block` ahead of time, loading its configuration and its
    /// share of the block's resident bytes, plus `extra_delay` cycles (e.g. a migration's drain and
    /// hand-over). [`crate::Scheduler::on_tbu_free`] is called when it is done. Does nothing if it
    /// already holds that block and `extra_delay` is 0.
    ///
    /// # Panics
    /// When the TBU is not idle.
    pub fn reconfigure(&mut self, tbu: TbuId, block: BlockId, extra_delay: Cycle) {
        self.st.reconfigure_ahead(self.env, tbu, block, extra_delay);
    }

    /// Asks for a call of [`crate::Scheduler::on_wake`] at time `at` (now at the earliest): a
    /// deadline the scheduler set itself, such as a timed wait or a reservation's expiry.
    pub fn wake_at(&mut self, at: Cycle) {
        let at = at.max(self.st.now);
        self.st.push(at, super::Ev::Wake);
    }

    /// Reserves a TBU for the next task of `block` (`None` lifts the reservation): until then the
    /// engine refuses to assign it another block's task. Assigning a task of `block` consumes it.
    pub fn reserve(&mut self, tbu: TbuId, block: Option<BlockId>) {
        self.st.tbus[tbu.index()].reserved = block;
    }
}
