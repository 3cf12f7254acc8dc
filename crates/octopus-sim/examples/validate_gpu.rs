//! LLM decode on a GPU-like machine against published measurements: the table of
//! `docs/evaluation.md`, "LLM serving".
//!
//! ```text
//! cargo run --release -p octopus-sim --example validate_gpu
//! ```
//!
//! For each row of `examples/gpu_a100_decode.csv` (Llama-2-7B fp16 on one A100-80GB, published),
//! it simulates `batch` sequences of `tokens` after a prompt of `prompt` on
//! `examples/gpu_a100.ron` under `greedy` (one batch holds them all) and prints the simulated
//! median time per output token beside the measured one.

use octopus_hw::{CostModel, Machine};
use octopus_owg::NoFiles;
use octopus_sim::{Inputs, SimConfig};

fn main() {
    let gpu = Machine::from_ron(include_str!("../../../examples/gpu_a100.ron"), "gpu_a100.ron")
        .unwrap_or_else(|e| panic!("{e:?}"));
    let cost = CostModel::new(&gpu);
    println!("| batch | prompt | tokens | measured ms/token | simulated ms/token | off | source |");
    println!("|---:|---:|---:|---:|---:|---:|---|");
    for row in rows(include_str!("../../../examples/gpu_a100_decode.csv")) {
        let module = octopus_owg::check(&llama2_7b(row.batch, row.prompt, row.tokens), "serve", &NoFiles)
            .module
            .expect("a valid workflow");
        let plan = octopus_compiler::compile(&module, &gpu).expect("compiles");
        let inputs = Inputs {
            workflow: &module.workflow,
            analysis: &module.analysis,
            machine: &gpu,
            cost: &cost,
            plan: &plan,
        };
        let r = octopus_sim::simulate(&inputs, &SimConfig::new("greedy")).expect("runs").result;
        let tpot = r.tpot.expect("decode sequences").p50_s;
        println!(
            "| {} | {} | {} | {:.2} | {:.2} | {:+.1} % | {} |",
            row.batch,
            row.prompt,
            row.tokens,
            row.measured * 1e3,
            tpot * 1e3,
            (tpot / row.measured - 1.0) * 100.0,
            row.source
        );
    }
}

/// Llama-2-7B (its Hugging Face config: 32 layers, hidden 4096, 32 KV heads of 128).
fn llama2_7b(requests: u64, context: u64, tokens: u64) -> String {
    format!(
        "workflow serve\narrivals batch(requests = {requests})\n\
         task decode = llm_decode(params = 6.74G, layers = 32, hidden = 4096, kv_heads = 32, head_dim = 128, \
         context = {context}, tokens = {tokens})\n"
    )
}

/// One published measurement.
struct Row {
    batch: u64,
    prompt: u64,
    tokens: u64,
    measured: f64,
    source: String,
}

/// The rows of the CSV: comments and the header skipped, the last field quoted.
fn rows(text: &str) -> Vec<Row> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("batch") && !l.trim().is_empty())
        .map(|l| {
            let (nums, source) = l.split_once(",\"").expect("a quoted source");
            let f: Vec<&str> = nums.split(',').collect();
            Row {
                batch: f[0].parse().expect("batch"),
                prompt: f[1].parse().expect("prompt"),
                tokens: f[2].parse().expect("tokens"),
                measured: f[3].parse().expect("seconds"),
                source: source.trim_end_matches('"').to_owned(),
            }
        })
        .collect()
}
