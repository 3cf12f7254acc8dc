//! Memory accounting (`docs/compiler.md`, rule 9): the weights of every distinct model and every
//! block's resident bytes against one die's memory, the KV cache left beside them, and the batch
//! each LLM block can expect at saturation.

use octopus_hw::{CostModel, Machine};
use octopus_owg::dist::Dist;
use octopus_owg::ir::{BlockId, Kernel, SourceMap, Workflow};

use crate::error::CompileError;
use crate::place::human_bytes;
use crate::plan::{LlmMemory, MemoryReport};

/// Checks that the weights fit one die's memory and that one sequence of each LLM block fits
/// beside them; returns the memory report.
pub(crate) fn check(
    workflow: &Workflow,
    tasks: &[BlockId],
    spans: Option<&SourceMap>,
    machine: &Machine,
    cost: &CostModel<'_>,
) -> Result<MemoryReport, Vec<CompileError>> {
    let span = |b: BlockId| spans.and_then(|s| s.blocks.get(b)).map(|&s| s.into());
    let die_bytes = machine.spec.die.memory_capacity_gib * f64::from(1u32 << 30);
    let profiles: Vec<_> =
        tasks.iter().map(|&b| cost.profile(workflow.blocks[b].task().expect("a task"))).collect();
    // Distinct models once (the first block of each names it), every other block's resident bytes.
    let mut parts: Vec<(f64, BlockId)> = Vec::new();
    for (i, p) in profiles.iter().enumerate() {
        match &p.llm {
            Some(m) => {
                let seen = profiles[..i].iter().any(|q| q.llm.is_some_and(|x| x.same(m)));
                if !seen {
                    parts.push((m.weight_bytes(), tasks[i]));
                }
            }
            None if p.weights > 0.0 => parts.push((p.weights, tasks[i])),
            None => {}
        }
    }
    let weights: f64 = parts.iter().map(|p| p.0).sum();
    if weights > die_bytes {
        parts.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let list: Vec<String> = parts
            .iter()
            .take(4)
            .map(|&(w, b)| format!("`{}` {}", workflow.blocks[b].name, human_bytes(w)))
            .collect();
        return Err(vec![CompileError::WeightsDoNotFit {
            needed: human_bytes(weights),
            available: human_bytes(die_bytes),
            hardware: machine.name().to_owned(),
            parts: list.join(", "),
            span: span(parts[0].1),
        }]);
    }
    let kv_capacity = cost.kv_capacity(&profiles);
    let mut llm = Vec::new();
    let mut errors = Vec::new();
    for (i, p) in profiles.iter().enumerate() {
        let Some(m) = p.llm else { continue };
        let b = tasks[i];
        let task = workflow.blocks[b].task().expect("a task");
        let upper = task.kernel.map(|d: &Dist, _| d.upper());
        let longest = m.kv_bytes_per_token()
            * match upper {
                Kernel::LlmDecode { context, tokens, .. } => context + tokens,
                Kernel::LlmPrefill { tokens, .. } => tokens,
                _ => 0.0,
            };
        if longest > kv_capacity {
            errors.push(CompileError::KvDoesNotFit {
                name: workflow.blocks[b].name.clone(),
                needed: human_bytes(longest),
                available: human_bytes(kv_capacity),
                hardware: machine.name().to_owned(),
                span: span(b),
            });
        }
        llm.push(LlmMemory {
            block: b,
            name: workflow.blocks[b].name.clone(),
            kv_bytes_mean: cost.mean_kv_bytes(task),
            max_batch: m.max_batch,
            design_batch: cost.design_batch(task, kv_capacity),
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(MemoryReport { die_bytes, weights_bytes: weights, kv_capacity_bytes: kv_capacity, llm })
}
