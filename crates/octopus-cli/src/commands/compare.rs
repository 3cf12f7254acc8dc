//! `octopus compare FILE.owg --hw NAME|FILE.ron [--schedulers a,b,...]`: the same workload under
//! several schedulers, in parallel, with each one's speedup over `static`.

use std::sync::Mutex;

use octopus_hw::CostModel;
use octopus_sim::{SimConfig, SimResult};
use rayon::prelude::*;

use crate::commands::simulate::{Format, check_options};
use crate::exit;
use crate::simrun::{self, Progress};
use crate::table::{Align, Table, si, sig3};

/// Arguments of `octopus compare`.
#[derive(clap::Args)]
pub struct Args {
    /// The workflow, hardware, plan, requests and seed.
    #[command(flatten)]
    run: simrun::RunArgs,
    /// Schedulers to compare, comma separated (default: all). `static`, the baseline of the
    /// speedups, is always run.
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    schedulers: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Runs `octopus compare`.
pub fn run(args: &Args) -> u8 {
    let mut names: Vec<String> = if args.schedulers.is_empty() {
        octopus_sim::scheduler_names().iter().map(|s| (*s).to_owned()).collect()
    } else {
        let mut v: Vec<String> = Vec::new();
        for s in &args.schedulers {
            let s = s.trim().to_owned();
            if !s.is_empty() && !v.contains(&s) {
                v.push(s);
            }
        }
        v
    };
    if !names.iter().any(|n| n == "static") {
        names.insert(0, "static".to_owned());
    }
    if let Err(code) = check_options(&names, args.run.requests) {
        return code;
    }
    let loaded = match simrun::load(&args.run.file, &args.run.hw, args.run.plan.as_ref()) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let cost = CostModel::new(&loaded.machine);
    let inputs = loaded.inputs(&cost);
    let arrivals = match args.run.arrivals(&inputs) {
        Ok(a) => a,
        Err(code) => return code,
    };
    // Progress over all runs: requests completed summed over the schedulers.
    let done: Mutex<(Vec<u64>, Progress)> = Mutex::new((vec![0; names.len()], Progress::new("compare")));
    let results: Vec<_> = names
        .par_iter()
        .enumerate()
        .map(|(i, name)| {
            let config = SimConfig {
                scheduler: name.clone(),
                requests: args.run.requests,
                rate: arrivals.rate(),
                seed: args.run.seed,
                trace: false,
            };
            simrun::run_one(&inputs, &config, &arrivals, args.run.slo.as_ref(), &mut |d, t| {
                let mut g = done.lock().expect("no panics while holding the lock");
                g.0[i] = d;
                let sum = g.0.iter().sum();
                let total = t * g.0.len() as u64;
                g.1.update(sum, total);
            })
        })
        .collect();
    done.lock().expect("no panics while holding the lock").1.finish();
    let mut ok = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Ok(o) => ok.push(o.result),
            Err(e) => return loaded.report(e),
        }
    }
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&ok).expect("results serialise")),
        Format::Table => print!("{}", compare_table(&ok)),
    }
    exit::OK
}

/// The human comparison table; with a goodput search, each scheduler's goodput and its speedup
/// in goodput over `static` lead, and the other columns are of the run at the goodput.
pub fn compare_table(results: &[SimResult]) -> String {
    let base = results.iter().find(|r| r.scheduler == "static").map(|r| r.makespan_cycles as f64);
    let searched = results.iter().all(|r| r.goodput.is_some());
    let checked = results.iter().all(|r| r.slo_met.is_some());
    let base_goodput = results.iter().find(|r| r.scheduler == "static").and_then(|r| r.goodput.as_ref());
    let mut head: Vec<(&str, Align)> = vec![("scheduler", Align::Left)];
    if searched {
        head.extend([("goodput r/s", Align::Right), ("load", Align::Right), ("vs static", Align::Right)]);
    }
    if checked {
        head.push(("SLO", Align::Left));
    }
    head.extend([
        ("makespan s", Align::Right),
        ("speedup", Align::Right),
        ("x bound", Align::Right),
        ("req/s", Align::Right),
        ("p50 s", Align::Right),
        ("p99 s", Align::Right),
        ("util", Align::Right),
        ("upstream", Align::Right),
        ("queued", Align::Right),
        ("reconfigs", Align::Right),
        ("byte-hops", Align::Right),
    ]);
    let mut t = Table::new(&head);
    let pct = |x: f64| format!("{}%", sig3(100.0 * x));
    for r in results {
        let speedup = base.map_or("-".to_owned(), |b| format!("{}x", sig3(b / r.makespan_cycles as f64)));
        let mut row = vec![r.scheduler.clone()];
        if let Some(g) = r.goodput.as_ref().filter(|_| searched) {
            let at_least = if g.censored { ">=" } else { "" };
            let vs = base_goodput
                .filter(|b| b.goodput_rps > 0.0)
                .map_or("-".to_owned(), |b| format!("{}x", sig3(g.goodput_rps / b.goodput_rps)));
            row.extend([format!("{at_least}{}", sig3(g.goodput_rps)), sig3(g.goodput_load), vs]);
        }
        if let Some(met) = r.slo_met.filter(|_| checked) {
            row.push(if met { "met" } else { "violated" }.to_owned());
        }
        row.extend([
            sig3(r.makespan_s),
            speedup,
            sig3(r.makespan_over_lower_bound),
            sig3(r.throughput_rps),
            sig3(r.latency_p50_s),
            sig3(r.latency_p99_s),
            pct(r.utilization),
            pct(r.idle.upstream),
            pct(r.idle.queued),
            r.reconfigurations.to_string(),
            si(r.noc_byte_hops as f64),
        ]);
        t.row(row);
    }
    let title = results.first().map_or(String::new(), |r| {
        let arrivals = match (&r.goodput, r.arrival_rate_rps) {
            (Some(g), _) => format!(
                ", goodput at {} (Poisson arrivals, loads of {} req/s capacity)",
                g.slo,
                sig3(g.capacity_rps)
            ),
            (None, Some(rate)) => format!(", Poisson arrivals at {} req/s", sig3(rate)),
            (None, None) => String::new(),
        };
        format!("{} on {}: {} requests{arrivals}, seed {}\n\n", r.workflow, r.hardware, r.requests, r.seed)
    });
    format!("{title}{}", t.render())
}
