//! The compiler proper: home TBU counts, locality-aware placement, control blocks, report.
//! The rules, and why, are in `docs/compiler.md`.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use octopus_hw::{ClusterId, CostModel, Machine, Ring, TbuId, TbuKindId};
use octopus_owg::analysis::{Analysis, Class};
use octopus_owg::index::{Idx, IndexVec};
use octopus_owg::ir::{BlockId, Control, FlowId, SourceMap, Workflow};
use rand::SeedableRng;
use rand::seq::SliceRandom;

use crate::Options;
use crate::curve::gilbert;
use crate::error::CompileError;
use crate::plan::{
    ClusterLoad, ControlPlan, FlowPlan, PLAN_VERSION, Plan, Report, Strategy, TaskLoad, TaskPlan,
};

/// Swap partners tried after each unit in the placement order, per improvement pass.
const SWAP_WINDOW: usize = 6;
/// Improvement passes over the placement order.
const SWAP_PASSES: usize = 2;

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

/// Where a block is: a distribution over mesh columns and rows, each `(coordinate, probability)`
/// sorted by coordinate. A task is uniformly on its homes; a control block is at one point.
#[derive(Clone, Debug, Default)]
struct Footprint {
    xs: Vec<(u32, f64)>,
    ys: Vec<(u32, f64)>,
}

impl Footprint {
    fn point(x: u32, y: u32) -> Footprint {
        Footprint { xs: vec![(x, 1.0)], ys: vec![(y, 1.0)] }
    }

    fn of(machine: &Machine, tbus: &[TbuId]) -> Footprint {
        let w = 1.0 / tbus.len() as f64;
        let collect = |coord: &dyn Fn(ClusterId) -> u32| {
            let mut v: Vec<u32> = tbus.iter().map(|&t| coord(machine.cluster_of(t))).collect();
            v.sort_unstable();
            let mut out: Vec<(u32, f64)> = Vec::new();
            for c in v {
                match out.last_mut() {
                    Some(last) if last.0 == c => last.1 += w,
                    _ => out.push((c, w)),
                }
            }
            out
        };
        Footprint { xs: collect(&|c| machine.clusters[c].x), ys: collect(&|c| machine.clusters[c].y) }
    }

    /// Expected XY hops between a random point of `self` and one of `other` (independent).
    fn mean_hops(&self, other: &Footprint) -> f64 {
        mean_abs_diff(&self.xs, &other.xs) + mean_abs_diff(&self.ys, &other.ys)
    }
}

/// `E|X - Y|` for independent discrete `X ~ p`, `Y ~ q`: the integral of `F(1-G) + G(1-F)`.
fn mean_abs_diff(p: &[(u32, f64)], q: &[(u32, f64)]) -> f64 {
    if let ([a], [b]) = (p, q) {
        return f64::from(a.0.abs_diff(b.0));
    }
    let (mut i, mut j, mut fp, mut fq, mut acc) = (0, 0, 0.0, 0.0, 0.0);
    let mut prev: Option<u32> = None;
    while i < p.len() || j < q.len() {
        let t = match (p.get(i), q.get(j)) {
            (Some(a), Some(b)) => a.0.min(b.0),
            (Some(a), None) => a.0,
            (None, Some(b)) => b.0,
            (None, None) => unreachable!("loop condition"),
        };
        if let Some(pr) = prev {
            acc += f64::from(t - pr) * (fp * (1.0 - fq) + fq * (1.0 - fp));
        }
        while i < p.len() && p[i].0 == t {
            fp += p[i].1;
            i += 1;
        }
        while j < q.len() && q[j].0 == t {
            fq += q[j].1;
            j += 1;
        }
        prev = Some(t);
    }
    acc
}

/// The weighted median of `(coordinate, weight)` pairs; `None` when all weights are zero.
fn weighted_median(mut v: Vec<(u32, f64)>) -> Option<u32> {
    let total: f64 = v.iter().map(|p| p.1).sum();
    if total <= 0.0 {
        return None;
    }
    v.sort_by_key(|p| p.0);
    let mut acc = 0.0;
    for (c, w) in &v {
        acc += w;
        if acc >= total / 2.0 {
            return Some(*c);
        }
    }
    v.last().map(|p| p.0)
}

/// Tasks that move as one: a task with its home TBUs, or a group of tasks time-sharing one TBU.
struct Unit {
    kind: TbuKindId,
    tasks: Vec<usize>,
    tbus: Vec<TbuId>,
    flows: Vec<FlowId>,
}

/// Highest-averages (D'Hondt) apportionment of `n >= demands.len()` seats: one each, then every
/// further seat to the largest `demand / seats`; equal quotients go to fewer seats, then the first.
fn apportion(demands: &[f64], n: usize) -> Vec<u32> {
    let mut seats = vec![1u32; demands.len()];
    let mut heap: BinaryHeap<(Key, Reverse<u32>, Reverse<usize>)> =
        demands.iter().enumerate().map(|(i, &d)| (Key(d), Reverse(1), Reverse(i))).collect();
    for _ in demands.len()..n {
        let (_, _, Reverse(i)) = heap.pop().expect("non-empty: n > 0 implies a task");
        seats[i] += 1;
        heap.push((Key(demands[i] / f64::from(seats[i])), Reverse(seats[i]), Reverse(i)));
    }
    seats
}

/// Splits `tasks` (in placement order) into `groups` contiguous runs of about equal demand, each
/// non-empty (`tasks.len() > groups`).
fn partition(tasks: &[usize], demand: &[f64], groups: usize) -> Vec<Vec<usize>> {
    let total: f64 = tasks.iter().map(|&t| demand[t]).sum();
    let target = total / groups as f64;
    let mut out = vec![Vec::new(); groups];
    let (mut g, mut cum) = (0, 0.0);
    for (j, &t) in tasks.iter().enumerate() {
        out[g].push(t);
        cum += demand[t];
        let (left_tasks, left_groups) = (tasks.len() - j - 1, groups - g - 1);
        if left_groups > 0
            && (left_tasks == left_groups || (cum >= target * (g + 1) as f64 && left_tasks > 0))
        {
            g += 1;
        }
    }
    out
}

/// The most homes of `homes` in any one die.
fn homes_per_die(machine: &Machine, homes: &[TbuId]) -> u64 {
    let mut count = vec![0u64; machine.dies.len()];
    for &h in homes {
        count[machine.clusters[machine.tbus[h].cluster].die.index()] += 1;
    }
    count.into_iter().max().unwrap_or(0)
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

pub(crate) fn compile(
    workflow: &Workflow,
    analysis: &Analysis,
    spans: Option<&SourceMap>,
    machine: &Machine,
    options: &Options,
) -> Result<Plan, Vec<CompileError>> {
    let cost = CostModel::new(machine);
    let tasks: Vec<BlockId> = workflow.tasks().collect();
    let mut task_index = IndexVec::<BlockId, Option<usize>>::from_elem(None, workflow.blocks.len());
    for (i, &b) in tasks.iter().enumerate() {
        task_index[b] = Some(i);
    }

    // A task that cannot fit anywhere cannot run at all.
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
    if !errors.is_empty() {
        return Err(errors);
    }
    let memory = crate::memory::check(workflow, &tasks, spans, machine, &cost)?;

    // Expected cycles of each task on each kind, and the kind each runs on: longest-processing-time
    // first, each to the kind pool whose load per TBU stays lowest.
    let kind_counts = machine.kind_counts();
    let cycles: Vec<Vec<f64>> = tasks
        .iter()
        .map(|&b| {
            let task = workflow.blocks[b].task().expect("a task");
            // An LLM block's execution takes its share of steps in a batch of its design size.
            let batch = memory.batch_of(b);
            machine.kinds.indices().map(|k| cost.expected_share(task, k, 1, batch, &Ring::single())).collect()
        })
        .collect();
    let visits: Vec<f64> = tasks.iter().map(|&b| analysis.blocks[b].visits).collect();
    let mut kind_of = vec![TbuKindId(0); tasks.len()];
    {
        let mut by_size: Vec<usize> = (0..tasks.len()).collect();
        let heaviest = |t: usize| cycles[t].iter().fold(0.0f64, |a, &c| a.max(c)) * visits[t];
        by_size.sort_by(|&a, &b| heaviest(b).total_cmp(&heaviest(a)).then(a.cmp(&b)));
        let mut pool = IndexVec::<TbuKindId, f64>::from_elem(0.0, machine.kinds.len());
        for t in by_size {
            let k = machine
                .kinds
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
    }
    let demand: Vec<f64> = (0..tasks.len()).map(|t| visits[t] * cycles[t][kind_of[t].index()]).collect();

    // Flows: expected executions and bytes per request; the weight locality optimises.
    let flow_freq: IndexVec<FlowId, f64> = workflow
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
    let flow_bytes: IndexVec<FlowId, f64> =
        workflow.flows.iter_enumerated().map(|(id, f)| flow_freq[id] * f.bytes.mean()).collect();
    // Each execution counts as at least one byte, so pure dependencies still pull blocks together.
    let weight: IndexVec<FlowId, f64> = flow_bytes.iter().zip(flow_freq.iter()).map(|(b, f)| b + f).collect();
    let mut adj = IndexVec::<BlockId, Vec<(BlockId, FlowId)>>::from_elem(Vec::new(), workflow.blocks.len());
    for (id, f) in workflow.flows.iter_enumerated() {
        adj[f.from].push((f.to, id));
        adj[f.to].push((f.from, id));
    }

    // The order tasks are laid out in.
    let order: Vec<BlockId> = match options.strategy {
        Strategy::Locality => locality_order(workflow, analysis, &adj, &weight),
        Strategy::RowMajor | Strategy::Random { .. } => workflow.blocks.indices().collect(),
    };
    let task_order: Vec<usize> = order.iter().filter_map(|&b| task_index[b]).collect();

    // Units per kind: apportioned home counts, or time-sharing groups when tasks outnumber TBUs.
    let mut units: Vec<(Unit, u32)> = Vec::new();
    let mut shared = vec![false; tasks.len()];
    for kind in machine.kinds.indices() {
        let mine: Vec<usize> = task_order.iter().copied().filter(|&t| kind_of[t] == kind).collect();
        let n = kind_counts[kind] as usize;
        if mine.is_empty() {
            continue;
        }
        let unit = |tasks: Vec<usize>| Unit { kind, tasks, tbus: Vec::new(), flows: Vec::new() };
        if mine.len() <= n {
            let d: Vec<f64> = mine.iter().map(|&t| demand[t]).collect();
            for (t, seats) in mine.iter().zip(apportion(&d, n)) {
                units.push((unit(vec![*t]), seats));
            }
        } else {
            for group in partition(&mine, &demand, n) {
                if group.len() > 1 {
                    group.iter().for_each(|&t| shared[t] = true);
                }
                units.push((unit(group), 1));
            }
        }
    }
    // Restore the placement order across kinds (units were built kind by kind).
    let mut rank = vec![0usize; tasks.len()];
    for (i, &t) in task_order.iter().enumerate() {
        rank[t] = i;
    }
    units.sort_by_key(|u| rank[u.0.tasks[0]]);

    // TBU sequences per kind, consumed in order.
    let cluster_seq: Vec<ClusterId> = match options.strategy {
        Strategy::Locality => {
            let (w, h) = machine.mesh_size();
            gilbert(w, h).into_iter().map(|(x, y)| machine.cluster_at(x, y).expect("in mesh")).collect()
        }
        _ => machine.clusters.indices().collect(),
    };
    let mut seqs = tbu_sequences(machine, &cluster_seq);
    if let Strategy::Random { seed } = options.strategy {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
        for s in seqs.iter_mut() {
            s.shuffle(&mut rng);
        }
    }
    let seats: Vec<u32> = units.iter().map(|u| u.1).collect();
    let mut units: Vec<Unit> = units.into_iter().map(|u| u.0).collect();
    let mut unit_of = vec![0usize; tasks.len()];
    for (i, u) in units.iter_mut().enumerate() {
        let mut flows: Vec<FlowId> = Vec::new();
        for &t in &u.tasks {
            unit_of[t] = i;
            flows.extend(adj[tasks[t]].iter().map(|a| a.1));
        }
        flows.sort_unstable();
        flows.dedup();
        u.flows = flows;
    }

    let place_cbs = |cb_at: &mut IndexVec<BlockId, Option<Footprint>>, fps: &[Footprint]| {
        for &b in &analysis.topo {
            if workflow.blocks[b].is_task() {
                continue;
            }
            let (mut xs, mut ys) = (Vec::new(), Vec::new());
            for &(other, f) in &adj[b] {
                let w = weight[f];
                let fp = match task_index[other] {
                    Some(t) => &fps[unit_of[t]],
                    None => match &cb_at[other] {
                        Some(fp) => fp,
                        None => continue,
                    },
                };
                xs.extend(fp.xs.iter().map(|&(c, p)| (c, p * w)));
                ys.extend(fp.ys.iter().map(|&(c, p)| (c, p * w)));
            }
            let (w, h) = machine.mesh_size();
            cb_at[b] = Some(Footprint::point(
                weighted_median(xs).unwrap_or(w / 2),
                weighted_median(ys).unwrap_or(h / 2),
            ));
        }
    };
    fn position<'a>(
        b: BlockId,
        fps: &'a [Footprint],
        cb_at: &'a IndexVec<BlockId, Option<Footprint>>,
        task_index: &IndexVec<BlockId, Option<usize>>,
        unit_of: &[usize],
    ) -> &'a Footprint {
        match task_index[b] {
            Some(t) => &fps[unit_of[t]],
            None => cb_at[b].as_ref().expect("every control block is placed"),
        }
    }
    let flow_cost = |f: FlowId, fps: &[Footprint], cb_at: &IndexVec<BlockId, Option<Footprint>>| {
        let fl = &workflow.flows[f];
        let at = |b| position(b, fps, cb_at, &task_index, &unit_of);
        weight[f] * at(fl.from).mean_hops(at(fl.to))
    };

    // One layout: TBUs to units from the kind sequences in `order`, control blocks on CBUs, and
    // its cost (weighted hops).
    let layout = |seqs: &IndexVec<TbuKindId, Vec<TbuId>>, order: &[usize], interleave: bool| {
        let mut tbus: Vec<Vec<TbuId>> = vec![Vec::new(); units.len()];
        for kind in machine.kinds.indices() {
            let mine: Vec<usize> = order.iter().copied().filter(|&u| units[u].kind == kind).collect();
            let total: usize = mine.iter().map(|&u| seats[u] as usize).sum();
            if interleave {
                // Stride order: each unit's TBUs spread evenly along the sequence, so units that
                // share much traffic share a region instead of sitting side by side.
                let mut heap: BinaryHeap<Reverse<(Key, usize)>> =
                    mine.iter().map(|&u| Reverse((Key(0.5 / f64::from(seats[u])), u))).collect();
                for &tbu in &seqs[kind][..total] {
                    let Reverse((_, u)) = heap.pop().expect("seats fill the sequence");
                    tbus[u].push(tbu);
                    let done = tbus[u].len() as f64;
                    if tbus[u].len() < seats[u] as usize {
                        heap.push(Reverse((Key((done + 0.5) / f64::from(seats[u])), u)));
                    }
                }
            } else {
                let mut at = 0;
                for &u in &mine {
                    tbus[u] = seqs[kind][at..at + seats[u] as usize].to_vec();
                    at += seats[u] as usize;
                }
            }
        }
        let fps: Vec<Footprint> = tbus.iter().map(|t| Footprint::of(machine, t)).collect();
        let mut cb_at: IndexVec<BlockId, Option<Footprint>> =
            IndexVec::from_elem(None, workflow.blocks.len());
        place_cbs(&mut cb_at, &fps);
        place_cbs(&mut cb_at, &fps);
        let cost: f64 = workflow.flows.indices().map(|f| flow_cost(f, &fps, &cb_at)).sum();
        (tbus, fps, cb_at, cost)
    };
    // Swaps of equal units (same kind and TBU count, a few apart in placement order) while they
    // lower the weighted hops.
    let improve = |tbus: &mut Vec<Vec<TbuId>>,
                   fps: &mut Vec<Footprint>,
                   cb_at: &mut IndexVec<BlockId, Option<Footprint>>| {
        let mut affected: Vec<FlowId> = Vec::new();
        for _ in 0..SWAP_PASSES {
            for i in 0..units.len() {
                for j in i + 1..(i + 1 + SWAP_WINDOW).min(units.len()) {
                    if units[i].kind != units[j].kind || tbus[i].len() != tbus[j].len() {
                        continue;
                    }
                    affected.clear();
                    affected.extend(&units[i].flows);
                    affected.extend(&units[j].flows);
                    affected.sort_unstable();
                    affected.dedup();
                    let before: f64 = affected.iter().map(|&f| flow_cost(f, fps, cb_at)).sum();
                    fps.swap(i, j);
                    let after: f64 = affected.iter().map(|&f| flow_cost(f, fps, cb_at)).sum();
                    if after < before * (1.0 - 1e-9) {
                        tbus.swap(i, j);
                    } else {
                        fps.swap(i, j);
                    }
                }
            }
        }
        place_cbs(cb_at, fps);
    };
    // The compiler's strategy is a multi-start: runs and stride interleaving along the Hilbert curve
    // and along rows, in locality order, and the row-major baseline's own layout. It keeps the
    // cheapest start and improves it by swaps, so it is never worse than the row-major baseline.
    let in_order: Vec<usize> = (0..units.len()).collect();
    let (tbus, fps, cb_at) = if options.strategy == Strategy::Locality {
        let rows = tbu_sequences(machine, &machine.clusters.indices().collect::<Vec<_>>());
        let mut declared = in_order.clone();
        declared.sort_by_key(|&u| units[u].tasks.iter().map(|&t| tasks[t]).min());
        let candidates = [
            layout(&seqs, &in_order, false),
            layout(&seqs, &in_order, true),
            layout(&rows, &in_order, false),
            layout(&rows, &in_order, true),
            layout(&rows, &declared, false),
        ];
        let (mut tbus, mut fps, mut cb_at, _) =
            candidates.into_iter().min_by(|a, b| a.3.total_cmp(&b.3)).expect("five candidates");
        improve(&mut tbus, &mut fps, &mut cb_at);
        (tbus, fps, cb_at)
    } else {
        let (tbus, fps, cb_at, _) = layout(&seqs, &in_order, false);
        (tbus, fps, cb_at)
    };
    for (u, t) in units.iter_mut().zip(tbus) {
        u.tbus = t;
    }

    // The plan.
    let anchor = |u: &Unit, fp: &Footprint| -> ClusterId {
        let mx = weighted_median(fp.xs.clone()).expect("non-empty");
        let my = weighted_median(fp.ys.clone()).expect("non-empty");
        let mut clusters: Vec<ClusterId> = u.tbus.iter().map(|&t| machine.cluster_of(t)).collect();
        clusters.sort_unstable();
        clusters.dedup();
        *clusters
            .iter()
            .min_by_key(|&&c| (machine.clusters[c].x.abs_diff(mx) + machine.clusters[c].y.abs_diff(my), c))
            .expect("a unit has TBUs")
    };
    let anchors: Vec<ClusterId> = units.iter().zip(&fps).map(|(u, fp)| anchor(u, fp)).collect();
    let cluster_of_block = |b: BlockId| match task_index[b] {
        Some(t) => anchors[unit_of[t]],
        None => {
            let fp = cb_at[b].as_ref().expect("placed");
            machine.cluster_at(fp.xs[0].0, fp.ys[0].0).expect("in mesh")
        }
    };

    // The blocks of a batch group (LLM blocks of one model and phase) share one serving instance:
    // each gets the union of the group's homes.
    let groups = octopus_hw::batch_groups(workflow);
    let group_homes = |b: BlockId| -> Vec<TbuId> {
        let g = groups[b.index()];
        let mut homes: Vec<TbuId> = tasks
            .iter()
            .enumerate()
            .filter(|&(_, &x)| groups[x.index()] == g)
            .flat_map(|(t, _)| units[unit_of[t]].tbus.iter().copied())
            .collect();
        homes.sort_unstable();
        homes.dedup();
        homes
    };
    let task_plans: Vec<TaskPlan> = tasks
        .iter()
        .enumerate()
        .map(|(t, &b)| {
            let homes = group_homes(b);
            let task = workflow.blocks[b].task().expect("a task");
            let fit = cost.shards_to_fit(task, kind_of[t]);
            // A gang sits in one die: at most the block's homes in any one die.
            let per_die = homes_per_die(machine, &homes);
            let shards = fit.min(per_die).min(u64::from(machine.tbus_per_die())).max(1) as u32;
            TaskPlan {
                block: b,
                name: workflow.blocks[b].name.clone(),
                class: analysis.blocks[b].class.unwrap_or(Class::Stable),
                kind: kind_of[t],
                visits: visits[t],
                cycles: cycles[t][kind_of[t].index()],
                shards,
                shard_cycles: cost.expected_cycles(task, kind_of[t], shards),
                demand: demand[t],
                homes,
                shared: shared[t],
                anchor: anchors[unit_of[t]],
            }
        })
        .collect();
    let controls: Vec<ControlPlan> = workflow
        .blocks
        .iter_enumerated()
        .filter(|(_, b)| !b.is_task())
        .map(|(b, blk)| ControlPlan { block: b, name: blk.name.clone(), cluster: cluster_of_block(b) })
        .collect();
    let flows: Vec<FlowPlan> = workflow
        .flows
        .iter_enumerated()
        .map(|(id, f)| {
            let (from, to) = (cluster_of_block(f.from), cluster_of_block(f.to));
            FlowPlan {
                flow: id,
                from,
                to,
                hops: machine.hops(from, to),
                mean_hops: position(f.from, &fps, &cb_at, &task_index, &unit_of).mean_hops(position(
                    f.to,
                    &fps,
                    &cb_at,
                    &task_index,
                    &unit_of,
                )),
                bytes: flow_bytes[id],
            }
        })
        .collect();

    // The report.
    let mut tbu_load = IndexVec::<TbuId, f64>::from_elem(0.0, machine.tbus.len());
    let mut used = IndexVec::<TbuId, bool>::from_elem(false, machine.tbus.len());
    for tp in &task_plans {
        let per = tp.demand / tp.homes.len() as f64;
        for &h in &tp.homes {
            tbu_load[h] += per;
            used[h] = true;
        }
    }
    let mut cluster_load = IndexVec::<ClusterId, f64>::from_elem(0.0, machine.clusters.len());
    for (t, l) in tbu_load.iter_enumerated() {
        cluster_load[machine.cluster_of(t)] += l;
    }
    let total_demand: f64 = demand.iter().sum();
    let max_tbu_load = tbu_load.iter().fold(0.0f64, |a, &b| a.max(b));
    let mean_tbu_load = total_demand / machine.tbus.len() as f64;
    let max_cluster = cluster_load.iter().fold(0.0f64, |a, &b| a.max(b));
    let mean_cluster = total_demand / machine.clusters.len() as f64;
    let ratio = |max: f64, mean: f64| if mean > 0.0 { max / mean } else { 1.0 };
    let report = Report {
        tbus_used: used.iter().filter(|&&u| u).count() as u32,
        tbus_total: machine.tbus.len() as u32,
        total_demand,
        tasks: task_plans
            .iter()
            .map(|t| TaskLoad {
                block: t.block,
                homes: t.homes.len() as u32,
                load: t.demand / t.homes.len() as f64,
            })
            .collect(),
        clusters: cluster_load
            .iter_enumerated()
            .filter(|(_, l)| **l > 0.0)
            .map(|(cluster, &load)| ClusterLoad { cluster, load })
            .collect(),
        max_tbu_load,
        mean_tbu_load,
        tbu_imbalance: ratio(max_tbu_load, mean_tbu_load),
        cluster_imbalance: ratio(max_cluster, mean_cluster),
        noc_byte_hops: flows.iter().map(|f| f.bytes * f.mean_hops).sum(),
        noc_bytes: flows.iter().map(|f| f.bytes).sum(),
        max_requests_per_second: (max_tbu_load > 0.0).then(|| machine.spec.clock_ghz * 1e9 / max_tbu_load),
        memory,
    };

    Ok(Plan {
        version: PLAN_VERSION,
        workflow: workflow.name.clone(),
        workflow_fingerprint: octopus_hw::fingerprint(workflow),
        hardware: machine.name().to_owned(),
        machine_fingerprint: machine.fingerprint(),
        strategy: options.strategy,
        tasks: task_plans,
        controls,
        flows,
        report,
    })
}

/// The TBUs of each kind, cluster by cluster in the order of `clusters`.
fn tbu_sequences(machine: &Machine, clusters: &[ClusterId]) -> IndexVec<TbuKindId, Vec<TbuId>> {
    let mut seqs: IndexVec<TbuKindId, Vec<TbuId>> = IndexVec::from_elem(Vec::new(), machine.kinds.len());
    for &c in clusters {
        for t in machine.clusters[c].tbus() {
            seqs[machine.tbus[t].kind].push(t);
        }
    }
    seqs
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
    use super::*;

    #[test]
    fn mean_abs_diff_matches_brute_force() {
        let p = [(0u32, 0.25), (2, 0.5), (5, 0.25)];
        let q = [(1u32, 0.5), (2, 0.5)];
        let brute: f64 =
            p.iter().flat_map(|a| q.iter().map(move |b| a.1 * b.1 * f64::from(a.0.abs_diff(b.0)))).sum();
        assert!((mean_abs_diff(&p, &q) - brute).abs() < 1e-12);
        assert_eq!(mean_abs_diff(&[(3, 1.0)], &[(7, 1.0)]), 4.0);
    }

    #[test]
    fn apportionment_is_proportional_with_one_seat_minimum() {
        assert_eq!(apportion(&[6.0, 3.0, 0.0], 10), vec![6, 3, 1]);
        assert_eq!(apportion(&[0.0, 0.0], 4), vec![2, 2]);
    }

    #[test]
    fn partition_makes_non_empty_balanced_runs() {
        let demand = [4.0, 1.0, 1.0, 1.0, 1.0, 4.0];
        let groups = partition(&[0, 1, 2, 3, 4, 5], &demand, 3);
        assert_eq!(groups, vec![vec![0], vec![1, 2, 3, 4], vec![5]]);
        let groups = partition(&[0, 1, 2], &[0.0; 3], 2);
        assert!(groups.iter().all(|g| !g.is_empty()));
    }

    #[test]
    fn weighted_median_minimises_l1() {
        assert_eq!(weighted_median(vec![(0, 1.0), (10, 3.0), (4, 1.0)]), Some(10));
        assert_eq!(weighted_median(vec![(2, 0.0)]), None);
    }
}
