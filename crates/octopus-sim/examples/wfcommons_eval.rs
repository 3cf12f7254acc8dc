//! The WfCommons table of `docs/evaluation.md (Real inputs)`: every instance imported, compiled for `chip`
//! and simulated (one run of the workflow, a closed batch of one request) under each scheduler.
//!
//! `cargo run --release -p octopus-sim --example wfcommons_eval [FOLDER]` reads the instances from
//! FOLDER, by default `../shared/data/wfcommons` beside the repository, and prints a Markdown table.

use std::path::PathBuf;

use octopus_hw::{CostModel, Machine};
use octopus_owg::NoFiles;
use octopus_sim::{Inputs, SimConfig};

/// The schedulers of the table, in column order (those not registered in this build are skipped).
const SCHEDULERS: &[&str] = &["static", "greedy", "reactive", "heft", "octopus"];

fn main() {
    let dir = std::env::args().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/wfcommons"),
        PathBuf::from,
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let machine = Machine::preset("chip").expect("chip preset");
    let cost = CostModel::new(&machine);
    let schedulers: Vec<&str> =
        SCHEDULERS.iter().copied().filter(|s| octopus_sim::make_scheduler(s).is_ok()).collect();
    let hz = machine.spec.clock_ghz * 1e9;
    let mut head =
        "| instance | tasks | critical path (s) | recorded makespan (s) | HEFT estimate (s) |".to_owned();
    let mut rule = "|---|---:|---:|---:|---:|".to_owned();
    for s in &schedulers {
        head += &format!(" {s} (s, / lower bound) |");
        rule += "---:|";
    }
    head += " lower bound (s) |";
    rule += "---:|";
    println!("{head}\n{rule}");
    for f in &files {
        let name = f.file_stem().expect("file name").to_string_lossy().into_owned();
        let json = std::fs::read_to_string(f).expect("readable instance");
        let imported = octopus_import::wfcommons(&json, &name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let module = octopus_owg::check(&imported.owg, &name, &NoFiles).module.expect("valid import");
        let plan = octopus_compiler::compile(&module, &machine).expect("compiles");
        let heft =
            octopus_compiler::heft::schedule_workflow(&module.workflow, &machine).expect("no control blocks");
        let inputs = Inputs {
            workflow: &module.workflow,
            analysis: &module.analysis,
            machine: &machine,
            cost: &cost,
            plan: &plan,
        };
        let configs: Vec<SimConfig> = schedulers.iter().map(|s| SimConfig::new(s)).collect();
        let results: Vec<_> = octopus_sim::simulate_many(&inputs, &configs)
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| panic!("{name}: {e}")).result)
            .collect();
        let lower = results[0].lower_bound_cycles as f64 / hz;
        let r = &imported.report;
        let mut row = format!(
            "| {name} | {} | {:.3} | {} | {:.3} |",
            r.tasks,
            r.critical_path_s,
            r.recorded_makespan_s.map_or("-".to_owned(), |m| format!("{m}")),
            heft.makespan_s
        );
        for x in &results {
            row += &format!(" {:.3} ({:.4}) |", x.makespan_s, x.makespan_s / lower);
        }
        row += &format!(" {lower:.3} |");
        println!("{row}");
    }
}
