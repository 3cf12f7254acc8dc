//! What the validator derives from a workflow: the side table (naga's `ModuleInfo` shape) that
//! later stages require as input, so they never re-derive graph facts.
//!
//! Costs here are *nominal operations*: a kernel's operation count, and `delay` tasks at
//! [`NOMINAL_OPS_PER_SECOND`]. The `*_with` methods take another cost (e.g. cycles from the
//! hardware's cost model) and reuse the same exact structure.

use serde::{Deserialize, Serialize};

use std::collections::HashMap;

use crate::index::IndexVec;
use crate::ir::{BlockId, BlockKind, Control, FlowId, Kernel, Workflow};
use crate::validate::Graph;

/// A task block is dynamic when the coefficient of variation of its operations per execution, or
/// of its executions per request, exceeds this. Our choice; see `docs/language.md`.
pub const CLASS_CV_THRESHOLD: f64 = 0.3;

/// How `delay` tasks count in nominal operations.
pub const NOMINAL_OPS_PER_SECOND: f64 = 1e9;

/// Stable or dynamic: the two kinds of task block that Discriminate Dual-Scheduling treats apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// Time and frequency vary little: worth dedicated, warm TBUs.
    Stable,
    /// Time or frequency varies a lot: scheduled at run time from an elastic pool.
    Dynamic,
}

/// Facts about one block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockInfo {
    /// Expected executions per request (exact).
    pub visits: f64,
    /// Coefficient of variation of executions per request (exact).
    pub visits_cv: f64,
    /// Expected nominal operations per execution (0 for control blocks).
    pub ops: f64,
    /// Coefficient of variation of nominal operations per execution.
    pub ops_cv: f64,
    /// Stable or dynamic; `None` for control blocks.
    pub class: Option<Class>,
    /// The innermost region enclosing the block: the region's opener. `None` at top level.
    /// An opener and its closer belong to the region around them, not their own.
    pub region: Option<BlockId>,
    /// When `region` is a branch: the branch's outgoing flow whose alternative holds the block.
    pub alternative: Option<FlowId>,
}

/// The analysis side table of a validated workflow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Per block facts.
    pub blocks: IndexVec<BlockId, BlockInfo>,
    /// Outgoing flows of each block, in declaration order.
    pub succs: IndexVec<BlockId, Vec<FlowId>>,
    /// Incoming flows of each block, in declaration order.
    pub preds: IndexVec<BlockId, Vec<FlowId>>,
    /// A topological order of all blocks (ties broken by declaration order).
    pub topo: Vec<BlockId>,
    /// Blocks without incoming flows, where a request starts, in declaration order.
    pub entries: Vec<BlockId>,
    /// Expected nominal operations per request.
    pub expected_work: f64,
    /// Worst-case nominal operations per request.
    pub worst_work: f64,
    /// The critical path of means per request, in nominal operations: the longest path of
    /// expected costs (see [`Analysis::critical_path_with`]). A lower bound on the expected
    /// critical path, since the mean of a maximum is at least the maximum of the means.
    pub critical_path: f64,
}

/// Mean and variance of a non-negative random quantity.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Moments {
    mean: f64,
    var: f64,
}

impl Moments {
    const ONE: Moments = Moments { mean: 1.0, var: 0.0 };

    /// The sum of `self` (a count) independent copies of `each`: `E = E[N] E[X]`,
    /// `Var = E[N] Var[X] + Var[N] E[X]^2`.
    fn compound(self, each: Moments) -> Moments {
        Moments { mean: self.mean * each.mean, var: self.mean * each.var + self.var * each.mean * each.mean }
    }

    fn cv(self) -> f64 {
        if self.mean > 0.0 { self.var.max(0.0).sqrt() / self.mean } else { 0.0 }
    }
}

/// Mean and variance of the nominal operations of one execution of a task, exact for independent
/// parameters: `ops = coef * prod(p_i^k_i)`, so `E[ops^m] = coef^m * prod(E[p_i^(m k_i)])`.
fn ops_moments(kernel: &Kernel<crate::dist::Dist>) -> Moments {
    if let Kernel::Delay { time } = kernel {
        let (m1, m2) = (time.raw_moment(1), time.raw_moment(2));
        let s = NOMINAL_OPS_PER_SECOND;
        return Moments { mean: s * m1, var: (s * s * (m2 - m1 * m1)).max(0.0) };
    }
    let (coef, factors) = kernel.ops_monomial();
    let (m1, m2) = factors
        .iter()
        .fold((coef, coef * coef), |(a, b), (d, k)| (a * d.raw_moment(*k), b * d.raw_moment(2 * *k)));
    Moments { mean: m1, var: (m2 - m1 * m1).max(0.0) }
}

/// The nominal operations of one execution at every parameter's worst value (its maximum, or its
/// 99.9th percentile when unbounded; the minimum for parameters that divide).
fn worst_ops(kernel: &Kernel<crate::dist::Dist>) -> f64 {
    if let Kernel::Delay { time } = kernel {
        return NOMINAL_OPS_PER_SECOND * time.upper();
    }
    let (coef, factors) = kernel.ops_monomial();
    factors.iter().fold(coef, |acc, (d, k)| acc * if *k >= 0 { d.upper() } else { d.lower() }.powi(*k))
}

/// Builds the analysis of a validated workflow from its graph facts.
pub(crate) fn analyse(wf: &Workflow, g: Graph) -> Analysis {
    let n = wf.blocks.len();
    let mut visits: IndexVec<BlockId, Moments> = IndexVec::from_elem(Moments::ONE, n);
    for &b in &g.topo {
        let Some(o) = g.region[b] else { continue };
        let each = match wf.blocks[o].control() {
            Some(Control::Branch { .. }) => {
                let p = g.alternative[b].and_then(|f| wf.flows[f].probability).unwrap_or(0.0);
                Moments { mean: p, var: p * (1.0 - p) }
            }
            Some(Control::Map { width: c, .. } | Control::Loop { count: c, .. }) => {
                Moments { mean: c.mean(), var: c.variance() }
            }
            _ => Moments::ONE,
        };
        visits[b] = visits[o].compound(each);
    }
    let blocks: IndexVec<BlockId, BlockInfo> = wf
        .blocks
        .iter_enumerated()
        .map(|(b, block)| {
            let v = visits[b];
            let (ops, class) = match &block.kind {
                BlockKind::Task(t) => {
                    let ops = ops_moments(&t.kernel);
                    let dynamic = ops.cv() > CLASS_CV_THRESHOLD || v.cv() > CLASS_CV_THRESHOLD;
                    (ops, Some(if dynamic { Class::Dynamic } else { Class::Stable }))
                }
                BlockKind::Control(_) => (Moments { mean: 0.0, var: 0.0 }, None),
            };
            BlockInfo {
                visits: v.mean,
                visits_cv: v.cv(),
                ops: ops.mean,
                ops_cv: ops.cv(),
                class,
                region: g.region[b],
                alternative: g.alternative[b],
            }
        })
        .collect();
    let mut analysis = Analysis {
        blocks,
        succs: g.succs,
        preds: g.preds,
        topo: g.topo,
        entries: g.entries,
        expected_work: 0.0,
        worst_work: 0.0,
        critical_path: 0.0,
    };
    let ops: IndexVec<BlockId, f64> = analysis.blocks.iter().map(|i| i.ops).collect();
    analysis.expected_work = analysis.expected_work_with(&|b| ops[b]);
    analysis.critical_path = analysis.critical_path_with(wf, &|b| ops[b]);
    analysis.worst_work = analysis.worst_work(wf);
    analysis
}

impl Analysis {
    /// Expected cost per request for another per-execution cost: the sum of visits times cost.
    pub fn expected_work_with(&self, cost: &dyn Fn(BlockId) -> f64) -> f64 {
        self.blocks
            .iter_enumerated()
            .map(|(b, i)| if i.visits > 0.0 { i.visits * cost(b) } else { 0.0 })
            .sum()
    }

    /// The critical path of means for another per-execution expected cost, by the nominal rules: a
    /// longest path in topological order, where a branch's closer adds the probability-weighted
    /// mean of its alternatives' lengths, a loop's closer `E[count]` times its body's length, and
    /// fork and map closers the longest of their paths.
    pub fn critical_path_with(&self, wf: &Workflow, cost: &dyn Fn(BlockId) -> f64) -> f64 {
        let mut dist: IndexVec<BlockId, f64> = IndexVec::from_elem(0.0, self.blocks.len());
        let mut best = 0.0_f64;
        let mut alts: Vec<(FlowId, f64)> = Vec::new();
        for &v in &self.topo {
            let preds = &self.preds[v];
            let longest = || preds.iter().map(|f| dist[wf.flows[*f].from]).fold(0.0, f64::max);
            let before = match wf.blocks[v].control() {
                Some(Control::Join { opener }) => {
                    let base = dist[*opener];
                    match wf.blocks[*opener].control() {
                        Some(Control::Branch { .. }) => {
                            alts.clear();
                            for f in preds {
                                let u = wf.flows[*f].from;
                                let (alt, len) = if u == *opener {
                                    (*f, 0.0)
                                } else {
                                    (self.blocks[u].alternative.unwrap_or(*f), dist[u] - base)
                                };
                                match alts.iter_mut().find(|(a, _)| *a == alt) {
                                    Some((_, l)) => *l = l.max(len),
                                    None => alts.push((alt, len)),
                                }
                            }
                            base + alts
                                .iter()
                                .map(|(a, l)| wf.flows[*a].probability.unwrap_or(0.0) * l)
                                .sum::<f64>()
                        }
                        Some(Control::Loop { count, .. }) => {
                            let body = preds
                                .iter()
                                .map(|f| wf.flows[*f].from)
                                .filter(|u| u != opener)
                                .map(|u| dist[u] - base)
                                .fold(0.0, f64::max);
                            base + count.mean() * body
                        }
                        _ => longest(),
                    }
                }
                _ => longest(),
            };
            dist[v] = before + cost(v);
            // Paths end at sinks; a block inside a region is no end (its closer follows).
            if self.succs[v].is_empty() {
                best = best.max(dist[v]);
            }
        }
        best
    }

    /// Worst-case nominal operations per request, bottom-up over the region tree: every parameter
    /// at its worst, every loop and map at the largest count it can take, each branch's costliest
    /// alternative.
    fn worst_work(&self, wf: &Workflow) -> f64 {
        // The worst costs of the blocks directly in each region, summed by alternative.
        let mut total = 0.0;
        let mut by_region: HashMap<BlockId, Vec<(Option<FlowId>, f64)>> = HashMap::new();
        for &b in self.topo.iter().rev() {
            let w = match &wf.blocks[b].kind {
                BlockKind::Task(t) => worst_ops(&t.kernel),
                BlockKind::Control(c) => {
                    let parts = by_region.remove(&b).unwrap_or_default();
                    let body = || parts.iter().map(|(_, w)| w).sum::<f64>();
                    match c {
                        Control::Branch { .. } => parts.iter().map(|(_, w)| *w).fold(0.0, f64::max),
                        Control::Fork { .. } => body(),
                        Control::Map { width: n, .. } | Control::Loop { count: n, .. } => {
                            n.upper() as f64 * body()
                        }
                        Control::Join { .. } => 0.0,
                    }
                }
            };
            let info = &self.blocks[b];
            match info.region {
                None => total += w,
                Some(o) => {
                    let parts = by_region.entry(o).or_default();
                    match parts.iter_mut().find(|(a, _)| *a == info.alternative) {
                        Some((_, s)) => *s += w,
                        None => parts.push((info.alternative, w)),
                    }
                }
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Module, NoFiles, check};

    fn module(src: &str) -> Module {
        let c = check(src, "t", &NoFiles);
        let rendered = crate::render(&c.diagnostics, src, "t.owg");
        c.module.unwrap_or_else(|| panic!("invalid:\n{rendered}"))
    }

    fn info<'m>(m: &'m Module, name: &str) -> &'m BlockInfo {
        &m.analysis.blocks[m.workflow.block_by_name(name).expect("declared")]
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn loop_of_uniform_count_visits_its_body_two_and_a_half_times() {
        let m = module(
            "task a = compute(ops = 1M)
             loop l(count = uniform(1, 4), max = 10) join e
             flow l -> a -> e",
        );
        let a = info(&m, "a");
        assert!(close(a.visits, 2.5), "{}", a.visits);
        // Var of the discrete uniform on 1..=4 is (4^2 - 1) / 12.
        assert!(close(a.visits_cv, (15.0_f64 / 12.0).sqrt() / 2.5));
        assert!(close(m.analysis.expected_work, 2.5e6));
        assert!(close(m.analysis.worst_work, 4e6));
        assert_eq!(a.class, Some(Class::Dynamic));
        assert_eq!(a.region, m.workflow.block_by_name("l"));
    }

    #[test]
    fn branch_inside_a_map_splits_the_mean_width() {
        let m = module(
            "task x = compute(ops = 1M)
             task y = compute(ops = 3M)
             map m(width = choice(2: 0.5, 4: 0.5)) join m_end
             branch b join b_end
             flow m -> b
             flow b -> x [p = 0.7]
             flow b -> y [p = 0.3]
             flow x -> b_end
             flow y -> b_end
             flow b_end -> m_end",
        );
        let (x, y) = (info(&m, "x"), info(&m, "y"));
        assert!(close(x.visits, 2.1) && close(y.visits, 0.9), "{} {}", x.visits, y.visits);
        // Compound sum of N ~ width (mean 3, variance 1) Bernoulli(0.7) draws:
        // Var = E[N] p (1 - p) + Var[N] p^2 = 3 * 0.21 + 0.49.
        assert!(close(x.visits_cv, (3.0 * 0.21 + 0.49_f64).sqrt() / 2.1));
        assert!(close(m.analysis.expected_work, 2.1e6 + 0.9 * 3e6));
        // Worst case: width 4, the costlier alternative each time.
        assert!(close(m.analysis.worst_work, 4.0 * 3e6));
        // Critical path: one copy of the map's body, the branch's weighted mean.
        assert!(close(m.analysis.critical_path, 0.7 * 1e6 + 0.3 * 3e6));
    }

    #[test]
    fn compound_cv_of_a_loop_around_a_loop_matches_the_formula() {
        let m = module(
            "task a = compute(ops = uniform(1M, 3M))
             loop outer(count = choice(1: 0.5, 3: 0.5), max = 3) join outer_end
             loop inner(count = uniform(0, 2), max = 2) join inner_end
             flow outer -> inner -> a -> inner_end -> outer_end",
        );
        let a = info(&m, "a");
        // N: mean 2, var 1. C on {0, 1, 2}: mean 1, var 2/3.
        let (en, vn, ec, vc) = (2.0, 1.0, 1.0, 2.0 / 3.0);
        let mean = en * ec;
        let var = en * vc + vn * ec * ec;
        assert!(close(a.visits, mean));
        assert!(close(a.visits_cv, var.sqrt() / mean));
        // ops uniform on [1M, 3M]: cv = (2M / sqrt(12)) / 2M.
        assert!(close(a.ops, 2e6) && close(a.ops_cv, 1.0 / 12.0_f64.sqrt()));
    }

    #[test]
    fn critical_path_of_a_diamond_takes_the_longer_side() {
        let m = module(
            "task s = compute(ops = 1M)
             task l = compute(ops = 5M)
             task r = compute(ops = 2M)
             task t = compute(ops = 1M)
             fork f join f_end
             flow s -> f
             flow f -> l -> f_end
             flow f -> r -> f_end
             flow f_end -> t",
        );
        assert!(close(m.analysis.critical_path, 7e6));
        assert!(close(m.analysis.expected_work, 9e6));
        let ids: Vec<BlockId> = m.workflow.blocks.indices().collect();
        let unit = m.analysis.critical_path_with(&m.workflow, &|_| 1.0);
        // s, f, l, f_end, t: five blocks on the longest path at cost 1 each.
        assert!(close(unit, 5.0));
        assert!(close(m.analysis.expected_work_with(&|b| if b == ids[0] { 2.0 } else { 0.0 }), 2.0));
    }

    #[test]
    fn loop_critical_path_multiplies_the_body_by_the_mean_count() {
        let m = module(
            "task a = compute(ops = 2M)
             task b = compute(ops = 1M)
             loop l(continue = 0.5, max = 2) join e
             flow l -> a -> e -> b",
        );
        // continue 0.5, max 2: one iteration w.p. 0.5, two w.p. 0.5.
        assert!(close(info(&m, "a").visits, 1.5));
        assert!(close(m.analysis.critical_path, 1.5 * 2e6 + 1e6));
    }

    #[test]
    fn delay_counts_nominal_operations() {
        let m = module("task d = delay(time = 20 ms)");
        assert!(close(info(&m, "d").ops, 0.02 * NOMINAL_OPS_PER_SECOND));
    }
}
