//! The core every Octopus variant shares ([`Core`]): the domains decisions are taken in, the
//! per-domain, per-block queues, dedicated and held TBUs, control latency, and the searches within
//! reach ([`rings`], [`Core::reach`]). The strategies ([`super::dds`], [`super::adaptive`],
//! [`super::proactive`], [`super::diffusion`]) read and change it; [`super::octopus::Octopus`]
//! composes them. Rules and reasons: `docs/schedulers.md`, "The shared core".

use octopus_hw::{ClusterId, TbuId};
use octopus_owg::index::Idx;
use octopus_owg::ir::BlockId;
use rand_pcg::Pcg64Mcg;

use super::octopus::{Features, Mode, OctopusParams};
pub(crate) use super::queues::Entry;
use super::queues::Queues;
use crate::Cycle;
use crate::bits::Bits;
use crate::scheduler::{Ctx, QueueId, TaskRef};

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
    /// Per TBU: the block it is dedicated to (DDS), if any ([`Core::dedicated_to`]; written
    /// through [`Core::dedicate`] only, which keeps `claimed`, `ded_bits` and `ded_count` in step).
    dedicated: Vec<Option<BlockId>>,
    /// The TBUs dedicated to some block, and per block those dedicated to it, one bit each: a
    /// search for a TBU that may run a block skips the others 64 at a time
    /// ([`Core::each_candidate`]).
    claimed: Bits,
    ded_bits: Vec<Bits>,
    /// Per TBU: when a proactive reservation was made.
    pub reserved_at: Vec<Cycle>,
    /// Per block: whether it is stable (from the plan).
    pub stable: Vec<bool>,
    /// Per block: the plan homes DDS dedicated to it at the start.
    pub ded_homes: Vec<Vec<TbuId>>,
    /// Per TBU: the block whose `ded_homes` list it is in, if any (each TBU is in at most one).
    pub ded_home_of: Vec<Option<BlockId>>,
    /// Per block: TBUs dedicated to it now (kept by [`Core::dedicate`]).
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
    /// Whether DDS is on (it needs ticks).
    pub dds_on: bool,
    /// The tick period.
    pub period: Cycle,
    /// The control plane's random draws (a second cluster to probe), from the run's seed.
    pub rng: Pcg64Mcg,
}

impl Core {
    pub(crate) fn new(features: Features, params: OctopusParams) -> Core {
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
            claimed: Bits::default(),
            ded_bits: Vec::new(),
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

    pub(crate) fn init(&mut self, ctx: &Ctx<'_>) {
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
        self.claimed = Bits::new(nt);
        self.ded_bits = vec![Bits::new(nt); self.nblocks];
        self.ded_count = vec![0; self.nblocks];
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

    /// The block TBU `t` is dedicated to (DDS), if any.
    pub fn dedicated_to(&self, t: usize) -> Option<BlockId> {
        self.dedicated[t]
    }

    /// Dedicates a TBU to a block (`None`: gives it back to the pool).
    pub fn dedicate(&mut self, tbu: TbuId, block: Option<BlockId>) {
        let t = tbu.index();
        if let Some(old) = self.dedicated[t] {
            self.ded_bits[old.index()].clear(t);
            self.claimed.clear(t);
            self.ded_count[old.index()] -= 1;
        }
        if let Some(b) = block {
            self.ded_bits[b.index()].set(t);
            self.claimed.set(t);
            self.ded_count[b.index()] += 1;
        }
        self.dedicated[t] = block;
    }

    /// Calls `f` on the TBUs of cluster `c` not running a task and not dedicated to a block other
    /// than `block`, in TBU order, until it returns `false`; whether it saw them all. The TBUs
    /// left out could neither take a task of `block` ([`Core::eligible`]) nor be preparing for
    /// it: only a pool TBU is reserved ahead of time, and a reserved TBU is never dedicated.
    pub fn each_candidate(
        &self,
        ctx: &Ctx<'_>,
        c: ClusterId,
        block: BlockId,
        mut f: impl FnMut(TbuId) -> bool,
    ) -> bool {
        let mine = &self.ded_bits[block.index()];
        ctx.each_not_running_masked(
            c,
            |w| !self.claimed.word(w) | mine.word(w),
            |t| {
                debug_assert!(self.dedicated[t.index()].is_none_or(|d| d == block));
                f(t)
            },
        )
    }

    /// Calls `f` on the TBUs of cluster `c` dedicated to `block` now, in TBU order.
    pub fn each_dedicated(&self, ctx: &Ctx<'_>, c: ClusterId, block: BlockId, mut f: impl FnMut(TbuId)) {
        let cl = &ctx.machine().clusters[c];
        let first = cl.first_tbu.index();
        self.ded_bits[block.index()].each_in(first..first + cl.tbu_count as usize, |t| {
            debug_assert_eq!(self.dedicated[t], Some(block));
            f(TbuId(t as u32));
            true
        });
    }

    /// Whether a TBU may take a task of `block` now (idle, not held, not reserved for another
    /// block unless the reservation lapsed, not dedicated to another block).
    pub fn eligible(&self, ctx: &Ctx<'_>, tbu: TbuId, block: BlockId) -> bool {
        let t = tbu.index();
        if !ctx.is_idle(tbu) || self.held[t].is_some() {
            return false;
        }
        if self.dedicated_to(t).is_some_and(|d| d != block) {
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
        ctx.machine().clusters[c].tbus().any(|t| self.dedicated_to(t.index()).is_none_or(|d| d == block))
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

/// Whether a TBU is loading a configuration for `block` and reserved for it (a proactive
/// pre-configuration): when it will be free.
pub(crate) fn preparing_for(ctx: &Ctx<'_>, tbu: TbuId, block: BlockId) -> Option<Cycle> {
    match ctx.reconfiguring(tbu) {
        Some((b, until)) if b == block && ctx.reserved(tbu) == Some(block) => Some(until),
        _ => None,
    }
}
