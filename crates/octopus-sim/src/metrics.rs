//! Run metrics: accumulated during the run ([`Accum`]), summarised as a [`SimResult`].
//! Definitions are in `docs/schedulers.md`, section "Metrics".

use octopus_owg::index::Idx;
use octopus_owg::ir::Kernel;
use serde::{Deserialize, Serialize};

use crate::Cycle;
use crate::state::Env;
use crate::tally::Tally;

/// What the event loop accumulates for one LLM block.
#[derive(Clone, Debug, Default)]
pub(crate) struct LlmAccum {
    pub sequences: u64,
    pub tokens: u64,
    pub steps: u64,
    /// Sum over steps of (sequences in the step x its cycles), and of its cycles: their ratio is
    /// the time-weighted mean batch.
    pub sequence_cycles: u128,
    pub step_cycles: u128,
    pub max_batch: u32,
    /// Per sequence: ready to done; for decode also time to first token, and time per output
    /// token (cycles).
    pub latency: Tally,
    pub ttft: Tally,
    pub tpot: Tally,
}

/// Totals the event loop accumulates (TBU-cycles in `u128`, exact).
#[derive(Clone, Debug, Default)]
pub(crate) struct Accum {
    pub busy: u128,
    pub reconfig: u128,
    pub transfer: u128,
    /// Held for a gang still collecting its TBUs, or assigned and waiting for the gang's slowest member.
    pub gang: u128,
    /// In collectives between the shards of an execution.
    pub collective: u128,
    pub idle_upstream: u128,
    /// Idle while a ready task waited in a queue.
    pub idle_queued: u128,
    pub idle_no_work: u128,
    /// Integral of requests in the system over time (request-cycles).
    pub in_system: u128,
    pub byte_hops: u128,
    pub reconfigurations: u64,
    /// Task block executions complete (all their shards ended).
    pub tasks: u64,
    /// Shards ended (TBU executions).
    pub shards: u64,
    pub control_blocks: u64,
    /// TBU-cycles of the executions that do not batch: their drawn cycles on the fastest TBU
    /// kind times their shards, summed.
    pub work: u128,
    /// Per block that batches: lower bounds of its TBU time from operations and from bytes.
    pub batched: Vec<(f64, f64)>,
    /// Per block: its LLM statistics (empty for blocks that do not batch).
    pub llm: Vec<LlmAccum>,
    /// Latest end of any request's critical path (arrival plus its longest chain of drawn costs).
    pub cp_bound: Cycle,
    pub makespan: Cycle,
    /// Per completed request: its latency, its critical path (its longest chain of drawn costs)
    /// and their ratio, its slowdown (a zero critical path counts 1), cycles.
    pub latency: Tally,
    pub critical_path: Tally,
    pub slowdown: Tally,
}

impl Accum {
    pub(crate) fn new(env: &Env<'_>) -> Accum {
        let n = env.wf.blocks.len();
        Accum { batched: vec![(0.0, 0.0); n], llm: vec![LlmAccum::default(); n], ..Accum::default() }
    }

    /// The work bound's TBU-cycles: every execution's share, a batched block's the larger of its
    /// two bounds.
    fn work_cycles(&self) -> u128 {
        let batched: f64 = self.batched.iter().map(|&(c, m)| c.max(m)).sum();
        self.work + batched.floor() as u128
    }
}

/// Quantiles (nearest rank) of the requests' slowdowns, latency over critical path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Slowdown {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
}

impl Slowdown {
    fn of(slowdowns: &Tally) -> Slowdown {
        slowdowns.summary().map_or_else(Slowdown::default, |s| Slowdown {
            mean: s.mean,
            p50: s.rank(0.5),
            p90: s.rank(0.9),
            p99: s.rank(0.99),
        })
    }
}

/// The mean and two percentiles (nearest rank) of a sample, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Quantiles {
    /// Mean.
    pub mean_s: f64,
    /// Median.
    pub p50_s: f64,
    /// 99th percentile.
    pub p99_s: f64,
}

impl Quantiles {
    /// Of values in cycles; `None` for an empty sample.
    fn of(values: &Tally, hz: f64) -> Option<Quantiles> {
        values.summary().map(|s| Quantiles {
            mean_s: s.mean / hz,
            p50_s: s.rank(0.50) / hz,
            p99_s: s.rank(0.99) / hz,
        })
    }
}

/// What one LLM block did: its sequences, its batches' sizes, and its serving latencies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LlmResult {
    /// The block's name.
    pub block: String,
    /// `prefill` or `decode`.
    pub phase: String,
    /// Sequences (executions) served.
    pub sequences: u64,
    /// Tokens generated (decode) or prompt tokens processed (prefill).
    pub tokens: u64,
    /// Batch steps run.
    pub steps: u64,
    /// Sequences per step, weighted by the steps' durations.
    pub mean_batch: f64,
    /// The largest batch a step served.
    pub max_batch: u32,
    /// From ready to done.
    pub latency: Option<Quantiles>,
    /// Decode: time to first token, from the call's start (the ready time of the `llm_prefill`
    /// that fed it directly, else its own) to the end of its first step.
    pub ttft: Option<Quantiles>,
    /// Decode: time per output token after the first, `(end - first token) / (tokens - 1)`.
    pub tpot: Option<Quantiles>,
}

/// Where TBU time went that was not computation, as fractions of all TBU time (TBUs x makespan).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Idle {
    /// Idle while no request was in the system.
    pub no_work: f64,
    /// Idle while requests were in the system and no ready task was queued: waiting for work that
    /// upstream blocks have not released yet (contagious idleness).
    pub upstream: f64,
    /// Idle while at least one ready task waited in a queue: the scheduler left the TBU unused
    /// (not eligible for the queued work, kept for another block, or the work is in a timed wait
    /// for a better TBU).
    pub queued: f64,
    /// Loading a configuration.
    pub reconfig: f64,
    /// Assigned, waiting for input data to cross the NoC (beyond the overlapping load) or for the
    /// control message that dispatched it; in a batch, waiting for a sequence to join.
    pub transfer: f64,
    /// Held for a gang still collecting its TBUs, or assigned and waiting for the slowest
    /// member of its gang to be ready.
    pub gang: f64,
    /// In collectives between the shards of one execution (all-reduce, gather).
    pub collective: f64,
}

/// The summary of one run. Field names are a stable interface (`--format json`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SimResult {
    /// The scheduler's name.
    pub scheduler: String,
    /// The workflow's name.
    pub workflow: String,
    /// The machine's name.
    pub hardware: String,
    /// The seed.
    pub seed: u64,
    /// Requests simulated (all complete).
    pub requests: u64,
    /// Time from 0 to the completion of the last request, in cycles.
    pub makespan_cycles: u64,
    /// The same in seconds.
    pub makespan_s: f64,
    /// Requests per second over the makespan.
    pub throughput_rps: f64,
    /// Mean request latency (arrival to completion), seconds.
    pub latency_mean_s: f64,
    /// Median latency (nearest rank), seconds.
    pub latency_p50_s: f64,
    /// 95th percentile latency (nearest rank), seconds.
    pub latency_p95_s: f64,
    /// 99th percentile latency (nearest rank), seconds.
    pub latency_p99_s: f64,
    /// Fraction of TBU time spent computing.
    pub utilization: f64,
    /// Fractions of TBU time not computing; with `utilization` they sum to 1.
    pub idle: Idle,
    /// Configurations loaded (on assignment or ahead of time).
    pub reconfigurations: u64,
    /// Bytes times mesh hops of every transfer.
    pub noc_byte_hops: u64,
    /// Task block executions.
    pub tasks_executed: u64,
    /// TBU executions of task shards: `tasks_executed` when no block is sharded, more when the plan
    /// runs a block's executions on several TBUs.
    pub shards_executed: u64,
    /// Control block executions.
    pub control_blocks_executed: u64,
    /// Mean requests in the system (time integral over the makespan); Little's law:
    /// `mean_in_system = throughput_rps x latency_mean_s`.
    pub mean_in_system: f64,
    /// `max(critical path bound, work bound)`, cycles.
    pub lower_bound_cycles: u64,
    /// The latest arrival plus longest chain of drawn task and control costs of any request, cycles.
    pub critical_path_cycles: u64,
    /// Drawn task cycles (on the fastest TBU kind) summed, over the number of TBUs, cycles.
    pub work_bound_cycles: u64,
    /// `makespan_cycles / lower_bound_cycles` (at least 1).
    pub makespan_over_lower_bound: f64,
    /// Per request, its critical path: its longest chain of drawn task and control costs, the
    /// latency it would have alone on an idle machine of warm TBUs. The same for every scheduler
    /// (the draws are), it is what latency objectives are scaled by (`docs/evaluation.md`).
    pub request_critical_path: Quantiles,
    /// Per request, its slowdown: its latency over its critical path (at least 1); quantiles over
    /// requests. `slowdown.p90 <= 5` is DistServe's "90 % of requests within 5x" attainment.
    pub slowdown: Slowdown,
    /// Time to first token over every decode sequence (`None` without LLM decode blocks).
    pub ttft: Option<Quantiles>,
    /// Time per output token over every decode sequence.
    pub tpot: Option<Quantiles>,
    /// Per LLM block: its batches and latencies.
    pub llm: Vec<LlmResult>,
    /// The open-loop arrival rate of the run (`--rate`, `--load`), requests per second; absent
    /// for the workflow's own arrivals and closed batches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival_rate_rps: Option<f64>,
    /// Whether the run met the SLO it was checked against (`--slo` with a rate), absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo_met: Option<bool>,
    /// `true` when a sample behind the percentiles outgrew `EXACT_QUANTILE_SAMPLES` and its
    /// quantiles are its bins' (within `QUANTILE_RELATIVE_ERROR`); absent when every one is exact.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub quantiles_binned: bool,
    /// Counts of the scheduler's own mechanisms by name (`Scheduler::counters`; Octopus's
    /// diffusion: `docs/schedulers.md`), absent when it reports none.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub counters: std::collections::BTreeMap<String, u64>,
    /// The goodput search this run is the result of (`--slo` without a rate), absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goodput: Option<crate::serving::Goodput>,
}

impl SimResult {
    pub(crate) fn new(acc: &Accum, env: &Env<'_>, head: Head) -> SimResult {
        let tbus = env.machine.tbus.len();
        let clock_ghz = env.machine.spec.clock_ghz;
        let hz = clock_ghz * 1e9;
        let makespan = acc.makespan;
        let makespan_s = makespan as f64 / hz;
        let n = acc.latency.len();
        let lat = acc.latency.summary();
        let pct = |p: f64| lat.as_ref().map_or(0.0, |s| s.rank(p) / hz);
        let mean_latency = lat.as_ref().map_or(0.0, |s| s.mean / hz);
        let tbu_time = (tbus as f64) * makespan as f64;
        let frac = |x: u128| if tbu_time > 0.0 { x as f64 / tbu_time } else { 0.0 };
        let work_bound = acc.work_cycles().div_ceil(tbus.max(1) as u128) as u64;
        let mut llm = Vec::new();
        let (mut ttft, mut tpot) = (Tally::default(), Tally::default());
        for (b, block) in env.wf.blocks.iter_enumerated() {
            if !env.profile[b.index()].batched() {
                continue;
            }
            let a = &acc.llm[b.index()];
            let decode = matches!(block.task().map(|t| &t.kernel), Some(Kernel::LlmDecode { .. }));
            ttft.extend(&a.ttft);
            tpot.extend(&a.tpot);
            llm.push(LlmResult {
                block: block.name.clone(),
                phase: if decode { "decode" } else { "prefill" }.to_owned(),
                sequences: a.sequences,
                tokens: a.tokens,
                steps: a.steps,
                mean_batch: if a.step_cycles > 0 {
                    a.sequence_cycles as f64 / a.step_cycles as f64
                } else {
                    0.0
                },
                max_batch: a.max_batch,
                latency: Quantiles::of(&a.latency, hz),
                ttft: Quantiles::of(&a.ttft, hz),
                tpot: Quantiles::of(&a.tpot, hz),
            });
        }
        let lower = work_bound.max(acc.cp_bound);
        SimResult {
            scheduler: head.scheduler,
            workflow: head.workflow,
            hardware: head.hardware,
            seed: head.seed,
            requests: n,
            makespan_cycles: makespan,
            makespan_s,
            throughput_rps: if makespan > 0 { n as f64 / makespan_s } else { 0.0 },
            latency_mean_s: mean_latency,
            latency_p50_s: pct(0.50),
            latency_p95_s: pct(0.95),
            latency_p99_s: pct(0.99),
            utilization: frac(acc.busy),
            idle: Idle {
                no_work: frac(acc.idle_no_work),
                upstream: frac(acc.idle_upstream),
                queued: frac(acc.idle_queued),
                reconfig: frac(acc.reconfig),
                transfer: frac(acc.transfer),
                gang: frac(acc.gang),
                collective: frac(acc.collective),
            },
            reconfigurations: acc.reconfigurations,
            noc_byte_hops: u64::try_from(acc.byte_hops).unwrap_or(u64::MAX),
            tasks_executed: acc.tasks,
            shards_executed: acc.shards,
            control_blocks_executed: acc.control_blocks,
            mean_in_system: if makespan > 0 { acc.in_system as f64 / makespan as f64 } else { 0.0 },
            lower_bound_cycles: lower,
            critical_path_cycles: acc.cp_bound,
            work_bound_cycles: work_bound,
            makespan_over_lower_bound: if lower > 0 { makespan as f64 / lower as f64 } else { 1.0 },
            request_critical_path: Quantiles::of(&acc.critical_path, hz).unwrap_or_default(),
            slowdown: Slowdown::of(&acc.slowdown),
            ttft: Quantiles::of(&ttft, hz),
            tpot: Quantiles::of(&tpot, hz),
            llm,
            arrival_rate_rps: env.rate,
            slo_met: None,
            quantiles_binned: [&acc.latency, &acc.critical_path, &acc.slowdown, &ttft, &tpot]
                .into_iter()
                .chain(acc.llm.iter().flat_map(|a| [&a.latency, &a.ttft, &a.tpot]))
                .any(Tally::is_binned),
            counters: Default::default(),
            goodput: None,
        }
    }
}

/// The identifying fields of a result.
pub(crate) struct Head {
    pub scheduler: String,
    pub workflow: String,
    pub hardware: String,
    pub seed: u64,
}
