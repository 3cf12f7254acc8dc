//! `examples/llm_serving.owg`: the Azure LLM trace replay checks, compiles with a HEFT schedule, and
//! simulates (with a small request count) under static and greedy; the `heft` scheduler refuses
//! it (its executions batch).

mod common;

use octopus_hw::{CostModel, Machine};
use octopus_owg::Loader;
use octopus_sim::{Inputs, SimConfig};

/// Reads files relative to `examples/`, as the CLI does for a file there.
struct ExamplesDir;

impl Loader for ExamplesDir {
    fn load(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(common::repo_root().join("examples").join(path)).map_err(|e| e.to_string())
    }
}

fn source() -> String {
    std::fs::read_to_string(common::repo_root().join("examples/llm_serving.owg")).expect("the example exists")
}

#[test]
fn checks_without_diagnostics_and_replays_the_trace() {
    let checked = octopus_owg::check(&source(), "llm_serving", &ExamplesDir);
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
    let wf = checked.module.unwrap().workflow;
    match &wf.arrivals {
        octopus_owg::ir::Arrivals::Replay { times, .. } => {
            assert_eq!(times.len(), 1000);
            assert_eq!(times[0], 0.0);
            // The 1000th request of the conversation trace, 18:19:22.707983 - 18:15:46.68059.
            assert!((times[999] - 216.027393).abs() < 1e-6, "{}", times[999]);
        }
        other => panic!("not a replay: {other:?}"),
    }
}

#[test]
fn simulates_a_few_requests_under_static_and_greedy_and_heft_refuses() {
    let src = source().replace("requests = 1000)", "requests = 30)");
    let module = octopus_owg::check(&src, "llm_serving", &ExamplesDir).module.expect("valid");
    let machine = Machine::preset("chip").unwrap();
    let cost = CostModel::new(&machine);
    let plan = octopus_compiler::compile(&module, &machine).unwrap();
    let inputs = Inputs {
        workflow: &module.workflow,
        analysis: &module.analysis,
        machine: &machine,
        cost: &cost,
        plan: &plan,
    };
    let refused = octopus_sim::simulate(&inputs, &SimConfig::new("heft")).unwrap_err();
    assert!(refused.to_string().contains("batches"), "{refused}");
    for s in ["static", "greedy"] {
        let r = octopus_sim::simulate(&inputs, &SimConfig::new(s)).unwrap().result;
        assert_eq!(r.requests, 30, "{s}");
        assert_eq!(r.llm.len(), 2, "{s}");
        assert_eq!(r.tasks_executed, 60, "{s}");
        assert!(r.latency_p50_s > 0.0 && r.latency_p50_s <= r.latency_p95_s, "{s}");
        assert!(r.latency_p95_s <= r.latency_p99_s, "{s}");
        assert!(r.makespan_cycles >= r.lower_bound_cycles, "{s}");
    }
}

#[test]
fn compile_prints_the_heft_schedule() {
    let out = common::octopus()
        .args(["compile", "examples/llm_serving.owg", "--hw", "chip", "--schedule", "heft"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("HEFT schedule of one execution: length "), "{text}");
    assert!(text.contains("over 256 TBUs"), "{text}");
    for task in ["prefill", "decode"] {
        assert!(text.lines().any(|l| l.starts_with(task)), "no row for {task}:\n{text}");
    }
}

#[test]
fn compile_refuses_a_heft_schedule_with_control_blocks() {
    let out = common::octopus()
        .args(["compile", "workflows/react_agent.owg", "--hw", "chip", "--schedule", "heft"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("heft::control_blocks"), "{err}");
}
