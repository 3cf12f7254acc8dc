//! Discriminate Dual-Scheduling (`dds`): two kinds of resources, treated differently.
//!
//! - Stable task blocks (the plan's `stable` class, not time-shared) own their plan home TBUs:
//!   those TBUs are *dedicated*, run nothing else and so stay warm (their configuration and
//!   resident weights loaded).
//! - Every other TBU forms the elastic pool; dynamic blocks run there, and stable blocks overflow
//!   there when their dedicated TBUs are busy.
//! - At dispatch a ready task goes to the idle TBU with the lowest expected cost: its load when
//!   cold (configuration and resident bytes, 0 when warm) + input transfer cycles from where its
//!   data is + control latency. The search runs in rings of mesh distance from the data, stopping
//!   one ring after the first candidate. A stable task instead waits for a dedicated TBU (or one
//!   being configured for it ahead of time) when that one is expected to be free sooner than the
//!   best idle TBU's cost: a timed wait, whose deadline is that expected free time.
//! - A gang takes the cheapest idle TBUs of its domain by the same cost; a task of a batched
//!   block joins the running batch of its block with room whose inputs' transfer and control
//!   latency are lowest (a warm gang near the data) before a new gang opens.
//!
//! With DDS off ([`Dds::new`]`(false)`), nothing is dedicated and dispatch is indiscriminate: the
//! first idle TBU found from a fixed point of the domain, the first batch with room, gangs by TBU
//! order, whatever they hold and wherever the data is.

use octopus_hw::{ClusterId, TbuId};
use octopus_owg::index::Idx;
use octopus_owg::ir::BlockId;

use super::core::{Core, Policy, preparing_for};
use super::params::Mode;
use crate::Cycle;
use crate::scheduler::{BatchId, Ctx, TaskRef};

/// What DDS decided for a ready task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Placement {
    /// Run it on this TBU after this many cycles of control messages.
    Run(TbuId, Cycle),
    /// Run it on this gang after this many cycles of control messages.
    Gang(Vec<TbuId>, Cycle),
    /// Join this running batch.
    Join(BatchId),
    /// Queue it with a timed wait: a TBU being configured for it, or a busy dedicated one, is
    /// expected to be free at this time, sooner than any idle TBU could start it.
    Wait(Cycle),
    /// Queue it: no idle TBU (or not enough for its gang) within reach may run it.
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

    /// Dedicates the plan homes of stable one-TBU blocks.
    pub(crate) fn init(&self, ctx: &Ctx<'_>, core: &mut Core) {
        if !self.on {
            return;
        }
        for b in ctx.workflow().tasks() {
            if !core.stable(b.index()) || core.is_gang(b.index()) {
                continue;
            }
            for &h in ctx.homes(b) {
                if core.dedicated_to(h.index()).is_none() && core.may_dedicate(h.index(), b) {
                    core.dedicate(h, Some(b));
                    core.add_ded_home(b, h);
                }
            }
        }
    }

    /// The expected cost of running a task on `tbu`: its load when cold and its input transfer.
    pub(crate) fn cost(&self, ctx: &Ctx<'_>, task: TaskRef, block: BlockId, tbu: TbuId) -> Cycle {
        if !self.on {
            return 0;
        }
        ctx.load_cycles(block, tbu) + Core::transfer_est(ctx, task, ctx.cluster_of(tbu))
    }

    /// Chooses an idle TBU for a ready one-TBU task whose data is at `src`, and the control
    /// latency to reach it, or says why the task should queue.
    pub(crate) fn place(
        &self,
        ctx: &mut Ctx<'_>,
        core: &mut Core,
        task: TaskRef,
        src: ClusterId,
    ) -> Placement {
        let block = ctx.task(task).block;
        let now = ctx.now();
        let origin = if self.on || core.mode() == Mode::Local { src } else { core.centre() };
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
                if ctx.all_running(cl) {
                    return true;
                }
                // Per cluster, not per TBU: the control latency and the inputs' transfer to it.
                let (mut latency, mut transfer) = (None, None);
                c.each_candidate(ctx, cl, block, |t| {
                    // One reconfiguring ahead of time may be preparing for this block.
                    if !ctx.is_idle(t) {
                        if self.on
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
                        lat + ctx.load_cycles(block, t)
                            + *transfer.get_or_insert_with(|| Core::transfer_est(ctx, task, cl))
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
            if let Some(w) = soonest_prepared
                && w < best_score
            {
                return Placement::Wait(now + w);
            }
            if core.stable(block.index())
                && best_score > 0
                && let Some(w) = self.dedicated_wait(ctx, core, block, src)
                && w < best_score
            {
                return Placement::Wait(now + w);
            }
        }
        let Some((_, tbu, cl)) = best else { return Placement::Full };
        let latency = core.latency(ctx, src, cl, true);
        Placement::Run(tbu, latency)
    }

    /// The soonest a busy TBU dedicated to stable `block` within reach of `src` is expected to be
    /// free, from now. The homes within reach are found from whichever is smaller: the list of the
    /// block's homes, or the TBUs of the clusters within reach of `src`.
    fn dedicated_wait(&self, ctx: &Ctx<'_>, core: &Core, block: BlockId, src: ClusterId) -> Option<Cycle> {
        let now = ctx.now();
        let r = core.radius(ctx);
        let waits = |h: TbuId| {
            let hc = ctx.cluster_of(h);
            let in_reach = match core.mode() {
                Mode::Local => ctx.hops(src, hc) <= r,
                Mode::Die | Mode::Auto => ctx.die_of(hc) == ctx.die_of(src),
                Mode::Central => true,
            };
            (core.dedicated_to(h.index()) == Some(block) && !ctx.is_idle(h) && in_reach)
                .then(|| ctx.expected_free(h).saturating_sub(now))
        };
        let homes = core.ded_homes(block.index());
        let per_cluster = u64::from(ctx.machine().clusters[src].tbu_count);
        let ball = (2 * u64::from(r) * u64::from(r) + 2 * u64::from(r) + 1).saturating_mul(per_cluster);
        if core.mode() == Mode::Local && ball < homes.len() as u64 {
            let mut wait: Option<Cycle> = None;
            core.reach(ctx, src, |cl, _| {
                // Only the TBUs dedicated to the block now can be waited for.
                core.each_dedicated(ctx, cl, block, |h| {
                    if core.is_ded_home(h, block)
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
        }
    }

    /// Places a ready task of a gang or batched block whose data is at `src`: joins a batch with
    /// room, or takes a gang of idle TBUs in its domain, or says it should queue.
    pub(crate) fn place_gang(
        &self,
        ctx: &mut Ctx<'_>,
        core: &mut Core,
        task: TaskRef,
        src: ClusterId,
        pol: &dyn Policy,
    ) -> Placement {
        let v = ctx.task(task);
        let d = core.domain_for(ctx, v.block, src);
        if v.batched
            && let Some(b) = self.batch_for(ctx, core, task, d)
        {
            return Placement::Join(b);
        }
        if core.collector(d).is_some() || ctx.idle_count() < v.shards as usize {
            return Placement::Full;
        }
        match core.gang_for(ctx, d, task, src, pol) {
            Some(gang) => {
                let latency = core.gang_latency(ctx, src, &gang);
                Placement::Gang(gang, latency)
            }
            None => Placement::Full,
        }
    }

    /// The running batch of the task's block with room in domain `d` that DDS prefers: the
    /// lowest transfer of its inputs plus control latency to the batch's first cluster (ties: the
    /// first opened); without DDS, the first opened with room.
    pub(crate) fn batch_for(&self, ctx: &Ctx<'_>, core: &Core, task: TaskRef, d: usize) -> Option<BatchId> {
        let v = ctx.task(task);
        let die = core.domain_die(d);
        let src = Core::source(ctx, task, ctx.cbu_of(v.block));
        let mut best: Option<(Cycle, BatchId)> = None;
        for b in ctx.batches(v.block) {
            let bv = ctx.batch(b);
            if !bv.has_room() || die.is_some_and(|x| ctx.die_of(bv.cluster).0 != x) {
                continue;
            }
            if !self.on {
                return Some(b);
            }
            let cost = Core::transfer_est(ctx, task, bv.cluster) + core.latency_of(ctx, src, bv.cluster).0;
            if best.is_none_or(|(c, _)| cost < c) {
                best = Some((cost, b));
            }
        }
        best.map(|(_, b)| b)
    }
}
