//! Home sizing: the tasks of each kind grouped into units, each with a number of home TBUs (its
//! seats). With no more tasks than TBUs, every task is a unit of its own and the TBUs are
//! apportioned by demand; with more, tasks are split into runs of about equal demand that
//! time-share one TBU each.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use octopus_hw::TbuKindId;
use octopus_owg::index::IndexVec;
use octopus_owg::ir::{BlockId, FlowId};

use super::Key;

/// Tasks that move as one: a task with its home TBUs, or a group of tasks time-sharing one TBU.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Unit {
    /// The kind of its TBUs.
    pub kind: TbuKindId,
    /// Its tasks (task numbers), in placement order.
    pub tasks: Vec<usize>,
    /// How many home TBUs it gets.
    pub seats: u32,
}

/// The units, in placement order, and what each task belongs to.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Homes {
    pub units: Vec<Unit>,
    /// The unit of each task.
    pub unit_of: Vec<usize>,
    /// Whether each task time-shares its TBU with other tasks.
    pub shared: Vec<bool>,
}

/// Sizes the homes of the tasks in `task_order` (task numbers; `kind_of` and `demand` by task
/// number) on `kind_counts` TBUs of each kind.
pub(super) fn size(
    task_order: &[usize],
    kind_of: &[TbuKindId],
    demand: &[f64],
    kind_counts: &IndexVec<TbuKindId, u32>,
) -> Homes {
    let n_tasks = kind_of.len();
    let mut units: Vec<Unit> = Vec::new();
    let mut shared = vec![false; n_tasks];
    for (kind, &count) in kind_counts.iter_enumerated() {
        let mine: Vec<usize> = task_order.iter().copied().filter(|&t| kind_of[t] == kind).collect();
        let n = count as usize;
        if mine.is_empty() {
            continue;
        }
        if mine.len() <= n {
            let d: Vec<f64> = mine.iter().map(|&t| demand[t]).collect();
            for (t, seats) in mine.iter().zip(apportion(&d, n)) {
                units.push(Unit { kind, tasks: vec![*t], seats });
            }
        } else {
            for group in partition(&mine, demand, n) {
                if group.len() > 1 {
                    group.iter().for_each(|&t| shared[t] = true);
                }
                units.push(Unit { kind, tasks: group, seats: 1 });
            }
        }
    }
    // Restore the placement order across kinds (units were built kind by kind).
    let mut rank = vec![0usize; n_tasks];
    for (i, &t) in task_order.iter().enumerate() {
        rank[t] = i;
    }
    units.sort_by_key(|u| rank[u.tasks[0]]);
    let mut unit_of = vec![0usize; n_tasks];
    for (i, u) in units.iter().enumerate() {
        for &t in &u.tasks {
            unit_of[t] = i;
        }
    }
    Homes { units, unit_of, shared }
}

/// The flows touching each unit's tasks, ascending: what a move of the unit changes.
pub(super) fn unit_flows(
    homes: &Homes,
    tasks: &[BlockId],
    adj: &IndexVec<BlockId, Vec<(BlockId, FlowId)>>,
) -> Vec<Vec<FlowId>> {
    homes
        .units
        .iter()
        .map(|u| {
            let mut flows: Vec<FlowId> =
                u.tasks.iter().flat_map(|&t| adj[tasks[t]].iter().map(|a| a.1)).collect();
            flows.sort_unstable();
            flows.dedup();
            flows
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(c: &[u32]) -> IndexVec<TbuKindId, u32> {
        c.iter().copied().collect()
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
    fn few_tasks_get_homes_by_demand_in_placement_order() {
        // Three tasks on 4 TBUs, placed in the order 2, 0, 1: task 2 (demand 2) gets the fourth
        // TBU, since 2/1 beats 1/1 twice.
        let k = TbuKindId(0);
        let homes = size(&[2, 0, 1], &[k; 3], &[1.0, 1.0, 2.0], &counts(&[4]));
        let seats: Vec<(Vec<usize>, u32)> = homes.units.iter().map(|u| (u.tasks.clone(), u.seats)).collect();
        assert_eq!(seats, vec![(vec![2], 2), (vec![0], 1), (vec![1], 1)]);
        assert_eq!(homes.unit_of, vec![1, 2, 0]);
        assert_eq!(homes.shared, vec![false; 3]);
    }

    #[test]
    fn many_tasks_time_share_one_tbu_per_run() {
        // Three equal tasks on 2 TBUs: the runs [0, 1] (it cannot stop at 1 < 1.5) and [2].
        let k = TbuKindId(0);
        let homes = size(&[0, 1, 2], &[k; 3], &[1.0; 3], &counts(&[2]));
        let groups: Vec<(Vec<usize>, u32)> = homes.units.iter().map(|u| (u.tasks.clone(), u.seats)).collect();
        assert_eq!(groups, vec![(vec![0, 1], 1), (vec![2], 1)]);
        assert_eq!(homes.shared, vec![true, true, false]);
        assert_eq!(homes.unit_of, vec![0, 0, 1]);
    }

    #[test]
    fn units_of_several_kinds_follow_the_placement_order() {
        // Built kind by kind (task 0's unit first), then sorted back into the order 1, 0.
        let homes = size(&[1, 0], &[TbuKindId(0), TbuKindId(1)], &[1.0, 1.0], &counts(&[1, 1]));
        let kinds: Vec<(Vec<usize>, TbuKindId)> =
            homes.units.iter().map(|u| (u.tasks.clone(), u.kind)).collect();
        assert_eq!(kinds, vec![(vec![1], TbuKindId(1)), (vec![0], TbuKindId(0))]);
        assert_eq!(homes.unit_of, vec![1, 0]);
    }

    #[test]
    fn a_unit_moves_with_every_flow_of_its_tasks() {
        // Blocks 0 -f0-> 1 -f1-> 2; tasks 0 and 2 (blocks 0 and 2) share a unit, task 1 has its own.
        let b = |i: u32| BlockId(i);
        let adj: IndexVec<BlockId, Vec<(BlockId, FlowId)>> =
            [vec![(b(1), FlowId(0))], vec![(b(0), FlowId(0)), (b(2), FlowId(1))], vec![(b(1), FlowId(1))]]
                .into_iter()
                .collect();
        let k = TbuKindId(0);
        let homes = Homes {
            units: vec![
                Unit { kind: k, tasks: vec![0, 2], seats: 1 },
                Unit { kind: k, tasks: vec![1], seats: 1 },
            ],
            unit_of: vec![0, 1, 0],
            shared: vec![true, false, true],
        };
        let flows = unit_flows(&homes, &[b(0), b(1), b(2)], &adj);
        assert_eq!(flows, vec![vec![FlowId(0), FlowId(1)], vec![FlowId(0), FlowId(1)]]);
    }
}
