//! Traffic: each flow's expected executions and bytes per request and the weight locality
//! optimises, the graph's adjacency, and the order tasks are laid out in.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use octopus_owg::analysis::Analysis;
use octopus_owg::index::IndexVec;
use octopus_owg::ir::{BlockId, Control, FlowId, Workflow};

use super::{Key, Tasks};
use crate::plan::Strategy;

/// What each flow carries per request, and who talks to whom.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Traffic {
    /// Expected bytes per request.
    pub bytes: IndexVec<FlowId, f64>,
    /// What locality optimises: bytes, plus one per expected execution so that pure dependencies
    /// still pull blocks together.
    pub weight: IndexVec<FlowId, f64>,
    /// Each block's neighbours over flows in either direction, with the flow.
    pub adj: IndexVec<BlockId, Vec<(BlockId, FlowId)>>,
}

impl Traffic {
    pub(super) fn new(workflow: &Workflow, analysis: &Analysis) -> Traffic {
        // Expected executions: a branch's flow runs with its probability, a flow into a map's or a
        // loop's region once per copy or iteration, any other flow once per run of its producer.
        let freq: IndexVec<FlowId, f64> = workflow
            .flows
            .iter()
            .map(|f| {
                let from = analysis.blocks[f.from].visits;
                match (f.probability, workflow.blocks[f.from].control()) {
                    (Some(p), _) => from * p,
                    (None, Some(Control::Map { join, .. } | Control::Loop { join, .. })) if *join != f.to => {
                        analysis.blocks[f.to].visits
                    }
                    _ => from,
                }
            })
            .collect();
        let bytes: IndexVec<FlowId, f64> =
            workflow.flows.iter_enumerated().map(|(id, f)| freq[id] * f.bytes.mean()).collect();
        let weight: IndexVec<FlowId, f64> = bytes.iter().zip(freq.iter()).map(|(b, f)| b + f).collect();
        let mut adj =
            IndexVec::<BlockId, Vec<(BlockId, FlowId)>>::from_elem(Vec::new(), workflow.blocks.len());
        for (id, f) in workflow.flows.iter_enumerated() {
            adj[f.from].push((f.to, id));
            adj[f.to].push((f.from, id));
        }
        Traffic { bytes, weight, adj }
    }
}

/// The task numbers in the order they are laid out: by greedy growth for the compiler's own
/// strategy, in declaration order for the baselines.
pub(super) fn task_order(
    workflow: &Workflow,
    analysis: &Analysis,
    traffic: &Traffic,
    tasks: &Tasks,
    strategy: Strategy,
) -> Vec<usize> {
    let order: Vec<BlockId> = match strategy {
        Strategy::Locality => locality_order(workflow, analysis, &traffic.adj, &traffic.weight),
        Strategy::RowMajor | Strategy::Random { .. } => workflow.blocks.indices().collect(),
    };
    order.iter().filter_map(|&b| tasks.index[b]).collect()
}

/// Greedy graph growth: start at the first entry; repeatedly take the unordered block with the
/// heaviest flows to the blocks already ordered (ties: earlier in topological order). A new
/// component starts at its first block in topological order.
fn locality_order(
    workflow: &Workflow,
    analysis: &Analysis,
    adj: &IndexVec<BlockId, Vec<(BlockId, FlowId)>>,
    weight: &IndexVec<FlowId, f64>,
) -> Vec<BlockId> {
    let n = workflow.blocks.len();
    let mut rank = IndexVec::<BlockId, usize>::from_elem(0, n);
    for (i, &b) in analysis.topo.iter().enumerate() {
        rank[b] = i;
    }
    let mut done = IndexVec::<BlockId, bool>::from_elem(false, n);
    let mut gain = IndexVec::<BlockId, f64>::from_elem(0.0, n);
    let mut heap: BinaryHeap<(Key, Reverse<usize>, BlockId)> = BinaryHeap::new();
    let mut order = Vec::with_capacity(n);
    let mut seed = analysis.topo.iter();
    while order.len() < n {
        let mut pick = None;
        while let Some((Key(g), _, b)) = heap.pop() {
            if !done[b] && g == gain[b] {
                pick = Some(b);
                break;
            }
        }
        let b = match pick {
            Some(b) => b,
            None => *seed.by_ref().find(|&&b| !done[b]).expect("fewer ordered blocks than blocks"),
        };
        done[b] = true;
        order.push(b);
        for &(other, f) in &adj[b] {
            if !done[other] {
                gain[other] += weight[f];
                heap.push((Key(gain[other]), Reverse(rank[other]), other));
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use octopus_owg::{Module, NoFiles};

    use super::*;

    fn module(src: &str) -> Module {
        octopus_owg::check(src, "t", &NoFiles).module.expect("valid")
    }

    fn by_name(m: &Module, from: &str, to: &str) -> FlowId {
        let (f, t) = (m.workflow.block_by_name(from).unwrap(), m.workflow.block_by_name(to).unwrap());
        m.workflow.flows.iter_enumerated().find(|(_, fl)| fl.from == f && fl.to == t).unwrap().0
    }

    #[test]
    fn flows_carry_their_expected_executions_and_bytes() {
        let m = module(
            "task a = reduce(elems = 1K)\n\
             branch pick join picked\n\
             task b = reduce(elems = 1K)\n\
             task c = reduce(elems = 1K)\n\
             map copies(width = 4) join copied\n\
             task body = reduce(elems = 1K)\n\
             flow a -> pick [bytes = 100 B]\n\
             flow pick -> b [p = 0.25, bytes = 8 B]\n\
             flow pick -> c [p = 0.75]\n\
             flow b -> picked\n\
             flow c -> picked\n\
             flow picked -> copies\n\
             flow copies -> body\n\
             flow body -> copied [bytes = 2 B]",
        );
        let t = Traffic::new(&m.workflow, &m.analysis);
        // (bytes, weight = bytes + executions) per request.
        let expect = [
            (("a", "pick"), 100.0, 101.0),
            (("pick", "b"), 0.25 * 8.0, 0.25 * 8.0 + 0.25),
            (("pick", "c"), 0.0, 0.75),
            (("b", "picked"), 0.0, 0.25),
            // Into the map's region: once per copy.
            (("copies", "body"), 0.0, 4.0),
            (("body", "copied"), 4.0 * 2.0, 4.0 * 2.0 + 4.0),
        ];
        for ((from, to), bytes, weight) in expect {
            let f = by_name(&m, from, to);
            assert_eq!((t.bytes[f], t.weight[f]), (bytes, weight), "{from} -> {to}");
        }
        let pick = m.workflow.block_by_name("pick").unwrap();
        assert_eq!(t.adj[pick].len(), 3, "`a` before it, `b` and `c` after it");
    }

    #[test]
    fn locality_order_grows_along_the_heaviest_flows() {
        // From `a`, the flow to `c` (1 KiB) outweighs the one to `b` (1 B): `c` comes next; then
        // `b` (gain 2) before `d` (gain 1 from `c`), and `d` last.
        let m = module(
            "task a = reduce(elems = 1K)\ntask b = reduce(elems = 1K)\n\
             task c = reduce(elems = 1K)\ntask d = reduce(elems = 1K)\n\
             flow a -> b [bytes = 1 B]\nflow a -> c [bytes = 1 KiB]\nflow b -> d\nflow c -> d",
        );
        let t = Traffic::new(&m.workflow, &m.analysis);
        let tasks = Tasks::new(&m.workflow);
        let order = task_order(&m.workflow, &m.analysis, &t, &tasks, Strategy::Locality);
        assert_eq!(order, vec![0, 2, 1, 3]);
        let declared = task_order(&m.workflow, &m.analysis, &t, &tasks, Strategy::RowMajor);
        assert_eq!(declared, vec![0, 1, 2, 3]);
    }
}
