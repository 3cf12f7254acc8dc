//! `check` on generated workflows of 10,000 and 100,000 blocks: parse, validate and analyse.
//!
//! `cargo bench -p octopus-owg`; the figures are in `docs/performance.md`.

use divan::Bencher;

#[path = "generate.rs"]
mod generate;
use generate::generate;

fn main() {
    divan::main();
}

#[divan::bench(args = [10_000, 100_000], sample_count = 10)]
fn check(bencher: Bencher, blocks: usize) {
    let src = generate(blocks);
    let checked = octopus_owg::check(&src, "generated", &octopus_owg::NoFiles);
    assert!(
        !checked.has_errors(),
        "{}",
        octopus_owg::render(&checked.diagnostics[..3.min(checked.diagnostics.len())], &src, "gen.owg")
    );
    let module = checked.module.expect("valid");
    assert!(module.workflow.blocks.len() >= blocks);
    bencher.bench(|| octopus_owg::check(divan::black_box(&src), "generated", &octopus_owg::NoFiles));
}
