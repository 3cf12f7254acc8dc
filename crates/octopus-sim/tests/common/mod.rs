//! Shared fixtures: workflows from inline text, small machines, compiled plans.
#![allow(dead_code)]

use octopus_compiler::Plan;
use octopus_hw::{CostModel, Machine};
use octopus_owg::ir::BlockId;
use octopus_owg::{Module, NoFiles};
use octopus_sim::{Inputs, Scheduler, SimConfig, SimError, SimOutput, SimResult};

/// A validated module from inline `.owg` text (panics with the diagnostics when invalid).
pub fn module(src: &str) -> Module {
    let checked = octopus_owg::check(src, "test", &NoFiles);
    match checked.module {
        Some(m) => m,
        None => panic!("invalid test workflow:\n{src}\n{:#?}", checked.diagnostics),
    }
}

/// The `chip` preset with one die of `clusters_x x clusters_y` clusters of `tbus` TBUs each.
pub fn machine(clusters_x: u32, clusters_y: u32, tbus: u32) -> Machine {
    let mut spec = Machine::preset("chip").expect("chip preset").spec;
    spec.cluster.tbus.truncate(1);
    spec.cluster.tbus[0].1 = tbus;
    spec.die.clusters_x = clusters_x;
    spec.die.clusters_y = clusters_y;
    spec.package.dies_x = 1;
    spec.package.dies_y = 1;
    Machine::from_spec(&spec).expect("valid test machine")
}

/// Everything a run needs, owned.
pub struct Setup {
    pub module: Module,
    pub machine: Machine,
    pub plan: Plan,
}

impl Setup {
    pub fn new(src: &str, machine: Machine) -> Setup {
        let module = module(src);
        let plan = octopus_compiler::compile(&module, &machine).unwrap_or_else(|e| panic!("compile: {e:?}"));
        Setup { module, machine, plan }
    }

    pub fn run(&self, config: &SimConfig) -> SimOutput {
        let cost = CostModel::new(&self.machine);
        let inputs = self.inputs(&cost);
        octopus_sim::simulate(&inputs, config).unwrap_or_else(|e| panic!("simulate: {e}"))
    }

    /// Runs a scheduler instance (one with non-default parameters, or a test's own).
    pub fn run_with<'a>(
        &'a self,
        config: &SimConfig,
        scheduler: Box<dyn Scheduler + 'a>,
    ) -> Result<SimOutput, SimError> {
        let cost = CostModel::new(&self.machine);
        octopus_sim::simulate_with_scheduler(&self.inputs(&cost), config, scheduler, &mut |_, _| {})
    }

    /// A block of the workflow by name.
    pub fn block(&self, name: &str) -> BlockId {
        let blocks = &self.module.workflow.blocks;
        blocks
            .iter_enumerated()
            .find(|(_, b)| b.name == name)
            .unwrap_or_else(|| panic!("no block `{name}`"))
            .0
    }

    pub fn inputs<'a>(&'a self, cost: &'a CostModel<'a>) -> Inputs<'a> {
        Inputs {
            workflow: &self.module.workflow,
            analysis: &self.module.analysis,
            machine: &self.machine,
            cost,
            plan: &self.plan,
        }
    }
}

pub fn config(scheduler: &str, requests: Option<u64>, seed: u64) -> SimConfig {
    SimConfig { scheduler: scheduler.to_owned(), requests, rate: None, seed, trace: false }
}

/// Utilisation plus every `idle` fraction of a result, read from its JSON so that a fraction
/// added later is counted too: the TBU time they split adds up to 1.
pub fn time_fractions(r: &SimResult) -> f64 {
    let v = serde_json::to_value(r).expect("a result serialises");
    let idle = v["idle"].as_object().expect("an idle object");
    v["utilization"].as_f64().expect("utilization")
        + idle.values().map(|x| x.as_f64().expect("a fraction")).sum::<f64>()
}

/// Two dies of 3x3 clusters of 2 TBUs: a multi-die machine, so `octopus` schedules per cluster.
pub fn two_dies() -> Machine {
    let mut spec = Machine::preset("package").expect("package preset").spec;
    spec.cluster.tbus.truncate(1);
    spec.cluster.tbus[0].1 = 2;
    spec.die.clusters_x = 3;
    spec.die.clusters_y = 3;
    spec.package.dies_x = 2;
    spec.package.dies_y = 1;
    Machine::from_spec(&spec).expect("valid test machine")
}

/// One wide map of sharded LLM calls, one sequence per batch: every gang is ready at once, on the
/// die of the map's data.
pub const WIDE_GANGS: &str = r#"
workflow wide_gangs
arrivals batch(requests = 2)
task prep = elementwise(elems = 1K)
task call = llm_decode(params = 1M, context = 1K, tokens = 64, max_batch = 1)
map many(width = 24, max = 32) join all
flow prep -> many
flow many -> call [bytes = 1 KiB]
flow call -> all [bytes = 1 KiB]
"#;
