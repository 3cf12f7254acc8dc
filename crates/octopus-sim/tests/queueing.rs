//! Queueing theory: an M/M/c queue simulated through the whole stack (language, hardware, plan,
//! engine) must reproduce the Erlang-C mean waiting time, and Little's law must hold.

mod common;

use std::sync::{Arc, Mutex};

use common::{Setup, config, machine};
use octopus_hw::{CostModel, TbuId};
use octopus_sim::SimConfig;
use octopus_sim::scheduler::{Ctx, Scheduler, TaskDone, TaskRef};
use octopus_sim::schedulers::Greedy;

/// Erlang's C formula: the probability an arrival waits, for offered load `a = lambda / mu` on `c` servers.
fn erlang_c(c: u32, a: f64) -> f64 {
    let rho = a / f64::from(c);
    let mut term = 1.0; // a^k / k!
    let mut sum = 0.0;
    for k in 0..c {
        sum += term;
        term *= a / f64::from(k + 1);
    }
    let last = term / (1.0 - rho);
    last / (sum + last)
}

/// Greedy, recording each task's wait in queue (ready to assigned).
struct Recording {
    inner: Greedy,
    waits: Arc<Mutex<Vec<u64>>>,
}

impl Scheduler for Recording {
    fn name(&self) -> &str {
        "greedy"
    }
    fn init(&mut self, ctx: &mut Ctx<'_>) {
        self.inner.init(ctx);
    }
    fn on_ready(&mut self, ctx: &mut Ctx<'_>, task: TaskRef) {
        self.inner.on_ready(ctx, task);
    }
    fn on_tbu_free(&mut self, ctx: &mut Ctx<'_>, tbu: TbuId) {
        self.inner.on_tbu_free(ctx, tbu);
    }
    fn on_task_done(&mut self, _ctx: &mut Ctx<'_>, done: &TaskDone) {
        self.waits.lock().unwrap().push(done.assigned_at - done.ready_at);
    }
}

#[test]
fn mmc_reproduces_erlang_c_waiting_time() {
    let (c, mean_service_s, rho) = (4u32, 1e-3, 0.8);
    let lambda = rho * f64::from(c) / mean_service_s;
    let requests: u64 = std::env::var("MMC_N").ok().and_then(|v| v.parse().ok()).unwrap_or(2_500_000);
    let seed: u64 = std::env::var("MMC_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(2024);
    let src = format!(
        "workflow mmc\narrivals poisson(rate = {lambda}/s, requests = {requests})\n\
         task serve = delay(time = exponential(mean = 1ms))\n"
    );
    let s = Setup::new(&src, machine(1, 1, c));
    let waits = Arc::new(Mutex::new(Vec::new()));
    let sched = Recording { inner: Greedy::default(), waits: waits.clone() };
    let out = s.run_with(&config("greedy", None, seed), Box::new(sched)).unwrap();
    let waits = waits.lock().unwrap();
    assert_eq!(waits.len() as u64, requests);
    // 2.5 million requests: the standard error of the mean wait is about 0.8% at this load (measured
    // over seeds); 3% is well beyond sampling noise. Drop the first 5% (the queue starts empty,
    // not in its stationary state). `MMC_N` and `MMC_SEED` override size and seed.
    let kept = &waits[waits.len() / 20..];
    let hz = s.machine.spec.clock_ghz * 1e9;
    let measured = kept.iter().map(|&w| w as f64).sum::<f64>() / kept.len() as f64 / hz;
    let a = lambda * mean_service_s;
    let formula = erlang_c(c, a) / (f64::from(c) / mean_service_s - lambda);
    let err = (measured - formula).abs() / formula;
    println!(
        "M/M/{c} at rho {rho}: Erlang-C Wq = {formula:.6e} s, simulated {measured:.6e} s, error {:.2}%",
        100.0 * err
    );
    assert!(err < 0.03, "Erlang-C Wq {formula} s, simulated {measured} s ({:.2}% off)", 100.0 * err);
    // Utilisation: rho of the TBU time, up to sampling noise.
    assert!((out.result.utilization - rho).abs() < 0.02, "utilisation {}", out.result.utilization);
    // Memory follows the requests in flight, not the stream: the run held a record of at most a
    // few dozen requests at once (the queue's length), not of millions.
    let held = out.requests_held_peak.expect("one run");
    assert!((1..1_000).contains(&held), "{held} request records held at once over {requests} requests");
    // Past `EXACT_QUANTILE_SAMPLES` the latencies are binned; their mean stays exact: the mean wait
    // plus the mean service, as the recorded waits give them.
    let binned = requests as usize > octopus_sim::EXACT_QUANTILE_SAMPLES;
    assert_eq!(out.result.quantiles_binned, binned, "the result says whether its percentiles are binned");
    if binned {
        let mean_wait = waits.iter().map(|&w| w as f64).sum::<f64>() / waits.len() as f64 / hz;
        let latency = out.result.latency_mean_s;
        assert!(
            (latency - mean_wait - mean_service_s).abs() < 0.03 * mean_service_s,
            "mean latency {latency} s"
        );
    }
}

const PIPELINE: &str = r#"
workflow pipeline
arrivals poisson(rate = 300/s, requests = 3000)
task a = gemm(m = 256, n = 256, k = lognormal(mean = 2048, cv = 0.5))
task b = compute(ops = exponential(mean = 20M))
task c = elementwise(elems = 1M)
branch pick join merged
map fan(width = uniform(1, 4), max = 4) join gathered
flow a -> pick
flow pick -> b [p = 0.7, bytes = 8 KiB]
flow pick -> merged [p = 0.3]
flow b -> merged [bytes = 4 KiB]
flow merged -> fan
flow fan -> c [bytes = 32 KiB]
flow c -> gathered [bytes = 1 KiB]
"#;

#[test]
fn littles_law_holds_on_every_run() {
    let s = Setup::new(PIPELINE, machine(2, 2, 2));
    for name in octopus_sim::scheduler_names() {
        for requests in [None, Some(500)] {
            let r = s.run(&config(name, requests, 11)).result;
            // L (time average of requests in the system) = lambda (throughput) x W (mean latency).
            let l = r.mean_in_system;
            let lw = r.throughput_rps * r.latency_mean_s;
            assert!((l - lw).abs() <= 1e-9 * l.max(1.0), "{name}: L = {l}, lambda W = {lw}");
            assert!(l > 0.0);
        }
    }
}

#[test]
fn same_seed_same_workload_across_schedulers() {
    // Draws are keyed by what draws them, not by when: every scheduler executes the same tasks
    // and control blocks, and the same total work.
    let s = Setup::new(PIPELINE, machine(2, 2, 2));
    let runs: Vec<_> =
        octopus_sim::scheduler_names().iter().map(|n| s.run(&config(n, None, 5)).result).collect();
    for r in &runs[1..] {
        assert_eq!(r.tasks_executed, runs[0].tasks_executed, "{}", r.scheduler);
        assert_eq!(r.control_blocks_executed, runs[0].control_blocks_executed, "{}", r.scheduler);
        assert_eq!(r.work_bound_cycles, runs[0].work_bound_cycles, "{}", r.scheduler);
        assert_eq!(r.critical_path_cycles, runs[0].critical_path_cycles, "{}", r.scheduler);
    }
    let other = s.run(&config("static", None, 6)).result;
    assert_ne!(other.work_bound_cycles, runs[0].work_bound_cycles, "another seed draws another workload");
}

#[test]
fn identical_json_whatever_the_thread_count() {
    let s = Setup::new(PIPELINE, machine(2, 2, 2));
    let cost = CostModel::new(&s.machine);
    let inputs = s.inputs(&cost);
    let configs: Vec<SimConfig> = octopus_sim::scheduler_names()
        .iter()
        .flat_map(|n| [1, 2, 3].map(|seed| config(n, Some(300), seed)))
        .collect();
    let json = |threads: usize| -> Vec<String> {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| octopus_sim::simulate_many(&inputs, &configs))
            .into_iter()
            .map(|r| serde_json::to_string(&r.unwrap().result).unwrap())
            .collect()
    };
    let one = json(1);
    assert_eq!(one, json(4));
    assert_eq!(one, json(8));
}
