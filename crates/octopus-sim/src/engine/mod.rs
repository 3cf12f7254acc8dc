//! The event loop: it pops events in time order, moves the state ([`crate::state`]) and calls
//! the scheduler where a control plane decides. `walk.rs` is the walk of requests through the
//! workflow (arrivals, control blocks, flows, the readiness of task blocks). See
//! `docs/schedulers.md` ("The simulated machine") for the model.

mod walk;

use octopus_hw::TbuId;
use octopus_owg::index::Idx;
use rand::Rng;

use crate::scheduler::{BatchId, Scheduler, TaskDone};
use crate::state::{ArrivalGen, Env, Ev, NO_TIME, NONE, State, StepOutcome, TbuStatus};
use crate::{Cycle, RequestId, SimError};

/// Consecutive ticks with nothing else pending after which a run that still has work is stalled:
/// only the scheduler's `on_tick` could move it, and it has not for this many periods.
const STALL_TICKS: u32 = 10_000;

/// A run: inputs, state and the scheduler.
pub(crate) struct Engine<'a> {
    pub env: Env<'a>,
    pub st: State,
    pub sched: Box<dyn Scheduler + 'a>,
    /// Scratch: the sequences a batch step finished.
    done: Vec<u32>,
    /// Scratch: an empty gang buffer, swapped into the slot of a finished task.
    spare: Vec<TbuId>,
}

macro_rules! call {
    ($self:ident, $method:ident $(, $arg:expr)*) => {{
        let mut ctx = $crate::state::Ctx { env: &$self.env, st: &mut $self.st };
        $self.sched.$method(&mut ctx $(, $arg)*);
        assert!(
            $self.st.floating == 0,
            "scheduler `{}` left a ready task neither queued nor assigned (in `{}`)",
            $self.sched.name(),
            stringify!($method)
        );
    }};
}
pub(crate) use call;

impl<'a> Engine<'a> {
    pub(crate) fn new(env: Env<'a>, sched: Box<dyn Scheduler + 'a>) -> Engine<'a> {
        let st = State::new(&env);
        Engine { env, st, sched, done: Vec::new(), spare: Vec::new() }
    }

    /// Runs to completion; `progress(done, total)` is called every so often.
    pub(crate) fn run(&mut self, progress: &mut dyn FnMut(u64, u64)) -> Result<(), SimError> {
        call!(self, init);
        let period = self.sched.tick_period().filter(|&p| p > 0);
        let first = self.arrival_time(0);
        self.st.push(first, Ev::Arrival);
        if let Some(p) = period {
            self.st.push(p, Ev::Tick);
        }
        // Ticks pause while no request is in the system, so a long gap between arrivals costs
        // nothing; they resume on the same grid of multiples of the period.
        let mut ticking = period.is_some();
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
                Ev::Arrival => {
                    self.on_arrival();
                    if let Some(p) = period
                        && !ticking
                    {
                        self.st.push((self.st.now / p + 1) * p, Ev::Tick);
                        ticking = true;
                    }
                }
                Ev::Deliver { frame, flow, src, bytes, ef, origin } => {
                    self.on_deliver(frame, flow, src, bytes, ef, origin)
                }
                Ev::CbDone { frame, block, ef } => self.on_cb_done(frame, block, ef),
                Ev::TaskDone { task } => self.on_task_done(task),
                Ev::Step { batch, epoch } => self.on_step(batch, epoch),
                Ev::TbuReady { tbu } => {
                    self.st.set_status(&self.env, TbuId(tbu), TbuStatus::Idle);
                    call!(self, on_tbu_free, TbuId(tbu));
                }
                Ev::Wake => call!(self, on_wake),
                Ev::Tick => {
                    call!(self, on_tick);
                    if let Some(p) = period
                        && self.st.completed < total
                    {
                        if self.st.inflight == 0 {
                            ticking = false;
                        } else {
                            self.st.push(self.st.now + p, Ev::Tick);
                        }
                    }
                }
            }
            if let Some(e) = self.st.overflow.take() {
                return Err(e);
            }
            call!(self, after_event);
            if self.st.completed != before && self.st.completed.is_multiple_of(step) {
                progress(self.st.completed, total);
            }
        }
        self.finish();
        Ok(())
    }

    /// Clips reconfigurations ahead of time still running at the end, and counts the time of
    /// batches still open (empty, lingering), so TBU time adds up.
    fn finish(&mut self) {
        let end = self.st.now;
        let mut spans = Vec::new();
        for b in &self.st.batches {
            if b.live {
                debug_assert!(!b.stepping && b.members.is_empty());
                self.st.acc.transfer += b.tbus.len() as u128 * u128::from(end.saturating_sub(b.acct_at));
                spans.extend(b.tbus.iter().map(|&t| (t, b.ready_at, b.block, b.exec)));
            }
        }
        // Their spans in the trace end with the run.
        for (t, from, block, exec) in spans {
            self.st.log(&self.env, crate::TraceKind::Batch, t, from, end, block, None, Some(exec));
        }
        for t in &self.st.tbus {
            if t.status == TbuStatus::Reconfiguring && t.until > end {
                self.st.acc.reconfig -= u128::from(t.until - end);
            }
        }
        self.st.acc.makespan = end;
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

    /// An execution alone on its gang ended: its TBUs are free, its outputs leave from its first
    /// TBU's cluster.
    fn on_task_done(&mut self, i: u32) {
        let spare = std::mem::take(&mut self.spare);
        let gang = std::mem::replace(&mut self.st.tasks[i as usize].tbus, spare);
        for &t in &gang {
            self.st.free_tbu(&self.env, t);
        }
        self.st.acc.shards += gang.len() as u64;
        self.complete(i, gang[0]);
        for &t in &gang {
            if self.st.tbus[t.index()].status == TbuStatus::Idle {
                call!(self, on_tbu_free, t);
            }
        }
        let mut gang = gang;
        gang.clear();
        self.spare = gang;
    }

    /// A batch's step boundary (or the wake of a batch waiting for a sequence).
    fn on_step(&mut self, b: u32, epoch: u32) {
        if !self.st.step_is_current(b, epoch) {
            return;
        }
        let mut done = std::mem::take(&mut self.done);
        self.st.end_step(&self.env, b, &mut done);
        let first = self.st.batches[b as usize].tbus[0];
        let shards = self.st.batches[b as usize].tbus.len() as u64;
        for &m in &done {
            self.st.acc.shards += shards;
            self.record_llm(m);
            self.complete(m, first);
        }
        self.done = done;
        let (block, room) = {
            let bt = &self.st.batches[b as usize];
            (bt.block, bt.members.len() + bt.pending.len() < bt.max as usize)
        };
        if room && self.st.group_queued[block.index()] > 0 {
            call!(self, on_batch_room, BatchId(b));
        }
        if self.st.next_step(&self.env, b) == StepOutcome::Closed {
            let gang = self.st.closed_gang(b).to_vec();
            for t in gang {
                if self.st.tbus[t.index()].status == TbuStatus::Idle {
                    call!(self, on_tbu_free, t);
                }
            }
        }
    }

    /// The latency of a finished LLM sequence, and for a decode its time to first token and
    /// time per output token.
    fn record_llm(&mut self, m: u32) {
        let t = &self.st.tasks[m as usize];
        let now = self.st.now;
        let stats = &mut self.st.acc.llm[t.block.index()];
        stats.sequences += 1;
        stats.tokens += match t.kernel {
            octopus_owg::ir::Kernel::LlmPrefill { tokens, .. } => tokens.max(0.0).round() as u64,
            _ => u64::from(t.steps),
        };
        stats.latency.push((now - t.ready_at) as f64);
        if matches!(t.kernel, octopus_owg::ir::Kernel::LlmDecode { .. }) {
            let start = if t.call_start == NO_TIME { t.ready_at } else { t.call_start.min(t.ready_at) };
            stats.ttft.push((t.first_token_at - start) as f64);
            if t.steps >= 2 {
                stats.tpot.push((now - t.first_token_at) as f64 / f64::from(t.steps - 1));
            }
        }
    }

    /// An execution is over (its gang's TBUs already freed or still in their batch): its outputs
    /// leave from `from`'s cluster, the scheduler hears of it, and its slot is freed.
    fn complete(&mut self, i: u32, from: TbuId) {
        let now = self.st.now;
        let (frame, block, request, ef_out, batch) = {
            let t = &self.st.tasks[i as usize];
            (t.frame, t.block, t.request, t.ef_in + t.min_cycles, t.batch)
        };
        self.st.acc.tasks += 1;
        let req = &mut self.st.reqs[request];
        req.cp_end = req.cp_end.max(ef_out);
        let done = {
            let t = &self.st.tasks[i as usize];
            TaskDone {
                block,
                request: RequestId(request),
                tbu: from,
                shards: t.shards,
                batch: (batch != NONE).then_some(BatchId(batch)),
                ready_at: t.ready_at,
                assigned_at: t.assigned_at,
                started_at: t.started_at,
                finished_at: now,
            }
        };
        let origin = if self.env.profile[block.index()].batched()
            && matches!(self.st.tasks[i as usize].kernel, octopus_owg::ir::Kernel::LlmPrefill { .. })
        {
            self.st.tasks[i as usize].ready_at
        } else {
            NO_TIME
        };
        let mut rng = self.st.tasks[i as usize].rng.clone();
        self.st.free_task(i);
        let src = self.env.machine.tbus[from].cluster;
        self.outputs(frame, block, src, ef_out, true, origin, &mut rng);
        call!(self, on_task_done, &done);
        self.release(request);
    }
}
