//! Task blocks: a `task` statement's kernel call, its parameters bound to the kernel's
//! catalogue entry, its element type, and the shape and magnitude checks of the whole kernel.

use crate::diagnostics::{Kind, num};
use crate::dist::Dist;
use crate::ir::{DType, Dimension, Kernel, KernelKind, LlmSpec, Resident, Task};
use crate::parser::{Arg, Call, Name, Value};

use super::Cx;
use super::names::{Quoted, list, suggest};
use super::numbers::Param;

impl Cx<'_, '_> {
    /// The task of `task NAME = KERNEL(ARGS)`.
    pub(super) fn task(&mut self, name: &Name<'_>, call: &Call<'_>) -> Option<Task> {
        let kind = self.kernel_kind(call)?;
        let specs = kind.params();
        let owner = Quoted("kernel ", kind.name());
        let mut names: Vec<&str> = specs.iter().map(|s| s.name).collect();
        let attrs = attributes(kind);
        names.push("dtype");
        names.extend_from_slice(attrs);
        let (slots, rejected) = self.bind(&call.args, &names, specs.len(), &owner);
        let mut params = Vec::with_capacity(specs.len());
        let mut ok = true;
        for (spec, slot) in specs.iter().zip(&slots) {
            let d = match slot {
                Some(arg) => {
                    let allow_zero = spec.default == Some(0.0);
                    let p = Param {
                        name: spec.name,
                        dimension: spec.dimension,
                        integer: spec.integer,
                        allow_zero,
                        constant: spec.constant,
                    };
                    self.dist(&arg.value, p)
                }
                None => match spec.default {
                    Some(d) => Some(Dist::Const(d)),
                    None => {
                        self.missing(rejected, call.name.span, spec.name, &owner, spec.doc);
                        None
                    }
                },
            };
            match d {
                Some(d) => params.push(d),
                None => ok = false,
            }
        }
        let dtype = self.dtype(slots[specs.len()]);
        let extra = self.attributes(attrs, &slots[specs.len() + 1..]);
        if !ok {
            return None;
        }
        let kernel = Kernel::from_params(kind, params);
        self.conv_fits(&kernel, &slots, call)?;
        self.ops_finite(&kernel, name)?;
        let (resident, llm) = extra?;
        Some(Task { kernel, dtype: dtype?, resident, llm })
    }

    /// The attributes of a task besides its kernel's parameters and `dtype`: `weights`,
    /// `resident`, and an LLM's shape and `max_batch`.
    fn attributes(&mut self, attrs: &[&str], slots: &[Option<&Arg<'_>>]) -> Option<(Resident, LlmSpec)> {
        let mut resident = Resident::Implied;
        let mut llm = LlmSpec::default();
        let mut ok = true;
        for (&attr, slot) in attrs.iter().zip(slots) {
            let Some(arg) = slot else { continue };
            match attr {
                "weights" => match self.boolean(arg, "weights") {
                    Some(true) => resident = Resident::GemmWeights,
                    Some(false) => {}
                    None => ok = false,
                },
                "resident" => {
                    let p = Param {
                        name: "resident",
                        dimension: Dimension::Bytes,
                        integer: false,
                        allow_zero: true,
                        constant: true,
                    };
                    match self.dist(&arg.value, p) {
                        Some(d) => resident = Resident::Bytes(d.mean()),
                        None => ok = false,
                    }
                }
                _ => {
                    let p = Param {
                        name: attr,
                        dimension: Dimension::Count,
                        integer: true,
                        allow_zero: false,
                        constant: true,
                    };
                    let Some(d) = self.dist(&arg.value, p) else {
                        ok = false;
                        continue;
                    };
                    let v = d.mean();
                    if v > f64::from(u32::MAX) {
                        self.report(
                            Kind::BadValue,
                            arg.value.span(),
                            format!("`{attr}` is at most {}, found {}", u32::MAX, num(v)),
                            "too large",
                            "an LLM's shape and batch are whole numbers that fit 32 bits".into(),
                        );
                        ok = false;
                        continue;
                    }
                    let v = Some(v as u32);
                    match attr {
                        "layers" => llm.layers = v,
                        "hidden" => llm.hidden = v,
                        "kv_heads" => llm.kv_heads = v,
                        "head_dim" => llm.head_dim = v,
                        _ => llm.max_batch = v,
                    }
                }
            }
        }
        ok.then_some((resident, llm))
    }

    /// `NAME = true` or `false`.
    fn boolean(&mut self, arg: &Arg<'_>, name: &str) -> Option<bool> {
        match &arg.value {
            Value::Name(n) if n.text == "true" => Some(true),
            Value::Name(n) if n.text == "false" => Some(false),
            v => {
                self.report(
                    Kind::BadValue,
                    v.span(),
                    format!("`{name}` must be `true` or `false`, found {}", v.describe()),
                    "not a boolean",
                    format!("write `{name} = true` to mark the right operand `[k x n]` as weights"),
                );
                None
            }
        }
    }

    /// The kernel a call names.
    fn kernel_kind(&mut self, call: &Call<'_>) -> Option<KernelKind> {
        let kind = KernelKind::from_name(call.name.text);
        if kind.is_none() {
            let names: Vec<&str> = KernelKind::ALL.iter().map(|k| k.name()).collect();
            let help = match suggest(call.name.text, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? kernels: {}", list(&names)),
                None => format!("kernels: {}", list(&names)),
            };
            self.report(
                Kind::UnknownKernel,
                call.name.span,
                format!("unknown kernel `{}`", call.name.text),
                "not a kernel",
                help,
            );
        }
        kind
    }

    /// `dtype = NAME`, `fp16` when left out.
    fn dtype(&mut self, slot: Option<&Arg<'_>>) -> Option<DType> {
        let Some(arg) = slot else { return Some(DType::Fp16) };
        match &arg.value {
            Value::Name(n) if DType::from_name(n.text).is_some() => DType::from_name(n.text),
            v => {
                self.report(
                    Kind::BadValue,
                    v.span(),
                    format!("`dtype` must be `int8`, `fp16`, `bf16` or `fp32`, found {}", v.describe()),
                    "not a dtype",
                    "write e.g. `dtype = bf16`".into(),
                );
                None
            }
        }
    }

    /// Reports a convolution kernel larger than its input: `None` then.
    fn conv_fits(
        &mut self,
        kernel: &Kernel<Dist>,
        slots: &[Option<&Arg<'_>>],
        call: &Call<'_>,
    ) -> Option<()> {
        if let Kernel::Conv2d { h, w, kernel: k, .. } = kernel
            && k.lower() > h.upper().min(w.upper())
        {
            let at = slots[4].map_or(call.name.span, |a| a.value.span());
            self.report(
                Kind::ShapeMismatch,
                at,
                format!(
                    "the convolution kernel ({}) is larger than its input ({} x {})",
                    num(k.upper()),
                    num(h.upper()),
                    num(w.upper())
                ),
                "larger than the input",
                "a `conv2d` kernel is at most as large as the input's height and width".into(),
            );
            return None;
        }
        Some(())
    }

    /// Reports a kernel whose operation count (mean or second moment) overflows: `None` then.
    fn ops_finite(&mut self, kernel: &Kernel<Dist>, name: &Name<'_>) -> Option<()> {
        let (coef, factors) = kernel.ops_monomial();
        let (mean, second) = factors
            .iter()
            .fold((coef, coef * coef), |(m, s), (d, k)| (m * d.raw_moment(*k), s * d.raw_moment(2 * *k)));
        if !(mean.is_finite() && second.is_finite()) {
            self.report(
                Kind::Overflow,
                name.span,
                format!("the operation count of `{}` overflows a 64-bit float", name.text),
                "too many operations",
                "check the units and magnitudes of the parameters".into(),
            );
            return None;
        }
        Some(())
    }
}

/// The attributes a kernel takes besides its parameters and `dtype`.
fn attributes(kind: KernelKind) -> &'static [&'static str] {
    match kind {
        KernelKind::Gemm => &["weights", "resident"],
        KernelKind::LlmPrefill | KernelKind::LlmDecode => {
            &["resident", "layers", "hidden", "kv_heads", "head_dim", "max_batch"]
        }
        KernelKind::Delay => &[],
        _ => &["resident"],
    }
}
