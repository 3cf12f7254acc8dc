//! The lower bounds of a run's draws for LLM executions, whose cost depends on the batch they
//! share steps with: their latency alone (for the critical path) and their share of TBU time in
//! the best batch (for the work bound). `docs/schedulers.md`, "Metrics".

use octopus_hw::{CostModel, LlmModel, Profile, StepLoad, TbuKindId};
use octopus_owg::index::Idx;
use octopus_owg::ir::{BlockId, Kernel};

use crate::Cycle;
use crate::metrics::Accum;
use crate::state::Env;

/// Cycles of an LLM execution alone in its batch, on `k` warm TBUs of `kind`, without its
/// collectives: no batch runs it faster (a step costs more with more sequences in it).
pub(crate) fn alone_cycles(
    cost: &CostModel<'_>,
    m: &LlmModel,
    p: &Profile,
    kernel: &Kernel<f64>,
    kind: TbuKindId,
    k: u32,
) -> Cycle {
    let kv = m.kv_bytes_per_token();
    match *kernel {
        Kernel::LlmPrefill { tokens, .. } => {
            cost.step_cycles(m, p, kind, k, &StepLoad { tokens, kv_read: 0.0, kv_write: tokens * kv })
        }
        Kernel::LlmDecode { tokens, context, .. } => {
            let n = tokens.max(1.0).round() as u64;
            (0..n)
                .map(|j| {
                    let load = StepLoad { tokens: 1.0, kv_read: (context + j as f64) * kv, kv_write: kv };
                    cost.step_cycles(m, p, kind, k, &load)
                })
                .sum()
        }
        _ => unreachable!("only LLM kernels batch"),
    }
}

/// Adds an LLM execution's share of TBU time to its block's two work bounds: its operations at
/// the gang's rate, and its bytes at the gang's bandwidth with the streamed weights shared by a
/// full batch (`max_batch` sequences per step). A step costs at least the larger of its
/// sequences' summed operations and summed bytes, so each sum bounds the block's TBU time.
pub(crate) fn add_batched(
    acc: &mut Accum,
    env: &Env<'_>,
    block: BlockId,
    m: &LlmModel,
    kernel: &Kernel<f64>,
    k: u32,
) {
    let cost = env.cost;
    let p = &env.profile[block.index()];
    let kv = m.kv_bytes_per_token();
    let (tokens, steps, kv_bytes) = match *kernel {
        Kernel::LlmPrefill { tokens, .. } => (tokens, 1.0, tokens * kv),
        Kernel::LlmDecode { tokens, context, .. } => {
            let n = tokens.max(1.0).round();
            (n, n, kv * (n * (context + 1.0) + n * (n - 1.0) / 2.0))
        }
        _ => unreachable!("only LLM kernels batch"),
    };
    let kf = f64::from(k.max(1));
    let bw = cost.memory_bytes_per_cycle_per_tbu();
    let (mut compute, mut memory) = (f64::INFINITY, f64::INFINITY);
    for kind in env.machine.kinds.indices() {
        compute = compute.min(kf * 2.0 * m.params * tokens / cost.ops_per_cycle(kind, k, false));
        let streamed = (m.weight_bytes() - cost.resident_per_shard(p, kind, k) * kf).max(0.0);
        memory = memory.min((streamed * steps / f64::from(m.max_batch.max(1)) + kv_bytes) / bw);
    }
    let w = &mut acc.batched[block.index()];
    w.0 += compute;
    w.1 += memory;
}
