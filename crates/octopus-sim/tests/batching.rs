//! LLM serving as it is done: iteration-level batching with a KV cache. The decode throughput of
//! a saturated `chip` is the roofline of its batched steps, and a GPU-like machine's decode time
//! per token for a 7B model is within 20 % of published measurements (`docs/evaluation.md`,
//! "LLM serving").

mod common;

use common::{Setup, config, machine};
use octopus_hw::{Machine, Ring, TbuId};
use octopus_sim::TraceKind;

/// Llama-2-7B (Touvron et al. 2023; its Hugging Face config: 32 layers, hidden 4096, 32 KV heads
/// of 128), decoding `tokens` after a prompt of `context`, `requests` of them at once.
fn llama2_7b(requests: u64, context: u64, tokens: u64, max_batch: u64) -> String {
    format!(
        "workflow serve\n\
         arrivals batch(requests = {requests})\n\
         task decode = llm_decode(params = 6.74G, layers = 32, hidden = 4096, kv_heads = 32, head_dim = 128,\n\
                                  context = {context}, tokens = {tokens}, max_batch = {max_batch})\n"
    )
}

#[test]
fn saturated_decode_runs_at_the_roofline_of_its_batched_steps() {
    // 512 sequences of 128 tokens after 1024 of context, in batches of at most 64, on `chip`.
    let s = Setup::new(&llama2_7b(512, 1024, 128, 64), Machine::preset("chip").unwrap());
    let k = s.plan.tasks[0].shards;
    assert_eq!(k, 256, "the decode runs on the whole die");
    let r = s.run(&config("static", None, 1)).result;
    let llm = &r.llm[0];
    assert_eq!((llm.sequences, llm.tokens), (512, 512 * 128));
    assert!(llm.mean_batch > 63.0, "the batch stays full: {}", llm.mean_batch);
    // The roofline of a step of 64 sequences at the mean context 1024 + 63.5, by hand:
    // - compute: 2 x 6.74e9 x 64 ops at 256 x 1638.4 x 0.95^8 ops/cycle;
    // - memory: the weights less the 256 x 256 KiB the scratchpads cache, 64 KV caches of
    //   1087.5 tokens x 524,288 B read and 64 entries written, at 256 x 18.75 B/cycle.
    let compute = 2.0 * 6.74e9 * 64.0 / (256.0 * 1638.4 * 0.95f64.powi(8));
    let kv = 2.0 * 32.0 * 32.0 * 128.0 * 2.0;
    let streamed = 6.74e9 * 2.0 - 256.0 * 262_144.0;
    let memory = (streamed + 64.0 * 1087.5 * kv + 64.0 * kv) / (256.0 * 18.75);
    assert!(memory > compute, "memory-bound: {memory} vs {compute}");
    // Plus two ring all-reduces per layer of 64 x 4096 x 2 B of activations over the die's TBUs.
    let tbus: Vec<TbuId> = (0..256).map(TbuId).collect();
    let collective = Ring::new(&s.machine, &tbus).all_reduce(64 * 4096 * 2).cycles as f64 * 64.0;
    let step = memory.max(compute) + collective;
    let roofline = 64.0 / step; // tokens per cycle
    let simulated = (512.0 * 128.0) / r.makespan_cycles as f64;
    let off = (simulated / roofline - 1.0).abs();
    assert!(off < 0.05, "decode throughput {simulated} tokens/cycle vs the roofline {roofline}: {off}");
    // Each step reads the weights once for the whole batch: far more than batch-1 throughput.
    let alone = 1.0 / ((streamed + 1087.5 * kv) / (256.0 * 18.75) + collective);
    assert!(simulated > 5.0 * alone, "{simulated} vs {alone} alone");
}

#[test]
fn a_gpu_like_machine_decodes_a_7b_model_within_20_percent_of_published_measurements() {
    let gpu = Machine::from_ron(include_str!("../../../examples/gpu_a100.ron"), "gpu_a100.ron")
        .unwrap_or_else(|e| panic!("{e:?}"));
    // Published decode times per token of Llama-2-7B fp16 on one A100-80GB (the file cites each).
    let published = include_str!("../../../examples/gpu_a100_decode.csv");
    let rows: Vec<&str> =
        published.lines().filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit())).collect();
    assert_eq!(rows.len(), 5);
    for row in rows {
        let f: Vec<&str> = row.splitn(5, ',').collect();
        let n = |i: usize| f[i].parse::<u64>().unwrap();
        let (batch, prompt, tokens, source) = (n(0), n(1), n(2), f[4]);
        let measured: f64 = f[3].parse().unwrap();
        let s = Setup::new(&llama2_7b(batch, prompt, tokens, 256), gpu.clone());
        let r = s.run(&config("greedy", None, 1)).result;
        let tpot = r.tpot.expect("decode sequences").p50_s;
        let off = tpot / measured - 1.0;
        assert!(off.abs() <= 0.20, "{source}: simulated {tpot} s per token, measured {measured}: {off:+.3}");
    }
}

#[test]
fn one_batch_serves_many_sequences_and_the_trace_shows_its_size() {
    let s = Setup::new(&llama2_7b(8, 64, 16, 256), machine(2, 2, 4));
    let mut c = config("greedy", None, 1);
    c.trace = true;
    let out = s.run(&c);
    let llm = &out.result.llm[0];
    assert_eq!(llm.sequences, 8);
    assert!(llm.max_batch >= 7, "the sequences shared steps: {llm:?}");
    assert!(llm.steps < 8 * 16, "fewer steps than sequences x tokens: {}", llm.steps);
    let sizes: Vec<u32> = out
        .trace
        .iter()
        .filter_map(|e| match e.kind {
            TraceKind::BatchSize { size, .. } => Some(size),
            _ => None,
        })
        .collect();
    assert_eq!(sizes.len() as u64, llm.steps);
    assert_eq!(*sizes.iter().max().unwrap(), llm.max_batch);
}
