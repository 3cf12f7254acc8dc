//! The placement-quality table of `docs/compiler.md`: expected NoC bytes x hops per request of the
//! compiler's placement against a row-major and a random placement, for every shipped workflow on
//! every preset.
//!
//! ```text
//! cargo run --release -p octopus-compiler --example placement_quality
//! ```

use std::path::{Path, PathBuf};

use octopus_compiler::{Options, Strategy, compile_with};
use octopus_hw::Machine;
use octopus_owg::{Loader, check};

/// Random placements averaged per row.
const SEEDS: u64 = 5;

struct Dir(PathBuf);

impl Loader for Dir {
    fn load(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("workflows/ exists")
        .map(|e| e.expect("readable directory").path())
        .filter(|p| p.extension().is_some_and(|e| e == "owg"))
        .collect();
    files.sort();
    println!(
        "| workflow | hardware | locality (ours) | row-major | random (mean of {SEEDS}) | row-major / ours | random / ours |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    for hw in ["chip", "package", "wafer"] {
        let machine = Machine::preset(hw).expect("a preset");
        for path in &files {
            let text = std::fs::read_to_string(path).expect("readable workflow");
            let stem = path.file_stem().expect("a file").to_string_lossy();
            let checked = check(&text, &stem, &Dir(root.clone()));
            let Some(module) = checked.module else {
                eprintln!("skipping {}: does not validate", path.display());
                continue;
            };
            let cost = |strategy| {
                compile_with(&module, &machine, &Options { strategy }).expect("compiles").report.noc_byte_hops
            };
            let ours = cost(Strategy::Locality);
            let rows = cost(Strategy::RowMajor);
            let random = (1..=SEEDS).map(|seed| cost(Strategy::Random { seed })).sum::<f64>() / SEEDS as f64;
            let ratio = |x: f64| if ours > 0.0 { format!("{:.2}", x / ours) } else { "-".into() };
            println!(
                "| {} | {hw} | {} | {} | {} | {} | {} |",
                module.workflow.name,
                mb(ours),
                mb(rows),
                mb(random),
                ratio(rows),
                ratio(random)
            );
        }
    }
}

/// Megabyte-hops with three significant digits.
fn mb(x: f64) -> String {
    let v = x / 1e6;
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
