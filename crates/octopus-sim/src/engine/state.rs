//! What changes during a run: TBUs, tasks and their gangs, frames (a request's scope instances),
//! the engine-owned queues, the NoC's links and the pending events, in slabs reused through free
//! lists; and the operations the scheduler's levers ([`crate::scheduler::Ctx`]) map to.

use octopus_hw::{ClusterId, TbuId, TbuKindId};
use octopus_owg::index::Idx;
use octopus_owg::ir::{BlockId, FlowId};
use rand_pcg::Pcg64Mcg;

use super::{Env, NONE, mix};
use crate::bits::Bits;
use crate::metrics::Accum;
use crate::queue::EventQueue;
use crate::scheduler::{QueueId, TaskRef};
use crate::trace::{TraceEvent, TraceKind};
use crate::{Cycle, RequestId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TbuStatus {
    Idle,
    Running,
    Reconfiguring,
}

#[derive(Clone, Debug)]
pub(crate) struct TbuState {
    pub status: TbuStatus,
    /// The running task (when `Running`).
    pub task: u32,
    /// When the current assignment began.
    pub since: Cycle,
    /// When it will be free (when `Reconfiguring`), or is expected to be, as schedulers see it
    /// (when `Running`: the assignment plus its block's expected cycles on this TBU's kind).
    /// Kept here so [`State::expected_free`] reads one TBU, not its task.
    pub until: Cycle,
    pub config: Option<BlockId>,
    pub reserved: Option<BlockId>,
}

/// Where one input of a task waits: the cluster holding the data and its size.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Slot {
    pub cluster: u32,
    pub bytes: u64,
}

/// One execution of a scope: the request's top level, a map copy or a loop iteration.
#[derive(Clone, Debug)]
pub(crate) struct Frame {
    pub(super) request: u32,
    pub(super) scope: u32,
    pub(super) parent: u32,
    /// Identity for random streams: a hash of the path of (opener, copy or iteration) from the root.
    pub(super) key: u64,
    /// Map copies: flows into the closer still to send; the frame is freed when it reaches 0.
    pub(super) exits_left: u32,
    /// Loop iterations still to run, including the current one.
    pub(super) iters_left: u64,
    pub(super) iter: u64,
    /// Per block of the scope: inputs still to arrive.
    pub(super) pending: Vec<u32>,
    /// Per block: the latest earliest-finish of its inputs (for the critical-path bound).
    pub(super) ef: Vec<Cycle>,
    /// Per block: for a loop's closer, the frame of its running iteration.
    pub(super) child: Vec<u32>,
    pub(super) slots: Vec<Slot>,
}

/// A ready task: one shard of a task block's execution (the whole execution when the plan gives
/// the block one shard).
#[derive(Clone, Debug)]
pub(crate) struct Task {
    pub generation: u32,
    pub live: bool,
    pub request: u32,
    pub frame: u32,
    pub block: BlockId,
    /// Its shard index, from 0.
    pub shard: u32,
    /// The [`Gang`] of its execution's shards (`NONE` when it has one shard).
    pub gang: u32,
    pub ready_at: Cycle,
    /// Earliest time it could start on an infinite machine (critical path).
    pub ef_in: Cycle,
    /// Its drawn cycles on the fastest TBU kind.
    pub min_cycles: Cycle,
    /// The instance's random stream after its parameters were drawn: the shard that ends last
    /// draws the bytes of the outputs from it.
    pub rng: Pcg64Mcg,
    pub queue: u32,
    pub prev: u32,
    pub next: u32,
    pub tbu: u32,
    pub assigned_at: Cycle,
    pub started_at: Cycle,
}

/// The shards of one execution still running or waiting: its outputs leave when the last ends.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Gang {
    pub(super) left: u32,
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
    pub(super) active: u32,
    pub(super) root: u32,
    /// Largest earliest-finish of its blocks: its critical path end on an infinite machine.
    pub(super) cp_end: Cycle,
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Ev {
    Arrival,
    /// A flow reaches a block of a frame (a control block, or a task after a control block).
    Deliver {
        frame: u32,
        flow: FlowId,
        src: u32,
        bytes: u64,
        ef: Cycle,
    },
    /// A control block finished on its CBU.
    CbDone {
        frame: u32,
        block: BlockId,
        ef: Cycle,
    },
    TaskDone {
        task: u32,
    },
    /// A reconfiguration ahead of time finished.
    TbuReady {
        tbu: u32,
    },
    Tick,
}

/// Everything that changes during a run.
pub(crate) struct State {
    pub now: Cycle,
    /// Pending events; ties resolve in the order they were scheduled.
    pub(super) events: EventQueue<Ev>,
    pub tbus: Vec<TbuState>,
    pub n_idle: u32,
    /// Per cluster: TBUs not running a task (idle or reconfiguring ahead of time).
    pub not_running: Vec<u32>,
    /// The same TBUs, one bit each, so a search for an idle TBU skips the running ones 64 at a time.
    pub not_running_set: Bits,
    pub tasks: Vec<Task>,
    pub(super) free_tasks: Vec<u32>,
    pub(super) gangs: Vec<Gang>,
    pub(super) free_gangs: Vec<u32>,
    /// Per task slot: its drawn cycles on each TBU kind.
    pub(super) task_cycles: Vec<Cycle>,
    /// Tasks ready but neither queued nor assigned (must be 0 after every scheduler callback).
    pub(super) floating: u32,
    pub(super) frames: Vec<Frame>,
    /// Free frames, per scope.
    pub(super) free_frames: Vec<Vec<u32>>,
    pub reqs: Vec<Req>,
    pub inflight: u32,
    pub(super) arrived: u64,
    pub(super) completed: u64,
    pub(super) poisson_rng: Pcg64Mcg,
    pub(super) poisson_clock: f64,
    pub queues: Vec<Queue>,
    pub cluster_queued: Vec<u32>,
    pub block_queued: Vec<u32>,
    pub total_queued: u32,
    pub(super) cbu_free: Vec<Cycle>,
    pub(super) link_free: Vec<Cycle>,
    pub acc: Accum,
    pub trace: Vec<TraceEvent>,
}

impl State {
    pub(super) fn new(env: &Env<'_>) -> State {
        let m = env.machine;
        let mut tbus: Vec<TbuState> = (0..m.tbus.len())
            .map(|_| TbuState {
                status: TbuStatus::Idle,
                task: NONE,
                since: 0,
                until: 0,
                config: None,
                reserved: None,
            })
            .collect();
        // The compiled placement is loaded before the run starts.
        for (b, homes) in env.homes.iter().enumerate() {
            for &t in homes {
                tbus[t.index()].config.get_or_insert(BlockId(b as u32));
            }
        }
        let n_queues = 1 + m.clusters.len() + m.tbus.len();
        State {
            now: 0,
            events: EventQueue::new(),
            n_idle: tbus.len() as u32,
            not_running: m.clusters.iter().map(|c| c.tbus().count() as u32).collect(),
            not_running_set: Bits::full(tbus.len()),
            tbus,
            tasks: Vec::new(),
            free_tasks: Vec::new(),
            gangs: Vec::new(),
            free_gangs: Vec::new(),
            task_cycles: Vec::new(),
            floating: 0,
            frames: Vec::new(),
            free_frames: vec![Vec::new(); env.prog.scopes()],
            reqs: Vec::with_capacity(env.n_requests.min(1 << 24) as usize),
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
            total_queued: 0,
            cbu_free: vec![0; m.clusters.len()],
            link_free: vec![0; m.links.len()],
            acc: Accum::new(env.n_requests),
            trace: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, time: Cycle, ev: Ev) {
        self.events.push(time, ev);
    }

    /// Moves the clock, integrating idle TBUs and requests in the system over the elapsed time.
    pub(super) fn advance(&mut self, to: Cycle) {
        let dt = to - self.now;
        if dt > 0 {
            let idle = u128::from(self.n_idle) * u128::from(dt);
            if self.inflight > 0 {
                self.acc.idle_upstream += idle;
            } else {
                self.acc.idle_no_work += idle;
            }
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

    pub(super) fn queue_cluster(&self, env: &Env<'_>, q: u32) -> Option<usize> {
        match self.queue_id(q) {
            QueueId::Global => None,
            QueueId::Cluster(c) => Some(c.index()),
            QueueId::Tbu(t) => Some(env.machine.tbus[t].cluster.index()),
        }
    }

    pub(super) fn queue_kind(&self, env: &Env<'_>, q: u32) -> TbuKindId {
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
        self.total_queued -= 1;
        let t = &mut self.tasks[i as usize];
        t.queue = NONE;
        t.prev = NONE;
        t.next = NONE;
        self.floating += 1;
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

    pub(crate) fn expected_free(&self, tbu: TbuId) -> Cycle {
        let t = &self.tbus[tbu.index()];
        let current = match t.status {
            TbuStatus::Idle => self.now,
            TbuStatus::Running => t.until.max(self.now),
            TbuStatus::Reconfiguring => t.until,
        };
        current + self.queues[self.queue_index(QueueId::Tbu(tbu))].expected
    }

    /// Sends `bytes` from cluster `a` to cluster `b` starting at `t`, reserving the links of the
    /// XY route (cut-through: the head moves on after each hop's latency, each link is busy for the
    /// message's serialisation time, first come first served). Returns when the last byte arrives.
    pub(super) fn transfer(
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
            });
        }
        tail
    }

    /// Moves a TBU to `status`, keeping what is derived from the statuses in step: the idle
    /// count, and per cluster the count and the bits of TBUs not running a task. Every status
    /// change goes through here.
    pub(super) fn set_status(&mut self, env: &Env<'_>, tbu: TbuId, status: TbuStatus) {
        let t = tbu.index();
        let old = std::mem::replace(&mut self.tbus[t].status, status);
        let cluster = env.machine.tbus[tbu].cluster.index();
        match old {
            TbuStatus::Idle => self.n_idle -= 1,
            TbuStatus::Running => {
                self.not_running[cluster] += 1;
                self.not_running_set.set(t);
            }
            TbuStatus::Reconfiguring => {}
        }
        match status {
            TbuStatus::Idle => self.n_idle += 1,
            TbuStatus::Running => {
                self.not_running[cluster] -= 1;
                self.not_running_set.clear(t);
            }
            TbuStatus::Reconfiguring => {}
        }
    }

    pub(crate) fn assign(&mut self, env: &Env<'_>, r: TaskRef, tbu: TbuId) {
        let i = self.check_ref(r);
        let ti = tbu.index();
        assert!(self.tbus[ti].status == TbuStatus::Idle, "assigned a task to busy TBU {}", tbu.0);
        let block = self.tasks[i as usize].block;
        if let Some(res) = self.tbus[ti].reserved {
            assert!(res == block, "assigned a task of another block to TBU {} reserved for a block", tbu.0);
            self.tbus[ti].reserved = None;
        }
        if self.tasks[i as usize].queue != NONE {
            self.unlink(env, i);
        }
        debug_assert_eq!(self.tasks[i as usize].tbu, NONE);
        self.floating -= 1;
        let now = self.now;
        let kind = env.machine.tbus[tbu].kind;
        let cluster = env.machine.tbus[tbu].cluster;
        let reconfig = if self.tbus[ti].config == Some(block) {
            0
        } else {
            self.tbus[ti].config = Some(block);
            self.acc.reconfigurations += 1;
            env.cost.reconfig_cycles(kind)
        };
        // Inputs cross the NoC while the TBU reconfigures.
        let mut inputs_at = now;
        let base = env.prog.slot_base[block] as usize;
        let (frame, request) = (self.tasks[i as usize].frame, self.tasks[i as usize].request);
        let shards = u64::from(env.shards[block.index()]);
        for k in 0..env.an.preds[block].len() {
            let s = self.frames[frame as usize].slots[base + k];
            if s.bytes > 0 {
                // Each shard receives its part of every input.
                let bytes = s.bytes.div_ceil(shards);
                let at = self.transfer(env, ClusterId(s.cluster), cluster, bytes, now);
                inputs_at = inputs_at.max(at);
            }
        }
        let start = (now + reconfig).max(inputs_at);
        let exec = self.task_cycles[i as usize * env.kinds + kind.index()];
        let end = start + exec;
        self.acc.reconfig += u128::from(reconfig);
        self.acc.transfer += u128::from(start - now - reconfig);
        self.acc.busy += u128::from(exec);
        self.set_status(env, tbu, TbuStatus::Running);
        let t = &mut self.tbus[ti];
        t.task = i;
        t.since = now;
        t.until = now + env.expected_on(block, kind);
        let task = &mut self.tasks[i as usize];
        task.tbu = tbu.0;
        task.assigned_at = now;
        task.started_at = start;
        if env.trace {
            let req = Some(RequestId(request));
            if reconfig > 0 {
                self.trace.push(TraceEvent {
                    kind: TraceKind::Reconfig,
                    tbu: Some(tbu),
                    cluster,
                    start: now,
                    end: now + reconfig,
                    block: Some(block),
                    request: req,
                });
            }
            if start > now + reconfig {
                self.trace.push(TraceEvent {
                    kind: TraceKind::WaitInputs,
                    tbu: Some(tbu),
                    cluster,
                    start: now + reconfig,
                    end: start,
                    block: Some(block),
                    request: req,
                });
            }
            self.trace.push(TraceEvent {
                kind: TraceKind::Exec,
                tbu: Some(tbu),
                cluster,
                start,
                end,
                block: Some(block),
                request: req,
            });
        }
        self.push(end, Ev::TaskDone { task: i });
    }

    pub(crate) fn reconfigure_ahead(&mut self, env: &Env<'_>, tbu: TbuId, block: BlockId, extra: Cycle) {
        let ti = tbu.index();
        assert!(self.tbus[ti].status == TbuStatus::Idle, "reconfigured busy TBU {}", tbu.0);
        assert!(env.is_task(block), "reconfigured a TBU for a control block");
        let kind = env.machine.tbus[tbu].kind;
        let cycles = if self.tbus[ti].config == Some(block) {
            0
        } else {
            self.acc.reconfigurations += 1;
            env.cost.reconfig_cycles(kind)
        } + extra;
        if cycles == 0 {
            return;
        }
        let now = self.now;
        self.acc.reconfig += u128::from(cycles);
        self.set_status(env, tbu, TbuStatus::Reconfiguring);
        let t = &mut self.tbus[ti];
        t.config = Some(block);
        t.since = now;
        t.until = now + cycles;
        if env.trace {
            self.trace.push(TraceEvent {
                kind: TraceKind::Reconfig,
                tbu: Some(tbu),
                cluster: env.machine.tbus[tbu].cluster,
                start: now,
                end: now + cycles,
                block: Some(block),
                request: None,
            });
        }
        self.push(now + cycles, Ev::TbuReady { tbu: tbu.0 });
    }

    // ---- task slots and gangs ----

    /// A free task slot (reused, or new), its fields still to be set.
    pub(super) fn new_task(&mut self, env: &Env<'_>, block: BlockId, rng: &Pcg64Mcg) -> u32 {
        if let Some(i) = self.free_tasks.pop() {
            return i;
        }
        self.tasks.push(Task {
            generation: 0,
            live: false,
            request: 0,
            frame: 0,
            block,
            shard: 0,
            gang: NONE,
            ready_at: 0,
            ef_in: 0,
            min_cycles: 0,
            rng: rng.clone(),
            queue: NONE,
            prev: NONE,
            next: NONE,
            tbu: NONE,
            assigned_at: 0,
            started_at: 0,
        });
        self.task_cycles.extend(std::iter::repeat_n(0, env.kinds));
        (self.tasks.len() - 1) as u32
    }

    pub(super) fn new_gang(&mut self, shards: u32) -> u32 {
        if let Some(g) = self.free_gangs.pop() {
            self.gangs[g as usize].left = shards;
            g
        } else {
            self.gangs.push(Gang { left: shards });
            (self.gangs.len() - 1) as u32
        }
    }

    /// One shard of gang `g` ended; whether it was the last.
    pub(super) fn end_shard(&mut self, g: u32) -> bool {
        let left = &mut self.gangs[g as usize].left;
        *left -= 1;
        if *left == 0 {
            self.free_gangs.push(g);
            true
        } else {
            false
        }
    }

    // ---- frames ----

    pub(super) fn new_frame(
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
        id
    }

    pub(super) fn reset_frame(&mut self, env: &Env<'_>, id: u32) {
        let f = &mut self.frames[id as usize];
        f.pending.copy_from_slice(&env.prog.scope_pending[f.scope as usize]);
        f.ef.iter_mut().for_each(|e| *e = 0);
        f.child.iter_mut().for_each(|c| *c = NONE);
    }

    pub(super) fn free_frame(&mut self, id: u32) {
        let s = self.frames[id as usize].scope as usize;
        self.free_frames[s].push(id);
    }
}
