//! Checks one `.owg` file and prints its diagnostics and analysis: `cargo run -p octopus-owg --example check -- FILE`.

use std::path::{Path, PathBuf};

use octopus_owg::Loader;

struct Dir(PathBuf);

impl Loader for Dir {
    fn load(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: check FILE.owg");
        std::process::exit(2);
    };
    let path = Path::new(&path);
    let source = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot read {}: {e}", path.display());
            std::process::exit(2);
        }
    };
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("workflow");
    let dir = Dir(path.parent().map(Path::to_path_buf).unwrap_or_default());
    let checked = octopus_owg::check(&source, stem, &dir);
    print!("{}", octopus_owg::render(&checked.diagnostics, &source, &path.display().to_string()));
    if let Some(m) = &checked.module {
        let a = &m.analysis;
        println!(
            "{}: {} blocks, {} flows; expected work {:.4e}, worst {:.4e}, critical path {:.4e}",
            m.workflow.name,
            m.workflow.blocks.len(),
            m.workflow.flows.len(),
            a.expected_work,
            a.worst_work,
            a.critical_path
        );
    }
    std::process::exit(i32::from(checked.has_errors()));
}
