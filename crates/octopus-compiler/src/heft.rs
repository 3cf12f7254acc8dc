//! HEFT, the Heterogeneous Earliest Finish Time list scheduler (Topcuoglu, Hariri and Wu, IEEE
//! TPDS 13(3), 2002): a static schedule of one execution of a task graph.
//!
//! The algorithm works on an abstract [`Problem`] (a tasks x processors table of computation
//! costs, and edges whose communication cost depends on the route class between two processors,
//! zero on the same processor), so the paper's own example and a workflow on a machine run the
//! same code:
//!
//! 1. **Upward rank**: `rank(t) = mean_w(t) + max over successors s (mean_c(t, s) + rank(s))`,
//!    where `mean_w` is the mean computation cost over all processors and `mean_c` the mean
//!    communication cost over all ordered pairs of distinct processors. Ranks are kept exactly,
//!    as integers scaled by `P (P - 1)` (the common denominator of both means), because the paper's
//!    ranks have thirds and its tie between `T3` and `T4` (both 80) flips under floating point.
//! 2. **Order**: decreasing rank, ties to the lower task index.
//! 3. **Placement**: each task in that order on the processor where it finishes earliest, using the
//!    earliest idle gap of that processor long enough for it after its inputs arrive
//!    (insertion-based); ties to the lower processor index.
//!
//! [`for_workflow`] builds the problem of a workflow without control blocks on a [`Machine`]:
//! processors are TBUs, costs the cost model's cycles, and communication the transfer cycles of
//! each flow's mean bytes over the route between the two TBUs' clusters. Machines of more than
//! [`MAX_PROCESSORS`] TBUs are reduced to one representative TBU per cluster and kind.

use std::collections::BTreeMap;

use miette::Diagnostic;
use octopus_hw::{CostModel, Hops, Machine, TbuId};
use octopus_owg::ir::{BlockId, Kernel, Workflow};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Machines with more TBUs than this are scheduled over one representative TBU per cluster and
/// kind: HEFT costs `O(tasks x processors)` placements plus `O(processors^2)` route classes, and
/// the representatives keep every kind and every distance of the machine.
pub const MAX_PROCESSORS: usize = 4096;

/// Why a HEFT problem cannot be built or scheduled.
#[derive(Clone, Debug, PartialEq, Eq, Error, Diagnostic)]
pub enum HeftError {
    /// HEFT schedules a fixed graph; branches, loops, maps and forks make it depend on the run.
    #[error("HEFT needs a workflow without control blocks, and `{workflow}` has {count}: {names}")]
    #[diagnostic(
        code(heft::control_blocks),
        help(
            "HEFT schedules one fixed task graph; a workflow with `branch`, `fork`, `map` or `loop` has a \
             different graph on every run. Use a runtime scheduler (`static`, `greedy`, `reactive`) instead"
        )
    )]
    ControlBlocks {
        /// The workflow.
        workflow: String,
        /// How many control blocks (openers and closers).
        count: usize,
        /// The first few, in backticks.
        names: String,
    },
    /// The problem's tables do not fit together.
    #[error("invalid HEFT problem: {reason}")]
    #[diagnostic(code(heft::invalid_problem))]
    InvalidProblem {
        /// What is wrong.
        reason: String,
    },
    /// The edges form a cycle.
    #[error("the task graph has a cycle through task {task}")]
    #[diagnostic(code(heft::cycle), help("HEFT schedules acyclic graphs"))]
    Cycle {
        /// A task on the cycle.
        task: usize,
    },
}

/// A dependency between two tasks of a [`Problem`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// The producer.
    pub from: usize,
    /// The consumer.
    pub to: usize,
    /// Communication cost when the two run on different processors, per route class
    /// ([`Problem::route_class`]); zero when they run on the same processor.
    pub comm: Vec<u64>,
}

/// A scheduling problem: `tasks` tasks on `procs` processors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    tasks: usize,
    procs: usize,
    /// `cost[t * procs + p]`: computation cost of task `t` on processor `p`.
    cost: Vec<u64>,
    edges: Vec<Edge>,
    /// `class[p * procs + q]`: the route class between two distinct processors.
    class: Vec<u32>,
    classes: usize,
}

impl Problem {
    /// A problem from its tables: `cost[t][p]` the computation cost of task `t` on processor `p`,
    /// `route_class[p][q]` the route class of the path between distinct processors `p` and `q`
    /// (the diagonal is ignored) with `classes` classes, and edges carrying one communication cost
    /// per class.
    ///
    /// Errors: ragged tables, out-of-range tasks or classes, a task whose costs are all zero (its
    /// rank could tie with its successor's), a self-edge or a cycle.
    pub fn new(
        cost: Vec<Vec<u64>>,
        edges: Vec<Edge>,
        route_class: Vec<Vec<u32>>,
        classes: usize,
    ) -> Result<Problem, HeftError> {
        let invalid = |reason: String| HeftError::InvalidProblem { reason };
        let tasks = cost.len();
        let procs = cost.first().map_or(0, Vec::len);
        if tasks == 0 || procs == 0 {
            return Err(invalid("a problem needs at least one task and one processor".into()));
        }
        if let Some(t) = cost.iter().position(|row| row.len() != procs) {
            return Err(invalid(format!("task {t} has {} costs, not {procs}", cost[t].len())));
        }
        if let Some(t) = cost.iter().position(|row| row.iter().all(|&c| c == 0)) {
            return Err(invalid(format!("task {t} costs nothing on every processor")));
        }
        if route_class.len() != procs || route_class.iter().any(|r| r.len() != procs) {
            return Err(invalid(format!("the route classes must be a {procs} x {procs} table")));
        }
        if route_class.iter().flatten().any(|&c| c as usize >= classes) {
            return Err(invalid(format!("a route class is not below {classes}")));
        }
        for e in &edges {
            if e.from >= tasks || e.to >= tasks || e.from == e.to {
                return Err(invalid(format!("edge {} -> {} names no pair of distinct tasks", e.from, e.to)));
            }
            if e.comm.len() != classes {
                return Err(invalid(format!(
                    "edge {} -> {} has {} costs, not {classes}",
                    e.from,
                    e.to,
                    e.comm.len()
                )));
            }
        }
        let p = Problem {
            tasks,
            procs,
            cost: cost.into_iter().flatten().collect(),
            edges,
            class: route_class.into_iter().flatten().collect(),
            classes,
        };
        p.topological_order()?;
        Ok(p)
    }

    /// The paper's setting: every pair of distinct processors alike, each edge with one cost.
    pub fn uniform(cost: Vec<Vec<u64>>, edges: &[(usize, usize, u64)]) -> Result<Problem, HeftError> {
        let procs = cost.first().map_or(0, Vec::len);
        let edges = edges.iter().map(|&(from, to, c)| Edge { from, to, comm: vec![c] }).collect();
        Problem::new(cost, edges, vec![vec![0; procs]; procs], 1)
    }

    /// Tasks.
    pub fn tasks(&self) -> usize {
        self.tasks
    }

    /// Processors.
    pub fn procs(&self) -> usize {
        self.procs
    }

    /// Computation cost of `task` on `proc`.
    pub fn cost(&self, task: usize, proc: usize) -> u64 {
        self.cost[task * self.procs + proc]
    }

    /// The edges.
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    /// The route class between two distinct processors.
    pub fn route_class(&self, p: usize, q: usize) -> usize {
        self.class[p * self.procs + q] as usize
    }

    /// Communication cost of an edge between two processors: zero on the same one.
    pub fn comm(&self, edge: &Edge, p: usize, q: usize) -> u64 {
        if p == q { 0 } else { edge.comm[self.route_class(p, q)] }
    }

    /// Tasks in a topological order (Kahn's, smallest index first), or the cycle error.
    fn topological_order(&self) -> Result<Vec<usize>, HeftError> {
        let mut indeg = vec![0usize; self.tasks];
        let mut succ = vec![Vec::new(); self.tasks];
        for e in &self.edges {
            indeg[e.to] += 1;
            succ[e.from].push(e.to);
        }
        let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<usize>> =
            (0..self.tasks).filter(|&t| indeg[t] == 0).map(std::cmp::Reverse).collect();
        let mut order = Vec::with_capacity(self.tasks);
        while let Some(std::cmp::Reverse(t)) = ready.pop() {
            order.push(t);
            for &s in &succ[t] {
                indeg[s] -= 1;
                if indeg[s] == 0 {
                    ready.push(std::cmp::Reverse(s));
                }
            }
        }
        match (0..self.tasks).find(|&t| indeg[t] > 0) {
            Some(task) => Err(HeftError::Cycle { task }),
            None => Ok(order),
        }
    }

    /// The denominator of [`Schedule::rank_scaled`]: `P (P - 1)`, or 1 with one processor.
    pub fn rank_denominator(&self) -> u128 {
        if self.procs > 1 { (self.procs * (self.procs - 1)) as u128 } else { 1 }
    }

    /// Upward ranks times [`Problem::rank_denominator`], exactly.
    pub fn upward_ranks_scaled(&self) -> Vec<u128> {
        let p = self.procs as u128;
        // Mean computation times P(P-1): the row sum times P-1 (times 1 with one processor).
        let w: Vec<u128> = (0..self.tasks)
            .map(|t| {
                let sum: u128 = (0..self.procs).map(|q| u128::from(self.cost(t, q))).sum();
                if self.procs > 1 { sum * (p - 1) } else { sum }
            })
            .collect();
        // Ordered pairs of distinct processors per route class.
        let mut pairs = vec![0u128; self.classes];
        for a in 0..self.procs {
            for b in 0..self.procs {
                if a != b {
                    pairs[self.route_class(a, b)] += 1;
                }
            }
        }
        // Mean communication times P(P-1): the sum over ordered pairs.
        let c: Vec<u128> = self
            .edges
            .iter()
            .map(|e| e.comm.iter().zip(&pairs).map(|(&x, &n)| u128::from(x) * n).sum())
            .collect();
        let mut out_edges = vec![Vec::new(); self.tasks];
        for (i, e) in self.edges.iter().enumerate() {
            out_edges[e.from].push(i);
        }
        let order = self.topological_order().expect("validated acyclic in `new`");
        let mut rank = vec![0u128; self.tasks];
        for &t in order.iter().rev() {
            let tail = out_edges[t].iter().map(|&i| c[i] + rank[self.edges[i].to]).max().unwrap_or(0);
            rank[t] = w[t] + tail;
        }
        rank
    }

    /// Schedules the problem with HEFT.
    pub fn heft(&self) -> Schedule {
        let rank = self.upward_ranks_scaled();
        let mut order: Vec<usize> = (0..self.tasks).collect();
        order.sort_by(|&a, &b| rank[b].cmp(&rank[a]).then(a.cmp(&b)));
        let mut in_edges = vec![Vec::new(); self.tasks];
        for e in &self.edges {
            in_edges[e.to].push(e);
        }
        let mut placed: Vec<Option<Placement>> = vec![None; self.tasks];
        // Busy intervals of each processor, sorted by start.
        let mut busy: Vec<Vec<(u64, u64)>> = vec![Vec::new(); self.procs];
        for &t in &order {
            let mut best: Option<(u64, u64, usize, usize)> = None; // (finish, start, proc, slot index)
            for (p, slots) in busy.iter().enumerate() {
                let ready = in_edges[t]
                    .iter()
                    .map(|e| {
                        let u = placed[e.from].expect("ranks order every task after its predecessors");
                        u.finish + self.comm(e, u.proc, p)
                    })
                    .max()
                    .unwrap_or(0);
                let w = self.cost(t, p);
                // The earliest gap of length `w` at or after `ready`.
                let (mut start, mut slot) = (ready, slots.len());
                for (i, &(s, f)) in slots.iter().enumerate() {
                    if start.saturating_add(w) <= s {
                        slot = i;
                        break;
                    }
                    start = start.max(f);
                }
                let finish = start + w;
                if best.is_none_or(|b| finish < b.0) {
                    best = Some((finish, start, p, slot));
                }
            }
            let (finish, start, proc, slot) = best.expect("at least one processor");
            busy[proc].insert(slot, (start, finish));
            placed[t] = Some(Placement { proc, start, finish });
        }
        let placements: Vec<Placement> = placed.into_iter().map(|p| p.expect("every task placed")).collect();
        let makespan = placements.iter().map(|p| p.finish).max().unwrap_or(0);
        Schedule { order, rank_scaled: rank, rank_denominator: self.rank_denominator(), placements, makespan }
    }
}

/// Where and when one task runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The processor.
    pub proc: usize,
    /// Start time.
    pub start: u64,
    /// Finish time.
    pub finish: u64,
}

/// A HEFT schedule of a [`Problem`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Tasks in scheduling order: decreasing upward rank, ties to the lower index.
    pub order: Vec<usize>,
    /// Upward ranks times `rank_denominator`, exact.
    pub rank_scaled: Vec<u128>,
    /// The denominator of the ranks.
    pub rank_denominator: u128,
    /// Per task.
    pub placements: Vec<Placement>,
    /// The schedule length: the latest finish.
    pub makespan: u64,
}

impl Schedule {
    /// The upward rank of a task, as a float (for display; compare `rank_scaled` for exactness).
    pub fn rank(&self, task: usize) -> f64 {
        self.rank_scaled[task] as f64 / self.rank_denominator as f64
    }

    /// The tasks each processor runs, in start order.
    pub fn sequences(&self, procs: usize) -> Vec<Vec<usize>> {
        let mut seq = vec![Vec::new(); procs];
        for (t, p) in self.placements.iter().enumerate() {
            seq[p.proc].push(t);
        }
        for s in &mut seq {
            s.sort_by_key(|&t| self.placements[t].start);
        }
        seq
    }
}

/// The HEFT problem of a workflow on a machine, with the maps back to blocks and TBUs.
#[derive(Clone, Debug)]
pub struct WorkflowProblem {
    /// The abstract problem: task `i` is `blocks[i]`, processor `p` is `tbus[p]`.
    pub problem: Problem,
    /// The task blocks, in block order.
    pub blocks: Vec<BlockId>,
    /// The TBUs standing as processors, ascending.
    pub tbus: Vec<TbuId>,
    /// Whether the machine was reduced to one TBU per cluster and kind ([`MAX_PROCESSORS`]).
    pub reduced: bool,
}

/// One task block's place in a [`WorkflowSchedule`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskSlot {
    /// The task block.
    pub block: BlockId,
    /// Its name.
    pub name: String,
    /// The TBU HEFT chose.
    pub tbu: TbuId,
    /// Start, in cycles.
    pub start: u64,
    /// Finish, in cycles.
    pub finish: u64,
    /// Its position in HEFT's order (0 first: highest upward rank).
    pub order: usize,
    /// Its upward rank, in cycles.
    pub rank: f64,
}

/// A static HEFT schedule of one execution of a workflow on a machine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkflowSchedule {
    /// The workflow.
    pub workflow: String,
    /// The machine.
    pub hardware: String,
    /// The schedule length, in cycles.
    pub makespan_cycles: u64,
    /// The schedule length, in seconds.
    pub makespan_s: f64,
    /// Processors HEFT chose from.
    pub processors: usize,
    /// Whether those were one representative TBU per cluster and kind.
    pub reduced: bool,
    /// One entry per task block, in block order.
    pub tasks: Vec<TaskSlot>,
}

impl WorkflowSchedule {
    /// The slot of a task block.
    pub fn slot(&self, block: BlockId) -> Option<&TaskSlot> {
        self.tasks.binary_search_by_key(&block, |t| t.block).ok().map(|i| &self.tasks[i])
    }
}

/// Builds the HEFT problem of a workflow without control blocks on `machine`.
///
/// - Processors: every TBU, or, on machines of more than [`MAX_PROCESSORS`] TBUs, the first TBU of
///   each kind in each cluster.
/// - Computation: a task whose parameters are all constants costs exactly what the simulator
///   charges ([`CostModel::run_cycles`]); otherwise its expected cycles
///   ([`CostModel::expected_cycles`]) rounded, at least 1 (as the simulator's schedulers see it).
/// - Communication: a flow between two task blocks costs [`CostModel::transfer_cycles`] of its mean
///   bytes over the hops between the two TBUs' clusters; one route class per distinct split of
///   hops (on-die, inter-die), so two TBUs of one cluster pay one crossing of its router. A flow of
///   zero bytes costs nothing, as in the simulator.
pub fn for_workflow(
    wf: &Workflow,
    machine: &Machine,
    cost: &CostModel<'_>,
) -> Result<WorkflowProblem, HeftError> {
    let controls: Vec<&str> = wf.blocks.iter().filter(|b| !b.is_task()).map(|b| b.name.as_str()).collect();
    if !controls.is_empty() {
        let mut names: Vec<String> = controls.iter().take(5).map(|n| format!("`{n}`")).collect();
        if controls.len() > 5 {
            names.push("...".into());
        }
        return Err(HeftError::ControlBlocks {
            workflow: wf.name.clone(),
            count: controls.len(),
            names: names.join(", "),
        });
    }
    let reduced = machine.tbus.len() > MAX_PROCESSORS;
    let tbus: Vec<TbuId> = if reduced {
        let mut seen = std::collections::BTreeSet::new();
        machine
            .tbus
            .iter_enumerated()
            .filter(|(_, t)| seen.insert((t.cluster, t.kind)))
            .map(|(id, _)| id)
            .collect()
    } else {
        machine.tbus.indices().collect()
    };
    let blocks: Vec<BlockId> = wf.tasks().collect();
    let index_of: BTreeMap<BlockId, usize> = blocks.iter().enumerate().map(|(i, &b)| (b, i)).collect();
    let costs: Vec<Vec<u64>> = blocks
        .iter()
        .map(|&b| {
            let task = wf.blocks[b].task().expect("task block");
            let constant = task.kernel.params().iter().all(|d| d.is_const());
            tbus.iter()
                .map(|&t| {
                    let kind = machine.tbus[t].kind;
                    if constant {
                        let k: Kernel<f64> = task.kernel.map(|d, _| d.mean());
                        cost.run_cycles(&k, task.dtype, &cost.profile(task), kind, 1)
                    } else {
                        cost.expected_cycles(task, kind, 1).round().max(1.0) as u64
                    }
                })
                .collect()
        })
        .collect();
    // Route classes: distinct hop splits between the processors' clusters.
    let mut class_of: BTreeMap<(u32, u32), u32> = BTreeMap::new();
    let mut hops_of: Vec<Hops> = Vec::new();
    let n = tbus.len();
    let mut route = vec![vec![0u32; n]; n];
    for (i, &a) in tbus.iter().enumerate() {
        for (j, &b) in tbus.iter().enumerate() {
            let h = machine.route_hops(machine.cluster_of(a), machine.cluster_of(b));
            route[i][j] = *class_of.entry((h.on_die, h.inter_die)).or_insert_with(|| {
                hops_of.push(h);
                (hops_of.len() - 1) as u32
            });
        }
    }
    let edges = wf
        .flows
        .iter()
        .map(|f| {
            let bytes = f.bytes.mean().max(0.0).round() as u64;
            let comm = hops_of
                .iter()
                .map(|&h| if bytes == 0 { 0 } else { cost.transfer_cycles(bytes, h) })
                .collect();
            Edge { from: index_of[&f.from], to: index_of[&f.to], comm }
        })
        .collect();
    let problem = Problem::new(costs, edges, route, hops_of.len())?;
    Ok(WorkflowProblem { problem, blocks, tbus, reduced })
}

/// HEFT's static schedule of one execution of a workflow without control blocks on `machine`.
pub fn schedule_workflow(wf: &Workflow, machine: &Machine) -> Result<WorkflowSchedule, HeftError> {
    let cost = CostModel::new(machine);
    let wp = for_workflow(wf, machine, &cost)?;
    let s = wp.problem.heft();
    let mut position = vec![0; s.order.len()];
    for (i, &t) in s.order.iter().enumerate() {
        position[t] = i;
    }
    let tasks = wp
        .blocks
        .iter()
        .enumerate()
        .map(|(i, &b)| TaskSlot {
            block: b,
            name: wf.blocks[b].name.clone(),
            tbu: wp.tbus[s.placements[i].proc],
            start: s.placements[i].start,
            finish: s.placements[i].finish,
            order: position[i],
            rank: s.rank(i),
        })
        .collect();
    Ok(WorkflowSchedule {
        workflow: wf.name.clone(),
        hardware: machine.name().to_owned(),
        makespan_cycles: s.makespan,
        makespan_s: s.makespan as f64 / (machine.spec.clock_ghz * 1e9),
        processors: wp.tbus.len(),
        reduced: wp.reduced,
        tasks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insertion_fills_an_earlier_gap() {
        // A -> B -> C ping-pong between two processors (communication 10 each way) leaves processor
        // 0 idle from 1 to 22; D, independent and ranked last, goes into that gap.
        let p = Problem::uniform(
            vec![vec![1, 100], vec![100, 1], vec![1, 100], vec![5, 50]],
            &[(0, 1, 10), (1, 2, 10)],
        )
        .unwrap();
        let s = p.heft();
        assert_eq!(s.order, vec![0, 1, 2, 3]);
        // Ranks with two processors: means of (1, 100) are 50.5, so the denominator 2 keeps them whole.
        assert_eq!(s.rank_denominator, 2);
        assert_eq!(s.rank_scaled, vec![343, 222, 101, 55]);
        let at = |t: usize| (s.placements[t].proc, s.placements[t].start, s.placements[t].finish);
        assert_eq!([at(0), at(1), at(2), at(3)], [(0, 0, 1), (1, 11, 12), (0, 22, 23), (0, 1, 6)]);
        assert_eq!(s.makespan, 23);
        assert_eq!(s.sequences(2), vec![vec![0, 3, 2], vec![1]]);
    }

    #[test]
    fn rejects_bad_tables_and_cycles() {
        assert!(matches!(
            Problem::uniform(vec![vec![1, 2], vec![1]], &[]),
            Err(HeftError::InvalidProblem { .. })
        ));
        assert!(matches!(Problem::uniform(vec![vec![0, 0]], &[]), Err(HeftError::InvalidProblem { .. })));
        assert!(matches!(
            Problem::uniform(vec![vec![1], vec![1]], &[(0, 1, 1), (1, 0, 1)]),
            Err(HeftError::Cycle { .. })
        ));
    }
}
