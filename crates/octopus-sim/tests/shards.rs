//! Sharded execution: a task whose working set exceeds a scratchpad runs as the plan's `shards`
//! tasks at once, each costing `task_cycles(.., k)`, and its successors start after the last.

mod common;

use common::{Setup, config, machine};
use octopus_hw::{CostModel, TbuKindId};
use octopus_owg::ir::{DType, Kernel};
use octopus_sim::TraceKind;

/// A 1G-parameter decode (2 GB of weights) then a small GEMM that reads its output.
const DECODE: &str = r#"
workflow decode
arrivals batch(requests = 1)
task think = llm_decode(params = 1G, context = 0, tokens = 16)
task after = gemm(m = 64, n = 64, k = 64)
flow think -> after [bytes = 64 KiB]
"#;

#[test]
fn a_decode_runs_on_its_homes_at_once_and_its_successor_waits_for_the_last_shard() {
    // 4 clusters of 8 TBUs: both blocks get homes, the decode most of them.
    let s = Setup::new(DECODE, machine(2, 2, 8));
    let think = s.plan.tasks.iter().find(|t| t.name == "think").unwrap();
    let after = s.plan.tasks.iter().find(|t| t.name == "after").unwrap();
    let k = think.shards;
    assert!(k > 1 && k as usize == think.homes.len(), "{k} shards on {} homes", think.homes.len());
    assert_eq!(after.shards, 1, "a 24 KiB GEMM fits one scratchpad");

    let cost = CostModel::new(&s.machine);
    let kernel = Kernel::LlmDecode { params: 1e9, tokens: 16.0, context: 0.0 };
    let one = cost.task_cycles(&kernel, DType::Fp16, TbuKindId(0), 1);
    let sharded = cost.task_cycles(&kernel, DType::Fp16, TbuKindId(0), k);
    // Memory-bound: k TBUs stream the weights k times as fast.
    assert!(sharded * u64::from(k) <= one + u64::from(k), "{sharded} x {k} vs {one}");

    for scheduler in ["static", "greedy", "octopus"] {
        let mut c = config(scheduler, None, 3);
        c.trace = true;
        let out = s.run(&c);
        let r = &out.result;
        assert_eq!((r.tasks_executed, r.shards_executed), (2, u64::from(k) + 1), "{scheduler}");
        let execs: Vec<_> = out.trace.iter().filter(|e| e.kind == TraceKind::Exec).collect();
        let think_ends: Vec<u64> =
            execs.iter().filter(|e| e.block == Some(think.block)).map(|e| e.end).collect();
        assert_eq!(think_ends.len(), k as usize, "{scheduler}");
        // Every shard costs the sharded time, on a TBU of its own.
        let mut tbus: Vec<_> = execs.iter().filter(|e| e.block == Some(think.block)).map(|e| e.tbu).collect();
        tbus.sort_unstable();
        tbus.dedup();
        assert_eq!(tbus.len(), k as usize, "{scheduler}: shards shared a TBU");
        for e in execs.iter().filter(|e| e.block == Some(think.block)) {
            assert_eq!(e.end - e.start, sharded, "{scheduler}");
        }
        // The successor starts only after the last shard ends.
        let last = *think_ends.iter().max().unwrap();
        let next = execs.iter().find(|e| e.block == Some(after.block)).unwrap();
        assert!(next.start >= last, "{scheduler}: `after` started at {} before {last}", next.start);
        // And the whole request takes about the sharded time, far less than one TBU's.
        assert!(r.makespan_cycles < one / 2, "{scheduler}: {} cycles vs {one} on one TBU", r.makespan_cycles);
    }
}
