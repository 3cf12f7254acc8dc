//! `octopus check FILE...`: parse, validate and analyse workflows.

use std::path::{Path, PathBuf};

use clap::ValueEnum;
use miette::{Diagnostic as _, NamedSource, Report};
use octopus_owg::analysis::Class;
use octopus_owg::{Checked, Diagnostic, Module};
use serde::Serialize;

use crate::exit;
use crate::io::{self, FsLoader};
use crate::table::{Align, Table, si, sig3};

/// Arguments of `octopus check`.
#[derive(clap::Args)]
pub struct Args {
    /// Workflow files (`.owg`).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Print the analysis of each valid file: visits, variability and class of every task block.
    #[arg(long)]
    stats: bool,
    /// Output format: human text (diagnostics on stderr), or one JSON document on stdout.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// Output formats of `check`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text for people.
    Human,
    /// JSON for scripts.
    Json,
}

/// Runs `octopus check`.
pub fn run(args: &Args) -> u8 {
    let mut code = exit::OK;
    let mut reports = Vec::new();
    for path in &args.files {
        let source = match io::read_input(path) {
            Ok(s) => s,
            Err(failed) => {
                code = code.max(failed);
                continue;
            }
        };
        let checked = check_file(path, &source);
        if checked.has_errors() {
            code = code.max(exit::INVALID);
        }
        match args.format {
            Format::Human => print_human(path, &source, &checked, args.stats),
            Format::Json => reports.push(FileReport::new(path, &source, &checked)),
        }
    }
    if args.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&reports).expect("reports serialise"));
    }
    code
}

/// Checks one source, reading the files it names relative to `path`.
pub fn check_file(path: &Path, source: &str) -> Checked {
    octopus_owg::check(source, &io::stem(path), &FsLoader::for_file(path))
}

/// Prints diagnostics, rustc style, to stderr.
pub fn print_diagnostics(path: &Path, source: &str, diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        let report = Report::new(d.clone())
            .with_source_code(NamedSource::new(path.display().to_string(), source.to_owned()));
        eprintln!("{report:?}");
    }
}

fn print_human(path: &Path, source: &str, checked: &Checked, stats: bool) {
    print_diagnostics(path, source, &checked.diagnostics);
    let errors = checked.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = checked.diagnostics.len() - errors;
    match &checked.module {
        Some(module) => {
            let wf = &module.workflow;
            let tasks = wf.tasks().count();
            println!(
                "ok       {}: workflow `{}`, {} task blocks, {} control blocks, {} flows{}",
                path.display(),
                wf.name,
                tasks,
                wf.blocks.len() - tasks,
                wf.flows.len(),
                plural_suffix(", ", warnings, "warning"),
            );
            if stats {
                print!("{}", stats_table(module));
            }
        }
        None => println!(
            "invalid  {}: {}{}",
            path.display(),
            plural(errors, "error"),
            plural_suffix(", ", warnings, "warning")
        ),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

fn plural_suffix(sep: &str, n: usize, word: &str) -> String {
    if n == 0 { String::new() } else { format!("{sep}{}", plural(n, word)) }
}

/// The `--stats` table of one valid workflow.
pub fn stats_table(module: &Module) -> String {
    let (wf, an) = (&module.workflow, &module.analysis);
    let mut t = Table::new(&[
        ("task", Align::Left),
        ("kernel", Align::Left),
        ("visits", Align::Right),
        ("visits cv", Align::Right),
        ("ops/exec", Align::Right),
        ("ops cv", Align::Right),
        ("class", Align::Left),
    ]);
    for id in wf.tasks() {
        let (block, info) = (&wf.blocks[id], &an.blocks[id]);
        let kernel = block.task().map_or("", |t| t.kernel.kind().name());
        t.row(vec![
            block.name.clone(),
            kernel.to_owned(),
            sig3(info.visits),
            sig3(info.visits_cv),
            si(info.ops),
            sig3(info.ops_cv),
            class_name(info.class).to_owned(),
        ]);
    }
    format!(
        "\n{}\nper request (nominal operations): expected work {}, worst-case work {}, critical path of means {}\n\n",
        t.render().trim_end(),
        si(an.expected_work),
        si(an.worst_work),
        si(an.critical_path)
    )
}

fn class_name(class: Option<Class>) -> &'static str {
    match class {
        Some(Class::Stable) => "stable",
        Some(Class::Dynamic) => "dynamic",
        None => "-",
    }
}

#[derive(Serialize)]
struct FileReport {
    file: String,
    valid: bool,
    errors: usize,
    warnings: usize,
    diagnostics: Vec<DiagnosticJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    analysis: Option<AnalysisJson>,
}

#[derive(Serialize)]
struct DiagnosticJson {
    severity: &'static str,
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<String>,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
struct AnalysisJson {
    workflow: String,
    expected_work: f64,
    worst_work: f64,
    /// The longest path of expected costs: a lower bound on the expected critical path.
    critical_path_of_means: f64,
    /// The same figure under its former name, kept for scripts that read it.
    critical_path: f64,
    tasks: Vec<TaskJson>,
}

#[derive(Serialize)]
struct TaskJson {
    name: String,
    kernel: &'static str,
    visits: f64,
    visits_cv: f64,
    ops: f64,
    ops_cv: f64,
    class: &'static str,
}

impl FileReport {
    fn new(path: &Path, source: &str, checked: &Checked) -> FileReport {
        let diagnostics: Vec<DiagnosticJson> = checked
            .diagnostics
            .iter()
            .map(|d| {
                let span = d.span().unwrap_or_default();
                let (line, column) = io::line_col(source, span.start as usize);
                let (end_line, end_column) = io::line_col(source, span.end as usize);
                DiagnosticJson {
                    severity: if d.is_error() { "error" } else { "warning" },
                    code: d.code_str(),
                    message: d.to_string(),
                    help: d.help().map(|h| h.to_string()),
                    line,
                    column,
                    end_line,
                    end_column,
                }
            })
            .collect();
        let errors = diagnostics.iter().filter(|d| d.severity == "error").count();
        let analysis = checked.module.as_ref().map(|m| {
            let (wf, an) = (&m.workflow, &m.analysis);
            AnalysisJson {
                workflow: wf.name.clone(),
                expected_work: an.expected_work,
                worst_work: an.worst_work,
                critical_path_of_means: an.critical_path,
                critical_path: an.critical_path,
                tasks: wf
                    .tasks()
                    .map(|id| {
                        let info = &an.blocks[id];
                        TaskJson {
                            name: wf.blocks[id].name.clone(),
                            kernel: wf.blocks[id].task().map_or("", |t| t.kernel.kind().name()),
                            visits: info.visits,
                            visits_cv: info.visits_cv,
                            ops: info.ops,
                            ops_cv: info.ops_cv,
                            class: class_name(info.class),
                        }
                    })
                    .collect(),
            }
        });
        FileReport {
            file: path.display().to_string(),
            valid: checked.module.is_some(),
            errors,
            warnings: diagnostics.len() - errors,
            diagnostics,
            analysis,
        }
    }
}
