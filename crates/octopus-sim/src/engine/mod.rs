//! The event loop: requests walking the workflow, control blocks on CBUs, tasks on TBUs, data on
//! the NoC. See `docs/schedulers.md` ("The simulated machine") for the model.
//!
//! Layout: [`Env`] holds the read-only inputs and the tables derived from them; [`State`] holds
//! everything that changes, in slabs reused through free lists, so that the steady state allocates
//! nothing per event (`state.rs`). The scheduler is called with a [`Ctx`] over both.

use octopus_compiler::Plan;
use octopus_hw::{ClusterId, CostModel, Machine, TbuId, TbuKindId};
use octopus_owg::analysis::Analysis;
use octopus_owg::index::Idx;
use octopus_owg::ir::{Arrivals, BlockId, Control, FlowId, Workflow};
use rand::Rng;
use rand_pcg::Pcg64Mcg;

use crate::program::{Op, Program};
use crate::scheduler::{ControlEvent, Ctx, Outcome, Scheduler, TaskDone};
use crate::{Cycle, RequestId, SimError};

mod state;

use state::{Ev, Req};
pub(crate) use state::{Slot, State, TbuStatus};

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
                    self.st.set_status(&self.env, TbuId(tbu), TbuStatus::Idle);
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
        self.st.set_status(&self.env, TbuId(tbu), TbuStatus::Idle);
        self.st.tbus[tbu as usize].task = NONE;
        let src = self.env.machine.tbus[TbuId(tbu)].cluster;
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
    rate_override: Option<f64>,
    clock_ghz: f64,
) -> (ArrivalGen, u64) {
    if let Some(rate) = rate_override {
        let n = requests_override.unwrap_or_else(|| arrivals.requests());
        return (ArrivalGen::Poisson { mean_gap_cycles: clock_ghz * 1e9 / rate }, n);
    }
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
