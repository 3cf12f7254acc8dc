//! Batches: the executions of one LLM block on one gang share steps (iteration-level batching,
//! Orca OSDI 2022; vLLM SOSP 2023). A sequence joins at a step boundary once its inputs are at
//! the gang and the KV cache has room for it, and leaves when its tokens are done; the batch
//! closes, freeing its TBUs, when nothing is left in it. The cost of a step is the cost model's
//! ([`octopus_hw::CostModel::step_cycles`] and `step_collective`); `docs/schedulers.md`, "Batches".

use octopus_hw::{Ring, StepLoad, TbuId, TbuKindId};
use octopus_owg::index::Idx;
use octopus_owg::ir::{BlockId, Kernel};

use super::{Env, Ev, NO_TIME, NONE, State, TbuStatus};
use crate::Cycle;
use crate::trace::TraceKind;

/// A running batch.
#[derive(Clone, Debug)]
pub(crate) struct Batch {
    pub live: bool,
    pub block: BlockId,
    /// Its gang, by ID.
    pub tbus: Vec<TbuId>,
    pub ring: Ring,
    /// Per die the gang touches: the die and the gang's TBUs on it (KV caches split alike).
    pub dies: Vec<(u32, u32)>,
    /// The TBU kinds in the gang (a step costs what its slowest kind needs).
    pub kinds: Vec<TbuKindId>,
    /// Sequences in it, in the order they joined.
    pub members: Vec<u32>,
    /// Sequences joined and not yet admitted (inputs on their way, or no room in the KV cache).
    pub pending: Vec<u32>,
    pub max: u32,
    pub opened_at: Cycle,
    /// When the gang has loaded and may step.
    pub ready_at: Cycle,
    /// Invalidates `Step` events scheduled before a change of plan.
    pub epoch: u32,
    /// When the `Step` event in flight is due (`NO_TIME`: none).
    pub wake: Cycle,
    /// Whether a step is running (it ends at `wake`), and its parts.
    pub stepping: bool,
    pub step_run: Cycle,
    pub step_coll: Cycle,
    /// TBU time of the gang accounted up to here.
    pub acct_at: Cycle,
    /// Its number in the log.
    pub exec: u64,
    /// Whether it is empty and waits one more step's time for a sequence before it closes.
    pub lingering: bool,
}

/// What a step boundary did to a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StepOutcome {
    /// A new step started, or the batch waits for a pending sequence.
    Running,
    /// Nothing was left: the batch closed and its TBUs are idle.
    Closed,
}

impl State {
    /// Opens a batch of task `i`'s block on `gang` (sorted) after `delay` cycles of control
    /// messages, with `i` as its first sequence.
    pub(crate) fn open_batch(&mut self, env: &Env<'_>, i: u32, gang: Vec<TbuId>, delay: Cycle) {
        // A batch serves every block of its group (one model, one phase).
        let block = env.group(self.tasks[i as usize].block);
        let model = env.llm(block).expect("a batched block has a model");
        let now = self.now;
        let at = now + delay;
        let mut loads = Vec::with_capacity(gang.len());
        for &t in &gang {
            loads.push(self.load_for(env, t, block));
        }
        let ready_at = loads.iter().map(|&l| at + l).max().unwrap_or(at);
        let b = match self.free_batches.pop() {
            Some(b) => b,
            None => {
                self.batches.push(Batch {
                    live: false,
                    block,
                    tbus: Vec::new(),
                    ring: Ring::new(env.machine, &[]),
                    dies: Vec::new(),
                    kinds: Vec::new(),
                    members: Vec::new(),
                    pending: Vec::new(),
                    max: 1,
                    opened_at: 0,
                    ready_at: 0,
                    epoch: 0,
                    wake: NO_TIME,
                    stepping: false,
                    step_run: 0,
                    step_coll: 0,
                    acct_at: 0,
                    exec: 0,
                    lingering: false,
                });
                (self.batches.len() - 1) as u32
            }
        };
        let request = self.tasks[i as usize].request;
        let exec = self.started;
        self.started += 1;
        for (n, &t) in gang.iter().enumerate() {
            self.acc.reconfig += u128::from(loads[n]);
            self.acc.transfer += u128::from(delay);
            self.acc.gang += u128::from(ready_at - at - loads[n]);
            self.set_status(env, t, TbuStatus::Running);
            let s = &mut self.tbus[t.index()];
            s.task = NONE;
            s.batch = b;
            s.since = now;
            s.until = ready_at;
            self.log(env, TraceKind::Reconfig, t, at, at + loads[n], block, Some(request), Some(exec));
        }
        let ring = env.ring(&gang);
        let mut dies: Vec<(u32, u32)> = Vec::new();
        let mut kinds: Vec<TbuKindId> = Vec::new();
        for &t in &gang {
            let tbu = &env.machine.tbus[t];
            let die = env.machine.clusters[tbu.cluster].die.0;
            match dies.iter_mut().find(|(d, _)| *d == die) {
                Some((_, c)) => *c += 1,
                None => dies.push((die, 1)),
            }
            if !kinds.contains(&tbu.kind) {
                kinds.push(tbu.kind);
            }
        }
        let bt = &mut self.batches[b as usize];
        bt.live = true;
        bt.block = block;
        bt.tbus = gang;
        bt.ring = ring;
        bt.dies = dies;
        bt.kinds = kinds;
        bt.members.clear();
        bt.pending.clear();
        bt.max = model.max_batch.max(1);
        bt.opened_at = now;
        bt.ready_at = ready_at;
        bt.stepping = false;
        bt.wake = NO_TIME;
        bt.acct_at = ready_at;
        bt.exec = exec;
        bt.lingering = false;
        self.block_batches[block.index()].push(b);
        self.join_batch(env, i, b, at);
    }

    /// Task `i` (off its queue) joins batch `b`: its inputs start for the gang's TBUs at `from`,
    /// and it waits for the first step boundary after they are in.
    pub(crate) fn join_batch(&mut self, env: &Env<'_>, i: u32, b: u32, from: Cycle) {
        let tbus = std::mem::take(&mut self.batches[b as usize].tbus);
        let mut at = Vec::with_capacity(tbus.len());
        self.send_inputs(env, i, &tbus, from, &mut at);
        self.batches[b as usize].tbus = tbus;
        let inputs_at = at.iter().copied().max().unwrap_or(from);
        let now = self.now;
        let t = &mut self.tasks[i as usize];
        t.batch = b;
        t.assigned_at = now;
        t.inputs_at = inputs_at;
        t.steps_done = 0;
        t.steps = match t.kernel {
            Kernel::LlmDecode { tokens, .. } => tokens.max(1.0).round() as u32,
            _ => 1,
        };
        t.kv = 0.0;
        let bt = &mut self.batches[b as usize];
        bt.pending.push(i);
        if !bt.stepping {
            let due = bt.ready_at.max(inputs_at).max(now);
            if bt.wake == NO_TIME || due < bt.wake {
                self.wake_batch(b, due);
            }
        }
    }

    /// Schedules batch `b`'s next boundary at `at`, dropping the one in flight.
    fn wake_batch(&mut self, b: u32, at: Cycle) {
        let bt = &mut self.batches[b as usize];
        bt.epoch = bt.epoch.wrapping_add(1);
        bt.wake = at;
        let epoch = bt.epoch;
        self.push(at, Ev::Step { batch: b, epoch });
    }

    /// Whether a `Step` event is the one batch `b` waits for.
    pub(crate) fn step_is_current(&self, b: u32, epoch: u32) -> bool {
        let bt = &self.batches[b as usize];
        bt.live && bt.epoch == epoch && bt.wake == self.now
    }

    /// A step boundary of batch `b`: accounts the gang's time since the last one and ends the
    /// running step. Returns its sequences that are done, in the order they joined, into `done`.
    pub(crate) fn end_step(&mut self, env: &Env<'_>, b: u32, done: &mut Vec<u32>) {
        done.clear();
        let now = self.now;
        let block = self.batches[b as usize].block;
        let bt = &mut self.batches[b as usize];
        let k = bt.tbus.len() as u128;
        let elapsed = now - bt.acct_at;
        bt.acct_at = now;
        bt.wake = NO_TIME;
        if !bt.stepping {
            // The gang waited for a sequence's inputs or for room in the KV cache.
            self.acc.transfer += k * u128::from(elapsed);
            return;
        }
        bt.stepping = false;
        debug_assert_eq!(elapsed, bt.step_run + bt.step_coll);
        self.acc.busy += k * u128::from(bt.step_run);
        self.acc.collective += k * u128::from(bt.step_coll);
        let stats = &mut self.acc.llm[block.index()];
        stats.steps += 1;
        stats.sequence_cycles += bt.members.len() as u128 * u128::from(elapsed);
        stats.step_cycles += u128::from(elapsed);
        let members = std::mem::take(&mut bt.members);
        let mut kept = Vec::with_capacity(members.len());
        for m in members {
            let t = &mut self.tasks[m as usize];
            t.steps_done += 1;
            if t.steps_done == 1 {
                t.first_token_at = now;
            }
            if t.steps_done >= t.steps {
                done.push(m);
            } else {
                kept.push(m);
            }
        }
        self.batches[b as usize].members = kept;
        for &m in done.iter() {
            self.release_kv(env, b, m);
        }
    }

    /// After a boundary (and the scheduler's chance to add sequences): admits the pending
    /// sequences whose inputs are in, first come first served while the KV cache has room, and
    /// starts the next step; or waits for a pending sequence; or closes the batch.
    pub(crate) fn next_step(&mut self, env: &Env<'_>, b: u32) -> StepOutcome {
        let now = self.now;
        let pending = std::mem::take(&mut self.batches[b as usize].pending);
        let mut waiting = Vec::with_capacity(pending.len());
        let mut blocked = false;
        let mut soonest = NO_TIME;
        for p in pending {
            let inputs_at = self.tasks[p as usize].inputs_at;
            if blocked || inputs_at > now {
                if inputs_at > now {
                    soonest = soonest.min(inputs_at);
                }
                waiting.push(p);
                continue;
            }
            let need = self.kv_need(env, p);
            if self.kv_fits(env, b, need) {
                self.reserve_kv(b, p, need);
                self.tasks[p as usize].started_at = now;
                self.batches[b as usize].members.push(p);
            } else {
                blocked = true;
                waiting.push(p);
            }
        }
        self.batches[b as usize].pending = waiting;
        if !self.batches[b as usize].members.is_empty() {
            self.start_step(env, b);
            return StepOutcome::Running;
        }
        if !self.batches[b as usize].pending.is_empty() {
            if blocked {
                for d in 0..self.batches[b as usize].dies.len() {
                    let die = self.batches[b as usize].dies[d].0 as usize;
                    if !self.kv_waiters[die].contains(&b) {
                        self.kv_waiters[die].push(b);
                    }
                }
            }
            if soonest != NO_TIME {
                self.wake_batch(b, soonest);
            }
            return StepOutcome::Running;
        }
        // Empty: it keeps its gang for one more step's time, in case a sequence comes (a server
        // between requests), then closes. (ours)
        let bt = &mut self.batches[b as usize];
        let last = bt.step_run + bt.step_coll;
        if !bt.lingering && last > 0 {
            bt.lingering = true;
            self.wake_batch(b, now + last);
            return StepOutcome::Running;
        }
        self.close_batch(env, b);
        StepOutcome::Closed
    }

    fn start_step(&mut self, env: &Env<'_>, b: u32) {
        let block = self.batches[b as usize].block;
        let model = *env.llm(block).expect("a batched block has a model");
        let kv = model.kv_bytes_per_token();
        let mut load = StepLoad::default();
        let mut remaining: f64 = 0.0;
        for &m in &self.batches[b as usize].members {
            let t = &self.tasks[m as usize];
            match t.kernel {
                Kernel::LlmDecode { context, .. } => {
                    load.tokens += 1.0;
                    load.kv_read += (context + f64::from(t.steps_done)) * kv;
                    load.kv_write += kv;
                    remaining = remaining.max(env.mean_steps[block.index()] - f64::from(t.steps_done) - 1.0);
                }
                Kernel::LlmPrefill { tokens, .. } => {
                    load.tokens += tokens;
                    load.kv_write += tokens * kv;
                }
                _ => unreachable!("only LLM blocks batch"),
            }
        }
        let bt = &self.batches[b as usize];
        let k = bt.tbus.len() as u32;
        let profile = &env.profile[block.index()];
        let run = bt
            .kinds
            .iter()
            .map(|&kind| env.cost.step_cycles(&model, profile, kind, k, &load))
            .max()
            .unwrap_or(1);
        let coll = env.cost.step_collective(&model, load.tokens, &bt.ring);
        self.acc.byte_hops += coll.byte_hops;
        let stats = &mut self.acc.llm[block.index()];
        stats.max_batch = stats.max_batch.max(bt.members.len() as u32);
        let now = self.now;
        let step = run + coll.cycles;
        let until = now + step + (remaining.max(0.0) * step as f64) as Cycle;
        let size = bt.members.len() as u32;
        let first = bt.tbus[0];
        for n in 0..self.batches[b as usize].tbus.len() {
            let t = self.batches[b as usize].tbus[n];
            self.tbus[t.index()].until = until;
        }
        let bt = &mut self.batches[b as usize];
        bt.stepping = true;
        bt.lingering = false;
        bt.step_run = run;
        bt.step_coll = coll.cycles;
        if env.trace {
            self.trace.push(crate::trace::TraceEvent {
                kind: TraceKind::BatchSize { batch: b, size },
                tbu: None,
                cluster: env.machine.tbus[first].cluster,
                start: now,
                end: now,
                block: Some(block),
                request: None,
                exec: Some(bt.exec),
            });
        }
        self.wake_batch(b, now + step);
    }

    fn close_batch(&mut self, env: &Env<'_>, b: u32) {
        let now = self.now;
        let block = self.batches[b as usize].block;
        let gang = std::mem::take(&mut self.batches[b as usize].tbus);
        let (from, exec) = (self.batches[b as usize].ready_at, self.batches[b as usize].exec);
        for &t in &gang {
            self.log(env, TraceKind::Batch, t, from, now, block, None, Some(exec));
            self.free_tbu(env, t);
        }
        self.block_batches[block.index()].retain(|&x| x != b);
        let bt = &mut self.batches[b as usize];
        bt.live = false;
        bt.tbus = gang;
        bt.epoch = bt.epoch.wrapping_add(1);
        self.free_batches.push(b);
    }

    /// The TBUs of a batch that just closed (until the batch slot is reused).
    pub(crate) fn closed_gang(&self, b: u32) -> &[TbuId] {
        &self.batches[b as usize].tbus
    }

    /// KV cache bytes a sequence holds at its longest: its context and generated tokens
    /// (decode), its prompt (prefill).
    fn kv_need(&self, env: &Env<'_>, i: u32) -> f64 {
        let t = &self.tasks[i as usize];
        let kv = env.llm(t.block).map_or(0.0, |m| m.kv_bytes_per_token());
        match t.kernel {
            Kernel::LlmDecode { context, tokens, .. } => (context + tokens) * kv,
            Kernel::LlmPrefill { tokens, .. } => tokens * kv,
            _ => 0.0,
        }
    }

    /// Whether every die of batch `b` has room for its share of `need` bytes of KV cache (a die
    /// holding no cache admits any one sequence, so that no sequence waits for ever).
    fn kv_fits(&self, env: &Env<'_>, b: u32, need: f64) -> bool {
        let bt = &self.batches[b as usize];
        let k = bt.tbus.len() as f64;
        bt.dies.iter().all(|&(d, c)| {
            let used = self.kv_used[d as usize];
            used <= 0.0 || used + need * f64::from(c) / k <= env.kv_capacity[d as usize]
        })
    }

    fn reserve_kv(&mut self, b: u32, i: u32, need: f64) {
        let bt = &self.batches[b as usize];
        let k = bt.tbus.len() as f64;
        for &(d, c) in &bt.dies {
            self.kv_used[d as usize] += need * f64::from(c) / k;
        }
        self.tasks[i as usize].kv = need;
    }

    /// A sequence leaves: its KV cache is freed, and batches waiting for room on those dies wake.
    fn release_kv(&mut self, env: &Env<'_>, b: u32, i: u32) {
        let need = std::mem::replace(&mut self.tasks[i as usize].kv, 0.0);
        let k = self.batches[b as usize].tbus.len() as f64;
        let _ = env;
        for n in 0..self.batches[b as usize].dies.len() {
            let (d, c) = self.batches[b as usize].dies[n];
            let used = &mut self.kv_used[d as usize];
            *used = (*used - need * f64::from(c) / k).max(0.0);
            let waiters = std::mem::take(&mut self.kv_waiters[d as usize]);
            for w in waiters {
                let bt = &self.batches[w as usize];
                if bt.live && !bt.stepping && bt.wake == NO_TIME && w != b {
                    let at = self.now;
                    self.wake_batch(w, at);
                }
            }
        }
    }
}
