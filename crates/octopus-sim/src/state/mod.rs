//! What changes during a run, and the operations the scheduler's levers map to: TBUs, tasks (one
//! per execution), batches, frames (a request's scope instances), the engine-owned queues, the
//! NoC's links and the pending events, in slabs reused through free lists so that the steady
//! state allocates nothing per event.
//!
//! [`Env`] holds the read-only inputs and the tables derived from them; [`Ctx`] is the
//! scheduler's view over both. `gang.rs` starts executions on gangs of TBUs, `batch.rs` runs the
//! batches of LLM blocks step by step.

mod batch;
mod ctx;
mod env;
mod gang;

use octopus_hw::{ClusterId, TbuId, TbuKindId};
use octopus_owg::index::Idx;
use octopus_owg::ir::{BlockId, FlowId, Kernel};
use rand_pcg::Pcg64Mcg;

pub(crate) use batch::{Batch, StepOutcome};
pub use ctx::Ctx;
pub(crate) use env::{ArrivalGen, Env, mix};

use crate::bits::Bits;
use crate::metrics::Accum;
use crate::queue::EventQueue;
use crate::requests::RequestMap;
use crate::trace::{TraceEvent, TraceKind};
use crate::view::{QueueId, TaskRef};
use crate::{Cycle, RequestId};

/// "No index" in the `u32` links of the slabs.
pub(crate) const NONE: u32 = u32::MAX;

/// "No time": an input that does not come from an `llm_prefill` carries no call start.
pub(crate) const NO_TIME: Cycle = Cycle::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TbuStatus {
    Idle,
    /// Held for a queued task whose gang collects its TBUs.
    Held,
    Running,
    Reconfiguring,
}

#[derive(Clone, Debug)]
pub(crate) struct TbuState {
    pub status: TbuStatus,
    /// The execution it runs (`Running`, not batched) or is held for (`Held`).
    pub task: u32,
    /// The batch it serves (`Running`, batched).
    pub batch: u32,
    /// When the current assignment began.
    pub since: Cycle,
    /// When it will be free (when `Reconfiguring`), or is expected to be, as schedulers see it
    /// (when `Running`). Kept here so [`State::expected_free`] reads one TBU, not its task.
    pub until: Cycle,
    pub config: Option<BlockId>,
    pub reserved: Option<BlockId>,
}

/// Where one input of a task waits: the cluster holding the data, its size, and for an input
/// from an `llm_prefill`, when that call started (for time to first token).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slot {
    pub cluster: u32,
    pub bytes: u64,
    pub origin: Cycle,
}

impl Default for Slot {
    fn default() -> Slot {
        Slot { cluster: 0, bytes: 0, origin: NO_TIME }
    }
}

/// One execution of a scope: the request's top level, a map copy or a loop iteration.
#[derive(Clone, Debug)]
pub(crate) struct Frame {
    pub request: u32,
    pub scope: u32,
    pub parent: u32,
    /// Identity for random streams: a hash of the path of (opener, copy or iteration) from the root.
    pub key: u64,
    /// Map copies: flows into the closer still to send; the frame is freed when it reaches 0.
    pub exits_left: u32,
    /// Loop iterations still to run, including the current one.
    pub iters_left: u64,
    pub iter: u64,
    /// Per block of the scope: inputs still to arrive.
    pub pending: Vec<u32>,
    /// Per block: the latest earliest-finish of its inputs (for the critical-path bound).
    pub ef: Vec<Cycle>,
    /// Per block: for a loop's closer, the frame of its running iteration.
    pub child: Vec<u32>,
    /// Per control block: the cluster whose CBU runs it in this frame (`NONE` until decided).
    pub ctl: Vec<u32>,
    pub slots: Vec<Slot>,
}

/// A ready task: one execution of a task block, run by a gang of `shards` TBUs (alone, or as a
/// sequence of a batch when its block batches).
#[derive(Clone, Debug)]
pub(crate) struct Task {
    pub generation: u32,
    pub live: bool,
    pub request: u32,
    pub frame: u32,
    pub block: BlockId,
    /// TBUs its gang needs.
    pub shards: u32,
    pub ready_at: Cycle,
    /// Earliest time it could start on an infinite machine (critical path).
    pub ef_in: Cycle,
    /// Its drawn latency on the fastest TBU kind, warm, alone (critical path).
    pub min_cycles: Cycle,
    /// Its drawn parameters.
    pub kernel: Kernel<f64>,
    /// The instance's random stream after its parameters were drawn: the bytes of its outputs
    /// are drawn from it.
    pub rng: Pcg64Mcg,
    pub queue: u32,
    pub prev: u32,
    pub next: u32,
    /// Its gang once assigned; before that, the TBUs held for it.
    pub tbus: Vec<TbuId>,
    pub assigned_at: Cycle,
    pub started_at: Cycle,
    /// The batch it joined (batched blocks), or `NONE`.
    pub batch: u32,
    /// When its LLM call started: the ready time of the `llm_prefill` that fed it, else its own.
    pub call_start: Cycle,
    /// In a batch: when its inputs are at the batch's TBUs, its steps done and to do, when its
    /// first step ended, and the KV cache bytes it holds (0 until admitted).
    pub inputs_at: Cycle,
    pub steps_done: u32,
    pub steps: u32,
    pub first_token_at: Cycle,
    pub kv: f64,
}

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Queue {
    pub head: u32,
    pub tail: u32,
    pub len: u32,
    pub expected: Cycle,
}

#[derive(Clone, Debug)]
pub(crate) struct Req {
    pub arrival: Cycle,
    pub active: u32,
    pub root: u32,
    /// Largest earliest-finish of its blocks: its critical path end on an infinite machine.
    pub cp_end: Cycle,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Ev {
    Arrival,
    /// A flow reaches a block of a frame (a control block, or a task after a control block).
    Deliver {
        frame: u32,
        flow: FlowId,
        src: u32,
        bytes: u64,
        ef: Cycle,
        origin: Cycle,
    },
    /// A control block finished on its CBU.
    CbDone {
        frame: u32,
        block: BlockId,
        ef: Cycle,
    },
    /// An execution alone on its gang finished.
    TaskDone {
        task: u32,
    },
    /// A batch's step ended, or a batch waiting for a sequence wakes (stale when `epoch` moved on).
    Step {
        batch: u32,
        epoch: u32,
    },
    /// A reconfiguration ahead of time finished.
    TbuReady {
        tbu: u32,
    },
    /// A time a scheduler asked to be called at ([`Ctx::wake_at`]).
    Wake,
    Tick,
}

/// Everything that changes during a run.
pub(crate) struct State {
    pub now: Cycle,
    /// Pending events; ties resolve in the order they were scheduled.
    pub events: EventQueue<Ev>,
    pub tbus: Vec<TbuState>,
    pub n_idle: u32,
    pub n_held: u32,
    /// Per cluster: TBUs not running a task (idle or reconfiguring ahead of time).
    pub not_running: Vec<u32>,
    /// The same TBUs, one bit each, so a search for an idle TBU skips the running ones 64 at a time.
    pub not_running_set: Bits,
    pub tasks: Vec<Task>,
    pub free_tasks: Vec<u32>,
    /// A limit the run went past ([`SimError::TooMuchLiveWork`]); the event loop stops at it.
    pub overflow: Option<crate::SimError>,
    /// Per task slot: its drawn cycles on warm TBUs of each kind (alone, on its gang).
    pub task_cycles: Vec<Cycle>,
    /// Tasks ready but neither queued nor assigned (must be 0 after every scheduler callback).
    pub floating: u32,
    pub batches: Vec<Batch>,
    pub free_batches: Vec<u32>,
    /// Per block: its running batches, in the order they opened.
    pub block_batches: Vec<Vec<u32>>,
    /// Per die: KV cache bytes held, and batches waiting for some to be freed.
    pub kv_used: Vec<f64>,
    pub kv_waiters: Vec<Vec<u32>>,
    pub frames: Vec<Frame>,
    /// Free frames, per scope.
    pub free_frames: Vec<Vec<u32>>,
    pub reqs: RequestMap<Req>,
    /// The most slots `reqs` held at once.
    pub requests_held_peak: u64,
    pub inflight: u32,
    pub arrived: u64,
    pub completed: u64,
    pub poisson_rng: Pcg64Mcg,
    pub poisson_clock: f64,
    pub queues: Vec<Queue>,
    pub cluster_queued: Vec<u32>,
    pub block_queued: Vec<u32>,
    /// Per batch group (by its first block): tasks of its blocks queued.
    pub group_queued: Vec<u32>,
    pub total_queued: u32,
    pub cbu_free: Vec<Cycle>,
    pub link_free: Vec<Cycle>,
    pub acc: Accum,
    pub trace: Vec<TraceEvent>,
    /// Executions and batches started so far (their numbers in the log).
    pub started: u64,
}

impl State {
    pub(crate) fn new(env: &Env<'_>) -> State {
        let m = env.machine;
        let mut tbus: Vec<TbuState> = (0..m.tbus.len())
            .map(|_| TbuState {
                status: TbuStatus::Idle,
                task: NONE,
                batch: NONE,
                since: 0,
                until: 0,
                config: None,
                reserved: None,
            })
            .collect();
        // The compiled placement is loaded before the run starts.
        for (b, homes) in env.homes.iter().enumerate() {
            for &t in homes {
                tbus[t.index()].config.get_or_insert(env.group(BlockId(b as u32)));
            }
        }
        let n_queues = 1 + m.clusters.len() + m.tbus.len();
        State {
            now: 0,
            events: EventQueue::new(),
            n_idle: tbus.len() as u32,
            n_held: 0,
            not_running: m.clusters.iter().map(|c| c.tbus().count() as u32).collect(),
            not_running_set: Bits::full(tbus.len()),
            tbus,
            tasks: Vec::new(),
            free_tasks: Vec::new(),
            overflow: None,
            task_cycles: Vec::new(),
            floating: 0,
            batches: Vec::new(),
            free_batches: Vec::new(),
            block_batches: vec![Vec::new(); env.wf.blocks.len()],
            kv_used: vec![0.0; m.dies.len()],
            kv_waiters: vec![Vec::new(); m.dies.len()],
            frames: Vec::new(),
            free_frames: vec![Vec::new(); env.prog.scopes()],
            reqs: RequestMap::default(),
            requests_held_peak: 0,
            inflight: 0,
            arrived: 0,
            completed: 0,
            poisson_rng: Pcg64Mcg::new(
                u128::from(mix(env.seed, 0xa771_7a15)) << 64 | u128::from(mix(env.seed, 0x0a77_17a1)),
            ),
            poisson_clock: 0.0,
            queues: vec![Queue { head: NONE, tail: NONE, len: 0, expected: 0 }; n_queues],
            cluster_queued: vec![0; m.clusters.len()],
            block_queued: vec![0; env.wf.blocks.len()],
            group_queued: vec![0; env.wf.blocks.len()],
            total_queued: 0,
            cbu_free: vec![0; m.clusters.len()],
            link_free: vec![0; m.links.len()],
            acc: Accum::new(env),
            trace: Vec::new(),
            started: 0,
        }
    }

    pub(crate) fn push(&mut self, time: Cycle, ev: Ev) {
        self.events.push(time, ev);
    }

    /// Moves the clock, integrating idle and held TBUs and requests in the system over the
    /// elapsed time.
    pub(crate) fn advance(&mut self, to: Cycle) {
        let dt = to - self.now;
        if dt > 0 {
            let idle = u128::from(self.n_idle) * u128::from(dt);
            if self.total_queued > 0 {
                self.acc.idle_queued += idle;
            } else if self.inflight > 0 {
                self.acc.idle_upstream += idle;
            } else {
                self.acc.idle_no_work += idle;
            }
            self.acc.gang += u128::from(self.n_held) * u128::from(dt);
            self.acc.in_system += u128::from(self.inflight) * u128::from(dt);
            self.now = to;
        }
    }

    // ---- queues ----

    pub(crate) fn queue_index(&self, q: QueueId) -> usize {
        match q {
            QueueId::Global => 0,
            QueueId::Cluster(c) => 1 + c.index(),
            QueueId::Tbu(t) => 1 + self.cluster_queued.len() + t.index(),
        }
    }

    pub(crate) fn queue_id(&self, i: u32) -> QueueId {
        let i = i as usize;
        let c = self.cluster_queued.len();
        if i == 0 {
            QueueId::Global
        } else if i <= c {
            QueueId::Cluster(ClusterId((i - 1) as u32))
        } else {
            QueueId::Tbu(TbuId((i - 1 - c) as u32))
        }
    }

    fn queue_cluster(&self, env: &Env<'_>, q: u32) -> Option<usize> {
        match self.queue_id(q) {
            QueueId::Global => None,
            QueueId::Cluster(c) => Some(c.index()),
            QueueId::Tbu(t) => Some(env.machine.tbus[t].cluster.index()),
        }
    }

    fn queue_kind(&self, env: &Env<'_>, q: u32) -> TbuKindId {
        match self.queue_id(q) {
            QueueId::Tbu(t) => env.machine.tbus[t].kind,
            _ => TbuKindId(0),
        }
    }

    pub(crate) fn link(&mut self, env: &Env<'_>, i: u32, q: QueueId) {
        let qi = self.queue_index(q) as u32;
        let tail = self.queues[qi as usize].tail;
        {
            let t = &mut self.tasks[i as usize];
            debug_assert_eq!(t.queue, NONE);
            t.queue = qi;
            t.prev = tail;
            t.next = NONE;
        }
        if tail == NONE {
            self.queues[qi as usize].head = i;
        } else {
            self.tasks[tail as usize].next = i;
        }
        let block = self.tasks[i as usize].block;
        let kind = self.queue_kind(env, qi);
        let qq = &mut self.queues[qi as usize];
        qq.tail = i;
        qq.len += 1;
        qq.expected += env.expected_on(block, kind);
        if let Some(c) = self.queue_cluster(env, qi) {
            self.cluster_queued[c] += 1;
        }
        self.block_queued[block.index()] += 1;
        self.group_queued[env.group(block).index()] += 1;
        self.total_queued += 1;
        self.floating -= 1;
    }

    pub(crate) fn unlink(&mut self, env: &Env<'_>, i: u32) {
        let (qi, prev, next, block) = {
            let t = &self.tasks[i as usize];
            (t.queue, t.prev, t.next, t.block)
        };
        debug_assert_ne!(qi, NONE);
        if prev == NONE {
            self.queues[qi as usize].head = next;
        } else {
            self.tasks[prev as usize].next = next;
        }
        if next == NONE {
            self.queues[qi as usize].tail = prev;
        } else {
            self.tasks[next as usize].prev = prev;
        }
        let kind = self.queue_kind(env, qi);
        let qq = &mut self.queues[qi as usize];
        qq.len -= 1;
        qq.expected -= env.expected_on(block, kind);
        if let Some(c) = self.queue_cluster(env, qi) {
            self.cluster_queued[c] -= 1;
        }
        self.block_queued[block.index()] -= 1;
        self.group_queued[env.group(block).index()] -= 1;
        self.total_queued -= 1;
        let t = &mut self.tasks[i as usize];
        t.queue = NONE;
        t.prev = NONE;
        t.next = NONE;
        self.floating += 1;
    }

    /// Takes a task out of its queue, if it is in one, for a lever that runs it now.
    pub(crate) fn take_off_queue(&mut self, env: &Env<'_>, i: u32) {
        if self.tasks[i as usize].queue != NONE {
            self.unlink(env, i);
        }
        debug_assert!(self.floating > 0);
        self.floating -= 1;
    }

    // ---- tasks ----

    pub(crate) fn check_ref(&self, r: TaskRef) -> u32 {
        let t = self.tasks.get(r.index as usize).expect("task handle out of range");
        assert!(t.live && t.generation == r.generation, "stale task handle {r:?}: the task already ran");
        r.index
    }

    pub(crate) fn task(&self, r: TaskRef) -> &Task {
        &self.tasks[self.check_ref(r) as usize]
    }

    pub(crate) fn task_ref(&self, i: u32) -> TaskRef {
        TaskRef { index: i, generation: self.tasks[i as usize].generation }
    }

    pub(crate) fn task_inputs(&self, env: &Env<'_>, t: &Task) -> &[Slot] {
        let base = env.prog.slot_base[t.block] as usize;
        let n = env.an.preds[t.block].len();
        &self.frames[t.frame as usize].slots[base..base + n]
    }

    /// The input slots of `block` in `frame`.
    pub(crate) fn task_inputs_of(&self, env: &Env<'_>, frame: u32, block: BlockId) -> &[Slot] {
        let base = env.prog.slot_base[block] as usize;
        let n = env.an.preds[block].len();
        &self.frames[frame as usize].slots[base..base + n]
    }

    pub(crate) fn expected_free(&self, env: &Env<'_>, tbu: TbuId) -> Cycle {
        let t = &self.tbus[tbu.index()];
        let current = match t.status {
            TbuStatus::Idle => self.now,
            TbuStatus::Running => t.until.max(self.now),
            TbuStatus::Reconfiguring => t.until,
            // A held TBU will run the task it is held for.
            TbuStatus::Held => {
                self.now + env.expected_on(self.tasks[t.task as usize].block, env.machine.tbus[tbu].kind)
            }
        };
        current + self.queues[self.queue_index(QueueId::Tbu(tbu))].expected
    }

    /// A free task slot (reused, or new), its fields still to be set.
    pub(crate) fn new_task(&mut self, env: &Env<'_>, block: BlockId, rng: &Pcg64Mcg) -> u32 {
        if let Some(i) = self.free_tasks.pop() {
            return i;
        }
        self.tasks.push(Task {
            generation: 0,
            live: false,
            request: 0,
            frame: 0,
            block,
            shards: 1,
            ready_at: 0,
            ef_in: 0,
            min_cycles: 0,
            kernel: Kernel::Delay { time: 0.0 },
            rng: rng.clone(),
            queue: NONE,
            prev: NONE,
            next: NONE,
            tbus: Vec::new(),
            assigned_at: 0,
            started_at: 0,
            batch: NONE,
            call_start: 0,
            inputs_at: 0,
            steps_done: 0,
            steps: 0,
            first_token_at: 0,
            kv: 0.0,
        });
        self.task_cycles.extend(std::iter::repeat_n(0, env.kinds));
        (self.tasks.len() - 1) as u32
    }

    /// Frees a finished task's slot.
    pub(crate) fn free_task(&mut self, i: u32) {
        let t = &mut self.tasks[i as usize];
        t.live = false;
        t.tbus.clear();
        t.batch = NONE;
        self.free_tasks.push(i);
    }

    // ---- the NoC ----

    /// Sends `bytes` from cluster `a` to cluster `b` starting at `t`, reserving the links of the
    /// XY route (cut-through: the head moves on after each hop's latency, each link is busy for the
    /// message's serialisation time, first come first served). Returns when the last byte arrives.
    pub(crate) fn transfer(
        &mut self,
        env: &Env<'_>,
        a: ClusterId,
        b: ClusterId,
        bytes: u64,
        t: Cycle,
    ) -> Cycle {
        if bytes == 0 {
            return t;
        }
        if a == b {
            return t + bytes.div_ceil(env.local_bw);
        }
        let mut head = t;
        let mut tail = t;
        let route = env.machine.route(a, b);
        let hops = route.len() as u64;
        // Links come in two or three bandwidths (on-die, inter-die): divide only when it changes.
        let (mut bw, mut ser) = (0, 0);
        for l in route {
            let l = l.index();
            if env.link_bw[l] != bw {
                bw = env.link_bw[l];
                ser = bytes.div_ceil(bw);
            }
            let start = head.max(self.link_free[l]);
            let tail_out = (start + ser).max(tail);
            self.link_free[l] = tail_out;
            head = start + env.link_lat[l];
            tail = tail_out + env.link_lat[l];
        }
        self.acc.byte_hops += u128::from(bytes) * u128::from(hops);
        if env.trace {
            self.trace.push(TraceEvent {
                kind: TraceKind::Transfer { from: a, to: b, bytes },
                tbu: None,
                cluster: a,
                start: t,
                end: tail,
                block: None,
                request: None,
                exec: None,
            });
        }
        tail
    }

    /// Sends a task's inputs to the clusters of `tbus` from `t`, each TBU receiving its part
    /// (the bytes over the gang's size, rounded up); when the last byte reaches the last TBU, and
    /// per TBU when its own inputs are in (into `at`, one entry per TBU).
    pub(crate) fn send_inputs(
        &mut self,
        env: &Env<'_>,
        i: u32,
        tbus: &[TbuId],
        t: Cycle,
        at: &mut Vec<Cycle>,
    ) {
        let (block, frame) = (self.tasks[i as usize].block, self.tasks[i as usize].frame);
        let base = env.prog.slot_base[block] as usize;
        let n = env.an.preds[block].len();
        let k = tbus.len().max(1) as u64;
        at.clear();
        for &tbu in tbus {
            let cluster = env.machine.tbus[tbu].cluster;
            let mut done = t;
            for s in 0..n {
                let slot = self.frames[frame as usize].slots[base + s];
                if slot.bytes > 0 {
                    let arrive =
                        self.transfer(env, ClusterId(slot.cluster), cluster, slot.bytes.div_ceil(k), t);
                    done = done.max(arrive);
                }
            }
            at.push(done);
        }
    }

    // ---- TBU status ----

    /// Moves a TBU to `status`, keeping what is derived from the statuses in step: the idle and
    /// held counts, and per cluster the count and the bits of TBUs not running a task. Every
    /// status change goes through here.
    pub(crate) fn set_status(&mut self, env: &Env<'_>, tbu: TbuId, status: TbuStatus) {
        let t = tbu.index();
        let old = std::mem::replace(&mut self.tbus[t].status, status);
        let cluster = env.machine.tbus[tbu].cluster.index();
        let available = |s: TbuStatus| matches!(s, TbuStatus::Idle | TbuStatus::Reconfiguring);
        match old {
            TbuStatus::Idle => self.n_idle -= 1,
            TbuStatus::Held => self.n_held -= 1,
            _ => {}
        }
        match status {
            TbuStatus::Idle => self.n_idle += 1,
            TbuStatus::Held => self.n_held += 1,
            _ => {}
        }
        if available(old) && !available(status) {
            self.not_running[cluster] -= 1;
            self.not_running_set.clear(t);
        } else if !available(old) && available(status) {
            self.not_running[cluster] += 1;
            self.not_running_set.set(t);
        }
    }

    /// A TBU's job is over: it is idle, holding what it was configured for.
    pub(crate) fn free_tbu(&mut self, env: &Env<'_>, tbu: TbuId) {
        self.set_status(env, tbu, TbuStatus::Idle);
        let t = &mut self.tbus[tbu.index()];
        t.task = NONE;
        t.batch = NONE;
    }

    // ---- frames ----

    pub(crate) fn new_frame(
        &mut self,
        env: &Env<'_>,
        request: u32,
        scope: u32,
        parent: u32,
        key: u64,
    ) -> u32 {
        let s = scope as usize;
        let id = if let Some(id) = self.free_frames[s].pop() {
            id
        } else {
            let n = env.prog.scope_pending[s].len();
            self.frames.push(Frame {
                request,
                scope,
                parent,
                key,
                exits_left: 0,
                iters_left: 0,
                iter: 0,
                pending: vec![0; n],
                ef: vec![0; n],
                child: vec![NONE; n],
                ctl: vec![NONE; n],
                slots: vec![Slot::default(); env.prog.scope_slots[s] as usize],
            });
            (self.frames.len() - 1) as u32
        };
        let f = &mut self.frames[id as usize];
        f.request = request;
        f.scope = scope;
        f.parent = parent;
        f.key = key;
        f.exits_left = 0;
        f.iters_left = 0;
        f.iter = 0;
        f.pending.copy_from_slice(&env.prog.scope_pending[s]);
        f.ef.iter_mut().for_each(|e| *e = 0);
        f.child.iter_mut().for_each(|c| *c = NONE);
        f.ctl.iter_mut().for_each(|c| *c = NONE);
        id
    }

    pub(crate) fn reset_frame(&mut self, env: &Env<'_>, id: u32) {
        let f = &mut self.frames[id as usize];
        f.pending.copy_from_slice(&env.prog.scope_pending[f.scope as usize]);
        f.ef.iter_mut().for_each(|e| *e = 0);
        f.child.iter_mut().for_each(|c| *c = NONE);
        f.ctl.iter_mut().for_each(|c| *c = NONE);
    }

    pub(crate) fn free_frame(&mut self, id: u32) {
        let s = self.frames[id as usize].scope as usize;
        self.free_frames[s].push(id);
    }

    /// Records a span of the execution log (when the run keeps one).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn log(
        &mut self,
        env: &Env<'_>,
        kind: TraceKind,
        tbu: TbuId,
        start: Cycle,
        end: Cycle,
        block: BlockId,
        request: Option<u32>,
        exec: Option<u64>,
    ) {
        if env.trace && end > start {
            self.trace.push(TraceEvent {
                kind,
                tbu: Some(tbu),
                cluster: env.machine.tbus[tbu].cluster,
                start,
                end,
                block: Some(block),
                request: request.map(RequestId),
                exec,
            });
        }
    }
}
