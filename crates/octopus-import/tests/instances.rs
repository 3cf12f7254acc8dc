//! Real WfCommons instances import into valid `.owg` workflows of the expected shape.
//!
//! The expected numbers (tasks, dependencies before and after transitive reduction, critical path,
//! bytes on flows) are recomputed here from the JSON by a separate, naive method, and the output
//! is checked by the language's own front end, `octopus_owg::check`, which must report nothing.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use octopus_import::{Imported, MIN_RUNTIME_S, Note};
use octopus_owg::dist::Dist;
use octopus_owg::ir::Kernel;
use serde_json::Value;

/// What an instance should become, computed without the crate's code.
#[derive(Debug)]
struct Expected {
    tasks: usize,
    declared: usize,
    kept: usize,
    critical_path_s: f64,
    flow_bytes: u64,
    makespan_s: Option<f64>,
}

/// Naive reference for WfFormat 1.5 instances: reachability by a depth-first search from every
/// task, an edge `a -> b` redundant when another child of `a` reaches `b`, the critical path by
/// memoised recursion over the unreduced graph.
fn expected(json: &str) -> Expected {
    let v: Value = serde_json::from_str(json).unwrap();
    let spec = &v["workflow"]["specification"];
    let tasks = spec["tasks"].as_array().unwrap();
    let ids: Vec<&str> = tasks.iter().map(|t| t["id"].as_str().unwrap()).collect();
    let index: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let n = ids.len();
    let mut edges = BTreeSet::new();
    for (i, t) in tasks.iter().enumerate() {
        for p in t["parents"].as_array().unwrap() {
            edges.insert((index[p.as_str().unwrap()], i));
        }
        for c in t["children"].as_array().unwrap() {
            edges.insert((i, index[c.as_str().unwrap()]));
        }
    }
    let mut succ = vec![Vec::new(); n];
    for &(a, b) in &edges {
        succ[a].push(b);
    }
    let mut reach = vec![vec![false; n]; n];
    for (s, row) in reach.iter_mut().enumerate() {
        let mut stack = succ[s].clone();
        while let Some(v) = stack.pop() {
            if !row[v] {
                row[v] = true;
                stack.extend(&succ[v]);
            }
        }
    }
    let kept: Vec<(usize, usize)> =
        edges.iter().copied().filter(|&(a, b)| !succ[a].iter().any(|&w| w != b && reach[w][b])).collect();

    let runtime: HashMap<&str, f64> = v["workflow"]["execution"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap(), t["runtimeInSeconds"].as_f64().unwrap()))
        .collect();
    let weight: Vec<f64> =
        ids.iter().map(|id| if runtime[id] > 0.0 { runtime[id] } else { MIN_RUNTIME_S }).collect();
    fn longest(v: usize, succ: &[Vec<usize>], w: &[f64], memo: &mut [Option<f64>]) -> f64 {
        if let Some(x) = memo[v] {
            return x;
        }
        let tail = succ[v].iter().map(|&c| longest(c, succ, w, memo)).fold(0.0, f64::max);
        memo[v] = Some(w[v] + tail);
        w[v] + tail
    }
    let mut memo = vec![None; n];
    let critical_path_s = (0..n).map(|v| longest(v, &succ, &weight, &mut memo)).fold(0.0, f64::max);

    let size: HashMap<&str, u64> = spec["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_str().unwrap(), f["sizeInBytes"].as_u64().unwrap()))
        .collect();
    let files = |t: &Value, key: &str| -> HashSet<String> {
        t[key].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_owned()).collect()
    };
    let flow_bytes = kept
        .iter()
        .map(|&(a, b)| {
            let written = files(&tasks[a], "outputFiles");
            files(&tasks[b], "inputFiles").intersection(&written).map(|f| size[f.as_str()]).sum::<u64>()
        })
        .sum();
    Expected {
        tasks: n,
        declared: edges.len(),
        kept: kept.len(),
        critical_path_s,
        flow_bytes,
        makespan_s: v["workflow"]["execution"]["makespanInSeconds"].as_f64(),
    }
}

/// Imports one instance and checks everything against the naive reference and the front end.
fn import_and_check(path: &Path) -> Imported {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let json = std::fs::read_to_string(path).unwrap();
    let imported = octopus_import::wfcommons(&json, &name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let want = expected(&json);
    let r = &imported.report;
    assert_eq!(r.tasks, want.tasks, "{name}: tasks");
    assert_eq!(r.edges_declared, want.declared, "{name}: declared dependencies");
    assert_eq!(r.edges_kept, want.kept, "{name}: dependencies after transitive reduction");
    assert_eq!(r.flow_bytes, want.flow_bytes, "{name}: bytes on flows");
    assert_eq!(r.recorded_makespan_s, want.makespan_s, "{name}: recorded makespan");
    assert!(
        (r.critical_path_s - want.critical_path_s).abs() <= 1e-9 * want.critical_path_s,
        "{name}: critical path {} != {}",
        r.critical_path_s,
        want.critical_path_s
    );
    let dropped = r.notes.iter().find_map(|n| match n {
        Note::TransitiveDependenciesDropped { count, .. } => Some(*count),
        _ => None,
    });
    assert_eq!(dropped.unwrap_or(0), want.declared - want.kept, "{name}: the report's dropped count");

    let stem = name.trim_end_matches(".json");
    let checked = octopus_owg::check(&imported.owg, stem, &octopus_owg::NoFiles);
    assert!(
        checked.diagnostics.is_empty(),
        "{name}: the front end reports\n{}",
        octopus_owg::render(&checked.diagnostics, &imported.owg, &format!("{stem}.owg"))
    );
    let module = checked.module.expect("no diagnostics, so a module");
    let wf = &module.workflow;
    assert_eq!(wf.name, r.workflow);
    assert_eq!(wf.tasks().count(), want.tasks, "{name}: task blocks");
    assert_eq!(wf.blocks.len(), want.tasks, "{name}: no control blocks");
    assert_eq!(wf.flows.len(), want.kept, "{name}: flows");
    let bytes: f64 = wf
        .flows
        .iter()
        .map(|f| match f.bytes {
            Dist::Const(b) => b,
            ref other => panic!("{name}: flow bytes should be constants, found {other:?}"),
        })
        .sum();
    assert_eq!(bytes, want.flow_bytes as f64, "{name}: bytes as the front end reads them");
    let seconds: f64 = wf
        .tasks()
        .map(|id| match &wf.blocks[id].task().unwrap().kernel {
            Kernel::Delay { time: Dist::Const(t) } => *t,
            other => panic!("{name}: expected a constant delay, found {other:?}"),
        })
        .sum();
    assert!((seconds - r.total_runtime_s).abs() <= 1e-9 * r.total_runtime_s, "{name}: total runtime");
    // The front end's critical path counts a delay at a nominal 1 Gop/s.
    let front_end_cp = module.analysis.critical_path / 1e9;
    assert!(
        (front_end_cp - want.critical_path_s).abs() <= 1e-6 * want.critical_path_s,
        "{name}: the front end's critical path {front_end_cp} s != {} s",
        want.critical_path_s
    );
    imported
}

fn test_data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data")
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_copied_instance_imports_and_validates() {
    let files = json_files(&test_data());
    assert_eq!(files.len(), 9, "the nine instances under 120 KB are copied");
    for path in &files {
        import_and_check(path);
    }
}

#[test]
fn helloworld_instances_snapshot() {
    for stem in ["helloworld-chain-5-chameleon", "helloworld-forkjoin-10-chameleon"] {
        let imported = import_and_check(&test_data().join(format!("{stem}.json")));
        insta::assert_snapshot!(stem, imported.owg);
        insta::assert_snapshot!(format!("{stem}.report"), imported.report.to_string());
    }
}

#[test]
fn instances_with_recorded_zero_runtimes_are_floored_and_said_so() {
    let imported = import_and_check(&test_data().join("sarek-dirt02-001.json"));
    assert!(imported.report.notes.contains(&Note::RuntimesFloored { zero: 15, missing: 0, invalid: 0 }));
    assert_eq!(imported.owg.matches("delay(time = 0.001 s)").count(), 15);
    assert_eq!(imported.owg.matches("; recorded 0 s").count(), 15);
}

/// All 16 instances of the shared data folder, when it is there (CI keeps it at `../shared`
/// beside the repository).
#[test]
fn every_shared_instance_imports_and_validates() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/wfcommons");
    if !dir.is_dir() {
        println!("skipped: {} does not exist", dir.display());
        return;
    }
    let files = json_files(&dir);
    assert_eq!(files.len(), 16, "the shared folder holds 16 instances");
    for path in &files {
        import_and_check(path);
    }
}
