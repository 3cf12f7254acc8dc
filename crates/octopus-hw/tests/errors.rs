//! Every bad hardware file in `test_data/err/` is rejected with located diagnostics, never a
//! panic; the rendered diagnostics are snapshots named after the file.

use miette::{GraphicalReportHandler, GraphicalTheme};
use octopus_hw::{HwError, Machine};

fn render(errors: &[HwError]) -> String {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(100);
    let mut out = String::new();
    for e in errors {
        handler.render_report(&mut out, e).unwrap();
        out.push('\n');
    }
    out
}

#[test]
fn bad_files_give_located_diagnostics() {
    insta::glob!("../test_data/err", "*.ron", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        let errors = Machine::from_ron(&text, name).expect_err("a bad file must be rejected");
        assert!(!errors.is_empty());
        let rendered = render(&errors);
        // Every diagnostic but the size limit points at a line of the file.
        assert!(rendered.contains(&format!("[{name}:")), "{rendered}");
        insta::assert_snapshot!(rendered);
    });
}

#[test]
fn every_problem_is_reported_not_only_the_first() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/test_data/err/zero_and_negative.ron"))
            .unwrap();
    let errors = Machine::from_ron(&text, "x.ron").unwrap_err();
    assert_eq!(errors.len(), 3, "{errors:?}");
}

#[test]
fn unknown_preset_lists_the_presets() {
    let e = Machine::preset("mainframe").unwrap_err();
    let text = render(&[e]);
    assert!(text.contains("chip, package, wafer, hetero"), "{text}");
}

#[test]
fn truncated_and_garbage_input_never_panics() {
    let chip = octopus_hw::preset_text("chip").unwrap();
    for cut in (0..chip.len()).step_by(7) {
        if chip.is_char_boundary(cut) {
            assert!(Machine::from_ron(&chip[..cut], "cut.ron").is_err());
        }
    }
    for text in ["", "(", ")", "HardwareSpec(", "\"", "/*", "[[[[", "HardwareSpec(name: 3)"] {
        assert!(Machine::from_ron(text, "g.ron").is_err());
    }
}
