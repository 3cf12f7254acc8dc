//! The README promises two commands; this test holds it to them.

mod common;

use common::{octopus, repo_root};

/// The commands in the README's first `sh` block, comments stripped.
fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let block = readme.split("```sh\n").nth(1).expect("README has a ```sh block");
    let block = block.split("```").next().unwrap();
    block.lines().map(|l| l.split('#').next().unwrap().trim().to_owned()).filter(|l| !l.is_empty()).collect()
}

#[test]
fn readme_gives_exactly_two_commands() {
    let cmds = readme_commands();
    assert_eq!(cmds.len(), 2, "{cmds:?}");
    assert!(cmds[0].starts_with("cargo run --release -- "), "{}", cmds[0]);
}

#[test]
fn the_run_command_works() {
    let cmds = readme_commands();
    let args: Vec<&str> = cmds[0].trim_start_matches("cargo run --release -- ").split_whitespace().collect();
    let out = octopus().args(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!out.stdout.is_empty());
}

#[test]
fn ci_runs_the_test_command() {
    let cmds = readme_commands();
    let ci = std::fs::read_to_string(repo_root().join(".ci/run")).unwrap();
    assert!(ci.lines().any(|l| l.trim() == cmds[1]), "`.ci/run` must run `{}`", cmds[1]);
}
