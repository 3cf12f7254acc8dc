//! `steal`: work that becomes ready in one cluster is stolen by idle clusters, paying messages,
//! and gangs queued on one die are stolen by the other; runs are deterministic.

mod common;

use std::collections::BTreeSet;

use common::{Setup, WIDE_GANGS, config, two_dies};
use octopus_sim::{SimConfig, TraceKind};

/// One map of 48 one-TBU copies: every copy's data is at the map's cluster.
const WIDE: &str = r#"
workflow wide
arrivals batch(requests = 4)
task prep = elementwise(elems = 1K)
task body = elementwise(elems = uniform(16K, 32K), ops_per_elem = 100)
map many(width = 48, max = 64) join all
flow prep -> many
flow many -> body [bytes = 1 KiB]
flow body -> all [bytes = 1 KiB]
"#;

#[test]
fn idle_clusters_steal_the_copies_of_a_hot_cluster() {
    let s = Setup::new(WIDE, two_dies());
    let traced = SimConfig { trace: true, ..config("steal", None, 1) };
    let out = s.run(&traced);
    let body = s.block("body");
    assert_eq!(s.plan.task(body).unwrap().shards, 1, "the copies are one-TBU tasks");
    let clusters: BTreeSet<u32> = out
        .trace
        .iter()
        .filter(|e| e.kind == TraceKind::Exec && e.block == Some(body))
        .map(|e| e.cluster.0)
        .collect();
    let r = &out.result;
    assert!(r.counters["steals"] > 0, "{:?}", r.counters);
    assert!(r.counters["steal_messages"] >= r.counters["steals"]);
    // Without stealing, the copies would run only in the cluster of their data.
    assert!(clusters.len() > 2, "the copies ran in several clusters: {clusters:?}");
    assert_eq!(r.requests, 4);
    let again = s.run(&traced);
    assert_eq!(again.result, out.result, "same seed, same run");
    assert_eq!(again.trace, out.trace);
}

#[test]
fn the_other_die_steals_queued_gangs() {
    let s = Setup::new(WIDE_GANGS, two_dies());
    let call = s.block("call");
    assert!(s.plan.task(call).unwrap().shards > 1, "the calls run as gangs");
    let out = s.run(&SimConfig { trace: true, ..config("steal", None, 1) });
    let dies: BTreeSet<u32> = out
        .trace
        .iter()
        .filter(|e| e.kind == TraceKind::Batch && e.block == Some(call))
        .map(|e| s.machine.clusters[e.cluster].die.0)
        .collect();
    assert!(out.result.counters["gang_steals"] > 0, "{:?}", out.result.counters);
    assert_eq!(dies.len(), 2, "the calls ran on both dies");
}
