//! `octopus simulate` and `octopus compare` end to end: JSON fields, determinism, the trace file,
//! and clear errors (unknown scheduler, zero requests, a plan of another workflow or hardware).

mod common;

use common::{octopus, repo_root, run_with_timeout, scratch_dir};

const FIELDS: &[&str] = &[
    "scheduler",
    "requests",
    "makespan_cycles",
    "makespan_s",
    "throughput_rps",
    "latency_p50_s",
    "latency_p95_s",
    "latency_p99_s",
    "utilization",
    "idle",
    "reconfigurations",
    "noc_byte_hops",
    "lower_bound_cycles",
];

fn wf(name: &str) -> String {
    repo_root().join("workflows").join(name).display().to_string()
}

#[test]
fn json_has_the_documented_fields_and_is_deterministic() {
    let run = || {
        octopus()
            .args(["simulate", &wf("rag.owg"), "--hw", "chip", "--scheduler", "static"])
            .args(["--requests", "40", "--seed", "3", "--format", "json"])
            .output()
            .unwrap()
    };
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for f in FIELDS {
        assert!(v.get(f).is_some(), "missing `{f}` in {v}");
    }
    for f in ["no_work", "upstream", "queued", "reconfig", "transfer"] {
        assert!(v["idle"].get(f).is_some(), "missing `idle.{f}`");
    }
    assert_eq!(v["requests"], 40);
    assert_eq!(out.stdout, run().stdout, "same seed, same bytes");
}

#[test]
fn compare_prints_a_json_array_with_static_first() {
    let out = octopus()
        .args(["compare", &wf("react_agent.owg"), "--hw", "chip", "--requests", "20", "--format", "json"])
        .args(["--schedulers", "greedy,reactive"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = v.as_array().unwrap().iter().map(|r| r["scheduler"].as_str().unwrap()).collect();
    assert_eq!(names, ["static", "greedy", "reactive"]);
    let table = octopus()
        .args(["compare", &wf("react_agent.owg"), "--hw", "chip", "--requests", "20"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("speedup") && text.contains("1.00x"), "{text}");
}

#[test]
fn trace_is_chrome_trace_json_with_a_span_per_shard() {
    let dir = scratch_dir("trace");
    let path = dir.join("t.json");
    let out = octopus()
        .args(["simulate", &wf("driving.owg"), "--hw", "chip", "--scheduler", "greedy", "--requests", "5"])
        .args(["--format", "json", "--trace"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let trace: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    let execs = events.iter().filter(|e| e["ph"] == "X" && e["cat"] == "exec").count();
    // One span per shard: sharded blocks run each execution as several spans.
    assert_eq!(execs as u64, result["shards_executed"].as_u64().unwrap());
    for e in events.iter().filter(|e| e["ph"] == "X") {
        assert!(e["ts"].as_f64().unwrap() >= 0.0 && e["dur"].as_f64().unwrap() >= 0.0, "{e}");
        assert!(e["pid"].is_u64() && e["tid"].is_u64(), "{e}");
    }
    assert!(events.iter().any(|e| e["ph"] == "M" && e["name"] == "thread_name"));
}

#[test]
fn bad_inputs_get_clear_errors_and_no_panic() {
    let out =
        octopus().args(["simulate", &wf("rag.owg"), "--hw", "chip", "--scheduler", "nope"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("unknown scheduler `nope`") && err.contains("static, reactive, greedy"), "{err}");

    let out = octopus()
        .args(["simulate", &wf("rag.owg"), "--hw", "chip", "--scheduler", "static", "--requests", "0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("zero requests"), "{err}");

    // A plan compiled for another workflow, then for other hardware.
    let dir = scratch_dir("plans");
    let plan = dir.join("rag-chip.ron");
    let out = octopus().args(["compile", &wf("rag.owg"), "--hw", "chip", "-o"]).arg(&plan).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let out = octopus()
        .args(["simulate", &wf("driving.owg"), "--hw", "chip", "--scheduler", "static", "--plan"])
        .arg(&plan)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("compiled for workflow"), "{err}");
    let out = octopus()
        .args(["simulate", &wf("rag.owg"), "--hw", "package", "--scheduler", "static", "--plan"])
        .arg(&plan)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("compiled for hardware"), "{err}");
    let out = octopus()
        .args([
            "simulate",
            &wf("rag.owg"),
            "--hw",
            "chip",
            "--scheduler",
            "static",
            "--requests",
            "3",
            "--plan",
        ])
        .arg(&plan)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Long gaps between requests cost nothing: the periodic ticks of the schedulers pause while the
/// system is empty (before, 100 requests at 1/min took one tick per period of 100 simulated
/// minutes, hours of wall clock).
#[test]
fn long_idle_gaps_between_requests_finish_at_once() {
    let dir = scratch_dir("idle-gaps");
    let path = dir.join("slow.owg");
    std::fs::write(
        &path,
        "workflow slow\narrivals poisson(rate = 1/min, requests = 100)\n\
         task a = elementwise(elems = 1K)\ntask b = elementwise(elems = 1K)\nflow a -> b [bytes = 1 KiB]\n",
    )
    .unwrap();
    for scheduler in ["octopus", "reactive"] {
        let status = run_with_timeout(
            octopus().args(["simulate", path.to_str().unwrap(), "--hw", "wafer", "--scheduler", scheduler]),
            std::time::Duration::from_secs(120),
        );
        assert_eq!(status, Some(Some(0)), "{scheduler}: finished, with success");
    }
}

/// A map a million copies wide, in a batch of 10 requests, used to run until memory ran out (7.6 GB
/// after 120 s); it is refused before the run, at the map's width, with the limit in the message.
#[test]
fn a_million_wide_map_is_refused_where_it_is_written() {
    let dir = scratch_dir("wide-map");
    let path = dir.join("wide.owg");
    std::fs::write(
        &path,
        "workflow wide\narrivals batch(requests = 10)\ntask pre = elementwise(elems = 1K)\n\
         task body = elementwise(elems = 1K)\nmap m(width = 1000000) join mj\nflow pre -> m\n\
         flow m -> body [bytes = 1 KiB]\nflow body -> mj [bytes = 1 KiB]\n",
    )
    .unwrap();
    let out = octopus()
        .args(["simulate", path.to_str().unwrap(), "--hw", "wafer", "--scheduler", "octopus"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("owg::bound_too_large") && err.contains("above 65536"), "{err}");
    assert!(err.contains("wide.owg:5:15"), "located at the width: {err}");
}

/// A shipped workflow on a mesh of 256 x 256 clusters (524,288 TBUs on one die) finishes in bounded
/// time and memory (12 s in a debug build, 1.2 s in release; a gang's checks were quadratic in its
/// size, and `rag`'s LLM gangs span much of the die).
#[test]
fn a_256_by_256_cluster_mesh_runs_twenty_requests() {
    let dir = scratch_dir("mesh256");
    let chip = octopus().args(["hw", "show", "chip", "--format", "ron"]).output().unwrap();
    let chip = String::from_utf8(chip.stdout).unwrap();
    assert!(chip.contains("clusters_x: 4,") && chip.contains("clusters_y: 8,"), "{chip}");
    let mesh =
        chip.replace("clusters_x: 4,", "clusters_x: 256,").replace("clusters_y: 8,", "clusters_y: 256,");
    let path = dir.join("mesh256.ron");
    std::fs::write(&path, mesh).unwrap();
    let status = run_with_timeout(
        octopus()
            .args(["simulate", &wf("rag.owg"), "--hw", path.to_str().unwrap(), "--scheduler", "greedy"])
            .args(["--requests", "20", "--format", "json"]),
        std::time::Duration::from_secs(300),
    );
    assert_eq!(status, Some(Some(0)), "finished, with success");
}
