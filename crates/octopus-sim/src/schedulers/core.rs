//! The core every Octopus variant shares ([`Core`]): where decisions are taken (domains and their
//! reach), the per-domain, per-block priority queues, dedicated, reserved and collecting TBUs, and
//! the one rule that keeps queued work moving. The strategies ([`super::dds`],
//! [`super::adaptive`], [`super::proactive`], [`super::diffusion`]) read and change it through its
//! methods; [`super::octopus::Octopus`] composes them. `docs/schedulers.md`, "The shared core".
//!
//! # The liveness invariant
//!
//! *An idle TBU and a queued task that it may run, within reach of each other, never coexist,
//! unless the task holds a timed wait whose deadline is the expected free time of the busy TBU
//! it waits for.* For a gang, "may run" means: the TBU is held for the gang while it collects its
//! TBUs; in each gang domain one gang collects at a time, and every TBU it may run on that frees
//! goes to it. The invariant holds after every callback because it is restored at each moment it
//! could break:
//! - a task is queued only when placement found no idle TBU within reach that may run it, or it
//!   chose a timed wait (whose deadline wakes the scheduler, [`Core::lapse_waits`]);
//! - a TBU that becomes available (its work done, its reservation lapsed, its dedication lifted,
//!   its gang released) is offered to the queues within its reach ([`Core::offer`]);
//! - a gang that cannot start collects its TBUs: the idle ones it may run on are held for it at
//!   once.
//!
//! And a task is queued only within reach of a TBU that may run its block (for a gang, `k` of
//! them in its domain); when a dedication takes the last such TBU, the work moves.

use std::collections::BTreeMap;

use octopus_hw::{ClusterId, TbuId};
use octopus_owg::index::Idx;
use octopus_owg::ir::BlockId;

use super::central::CentralCbu;
use super::params::{Features, Mode, OctopusParams};
pub(crate) use super::queues::Entry;
use super::queues::Queues;
use crate::bits::Bits;
use crate::requests::RequestMap;
use crate::scheduler::{Ctx, QueueId, TaskRef};
use crate::{Cycle, RequestId};

/// What the strategies decide when the core starts work.
pub(crate) trait Policy {
    /// The expected cost of running `task` of `block` on `tbu` (its load when cold and its input
    /// transfer): subtracted from a queued task's key when a free TBU prices its candidates.
    fn cost(&self, ctx: &Ctx<'_>, task: TaskRef, block: BlockId, tbu: TbuId) -> Cycle;
    /// A task of `block` is about to start on `tbus`.
    fn starting(&mut self, ctx: &Ctx<'_>, core: &mut Core, block: BlockId, tbus: &[TbuId]);
}

/// A queue head a free TBU may take, and the most it could be worth to it.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    bound: i128,
    d: usize,
    b: usize,
    c: ClusterId,
    task: TaskRef,
}

/// State every variant shares.
pub(crate) struct Core {
    mode: Mode,
    params: OctopusParams,
    nblocks: usize,
    /// Per cluster: the domain its one-TBU tasks queue in.
    domain_of: Vec<u32>,
    /// Per die: the domain its gangs and batches queue in.
    gang_domain: Vec<u32>,
    /// Per domain: the die it collects gangs in (`None`: the whole machine).
    domain_die: Vec<Option<u32>>,
    ndomains: usize,
    /// Per `domain * nblocks + block`: its queued tasks.
    queues: Queues,
    /// Per domain: expected TBU-cycles and number of queued tasks (a collecting gang included).
    queued_cycles: Vec<u64>,
    queued_n: Vec<u32>,
    /// Expected cycles of one execution of each block (on its first home's kind).
    exp: Vec<Cycle>,
    /// Expected TBU-cycles of one execution of each block: `exp` times its shards.
    work: Vec<Cycle>,
    /// Per block: whether it runs as gangs or batches (queued in gang domains).
    gang: Vec<bool>,
    /// Per block: whether it is stable (from the plan, not time-shared).
    stable: Vec<bool>,
    /// Per TBU: the block it is dedicated to (DDS), kept with `claimed`, `ded_bits` and
    /// `ded_count` by [`Core::dedicate`] only.
    dedicated: Vec<Option<BlockId>>,
    claimed: Bits,
    ded_bits: Vec<Bits>,
    ded_count: Vec<u32>,
    /// Per TBU: the block whose plan home it is (the first, if several): never dedicated to another.
    home_of: Vec<Option<BlockId>>,
    /// Per block: the plan homes DDS dedicated to it at the start.
    ded_homes: Vec<Vec<TbuId>>,
    /// Per TBU: the block whose `ded_homes` list it is in.
    ded_home_of: Vec<Option<BlockId>>,
    /// Per TBU: the block whose soft share it is in (Adaptive without DDS): preferred, not exclusive.
    affinity: Vec<Option<BlockId>>,
    /// Per TBU: when its proactive reservation lapses.
    reserved_until: Vec<Cycle>,
    /// Per domain: the gang collecting its TBUs (out of the priority queues while it does).
    collector: Vec<Option<Entry>>,
    /// Timed waits: the task and its deadline.
    waits: BTreeMap<TaskRef, Cycle>,
    /// [`Mode::Local`]: the clusters within `radius` of each cluster, nearest first, flattened
    /// (`ball_at[c]..ball_at[c + 1]`).
    ball: Vec<(ClusterId, u32)>,
    ball_at: Vec<u32>,
    /// The machine's centre cluster's CBU ([`Mode::Central`]'s decision point).
    central: CentralCbu,
    /// Per die: its centre cluster, where its gang decisions are taken, and its clusters.
    die_centre: Vec<ClusterId>,
    die_clusters: Vec<Vec<ClusterId>>,
    /// Per request: the cluster its entry tasks start in ([`Mode::Local`]).
    admit: RequestMap<ClusterId>,
    dds_on: bool,
    period: Cycle,
    /// Scratch of [`Core::offer`], reused so a pull allocates nothing.
    cands: Vec<Candidate>,
}

impl Core {
    pub(crate) fn new(features: Features, params: OctopusParams) -> Core {
        Core {
            mode: features.mode,
            params,
            nblocks: 0,
            domain_of: Vec::new(),
            gang_domain: Vec::new(),
            domain_die: Vec::new(),
            ndomains: 1,
            queues: Queues::default(),
            queued_cycles: Vec::new(),
            queued_n: Vec::new(),
            exp: Vec::new(),
            work: Vec::new(),
            gang: Vec::new(),
            stable: Vec::new(),
            dedicated: Vec::new(),
            claimed: Bits::default(),
            ded_bits: Vec::new(),
            ded_count: Vec::new(),
            home_of: Vec::new(),
            ded_homes: Vec::new(),
            ded_home_of: Vec::new(),
            affinity: Vec::new(),
            reserved_until: Vec::new(),
            collector: Vec::new(),
            waits: BTreeMap::new(),
            ball: Vec::new(),
            ball_at: Vec::new(),
            central: CentralCbu::default(),
            die_centre: Vec::new(),
            die_clusters: Vec::new(),
            admit: RequestMap::default(),
            dds_on: features.dds,
            period: 1,
            cands: Vec::new(),
        }
    }

    pub(crate) fn init(&mut self, ctx: &Ctx<'_>) {
        let m = ctx.machine();
        if self.mode == Mode::Auto {
            self.mode = if m.dies.len() > 1 { Mode::Local } else { Mode::Die };
        }
        let (nc, nd) = (m.clusters.len(), m.dies.len());
        match self.mode {
            Mode::Local => {
                self.domain_of = (0..nc as u32).collect();
                self.gang_domain = (0..nd as u32).map(|d| nc as u32 + d).collect();
                self.domain_die = (0..nc).map(|_| None).chain((0..nd as u32).map(Some)).collect();
            }
            Mode::Die => {
                self.domain_of = m.clusters.iter().map(|c| c.die.0).collect();
                self.gang_domain = (0..nd as u32).collect();
                self.domain_die = (0..nd as u32).map(Some).collect();
            }
            Mode::Central | Mode::Auto => {
                self.domain_of = vec![0; nc];
                self.gang_domain = vec![0; nd];
                self.domain_die = vec![None];
            }
        }
        self.ndomains = self.domain_die.len();
        let wf = ctx.workflow();
        self.nblocks = wf.blocks.len();
        self.queues = Queues::new(self.ndomains * self.nblocks);
        self.queued_cycles = vec![0; self.ndomains];
        self.queued_n = vec![0; self.ndomains];
        self.collector = vec![None; self.ndomains];
        self.exp = wf
            .blocks
            .indices()
            .map(|b| ctx.homes(b).first().map_or(0, |&h| ctx.expected_cycles(b, h)))
            .collect();
        self.work = wf.blocks.indices().map(|b| self.exp[b.index()] * u64::from(ctx.shards(b))).collect();
        self.gang = wf.blocks.indices().map(|b| ctx.shards(b) > 1 || ctx.batched(b)).collect();
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
        self.dedicated = vec![None; nt];
        self.claimed = Bits::new(nt);
        self.ded_bits = vec![Bits::new(nt); self.nblocks];
        self.ded_count = vec![0; self.nblocks];
        self.home_of = vec![None; nt];
        for b in wf.tasks() {
            for &h in ctx.homes(b) {
                self.home_of[h.index()].get_or_insert(b);
            }
        }
        self.ded_homes = vec![Vec::new(); self.nblocks];
        self.ded_home_of = vec![None; nt];
        self.affinity = vec![None; nt];
        self.reserved_until = vec![0; nt];
        self.central = CentralCbu::of(m);
        self.die_centre = m.dies.indices().map(|d| m.die_centre(d)).collect();
        self.die_clusters = vec![Vec::new(); nd];
        for (c, cl) in m.clusters.iter_enumerated() {
            self.die_clusters[cl.die.index()].push(c);
        }
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
        self.period = self.params.period.unwrap_or_else(|| quarter_task_period(ctx));
        self.period = self.period.max(1);
    }

    // ---- reading ----

    /// Where decisions are taken.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The parameters.
    pub fn params(&self) -> &OctopusParams {
        &self.params
    }

    /// Number of blocks.
    pub fn nblocks(&self) -> usize {
        self.nblocks
    }

    /// The tick period.
    pub fn period(&self) -> Cycle {
        self.period
    }

    /// Whether DDS is on.
    pub fn dds_on(&self) -> bool {
        self.dds_on
    }

    /// Expected cycles of one execution of a block.
    pub fn exp(&self, b: usize) -> Cycle {
        self.exp[b]
    }

    /// Expected TBU-cycles of one execution of a block (its cycles times its shards).
    pub fn work(&self, b: usize) -> Cycle {
        self.work[b]
    }

    /// Whether a block is stable.
    pub fn stable(&self, b: usize) -> bool {
        self.stable[b]
    }

    /// Whether a block runs as gangs or batches.
    pub fn is_gang(&self, b: usize) -> bool {
        self.gang[b]
    }

    /// The domain a task of `block` whose data is at cluster `c` queues in.
    pub fn domain_for(&self, ctx: &Ctx<'_>, block: BlockId, c: ClusterId) -> usize {
        if self.gang[block.index()] {
            self.gang_domain[ctx.die_of(c).index()] as usize
        } else {
            self.domain_of[c.index()] as usize
        }
    }

    /// The domain of a cluster's one-TBU tasks.
    pub fn domain(&self, c: ClusterId) -> usize {
        self.domain_of[c.index()] as usize
    }

    /// The die a domain collects gangs in (`None`: the whole machine).
    pub fn domain_die(&self, d: usize) -> Option<u32> {
        self.domain_die[d]
    }

    /// The centre cluster of the machine.
    pub fn centre(&self) -> ClusterId {
        self.central.centre()
    }

    /// The domain a die's gangs and batches queue in.
    pub fn die_domain(&self, die: usize) -> usize {
        self.gang_domain[die] as usize
    }

    /// A die's centre cluster, where its gang decisions are taken.
    pub fn die_centre(&self, die: usize) -> ClusterId {
        self.die_centre[die]
    }

    /// A die's clusters.
    pub fn die_clusters(&self, die: usize) -> &[ClusterId] {
        &self.die_clusters[die]
    }

    /// Expected TBU-cycles and number of tasks queued in a domain.
    pub fn queued(&self, d: usize) -> (u64, u32) {
        (self.queued_cycles[d], self.queued_n[d])
    }

    /// The cluster request `r` was admitted to ([`Mode::Local`]).
    pub fn admitted(&self, r: RequestId) -> Option<ClusterId> {
        self.admit.get(r.0).copied()
    }

    /// Records where request `r` was admitted, and forgets the requests below `oldest`, all complete.
    pub fn admit(&mut self, r: RequestId, c: ClusterId, oldest: RequestId) {
        self.admit.forget_below(oldest.0);
        self.admit.insert(r.0, c);
    }

    // ---- queues ----

    /// Queues a task in a domain (it must be floating or in another engine queue).
    pub fn push(&mut self, ctx: &mut Ctx<'_>, d: usize, key: u64, task: TaskRef) {
        let v = ctx.task(task);
        let q = match self.mode {
            Mode::Local => QueueId::Cluster(self.queue_cluster(d)),
            _ => QueueId::Global,
        };
        ctx.enqueue(task, q);
        // The blocks of a batch group queue together, under the group's first block.
        let b = ctx.group(v.block);
        self.queues.push(d * self.nblocks + b.index(), key, v.request.0, task);
        self.queued_cycles[d] += self.work[b.index()];
        self.queued_n[d] += 1;
    }

    /// The cluster whose engine queue holds a domain's tasks ([`Mode::Local`]): the cluster
    /// itself, or a gang domain's die centre.
    fn queue_cluster(&self, d: usize) -> ClusterId {
        match self.domain_die[d] {
            Some(die) if self.mode == Mode::Local => self.die_centre[die as usize],
            _ => ClusterId(d as u32),
        }
    }

    /// The first domain at or after `from` with queued tasks.
    pub fn next_queued(&self, from: usize) -> Option<usize> {
        (from..self.queued_n.len()).find(|&d| self.queued_n[d] > 0)
    }

    /// Calls `f` on each block with tasks queued in domain `d` (the collector aside), in block order.
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
        self.queued_cycles[d] -= self.work[b];
        self.queued_n[d] -= 1;
        self.waits.remove(&e.task);
        Some(e)
    }

    // ---- waits ----

    /// A queued task waits for a busy TBU expected free at `deadline`.
    pub fn wait(&mut self, ctx: &mut Ctx<'_>, task: TaskRef, deadline: Cycle) {
        self.waits.insert(task, deadline);
        ctx.wake_at(deadline);
    }

    /// Whether a task holds a timed wait (until the wake at its deadline lifts it).
    fn waiting(&self, _ctx: &Ctx<'_>, task: TaskRef) -> bool {
        self.waits.contains_key(&task)
    }

    /// The waits whose deadline has come are dropped; returns the domains of the tasks, whose idle
    /// TBUs must be offered again.
    pub fn lapse_waits(&mut self, ctx: &Ctx<'_>) -> Vec<usize> {
        let now = ctx.now();
        let lapsed: Vec<TaskRef> = self.waits.iter().filter(|&(_, &d)| d <= now).map(|(&t, _)| t).collect();
        let mut domains = Vec::new();
        for t in lapsed {
            self.waits.remove(&t);
            let v = ctx.task(t);
            let d = match v.queue {
                Some(QueueId::Cluster(c)) => self.domain(c),
                _ => 0,
            };
            if !domains.contains(&d) {
                domains.push(d);
            }
        }
        domains.sort_unstable();
        domains
    }

    // ---- control latency ----

    /// Control-plane latency of a decision taken for work at cluster `src` that sends it to a TBU
    /// in cluster `dst`; in [`Mode::Central`] it also books the centre's CBU when `book` is set.
    pub fn latency(&mut self, ctx: &Ctx<'_>, src: ClusterId, dst: ClusterId, book: bool) -> Cycle {
        let (latency, centre_busy_until) = self.latency_of(ctx, src, dst);
        if let (true, Some(until)) = (book, centre_busy_until) {
            self.central.book(until);
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
                let (latency, done) = self.central.latency_of(ctx, src, dst);
                (latency, Some(done))
            }
        }
    }

    /// The latency of a gang decision for work at `src` placing a gang on `tbus`: per die, a
    /// message to the die's decision point (its centre) and from there to the farthest member;
    /// centrally, [`Core::latency`] to the farthest member.
    pub fn gang_latency(&mut self, ctx: &Ctx<'_>, src: ClusterId, tbus: &[TbuId]) -> Cycle {
        let far = |from: ClusterId| {
            tbus.iter().map(|&t| ctx.cluster_of(t)).max_by_key(|&c| ctx.hops(from, c)).unwrap_or(from)
        };
        match self.mode {
            Mode::Die | Mode::Auto => 0,
            Mode::Central => {
                let dst = far(self.central.centre());
                self.latency(ctx, src, dst, true)
            }
            Mode::Local => {
                let centre = self.die_centre[ctx.die_of(ctx.cluster_of(tbus[0])).index()];
                let msg = |a, b| ctx.cost().control_message_cycles(ctx.hops(a, b));
                msg(src, centre) + ctx.cost().control_cycles() + msg(centre, far(centre))
            }
        }
    }

    // ---- dedication, affinity, reservations ----

    /// The block TBU `t` is dedicated to (DDS), if any.
    pub fn dedicated_to(&self, t: usize) -> Option<BlockId> {
        self.dedicated[t]
    }

    /// Whether `t` may be dedicated to `block`: a plan home of another block never is.
    pub fn may_dedicate(&self, t: usize, block: BlockId) -> bool {
        self.home_of[t].is_none_or(|h| h == block)
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
            debug_assert!(self.may_dedicate(t, b));
            self.ded_bits[b.index()].set(t);
            self.claimed.set(t);
            self.ded_count[b.index()] += 1;
        }
        self.dedicated[t] = block;
    }

    /// Per block: TBUs dedicated to it now.
    pub fn ded_count(&self, b: usize) -> u32 {
        self.ded_count[b]
    }

    /// The plan homes dedicated to a stable block at the start.
    pub fn ded_homes(&self, b: usize) -> &[TbuId] {
        &self.ded_homes[b]
    }

    /// Records a plan home dedicated at the start.
    pub fn add_ded_home(&mut self, b: BlockId, h: TbuId) {
        self.ded_homes[b.index()].push(h);
        self.ded_home_of[h.index()] = Some(b);
    }

    /// Whether `h` is in `b`'s list of dedicated plan homes.
    pub fn is_ded_home(&self, h: TbuId, b: BlockId) -> bool {
        self.ded_home_of[h.index()] == Some(b)
    }

    /// The block whose soft share a TBU is in.
    pub fn affinity(&self, t: usize) -> Option<BlockId> {
        self.affinity[t]
    }

    /// Puts a TBU in a block's soft share (`None`: out of any).
    pub fn set_affinity(&mut self, t: usize, b: Option<BlockId>) {
        self.affinity[t] = b;
    }

    /// Reserves an idle TBU for `block` until `until` (a proactive pre-configuration), waking the
    /// scheduler then.
    pub fn reserve(&mut self, ctx: &mut Ctx<'_>, tbu: TbuId, block: BlockId, until: Cycle) {
        ctx.reserve(tbu, Some(block));
        self.reserved_until[tbu.index()] = until;
        ctx.wake_at(until);
    }

    /// Whether a TBU's proactive reservation has lapsed.
    pub fn lapsed(&self, ctx: &Ctx<'_>, tbu: TbuId) -> bool {
        ctx.now() >= self.reserved_until[tbu.index()]
    }

    /// Calls `f` on the TBUs of cluster `c` not running and not dedicated to a block other than
    /// `block`, in TBU order, until it returns `false`; whether it saw them all.
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
            f(TbuId(t as u32));
            true
        });
    }

    /// Whether a TBU may take a task of `block` now: idle, not dedicated to another block, not
    /// reserved for another block (a reservation holds until the scheduler lifts it, when it has
    /// lapsed: [`Core::lapsed`]).
    pub fn eligible(&self, ctx: &Ctx<'_>, tbu: TbuId, block: BlockId) -> bool {
        ctx.is_idle(tbu)
            && self.dedicated[tbu.index()].is_none_or(|d| d == block)
            && ctx.reserved(tbu).is_none_or(|r| r == block)
    }

    /// Whether some TBU of cluster `c` may ever run `block` (none dedicated to another).
    pub fn able(&self, ctx: &Ctx<'_>, c: ClusterId, block: BlockId) -> bool {
        ctx.machine().clusters[c].tbus().any(|t| self.dedicated[t.index()].is_none_or(|d| d == block))
    }

    /// How many TBUs of a domain's die (the machine, centrally) may ever run `block`.
    pub fn able_in_domain(&self, ctx: &Ctx<'_>, d: usize, block: BlockId) -> usize {
        let count = |c: ClusterId| {
            ctx.machine().clusters[c]
                .tbus()
                .filter(|t| self.dedicated[t.index()].is_none_or(|x| x == block))
                .count()
        };
        match self.domain_die[d] {
            Some(die) => self.die_clusters[die as usize].iter().map(|&c| count(c)).sum(),
            None => ctx.machine().clusters.indices().map(count).sum(),
        }
    }

    // ---- reach ----

    /// The maximum ring radius a decision for one-TBU tasks may search.
    pub fn radius(&self, ctx: &Ctx<'_>) -> u32 {
        match self.mode {
            Mode::Local => self.params.radius,
            _ => ctx.machine().diameter(),
        }
    }

    /// Calls `f` on the clusters a decision point at `centre` may search for one-TBU tasks
    /// ([`Core::radius`] hops, within its die in [`Mode::Die`]), nearest ring first, until it
    /// returns `false`.
    pub fn reach(&self, ctx: &Ctx<'_>, centre: ClusterId, mut f: impl FnMut(ClusterId, u32) -> bool) {
        match self.mode {
            Mode::Local => {
                let c = centre.index();
                for &(cl, r) in &self.ball[self.ball_at[c] as usize..self.ball_at[c + 1] as usize] {
                    if !f(cl, r) {
                        return;
                    }
                }
            }
            Mode::Die | Mode::Auto => {
                let die = ctx.die_of(centre);
                rings(ctx, centre, self.radius(ctx), |cl, r| ctx.die_of(cl) != die || f(cl, r));
            }
            Mode::Central => rings(ctx, centre, self.radius(ctx), f),
        }
    }

    /// Calls `f` on the clusters a gang domain may place gangs on (its die; the machine,
    /// centrally), nearest `from` first (ties by ID), until it returns `false`.
    pub fn gang_reach(&self, ctx: &Ctx<'_>, d: usize, from: ClusterId, mut f: impl FnMut(ClusterId) -> bool) {
        match self.domain_die[d] {
            Some(die) => {
                let mut cl = self.die_clusters[die as usize].clone();
                cl.sort_by_key(|&c| (ctx.hops(from, c), c));
                for c in cl {
                    if !f(c) {
                        return;
                    }
                }
            }
            None => rings(ctx, from, ctx.machine().diameter(), |c, _| f(c)),
        }
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

    /// The expected cycles the TBUs of cluster `c` have left of what they run.
    pub fn busy(ctx: &Ctx<'_>, c: ClusterId) -> Cycle {
        let now = ctx.now();
        ctx.machine().clusters[c].tbus().map(|t| ctx.expected_free(t).saturating_sub(now)).sum()
    }

    /// Cycles to move a ready task's inputs to `dst` (an estimate from the cost model, without
    /// congestion).
    pub fn transfer_est(ctx: &Ctx<'_>, task: TaskRef, dst: ClusterId) -> Cycle {
        let m = ctx.machine();
        ctx.inputs(task).map(|(c, bytes)| ctx.cost().transfer_cycles(bytes, m.route_hops(c, dst))).sum()
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

    // ---- gangs ----

    /// The idle TBUs a gang of `task` may use in domain `d`, cheapest first by `pol`, with those
    /// held for it first; `None` when there are fewer than its shards.
    pub fn gang_for(
        &self,
        ctx: &Ctx<'_>,
        d: usize,
        task: TaskRef,
        from: ClusterId,
        pol: &dyn Policy,
    ) -> Option<Vec<TbuId>> {
        let v = ctx.task(task);
        let k = v.shards as usize;
        let mut gang: Vec<TbuId> = ctx.held_tbus(task).to_vec();
        let mut idle: Vec<(Cycle, TbuId)> = Vec::new();
        self.gang_reach(ctx, d, from, |c| {
            self.each_candidate(ctx, c, v.block, |t| {
                if self.eligible(ctx, t, v.block) {
                    idle.push((pol.cost(ctx, task, v.block, t), t));
                }
                true
            });
            true
        });
        if gang.len() + idle.len() < k {
            return None;
        }
        let need = k - gang.len();
        if need < idle.len() {
            idle.select_nth_unstable(need);
            idle.truncate(need);
        }
        idle.sort_unstable();
        gang.extend(idle.into_iter().map(|(_, t)| t));
        Some(gang)
    }

    /// A gang task that cannot start is queued in domain `d`; if no gang collects there, the
    /// most urgent one becomes the collector ([`Core::settle_collector`]).
    pub fn queue_gang(&mut self, ctx: &mut Ctx<'_>, d: usize, key: u64, task: TaskRef, pol: &mut dyn Policy) {
        self.push(ctx, d, key, task);
        self.settle_collector(ctx, d, pol);
    }

    /// Domain `d` has a collector holding what it may run on, unless no gang is queued; a
    /// collector with its TBUs starts, and the next one collects.
    pub fn settle_collector(&mut self, ctx: &mut Ctx<'_>, d: usize, pol: &mut dyn Policy) {
        loop {
            if self.collector[d].is_none() && !self.next_collector(ctx, d) {
                return;
            }
            if !self.try_start_collector(ctx, d, pol) {
                return;
            }
        }
    }

    /// The most urgent queued gang of domain `d` becomes its collector and holds the idle TBUs it
    /// may run on, up to its shards; whether there was one.
    fn next_collector(&mut self, ctx: &mut Ctx<'_>, d: usize) -> bool {
        debug_assert!(self.collector[d].is_none());
        let mut best: Option<(usize, Entry)> = None;
        self.queued_blocks(d, |b| {
            if self.gang[b] {
                let e = self.peek(d, b).expect("a queued block");
                if best.is_none_or(|(_, m)| e.urgency() > m.urgency()) {
                    best = Some((b, e));
                }
            }
        });
        let Some((b, _)) = best else { return false };
        let e = self.queues.pop(d * self.nblocks + b).expect("peeked");
        self.collector[d] = Some(e);
        let block = BlockId(b as u32);
        let k = ctx.shards(block) as usize;
        let mut idle: Vec<TbuId> = Vec::new();
        let from = match self.domain_die[d] {
            Some(die) => self.die_centre[die as usize],
            None => self.central.centre(),
        };
        self.gang_reach(ctx, d, from, |c| {
            self.each_candidate(ctx, c, block, |t| {
                if self.eligible(ctx, t, block) && idle.len() < k {
                    idle.push(t);
                }
                idle.len() < k
            })
        });
        for t in idle {
            ctx.hold(e.task, t);
        }
        true
    }

    /// The gang collecting in domain `d`, if any.
    pub fn collector(&self, d: usize) -> Option<Entry> {
        self.collector[d]
    }

    /// Takes domain `d`'s collector out (it starts, or joins a batch); the next gang collects.
    pub fn take_collector(&mut self, ctx: &mut Ctx<'_>, d: usize) -> Option<Entry> {
        let e = self.collector[d].take()?;
        self.queued_cycles[d] -= self.work[ctx.group(ctx.task(e.task).block).index()];
        self.queued_n[d] -= 1;
        Some(e)
    }

    /// The gang domains a TBU of cluster `c` serves.
    fn gang_domain_of(&self, ctx: &Ctx<'_>, c: ClusterId) -> usize {
        self.gang_domain[ctx.die_of(c).index()] as usize
    }

    // ---- the invariant ----

    /// Offers an available TBU to the queues within its reach: it is held for the collecting gang
    /// of its domain if it may run it, else it takes the queued one-TBU task worth most to it
    /// (its key less its cost: [`Policy::cost`] and the control messages). Whether it took work.
    pub fn offer(&mut self, ctx: &mut Ctx<'_>, tbu: TbuId, pol: &mut dyn Policy) -> bool {
        if !ctx.is_idle(tbu) {
            return false;
        }
        let here = ctx.cluster_of(tbu);
        if ctx.reserved(tbu).is_some() && self.lapsed(ctx, tbu) {
            ctx.reserve(tbu, None);
        }
        let only = ctx.reserved(tbu).or(self.dedicated_to(tbu.index()));
        // The collecting gang of its domain first: every TBU it may run that frees goes to it.
        let gd = self.gang_domain_of(ctx, here);
        if let Some(e) = self.collector[gd] {
            let block = ctx.task(e.task).block;
            if only.is_none_or(|o| o == block) && self.eligible(ctx, tbu, block) {
                ctx.hold(e.task, tbu);
                self.settle_collector(ctx, gd, pol);
                return true;
            }
        }
        let mut cands = std::mem::take(&mut self.cands);
        cands.clear();
        {
            let core: &Core = self;
            let mut look = |c: ClusterId| {
                let d = core.domain(c);
                if core.queued_n[d] == 0 {
                    return;
                }
                let mut candidate = |b: usize| {
                    if core.gang[b] {
                        return;
                    }
                    let Some(e) = core.peek(d, b) else { return };
                    let block = BlockId(b as u32);
                    if core.waiting(ctx, e.task) && !ctx.warm(tbu, block) {
                        return;
                    }
                    if !core.eligible(ctx, tbu, block) {
                        return;
                    }
                    let bonus =
                        if core.affinity[tbu.index()] == Some(block) { ctx.reconfig_cycles(tbu) } else { 0 };
                    cands.push(Candidate {
                        bound: i128::from(e.key) + i128::from(bonus),
                        d,
                        b,
                        c,
                        task: e.task,
                    });
                };
                match only {
                    Some(b) => candidate(b.index()),
                    None => core.queued_blocks(d, candidate),
                }
            };
            match core.mode {
                Mode::Local => core.reach(ctx, here, |c, _| {
                    look(c);
                    true
                }),
                _ => look(here),
            }
        }
        cands.sort_unstable_by(|x, y| y.bound.cmp(&x.bound).then((x.d, x.b).cmp(&(y.d, y.b))));
        let mut best: Option<(i128, usize, usize, ClusterId)> = None;
        for x in &cands {
            if best.is_some_and(|(v, ..)| x.bound < v) {
                break;
            }
            let remote =
                if x.c == here { 0 } else { 2 * ctx.cost().control_message_cycles(ctx.hops(x.c, here)) };
            let value = x.bound - i128::from(pol.cost(ctx, x.task, BlockId(x.b as u32), tbu) + remote);
            if best.is_none_or(|(v, bd, bb, _)| value > v || (value == v && (x.d, x.b) < (bd, bb))) {
                best = Some((value, x.d, x.b, x.c));
            }
        }
        self.cands = cands;
        let Some((_, d, b, c)) = best else { return false };
        let e = self.pop(d, b).expect("peeked");
        let latency = if c == here {
            match self.mode {
                Mode::Central => self.latency(ctx, here, here, true),
                _ => 0,
            }
        } else {
            2 * ctx.cost().control_message_cycles(ctx.hops(c, here))
        };
        pol.starting(ctx, self, BlockId(b as u32), &[tbu]);
        ctx.dispatch(e.task, &[tbu], latency);
        true
    }

    /// Starts domain `d`'s collector if it has its TBUs (held, or idle and eligible); whether it did.
    fn try_start_collector(&mut self, ctx: &mut Ctx<'_>, d: usize, pol: &mut dyn Policy) -> bool {
        let Some(e) = self.collector[d] else { return false };
        let from = ctx.held_tbus(e.task).first().map_or(self.central.centre(), |&t| ctx.cluster_of(t));
        let Some(gang) = self.gang_for(ctx, d, e.task, from, pol) else { return false };
        let e = self.take_collector(ctx, d).expect("a collector");
        let block = ctx.task(e.task).block;
        let src = Core::source(ctx, e.task, from);
        let latency = self.gang_latency(ctx, src, &gang);
        pol.starting(ctx, self, block, &gang);
        ctx.dispatch(e.task, &gang, latency);
        true
    }

    /// The collector of domain `d` joins a batch instead: its held TBUs are released (the caller
    /// offers them) and the next gang collects. Returns the task and the released TBUs.
    pub fn collector_joins(&mut self, ctx: &mut Ctx<'_>, d: usize) -> Option<(TaskRef, Vec<TbuId>)> {
        let e = self.take_collector(ctx, d)?;
        let held = ctx.held_tbus(e.task).to_vec();
        for &t in &held {
            ctx.release(t);
        }
        Some((e.task, held))
    }

    /// The idle TBUs within reach of domain `d`, in TBU order (to offer them again).
    pub fn idle_in_reach(&self, ctx: &Ctx<'_>, d: usize) -> Vec<TbuId> {
        let mut out = Vec::new();
        let mut add = |c: ClusterId| {
            ctx.each_not_running(c, |t| {
                if ctx.is_idle(t) {
                    out.push(t);
                }
                true
            });
        };
        match (self.mode, self.domain_die[d]) {
            (Mode::Local, None) => self.reach(ctx, ClusterId(d as u32), |c, _| {
                add(c);
                true
            }),
            (_, Some(die)) => self.die_clusters[die as usize].iter().for_each(|&c| add(c)),
            (_, None) => ctx.machine().clusters.indices().for_each(add),
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

impl Core {
    /// The first breach of the liveness invariant, if any (a test aid; see the module docs): a
    /// queued one-TBU task without a live wait while an idle TBU within reach may run it, a gang
    /// domain with queued gangs and no collector, or a collector beside an idle TBU it may run on.
    pub fn violation(&self, ctx: &Ctx<'_>) -> Option<String> {
        for d in 0..self.ndomains {
            let mut gangs = false;
            let mut found = None;
            self.queued_blocks(d, |b| {
                if found.is_some() {
                    return;
                }
                if self.gang[b] {
                    gangs = true;
                    return;
                }
                let e = self.peek(d, b).expect("a queued block");
                if self.waiting(ctx, e.task) {
                    return;
                }
                let block = BlockId(b as u32);
                let origin = match ctx.task(e.task).queue {
                    Some(QueueId::Cluster(c)) => c,
                    _ => self.central.centre(),
                };
                let mut check = |c: ClusterId| {
                    ctx.machine().clusters[c].tbus().for_each(|t| {
                        if found.is_none() && self.eligible(ctx, t, block) {
                            found = Some(format!(
                                "task {:?} of block {b} queued in domain {d} beside idle TBU {} that may run it ({:?}, dedicated to {:?})",
                                ctx.task(e.task),
                                t.0,
                                ctx.tbu(t),
                                self.dedicated[t.index()]
                            ));
                        }
                    });
                };
                match self.mode {
                    Mode::Local => self.reach(ctx, origin, |c, _| {
                        check(c);
                        true
                    }),
                    _ => match self.domain_die[d] {
                        Some(die) => self.die_clusters[die as usize].iter().for_each(|&c| check(c)),
                        None => ctx.machine().clusters.indices().for_each(check),
                    },
                }
            });
            if found.is_some() {
                return found;
            }
            match self.collector[d] {
                None if gangs => return Some(format!("gangs queued in domain {d} and none collects")),
                Some(e) => {
                    let block = ctx.task(e.task).block;
                    let mut bad = None;
                    self.gang_reach(ctx, d, self.central.centre(), |c| {
                        for t in ctx.machine().clusters[c].tbus() {
                            if self.eligible(ctx, t, block) {
                                bad = Some(format!(
                                    "the collector of domain {d} beside idle TBU {} it may run on",
                                    t.0
                                ));
                                return false;
                            }
                        }
                        true
                    });
                    if bad.is_some() {
                        return bad;
                    }
                }
                None => {}
            }
        }
        None
    }
}

/// Calls `f` on the clusters at mesh distance `r` from `centre`, for `r` from 0 to `max`, in a
/// fixed order, until it returns `false`. `f` gets the cluster and its ring radius.
/// A tick period a quarter of the mean duration of the task a busy TBU is running (the
/// work-weighted mean of the expected warm cycles, `sum v e^2 / sum v e`), so that ticks are few
/// against task times; at least 1.
pub(crate) fn quarter_task_period(ctx: &Ctx<'_>) -> Cycle {
    let (an, wf) = (ctx.analysis(), ctx.workflow());
    let (mut s2, mut s) = (0.0, 0.0);
    for b in wf.tasks() {
        let e = ctx.homes(b).first().map_or(0, |&h| ctx.expected_cycles(b, h)) as f64;
        s2 += an.blocks[b].visits * e * e;
        s += an.blocks[b].visits * e;
    }
    if s > 0.0 { ((s2 / s / 4.0).round() as Cycle).max(1) } else { 1 }
}

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
