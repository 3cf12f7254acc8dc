//! Checks one generated workflow of N blocks (default 100,000) and prints the time: for profiling
//! and for measuring peak memory with `/usr/bin/time -v`.

#[path = "../benches/generate.rs"]
mod generate;

fn main() {
    let blocks = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let src = generate::generate(blocks);
    let (start, cpu_start) = (std::time::Instant::now(), cpu_ns());
    let checked = octopus_owg::check(&src, "generated", &octopus_owg::NoFiles);
    let (elapsed, cpu) = (start.elapsed(), cpu_ns().zip(cpu_start).map(|(b, a)| b - a));
    let module = checked.module.expect("the generated workflow is valid");
    println!(
        "{} blocks, {} flows, {} bytes of source: checked in {:.1} ms wall, {} ms on the CPU ({} diagnostics)",
        module.workflow.blocks.len(),
        module.workflow.flows.len(),
        src.len(),
        elapsed.as_secs_f64() * 1e3,
        cpu.map_or("?".to_owned(), |ns| format!("{:.1}", ns as f64 / 1e6)),
        checked.diagnostics.len()
    );
}

/// Nanoseconds this thread has spent on a CPU (Linux), to measure on a busy machine.
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat").ok()?.split_whitespace().next()?.parse().ok()
}
