//! The report: what a placement predicts per request, from its task entries and flow routes
//! alone: load per TBU and per cluster, balance, NoC traffic and the throughput bound.

use octopus_hw::{ClusterId, Machine, TbuId};
use octopus_owg::index::IndexVec;

use crate::plan::{ClusterLoad, FlowPlan, MemoryReport, Report, TaskLoad, TaskPlan};

/// The report of the task entries `tasks` and flow entries `flows` on `machine`, with the memory
/// accounting. A task's demand is spread evenly over its homes (a batch group's over the group's).
pub(super) fn report(
    machine: &Machine,
    tasks: &[TaskPlan],
    flows: &[FlowPlan],
    memory: MemoryReport,
) -> Report {
    let mut tbu_load = IndexVec::<TbuId, f64>::from_elem(0.0, machine.tbus.len());
    let mut used = IndexVec::<TbuId, bool>::from_elem(false, machine.tbus.len());
    for tp in tasks {
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
    let total_demand: f64 = tasks.iter().map(|t| t.demand).sum();
    let max_tbu_load = tbu_load.iter().fold(0.0f64, |a, &b| a.max(b));
    let mean_tbu_load = total_demand / machine.tbus.len() as f64;
    let max_cluster = cluster_load.iter().fold(0.0f64, |a, &b| a.max(b));
    let mean_cluster = total_demand / machine.clusters.len() as f64;
    let ratio = |max: f64, mean: f64| if mean > 0.0 { max / mean } else { 1.0 };
    Report {
        tbus_used: used.iter().filter(|&&u| u).count() as u32,
        tbus_total: machine.tbus.len() as u32,
        total_demand,
        tasks: tasks
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
    }
}

#[cfg(test)]
mod tests {
    use octopus_hw::{ClusterId, TbuKindId};
    use octopus_owg::analysis::Class;
    use octopus_owg::ir::{BlockId, FlowId};

    use super::*;

    fn task(block: u32, demand: f64, homes: &[u32]) -> TaskPlan {
        TaskPlan {
            block: BlockId(block),
            name: format!("t{block}"),
            class: Class::Stable,
            kind: TbuKindId(0),
            visits: 1.0,
            cycles: demand,
            shards: 1,
            shard_cycles: demand,
            demand,
            homes: homes.iter().copied().map(TbuId).collect(),
            shared: false,
            anchor: ClusterId(0),
        }
    }

    fn no_memory() -> MemoryReport {
        MemoryReport { die_bytes: 1.0, weights_bytes: 0.0, kv_capacity_bytes: 1.0, llm: Vec::new() }
    }

    fn flow(id: u32, bytes: f64, mean_hops: f64) -> FlowPlan {
        FlowPlan { flow: FlowId(id), from: ClusterId(0), to: ClusterId(0), hops: 0, mean_hops, bytes }
    }

    #[test]
    fn loads_balance_and_traffic_by_hand() {
        // chip: 256 TBUs in 32 clusters at 1 GHz. Task 0 (8 cycles) on TBUs 0 and 1 of cluster 0,
        // task 1 (2 cycles) on TBU 8 of cluster 1.
        let machine = Machine::preset("chip").unwrap();
        let r = report(
            &machine,
            &[task(0, 8.0, &[0, 1]), task(1, 2.0, &[8])],
            &[flow(0, 100.0, 1.5), flow(1, 10.0, 0.0)],
            no_memory(),
        );
        assert_eq!((r.tbus_used, r.tbus_total, r.total_demand), (3, 256, 10.0));
        let tasks: Vec<(u32, f64)> = r.tasks.iter().map(|t| (t.homes, t.load)).collect();
        assert_eq!(tasks, vec![(2, 4.0), (1, 2.0)]);
        let clusters: Vec<(ClusterId, f64)> = r.clusters.iter().map(|c| (c.cluster, c.load)).collect();
        assert_eq!(clusters, vec![(ClusterId(0), 8.0), (ClusterId(1), 2.0)]);
        assert_eq!((r.max_tbu_load, r.mean_tbu_load), (4.0, 10.0 / 256.0));
        assert!((r.tbu_imbalance - 102.4).abs() < 1e-9, "4 / (10/256)");
        assert!((r.cluster_imbalance - 25.6).abs() < 1e-9, "8 / (10/32)");
        assert_eq!((r.noc_byte_hops, r.noc_bytes), (150.0, 110.0));
        assert_eq!(r.max_requests_per_second, Some(2.5e8));
    }

    #[test]
    fn a_machine_without_load_is_balanced_and_unbounded() {
        let machine = Machine::preset("chip").unwrap();
        let r = report(&machine, &[task(0, 0.0, &[0])], &[], no_memory());
        assert_eq!((r.tbu_imbalance, r.cluster_imbalance, r.max_requests_per_second), (1.0, 1.0, None));
        assert!(r.clusters.is_empty());
    }
}
