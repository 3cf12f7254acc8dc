//! Imports every WfCommons instance in a folder and prints the table of `docs/import.md`.
//!
//! `cargo run -p octopus-import --example wfcommons_table [FOLDER]`; the folder defaults to
//! `../shared/data/wfcommons` beside the repository. Prints Markdown on stdout.

use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/wfcommons"));
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", dir.display());
            std::process::exit(2);
        }
    };
    files.sort();
    println!(
        "| instance | tasks | dependencies | after reduction | recorded makespan (s) | critical path (s) | \
         critical path / makespan | total runtime (s) | flow bytes | runtimes floored |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut failed = false;
    let started = Instant::now();
    for path in &files {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", path.display());
                failed = true;
                continue;
            }
        };
        match octopus_import::wfcommons(&text, &name) {
            Ok(imported) => {
                let r = &imported.report;
                let (makespan, ratio) = match r.recorded_makespan_s {
                    Some(m) if m > 0.0 => (format!("{m}"), format!("{:.3}", r.critical_path_s / m)),
                    Some(m) => (format!("{m}"), "-".to_owned()),
                    None => ("-".to_owned(), "-".to_owned()),
                };
                let floored = r.notes.iter().find_map(|n| match n {
                    octopus_import::Note::RuntimesFloored { zero, missing, invalid } => {
                        Some(zero + missing + invalid)
                    }
                    _ => None,
                });
                println!(
                    "| {} | {} | {} | {} | {} | {:.3} | {} | {:.3} | {} | {} |",
                    name.trim_end_matches(".json"),
                    r.tasks,
                    r.edges_declared,
                    r.edges_kept,
                    makespan,
                    r.critical_path_s,
                    ratio,
                    r.total_runtime_s,
                    r.flow_bytes,
                    floored.unwrap_or(0)
                );
            }
            Err(e) => {
                eprintln!("error: {name}: {e}");
                failed = true;
            }
        }
    }
    eprintln!("{} instances imported in {:.2?}", files.len(), started.elapsed());
    if failed {
        std::process::exit(1);
    }
}
