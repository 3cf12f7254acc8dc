//! Resident state and the true cost of a cold TBU, on hand-computed cases: a TBU configured for a
//! block keeps its weights while they fit its scratchpad; a cold execution first loads the
//! configuration (2048 cycles on `chip`'s TBUs) and the weights at the TBU's memory bandwidth.
//! The machine is one `chip` TBU with a `chip` TBU's share of memory bandwidth (18.75 B/cycle).

mod common;

use common::{Setup, config, machine};
use octopus_hw::{CostModel, Machine, TbuKindId};
use octopus_owg::ir::{DType, Kernel};
use octopus_sim::TraceKind;

/// `a` (73,728 B of filters) and `b` (36,864 B) alternate four times on one TBU.
const ALTERNATE: &str = r#"
workflow alternate
arrivals batch(requests = 1)
task a = conv2d(h = 8, w = 8, cin = 64, cout = 64, kernel = 3)
task b = conv2d(h = 8, w = 8, cin = 32, cout = 64, kernel = 3)
loop turns(count = 4, max = 4) join done
flow turns -> a -> b -> done
"#;

/// `first` runs once, then `a` four times on the same TBU.
const REPEAT: &str = r#"
workflow repeat
arrivals batch(requests = 1)
task first = conv2d(h = 8, w = 8, cin = 32, cout = 64, kernel = 3)
task a = conv2d(h = 8, w = 8, cin = 64, cout = 64, kernel = 3)
loop turns(count = 4, max = 4) join done
flow first -> turns -> a -> done
"#;

/// One TBU with 18.75 B/cycle of memory bandwidth, as each of `chip`'s 256 has.
fn one_tbu() -> Machine {
    let mut spec = machine(1, 1, 1).spec;
    spec.die.memory_bandwidth_gbps = 18.75;
    Machine::from_spec(&spec).expect("a valid machine")
}

/// The loads of a run: (their count, their cycles), from the execution log.
fn loads(s: &Setup, scheduler: &str) -> (u64, Vec<u64>) {
    let mut c = config(scheduler, None, 1);
    c.trace = true;
    let out = s.run(&c);
    let spans = out.trace.iter().filter(|e| e.kind == TraceKind::Reconfig).map(|e| e.end - e.start).collect();
    (out.result.reconfigurations, spans)
}

#[test]
fn two_blocks_alternating_on_one_tbu_pay_their_resident_load_at_each_switch() {
    let s = Setup::new(ALTERNATE, one_tbu());
    // a: 2048 + ceil(73,728 / 18.75 = 3932.2) = 5981; b: 2048 + ceil(36,864 / 18.75 = 1966.1) = 4015.
    // The TBU starts holding `a` (the plan loads the first block of a shared TBU before the run):
    // b, a, b, a, b, a, b are loaded.
    for scheduler in ["static", "greedy", "octopus"] {
        let (n, spans) = loads(&s, scheduler);
        assert_eq!(n, 7, "{scheduler}");
        assert_eq!(spans, [4015, 5981, 4015, 5981, 4015, 5981, 4015], "{scheduler}");
    }
}

#[test]
fn one_block_repeated_pays_its_resident_load_once() {
    let s = Setup::new(REPEAT, one_tbu());
    for scheduler in ["static", "greedy", "octopus"] {
        let (n, spans) = loads(&s, scheduler);
        assert_eq!((n, spans), (1, vec![5981]), "{scheduler}");
    }
}

/// A convolution whose 1,179,648 B of filters do not fit one 262,144 B scratchpad.
const BIG: &str = r#"
workflow big
arrivals batch(requests = 1)
task small = conv2d(h = 8, w = 8, cin = 32, cout = 64, kernel = 3)
task big = conv2d(h = 8, w = 8, cin = 256, cout = 256, kernel = 3)
loop turns(count = 3, max = 3) join done
flow turns -> small -> big -> done
"#;

#[test]
fn weights_that_do_not_fit_stream_at_every_execution() {
    let s = Setup::new(BIG, one_tbu());
    let cost = CostModel::new(&s.machine);
    let big = s.block("big");
    let kernel = Kernel::Conv2d { h: 8.0, w: 8.0, cin: 256.0, cout: 256.0, kernel: 3.0, stride: 1.0 };
    let task = s.module.workflow.blocks[big].task().unwrap();
    let p = cost.profile(task);
    assert_eq!(cost.resident_per_shard(&p, TbuKindId(0), 1), 0.0, "the filters do not fit");
    // Every execution reads the filters again, warm or cold: the working set (8 x 8 x 256 +
    // 1,179,648 / 2 + 8 x 8 x 256) x 2 B in the roofline.
    let tr = cost.traffic(&kernel, DType::Fp16, &p, TbuKindId(0), 1);
    assert_eq!(tr.moved, (8.0 * 8.0 * 256.0 * 2.0) * 2.0 + 1_179_648.0);
    let run = cost.run_cycles(&kernel, DType::Fp16, &p, TbuKindId(0), 1);
    let mut c = config("static", None, 1);
    c.trace = true;
    let out = s.run(&c);
    let execs: Vec<u64> = out
        .trace
        .iter()
        .filter(|e| e.kind == TraceKind::Exec && e.block == Some(big))
        .map(|e| e.end - e.start)
        .collect();
    assert_eq!(execs, [run, run, run]);
    // Switching to it loads only its configuration; switching to `small` loads small's filters.
    let loads: Vec<(u64, Option<_>)> = out
        .trace
        .iter()
        .filter(|e| e.kind == TraceKind::Reconfig)
        .map(|e| (e.end - e.start, e.block))
        .collect();
    assert!(loads.iter().all(|&(c, b)| if b == Some(big) { c == 2048 } else { c == 4015 }), "{loads:?}");
}
