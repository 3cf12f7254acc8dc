//! `octopus sweep SPEC.ron`: a design-space sweep (workflows x hardware x parameters x schedulers x
//! arrivals x seeds), resumable, shardable, and as a Slurm job array; `octopus sweep merge`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use miette::Report;

use crate::exit;
use crate::io;
use crate::sweep::inputs;
use crate::sweep::run::{self, RunOptions, Shard, parse_shard, shard_path};
use crate::sweep::slurm;
use crate::sweep::spec::{SpecError, Sweep};

/// Arguments of `octopus sweep`.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<SweepCommand>,
    /// The sweep spec (`docs/sweep.md`).
    #[arg(value_name = "SPEC.ron", required = true)]
    spec: Option<PathBuf>,
    /// The results file, one JSON line per point [default: the spec's stem + `.jsonl`, in the
    /// current directory; with `--shard I/N`, `STEM.shard-I-of-N.jsonl`].
    #[arg(short, long, value_name = "RESULTS.jsonl")]
    out: Option<PathBuf>,
    /// Run only every N-th point, from the I-th (I from 0).
    #[arg(long, value_name = "I/N", value_parser = parse_shard, conflicts_with = "slurm")]
    shard: Option<Shard>,
    /// Write an sbatch job-array script (one array task per shard) instead of running.
    #[arg(long)]
    slurm: bool,
    /// With `--slurm`: the number of array tasks [default: the points, at most 32].
    #[arg(long, value_name = "N", requires = "slurm", value_parser = clap::value_parser!(u32).range(1..))]
    shards: Option<u32>,
    /// With `--slurm`: the script to write [default: the spec's stem + `.sbatch`].
    #[arg(long, value_name = "FILE.sbatch", requires = "slurm")]
    script: Option<PathBuf>,
    /// With `--slurm`: one more `#SBATCH` option (repeatable), e.g. `--sbatch=--time=01:00:00`.
    #[arg(long, value_name = "OPTION", requires = "slurm", allow_hyphen_values = true)]
    sbatch: Vec<String>,
    /// Worker threads [default: one per core].
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    jobs: Option<u32>,
    /// Drop a cut-off last line of the results file (an interrupted write) instead of refusing it.
    #[arg(long)]
    repair: bool,
    /// Print the points (of the shard) with their keys instead of running them.
    #[arg(long, conflicts_with = "slurm")]
    list: bool,
}

#[derive(clap::Subcommand)]
enum SweepCommand {
    /// Join the results files of a sweep's shards, in the sweep's canonical order.
    Merge(MergeArgs),
}

/// Arguments of `octopus sweep merge`.
#[derive(clap::Args)]
struct MergeArgs {
    /// The sweep spec the shards ran.
    #[arg(value_name = "SPEC.ron")]
    spec: PathBuf,
    /// The shards' results files.
    #[arg(value_name = "RESULTS.jsonl", required = true)]
    files: Vec<PathBuf>,
    /// The merged results file.
    #[arg(short, long, value_name = "OUT.jsonl")]
    out: PathBuf,
    /// Write what there is even if some points are in no file.
    #[arg(long)]
    partial: bool,
}

/// Reads and checks a spec; on failure prints every problem and returns the exit code.
pub fn load_spec(path: &Path) -> Result<Sweep, u8> {
    let text = io::read_input(path)?;
    Sweep::parse(&text, path).map_err(print_spec_errors)
}

fn print_spec_errors(errors: Vec<SpecError>) -> u8 {
    let code = errors.iter().map(SpecError::exit_code).max().unwrap_or(exit::INVALID);
    for e in errors {
        eprintln!("{:?}", Report::new(e));
    }
    code
}

/// Runs `octopus sweep`.
pub fn run(args: &Args) -> u8 {
    if let Some(SweepCommand::Merge(m)) = &args.command {
        return match load_spec(&m.spec) {
            Ok(sweep) => run::merge(&sweep, &m.files, &m.out, m.partial),
            Err(code) => code,
        };
    }
    let spec_path = args.spec.as_ref().expect("clap requires SPEC without a subcommand");
    let sweep = match load_spec(spec_path) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let inputs = match inputs::load(&sweep) {
        Ok(i) => i,
        Err(errors) => return print_spec_errors(errors),
    };
    let default_out = PathBuf::from(format!("{}.jsonl", io::stem(spec_path)));
    let out = args.out.clone().unwrap_or(default_out);
    if args.slurm {
        return write_slurm(args, &sweep, spec_path, &out);
    }
    let out = match (args.shard, &args.out) {
        (Some(shard), None) => shard_path(&out, shard),
        _ => out,
    };
    if args.list {
        let points = sweep.points();
        let keys = run::keys(&sweep, &points);
        let combos = sweep.combos();
        let mut stdout = std::io::stdout().lock();
        for p in points.iter().filter(|p| args.shard.is_none_or(|s| s.owns(p.index))) {
            // A closed pipe (`| head`) ends the listing, not in a panic.
            if writeln!(stdout, "{:>5}  {}  {}", p.index, keys[p.index], sweep.describe(p, &combos)).is_err()
            {
                break;
            }
        }
        return exit::OK;
    }
    let opts =
        RunOptions { out: &out, shard: args.shard, jobs: args.jobs.map(|j| j as usize), repair: args.repair };
    run::run(&sweep, &inputs, &opts)
}

fn write_slurm(args: &Args, sweep: &Sweep, spec_path: &Path, out: &Path) -> u8 {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let points = sweep.points().len();
    let shards = args.shards.unwrap_or_else(|| points.min(32) as u32).max(1);
    let script_path =
        args.script.clone().unwrap_or_else(|| PathBuf::from(format!("{}.sbatch", io::stem(spec_path))));
    let octopus = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            io::report_error(&format!("cannot find the `octopus` binary: {e}"));
            return exit::USAGE;
        }
    };
    let workdir = std::env::current_dir().unwrap_or_else(|_| absolute(Path::new(".")));
    let spec = absolute(spec_path);
    let job = slurm::Job {
        name: &sweep.name,
        octopus: &octopus,
        spec: &spec,
        workdir: &workdir,
        out,
        shards,
        points,
        script: &script_path,
        options: &args.sbatch,
    };
    let text = slurm::script(&job);
    if let Err(m) = io::write_atomic(&script_path, text.as_bytes()) {
        io::report_error(&m);
        return exit::USAGE;
    }
    let glob = shard_path(out, Shard { index: 0, count: shards })
        .display()
        .to_string()
        .replace(&format!(".shard-0-of-{shards}"), &format!(".shard-*-of-{shards}"));
    println!("wrote {}: {points} points in {shards} array tasks", script_path.display());
    println!("submit:  sbatch {}", script_path.display());
    println!("then:    octopus sweep merge {} {glob} -o {}", spec_path.display(), out.display());
    exit::OK
}
