//! `octopus` and its parts: one scheduler, [`Octopus`], whose strategies are components switched by
//! [`Features`]: Discriminate Dual-Scheduling ([`super::dds`]), Adaptive TBU Scheduling
//! ([`super::adaptive`]), Proactive Cluster Scheduling ([`super::proactive`]) and, on multi-die
//! machines, cluster-local scheduling with diffusion load balancing ([`super::diffusion`]).
//!
//! The core kept here is what every variant shares: ready tasks wait in per-domain, per-block
//! priority queues; a ready task goes to the best idle TBU found by a ring search from where its
//! input data is; a TBU that becomes free pulls the best queued task it may run. A *domain* is
//! the set of TBUs one decision point schedules: the whole die on a single-die machine, one
//! cluster on a multi-die one ([`Mode::Local`]), or the whole machine with decisions taken at the
//! centre ([`Mode::Central`]). Rules, parameters and reasons are in `docs/schedulers.md`.

use octopus_hw::{ClusterId, TbuId};
use octopus_owg::index::Idx;
use octopus_owg::ir::BlockId;
use rand::Rng;
use rand_pcg::Pcg64Mcg;

use super::adaptive::Adaptive;
use super::dds::{Dds, Placement};
use super::diffusion::Diffusion;
use super::proactive::Proactive;
pub(crate) use super::queues::Entry;
use super::queues::Queues;
use crate::scheduler::{ControlEvent, Ctx, QueueId, Scheduler, TaskDone, TaskRef};
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

/// State every variant shares.
pub(crate) struct Core {
    pub mode: Mode,
    pub params: OctopusParams,
    pub nblocks: usize,
    /// Domain of each cluster.
    pub domain_of: Vec<u32>,
    pub ndomains: usize,
    /// Per `domain * nblocks + block`: its queued tasks.
    queues: Queues,
    /// Per domain: expected cycles and number of queued tasks.
    pub queued_cycles: Vec<u64>,
    pub queued_n: Vec<u32>,
    /// Expected cycles of one execution of each block (on its first home's kind).
    pub exp: Vec<Cycle>,
    /// Per TBU: the task it is held for (dispatched, waiting for the control message to arrive).
    pub held: Vec<Option<TaskRef>>,
    /// Per TBU: the block it is dedicated to (DDS), if any.
    pub dedicated: Vec<Option<BlockId>>,
    /// Per TBU: when a proactive reservation was made.
    pub reserved_at: Vec<Cycle>,
    /// Per block: whether it is stable (from the plan).
    pub stable: Vec<bool>,
    /// Per block: the plan homes DDS dedicated to it at the start.
    pub ded_homes: Vec<Vec<TbuId>>,
    /// Per TBU: the block whose `ded_homes` list it is in, if any (each TBU is in at most one).
    pub ded_home_of: Vec<Option<BlockId>>,
    /// Per block: TBUs dedicated to it now.
    pub ded_count: Vec<u32>,
    /// Per TBU: the block whose soft share it is in (Adaptive without DDS): preferred, not exclusive.
    pub affinity: Vec<Option<BlockId>>,
    /// [`Mode::Local`]: the clusters within `radius` of each cluster, in [`rings`] order with
    /// their distance, flattened (`ball_at[c]..ball_at[c + 1]`): searches within reach read a
    /// slice instead of walking the mesh.
    ball: Vec<(ClusterId, u32)>,
    ball_at: Vec<u32>,
    /// The centre cluster and when its CBU is next free ([`Mode::Central`]).
    pub centre: ClusterId,
    pub centre_free: Cycle,
    /// Per request: the cluster its entry tasks start in ([`Mode::Local`]).
    pub admit: Vec<ClusterId>,
    /// Per request: its key when no forecast is kept (older requests first).
    pub dds_on: bool,
    pub period: Cycle,
    /// The control plane's random draws (a second cluster to probe), from the run's seed.
    pub rng: Pcg64Mcg,
}

impl Core {
    fn new(features: Features, params: OctopusParams) -> Core {
        Core {
            mode: features.mode,
            params,
            nblocks: 0,
            domain_of: Vec::new(),
            ndomains: 1,
            queues: Queues::default(),
            queued_cycles: Vec::new(),
            queued_n: Vec::new(),
            exp: Vec::new(),
            held: Vec::new(),
            dedicated: Vec::new(),
            reserved_at: Vec::new(),
            stable: Vec::new(),
            ded_homes: Vec::new(),
            ded_home_of: Vec::new(),
            ded_count: Vec::new(),
            affinity: Vec::new(),
            ball: Vec::new(),
            ball_at: Vec::new(),
            centre: ClusterId(0),
            centre_free: 0,
            admit: Vec::new(),
            dds_on: features.dds,
            period: 1,
            rng: Pcg64Mcg::new(0),
        }
    }

    fn init(&mut self, ctx: &Ctx<'_>) {
        let m = ctx.machine();
        if self.mode == Mode::Auto {
            self.mode = if m.dies.len() > 1 { Mode::Local } else { Mode::Die };
        }
        let nc = m.clusters.len();
        self.rng = Pcg64Mcg::new(u128::from(ctx.seed()) << 64 | 0x0c70_9005_9e37_79b9);
        self.domain_of = match self.mode {
            Mode::Local => (0..nc as u32).collect(),
            Mode::Die => m.clusters.iter().map(|c| c.die.0).collect(),
            Mode::Central | Mode::Auto => vec![0; nc],
        };
        self.ndomains = self.domain_of.iter().max().map_or(1, |&d| d as usize + 1);
        let wf = ctx.workflow();
        self.nblocks = wf.blocks.len();
        self.queues = Queues::new(self.ndomains * self.nblocks);
        self.queued_cycles = vec![0; self.ndomains];
        self.queued_n = vec![0; self.ndomains];
        self.exp = wf
            .blocks
            .indices()
            .map(|b| ctx.homes(b).first().map_or(0, |&h| ctx.expected_cycles(b, h)))
            .collect();
        self.stable = wf
            .blocks
            .indices()
            .map(|b| {
                ctx.plan()
                    .task(b)
                    .is_some_and(|t| t.class == octopus_owg::analysis::Class::Stable && !t.shared)
            })
            .collect();
        let nt = ctx.tbu_count();
        self.held = vec![None; nt];
        self.dedicated = vec![None; nt];
        self.reserved_at = vec![0; nt];
        self.affinity = vec![None; nt];
        let (w, h) = m.mesh_size();
        self.centre = m.cluster_at(w / 2, h / 2).unwrap_or(ClusterId(0));
        if self.mode == Mode::Local {
            self.ball_at.push(0);
            for c in (0..nc as u32).map(ClusterId) {
                rings(ctx, c, self.params.radius, |cl, r| {
                    self.ball.push((cl, r));
                    true
                });
                self.ball_at.push(self.ball.len() as u32);
            }
        }
        // Tick period: a quarter of the mean duration of the task a busy TBU is running (the
        // work-weighted mean, sum v e^2 / sum v e), so that ticks are few against task times.
        self.period = self.params.period.unwrap_or_else(|| {
            let an = ctx.analysis();
            let (mut s2, mut s) = (0.0, 0.0);
            for b in wf.tasks() {
                let e = self.exp[b.index()] as f64;
                s2 += an.blocks[b].visits * e * e;
                s += an.blocks[b].visits * e;
            }
            if s > 0.0 { (s2 / s / 4.0).round() as Cycle } else { 1 }
        });
        self.period = self.period.max(1);
    }

    /// The domain of a cluster.
    pub fn domain(&self, c: ClusterId) -> usize {
        self.domain_of[c.index()] as usize
    }

    /// Queues a task in a domain (it must be floating or in another engine queue).
    pub fn push(&mut self, ctx: &mut Ctx<'_>, d: usize, key: u64, task: TaskRef) {
        let v = ctx.task(task);
        let q = match self.mode {
            Mode::Local => QueueId::Cluster(ClusterId(d as u32)),
            _ => QueueId::Global,
        };
        ctx.enqueue(task, q);
        self.queues.push(d * self.nblocks + v.block.index(), key, v.request.0, task);
        self.queued_cycles[d] += self.exp[v.block.index()];
        self.queued_n[d] += 1;
    }

    /// The first domain at or after `from` with queued tasks.
    pub fn next_queued(&self, from: usize) -> Option<usize> {
        (from..self.queued_n.len()).find(|&d| self.queued_n[d] > 0)
    }

    /// Calls `f` on each block with tasks queued in domain `d`, in block order.
    pub fn queued_blocks(&self, d: usize, mut f: impl FnMut(usize)) {
        let base = d * self.nblocks;
        self.queues.nonempty_in(base..base + self.nblocks, |q| f(q - base));
    }

    /// The best queued task of a block in a domain.
    pub fn peek(&self, d: usize, b: usize) -> Option<Entry> {
        self.queues.peek(d * self.nblocks + b)
    }

    /// Takes the best queued task of a block in a domain (still in its engine queue).
    pub fn pop(&mut self, d: usize, b: usize) -> Option<Entry> {
        let e = self.queues.pop(d * self.nblocks + b)?;
        self.queued_cycles[d] -= self.exp[b];
        self.queued_n[d] -= 1;
        Some(e)
    }

    /// Control-plane latency of a decision taken for work at cluster `src` that sends it to a TBU
    /// in cluster `dst`; in [`Mode::Central`] it also books the centre's CBU when `book` is set.
    pub fn latency(&mut self, ctx: &Ctx<'_>, src: ClusterId, dst: ClusterId, book: bool) -> Cycle {
        let (latency, centre_busy_until) = self.latency_of(ctx, src, dst);
        if let (true, Some(until)) = (book, centre_busy_until) {
            self.centre_free = until;
        }
        latency
    }

    /// The latency [`Core::latency`] would charge, without booking anything; with
    /// [`Mode::Central`], also when the centre's CBU would be busy until.
    pub fn latency_of(&self, ctx: &Ctx<'_>, src: ClusterId, dst: ClusterId) -> (Cycle, Option<Cycle>) {
        let msg = |a, b| ctx.cost().control_message_cycles(ctx.hops(a, b));
        match self.mode {
            Mode::Die | Mode::Auto => (0, None),
            Mode::Local => (if src == dst { 0 } else { msg(src, dst) }, None),
            Mode::Central => {
                let at_centre = ctx.now() + msg(src, self.centre);
                let done = at_centre.max(self.centre_free) + ctx.cost().control_cycles();
                (done + msg(self.centre, dst) - ctx.now(), Some(done))
            }
        }
    }

    /// Starts a task on an idle TBU after `latency` cycles of control messages: at once when 0,
    /// else the TBU is held (reserved and busy for the latency, loading the configuration meanwhile).
    pub fn dispatch(&mut self, ctx: &mut Ctx<'_>, task: TaskRef, tbu: TbuId, latency: Cycle) {
        let v = ctx.task(task);
        if ctx.reserved(tbu).is_some_and(|r| r != v.block) {
            ctx.reserve(tbu, None);
        }
        if latency == 0 {
            ctx.assign(task, tbu);
            return;
        }
        if v.queue.is_none() {
            ctx.enqueue(task, QueueId::Cluster(ctx.cluster_of(tbu)));
        }
        ctx.reconfigure(tbu, v.block, latency);
        ctx.reserve(tbu, Some(v.block));
        self.held[tbu.index()] = Some(task);
    }

    /// Whether a TBU may take a task of `block` now (idle, not held, not reserved for another
    /// block unless the reservation lapsed, not dedicated to another block).
    pub fn eligible(&self, ctx: &Ctx<'_>, tbu: TbuId, block: BlockId) -> bool {
        let t = tbu.index();
        if !ctx.is_idle(tbu) || self.held[t].is_some() {
            return false;
        }
        if self.dedicated[t].is_some_and(|d| d != block) {
            return false;
        }
        match ctx.reserved(tbu) {
            Some(r) if r != block => self.lapsed(ctx, tbu),
            _ => true,
        }
    }

    /// Whether a proactive reservation of a TBU has lapsed.
    pub fn lapsed(&self, ctx: &Ctx<'_>, tbu: TbuId) -> bool {
        ctx.now() >= self.reserved_at[tbu.index()] + self.params.reserve_expiry * ctx.reconfig_cycles(tbu)
    }

    /// Cycles to move a ready task's inputs to `dst` (an estimate from the cost model, without
    /// congestion).
    pub fn transfer_est(ctx: &Ctx<'_>, task: TaskRef, dst: ClusterId) -> Cycle {
        let m = ctx.machine();
        ctx.inputs(task).map(|(c, bytes)| ctx.cost().transfer_cycles(bytes, m.route_hops(c, dst))).sum()
    }

    /// The expected cycles the TBUs of cluster `c` have left of what they run.
    pub fn busy(ctx: &Ctx<'_>, c: ClusterId) -> Cycle {
        let now = ctx.now();
        ctx.machine().clusters[c].tbus().map(|t| ctx.expected_free(t).saturating_sub(now)).sum()
    }

    /// Whether some TBU of cluster `c` may run `block` when idle (none is dedicated to another).
    pub fn able(&self, ctx: &Ctx<'_>, c: ClusterId, block: BlockId) -> bool {
        ctx.machine().clusters[c].tbus().any(|t| self.dedicated[t.index()].is_none_or(|d| d == block))
    }

    /// Whether some TBU within reach of cluster `c` may run `block` ([`Core::able`]).
    pub fn able_near(&self, ctx: &Ctx<'_>, c: ClusterId, block: BlockId) -> bool {
        let mut able = false;
        self.reach(ctx, c, |cl, _| {
            able = self.able(ctx, cl, block);
            !able
        });
        able
    }

    /// Where a ready task's data is: the cluster of its largest input, else `fallback`.
    pub fn source(ctx: &Ctx<'_>, task: TaskRef, fallback: ClusterId) -> ClusterId {
        let mut best: Option<(u64, ClusterId)> = None;
        for (c, bytes) in ctx.inputs(task) {
            if best.is_none_or(|(b, _)| bytes > b) {
                best = Some((bytes, c));
            }
        }
        best.map_or(fallback, |(_, c)| c)
    }

    /// The maximum ring radius a decision at `src` may search.
    pub fn radius(&self, ctx: &Ctx<'_>) -> u32 {
        match self.mode {
            Mode::Local => self.params.radius,
            _ => ctx.machine().diameter(),
        }
    }

    /// Calls `f` on the clusters a decision point at `centre` may search ([`Core::radius`] hops),
    /// nearest ring first, in [`rings`] order, until it returns `false`.
    pub fn reach(&self, ctx: &Ctx<'_>, centre: ClusterId, mut f: impl FnMut(ClusterId, u32) -> bool) {
        if self.mode == Mode::Local {
            let c = centre.index();
            for &(cl, r) in &self.ball[self.ball_at[c] as usize..self.ball_at[c + 1] as usize] {
                if !f(cl, r) {
                    return;
                }
            }
        } else {
            rings(ctx, centre, self.radius(ctx), f);
        }
    }

    /// Whether a decision point at `src` may use cluster `c`.
    pub fn reachable(&self, src: ClusterId, c: ClusterId) -> bool {
        match self.mode {
            Mode::Local | Mode::Central | Mode::Auto => true,
            Mode::Die => self.domain_of[src.index()] == self.domain_of[c.index()],
        }
    }
}

/// Calls `f` on the clusters at mesh distance `r` from `centre`, for `r` from 0 to `max`, in a
/// fixed order, until it returns `false`. `f` gets the cluster and its ring radius.
pub(crate) fn rings(ctx: &Ctx<'_>, centre: ClusterId, max: u32, mut f: impl FnMut(ClusterId, u32) -> bool) {
    let m = ctx.machine();
    let (w, h) = m.mesh_size();
    let c = &m.clusters[centre];
    let (x0, y0) = (i64::from(c.x), i64::from(c.y));
    let (w, h) = (i64::from(w), i64::from(h));
    // No cluster lies farther than the farthest corner; within a ring, only the columns inside the
    // mesh are visited (same order as a full sweep of the ring, without the points outside it).
    let farthest = x0.max(w - 1 - x0) + y0.max(h - 1 - y0);
    let max = i64::from(max).min(farthest);
    for r in 0..=max {
        for dx in (-r).max(-x0)..=r.min(w - 1 - x0) {
            let dy = r - dx.abs();
            let ys: &[i64] = if dy == 0 { &[0] } else { &[-1, 1] };
            for &s in ys {
                let (x, y) = (x0 + dx, y0 + s * dy);
                if y < 0 || y >= h {
                    continue;
                }
                let cl = m.cluster_at(x as u32, y as u32).expect("inside the mesh");
                if !f(cl, r as u32) {
                    return;
                }
            }
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
            _ => self.core.dedicated[t],
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
                if self.core.dedicated[h.index()] == Some(block)
                    && ctx.is_idle(h)
                    && self.core.held[h.index()].is_none()
                {
                    self.pull(ctx, h);
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

impl Octopus {
    /// One decision point per die or per machine: every tick, the idle TBUs of a domain with queued
    /// work pull. An idle TBU otherwise looks for work only when it becomes free, so a task queued
    /// after it went idle (a stable task that chose to wait for its busy dedicated TBU, say) would
    /// wait for the TBUs that still free, however many others idle: a decision to wait now lasts at
    /// most one period. (Per cluster, diffusion's hand-over and the second-choice probe do this.)
    fn revisit(&mut self, ctx: &mut Ctx<'_>) {
        if self.core.mode == Mode::Local {
            return;
        }
        for t in (0..ctx.tbu_count() as u32).map(TbuId) {
            if ctx.queued_total() == 0 || ctx.idle_count() == 0 {
                return;
            }
            let d = self.core.domain(ctx.cluster_of(t));
            if self.core.queued_n[d] > 0 && ctx.is_idle(t) && self.core.held[t.index()].is_none() {
                self.pull(ctx, t);
            }
        }
    }
}

/// Whether a TBU is loading a configuration for `block` and reserved for it (a proactive
/// pre-configuration): when it will be free.
pub(crate) fn preparing_for(ctx: &Ctx<'_>, tbu: TbuId, block: BlockId) -> Option<Cycle> {
    match ctx.reconfiguring(tbu) {
        Some((b, until)) if b == block && ctx.reserved(tbu) == Some(block) => Some(until),
        _ => None,
    }
}
