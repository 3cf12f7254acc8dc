//! Invariants of issue 5 on every imported WfCommons instance (`crates/octopus-import/test_data/`,
//! and the seven larger ones from `../shared/data/wfcommons/` when that folder exists):
//!
//! (a) with unlimited TBUs (more than tasks, so each task block keeps its own warm home TBU and
//!     never reconfigures) and zero transfer cost, the simulated makespan equals the critical path
//!     exactly;
//! (b) on `chip`, with every scheduler, makespan >= max(critical path, total work / TBUs).
//!
//! "Zero transfer cost" is made honestly without touching the hardware model, which requires a
//! hop latency of at least one cycle and a finite bandwidth: the test sets every flow's bytes to 0.
//! The simulator moves nothing for a 0-byte flow and charges nothing for it (the consumer's local
//! scheduler sees a producer task's completion at once), and the WfCommons tasks are `delay`s,
//! whose durations do not depend on data. The critical path and the work are recomputed here from
//! the graph and the cost model, independently of the simulator's own bounds.

use std::path::{Path, PathBuf};

use octopus_hw::{CostModel, Machine, TbuKindId};
use octopus_owg::dist::Dist;
use octopus_owg::index::Idx;
use octopus_owg::ir::{Kernel, Workflow};
use octopus_owg::{Module, NoFiles};
use octopus_sim::{Inputs, SimConfig};

/// The instances: `(name, JSON)`, the small copies always, the large ones when `../shared` exists.
fn instances() -> Vec<(String, String)> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![here.join("../octopus-import/test_data")];
    let shared = here.join("../../../shared/data/wfcommons");
    if shared.is_dir() {
        dirs.push(shared);
    } else {
        eprintln!("note: {} not found; only the copied instances are checked", shared.display());
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for dir in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for f in files {
            let name = f.file_stem().unwrap().to_string_lossy().into_owned();
            if !out.iter().any(|(n, _)| *n == name) {
                out.push((name, std::fs::read_to_string(&f).unwrap()));
            }
        }
    }
    out
}

fn import(name: &str, json: &str) -> Module {
    let imported = octopus_import::wfcommons(json, name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let checked = octopus_owg::check(&imported.owg, name, &NoFiles);
    checked.module.unwrap_or_else(|| panic!("{name}: {:#?}", checked.diagnostics))
}

/// Cycles of each task on kind 0 (exactly what the simulator charges a constant kernel), the
/// critical path (longest path of those) and the total work, recomputed from the graph.
fn bounds(wf: &Workflow, cost: &CostModel<'_>) -> (u64, u64) {
    let cycles = |b: octopus_owg::ir::BlockId| -> u64 {
        let task = wf.blocks[b].task().expect("imported workflows hold only task blocks");
        let k: Kernel<f64> = task.kernel.map(|d, _| d.mean());
        cost.run_cycles(&k, task.dtype, &cost.profile(task), TbuKindId(0), 1)
    };
    let n = wf.blocks.len();
    let mut preds = vec![Vec::new(); n];
    let mut indeg = vec![0; n];
    let mut succs = vec![Vec::new(); n];
    for f in wf.flows.iter() {
        preds[f.to.index()].push(f.from.index());
        succs[f.from.index()].push(f.to.index());
        indeg[f.to.index()] += 1;
    }
    let mut ready: Vec<usize> = (0..n).filter(|&b| indeg[b] == 0).collect();
    let mut finish = vec![0u64; n];
    let mut seen = 0;
    while let Some(b) = ready.pop() {
        seen += 1;
        let start = preds[b].iter().map(|&p| finish[p]).max().unwrap_or(0);
        finish[b] = start + cycles(octopus_owg::ir::BlockId(b as u32));
        for &s in &succs[b] {
            indeg[s] -= 1;
            if indeg[s] == 0 {
                ready.push(s);
            }
        }
    }
    assert_eq!(seen, n, "acyclic");
    let work = wf.tasks().map(cycles).sum();
    (finish.into_iter().max().unwrap_or(0), work)
}

/// A one-die machine like `chip` with at least `tasks` TBUs: 8 per cluster, a near-square mesh.
fn unlimited(tasks: usize) -> Machine {
    let mut spec = Machine::preset("chip").unwrap().spec;
    let clusters = tasks.div_ceil(8).max(1) as u32;
    let x = (f64::from(clusters).sqrt().ceil() as u32).max(1);
    spec.name = "unlimited".into();
    spec.die.clusters_x = x;
    spec.die.clusters_y = clusters.div_ceil(x);
    Machine::from_spec(&spec).expect("valid machine")
}

fn run(
    module: &Module,
    machine: &Machine,
    plan: &octopus_compiler::Plan,
    scheduler: &str,
) -> octopus_sim::SimResult {
    let cost = CostModel::new(machine);
    let inputs =
        Inputs { workflow: &module.workflow, analysis: &module.analysis, machine, cost: &cost, plan };
    octopus_sim::simulate(&inputs, &SimConfig::new(scheduler))
        .unwrap_or_else(|e| panic!("{} with {scheduler}: {e}", module.workflow.name))
        .result
}

#[test]
fn unlimited_tbus_and_zero_transfer_cost_give_the_critical_path_exactly() {
    let all = instances();
    assert!(all.len() >= 9, "the copied instances are missing");
    for (name, json) in &all {
        let mut module = import(name, json);
        for f in module.workflow.flows.iter_mut() {
            f.bytes = Dist::Const(0.0);
        }
        let tasks = module.workflow.tasks().count();
        let machine = unlimited(tasks);
        assert!(machine.tbus.len() >= tasks);
        let plan = octopus_compiler::compile(&module, &machine).expect("compiles");
        // The premise: every task block has home TBUs of its own.
        let mut owner = vec![None; machine.tbus.len()];
        for tp in &plan.tasks {
            assert!(!tp.shared, "{name}: `{}` shares its TBU", tp.name);
            for h in &tp.homes {
                assert!(
                    owner[h.index()].replace(tp.block).is_none(),
                    "{name}: TBU {} is home to two blocks",
                    h.0
                );
            }
        }
        let cost = CostModel::new(&machine);
        let (cp, _) = bounds(&module.workflow, &cost);
        let r = run(&module, &machine, &plan, "static");
        assert_eq!(r.reconfigurations, 0, "{name}");
        assert_eq!(r.makespan_cycles, cp, "{name}: makespan {} vs critical path {cp}", r.makespan_cycles);
    }
}

#[test]
fn every_scheduler_on_chip_respects_the_lower_bound() {
    let machine = Machine::preset("chip").unwrap();
    let cost = CostModel::new(&machine);
    let mut names: Vec<&str> = octopus_sim::scheduler_names().to_vec();
    names.push("heft");
    for (name, json) in &instances() {
        let module = import(name, json);
        let plan = octopus_compiler::compile(&module, &machine).expect("compiles");
        let (cp, work) = bounds(&module.workflow, &cost);
        let bound = cp.max(work.div_ceil(machine.tbus.len() as u64));
        let heft = octopus_compiler::heft::schedule_workflow(&module.workflow, &machine).unwrap();
        assert!(heft.makespan_cycles >= bound, "{name}: HEFT's own schedule below the bound");
        for s in &names {
            let r = run(&module, &machine, &plan, s);
            assert!(r.makespan_cycles >= bound, "{name} with {s}: {} < {bound}", r.makespan_cycles);
            assert_eq!(r.tasks_executed, module.workflow.tasks().count() as u64, "{name} with {s}");
            if *s == "heft" {
                // The simulator charges everything HEFT models, and more (inputs pulled at start,
                // shared links, reconfiguration), on HEFT's placement and per-TBU order.
                assert!(r.makespan_cycles >= heft.makespan_cycles, "{name}: heft below its schedule");
            }
        }
    }
}

#[test]
fn heft_refuses_workflows_with_control_blocks() {
    let src = "workflow w\ntask a = delay(time = 1 ms)\ntask b = delay(time = 1 ms)\n\
               fork f join j\nflow a -> f\nflow f -> b\nflow b -> j\n";
    let module = octopus_owg::check(src, "w", &NoFiles).module.unwrap();
    let machine = Machine::preset("chip").unwrap();
    let plan = octopus_compiler::compile(&module, &machine).unwrap();
    let cost = CostModel::new(&machine);
    let inputs = Inputs {
        workflow: &module.workflow,
        analysis: &module.analysis,
        machine: &machine,
        cost: &cost,
        plan: &plan,
    };
    let err = octopus_sim::simulate(&inputs, &SimConfig::new("heft")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "scheduler `heft` refuses this run: HEFT needs a workflow without control blocks, and `w` has 2: `f`, `j`"
    );
}
