//! The compiler proper, in phases, each a function from typed inputs to a typed output:
//!
//! 1. `demand`: whether every task fits the machine at all (and, in `crate::memory`, whether the
//!    weights and a sequence's KV cache fit a die), each task's expected cycles per kind (an LLM
//!    block's: its share of a batch of its design size), the kind it runs on, and its demand
//!    (visits x cycles);
//! 2. `traffic`: each flow's expected executions, bytes and locality weight per request, and the
//!    order tasks are laid out in (greedy growth over the weighted graph);
//! 3. `homes`: home sizing, tasks grouped into units with a number of home TBUs each;
//! 4. `layout`: placement of the units on the machine's TBUs along a space-filling curve, and of
//!    the control blocks on CBUs, by a multi-start and local swaps;
//! 5. `plans`: each task's homes (a batch group's blocks share theirs), anchor cluster and shard
//!    count, each control block's CBU, each flow's route;
//! 6. `report`: the predicted loads, balance and NoC traffic.
//!
//! The rules, and why, are in `docs/compiler.md`.

mod demand;
pub(crate) use demand::human_bytes;
mod homes;
mod layout;
mod plans;
mod report;
mod traffic;

use std::cmp::Ordering;

use octopus_hw::{CostModel, Machine};
use octopus_owg::analysis::Analysis;
use octopus_owg::index::IndexVec;
use octopus_owg::ir::{BlockId, SourceMap, Workflow};

use crate::Options;
use crate::error::CompileError;
use crate::plan::{PLAN_VERSION, Plan};

/// An `f64` ordered by `total_cmp`, for heaps.
#[derive(Clone, Copy, PartialEq)]
struct Key(f64);
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// The task blocks numbered `0..n` in block order: the phases keep per-task facts in vectors
/// indexed by this number.
struct Tasks {
    /// The block of each task.
    blocks: Vec<BlockId>,
    /// The task number of each block (`None` for control blocks).
    index: IndexVec<BlockId, Option<usize>>,
}

impl Tasks {
    fn new(workflow: &Workflow) -> Tasks {
        let blocks: Vec<BlockId> = workflow.tasks().collect();
        let mut index = IndexVec::<BlockId, Option<usize>>::from_elem(None, workflow.blocks.len());
        for (i, &b) in blocks.iter().enumerate() {
            index[b] = Some(i);
        }
        Tasks { blocks, index }
    }
}

/// Runs the phases in order; every task that cannot fit the machine is an error instead of a plan.
pub(crate) fn compile(
    workflow: &Workflow,
    analysis: &Analysis,
    spans: Option<&SourceMap>,
    machine: &Machine,
    options: &Options,
) -> Result<Plan, Vec<CompileError>> {
    let cost = CostModel::new(machine);
    let tasks = Tasks::new(workflow);
    demand::check_fit(workflow, &tasks.blocks, spans, machine, &cost)?;
    let memory = crate::memory::check(workflow, &tasks.blocks, spans, machine, &cost)?;
    let demand = demand::estimate(workflow, analysis, &tasks.blocks, machine, &cost, &memory);
    let traffic = traffic::Traffic::new(workflow, analysis);
    let task_order = traffic::task_order(workflow, analysis, &traffic, &tasks, options.strategy);
    let homes = homes::size(&task_order, &demand.kind_of, &demand.demand, &machine.kind_counts());
    let unit_flows = homes::unit_flows(&homes, &tasks.blocks, &traffic.adj);
    let placement = layout::Layouter {
        machine,
        workflow,
        topo: &analysis.topo,
        traffic: &traffic,
        tasks: &tasks,
        homes: &homes,
        unit_flows: &unit_flows,
    }
    .place(options.strategy);
    let sites = plans::Sites::new(machine, &tasks, &homes, &placement);
    let task_plans = plans::task_plans(workflow, analysis, &demand, &homes, &sites, &cost);
    let controls = plans::control_plans(workflow, &sites);
    let flows = plans::flow_plans(workflow, &traffic, &sites);
    let report = report::report(machine, &task_plans, &flows, memory);
    Ok(Plan {
        version: PLAN_VERSION,
        workflow: workflow.name.clone(),
        workflow_fingerprint: octopus_owg::fingerprint(workflow),
        hardware: machine.name().to_owned(),
        machine_fingerprint: machine.fingerprint(),
        strategy: options.strategy,
        tasks: task_plans,
        controls,
        flows,
        report,
    })
}

/// A workflow small enough to place by hand: `a` feeds a fork whose branches `b` and `c` meet at
/// its join, on `chip` (a 4 x 8 mesh of clusters of 8 TBUs, cluster IDs row-major), each task a
/// unit of 8 seats: row-major placement puts `a`, `b` and `c` on clusters 0, 1 and 2, (0, 0) to
/// (2, 0).
#[cfg(test)]
pub(super) mod fixture {
    use octopus_hw::{Machine, TbuKindId};
    use octopus_owg::ir::FlowId;
    use octopus_owg::{Module, NoFiles};

    use super::Tasks;
    use super::homes::{Homes, Unit};
    use super::layout::Layouter;
    use super::traffic::Traffic;

    pub(super) struct Fork {
        pub(super) module: Module,
        pub(super) machine: Machine,
        pub(super) tasks: Tasks,
        pub(super) traffic: Traffic,
        pub(super) homes: Homes,
        pub(super) unit_flows: Vec<Vec<FlowId>>,
    }

    impl Fork {
        pub(super) fn new() -> Fork {
            let src = "task a = reduce(elems = 1K)\ntask b = reduce(elems = 1K)\ntask c = reduce(elems = 1K)\n\
                       fork f join j\n\
                       flow a -> f [bytes = 10 B]\nflow f -> b\nflow f -> c\nflow b -> j\nflow c -> j";
            let module = octopus_owg::check(src, "fork", &NoFiles).module.expect("valid");
            let machine = Machine::preset("chip").unwrap();
            let tasks = Tasks::new(&module.workflow);
            let traffic = Traffic::new(&module.workflow, &module.analysis);
            let unit = |t: usize| Unit { kind: TbuKindId(0), tasks: vec![t], seats: 8 };
            let homes = Homes {
                units: vec![unit(0), unit(1), unit(2)],
                unit_of: vec![0, 1, 2],
                shared: vec![false; 3],
            };
            let unit_flows = super::homes::unit_flows(&homes, &tasks.blocks, &traffic.adj);
            Fork { module, machine, tasks, traffic, homes, unit_flows }
        }

        pub(super) fn layouter(&self) -> Layouter<'_> {
            Layouter {
                machine: &self.machine,
                workflow: &self.module.workflow,
                topo: &self.module.analysis.topo,
                traffic: &self.traffic,
                tasks: &self.tasks,
                homes: &self.homes,
                unit_flows: &self.unit_flows,
            }
        }
    }
}
