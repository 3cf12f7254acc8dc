//! Placement on the curve: each unit's home TBUs taken from per-kind sequences of TBUs (along a
//! Hilbert curve of the clusters, or along rows), control blocks at the weighted median of their
//! neighbours, every layout judged by its weighted hops; a multi-start keeps the cheapest and
//! improves it by swapping equal units.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use octopus_hw::{ClusterId, Machine, TbuId, TbuKindId};
use octopus_owg::index::IndexVec;
use octopus_owg::ir::{BlockId, FlowId, Workflow};
use rand::SeedableRng;
use rand::seq::SliceRandom;

use super::homes::Homes;
use super::traffic::Traffic;
use super::{Key, Tasks};
use crate::curve::gilbert;
use crate::plan::Strategy;

/// Swap partners tried after each unit in the placement order, per improvement pass.
const SWAP_WINDOW: usize = 6;
/// Improvement passes over the placement order.
const SWAP_PASSES: usize = 2;

/// Where a block is: a distribution over mesh columns and rows, each `(coordinate, probability)`
/// sorted by coordinate. A task is uniformly on its homes; a control block is at one point.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Footprint {
    pub xs: Vec<(u32, f64)>,
    pub ys: Vec<(u32, f64)>,
}

impl Footprint {
    fn point(x: u32, y: u32) -> Footprint {
        Footprint { xs: vec![(x, 1.0)], ys: vec![(y, 1.0)] }
    }

    pub(super) fn of(machine: &Machine, tbus: &[TbuId]) -> Footprint {
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
    pub(super) fn mean_hops(&self, other: &Footprint) -> f64 {
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
pub(super) fn weighted_median(mut v: Vec<(u32, f64)>) -> Option<u32> {
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

/// Where every unit and control block is.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Placement {
    /// Each unit's home TBUs, in the order they were taken.
    pub tbus: Vec<Vec<TbuId>>,
    /// Each unit's footprint (of its TBUs).
    pub fps: Vec<Footprint>,
    /// Each control block's point (`None` for task blocks).
    pub cb_at: IndexVec<BlockId, Option<Footprint>>,
}

impl Placement {
    /// Where block `b` is.
    pub(super) fn at(&self, b: BlockId, tasks: &Tasks, homes: &Homes) -> &Footprint {
        position(b, &self.fps, &self.cb_at, tasks, &homes.unit_of)
    }
}

fn position<'a>(
    b: BlockId,
    fps: &'a [Footprint],
    cb_at: &'a IndexVec<BlockId, Option<Footprint>>,
    tasks: &Tasks,
    unit_of: &[usize],
) -> &'a Footprint {
    match tasks.index[b] {
        Some(t) => &fps[unit_of[t]],
        None => cb_at[b].as_ref().expect("every control block is placed"),
    }
}

/// What placement needs: the machine, the workflow's graph and traffic, and the units to place.
pub(super) struct Layouter<'a> {
    pub machine: &'a Machine,
    pub workflow: &'a Workflow,
    /// The workflow's blocks in topological order.
    pub topo: &'a [BlockId],
    pub traffic: &'a Traffic,
    pub tasks: &'a Tasks,
    pub homes: &'a Homes,
    /// The flows of each unit (see `homes::unit_flows`).
    pub unit_flows: &'a [Vec<FlowId>],
}

impl Layouter<'_> {
    /// Places every unit and control block by `strategy`.
    ///
    /// The compiler's strategy is a multi-start: runs and stride interleaving along the Hilbert
    /// curve and along rows, in locality order, and the row-major baseline's own layout. It keeps
    /// the cheapest start and improves it by swaps, so it is never worse than the row-major baseline.
    pub(super) fn place(&self, strategy: Strategy) -> Placement {
        let machine = self.machine;
        let cluster_seq: Vec<ClusterId> = match strategy {
            Strategy::Locality => {
                let (w, h) = machine.mesh_size();
                gilbert(w, h).into_iter().map(|(x, y)| machine.cluster_at(x, y).expect("in mesh")).collect()
            }
            _ => machine.clusters.indices().collect(),
        };
        let mut seqs = tbu_sequences(machine, &cluster_seq);
        if let Strategy::Random { seed } = strategy {
            let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
            for s in seqs.iter_mut() {
                s.shuffle(&mut rng);
            }
        }
        let units = &self.homes.units;
        let in_order: Vec<usize> = (0..units.len()).collect();
        if strategy != Strategy::Locality {
            return self.layout(&seqs, &in_order, false).0;
        }
        let rows = tbu_sequences(machine, &machine.clusters.indices().collect::<Vec<_>>());
        let mut declared = in_order.clone();
        declared.sort_by_key(|&u| units[u].tasks.iter().map(|&t| self.tasks.blocks[t]).min());
        let candidates = [
            self.layout(&seqs, &in_order, false),
            self.layout(&seqs, &in_order, true),
            self.layout(&rows, &in_order, false),
            self.layout(&rows, &in_order, true),
            self.layout(&rows, &declared, false),
        ];
        let (mut best, _) =
            candidates.into_iter().min_by(|a, b| a.1.total_cmp(&b.1)).expect("five candidates");
        self.improve(&mut best);
        best
    }

    /// One layout: TBUs to units from the kind sequences in `order`, control blocks on CBUs, and
    /// its cost (weighted hops).
    fn layout(
        &self,
        seqs: &IndexVec<TbuKindId, Vec<TbuId>>,
        order: &[usize],
        interleave: bool,
    ) -> (Placement, f64) {
        let units = &self.homes.units;
        let mut tbus: Vec<Vec<TbuId>> = vec![Vec::new(); units.len()];
        for kind in self.machine.kinds.indices() {
            let mine: Vec<usize> = order.iter().copied().filter(|&u| units[u].kind == kind).collect();
            let total: usize = mine.iter().map(|&u| units[u].seats as usize).sum();
            if interleave {
                // Stride order: each unit's TBUs spread evenly along the sequence, so units that
                // share much traffic share a region instead of sitting side by side.
                let mut heap: BinaryHeap<Reverse<(Key, usize)>> =
                    mine.iter().map(|&u| Reverse((Key(0.5 / f64::from(units[u].seats)), u))).collect();
                for &tbu in &seqs[kind][..total] {
                    let Reverse((_, u)) = heap.pop().expect("seats fill the sequence");
                    tbus[u].push(tbu);
                    let done = tbus[u].len() as f64;
                    if tbus[u].len() < units[u].seats as usize {
                        heap.push(Reverse((Key((done + 0.5) / f64::from(units[u].seats)), u)));
                    }
                }
            } else {
                let mut at = 0;
                for &u in &mine {
                    tbus[u] = seqs[kind][at..at + units[u].seats as usize].to_vec();
                    at += units[u].seats as usize;
                }
            }
        }
        let fps: Vec<Footprint> = tbus.iter().map(|t| Footprint::of(self.machine, t)).collect();
        let mut cb_at: IndexVec<BlockId, Option<Footprint>> =
            IndexVec::from_elem(None, self.workflow.blocks.len());
        self.place_controls(&mut cb_at, &fps);
        self.place_controls(&mut cb_at, &fps);
        let cost: f64 = self.workflow.flows.indices().map(|f| self.flow_cost(f, &fps, &cb_at)).sum();
        (Placement { tbus, fps, cb_at }, cost)
    }

    /// Swaps of equal units (same kind and TBU count, a few apart in placement order) while they
    /// lower the weighted hops; then the control blocks follow.
    fn improve(&self, p: &mut Placement) {
        let units = &self.homes.units;
        let mut affected: Vec<FlowId> = Vec::new();
        for _ in 0..SWAP_PASSES {
            for i in 0..units.len() {
                for j in i + 1..(i + 1 + SWAP_WINDOW).min(units.len()) {
                    if units[i].kind != units[j].kind || p.tbus[i].len() != p.tbus[j].len() {
                        continue;
                    }
                    affected.clear();
                    affected.extend(&self.unit_flows[i]);
                    affected.extend(&self.unit_flows[j]);
                    affected.sort_unstable();
                    affected.dedup();
                    let before: f64 = affected.iter().map(|&f| self.flow_cost(f, &p.fps, &p.cb_at)).sum();
                    p.fps.swap(i, j);
                    let after: f64 = affected.iter().map(|&f| self.flow_cost(f, &p.fps, &p.cb_at)).sum();
                    if after < before * (1.0 - 1e-9) {
                        p.tbus.swap(i, j);
                    } else {
                        p.fps.swap(i, j);
                    }
                }
            }
        }
        self.place_controls(&mut p.cb_at, &p.fps);
    }

    /// Each control block, in topological order, at the weighted median (by flow weight) of its
    /// neighbours' footprints placed so far; at the middle of the mesh when it has none.
    fn place_controls(&self, cb_at: &mut IndexVec<BlockId, Option<Footprint>>, fps: &[Footprint]) {
        for &b in self.topo {
            if self.workflow.blocks[b].is_task() {
                continue;
            }
            let (mut xs, mut ys) = (Vec::new(), Vec::new());
            for &(other, f) in &self.traffic.adj[b] {
                let w = self.traffic.weight[f];
                let fp = match self.tasks.index[other] {
                    Some(t) => &fps[self.homes.unit_of[t]],
                    None => match &cb_at[other] {
                        Some(fp) => fp,
                        None => continue,
                    },
                };
                xs.extend(fp.xs.iter().map(|&(c, p)| (c, p * w)));
                ys.extend(fp.ys.iter().map(|&(c, p)| (c, p * w)));
            }
            let (w, h) = self.machine.mesh_size();
            cb_at[b] = Some(Footprint::point(
                weighted_median(xs).unwrap_or(w / 2),
                weighted_median(ys).unwrap_or(h / 2),
            ));
        }
    }

    /// A flow's weight times the expected hops between its ends.
    fn flow_cost(&self, f: FlowId, fps: &[Footprint], cb_at: &IndexVec<BlockId, Option<Footprint>>) -> f64 {
        let fl = &self.workflow.flows[f];
        let at = |b| position(b, fps, cb_at, self.tasks, &self.homes.unit_of);
        self.traffic.weight[f] * at(fl.from).mean_hops(at(fl.to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::place::fixture::Fork;

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
    fn weighted_median_minimises_l1() {
        assert_eq!(weighted_median(vec![(0, 1.0), (10, 3.0), (4, 1.0)]), Some(10));
        assert_eq!(weighted_median(vec![(2, 0.0)]), None);
    }

    #[test]
    fn a_footprint_spreads_evenly_over_its_tbus() {
        // chip: TBU 0 in cluster 0 at (0, 0), TBUs 8 and 9 in cluster 1 at (1, 0), TBU 32 in
        // cluster 4 at (0, 1).
        let machine = Machine::preset("chip").unwrap();
        let fp = Footprint::of(&machine, &[TbuId(0), TbuId(8), TbuId(9), TbuId(32)]);
        assert_eq!(fp.xs, vec![(0, 0.5), (1, 0.5)]);
        assert_eq!(fp.ys, vec![(0, 0.75), (1, 0.25)]);
        // From (3, 0): 2.5 columns and 0.25 rows away on average.
        assert_eq!(fp.mean_hops(&Footprint::point(3, 0)), 2.75);
    }

    #[test]
    fn row_major_runs_and_control_blocks_at_the_weighted_median() {
        let fork = Fork::new();
        let p = fork.layouter().place(Strategy::RowMajor);
        let run = |from: u32| (from..from + 8).map(TbuId).collect::<Vec<_>>();
        assert_eq!(p.tbus, vec![run(0), run(8), run(16)]);
        // `f`: columns 0 (weight 10 bytes + 1 execution), 1 and 2 (weight 1 each): median 0.
        // `j`: columns 1 and 2, weight 1 each: median 1 (the first to reach half the weight).
        let wf = &fork.module.workflow;
        let at = |name: &str| p.cb_at[wf.block_by_name(name).unwrap()].clone();
        assert_eq!(at("f"), Some(Footprint::point(0, 0)));
        assert_eq!(at("j"), Some(Footprint::point(1, 0)));
        assert_eq!(at("a"), None);
    }

    #[test]
    fn interleaving_strides_each_unit_along_the_sequence() {
        // Seats 2 and 1 on the sequence 0, 1, 2: unit 0 at 1/4 and 3/4 of its share, unit 1 at
        // 1/2, so the TBUs go 0, 1, 0. Runs give 0, 0, 1.
        let mut fork = Fork::new();
        fork.homes.units.truncate(2);
        fork.homes.units[0].seats = 2;
        fork.homes.units[1].seats = 1;
        fork.homes.unit_of = vec![0, 1, 0];
        let seqs: IndexVec<TbuKindId, Vec<TbuId>> =
            [vec![TbuId(0), TbuId(1), TbuId(2)]].into_iter().collect();
        let layouter = fork.layouter();
        let (strided, _) = layouter.layout(&seqs, &[0, 1], true);
        assert_eq!(strided.tbus, vec![vec![TbuId(0), TbuId(2)], vec![TbuId(1)]]);
        let (runs, _) = layouter.layout(&seqs, &[0, 1], false);
        assert_eq!(runs.tbus, vec![vec![TbuId(0), TbuId(1)], vec![TbuId(2)]]);
    }

    #[test]
    fn layouts_cost_their_weighted_hops() {
        // Row-major, with `f` at column 0 and `j` at column 1 (see above): `f -> b` 1 hop,
        // `f -> c` 2, `c -> j` 1, each of weight 1; `a -> f` and `b -> j` 0 hops.
        let fork = Fork::new();
        let layouter = fork.layouter();
        let rows = tbu_sequences(&fork.machine, &fork.machine.clusters.indices().collect::<Vec<_>>());
        let (_, cost) = layouter.layout(&rows, &[0, 1, 2], false);
        assert_eq!(cost, 4.0);
        // The compiler's own strategy finds a layout at least as cheap.
        let best = layouter.place(Strategy::Locality);
        let cost: f64 =
            fork.module.workflow.flows.indices().map(|f| layouter.flow_cost(f, &best.fps, &best.cb_at)).sum();
        assert!(cost <= 4.0, "{cost}");
    }
}
