//! Running a sweep's points (in parallel, resumably, appending each finished point) and merging
//! the results files of its shards.

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use miette::{NamedSource, Report};
use octopus_compiler::Plan;
use octopus_hw::CostModel;
use octopus_sim::SimConfig;
use rayon::prelude::*;

use super::inputs::Inputs;
use super::results::{self, Appender, Entry, ReadFailure, ResultsError, hex};
use super::spec::{Point, Sweep};
use crate::exit;
use crate::io;

/// `--shard I/N`: the points whose index is `I` modulo `N` (`I` from 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0..count`.
    pub index: u32,
    /// How many shards.
    pub count: u32,
}

impl Shard {
    /// Whether point `index` is this shard's.
    pub fn owns(self, index: usize) -> bool {
        index % self.count as usize == self.index as usize
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Parses `I/N` with `0 <= I < N`.
pub fn parse_shard(text: &str) -> Result<Shard, String> {
    let (i, n) = text.split_once('/').ok_or_else(|| format!("expected `I/N`, e.g. `0/4`, not `{text}`"))?;
    let index: u32 = i.trim().parse().map_err(|_| format!("`{i}` is not a shard number"))?;
    let count: u32 = n.trim().parse().map_err(|_| format!("`{n}` is not a number of shards"))?;
    if count == 0 || index >= count {
        return Err(format!("a shard is `I/N` with 0 <= I < N, not `{text}`"));
    }
    Ok(Shard { index, count })
}

/// `results.jsonl` -> `results.shard-I-of-N.jsonl`.
pub fn shard_path(out: &Path, shard: Shard) -> PathBuf {
    let stem = out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = out.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    out.with_file_name(format!("{stem}.shard-{}-of-{}{ext}", shard.index, shard.count))
}

/// What `octopus sweep SPEC` was asked to do.
pub struct RunOptions<'a> {
    /// The results file.
    pub out: &'a Path,
    /// Only this shard's points.
    pub shard: Option<Shard>,
    /// Threads (default: one per core).
    pub jobs: Option<usize>,
    /// Drop a cut-off last line instead of refusing the file.
    pub repair: bool,
}

/// The keys of every point, in canonical order.
pub fn keys(sweep: &Sweep, points: &[Point]) -> Vec<String> {
    let combos = sweep.combos();
    points.iter().map(|p| super::spec::key_of(&sweep.inputs(p, &combos))).collect()
}

fn print_all(errors: Vec<ResultsError>) -> u8 {
    for e in errors {
        eprintln!("{:?}", Report::new(e));
    }
    exit::INVALID
}

/// Runs the points of `sweep` not yet in the results file; returns the exit code.
pub fn run(sweep: &Sweep, inputs: &Inputs, opts: &RunOptions<'_>) -> u8 {
    let started = Instant::now();
    let points = sweep.points();
    let combos = sweep.combos();
    let keys = keys(sweep, &points);
    let index_of: HashMap<&str, usize> = keys.iter().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
    let mine = |i: usize| opts.shard.is_none_or(|s| s.owns(i));

    let mut appender = match Appender::open(opts.out) {
        Ok(a) => a,
        Err(m) => {
            io::report_error(&m);
            return exit::USAGE;
        }
    };
    let file = match results::read(opts.out, true) {
        Ok(f) => f,
        Err(ReadFailure::Io(m)) => {
            io::report_error(&m);
            return exit::USAGE;
        }
        Err(ReadFailure::Invalid(errors)) => return print_all(errors),
    };
    if let Some((line, offset)) = file.truncated {
        if !opts.repair {
            return print_all(vec![ResultsError::Truncated {
                file: opts.out.display().to_string(),
                line,
                help: "rerun with `--repair` to drop it (its point runs again)".into(),
            }]);
        }
        if let Err(m) = appender.truncate(offset) {
            io::report_error(&m);
            return exit::USAGE;
        }
        eprintln!(
            "warning: `{}`:{line}: dropped the cut-off last line; its point runs again",
            opts.out.display()
        );
    }

    // Every recorded point must be one of this run's, on the inputs it has now.
    let mut errors = Vec::new();
    let mut done: BTreeMap<usize, String> = BTreeMap::new();
    let name = opts.out.display().to_string();
    for e in file.entries {
        let Some(&i) = index_of.get(e.key.as_str()) else {
            errors.push(ResultsError::Foreign { file: name.clone(), line: e.line, key: e.key });
            continue;
        };
        if let Some(shard) = opts.shard.filter(|_| !mine(i)) {
            let owner = format!("{}/{}", i % shard.count as usize, shard.count);
            errors.push(ResultsError::OtherShard {
                file: name.clone(),
                line: e.line,
                key: e.key,
                owner,
                this: shard.to_string(),
            });
            continue;
        }
        let p = &points[i];
        let wf = &inputs.workflows[p.workflow];
        let machine = &inputs.machines[sweep.machine_index(p, combos.len())];
        for (what, name, recorded, now) in [
            (
                "workflow",
                sweep.workflows[p.workflow].clone(),
                e.str_at("/workflow/fingerprint"),
                hex(wf.fingerprint),
            ),
            (
                "machine",
                machine_label(sweep, p, &combos),
                e.str_at("/machine/fingerprint"),
                hex(machine.fingerprint()),
            ),
        ] {
            if recorded != now {
                errors.push(ResultsError::Changed {
                    file: opts.out.display().to_string(),
                    line: e.line,
                    what,
                    name,
                    recorded: recorded.to_owned(),
                    now,
                });
            }
        }
        done.insert(i, e.text);
    }
    if !errors.is_empty() {
        return print_all(errors);
    }

    let todo: Vec<&Point> = points.iter().filter(|p| mine(p.index) && !done.contains_key(&p.index)).collect();
    let total_mine = points.iter().filter(|p| mine(p.index)).count();
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(opts.jobs.unwrap_or(0)).build() {
        Ok(p) => p,
        Err(e) => {
            io::report_error(&format!("cannot start worker threads: {e}"));
            return exit::USAGE;
        }
    };
    let outcome = pool.install(|| run_points(sweep, inputs, &todo, &keys, &mut appender));
    let (new_lines, code) = match outcome {
        Ok(lines) => (lines, exit::OK),
        Err((lines, code)) => (lines, code),
    };
    let ran = new_lines.len();
    done.extend(new_lines);
    if code == exit::OK {
        // The finished file is in canonical order, whatever order the points finished in.
        let text: String = done.into_values().collect();
        if let Err(m) = io::write_atomic(opts.out, text.as_bytes()) {
            io::report_error(&m);
            return exit::USAGE;
        }
        let shard = opts.shard.map(|s| format!(", shard {s}: {total_mine}")).unwrap_or_default();
        eprintln!(
            "sweep `{}`: {} points{shard}, {} already done, {ran} run in {:.1} s -> {}",
            sweep.name,
            points.len(),
            total_mine - todo.len(),
            started.elapsed().as_secs_f64(),
            opts.out.display()
        );
    }
    code
}

fn machine_label(sweep: &Sweep, p: &Point, combos: &[Vec<usize>]) -> String {
    let mut label = sweep.hardware[p.hardware].clone();
    for (n, v) in sweep.combo_params(&combos[p.combo]) {
        label.push_str(&format!(" {n}={v}"));
    }
    label
}

type Lines = Vec<(usize, String)>;

/// Compiles the plans the points need, runs the points in parallel and appends each as it ends.
/// Returns the new lines by point index; on a failure, those finished and the exit code.
fn run_points(
    sweep: &Sweep,
    inputs: &Inputs,
    todo: &[&Point],
    keys: &[String],
    appender: &mut Appender,
) -> Result<Lines, (Lines, u8)> {
    let combos = sweep.combos();
    let machine_of = |p: &Point| sweep.machine_index(p, combos.len());
    let cases: Vec<(usize, usize)> = {
        let set: std::collections::BTreeSet<(usize, usize)> =
            todo.iter().map(|p| (p.workflow, machine_of(p))).collect();
        set.into_iter().collect()
    };
    let compiled: Vec<_> = cases
        .par_iter()
        .map(|&(w, m)| octopus_compiler::compile(&inputs.workflows[w].module, &inputs.machines[m]))
        .collect();
    let mut plans: HashMap<(usize, usize), Plan> = HashMap::new();
    let mut failed = false;
    for (&(w, m), r) in cases.iter().zip(compiled) {
        match r {
            Ok(plan) => {
                plans.insert((w, m), plan);
            }
            Err(errors) => {
                failed = true;
                let wf = &inputs.workflows[w];
                for e in errors {
                    let src = NamedSource::new(wf.path.display().to_string(), wf.source.clone());
                    eprintln!("{:?}", Report::new(e).with_source_code(src));
                }
                eprintln!(
                    "error: cannot compile `{}` for machine {}",
                    sweep.workflows[w],
                    inputs.machines[m].name()
                );
            }
        }
    }
    if failed {
        return Err((Vec::new(), exit::INVALID));
    }
    let costs: Vec<CostModel<'_>> = inputs.machines.iter().map(CostModel::new).collect();
    let progress = Mutex::new(SweepProgress::new(&sweep.name, todo.len()));
    let appender = Mutex::new(appender);
    let stop = AtomicBool::new(false);
    let outcomes: Vec<Option<Result<(usize, String), u8>>> = todo
        .par_iter()
        .map(|p| {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            let (w, m) = (p.workflow, machine_of(p));
            let wf = &inputs.workflows[w];
            let machine = &inputs.machines[m];
            let sim_inputs = octopus_sim::Inputs {
                workflow: &wf.module.workflow,
                analysis: &wf.module.analysis,
                machine,
                cost: &costs[m],
                plan: &plans[&(w, m)],
            };
            let a = sweep.arrivals[p.arrivals];
            let config = SimConfig {
                scheduler: sweep.schedulers[p.scheduler].clone(),
                requests: a.requests(),
                rate: a.rate(),
                seed: sweep.seeds[p.seed],
                trace: false,
            };
            let out = match octopus_sim::simulate(&sim_inputs, &config) {
                Ok(out) => out,
                Err(e) => {
                    stop.store(true, Ordering::Relaxed);
                    eprintln!("error: point {}: {}", p.index, sweep.describe(p, &combos));
                    eprintln!("{:?}", Report::new(e));
                    return Some(Err(exit::INVALID));
                }
            };
            let point = sweep.inputs(p, &combos);
            let line = results::line_text(
                &keys[p.index],
                &point,
                (&wf.module.workflow.name, wf.fingerprint),
                machine,
                &out.result,
            );
            let appended = appender.lock().expect("no panics while holding the lock").append(&line);
            if let Err(m) = appended {
                stop.store(true, Ordering::Relaxed);
                io::report_error(&m);
                return Some(Err(exit::USAGE));
            }
            progress.lock().expect("no panics while holding the lock").finished(&sweep.describe(p, &combos));
            Some(Ok((p.index, line)))
        })
        .collect();
    progress.lock().expect("no panics while holding the lock").finish();
    let mut lines = Vec::new();
    let mut code = exit::OK;
    for o in outcomes.into_iter().flatten() {
        match o {
            Ok(l) => lines.push(l),
            Err(c) => code = code.max(c),
        }
    }
    if code == exit::OK { Ok(lines) } else { Err((lines, code)) }
}

/// Points finished, on a bar with an ETA when stderr is a terminal, else one line per point
/// (what a Slurm log keeps).
struct SweepProgress {
    bar: Option<ProgressBar>,
    started: Instant,
    done: u64,
    total: u64,
}

impl SweepProgress {
    fn new(label: &str, total: usize) -> SweepProgress {
        let total = total as u64;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:40}] {pos}/{len} points, {elapsed} elapsed, eta {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_message(format!("sweep {label}"));
            bar.enable_steady_tick(Duration::from_millis(500));
            bar
        });
        SweepProgress { bar, started: Instant::now(), done: 0, total }
    }

    fn finished(&mut self, what: &str) {
        self.done += 1;
        match &self.bar {
            Some(bar) => bar.set_position(self.done),
            None => {
                let elapsed = self.started.elapsed().as_secs_f64();
                let eta = elapsed / self.done as f64 * (self.total - self.done) as f64;
                eprintln!("[{}/{}] {what} (eta {eta:.0} s)", self.done, self.total);
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `octopus sweep merge`: the shards' results files joined in canonical order.
pub fn merge(sweep: &Sweep, files: &[PathBuf], out: &Path, partial: bool) -> u8 {
    let points = sweep.points();
    let combos = sweep.combos();
    let keys = keys(sweep, &points);
    let index_of: HashMap<&str, usize> = keys.iter().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
    let mut errors = Vec::new();
    let mut all: Vec<Entry> = Vec::new();
    for f in files {
        match results::read(f, false) {
            Ok(r) => {
                if let Some((line, _)) = r.truncated {
                    errors.push(ResultsError::Truncated {
                        file: f.display().to_string(),
                        line,
                        help: "finish that shard first: rerun its `octopus sweep SPEC --shard I/N` with `--repair`".into(),
                    });
                }
                all.extend(r.entries);
            }
            Err(ReadFailure::Io(m)) => {
                io::report_error(&m);
                return exit::USAGE;
            }
            Err(ReadFailure::Invalid(e)) => errors.extend(e),
        }
    }
    let mut by_index: BTreeMap<usize, &Entry> = BTreeMap::new();
    for e in &all {
        let Some(&i) = index_of.get(e.key.as_str()) else {
            errors.push(ResultsError::Foreign {
                file: e.file.display().to_string(),
                line: e.line,
                key: e.key.clone(),
            });
            continue;
        };
        match by_index.get(&i) {
            // The same line in two files (overlapping shards) is harmless; two results are not.
            Some(first) if first.text == e.text => {}
            Some(first) => errors.push(ResultsError::Conflict {
                file: e.file.display().to_string(),
                line: e.line,
                key: e.key.clone(),
                other_file: first.file.display().to_string(),
                other_line: first.line,
            }),
            None => {
                by_index.insert(i, e);
            }
        }
    }
    errors.extend(results::check_consistent(&all));
    let missing: Vec<&Point> = points.iter().filter(|p| !by_index.contains_key(&p.index)).collect();
    if !missing.is_empty() && !partial {
        errors.push(ResultsError::Missing {
            count: missing.len(),
            total: points.len(),
            example: sweep.describe(missing[0], &combos),
        });
    }
    if !errors.is_empty() {
        return print_all(errors);
    }
    let text: String = by_index.values().map(|e| e.text.as_str()).collect();
    if let Err(m) = io::write_atomic(out, text.as_bytes()) {
        io::report_error(&m);
        return exit::USAGE;
    }
    eprintln!(
        "merged {} files: {} of {} points of sweep `{}` -> {}",
        files.len(),
        by_index.len(),
        points.len(),
        sweep.name,
        out.display()
    );
    exit::OK
}
