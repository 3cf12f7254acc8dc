//! `Kernel::<f64>::ops` (allocation-free) equals the fold of `ops_monomial` to the bit.

use octopus_owg::ir::Kernel;

fn by_monomial(k: &Kernel<f64>) -> f64 {
    let (coef, factors) = k.ops_monomial();
    factors.into_iter().fold(coef, |acc, (x, p)| acc * x.powi(p))
}

#[test]
fn ops_equals_the_monomial_fold() {
    let vals = [1.0, 3.0, 7.5, 17.0, 255.0, 1e9 + 7.0, 0.3, 2.0f64.powi(40) + 1.0];
    let at = |i: usize| vals[i % vals.len()];
    for i in 0..vals.len() {
        let kernels = [
            Kernel::Gemm { m: at(i), n: at(i + 1), k: at(i + 2) },
            Kernel::Conv2d {
                h: at(i),
                w: at(i + 1),
                cin: at(i + 2),
                cout: at(i + 3),
                kernel: at(i + 4),
                stride: at(i + 5),
            },
            Kernel::Attention { seq: at(i), heads: at(i + 1), dim: at(i + 2) },
            Kernel::LlmPrefill { params: at(i), tokens: at(i + 1) },
            Kernel::LlmDecode { params: at(i), tokens: at(i + 1), context: at(i + 2) },
            Kernel::Elementwise { elems: at(i), ops_per_elem: at(i + 1) },
            Kernel::Reduce { elems: at(i) },
            Kernel::Compute { ops: at(i), bytes: at(i + 1) },
            Kernel::Delay { time: at(i) },
        ];
        for k in &kernels {
            assert_eq!(k.ops().to_bits(), by_monomial(k).to_bits(), "{k:?}");
        }
    }
}
