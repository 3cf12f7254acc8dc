//! Property tests on generated workflows (branches, forks, maps, loops, nested): every request
//! completes, no TBU runs two things at once, the makespan is at least its lower bound, TBU time
//! adds up, and the same seed gives byte-identical JSON whatever the thread count.

mod common;

use common::{Setup, machine};
use octopus_hw::CostModel;
use octopus_sim::{SimConfig, TraceKind};
use proptest::prelude::*;

/// Builds `.owg` text from a stream of random numbers.
struct Gen {
    codes: Vec<u32>,
    pos: usize,
    n: usize,
    out: String,
}

impl Gen {
    fn next(&mut self) -> u32 {
        let v = self.codes[self.pos % self.codes.len()];
        self.pos += 1;
        v
    }

    fn name(&mut self, prefix: &str) -> String {
        self.n += 1;
        format!("{prefix}{}", self.n)
    }

    fn bytes(&mut self) -> &'static str {
        ["0 B", "4 KiB", "64 KiB", "uniform(1 KiB, 32 KiB)"][(self.next() % 4) as usize]
    }

    fn flow(&mut self, a: &str, b: &str, p: Option<&str>) {
        let bytes = self.bytes();
        let p = p.map_or(String::new(), |p| format!(", p = {p}"));
        self.out.push_str(&format!("flow {a} -> {b} [bytes = {bytes}{p}]\n"));
    }

    fn task(&mut self) -> String {
        let t = self.name("t");
        let kernel = match self.next() % 8 {
            0 => "compute(ops = exponential(mean = 5M))",
            1 => "gemm(m = 64, n = 64, k = uniform(16, 256))",
            2 => "delay(time = lognormal(mean = 10us, cv = 1))",
            3 => "elementwise(elems = 100K)",
            // Weights that stay resident on a warm TBU.
            4 => "conv2d(h = 32, w = 32, cin = 64, cout = 64, kernel = 3)",
            // A working set of several scratchpads: a gang.
            5 => "gemm(m = 512, n = 512, k = uniform(256, 512))",
            // LLM blocks: their executions batch.
            6 => "llm_decode(params = 20M, context = uniform(16, 64), tokens = uniform(1, 6))",
            _ => "llm_prefill(params = 20M, tokens = uniform(8, 64))",
        };
        self.out.push_str(&format!("task {t} = {kernel}\n"));
        t
    }

    /// A sequence of segments; returns its first and last block.
    fn chain(&mut self, depth: u32) -> (String, String) {
        let len = 1 + self.next() % 3;
        let (first, mut last) = self.segment(depth);
        for _ in 1..len {
            let (f, l) = self.segment(depth);
            self.flow(&last, &f, None);
            last = l;
        }
        (first, last)
    }

    fn segment(&mut self, depth: u32) -> (String, String) {
        let choice = if depth >= 2 { 0 } else { self.next() % 7 };
        match choice {
            0 | 1 => {
                let t = self.task();
                (t.clone(), t)
            }
            2 => {
                let (b, j) = (self.name("br"), self.name("j"));
                self.out.push_str(&format!("branch {b} join {j}\n"));
                let (f, l) = self.chain(depth + 1);
                self.flow(&b, &f, Some("0.6"));
                self.flow(&l, &j, None);
                if self.next().is_multiple_of(2) {
                    self.flow(&b, &j, Some("0.4"));
                } else {
                    let (f, l) = self.chain(depth + 1);
                    self.flow(&b, &f, Some("0.4"));
                    self.flow(&l, &j, None);
                }
                (b, j)
            }
            3 => {
                let (b, j) = (self.name("fk"), self.name("j"));
                self.out.push_str(&format!("fork {b} join {j}\n"));
                for _ in 0..2 {
                    let (f, l) = self.chain(depth + 1);
                    self.flow(&b, &f, None);
                    self.flow(&l, &j, None);
                }
                (b, j)
            }
            4 => {
                let (b, j) = (self.name("mp"), self.name("j"));
                self.out.push_str(&format!("map {b}(width = uniform(0, 3), max = 3) join {j}\n"));
                let (f, l) = self.chain(depth + 1);
                self.flow(&b, &f, None);
                self.flow(&l, &j, None);
                (b, j)
            }
            5 => {
                let (b, j) = (self.name("lp"), self.name("j"));
                self.out.push_str(&format!("loop {b}(count = uniform(0, 3), max = 3) join {j}\n"));
                let (f, l) = self.chain(depth + 1);
                self.flow(&b, &f, None);
                self.flow(&l, &j, None);
                (b, j)
            }
            _ => {
                let (b, j) = (self.name("lp"), self.name("j"));
                self.out.push_str(&format!("loop {b}(continue = 0.5, max = 4) join {j}\n"));
                let (f, l) = self.chain(depth + 1);
                self.flow(&b, &f, None);
                self.flow(&l, &j, None);
                (b, j)
            }
        }
    }
}

fn workflow(codes: Vec<u32>, poisson: bool, requests: u64) -> String {
    let mut g = Gen { codes, pos: 0, n: 0, out: String::new() };
    let arrivals = if poisson {
        format!("arrivals poisson(rate = 20000/s, requests = {requests})\n")
    } else {
        format!("arrivals batch(requests = {requests})\n")
    };
    g.out.push_str("workflow generated\n");
    g.out.push_str(&arrivals);
    g.chain(0);
    // A second, independent entry now and then: the request starts at both.
    if g.next().is_multiple_of(3) {
        g.chain(1);
    }
    g.out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn generated_workflows_run_soundly(
        codes in prop::collection::vec(0u32..1000, 4..40),
        poisson in any::<bool>(),
        requests in 1u64..25,
        closed in prop::option::of(1u64..10),
        (cx, cy, tbus) in (1u32..3, 1u32..3, 1u32..4),
        seed in any::<u64>(),
    ) {
        let src = workflow(codes, poisson, requests);
        let s = Setup::new(&src, machine(cx, cy, tbus));
        let cost = CostModel::new(&s.machine);
        let inputs = s.inputs(&cost);
        let configs: Vec<SimConfig> = octopus_sim::scheduler_names()
            .iter()
            .map(|n| SimConfig { scheduler: (*n).to_owned(), requests: closed, rate: None, seed, trace: true })
            .collect();
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap()
            .install(|| octopus_sim::simulate_many(&inputs, &configs));
        let many = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap()
            .install(|| octopus_sim::simulate_many(&inputs, &configs));
        for (a, b) in one.into_iter().zip(many) {
            let (a, b) = (a.unwrap(), b.unwrap());
            let r = &a.result;
            let ja = serde_json::to_string(&a.result).unwrap();
            prop_assert_eq!(&ja, &serde_json::to_string(&b.result).unwrap());
            prop_assert_eq!(r.requests, closed.unwrap_or(requests), "{}:\n{}", r.scheduler, src);
            prop_assert!(r.makespan_cycles >= r.lower_bound_cycles, "{}: {}\n{}", r.scheduler, ja, src);
            let total = common::time_fractions(r);
            prop_assert!((total - 1.0).abs() < 1e-9, "{}: TBU time adds to {}", r.scheduler, total);
            // No TBU does two things at once.
            let mut spans: Vec<_> = a.trace.iter().filter_map(|e| e.tbu.map(|t| (t, e.start, e.end, e.kind))).collect();
            spans.sort_by_key(|s| (s.0, s.1, s.2));
            for w in spans.windows(2) {
                if w[0].0 == w[1].0 {
                    prop_assert!(w[0].2 <= w[1].1, "{}: TBU {:?} overlaps: {:?} and {:?}\n{}", r.scheduler, w[0].0, w[0], w[1], src);
                }
            }
            // A gang's shards start and end in the same cycle: one span per TBU of the gang.
            let mut gangs: std::collections::BTreeMap<u64, Vec<(u64, u64)>> = Default::default();
            for e in a.trace.iter().filter(|e| e.kind == TraceKind::Exec) {
                gangs.entry(e.exec.expect("an execution span")).or_default().push((e.start, e.end));
            }
            for (x, spans) in &gangs {
                prop_assert!(spans.windows(2).all(|w| w[0] == w[1]), "{}: gang {} {:?}\n{}", r.scheduler, x, spans, src);
            }
            prop_assert!(r.tasks_executed <= r.shards_executed);
        }
    }
}
