//! What a task block keeps on the TBUs configured for it, and how its LLM executions batch: its
//! [`Profile`], derived once per block from the IR at its mean parameters.

use octopus_owg::dist::Dist;
use octopus_owg::ir::{BlockId, Kernel, Resident, Task, Workflow};

use crate::llm::LlmModel;

/// The resident state of a task block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Profile {
    /// Bytes of weights, at the block's mean parameters: a `conv2d`'s filters, an LLM's
    /// parameters, a `gemm`'s right operand when marked `weights = true`, or the block's explicit
    /// `resident = SIZE`; nothing for the other kernels.
    pub weights: f64,
    /// For `llm_prefill` and `llm_decode`: the model, whose executions batch.
    pub llm: Option<LlmModel>,
}

impl Profile {
    /// Nothing resident, no model.
    pub const NONE: Profile = Profile { weights: 0.0, llm: None };

    /// The profile of a task block.
    pub fn of(task: &Task) -> Profile {
        let b = f64::from(task.dtype.bytes());
        let mean = task.kernel.map(|d: &Dist, _| d.mean());
        let implied = match mean {
            Kernel::Conv2d { cin, cout, kernel, .. } => cin * cout * kernel * kernel * b,
            Kernel::LlmPrefill { params, .. } | Kernel::LlmDecode { params, .. } => params * b,
            Kernel::Gemm { n, k, .. } if task.resident == Resident::GemmWeights => k * n * b,
            _ => 0.0,
        };
        let weights = match task.resident {
            Resident::Bytes(x) => x,
            _ => implied,
        };
        let llm = match mean {
            Kernel::LlmPrefill { params, .. } | Kernel::LlmDecode { params, .. } => {
                Some(LlmModel::of(params, task.dtype.bytes(), &task.llm))
            }
            _ => None,
        };
        Profile { weights, llm }
    }

    /// Whether executions of the block share batch steps (an LLM block).
    pub fn batched(&self) -> bool {
        self.llm.is_some()
    }
}

/// Per block of `workflow`, the block whose configuration, weights and batches it shares: for an
/// `llm_prefill` or `llm_decode` block, the first block of the same model ([`LlmModel::same`]) and
/// the same kernel (prefill or decode) — one serving instance per model and phase —; itself for
/// every other block.
pub fn batch_groups(workflow: &Workflow) -> Vec<BlockId> {
    let mut groups: Vec<BlockId> = Vec::with_capacity(workflow.blocks.len());
    let mut models: Vec<(BlockId, octopus_owg::ir::KernelKind, LlmModel)> = Vec::new();
    for (b, block) in workflow.blocks.iter_enumerated() {
        let mut group = b;
        if let Some(task) = block.task()
            && let Some(m) = Profile::of(task).llm
        {
            let kind = task.kernel.kind();
            match models.iter().find(|(_, k, x)| *k == kind && x.same(&m) && x.max_batch == m.max_batch) {
                Some(&(first, _, _)) => group = first,
                None => models.push((b, kind, m)),
            }
        }
        groups.push(group);
    }
    groups
}
