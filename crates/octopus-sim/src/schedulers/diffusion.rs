//! Diffusion load balancing between clusters (multi-die machines, [`super::octopus::Mode::Local`]).
//!
//! No global scheduler: each cluster's CBU schedules its own TBUs. Every period, each cluster `i`
//! with queued work compares its load `L_i` (expected cycles queued in it plus the expected
//! remaining cycles of its running tasks) with each mesh neighbour `j`'s and, when `L_i > L_j`,
//! moves queued tasks worth `alpha x (L_i - L_j)` to `j` (a task moves when at least half of it
//! fits), the most urgent first (Cybenko's first-order diffusion). A moved task costs a control
//! message to the neighbour; its input data moves when it runs (the engine charges the transfer
//! from where the data is). Clusters are visited in index order, so the result is deterministic.

use octopus_hw::{ClusterId, TbuId};

use super::dds::Dds;
use super::octopus::Core;
use crate::Cycle;
use crate::scheduler::Ctx;

/// The diffusion component.
#[derive(Clone, Debug)]
pub(crate) struct Diffusion {
    /// Tasks moved so far.
    pub moved: u64,
}

impl Diffusion {
    pub(crate) fn new(_ctx: &Ctx<'_>) -> Diffusion {
        Diffusion { moved: 0 }
    }

    /// A cluster's load: queued expected cycles plus the remaining expected cycles of its TBUs.
    fn load(ctx: &Ctx<'_>, core: &Core, c: ClusterId) -> u64 {
        let now = ctx.now();
        let busy: Cycle =
            ctx.machine().clusters[c].tbus().map(|t| ctx.expected_free(t).saturating_sub(now)).sum();
        core.queued_cycles[core.domain(c)] + busy
    }

    /// One diffusion round.
    pub(crate) fn step(&mut self, ctx: &mut Ctx<'_>, core: &mut Core, _dds: &Dds) {
        let alpha = core.params.alpha;
        if ctx.queued_total() == 0 {
            return;
        }
        // The clusters with queued work, in index order (a cluster that receives work from one
        // before it is visited in turn); each cluster is its own domain here.
        debug_assert!(core.mode == super::octopus::Mode::Local);
        let mut next = 0;
        while let Some(i) = core.next_queued(next) {
            next = i + 1;
            let ci = ClusterId(i as u32);
            let di = core.domain(ci);
            let mut li = Self::load(ctx, core, ci);
            let mut neighbours = [ClusterId(0); 4];
            let mut nn = 0;
            for (c, _) in ctx.machine().neighbours(ci) {
                neighbours[nn] = c;
                nn += 1;
            }
            for &cj in &neighbours[..nn] {
                let lj = Self::load(ctx, core, cj);
                if li <= lj {
                    continue;
                }
                let amount = (alpha * (li - lj) as f64) as u64;
                let mut moved: u64 = 0;
                while core.queued_n[di] > 0 {
                    // The most urgent queued task of the cluster.
                    let Some((b, _)) = (0..core.nblocks)
                        .filter_map(|b| core.peek(di, b).map(|e| (b, *e)))
                        .max_by(|x, y| x.1.cmp(&y.1).then(y.0.cmp(&x.0)))
                    else {
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
                    let latency = ctx.cost().control_message_cycles(ctx.hops(ci, cj));
                    let block = ctx.task(e.task).block;
                    let idle: Option<TbuId> = ctx.machine().clusters[cj]
                        .tbus()
                        .filter(|&t| core.eligible(ctx, t, block))
                        .min_by_key(|&t| (ctx.tbu(t).configured != Some(block), t));
                    match idle {
                        Some(t) => core.dispatch(ctx, e.task, t, latency),
                        None => {
                            let dj = core.domain(cj);
                            core.push(ctx, dj, e.key, e.task);
                        }
                    }
                }
            }
        }
    }
}
