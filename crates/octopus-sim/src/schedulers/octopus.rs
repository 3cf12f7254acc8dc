//! `octopus` and its parts: one scheduler, [`Octopus`], whose strategies are components switched by
//! [`Features`]: Discriminate Dual-Scheduling ([`super::dds`]), Adaptive TBU Scheduling
//! ([`super::adaptive`]), Proactive Cluster Scheduling ([`super::proactive`]) and, on multi-die
//! machines, cluster-local scheduling with diffusion load balancing ([`super::diffusion`]).
//!
//! What every variant shares lives in [`super::core`]: ready tasks wait in per-domain, per-block
//! priority queues, and one invariant keeps them moving (an idle TBU and a queued task it may run
//! never coexist within reach, but for a timed wait). A ready task goes to the best idle TBU (or
//! gang, or batch) that DDS finds from where its input data is; a TBU that becomes available is
//! offered to the queues within its reach. A *domain* is the set of TBUs one decision point
//! schedules: the whole die on a single-die machine, one cluster on a multi-die one
//! ([`Mode::Local`]; gangs and batches per die), or the whole machine with decisions taken at
//! the centre ([`Mode::Central`]). Rules, parameters and reasons are in `docs/schedulers.md`.

use octopus_hw::{ClusterId, TbuId};
use octopus_owg::index::Idx;
use octopus_owg::ir::BlockId;

use super::adaptive::Adaptive;
use super::core::{Core, Policy, rings};
use super::dds::{Dds, Placement};
use super::diffusion::Diffusion;
pub use super::params::{Features, Mode, OctopusParams};
use super::proactive::Proactive;
use crate::scheduler::{BatchId, ControlEvent, Ctx, Scheduler, TaskDone, TaskRef};
use crate::{Cycle, RequestId};

/// The Octopus scheduler; see the module docs.
pub struct Octopus {
    name: String,
    features: Features,
    core: Core,
    dds: Dds,
    adaptive: Option<Adaptive>,
    proactive: Option<Proactive>,
    diffusion: Option<Diffusion>,
}

/// The strategies' part in the core's decisions: DDS prices, Adaptive notes starts.
struct Parts<'a> {
    dds: &'a Dds,
    adaptive: Option<&'a mut Adaptive>,
}

impl Policy for Parts<'_> {
    fn cost(&self, ctx: &Ctx<'_>, task: TaskRef, block: BlockId, tbu: TbuId) -> Cycle {
        self.dds.cost(ctx, task, block, tbu)
    }

    fn starting(&mut self, ctx: &Ctx<'_>, core: &mut Core, block: BlockId, tbus: &[TbuId]) {
        if let Some(a) = self.adaptive.as_deref_mut() {
            a.on_start(ctx, core, block, tbus);
        }
    }
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

    /// The liveness invariant (`schedulers/core.rs`): `Err` with the first breach. Meant for tests,
    /// which call it after every callback; it scans every queue and TBU.
    pub fn check_invariant(&self, ctx: &Ctx<'_>) -> Result<(), String> {
        self.core.violation(ctx).map_or(Ok(()), Err)
    }

    /// Tasks diffusion has moved between clusters so far.
    pub fn diffusion_moves(&self) -> u64 {
        self.diffusion.as_ref().map_or(0, |d| d.counts.moves)
    }

    /// The priority of a ready task: the forecast total work of its request (proactive; older
    /// requests first among equal forecasts), else older requests first.
    fn key(&self, ctx: &Ctx<'_>, req: RequestId) -> u64 {
        match &self.proactive {
            Some(p) => p.remaining(req),
            None => u64::MAX - ctx.arrival_of(req),
        }
    }

    /// Offers an available TBU to the queues within its reach; with nothing to run, Adaptive may
    /// give it back to the pool, and it is offered again.
    fn offer(&mut self, ctx: &mut Ctx<'_>, tbu: TbuId) {
        let mut pol = Parts { dds: &self.dds, adaptive: self.adaptive.as_mut() };
        if self.core.offer(ctx, tbu, &mut pol) {
            return self.repair(ctx);
        }
        if let Some(a) = &mut self.adaptive
            && a.on_idle(ctx, &mut self.core, tbu)
        {
            let mut pol = Parts { dds: &self.dds, adaptive: self.adaptive.as_mut() };
            self.core.offer(ctx, tbu, &mut pol);
        }
        self.repair(ctx);
    }

    /// Places a task (ready, or moved by diffusion) whose data is at `src`, after `latency` cycles
    /// of control messages already spent on it: runs, joins, waits or queues it.
    fn place(&mut self, ctx: &mut Ctx<'_>, task: TaskRef, src: ClusterId, latency: Cycle, key: u64) {
        let v = ctx.task(task);
        if self.core.is_gang(v.block.index()) {
            let pol = Parts { dds: &self.dds, adaptive: None };
            match self.dds.place_gang(ctx, &mut self.core, task, src, &pol) {
                Placement::Join(b) => ctx.join(task, b),
                Placement::Gang(gang, l) => self.start(ctx, task, &gang, latency + l),
                _ => {
                    let d = self.feasible_domain(ctx, v.block, src);
                    let mut pol = Parts { dds: &self.dds, adaptive: self.adaptive.as_mut() };
                    self.core.queue_gang(ctx, d, key, task, &mut pol);
                }
            }
            return;
        }
        match self.dds.place(ctx, &mut self.core, task, src) {
            Placement::Run(tbu, l) => self.start(ctx, task, &[tbu], latency + l),
            Placement::Wait(deadline) => {
                let d = self.core.domain(src);
                self.core.push(ctx, d, key, task);
                self.core.wait(ctx, task, deadline);
            }
            _ => {
                // Queued only within reach of a TBU that may run it.
                let at = if self.core.able_near(ctx, src, v.block) {
                    src
                } else {
                    self.nearest_able(ctx, v.block, src)
                };
                let d = self.core.domain(at);
                self.core.push(ctx, d, key, task);
            }
        }
    }

    /// The nearest cluster to `src` within reach of which some TBU may run `block`.
    fn nearest_able(&self, ctx: &Ctx<'_>, block: BlockId, src: ClusterId) -> ClusterId {
        let mut found = src;
        rings(ctx, src, ctx.machine().diameter(), |c, _| {
            if self.core.able(ctx, c, block) {
                found = c;
                return false;
            }
            true
        });
        found
    }

    /// The gang domain of `src`'s die if enough of its TBUs may run the block's gangs, else the
    /// nearest die's that has.
    fn feasible_domain(&self, ctx: &Ctx<'_>, block: BlockId, src: ClusterId) -> usize {
        let k = ctx.shards(block) as usize;
        let d = self.core.domain_for(ctx, block, src);
        if self.core.able_in_domain(ctx, d, block) >= k {
            return d;
        }
        let mut found = d;
        rings(ctx, src, ctx.machine().diameter(), |c, _| {
            let dc = self.core.domain_for(ctx, block, c);
            if self.core.able_in_domain(ctx, dc, block) >= k {
                found = dc;
                return false;
            }
            true
        });
        found
    }

    /// Starts a task on TBUs, letting Adaptive note it.
    fn start(&mut self, ctx: &mut Ctx<'_>, task: TaskRef, tbus: &[TbuId], latency: Cycle) {
        let block = ctx.task(task).block;
        if let Some(a) = &mut self.adaptive {
            a.on_start(ctx, &mut self.core, block, tbus);
        }
        ctx.dispatch(task, tbus, latency);
    }

    /// After a dedication, work queued within reach of the TBU that no TBU there may run any more
    /// moves to where one may.
    fn repair(&mut self, ctx: &mut Ctx<'_>) {
        let Some(a) = &mut self.adaptive else { return };
        if a.dedicated_now.is_empty() {
            return;
        }
        let tbus = std::mem::take(&mut a.dedicated_now);
        for t in tbus {
            let c = ctx.cluster_of(t);
            let mut domains: Vec<(usize, ClusterId)> = Vec::new();
            self.core.reach(ctx, c, |cl, _| {
                let d = self.core.domain(cl);
                if !domains.iter().any(|&(x, _)| x == d) {
                    domains.push((d, cl));
                }
                true
            });
            for (d, cl) in domains {
                let mut stranded = Vec::new();
                self.core.queued_blocks(d, |b| stranded.push(b));
                for b in stranded {
                    let block = BlockId(b as u32);
                    if self.core.is_gang(b) || self.core.able_near(ctx, cl, block) {
                        continue;
                    }
                    while let Some(e) = self.core.pop(d, b) {
                        let to = self.nearest_able(ctx, block, cl);
                        let latency = ctx.cost().control_message_cycles(ctx.hops(cl, to));
                        self.place(ctx, e.task, to, latency, e.key);
                    }
                }
            }
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
            p.init(ctx, self.core.params().reserve_expiry);
        }
        if self.core.mode() == Mode::Local {
            self.diffusion = Some(Diffusion::new(ctx));
        }
    }

    fn tick_period(&self) -> Option<Cycle> {
        (self.adaptive.is_some() || self.diffusion.is_some()).then_some(self.core.period())
    }

    /// Per cluster ([`Mode::Local`]), a control block runs on the CBU of the cluster its data
    /// comes from: there is no global decision point to send it to. (ours)
    fn control_cluster(&self, ctx: &Ctx<'_>, block: BlockId, from: ClusterId) -> ClusterId {
        match self.core.mode() {
            Mode::Local => from,
            _ => ctx.cbu_of(block),
        }
    }

    fn on_arrival(&mut self, ctx: &mut Ctx<'_>, request: RequestId) {
        let r = request.0 as usize;
        let oldest = ctx.oldest_in_flight();
        if let Some(p) = &mut self.proactive {
            p.on_arrival(request, oldest);
        }
        if self.core.mode() != Mode::Local {
            return;
        }
        let entry = ctx.analysis().entries.iter().copied().find(|&b| !ctx.homes(b).is_empty());
        let anchor = entry.map_or(ClusterId(0), |b| ctx.cbu_of(b));
        let cluster = match (&mut self.proactive, entry) {
            (Some(p), _) => p.admit(ctx, anchor),
            (None, Some(b)) => {
                // By the plan: round robin over the entry block's home TBUs.
                let homes = ctx.homes(b);
                ctx.cluster_of(homes[r % homes.len()])
            }
            (None, None) => anchor,
        };
        self.core.admit(request, cluster, oldest);
    }

    fn on_ready(&mut self, ctx: &mut Ctx<'_>, task: TaskRef) {
        let v = ctx.task(task);
        let fallback = match self.core.mode() {
            Mode::Local => self.core.admitted(v.request).unwrap_or(ctx.cbu_of(v.block)),
            _ => ctx.cbu_of(v.block),
        };
        let src = Core::source(ctx, task, fallback);
        if let Some(a) = &mut self.adaptive {
            a.on_ready(ctx, v.block);
        }
        let key = self.key(ctx, v.request);
        self.place(ctx, task, src, 0, key);
        self.repair(ctx);
    }

    fn on_tbu_free(&mut self, ctx: &mut Ctx<'_>, tbu: TbuId) {
        self.offer(ctx, tbu);
    }

    fn on_batch_room(&mut self, ctx: &mut Ctx<'_>, batch: BatchId) {
        let bv = ctx.batch(batch);
        let block = bv.block;
        let d = self.core.domain_for(ctx, block, bv.cluster);
        // The collector first: it has waited longest among the gangs of its domain.
        if self.core.collector(d).is_some_and(|e| ctx.group(ctx.task(e.task).block) == block)
            && let Some((task, held)) = self.core.collector_joins(ctx, d)
        {
            ctx.join(task, batch);
            let mut pol = Parts { dds: &self.dds, adaptive: self.adaptive.as_mut() };
            self.core.settle_collector(ctx, d, &mut pol);
            for t in held {
                self.offer(ctx, t);
            }
        }
        while ctx.batch(batch).has_room() {
            let Some(e) = self.core.pop(d, block.index()) else { break };
            ctx.join(e.task, batch);
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

    fn on_wake(&mut self, ctx: &mut Ctx<'_>) {
        // Lapsed reservations and timed waits: the TBUs they kept from work are offered again.
        let lapsed = match &mut self.proactive {
            Some(p) => p.lapsed(ctx, &self.core),
            None => Vec::new(),
        };
        for t in lapsed {
            self.offer(ctx, t);
        }
        for d in self.core.lapse_waits(ctx) {
            for t in self.core.idle_in_reach(ctx, d) {
                self.offer(ctx, t);
            }
        }
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        let Some(d) = &self.diffusion else { return Vec::new() };
        let c = &d.counts;
        vec![
            ("diffusion_moves", c.moves),
            ("diffusion_gang_moves", c.gang_moves),
            ("diffusion_tasks_moved", c.tasks_moved),
            ("diffusion_tasks_moved_again", c.tasks_moved_again),
        ]
    }

    fn on_tick(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(diffusion) = &mut self.diffusion {
            for m in diffusion.step(ctx, &mut self.core) {
                let latency = ctx.cost().control_message_cycles(ctx.hops(m.from, m.to));
                self.place(ctx, m.entry.task, m.to, latency, m.entry.key);
            }
        }
        // Shares above their block's target give TBUs back to the pool; they look for work.
        let released = match &mut self.adaptive {
            Some(a) => a.on_tick(ctx, &mut self.core),
            None => Vec::new(),
        };
        for t in released {
            self.offer(ctx, t);
        }
        self.repair(ctx);
    }
}
