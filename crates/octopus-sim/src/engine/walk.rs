//! The walk of requests through the workflow: arrivals, control blocks on their CBUs (branches,
//! forks, maps, loops and their closers), flows between blocks, and task blocks becoming ready.

use octopus_hw::{ClusterId, TbuKindId};
use octopus_owg::index::Idx;
use octopus_owg::ir::{BlockId, Control, FlowId};
use rand::Rng;
use rand_pcg::Pcg64Mcg;

use super::{Engine, call};
use crate::program::Op;
use crate::scheduler::{ControlEvent, Outcome};
use crate::state::{Ev, NO_TIME, NONE, Req, Slot, mix};
use crate::{Cycle, RequestId};

impl Engine<'_> {
    pub(super) fn on_arrival(&mut self) {
        let r = self.st.arrived as u32;
        self.st.arrived += 1;
        let now = self.st.now;
        self.st.inflight += 1;
        let root = self.st.new_frame(&self.env, r, 0, NONE, 0);
        self.st.reqs.insert(r, Req { arrival: now, active: 0, root, cp_end: now });
        self.st.requests_held_peak = self.st.requests_held_peak.max(self.st.reqs.held() as u64);
        if self.st.arrived < self.env.n_requests {
            let t = self.arrival_time(self.st.arrived).max(now);
            self.st.push(t, Ev::Arrival);
        }
        call!(self, on_arrival, RequestId(r));
        // Hold the request open while its entries start.
        self.st.reqs[r].active += 1;
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
            let c = self.control_cluster(frame, block, None);
            let start = self.st.now.max(self.st.cbu_free[c.index()]);
            let end = start + self.env.control_cycles;
            self.st.cbu_free[c.index()] = end;
            let r = self.st.frames[frame as usize].request;
            self.st.reqs[r].active += 1;
            self.st.push(end, Ev::CbDone { frame, block, ef: ef_in + self.env.control_cycles });
        }
    }

    /// The cluster whose CBU runs control block `block` in `frame`, decided once per frame: a
    /// closer runs on its plan CBU, or where its opener ran if the scheduler moved it; an opener with one incoming flow where the scheduler says
    /// (`Scheduler::control_cluster`, given where its input comes `from`); any other, its plan CBU.
    fn control_cluster(&mut self, frame: u32, block: BlockId, from: Option<ClusterId>) -> ClusterId {
        let local = self.env.prog.local[block] as usize;
        let set = self.st.frames[frame as usize].ctl[local];
        if set != NONE {
            return ClusterId(set);
        }
        let c = match self.env.prog.op[block] {
            // A closer runs on its own plan CBU, unless the scheduler moved its opener.
            Op::Join { opener } => {
                let o = self.st.frames[frame as usize].ctl[self.env.prog.local[opener] as usize];
                if o == NONE || o == self.env.cbu[opener.index()].0 {
                    self.env.cbu[block.index()]
                } else {
                    ClusterId(o)
                }
            }
            _ => match from {
                Some(src) if self.env.an.preds[block].len() == 1 => {
                    let ctx = crate::state::Ctx { env: &self.env, st: &mut self.st };
                    self.sched.control_cluster(&ctx, block, src)
                }
                _ => self.env.cbu[block.index()],
            },
        };
        self.st.frames[frame as usize].ctl[local] = c.0;
        c
    }

    /// A task block of a frame has all its inputs: its parameters are drawn and it becomes one
    /// ready task, to run on a gang of its block's shard count of TBUs.
    fn task_ready(&mut self, frame: u32, block: BlockId, ef_in: Cycle) {
        let env = &self.env;
        let (request, key) = (self.st.frames[frame as usize].request, self.st.frames[frame as usize].key);
        let mut rng = env.instance_rng(request, key, block, 0);
        let task = env.wf.blocks[block].task().expect("task block");
        let kernel = crate::sample::sample_kernel(&task.kernel, &mut rng);
        let shards = env.shards[block.index()];
        let profile = env.profile[block.index()];
        let st = &mut self.st;
        let i = st.new_task(env, block, &rng);
        let row = i as usize * env.kinds;
        // Cycles on warm TBUs of each kind, alone: what the gang computes, and on the fastest
        // kind the critical path's share (no loads, transfers or collectives: a lower bound).
        let mut min_cycles = Cycle::MAX;
        for k in 0..env.kinds {
            let kind = TbuKindId(k as u32);
            let c = match &profile.llm {
                Some(m) => crate::work::alone_cycles(env.cost, m, &profile, &kernel, kind, shards),
                None => env.cost.run_cycles(&kernel, task.dtype, &profile, kind, shards),
            };
            st.task_cycles[row + k] = c;
            min_cycles = min_cycles.min(c);
        }
        match &profile.llm {
            Some(m) => crate::work::add_batched(&mut st.acc, env, block, m, &kernel, shards),
            None => st.acc.work += u128::from(min_cycles) * u128::from(shards),
        }
        // The call start of an LLM decode: when the prefill that fed it became ready.
        let call_start = st
            .task_inputs_of(env, frame, block)
            .iter()
            .map(|s| s.origin)
            .min()
            .unwrap_or(crate::state::NO_TIME);
        let now = st.now;
        let t = &mut st.tasks[i as usize];
        t.generation = t.generation.wrapping_add(1);
        t.live = true;
        t.request = request;
        t.frame = frame;
        t.block = block;
        t.shards = shards;
        t.ready_at = now;
        t.ef_in = ef_in;
        t.min_cycles = min_cycles;
        t.kernel = kernel;
        t.rng = rng;
        t.queue = NONE;
        t.prev = NONE;
        t.next = NONE;
        t.tbus.clear();
        t.batch = NONE;
        t.call_start = call_start;
        st.reqs[request].active += 1;
        st.floating += 1;
        let r = st.task_ref(i);
        call!(self, on_ready, r);
    }

    /// Sends the outputs of a finished block (not an opener of a map or loop) along all its flows.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn outputs(
        &mut self,
        frame: u32,
        block: BlockId,
        src: ClusterId,
        ef: Cycle,
        from_task: bool,
        origin: Cycle,
        rng: &mut Pcg64Mcg,
    ) {
        for k in 0..self.env.an.succs[block].len() {
            let f = self.env.an.succs[block][k];
            let to = self.env.wf.flows[f].to;
            let target = self.target_frame(frame, to);
            self.send(target, f, src, ef, from_task, origin, rng);
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

    /// Sends one flow's data and notice into `frame` (the data is drawn now, from the producer's
    /// stream). `origin` is the call start an `llm_prefill` hands to the decode it feeds.
    #[allow(clippy::too_many_arguments)]
    fn send(
        &mut self,
        frame: u32,
        f: FlowId,
        src: ClusterId,
        ef: Cycle,
        from_task: bool,
        origin: Cycle,
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
                self.apply(frame, f, src.0, bytes, ef, origin);
            } else {
                let at = now + self.env.ctl_msg(src, self.env.cbu[to.index()]);
                self.deliver_later(frame, f, src, bytes, ef, at);
            }
        } else {
            let c = self.control_cluster(frame, to, Some(src));
            let notice = now + self.env.ctl_msg(src, c);
            let data = self.st.transfer(&self.env, src, c, bytes, now);
            // The data now waits at the control block's cluster.
            self.deliver_later(frame, f, c, bytes, ef, notice.max(data));
        }
    }

    /// A flow through a control block carries no call start.
    fn deliver_later(&mut self, frame: u32, f: FlowId, src: ClusterId, bytes: u64, ef: Cycle, at: Cycle) {
        let r = self.st.frames[frame as usize].request;
        self.st.reqs[r].active += 1;
        self.st.push(at, Ev::Deliver { frame, flow: f, src: src.0, bytes, ef, origin: NO_TIME });
    }

    pub(super) fn on_deliver(
        &mut self,
        frame: u32,
        flow: FlowId,
        src: u32,
        bytes: u64,
        ef: Cycle,
        origin: Cycle,
    ) {
        let r = self.st.frames[frame as usize].request;
        self.apply(frame, flow, src, bytes, ef, origin);
        self.release(r);
    }

    /// One input of a block instance has arrived.
    fn apply(&mut self, frame: u32, f: FlowId, src: u32, bytes: u64, ef: Cycle, origin: Cycle) {
        let to = self.env.wf.flows[f].to;
        let local = self.env.prog.local[to] as usize;
        let fr = &mut self.st.frames[frame as usize];
        if self.env.prog.op[to] == Op::Task {
            let slot = self.env.prog.slot_base[to] as usize + self.env.prog.flow_slot[f] as usize;
            fr.slots[slot] = Slot { cluster: src, bytes, origin };
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

    pub(super) fn on_cb_done(&mut self, frame: u32, block: BlockId, ef: Cycle) {
        let env = &self.env;
        let (request, key) = (self.st.frames[frame as usize].request, self.st.frames[frame as usize].key);
        let cluster = ClusterId(self.st.frames[frame as usize].ctl[env.prog.local[block] as usize]);
        self.st.acc.control_blocks += 1;
        {
            let req = &mut self.st.reqs[request];
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
                self.send(frame, taken, cluster, ef, false, NO_TIME, &mut rng);
            }
            Op::Fork => {
                call!(self, on_control, &event(Outcome::Fork));
                self.outputs(frame, block, cluster, ef, false, NO_TIME, &mut rng);
            }
            Op::Map => {
                let Control::Map { width, join: closer } = control else { unreachable!() };
                let closer = *closer;
                let w = width.sample(&mut rng);
                let local = env.prog.local[closer] as usize;
                let expect = w * env.an.preds[closer].len() as u64;
                // Every copy is a record (a frame, a message, a task) from now until it ends.
                let live = (self.st.tasks.len() - self.st.free_tasks.len() + self.st.events.len()) as u64;
                if live + w > crate::MAX_LIVE_WORK {
                    self.st.overflow = Some(crate::SimError::TooMuchLiveWork {
                        block: env.wf.blocks[block].name.clone(),
                        span: None,
                        width: w,
                        request: u64::from(request),
                        live,
                        time: self.st.now,
                    });
                    return;
                }
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
                self.outputs(frame, block, cluster, ef, false, NO_TIME, &mut rng);
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
            self.send(target, f, src, ef, false, NO_TIME, rng);
        }
    }

    /// Drops one hold on a request; completes it when nothing of it is left.
    pub(super) fn release(&mut self, r: u32) {
        let req = &mut self.st.reqs[r];
        req.active -= 1;
        if req.active == 0 {
            let Req { arrival, cp_end, root, .. } = self.st.reqs.remove(r).expect("in flight");
            let now = self.st.now;
            self.st.free_frame(root);
            self.st.inflight -= 1;
            self.st.completed += 1;
            let (latency, critical_path) = (now - arrival, cp_end - arrival);
            let acc = &mut self.st.acc;
            acc.latency.push(latency as f64);
            acc.critical_path.push(critical_path as f64);
            acc.slowdown.push(if critical_path == 0 { 1.0 } else { latency as f64 / critical_path as f64 });
            self.st.acc.cp_bound = self.st.acc.cp_bound.max(cp_end);
        }
    }
}
