//! Drawing a task's kernel parameters without allocating.
//!
//! Equivalent to [`Kernel::sample`] (the same parameters, in the same order, with the same
//! rounding, from the same stream), which maps through a temporary vector; the event loop draws
//! once per task execution, so it uses this instead. A test pins the equivalence.

use octopus_owg::dist::Dist;
use octopus_owg::ir::Kernel;
use rand::Rng;

/// Draws a concrete kernel from its parameter distributions.
pub(crate) fn sample_kernel<R: Rng + ?Sized>(k: &Kernel<Dist>, rng: &mut R) -> Kernel<f64> {
    let specs = k.kind().params();
    let mut i = 0;
    let mut s = |d: &Dist| {
        let v = d.sample(rng, specs[i].integer);
        i += 1;
        v
    };
    match k {
        Kernel::Gemm { m, n, k } => Kernel::Gemm { m: s(m), n: s(n), k: s(k) },
        Kernel::Conv2d { h, w, cin, cout, kernel, stride } => Kernel::Conv2d {
            h: s(h),
            w: s(w),
            cin: s(cin),
            cout: s(cout),
            kernel: s(kernel),
            stride: s(stride),
        },
        Kernel::Attention { seq, heads, dim } => {
            Kernel::Attention { seq: s(seq), heads: s(heads), dim: s(dim) }
        }
        Kernel::LlmPrefill { params, tokens } => Kernel::LlmPrefill { params: s(params), tokens: s(tokens) },
        Kernel::LlmDecode { params, tokens, context } => {
            Kernel::LlmDecode { params: s(params), tokens: s(tokens), context: s(context) }
        }
        Kernel::Elementwise { elems, ops_per_elem } => {
            Kernel::Elementwise { elems: s(elems), ops_per_elem: s(ops_per_elem) }
        }
        Kernel::Reduce { elems } => Kernel::Reduce { elems: s(elems) },
        Kernel::Compute { ops, bytes } => Kernel::Compute { ops: s(ops), bytes: s(bytes) },
        Kernel::Delay { time } => Kernel::Delay { time: s(time) },
    }
}

#[cfg(test)]
mod tests {
    use octopus_owg::ir::KernelKind;
    use rand::SeedableRng;
    use rand_pcg::Pcg64Mcg;

    use super::*;

    #[test]
    fn matches_kernel_sample_for_every_kernel() {
        let d = |m: f64| Dist::LogNormal { mean: m, cv: 0.7 };
        for kind in KernelKind::ALL {
            let params = kind.params().iter().enumerate().map(|(i, _)| d(10.0 + i as f64)).collect();
            let k = Kernel::from_params(kind, params);
            for seed in 0..20 {
                let a = k.sample(&mut Pcg64Mcg::seed_from_u64(seed));
                let b = sample_kernel(&k, &mut Pcg64Mcg::seed_from_u64(seed));
                assert_eq!(a, b, "{}", kind.name());
            }
        }
    }
}
