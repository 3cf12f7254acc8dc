//! The event loop: requests walking the workflow, control blocks on CBUs, tasks on TBUs, data on
//! the NoC. See `docs/schedulers.md` ("The simulated machine") for the model.
//!
//! Layout: [`Env`] holds the read-only inputs and the tables derived from them; [`State`] holds
//! everything that changes, in slabs reused through free lists, so that the steady state allocates
//! nothing per event. The scheduler is called with a [`Ctx`] over both.

use octopus_compiler::Plan;
use octopus_hw::{ClusterId, CostModel, Machine, TbuId, TbuKindId};
use octopus_owg::analysis::Analysis;
use octopus_owg::index::Idx;
use octopus_owg::ir::{Arrivals, BlockId, Control, FlowId, Workflow};
use rand::Rng;
use rand_pcg::Pcg64Mcg;

use crate::bits::Bits;
use crate::metrics::Accum;
use crate::program::{Op, Program};
use crate::queue::EventQueue;
use crate::scheduler::{ControlEvent, Ctx, Outcome, QueueId, Scheduler, TaskDone, TaskRef};
use crate::trace::{TraceEvent, TraceKind};
use crate::{Cycle, RequestId, SimError};

/// "No index" in the `u32` links of the slabs.
pub(crate) const NONE: u32 = u32::MAX;

/// Consecutive ticks with nothing else pending after which a run that still has work is stalled:
/// only the scheduler's `on_tick` could move it, and it has not for this many periods.
const STALL_TICKS: u32 = 10_000;

/// Read-only inputs of a run and the tables derived from them.
pub(crate) struct Env<'a> {
    pub wf: &'a Workflow,
    pub an: &'a Analysis,
    pub machine: &'a Machine,
    pub cost: &'a CostModel<'a>,
    pub plan: &'a Plan,
    pub prog: Program,
    pub seed: u64,
    /// Home TBUs of each block (empty for control blocks).
    pub homes: Vec<Vec<TbuId>>,
    /// Shards of each block's executions (the plan's; 1 for control blocks).
    pub shards: Vec<u32>,
    /// The CBU (cluster) of each block: its plan CBU for control blocks, the cluster of its first
    /// home for task blocks (where the control plane tells it it is ready).
    pub cbu: Vec<ClusterId>,
    /// Expected cycles of each block on each TBU kind (`block * kinds + kind`).
    pub expected: Vec<Cycle>,
    pub kinds: usize,
    pub control_cycles: Cycle,
    /// Per link: bytes per cycle and hop latency.
    pub link_bw: Vec<u64>,
    pub link_lat: Vec<u64>,
    /// NoC bandwidth within a cluster (one pass through its router).
    pub local_bw: u64,
    pub n_requests: u64,
    pub arrival_times: ArrivalGen,
    /// The name of each block, for the trace.
    pub trace: bool,
}

/// How arrival times are produced.
#[derive(Clone, Debug)]
pub(crate) enum ArrivalGen {
    /// All at time zero.
    Batch,
    /// Poisson with this mean gap in cycles.
    Poisson { mean_gap_cycles: f64 },
    /// Recorded times, in cycles.
    Replay(Vec<Cycle>),
}

impl Env<'_> {
    pub(crate) fn expected_on(&self, block: BlockId, kind: TbuKindId) -> Cycle {
        self.expected[block.index() * self.kinds + kind.index()]
    }

    fn is_task(&self, b: BlockId) -> bool {
        self.prog.op[b] == Op::Task
    }

    /// Cycles for a control message between two clusters.
    fn ctl_msg(&self, a: ClusterId, b: ClusterId) -> Cycle {
        self.cost.control_message_cycles(self.machine.hops(a, b))
    }

    /// A per-instance random stream: a function of the seed and the instance's identity only, so
    /// scheduling decisions never shift the workload's draws.
    fn instance_rng(&self, request: u32, frame_key: u64, block: BlockId, salt: u64) -> Pcg64Mcg {
        let a = mix(self.seed ^ 0x5eed_0f12_57a1_1c00, u64::from(request));
        let b = mix(a, frame_key);
        let c = mix(b, u64::from(block.0) << 32 | salt);
        Pcg64Mcg::new(u128::from(mix(c, 1)) << 64 | u128::from(mix(c, 2)))
    }
}

/// SplitMix64 finaliser of `a` combined with `b`: a cheap, well-mixed hash for stream keys.
pub(crate) fn mix(a: u64, b: u64) -> u64 {
    let mut z = a.wrapping_add(b.wrapping_mul(0x9e37_79b9_7f4a_7c15)).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

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
    request: u32,
    scope: u32,
    parent: u32,
    /// Identity for random streams: a hash of the path of (opener, copy or iteration) from the root.
    key: u64,
    /// Map copies: flows into the closer still to send; the frame is freed when it reaches 0.
    exits_left: u32,
    /// Loop iterations still to run, including the current one.
    iters_left: u64,
    iter: u64,
    /// Per block of the scope: inputs still to arrive.
    pending: Vec<u32>,
    /// Per block: the latest earliest-finish of its inputs (for the critical-path bound).
    ef: Vec<Cycle>,
    /// Per block: for a loop's closer, the frame of its running iteration.
    child: Vec<u32>,
    slots: Vec<Slot>,
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
    left: u32,
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
    active: u32,
    root: u32,
    /// Largest earliest-finish of its blocks: its critical path end on an infinite machine.
    cp_end: Cycle,
}

#[derive(Clone, Copy, Debug)]
enum Ev {
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
    events: EventQueue<Ev>,
    pub tbus: Vec<TbuState>,
    pub n_idle: u32,
    /// Per cluster: TBUs not running a task (idle or reconfiguring ahead of time).
    pub not_running: Vec<u32>,
    /// The same TBUs, one bit each, so a search for an idle TBU skips the running ones 64 at a time.
    pub not_running_set: Bits,
    pub tasks: Vec<Task>,
    free_tasks: Vec<u32>,
    gangs: Vec<Gang>,
    free_gangs: Vec<u32>,
    /// Per task slot: its drawn cycles on each TBU kind.
    task_cycles: Vec<Cycle>,
    /// Tasks ready but neither queued nor assigned (must be 0 after every scheduler callback).
    floating: u32,
    frames: Vec<Frame>,
    /// Free frames, per scope.
    free_frames: Vec<Vec<u32>>,
    pub reqs: Vec<Req>,
    pub inflight: u32,
    arrived: u64,
    completed: u64,
    poisson_rng: Pcg64Mcg,
    poisson_clock: f64,
    pub queues: Vec<Queue>,
    pub cluster_queued: Vec<u32>,
    pub block_queued: Vec<u32>,
    pub total_queued: u32,
    cbu_free: Vec<Cycle>,
    link_free: Vec<Cycle>,
    pub acc: Accum,
    pub trace: Vec<TraceEvent>,
}

impl State {
    fn new(env: &Env<'_>) -> State {
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
            not_running_set: {
                let mut set = Bits::new(tbus.len());
                (0..tbus.len()).for_each(|t| set.set(t));
                set
            },
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

    fn push(&mut self, time: Cycle, ev: Ev) {
        self.events.push(time, ev);
    }

    /// Moves the clock, integrating idle TBUs and requests in the system over the elapsed time.
    fn advance(&mut self, to: Cycle) {
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
    fn transfer(&mut self, env: &Env<'_>, a: ClusterId, b: ClusterId, bytes: u64, t: Cycle) -> Cycle {
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
        let t = &mut self.tbus[ti];
        t.status = TbuStatus::Running;
        t.task = i;
        t.since = now;
        t.until = now + env.expected_on(block, kind);
        self.n_idle -= 1;
        self.not_running[cluster.index()] -= 1;
        self.not_running_set.clear(ti);
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
        let t = &mut self.tbus[ti];
        t.config = Some(block);
        t.status = TbuStatus::Reconfiguring;
        t.since = now;
        t.until = now + cycles;
        self.n_idle -= 1;
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
    fn new_task(&mut self, env: &Env<'_>, block: BlockId, rng: &Pcg64Mcg) -> u32 {
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

    fn new_gang(&mut self, shards: u32) -> u32 {
        if let Some(g) = self.free_gangs.pop() {
            self.gangs[g as usize].left = shards;
            g
        } else {
            self.gangs.push(Gang { left: shards });
            (self.gangs.len() - 1) as u32
        }
    }

    /// One shard of gang `g` ended; whether it was the last.
    fn end_shard(&mut self, g: u32) -> bool {
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

    fn new_frame(&mut self, env: &Env<'_>, request: u32, scope: u32, parent: u32, key: u64) -> u32 {
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

    fn reset_frame(&mut self, env: &Env<'_>, id: u32) {
        let f = &mut self.frames[id as usize];
        f.pending.copy_from_slice(&env.prog.scope_pending[f.scope as usize]);
        f.ef.iter_mut().for_each(|e| *e = 0);
        f.child.iter_mut().for_each(|c| *c = NONE);
    }

    fn free_frame(&mut self, id: u32) {
        let s = self.frames[id as usize].scope as usize;
        self.free_frames[s].push(id);
    }
}

/// A run: inputs, state and the scheduler.
pub(crate) struct Engine<'a> {
    pub env: Env<'a>,
    pub st: State,
    pub sched: Box<dyn Scheduler + 'a>,
}

macro_rules! call {
    ($self:ident, $method:ident $(, $arg:expr)*) => {{
        let mut ctx = Ctx { env: &$self.env, st: &mut $self.st };
        $self.sched.$method(&mut ctx $(, $arg)*);
        assert!(
            $self.st.floating == 0,
            "scheduler `{}` left a ready task neither queued nor assigned (in `{}`)",
            $self.sched.name(),
            stringify!($method)
        );
    }};
}

impl<'a> Engine<'a> {
    pub(crate) fn new(env: Env<'a>, sched: Box<dyn Scheduler + 'a>) -> Engine<'a> {
        let st = State::new(&env);
        Engine { env, st, sched }
    }

    /// Runs to completion; `progress(done, total)` is called every so often.
    pub(crate) fn run(&mut self, progress: &mut dyn FnMut(u64, u64)) -> Result<(), SimError> {
        call!(self, init);
        let period = self.sched.tick_period().filter(|&p| p > 0);
        let first = self.first_arrival();
        self.st.push(first, Ev::Arrival);
        if let Some(p) = period {
            self.st.push(p, Ev::Tick);
        }
        let total = self.env.n_requests;
        let step = (total / 100).max(1);
        let mut idle_ticks = 0u32;
        let stalled = |st: &State, sched: &dyn Scheduler| SimError::Stalled {
            scheduler: sched.name().to_owned(),
            time: st.now,
            completed: st.completed,
            requests: total,
            queued: u64::from(st.total_queued),
        };
        while self.st.completed < total {
            let Some((time, ev)) = self.st.events.pop() else {
                return Err(stalled(&self.st, self.sched.as_ref()));
            };
            // A tick alone in the heap: nothing runs, nothing is in flight, nothing will arrive.
            if matches!(ev, Ev::Tick) && self.st.events.is_empty() {
                idle_ticks += 1;
                if idle_ticks >= STALL_TICKS {
                    return Err(stalled(&self.st, self.sched.as_ref()));
                }
            } else {
                idle_ticks = 0;
            }
            self.st.advance(time);
            let before = self.st.completed;
            match ev {
                Ev::Arrival => self.on_arrival(),
                Ev::Deliver { frame, flow, src, bytes, ef } => self.on_deliver(frame, flow, src, bytes, ef),
                Ev::CbDone { frame, block, ef } => self.on_cb_done(frame, block, ef),
                Ev::TaskDone { task } => self.on_task_done(task),
                Ev::TbuReady { tbu } => {
                    let t = &mut self.st.tbus[tbu as usize];
                    t.status = TbuStatus::Idle;
                    self.st.n_idle += 1;
                    call!(self, on_tbu_free, TbuId(tbu));
                }
                Ev::Tick => {
                    call!(self, on_tick);
                    if let Some(p) = period
                        && self.st.completed < total
                    {
                        self.st.push(self.st.now + p, Ev::Tick);
                    }
                }
            }
            if self.st.completed != before && self.st.completed.is_multiple_of(step) {
                progress(self.st.completed, total);
            }
        }
        self.finish();
        Ok(())
    }

    /// Clips reconfigurations ahead of time still running at the end, so TBU time adds up.
    fn finish(&mut self) {
        let end = self.st.now;
        for t in &self.st.tbus {
            if t.status == TbuStatus::Reconfiguring && t.until > end {
                self.st.acc.reconfig -= u128::from(t.until - end);
            }
        }
        self.st.acc.makespan = end;
    }

    fn first_arrival(&mut self) -> Cycle {
        self.arrival_time(0)
    }

    fn arrival_time(&mut self, i: u64) -> Cycle {
        match &self.env.arrival_times {
            ArrivalGen::Batch => 0,
            ArrivalGen::Replay(times) => times[i as usize],
            ArrivalGen::Poisson { mean_gap_cycles } => {
                // Exponential gaps by inversion; the clock accumulates in f64 so rounding never drifts.
                let u: f64 = self.st.poisson_rng.random();
                self.st.poisson_clock += -mean_gap_cycles * (1.0 - u).ln();
                self.st.poisson_clock.round() as Cycle
            }
        }
    }

    fn on_arrival(&mut self) {
        let r = self.st.arrived as u32;
        self.st.arrived += 1;
        let now = self.st.now;
        self.st.inflight += 1;
        let root = self.st.new_frame(&self.env, r, 0, NONE, 0);
        self.st.reqs.push(Req { arrival: now, active: 0, root, cp_end: now });
        if self.st.arrived < self.env.n_requests {
            let t = self.arrival_time(self.st.arrived).max(now);
            self.st.push(t, Ev::Arrival);
        }
        call!(self, on_arrival, RequestId(r));
        // Hold the request open while its entries start.
        self.st.reqs[r as usize].active += 1;
        for k in 0..self.env.prog.entries.len() {
            let b = self.env.prog.entries[k];
            self.block_ready(root, b, now);
        }
        self.release(r);
    }

    /// A block of a frame has all its inputs.
    fn block_ready(&mut self, frame: u32, block: BlockId, ef_in: Cycle) {
        if self.env.is_task(block) {
            self.task_ready(frame, block, ef_in);
        } else {
            let c = self.env.cbu[block.index()];
            let start = self.st.now.max(self.st.cbu_free[c.index()]);
            let end = start + self.env.control_cycles;
            self.st.cbu_free[c.index()] = end;
            let r = self.st.frames[frame as usize].request;
            self.st.reqs[r as usize].active += 1;
            self.st.push(end, Ev::CbDone { frame, block, ef: ef_in + self.env.control_cycles });
        }
    }

    /// A task block of a frame has all its inputs: its parameters are drawn and each of its shards
    /// becomes a ready task, handed to the scheduler in shard order.
    fn task_ready(&mut self, frame: u32, block: BlockId, ef_in: Cycle) {
        let env = &self.env;
        let (request, key) = (self.st.frames[frame as usize].request, self.st.frames[frame as usize].key);
        let mut rng = env.instance_rng(request, key, block, 0);
        let task = env.wf.blocks[block].task().expect("task block");
        let kernel = crate::sample::sample_kernel(&task.kernel, &mut rng);
        let shards = env.shards[block.index()];
        let gang = if shards > 1 { self.st.new_gang(shards) } else { NONE };
        // Every shard costs the same: the cost model runs for the first, the others copy its row.
        let (mut first_row, mut min_cycles) = (0, Cycle::MAX);
        for shard in 0..shards {
            let env = &self.env;
            let st = &mut self.st;
            let i = st.new_task(env, block, &rng);
            let row = i as usize * env.kinds;
            if shard == 0 {
                first_row = row;
                for k in 0..env.kinds {
                    let c = env.cost.task_cycles(&kernel, task.dtype, TbuKindId(k as u32), shards);
                    st.task_cycles[row + k] = c;
                    min_cycles = min_cycles.min(c);
                }
            } else {
                st.task_cycles.copy_within(first_row..first_row + env.kinds, row);
            }
            let now = st.now;
            let t = &mut st.tasks[i as usize];
            t.generation = t.generation.wrapping_add(1);
            t.live = true;
            t.request = request;
            t.frame = frame;
            t.block = block;
            t.shard = shard;
            t.gang = gang;
            t.ready_at = now;
            t.ef_in = ef_in;
            t.min_cycles = min_cycles;
            t.rng = rng.clone();
            t.queue = NONE;
            t.prev = NONE;
            t.next = NONE;
            t.tbu = NONE;
            st.reqs[request as usize].active += 1;
            st.floating += 1;
            st.acc.work += u128::from(min_cycles);
            let r = st.task_ref(i);
            call!(self, on_ready, r);
        }
    }

    fn on_task_done(&mut self, i: u32) {
        let now = self.st.now;
        let (tbu, frame, block, request, ef_out, shard, gang) = {
            let t = &self.st.tasks[i as usize];
            (t.tbu, t.frame, t.block, t.request, t.ef_in + t.min_cycles, t.shard, t.gang)
        };
        {
            let ts = &mut self.st.tbus[tbu as usize];
            ts.status = TbuStatus::Idle;
            ts.task = NONE;
        }
        let src = self.env.machine.tbus[TbuId(tbu)].cluster;
        self.st.n_idle += 1;
        self.st.not_running[src.index()] += 1;
        self.st.not_running_set.set(tbu as usize);
        self.st.acc.shards += 1;
        // The execution is complete when its last shard ends, wherever it ran.
        let complete = gang == NONE || self.st.end_shard(gang);
        if complete {
            self.st.acc.tasks += 1;
        }
        let req = &mut self.st.reqs[request as usize];
        req.cp_end = req.cp_end.max(ef_out);
        let done = {
            let t = &self.st.tasks[i as usize];
            TaskDone {
                block,
                request: RequestId(request),
                tbu: TbuId(tbu),
                shard,
                complete,
                ready_at: t.ready_at,
                assigned_at: t.assigned_at,
                started_at: t.started_at,
                finished_at: now,
            }
        };
        let mut rng = self.st.tasks[i as usize].rng.clone();
        self.st.tasks[i as usize].live = false;
        self.st.free_tasks.push(i);
        if complete {
            self.outputs(frame, block, src, ef_out, true, &mut rng);
        }
        call!(self, on_task_done, &done);
        self.release(request);
        if self.st.tbus[tbu as usize].status == TbuStatus::Idle {
            call!(self, on_tbu_free, TbuId(tbu));
        }
    }

    /// Sends the outputs of a finished block (not an opener of a map or loop) along all its flows.
    fn outputs(
        &mut self,
        frame: u32,
        block: BlockId,
        src: ClusterId,
        ef: Cycle,
        from_task: bool,
        rng: &mut Pcg64Mcg,
    ) {
        for k in 0..self.env.an.succs[block].len() {
            let f = self.env.an.succs[block][k];
            let to = self.env.wf.flows[f].to;
            let target = self.target_frame(frame, to);
            self.send(target, f, src, ef, from_task, rng);
        }
    }

    /// The frame a flow from a block of `frame` into `to` lands in: the same one, or the parent for
    /// a flow into the closer of the frame's map or loop.
    fn target_frame(&mut self, frame: u32, to: BlockId) -> u32 {
        let f = &mut self.st.frames[frame as usize];
        if self.env.prog.scope_of[to] == f.scope {
            return frame;
        }
        let parent = f.parent;
        debug_assert_ne!(parent, NONE);
        let opener = BlockId(self.env.prog.scope_opener[f.scope as usize]);
        if self.env.prog.op[opener] == Op::Map {
            f.exits_left -= 1;
            if f.exits_left == 0 {
                // Every block of this copy has finished: nothing refers to the frame any more.
                self.st.free_frame(frame);
            }
        }
        parent
    }

    /// Sends one flow's data and notice into `frame` (the data is drawn now, from the producer's stream).
    fn send(
        &mut self,
        frame: u32,
        f: FlowId,
        src: ClusterId,
        ef: Cycle,
        from_task: bool,
        rng: &mut Pcg64Mcg,
    ) {
        let flow = &self.env.wf.flows[f];
        let bytes = if flow.bytes.is_const() {
            flow.bytes.mean().max(0.0).round() as u64
        } else {
            flow.bytes.sample(rng, true) as u64
        };
        let to = flow.to;
        let now = self.st.now;
        if self.env.is_task(to) {
            if from_task {
                // The producer's local scheduler sees the completion at once.
                self.apply(frame, f, src.0, bytes, ef);
            } else {
                let at = now + self.env.ctl_msg(src, self.env.cbu[to.index()]);
                self.deliver_later(frame, f, src, bytes, ef, at);
            }
        } else {
            let c = self.env.cbu[to.index()];
            let notice = now + self.env.ctl_msg(src, c);
            let data = self.st.transfer(&self.env, src, c, bytes, now);
            // The data now waits at the control block's cluster.
            self.deliver_later(frame, f, c, bytes, ef, notice.max(data));
        }
    }

    fn deliver_later(&mut self, frame: u32, f: FlowId, src: ClusterId, bytes: u64, ef: Cycle, at: Cycle) {
        let r = self.st.frames[frame as usize].request;
        self.st.reqs[r as usize].active += 1;
        self.st.push(at, Ev::Deliver { frame, flow: f, src: src.0, bytes, ef });
    }

    fn on_deliver(&mut self, frame: u32, flow: FlowId, src: u32, bytes: u64, ef: Cycle) {
        let r = self.st.frames[frame as usize].request;
        self.apply(frame, flow, src, bytes, ef);
        self.release(r);
    }

    /// One input of a block instance has arrived.
    fn apply(&mut self, frame: u32, f: FlowId, src: u32, bytes: u64, ef: Cycle) {
        let to = self.env.wf.flows[f].to;
        let local = self.env.prog.local[to] as usize;
        let fr = &mut self.st.frames[frame as usize];
        if self.env.prog.op[to] == Op::Task {
            let slot = self.env.prog.slot_base[to] as usize + self.env.prog.flow_slot[f] as usize;
            fr.slots[slot] = Slot { cluster: src, bytes };
        }
        fr.ef[local] = fr.ef[local].max(ef);
        debug_assert!(
            fr.pending[local] > 0,
            "more inputs than expected at `{}`",
            self.env.wf.blocks[to].name
        );
        fr.pending[local] -= 1;
        if fr.pending[local] == 0 {
            let ef_in = fr.ef[local];
            self.block_ready(frame, to, ef_in);
        }
    }

    fn on_cb_done(&mut self, frame: u32, block: BlockId, ef: Cycle) {
        let env = &self.env;
        let (request, key) = (self.st.frames[frame as usize].request, self.st.frames[frame as usize].key);
        let cluster = env.cbu[block.index()];
        self.st.acc.control_blocks += 1;
        {
            let req = &mut self.st.reqs[request as usize];
            req.cp_end = req.cp_end.max(ef);
        }
        let control = env.wf.blocks[block].control().expect("control block");
        let op = env.prog.op[block];
        // A loop's closer runs once per iteration: each run gets its own stream.
        let salt = match op {
            Op::Join { .. } => {
                let child = self.st.frames[frame as usize].child[env.prog.local[block] as usize];
                if child == NONE { 0 } else { self.st.frames[child as usize].iter + 1 }
            }
            _ => 0,
        };
        let mut rng = env.instance_rng(request, key, block, salt);
        let event = |outcome| ControlEvent { request: RequestId(request), block, cluster, outcome };
        match op {
            Op::Task => unreachable!("tasks do not run on CBUs"),
            Op::Branch => {
                let closer = control.join().expect("opener");
                let u: f64 = rng.random();
                let succs = &env.an.succs[block];
                let mut acc = 0.0;
                let mut taken = *succs.last().expect("a branch has successors");
                for &f in succs {
                    acc += env.wf.flows[f].probability.unwrap_or(0.0);
                    if u < acc {
                        taken = f;
                        break;
                    }
                }
                let local = env.prog.local[closer] as usize;
                self.st.frames[frame as usize].pending[local] = env.prog.branch_reach[taken];
                call!(self, on_control, &event(Outcome::Branch { taken }));
                self.send(frame, taken, cluster, ef, false, &mut rng);
            }
            Op::Fork => {
                call!(self, on_control, &event(Outcome::Fork));
                self.outputs(frame, block, cluster, ef, false, &mut rng);
            }
            Op::Map => {
                let Control::Map { width, join: closer } = control else { unreachable!() };
                let closer = *closer;
                let w = width.sample(&mut rng);
                let local = env.prog.local[closer] as usize;
                let expect = w * env.an.preds[closer].len() as u64;
                let expect = u32::try_from(expect).expect("map width times closer inputs fits u32");
                self.st.frames[frame as usize].pending[local] = expect;
                call!(self, on_control, &event(Outcome::Map { width: w }));
                if expect == 0 {
                    let ef_in = ef;
                    self.block_ready(frame, closer, ef_in);
                } else {
                    let body = self.env.prog.body_scope[block];
                    let exits = self.env.prog.body_exits[block];
                    for copy in 0..w {
                        let child = if exits > 0 {
                            let c = self.st.new_frame(
                                &self.env,
                                request,
                                body,
                                frame,
                                mix(mix(key, u64::from(block.0)), copy),
                            );
                            self.st.frames[c as usize].exits_left = exits;
                            c
                        } else {
                            NONE
                        };
                        self.enter_body(frame, child, block, closer, cluster, ef, &mut rng);
                    }
                }
            }
            Op::Loop => {
                let Control::Loop { count, join: closer } = control else { unreachable!() };
                let closer = *closer;
                let n = count.sample(&mut rng);
                call!(self, on_control, &event(Outcome::Loop { count: n }));
                let local = env.prog.local[closer] as usize;
                if n == 0 {
                    self.st.frames[frame as usize].pending[local] = 0;
                    self.block_ready(frame, closer, ef);
                } else {
                    let body = self.env.prog.body_scope[block];
                    let child = self.st.new_frame(
                        &self.env,
                        request,
                        body,
                        frame,
                        mix(mix(key, u64::from(block.0)), 0),
                    );
                    self.st.frames[child as usize].iters_left = n;
                    let fr = &mut self.st.frames[frame as usize];
                    fr.child[local] = child;
                    fr.pending[local] = self.env.an.preds[closer].len() as u32;
                    self.enter_body(frame, child, block, closer, cluster, ef, &mut rng);
                }
            }
            Op::Join { opener } => {
                let local = env.prog.local[block] as usize;
                let child = self.st.frames[frame as usize].child[local];
                if env.prog.op[opener] == Op::Loop && child != NONE {
                    let c = &mut self.st.frames[child as usize];
                    c.iters_left -= 1;
                    if c.iters_left > 0 {
                        c.iter += 1;
                        c.key = mix(mix(key, u64::from(opener.0)), c.iter);
                        self.st.reset_frame(&self.env, child);
                        self.st.frames[frame as usize].pending[local] = self.env.an.preds[block].len() as u32;
                        call!(self, on_control, &event(Outcome::Join { next_iteration: true }));
                        // The next iteration starts where the opener's flows lead.
                        self.enter_body(frame, child, opener, block, cluster, ef, &mut rng);
                        self.release(request);
                        return;
                    }
                    self.st.frames[frame as usize].child[local] = NONE;
                    self.st.free_frame(child);
                }
                call!(self, on_control, &event(Outcome::Join { next_iteration: false }));
                self.outputs(frame, block, cluster, ef, false, &mut rng);
            }
        }
        self.release(request);
    }

    /// Sends a map or loop opener's flows: into the body frame `child`, or straight to the closer.
    #[allow(clippy::too_many_arguments)]
    fn enter_body(
        &mut self,
        frame: u32,
        child: u32,
        opener: BlockId,
        closer: BlockId,
        src: ClusterId,
        ef: Cycle,
        rng: &mut Pcg64Mcg,
    ) {
        for k in 0..self.env.an.succs[opener].len() {
            let f = self.env.an.succs[opener][k];
            let target = if self.env.wf.flows[f].to == closer { frame } else { child };
            self.send(target, f, src, ef, false, rng);
        }
    }

    /// Drops one hold on a request; completes it when nothing of it is left.
    fn release(&mut self, r: u32) {
        let req = &mut self.st.reqs[r as usize];
        req.active -= 1;
        if req.active == 0 {
            let (arrival, cp_end, root) = (req.arrival, req.cp_end, req.root);
            let now = self.st.now;
            self.st.free_frame(root);
            self.st.inflight -= 1;
            self.st.completed += 1;
            self.st.acc.latencies.push(now - arrival);
            self.st.acc.cp_bound = self.st.acc.cp_bound.max(cp_end);
        }
    }
}

/// Builds the arrival generator of a run.
pub(crate) fn arrival_gen(
    arrivals: &Arrivals,
    requests_override: Option<u64>,
    clock_ghz: f64,
) -> (ArrivalGen, u64) {
    match (requests_override, arrivals) {
        (Some(n), _) => (ArrivalGen::Batch, n),
        (None, Arrivals::Batch { requests }) => (ArrivalGen::Batch, *requests),
        (None, Arrivals::Poisson { rate, requests }) => {
            (ArrivalGen::Poisson { mean_gap_cycles: clock_ghz * 1e9 / rate }, *requests)
        }
        (None, Arrivals::Replay { times, .. }) => {
            let cycles =
                times.iter().map(|s| (s * clock_ghz * 1e9).round().max(0.0) as Cycle).collect::<Vec<_>>();
            let n = cycles.len() as u64;
            (ArrivalGen::Replay(cycles), n)
        }
    }
}
