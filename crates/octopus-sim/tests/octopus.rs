//! The Octopus schedulers (`dds`, `adaptive`, `proactive`, `octopus`, its ablations and
//! `octopus-central`) on small inline workflows: completion, determinism, the DDS warm-TBU rule,
//! proactive reconfiguration ahead of time, diffusion on a multi-die machine, and the registry.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::{Setup, WIDE_GANGS, config, machine, two_dies};
use octopus_hw::TbuId;
use octopus_owg::analysis::Class;
use octopus_sim::scheduler::{BatchId, ControlEvent, Ctx, TaskDone, TaskRef};
use octopus_sim::schedulers::Octopus;
use octopus_sim::{RequestId, Scheduler, SimConfig, TraceKind};

const OCTOPUS: &[&str] = &[
    "dds",
    "adaptive",
    "proactive",
    "octopus",
    "octopus-no-dds",
    "octopus-no-adaptive",
    "octopus-no-proactive",
    "octopus-central",
];

/// Stable blocks (constant shapes, visited once) and dynamic ones (a branch, a loop, a map).
const MIXED: &str = r#"
workflow mixed
arrivals poisson(rate = 4000/s, requests = 120)
task embed  = gemm(m = 64, n = 1024, k = 1024)
task norm   = elementwise(elems = 1M)
task think  = llm_decode(params = 1G, context = 2K, tokens = lognormal(mean = 12, cv = 0.9))
task search = compute(ops = lognormal(mean = 200M, cv = 1.0))
task tool   = compute(ops = exponential(mean = 50M))
task fan    = gemm(m = 64, n = 64, k = uniform(32, 256))
task answer = gemm(m = 32, n = 512, k = 512)
loop steps(count = uniform(1, 4), max = 10) join done
branch pick join used
map par(width = uniform(1, 8), max = 8) join gathered
flow embed -> norm -> steps -> think -> pick
flow pick -> search [p = 0.6, bytes = 2 KiB]
flow pick -> tool [p = 0.4, bytes = 2 KiB]
flow search -> used [bytes = 16 KiB]
flow tool -> used [bytes = 4 KiB]
flow used -> done -> par
flow par -> fan [bytes = 64 KiB]
flow fan -> gathered [bytes = 8 KiB]
flow gathered -> answer [bytes = 1 KiB]
"#;

fn traced(scheduler: &str, requests: Option<u64>, seed: u64) -> SimConfig {
    SimConfig { trace: true, ..config(scheduler, requests, seed) }
}

#[test]
fn every_octopus_scheduler_completes_every_request() {
    for m in [machine(2, 2, 4), two_dies()] {
        let s = Setup::new(MIXED, m);
        for name in OCTOPUS {
            for requests in [None, Some(60)] {
                let r = s.run(&config(name, requests, 3)).result;
                assert_eq!(r.requests, requests.unwrap_or(120), "{name}");
                assert_eq!(r.scheduler, *name);
                assert!(r.makespan_cycles >= r.lower_bound_cycles, "{name}: {r:?}");
                let total = common::time_fractions(&r);
                assert!((total - 1.0).abs() < 1e-9, "{name}: fractions sum to {total}");
            }
        }
    }
}

#[test]
fn same_seed_same_json_and_other_seed_differs() {
    for m in [machine(2, 2, 4), two_dies()] {
        let s = Setup::new(MIXED, m);
        for name in OCTOPUS {
            let a = serde_json::to_string(&s.run(&config(name, None, 11)).result).unwrap();
            let b = serde_json::to_string(&s.run(&config(name, None, 11)).result).unwrap();
            assert_eq!(a, b, "{name}");
            let c = serde_json::to_string(&s.run(&config(name, None, 12)).result).unwrap();
            assert_ne!(a, c, "{name}: the seed changes the run");
        }
    }
}

#[test]
fn dds_never_reconfigures_a_stable_blocks_dedicated_tbus() {
    let s = Setup::new(MIXED, machine(2, 2, 4));
    // Dedicated: the homes of stable, not time-shared blocks (DDS's rule).
    let mut dedicated: Vec<(TbuId, octopus_owg::ir::BlockId)> = Vec::new();
    for t in &s.plan.tasks {
        if t.class == Class::Stable && !t.shared {
            dedicated.extend(t.homes.iter().map(|&h| (h, t.block)));
        }
    }
    assert!(!dedicated.is_empty(), "the fixture has stable blocks with their own homes");
    let out = s.run(&traced("dds", Some(200), 5));
    let mut ran = 0;
    for e in &out.trace {
        let Some(tbu) = e.tbu else { continue };
        if let Some(&(_, owner)) = dedicated.iter().find(|(h, _)| *h == tbu) {
            match e.kind {
                TraceKind::Reconfig => panic!("dedicated TBU {tbu:?} of {owner:?} reconfigured: {e:?}"),
                TraceKind::Exec => {
                    assert_eq!(e.block, Some(owner), "dedicated TBU {tbu:?} ran another block");
                    ran += 1;
                }
                _ => {}
            }
        }
    }
    assert!(ran > 0, "the dedicated TBUs did run their blocks");
    // The pool is reconfigured (dynamic blocks share it), so the check above is not vacuous.
    assert!(out.result.reconfigurations > 0);
}

#[test]
fn proactive_configures_tbus_before_the_tasks_arrive() {
    let s = Setup::new(MIXED, machine(2, 2, 4));
    let out = s.run(&traced("proactive", None, 9));
    // Reconfigurations ahead of time carry no request; the task that then runs on that TBU (its
    // next execution) is of the block configured, and starts after the configuration is done.
    let mut ahead = 0;
    let mut used = 0;
    for (i, e) in out.trace.iter().enumerate() {
        if e.kind != TraceKind::Reconfig || e.request.is_some() {
            continue;
        }
        ahead += 1;
        let next = out.trace[i + 1..].iter().find(|x| x.tbu == e.tbu && x.kind == TraceKind::Exec);
        if let Some(x) = next
            && x.block == e.block
        {
            assert!(x.start >= e.end, "{x:?} started before its configuration {e:?} ended");
            used += 1;
        }
    }
    assert!(ahead > 0, "proactive configured TBUs ahead of time");
    assert!(used > 0, "some configuration ahead of time was used by the block it was made for");
    // The baselines never reconfigure ahead of time.
    let base = s.run(&traced("greedy", None, 9));
    assert!(base.trace.iter().all(|e| e.kind != TraceKind::Reconfig || e.request.is_some()));
}

/// One wide map: all its copies become ready at the map's control block, in one cluster.
const WIDE: &str = r#"
workflow wide
arrivals batch(requests = 4)
task prep = elementwise(elems = 1K)
task body = gemm(m = 256, n = 256, k = uniform(256, 512))
map many(width = 48, max = 64) join all
flow prep -> many
flow many -> body [bytes = 1 KiB]
flow body -> all [bytes = 1 KiB]
"#;

#[test]
fn diffusion_moves_load_off_an_overloaded_cluster() {
    let s = Setup::new(WIDE, two_dies());
    let map = s.block("many");
    let hot = s.plan.control(map).unwrap().cluster;
    let out = s.run(&traced("octopus", None, 1));
    let body = s.block("body");
    let clusters: BTreeSet<u32> = out
        .trace
        .iter()
        .filter(|e| e.kind == TraceKind::Exec && e.block == Some(body))
        .map(|e| e.cluster.0)
        .collect();
    // A cluster dispatches at most one hop away; copies that ran two or more hops from the map's
    // cluster got there by diffusion.
    let far = clusters.iter().filter(|&&c| s.machine.hops(hot, octopus_hw::ClusterId(c)) >= 2).count();
    assert!(far > 0, "diffusion spread the copies beyond the neighbours: {clusters:?} from {hot:?}");
    // And it pays: spreading beats keeping the copies at the hot cluster and its neighbours.
    let r = out.result;
    assert_eq!(r.requests, 4);
    // Its moves are counted, consistently: each moved task at least once, none more often than
    // there are moves, and fewer moves than executions.
    let c = |k: &str| r.counters[k];
    assert!(c("diffusion_moves") > 0 && c("diffusion_moves") <= r.tasks_executed, "{:?}", r.counters);
    assert!(c("diffusion_tasks_moved_again") <= c("diffusion_tasks_moved"));
    assert!(
        c("diffusion_tasks_moved") <= c("diffusion_moves")
            && c("diffusion_gang_moves") <= c("diffusion_moves")
    );
    assert!(r.noc_byte_hops > 0, "moved copies fetch their inputs over the NoC");
}

#[test]
fn diffusion_moves_queued_gangs_to_the_other_die() {
    let s = Setup::new(WIDE_GANGS, two_dies());
    let call = s.block("call");
    let shards = s.plan.task(call).unwrap().shards;
    assert!(shards > 1, "the call runs as gangs: {shards} shards");
    let out = s.run(&traced("octopus", None, 1));
    // Gangs queue in the die of their data; those that ran on the other die got there by diffusion.
    let per_die: Vec<usize> = (0..2u32)
        .map(|d| {
            let on_die = |e: &&octopus_sim::TraceEvent| s.machine.clusters[e.cluster].die.0 == d;
            out.trace
                .iter()
                .filter(|e| e.kind == TraceKind::Batch && e.block == Some(call))
                .filter(on_die)
                .count()
        })
        .collect();
    assert!(per_die.iter().all(|&n| n > 0), "the calls' gangs ran on both dies: {per_die:?}");
    assert_eq!(out.result.requests, 2);
}

/// An Octopus scheduler that checks the liveness invariant after every event.
struct Checked {
    inner: Octopus,
    checks: Arc<AtomicU64>,
    /// The callbacks of the event being checked, for the failure message.
    log: Vec<String>,
}

impl Checked {
    fn check(&self, ctx: &Ctx<'_>, hook: &str) {
        if let Err(e) = self.inner.check_invariant(ctx) {
            panic!(
                "{} after `{hook}` at cycle {}: {e} (callbacks: {:?})",
                self.inner.name(),
                ctx.now(),
                self.log
            );
        }
        self.checks.fetch_add(1, Ordering::Relaxed);
    }
}

impl Scheduler for Checked {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn init(&mut self, ctx: &mut Ctx<'_>) {
        self.inner.init(ctx);
    }
    fn tick_period(&self) -> Option<u64> {
        self.inner.tick_period()
    }
    fn on_arrival(&mut self, ctx: &mut Ctx<'_>, r: RequestId) {
        self.log.push(format!("on_arrival {:?}", r));
        self.inner.on_arrival(ctx, r);
    }
    fn on_ready(&mut self, ctx: &mut Ctx<'_>, t: TaskRef) {
        self.log.push(format!("on_ready {:?}", t));
        self.inner.on_ready(ctx, t);
    }
    fn on_tbu_free(&mut self, ctx: &mut Ctx<'_>, t: TbuId) {
        self.log.push(format!("on_tbu_free {:?}", t));
        self.inner.on_tbu_free(ctx, t);
    }
    fn on_batch_room(&mut self, ctx: &mut Ctx<'_>, b: BatchId) {
        self.log.push(format!("on_batch_room {:?}", b));
        self.inner.on_batch_room(ctx, b);
    }
    fn on_control(&mut self, ctx: &mut Ctx<'_>, e: &ControlEvent) {
        self.log.push(format!("on_control {:?}", e));
        self.inner.on_control(ctx, e);
    }
    fn on_task_done(&mut self, ctx: &mut Ctx<'_>, d: &TaskDone) {
        self.log.push(format!("on_task_done {:?}", d));
        self.inner.on_task_done(ctx, d);
    }
    fn on_wake(&mut self, ctx: &mut Ctx<'_>) {
        self.log.push("on_wake".into());
        self.inner.on_wake(ctx);
    }
    fn on_tick(&mut self, ctx: &mut Ctx<'_>) {
        self.log.push("on_tick".into());
        self.inner.on_tick(ctx);
    }
    fn after_event(&mut self, ctx: &mut Ctx<'_>) {
        self.check(ctx, "an event");
        self.log.clear();
    }
}

/// The liveness invariant holds after every event of every Octopus variant, on one die and on
/// two, for a workflow with stable and dynamic blocks, a gang (the LLM decode) and batches.
#[test]
fn the_liveness_invariant_holds_after_every_event() {
    for m in [machine(2, 2, 4), two_dies()] {
        let s = Setup::new(MIXED, m);
        for name in OCTOPUS {
            let checks = Arc::new(AtomicU64::new(0));
            let sched =
                Checked { inner: Octopus::by_name(name).unwrap(), checks: checks.clone(), log: Vec::new() };
            let out = s.run_with(&config(name, None, 7), Box::new(sched)).expect("runs");
            assert_eq!(out.result.requests, 120, "{name}");
            let n = checks.load(Ordering::Relaxed);
            assert!(n > 1000, "{name}: checked {n} times");
        }
    }
}

#[test]
fn octopus_names_resolve_and_unknown_names_error() {
    for name in OCTOPUS {
        let s = octopus_sim::make_scheduler(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(s.name(), *name);
        assert!(octopus_sim::scheduler_names().contains(name), "{name} is listed");
    }
    for bad in ["octopus-no-everything", "Octopus", "dds ", ""] {
        let err = octopus_sim::make_scheduler(bad).err().expect("unknown name is an error");
        assert!(err.to_string().contains("unknown scheduler"), "{err}");
    }
    let o = octopus_sim::schedulers::Octopus::by_name("octopus-no-proactive").unwrap();
    let f = o.features();
    assert!(f.dds && f.adaptive && !f.proactive);
}
