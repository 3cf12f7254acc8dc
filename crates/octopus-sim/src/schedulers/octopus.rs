//! `octopus` and its parts: one scheduler, [`Octopus`], whose strategies are components switched by
//! [`Features`]: Discriminate Dual-Scheduling ([`super::dds`]), Adaptive TBU Scheduling
//! ([`super::adaptive`]), Proactive Cluster Scheduling ([`super::proactive`]) and, on multi-die
//! machines, cluster-local scheduling with diffusion load balancing ([`super::diffusion`]).
//!
//! What every variant shares lives in [`super::core`]: ready tasks wait in per-domain, per-block
//! priority queues; a ready task goes to the best idle TBU found by a ring search from where its
//! input data is; a TBU that becomes free pulls the best queued task it may run. A *domain* is
//! the set of TBUs one decision point schedules: the whole die on a single-die machine, one
//! cluster on a multi-die one ([`Mode::Local`]), or the whole machine with decisions taken at the
//! centre ([`Mode::Central`]). Rules, parameters and reasons are in `docs/schedulers.md`.

use octopus_hw::{ClusterId, TbuId};
use octopus_owg::index::Idx;
use octopus_owg::ir::BlockId;
use rand::Rng;

use super::adaptive::Adaptive;
use super::core::Core;
use super::dds::{Dds, Placement};
use super::diffusion::Diffusion;
use super::proactive::Proactive;
use crate::scheduler::{ControlEvent, Ctx, Scheduler, TaskDone, TaskRef};
use crate::{Cycle, RequestId};

/// Where scheduling decisions are taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// [`Mode::Die`] on a single-die machine, [`Mode::Local`] otherwise.
    Auto,
    /// One decision point per die, scheduling all of the die's TBUs (control latency on a die is
    /// a few cycles, negligible against task times).
    Die,
    /// One decision point per cluster (its CBU): no global scheduler; tasks may go to mesh
    /// neighbours at the cost of control messages, and diffusion balances queued load.
    Local,
    /// One decision point for the whole machine at its centre cluster; every decision pays the
    /// control-network round trip to the centre and queues at the centre's CBU.
    Central,
}

/// Which strategies are on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features {
    /// Discriminate Dual-Scheduling: dedicated warm TBUs for stable blocks, warm-and-near dispatch.
    pub dds: bool,
    /// Adaptive TBU Scheduling: EWMA load estimates resize each block's share of TBUs.
    pub adaptive: bool,
    /// Proactive Cluster Scheduling: forecasts at control blocks pre-configure TBUs and order work.
    pub proactive: bool,
    /// Where decisions are taken.
    pub mode: Mode,
}

/// Parameters of [`Octopus`]; defaults and reasons in `docs/schedulers.md`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OctopusParams {
    /// EWMA weight of a new observation (arrival gap, service time).
    pub ewma: f64,
    /// A block's target share is its offered load (lambda x s, in TBUs) times this.
    pub headroom: f64,
    /// Relative hysteresis band around the target share.
    pub hysteresis: f64,
    /// Diffusion coefficient: the fraction of a load difference moved to a neighbour per period.
    pub alpha: f64,
    /// Tick period; `None`: a quarter of the visit-weighted mean expected task duration.
    pub period: Option<Cycle>,
    /// A proactive reservation lapses after this many reconfiguration times.
    pub reserve_expiry: u64,
    /// Ring radius (hops) a cluster-local decision point may dispatch to ([`Mode::Local`]).
    pub radius: u32,
}

impl Default for OctopusParams {
    fn default() -> Self {
        OctopusParams {
            ewma: 0.125,
            headroom: 1.25,
            hysteresis: 0.5,
            alpha: 0.2,
            period: None,
            reserve_expiry: 4,
            radius: 1,
        }
    }
}

/// A queue head a pulling TBU may take, and the most it could be worth to it.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    bound: i128,
    d: usize,
    b: usize,
    c: ClusterId,
    task: TaskRef,
}

/// The Octopus scheduler; see the module docs.
pub struct Octopus {
    name: String,
    features: Features,
    pub(crate) core: Core,
    dds: Dds,
    adaptive: Option<Adaptive>,
    proactive: Option<Proactive>,
    diffusion: Option<Diffusion>,
    /// Scratch of [`Octopus::pull`], reused so a pull allocates nothing.
    cands: Vec<Candidate>,
}

impl Octopus {
    /// A scheduler named `name` with these strategies and parameters.
    pub fn new(name: &str, features: Features, params: OctopusParams) -> Octopus {
        Octopus {
            name: name.to_owned(),
            features,
            core: Core::new(features, params),
            dds: Dds::new(features.dds),
            adaptive: features.adaptive.then(|| Adaptive::new(params)),
            proactive: features.proactive.then(Proactive::default),
            diffusion: None,
            cands: Vec::new(),
        }
    }

    /// The scheduler a registry name stands for (`dds`, `adaptive`, `proactive`, `octopus`,
    /// `octopus-no-dds`, `octopus-no-adaptive`, `octopus-no-proactive`, `octopus-central`).
    pub fn by_name(name: &str) -> Option<Octopus> {
        let f = |dds, adaptive, proactive, mode| Features { dds, adaptive, proactive, mode };
        let features = match name {
            "dds" => f(true, false, false, Mode::Auto),
            "adaptive" => f(false, true, false, Mode::Auto),
            "proactive" => f(false, false, true, Mode::Auto),
            "octopus" => f(true, true, true, Mode::Auto),
            "octopus-no-dds" => f(false, true, true, Mode::Auto),
            "octopus-no-adaptive" => f(true, false, true, Mode::Auto),
            "octopus-no-proactive" => f(true, true, false, Mode::Auto),
            "octopus-central" => f(true, true, true, Mode::Central),
            _ => return None,
        };
        Some(Octopus::new(name, features, OctopusParams::default()))
    }

    /// The strategies on.
    pub fn features(&self) -> Features {
        self.features
    }

    /// The priority of a ready task: the forecast total work of its request (proactive; older
    /// requests first among equal forecasts), else older requests first.
    fn key(&self, ctx: &Ctx<'_>, req: RequestId) -> u64 {
        match &self.proactive {
            Some(p) => p.remaining(req),
            None => u64::MAX - ctx.arrival_of(req),
        }
    }

    /// Takes `tbu` (idle, eligible for something) and gives it the best queued task it may run;
    /// whether it found one.
    fn pull(&mut self, ctx: &mut Ctx<'_>, tbu: TbuId) -> bool {
        let here = ctx.cluster_of(tbu);
        let t = tbu.index();
        let only = match ctx.reserved(tbu) {
            Some(r) if !self.core.lapsed(ctx, tbu) => Some(r),
            _ => self.core.dedicated_to(t),
        };
        let radius = if self.core.mode == Mode::Local { self.core.params.radius } else { 0 };
        let core = &self.core;
        // The head of every queue in reach, with the most it could be worth (its key and warm bonus:
        // the cost it pays is never negative). They are priced best bound first, and pricing stops
        // as soon as no bound left can reach the best value: the cost model runs for a handful of
        // the candidates, with the same result as pricing all of them.
        let mut cands = std::mem::take(&mut self.cands);
        cands.clear();
        let mut look = |c: ClusterId| {
            let d = core.domain(c);
            if core.queued_n[d] == 0 {
                return;
            }
            let mut candidate = |b: usize| {
                let Some(e) = core.peek(d, b) else { return };
                let bonus =
                    if core.affinity[t] == Some(BlockId(b as u32)) { ctx.reconfig_cycles(tbu) } else { 0 };
                cands.push(Candidate { bound: i128::from(e.key) + i128::from(bonus), d, b, c, task: e.task });
            };
            match only {
                Some(b) => candidate(b.index()),
                None => core.queued_blocks(d, candidate),
            }
        };
        if radius == 0 {
            look(here);
        } else {
            core.reach(ctx, here, |c, _| {
                look(c);
                true
            });
        }
        cands.sort_unstable_by(|x, y| y.bound.cmp(&x.bound).then((x.d, x.b).cmp(&(y.d, y.b))));
        let mut best: Option<(i128, usize, usize, ClusterId)> = None;
        for x in &cands {
            if best.is_some_and(|(v, ..)| x.bound < v) {
                break;
            }
            let cost = self.dds.pull_cost(ctx, core, x.task, BlockId(x.b as u32), tbu)
                + if x.c == here { 0 } else { 2 * ctx.cost().control_message_cycles(ctx.hops(x.c, here)) };
            let value = x.bound - i128::from(cost);
            if best.is_none_or(|(v, bd, bb, _)| value > v || (value == v && (x.d, x.b) < (bd, bb))) {
                best = Some((value, x.d, x.b, x.c));
            }
        }
        self.cands = cands;
        let Some((_, d, b, c)) = best else { return false };
        let e = self.core.pop(d, b).expect("peeked");
        let latency = if c == here {
            match self.core.mode {
                Mode::Central => self.core.latency(ctx, here, here, true),
                _ => 0,
            }
        } else {
            2 * ctx.cost().control_message_cycles(ctx.hops(c, here))
        };
        self.start(ctx, e.task, tbu, latency);
        true
    }

    /// Dispatches, letting the components note it.
    fn start(&mut self, ctx: &mut Ctx<'_>, task: TaskRef, tbu: TbuId, latency: Cycle) {
        let block = ctx.task(task).block;
        if let Some(a) = &mut self.adaptive {
            a.on_start(ctx, &mut self.core, block, tbu);
        }
        self.core.dispatch(ctx, task, tbu, latency);
    }

    /// Idle dedicated plan homes of blocks with queued tasks pull. A stable task may queue to wait
    /// for a busy dedicated TBU while another of its dedicated TBUs is idle (the idle one already
    /// had its `on_tbu_free`); without this sweep, it could wait for ever.
    fn sweep(&mut self, ctx: &mut Ctx<'_>) {
        if ctx.queued_total() == 0 || ctx.idle_count() == 0 {
            return;
        }
        for b in 0..self.core.nblocks {
            let block = BlockId(b as u32);
            if !self.core.stable[b] || ctx.queued_of_block(block) == 0 {
                continue;
            }
            for k in 0..self.core.ded_homes[b].len() {
                let h = self.core.ded_homes[b][k];
                if self.core.dedicated_to(h.index()) == Some(block)
                    && ctx.is_idle(h)
                    && self.core.held[h.index()].is_none()
                {
                    self.pull(ctx, h);
                }
            }
        }
    }

    /// One decision point per die or per machine: every tick, the idle TBUs of a domain with queued
    /// work pull. An idle TBU otherwise looks for work only when it becomes free, so a task queued
    /// after it went idle (a stable task that chose to wait for its busy dedicated TBU, say) would
    /// wait for the TBUs that still free, however many others idle: a decision to wait now lasts at
    /// most one period. (Per cluster, diffusion's hand-over and the second-choice probe do this.)
    fn revisit(&mut self, ctx: &mut Ctx<'_>) {
        if self.core.mode == Mode::Local {
            return;
        }
        for c in (0..ctx.cluster_count() as u32).map(ClusterId) {
            if ctx.queued_total() == 0 || ctx.idle_count() == 0 {
                return;
            }
            // A pull runs the pulling TBU only, so the cluster's other TBUs keep their state.
            if self.core.queued_n[self.core.domain(c)] == 0 || ctx.all_running(c) {
                continue;
            }
            for t in ctx.machine().clusters[c].tbus() {
                if ctx.queued_total() == 0 || ctx.idle_count() == 0 {
                    return;
                }
                let d = self.core.domain(c);
                if self.core.queued_n[d] > 0 && ctx.is_idle(t) && self.core.held[t.index()].is_none() {
                    self.pull(ctx, t);
                }
            }
        }
    }

    /// What an idle TBU with nothing to run does: adaptive may release or pre-warm it.
    fn rest(&mut self, ctx: &mut Ctx<'_>, tbu: TbuId) {
        if let Some(a) = &mut self.adaptive
            && a.on_idle(ctx, &mut self.core, tbu)
        {
            self.pull(ctx, tbu);
        }
    }
}

impl Scheduler for Octopus {
    fn name(&self) -> &str {
        &self.name
    }

    fn init(&mut self, ctx: &mut Ctx<'_>) {
        self.core.init(ctx);
        self.dds.init(ctx, &mut self.core);
        if let Some(a) = &mut self.adaptive {
            a.init(ctx, &self.core);
        }
        if let Some(p) = &mut self.proactive {
            p.init(ctx);
        }
        if self.core.mode == Mode::Local {
            self.diffusion = Some(Diffusion::new(ctx));
        }
    }

    fn tick_period(&self) -> Option<Cycle> {
        let needed = self.core.dds_on
            || self.adaptive.is_some()
            || self.proactive.is_some()
            || self.diffusion.is_some();
        needed.then_some(self.core.period)
    }

    fn on_arrival(&mut self, ctx: &mut Ctx<'_>, request: RequestId) {
        let r = request.0 as usize;
        if let Some(p) = &mut self.proactive {
            p.on_arrival(request);
        }
        if self.core.mode != Mode::Local {
            return;
        }
        let entry = ctx.analysis().entries.iter().copied().find(|&b| !ctx.homes(b).is_empty());
        let anchor = entry.map_or(ClusterId(0), |b| ctx.cbu_of(b));
        let cluster = match (&mut self.proactive, entry) {
            (Some(p), _) => p.admit(ctx, request, anchor),
            (None, Some(b)) => {
                // By the plan: round robin over the entry block's home TBUs.
                let homes = ctx.homes(b);
                ctx.cluster_of(homes[r % homes.len()])
            }
            (None, None) => anchor,
        };
        if self.core.admit.len() <= r {
            self.core.admit.resize(r + 1, ClusterId(0));
        }
        self.core.admit[r] = cluster;
    }

    fn on_ready(&mut self, ctx: &mut Ctx<'_>, task: TaskRef) {
        let v = ctx.task(task);
        let fallback = match self.core.mode {
            Mode::Local => self.core.admit.get(v.request.0 as usize).copied().unwrap_or(ctx.cbu_of(v.block)),
            _ => ctx.cbu_of(v.block),
        };
        // A shard starts from a home of its own: request r's shard s at home (r k + s) mod homes, so
        // one execution's shards spread over k homes and successive requests over all of them.
        // (Decisions local to one cluster could not spread a gang of hundreds of shards.)
        let homes = ctx.homes(v.block);
        let src = if self.core.mode == Mode::Local && v.shards > 1 && !homes.is_empty() {
            let i = (v.request.0 as usize * v.shards as usize + v.shard as usize) % homes.len();
            ctx.cluster_of(homes[i])
        } else {
            Core::source(ctx, task, fallback)
        };
        if let Some(a) = &mut self.adaptive {
            a.on_ready(ctx, v.block);
        }
        let key = self.key(ctx, v.request);
        match self.dds.place(ctx, &mut self.core, task, src) {
            Placement::Run(tbu, latency) => return self.start(ctx, task, tbu, latency),
            Placement::Full if self.core.mode == Mode::Local => {
                // Nothing free within reach: before queueing here, the CBU probes one other
                // cluster drawn at random from the whole machine (the power of two choices,
                // Mitzenmacher 2001) and sends the task to a TBU free near it, paying the probe's
                // round trip. Diffusion alone spreads a burst only a hop per period.
                let other = ClusterId(self.core.rng.random_range(0..ctx.cluster_count() as u32));
                let probe = 2 * ctx.cost().control_message_cycles(ctx.hops(src, other));
                if let Placement::Run(tbu, latency) = self.dds.place(ctx, &mut self.core, task, other) {
                    return self.start(ctx, task, tbu, probe + latency);
                }
            }
            Placement::Wait | Placement::Full => {}
        }
        let d = self.core.domain(src);
        self.core.push(ctx, d, key, task);
    }

    fn on_tbu_free(&mut self, ctx: &mut Ctx<'_>, tbu: TbuId) {
        if let Some(task) = self.core.held[tbu.index()].take() {
            ctx.assign(task, tbu);
            return;
        }
        if !self.pull(ctx, tbu) {
            self.rest(ctx, tbu);
        }
    }

    fn on_control(&mut self, ctx: &mut Ctx<'_>, event: &ControlEvent) {
        if let Some(p) = &mut self.proactive {
            p.on_control(ctx, &mut self.core, event);
        }
    }

    fn on_task_done(&mut self, ctx: &mut Ctx<'_>, done: &TaskDone) {
        if let Some(a) = &mut self.adaptive {
            a.on_done(done);
        }
        if let Some(p) = &mut self.proactive {
            p.on_done(ctx, &self.core, done);
        }
    }

    fn on_tick(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(d) = &mut self.diffusion {
            d.step(ctx, &mut self.core, &self.dds);
        }
        self.sweep(ctx);
        // Lapsed reservations look for work.
        let lapsed = match &mut self.proactive {
            Some(p) => p.lapsed(ctx, &self.core),
            None => Vec::new(),
        };
        for t in lapsed {
            if ctx.is_idle(t) && self.core.held[t.index()].is_none() && !self.pull(ctx, t) {
                self.rest(ctx, t);
            }
        }
        // Dedicated TBUs whose block's share shrank are released and look for work.
        let released = match &mut self.adaptive {
            Some(a) => a.on_tick(ctx, &mut self.core),
            None => Vec::new(),
        };
        for t in released {
            if ctx.is_idle(t) && self.core.held[t.index()].is_none() {
                self.pull(ctx, t);
            }
        }
        self.revisit(ctx);
    }
}
