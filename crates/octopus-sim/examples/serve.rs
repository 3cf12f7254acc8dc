//! The open-loop evaluation of `docs/evaluation.md`: every workflow of `workflows/` under Poisson
//! arrivals at loads 0.3, 0.5, 0.7 and 0.9 of the machine's capacity for it (`octopus_sim::capacity`),
//! latency p50 / p99 per scheduler, goodput at an SLO (`octopus_sim::serving::search`), the
//! speedups of `octopus` and the ablation at load 0.7; with `--scaling`, goodput on 1, 4, 16 and
//! 84 dies of the wafer, its scaling efficiency and the throughput scaling at load 0.7. Prints
//! Markdown tables.
//!
//! ```text
//! cargo run --release -p octopus-sim --example serve -- --hw chip --requests 1000 --seed 1
//! cargo run --release -p octopus-sim --example serve -- --hw wafer --requests 1000 --seed 1
//! cargo run --release -p octopus-sim --example serve -- --scaling --requests 1000 --seed 1
//! ```
//!
//! Options: `--hw NAME|FILE.ron`, `--requests N` (per run at least), `--window K` (default 10: a
//! run has at least `K x capacity x the median critical path` requests, so that its arrivals span
//! K median critical paths at load 1), `--seed S`, `--workflows a,b`,
//! `--schedulers a,b` (the compared ones; default the realisable baselines, `greedy-oracle` and
//! `octopus`), `--slo BOUNDS` (default `slowdown_p90<5x`), `--scaling` with `--dies 1,4,...` (a
//! subset of the scales; the efficiency is against the 1-die goodput, so keep 1). Runs go in parallel (rayon),
//! one search per workflow and scheduler; every run is deterministic, so the tables do not depend
//! on the thread count.

mod common;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use common::{geomean, load, per_scheduler, print_table, ratio_table, root, workflow_files};
use octopus_compiler::Plan;
use octopus_hw::{CostModel, Machine};
use octopus_owg::Module;
use octopus_sim::{Goodput, Inputs, Search, SimConfig, SimResult, Slo};
use rayon::prelude::*;

/// The loads of the latency tables (on the search's grid, so the search reuses their runs).
const LOADS: [f64; 4] = [0.3, 0.5, 0.7, 0.9];
/// The load of the speedup and ablation tables.
const AT: f64 = 0.7;
const OCTOPUS: &str = "octopus";
/// Realisable baselines, compared with `octopus`; `greedy-oracle` is a reference beside them.
const BASELINES: &[&str] = &["static", "reactive", "greedy", "steal"];
const REFERENCE: &str = "greedy-oracle";
const ABLATIONS: &[&str] =
    &["octopus-no-dds", "octopus-no-adaptive", "octopus-no-proactive", "octopus-central"];
/// The wafer scaling: dies per machine and where its description is.
const SCALES: &[(u32, &str)] =
    &[(1, "examples/wafer_1.ron"), (4, "examples/wafer_4.ron"), (16, "examples/wafer_16.ron"), (84, "wafer")];

struct Args {
    hw: String,
    /// Requests per run at least; more when the workflow's window asks for them.
    requests: u64,
    /// The arrival window at load 1, in median critical paths: a run has at least
    /// `window x capacity x critical path p50` requests.
    window: f64,
    seed: u64,
    workflows: Option<Vec<String>>,
    schedulers: Option<Vec<String>>,
    slo: Slo,
    scaling: bool,
    /// The scales of `--scaling` to run (default all of [`SCALES`]).
    dies: Option<Vec<u32>>,
}

fn parse_args() -> Args {
    let mut a = Args {
        hw: "chip".into(),
        requests: 1000,
        window: 10.0,
        seed: 1,
        workflows: None,
        schedulers: None,
        slo: "slowdown_p90<5x".parse().expect("a valid SLO"),
        scaling: false,
        dies: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--hw" => a.hw = value(),
            "--requests" => a.requests = value().parse().expect("--requests N"),
            "--window" => a.window = value().parse().expect("--window K"),
            "--seed" => a.seed = value().parse().expect("--seed S"),
            "--workflows" => a.workflows = Some(value().split(',').map(str::to_owned).collect()),
            "--schedulers" => a.schedulers = Some(value().split(',').map(str::to_owned).collect()),
            "--slo" => a.slo = value().parse().unwrap_or_else(|e| panic!("--slo: {e}")),
            "--scaling" => a.scaling = true,
            "--dies" => {
                a.dies = Some(value().split(',').map(|d| d.parse().expect("--dies 1,4,...")).collect())
            }
            other => panic!("unknown option `{other}`"),
        }
    }
    a
}

/// A preset by name, or a description file (relative to the repository's root).
fn machine(hw: &str) -> Machine {
    if hw.ends_with(".ron") {
        let path = root().join(hw);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Machine::from_ron(&text, hw).unwrap_or_else(|e| panic!("{hw}: {e:?}"))
    } else {
        Machine::preset(hw).unwrap_or_else(|e| panic!("{e}"))
    }
}

/// Three significant digits, in seconds or milliseconds.
fn time(s: f64) -> String {
    let (v, unit) = if s < 1.0 { (s * 1e3, "ms") } else { (s, "s") };
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$} {unit}")
}

/// One workflow's runs on one machine: its requests per run, per scheduler its runs by load
/// (memoised: the latency tables and the goodput search share them) and its goodput.
struct Runs {
    requests: u64,
    by_load: BTreeMap<(String, u64), SimResult>,
    goodput: BTreeMap<String, Goodput>,
}

/// Every workflow on `machine` under `schedulers`: the goodput search of each (with the runs at
/// `LOADS` first) and, for `extra`, one run at `AT`.
fn evaluate(
    machine: &Machine,
    modules: &[Module],
    schedulers: &[String],
    extra: &[String],
    args: &Args,
) -> (Vec<Plan>, Vec<f64>, Vec<Runs>) {
    let cost = CostModel::new(machine);
    let plans: Vec<Plan> =
        modules.par_iter().map(|m| octopus_compiler::compile(m, machine).expect("compiles")).collect();
    let inputs = |w: usize| Inputs {
        workflow: &modules[w].workflow,
        analysis: &modules[w].analysis,
        machine,
        cost: &cost,
        plan: &plans[w],
    };
    let capacity: Vec<f64> = (0..modules.len())
        .map(|w| octopus_sim::capacity(&inputs(w)).expect("every workflow has work").requests_per_second)
        .collect();
    // A finite stream hides overload: N requests at a rate the machine cannot sustain end within
    // N / throughput. So the arrival window at load 1 spans at least `window` median critical
    // paths (the critical paths are the same under every scheduler and at every rate).
    let requests: Vec<u64> = (0..modules.len())
        .into_par_iter()
        .map(|w| {
            let config = SimConfig {
                scheduler: schedulers[0].clone(),
                requests: Some(args.requests),
                rate: Some(LOADS[0] * capacity[w]),
                seed: args.seed,
                trace: false,
            };
            let r = octopus_sim::simulate(&inputs(w), &config).expect("runs").result;
            let n = (args.window * capacity[w] * r.request_critical_path.p50_s).ceil() as u64;
            n.max(args.requests)
        })
        .collect();
    let runs: Vec<Mutex<Runs>> = requests
        .iter()
        .map(|&n| Mutex::new(Runs { requests: n, by_load: BTreeMap::new(), goodput: BTreeMap::new() }))
        .collect();
    let run = |w: usize, s: &str, load: f64| -> SimResult {
        let key = (s.to_owned(), load.to_bits());
        if let Some(r) = runs[w].lock().unwrap().by_load.get(&key) {
            return r.clone();
        }
        let config = SimConfig {
            scheduler: s.to_owned(),
            requests: Some(requests[w]),
            rate: Some(load * capacity[w]),
            seed: args.seed,
            trace: false,
        };
        let r = octopus_sim::simulate(&inputs(w), &config)
            .unwrap_or_else(|e| panic!("{} / {s} at load {load}: {e}", modules[w].workflow.name))
            .result;
        runs[w].lock().unwrap().by_load.insert(key, r.clone());
        r
    };
    let jobs: Vec<(usize, &str, bool)> = (0..modules.len())
        .flat_map(|w| {
            schedulers
                .iter()
                .map(move |s| (w, s.as_str(), true))
                .chain(extra.iter().map(move |s| (w, s.as_str(), false)))
        })
        .collect();
    jobs.par_iter().for_each(|&(w, s, search)| {
        if !search {
            run(w, s, AT);
            return;
        }
        for load in LOADS {
            run(w, s, load);
        }
        let (g, _) = octopus_sim::serving::search(&args.slo, capacity[w], &Search::default(), &mut |load| {
            Ok(run(w, s, load))
        })
        .unwrap_or_else(|e| panic!("{} / {s}: {e}", modules[w].workflow.name));
        runs[w].lock().unwrap().goodput.insert(s.to_owned(), g);
    });
    (plans, capacity, runs.into_iter().map(|m| m.into_inner().unwrap()).collect())
}

/// The names the registry knows, in order (`steal` may be absent from a build).
fn registered<'a>(names: impl Iterator<Item = &'a &'a str>) -> Vec<String> {
    names.filter(|s| octopus_sim::make_scheduler(s).is_ok()).map(|s| s.to_string()).collect()
}

fn goodput_cell(g: &Goodput) -> String {
    let at_least = if g.censored { ">= " } else { "" };
    format!("{at_least}{:.3} ({at_least}{:.2})", g.goodput_rps, g.goodput_load)
}

fn tables(args: &Args) {
    let machine = machine(&args.hw);
    let files = workflow_files(args.workflows.as_deref());
    let modules: Vec<Module> = files.par_iter().map(|p| load(p)).collect();
    let schedulers: Vec<String> = match &args.schedulers {
        Some(s) => s.clone(),
        None => registered(BASELINES.iter().chain(&[REFERENCE, OCTOPUS])),
    };
    let extra: Vec<String> =
        if schedulers.iter().any(|s| s == OCTOPUS) { registered(ABLATIONS.iter()) } else { Vec::new() };
    let started = Instant::now();
    let (_, capacity, runs) = evaluate(&machine, &modules, &schedulers, &extra, args);
    let names: Vec<&str> = modules.iter().map(|m| m.workflow.name.as_str()).collect();
    println!(
        "hardware `{}` ({} TBUs), Poisson arrivals, at least {} requests per run and an arrival window of {} median critical paths at load 1, seed {}, SLO `{}`\n",
        machine.name(),
        machine.tbus.len(),
        args.requests,
        args.window,
        args.seed,
        args.slo
    );
    println!("### Capacity (requests per second at load 1)\n");
    let rows: Vec<Vec<String>> = (0..names.len())
        .map(|w| {
            let r = &runs[w].by_load[&(schedulers[0].clone(), LOADS[0].to_bits())];
            vec![
                names[w].to_owned(),
                format!("{:.4}", capacity[w]),
                time(r.request_critical_path.p50_s),
                time(r.request_critical_path.p99_s),
                runs[w].requests.to_string(),
            ]
        })
        .collect();
    let head = ["workflow", "capacity (req/s)", "critical path p50", "critical path p99", "requests per run"];
    print_table(&head.map(str::to_owned), &rows);

    let at = |w: usize, s: &str, load: f64| &runs[w].by_load[&(s.to_owned(), load.to_bits())];
    for load in LOADS {
        println!("### Latency p50 / p99 at load {load}\n");
        per_scheduler(&names, &[], &schedulers, |w| {
            schedulers
                .iter()
                .map(|s| {
                    let r = at(w, s, load);
                    format!("{} / {}", time(r.latency_p50_s), time(r.latency_p99_s))
                })
                .collect()
        });
    }
    println!("### Goodput at `{}`: requests per second (load)\n", args.slo);
    per_scheduler(&names, &[], &schedulers, |w| {
        schedulers.iter().map(|s| goodput_cell(&runs[w].goodput[s])).collect()
    });

    if schedulers.iter().any(|s| s == OCTOPUS) {
        let base: Vec<&str> = schedulers.iter().map(String::as_str).filter(|s| *s != OCTOPUS).collect();
        let headers: Vec<String> = base.iter().map(|b| format!("vs {b}")).collect();
        println!("### Speedup of `octopus` at load {AT}: baseline p99 latency / octopus p99 latency\n");
        ratio_table(
            &names,
            &base,
            &headers,
            |w, b| at(w, b, AT).latency_p99_s / at(w, OCTOPUS, AT).latency_p99_s,
            2,
            "x",
            true,
        );
        println!("### Goodput of `octopus` over each baseline's\n");
        goodput_ratios(&names, &base, &headers, |w, s| &runs[w].goodput[s]);
        if !extra.is_empty() {
            let headers: Vec<String> = extra.to_vec();
            let cols: Vec<&str> = extra.iter().map(String::as_str).collect();
            println!(
                "### Ablation at load {AT}: p99 latency relative to `octopus` (above 1 = worse without the part)\n"
            );
            ratio_table(
                &names,
                &cols,
                &headers,
                |w, a| at(w, a, AT).latency_p99_s / at(w, OCTOPUS, AT).latency_p99_s,
                3,
                "",
                false,
            );
        }
    }
    let n: usize = runs.iter().map(|r| r.by_load.len()).sum();
    eprintln!("{n} runs in {:.1} s (wall clock; not part of the results)", started.elapsed().as_secs_f64());
}

/// The goodput ratio table: `octopus`'s goodput over each baseline's where both hold the SLO at
/// some load; a workflow where one of them holds it at no load is named as a win or a loss, never
/// dropped, and the means are over the workflows where both hold it. A ratio with a censored
/// goodput (the SLO still held at the search's highest load) is a bound: `>=` when `octopus`'s is
/// censored, `<=` when the baseline's is, `~` when both are.
fn goodput_ratios<'a>(
    names: &[&str],
    base: &[&str],
    headers: &[String],
    goodput: impl Fn(usize, &str) -> &'a Goodput,
) {
    let head: Vec<String> = ["workflow".to_owned()].into_iter().chain(headers.iter().cloned()).collect();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let (mut ratios, mut only_octopus, mut only_base) =
        (vec![Vec::new(); base.len()], vec![0u32; base.len()], vec![0u32; base.len()]);
    for (w, name) in names.iter().enumerate() {
        let og = goodput(w, OCTOPUS);
        let o = og.goodput_rps;
        let mut row = vec![(*name).to_owned()];
        for (i, b) in base.iter().enumerate() {
            let bg = goodput(w, b);
            let g = bg.goodput_rps;
            row.push(match (o > 0.0, g > 0.0) {
                (true, true) => {
                    ratios[i].push(o / g);
                    let bound = match (og.censored, bg.censored) {
                        (false, false) => "",
                        (true, false) => ">= ",
                        (false, true) => "<= ",
                        (true, true) => "~ ",
                    };
                    format!("{bound}{:.2}x", o / g)
                }
                (true, false) => {
                    only_octopus[i] += 1;
                    "only octopus holds it".to_owned()
                }
                (false, true) => {
                    only_base[i] += 1;
                    "only the baseline holds it".to_owned()
                }
                (false, false) => "neither holds it".to_owned(),
            });
        }
        rows.push(row);
    }
    let summary = |label: &str, cell: &dyn Fn(usize) -> String| {
        [label.to_owned()].into_iter().chain((0..base.len()).map(cell)).collect::<Vec<String>>()
    };
    rows.push(summary("**geometric mean** (where both hold it)", &|i| {
        if ratios[i].is_empty() {
            "-".to_owned()
        } else {
            format!("**{:.2}x** ({})", geomean(&ratios[i]), ratios[i].len())
        }
    }));
    rows.push(summary("max", &|i| {
        if ratios[i].is_empty() {
            "-".to_owned()
        } else {
            format!("{:.2}x", ratios[i].iter().copied().fold(0.0, f64::max))
        }
    }));
    rows.push(summary("workflows only octopus holds the SLO on", &|i| only_octopus[i].to_string()));
    rows.push(summary("workflows only the baseline holds it on", &|i| only_base[i].to_string()));
    print_table(&head, &rows);
}

/// Per workflow, per scheduler.
type PerWorkflow<T> = Vec<BTreeMap<String, T>>;

fn scaling(args: &Args) {
    let files = workflow_files(args.workflows.as_deref());
    let modules: Vec<Module> = files.par_iter().map(|p| load(p)).collect();
    let names: Vec<&str> = modules.iter().map(|m| m.workflow.name.as_str()).collect();
    let schedulers: Vec<String> = match &args.schedulers {
        Some(s) => s.clone(),
        None => registered(BASELINES.iter().chain(&[REFERENCE, OCTOPUS])),
    };
    let started = Instant::now();
    let scales: Vec<(u32, &str)> =
        SCALES.iter().copied().filter(|(d, _)| args.dies.as_ref().is_none_or(|v| v.contains(d))).collect();
    // Per scale: per workflow, per scheduler, goodput and the throughput of the run at load `AT`.
    let (goodput, served): (Vec<PerWorkflow<Goodput>>, Vec<PerWorkflow<f64>>) = scales
        .iter()
        .map(|&(_, hw)| {
            let m = machine(hw);
            let (_, _, runs) = evaluate(&m, &modules, &schedulers, &[], args);
            let served = runs
                .iter()
                .map(|r| {
                    let at = |s: &String| r.by_load[&(s.clone(), AT.to_bits())].throughput_rps;
                    schedulers.iter().map(|s| (s.clone(), at(s))).collect()
                })
                .collect();
            (runs.into_iter().map(|r| r.goodput).collect(), served)
        })
        .unzip();
    println!(
        "wafer scaling: the `wafer` die grid cut to 1, 4, 16 and 84 dies, Poisson arrivals, at least {} requests per run and an arrival window of {} median critical paths at load 1, seed {}, SLO `{}`\n",
        args.requests, args.window, args.seed, args.slo
    );
    println!("### Goodput (requests per second) by dies\n");
    for s in &schedulers {
        println!("`{s}`:\n");
        let head: Vec<String> = ["workflow".to_owned()]
            .into_iter()
            .chain(scales.iter().map(|(d, _)| format!("{d} dies")))
            .collect();
        let rows: Vec<Vec<String>> = (0..names.len())
            .map(|w| {
                [names[w].to_owned()]
                    .into_iter()
                    .chain((0..scales.len()).map(|i| goodput_cell(&goodput[i][w][s])))
                    .collect()
            })
            .collect();
        print_table(&head, &rows);
    }
    println!(
        "### Scaling efficiency: goodput on n dies / (n x goodput on 1 die), geometric mean over workflows\n"
    );
    let head: Vec<String> =
        ["scheduler".to_owned()].into_iter().chain(scales.iter().map(|(d, _)| format!("{d} dies"))).collect();
    let rows: Vec<Vec<String>> = schedulers
        .iter()
        .map(|s| {
            let cells = scales.iter().enumerate().map(|(i, &(dies, _))| {
                let eff: Vec<f64> = (0..names.len())
                    .filter_map(|w| {
                        let one = goodput[0][w][s].goodput_rps;
                        let n = goodput[i][w][s].goodput_rps;
                        (one > 0.0 && n > 0.0).then(|| n / (f64::from(dies) * one))
                    })
                    .collect();
                if eff.is_empty() {
                    "-".to_owned()
                } else {
                    format!("{:.2} ({} wf)", geomean(&eff), eff.len())
                }
            });
            [format!("`{s}`")].into_iter().chain(cells).collect()
        })
        .collect();
    print_table(&head, &rows);
    println!(
        "### Throughput scaling at load {AT}: requests served per second (requests / makespan) on n dies / (n x on 1 die), geometric mean over workflows\n"
    );
    let rows: Vec<Vec<String>> = schedulers
        .iter()
        .map(|s| {
            let cells = scales.iter().enumerate().map(|(i, &(dies, _))| {
                let eff: Vec<f64> =
                    (0..names.len()).map(|w| served[i][w][s] / (f64::from(dies) * served[0][w][s])).collect();
                format!("{:.2}", geomean(&eff))
            });
            [format!("`{s}`")].into_iter().chain(cells).collect()
        })
        .collect();
    print_table(&head, &rows);
    eprintln!("scaling in {:.1} s (wall clock; not part of the results)", started.elapsed().as_secs_f64());
}

fn main() {
    let args = parse_args();
    if args.scaling { scaling(&args) } else { tables(&args) }
}
