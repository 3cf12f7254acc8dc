//! `octopus sweep`, `sweep merge`, `report` and `simulate --plot` end to end: exit codes of bad
//! specs, determinism, resuming after an interruption, sharding and merging byte for byte,
//! refusing results that do not belong, and the report's HTML and SVG.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{octopus, repo_root, scratch_dir};

const TINY: &str = "crates/octopus-cli/test_data/sweep/ok/tiny.ron";

fn run(args: &[&str], out: &Path) -> Output {
    octopus().args(args).arg("-o").arg(out).output().unwrap()
}

fn ok(o: &Output) -> String {
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    stderr
}

fn failed(o: &Output, code: i32, diagnostic: &str) -> String {
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(code), "{stderr}");
    assert!(stderr.contains(diagnostic), "no `{diagnostic}` in\n{stderr}");
    stderr
}

fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path).unwrap().lines().map(str::to_owned).collect()
}

/// One full run of the tiny sweep, made once per test that needs it.
fn full_run(dir: &Path) -> PathBuf {
    let out = dir.join("full.jsonl");
    ok(&run(&["sweep", TINY], &out));
    out
}

#[test]
fn bad_specs_exit_1_with_their_diagnostic() {
    let dir = repo_root().join("crates/octopus-cli/test_data/sweep/err");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 15);
    for f in files {
        let o = octopus().args(["sweep", "--list"]).arg(&f).output().unwrap();
        // A file the spec names that cannot be read is an IO error, as everywhere in the CLI.
        let code = if f.ends_with("missing_workflow.ron") { 2 } else { 1 };
        let stderr = failed(&o, code, "sweep::");
        assert!(stderr.contains(&format!("{}:", f.file_name().unwrap().to_str().unwrap())), "{stderr}");
        assert!(o.stdout.is_empty(), "{}: nothing runs", f.display());
    }
}

#[test]
fn a_run_is_deterministic_canonical_and_complete() {
    let dir = scratch_dir("sweep-determinism");
    let a = full_run(&dir);
    let b = dir.join("b.jsonl");
    ok(&octopus().args(["sweep", TINY, "--jobs", "1", "-o"]).arg(&b).output().unwrap());
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap(), "1 thread or 2, the same bytes");
    let listed = octopus().args(["sweep", TINY, "--list"]).output().unwrap();
    let keys: Vec<String> = String::from_utf8(listed.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap().to_owned())
        .collect();
    let got = lines(&a);
    assert_eq!(got.len(), 8);
    for (line, key) in got.iter().zip(&keys) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["spec_version"], 1);
        assert_eq!(&v["key"], key, "lines in the spec's order");
        assert!(v["point"]["params"]["tbu.reconfig_cycles"].as_u64().is_some());
        assert_eq!(v["point"]["requests"], 4);
        assert_eq!(v["point"]["rate"], 400.0);
        assert_eq!(v["workflow"]["fingerprint"].as_str().unwrap().len(), 16);
        assert_eq!(v["machine"]["tbus"], 256);
        assert_eq!(v["result"]["requests"], 4);
        assert_eq!(v["result"]["scheduler"], v["point"]["scheduler"]);
    }
    // The reconfiguration cost reaches the machine: two machines, two fingerprints.
    let fps: std::collections::BTreeSet<String> = got
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["machine"]["fingerprint"].to_string())
        .collect();
    assert_eq!(fps.len(), 2);
}

#[test]
fn a_rerun_skips_finished_points_and_an_interrupted_file_is_repaired_only_when_asked() {
    let dir = scratch_dir("sweep-resume");
    let full = full_run(&dir);
    let all = fs::read_to_string(&full).unwrap();
    let rerun = ok(&run(&["sweep", TINY], &full));
    assert!(rerun.contains("8 already done, 0 run"), "{rerun}");
    assert_eq!(fs::read_to_string(&full).unwrap(), all);

    // An interrupted run: points 2 and 5 never finished, and the last line was cut off mid-write.
    let part = dir.join("part.jsonl");
    let l: Vec<&str> = all.lines().collect();
    let kept = [l[0], l[1], l[3], l[4], l[6]].map(|x| format!("{x}\n")).concat();
    fs::write(&part, format!("{kept}{}", &l[7][..40])).unwrap();
    let refused = failed(&run(&["sweep", TINY], &part), 1, "sweep::truncated_line");
    assert!(refused.contains("part.jsonl`:6") && refused.contains("--repair"), "{refused}");
    let repaired = ok(&run(&["sweep", TINY, "--repair"], &part));
    assert!(
        repaired.contains("dropped the cut-off last line") && repaired.contains("5 already done, 3 run"),
        "{repaired}"
    );
    assert_eq!(fs::read_to_string(&part).unwrap(), all, "the resumed file is the uninterrupted one");
}

#[test]
fn results_that_do_not_belong_are_refused_not_mixed() {
    let dir = scratch_dir("sweep-foreign");
    let full = full_run(&dir);
    let all = fs::read_to_string(&full).unwrap();
    let first = all.lines().next().unwrap();
    let cases = [
        ("version", first.replace("\"spec_version\":1", "\"spec_version\":2"), "sweep::spec_version"),
        ("foreign", first.replace("\"key\":\"", "\"key\":\"0"), "sweep::foreign_point"),
        ("garbage", "{\"not\": \"a line\"}".to_owned(), "sweep::invalid_line"),
        (
            "changed",
            first.replace(
                &format!(
                    "\"fingerprint\":{}",
                    serde_json::from_str::<serde_json::Value>(first).unwrap()["workflow"]["fingerprint"]
                ),
                "\"fingerprint\":\"0000000000000000\"",
            ),
            "sweep::changed_input",
        ),
        ("twice", first.to_owned(), "sweep::duplicate_point"),
    ];
    for (name, bad, code) in cases {
        // A changed input is shown on the line that recorded it (the first); the rest are appended.
        let (text, line) =
            if name == "changed" { (all.replacen(first, &bad, 1), 1) } else { (format!("{all}{bad}\n"), 9) };
        let path = dir.join(format!("{name}.jsonl"));
        fs::write(&path, &text).unwrap();
        let stderr = failed(&run(&["sweep", TINY], &path), 1, code);
        assert!(stderr.contains(&format!("{name}.jsonl`:{line}")), "{name}: {stderr}");
        assert_eq!(fs::read_to_string(&path).unwrap(), text, "{name}: the file is left alone");
        // The report reads results without a spec: it refuses what it can tell is wrong.
        let report =
            octopus().args(["report"]).arg(&path).arg("-o").arg(dir.join("r.html")).output().unwrap();
        if name != "changed" && name != "foreign" {
            failed(&report, 1, code);
        }
    }
    // A shard's file holds only that shard's points.
    let path = dir.join("shard.jsonl");
    fs::write(&path, &all).unwrap();
    failed(&run(&["sweep", TINY, "--shard", "1/2"], &path), 1, "sweep::other_shard");
}

#[test]
fn shards_merge_byte_identical_to_one_run() {
    let dir = scratch_dir("sweep-shards");
    let full = full_run(&dir);
    let shards: Vec<PathBuf> = (0..3)
        .map(|i| {
            let p = dir.join(format!("r.shard-{i}-of-3.jsonl"));
            ok(&run(&["sweep", TINY, "--shard", &format!("{i}/3")], &p));
            p
        })
        .collect();
    let sizes: Vec<usize> = shards.iter().map(|p| lines(p).len()).collect();
    assert_eq!(sizes, [3, 3, 2], "every third point");
    let merged = dir.join("merged.jsonl");
    let mut cmd = octopus();
    cmd.args(["sweep", "merge", TINY]).args(shards.iter().rev()).arg("-o").arg(&merged);
    ok(&cmd.output().unwrap());
    assert_eq!(fs::read(&merged).unwrap(), fs::read(&full).unwrap());

    // A missing shard is an error, unless asked for what there is.
    let partial = dir.join("partial.jsonl");
    let o =
        octopus().args(["sweep", "merge", TINY]).args(&shards[..2]).arg("-o").arg(&partial).output().unwrap();
    failed(&o, 1, "sweep::missing_points");
    assert!(!partial.exists());
    let o = octopus()
        .args(["sweep", "merge", TINY, "--partial"])
        .args(&shards[..2])
        .arg("-o")
        .arg(&partial)
        .output()
        .unwrap();
    ok(&o);
    assert_eq!(lines(&partial).len(), 6);

    // Two different results for one point are an error; the same line twice is not.
    let o = octopus()
        .args(["sweep", "merge", TINY])
        .args(&shards)
        .arg(&full)
        .arg("-o")
        .arg(&partial)
        .output()
        .unwrap();
    ok(&o);
    let altered = dir.join("altered.jsonl");
    fs::write(
        &altered,
        fs::read_to_string(&shards[0]).unwrap().replacen("\"makespan_cycles\":", "\"makespan_cycles\":1", 1),
    )
    .unwrap();
    let o = octopus()
        .args(["sweep", "merge", TINY])
        .args(&shards)
        .arg(&altered)
        .arg("-o")
        .arg(&partial)
        .output()
        .unwrap();
    failed(&o, 1, "sweep::conflicting_point");
    // Without -o, a shard writes `STEM.shard-I-of-N.jsonl` in the current directory.
    let o = octopus()
        .args(["sweep"])
        .arg(repo_root().join(TINY))
        .args(["--shard", "2/3"])
        .current_dir(&dir)
        .output()
        .unwrap();
    ok(&o);
    assert_eq!(fs::read(dir.join("tiny.shard-2-of-3.jsonl")).unwrap(), fs::read(&shards[2]).unwrap());
}

#[test]
fn options_list_shard_and_slurm() {
    let dir = scratch_dir("sweep-options");
    let o = octopus().args(["sweep", TINY, "--list", "--shard", "1/3"]).output().unwrap();
    ok(&o);
    let text = String::from_utf8(o.stdout).unwrap();
    let idx: Vec<&str> = text.lines().map(|l| l.split_whitespace().next().unwrap()).collect();
    assert_eq!(idx, ["1", "4", "7"]);
    assert!(
        text.contains(
            "face_recognition.owg · chip · tbu.reconfig_cycles=512 · static · 400/s · 4 requests · seed 2"
        ),
        "{text}"
    );
    for bad in ["3/3", "1", "a/2", "0/0"] {
        let o = octopus().args(["sweep", TINY, "--shard", bad]).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "--shard {bad}");
    }
    let script = dir.join("tiny.sbatch");
    let o = octopus()
        .args(["sweep", TINY, "--slurm", "--shards", "4", "--sbatch=--partition=debug", "--script"])
        .arg(&script)
        .arg("-o")
        .arg(dir.join("res.jsonl"))
        .output()
        .unwrap();
    ok(&o);
    let s = fs::read_to_string(&script).unwrap();
    assert!(s.starts_with("#!/bin/bash\n"));
    for want in [
        "#SBATCH --array=0-3",
        "#SBATCH --partition=debug",
        "--shard \"${SLURM_ARRAY_TASK_ID}/4\"",
        "res.shard-${SLURM_ARRAY_TASK_ID}-of-4.jsonl",
    ] {
        assert!(s.contains(want), "no `{want}` in\n{s}");
    }
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert!(stdout.contains("sbatch") && stdout.contains("sweep merge"), "{stdout}");
    // `--slurm` checks the spec first, and does not mix with running options.
    let o = octopus()
        .args(["sweep", "crates/octopus-cli/test_data/sweep/err/unknown_scheduler.ron", "--slurm"])
        .output()
        .unwrap();
    failed(&o, 1, "sweep::unknown_scheduler");
    let o = octopus().args(["sweep", TINY, "--slurm", "--shard", "0/2"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn shipped_sweep_examples_are_valid() {
    for name in ["sweep_small.ron", "sweep_reconfig.ron"] {
        let o = octopus()
            .args(["sweep", "--list"])
            .arg(repo_root().join("examples").join(name))
            .output()
            .unwrap();
        ok(&o);
        assert!(!o.stdout.is_empty(), "{name}");
    }
}

fn xml(text: &str) -> roxmltree::Document<'_> {
    let opts = roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() };
    roxmltree::Document::parse_with_options(text, opts).unwrap_or_else(|e| panic!("not XML: {e}"))
}

fn texts(doc: &roxmltree::Document<'_>) -> Vec<String> {
    doc.descendants()
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

#[test]
fn the_report_is_one_self_contained_page_of_svg_charts() {
    let dir = scratch_dir("sweep-report");
    let results = dir.join("small.jsonl");
    ok(&octopus().args(["sweep", "examples/sweep_small.ron", "-o"]).arg(&results).output().unwrap());
    let html = dir.join("report.html");
    let svgs = dir.join("svg");
    let o =
        octopus().arg("report").arg(&results).arg("-o").arg(&html).arg("--svg").arg(&svgs).output().unwrap();
    ok(&o);
    let page = fs::read_to_string(&html).unwrap();
    let doc = xml(&page);
    let t = texts(&doc);
    for label in [
        "arrival rate (requests/s)",
        "p99 latency (s)",
        "workflow",
        "speedup over static (makespan ratio)",
        "scheduler",
        "share of TBU time (%)",
        "tbu.reconfig_cycles",
        "throughput (requests/s)",
        "idle: upstream",
        "idle: queued",
        "idle: gang",
        "idle: collective",
        "octopus",
    ] {
        assert!(t.iter().any(|x| x == label), "no `{label}` in the report");
    }
    for h in ["Latency against load", "Speedup per workflow", "Idle breakdown", "Scaling", "Points"] {
        assert!(doc.descendants().any(|n| n.has_tag_name("h2") && n.text() == Some(h)), "no section `{h}`");
    }
    // Nothing from elsewhere: no script, stylesheet, image or font to fetch.
    assert!(doc.descendants().all(|n| !["script", "link", "img", "iframe"].contains(&n.tag_name().name())));
    assert!(doc.descendants().all(|n| n.attribute("src").is_none() && n.attribute("href").is_none()));
    assert!(!page.contains("url(") && !page.contains("@import"));
    let figures = doc.descendants().filter(|n| n.has_tag_name("svg")).count();
    let mut files: Vec<PathBuf> = fs::read_dir(&svgs).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), figures);
    assert!(files.len() >= 7, "{files:?}");
    for f in &files {
        let text = fs::read_to_string(f).unwrap();
        assert_eq!(xml(&text).root_element().tag_name().name(), "svg", "{}", f.display());
    }
    // `--svg` alone writes only the charts.
    let only = dir.join("only");
    ok(&octopus().arg("report").arg(&results).arg("--svg").arg(&only).output().unwrap());
    assert_eq!(fs::read_dir(&only).unwrap().count(), files.len());
    // A cut-off results file is reported with its line, never drawn.
    let cut = dir.join("cut.jsonl");
    let all = fs::read_to_string(&results).unwrap();
    fs::write(&cut, &all[..all.len() - 10]).unwrap();
    let o = octopus().arg("report").arg(&cut).arg("-o").arg(dir.join("cut.html")).output().unwrap();
    let stderr = failed(&o, 1, "sweep::truncated_line");
    assert!(stderr.contains(&format!("cut.jsonl`:{}", all.lines().count())), "{stderr}");
}

#[test]
fn simulate_plots_utilisation_per_cluster() {
    let dir = scratch_dir("simulate-plot");
    let svg = dir.join("util.svg");
    let o = octopus()
        .args([
            "simulate",
            "workflows/face_recognition.owg",
            "--hw",
            "chip",
            "--scheduler",
            "greedy",
            "--requests",
            "5",
        ])
        .arg("--plot")
        .arg(&svg)
        .output()
        .unwrap();
    ok(&o);
    let text = fs::read_to_string(&svg).unwrap();
    let doc = xml(&text);
    let t = texts(&doc);
    for label in ["time (s)", "cluster", "100%", "0%"] {
        assert!(t.iter().any(|x| x == label), "no `{label}` in {t:?}");
    }
    // One cell per cluster and time bin, at least (chip: 32 clusters).
    assert!(doc.descendants().filter(|n| n.has_tag_name("rect")).count() >= 32 * 100);
}
