//! HEFT against the paper: the example graph of Topcuoglu, Hariri and Wu (2002, Fig. 2) from
//! `test_data/heft-topcuoglu-2002.json` must give the published schedule length of 80 exactly.

use octopus_compiler::heft::{HeftError, Problem, Schedule};
use serde_json::Value;

/// The paper's example: the cost table, the edges and the published results.
fn paper() -> (Problem, Vec<String>, Value) {
    let text = include_str!("../test_data/heft-topcuoglu-2002.json");
    let json: Value = serde_json::from_str(text).expect("the reference file is JSON");
    let tasks = json["tasks"].as_object().expect("`tasks` is an object");
    // Task order is T1..T10 (the JSON object's keys are sorted as written, T10 last).
    let mut names: Vec<String> = tasks.keys().cloned().collect();
    names.sort_by_key(|n| n[1..].parse::<u32>().expect("tasks are named T<number>"));
    let cost: Vec<Vec<u64>> = names
        .iter()
        .map(|n| tasks[n].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).collect())
        .collect();
    let index = |n: &Value| names.iter().position(|m| m == n.as_str().unwrap()).unwrap();
    let edges: Vec<(usize, usize, u64)> = json["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (index(&e[0]), index(&e[1]), e[2].as_u64().unwrap()))
        .collect();
    assert_eq!(json["processors"].as_u64(), Some(3));
    let problem = Problem::uniform(cost, &edges).expect("the paper's graph is a valid problem");
    (problem, names, json["published_results"].clone())
}

fn schedule() -> (Schedule, Vec<String>, Value) {
    let (p, names, published) = paper();
    (p.heft(), names, published)
}

#[test]
fn reproduces_the_published_schedule_length_of_80() {
    let (s, _, published) = schedule();
    assert_eq!(published["HEFT_makespan"].as_u64(), Some(80));
    assert_eq!(s.makespan, 80);
}

#[test]
fn upward_ranks_are_exact_and_t3_t4_tie_at_80() {
    let (s, names, _) = schedule();
    // Ranks times P(P-1) = 6; the paper's Table (rank_u): T1 108, T2 77, T3 80, T4 80, T5 69,
    // T6 63.333, T7 42.667, T8 35.667, T9 44.333, T10 14.667.
    assert_eq!(s.rank_denominator, 6);
    let sixths: [u128; 10] = [648, 462, 480, 480, 414, 380, 256, 214, 266, 88];
    assert_eq!(s.rank_scaled, sixths.to_vec());
    let ordered: Vec<&str> = s.order.iter().map(|&t| names[t].as_str()).collect();
    assert_eq!(ordered, ["T1", "T3", "T4", "T2", "T5", "T6", "T9", "T7", "T8", "T10"]);
}

#[test]
fn per_task_schedule_matches_the_published_figure() {
    // The HEFT schedule of the paper's example (processors P1, P2, P3 = 0, 1, 2), as drawn in the
    // paper and as printed by the reference implementation mrocklin/heft on that example:
    // P1: T2 27-40, T8 57-62; P2: T4 18-26, T6 26-42, T9 56-68, T10 73-80;
    // P3: T1 0-9, T3 9-28, T5 28-38, T7 38-49.
    let (s, names, _) = schedule();
    let expected = [
        ("T1", 2, 0, 9),
        ("T2", 0, 27, 40),
        ("T3", 2, 9, 28),
        ("T4", 1, 18, 26),
        ("T5", 2, 28, 38),
        ("T6", 1, 26, 42),
        ("T7", 2, 38, 49),
        ("T8", 0, 57, 62),
        ("T9", 1, 56, 68),
        ("T10", 1, 73, 80),
    ];
    for (name, proc, start, finish) in expected {
        let t = names.iter().position(|n| n == name).unwrap();
        let p = s.placements[t];
        assert_eq!((p.proc, p.start, p.finish), (proc, start, finish), "{name}");
    }
}

#[test]
fn scaling_every_cost_by_3_scales_the_schedule_by_3() {
    // Scaling every cost by 3 (the paper's note) scales the schedule by 3 and keeps the order.
    let (p, _, _) = paper();
    let base = p.heft();
    let cost: Vec<Vec<u64>> =
        (0..p.tasks()).map(|t| (0..p.procs()).map(|q| 3 * p.cost(t, q)).collect()).collect();
    let edges: Vec<(usize, usize, u64)> = p.edges().iter().map(|e| (e.from, e.to, 3 * e.comm[0])).collect();
    let tripled = Problem::uniform(cost, &edges).unwrap().heft();
    assert_eq!(tripled.order, base.order);
    assert_eq!(tripled.makespan, 240);
}

#[test]
fn schedule_respects_precedence_communication_and_exclusive_processors() {
    let (p, _, _) = paper();
    let s = p.heft();
    for e in p.edges() {
        let (u, v) = (s.placements[e.from], s.placements[e.to]);
        assert!(u.finish + p.comm(e, u.proc, v.proc) <= v.start, "{} -> {}", e.from, e.to);
    }
    for t in 0..p.tasks() {
        let a = s.placements[t];
        assert_eq!(a.finish - a.start, p.cost(t, a.proc));
        for u in t + 1..p.tasks() {
            let b = s.placements[u];
            assert!(a.proc != b.proc || a.finish <= b.start || b.finish <= a.start, "{t} and {u} overlap");
        }
    }
}

#[test]
fn workflows_with_control_blocks_are_refused() {
    let src = "workflow w\ntask a = delay(time = 1 s)\ntask b = delay(time = 1 s)\n\
               branch pick join done\nflow a -> pick\nflow pick -> b [p = 1]\nflow b -> done\n";
    let checked = octopus_owg::check(src, "w", &octopus_owg::NoFiles);
    let module = checked.module.expect("valid workflow");
    let machine = octopus_hw::Machine::preset("chip").unwrap();
    let err = octopus_compiler::heft::schedule_workflow(&module.workflow, &machine).unwrap_err();
    assert!(matches!(err, HeftError::ControlBlocks { count: 2, .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "HEFT needs a workflow without control blocks, and `w` has 2: `pick`, `done`"
    );
}

#[test]
fn a_chain_of_delays_on_chip_runs_on_one_tbu_back_to_back() {
    // Two TBUs of a cluster pay a router crossing for 1 MB; the same TBU pays nothing, so HEFT keeps
    // the chain on one TBU and the schedule is the sum of the delays (1 GHz: 1 ms = 1e6 cycles).
    let src = "workflow chain\ntask a = delay(time = 1 ms)\ntask b = delay(time = 2 ms)\n\
               flow a -> b [bytes = 1 MB]\n";
    let module = octopus_owg::check(src, "chain", &octopus_owg::NoFiles).module.unwrap();
    let machine = octopus_hw::Machine::preset("chip").unwrap();
    let s = octopus_compiler::heft::schedule_workflow(&module.workflow, &machine).unwrap();
    assert_eq!(s.makespan_cycles, 3_000_000);
    assert_eq!(s.tasks[0].tbu, s.tasks[1].tbu);
    assert_eq!(s.processors, 256);
    assert!(!s.reduced);
}
