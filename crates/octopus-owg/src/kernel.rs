//! The kernel catalogue: every kernel a task block can run ([`Kernel`], [`KernelKind`]), the
//! parameters each takes ([`ParamSpec`]: name, dimension, default, docs), and what the rest of the
//! pipeline asks of a kernel: its operation count as a monomial of its parameters (exact moments),
//! a concrete instance drawn from its distributions, and that instance's operations.
//!
//! Re-exported from [`crate::ir`], where task blocks hold a `Kernel<Dist>`.

use serde::{Deserialize, Serialize};

use crate::dist::Dist;
use crate::ir::Dimension;

/// A kernel with parameters of type `P`: [`Dist`] in the IR (what the user wrote), `f64` once a
/// run has drawn a concrete instance (see [`Kernel::sample`]).
///
/// Every parameter is in base units: counts are plain numbers, sizes are bytes, times are seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kernel<P> {
    /// Matrix multiply `[m x k] * [k x n]`.
    Gemm {
        /// Rows of the left operand and of the result.
        m: P,
        /// Columns of the right operand and of the result.
        n: P,
        /// The shared (reduction) dimension.
        k: P,
    },
    /// 2-D convolution, `same` padding: output is `h/stride x w/stride x cout`.
    Conv2d {
        /// Input height.
        h: P,
        /// Input width.
        w: P,
        /// Input channels.
        cin: P,
        /// Output channels.
        cout: P,
        /// Square kernel size.
        kernel: P,
        /// Stride (a constant).
        stride: P,
    },
    /// Multi-head self-attention over a sequence: `QK^T` and `PV`.
    Attention {
        /// Sequence length.
        seq: P,
        /// Number of heads.
        heads: P,
        /// Dimension of one head.
        dim: P,
    },
    /// LLM prompt processing: all prompt tokens in one pass over the weights.
    LlmPrefill {
        /// Model parameters (weights).
        params: P,
        /// Prompt tokens.
        tokens: P,
    },
    /// LLM generation: one pass over the weights per generated token.
    LlmDecode {
        /// Model parameters (weights).
        params: P,
        /// Generated tokens.
        tokens: P,
        /// Context length (prompt plus history) the KV cache holds.
        context: P,
    },
    /// Elementwise map over a tensor (activation, normalisation, NMS scoring).
    Elementwise {
        /// Elements.
        elems: P,
        /// Operations per element.
        ops_per_elem: P,
    },
    /// Reduction of a tensor to a scalar or a row (sum, max, top-k).
    Reduce {
        /// Elements read.
        elems: P,
    },
    /// General computation (tool calls, parsing, search, tracking): an operation count that a PEA
    /// runs at a lower efficiency than AI kernels.
    Compute {
        /// Operations.
        ops: P,
        /// Bytes of memory traffic.
        bytes: P,
    },
    /// A fixed duration, whatever the hardware: a measured runtime from a trace.
    Delay {
        /// Seconds.
        time: P,
    },
}

/// Which kernel, without its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KernelKind {
    /// [`Kernel::Gemm`].
    Gemm,
    /// [`Kernel::Conv2d`].
    Conv2d,
    /// [`Kernel::Attention`].
    Attention,
    /// [`Kernel::LlmPrefill`].
    LlmPrefill,
    /// [`Kernel::LlmDecode`].
    LlmDecode,
    /// [`Kernel::Elementwise`].
    Elementwise,
    /// [`Kernel::Reduce`].
    Reduce,
    /// [`Kernel::Compute`].
    Compute,
    /// [`Kernel::Delay`].
    Delay,
}

/// The declaration of one kernel parameter: what `.owg` files may write.
#[derive(Clone, Copy, Debug)]
pub struct ParamSpec {
    /// Its name in `.owg` files.
    pub name: &'static str,
    /// Its dimension.
    pub dimension: Dimension,
    /// Whether values are whole numbers (samples are rounded).
    pub integer: bool,
    /// The value when omitted; `None` makes it required.
    pub default: Option<f64>,
    /// Whether it must be a constant rather than a distribution.
    pub constant: bool,
    /// One line for the docs and for `help` texts.
    pub doc: &'static str,
}

const fn req(name: &'static str, dimension: Dimension, integer: bool, doc: &'static str) -> ParamSpec {
    ParamSpec { name, dimension, integer, default: None, constant: false, doc }
}

const fn opt(
    name: &'static str,
    dimension: Dimension,
    integer: bool,
    default: f64,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec { name, dimension, integer, default: Some(default), constant: false, doc }
}

use Dimension::{Bytes, Count, Time};

static GEMM: [ParamSpec; 3] = [
    req("m", Count, true, "rows of the left operand"),
    req("n", Count, true, "columns of the right operand"),
    req("k", Count, true, "shared (reduction) dimension"),
];
static CONV2D: [ParamSpec; 6] = [
    req("h", Count, true, "input height"),
    req("w", Count, true, "input width"),
    req("cin", Count, true, "input channels"),
    req("cout", Count, true, "output channels"),
    opt("kernel", Count, true, 3.0, "square kernel size"),
    ParamSpec {
        name: "stride",
        dimension: Count,
        integer: true,
        default: Some(1.0),
        constant: true,
        doc: "stride (a constant)",
    },
];
static ATTENTION: [ParamSpec; 3] = [
    req("seq", Count, true, "sequence length"),
    req("heads", Count, true, "number of heads"),
    opt("dim", Count, true, 128.0, "dimension of one head"),
];
static LLM_PREFILL: [ParamSpec; 2] =
    [req("params", Count, false, "model parameters"), req("tokens", Count, true, "prompt tokens")];
static LLM_DECODE: [ParamSpec; 3] = [
    req("params", Count, false, "model parameters"),
    req("tokens", Count, true, "generated tokens"),
    opt("context", Count, true, 0.0, "context tokens held in the KV cache"),
];
static ELEMENTWISE: [ParamSpec; 2] =
    [req("elems", Count, true, "elements"), opt("ops_per_elem", Count, false, 1.0, "operations per element")];
static REDUCE: [ParamSpec; 1] = [req("elems", Count, true, "elements read")];
static COMPUTE: [ParamSpec; 2] =
    [req("ops", Count, false, "operations"), opt("bytes", Bytes, false, 0.0, "bytes of memory traffic")];
static DELAY: [ParamSpec; 1] = [req("time", Time, false, "fixed duration")];

impl KernelKind {
    /// Every kernel, in documentation order.
    pub const ALL: [KernelKind; 9] = [
        KernelKind::Gemm,
        KernelKind::Conv2d,
        KernelKind::Attention,
        KernelKind::LlmPrefill,
        KernelKind::LlmDecode,
        KernelKind::Elementwise,
        KernelKind::Reduce,
        KernelKind::Compute,
        KernelKind::Delay,
    ];

    /// Its name in `.owg` files.
    pub fn name(self) -> &'static str {
        match self {
            KernelKind::Gemm => "gemm",
            KernelKind::Conv2d => "conv2d",
            KernelKind::Attention => "attention",
            KernelKind::LlmPrefill => "llm_prefill",
            KernelKind::LlmDecode => "llm_decode",
            KernelKind::Elementwise => "elementwise",
            KernelKind::Reduce => "reduce",
            KernelKind::Compute => "compute",
            KernelKind::Delay => "delay",
        }
    }

    /// Parses a kernel name.
    pub fn from_name(name: &str) -> Option<KernelKind> {
        KernelKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Its parameters, in the order [`Kernel::from_params`] takes them.
    pub fn params(self) -> &'static [ParamSpec] {
        match self {
            KernelKind::Gemm => &GEMM,
            KernelKind::Conv2d => &CONV2D,
            KernelKind::Attention => &ATTENTION,
            KernelKind::LlmPrefill => &LLM_PREFILL,
            KernelKind::LlmDecode => &LLM_DECODE,
            KernelKind::Elementwise => &ELEMENTWISE,
            KernelKind::Reduce => &REDUCE,
            KernelKind::Compute => &COMPUTE,
            KernelKind::Delay => &DELAY,
        }
    }

    /// Whether this is an AI kernel (runs at the PEA's full efficiency) rather than general compute.
    pub fn is_ai(self) -> bool {
        !matches!(self, KernelKind::Compute | KernelKind::Delay)
    }
}

impl<P> Kernel<P> {
    /// Which kernel this is.
    pub fn kind(&self) -> KernelKind {
        match self {
            Kernel::Gemm { .. } => KernelKind::Gemm,
            Kernel::Conv2d { .. } => KernelKind::Conv2d,
            Kernel::Attention { .. } => KernelKind::Attention,
            Kernel::LlmPrefill { .. } => KernelKind::LlmPrefill,
            Kernel::LlmDecode { .. } => KernelKind::LlmDecode,
            Kernel::Elementwise { .. } => KernelKind::Elementwise,
            Kernel::Reduce { .. } => KernelKind::Reduce,
            Kernel::Compute { .. } => KernelKind::Compute,
            Kernel::Delay { .. } => KernelKind::Delay,
        }
    }

    /// Builds a kernel from its parameters in the order of [`KernelKind::params`].
    ///
    /// # Panics
    /// When `params` has the wrong length: the caller checked it against the spec.
    pub fn from_params(kind: KernelKind, params: Vec<P>) -> Kernel<P> {
        assert_eq!(params.len(), kind.params().len(), "wrong parameter count for {}", kind.name());
        let mut it = params.into_iter();
        let mut next = || it.next().expect("length checked above");
        match kind {
            KernelKind::Gemm => Kernel::Gemm { m: next(), n: next(), k: next() },
            KernelKind::Conv2d => Kernel::Conv2d {
                h: next(),
                w: next(),
                cin: next(),
                cout: next(),
                kernel: next(),
                stride: next(),
            },
            KernelKind::Attention => Kernel::Attention { seq: next(), heads: next(), dim: next() },
            KernelKind::LlmPrefill => Kernel::LlmPrefill { params: next(), tokens: next() },
            KernelKind::LlmDecode => Kernel::LlmDecode { params: next(), tokens: next(), context: next() },
            KernelKind::Elementwise => Kernel::Elementwise { elems: next(), ops_per_elem: next() },
            KernelKind::Reduce => Kernel::Reduce { elems: next() },
            KernelKind::Compute => Kernel::Compute { ops: next(), bytes: next() },
            KernelKind::Delay => Kernel::Delay { time: next() },
        }
    }

    /// The parameters in the order of [`KernelKind::params`].
    pub fn params(&self) -> Vec<&P> {
        match self {
            Kernel::Gemm { m, n, k } => vec![m, n, k],
            Kernel::Conv2d { h, w, cin, cout, kernel, stride } => vec![h, w, cin, cout, kernel, stride],
            Kernel::Attention { seq, heads, dim } => vec![seq, heads, dim],
            Kernel::LlmPrefill { params, tokens } => vec![params, tokens],
            Kernel::LlmDecode { params, tokens, context } => vec![params, tokens, context],
            Kernel::Elementwise { elems, ops_per_elem } => vec![elems, ops_per_elem],
            Kernel::Reduce { elems } => vec![elems],
            Kernel::Compute { ops, bytes } => vec![ops, bytes],
            Kernel::Delay { time } => vec![time],
        }
    }

    /// The same kernel with every parameter mapped through `f`.
    pub fn map<Q>(&self, mut f: impl FnMut(&P, &ParamSpec) -> Q) -> Kernel<Q> {
        let specs = self.kind().params();
        let mapped = self.params().into_iter().zip(specs).map(|(p, s)| f(p, s)).collect();
        Kernel::from_params(self.kind(), mapped)
    }

    /// Operations of one execution as a monomial `coef * prod(param^power)`, so that exact moments
    /// follow from the parameters' raw moments (parameters are independent).
    /// `Delay` has no operations (`coef` 0).
    pub fn ops_monomial(&self) -> (f64, Vec<(&P, i32)>) {
        match self {
            Kernel::Gemm { m, n, k } => (2.0, vec![(m, 1), (n, 1), (k, 1)]),
            // Output pixels h*w/stride^2, each cin*cout*kernel^2 multiply-adds; stride is a constant.
            Kernel::Conv2d { h, w, cin, cout, kernel, stride } => {
                (2.0, vec![(h, 1), (w, 1), (cin, 1), (cout, 1), (kernel, 2), (stride, -2)])
            }
            // QK^T and PV: two seq x seq x dim products per head.
            Kernel::Attention { seq, heads, dim } => (4.0, vec![(seq, 2), (heads, 1), (dim, 1)]),
            Kernel::LlmPrefill { params, tokens } | Kernel::LlmDecode { params, tokens, .. } => {
                (2.0, vec![(params, 1), (tokens, 1)])
            }
            Kernel::Elementwise { elems, ops_per_elem } => (1.0, vec![(elems, 1), (ops_per_elem, 1)]),
            Kernel::Reduce { elems } => (1.0, vec![(elems, 1)]),
            Kernel::Compute { ops, .. } => (1.0, vec![(ops, 1)]),
            Kernel::Delay { time } => (0.0, vec![(time, 1)]),
        }
    }
}

impl Kernel<f64> {
    /// Operations of this concrete instance: [`Kernel::ops_monomial`] evaluated, factor by factor
    /// in its order (so the result is the same to the bit), without its vector: the simulator
    /// calls this for every task it runs.
    pub fn ops(&self) -> f64 {
        let f = |acc: f64, x: f64, p: i32| acc * x.powi(p);
        match *self {
            Kernel::Gemm { m, n, k } => f(f(f(2.0, m, 1), n, 1), k, 1),
            Kernel::Conv2d { h, w, cin, cout, kernel, stride } => {
                f(f(f(f(f(f(2.0, h, 1), w, 1), cin, 1), cout, 1), kernel, 2), stride, -2)
            }
            Kernel::Attention { seq, heads, dim } => f(f(f(4.0, seq, 2), heads, 1), dim, 1),
            Kernel::LlmPrefill { params, tokens } | Kernel::LlmDecode { params, tokens, .. } => {
                f(f(2.0, params, 1), tokens, 1)
            }
            Kernel::Elementwise { elems, ops_per_elem } => f(f(1.0, elems, 1), ops_per_elem, 1),
            Kernel::Reduce { elems } => f(1.0, elems, 1),
            Kernel::Compute { ops, .. } => f(1.0, ops, 1),
            Kernel::Delay { time } => f(0.0, time, 1),
        }
    }
}

impl Kernel<Dist> {
    /// Draws a concrete instance: every parameter sampled independently.
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> Kernel<f64> {
        self.map(|d, spec| d.sample(rng, spec.integer))
    }
}
