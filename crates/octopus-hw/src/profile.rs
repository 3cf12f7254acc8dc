//! What a task block keeps on the TBUs configured for it, and how its LLM executions batch: its
//! [`Profile`], derived once per block from the IR at its mean parameters.

use octopus_owg::dist::Dist;
use octopus_owg::ir::{Kernel, Task};

use crate::llm::LlmModel;

/// The resident state of a task block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Profile {
    /// Bytes of weights, at the block's mean parameters: a `conv2d`'s filters, an LLM's
    /// parameters; nothing for the other kernels.
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
        match mean {
            Kernel::Conv2d { cin, cout, kernel, .. } => {
                Profile { weights: cin * cout * kernel * kernel * b, llm: None }
            }
            Kernel::LlmPrefill { params, .. } | Kernel::LlmDecode { params, .. } => Profile {
                weights: params * b,
                llm: Some(LlmModel::default_shape(params, task.dtype.bytes())),
            },
            _ => Profile::NONE,
        }
    }

    /// Whether executions of the block share batch steps (an LLM block).
    pub fn batched(&self) -> bool {
        self.llm.is_some()
    }
}
