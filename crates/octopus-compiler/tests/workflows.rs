//! Every workflow in `workflows/` compiles on `chip` and on `wafer`; snapshots pin the plans.
//!
//! On `chip` the whole plan is pinned (RON); on `wafer` the report's summary and the home count
//! and anchor of each task (a full wafer plan lists ten thousand TBUs).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use octopus_compiler::{Plan, compile};
use octopus_hw::Machine;
use octopus_owg::{Loader, Module, check};

struct Dir(PathBuf);

impl Loader for Dir {
    fn load(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

fn module(path: &Path) -> Module {
    let text = std::fs::read_to_string(path).unwrap();
    let stem = path.file_stem().unwrap().to_str().unwrap();
    let checked = check(&text, stem, &Dir(path.parent().unwrap().to_owned()));
    checked
        .module
        .unwrap_or_else(|| panic!("{} does not validate: {:?}", path.display(), checked.diagnostics))
}

/// The report without per-cluster loads, and each task's placement in one line.
fn summary(plan: &Plan) -> String {
    let r = &plan.report;
    let mut s = String::new();
    writeln!(s, "workflow {} on {} ({:?} strategy)", plan.workflow, plan.hardware, plan.strategy).unwrap();
    writeln!(s, "tbus used {} of {}", r.tbus_used, r.tbus_total).unwrap();
    writeln!(s, "total demand {:.6e} cycles/request", r.total_demand).unwrap();
    writeln!(
        s,
        "max tbu load {:.6e}, mean {:.6e}, imbalance {:.4}",
        r.max_tbu_load, r.mean_tbu_load, r.tbu_imbalance
    )
    .unwrap();
    writeln!(s, "cluster imbalance {:.4}, clusters loaded {}", r.cluster_imbalance, r.clusters.len())
        .unwrap();
    writeln!(s, "noc bytes {:.6e}, byte-hops {:.6e}", r.noc_bytes, r.noc_byte_hops).unwrap();
    for t in &plan.tasks {
        writeln!(
            s,
            "  {:<24} {:?} kind {} homes {:>5} shards {:>3} anchor {:>5} shared {} demand {:.4e}",
            t.name,
            t.class,
            t.kind.0,
            t.homes.len(),
            t.shards,
            t.anchor.0,
            t.shared,
            t.demand
        )
        .unwrap();
    }
    for c in &plan.controls {
        writeln!(s, "  {:<24} cbu {}", c.name, c.cluster.0).unwrap();
    }
    s
}

#[test]
fn every_workflow_compiles_on_chip_and_wafer() {
    let chip = Machine::preset("chip").unwrap();
    let wafer = Machine::preset("wafer").unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows");
    insta::glob!(root.as_path(), "*.owg", |path| {
        let m = module(path);
        let plan = compile(&m, &chip).unwrap();
        check_invariants(&m, &chip, &plan);
        insta::assert_snapshot!("chip", plan.to_ron());
        let plan = compile(&m, &wafer).unwrap();
        check_invariants(&m, &wafer, &plan);
        insta::assert_snapshot!("wafer", summary(&plan));
    });
}

fn check_invariants(m: &Module, machine: &Machine, plan: &Plan) {
    assert_eq!(plan.tasks.len(), m.workflow.tasks().count());
    assert_eq!(plan.flows.len(), m.workflow.flows.len());
    assert_eq!(plan.tasks.len() + plan.controls.len(), m.workflow.blocks.len());
    let mut seen = vec![0u32; machine.tbus.len()];
    for t in &plan.tasks {
        assert!(!t.homes.is_empty(), "{} has no home", t.name);
        // Shards run on at most the block's homes and one die's TBUs.
        assert!(t.shards >= 1 && t.shards as usize <= t.homes.len(), "{}: {} shards", t.name, t.shards);
        assert!(t.shards <= machine.tbus_per_die(), "{}: {} shards", t.name, t.shards);
        assert_eq!(machine.kinds.indices().find(|&k| k == t.kind), Some(t.kind));
        for h in &t.homes {
            assert_eq!(machine.tbus[*h].kind, t.kind);
            seen[h.0 as usize] += 1;
        }
    }
    // Without time-sharing every TBU is home to exactly one task, or to the blocks of one batch
    // group (LLM blocks of one model and phase share their homes); with it, to at least one.
    let groups = octopus_hw::batch_groups(&m.workflow);
    let grouped =
        plan.tasks.iter().filter(|t| groups.iter().filter(|&&g| g == groups[t.block.0 as usize]).count() > 1);
    let shared_by_groups: u32 = grouped.map(|t| t.homes.len() as u32).sum();
    if plan.tasks.iter().all(|t| !t.shared) && shared_by_groups == 0 {
        assert!(seen.iter().all(|&n| n <= 1));
    }
    for f in &plan.flows {
        assert_eq!(f.hops, machine.hops(f.from, f.to));
    }
    let back = Plan::from_ron(&plan.to_ron()).unwrap();
    assert_eq!(&back, plan);
}
