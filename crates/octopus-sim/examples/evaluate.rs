//! The evaluation of `docs/evaluation.md`: every workflow of `workflows/`, every scheduler, one
//! closed batch of requests on one hardware preset; prints markdown tables.
//!
//! ```text
//! cargo run --release -p octopus-sim --example evaluate -- --hw chip --requests 1000 --seed 1
//! ```
//!
//! Options: `--hw NAME` (a preset: chip, package, wafer), `--requests N` (a closed batch at time 0),
//! `--seed S`, `--workflows a,b` (file stems; default all), `--schedulers a,b` (default all),
//! `--json` (one JSON result per line after the tables). Runs go in parallel (rayon) and are
//! deterministic: the tables do not depend on the thread count.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use common::{load, per_scheduler, ratio_table, workflow_files};
use octopus_hw::{CostModel, Machine};
use octopus_owg::Module;
use octopus_sim::{Inputs, SimConfig, SimResult};
use rayon::prelude::*;

const BASELINES: &[&str] = &["static", "reactive", "greedy", "steal"];
const OCTOPUS: &str = "octopus";
const ABLATIONS: &[&str] = &["octopus-no-dds", "octopus-no-adaptive", "octopus-no-proactive"];
const PARTS: &[&str] = &["dds", "adaptive", "proactive"];

struct Args {
    hw: String,
    requests: u64,
    seed: u64,
    workflows: Option<Vec<String>>,
    schedulers: Option<Vec<String>>,
    json: bool,
}

fn parse_args() -> Args {
    let mut a =
        Args { hw: "chip".into(), requests: 1000, seed: 1, workflows: None, schedulers: None, json: false };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--hw" => a.hw = value(),
            "--requests" => a.requests = value().parse().expect("--requests N"),
            "--seed" => a.seed = value().parse().expect("--seed S"),
            "--workflows" => a.workflows = Some(value().split(',').map(str::to_owned).collect()),
            "--schedulers" => a.schedulers = Some(value().split(',').map(str::to_owned).collect()),
            "--json" => a.json = true,
            other => panic!("unknown option `{other}`"),
        }
    }
    a
}

fn main() {
    let args = parse_args();
    let files = workflow_files(args.workflows.as_deref());
    let machine = Machine::preset(&args.hw).unwrap_or_else(|e| panic!("{e}"));
    let cost = CostModel::new(&machine);
    let schedulers: Vec<String> = match &args.schedulers {
        Some(s) => s.clone(),
        None => octopus_sim::scheduler_names().iter().map(|s| (*s).to_owned()).collect(),
    };
    let started = Instant::now();
    let modules: Vec<Module> = files.par_iter().map(|p| load(p)).collect();
    let plans: Vec<_> =
        modules.par_iter().map(|m| octopus_compiler::compile(m, &machine).expect("compiles")).collect();
    let jobs: Vec<(usize, &str)> =
        (0..modules.len()).flat_map(|w| schedulers.iter().map(move |s| (w, s.as_str()))).collect();
    let results: Vec<SimResult> = jobs
        .par_iter()
        .map(|&(w, s)| {
            let inputs = Inputs {
                workflow: &modules[w].workflow,
                analysis: &modules[w].analysis,
                machine: &machine,
                cost: &cost,
                plan: &plans[w],
            };
            let config = SimConfig {
                scheduler: s.to_owned(),
                requests: Some(args.requests),
                rate: None,
                seed: args.seed,
                trace: false,
            };
            octopus_sim::simulate(&inputs, &config)
                .unwrap_or_else(|e| panic!("{} / {s}: {e}", modules[w].workflow.name))
                .result
        })
        .collect();
    let elapsed = started.elapsed();
    let mut table: BTreeMap<(usize, &str), &SimResult> = BTreeMap::new();
    for (&(w, s), r) in jobs.iter().zip(&results) {
        table.insert((w, s), r);
    }
    let names: Vec<&str> = modules.iter().map(|m| m.workflow.name.as_str()).collect();
    let has = |s: &str| schedulers.iter().any(|x| x == s);
    let ms = |w: usize, s: &str| table[&(w, s)].makespan_cycles as f64;

    println!(
        "hardware `{}` ({} TBUs), {} requests per run (closed batch), seed {}\n",
        machine.name(),
        machine.tbus.len(),
        args.requests,
        args.seed
    );
    // Makespans, in milliseconds.
    println!("### Makespan (ms)\n");
    per_scheduler(&names, &[], &schedulers, |w| {
        schedulers.iter().map(|s| format!("{:.3}", table[&(w, s.as_str())].makespan_s * 1e3)).collect()
    });

    if has(OCTOPUS) {
        let base: Vec<&str> = BASELINES.iter().copied().filter(|b| has(b)).collect();
        let headers: Vec<String> = base.iter().map(|b| format!("vs {b}")).collect();
        println!("### Speedup of `octopus` (baseline makespan / octopus makespan)\n");
        ratio_table(&names, &base, &headers, |w, b| ms(w, b) / ms(w, OCTOPUS), 2, "x", true);

        let abl: Vec<&str> = ABLATIONS.iter().chain(PARTS).copied().filter(|a| has(a)).collect();
        if !abl.is_empty() {
            let headers: Vec<String> = abl.iter().map(|a| a.to_string()).collect();
            println!("### Ablation (makespan relative to `octopus`; above 1 = slower without the part)\n");
            ratio_table(&names, &abl, &headers, |w, a| ms(w, a) / ms(w, OCTOPUS), 3, "", false);
            // An ablation whose run is identical to octopus's (every metric but the name) changed
            // nothing: the part it removes did not act on that workflow.
            let same = |w: usize, a: &str| {
                let mut x = table[&(w, a)].clone();
                x.scheduler = OCTOPUS.to_owned();
                &x == table[&(w, OCTOPUS)]
            };
            for a in &abl {
                let noop: Vec<&str> = (0..names.len()).filter(|&w| same(w, a)).map(|w| names[w]).collect();
                if !noop.is_empty() {
                    println!("- `{a}`: identical to `octopus` (a no-op) on {}", noop.join(", "));
                }
            }
            println!();
        }
    }

    println!("### Makespan over lower bound (1 is optimal)\n");
    per_scheduler(&names, &["lower bound (ms)"], &schedulers, |w| {
        let lb =
            table[&(w, schedulers[0].as_str())].lower_bound_cycles as f64 / (machine.spec.clock_ghz * 1e6);
        [format!("{lb:.3}")]
            .into_iter()
            .chain(
                schedulers
                    .iter()
                    .map(|s| format!("{:.2}", table[&(w, s.as_str())].makespan_over_lower_bound)),
            )
            .collect()
    });

    let llm: Vec<usize> =
        (0..names.len()).filter(|&w| table[&(w, schedulers[0].as_str())].tpot.is_some()).collect();
    if !llm.is_empty() {
        println!("### LLM serving: TTFT p50 / TPOT p50 (s)\n");
        let llm_names: Vec<&str> = llm.iter().map(|&w| names[w]).collect();
        per_scheduler(&llm_names, &[], &schedulers, |i| {
            let w = llm[i];
            schedulers
                .iter()
                .map(|s| {
                    let r = table[&(w, s.as_str())];
                    let (t, p) = (r.ttft.expect("decode"), r.tpot.expect("decode"));
                    format!("{:.3} / {:.4}", t.p50_s, p.p50_s)
                })
                .collect()
        });
    }

    println!("### Utilisation and reconfigurations\n");
    per_scheduler(&names, &[], &schedulers, |w| {
        schedulers
            .iter()
            .map(|s| {
                let r = table[&(w, s.as_str())];
                format!("{:.0}% / {}", r.utilization * 100.0, r.reconfigurations)
            })
            .collect()
    });
    eprintln!(
        "{} runs in {:.1} s (wall clock; not part of the results)",
        results.len(),
        elapsed.as_secs_f64()
    );
    if args.json {
        for r in &results {
            println!("{}", serde_json::to_string(r).unwrap());
        }
    }
}
