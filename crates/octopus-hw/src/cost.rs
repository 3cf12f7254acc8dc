//! The cost model: cycles of every kernel on k TBUs, of reconfiguration, of control blocks and of
//! transfers. Formulas and their sources are in `docs/hardware.md`, section "Cost model".

use octopus_owg::dist::Dist;
use octopus_owg::ir::{DType, Kernel, Task};

use crate::llm::{LlmModel, StepLoad};
use crate::machine::{Hops, Machine, TbuId, TbuKindId};
use crate::profile::Profile;
use crate::ring::{Collective, Ring};

/// Bytes of one control message (request ID, block ID, a count or branch choice, a target
/// cluster): our assumption, see `docs/hardware.md`.
pub const CONTROL_MESSAGE_BYTES: u64 = 16;

/// What one execution is expected to cost on `k` TBUs ([`CostModel::expected_exec`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExecCost {
    /// Cycles of the execution on warm TBUs (their resident bytes loaded).
    pub run: f64,
    /// Cycles of its collectives between shards (on top of `run`).
    pub collective: f64,
    /// Extra cycles on a cold TBU: loading its configuration and resident bytes.
    pub load: f64,
}

impl ExecCost {
    /// Its latency on warm TBUs: run and collectives.
    pub fn warm(&self) -> f64 {
        self.run + self.collective
    }

    /// Its latency on cold TBUs.
    pub fn cold(&self) -> f64 {
        self.warm() + self.load
    }
}

/// Costs on one machine. Cheap to build; borrow the machine.
#[derive(Clone, Debug)]
pub struct CostModel<'m> {
    machine: &'m Machine,
    /// Off-chip bytes per cycle available to one TBU: its even share of the die's bandwidth.
    mem_bytes_per_cycle_per_tbu: f64,
}

/// Memory traffic and working set of one kernel execution, in bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Traffic {
    /// Bytes the kernel touches (operands, weights, results).
    pub working_set: f64,
    /// Bytes moved between off-chip memory and the scratchpads.
    pub moved: f64,
}

impl<'m> CostModel<'m> {
    /// The cost model of `machine`.
    pub fn new(machine: &'m Machine) -> CostModel<'m> {
        let s = &machine.spec;
        let die_bytes_per_cycle = s.die.memory_bandwidth_gbps / s.clock_ghz;
        CostModel {
            machine,
            mem_bytes_per_cycle_per_tbu: die_bytes_per_cycle / f64::from(machine.tbus_per_die()),
        }
    }

    /// The machine.
    pub fn machine(&self) -> &'m Machine {
        self.machine
    }

    /// Off-chip bytes per cycle of one TBU (its share of the die's memory bandwidth).
    pub fn memory_bytes_per_cycle_per_tbu(&self) -> f64 {
        self.mem_bytes_per_cycle_per_tbu
    }

    /// The rate, in operations per cycle, of `k` TBUs of `kind` running one kernel execution
    /// together: `k * peak * efficiency * parallel_efficiency^log2(k)`.
    pub fn ops_per_cycle(&self, kind: TbuKindId, k: u32, general: bool) -> f64 {
        let s = &self.machine.kinds[kind];
        let eff = if general { s.general_efficiency } else { s.ai_efficiency };
        let k = f64::from(k.max(1));
        k * s.peak_ops_per_cycle() as f64 * eff * s.parallel_efficiency.powf(k.log2())
    }

    /// Bytes each of the `k` TBUs of `kind` running a block keeps resident, besides its
    /// configuration: its share of the weights, `weights / k`, when that fits its scratchpad,
    /// else nothing (the weights stream per execution). An LLM's weights are a cache: each shard
    /// keeps what fits of its share (`min(weights / k, scratchpad)`) and streams the rest.
    pub fn resident_per_shard(&self, p: &Profile, kind: TbuKindId, k: u32) -> f64 {
        let pad = self.machine.kinds[kind].scratchpad_bytes() as f64;
        let share = p.weights / f64::from(k.max(1));
        if p.llm.is_some() {
            share.min(pad)
        } else if share <= pad {
            share
        } else {
            0.0
        }
    }

    /// The extra cycles of an execution on a *cold* TBU of `kind` (one that holds another
    /// block): loading the configuration (`reconfig_cycles`) and then this shard's resident bytes
    /// at the TBU's memory bandwidth. A warm TBU pays nothing.
    pub fn load_cycles(&self, p: &Profile, kind: TbuKindId, k: u32) -> u64 {
        let bytes = self.resident_per_shard(p, kind, k);
        self.reconfig_cycles(kind) + (bytes / self.mem_bytes_per_cycle_per_tbu).ceil() as u64
    }

    /// Working set and memory traffic of one execution on `k` *warm* TBUs of `kind` (their
    /// resident bytes loaded, [`CostModel::resident_per_shard`]).
    ///
    /// Resident weights are not read again. Of the rest, what fits in the `k` scratchpads is read
    /// once; what does not streams from off-chip memory: tiled GEMM and convolution re-read operand
    /// tiles (Hong and Kung's I/O bound with square tiles), attention re-reads K and V once per
    /// block of queries (FlashAttention's schedule). An LLM execution alone (a batch of one) reads
    /// its streamed weights once per step and its KV cache at every decode step (see [`crate::llm`]).
    pub fn traffic(
        &self,
        kernel: &Kernel<f64>,
        dtype: DType,
        p: &Profile,
        kind: TbuKindId,
        k: u32,
    ) -> Traffic {
        let b = f64::from(dtype.bytes());
        let kf = f64::from(k.max(1));
        let s = self.machine.kinds[kind].scratchpad_bytes() as f64 * kf;
        let resident = self.resident_per_shard(p, kind, k) * kf;
        // Square tiles of the three GEMM operands filling the scratchpad: side sqrt(S / 3b) elements.
        let tiled = |m: f64, n: f64, kk: f64, ws: f64| {
            if ws <= s {
                ws
            } else {
                let t = (s / (3.0 * b)).sqrt().max(1.0);
                (2.0 * m * n * kk * b / t + m * n * b).max(ws)
            }
        };
        // With its weights resident, a GEMM (or a convolution as one) reads each row of
        // activations once and writes each output row once (a row of each fits beside the weights).
        let weighted = |m: f64, n: f64, kk: f64, ws: f64, weights: f64| {
            let moved = if resident > 0.0 { ws - weights } else { tiled(m, n, kk, ws) };
            (ws, moved)
        };
        let (working_set, moved) = match *kernel {
            Kernel::Gemm { m, n, k: kk } => {
                let weights = if p.weights > 0.0 { kk * n * b } else { 0.0 };
                weighted(m, n, kk, (m * kk + kk * n + m * n) * b, weights)
            }
            Kernel::Conv2d { h, w, cin, cout, kernel, stride } => {
                let out = (h / stride) * (w / stride);
                let filters = cin * cout * kernel * kernel * b;
                let ws = h * w * cin * b + filters + out * cout * b;
                weighted(out, cout, cin * kernel * kernel, ws, filters)
            }
            Kernel::Attention { seq, heads, dim } => {
                let ws = 4.0 * seq * heads * dim * b;
                let moved = if ws <= s {
                    ws
                } else {
                    // Per head: Q read and O written once, K and V once per block of query rows.
                    let rows = (s / (4.0 * dim * b)).floor().max(1.0);
                    heads * seq * dim * b * (2.0 + 2.0 * (seq / rows).ceil())
                };
                (ws, moved.max(ws))
            }
            Kernel::LlmPrefill { params, tokens } => {
                let kv = p.llm.map_or(0.0, |m| m.kv_bytes_per_token());
                (params * b, (params * b - resident).max(0.0) + tokens * kv)
            }
            Kernel::LlmDecode { params, tokens, context } => {
                let kv = p.llm.map_or(0.0, |m| m.kv_bytes_per_token());
                let t = tokens.max(0.0);
                // Step j (from 0) reads the cache of context + j tokens and writes one entry.
                let kv_moved = kv * (t * (context + 1.0) + t * (t - 1.0).max(0.0) / 2.0);
                (params * b, t * (params * b - resident).max(0.0) + kv_moved)
            }
            Kernel::Elementwise { elems, .. } => (2.0 * elems * b, 2.0 * elems * b + p.weights - resident),
            Kernel::Reduce { elems } => (elems * b, elems * b + p.weights - resident),
            Kernel::Compute { bytes, .. } => (bytes, bytes + p.weights - resident),
            Kernel::Delay { .. } => (0.0, 0.0),
        };
        Traffic { working_set, moved }
    }

    /// Cycles of one execution of `kernel` on `k` warm TBUs of `kind`: the roofline
    /// `max(ops / rate, bytes moved / bandwidth)`, at least one cycle; `delay` is its time in
    /// cycles. Collectives between the shards come on top ([`CostModel::collective`]).
    pub fn run_cycles(
        &self,
        kernel: &Kernel<f64>,
        dtype: DType,
        p: &Profile,
        kind: TbuKindId,
        k: u32,
    ) -> u64 {
        if let Kernel::Delay { time } = *kernel {
            return self.seconds_to_cycles(time);
        }
        let general = !kernel.kind().is_ai();
        let compute = kernel.ops() / self.ops_per_cycle(kind, k, general);
        let memory = self.traffic(kernel, dtype, p, kind, k).moved
            / (self.mem_bytes_per_cycle_per_tbu * f64::from(k.max(1)));
        (compute.max(memory).ceil() as u64).max(1)
    }

    /// The collective traffic between the shards of one execution on `ring` (nothing on one
    /// TBU): an output gather for `gemm`, `conv2d`, `attention`, `elementwise` and `reduce` (the
    /// result, split over the shards, is assembled where it leaves); two all-reduces of the
    /// activations per layer and step for an LLM execution alone (a batch steps through
    /// [`CostModel::step_collective`]); none for `compute` and `delay`, whose shards are independent.
    pub fn collective(&self, kernel: &Kernel<f64>, dtype: DType, p: &Profile, ring: &Ring) -> Collective {
        let b = f64::from(dtype.bytes());
        let bytes = |x: f64| (x * b).ceil().max(0.0) as u64;
        match *kernel {
            Kernel::Gemm { m, n, .. } => ring.gather(bytes(m * n)),
            Kernel::Conv2d { h, w, cout, stride, .. } => {
                ring.gather(bytes((h / stride) * (w / stride) * cout))
            }
            Kernel::Attention { seq, heads, dim } => ring.gather(bytes(seq * heads * dim)),
            Kernel::Elementwise { elems, .. } => ring.gather(bytes(elems)),
            Kernel::Reduce { .. } => ring.gather(bytes(f64::from(ring.len()))),
            Kernel::LlmPrefill { tokens, .. } => {
                p.llm.map_or_else(Collective::default, |m| self.step_collective(&m, tokens, ring))
            }
            Kernel::LlmDecode { tokens, .. } => p.llm.map_or_else(Collective::default, |m| {
                self.step_collective(&m, 1.0, ring).times(tokens.max(0.0).round() as u64)
            }),
            Kernel::Compute { .. } | Kernel::Delay { .. } => Collective::default(),
        }
    }

    /// The collectives of one batch step that processes `tokens` tokens: two ring all-reduces
    /// of their activations per layer.
    pub fn step_collective(&self, m: &LlmModel, tokens: f64, ring: &Ring) -> Collective {
        ring.all_reduce(m.activation_bytes(tokens)).times(m.all_reduces_per_step())
    }

    /// Cycles of one batch step of an LLM block on `k` TBUs of `kind` (collectives on top,
    /// [`CostModel::step_collective`]): the roofline of `2 params x tokens` operations against the
    /// weights not resident, read once for the whole batch, and the KV cache read and written.
    pub fn step_cycles(&self, m: &LlmModel, p: &Profile, kind: TbuKindId, k: u32, load: &StepLoad) -> u64 {
        let kf = f64::from(k.max(1));
        let streamed = (m.weight_bytes() - self.resident_per_shard(p, kind, k) * kf).max(0.0);
        let compute = 2.0 * m.params * load.tokens / self.ops_per_cycle(kind, k, false);
        let memory = (streamed + load.kv_read + load.kv_write) / (self.mem_bytes_per_cycle_per_tbu * kf);
        (compute.max(memory).ceil() as u64).max(1)
    }

    /// What one execution of `task` is expected to cost on `k` TBUs of `kind`, warm and cold:
    /// the one function the compiler and the schedulers read expected costs from.
    ///
    /// The compute term is exact: operations are a monomial of independent parameters, so their
    /// mean follows from the parameters' raw moments. The memory term is evaluated at the mean
    /// parameters, which is exact where traffic is linear in the random parameters (prefill,
    /// elementwise, reduce, compute) and a first-order approximation elsewhere. The run is `max`
    /// of the two means, a lower bound of the mean of the `max` (Jensen). An LLM execution is
    /// costed alone (a batch of one). The collectives are those on `ring`.
    pub fn expected_exec(&self, task: &Task, kind: TbuKindId, k: u32, ring: &Ring) -> ExecCost {
        let p = self.profile(task);
        let load = self.load_cycles(&p, kind, k) as f64;
        if let Kernel::Delay { time } = &task.kernel {
            return ExecCost { run: time.mean() * self.machine.spec.clock_ghz * 1e9, collective: 0.0, load };
        }
        let (coef, factors) = task.kernel.ops_monomial();
        let ops = factors.into_iter().fold(coef, |acc, (d, q)| acc * d.raw_moment(q));
        let compute = ops / self.ops_per_cycle(kind, k, !task.kernel.kind().is_ai());
        let mean = task.kernel.map(|d: &Dist, _| d.mean());
        let memory = self.traffic(&mean, task.dtype, &p, kind, k).moved
            / (self.mem_bytes_per_cycle_per_tbu * f64::from(k.max(1)));
        let collective = self.collective(&mean, task.dtype, &p, ring).cycles as f64;
        ExecCost { run: compute.max(memory).max(1.0), collective, load }
    }

    /// Expected cycles of one execution of `task` on `k` warm TBUs of `kind` side by side (its
    /// run and its collectives on [`CostModel::compact_ring`]): [`CostModel::expected_exec`]'s
    /// warm latency.
    pub fn expected_cycles(&self, task: &Task, kind: TbuKindId, k: u32) -> f64 {
        self.expected_exec(task, kind, k, &self.compact_ring(kind, k)).warm()
    }

    /// Bytes of one die's memory left for KV caches: the die's memory less the weights of every
    /// distinct LLM among `profiles` (each die holds every model, since a gang may form on any die).
    pub fn kv_capacity(&self, profiles: &[Profile]) -> f64 {
        let weights = crate::llm::distinct_weight_bytes(profiles.iter().filter_map(|p| p.llm.as_ref()));
        (self.machine.spec.die.memory_capacity_gib * f64::from(1u32 << 30) - weights).max(0.0)
    }

    /// KV cache bytes one execution of an LLM block holds at its longest, at its mean parameters:
    /// its context and generated tokens (decode), its prompt (prefill). 0 for other blocks.
    pub fn mean_kv_bytes(&self, task: &Task) -> f64 {
        let Some(m) = self.profile(task).llm else { return 0.0 };
        let kv = m.kv_bytes_per_token();
        match task.kernel.map(|d: &Dist, _| d.mean()) {
            Kernel::LlmDecode { tokens, context, .. } => (context + tokens) * kv,
            Kernel::LlmPrefill { tokens, .. } => tokens * kv,
            _ => 0.0,
        }
    }

    /// The batch an LLM block's executions are expected to share steps in when the machine is
    /// saturated: its `max_batch`, or as many of its mean sequences as `kv_capacity` holds (at
    /// least 1). 1 for blocks that do not batch.
    pub fn design_batch(&self, task: &Task, kv_capacity: f64) -> f64 {
        let Some(m) = self.profile(task).llm else { return 1.0 };
        let need = self.mean_kv_bytes(task);
        let fit = if need > 0.0 { (kv_capacity / need).floor() } else { f64::INFINITY };
        fit.min(f64::from(m.max_batch)).max(1.0)
    }

    /// Expected cycles of its gang's time one batched execution takes when it shares its steps
    /// with `batch - 1` others like it (its steps at that batch, over the batch), on `k` warm TBUs
    /// of `kind`, collectives on `ring`; for blocks that do not batch, [`CostModel::expected_exec`]'s
    /// warm latency.
    pub fn expected_share(&self, task: &Task, kind: TbuKindId, k: u32, batch: f64, ring: &Ring) -> f64 {
        let p = self.profile(task);
        let Some(m) = p.llm else { return self.expected_exec(task, kind, k, ring).warm() };
        let kv = m.kv_bytes_per_token();
        let b = batch.max(1.0);
        let streamed =
            (m.weight_bytes() - self.resident_per_shard(&p, kind, k) * f64::from(k.max(1))).max(0.0);
        let rate = self.ops_per_cycle(kind, k, false);
        let bw = self.mem_bytes_per_cycle_per_tbu * f64::from(k.max(1));
        let step = |tokens: f64, kv_read: f64, kv_write: f64| {
            let coll = self.step_collective(&m, tokens, ring).cycles as f64;
            (2.0 * m.params * tokens / rate).max((streamed + kv_read + kv_write) / bw) + coll
        };
        match task.kernel.map(|d: &Dist, _| d.mean()) {
            Kernel::LlmDecode { tokens, context, .. } => {
                let t = tokens.max(1.0);
                t * step(b, b * (context + t / 2.0) * kv, b * kv) / b
            }
            Kernel::LlmPrefill { tokens, .. } => step(b * tokens, 0.0, b * tokens * kv) / b,
            _ => unreachable!("only LLM kernels batch"),
        }
    }

    /// The resident state and model of a task block ([`Profile`]), at its mean parameters.
    pub fn profile(&self, task: &Task) -> Profile {
        Profile::of(task)
    }

    /// The largest working set `task` can have, in bytes: every parameter at its upper bound (its
    /// 99.9th percentile when unbounded).
    pub fn max_working_set(&self, task: &Task) -> f64 {
        let upper = task.kernel.map(|d: &Dist, _| d.upper());
        self.traffic(&upper, task.dtype, &Profile::NONE, TbuKindId(0), 1).working_set
    }

    /// The working set of `task` at its mean parameters, in bytes.
    pub fn mean_working_set(&self, task: &Task) -> f64 {
        let mean = task.kernel.map(|d: &Dist, _| d.mean());
        self.traffic(&mean, task.dtype, &Profile::NONE, TbuKindId(0), 1).working_set
    }

    /// The fewest TBUs of `kind` whose scratchpads together hold `task`'s working set at its mean
    /// parameters (1 when it fits one scratchpad; `delay` has no working set). The compiler caps
    /// it by the block's homes and one die; see `docs/compiler.md`, "Shards".
    pub fn shards_to_fit(&self, task: &Task, kind: TbuKindId) -> u64 {
        let pad = self.machine.kinds[kind].scratchpad_bytes().max(1) as f64;
        let k = (self.mean_working_set(task) / pad).ceil();
        if k.is_finite() && k >= 1.0 { k.min(u64::MAX as f64) as u64 } else { 1 }
    }

    /// A compact ring of `k` TBUs of `kind` (the first `k` of the kind, by ID): the collectives
    /// an execution is expected to pay when its shards sit side by side.
    pub fn compact_ring(&self, kind: TbuKindId, k: u32) -> Ring {
        let tbus: Vec<TbuId> = self.machine.tbus_of_kind(kind).take(k as usize).collect();
        Ring::new(self.machine, &tbus)
    }

    /// Cycles for a TBU of `kind` to load another task block's configuration.
    pub fn reconfig_cycles(&self, kind: TbuKindId) -> u64 {
        self.machine.kinds[kind].reconfig_cycles
    }

    /// Cycles for a CBU to execute one control block.
    pub fn control_cycles(&self) -> u64 {
        self.machine.spec.cluster.cbu.control_cycles
    }

    /// Cycles to move `bytes` over a route of `hops`: `bytes / bandwidth + hops x latency`, where
    /// the bandwidth is the slowest link's (inter-die links when the route crosses dies) and
    /// on-die and inter-die hops have their own latencies. Within one cluster (no hops) the data
    /// crosses the cluster's router once, at NoC bandwidth and no hop latency; zero bytes cost
    /// only the latency.
    pub fn transfer_cycles(&self, bytes: u64, hops: Hops) -> u64 {
        let s = &self.machine.spec;
        let (noc, inter) = (s.die.noc, s.package.inter_die);
        let bw = if hops.inter_die > 0 {
            noc.bytes_per_cycle.min(inter.bytes_per_cycle)
        } else {
            noc.bytes_per_cycle
        };
        bytes.div_ceil(u64::from(bw))
            + u64::from(hops.on_die) * u64::from(noc.hop_latency_cycles)
            + u64::from(hops.inter_die) * u64::from(inter.hop_latency_cycles)
    }

    /// Cycles for one control message ([`CONTROL_MESSAGE_BYTES`]) to travel `hops` on the control
    /// network.
    pub fn control_message_cycles(&self, hops: u32) -> u64 {
        let l = self.machine.spec.control_network;
        CONTROL_MESSAGE_BYTES.div_ceil(u64::from(l.bytes_per_cycle))
            + u64::from(hops) * u64::from(l.hop_latency_cycles)
    }

    /// Whole cycles of a time in seconds (rounded up).
    pub fn seconds_to_cycles(&self, seconds: f64) -> u64 {
        (seconds * self.machine.spec.clock_ghz * 1e9).ceil().max(0.0) as u64
    }
}
