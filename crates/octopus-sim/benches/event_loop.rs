//! Speed of the event loop: TBU executions simulated per second, one core.
//!
//! `cargo bench -p octopus-sim --bench event_loop`; divan prints `item/s`, one item being one
//! task-block execution (a gang of its shards, or one sequence of a batched LLM block), the unit
//! of the speed target of `docs/performance.md`.

use divan::Bencher;
use divan::counter::ItemsCount;
use octopus_hw::{CostModel, Machine};
use octopus_owg::NoFiles;
use octopus_sim::{Inputs, SimConfig};

fn main() {
    divan::main();
}

/// A ReAct-style agent: a loop around a branch, then a dynamic fan-out; every flow carries data.
const AGENT: &str = r#"
workflow bench_agent
arrivals batch(requests = 2000)
task think  = llm_decode(params = 1G, context = 2K, tokens = lognormal(mean = 20, cv = 0.8))
task search = compute(ops = lognormal(mean = 200M, cv = 1.0))
task python = compute(ops = exponential(mean = 50M))
task answer = llm_decode(params = 1G, context = 4K, tokens = 16)
task fan    = gemm(m = 64, n = 64, k = uniform(32, 256))
loop steps(count = uniform(1, 4), max = 10) join done
branch tool join used
map par(width = uniform(0, 5), max = 8) join gathered
flow steps -> think -> tool
flow tool -> search [p = 0.6, bytes = 2 KiB]
flow tool -> python [p = 0.4, bytes = 2 KiB]
flow search -> used [bytes = 16 KiB]
flow python -> used [bytes = 4 KiB]
flow used -> done -> par
flow par -> fan [bytes = 64 KiB]
flow fan -> gathered [bytes = 8 KiB]
flow gathered -> answer [bytes = 1 KiB]
"#;

#[divan::bench(args = ["static", "greedy", "dds", "adaptive", "octopus"])]
fn agent_chip(bencher: Bencher, scheduler: &str) {
    run_agent(bencher, scheduler, false);
}

/// Not `static` on `wafer`: it picks each shard's home by scanning the block's homes (O(homes) per
/// shard; thousands of homes and 1.8 M shards here), about 4 minutes per run. See
/// `docs/performance.md`.
#[divan::bench(args = ["greedy", "dds", "adaptive", "octopus"])]
fn agent_wafer(bencher: Bencher, scheduler: &str) {
    run_agent(bencher, scheduler, true);
}

fn run_agent(bencher: Bencher, scheduler: &str, wafer: bool) {
    let module = octopus_owg::check(AGENT, "bench", &NoFiles).module.expect("valid workflow");
    let machine = Machine::preset(if wafer { "wafer" } else { "chip" }).expect("preset");
    let plan = octopus_compiler::compile(&module, &machine).expect("compiles");
    let cost = CostModel::new(&machine);
    let inputs = Inputs {
        workflow: &module.workflow,
        analysis: &module.analysis,
        machine: &machine,
        cost: &cost,
        plan: &plan,
    };
    let config =
        SimConfig { scheduler: scheduler.to_owned(), requests: None, rate: None, seed: 1, trace: false };
    // One item is one task-block execution (a gang, whatever its shards).
    let executions = octopus_sim::simulate(&inputs, &config).expect("runs").result.tasks_executed;
    bencher
        .counter(ItemsCount::new(executions as usize))
        .bench(|| octopus_sim::simulate(&inputs, &config).expect("runs"));
}
