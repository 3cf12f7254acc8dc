//! Diffusion load balancing between clusters (multi-die machines, [`super::params::Mode::Local`]).
//!
//! No global scheduler: each cluster's CBU schedules its own TBUs. Every period, each cluster `i`
//! with queued one-TBU work compares its load `L_i` (expected cycles queued in it plus the
//! expected remaining cycles of its running tasks) with each mesh neighbour `j`'s and, when
//! `L_i > L_j`, moves queued tasks worth `alpha x (L_i - L_j)` to `j` (a task moves when at least
//! half of it fits), the most urgent first: first-order diffusion (Cybenko 1989), on the loads of
//! the round's start. A moved task is placed again from `j` as a ready task is (it may run at once
//! on an idle TBU within `j`'s reach), after a control message from `i`; its data moves when it
//! runs. Clusters are visited in index order, so the result is deterministic. Gangs and batches
//! queue per die and do not diffuse.

use octopus_hw::ClusterId;
use octopus_owg::index::Idx;

use super::core::{Core, Entry};
use crate::Cycle;
use crate::scheduler::Ctx;

/// A queued task diffusion took from cluster `from`'s queue for cluster `to`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Move {
    pub entry: Entry,
    pub from: ClusterId,
    pub to: ClusterId,
}

/// The diffusion component.
#[derive(Clone, Debug)]
pub(crate) struct Diffusion {
    /// Tasks moved so far.
    pub moved: u64,
    /// Per cluster: the remaining expected cycles of its TBUs, valid while `stamp` equals `round`
    /// (loads are those of the round's start).
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
    fn load(&mut self, ctx: &Ctx<'_>, core: &Core, c: ClusterId, queued: &[u64]) -> u64 {
        let i = c.index();
        if self.stamp[i] != self.round {
            self.busy[i] = Core::busy(ctx, c);
            self.stamp[i] = self.round;
        }
        queued[core.domain(c)] + self.busy[i]
    }

    /// One diffusion round: the queued tasks taken out of their clusters' queues, to be placed
    /// again from their new cluster.
    pub(crate) fn step(&mut self, ctx: &Ctx<'_>, core: &mut Core) -> Vec<Move> {
        let mut moves = Vec::new();
        if ctx.queued_total() == 0 {
            return moves;
        }
        self.round += 1;
        let alpha = core.params().alpha;
        let nc = ctx.cluster_count();
        // The queued loads at the round's start.
        let queued: Vec<u64> = (0..nc).map(|d| core.queued(d).0).collect();
        let mut next = 0;
        while let Some(i) = core.next_queued(next) {
            if i >= nc {
                break;
            }
            next = i + 1;
            let ci = ClusterId(i as u32);
            let li = self.load(ctx, core, ci, &queued);
            let mut neighbours = [ClusterId(0); 4];
            let mut nn = 0;
            for (c, _) in ctx.machine().neighbours(ci) {
                neighbours[nn] = c;
                nn += 1;
            }
            for &cj in &neighbours[..nn] {
                let lj = self.load(ctx, core, cj, &queued);
                if li <= lj {
                    continue;
                }
                let amount = (alpha * (li - lj) as f64) as u64;
                let mut moved: u64 = 0;
                while core.queued(i).1 > 0 {
                    // The most urgent queued one-TBU task of the cluster.
                    let mut most: Option<(usize, Entry)> = None;
                    core.queued_blocks(i, |b| {
                        let e = core.peek(i, b).expect("a queued block");
                        // Ties go to the lower block: blocks come in increasing order.
                        if most.is_none_or(|(_, m)| e.urgency() > m.urgency()) {
                            most = Some((b, e));
                        }
                    });
                    let Some((b, _)) = most else { break };
                    let cyc = core.exp(b);
                    if moved + cyc / 2 > amount {
                        break;
                    }
                    let entry = core.pop(i, b).expect("peeked");
                    moved += cyc;
                    self.moved += 1;
                    moves.push(Move { entry, from: ci, to: cj });
                }
            }
        }
        moves
    }
}
