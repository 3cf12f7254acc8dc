//! `octopus compile`, run as a user would: every format, `-o`, exit codes.

use std::process::{Command, Output};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn octopus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_octopus")).args(args).current_dir(ROOT).output().unwrap()
}

#[test]
fn human_summary_has_tasks_and_report() {
    let o = octopus(&["compile", "workflows/rag.owg", "--hw", "chip"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    for want in
        ["plan v3 of `rag` on `chip`", "homes", "report (expected, per request)", "NoC traffic", "imbalance"]
    {
        assert!(text.contains(want), "missing `{want}` in\n{text}");
    }
}

#[test]
fn ron_and_json_are_the_whole_plan() {
    let o = octopus(&["compile", "workflows/react_agent.owg", "--hw", "package", "--format", "ron"]);
    assert_eq!(o.status.code(), Some(0));
    let plan = octopus_compiler::Plan::from_ron(&String::from_utf8(o.stdout).unwrap()).unwrap();
    assert_eq!((plan.workflow.as_str(), plan.hardware.as_str()), ("react_agent", "package"));
    let o = octopus(&["compile", "workflows/react_agent.owg", "--hw", "package", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["version"], octopus_compiler::PLAN_VERSION);
    assert_eq!(v["tasks"].as_array().unwrap().len(), plan.tasks.len());
    assert_eq!(v["report"]["tbus_total"], 1024);
}

#[test]
fn output_file_is_written_and_loads() {
    let dir = std::env::temp_dir().join(format!("octopus-compile-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("plan.ron");
    let o = octopus(&[
        "compile",
        "workflows/video_analytics.owg",
        "--hw",
        "examples/hetero_die.ron",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let plan = octopus_compiler::Plan::from_ron(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(plan.workflow, "video_analytics");
    let o = octopus(&[
        "compile",
        "workflows/rag.owg",
        "--hw",
        "chip",
        "-o",
        dir.join("no/such/dir.ron").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn invalid_inputs_exit_1_and_missing_ones_exit_2() {
    let dir = std::env::temp_dir().join(format!("octopus-compile-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let huge = dir.join("huge.owg");
    std::fs::write(&huge, "task giant = llm_decode(params = 2T, tokens = 8)\n").unwrap();
    let o = octopus(&["compile", huge.to_str().unwrap(), "--hw", "chip"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("compile::does_not_fit") && err.contains("giant"), "{err}");
    let broken = dir.join("broken.owg");
    std::fs::write(&broken, "task a = gemm(m = 1\n").unwrap();
    assert_eq!(octopus(&["compile", broken.to_str().unwrap(), "--hw", "chip"]).status.code(), Some(1));
    assert_eq!(
        octopus(&[
            "compile",
            "workflows/rag.owg",
            "--hw",
            "crates/octopus-hw/test_data/err/unknown_kind.ron"
        ])
        .status
        .code(),
        Some(1)
    );
    assert_eq!(octopus(&["compile", "no_such.owg", "--hw", "chip"]).status.code(), Some(2));
    assert_eq!(octopus(&["compile", "workflows/rag.owg"]).status.code(), Some(2));
    assert_eq!(octopus(&["compile", "workflows/rag.owg", "--hw", "abacus"]).status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}
