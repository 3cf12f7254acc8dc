//! The plan's entries: each task's anchor cluster and shard count, each control block's CBU,
//! each flow's route between the clusters of its ends.

use octopus_hw::{ClusterId, CostModel, Machine, TbuId};
use octopus_owg::analysis::{Analysis, Class};
use octopus_owg::index::Idx;
use octopus_owg::ir::{BlockId, Workflow};

use super::Tasks;
use super::demand::Demand;
use super::homes::Homes;
use super::layout::{Footprint, Placement, weighted_median};
use super::traffic::Traffic;
use crate::plan::{ControlPlan, FlowPlan, TaskPlan};

/// Where each block is, as the plan records it.
pub(super) struct Sites<'a> {
    machine: &'a Machine,
    tasks: &'a Tasks,
    homes: &'a Homes,
    placement: &'a Placement,
    /// Each unit's anchor cluster.
    anchors: Vec<ClusterId>,
}

impl<'a> Sites<'a> {
    pub(super) fn new(
        machine: &'a Machine,
        tasks: &'a Tasks,
        homes: &'a Homes,
        placement: &'a Placement,
    ) -> Sites<'a> {
        let anchors =
            placement.tbus.iter().zip(&placement.fps).map(|(t, fp)| anchor(machine, t, fp)).collect();
        Sites { machine, tasks, homes, placement, anchors }
    }

    /// The cluster a block's flows are routed from and to: a task's anchor, a control block's
    /// CBU cluster.
    fn cluster(&self, b: BlockId) -> ClusterId {
        match self.tasks.index[b] {
            Some(t) => self.anchors[self.homes.unit_of[t]],
            None => {
                let fp = self.placement.cb_at[b].as_ref().expect("placed");
                self.machine.cluster_at(fp.xs[0].0, fp.ys[0].0).expect("in mesh")
            }
        }
    }

    fn footprint(&self, b: BlockId) -> &Footprint {
        self.placement.at(b, self.tasks, self.homes)
    }
}

/// A unit's anchor: the cluster of its TBUs nearest (in hops, ties to the lower ID) the weighted
/// median of its footprint.
fn anchor(machine: &Machine, tbus: &[TbuId], fp: &Footprint) -> ClusterId {
    let mx = weighted_median(fp.xs.clone()).expect("non-empty");
    let my = weighted_median(fp.ys.clone()).expect("non-empty");
    let mut clusters: Vec<ClusterId> = tbus.iter().map(|&t| machine.cluster_of(t)).collect();
    clusters.sort_unstable();
    clusters.dedup();
    *clusters
        .iter()
        .min_by_key(|&&c| (machine.clusters[c].x.abs_diff(mx) + machine.clusters[c].y.abs_diff(my), c))
        .expect("a unit has TBUs")
}

/// TBUs one execution runs on: the fewest whose scratchpads hold its working set (`fit`), at
/// most its homes in any one die (a gang sits in one die) and one die's TBUs, at least one.
fn shard_count(fit: u64, homes_in_a_die: u64, tbus_per_die: u32) -> u32 {
    fit.min(homes_in_a_die).min(u64::from(tbus_per_die)).max(1) as u32
}

/// The most of `homes` in any one die.
fn homes_per_die(machine: &Machine, homes: &[TbuId]) -> u64 {
    let mut count = vec![0u64; machine.dies.len()];
    for &h in homes {
        count[machine.clusters[machine.tbus[h].cluster].die.index()] += 1;
    }
    count.into_iter().max().unwrap_or(0)
}

/// One entry per task block, in block order.
pub(super) fn task_plans(
    workflow: &Workflow,
    analysis: &Analysis,
    demand: &Demand,
    homes: &Homes,
    sites: &Sites<'_>,
    cost: &CostModel,
) -> Vec<TaskPlan> {
    // The blocks of a batch group (LLM blocks of one model and phase) share one serving instance:
    // each gets the union of the group's homes.
    let groups = octopus_hw::batch_groups(workflow);
    let blocks = &sites.tasks.blocks;
    let group_homes = |b: BlockId| -> Vec<TbuId> {
        let g = groups[b.index()];
        let mut tbus: Vec<TbuId> = (0..blocks.len())
            .filter(|&x| groups[blocks[x].index()] == g)
            .flat_map(|x| sites.placement.tbus[homes.unit_of[x]].iter().copied())
            .collect();
        tbus.sort_unstable();
        tbus.dedup();
        tbus
    };
    blocks
        .iter()
        .enumerate()
        .map(|(t, &b)| {
            let u = homes.unit_of[t];
            let tbus = group_homes(b);
            let task = workflow.blocks[b].task().expect("a task");
            let kind = demand.kind_of[t];
            let per_die = homes_per_die(sites.machine, &tbus);
            let shards = shard_count(cost.shards_to_fit(task, kind), per_die, sites.machine.tbus_per_die());
            TaskPlan {
                block: b,
                name: workflow.blocks[b].name.clone(),
                class: analysis.blocks[b].class.unwrap_or(Class::Stable),
                kind,
                visits: demand.visits[t],
                cycles: demand.cycles[t][kind.index()],
                shards,
                shard_cycles: cost.expected_cycles(task, kind, shards),
                demand: demand.demand[t],
                homes: tbus,
                shared: homes.shared[t],
                anchor: sites.anchors[u],
            }
        })
        .collect()
}

/// One entry per control block, in block order: the cluster whose CBU runs it.
pub(super) fn control_plans(workflow: &Workflow, sites: &Sites<'_>) -> Vec<ControlPlan> {
    workflow
        .blocks
        .iter_enumerated()
        .filter(|(_, b)| !b.is_task())
        .map(|(b, blk)| ControlPlan { block: b, name: blk.name.clone(), cluster: sites.cluster(b) })
        .collect()
}

/// One entry per flow, in flow order: its route between the clusters of its ends.
pub(super) fn flow_plans(workflow: &Workflow, traffic: &Traffic, sites: &Sites<'_>) -> Vec<FlowPlan> {
    workflow
        .flows
        .iter_enumerated()
        .map(|(id, f)| {
            let (from, to) = (sites.cluster(f.from), sites.cluster(f.to));
            FlowPlan {
                flow: id,
                from,
                to,
                hops: sites.machine.hops(from, to),
                mean_hops: sites.footprint(f.from).mean_hops(sites.footprint(f.to)),
                bytes: traffic.bytes[id],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::place::fixture::Fork;
    use crate::plan::Strategy;

    #[test]
    fn shards_are_the_fit_within_homes_in_a_die_and_one_die() {
        assert_eq!(shard_count(15, 227, 256), 15);
        assert_eq!(shard_count(300, 227, 256), 227);
        assert_eq!(shard_count(1000, 1000, 256), 256);
        assert_eq!(shard_count(0, 4, 256), 1);
        // Homes split 15 and 15 over two dies of 18 TBUs: a gang of 15 fits one die.
        let mut spec = Machine::preset("package").unwrap().spec;
        spec.cluster.tbus[0].1 = 2;
        spec.die.clusters_x = 3;
        spec.die.clusters_y = 3;
        spec.package.dies_y = 1;
        let m = Machine::from_spec(&spec).unwrap();
        let homes: Vec<TbuId> = (3..18).chain(18..33).map(TbuId).collect();
        assert_eq!(homes_per_die(&m, &homes), 15);
    }

    #[test]
    fn an_anchor_is_the_units_cluster_nearest_its_median() {
        let machine = Machine::preset("chip").unwrap();
        let anchor_of = |tbus: &[u32]| {
            let tbus: Vec<TbuId> = tbus.iter().copied().map(TbuId).collect();
            anchor(&machine, &tbus, &Footprint::of(&machine, &tbus))
        };
        // Clusters 0, 1 and 3 (columns 0, 1, 3 of row 0): the median column is 1.
        assert_eq!(anchor_of(&[0, 8, 24]), ClusterId(1));
        // Clusters 1 at (1, 0) and 4 at (0, 1): the median point (0, 0) is neither; both are 1
        // hop away, and the tie goes to the lower ID.
        assert_eq!(anchor_of(&[8, 32]), ClusterId(1));
    }

    #[test]
    fn control_blocks_and_flows_are_routed_between_their_clusters() {
        // Row-major: `a`, `b`, `c` on clusters 0, 1, 2; `f` at (0, 0), `j` at (1, 0).
        let fork = Fork::new();
        let placement = fork.layouter().place(Strategy::RowMajor);
        let sites = Sites::new(&fork.machine, &fork.tasks, &fork.homes, &placement);
        let wf = &fork.module.workflow;
        let controls: Vec<(&str, ClusterId)> =
            control_plans(wf, &sites).iter().map(|c| (wf.blocks[c.block].name.as_str(), c.cluster)).collect();
        assert_eq!(controls, vec![("f", ClusterId(0)), ("j", ClusterId(1))]);
        let flows: Vec<(ClusterId, ClusterId, u32, f64, f64)> = flow_plans(wf, &fork.traffic, &sites)
            .iter()
            .map(|f| (f.from, f.to, f.hops, f.mean_hops, f.bytes))
            .collect();
        let c = ClusterId;
        assert_eq!(
            flows,
            vec![
                (c(0), c(0), 0, 0.0, 10.0), // a -> f
                (c(0), c(1), 1, 1.0, 0.0),  // f -> b
                (c(0), c(2), 2, 2.0, 0.0),  // f -> c
                (c(1), c(1), 0, 0.0, 0.0),  // b -> j
                (c(2), c(1), 1, 1.0, 0.0),  // c -> j
            ]
        );
    }
}
