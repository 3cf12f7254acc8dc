//! `octopus-sim`: a discrete-event simulator of compiled workflows on a spatial machine, with
//! pluggable runtime schedulers.
//!
//! [`simulate`] takes a validated workflow and its analysis (`octopus-owg`), a machine and its cost
//! model (`octopus-hw`), a placement plan (`octopus-compiler`) and a [`SimConfig`], and returns a
//! [`SimResult`] (and, on request, the execution log). Requests arrive by the workflow's arrival
//! process (or as a closed batch), walk the graph (control blocks on CBUs draw branches, loop
//! counts and map widths; task blocks draw their parameters and run on TBUs chosen by a
//! [`Scheduler`]), and hand data over the NoC with link occupancy.
//!
//! Time is integer cycles. Runs are deterministic: every random draw comes from a stream keyed by
//! the seed and the identity of what draws it (the arrival process; one request's block instance),
//! never by the order events happen in, so two schedulers given the same seed see the same
//! requests, branch outcomes and kernel parameters. The simulator reads no files.
//!
//! The model, the schedulers and the metrics are documented in `docs/schedulers.md`.

mod bits;
mod engine;
mod metrics;
mod program;
mod queue;
mod requests;
mod sample;
pub mod scheduler;
pub mod schedulers;
pub mod serving;
mod state;
mod tally;
pub mod trace;
mod view;
mod work;

use octopus_compiler::Plan;
use octopus_hw::{CostModel, Machine};
use octopus_owg::analysis::Analysis;
use octopus_owg::ir::Workflow;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use metrics::{Idle, LlmResult, Quantiles, SimResult, Slowdown};
pub use scheduler::{Ctx, Scheduler};
pub use schedulers::{make_scheduler, scheduler_names};
pub use serving::{Capacity, Goodput, Search, Slo, capacity, goodput};
pub use tally::{EXACT_QUANTILE_SAMPLES, QUANTILE_RELATIVE_ERROR};
pub use trace::{TraceEvent, TraceKind, chrome_trace};

/// The version of the simulator's model: bumped whenever a change of the model moves results,
/// so that results recorded by another version (a sweep's results file) are never mixed with new
/// ones. Version 2: gangs, resident weights, batched LLM serving, the liveness invariant.
/// Version 3: `static` and `greedy` open a gang on idle TBUs before growing a batch; Octopus
/// diffuses queued gangs between dies; the `idle.queued` fraction. Version 4: `greedy` pays for its
/// central queue on machines of several dies (the free one is `greedy-oracle`); `steal`; diffusion
/// moves the least urgent tasks, toward neighbours with an idle TBU.
pub const MODEL_VERSION: u32 = 4;

/// The most work a run holds at once: task executions ready, queued or running, and pending
/// events (each map copy is at least one of them from its opening to its end). A map opening
/// past it ends the run with [`SimError::TooMuchLiveWork`] instead of exhausting memory: about
/// 1 KiB each, 4 M of them are about 4 GiB. (ours: a wafer has 21,504 TBUs, so this is about 200
/// executions waiting per TBU; no real machine runs that much at once.)
pub const MAX_LIVE_WORK: u64 = 4 << 20;

/// Simulated time, in clock cycles of the machine.
pub type Cycle = u64;

/// A request, numbered from 0 in arrival order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(pub u32);

/// What to run.
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    /// A name from [`scheduler_names`].
    pub scheduler: String,
    /// `Some(n)`: a closed batch of `n` requests at time 0, instead of the workflow's arrivals;
    /// with [`SimConfig::rate`], the number of requests of the open-loop stream.
    pub requests: Option<u64>,
    /// `Some(r)`: open-loop Poisson arrivals at `r` requests per second (finite, positive),
    /// instead of the workflow's arrivals; `requests` (or the workflow's request count) of them.
    pub rate: Option<f64>,
    /// The seed of every random stream of the run.
    pub seed: u64,
    /// Whether to keep the execution log ([`SimOutput::trace`]).
    pub trace: bool,
}

impl SimConfig {
    /// A config with the workflow's own arrivals, seed 0 and no trace.
    pub fn new(scheduler: &str) -> SimConfig {
        SimConfig { scheduler: scheduler.to_owned(), requests: None, rate: None, seed: 0, trace: false }
    }
}

/// The inputs of a run, borrowed.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    /// The validated workflow.
    pub workflow: &'a Workflow,
    /// Its analysis.
    pub analysis: &'a Analysis,
    /// The machine.
    pub machine: &'a Machine,
    /// Its cost model.
    pub cost: &'a CostModel<'a>,
    /// The plan compiled for this workflow on this machine.
    pub plan: &'a Plan,
}

/// What a run returns.
#[derive(Clone, Debug)]
pub struct SimOutput {
    /// The metrics.
    pub result: SimResult,
    /// The execution log, in the order spans were decided (empty unless [`SimConfig::trace`]).
    pub trace: Vec<TraceEvent>,
    /// The most requests the run held a record of at once (those from the oldest in flight to the
    /// newest): what a run holds follows it, not the number of requests; `None` for an output
    /// put together from several runs.
    pub requests_held_peak: Option<u64>,
}

/// Why a run could not be made.
#[derive(Clone, Debug, PartialEq, thiserror::Error, miette::Diagnostic)]
pub enum SimError {
    /// The scheduler name is not in the registry.
    #[error("unknown scheduler `{name}`")]
    #[diagnostic(code(sim::unknown_scheduler), help("valid schedulers: {valid}"))]
    UnknownScheduler {
        /// The name asked for.
        name: String,
        /// The registry's names, comma separated.
        valid: String,
    },
    /// Nothing to simulate.
    #[error("zero requests to simulate")]
    #[diagnostic(
        code(sim::zero_requests),
        help("ask for at least one request (`--requests N`, or the workflow's `arrivals`)")
    )]
    ZeroRequests,
    /// The plan was compiled from another workflow.
    #[error("the plan was compiled for workflow `{plan}`, not for this `{workflow}` (fingerprints differ)")]
    #[diagnostic(
        code(sim::plan_workflow),
        help("recompile the plan: `octopus compile` with this workflow and hardware")
    )]
    PlanWorkflow {
        /// The plan's workflow name.
        plan: String,
        /// The simulated workflow's name.
        workflow: String,
    },
    /// The plan was compiled for another machine.
    #[error("the plan was compiled for hardware `{plan}`, not for this `{machine}` (fingerprints differ)")]
    #[diagnostic(
        code(sim::plan_hardware),
        help("recompile the plan: `octopus compile` with this workflow and hardware")
    )]
    PlanHardware {
        /// The plan's hardware name.
        plan: String,
        /// The simulated machine's name.
        machine: String,
    },
    /// The plan does not place a block, or places it outside the machine.
    #[error("the plan does not place block `{block}` on this machine")]
    #[diagnostic(code(sim::plan_incomplete), help("recompile the plan with `octopus compile`"))]
    PlanIncomplete {
        /// The block's name.
        block: String,
    },
    /// The scheduler cannot run this workflow (e.g. `heft` and control blocks).
    #[error("scheduler `{scheduler}` refuses this run: {reason}")]
    #[diagnostic(code(sim::refused), help("choose another scheduler, or change the workflow"))]
    Refused {
        /// The scheduler.
        scheduler: String,
        /// Why.
        reason: String,
    },
    /// A map opened more copies than the simulator holds at once.
    #[error(
        "map `{block}` of request {request} opened {width} copies at cycle {time} while {live} executions and events were live: more than the {limit} the simulator holds at once",
        limit = MAX_LIVE_WORK
    )]
    #[diagnostic(
        code(sim::too_much_live_work),
        help(
            "fewer requests at once (`--requests`, `--rate`), or a narrower map (a loop of maps does the same work in waves)"
        )
    )]
    TooMuchLiveWork {
        /// The map block.
        block: String,
        /// Where it is declared (set by a caller that has the source).
        #[label("this map")]
        span: Option<miette::SourceSpan>,
        /// The copies it opened.
        width: u64,
        /// Its request.
        request: u64,
        /// Executions and events already live.
        live: u64,
        /// When.
        time: Cycle,
    },
    /// An SLO bounds a statistic the run does not have.
    #[error("the SLO bounds `{metric}`, but this workflow has no LLM decode block to measure it on")]
    #[diagnostic(code(sim::slo_unavailable), help("bound request latency instead, e.g. `latency_p99<2s`"))]
    SloUnavailable {
        /// The metric.
        metric: String,
    },
    /// Work remained but nothing was left to happen: a scheduler queued tasks no TBU will take.
    #[error(
        "scheduler `{scheduler}` stalled at cycle {time}: {completed} of {requests} requests complete, {queued} tasks queued and no event pending"
    )]
    #[diagnostic(code(sim::stalled), help("a scheduler bug: it queued work that no later decision takes"))]
    Stalled {
        /// The scheduler.
        scheduler: String,
        /// When.
        time: Cycle,
        /// Requests complete.
        completed: u64,
        /// Requests in the run.
        requests: u64,
        /// Tasks left in queues.
        queued: u64,
    },
}

/// Runs one simulation.
pub fn simulate(inputs: &Inputs<'_>, config: &SimConfig) -> Result<SimOutput, SimError> {
    simulate_with_progress(inputs, config, &mut |_, _| {})
}

/// [`simulate`], calling `progress(requests complete, requests)` about every 1% of the requests.
pub fn simulate_with_progress(
    inputs: &Inputs<'_>,
    config: &SimConfig,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<SimOutput, SimError> {
    let sched = make_scheduler(&config.scheduler)?;
    simulate_with_scheduler(inputs, config, sched, progress)
}

/// Runs one simulation with a scheduler instance (e.g. one with non-default parameters);
/// [`SimConfig::scheduler`] is ignored and the result is named after [`Scheduler::name`].
pub fn simulate_with_scheduler<'a>(
    inputs: &Inputs<'a>,
    config: &SimConfig,
    scheduler: Box<dyn Scheduler + 'a>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<SimOutput, SimError> {
    let env = state::Env::new(inputs, config)?;
    scheduler
        .accepts(inputs.workflow, inputs.machine, inputs.plan)
        .map_err(|reason| SimError::Refused { scheduler: scheduler.name().to_owned(), reason })?;
    let mut engine = engine::Engine::new(env, scheduler);
    engine.run(progress)?;
    let head = metrics::Head {
        scheduler: engine.sched.name().to_owned(),
        workflow: inputs.workflow.name.clone(),
        hardware: inputs.machine.name().to_owned(),
        seed: config.seed,
    };
    let mut result = SimResult::new(&engine.st.acc, &engine.env, head);
    result.counters = engine.sched.counters().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    Ok(SimOutput {
        result,
        trace: std::mem::take(&mut engine.st.trace),
        requests_held_peak: Some(engine.st.requests_held_peak),
    })
}

/// Runs several simulations in parallel (rayon), returning their outcomes in input order. Each
/// run is independent and deterministic, so the results do not depend on the thread count.
pub fn simulate_many(inputs: &Inputs<'_>, configs: &[SimConfig]) -> Vec<Result<SimOutput, SimError>> {
    configs.par_iter().map(|c| simulate(inputs, c)).collect()
}
