//! `octopus report RESULTS.jsonl -o report.html [--svg DIR]`: a sweep's results as one
//! self-contained HTML page (inline SVG charts and CSS, no script, no link to anything).
//!
//! Each chart shows one metric against one axis, one series per scheduler, averaged over the axes it
//! does not show (`docs/sweep.md`, "Report").

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use miette::Report;
use serde_json::Value;

use crate::exit;
use crate::io;
use crate::plot::{self, Labels, Series};
use crate::sweep::results::{self, ReadFailure, ResultsError};
use crate::table::sig3;

/// Arguments of `octopus report`.
#[derive(clap::Args)]
pub struct Args {
    /// A results file of `octopus sweep`.
    #[arg(value_name = "RESULTS.jsonl")]
    results: PathBuf,
    /// The HTML report to write.
    #[arg(short, long, value_name = "REPORT.html", required_unless_present = "svg")]
    out: Option<PathBuf>,
    /// Also (or only) write each chart as an SVG file into this directory.
    #[arg(long, value_name = "DIR")]
    svg: Option<PathBuf>,
    /// The page's title [default: the results file's name].
    #[arg(long)]
    title: Option<String>,
}

/// One point of the results, as the report reads it.
struct Rec {
    workflow: String,
    hardware: String,
    params: Vec<(String, f64)>,
    scheduler: String,
    rate: Option<f64>,
    requests: Option<f64>,
    tbus: f64,
    result: Value,
}

impl Rec {
    fn from(v: &Value) -> Rec {
        let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("").to_owned();
        let f = |p: &str| v.pointer(p).and_then(Value::as_f64);
        let params = v
            .pointer("/point/params")
            .and_then(Value::as_object)
            .map(|m| m.iter().filter_map(|(k, x)| x.as_f64().map(|x| (k.clone(), x))).collect())
            .unwrap_or_default();
        let workflow = match s("/workflow/name") {
            n if n.is_empty() => s("/point/workflow"),
            n => n,
        };
        Rec {
            workflow,
            hardware: s("/point/hardware"),
            params,
            scheduler: s("/point/scheduler"),
            rate: f("/point/rate"),
            requests: f("/point/requests"),
            tbus: f("/machine/tbus").unwrap_or(0.0),
            result: v["result"].clone(),
        }
    }

    fn metric(&self, pointer: &str) -> Option<f64> {
        self.result.pointer(pointer).and_then(Value::as_f64).filter(|x| x.is_finite())
    }

    fn param(&self, name: &str) -> Option<f64> {
        self.params.iter().find(|p| p.0 == name).map(|p| p.1)
    }

    /// Everything but the scheduler: the inputs two schedulers are compared on.
    fn case(&self) -> String {
        format!(
            "{}|{}|{:?}|{:?}|{:?}|{}",
            self.workflow,
            self.hardware,
            self.params,
            self.rate,
            self.requests,
            self.seed()
        )
    }

    fn seed(&self) -> u64 {
        self.result.get("seed").and_then(Value::as_u64).unwrap_or(0)
    }
}

/// A chart of the report.
struct Chart {
    section: &'static str,
    slug: String,
    svg: String,
    caption: String,
}

/// Distinct values in first-seen order.
fn distinct<T: PartialEq + Clone>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for x in items {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

/// Distinct numbers, ascending.
fn sorted_numbers(items: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = distinct(items);
    v.sort_by(f64::total_cmp);
    v
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

fn geomean(xs: &[f64]) -> Option<f64> {
    let pos: Vec<f64> = xs.iter().copied().filter(|&x| x > 0.0).collect();
    (!pos.is_empty()).then(|| (pos.iter().map(|x| x.ln()).sum::<f64>() / pos.len() as f64).exp())
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { sig3(x) }
}

fn slug(s: &str) -> String {
    let mut out: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    out.trim_matches('-').to_owned()
}

/// Series over categories: for each scheduler, the mean of `metric` over the records whose
/// category (by `x`) is each of `xs`.
fn series_over<F: Fn(&Rec) -> Option<f64>>(
    recs: &[&Rec],
    schedulers: &[String],
    xs: &[f64],
    x: F,
    metric: &str,
) -> Vec<Series> {
    schedulers
        .iter()
        .map(|s| Series {
            name: s.clone(),
            values: xs
                .iter()
                .map(|&xv| {
                    let vals: Vec<f64> = recs
                        .iter()
                        .filter(|r| &r.scheduler == s && x(r) == Some(xv))
                        .filter_map(|r| r.metric(metric))
                        .collect();
                    mean(&vals)
                })
                .collect(),
        })
        .collect()
}

/// Groups records by workflow and hardware (the facets of most charts), in first-seen order.
fn facets(recs: &[Rec]) -> Vec<((String, String), Vec<&Rec>)> {
    let keys = distinct(recs.iter().map(|r| (r.workflow.clone(), r.hardware.clone())));
    keys.into_iter()
        .map(|k| {
            let rs = recs.iter().filter(|r| r.workflow == k.0 && r.hardware == k.1).collect();
            (k, rs)
        })
        .collect()
}

fn charts(recs: &[Rec]) -> Vec<Chart> {
    let mut out = Vec::new();
    let schedulers = distinct(recs.iter().map(|r| r.scheduler.clone()));
    let by_rate = recs.iter().any(|r| r.rate.is_some());
    let load = |r: &Rec| if by_rate { r.rate } else { r.requests };
    let load_desc = if by_rate { "arrival rate (requests/s)" } else { "requests per batch" };

    // Latency against load.
    for ((wf, hw), rs) in facets(recs) {
        let xs = sorted_numbers(rs.iter().filter_map(|r| load(r)));
        if xs.len() < 2 {
            continue;
        }
        let ticks: Vec<String> = xs.iter().map(|&x| number(x)).collect();
        let title = format!("{wf} on {hw}: p99 latency against load");
        let series = series_over(&rs, &schedulers, &xs, load, "/latency_p99_s");
        out.push(Chart {
            section: "Latency against load",
            slug: format!("latency-{}", slug(&format!("{wf}-{hw}"))),
            svg: plot::lines(&Labels { title: &title, x: load_desc, y: "p99 latency (s)" }, &ticks, &series),
            caption: format!("p99 request latency by {load_desc}, mean over the other axes"),
        });
    }

    // Speedup per workflow, over the baseline scheduler at the same inputs.
    let baseline = schedulers.iter().find(|s| *s == "static").or(schedulers.first()).cloned();
    if let (Some(base), true) = (baseline, schedulers.len() >= 2) {
        let base_makespan: BTreeMap<String, f64> = recs
            .iter()
            .filter(|r| r.scheduler == base)
            .filter_map(|r| r.metric("/makespan_s").map(|m| (r.case(), m)))
            .collect();
        for hw in distinct(recs.iter().map(|r| r.hardware.clone())) {
            let workflows = distinct(recs.iter().filter(|r| r.hardware == hw).map(|r| r.workflow.clone()));
            let series: Vec<Series> = schedulers
                .iter()
                .map(|s| Series {
                    name: s.clone(),
                    values: workflows
                        .iter()
                        .map(|w| {
                            let ratios: Vec<f64> = recs
                                .iter()
                                .filter(|r| r.hardware == hw && &r.workflow == w && &r.scheduler == s)
                                .filter_map(|r| {
                                    Some(base_makespan.get(&r.case())? / r.metric("/makespan_s")?)
                                })
                                .collect();
                            geomean(&ratios)
                        })
                        .collect(),
                })
                .collect();
            let title = format!("Speedup over `{base}` on {hw}");
            out.push(Chart {
                section: "Speedup per workflow",
                slug: format!("speedup-{}", slug(&hw)),
                svg: plot::grouped_bars(
                    &Labels { title: &title, x: "workflow", y: &format!("speedup over {base} (makespan ratio)") },
                    &workflows,
                    &series,
                    Some(1.0),
                ),
                caption: format!(
                    "makespan of `{base}` over each scheduler's at the same inputs; geometric mean over the other axes"
                ),
            });
        }
    }

    // Where TBU time went.
    let parts = [
        ("computing", "/utilization"),
        ("idle: upstream", "/idle/upstream"),
        ("idle: queued", "/idle/queued"),
        ("idle: reconfig", "/idle/reconfig"),
        ("idle: transfer", "/idle/transfer"),
        ("idle: gang", "/idle/gang"),
        ("idle: collective", "/idle/collective"),
        ("idle: no work", "/idle/no_work"),
    ];
    for ((wf, hw), rs) in facets(recs) {
        let stacks: Vec<Series> = parts
            .iter()
            .map(|(name, pointer)| Series {
                name: (*name).to_owned(),
                values: schedulers
                    .iter()
                    .map(|s| {
                        let vals: Vec<f64> = rs
                            .iter()
                            .filter(|r| &r.scheduler == s)
                            .filter_map(|r| r.metric(pointer))
                            .collect();
                        mean(&vals).map(|m| 100.0 * m)
                    })
                    .collect(),
            })
            .collect();
        let title = format!("{wf} on {hw}: where TBU time goes");
        out.push(Chart {
            section: "Idle breakdown",
            slug: format!("idle-{}", slug(&format!("{wf}-{hw}"))),
            svg: plot::stacked_bars(
                &Labels { title: &title, x: "scheduler", y: "share of TBU time (%)" },
                &schedulers,
                &stacks,
            ),
            caption: "utilisation and the seven idle fractions (they sum to 100 %), mean over the other axes"
                .into(),
        });
    }

    // Scaling: throughput against each swept hardware parameter, and against the machine's size.
    let params = distinct(recs.iter().flat_map(|r| r.params.iter().map(|p| p.0.clone())));
    for name in &params {
        for ((wf, hw), rs) in facets(recs) {
            let xs = sorted_numbers(rs.iter().filter_map(|r| r.param(name)));
            if xs.len() < 2 {
                continue;
            }
            let ticks: Vec<String> = xs.iter().map(|&x| number(x)).collect();
            let title = format!("{wf} on {hw}: throughput against {name}");
            let series = series_over(&rs, &schedulers, &xs, |r| r.param(name), "/throughput_rps");
            out.push(Chart {
                section: "Scaling",
                slug: format!("scaling-{}", slug(&format!("{name}-{wf}-{hw}"))),
                svg: plot::lines(
                    &Labels { title: &title, x: name, y: "throughput (requests/s)" },
                    &ticks,
                    &series,
                ),
                caption: format!("throughput by `{name}` (values evenly spaced), mean over the other axes"),
            });
        }
    }
    if distinct(recs.iter().map(|r| r.hardware.clone())).len() >= 2 {
        for wf in distinct(recs.iter().map(|r| r.workflow.clone())) {
            let rs: Vec<&Rec> = recs.iter().filter(|r| r.workflow == wf).collect();
            let xs = sorted_numbers(rs.iter().map(|r| r.tbus));
            if xs.len() < 2 {
                continue;
            }
            let ticks: Vec<String> = xs.iter().map(|&x| number(x)).collect();
            let title = format!("{wf}: throughput against machine size");
            let series = series_over(&rs, &schedulers, &xs, |r| Some(r.tbus), "/throughput_rps");
            out.push(Chart {
                section: "Scaling",
                slug: format!("scaling-tbus-{}", slug(&wf)),
                svg: plot::lines(
                    &Labels { title: &title, x: "TBUs", y: "throughput (requests/s)" },
                    &ticks,
                    &series,
                ),
                caption:
                    "throughput by the machine's TBU count (values evenly spaced), mean over the other axes"
                        .into(),
            });
        }
    }
    out
}

/// Escapes text for HTML (and XML).
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em auto;max-width:64em;color:#222;padding:0 1em}\
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}\
figure{margin:1.5em 0}figcaption{color:#555;font-size:.9em}svg{max-width:100%;height:auto}\
table{border-collapse:collapse;font-size:.85em}td,th{padding:.2em .6em;border-bottom:1px solid #eee;text-align:right}\
td:nth-child(-n+5),th:nth-child(-n+5){text-align:left}code{font-size:.95em}";

fn html(title: &str, source: &Path, recs: &[Rec], charts: &[Chart]) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n");
    h.push_str("<meta charset=\"utf-8\"/>\n");
    let _ = writeln!(h, "<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>", esc(title));
    let _ = writeln!(h, "<h1>{}</h1>", esc(title));
    let list = |xs: Vec<String>| {
        xs.iter().map(|x| format!("<code>{}</code>", esc(x))).collect::<Vec<_>>().join(", ")
    };
    let _ = writeln!(
        h,
        "<p>{} points from <code>{}</code>. Workflows: {}. Hardware: {}. Schedulers: {}.</p>",
        recs.len(),
        esc(&source.display().to_string()),
        list(distinct(recs.iter().map(|r| r.workflow.clone()))),
        list(distinct(recs.iter().map(|r| r.hardware.clone()))),
        list(distinct(recs.iter().map(|r| r.scheduler.clone()))),
    );
    let mut section = "";
    for (i, c) in charts.iter().enumerate() {
        if c.section != section {
            section = c.section;
            let _ = writeln!(h, "<h2>{}</h2>", esc(section));
        }
        let _ = writeln!(
            h,
            "<figure id=\"{:02}-{}\">\n{}\n<figcaption>{}</figcaption>\n</figure>",
            i + 1,
            c.slug,
            c.svg.trim(),
            esc(&c.caption)
        );
    }
    h.push_str("<h2>Points</h2>\n<p>Means over seeds.</p>\n<table>\n<thead><tr><th>workflow</th><th>hardware</th><th>parameters</th><th>scheduler</th><th>arrivals</th><th>seeds</th><th>makespan s</th><th>req/s</th><th>p50 s</th><th>p99 s</th><th>util</th></tr></thead>\n<tbody>\n");
    let mut rows: Vec<(String, Vec<&Rec>)> = Vec::new();
    for r in recs {
        let params =
            r.params.iter().map(|(n, v)| format!("{n}={}", number(*v))).collect::<Vec<_>>().join(" ");
        let arrivals = match (r.rate, r.requests) {
            (Some(rate), Some(n)) => format!("{}/s, {}", number(rate), number(n)),
            (Some(rate), None) => format!("{}/s", number(rate)),
            (None, Some(n)) => format!("batch of {}", number(n)),
            (None, None) => "workflow's".into(),
        };
        let row = [r.workflow.as_str(), &r.hardware, &params, &r.scheduler, &arrivals]
            .map(|c| format!("<td>{}</td>", esc(c)))
            .concat();
        match rows.iter_mut().find(|x| x.0 == row) {
            Some(x) => x.1.push(r),
            None => rows.push((row, vec![r])),
        }
    }
    for (row, rs) in &rows {
        let m = |p: &str| {
            mean(&rs.iter().filter_map(|r| r.metric(p)).collect::<Vec<_>>()).map_or("-".into(), sig3)
        };
        let util = mean(&rs.iter().filter_map(|r| r.metric("/utilization")).collect::<Vec<_>>())
            .map_or("-".into(), |u| format!("{}%", sig3(100.0 * u)));
        let _ = writeln!(
            h,
            "<tr>{row}<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{util}</td></tr>",
            rs.len(),
            m("/makespan_s"),
            m("/throughput_rps"),
            m("/latency_p50_s"),
            m("/latency_p99_s"),
        );
    }
    h.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    h
}

/// Runs `octopus report`.
pub fn run(args: &Args) -> u8 {
    let file = match results::read(&args.results, false) {
        Ok(f) => f,
        Err(ReadFailure::Io(m)) => {
            io::report_error(&m);
            return exit::USAGE;
        }
        Err(ReadFailure::Invalid(errors)) => {
            for e in errors {
                eprintln!("{:?}", Report::new(e));
            }
            return exit::INVALID;
        }
    };
    let mut errors = results::check_consistent(&file.entries);
    if let Some((line, _)) = file.truncated {
        errors.push(ResultsError::Truncated {
            file: args.results.display().to_string(),
            line,
            help: "finish the sweep first: rerun `octopus sweep SPEC` with `--repair`".into(),
        });
    }
    if !errors.is_empty() {
        for e in errors {
            eprintln!("{:?}", Report::new(e));
        }
        return exit::INVALID;
    }
    let recs: Vec<Rec> = file.entries.iter().map(|e| Rec::from(&e.value)).collect();
    let charts = charts(&recs);
    if let Some(dir) = &args.svg {
        if let Err(e) = std::fs::create_dir_all(dir) {
            io::report_error(&format!("cannot create `{}`: {e}", dir.display()));
            return exit::USAGE;
        }
        for (i, c) in charts.iter().enumerate() {
            let path = dir.join(format!("{:02}-{}.svg", i + 1, c.slug));
            if let Err(m) = io::write_atomic(&path, c.svg.as_bytes()) {
                io::report_error(&m);
                return exit::USAGE;
            }
        }
    }
    if let Some(out) = &args.out {
        let title =
            args.title.clone().unwrap_or_else(|| format!("Sweep report: {}", io::stem(&args.results)));
        if let Err(m) = io::write_atomic(out, html(&title, &args.results, &recs, &charts).as_bytes()) {
            io::report_error(&m);
            return exit::USAGE;
        }
    }
    eprintln!("{} points, {} charts", recs.len(), charts.len());
    exit::OK
}
