//! What the evaluation examples share: loading the shipped workflows, and Markdown tables.

#![allow(dead_code)] // each example uses its own part

use std::path::{Path, PathBuf};

use octopus_owg::{Loader, Module, check};

/// Resolves the CSV files a workflow names, relative to its directory.
pub struct Dir(pub PathBuf);

impl Loader for Dir {
    fn load(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `.owg` files of `workflows/`, sorted, kept to the stems in `only` when given.
pub fn workflow_files(only: Option<&[String]>) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("workflows"))
        .expect("workflows/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "owg"))
        .collect();
    files.sort();
    if let Some(w) = only {
        files.retain(|p| w.iter().any(|n| p.file_stem().unwrap() == n.as_str()));
    }
    files
}

/// A validated workflow from a file.
pub fn load(path: &Path) -> Module {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let stem = path.file_stem().unwrap().to_str().unwrap();
    let checked = check(&text, stem, &Dir(path.parent().unwrap().to_owned()));
    checked.module.unwrap_or_else(|| panic!("{} does not validate", path.display()))
}

/// Prints a Markdown table: the first column left-aligned, the others right-aligned, then a blank
/// line.
pub fn print_table(head: &[String], rows: &[Vec<String>]) {
    println!("| {} |", head.join(" | "));
    println!("|---|{}", "---:|".repeat(head.len() - 1));
    for r in rows {
        println!("| {} |", r.join(" | "));
    }
    println!();
}

/// One row per workflow, one column per scheduler (after the `lead` columns).
pub fn per_scheduler(
    names: &[&str],
    lead: &[&str],
    schedulers: &[String],
    row: impl Fn(usize) -> Vec<String>,
) {
    let head: Vec<String> =
        ["workflow"].iter().chain(lead).map(|h| h.to_string()).chain(schedulers.iter().cloned()).collect();
    let rows: Vec<Vec<String>> =
        (0..names.len()).map(|w| [names[w].to_owned()].into_iter().chain(row(w)).collect()).collect();
    print_table(&head, &rows);
}

/// A Markdown table of a ratio per workflow and column, `digits` decimals and a `suffix` on each
/// cell, then its geometric mean per column (in bold) and, with `max`, its maximum.
pub fn ratio_table(
    names: &[&str],
    cols: &[&str],
    headers: &[String],
    ratio: impl Fn(usize, &str) -> f64,
    digits: usize,
    suffix: &str,
    max: bool,
) {
    let head: Vec<String> = ["workflow".to_owned()].into_iter().chain(headers.iter().cloned()).collect();
    let values: Vec<Vec<f64>> =
        cols.iter().map(|c| (0..names.len()).map(|w| ratio(w, c)).collect()).collect();
    let mut rows: Vec<Vec<String>> = (0..names.len())
        .map(|w| {
            [names[w].to_owned()]
                .into_iter()
                .chain(values.iter().map(|v| format!("{:.digits$}{suffix}", v[w])))
                .collect()
        })
        .collect();
    rows.push(
        ["**geometric mean**".to_owned()]
            .into_iter()
            .chain(values.iter().map(|v| format!("**{:.digits$}{suffix}**", geomean(v))))
            .collect(),
    );
    if max {
        rows.push(
            ["max".to_owned()]
                .into_iter()
                .chain(
                    values
                        .iter()
                        .map(|v| format!("{:.digits$}{suffix}", v.iter().copied().fold(0.0, f64::max))),
                )
                .collect(),
        );
    }
    print_table(&head, &rows);
}

/// The geometric mean of positive numbers.
pub fn geomean(xs: &[f64]) -> f64 {
    (xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp()
}
