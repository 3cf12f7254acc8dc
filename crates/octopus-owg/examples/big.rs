//! Checks one generated workflow of N blocks (default 100,000) and prints the time: for profiling
//! and for measuring peak memory with `/usr/bin/time -v`.

#[path = "../benches/generate.rs"]
mod generate;

fn main() {
    let blocks = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let src = generate::generate(blocks);
    let start = std::time::Instant::now();
    let checked = octopus_owg::check(&src, "generated", &octopus_owg::NoFiles);
    let elapsed = start.elapsed();
    let module = checked.module.expect("the generated workflow is valid");
    println!(
        "{} blocks, {} flows, {} bytes of source: checked in {:.1} ms ({} diagnostics)",
        module.workflow.blocks.len(),
        module.workflow.flows.len(),
        src.len(),
        elapsed.as_secs_f64() * 1e3,
        checked.diagnostics.len()
    );
}
