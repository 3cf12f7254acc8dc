//! Proactive Cluster Scheduling (`proactive`): forecasts at control blocks.
//!
//! When a control block executes, its outcome (branch taken, loop count, map width) tells the
//! control plane what work is coming:
//! - the task blocks its flows lead to first (through other control blocks) are forecast, with
//!   multiplicity (a map of width 8 forecasts 8 instances of each first body task); for each,
//!   idle pool TBUs near the control block's cluster (where the data will be) are configured
//!   for it (its configuration and resident bytes loaded) and reserved for it *before* the tasks
//!   arrive, up to the forecast count minus the TBUs already warm or being prepared for it. Only
//!   TBUs whose configured block has no queued work are taken, so the pre-configuration uses
//!   otherwise idle time. A reservation lapses after `reserve_expiry` reconfiguration times (a
//!   deadline the scheduler is woken at). Gangs and batches are not prepared: a batch's gang is
//!   warm while it runs.
//! - each request's forecast total work (expected work per request from the analysis, corrected
//!   at each outcome by the difference between the drawn and the expected branch, loop count or
//!   width, times the expected work of one alternative, iteration or copy) orders the queues:
//!   requests forecast to be longer first (longest-job-first for makespan), older requests first
//!   among equal forecasts. The forecast does not fall as work completes, so the order stays
//!   depth-first (a request keeps its place) instead of turning breadth-first.
//! - on a multi-die machine, new requests are admitted to the cluster with the least forecast
//!   load (nearest the entry block's plan cluster on ties).

use octopus_hw::{ClusterId, TbuId};
use octopus_owg::index::Idx;
use octopus_owg::ir::{BlockId, BlockKind, Control, FlowId};

use super::core::{Core, preparing_for};
use crate::RequestId;
use crate::requests::RequestMap;
use crate::scheduler::{ControlEvent, Ctx, Outcome, TaskDone};

/// The proactive component.
#[derive(Clone, Debug, Default)]
pub(crate) struct Proactive {
    /// Per request in flight: forecast total work, cycles.
    total: RequestMap<f64>,
    /// Expected work of one request.
    initial: f64,
    /// Per flow out of a branch: the change of the forecast when it is taken.
    branch_delta: Vec<f64>,
    /// Per loop or map opener: expected work of one iteration or copy, and the expected count.
    iter_work: Vec<f64>,
    mean_count: Vec<f64>,
    /// Per flow: the task blocks reached first through it.
    first: Vec<Vec<BlockId>>,
    /// Per cluster: forecast work admitted and not yet done (multi-die).
    admit_load: Vec<f64>,
    /// The clusters ordered by `(admit_load, hops from the anchor, id)`, the order `admit` picks
    /// from, so an admission does not scan every cluster; built at the first admission.
    admit_order: AdmitHeap,
    /// TBUs reserved ahead of time.
    reserved: Vec<TbuId>,
    /// Scratch: forecast (block, count) of one event.
    forecast: Vec<(BlockId, u64)>,
    /// Scratch: the TBUs `prepare` picks (reused, so a forecast allocates nothing).
    picks: Vec<TbuId>,
    /// A reservation lapses after this many reconfiguration times.
    expiry: u64,
}

impl Proactive {
    pub(crate) fn init(&mut self, ctx: &Ctx<'_>, expiry: u64) {
        self.expiry = expiry;
        let wf = ctx.workflow();
        let an = ctx.analysis();
        let nb = wf.blocks.len();
        // The TBU time of one execution: its shards' expected cycles (one shard's, times the
        // shards), so that a sharded block weighs what it occupies and `on_done`, which takes
        // one shard's cycles off per shard, brings a request's forecast down to what is left.
        let exp = |b: BlockId| {
            ctx.homes(b).first().map_or(0.0, |&h| ctx.expected_cycles(b, h) as f64 * f64::from(ctx.shards(b)))
        };
        let mut region_total = vec![0.0; nb];
        let mut alt_work = vec![0.0; wf.flows.len()];
        self.initial = 0.0;
        for t in wf.tasks() {
            let w = an.blocks[t].visits * exp(t);
            self.initial += w;
            let mut cur = t;
            while let Some(o) = an.blocks[cur].region {
                region_total[o.index()] += w;
                if matches!(wf.blocks[o].control(), Some(Control::Branch { .. }))
                    && let Some(f) = an.blocks[cur].alternative
                {
                    alt_work[f.index()] += w;
                }
                cur = o;
            }
        }
        self.branch_delta = vec![0.0; wf.flows.len()];
        self.iter_work = vec![0.0; nb];
        self.mean_count = vec![0.0; nb];
        for (c, block) in wf.blocks.iter_enumerated() {
            let v = an.blocks[c].visits;
            if v <= 0.0 {
                continue;
            }
            match block.control() {
                Some(Control::Branch { .. }) => {
                    let avg = region_total[c.index()] / v;
                    for &f in &an.succs[c] {
                        let p = wf.flows[f].probability.unwrap_or(0.0);
                        let alt = if p > 0.0 { alt_work[f.index()] / (v * p) } else { 0.0 };
                        self.branch_delta[f.index()] = alt - avg;
                    }
                }
                Some(Control::Map { width: n, .. } | Control::Loop { count: n, .. }) => {
                    let mean = n.mean();
                    self.mean_count[c.index()] = mean;
                    if mean > 0.0 {
                        self.iter_work[c.index()] = region_total[c.index()] / (v * mean);
                    }
                }
                _ => {}
            }
        }
        self.first = wf.flows.indices().map(|f| first_tasks(ctx, f)).collect();
        self.admit_load = vec![0.0; ctx.cluster_count()];
        self.admit_order = AdmitHeap::default();
    }

    /// A request's forecast total work, cycles.
    pub(crate) fn remaining(&self, req: RequestId) -> u64 {
        self.total.get(req.0).map_or(0, |r| r.max(0.0).round() as u64)
    }

    /// A new request; forgets the requests below `oldest`, all complete.
    pub(crate) fn on_arrival(&mut self, req: RequestId, oldest: RequestId) {
        self.total.forget_below(oldest.0);
        self.total.insert(req.0, self.initial);
    }

    /// The cluster a new request starts in: least forecast load, nearest `anchor` on ties.
    pub(crate) fn admit(&mut self, ctx: &Ctx<'_>, anchor: ClusterId) -> ClusterId {
        if self.admit_order.anchor != Some(anchor) {
            let hops = (0..ctx.cluster_count() as u32).map(|c| ctx.hops(anchor, ClusterId(c))).collect();
            self.admit_order.build(anchor, hops, &self.admit_load);
        }
        let best = self.admit_order.min();
        self.admit_load[best.index()] += self.initial;
        self.admit_order.update(best.0, self.admit_load[best.index()]);
        best
    }

    pub(crate) fn on_done(&mut self, _ctx: &Ctx<'_>, core: &Core, done: &TaskDone) {
        let e = core.exp(done.block.index()) as f64 * f64::from(done.shards);
        // Where `admit` sent the request: the core records it ([`Core::admit`]).
        if let Some(c) = core.admitted(done.request) {
            self.admit_load[c.index()] = (self.admit_load[c.index()] - e).max(0.0);
            self.admit_order.update(c.0, self.admit_load[c.index()]);
        }
    }

    pub(crate) fn on_control(&mut self, ctx: &mut Ctx<'_>, core: &mut Core, ev: &ControlEvent) {
        let wf = ctx.workflow();
        let an = ctx.analysis();
        let r = ev.request.0;
        let c = ev.block;
        let closer = wf.blocks[c].control().and_then(Control::join);
        self.forecast.clear();
        let add = |fc: &mut Vec<(BlockId, u64)>, f: FlowId, m: u64| {
            for &b in &self.first[f.index()] {
                match fc.iter_mut().find(|(x, _)| *x == b) {
                    Some((_, n)) => *n += m,
                    None => fc.push((b, m)),
                }
            }
        };
        let mut fc = std::mem::take(&mut self.forecast);
        let mut delta = 0.0;
        match ev.outcome {
            Outcome::Branch { taken } => {
                delta = self.branch_delta[taken.index()];
                add(&mut fc, taken, 1);
            }
            Outcome::Fork => an.succs[c].iter().for_each(|&f| add(&mut fc, f, 1)),
            Outcome::Map { width: n } | Outcome::Loop { count: n } => {
                delta = (n as f64 - self.mean_count[c.index()]) * self.iter_work[c.index()];
                let m = if matches!(ev.outcome, Outcome::Map { .. }) { n } else { n.min(1) };
                for &f in &an.succs[c] {
                    if Some(wf.flows[f].to) != closer {
                        add(&mut fc, f, m);
                    }
                }
            }
            Outcome::Join { next_iteration: true } => {
                if let Some(Control::Join { opener }) = wf.blocks[c].control() {
                    for &f in &an.succs[*opener] {
                        if wf.flows[f].to != c {
                            add(&mut fc, f, 1);
                        }
                    }
                }
            }
            Outcome::Join { next_iteration: false } => an.succs[c].iter().for_each(|&f| add(&mut fc, f, 1)),
        }
        if let Some(x) = self.total.get_mut(r) {
            *x += delta;
        }
        for &(b, m) in &fc {
            self.prepare(ctx, core, b, m, ev.cluster);
        }
        self.forecast = fc;
    }

    /// Configures and reserves idle pool TBUs near `at` for `m` coming tasks of `block`.
    fn prepare(&mut self, ctx: &mut Ctx<'_>, core: &mut Core, block: BlockId, m: u64, at: ClusterId) {
        if m == 0 || ctx.idle_count() == 0 || core.is_gang(block.index()) {
            return;
        }
        let mut ready = 0u64;
        let mut picks = std::mem::take(&mut self.picks);
        picks.clear();
        {
            let c: &Core = core;
            c.reach(ctx, at, |cl, _| {
                if ctx.all_running(cl) {
                    return true;
                }
                // A running TBU is neither preparing nor idle: only the others are looked at.
                ctx.each_not_running(cl, |t| {
                    let i = t.index();
                    if preparing_for(ctx, t, block).is_some() {
                        ready += 1;
                        return true;
                    }
                    if !ctx.is_idle(t) {
                        return true;
                    }
                    let v = ctx.tbu(t);
                    if ctx.warm(t, block) && c.eligible(ctx, t, block) {
                        ready += 1;
                    } else if c.dedicated_to(i).is_none()
                        && v.reserved.is_none()
                        && v.configured.is_none_or(|cfg| ctx.queued_of_block(cfg) == 0)
                    {
                        picks.push(t);
                    }
                    ready + (picks.len() as u64) < m
                })
            });
        }
        let want = m.saturating_sub(ready) as usize;
        let now = ctx.now();
        let expiry = self.expiry;
        for &t in picks.iter().take(want) {
            // The expiry counts from the end of the load.
            let load = ctx.load_cycles(block, t);
            ctx.reconfigure(t, block, 0);
            core.reserve(ctx, t, block, now + load + expiry * ctx.reconfig_cycles(t));
            self.reserved.push(t);
        }
        self.picks = picks;
    }

    /// Lifts lapsed reservations of idle TBUs; returns those TBUs. Forgets consumed ones.
    pub(crate) fn lapsed(&mut self, ctx: &mut Ctx<'_>, core: &Core) -> Vec<TbuId> {
        let mut out = Vec::new();
        let list = std::mem::take(&mut self.reserved);
        for t in list {
            if ctx.reserved(t).is_none() {
                continue;
            }
            if ctx.is_idle(t) && core.lapsed(ctx, t) {
                ctx.reserve(t, None);
                out.push(t);
            } else {
                self.reserved.push(t);
            }
        }
        out
    }
}

/// The task blocks a flow reaches first, through control blocks, each once, in a fixed order.
fn first_tasks(ctx: &Ctx<'_>, f: FlowId) -> Vec<BlockId> {
    let wf = ctx.workflow();
    let an = ctx.analysis();
    let mut out = Vec::new();
    let mut stack = vec![wf.flows[f].to];
    let mut seen = vec![false; wf.blocks.len()];
    while let Some(b) = stack.pop() {
        if std::mem::replace(&mut seen[b.index()], true) {
            continue;
        }
        match wf.blocks[b].kind {
            BlockKind::Task(_) => out.push(b),
            BlockKind::Control(_) => stack.extend(an.succs[b].iter().rev().map(|&g| wf.flows[g].to)),
        }
    }
    out.sort_unstable();
    out
}

/// The clusters in a binary min-heap by `(load, hops from the anchor, id)`, with each cluster's
/// position, so a load change moves one cluster in O(log n) without allocating. The minimum is
/// exactly what a scan comparing loads as `f64` (then hops, then id) would pick: loads are
/// finite and non-negative, ordered by their bits once a negative zero is read as zero.
#[derive(Clone, Debug, Default)]
struct AdmitHeap {
    anchor: Option<ClusterId>,
    /// Per cluster: `(load bits, hops, id)`.
    key: Vec<(u64, u32, u32)>,
    heap: Vec<u32>,
    pos: Vec<u32>,
}

fn load_bits(load: f64) -> u64 {
    debug_assert!(load.is_finite() && load >= 0.0);
    if load == 0.0 { 0 } else { load.to_bits() }
}

impl AdmitHeap {
    fn build(&mut self, anchor: ClusterId, hops: Vec<u32>, load: &[f64]) {
        self.anchor = Some(anchor);
        self.key = hops.iter().enumerate().map(|(c, &h)| (load_bits(load[c]), h, c as u32)).collect();
        self.heap = (0..hops.len() as u32).collect();
        self.heap.sort_unstable_by_key(|&c| self.key[c as usize]);
        self.pos = vec![0; hops.len()];
        for (i, &c) in self.heap.iter().enumerate() {
            self.pos[c as usize] = i as u32;
        }
    }

    fn min(&self) -> ClusterId {
        ClusterId(self.heap[0])
    }

    /// A cluster's load changed (nothing to do before the heap is built).
    fn update(&mut self, c: u32, load: f64) {
        if self.anchor.is_none() {
            return;
        }
        let old = self.key[c as usize];
        let new = (load_bits(load), old.1, old.2);
        self.key[c as usize] = new;
        let i = self.pos[c as usize] as usize;
        if new < old { self.up(i) } else { self.down(i) }
    }

    fn less(&self, a: usize, b: usize) -> bool {
        self.key[self.heap[a] as usize] < self.key[self.heap[b] as usize]
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.pos[self.heap[a] as usize] = a as u32;
        self.pos[self.heap[b] as usize] = b as u32;
    }

    fn up(&mut self, mut i: usize) {
        while i > 0 {
            let p = (i - 1) / 2;
            if !self.less(i, p) {
                break;
            }
            self.swap(i, p);
            i = p;
        }
    }

    fn down(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut m = i;
            if l < n && self.less(l, m) {
                m = l;
            }
            if r < n && self.less(r, m) {
                m = r;
            }
            if m == i {
                break;
            }
            self.swap(i, m);
            i = m;
        }
    }
}
