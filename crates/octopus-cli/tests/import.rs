//! `octopus import wfcommons` end to end: stdout and `-o`, the report on stderr, located errors, exit codes.

mod common;

use std::path::PathBuf;

use common::{octopus, repo_root};

fn instance(name: &str) -> PathBuf {
    repo_root().join("crates/octopus-import/test_data").join(name)
}

#[test]
fn prints_the_workflow_on_stdout_and_the_report_on_stderr() {
    let out =
        octopus().args(["import", "wfcommons"]).arg(instance("sarek-dirt02-001.json")).output().unwrap();
    let (stdout, stderr) = (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap());
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.starts_with("// Imported from the WfCommons instance sarek-dirt02-001.json"), "{stdout}");
    assert!(stdout.contains("workflow sarek_dirt02_001\n"));
    assert_eq!(stdout.lines().filter(|l| l.starts_with("task ")).count(), 26);
    assert_eq!(stdout.lines().filter(|l| l.starts_with("flow ")).count(), 35);
    assert!(stderr.contains("26 tasks, 35 flows (35 of 50 declared dependencies kept)"), "{stderr}");
    assert!(stderr.contains("note: 15 tasks without a positive runtime"), "{stderr}");
}

#[test]
fn writes_the_output_file_that_check_accepts() {
    let dir = common::scratch_dir("import-output");
    let owg = dir.join("montage.owg");
    let out = octopus()
        .args(["import", "wfcommons"])
        .arg(instance("montage-chameleon-2mass-005d-001.json"))
        .arg("-o")
        .arg(&owg)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(out.stdout.is_empty(), "with -o nothing goes to stdout");
    assert!(stderr.contains("24 transitive dependencies dropped"), "{stderr}");
    let text = std::fs::read_to_string(&owg).unwrap();
    assert_eq!(text.lines().filter(|l| l.starts_with("task ")).count(), 58);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary file left behind");

    let out = octopus().arg("check").arg(&owg).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn invalid_input_exits_1_with_a_located_error() {
    let dir = common::scratch_dir("import-invalid");
    let truncated = dir.join("cut.json");
    let full = std::fs::read_to_string(instance("helloworld-chain-5-chameleon.json")).unwrap();
    std::fs::write(&truncated, &full[..full.len() / 2]).unwrap();
    let out = octopus().args(["import", "wfcommons"]).arg(&truncated).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(stderr.contains("import::json") && stderr.contains("cut.json"), "{stderr}");

    let cyclic = dir.join("cycle.json");
    std::fs::write(
        &cyclic,
        r#"{"workflow": {"specification": {"tasks": [{"id": "a", "parents": ["b"]}, {"id": "b", "parents": ["a"]}]}}}"#,
    )
    .unwrap();
    let out = octopus().args(["import", "wfcommons"]).arg(&cyclic).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("import::cycle") && stderr.contains("`a` -> `b` -> `a`"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn io_and_usage_errors_exit_2() {
    let out = octopus().args(["import", "wfcommons", "no/such/file.json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/file.json"));

    let out = octopus()
        .args(["import", "wfcommons"])
        .arg(instance("helloworld-chain-5-chameleon.json"))
        .args(["-o", "no/such/dir/out.owg"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    let out = octopus().args(["import", "pegasus", "x.json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "an unknown format is a usage error");
}
