//! Compiling a generated 10,000-task-block workflow onto the `wafer` preset (21,504 TBUs).
//!
//! ```text
//! cargo bench -p octopus-compiler --bench compile
//! ```

use octopus_compiler::compile;
use octopus_hw::Machine;
use octopus_owg::{Module, NoFiles, check};

fn main() {
    divan::main();
}

/// A layered DAG of `layers x width` task blocks: each task reads from two tasks of the layer
/// before (its own column and a pseudo-random one), kernels cycling through GEMM, attention,
/// elementwise and general compute, some with random parameters.
fn generated(layers: usize, width: usize) -> Module {
    let mut s = String::from("workflow generated\narrivals batch(requests = 100)\n");
    for l in 0..layers {
        for w in 0..width {
            let kernel = match (l * width + w) % 4 {
                0 => "gemm(m = 512, n = 512, k = uniform(256, 1024))".to_owned(),
                1 => "attention(seq = lognormal(mean = 1024, cv = 0.5), heads = 8)".to_owned(),
                2 => "elementwise(elems = 1M, ops_per_elem = 4)".to_owned(),
                _ => format!("compute(ops = {}M)", 1 + (w % 50)),
            };
            s += &format!("task t{l}_{w} = {kernel}\n");
        }
    }
    for l in 1..layers {
        for w in 0..width {
            let other = (w * 7 + l * 13) % width;
            s += &format!("flow t{}_{w} -> t{l}_{w} [bytes = 256 KiB]\n", l - 1);
            if other != w {
                s += &format!("flow t{}_{other} -> t{l}_{w} [bytes = 64 KiB]\n", l - 1);
            }
        }
    }
    let checked = check(&s, "generated", &NoFiles);
    checked.module.unwrap_or_else(|| panic!("the generated workflow is invalid: {:?}", checked.diagnostics))
}

#[divan::bench(sample_count = 10)]
fn compile_10k_tasks_onto_wafer(bencher: divan::Bencher) {
    let module = generated(100, 100);
    assert_eq!(module.workflow.tasks().count(), 10_000);
    let wafer = Machine::preset("wafer").expect("a preset");
    bencher.bench(|| compile(divan::black_box(&module), &wafer).expect("compiles"));
}

#[divan::bench(sample_count = 10)]
fn build_wafer_machine() -> Machine {
    Machine::preset("wafer").expect("a preset")
}
