//! `octopus hw list` and `octopus hw show NAME|FILE.ron`: the hardware presets and descriptions.

use std::path::Path;

use clap::ValueEnum;
use miette::Report;
use octopus_hw::{Machine, PRESETS, Summary};

use crate::exit;
use crate::io;
use crate::table::{Align, Table, si, sig3};

/// Arguments of `octopus hw`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: HwCommand,
}

#[derive(clap::Subcommand)]
enum HwCommand {
    /// List the hardware presets.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Show the totals of a preset or a hardware file (`.ron`).
    Show {
        /// A preset name (`octopus hw list`) or a path to a `.ron` file.
        #[arg(value_name = "NAME|FILE.ron")]
        target: String,
        /// Output format: totals as text or JSON, or the description itself as RON.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
}

/// Output formats of `hw`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text for people.
    Human,
    /// The hardware description (RON), e.g. to start a new file from a preset.
    Ron,
    /// JSON for scripts.
    Json,
}

/// Runs `octopus hw`.
pub fn run(args: &Args) -> u8 {
    match &args.command {
        HwCommand::List { format } => list(*format),
        HwCommand::Show { target, format } => match load_machine(target) {
            Ok((machine, text)) => {
                show(&machine, &text, *format);
                exit::OK
            }
            Err(code) => code,
        },
    }
}

/// Loads `--hw NAME|FILE.ron`: a path when it names a `.ron` file or contains a path separator,
/// a preset otherwise. Prints diagnostics and returns the exit code on failure. Also returns the
/// description's text.
pub fn load_machine(target: &str) -> Result<(Machine, String), u8> {
    let is_path =
        target.ends_with(".ron") || target.contains(std::path::MAIN_SEPARATOR) || target.contains('/');
    if !is_path {
        return match Machine::preset(target) {
            Ok(m) => Ok((m, octopus_hw::preset_text(target).expect("a preset has text").to_owned())),
            Err(e) => {
                eprintln!("{:?}", Report::new(e));
                Err(exit::USAGE)
            }
        };
    }
    let path = Path::new(target);
    let text = io::read_input(path)?;
    match Machine::from_ron(&text, &path.display().to_string()) {
        Ok(m) => Ok((m, text)),
        Err(errors) => {
            for e in errors {
                eprintln!("{:?}", Report::new(e));
            }
            Err(exit::INVALID)
        }
    }
}

fn list(format: Format) -> u8 {
    let machines: Vec<Machine> =
        PRESETS.iter().map(|p| Machine::preset(p.0).expect("presets are valid")).collect();
    match format {
        Format::Human => {
            let mut t = Table::new(&[
                ("name", Align::Left),
                ("dies", Align::Right),
                ("clusters", Align::Right),
                ("TBUs", Align::Right),
                ("peak op/s", Align::Right),
                ("description", Align::Left),
            ]);
            for m in &machines {
                let s = m.summary();
                t.row(vec![
                    s.name,
                    s.dies.to_string(),
                    s.clusters.to_string(),
                    s.tbus.to_string(),
                    si(s.peak_tops * 1e12),
                    s.description,
                ]);
            }
            print!("{}", t.render());
        }
        Format::Json => {
            let all: Vec<Summary> = machines.iter().map(Machine::summary).collect();
            println!("{}", serde_json::to_string_pretty(&all).expect("summaries serialise"));
        }
        Format::Ron => {
            let all: Vec<_> = machines.iter().map(|m| &m.spec).collect();
            println!("{}", octopus_hw::to_ron(&all));
        }
    }
    exit::OK
}

fn show(machine: &Machine, text: &str, format: Format) {
    let s = machine.summary();
    match format {
        Format::Human => print!("{}", human(&s)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&s).expect("summary serialises")),
        Format::Ron => print!("{text}"),
    }
}

/// The text `hw show` prints.
pub fn human(s: &Summary) -> String {
    let mut t = Table::new(&[("", Align::Left), ("", Align::Left)]);
    let mut row = |k: &str, v: String| t.row(vec![k.to_owned(), v]);
    row("clock", format!("{} GHz", sig3(s.clock_ghz)));
    row("dies", format!("{} ({} x {} clusters in all)", s.dies, s.mesh.0, s.mesh.1));
    row("clusters (CBUs)", s.cbus.to_string());
    row("TBUs", s.tbus.to_string());
    for k in &s.kinds {
        row(&format!("  {}", k.name), format!("{} x {} PEA, {}op/s", k.tbus, k.pea, si(k.peak_tops * 1e12)));
    }
    row("peak", format!("{}op/s", si(s.peak_tops * 1e12)));
    row("scratchpad", format!("{} MiB", sig3(s.scratchpad_mib)));
    row("memory", format!("{} GiB at {}B/s", sig3(s.memory_capacity_gib), si(s.memory_bandwidth_gbps * 1e9)));
    row("NoC link", format!("{}B/s", si(s.noc_link_gbps * 1e9)));
    row("inter-die link", format!("{}B/s", si(s.inter_die_link_gbps * 1e9)));
    row("control link", format!("{}B/s", si(s.control_link_gbps * 1e9)));
    row("bisection", format!("{}B/s", si(s.bisection_gbps * 1e9)));
    row("diameter", format!("{} hops", s.diameter_hops));
    let body = t.render();
    // The header row of a two-column key/value table is empty; drop it.
    let body: String = body
        .lines()
        .skip_while(|l| l.trim().is_empty() || l.trim_start().starts_with('-'))
        .map(|l| format!("{l}\n"))
        .collect();
    format!("{}: {}\n{body}", s.name, s.description)
}
