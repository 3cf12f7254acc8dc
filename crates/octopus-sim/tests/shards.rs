//! Gangs: a task whose working set exceeds a scratchpad runs on the plan's `shards` TBUs at once,
//! its shards start and end together (one execution, its collectives on a ring), and its
//! successors start after it.

mod common;

use common::{Setup, config, machine};
use octopus_hw::{CostModel, Profile, Ring, TbuId, TbuKindId};
use octopus_owg::ir::{DType, Kernel};
use octopus_sim::TraceKind;

/// A GEMM of a 2 MiB working set, then a small GEMM that reads its output.
const GANG: &str = r#"
workflow gang
arrivals batch(requests = 1)
task big = gemm(m = 512, n = 512, k = 1024)
task after = gemm(m = 64, n = 64, k = 64)
flow big -> after [bytes = 64 KiB]
"#;

#[test]
fn a_gang_starts_together_pays_its_gather_and_its_successor_waits_for_it() {
    // 4 clusters of 8 TBUs: both blocks get homes, the big GEMM most of them.
    let s = Setup::new(GANG, machine(2, 2, 8));
    let big = s.plan.tasks.iter().find(|t| t.name == "big").unwrap();
    let after = s.plan.tasks.iter().find(|t| t.name == "after").unwrap();
    let k = big.shards;
    assert!(k > 1, "{k} shards");
    assert_eq!(after.shards, 1, "a 24 KiB GEMM fits one scratchpad");
    let cost = CostModel::new(&s.machine);
    let kernel = Kernel::Gemm { m: 512.0, n: 512.0, k: 1024.0 };
    let run = cost.run_cycles(&kernel, DType::Fp16, &Profile::NONE, TbuKindId(0), k);
    for scheduler in ["static", "greedy", "octopus"] {
        let mut c = config(scheduler, None, 3);
        c.trace = true;
        let out = s.run(&c);
        let r = &out.result;
        assert_eq!((r.tasks_executed, r.shards_executed), (2, u64::from(k) + 1), "{scheduler}");
        let spans: Vec<_> =
            out.trace.iter().filter(|e| e.kind == TraceKind::Exec && e.block == Some(big.block)).collect();
        assert_eq!(spans.len(), k as usize, "{scheduler}");
        // One start, one end, on k distinct TBUs, each computing the sharded time.
        assert!(spans.iter().all(|e| e.start == spans[0].start && e.end - e.start == run), "{scheduler}");
        let mut tbus: Vec<TbuId> = spans.iter().map(|e| e.tbu.unwrap()).collect();
        tbus.sort_unstable();
        tbus.dedup();
        assert_eq!(tbus.len(), k as usize, "{scheduler}: shards shared a TBU");
        // Then the output gather: (k - 1) ring steps of the output split k ways.
        let ring = Ring::new(&s.machine, &tbus);
        let gather = ring.gather(512 * 512 * 2);
        let coll: Vec<_> = out
            .trace
            .iter()
            .filter(|e| e.kind == TraceKind::Collective && e.block == Some(big.block))
            .collect();
        assert_eq!(coll.len(), k as usize, "{scheduler}");
        assert!(
            coll.iter().all(|e| e.start == spans[0].end && e.end - e.start == gather.cycles),
            "{scheduler}"
        );
        // The successor starts after the gather.
        let next =
            out.trace.iter().find(|e| e.kind == TraceKind::Exec && e.block == Some(after.block)).unwrap();
        assert!(
            next.start >= coll[0].end,
            "{scheduler}: `after` started at {} before {}",
            next.start,
            coll[0].end
        );
    }
}
