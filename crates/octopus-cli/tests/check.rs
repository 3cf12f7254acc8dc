//! `octopus check` end to end: the shipped workflows, exit codes, JSON, and no panic or hang on any input.

mod common;

use common::{octopus, repo_root, run_with_timeout};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

fn workflows() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(repo_root().join("workflows"))
        .expect("workflows/ exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "owg"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_workflow_is_valid() {
    let files = workflows();
    assert!(files.len() >= 9, "expected at least 9 workflows, found {}", files.len());
    let out = octopus().arg("check").args(&files).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{stderr}");
    // The only warnings the shipped workflows may carry are the bound truncations their headers
    // explain (an attempt budget, a ranking limit); anything else is a mistake in the workflow.
    let out = octopus().args(["check", "--format", "json"]).args(&files).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for report in json.as_array().unwrap() {
        for d in report["diagnostics"].as_array().unwrap() {
            assert_eq!(d["code"], "owg::loop_bound_truncates", "{}: unexpected {d}", report["file"]);
        }
    }
}

#[test]
fn stats_and_json_describe_every_task() {
    let file = repo_root().join("workflows/rag.owg");
    let out = octopus().args(["check", "--stats"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("visits") && text.contains("critical path"), "{text}");

    let out = octopus().args(["check", "--format", "json"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let report = &json[0];
    assert_eq!(report["valid"], true);
    let tasks = report["analysis"]["tasks"].as_array().unwrap();
    assert!(!tasks.is_empty());
    for t in tasks {
        assert!(t["visits"].as_f64().unwrap() >= 0.0);
        assert!(["stable", "dynamic"].contains(&t["class"].as_str().unwrap()));
    }
}

#[test]
fn stats_call_the_longest_path_of_means_by_its_name() {
    // A fork-join of 4 exponential(10M) tasks: the longest path of means is 10M, while the mean
    // of the longest path is 20.8M, so the figure must not be called the expected critical path.
    let file = repo_root().join("crates/octopus-cli/tests/data/fork_join_exponential.owg");
    let out = octopus().args(["check", "--stats"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("critical path of means 10.0 M"), "{text}");
    assert!(!text.contains("expected critical path"), "{text}");

    let out = octopus().args(["check", "--format", "json"]).arg(&file).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let analysis = &json[0]["analysis"];
    assert_eq!(analysis["critical_path_of_means"].as_f64(), Some(10e6));
    assert_eq!(analysis["critical_path"], analysis["critical_path_of_means"], "the former name is kept");
}

#[test]
fn invalid_input_exits_1_with_located_diagnostics() {
    let dir = common::scratch_dir("check-invalid");
    let bad = dir.join("bad.owg");
    std::fs::write(&bad, "task a = gemm(m = 4, n = 4)\nflow a -> nowhere\n").unwrap();
    let out = octopus().args(["check", "--format", "json"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let diags = json[0]["diagnostics"].as_array().unwrap();
    assert!(diags.len() >= 2, "both the missing parameter and the unknown block: {diags:?}");
    let unknown = diags.iter().find(|d| d["code"] == "owg::unknown_block").expect("unknown block reported");
    assert_eq!((unknown["line"].as_u64(), unknown["column"].as_u64()), (Some(2), Some(11)));

    let out = octopus().arg("check").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("owg::unknown_block") && stderr.contains("nowhere"), "{stderr}");
}

#[test]
fn io_and_usage_errors_exit_2() {
    let out = octopus().args(["check", "/nonexistent/x.owg"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
    let out = octopus().args(["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = octopus().args(["check", "--format", "yaml", "x.owg"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Random bytes, and random truncations and mutations of every shipped workflow: `check` must
/// exit 0 or 1 (never crash, never 2 for a readable file) and never hang.
#[test]
fn never_panics_or_hangs_on_mangled_input() {
    let dir = common::scratch_dir("check-fuzz");
    let mut rng = Pcg64Mcg::seed_from_u64(0x0c70_9005);
    let mut cases: Vec<Vec<u8>> = Vec::new();
    for _ in 0..40 {
        let len = rng.random_range(0..400);
        cases.push((0..len).map(|_| rng.random()).collect());
    }
    let alphabet = b"()[]=,:->\"/ \n0123456789.eKMGiBs_abcdefghijklmnopqrstuvwxyz";
    for file in workflows() {
        let text = std::fs::read(&file).unwrap();
        for _ in 0..12 {
            let mut t = text.clone();
            match rng.random_range(0..3) {
                0 => t.truncate(rng.random_range(0..t.len())),
                1 => {
                    for _ in 0..rng.random_range(1..8) {
                        let i = rng.random_range(0..t.len());
                        t[i] = alphabet[rng.random_range(0..alphabet.len())];
                    }
                }
                _ => {
                    let i = rng.random_range(0..t.len());
                    let j = (i + rng.random_range(0..200)).min(t.len());
                    t.drain(i..j);
                }
            }
            cases.push(t);
        }
    }
    for (i, case) in cases.iter().enumerate() {
        let path = dir.join(format!("case{i}.owg"));
        std::fs::write(&path, case).unwrap();
        let status = run_with_timeout(octopus().arg("check").arg(&path), std::time::Duration::from_secs(20));
        let code = status.unwrap_or_else(|| panic!("`octopus check` hung on case {i}: {}", path.display()));
        assert!(code == Some(0) || code == Some(1), "case {i} ({}) exited with {code:?}", path.display());
    }
}
