//! Every bad spec in `test_data/sweep/err/` is refused with located diagnostics; the rendered
//! diagnostics are snapshots named after the file (the binary's exit codes: `tests/sweep.rs`).

use std::path::Path;

use miette::{GraphicalReportHandler, GraphicalTheme};

use super::inputs;
use super::spec::{SpecError, Sweep};

fn render(errors: &[SpecError]) -> String {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(100);
    let mut out = String::new();
    for e in errors {
        handler.render_report(&mut out, e).unwrap();
        out.push('\n');
    }
    out
}

#[test]
fn bad_specs_give_located_diagnostics() {
    insta::glob!("../../test_data/sweep/err", "*.ron", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        // Relative to the crate (the tests' working directory), so snapshots do not name this machine.
        let rel = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
        let errors = match Sweep::parse(&text, rel) {
            Err(errors) => errors,
            Ok(sweep) => match inputs::load(&sweep) {
                Err(errors) => errors,
                Ok(_) => panic!("`{}` must be refused", rel.display()),
            },
        };
        let rendered = render(&errors);
        let name = rel.file_name().unwrap().to_str().unwrap();
        assert!(rendered.contains(&format!("[test_data/sweep/err/{name}:")), "{rendered}");
        insta::assert_snapshot!(rendered);
    });
}

#[test]
fn every_problem_is_reported_not_only_the_first() {
    let path = Path::new("test_data/sweep/err/bad_counts_and_rates.ron");
    let errors = Sweep::parse(&std::fs::read_to_string(path).unwrap(), path).err().unwrap();
    assert_eq!(errors.len(), 3, "{errors:?}");
    let path = Path::new("test_data/sweep/err/duplicate_values.ron");
    let errors = Sweep::parse(&std::fs::read_to_string(path).unwrap(), path).err().unwrap();
    assert_eq!(errors.len(), 2, "{errors:?}");
}
