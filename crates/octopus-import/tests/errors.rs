//! Inputs that cannot become a workflow give a clear error, with its code and, where the place can
//! be found, a span into the JSON. Snapshots hold what a user sees (rendered without colour).

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, NamedSource};
use octopus_import::ImportError;

fn render(json: &str, err: ImportError) -> String {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(100);
    let report = miette::Report::new(err).with_source_code(NamedSource::new("input.json", json.to_owned()));
    let mut out = String::new();
    handler.render_report(&mut out, report.as_ref()).unwrap();
    out
}

fn error(json: &str) -> ImportError {
    match octopus_import::wfcommons(json, "input.json") {
        Ok(imported) => panic!("expected an error, got\n{}", imported.owg),
        Err(e) => e,
    }
}

/// A 1.5 instance from task declarations `(id, parents, children, inputs, outputs)`.
fn v15(tasks: &[(&str, &[&str], &[&str])], files: &str) -> String {
    let tasks: Vec<String> = tasks
        .iter()
        .map(|(id, parents, children)| {
            format!(
                r#"{{"name": "{id}", "id": "{id}", "parents": {parents:?}, "children": {children:?}, "inputFiles": [], "outputFiles": []}}"#
            )
        })
        .collect();
    format!(
        "{{\n  \"name\": \"t\",\n  \"schemaVersion\": \"1.5\",\n  \"workflow\": {{\n    \"specification\": {{\n      \"tasks\": [\n        {}\n      ],\n      \"files\": {files}\n    }}\n  }}\n}}\n",
        tasks.join(",\n        ")
    )
}

#[test]
fn truncated_json_points_at_the_end() {
    let full = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/test_data/helloworld-chain-5-chameleon.json"
    ))
    .unwrap();
    let cut = &full[..full.find("\"outputFiles\"").unwrap() + 5];
    let err = error(cut);
    assert_eq!(err.code().unwrap().to_string(), "import::json");
    let ImportError::Json { span, .. } = &err else { panic!("{err:?}") };
    assert_eq!(span.offset() + span.len(), cut.len(), "the span is the last character");
    insta::assert_snapshot!(render(cut, err));
}

#[test]
fn malformed_json_points_at_the_mistake() {
    let json = "{\n  \"workflow\": {\n    \"specification\": {\"tasks\": [1, 2,, 3]}\n  }\n}\n";
    let err = error(json);
    let ImportError::Json { line, column, span, .. } = &err else { panic!("{err:?}") };
    assert_eq!((*line, *column), (3, 38), "the second comma");
    assert_eq!(&json[span.offset()..span.offset() + 1], ",");
    insta::assert_snapshot!(render(json, err));
}

#[test]
fn not_an_instance() {
    for json in ["[]", "{}", "42", r#"{"workflow": {"name": "x"}}"#] {
        assert!(matches!(error(json), ImportError::MissingSection { .. }), "{json}");
    }
    insta::assert_snapshot!(render("{}", error("{}")));
}

#[test]
fn empty_workflow() {
    let json = v15(&[], "[]");
    insta::assert_snapshot!(render(&json, error(&json)));
}

#[test]
fn unknown_parent_is_located() {
    let json = v15(&[("a", &[], &["b"]), ("b", &["a", "ghost"], &[])], "[]");
    let err = error(&json);
    let ImportError::UnknownTask { span: Some(span), reference, .. } = &err else { panic!("{err:?}") };
    assert_eq!(reference, "ghost");
    assert_eq!(&json[span.offset()..span.offset() + span.len()], "\"ghost\"");
    insta::assert_snapshot!(render(&json, err));
}

#[test]
fn unknown_file_is_located() {
    let json = r#"{"schemaVersion": "1.5", "workflow": {"specification": {
        "tasks": [{"id": "a", "parents": [], "children": [], "inputFiles": ["in.txt", "gone.txt"], "outputFiles": []}],
        "files": [{"id": "in.txt", "sizeInBytes": 10}]}}}"#;
    let err = error(json);
    let ImportError::UnknownFile { span: Some(span), file, .. } = &err else { panic!("{err:?}") };
    assert_eq!(file, "gone.txt");
    assert_eq!(&json[span.offset()..span.offset() + span.len()], "\"gone.txt\"");
    insta::assert_snapshot!(render(json, err));
}

#[test]
fn cycles_name_their_tasks_in_order() {
    let json = v15(&[("a", &[], &["b"]), ("b", &[], &["c"]), ("c", &[], &["b", "d"]), ("d", &[], &[])], "[]");
    let err = error(&json);
    let ImportError::Cycle { tasks, .. } = &err else { panic!("{err:?}") };
    assert_eq!(tasks, &["b", "c"]);
    insta::assert_snapshot!(render(&json, err));

    let json = v15(&[("self", &["self"], &[])], "[]");
    let ImportError::Cycle { tasks, .. } = error(&json) else { panic!() };
    assert_eq!(tasks, &["self"]);
}

#[test]
fn duplicate_ids_are_located_at_the_second() {
    let json = v15(&[("a", &[], &[]), ("a", &[], &[])], "[]");
    let err = error(&json);
    let ImportError::DuplicateTask { span: Some(span), .. } = &err else { panic!("{err:?}") };
    assert_eq!(span.offset(), json.rfind(r#""id": "a""#).unwrap() + r#""id": "#.len());
    insta::assert_snapshot!(render(&json, err));
}

#[test]
fn impossible_field_types() {
    let json = r#"{"workflow": {"specification": {"tasks": [{"id": "a", "parents": "b"}]}}}"#;
    let err = error(json);
    assert_eq!(err.code().unwrap().to_string(), "import::bad_field");
    assert_eq!(err.to_string(), "`workflow.specification.tasks[0].parents` should be a list of task IDs");
    insta::assert_snapshot!(render(json, err));
    let json = r#"{"workflow": {"specification": {"tasks": [{"parents": []}]}}}"#;
    assert_eq!(error(json).to_string(), "`workflow.specification.tasks[0].id` should be a string");
    let json = r#"{"workflow": {"specification": {"tasks": {}}}}"#;
    assert_eq!(error(json).to_string(), "`workflow.specification.tasks` should be a list of tasks");
}
