//! `octopus compile FILE.owg --hw NAME|FILE.ron [-o PLAN.ron] [--format human|ron|json]`:
//! a workflow and a machine in, a placement plan out.

use std::path::PathBuf;

use clap::ValueEnum;
use miette::{NamedSource, Report};
use octopus_compiler::Plan;
use octopus_hw::Machine;
use octopus_owg::Module;

use crate::commands::check::{check_file, print_diagnostics};
use crate::commands::hw::load_machine;
use crate::exit;
use crate::io;
use crate::table::{Align, Table, si, sig3};

/// Arguments of `octopus compile`.
#[derive(clap::Args)]
pub struct Args {
    /// The workflow (`.owg`).
    #[arg(value_name = "FILE.owg")]
    file: PathBuf,
    /// The hardware: a preset name (`octopus hw list`) or a `.ron` file.
    #[arg(long, value_name = "NAME|FILE.ron")]
    hw: String,
    /// Write the plan (RON) to this file, atomically.
    #[arg(short = 'o', long = "output", value_name = "PLAN.ron")]
    output: Option<PathBuf>,
    /// What to print: a summary with the report, or the whole plan as RON or JSON.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Also compute a static schedule of one execution: `heft` (workflows without control blocks).
    /// Human output appends its length and per-task placement; `ron`/`json` print the schedule
    /// instead of the plan (`-o` still writes the plan).
    #[arg(long, value_enum, value_name = "ALGORITHM")]
    schedule: Option<ScheduleKind>,
}

/// Static schedules `compile --schedule` computes.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScheduleKind {
    /// HEFT (Topcuoglu et al. 2002): upward rank, insertion-based earliest finish time.
    Heft,
}

/// Output formats of `compile`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable summary with the report.
    Human,
    /// The plan as RON (what `-o` writes).
    Ron,
    /// The plan as JSON.
    Json,
}

/// Runs `octopus compile`.
pub fn run(args: &Args) -> u8 {
    let source = match io::read_input(&args.file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (machine, _) = match load_machine(&args.hw) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let checked = check_file(&args.file, &source);
    // Errors, or warnings of a valid workflow: stderr either way, as `octopus check` prints them.
    print_diagnostics(&args.file, &source, &checked.diagnostics);
    let Some(module) = checked.module.as_ref() else {
        return exit::INVALID;
    };
    let plan = match octopus_compiler::compile(module, &machine) {
        Ok(plan) => plan,
        Err(errors) => {
            for e in errors {
                let report = Report::new(e)
                    .with_source_code(NamedSource::new(args.file.display().to_string(), source.clone()));
                eprintln!("{report:?}");
            }
            return exit::INVALID;
        }
    };
    let schedule =
        match args.schedule.map(|_| octopus_compiler::heft::schedule_workflow(&module.workflow, &machine)) {
            Some(Err(e)) => {
                eprintln!("{:?}", Report::new(e));
                return exit::INVALID;
            }
            Some(Ok(s)) => Some(s),
            None => None,
        };
    if let Some(out) = &args.output
        && let Err(m) = io::write_atomic(out, plan.to_ron().as_bytes())
    {
        io::report_error(&m);
        return exit::USAGE;
    }
    match (args.format, &schedule) {
        (Format::Human, Some(s)) => print!("{}\n{}", human(module, &machine, &plan), heft_table(&machine, s)),
        (Format::Ron, Some(s)) => println!("{}", octopus_hw::to_ron(s)),
        (Format::Json, Some(s)) => {
            println!("{}", serde_json::to_string_pretty(s).expect("schedules serialise"))
        }
        (Format::Human, None) => print!("{}", human(module, &machine, &plan)),
        (Format::Ron, None) => println!("{}", plan.to_ron()),
        (Format::Json, None) => println!("{}", serde_json::to_string_pretty(&plan).expect("plans serialise")),
    }
    if let Some(out) = &args.output {
        eprintln!("wrote {}", out.display());
    }
    exit::OK
}

/// The human summary: one row per task block, control blocks, and the report.
pub fn human(module: &Module, machine: &Machine, plan: &Plan) -> String {
    let r = &plan.report;
    let mut out = format!(
        "plan v{} of `{}` on `{}` ({} TBUs in {} clusters)\n\n",
        plan.version,
        plan.workflow,
        plan.hardware,
        machine.tbus.len(),
        machine.clusters.len()
    );
    let mut t = Table::new(&[
        ("task", Align::Left),
        ("kernel", Align::Left),
        ("class", Align::Left),
        ("kind", Align::Left),
        ("visits", Align::Right),
        ("cycles/exec on 1 TBU", Align::Right),
        ("shards", Align::Right),
        ("cycles/shard", Align::Right),
        ("homes", Align::Right),
        ("anchor", Align::Right),
        ("load/TBU", Align::Right),
    ]);
    for (tp, load) in plan.tasks.iter().zip(&r.tasks) {
        let kernel = module.workflow.blocks[tp.block].task().map_or("", |t| t.kernel.kind().name());
        t.row(vec![
            format!("{}{}", tp.name, if tp.shared { " *" } else { "" }),
            kernel.to_owned(),
            format!("{:?}", tp.class).to_lowercase(),
            machine.kinds[tp.kind].name.clone(),
            sig3(tp.visits),
            si(tp.cycles),
            tp.shards.to_string(),
            si(tp.shard_cycles),
            tp.homes.len().to_string(),
            format!("c{}", tp.anchor.0),
            si(load.load),
        ]);
    }
    out += &t.render();
    if plan.tasks.iter().any(|t| t.shared) {
        out += "* time-shares its TBU with neighbouring task blocks (more task blocks than TBUs)\n";
    }
    if !plan.controls.is_empty() {
        let cbs: Vec<String> = plan.controls.iter().map(|c| format!("{}@c{}", c.name, c.cluster.0)).collect();
        out += &format!("\ncontrol blocks on CBUs: {}\n", cbs.join(", "));
    }
    let mean_hops = if r.noc_bytes > 0.0 { r.noc_byte_hops / r.noc_bytes } else { 0.0 };
    out += &format!(
        "\nreport (expected, per request)\n  TBUs used          {} of {}\n  TBU cycles         {}\n  \
         max TBU load       {} cycles (mean {}, imbalance {})\n  cluster imbalance  {}\n  \
         NoC traffic        {}B, {}B x hops (mean {} hops per byte)\n  throughput bound   {}\n",
        r.tbus_used,
        r.tbus_total,
        si(r.total_demand),
        si(r.max_tbu_load),
        si(r.mean_tbu_load),
        sig3(r.tbu_imbalance),
        sig3(r.cluster_imbalance),
        si(r.noc_bytes),
        si(r.noc_byte_hops),
        sig3(mean_hops),
        r.max_requests_per_second
            .map_or("unbounded (no load)".to_owned(), |x| format!("{} requests/s", sig3(x))),
    );
    let m = &r.memory;
    if m.weights_bytes > 0.0 || !m.llm.is_empty() {
        out += &format!(
            "\nmemory (one die)\n  weights            {}B of {}B\n  KV cache capacity  {}B\n",
            si(m.weights_bytes),
            si(m.die_bytes),
            si(m.kv_capacity_bytes)
        );
        for l in &m.llm {
            let limited =
                if l.design_batch < f64::from(l.max_batch) { ", limited by the KV cache" } else { "" };
            out += &format!(
                "  {:<18} {}B of KV cache per sequence, batches of {} (max_batch {}){limited}\n",
                l.name,
                si(l.kv_bytes_mean),
                sig3(l.design_batch),
                l.max_batch
            );
        }
    }
    out
}

/// The HEFT schedule: its length, then one row per task block in start order.
fn heft_table(machine: &Machine, s: &octopus_compiler::heft::WorkflowSchedule) -> String {
    let mut out = format!(
        "HEFT schedule of one execution: length {} cycles ({} s) over {} TBUs{}\n\n",
        s.makespan_cycles,
        sig3(s.makespan_s),
        s.processors,
        if s.reduced { " (one per cluster and kind)" } else { "" }
    );
    let mut t = Table::new(&[
        ("task", Align::Left),
        ("TBU", Align::Right),
        ("cluster", Align::Right),
        ("start", Align::Right),
        ("finish", Align::Right),
        ("rank order", Align::Right),
    ]);
    let mut rows: Vec<_> = s.tasks.iter().collect();
    rows.sort_by_key(|t| (t.start, t.tbu));
    for r in rows {
        t.row(vec![
            r.name.clone(),
            r.tbu.0.to_string(),
            format!("c{}", machine.cluster_of(r.tbu).0),
            r.start.to_string(),
            r.finish.to_string(),
            r.order.to_string(),
        ]);
    }
    out += &t.render();
    out
}
