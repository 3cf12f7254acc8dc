//! The deviations real files show, and the older layouts, read into valid workflows, and the
//! report says what was assumed.

use octopus_import::{Imported, MIN_RUNTIME_S, Note};

/// Imports, and checks the result with the front end: no errors, no warnings.
fn import(json: &str) -> Imported {
    import_allowing(json, &[])
}

/// Imports, and checks the result with the front end: no errors, and only the warnings named.
fn import_allowing(json: &str, allowed: &[&str]) -> Imported {
    let imported = octopus_import::wfcommons(json, "case.json").unwrap_or_else(|e| panic!("{e:?}"));
    let checked = octopus_owg::check(&imported.owg, "case", &octopus_owg::NoFiles);
    assert!(
        checked.diagnostics.iter().all(|d| !d.is_error() && allowed.contains(&d.code_str())),
        "{}\n{}",
        imported.owg,
        octopus_owg::render(&checked.diagnostics, &imported.owg, "case.owg")
    );
    imported
}

fn flow_lines(owg: &str) -> Vec<&str> {
    owg.lines().filter(|l| l.starts_with("flow ")).collect()
}

#[test]
fn wfformat_1_4_layout_with_inline_files_and_parents_by_name() {
    // 1.4: one task list, files inline with `link`, parents named by task name, an old `id`.
    let json = r#"{
      "name": "old", "schemaVersion": "1.4",
      "workflow": {
        "makespanInSeconds": 30, "executedAt": "2020-01-01T00:00:00Z",
        "machines": [{"nodeName": "n1", "cpu": {"count": 8}}],
        "tasks": [
          {"name": "split_ID01", "id": "ID01", "category": "split", "runtimeInSeconds": 2, "cores": 4,
           "parents": [], "files": [{"link": "input", "name": "in.dat", "sizeInBytes": 100},
                                    {"link": "output", "name": "part1", "sizeInBytes": 40},
                                    {"link": "output", "name": "part2", "sizeInBytes": 60}]},
          {"name": "work_ID02", "id": "ID02", "category": "work", "runtimeInSeconds": 10.5,
           "parents": ["split_ID01"], "files": [{"link": "input", "name": "part1", "sizeInBytes": 40},
                                                {"link": "output", "name": "r1", "sizeInBytes": 7}]},
          {"name": "work_ID03", "id": "ID03", "category": "work", "runtimeInSeconds": 12,
           "parents": ["ID01"], "files": [{"link": "input", "name": "part2", "sizeInBytes": 60},
                                          {"link": "output", "name": "r2", "sizeInBytes": 8}]},
          {"name": "merge_ID04", "id": "ID04", "category": "merge", "runtimeInSeconds": 1,
           "parents": ["work_ID02", "work_ID03", "split_ID01"],
           "files": [{"link": "input", "name": "r1"}, {"link": "input", "name": "r2", "sizeInBytes": 8},
                     {"link": "input", "name": "part1", "sizeInBytes": 40}]}
        ]
      }
    }"#;
    let imported = import(json);
    let r = &imported.report;
    assert_eq!((r.tasks, r.edges_declared, r.edges_kept), (4, 5, 4));
    assert_eq!(r.recorded_makespan_s, Some(30.0));
    assert_eq!(r.critical_path_s, 2.0 + 12.0 + 1.0);
    assert_eq!(
        flow_lines(&imported.owg),
        [
            "flow split_ID01 -> work_ID02 [bytes = 40 B]",
            "flow split_ID01 -> work_ID03 [bytes = 60 B]",
            "flow work_ID02 -> merge_ID04 [bytes = 7 B]",
            "flow work_ID03 -> merge_ID04 [bytes = 8 B]",
        ]
    );
    assert!(r.notes.contains(&Note::TransitiveDependenciesDropped { count: 1, bytes: 40 }));
    assert!(r.notes.contains(&Note::MachinesIgnored { count: 1 }));
    assert!(r.notes.contains(&Note::CoreCountsIgnored { tasks: 1, max: 4.0 }));
    assert!(imported.owg.contains("// --- split: 1 task ---"));
    assert!(imported.owg.contains("// --- work: 2 tasks, 10.5 s to 12 s ---"));
    assert!(!r.notes.iter().any(|n| matches!(n, Note::SchemaVersion { .. })));
}

#[test]
fn wfformat_1_3_field_names_and_children_only() {
    // 1.3 spelled `runtime`, `size` and `makespan`; this writer gave children, not parents.
    let json = r#"{"schemaVersion": "1.3", "workflow": {"makespan": 9.5, "tasks": [
        {"name": "a", "type": "compute", "runtime": "3.25", "children": ["b"],
         "files": [{"link": "output", "name": "x", "path": "/d/", "size": 1000}]},
        {"name": "b", "type": "compute", "runtime": 0, "children": [],
         "files": [{"link": "input", "name": "x", "path": "/d/", "size": 1000}]}
    ]}}"#;
    let imported = import(json);
    let r = &imported.report;
    assert_eq!(r.recorded_makespan_s, Some(9.5));
    assert_eq!(flow_lines(&imported.owg), ["flow a -> b [bytes = 1_000 B]"]);
    assert!(imported.owg.contains("task a = delay(time = 3.25 s)"));
    assert!(imported.owg.contains(&format!("task b = delay(time = {MIN_RUNTIME_S} s)  // recorded 0 s")));
    assert!(r.notes.contains(&Note::RuntimesFloored { zero: 1, missing: 0, invalid: 0 }));
    assert!(r.notes.contains(&Note::OneSidedDependencies { count: 1 }));
}

#[test]
fn jobs_and_a_missing_version_are_read_by_shape() {
    let json = r#"{"workflow": {"jobs": [{"name": "only", "runtime": 5}]}}"#;
    let imported = import(json);
    assert_eq!(imported.report.notes, [Note::SchemaVersion { found: None, layout: "1.3" }]);
    let json = r#"{"schemaVersion": "2.0", "workflow": {"specification": {"tasks": [{"id": "t"}]}}}"#;
    let imported = import(json);
    assert!(
        imported.report.notes.contains(&Note::SchemaVersion { found: Some("2.0".into()), layout: "1.5" })
    );
}

#[test]
fn no_execution_section_floors_every_runtime() {
    let json = r#"{"schemaVersion": "1.5", "workflow": {"specification": {
        "tasks": [{"id": "a", "children": ["b"]}, {"id": "b", "parents": ["a"]}]}}}"#;
    let imported = import(json);
    let r = &imported.report;
    assert!(r.notes.contains(&Note::NoExecutionSection));
    assert!(r.notes.contains(&Note::RuntimesFloored { zero: 0, missing: 2, invalid: 0 }));
    assert_eq!(r.recorded_makespan_s, None);
    assert_eq!(r.critical_path_s, 2.0 * MIN_RUNTIME_S);
    assert!(imported.owg.contains("// no recorded makespan"));
    assert_eq!(flow_lines(&imported.owg), ["flow a -> b"], "no files: a pure dependency");
}

#[test]
fn execution_quirks_are_absorbed_and_reported() {
    // Integer makespan, integer and negative runtimes, a record for no task, machines as an
    // object, a file without a size, a file referenced by its name rather than its ID.
    let json = r#"{"schemaVersion": "1.6", "workflow": {
        "specification": {
          "tasks": [{"id": "a", "children": ["b"], "outputFiles": ["f1", "big"]},
                    {"id": "b", "parents": ["a"], "inputFiles": ["f1", "data.bin"]},
                    {"id": "c", "parents": ["a"]}],
          "files": [{"id": "f1"}, {"id": "big", "name": "data.bin", "sizeInBytes": 2048.0}]},
        "execution": {"makespanInSeconds": 12, "machines": {"nodeName": "m"},
          "tasks": [{"id": "a", "runtimeInSeconds": 4}, {"id": "b", "runtimeInSeconds": -1},
                    {"id": "zombie", "runtimeInSeconds": 1}, {"id": "c", "runtimeInSeconds": 2.5}]}}}"#;
    let imported = import(json);
    let r = &imported.report;
    assert_eq!(r.recorded_makespan_s, Some(12.0));
    assert_eq!(flow_lines(&imported.owg), ["flow a -> b [bytes = 2_048 B]", "flow a -> c"]);
    assert!(r.notes.contains(&Note::RuntimesFloored { zero: 0, missing: 0, invalid: 1 }));
    assert!(r.notes.contains(&Note::OrphanExecutionRecords { count: 1 }));
    assert!(r.notes.contains(&Note::MachinesIgnored { count: 1 }));
    assert!(r.notes.contains(&Note::UnknownFileSizes { files: 1 }));
    assert!(r.notes.contains(&Note::OneSidedDependencies { count: 1 }));
    assert!(imported.owg.contains("// invalid runtime"));
}

#[test]
fn dependencies_are_inferred_from_files_only_when_none_are_declared() {
    let json = r#"{"schemaVersion": "1.5", "workflow": {"specification": {
        "tasks": [{"id": "w", "outputFiles": ["f"]}, {"id": "r", "inputFiles": ["f"]}],
        "files": [{"id": "f", "sizeInBytes": 5}]}}}"#;
    let imported = import(json);
    assert_eq!(flow_lines(&imported.owg), ["flow w -> r [bytes = 5 B]"]);
    assert!(imported.report.notes.contains(&Note::DependenciesInferredFromFiles { count: 1 }));

    // With some dependency declared, a file between unrelated tasks is reported, not a flow; the
    // reader is then rightly unconnected, which the front end warns about.
    let json = r#"{"schemaVersion": "1.5", "workflow": {"specification": {
        "tasks": [{"id": "w", "outputFiles": ["f"], "children": ["x"]}, {"id": "r", "inputFiles": ["f"]},
                  {"id": "x"}],
        "files": [{"id": "f", "sizeInBytes": 5}]}}}"#;
    let imported = import_allowing(json, &["owg::isolated_block"]);
    assert_eq!(flow_lines(&imported.owg), ["flow w -> x"]);
    assert!(imported.report.notes.contains(&Note::UndeclaredTransfers { pairs: 1, bytes: 5 }));
}

#[test]
fn awkward_ids_become_unique_identifiers() {
    let json = r#"{"schemaVersion": "1.5", "workflow": {"specification": {"tasks": [
        {"id": "map", "children": ["9lives"]}, {"id": "9lives", "children": ["a-b"]},
        {"id": "a-b", "children": ["a.b"]}, {"id": "a.b", "children": ["a_b"]}, {"id": "a_b"},
        {"id": "!!!", "parents": ["a_b"]}, {"id": "flow", "parents": ["a_b"]}]}}}"#;
    let imported = import(json);
    let names: Vec<&str> = imported
        .owg
        .lines()
        .filter_map(|l| l.strip_prefix("task "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        names,
        ["map_", "t9lives", "a_b_2", "a_b_3", "a_b", "unnamed", "flow_"],
        "`a_b` keeps its name"
    );
    assert!(imported.report.notes.contains(&Note::TasksRenamed { count: 6 }));
    assert_eq!(
        flow_lines(&imported.owg),
        [
            "flow map_ -> t9lives",
            "flow t9lives -> a_b_2",
            "flow a_b_2 -> a_b_3",
            "flow a_b_3 -> a_b",
            "flow a_b -> unnamed",
            "flow a_b -> flow_"
        ]
    );
}

#[test]
fn the_workflow_is_named_after_the_hint_else_the_instance() {
    let json = r#"{"name": "from-json", "workflow": {"specification": {"tasks": [{"id": "t"}]}}}"#;
    let named = |hint: &str| octopus_import::wfcommons(json, hint).unwrap().report.workflow;
    assert_eq!(named("dir/1000genome-run.json"), "wf_1000genome_run");
    assert_eq!(named(""), "from_json");
    assert_eq!(named("workflow"), "workflow_");
}
