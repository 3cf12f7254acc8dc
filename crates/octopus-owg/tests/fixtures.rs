//! Every file of `test_data/ok` and `test_data/err`, checked and snapshotted: what a user sees.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use octopus_owg::analysis::Class;
use octopus_owg::ir::Arrivals;
use octopus_owg::{Checked, Diagnostic, Loader, Module};

/// Reads files relative to the directory of the `.owg` file, as the CLI does.
struct Dir(PathBuf);

impl Loader for Dir {
    fn load(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

fn check_file(path: &Path) -> (String, Checked) {
    let source = std::fs::read_to_string(path).expect("fixture readable");
    let stem = path.file_stem().and_then(|s| s.to_str()).expect("utf-8 name");
    let checked = octopus_owg::check(&source, stem, &Dir(path.parent().expect("in a folder").to_path_buf()));
    (source, checked)
}

fn display_name(path: &Path) -> String {
    let dir = path.parent().and_then(Path::file_name).and_then(|s| s.to_str()).unwrap_or("");
    format!("{dir}/{}", path.file_name().and_then(|s| s.to_str()).unwrap_or(""))
}

/// A readable summary of the analysis.
fn summary(m: &Module) -> String {
    let wf = &m.workflow;
    let a = &m.analysis;
    let mut out = String::new();
    let arrivals = match &wf.arrivals {
        Arrivals::Poisson { rate, requests } => format!("poisson {rate}/s, {requests} requests"),
        Arrivals::Batch { requests } => format!("batch of {requests}"),
        Arrivals::Replay { source, times } => format!(
            "replay {source}: {} arrivals, first {:?}",
            times.len(),
            times.iter().take(4).map(|t| format!("{t:.6}")).collect::<Vec<_>>()
        ),
    };
    writeln!(out, "workflow `{}`: {} blocks, {} flows; {arrivals}", wf.name, wf.blocks.len(), wf.flows.len())
        .unwrap();
    writeln!(out, "{:<16} {:>12} {:>9} {:>12} {:>9}  class", "task", "visits", "visits cv", "ops", "ops cv")
        .unwrap();
    for t in wf.tasks() {
        let i = &a.blocks[t];
        let class = match i.class {
            Some(Class::Stable) => "stable",
            Some(Class::Dynamic) => "dynamic",
            None => "-",
        };
        writeln!(
            out,
            "{:<16} {:>12.6} {:>9.4} {:>12.4e} {:>9.4}  {class}",
            wf.blocks[t].name, i.visits, i.visits_cv, i.ops, i.ops_cv
        )
        .unwrap();
    }
    writeln!(out, "expected work {:.6e}", a.expected_work).unwrap();
    writeln!(out, "worst work    {:.6e}", a.worst_work).unwrap();
    writeln!(out, "critical path {:.6e}", a.critical_path).unwrap();
    out
}

#[test]
fn ok_fixtures() {
    insta::glob!("../test_data", "ok/*.owg", |path| {
        let (source, checked) = check_file(path);
        let rendered = octopus_owg::render(&checked.diagnostics, &source, &display_name(path));
        assert!(!checked.has_errors(), "{}:\n{rendered}", path.display());
        let module = checked.module.as_ref().expect("no errors, so a module");
        let warnings = if rendered.is_empty() { "no warnings\n".to_owned() } else { rendered };
        insta::assert_snapshot!(format!("{}\n{warnings}", summary(module)));
    });
}

#[test]
fn err_fixtures() {
    insta::glob!("../test_data", "err/*.owg", |path| {
        let (source, checked) = check_file(path);
        let rendered = octopus_owg::render(&checked.diagnostics, &source, &display_name(path));
        // `err/CODE.owg` or `err/CODE-variant.owg` must report `owg::CODE`.
        let stem = path.file_stem().and_then(|s| s.to_str()).expect("utf-8 name");
        let code = format!("owg::{}", stem.split('-').next().expect("split yields one part"));
        assert!(
            checked.diagnostics.iter().any(|d| d.code_str() == code),
            "{} does not report {code}:\n{rendered}",
            path.display()
        );
        let expects_error =
            checked.diagnostics.iter().find(|d| d.code_str() == code).is_some_and(Diagnostic::is_error);
        assert_eq!(checked.has_errors(), expects_error, "{}:\n{rendered}", path.display());
        assert_eq!(checked.module.is_some(), !checked.has_errors());
        insta::assert_snapshot!(rendered);
    });
}

#[test]
fn every_code_has_a_fixture_and_is_documented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = std::fs::read_to_string(root.join("../../docs/language.md")).expect("docs/language.md");
    let fixtures: Vec<String> = std::fs::read_dir(root.join("test_data/err"))
        .expect("err fixtures")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    for code in Diagnostic::CODES {
        let name = code.trim_start_matches("owg::");
        assert!(
            fixtures.iter().any(|f| f == &format!("{name}.owg") || f.starts_with(&format!("{name}-"))),
            "no fixture test_data/err/{name}.owg"
        );
        assert!(docs.contains(&format!("`{code}`")), "docs/language.md does not document `{code}`");
    }
}
