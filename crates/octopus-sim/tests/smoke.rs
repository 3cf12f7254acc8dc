//! Smoke test: every scheduler runs a workflow with loops, branches and maps to completion.

mod common;

use common::{Setup, config, machine};

const AGENT: &str = r#"
workflow react_agent
arrivals poisson(rate = 2000/s, requests = 200)
task think  = llm_decode(params = 1G, context = 2K, tokens = lognormal(mean = 20, cv = 0.8))
task search = compute(ops = lognormal(mean = 200M, cv = 1.0))
task python = compute(ops = exponential(mean = 50M))
task answer = llm_decode(params = 1G, context = 4K, tokens = 16)
task fan    = gemm(m = 64, n = 64, k = uniform(32, 256))
loop steps(count = uniform(1, 4), max = 10) join done
branch tool join used
map par(width = uniform(0, 5), max = 8) join gathered
flow steps -> think -> tool
flow tool -> search [p = 0.6, bytes = 2 KiB]
flow tool -> python [p = 0.4, bytes = 2 KiB]
flow search -> used [bytes = 16 KiB]
flow python -> used [bytes = 4 KiB]
flow used -> done -> par
flow par -> fan [bytes = 64 KiB]
flow fan -> gathered [bytes = 8 KiB]
flow gathered -> answer [bytes = 1 KiB]
"#;

#[test]
fn every_scheduler_completes_every_request() {
    let s = Setup::new(AGENT, machine(2, 2, 4));
    for name in octopus_sim::scheduler_names() {
        for requests in [None, Some(50)] {
            let r = s.run(&config(name, requests, 7)).result;
            let n = requests.unwrap_or(200);
            assert_eq!(r.requests, n, "{name}");
            assert!(r.makespan_cycles >= r.lower_bound_cycles, "{name}: {r:?}");
            let total = common::time_fractions(&r);
            assert!((total - 1.0).abs() < 1e-9, "{name}: fractions sum to {total}");
            println!("{}", serde_json::to_string(&r).unwrap());
        }
    }
}

/// A scheduler that queues everything and never takes anything out, with or without ticks.
struct Hoarder {
    ticks: bool,
}

impl octopus_sim::Scheduler for Hoarder {
    fn name(&self) -> &str {
        "hoarder"
    }

    fn tick_period(&self) -> Option<octopus_sim::Cycle> {
        self.ticks.then_some(1000)
    }

    fn on_ready(&mut self, ctx: &mut octopus_sim::Ctx<'_>, task: octopus_sim::scheduler::TaskRef) {
        ctx.enqueue(task, octopus_sim::scheduler::QueueId::Global);
    }

    fn on_tbu_free(&mut self, _ctx: &mut octopus_sim::Ctx<'_>, _tbu: octopus_hw::TbuId) {}
}

#[test]
fn a_scheduler_that_never_runs_work_is_reported_stalled_not_a_hang() {
    let s = Setup::new(AGENT, machine(2, 2, 4));
    for ticks in [false, true] {
        let e = s
            .run_with(&config("hoarder", Some(3), 1), Box::new(Hoarder { ticks }))
            .expect_err("the run cannot finish");
        assert!(
            matches!(e, octopus_sim::SimError::Stalled { completed: 0, requests: 3, queued, .. } if queued > 0),
            "ticks {ticks}: {e:?}"
        );
    }
}
