//! The read-only inputs of a run and the tables derived from them once, before the first event.

use octopus_compiler::Plan;
use octopus_hw::{ClusterId, CostModel, LlmModel, Machine, Profile, Ring, TbuId, TbuKindId};
use octopus_owg::analysis::Analysis;
use octopus_owg::index::Idx;
use octopus_owg::ir::{Arrivals, BlockId, BlockKind, Kernel, Workflow};
use rand_pcg::Pcg64Mcg;

use crate::program::{Op, Program};
use crate::{Cycle, SimConfig, SimError};

/// Read-only inputs of a run and the tables derived from them.
pub(crate) struct Env<'a> {
    pub wf: &'a Workflow,
    pub an: &'a Analysis,
    pub machine: &'a Machine,
    pub cost: &'a CostModel<'a>,
    pub plan: &'a Plan,
    pub prog: Program,
    pub seed: u64,
    /// Home TBUs of each block (empty for control blocks).
    pub homes: Vec<Vec<TbuId>>,
    /// TBUs one execution of each block runs on (the plan's; 1 for control blocks).
    pub shards: Vec<u32>,
    /// The CBU (cluster) of each block: its plan CBU for control blocks, the plan anchor for task
    /// blocks (where the control plane tells it it is ready).
    pub cbu: Vec<ClusterId>,
    /// What each task block keeps resident and whether it batches.
    pub profile: Vec<Profile>,
    /// Per block: the block whose configuration, weights and batches it shares (itself, but for
    /// LLM blocks of one model and phase: `octopus_hw::batch_groups`).
    pub group: Vec<BlockId>,
    /// Per `block * kinds + kind`: expected cycles of one execution on warm TBUs (its run and its
    /// collectives on a compact ring, from [`CostModel::expected_exec`]).
    pub expected: Vec<Cycle>,
    /// Per `block * kinds + kind`: the extra cycles of a cold TBU (configuration and resident bytes).
    pub load: Vec<Cycle>,
    /// Per block: the mean of its `tokens` (LLM decode: the steps it is expected to take), else 1.
    pub mean_steps: Vec<f64>,
    pub kinds: usize,
    pub control_cycles: Cycle,
    /// Per link: bytes per cycle and hop latency.
    pub link_bw: Vec<u64>,
    pub link_lat: Vec<u64>,
    /// NoC bandwidth within a cluster (one pass through its router).
    pub local_bw: u64,
    /// Per die: bytes of off-chip memory left for KV caches once every model's weights are in.
    pub kv_capacity: Vec<f64>,
    pub n_requests: u64,
    pub arrival_times: ArrivalGen,
    /// The open-loop rate asked for ([`SimConfig::rate`]), requests per second.
    pub rate: Option<f64>,
    /// Whether to keep the execution log.
    pub trace: bool,
}

/// How arrival times are produced.
#[derive(Clone, Debug)]
pub(crate) enum ArrivalGen {
    /// All at time zero.
    Batch,
    /// Poisson with this mean gap in cycles.
    Poisson { mean_gap_cycles: f64 },
    /// Recorded times, in cycles.
    Replay(Vec<Cycle>),
}

impl<'a> Env<'a> {
    /// Checks the plan against the workflow and machine, and builds the run's tables.
    pub(crate) fn new(inputs: &crate::Inputs<'a>, config: &SimConfig) -> Result<Env<'a>, SimError> {
        let crate::Inputs { workflow: wf, analysis: an, machine, cost, plan } = *inputs;
        if plan.workflow_fingerprint != octopus_owg::fingerprint(wf) {
            return Err(SimError::PlanWorkflow { plan: plan.workflow.clone(), workflow: wf.name.clone() });
        }
        if plan.machine_fingerprint != machine.fingerprint() {
            return Err(SimError::PlanHardware {
                plan: plan.hardware.clone(),
                machine: machine.name().to_owned(),
            });
        }
        let (arrival_times, n_requests) =
            arrival_gen(&wf.arrivals, config.requests, config.rate, machine.spec.clock_ghz);
        if n_requests == 0 {
            return Err(SimError::ZeroRequests);
        }
        let incomplete = |b: &octopus_owg::ir::Block| SimError::PlanIncomplete { block: b.name.clone() };
        let kinds = machine.kinds.len();
        let n = wf.blocks.len();
        let mut homes = Vec::with_capacity(n);
        let mut shards = Vec::with_capacity(n);
        let mut cbu = Vec::with_capacity(n);
        let mut profile = Vec::with_capacity(n);
        let mut mean_steps = Vec::with_capacity(n);
        let mut expected = vec![0; n * kinds];
        let mut load = vec![0; n * kinds];
        for (id, b) in wf.blocks.iter_enumerated() {
            match &b.kind {
                BlockKind::Task(task) => {
                    let tp = plan.task(id).ok_or_else(|| incomplete(b))?;
                    if tp.homes.is_empty()
                        || tp.homes.iter().any(|t| t.index() >= machine.tbus.len())
                        || tp.anchor.index() >= machine.clusters.len()
                        || tp.shards == 0
                        || tp.shards as usize > machine.tbus.len()
                    {
                        return Err(incomplete(b));
                    }
                    homes.push(tp.homes.clone());
                    shards.push(tp.shards);
                    cbu.push(tp.anchor);
                    let p = cost.profile(task);
                    for k in 0..kinds {
                        let kind = TbuKindId(k as u32);
                        let ring = cost.compact_ring(kind, tp.shards);
                        let e = cost.expected_exec(task, kind, tp.shards, &ring);
                        expected[id.index() * kinds + k] = e.warm().round().max(1.0) as Cycle;
                        load[id.index() * kinds + k] = e.load.round() as Cycle;
                    }
                    mean_steps.push(match &task.kernel {
                        Kernel::LlmDecode { tokens, .. } => tokens.mean().max(1.0),
                        _ => 1.0,
                    });
                    profile.push(p);
                }
                BlockKind::Control(_) => {
                    let cp = plan.control(id).ok_or_else(|| incomplete(b))?;
                    if cp.cluster.index() >= machine.clusters.len() {
                        return Err(incomplete(b));
                    }
                    homes.push(Vec::new());
                    shards.push(1);
                    cbu.push(cp.cluster);
                    profile.push(Profile::NONE);
                    mean_steps.push(1.0);
                }
            }
        }
        let link_bw = machine.links.iter().map(|l| u64::from(l.bytes_per_cycle.max(1))).collect();
        let link_lat = machine.links.iter().map(|l| u64::from(l.hop_latency_cycles)).collect();
        let kv_capacity = vec![cost.kv_capacity(&profile); machine.dies.len()];
        Ok(Env {
            wf,
            an,
            machine,
            cost,
            plan,
            prog: Program::new(wf, an),
            seed: config.seed,
            homes,
            shards,
            cbu,
            profile,
            group: octopus_hw::batch_groups(wf),
            expected,
            load,
            mean_steps,
            kinds,
            control_cycles: cost.control_cycles(),
            link_bw,
            link_lat,
            local_bw: u64::from(machine.spec.die.noc.bytes_per_cycle.max(1)),
            kv_capacity,
            n_requests,
            arrival_times,
            rate: config.rate,
            trace: config.trace,
        })
    }

    pub(crate) fn expected_on(&self, block: BlockId, kind: TbuKindId) -> Cycle {
        self.expected[block.index() * self.kinds + kind.index()]
    }

    pub(crate) fn load_on(&self, block: BlockId, kind: TbuKindId) -> Cycle {
        self.load[block.index() * self.kinds + kind.index()]
    }

    /// The block whose configuration, weights and batches `b` shares.
    pub(crate) fn group(&self, b: BlockId) -> BlockId {
        self.group[b.index()]
    }

    pub(crate) fn is_task(&self, b: BlockId) -> bool {
        self.prog.op[b] == Op::Task
    }

    /// The model of an LLM block.
    pub(crate) fn llm(&self, b: BlockId) -> Option<&LlmModel> {
        self.profile[b.index()].llm.as_ref()
    }

    /// Cycles for a control message between two clusters.
    pub(crate) fn ctl_msg(&self, a: ClusterId, b: ClusterId) -> Cycle {
        self.cost.control_message_cycles(self.machine.hops(a, b))
    }

    /// The ring of a gang.
    pub(crate) fn ring(&self, tbus: &[TbuId]) -> Ring {
        Ring::new(self.machine, tbus)
    }

    /// A per-instance random stream: a function of the seed and the instance's identity only, so
    /// scheduling decisions never shift the workload's draws.
    pub(crate) fn instance_rng(&self, request: u32, frame_key: u64, block: BlockId, salt: u64) -> Pcg64Mcg {
        let a = mix(self.seed ^ 0x5eed_0f12_57a1_1c00, u64::from(request));
        let b = mix(a, frame_key);
        let c = mix(b, u64::from(block.0) << 32 | salt);
        Pcg64Mcg::new(u128::from(mix(c, 1)) << 64 | u128::from(mix(c, 2)))
    }
}

/// SplitMix64 finaliser of `a` combined with `b`: a cheap, well-mixed hash for stream keys.
pub(crate) fn mix(a: u64, b: u64) -> u64 {
    let mut z = a.wrapping_add(b.wrapping_mul(0x9e37_79b9_7f4a_7c15)).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Builds the arrival generator of a run.
pub(crate) fn arrival_gen(
    arrivals: &Arrivals,
    requests_override: Option<u64>,
    rate_override: Option<f64>,
    clock_ghz: f64,
) -> (ArrivalGen, u64) {
    if let Some(rate) = rate_override {
        let n = requests_override.unwrap_or_else(|| arrivals.requests());
        return (ArrivalGen::Poisson { mean_gap_cycles: clock_ghz * 1e9 / rate }, n);
    }
    match (requests_override, arrivals) {
        (Some(n), _) => (ArrivalGen::Batch, n),
        (None, Arrivals::Batch { requests }) => (ArrivalGen::Batch, *requests),
        (None, Arrivals::Poisson { rate, requests }) => {
            (ArrivalGen::Poisson { mean_gap_cycles: clock_ghz * 1e9 / rate }, *requests)
        }
        (None, Arrivals::Replay { times, .. }) => {
            let cycles =
                times.iter().map(|s| (s * clock_ghz * 1e9).round().max(0.0) as Cycle).collect::<Vec<_>>();
            let n = cycles.len() as u64;
            (ArrivalGen::Replay(cycles), n)
        }
    }
}
