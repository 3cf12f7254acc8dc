//! The cost model: cycles of every kernel on k TBUs, of reconfiguration, of control blocks and of
//! transfers. Formulas and their sources are in `docs/hardware.md`, section "Cost model".

use octopus_owg::dist::Dist;
use octopus_owg::ir::{DType, Kernel, Task};

use crate::machine::{Hops, Machine, TbuKindId};

/// Bytes of one control message (request ID, block ID, a count or branch choice, a target
/// cluster): our assumption, see `docs/hardware.md`.
pub const CONTROL_MESSAGE_BYTES: u64 = 16;

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

    /// Working set and memory traffic of one execution on `k` TBUs of `kind`.
    ///
    /// What fits in the `k` scratchpads is read once; what does not streams from off-chip memory:
    /// tiled GEMM and convolution re-read operand tiles (Hong and Kung's I/O bound with square tiles),
    /// attention re-reads K and V once per block of queries (FlashAttention's schedule), LLM decode
    /// re-reads the non-resident weights once per generated token.
    pub fn traffic(&self, kernel: &Kernel<f64>, dtype: DType, kind: TbuKindId, k: u32) -> Traffic {
        let b = f64::from(dtype.bytes());
        let s = (self.machine.kinds[kind].scratchpad_bytes() * u64::from(k.max(1))) as f64;
        // Square tiles of the three GEMM operands filling the scratchpad: side sqrt(S / 3b) elements.
        let gemm = |m: f64, n: f64, kk: f64, ws: f64| {
            if ws <= s {
                ws
            } else {
                let t = (s / (3.0 * b)).sqrt().max(1.0);
                (2.0 * m * n * kk * b / t + m * n * b).max(ws)
            }
        };
        let (working_set, moved) = match *kernel {
            Kernel::Gemm { m, n, k: kk } => {
                let ws = (m * kk + kk * n + m * n) * b;
                (ws, gemm(m, n, kk, ws))
            }
            Kernel::Conv2d { h, w, cin, cout, kernel, stride } => {
                let out = (h / stride) * (w / stride);
                let ws = (h * w * cin + cin * cout * kernel * kernel + out * cout) * b;
                (ws, gemm(out, cout, cin * kernel * kernel, ws))
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
            Kernel::LlmPrefill { params, .. } => (params * b, params * b),
            Kernel::LlmDecode { params, tokens, .. } => {
                let ws = params * b;
                let moved = if ws <= s { ws } else { ws + (ws - s) * (tokens - 1.0).max(0.0) };
                (ws, moved)
            }
            Kernel::Elementwise { elems, .. } => (2.0 * elems * b, 2.0 * elems * b),
            Kernel::Reduce { elems } => (elems * b, elems * b),
            Kernel::Compute { bytes, .. } => (bytes, bytes),
            Kernel::Delay { .. } => (0.0, 0.0),
        };
        Traffic { working_set, moved }
    }

    /// Cycles of one execution of `kernel` on `k` TBUs of `kind`: the roofline
    /// `max(ops / rate, bytes moved / bandwidth)`, at least one cycle; `delay` is its time in cycles.
    pub fn task_cycles(&self, kernel: &Kernel<f64>, dtype: DType, kind: TbuKindId, k: u32) -> u64 {
        if let Kernel::Delay { time } = *kernel {
            return self.seconds_to_cycles(time);
        }
        let general = !kernel.kind().is_ai();
        let compute = kernel.ops() / self.ops_per_cycle(kind, k, general);
        let memory = self.traffic(kernel, dtype, kind, k).moved
            / (self.mem_bytes_per_cycle_per_tbu * f64::from(k.max(1)));
        (compute.max(memory).ceil() as u64).max(1)
    }

    /// Expected cycles of one execution of `task` on `k` TBUs of `kind` (its shards, see
    /// [`CostModel::shards_to_fit`]).
    ///
    /// The compute term is exact: operations are a monomial of independent parameters, so their
    /// mean follows from the parameters' raw moments. The memory term is evaluated at the mean
    /// parameters, which is exact where traffic is linear in the random parameters (LLM decode and
    /// prefill, elementwise, reduce, compute) and a first-order approximation elsewhere. The result
    /// is `max` of the two means, a lower bound of the mean of the `max` (Jensen).
    pub fn expected_task_cycles(&self, task: &Task, kind: TbuKindId, k: u32) -> f64 {
        if let Kernel::Delay { time } = &task.kernel {
            return time.mean() * self.machine.spec.clock_ghz * 1e9;
        }
        let (coef, factors) = task.kernel.ops_monomial();
        let ops = factors.into_iter().fold(coef, |acc, (d, p)| acc * d.raw_moment(p));
        let compute = ops / self.ops_per_cycle(kind, k, !task.kernel.kind().is_ai());
        let mean = task.kernel.map(|d: &Dist, _| d.mean());
        let memory = self.traffic(&mean, task.dtype, kind, k).moved
            / (self.mem_bytes_per_cycle_per_tbu * f64::from(k.max(1)));
        compute.max(memory).max(1.0)
    }

    /// The largest working set `task` can have, in bytes: every parameter at its upper bound (its
    /// 99.9th percentile when unbounded).
    pub fn max_working_set(&self, task: &Task) -> f64 {
        let upper = task.kernel.map(|d: &Dist, _| d.upper());
        self.traffic(&upper, task.dtype, TbuKindId(0), 1).working_set
    }

    /// The working set of `task` at its mean parameters, in bytes.
    pub fn mean_working_set(&self, task: &Task) -> f64 {
        let mean = task.kernel.map(|d: &Dist, _| d.mean());
        self.traffic(&mean, task.dtype, TbuKindId(0), 1).working_set
    }

    /// The fewest TBUs of `kind` whose scratchpads together hold `task`'s working set at its mean
    /// parameters (1 when it fits one scratchpad; `delay` has no working set). The compiler caps
    /// it by the block's homes and one die; see `docs/compiler.md`, "Shards".
    pub fn shards_to_fit(&self, task: &Task, kind: TbuKindId) -> u64 {
        let pad = self.machine.kinds[kind].scratchpad_bytes().max(1) as f64;
        let k = (self.mean_working_set(task) / pad).ceil();
        if k.is_finite() && k >= 1.0 { k.min(u64::MAX as f64) as u64 } else { 1 }
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
