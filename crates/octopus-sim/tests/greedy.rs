//! `greedy`'s machine-wide queue pays the control plane on a machine of several dies, exactly as
//! `octopus-central` prices a decision; `greedy-oracle` decides for free; on one die they are the
//! same scheduler.

mod common;

use common::{Setup, config};
use octopus_hw::{CostModel, Machine, TbuId};

const ONE_TASK: &str = "workflow one\narrivals batch(requests = 1)\ntask a = elementwise(elems = 1M)\n";

#[test]
fn greedy_pays_the_round_trip_to_the_centre_that_the_oracle_does_not() {
    let s = Setup::new(ONE_TASK, Machine::preset("wafer").unwrap());
    let m = &s.machine;
    let run = |name: &str| s.run(&config(name, None, 1)).result;
    let (paid, free) = (run("greedy"), run("greedy-oracle"));
    // Both start the task on the TBU idle longest, TBU 0; the decision is triggered where the task
    // is told it is ready (its plan anchor), goes to the centre, takes the centre CBU's turn, and
    // comes back to TBU 0's cluster.
    let cost = CostModel::new(m);
    let (w, h) = m.mesh_size();
    let centre = m.cluster_at(w / 2, h / 2).unwrap();
    let src = s.plan.task(s.block("a")).unwrap().anchor;
    let dst = m.cluster_of(TbuId(0));
    let round_trip = cost.control_message_cycles(m.hops(src, centre))
        + cost.control_cycles()
        + cost.control_message_cycles(m.hops(centre, dst));
    assert!(m.hops(src, centre) + m.hops(centre, dst) > 10, "the wafer's centre is far from both ends");
    assert_eq!(paid.makespan_cycles, free.makespan_cycles + round_trip);
}

#[test]
fn on_one_die_greedy_is_the_oracle() {
    let s = Setup::new(
        ONE_TASK.replace("requests = 1", "requests = 50").as_str(),
        Machine::preset("chip").unwrap(),
    );
    let mut paid = s.run(&config("greedy", None, 3)).result;
    let free = s.run(&config("greedy-oracle", None, 3)).result;
    paid.scheduler = free.scheduler.clone();
    assert_eq!(paid, free);
}
