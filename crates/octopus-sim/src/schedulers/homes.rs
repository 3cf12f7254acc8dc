//! Placement on a block's home TBUs, shared by `static` and `reactive` (whose homes change).
//!
//! - A block of one-TBU executions: each home has a private FIFO queue; a ready task goes to the
//!   home expected to be free first ([`Ctx::expected_free`], ties to the lowest ID), at once if
//!   it is idle with an empty queue; a home that frees runs the head of its queue.
//! - A block whose executions run as gangs of `k > 1` TBUs, or batch: a ready task starts on the
//!   `k` lowest-numbered idle homes (a batched block opens a batch there: each gang its homes can
//!   form is a replica), else joins the running batch of its group with the fewest sequences, else
//!   waits in its block's (group's) FIFO. A home that frees serves, among
//!   the blocks it is home to, the oldest queued gang: it is held for it until the gang has `k`
//!   TBUs, then the gang starts. Serving the oldest head first is a total order, so the gang at
//!   its front always collects its TBUs: no two gangs hold each other's TBUs for ever.

use std::collections::VecDeque;

use octopus_hw::TbuId;
use octopus_owg::index::Idx;
use octopus_owg::ir::BlockId;

use crate::scheduler::{BatchId, Ctx, QueueId, TaskRef};

/// The homes of every block and the FIFO of each gang block.
#[derive(Clone, Debug, Default)]
pub struct Homes {
    /// Per block: its home TBUs, ascending.
    pub homes: Vec<Vec<TbuId>>,
    /// Per block that runs gangs or batches: its queued tasks, oldest first.
    fifo: Vec<VecDeque<TaskRef>>,
    /// Per TBU: the gang or batched blocks it is home to.
    gang_blocks: Vec<Vec<BlockId>>,
    /// Per block: whether it runs as gangs or batches (not through per-TBU queues).
    gang: Vec<bool>,
}

impl Homes {
    /// The plan's homes.
    pub fn from_plan(ctx: &Ctx<'_>) -> Homes {
        let wf = ctx.workflow();
        let homes: Vec<Vec<TbuId>> = wf.blocks.indices().map(|b| ctx.homes(b).to_vec()).collect();
        let gang = wf.blocks.indices().map(|b| ctx.shards(b) > 1 || ctx.batched(b)).collect();
        let mut h =
            Homes { homes, fifo: vec![VecDeque::new(); wf.blocks.len()], gang, gang_blocks: Vec::new() };
        h.rebuild(ctx);
        h
    }

    /// Recomputes which gang blocks each TBU is home to (after homes changed).
    pub fn rebuild(&mut self, ctx: &Ctx<'_>) {
        self.gang_blocks = vec![Vec::new(); ctx.tbu_count()];
        for (b, hs) in self.homes.iter().enumerate() {
            // A batch group queues under its first block, whose homes are the group's.
            if self.gang[b] && ctx.group(BlockId(b as u32)).index() == b {
                for h in hs {
                    self.gang_blocks[h.index()].push(BlockId(b as u32));
                }
            }
        }
    }

    /// Whether `b` runs as gangs or batches.
    pub fn is_gang(&self, b: BlockId) -> bool {
        self.gang[b.index()]
    }

    /// Places a ready task on its block's homes (see the module docs).
    pub fn place(&mut self, ctx: &mut Ctx<'_>, task: TaskRef) {
        let v = ctx.task(task);
        if !self.gang[v.block.index()] {
            return place_on_homes(ctx, task, &self.homes[v.block.index()]);
        }
        let b = ctx.group(v.block);
        // Every gang the homes can form is a replica: a new one opens on idle homes before a
        // running batch grows.
        if self.fifo[b.index()].is_empty()
            && let Some(gang) = self.idle_gang(ctx, b, task)
        {
            return ctx.assign_gang(task, &gang);
        }
        if v.batched
            && let Some(batch) = self.roomiest_batch(ctx, b)
        {
            return ctx.join(task, batch);
        }
        self.fifo[b.index()].push_back(task);
        ctx.enqueue(task, QueueId::Cluster(ctx.cbu_of(b)));
    }

    /// The running batch of `b` with room and the fewest sequences (ties: the first opened).
    fn roomiest_batch(&self, ctx: &Ctx<'_>, b: BlockId) -> Option<BatchId> {
        ctx.batches(b).filter(|&x| ctx.batch(x).has_room()).min_by_key(|&x| {
            let v = ctx.batch(x);
            v.members + v.pending
        })
    }

    /// A gang for `task` of block `b`: the TBUs held for it and the lowest-numbered idle homes
    /// that may run it, if there are enough.
    fn idle_gang(&self, ctx: &Ctx<'_>, b: BlockId, task: TaskRef) -> Option<Vec<TbuId>> {
        let k = ctx.shards(b) as usize;
        let mut gang: Vec<TbuId> = ctx.held_tbus(task).to_vec();
        for &h in &self.homes[b.index()] {
            if gang.len() == k {
                break;
            }
            if ctx.is_idle(h) && ctx.queue_len(QueueId::Tbu(h)) == 0 && ctx.reserved(h).is_none_or(|r| r == b)
            {
                gang.push(h);
            }
        }
        (gang.len() == k).then_some(gang)
    }

    /// A home became free: its private queue's head, else the oldest queued gang among the
    /// blocks it is home to (held for it, or started when complete).
    pub fn on_tbu_free(&mut self, ctx: &mut Ctx<'_>, tbu: TbuId) {
        if let Some(t) = ctx.queue_front(QueueId::Tbu(tbu)) {
            return ctx.assign(t, tbu);
        }
        loop {
            if !ctx.is_idle(tbu) {
                return;
            }
            // The oldest head among the gang blocks this TBU is home to.
            let head = self.gang_blocks[tbu.index()]
                .iter()
                .filter_map(|&b| self.fifo[b.index()].front().map(|&t| (ctx.task(t).ready_at, t, b)))
                .min();
            let Some((_, task, b)) = head else { return };
            if ctx.task(task).batched
                && let Some(batch) = self.roomiest_batch(ctx, b)
            {
                self.pop_and_release(ctx, b);
                ctx.join(task, batch);
                continue;
            }
            if let Some(gang) = self.idle_gang(ctx, b, task) {
                self.fifo[b.index()].pop_front();
                ctx.assign_gang(task, &gang);
                continue;
            }
            ctx.hold(task, tbu);
            return;
        }
    }

    /// A batch has room: the oldest queued tasks of its block join while it does.
    pub fn on_batch_room(&mut self, ctx: &mut Ctx<'_>, batch: BatchId) {
        let b = ctx.batch(batch).block;
        while ctx.batch(batch).has_room() {
            let Some(&task) = self.fifo[b.index()].front() else { return };
            let released = self.pop_and_release(ctx, b);
            ctx.join(task, batch);
            for t in released {
                self.on_tbu_free(ctx, t);
            }
        }
    }

    /// Takes the head of `b`'s FIFO, releasing the TBUs held for it; returns them.
    fn pop_and_release(&mut self, ctx: &mut Ctx<'_>, b: BlockId) -> Vec<TbuId> {
        let task = self.fifo[b.index()].pop_front().expect("a queued head");
        let held = ctx.held_tbus(task).to_vec();
        for &t in &held {
            ctx.release(t);
        }
        held
    }
}

/// Puts a ready task of a one-TBU block on the home TBU expected to be free first
/// ([`Ctx::expected_free`]; ties to the lowest TBU ID): runs it now if that TBU is idle with an
/// empty queue, else queues it there.
pub fn place_on_homes(ctx: &mut Ctx<'_>, task: TaskRef, homes: &[TbuId]) {
    // Homes are ascending, and an idle home with an empty queue is free now, the earliest
    // possible: the first one found is the answer (this keeps the scan short on large machines).
    if let Some(&h) = homes.iter().find(|&&h| ctx.is_idle(h) && ctx.queue_len(QueueId::Tbu(h)) == 0) {
        ctx.assign(task, h);
        return;
    }
    let best = homes
        .iter()
        .copied()
        .min_by_key(|&h| (ctx.expected_free(h), h))
        .expect("every task block has at least one home");
    if ctx.is_idle(best) && ctx.queue_len(QueueId::Tbu(best)) == 0 {
        ctx.assign(task, best);
    } else {
        ctx.enqueue(task, QueueId::Tbu(best));
    }
}
