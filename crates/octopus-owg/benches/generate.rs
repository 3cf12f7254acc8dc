//! The generated workflows of the benchmark (shared with `examples/big.rs`).

use std::fmt::Write as _;

/// A valid workflow of at least `blocks` blocks: 50 independent chains, each a sequence of tasks,
/// branches, maps, forks and loops, some nested two deep (a branch inside a loop inside a map).
pub fn generate(blocks: usize) -> String {
    let mut src = String::with_capacity(blocks * 80);
    src.push_str("workflow generated\narrivals poisson(rate = 10/s, requests = 1000)\n");
    let chains = 50;
    let mut made = 0;
    let mut unit = 0;
    let mut last: Vec<Option<String>> = vec![None; chains];
    while made < blocks {
        let c = unit % chains;
        let u = unit;
        unit += 1;
        let link = |src: &mut String, last: &mut Option<String>, first: &str, end: String| {
            if let Some(prev) = last.as_ref() {
                let _ = writeln!(src, "flow {prev} -> {first} [bytes = 4 KiB]");
            }
            *last = Some(end);
        };
        match u % 6 {
            0 | 1 => {
                let _ = writeln!(src, "task t{u} = gemm(m = 64, n = uniform(64, 256), k = 128)");
                link(&mut src, &mut last[c], &format!("t{u}"), format!("t{u}"));
                made += 1;
            }
            2 => {
                let _ = writeln!(
                    src,
                    "branch b{u} join b{u}e\ntask a{u} = compute(ops = lognormal(mean = 2M, cv = 0.5))\n\
                     task c{u} = llm_decode(params = 1G, tokens = 32)\n\
                     flow b{u} -> a{u} [p = 0.7]\nflow b{u} -> c{u} [p = 0.3]\nflow a{u} -> b{u}e\nflow c{u} -> b{u}e"
                );
                link(&mut src, &mut last[c], &format!("b{u}"), format!("b{u}e"));
                made += 4;
            }
            3 => {
                let _ = writeln!(
                    src,
                    "map m{u}(width = choice(2: 0.5, 4: 0.3, 8: 0.2)) join m{u}e\n\
                     task s{u} = attention(seq = 128, heads = 4)\nflow m{u} -> s{u} -> m{u}e"
                );
                link(&mut src, &mut last[c], &format!("m{u}"), format!("m{u}e"));
                made += 3;
            }
            4 => {
                let _ = writeln!(
                    src,
                    "fork f{u} join f{u}e\ntask x{u} = reduce(elems = 4K)\ntask y{u} = elementwise(elems = 8K)\n\
                     flow f{u} -> x{u} -> f{u}e\nflow f{u} -> y{u} -> f{u}e\nflow f{u} -> f{u}e"
                );
                link(&mut src, &mut last[c], &format!("f{u}"), format!("f{u}e"));
                made += 4;
            }
            _ => {
                // map { loop { branch { task | skip } } }
                let _ = writeln!(
                    src,
                    "map n{u}(width = uniform(1, 4)) join n{u}e\n\
                     loop l{u}(count = uniform(1, 5), max = 8) join l{u}e\n\
                     branch q{u} join q{u}e\ntask d{u} = delay(time = exponential(mean = 2 ms))\n\
                     flow n{u} -> l{u} -> q{u}\nflow q{u} -> d{u} [p = 0.4]\nflow q{u} -> q{u}e [p = 0.6]\n\
                     flow d{u} -> q{u}e -> l{u}e -> n{u}e"
                );
                link(&mut src, &mut last[c], &format!("n{u}"), format!("n{u}e"));
                made += 7;
            }
        }
    }
    src
}
