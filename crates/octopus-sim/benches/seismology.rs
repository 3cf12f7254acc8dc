//! The 1001-task seismology instance of WfCommons end to end: import the JSON, check the `.owg`,
//! compile for `chip`, simulate one run with `static` (and, separately, HEFT's schedule and the
//! `heft` scheduler).
//!
//! ```text
//! cargo bench -p octopus-sim --bench seismology
//! ```
//!
//! Reads `../shared/data/wfcommons/seismology-chameleon-1000p-001.json` beside the repository
//! (1.7 MB, not copied into the project); without it, the benchmarks say so and measure nothing.

use std::path::PathBuf;

use octopus_hw::{CostModel, Machine};
use octopus_owg::NoFiles;
use octopus_sim::{Inputs, SimConfig};

fn main() {
    if instance().is_none() {
        eprintln!("skipped: {} not found", path().display());
        return;
    }
    divan::main();
}

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/wfcommons/seismology-chameleon-1000p-001.json")
}

fn instance() -> Option<String> {
    std::fs::read_to_string(path()).ok()
}

/// Import, check, compile and simulate with `scheduler`; returns the makespan in cycles.
fn end_to_end(json: &str, machine: &Machine, scheduler: &str) -> u64 {
    let imported = octopus_import::wfcommons(json, "seismology-chameleon-1000p-001").expect("imports");
    let module = octopus_owg::check(&imported.owg, "seismology", &NoFiles).module.expect("valid");
    let plan = octopus_compiler::compile(&module, machine).expect("compiles");
    let cost = CostModel::new(machine);
    let inputs =
        Inputs { workflow: &module.workflow, analysis: &module.analysis, machine, cost: &cost, plan: &plan };
    octopus_sim::simulate(&inputs, &SimConfig::new(scheduler)).expect("simulates").result.makespan_cycles
}

#[divan::bench(args = ["static", "heft"], sample_count = 20)]
fn import_compile_simulate(bencher: divan::Bencher, scheduler: &str) {
    let json = instance().expect("checked in main");
    let machine = Machine::preset("chip").expect("chip");
    bencher.bench(|| end_to_end(divan::black_box(&json), &machine, scheduler));
}

#[divan::bench(sample_count = 20)]
fn import_only(bencher: divan::Bencher) {
    let json = instance().expect("checked in main");
    bencher.bench(|| {
        octopus_import::wfcommons(divan::black_box(&json), "seismology").expect("imports").owg.len()
    });
}

#[divan::bench(sample_count = 20)]
fn heft_schedule_only(bencher: divan::Bencher) {
    let json = instance().expect("checked in main");
    let imported = octopus_import::wfcommons(&json, "seismology").expect("imports");
    let module = octopus_owg::check(&imported.owg, "seismology", &NoFiles).module.expect("valid");
    let machine = Machine::preset("chip").expect("chip");
    bencher.bench(|| {
        octopus_compiler::heft::schedule_workflow(divan::black_box(&module.workflow), &machine)
            .expect("schedules")
            .makespan_cycles
    });
}
