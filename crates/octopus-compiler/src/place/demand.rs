//! Demand estimation: whether every task fits the machine at all, each task's expected cycles on
//! every TBU kind, the kind it runs on, and its demand (expected visits x expected cycles).

use octopus_hw::{CostModel, Machine, Ring, TbuKindId};
use octopus_owg::analysis::Analysis;
use octopus_owg::index::{Idx, IndexVec};
use octopus_owg::ir::{BlockId, SourceMap, Workflow};

use crate::error::CompileError;
use crate::plan::MemoryReport;

/// What each task (by task number) costs per request.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Demand {
    /// Expected cycles of one execution on one TBU, per kind (`cycles[task][kind]`).
    pub cycles: Vec<Vec<f64>>,
    /// Expected executions per request.
    pub visits: Vec<f64>,
    /// The kind each task runs on.
    pub kind_of: Vec<TbuKindId>,
    /// Expected cycles per request on its kind: `visits * cycles`.
    pub demand: Vec<f64>,
}

/// Every task whose largest working set exceeds the machine's memory and scratchpads together:
/// such a task cannot run at all.
pub(super) fn check_fit(
    workflow: &Workflow,
    tasks: &[BlockId],
    spans: Option<&SourceMap>,
    machine: &Machine,
    cost: &CostModel,
) -> Result<(), Vec<CompileError>> {
    let capacity = machine.spec.die.memory_capacity_gib * (1u64 << 30) as f64 * machine.dies.len() as f64
        + machine.tbus.iter().map(|t| machine.kinds[t.kind].scratchpad_bytes() as f64).sum::<f64>();
    let errors: Vec<CompileError> = tasks
        .iter()
        .filter_map(|&b| {
            let ws = cost.max_working_set(workflow.blocks[b].task().expect("a task"));
            (ws > capacity).then(|| CompileError::DoesNotFit {
                name: workflow.blocks[b].name.clone(),
                needed: human_bytes(ws),
                available: human_bytes(capacity),
                hardware: machine.name().to_owned(),
                span: spans.and_then(|s| s.blocks.get(b)).map(|&s| s.into()),
            })
        })
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

pub(crate) fn human_bytes(b: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// Each task's expected cycles on every kind, its kind, and its demand. An LLM block's execution
/// costs its share of the steps of a batch of its design size (`memory`).
pub(super) fn estimate(
    workflow: &Workflow,
    analysis: &Analysis,
    tasks: &[BlockId],
    machine: &Machine,
    cost: &CostModel,
    memory: &MemoryReport,
) -> Demand {
    let cycles: Vec<Vec<f64>> = tasks
        .iter()
        .map(|&b| {
            let task = workflow.blocks[b].task().expect("a task");
            let batch = memory.batch_of(b);
            machine.kinds.indices().map(|k| cost.expected_share(task, k, 1, batch, &Ring::single())).collect()
        })
        .collect();
    let visits: Vec<f64> = tasks.iter().map(|&b| analysis.blocks[b].visits).collect();
    let kind_of = choose_kinds(&cycles, &visits, &machine.kind_counts());
    let demand: Vec<f64> = (0..tasks.len()).map(|t| visits[t] * cycles[t][kind_of[t].index()]).collect();
    Demand { cycles, visits, kind_of, demand }
}

/// The kind each task runs on: longest processing time first (by its demand on its slowest
/// kind), each to the kind whose pool load per TBU stays lowest with it (ties: the first kind).
/// Kinds without TBUs are never chosen.
fn choose_kinds(
    cycles: &[Vec<f64>],
    visits: &[f64],
    kind_counts: &IndexVec<TbuKindId, u32>,
) -> Vec<TbuKindId> {
    let mut kind_of = vec![TbuKindId(0); cycles.len()];
    let mut by_size: Vec<usize> = (0..cycles.len()).collect();
    let heaviest = |t: usize| cycles[t].iter().fold(0.0f64, |a, &c| a.max(c)) * visits[t];
    by_size.sort_by(|&a, &b| heaviest(b).total_cmp(&heaviest(a)).then(a.cmp(&b)));
    let mut pool = IndexVec::<TbuKindId, f64>::from_elem(0.0, kind_counts.len());
    for t in by_size {
        let k = kind_counts
            .indices()
            .filter(|&k| kind_counts[k] > 0)
            .min_by(|&a, &b| {
                let la = (pool[a] + visits[t] * cycles[t][a.index()]) / f64::from(kind_counts[a]);
                let lb = (pool[b] + visits[t] * cycles[t][b.index()]) / f64::from(kind_counts[b]);
                la.total_cmp(&lb).then(a.cmp(&b))
            })
            .expect("a validated machine has TBUs");
        pool[k] += visits[t] * cycles[t][k.index()];
        kind_of[t] = k;
    }
    kind_of
}

#[cfg(test)]
mod tests {
    use octopus_owg::NoFiles;

    use super::*;

    #[test]
    fn kinds_go_largest_first_to_the_least_loaded_pool() {
        // Four TBUs of kind 0, one of kind 1. Both tasks weigh 100 on their slowest kind, so task 0
        // goes first: 100/4 = 25 on kind 0 against 10/1 = 10 on kind 1, so kind 1. Task 1 then
        // weighs 100/4 = 25 on kind 0 against (10 + 50)/1 = 60 on kind 1: kind 0.
        let counts: IndexVec<TbuKindId, u32> = [4, 1].into_iter().collect();
        let cycles = [vec![100.0, 10.0], vec![100.0, 50.0]];
        assert_eq!(choose_kinds(&cycles, &[1.0, 1.0], &counts), vec![TbuKindId(1), TbuKindId(0)]);
        // Largest first, not in task order: on two kinds of one TBU each, the 30-cycle task takes
        // kind 0 (a tie goes to the first kind), then the 10-cycle one kind 1 (10 < 30 + 10).
        let counts: IndexVec<TbuKindId, u32> = [1, 1].into_iter().collect();
        let cycles = [vec![10.0, 10.0], vec![30.0, 30.0]];
        assert_eq!(choose_kinds(&cycles, &[1.0, 1.0], &counts), vec![TbuKindId(1), TbuKindId(0)]);
        // A kind without TBUs is never chosen, however cheap.
        let counts: IndexVec<TbuKindId, u32> = [2, 0].into_iter().collect();
        let cycles = [vec![100.0, 1.0], vec![100.0, 1.0]];
        assert_eq!(choose_kinds(&cycles, &[1.0, 1.0], &counts), vec![TbuKindId(0), TbuKindId(0)]);
    }

    #[test]
    fn a_task_larger_than_all_memory_does_not_fit() {
        // chip: 134.1 GiB of memory and 256 scratchpads of 256 KiB (1/16 GiB): 134.1625 GiB.
        let src = "task big = llm_decode(params = 100G, tokens = 1)\ntask small = reduce(elems = 1K)\nflow big -> small";
        let module = octopus_owg::check(src, "t", &NoFiles).module.expect("valid");
        let machine = Machine::preset("chip").unwrap();
        let cost = CostModel::new(&machine);
        let tasks: Vec<BlockId> = module.workflow.tasks().collect();
        let errors = check_fit(&module.workflow, &tasks, None, &machine, &cost).unwrap_err();
        assert_eq!(errors.len(), 1);
        let CompileError::DoesNotFit { name, available, .. } = &errors[0] else { panic!("{errors:?}") };
        assert_eq!((name.as_str(), available.as_str()), ("big", "134.2 GiB"));
    }

    #[test]
    fn demand_is_visits_times_cycles_on_the_chosen_kind() {
        // A map of constant width 4 around `body`: 4 visits per request.
        let src = "map m(width = 4) join done\ntask body = reduce(elems = 1M)\nflow m -> body -> done";
        let module = octopus_owg::check(src, "t", &NoFiles).module.expect("valid");
        let machine = Machine::preset("chip").unwrap();
        let cost = CostModel::new(&machine);
        let tasks: Vec<BlockId> = module.workflow.tasks().collect();
        let memory = crate::memory::check(&module.workflow, &tasks, None, &machine, &cost).unwrap();
        let d = estimate(&module.workflow, &module.analysis, &tasks, &machine, &cost, &memory);
        assert_eq!(d.visits, vec![4.0]);
        assert_eq!(d.kind_of, vec![TbuKindId(0)]);
        assert_eq!(d.demand, vec![4.0 * d.cycles[0][0]]);
    }
}
