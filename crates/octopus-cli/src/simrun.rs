//! What `simulate` and `compare` share: loading a workflow, a machine (`--hw NAME|FILE.ron`) and a
//! plan (`--plan FILE.ron`, or compiled on the spot), and the progress bar.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use miette::{NamedSource, Report};
use octopus_compiler::Plan;
use octopus_hw::{CostModel, Machine};
use octopus_owg::Module;
use octopus_sim::{Capacity, Inputs, Search, SimConfig, SimError, SimOutput, Slo};

use crate::commands::check::{check_file, print_diagnostics};
use crate::exit;
use crate::io;

/// The inputs every simulation command takes.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The workflow (`.owg`).
    #[arg(value_name = "FILE.owg")]
    pub file: PathBuf,
    /// The hardware: a preset name (`chip`, `package`, `wafer`, ...) or a `.ron` description.
    #[arg(long, value_name = "NAME|FILE.ron")]
    pub hw: String,
    /// A plan from `octopus compile` (default: compile now).
    #[arg(long, value_name = "PLAN.ron")]
    pub plan: Option<PathBuf>,
    /// A closed batch of N requests at time 0, instead of the workflow's arrivals; with `--rate`,
    /// the number of requests of the open-loop stream.
    #[arg(long, value_name = "N")]
    pub requests: Option<u64>,
    /// Open-loop Poisson arrivals at this rate instead of the workflow's arrivals: requests per
    /// second, or with a unit (`20/s`, `300/min`, `2/ms`, `5000/h`).
    #[arg(long, value_name = "R/s", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Open-loop Poisson arrivals at this fraction of the machine's capacity for the workflow (the
    /// rate at which its busiest TBU pool saturates, `docs/schedulers.md`), e.g. `0.7`.
    #[arg(long, value_name = "X", value_parser = parse_load, conflicts_with = "rate")]
    pub load: Option<f64>,
    /// A latency objective: `latency_p99<2s`, several bounds `latency_p99<2s,ttft_p99<200ms`, or a
    /// scale of the requests' critical paths `latency_p99<5x`.
    /// With `--rate` or `--load`, whether the run meets it; without, the goodput: the highest
    /// open-loop rate at which it holds, by the search of `docs/schedulers.md`.
    #[arg(long, value_name = "BOUNDS")]
    pub slo: Option<Slo>,
    /// The seed of every random draw (every scheduler sees the same requests for a seed).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Parses `--rate`: a finite positive number of requests per second, or per `s`, `ms`, `min`, `h`.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (num, per_s) = match t.split_once('/') {
        None => (t, 1.0),
        Some((n, unit)) => {
            let per_s = match unit.trim() {
                "s" => 1.0,
                "ms" => 1e3,
                "min" => 1.0 / 60.0,
                "h" => 1.0 / 3600.0,
                other => return Err(format!("unknown time unit `{other}` (use s, ms, min or h)")),
            };
            (n.trim(), per_s)
        }
    };
    let n: f64 = num.parse().map_err(|_| format!("`{num}` is not a number"))?;
    let rate = n * per_s;
    if !rate.is_finite() || rate <= 0.0 {
        return Err(format!("a rate must be positive and finite, not `{t}`"));
    }
    Ok(rate)
}

/// Parses `--load`: a finite positive fraction of the capacity (above 1 overloads the machine).
pub fn parse_load(text: &str) -> Result<f64, String> {
    let x: f64 = text.trim().parse().map_err(|_| format!("`{}` is not a number", text.trim()))?;
    if !x.is_finite() || x <= 0.0 {
        return Err(format!(
            "a load must be a positive, finite fraction of the capacity, not `{}`",
            text.trim()
        ));
    }
    Ok(x)
}

/// What a run's arrivals are: the workflow's own or a closed batch, one open-loop rate, or the
/// goodput search for an SLO.
pub enum Arrivals {
    /// `--rate` or `--load` given, or neither and no `--slo`: one run at this rate (`None`: the
    /// workflow's arrivals or `--requests`' closed batch).
    Rate(Option<f64>),
    /// `--slo` without a rate: search loads of this capacity.
    Search(Capacity),
}

impl Arrivals {
    /// The rate of [`SimConfig::rate`] (the search sets its own).
    pub fn rate(&self) -> Option<f64> {
        match self {
            Arrivals::Rate(r) => *r,
            Arrivals::Search(_) => None,
        }
    }
}

impl RunArgs {
    /// The arrivals these arguments ask for, with the capacity `--load` and the search need;
    /// prints why not and returns the exit code.
    pub fn arrivals(&self, inputs: &Inputs<'_>) -> Result<Arrivals, u8> {
        let capacity = || {
            octopus_sim::capacity(inputs).ok_or_else(|| {
                eprintln!(
                    "error: the workflow has no task work on this machine, so it has no capacity for \
                     `--load` or the goodput search to be a fraction of; use `--rate`"
                );
                exit::USAGE
            })
        };
        Ok(match (self.rate, self.load, &self.slo) {
            (Some(r), _, _) => Arrivals::Rate(Some(r)),
            (None, Some(x), _) => Arrivals::Rate(Some(x * capacity()?.requests_per_second)),
            (None, None, Some(_)) => Arrivals::Search(capacity()?),
            (None, None, None) => Arrivals::Rate(None),
        })
    }
}

/// Runs `config` with `arrivals`: one run (checked against `slo` if given), or the goodput search
/// (whose result is the run at the goodput). `progress` sees requests of a single run, runs of a
/// search.
pub fn run_one(
    inputs: &Inputs<'_>,
    config: &SimConfig,
    arrivals: &Arrivals,
    slo: Option<&Slo>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<SimOutput, SimError> {
    match (arrivals, slo) {
        (Arrivals::Search(cap), Some(slo)) => {
            let search = Search::default();
            let result = octopus_sim::goodput(inputs, config, slo, cap.requests_per_second, &search)?;
            let trace = if config.trace {
                let again = SimConfig { rate: result.arrival_rate_rps, ..config.clone() };
                octopus_sim::simulate(inputs, &again)?.trace
            } else {
                Vec::new()
            };
            Ok(SimOutput { result, trace, requests_held_peak: None })
        }
        _ => {
            let mut out = octopus_sim::simulate_with_progress(inputs, config, progress)?;
            if let Some(slo) = slo {
                out.result.slo_met = Some(slo.holds(&out.result)?);
            }
            Ok(out)
        }
    }
}

impl Loaded {
    /// Prints a run's error, located in the workflow's source when it names a block; its exit code.
    pub fn report(&self, mut e: SimError) -> u8 {
        if let SimError::TooMuchLiveWork { block, span, .. } = &mut e {
            let id =
                self.module.workflow.blocks.iter_enumerated().find(|(_, b)| &b.name == block).map(|(i, _)| i);
            *span = id.and_then(|i| self.module.spans.blocks.get(i)).map(|&s| s.into());
            let name = self.file.display().to_string();
            let report = Report::new(e).with_source_code(NamedSource::new(name, self.source.clone()));
            eprintln!("{report:?}");
            return exit::INVALID;
        }
        crate::commands::simulate::report_sim_error(e)
    }
}

/// A workflow, a machine and a plan, ready to simulate.
pub struct Loaded {
    /// The workflow's file, to locate run errors in.
    pub file: PathBuf,
    /// Its text.
    pub source: String,
    /// The validated workflow.
    pub module: Module,
    /// The machine.
    pub machine: Machine,
    /// The plan.
    pub plan: Plan,
}

impl Loaded {
    /// The simulator's inputs, borrowing from this and from the machine's cost model.
    pub fn inputs<'a>(&'a self, cost: &'a CostModel<'a>) -> Inputs<'a> {
        Inputs {
            workflow: &self.module.workflow,
            analysis: &self.module.analysis,
            machine: &self.machine,
            cost,
            plan: &self.plan,
        }
    }
}

/// Loads everything a simulation needs; on failure prints why and returns the exit code.
pub fn load(file: &Path, hw: &str, plan: Option<&PathBuf>) -> Result<Loaded, u8> {
    let source = io::read_input(file)?;
    let checked = check_file(file, &source);
    print_diagnostics(file, &source, &checked.diagnostics);
    let Some(module) = checked.module else {
        return Err(exit::INVALID);
    };
    let machine = load_machine(hw)?;
    let plan = match plan {
        Some(path) => {
            let text = io::read_input(path)?;
            Plan::from_ron(&text).map_err(|e| {
                eprintln!("{:?}", Report::new(e).wrap_err(format!("in `{}`", path.display())));
                exit::INVALID
            })?
        }
        None => octopus_compiler::compile(&module, &machine).map_err(|errors| {
            for e in errors {
                let report = Report::new(e)
                    .with_source_code(NamedSource::new(file.display().to_string(), source.clone()));
                eprintln!("{report:?}");
            }
            exit::INVALID
        })?,
    };
    Ok(Loaded { file: file.to_owned(), source, module, machine, plan })
}

/// `--hw NAME|FILE.ron`: a hardware description file when it ends in `.ron` or contains a path
/// separator (the rule of `octopus hw`), a preset name otherwise.
pub fn load_machine(hw: &str) -> Result<Machine, u8> {
    crate::commands::hw::load_machine(hw).map(|(machine, _text)| machine)
}

/// A progress bar on stderr that appears only once a run has taken more than a second, and never
/// when stderr is not a terminal.
pub struct Progress {
    started: Instant,
    bar: Option<ProgressBar>,
    label: String,
}

impl Progress {
    /// A progress reporter for runs labelled `label`.
    pub fn new(label: &str) -> Progress {
        Progress { started: Instant::now(), bar: None, label: label.to_owned() }
    }

    /// Reports `done` of `total`.
    pub fn update(&mut self, done: u64, total: u64) {
        if self.bar.is_none() && self.started.elapsed() > Duration::from_secs(1) {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} requests, eta {eta}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_message(self.label.clone());
            self.bar = Some(bar);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(done);
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
