//! `octopus import wfcommons FILE.json [-o OUT.owg]`: workflows written by others, as `.owg`.

use std::path::{Path, PathBuf};

use miette::{NamedSource, Report};

use crate::exit;
use crate::io;

/// Arguments of `octopus import`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    source: Source,
}

/// The formats `import` reads.
#[derive(clap::Subcommand)]
enum Source {
    /// Convert a WfCommons instance (WfFormat JSON, schema 1.3 to 1.6) into a `.owg` workflow: tasks
    /// last their measured runtimes, files become flows, transitive dependencies are dropped.
    /// What was dropped or assumed is reported on stderr.
    Wfcommons(WfcommonsArgs),
}

/// Arguments of `octopus import wfcommons`.
#[derive(clap::Args)]
struct WfcommonsArgs {
    /// The instance (`.json`).
    #[arg(value_name = "FILE.json")]
    file: PathBuf,
    /// Write the workflow here (atomically) instead of on stdout.
    #[arg(short, long, value_name = "OUT.owg")]
    output: Option<PathBuf>,
}

/// Runs `octopus import`.
pub fn run(args: &Args) -> u8 {
    match &args.source {
        Source::Wfcommons(a) => wfcommons(&a.file, a.output.as_deref()),
    }
}

fn wfcommons(path: &Path, output: Option<&Path>) -> u8 {
    let text = match io::read_input(path) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let name =
        path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let imported = match octopus_import::wfcommons(&text, &name) {
        Ok(i) => i,
        Err(err) => {
            eprintln!(
                "{:?}",
                Report::new(err).with_source_code(NamedSource::new(path.display().to_string(), text))
            );
            return exit::INVALID;
        }
    };
    eprint!("{}", imported.report);
    match output {
        None => {
            print!("{}", imported.owg);
            exit::OK
        }
        Some(out) => match io::write_atomic(out, imported.owg.as_bytes()) {
            Ok(()) => {
                eprintln!("wrote {}", out.display());
                exit::OK
            }
            Err(message) => {
                io::report_error(&message);
                exit::USAGE
            }
        },
    }
}
