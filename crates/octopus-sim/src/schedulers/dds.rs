//! Discriminate Dual-Scheduling (`dds`): two kinds of resources, treated differently.
//!
//! - Stable task blocks (the plan's `stable` class, not time-shared) own their plan home TBUs:
//!   those TBUs are *dedicated*, run nothing else and so are never reconfigured (kept warm).
//! - Every other TBU forms the elastic pool; dynamic blocks run there, and stable blocks overflow
//!   there when their dedicated TBUs are busy.
//! - At dispatch a ready task goes to the idle TBU with the lowest expected cost: reconfiguration
//!   cycles (0 when warm) + input transfer cycles from where its data is + control latency. The
//!   search runs in rings of mesh distance from the data, stopping one ring after the first
//!   candidate. A stable task instead waits for a dedicated TBU (or one being configured for it
//!   ahead of time) when that one is expected to be free sooner than the best idle TBU's cost.
//!
//! With DDS off ([`Dds::new`]`(false)`), nothing is dedicated and dispatch is indiscriminate: the
//! first idle TBU found from a fixed point of the domain, whatever it holds and wherever the data is.

use octopus_hw::{ClusterId, TbuId};
use octopus_owg::index::Idx;

use super::core::{Core, preparing_for};
use super::octopus::Mode;
use crate::Cycle;
use crate::scheduler::{Ctx, TaskRef};

/// What [`Dds::place`] decided for a ready task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placement {
    /// Run it on this TBU after this many cycles of control messages.
    Run(TbuId, Cycle),
    /// Queue it: a TBU being configured for it, or a busy dedicated one, is expected to be free
    /// sooner than any idle TBU could start it.
    Wait,
    /// Queue it: no idle TBU within reach may run it.
    Full,
}

/// The DDS component.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dds {
    on: bool,
}

impl Dds {
    pub(crate) fn new(on: bool) -> Dds {
        Dds { on }
    }

    /// Dedicates the plan homes of stable blocks.
    pub(crate) fn init(&self, ctx: &Ctx<'_>, core: &mut Core) {
        core.ded_homes = vec![Vec::new(); core.nblocks];
        core.ded_home_of = vec![None; ctx.tbu_count()];
        if !self.on {
            return;
        }
        for b in ctx.workflow().tasks() {
            if !core.stable[b.index()] {
                continue;
            }
            for &h in ctx.homes(b) {
                if core.dedicated_to(h.index()).is_none() {
                    core.dedicate(h, Some(b));
                    core.ded_homes[b.index()].push(h);
                    core.ded_home_of[h.index()] = Some(b);
                }
            }
        }
    }

    /// The expected cost of running a queued task on `tbu` (what a pull subtracts from its key).
    pub(crate) fn pull_cost(
        &self,
        ctx: &Ctx<'_>,
        _core: &Core,
        task: TaskRef,
        block: octopus_owg::ir::BlockId,
        tbu: TbuId,
    ) -> Cycle {
        if !self.on {
            return 0;
        }
        let reconfig = if ctx.configured(tbu) == Some(block) { 0 } else { ctx.reconfig_cycles(tbu) };
        reconfig + Core::transfer_est(ctx, task, ctx.cluster_of(tbu))
    }

    /// Chooses an idle TBU for a ready task whose data is at `src`, and the control latency to
    /// reach it, or says why the task should queue.
    pub(crate) fn place(
        &self,
        ctx: &mut Ctx<'_>,
        core: &mut Core,
        task: TaskRef,
        src: ClusterId,
    ) -> Placement {
        let block = ctx.task(task).block;
        let now = ctx.now();
        let origin = if self.on || core.mode == Mode::Local { src } else { core.centre };
        let extra = u32::from(self.on);
        let mut best: Option<(Cycle, TbuId, ClusterId)> = None;
        let mut first_ring: Option<u32> = None;
        let mut soonest_prepared: Option<Cycle> = None;
        if ctx.idle_count() > 0 {
            let c: &Core = core;
            c.reach(ctx, origin, |cl, r| {
                if first_ring.is_some_and(|f| r > f + extra) {
                    return false;
                }
                if !c.reachable(src, cl) || ctx.all_running(cl) {
                    return true;
                }
                // Per cluster, not per TBU: the control latency and the inputs' transfer to it.
                let (mut latency, mut transfer) = (None, None);
                // A running TBU, or one dedicated to another block, is neither eligible nor
                // preparing: only the others are looked at.
                c.each_candidate(ctx, cl, block, |t| {
                    // One reconfiguring ahead of time may be preparing for this block.
                    if !ctx.is_idle(t) {
                        if self.on
                            && c.held[t.index()].is_none()
                            && let Some(until) = preparing_for(ctx, t, block)
                        {
                            let w = until - now;
                            soonest_prepared = Some(soonest_prepared.map_or(w, |s: Cycle| s.min(w)));
                        }
                        return true;
                    }
                    if !c.eligible(ctx, t, block) {
                        return true;
                    }
                    let lat = *latency.get_or_insert_with(|| c.latency_of(ctx, src, cl).0);
                    let score = if self.on {
                        let reconfig =
                            if ctx.configured(t) == Some(block) { 0 } else { ctx.reconfig_cycles(t) };
                        lat + reconfig + *transfer.get_or_insert_with(|| Core::transfer_est(ctx, task, cl))
                    } else {
                        lat
                    };
                    if best.is_none_or(|(s, _, _)| score < s) {
                        best = Some((score, t, cl));
                    }
                    first_ring.get_or_insert(r);
                    // Without DDS the first eligible TBU is the choice.
                    self.on
                })
            });
        }
        if self.on {
            let best_score = best.map_or(Cycle::MAX, |(s, _, _)| s);
            if soonest_prepared.is_some_and(|w| w < best_score) {
                return Placement::Wait;
            }
            if core.stable[block.index()] && best_score > 0 {
                let r = core.radius(ctx);
                let homes = &core.ded_homes[block.index()];
                // The soonest a busy dedicated home within `r` hops is expected to be free. The
                // homes within reach are found from whichever is smaller: the list of the
                // block's homes, or the TBUs of the clusters within `r` hops of `src` (a stable
                // block may have thousands of homes on a wafer; a ring of radius 1 has 5 clusters).
                let waits = |h: TbuId| {
                    let hc = ctx.cluster_of(h);
                    (core.dedicated_to(h.index()) == Some(block)
                        && !ctx.is_idle(h)
                        && core.reachable(src, hc)
                        && ctx.hops(src, hc) <= r)
                        .then(|| ctx.expected_free(h).saturating_sub(now))
                };
                let per_cluster = u64::from(ctx.machine().clusters[src].tbu_count);
                let ball =
                    (2 * u64::from(r) * u64::from(r) + 2 * u64::from(r) + 1).saturating_mul(per_cluster);
                let wait = if ball < homes.len() as u64 {
                    let mut wait: Option<Cycle> = None;
                    core.reach(ctx, src, |cl, _| {
                        // Only the TBUs dedicated to the block now can be waited for.
                        core.each_dedicated(ctx, cl, block, |h| {
                            if core.ded_home_of[h.index()] == Some(block)
                                && let Some(w) = waits(h)
                            {
                                wait = Some(wait.map_or(w, |x| x.min(w)));
                            }
                        });
                        true
                    });
                    wait
                } else {
                    homes.iter().filter_map(|&h| waits(h)).min()
                };
                if wait.is_some_and(|w| w < best_score) {
                    return Placement::Wait;
                }
            }
        }
        let Some((_, tbu, cl)) = best else { return Placement::Full };
        let latency = core.latency(ctx, src, cl, true);
        Placement::Run(tbu, latency)
    }
}
