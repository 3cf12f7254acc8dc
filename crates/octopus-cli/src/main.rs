//! `octopus`: the command-line front door of the Octopus toolkit.
//!
//! Describe orchestrated AI workflows in `.owg` files, model spatial hardware up to a wafer, compile
//! workflows into placement plans, and simulate them under the baseline and Octopus schedulers.
//! This is the only crate that touches files and the terminal: every command reads its inputs
//! here, hands text and data to the library crates, and renders what they return.
//!
//! Exit codes: 0 success, 1 invalid input (diagnostics on stderr), 2 usage or IO error.

mod commands;
mod io;
mod plot;
mod simrun;
mod sweep;
mod table;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes shared by every command.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// An input was invalid; diagnostics were printed.
    pub const INVALID: u8 = 1;
    /// A usage error, or a file could not be read or written.
    pub const USAGE: u8 = 2;
}

/// Orchestrated AI workflows on scale-out spatial architectures.
#[derive(Parser)]
#[command(name = "octopus", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse, validate and analyse workflow files.
    Check(commands::check::Args),
    /// Simulate a workflow on a machine under one runtime scheduler.
    Simulate(commands::simulate::Args),
    /// Simulate a workflow under several schedulers and compare them.
    Compare(commands::compare::Args),
    /// Convert workflows written by others (WfCommons instances) into `.owg` files.
    Import(commands::import::Args),
    /// List and show hardware: presets and `.ron` descriptions.
    Hw(commands::hw::Args),
    /// Compile a workflow onto hardware: a placement plan and its report.
    Compile(commands::compile::Args),
    /// Run a design-space sweep (resumable, shardable, or as a Slurm job array); `sweep merge`.
    Sweep(commands::sweep::Args),
    /// A sweep's results as one self-contained HTML page of SVG charts (or the SVGs alone).
    Report(commands::report::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // `--help` and `--version` are not errors.
            let code = if err.use_stderr() { exit::USAGE } else { exit::OK };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    let code = match cli.command {
        Command::Check(args) => commands::check::run(&args),
        Command::Simulate(args) => commands::simulate::run(&args),
        Command::Compare(args) => commands::compare::run(&args),
        Command::Import(args) => commands::import::run(&args),
        Command::Hw(args) => commands::hw::run(&args),
        Command::Compile(args) => commands::compile::run(&args),
        Command::Sweep(args) => commands::sweep::run(&args),
        Command::Report(args) => commands::report::run(&args),
    };
    ExitCode::from(code)
}
