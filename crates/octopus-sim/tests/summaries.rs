//! Snapshots of what a user sees from a run: the JSON summary of `static` and `octopus` on every
//! shipped workflow (50 requests on `chip`, seed 1). A change to the engine, a scheduler, the cost
//! model or the compiler that moves any metric shows up here for review.

mod common;

use std::path::{Path, PathBuf};

use common::{Setup, config};
use octopus_hw::Machine;

/// Reads the CSVs a workflow names, relative to its file (tests may read files; the crates may not).
struct DirLoader(PathBuf);

impl octopus_owg::Loader for DirLoader {
    fn load(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

fn setup(file: &Path) -> Setup {
    let text = std::fs::read_to_string(file).unwrap();
    let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
    let checked = octopus_owg::check(&text, &stem, &DirLoader(file.parent().unwrap().to_path_buf()));
    let module = checked.module.unwrap_or_else(|| panic!("{} is invalid", file.display()));
    let machine = Machine::preset("chip").unwrap();
    let plan = octopus_compiler::compile(&module, &machine).unwrap_or_else(|e| panic!("compile: {e:?}"));
    Setup { module, machine, plan }
}

#[test]
fn summaries_of_every_shipped_workflow() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "owg"))
        .collect();
    files.sort();
    assert!(files.len() >= 9);
    for file in files {
        let s = setup(&file);
        let results: Vec<_> =
            ["static", "octopus"].iter().map(|name| s.run(&config(name, Some(50), 1)).result).collect();
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        insta::assert_json_snapshot!(name, results);
    }
}
