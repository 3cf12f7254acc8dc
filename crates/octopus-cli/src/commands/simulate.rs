//! `octopus simulate FILE.owg --hw NAME|FILE.ron --scheduler NAME`: one simulation run.

use std::path::PathBuf;

use clap::ValueEnum;
use octopus_hw::{ClusterId, CostModel, Machine};
use octopus_owg::index::Idx;
use octopus_sim::{SimConfig, SimError, SimResult, TraceEvent, TraceKind};

use crate::exit;
use crate::io;
use crate::plot::{self, Labels};
use crate::simrun::{self, Progress};
use crate::table::{Align, Table, si, sig3};

/// Arguments of `octopus simulate`.
#[derive(clap::Args)]
pub struct Args {
    /// The workflow, hardware, plan, requests and seed.
    #[command(flatten)]
    run: simrun::RunArgs,
    /// The runtime scheduler (`static`, `reactive`, `greedy`, ...).
    #[arg(long, value_name = "NAME")]
    scheduler: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also write a Chrome trace-event timeline (opens in Perfetto).
    #[arg(long, value_name = "OUT.json")]
    trace: Option<PathBuf>,
    /// Also write a heat map of TBU utilisation over time per cluster (SVG).
    #[arg(long, value_name = "UTIL.svg")]
    plot: Option<PathBuf>,
}

/// Output formats of `simulate` and `compare`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text for people.
    Table,
    /// JSON for scripts.
    Json,
}

/// Checks the options every run shares; prints the problem and returns the exit code.
pub fn check_options(schedulers: &[String], requests: Option<u64>) -> Result<(), u8> {
    for s in schedulers {
        if let Err(e) = octopus_sim::make_scheduler(s) {
            eprintln!("{:?}", miette::Report::new(e));
            return Err(exit::USAGE);
        }
    }
    if requests == Some(0) {
        eprintln!("{:?}", miette::Report::new(SimError::ZeroRequests));
        return Err(exit::USAGE);
    }
    Ok(())
}

/// Prints a simulation error; its exit code.
pub fn report_sim_error(e: SimError) -> u8 {
    let code = match e {
        SimError::UnknownScheduler { .. } | SimError::ZeroRequests | SimError::SloUnavailable { .. } => {
            exit::USAGE
        }
        _ => exit::INVALID,
    };
    eprintln!("{:?}", miette::Report::new(e));
    code
}

/// Runs `octopus simulate`.
pub fn run(args: &Args) -> u8 {
    if let Err(code) = check_options(std::slice::from_ref(&args.scheduler), args.run.requests) {
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
    let config = SimConfig {
        scheduler: args.scheduler.clone(),
        requests: args.run.requests,
        rate: arrivals.rate(),
        seed: args.run.seed,
        trace: args.trace.is_some() || args.plot.is_some(),
    };
    let mut progress = Progress::new(&args.scheduler);
    let out = simrun::run_one(&inputs, &config, &arrivals, args.run.slo.as_ref(), &mut |d, t| {
        progress.update(d, t)
    });
    progress.finish();
    let out = match out {
        Ok(o) => o,
        Err(e) => return loaded.report(e),
    };
    if let Some(path) = &args.trace {
        let json = octopus_sim::chrome_trace(&out.trace, &loaded.machine, &loaded.module.workflow);
        if let Err(m) = io::write_atomic(path, json.as_bytes()) {
            io::report_error(&m);
            return exit::USAGE;
        }
    }
    if let Some(path) = &args.plot {
        let svg = utilisation_plot(&out.trace, &loaded.machine, &out.result);
        if let Err(m) = io::write_atomic(path, svg.as_bytes()) {
            io::report_error(&m);
            return exit::USAGE;
        }
    }
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&out.result).expect("results serialise")),
        Format::Table => print!("{}", result_table(&out.result)),
    }
    exit::OK
}

/// Time bins of the utilisation plot.
const BINS: usize = 120;
/// Rows of the utilisation plot at most; larger machines group neighbouring clusters into a row.
const MAX_ROWS: usize = 128;

/// Per row of clusters, the fraction of its TBU time spent computing (`exec` spans) in each of
/// `bins` equal slices of `0..makespan`.
pub fn utilisation(
    events: &[TraceEvent],
    machine: &Machine,
    makespan: u64,
    bins: usize,
) -> (Vec<Vec<f64>>, usize) {
    let clusters = machine.clusters.len();
    let per_row = clusters.div_ceil(MAX_ROWS).max(1);
    let rows = clusters.div_ceil(per_row);
    let mut busy = vec![vec![0u128; bins]; rows];
    let width = makespan.div_ceil(bins as u64).max(1);
    for e in events.iter().filter(|e| e.kind == TraceKind::Exec) {
        let row = e.cluster.index() / per_row;
        let (mut t, end) = (e.start, e.end);
        while t < end {
            let b = ((t / width) as usize).min(bins - 1);
            let bin_end = if b == bins - 1 { end } else { ((b as u64 + 1) * width).min(end) };
            busy[row][b] += u128::from(bin_end - t);
            t = bin_end;
        }
    }
    let tbus_per_row: Vec<u64> = (0..rows)
        .map(|r| {
            let cs = r * per_row..((r + 1) * per_row).min(clusters);
            cs.map(|c| u64::from(machine.clusters[ClusterId::new(c)].tbu_count)).sum()
        })
        .collect();
    let grid = busy
        .iter()
        .zip(&tbus_per_row)
        .map(|(row, &tbus)| {
            row.iter()
                .enumerate()
                .map(|(b, &x)| {
                    let span =
                        if b == bins - 1 { makespan.saturating_sub(width * b as u64).max(1) } else { width };
                    x as f64 / (tbus.max(1) as f64 * span as f64)
                })
                .collect()
        })
        .collect();
    (grid, per_row)
}

/// The `--plot` heat map.
fn utilisation_plot(events: &[TraceEvent], machine: &Machine, r: &SimResult) -> String {
    let bins = BINS.min(r.makespan_cycles.max(1) as usize);
    let (grid, per_row) = utilisation(events, machine, r.makespan_cycles, bins);
    let title = format!("{} on {}, `{}`: TBU utilisation", r.workflow, r.hardware, r.scheduler);
    let y = if per_row == 1 { "cluster".to_owned() } else { format!("clusters ({per_row} a row)") };
    let label = move |row: usize| if per_row == 1 { row.to_string() } else { format!("{}", row * per_row) };
    plot::heatmap(&Labels { title: &title, x: "time (s)", y: &y }, r.makespan_s, &grid, &label)
}

/// The human summary of one run.
pub fn result_table(r: &SimResult) -> String {
    let mut t = Table::new(&[("metric", Align::Left), ("value", Align::Right)]);
    let pct = |x: f64| format!("{}%", sig3(100.0 * x));
    let q =
        |x: &octopus_sim::Quantiles| format!("{}s / {}s / {}s", sig3(x.mean_s), sig3(x.p50_s), sig3(x.p99_s));
    let mut rows: Vec<(&str, String)> = vec![("requests", r.requests.to_string())];
    if let Some(rate) = r.arrival_rate_rps {
        rows.push(("arrival rate", format!("{} req/s (Poisson)", sig3(rate))));
    }
    if let Some(met) = r.slo_met {
        rows.push(("SLO", if met { "met" } else { "violated" }.to_owned()));
    }
    if let Some(g) = &r.goodput {
        let at_least = if g.censored { ">= " } else { "" };
        rows.push(("goodput", format!("{at_least}{} req/s at {}", sig3(g.goodput_rps), g.slo)));
        rows.push((
            "goodput load",
            format!("{at_least}{} of {} req/s capacity", sig3(g.goodput_load), sig3(g.capacity_rps)),
        ));
    }
    rows.extend([
        ("makespan", format!("{}s ({} cycles)", sig3(r.makespan_s), si(r.makespan_cycles as f64))),
        (
            "lower bound",
            format!("{} cycles (x{})", si(r.lower_bound_cycles as f64), sig3(r.makespan_over_lower_bound)),
        ),
        ("throughput", format!("{} req/s", sig3(r.throughput_rps))),
        ("latency mean", format!("{}s", sig3(r.latency_mean_s))),
        ("latency p50", format!("{}s", sig3(r.latency_p50_s))),
        ("latency p95", format!("{}s", sig3(r.latency_p95_s))),
        ("latency p99", format!("{}s", sig3(r.latency_p99_s))),
    ]);
    if let (Some(ttft), Some(tpot)) = (&r.ttft, &r.tpot) {
        rows.push(("TTFT mean / p50 / p99", q(ttft)));
        rows.push(("TPOT mean / p50 / p99", q(tpot)));
    }
    rows.extend([
        ("utilization", pct(r.utilization)),
        ("idle: no work", pct(r.idle.no_work)),
        ("idle: upstream", pct(r.idle.upstream)),
        ("idle: queued", pct(r.idle.queued)),
        ("idle: reconfig", pct(r.idle.reconfig)),
        ("idle: transfer", pct(r.idle.transfer)),
        ("idle: gang", pct(r.idle.gang)),
        ("idle: collective", pct(r.idle.collective)),
        ("reconfigurations", r.reconfigurations.to_string()),
        ("NoC byte-hops", si(r.noc_byte_hops as f64)),
        ("tasks executed", r.tasks_executed.to_string()),
    ]);
    for (k, v) in rows {
        t.row(vec![k.to_owned(), v]);
    }
    let mut out = format!(
        "{} on {}: scheduler `{}`, seed {}\n\n{}",
        r.workflow,
        r.hardware,
        r.scheduler,
        r.seed,
        t.render()
    );
    if !r.llm.is_empty() {
        let mut l = Table::new(&[
            ("LLM block", Align::Left),
            ("phase", Align::Left),
            ("sequences", Align::Right),
            ("tokens", Align::Right),
            ("steps", Align::Right),
            ("batch mean", Align::Right),
            ("batch max", Align::Right),
            ("TTFT p50 s", Align::Right),
            ("TPOT p50 s", Align::Right),
        ]);
        let opt = |x: &Option<octopus_sim::Quantiles>| x.as_ref().map_or("-".to_owned(), |q| sig3(q.p50_s));
        for b in &r.llm {
            l.row(vec![
                b.block.clone(),
                b.phase.clone(),
                b.sequences.to_string(),
                si(b.tokens as f64),
                si(b.steps as f64),
                sig3(b.mean_batch),
                b.max_batch.to_string(),
                opt(&b.ttft),
                opt(&b.tpot),
            ]);
        }
        out.push('\n');
        out.push_str(&l.render());
    }
    out
}
