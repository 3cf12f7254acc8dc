//! The cost model against hand-computed values on the `chip` preset:
//! one TBU peaks at 32 x 32 x 2 = 2048 ops/cycle (AI kernels reach 0.8 of it: 1638.4, general
//! compute 0.1: 204.8); its memory share is 4800 GB/s / 1 GHz / 256 TBUs = 18.75 B/cycle; its
//! scratchpad holds 256 KiB = 262,144 B.

use octopus_hw::{CostModel, Hops, Machine, TbuKindId};
use octopus_owg::dist::Dist;
use octopus_owg::ir::{DType, Kernel, Task};

const K0: TbuKindId = TbuKindId(0);

#[test]
fn per_tbu_rates() {
    let m = Machine::preset("chip").unwrap();
    let c = CostModel::new(&m);
    assert_eq!(c.memory_bytes_per_cycle_per_tbu(), 18.75);
    assert_eq!(c.ops_per_cycle(K0, 1, false), 1638.4);
    assert!((c.ops_per_cycle(K0, 1, true) - 204.8).abs() < 1e-9);
    // Four TBUs: two doublings at 0.95 each.
    assert!((c.ops_per_cycle(K0, 4, false) - 4.0 * 1638.4 * 0.9025).abs() < 1e-9);
}

#[test]
fn small_gemm_fits_and_is_memory_bound() {
    let m = Machine::preset("chip").unwrap();
    let c = CostModel::new(&m);
    let g = Kernel::Gemm { m: 128.0, n: 128.0, k: 128.0 };
    // ops 4,194,304 / 1638.4 = 2560 cycles; bytes 3 x 128^2 x 2 = 98,304 / 18.75 = 5242.88 -> 5243.
    assert_eq!(c.traffic(&g, DType::Fp16, K0, 1).moved, 98_304.0);
    assert_eq!(c.task_cycles(&g, DType::Fp16, K0, 1), 5243);
    // On 4 TBUs: 98,304 / 75 = 1310.72 -> 1311 (compute 709.1).
    assert_eq!(c.task_cycles(&g, DType::Fp16, K0, 4), 1311);
    // int8 halves the bytes: 49,152 / 18.75 = 2621.44, compute 2560 -> 2622.
    assert_eq!(c.task_cycles(&g, DType::Int8, K0, 1), 2622);
}

#[test]
fn large_gemm_streams_tiles_and_is_compute_bound() {
    let m = Machine::preset("chip").unwrap();
    let c = CostModel::new(&m);
    let g = Kernel::Gemm { m: 1024.0, n: 1024.0, k: 1024.0 };
    // Tiles of side sqrt(262144 / 6) = 209.02: 2 x 1024^3 x 2 / 209.02 + 1024^2 x 2 = 22,644,961 B.
    let t = (262_144.0f64 / 6.0).sqrt();
    let moved = 2.0 * 1024f64.powi(3) * 2.0 / t + 1024f64.powi(2) * 2.0;
    let tr = c.traffic(&g, DType::Fp16, K0, 1);
    assert!((tr.moved - moved).abs() < 1.0 && (moved - 22_644_961.25).abs() < 0.01);
    assert_eq!(tr.working_set, 6_291_456.0);
    // Compute 2^31 / 1638.4 = 1,310,720 cycles beats memory 22,644,961 / 18.75 = 1,207,731.
    assert_eq!(c.task_cycles(&g, DType::Fp16, K0, 1), 1_310_720);
}

#[test]
fn llm_decode_rereads_weights_that_do_not_fit_per_token() {
    let m = Machine::preset("chip").unwrap();
    let c = CostModel::new(&m);
    let d = Kernel::LlmDecode { params: 1e9, tokens: 10.0, context: 0.0 };
    // 2 GB of weights: read once, then the 2e9 - 262,144 B that do not fit again for 9 more tokens.
    let moved = 2e9 + (2e9 - 262_144.0) * 9.0;
    assert_eq!(c.traffic(&d, DType::Fp16, K0, 1).moved, moved);
    assert_eq!(c.task_cycles(&d, DType::Fp16, K0, 1), (moved / 18.75_f64).ceil() as u64);
    assert_eq!(c.task_cycles(&d, DType::Fp16, K0, 1), 1_066_540_838);
    // Prefill reads the weights once whatever the prompt: 2e10 x 100 ops / 1638.4 = 1,220,703,125.
    let p = Kernel::LlmPrefill { params: 1e9, tokens: 1000.0 };
    assert_eq!(c.task_cycles(&p, DType::Fp16, K0, 1), 1_220_703_125);
}

#[test]
fn general_compute_delay_and_streaming_kernels() {
    let m = Machine::preset("chip").unwrap();
    let c = CostModel::new(&m);
    // 1e6 ops at 204.8 ops/cycle = 4882.8 -> 4883.
    assert_eq!(c.task_cycles(&Kernel::Compute { ops: 1e6, bytes: 0.0 }, DType::Fp16, K0, 1), 4883);
    // 1e6 ops, 1 MB: memory 1e6 / 18.75 = 53,333.3 -> 53,334.
    assert_eq!(c.task_cycles(&Kernel::Compute { ops: 1e6, bytes: 1e6 }, DType::Fp16, K0, 1), 53_334);
    // A delay is its time: 1 ms at 1 GHz.
    assert_eq!(c.task_cycles(&Kernel::Delay { time: 1e-3 }, DType::Fp16, K0, 64), 1_000_000);
    // Elementwise reads and writes: 2 x 1e6 x 2 B / 18.75 = 213,333.3 -> 213,334.
    let e = Kernel::Elementwise { elems: 1e6, ops_per_elem: 4.0 };
    assert_eq!(c.task_cycles(&e, DType::Fp16, K0, 1), 213_334);
    // Attention, seq 4096, 32 heads, dim 128, fp16: working set 4 x 4096 x 32 x 128 x 2 = 128 MiB;
    // rows per block 262,144 / (4 x 128 x 2) = 256, 16 blocks: 32 x 4096 x 128 x 2 x (2 + 32) B.
    let a = Kernel::Attention { seq: 4096.0, heads: 32.0, dim: 128.0 };
    let tr = c.traffic(&a, DType::Fp16, K0, 1);
    assert_eq!(tr.working_set, 134_217_728.0);
    assert_eq!(tr.moved, 32.0 * 4096.0 * 128.0 * 2.0 * 34.0);
}

#[test]
fn reconfiguration_control_and_transfers() {
    let chip = Machine::preset("chip").unwrap();
    let c = CostModel::new(&chip);
    assert_eq!(c.reconfig_cycles(K0), 2048);
    assert_eq!(c.control_cycles(), 20);
    // 1000 B at 64 B/cycle = 16 cycles, plus 3 hops x 2 cycles.
    assert_eq!(c.transfer_cycles(1000, Hops { on_die: 3, inter_die: 0 }), 22);
    assert_eq!(c.transfer_cycles(1000, Hops::ZERO), 16);
    assert_eq!(c.transfer_cycles(0, Hops { on_die: 4, inter_die: 0 }), 8);
    // 16-byte message at 8 B/cycle, plus 5 hops x 1 cycle.
    assert_eq!(c.control_message_cycles(5), 7);
    let package = Machine::preset("package").unwrap();
    let c = CostModel::new(&package);
    // Crossing dies: the slower link's 32 B/cycle -> 32 cycles, plus 2 x 2 + 1 x 20.
    assert_eq!(c.transfer_cycles(1000, Hops { on_die: 2, inter_die: 1 }), 56);
}

#[test]
fn expected_cycles_are_exact_where_cost_is_linear() {
    let m = Machine::preset("chip").unwrap();
    let c = CostModel::new(&m);
    let kernel = Kernel::LlmDecode {
        params: Dist::Const(1e9),
        tokens: Dist::Choice(vec![(10.0, 0.5), (30.0, 0.5)]),
        context: Dist::Const(0.0),
    };
    let task = Task { kernel, dtype: DType::Fp16 };
    let at = |t: f64| {
        c.task_cycles(&Kernel::LlmDecode { params: 1e9, tokens: t, context: 0.0 }, DType::Fp16, K0, 1) as f64
    };
    let mean = (at(10.0) + at(30.0)) / 2.0;
    assert!((c.expected_task_cycles(&task, K0, 1) - mean).abs() <= 1.0);
    // Compute-bound kernels: the exact mean of the operations, E[m] E[n] E[k] here.
    let kernel = Kernel::Gemm {
        m: Dist::UniformInt { lo: 512, hi: 1536 },
        n: Dist::Const(1024.0),
        k: Dist::Const(1024.0),
    };
    let task = Task { kernel, dtype: DType::Fp16 };
    assert!((c.expected_task_cycles(&task, K0, 1) - 2.0 * 1024f64.powi(3) / 1638.4).abs() < 1e-6);
    assert_eq!(c.max_working_set(&task), (1536.0 * 1024.0 * 2.0 + 1024.0 * 1024.0) * 2.0);
}

#[test]
fn shards_split_memory_bound_decode_and_hold_the_working_set() {
    let m = Machine::preset("chip").unwrap();
    let c = CostModel::new(&m);
    // 1G fp16 parameters: 2,000,000,000 B / 262,144 B per scratchpad = 7629.4 -> 7630 shards.
    let kernel =
        Kernel::LlmDecode { params: Dist::Const(1e9), tokens: Dist::Const(16.0), context: Dist::Const(0.0) };
    let task = Task { kernel, dtype: DType::Fp16 };
    assert_eq!(c.mean_working_set(&task), 2e9);
    assert_eq!(c.shards_to_fit(&task, K0), 7630);
    // Weights re-read per token: 2e9 + (2e9 - k x 262,144) x 15 bytes over k x 18.75 B/cycle.
    let on = |k: u32| c.expected_task_cycles(&task, K0, k);
    let moved = |k: f64| 2e9 + (2e9 - k * 262_144.0) * 15.0;
    assert!((on(1) - moved(1.0) / 18.75).abs() < 1e-3);
    assert!((on(64) - moved(64.0) / (64.0 * 18.75)).abs() < 1e-3);
    // A 128^3 GEMM (98,304 B) fits one scratchpad; `delay` has no working set.
    let gemm = Task {
        kernel: Kernel::Gemm { m: Dist::Const(128.0), n: Dist::Const(128.0), k: Dist::Const(128.0) },
        dtype: DType::Fp16,
    };
    assert_eq!(c.shards_to_fit(&gemm, K0), 1);
    let delay = Task { kernel: Kernel::Delay { time: Dist::Const(1.0) }, dtype: DType::Fp16 };
    assert_eq!(c.shards_to_fit(&delay, K0), 1);
}
