//! LLM serving as accelerators and serving systems do it: iteration-level batching (Orca, OSDI
//! 2022; vLLM, SOSP 2023) with a KV cache.
//!
//! The executions of one `llm_prefill` or `llm_decode` block that run on one gang share *steps*.
//! A step serves every sequence in the batch at once: each decode sequence generates one token,
//! each prefill sequence processes its whole prompt. It reads the weights the gang does not hold
//! resident once, reads each decode sequence's KV cache and writes the new entries, and does
//! `2 x params` operations per token processed. Its cycles are a roofline over the gang's `k`
//! TBUs, plus two ring all-reduces of the activations per layer (Megatron-LM's tensor
//! parallelism, Shoeybi et al. 2019):
//!
//! ```text
//! step = ceil(max(2 P T / rate(k), (W_streamed + KV_read + KV_written) / (k B))) + 2 L all_reduce(T h b)
//! ```
//!
//! where `T` is the tokens processed in the step, `h` the hidden size, `L` the layers and `b` the
//! element width. The KV cache of one token is `2 L kv_heads head_dim b` bytes (keys and values of
//! every layer). `docs/hardware.md`, "LLM serving".

use octopus_owg::ir::LlmSpec;
use serde::{Deserialize, Serialize};

/// The default `max_batch` of an LLM block: vLLM's default `max_num_seqs` (256).
pub const DEFAULT_MAX_BATCH: u32 = 256;

/// The shape of one LLM: what the step and KV cache costs need.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LlmModel {
    /// Parameters (weights).
    pub params: f64,
    /// Transformer layers.
    pub layers: u32,
    /// Hidden (model) dimension.
    pub hidden: u32,
    /// Key-value heads (fewer than the query heads with grouped-query attention).
    pub kv_heads: u32,
    /// Dimension of one head.
    pub head_dim: u32,
    /// Bytes per element (weights, activations, KV cache).
    pub bytes: u32,
    /// Sequences one batch holds at most.
    pub max_batch: u32,
}

impl LlmModel {
    /// The shape a model of `params` parameters has when the workflow does not say: a dense
    /// transformer with `params = 12 L h^2` (attention `4 h^2` and an MLP of `8 h^2` per layer)
    /// and `h = 128 L` (Llama-2-7B: 32 layers of 4096; 13B: 40 of 5120), so
    /// `L = (params / (12 x 128^2))^(1/3)`, with multi-head attention (`kv_heads x head_dim = h`)
    /// and heads of 128.
    pub fn default_shape(params: f64, bytes: u32) -> LlmModel {
        let layers = (params.max(1.0) / (12.0 * 128.0 * 128.0)).cbrt().round().max(1.0) as u32;
        let hidden = 128 * layers;
        LlmModel {
            params,
            layers,
            hidden,
            kv_heads: layers,
            head_dim: 128,
            bytes,
            max_batch: DEFAULT_MAX_BATCH,
        }
    }

    /// The model of an LLM block: the shape its file gives, the rest from
    /// [`LlmModel::default_shape`] (`kv_heads` defaults to `hidden / head_dim`: multi-head
    /// attention), and `max_batch` [`DEFAULT_MAX_BATCH`] when left out.
    pub fn of(params: f64, bytes: u32, spec: &LlmSpec) -> LlmModel {
        let d = LlmModel::default_shape(params, bytes);
        let layers = spec.layers.unwrap_or(d.layers).max(1);
        let hidden = spec.hidden.unwrap_or(d.hidden).max(1);
        let head_dim = spec.head_dim.unwrap_or(d.head_dim).max(1);
        let kv_heads = spec.kv_heads.unwrap_or((hidden / head_dim).max(1)).max(1);
        LlmModel {
            params,
            layers,
            hidden,
            kv_heads,
            head_dim,
            bytes,
            max_batch: spec.max_batch.unwrap_or(DEFAULT_MAX_BATCH).max(1),
        }
    }

    /// Bytes of weights.
    pub fn weight_bytes(&self) -> f64 {
        self.params * f64::from(self.bytes)
    }

    /// Bytes of KV cache per token: keys and values of every layer.
    pub fn kv_bytes_per_token(&self) -> f64 {
        2.0 * f64::from(self.layers)
            * f64::from(self.kv_heads)
            * f64::from(self.head_dim)
            * f64::from(self.bytes)
    }

    /// Bytes of one all-reduce of the activations of `tokens` tokens (`tokens x hidden x b`).
    pub fn activation_bytes(&self, tokens: f64) -> u64 {
        (tokens * f64::from(self.hidden) * f64::from(self.bytes)).ceil() as u64
    }

    /// Whether `other` is the same model (the same shape): blocks of one model share its weights.
    pub fn same(&self, other: &LlmModel) -> bool {
        self.params == other.params
            && self.layers == other.layers
            && self.hidden == other.hidden
            && self.kv_heads == other.kv_heads
            && self.head_dim == other.head_dim
            && self.bytes == other.bytes
    }

    /// All-reduces per step: two per layer (after attention and after the MLP).
    pub fn all_reduces_per_step(&self) -> u64 {
        2 * u64::from(self.layers)
    }
}

/// What one step of a batch processes, summed over its sequences.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepLoad {
    /// Tokens processed: one per decode sequence, the prompt of each prefill sequence.
    pub tokens: f64,
    /// KV cache bytes read (each decode sequence's cache so far).
    pub kv_read: f64,
    /// KV cache bytes written (the entries of the tokens processed).
    pub kv_write: f64,
}

/// Bytes of weights of the distinct models among `models` (each counted once).
pub fn distinct_weight_bytes<'a>(models: impl IntoIterator<Item = &'a LlmModel>) -> f64 {
    let mut seen: Vec<&LlmModel> = Vec::new();
    for m in models {
        if !seen.iter().any(|x| x.same(m)) {
            seen.push(m);
        }
    }
    seen.iter().map(|m| m.weight_bytes()).sum()
}
