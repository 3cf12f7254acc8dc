//! The cost model against hand-computed values on the `chip` preset:
//! one TBU peaks at 32 x 32 x 2 = 2048 ops/cycle (AI kernels reach 0.8 of it: 1638.4, general
//! compute 0.1: 204.8); its memory share is 4800 GB/s / 1 GHz / 256 TBUs = 18.75 B/cycle; its
//! scratchpad holds 256 KiB = 262,144 B; a configuration loads in 2048 cycles.

use octopus_hw::{CostModel, Hops, LlmModel, Machine, Profile, Ring, StepLoad, TbuId, TbuKindId};
use octopus_owg::dist::Dist;
use octopus_owg::ir::{DType, Kernel, LlmSpec, Resident, Task};

const K0: TbuKindId = TbuKindId(0);

fn chip() -> Machine {
    Machine::preset("chip").unwrap()
}

fn task(kernel: Kernel<f64>, resident: Resident) -> Task {
    let mut t = Task::new(kernel.map(|&x, _| Dist::Const(x)), DType::Fp16);
    t.resident = resident;
    t
}

#[test]
fn per_tbu_rates() {
    let m = chip();
    let c = CostModel::new(&m);
    assert_eq!(c.memory_bytes_per_cycle_per_tbu(), 18.75);
    assert_eq!(c.ops_per_cycle(K0, 1, false), 1638.4);
    assert!((c.ops_per_cycle(K0, 1, true) - 204.8).abs() < 1e-9);
    // Four TBUs: two doublings at 0.95 each.
    assert!((c.ops_per_cycle(K0, 4, false) - 4.0 * 1638.4 * 0.9025).abs() < 1e-9);
}

#[test]
fn small_gemm_fits_and_is_memory_bound() {
    let m = chip();
    let c = CostModel::new(&m);
    let g = Kernel::Gemm { m: 128.0, n: 128.0, k: 128.0 };
    let p = Profile::NONE;
    // ops 4,194,304 / 1638.4 = 2560 cycles; bytes 3 x 128^2 x 2 = 98,304 / 18.75 = 5242.88 -> 5243.
    assert_eq!(c.traffic(&g, DType::Fp16, &p, K0, 1).moved, 98_304.0);
    assert_eq!(c.run_cycles(&g, DType::Fp16, &p, K0, 1), 5243);
    // On 4 TBUs: 98,304 / 75 = 1310.72 -> 1311 (compute 709.1).
    assert_eq!(c.run_cycles(&g, DType::Fp16, &p, K0, 4), 1311);
    // int8 halves the bytes: 49,152 / 18.75 = 2621.44, compute 2560 -> 2622.
    assert_eq!(c.run_cycles(&g, DType::Int8, &p, K0, 1), 2622);
}

#[test]
fn large_gemm_streams_tiles_and_is_compute_bound() {
    let m = chip();
    let c = CostModel::new(&m);
    let g = Kernel::Gemm { m: 1024.0, n: 1024.0, k: 1024.0 };
    // Tiles of side sqrt(262144 / 6) = 209.02: 2 x 1024^3 x 2 / 209.02 + 1024^2 x 2 = 22,644,961 B.
    let t = (262_144.0f64 / 6.0).sqrt();
    let moved = 2.0 * 1024f64.powi(3) * 2.0 / t + 1024f64.powi(2) * 2.0;
    let tr = c.traffic(&g, DType::Fp16, &Profile::NONE, K0, 1);
    assert!((tr.moved - moved).abs() < 1.0 && (moved - 22_644_961.25).abs() < 0.01);
    assert_eq!(tr.working_set, 6_291_456.0);
    // Compute 2^31 / 1638.4 = 1,310,720 cycles beats memory 22,644,961 / 18.75 = 1,207,731.
    assert_eq!(c.run_cycles(&g, DType::Fp16, &Profile::NONE, K0, 1), 1_310_720);
}

#[test]
fn resident_weights_are_loaded_cold_and_not_read_warm() {
    let m = chip();
    let c = CostModel::new(&m);
    // A 128^3 GEMM whose right operand is weights: 128 x 128 x 2 = 32,768 B, they fit.
    let g = Kernel::Gemm { m: 128.0, n: 128.0, k: 128.0 };
    let p = c.profile(&task(g.clone(), Resident::GemmWeights));
    assert_eq!(p.weights, 32_768.0);
    assert_eq!(c.resident_per_shard(&p, K0, 1), 32_768.0);
    // Cold: the configuration (2048) and the weights at 18.75 B/cycle (1747.6 -> 1748).
    assert_eq!(c.load_cycles(&p, K0, 1), 2048 + 1748);
    // Warm: activations only, (128 x 128 + 128 x 128) x 2 = 65,536 B / 18.75 = 3495.3 -> 3496.
    assert_eq!(c.traffic(&g, DType::Fp16, &p, K0, 1).moved, 65_536.0);
    assert_eq!(c.run_cycles(&g, DType::Fp16, &p, K0, 1), 3496);
    // Without the mark nothing is resident and a cold TBU pays the configuration only.
    let plain = c.profile(&task(g, Resident::Implied));
    assert_eq!((plain.weights, c.load_cycles(&plain, K0, 1)), (0.0, 2048));
    // A convolution's filters are its weights: 64 x 64 x 3 x 3 x 2 = 73,728 B; an explicit
    // `resident = SIZE` replaces them.
    let conv = Kernel::Conv2d { h: 32.0, w: 32.0, cin: 64.0, cout: 64.0, kernel: 3.0, stride: 1.0 };
    assert_eq!(c.profile(&task(conv.clone(), Resident::Implied)).weights, 73_728.0);
    assert_eq!(c.profile(&task(conv, Resident::Bytes(1000.0))).weights, 1000.0);
}

#[test]
fn weights_that_do_not_fit_stream_per_execution() {
    let m = chip();
    let c = CostModel::new(&m);
    // 1024 x 1024 x 2 = 2 MiB of weights: more than one scratchpad.
    let g = Kernel::Gemm { m: 64.0, n: 1024.0, k: 1024.0 };
    let p = c.profile(&task(g.clone(), Resident::GemmWeights));
    assert_eq!(p.weights, 2_097_152.0);
    assert_eq!(c.resident_per_shard(&p, K0, 1), 0.0);
    assert_eq!(c.load_cycles(&p, K0, 1), 2048);
    // The whole working set (64 x 1024 + 1024^2 + 64 x 1024) x 2 = 2,359,296 B is read every
    // time (the tiles' traffic is smaller here): 125,829.1 -> 125,830 cycles.
    assert_eq!(c.traffic(&g, DType::Fp16, &p, K0, 1).moved, 2_359_296.0);
    assert_eq!(c.run_cycles(&g, DType::Fp16, &p, K0, 1), 125_830);
    // On 8 TBUs each keeps its 262,144 B share: loaded cold in 2048 + 13,982 cycles, and a warm
    // run reads only the activations, 262,144 B over 150 B/cycle (1747.6; compute 11,943.9).
    assert_eq!(c.resident_per_shard(&p, K0, 8), 262_144.0);
    assert_eq!(c.load_cycles(&p, K0, 8), 16_030);
    assert_eq!(c.traffic(&g, DType::Fp16, &p, K0, 8).moved, 262_144.0);
    assert_eq!(c.run_cycles(&g, DType::Fp16, &p, K0, 8), 11_944);
}

#[test]
fn llm_decode_alone_streams_its_weights_every_step_and_reads_its_kv_cache() {
    let m = chip();
    let c = CostModel::new(&m);
    // 1G fp16 parameters with the default shape: 17 layers of 2176 (17 heads of 128), so
    // 2 x 17 x 17 x 128 x 2 = 147,968 B of KV cache per token.
    let model = LlmModel::of(1e9, 2, &LlmSpec::default());
    assert_eq!((model.layers, model.hidden, model.kv_heads, model.head_dim), (17, 2176, 17, 128));
    assert_eq!(model.kv_bytes_per_token(), 147_968.0);
    let d = Kernel::LlmDecode { params: 1e9, tokens: 10.0, context: 0.0 };
    let p = c.profile(&task(d.clone(), Resident::Implied));
    // The scratchpad caches 262,144 B of the weights; each of the 10 steps streams the rest and
    // reads the cache of 0..9 tokens and writes one: 10 (2e9 - 262,144) + 147,968 x 55 B.
    assert_eq!(c.traffic(&d, DType::Fp16, &p, K0, 1).moved, 20_005_516_800.0);
    assert_eq!(c.run_cycles(&d, DType::Fp16, &p, K0, 1), 1_066_960_896);
}

#[test]
fn a_batch_step_reads_the_weights_once_and_every_kv_cache() {
    let m = chip();
    let c = CostModel::new(&m);
    let model = LlmModel::of(1e9, 2, &LlmSpec::default());
    let d = Kernel::LlmDecode { params: 1e9, tokens: 10.0, context: 1000.0 };
    let p = c.profile(&task(d, Resident::Implied));
    // 32 sequences at a context of 1000 on 8 TBUs: the weights less 8 x 262,144 B cached, plus
    // 32 x 1000 caches of 147,968 B read and 32 entries written, over 8 x 18.75 B/cycle:
    // 6,737,613,824 / 150 = 44,917,425.5 cycles; compute 2e9 x 32 / (8 x 1638.4 x 0.95^3) is 5.7 M.
    let load = StepLoad { tokens: 32.0, kv_read: 32.0 * 1000.0 * 147_968.0, kv_write: 32.0 * 147_968.0 };
    assert_eq!(c.step_cycles(&model, &p, K0, 8, &load), 44_917_426);
}

#[test]
fn ring_collectives_follow_the_formula() {
    let m = chip();
    let c = CostModel::new(&m);
    // Eight TBUs of cluster 0: every edge of the ring crosses the cluster's router, 64 B/cycle.
    let local: Vec<TbuId> = (0..8).map(TbuId).collect();
    let ring = Ring::new(&m, &local);
    // All-reduce of 8 KiB: 2 x 7 steps of 1024 B chunks, 16 cycles each.
    assert_eq!(ring.all_reduce(8192).cycles, 14 * 16);
    assert_eq!(ring.all_reduce(8192).byte_hops, 0);
    // Sixteen TBUs of clusters 0 and 1 (neighbours): two edges cross one link each way (2 cycles
    // per hop): a step is ceil(chunk / 64) + 2; 2 x 15 steps of 1024 B chunks.
    let two: Vec<TbuId> = (0..16).map(TbuId).collect();
    let ring = Ring::new(&m, &two);
    let ar = ring.all_reduce(16_384);
    assert_eq!(ar.cycles, 30 * (16 + 2));
    assert_eq!(ar.byte_hops, 30 * 1024 * 2);
    // A gather is half the steps.
    assert_eq!(ring.gather(16_384).cycles, 15 * 18);
    // One TBU: nothing to exchange.
    assert_eq!(Ring::new(&m, &local[..1]).all_reduce(1 << 20).cycles, 0);
    // A step of an LLM batch: two all-reduces per layer of the tokens' activations.
    let model = LlmModel::of(1e9, 2, &LlmSpec::default());
    let step = c.step_collective(&model, 4.0, &ring);
    assert_eq!(step, ring.all_reduce(4 * 2176 * 2).times(34));
}

#[test]
fn expected_costs_give_warm_and_cold_from_one_function() {
    let m = chip();
    let c = CostModel::new(&m);
    let g = Kernel::Gemm { m: 128.0, n: 128.0, k: 128.0 };
    let t = task(g, Resident::GemmWeights);
    let e = c.expected_exec(&t, K0, 1, &c.compact_ring(K0, 1));
    // Warm: 65,536 B / 18.75 = 3495.25 cycles; cold adds the load of 3796.
    assert!((e.run - 65_536.0 / 18.75).abs() < 1e-9);
    assert_eq!((e.collective, e.load), (0.0, 3796.0));
    assert_eq!(e.cold(), e.warm() + 3796.0);
    assert_eq!(c.expected_cycles(&t, K0, 1), e.run);
}

#[test]
fn expected_cycles_are_exact_where_cost_is_linear() {
    let m = chip();
    let c = CostModel::new(&m);
    // Compute-bound kernels: the exact mean of the operations, E[m] E[n] E[k] here.
    let kernel = Kernel::Gemm {
        m: Dist::UniformInt { lo: 512, hi: 1536 },
        n: Dist::Const(1024.0),
        k: Dist::Const(1024.0),
    };
    let task = Task::new(kernel, DType::Fp16);
    assert!((c.expected_cycles(&task, K0, 1) - 2.0 * 1024f64.powi(3) / 1638.4).abs() < 1e-6);
    assert_eq!(c.max_working_set(&task), (1536.0 * 1024.0 * 2.0 + 1024.0 * 1024.0) * 2.0);
}

#[test]
fn kv_capacity_and_the_design_batch() {
    let m = chip();
    let c = CostModel::new(&m);
    // Two blocks of one 1G model share its 2e9 B of weights: 134.1 GiB less 2e9 B are left.
    let prefill = task(Kernel::LlmPrefill { params: 1e9, tokens: 1000.0 }, Resident::Implied);
    let decode = task(Kernel::LlmDecode { params: 1e9, tokens: 100.0, context: 1000.0 }, Resident::Implied);
    let profiles = [c.profile(&prefill), c.profile(&decode)];
    let cap = c.kv_capacity(&profiles);
    assert_eq!(cap, 134.1 * f64::from(1u32 << 30) - 2e9);
    // A decode sequence holds (1000 + 100) x 147,968 B at its longest: 162.8 MB, so 872 fit,
    // more than `max_batch` (256).
    assert_eq!(c.mean_kv_bytes(&decode), 1100.0 * 147_968.0);
    assert_eq!(c.design_batch(&decode, cap), 256.0);
    assert_eq!(c.design_batch(&decode, 1e10), (1e10_f64 / (1100.0 * 147_968.0)).floor());
}

#[test]
fn general_compute_delay_and_streaming_kernels() {
    let m = chip();
    let c = CostModel::new(&m);
    let p = Profile::NONE;
    // 1e6 ops at 204.8 ops/cycle = 4882.8 -> 4883.
    assert_eq!(c.run_cycles(&Kernel::Compute { ops: 1e6, bytes: 0.0 }, DType::Fp16, &p, K0, 1), 4883);
    // 1e6 ops, 1 MB: memory 1e6 / 18.75 = 53,333.3 -> 53,334.
    assert_eq!(c.run_cycles(&Kernel::Compute { ops: 1e6, bytes: 1e6 }, DType::Fp16, &p, K0, 1), 53_334);
    // A delay is its time: 1 ms at 1 GHz.
    assert_eq!(c.run_cycles(&Kernel::Delay { time: 1e-3 }, DType::Fp16, &p, K0, 64), 1_000_000);
    // Elementwise reads and writes: 2 x 1e6 x 2 B / 18.75 = 213,333.3 -> 213,334.
    let e = Kernel::Elementwise { elems: 1e6, ops_per_elem: 4.0 };
    assert_eq!(c.run_cycles(&e, DType::Fp16, &p, K0, 1), 213_334);
    // Attention, seq 4096, 32 heads, dim 128, fp16: working set 4 x 4096 x 32 x 128 x 2 = 128 MiB;
    // rows per block 262,144 / (4 x 128 x 2) = 256, 16 blocks: 32 x 4096 x 128 x 2 x (2 + 32) B.
    let a = Kernel::Attention { seq: 4096.0, heads: 32.0, dim: 128.0 };
    let tr = c.traffic(&a, DType::Fp16, &p, K0, 1);
    assert_eq!(tr.working_set, 134_217_728.0);
    assert_eq!(tr.moved, 32.0 * 4096.0 * 128.0 * 2.0 * 34.0);
}

#[test]
fn reconfiguration_control_and_transfers() {
    let chip = chip();
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
fn shards_hold_the_working_set() {
    let m = chip();
    let c = CostModel::new(&m);
    // 1G fp16 parameters: 2,000,000,000 B / 262,144 B per scratchpad = 7629.4 -> 7630 shards.
    let decode = Task::new(
        Kernel::LlmDecode { params: Dist::Const(1e9), tokens: Dist::Const(16.0), context: Dist::Const(0.0) },
        DType::Fp16,
    );
    assert_eq!(c.mean_working_set(&decode), 2e9);
    assert_eq!(c.shards_to_fit(&decode, K0), 7630);
    // A 128^3 GEMM (98,304 B) fits one scratchpad; `delay` has no working set.
    let gemm = Task::new(
        Kernel::Gemm { m: Dist::Const(128.0), n: Dist::Const(128.0), k: Dist::Const(128.0) },
        DType::Fp16,
    );
    assert_eq!(c.shards_to_fit(&gemm, K0), 1);
    let delay = Task::new(Kernel::Delay { time: Dist::Const(1.0) }, DType::Fp16);
    assert_eq!(c.shards_to_fit(&delay, K0), 1);
}
