//! Diffusion load balancing between clusters (multi-die machines, [`super::octopus::Mode::Local`]).
//!
//! No global scheduler: each cluster's CBU schedules its own TBUs. Every period, each cluster `i`
//! with queued work compares its load `L_i` (expected cycles queued in it plus the expected
//! remaining cycles of its running tasks) with each mesh neighbour `j`'s and, when `L_i > L_j`,
//! moves queued tasks worth `alpha x (L_i - L_j)` to `j` (a task moves when at least half of it
//! fits), the most urgent first (Cybenko's first-order diffusion). A moved task costs a control
//! message to the neighbour; its input data moves when it runs (the engine charges the transfer
//! from where the data is). Clusters are visited in index order, so the result is deterministic.
//!
//! Before that, stranded work moves: queued tasks of a block that no TBU within the cluster's reach
//! may ever run (every TBU there dedicated to another block) go to the nearest cluster that has
//! such a TBU, whatever the loads **(ours: without it, a request admitted among TBUs dedicated to
//! other blocks waits for ever)**.

use octopus_hw::{ClusterId, TbuId};
use octopus_owg::index::Idx;
use octopus_owg::ir::BlockId;

use super::core::{Core, Entry, rings};
use super::dds::Dds;
use crate::Cycle;
use crate::scheduler::Ctx;

/// The diffusion component.
#[derive(Clone, Debug)]
pub(crate) struct Diffusion {
    /// Tasks moved so far.
    pub moved: u64,
    /// Per cluster: the remaining expected cycles of its TBUs, valid while `stamp` equals `round`.
    /// Within a round only a hand-over changes a TBU, and it clears its cluster's stamp, so each
    /// cluster's TBUs are summed once per round instead of once per neighbour that asks.
    busy: Vec<Cycle>,
    stamp: Vec<u64>,
    round: u64,
}

impl Diffusion {
    pub(crate) fn new(ctx: &Ctx<'_>) -> Diffusion {
        let n = ctx.cluster_count();
        Diffusion { moved: 0, busy: vec![0; n], stamp: vec![0; n], round: 0 }
    }

    /// A cluster's load: queued expected cycles plus the remaining expected cycles of its TBUs.
    fn load(&mut self, ctx: &Ctx<'_>, core: &Core, c: ClusterId) -> u64 {
        let i = c.index();
        if self.stamp[i] != self.round {
            self.busy[i] = Core::busy(ctx, c);
            self.stamp[i] = self.round;
        }
        core.queued_cycles[core.domain(c)] + self.busy[i]
    }

    /// Moves the queued tasks no TBU in reach may run to the nearest cluster with one that may.
    fn rescue(&mut self, ctx: &mut Ctx<'_>, core: &mut Core) {
        let max = ctx.machine().diameter();
        let mut next = 0;
        while let Some(i) = core.next_queued(next) {
            next = i + 1;
            let ci = ClusterId(i as u32);
            let di = core.domain(ci);
            for b in 0..core.nblocks {
                let block = BlockId(b as u32);
                if core.peek(di, b).is_none() {
                    continue;
                }
                if core.able_near(ctx, ci, block) {
                    continue;
                }
                let mut target = None;
                rings(ctx, ci, max, |c, _| {
                    if core.able(ctx, c, block) {
                        target = Some(c);
                    }
                    target.is_none()
                });
                let Some(cj) = target else { continue };
                while let Some(e) = core.pop(di, b) {
                    self.moved += 1;
                    self.hand_over(ctx, core, e, ci, cj, block);
                }
            }
        }
    }

    /// A task taken from cluster `ci`'s queue goes to cluster `cj`: to an idle TBU that may run it
    /// within `cj`'s reach (nearest ring first, warm first), else into `cj`'s queue. (Queued in
    /// `cj`, it is pulled by TBUs of that reach when they free; an idle one would not notice.)
    fn hand_over(
        &mut self,
        ctx: &mut Ctx<'_>,
        core: &mut Core,
        e: Entry,
        ci: ClusterId,
        cj: ClusterId,
        block: BlockId,
    ) {
        let mut idle: Option<(u32, bool, TbuId, ClusterId)> = None;
        let c: &Core = core;
        c.reach(ctx, cj, |cl, r| {
            if idle.is_some_and(|(ring, ..)| r > ring) {
                return false;
            }
            c.each_candidate(ctx, cl, block, |t| {
                if c.eligible(ctx, t, block) {
                    let cand = (r, ctx.configured(t) != Some(block), t, cl);
                    // TBUs are unique, so the cluster never decides.
                    if idle.is_none_or(|i| cand < i) {
                        idle = Some(cand);
                    }
                }
                true
            });
            true
        });
        match idle {
            Some((_, _, t, cl)) => {
                let latency = ctx.cost().control_message_cycles(ctx.hops(ci, cl));
                core.dispatch(ctx, e.task, t, latency);
                self.stamp[cl.index()] = 0;
            }
            None => {
                let dj = core.domain(cj);
                core.push(ctx, dj, e.key, e.task);
            }
        }
    }

    /// One diffusion round.
    pub(crate) fn step(&mut self, ctx: &mut Ctx<'_>, core: &mut Core, _dds: &Dds) {
        let alpha = core.params.alpha;
        if ctx.queued_total() == 0 {
            return;
        }
        self.round += 1;
        self.rescue(ctx, core);
        // The clusters with queued work, in index order (a cluster that receives work from one
        // before it is visited in turn); each cluster is its own domain here.
        debug_assert!(core.mode == super::octopus::Mode::Local);
        let mut next = 0;
        while let Some(i) = core.next_queued(next) {
            next = i + 1;
            let ci = ClusterId(i as u32);
            let di = core.domain(ci);
            let mut li = self.load(ctx, core, ci);
            let mut neighbours = [ClusterId(0); 4];
            let mut nn = 0;
            for (c, _) in ctx.machine().neighbours(ci) {
                neighbours[nn] = c;
                nn += 1;
            }
            for &cj in &neighbours[..nn] {
                let lj = self.load(ctx, core, cj);
                if li <= lj {
                    continue;
                }
                let amount = (alpha * (li - lj) as f64) as u64;
                let mut moved: u64 = 0;
                while core.queued_n[di] > 0 {
                    // The most urgent queued task of the cluster.
                    let mut most: Option<(usize, Entry)> = None;
                    core.queued_blocks(di, |b| {
                        let e = core.peek(di, b).expect("a queued block");
                        // Ties go to the lower block: blocks come in increasing order.
                        if most.is_none_or(|(_, m)| e.urgency() > m.urgency()) {
                            most = Some((b, e));
                        }
                    });
                    let Some((b, _)) = most else {
                        break;
                    };
                    let cyc = core.exp[b];
                    if moved + cyc / 2 > amount {
                        break;
                    }
                    let e = core.pop(di, b).expect("peeked");
                    moved += cyc;
                    li = li.saturating_sub(cyc);
                    self.moved += 1;
                    let block = ctx.task(e.task).block;
                    self.hand_over(ctx, core, e, ci, cj, block);
                }
            }
        }
    }
}
