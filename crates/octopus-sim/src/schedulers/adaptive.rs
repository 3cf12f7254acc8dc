//! Adaptive TBU Scheduling (`adaptive`): online estimates resize each task block's share of TBUs.
//!
//! Per block, an exponentially weighted moving average (weight `ewma`) of the gap between its
//! ready tasks (the arrival rate lambda = 1 / gap, decaying while none arrive) and of its observed
//! service time s (assignment to completion). Its offered load lambda x s is the number of TBUs
//! it keeps busy (Little's law); its target share is that times `headroom`, at least 1.
//! Shares change only when a TBU becomes free (re-assignment, never preemption), with hysteresis:
//! a block gives a TBU back when it holds more than target x (1 + `hysteresis`), and takes the
//! pool TBU it runs on when it holds fewer than target x (1 - `hysteresis`). The plan homes of a
//! block never become dedicated to another, so every block keeps somewhere to run (with DDS on, a
//! stable block whose dedicated TBUs are busy overflows into the pool). Shares are of one-TBU
//! blocks: a gang's or a batch's TBUs are never dedicated.
//!
//! With DDS on, the shares are the stable blocks' dedicated TBUs (exclusive). With DDS off, every
//! task block has a soft share starting from its plan homes: a TBU in a block's share counts as
//! warm for that block when it picks work, but may run anything.

use octopus_hw::TbuId;
use octopus_owg::index::Idx;
use octopus_owg::ir::BlockId;

use super::core::Core;
use super::params::OctopusParams;
use crate::Cycle;
use crate::scheduler::{Ctx, TaskDone};

/// The adaptive component.
#[derive(Clone, Debug)]
pub(crate) struct Adaptive {
    params: OctopusParams,
    /// DDS on: shares are exclusive dedicated sets of stable blocks.
    exclusive: bool,
    gap: Vec<f64>,
    last: Vec<Option<Cycle>>,
    svc: Vec<f64>,
    /// Soft shares' sizes (DDS off).
    soft: Vec<u32>,
    /// Members of some share, for the periodic check, and whether each TBU is listed.
    members: Vec<TbuId>,
    listed: Vec<bool>,
    /// Whether the soft shares were built from the plan homes. A flag rather than "no members
    /// yet": `on_tick` takes the member list while it runs, and rebuilding the shares then would
    /// forget the TBUs already in a share (and underflow their counts later).
    soft_ready: bool,
    /// TBUs dedicated since the scheduler last looked (it checks that no queued work lost its
    /// last TBU within reach).
    pub dedicated_now: Vec<TbuId>,
}

impl Adaptive {
    pub(crate) fn new(params: OctopusParams) -> Adaptive {
        Adaptive {
            params,
            exclusive: false,
            gap: Vec::new(),
            last: Vec::new(),
            svc: Vec::new(),
            soft: Vec::new(),
            members: Vec::new(),
            listed: Vec::new(),
            soft_ready: false,
            dedicated_now: Vec::new(),
        }
    }

    pub(crate) fn init(&mut self, ctx: &Ctx<'_>, core: &Core) {
        let n = core.nblocks();
        self.exclusive = core.dds_on();
        self.gap = vec![f64::INFINITY; n];
        self.last = vec![None; n];
        self.svc = (0..n).map(|b| core.exp(b) as f64).collect();
        self.soft = vec![0; n];
        self.listed = vec![false; ctx.tbu_count()];
        if self.exclusive {
            self.members = (0..n).flat_map(|b| core.ded_homes(b).iter().copied()).collect();
            self.members.iter().for_each(|t| self.listed[t.index()] = true);
        } else {
            for b in ctx.workflow().tasks() {
                self.soft[b.index()] = ctx.homes(b).len() as u32;
            }
        }
    }

    /// Soft shares start from the plan homes (set once the core exists).
    fn ensure_soft(&mut self, ctx: &Ctx<'_>, core: &mut Core) {
        if self.exclusive || self.soft_ready {
            return;
        }
        self.soft_ready = true;
        self.soft.iter_mut().for_each(|s| *s = 0);
        for b in ctx.workflow().tasks() {
            if core.is_gang(b.index()) {
                continue;
            }
            for &h in ctx.homes(b) {
                if core.affinity(h.index()).is_none() {
                    core.set_affinity(h.index(), Some(b));
                    self.soft[b.index()] += 1;
                    self.list(h);
                }
            }
        }
    }

    fn list(&mut self, t: TbuId) {
        if !std::mem::replace(&mut self.listed[t.index()], true) {
            self.members.push(t);
        }
    }

    /// The target share of a block now, in TBUs.
    pub(crate) fn target(&self, now: Cycle, b: usize) -> f64 {
        let Some(last) = self.last[b] else { return 1.0 };
        let gap = self.gap[b].max((now - last) as f64).max(1.0);
        (self.svc[b] / gap * self.params.headroom).max(1.0)
    }

    pub(crate) fn on_ready(&mut self, ctx: &Ctx<'_>, b: BlockId) {
        let (b, now) = (b.index(), ctx.now());
        if let Some(l) = self.last[b] {
            let g = (now - l) as f64;
            self.gap[b] =
                if self.gap[b].is_finite() { self.gap[b] + self.params.ewma * (g - self.gap[b]) } else { g };
        }
        self.last[b] = Some(now);
    }

    pub(crate) fn on_done(&mut self, done: &TaskDone) {
        let b = done.block.index();
        let s = (done.finished_at - done.assigned_at) as f64;
        self.svc[b] += self.params.ewma * (s - self.svc[b]);
    }

    fn size(&self, core: &Core, b: usize) -> u32 {
        if self.exclusive { core.ded_count(b) } else { self.soft[b] }
    }

    /// A task of `block` is about to start on `tbus`: a one-TBU block below its share takes the
    /// pool TBU it starts on.
    pub(crate) fn on_start(&mut self, ctx: &Ctx<'_>, core: &mut Core, block: BlockId, tbus: &[TbuId]) {
        self.ensure_soft(ctx, core);
        let &[tbu] = tbus else { return };
        if core.is_gang(block.index()) {
            return;
        }
        let (b, t) = (block.index(), tbu.index());
        let low = self.target(ctx.now(), b) * (1.0 - self.params.hysteresis);
        if f64::from(self.size(core, b)) >= low {
            return;
        }
        if self.exclusive {
            if core.stable(b)
                && core.dedicated_to(t).is_none()
                && core.may_dedicate(t, block)
                && ctx.reserved(tbu).is_none()
            {
                core.dedicate(tbu, Some(block));
                self.list(tbu);
                self.dedicated_now.push(tbu);
            }
        } else if core.affinity(t) != Some(block) {
            if let Some(old) = core.affinity(t) {
                self.soft[old.index()] -= 1;
            }
            self.list(tbu);
            core.set_affinity(t, Some(block));
            self.soft[b] += 1;
        }
    }

    /// An idle TBU found no work: gives it back to the pool if its block holds more than its
    /// share; whether it did.
    pub(crate) fn on_idle(&mut self, ctx: &Ctx<'_>, core: &mut Core, tbu: TbuId) -> bool {
        self.ensure_soft(ctx, core);
        let t = tbu.index();
        let owner = if self.exclusive { core.dedicated_to(t) } else { core.affinity(t) };
        let Some(block) = owner else { return false };
        let b = block.index();
        let high = (self.target(ctx.now(), b) * (1.0 + self.params.hysteresis)).ceil();
        let size = self.size(core, b);
        if size <= 1 || f64::from(size) <= high {
            return false;
        }
        if self.exclusive {
            core.dedicate(tbu, None);
        } else {
            core.set_affinity(t, None);
            self.soft[b] -= 1;
        }
        true
    }

    /// The periodic check: idle share members above their block's share are released; returns them.
    pub(crate) fn on_tick(&mut self, ctx: &Ctx<'_>, core: &mut Core) -> Vec<TbuId> {
        self.ensure_soft(ctx, core);
        let mut released = Vec::new();
        // Releasing only helps when work waits and some TBU idles.
        if ctx.queued_total() == 0 || ctx.idle_count() == 0 {
            return released;
        }
        let members = std::mem::take(&mut self.members);
        let mut kept = Vec::with_capacity(members.len());
        for t in members {
            let owner = if self.exclusive { core.dedicated_to(t.index()) } else { core.affinity(t.index()) };
            if owner.is_none() {
                self.listed[t.index()] = false;
                continue;
            }
            if ctx.is_idle(t) && self.on_idle(ctx, core, t) {
                self.listed[t.index()] = false;
                released.push(t);
            } else {
                kept.push(t);
            }
        }
        self.members = kept;
        released
    }
}
