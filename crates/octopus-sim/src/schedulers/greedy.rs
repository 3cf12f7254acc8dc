//! `greedy`: work-conserving and indiscriminate. One machine-wide FIFO of ready tasks; a ready task
//! starts on the TBUs that have been idle longest when enough are idle, whatever they are
//! configured for and wherever its inputs are; else a task of a batched block joins any running
//! batch of its group with room (the first opened); a TBU that becomes free serves the oldest
//! queued task. The oldest queued task is served first, strictly: while its gang collects its
//! TBUs, the TBUs that free are held for it (first come, first served, so a large gang is never
//! starved by small tasks).
//!
//! On a machine of several dies the queue is at the centre cluster's CBU and every start pays
//! for it as `octopus-central` does ([`CentralCbu`]): a message from where the decision is
//! triggered to the centre, the centre's turn, a message to the gang's farthest TBU. On one die
//! it is the die's own decision point and costs nothing, as Octopus's per-die decisions do.
//! `greedy-oracle` is the same rule with every decision free on every machine: an upper
//! reference that no distributed machine realises.

use std::collections::VecDeque;

use octopus_hw::{ClusterId, TbuId};

use super::central::CentralCbu;
use super::core::Core;
use crate::scheduler::{BatchId, Ctx, QueueId, Scheduler, TaskRef};

/// The `greedy` baseline (and `greedy-oracle`).
#[derive(Clone, Debug, Default)]
pub struct Greedy {
    /// Decisions are free (`greedy-oracle`).
    oracle: bool,
    /// The machine-wide queue's decision point, when decisions pay for it.
    central: Option<CentralCbu>,
    /// Idle TBUs, longest idle first.
    idle: VecDeque<TbuId>,
    /// Scratch for a gang.
    gang: Vec<TbuId>,
}

impl Greedy {
    /// `greedy-oracle`: decisions cost nothing, whatever the machine.
    pub fn oracle() -> Greedy {
        Greedy { oracle: true, ..Greedy::default() }
    }

    /// The first running batch of the task's block with room, if it batches.
    fn batch_for(ctx: &Ctx<'_>, task: TaskRef) -> Option<BatchId> {
        let v = ctx.task(task);
        if !v.batched {
            return None;
        }
        ctx.batches(v.block).find(|&b| ctx.batch(b).has_room())
    }

    /// Starts `task` on the TBUs held for it and the longest-idle ones, if there are enough; the
    /// decision was triggered at `src` (`None`: where the task's inputs are).
    fn try_start(&mut self, ctx: &mut Ctx<'_>, task: TaskRef, src: Option<ClusterId>) -> bool {
        let k = ctx.shards(ctx.task(task).block) as usize;
        let held = ctx.held_tbus(task).len();
        if held + self.idle.len() < k {
            return false;
        }
        self.gang.clear();
        self.gang.extend_from_slice(ctx.held_tbus(task));
        self.gang.extend(self.idle.drain(..k - held));
        let gang = std::mem::take(&mut self.gang);
        match &mut self.central {
            None => ctx.assign_gang(task, &gang),
            Some(central) => {
                let src = src.unwrap_or_else(|| Core::source(ctx, task, ctx.cbu_of(ctx.task(task).block)));
                let centre = central.centre();
                let far = gang.iter().map(|&t| ctx.cluster_of(t)).max_by_key(|&c| ctx.hops(centre, c));
                let latency = central.decide(ctx, src, far.expect("a gang has TBUs"));
                ctx.dispatch(task, &gang, latency);
            }
        }
        self.gang = gang;
        true
    }

    /// Serves the queue from its head while it can: joins, starts, or holds every idle TBU for
    /// the head's gang.
    fn drain(&mut self, ctx: &mut Ctx<'_>, src: Option<ClusterId>) {
        while let Some(head) = ctx.queue_front(QueueId::Global) {
            if self.try_start(ctx, head, src) {
                continue;
            }
            if let Some(b) = Self::batch_for(ctx, head) {
                self.release_held(ctx, head);
                ctx.join(head, b);
                continue;
            }
            while let Some(t) = self.idle.pop_front() {
                ctx.hold(head, t);
            }
            return;
        }
    }

    /// Lets the TBUs held for `task` go back to the idle list (at its front: they have waited longest).
    fn release_held(&mut self, ctx: &mut Ctx<'_>, task: TaskRef) {
        let held = ctx.held_tbus(task).to_vec();
        for &t in held.iter().rev() {
            ctx.release(t);
            self.idle.push_front(t);
        }
    }
}

impl Scheduler for Greedy {
    fn name(&self) -> &str {
        if self.oracle { "greedy-oracle" } else { "greedy" }
    }

    fn init(&mut self, ctx: &mut Ctx<'_>) {
        let m = ctx.machine();
        self.central = (!self.oracle && m.dies.len() > 1).then(|| CentralCbu::of(m));
        self.idle = (0..ctx.tbu_count() as u32).map(TbuId).filter(|&t| ctx.is_idle(t)).collect();
    }

    fn on_ready(&mut self, ctx: &mut Ctx<'_>, task: TaskRef) {
        // Work-conserving: idle TBUs take the task first; a batch with room takes it otherwise.
        if ctx.queue_len(QueueId::Global) == 0 && self.try_start(ctx, task, None) {
            return;
        }
        if let Some(b) = Self::batch_for(ctx, task) {
            return ctx.join(task, b);
        }
        ctx.enqueue(task, QueueId::Global);
        self.drain(ctx, None);
    }

    fn on_tbu_free(&mut self, ctx: &mut Ctx<'_>, tbu: TbuId) {
        self.idle.push_back(tbu);
        self.drain(ctx, Some(ctx.cluster_of(tbu)));
    }

    fn on_batch_room(&mut self, ctx: &mut Ctx<'_>, batch: BatchId) {
        let block = ctx.batch(batch).block;
        while ctx.batch(batch).has_room() {
            let Some(task) = ctx.queue_iter(QueueId::Global).find(|&t| ctx.group(ctx.task(t).block) == block)
            else {
                return;
            };
            self.release_held(ctx, task);
            ctx.join(task, batch);
        }
        self.drain(ctx, None);
    }
}
