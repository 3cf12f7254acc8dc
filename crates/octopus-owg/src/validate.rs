//! Graph checks on the lowered workflow: probabilities on the right flows and summing to 1, no
//! cycle, every region single-entry single-exit and properly nested, branch alternatives disjoint,
//! every block reachable. Produces the graph facts the analysis needs.
//!
//! Regions are found with one walk per opener, bounded by its closer: forward from the opener over
//! blocks that come before the closer in topological order, then backward from the closer over the
//! blocks the forward walk saw. A valid region is walked once per enclosing region, so the cost is
//! linear in the size of the workflow times the nesting depth.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

use crate::diagnostics::{Diagnostic, Kind, diag, num};
use crate::index::{Idx, IndexVec};
use crate::ir::{BlockId, FlowId, Span};
use crate::lower::{LKind, Lowered, list};
use crate::parser::OpenerKind;

/// Graph facts of a structurally valid workflow.
pub(crate) struct Graph {
    pub succs: IndexVec<BlockId, Vec<FlowId>>,
    pub preds: IndexVec<BlockId, Vec<FlowId>>,
    /// Topological order, ties broken by declaration order.
    pub topo: Vec<BlockId>,
    pub entries: Vec<BlockId>,
    /// The innermost region holding each block (its opener).
    pub region: IndexVec<BlockId, Option<BlockId>>,
    /// For a block directly inside a branch's region: the branch's flow that leads to it.
    pub alternative: IndexVec<BlockId, Option<FlowId>>,
}

/// The tolerance on the sum of a branch's probabilities.
pub(crate) const SUM_TOLERANCE: f64 = 1e-6;

pub(crate) fn validate(lowered: &Lowered, diags: &mut Vec<Diagnostic>) -> Option<Graph> {
    let n = lowered.blocks.len();
    let mut succs: IndexVec<BlockId, Vec<FlowId>> = IndexVec::from_elem(Vec::new(), n);
    let mut preds: IndexVec<BlockId, Vec<FlowId>> = IndexVec::from_elem(Vec::new(), n);
    for (id, f) in lowered.flows.iter_enumerated() {
        succs[f.from].push(id);
        preds[f.to].push(id);
    }
    let v = Validator { lowered, succs, preds, diags };
    v.run()
}

struct Validator<'l, 'd> {
    lowered: &'l Lowered,
    succs: IndexVec<BlockId, Vec<FlowId>>,
    preds: IndexVec<BlockId, Vec<FlowId>>,
    diags: &'d mut Vec<Diagnostic>,
}

/// A region found by the walks.
struct Region {
    opener: BlockId,
    closer: BlockId,
    kind: OpenerKind,
    /// The blocks strictly between opener and closer.
    blocks: Vec<BlockId>,
}

impl Validator<'_, '_> {
    fn name(&self, b: BlockId) -> &str {
        &self.lowered.blocks[b].name
    }

    fn flow_span(&self, f: FlowId) -> Span {
        self.lowered.flows[f].span
    }

    fn opener(&self, b: BlockId) -> Option<(OpenerKind, BlockId)> {
        match &self.lowered.blocks[b].kind {
            LKind::Opener { kind, join, .. } => Some((*kind, *join)),
            _ => None,
        }
    }

    fn run(mut self) -> Option<Graph> {
        self.probabilities();
        if self.lowered.unresolved {
            return None;
        }
        self.isolated();
        let n = self.lowered.blocks.len();
        let entries: Vec<BlockId> =
            self.lowered.blocks.indices().filter(|b| self.preds[*b].is_empty()).collect();
        let topo = self.toposort();
        if topo.len() < n {
            self.cycles(&entries);
            return None;
        }
        let mut pos: IndexVec<BlockId, u32> = IndexVec::from_elem(0, n);
        for (i, b) in topo.iter().enumerate() {
            pos[*b] = i as u32;
        }
        let regions = self.regions(&pos)?;
        let region = self.nesting(&regions)?;
        let alternative = self.alternatives(&regions, &region)?;
        Some(Graph { succs: self.succs, preds: self.preds, topo, entries, region, alternative })
    }

    /// `p` exactly on the flows leaving branches, each in `[0, 1]`, summing to 1 per branch.
    fn probabilities(&mut self) {
        let lowered = self.lowered;
        for f in lowered.flows.iter() {
            let from_branch = matches!(self.opener(f.from), Some((OpenerKind::Branch, _)));
            match (from_branch, f.probability, f.p_span) {
                (true, None, _) => self.diags.push(diag(
                    Kind::MisplacedProbability,
                    f.span,
                    format!(
                        "the flow `{}` -> `{}` leaves branch `{}` without a probability",
                        self.name(f.from),
                        self.name(f.to),
                        self.name(f.from)
                    ),
                    "no `p`",
                    "every flow leaving a `branch` says how likely it is taken: add `[p = 0.5]`",
                )),
                (false, Some(_), Some(span)) => {
                    let what = match self.opener(f.from) {
                        Some((OpenerKind::Fork, _)) => " (a `fork` runs every path)",
                        Some((OpenerKind::Map | OpenerKind::Loop, _)) => " (a region runs as a whole)",
                        _ => "",
                    };
                    self.diags.push(diag(
                        Kind::MisplacedProbability,
                        span,
                        format!(
                            "a probability on `{}` -> `{}`, which does not leave a branch",
                            self.name(f.from),
                            self.name(f.to)
                        ),
                        "not after a branch",
                        format!("only flows leaving a `branch` carry `p`: remove it{what}"),
                    ));
                }
                (true, Some(0.0), Some(span)) => self.diags.push(diag(
                    Kind::ZeroProbabilityPath,
                    span,
                    format!(
                        "the alternative `{}` of branch `{}` has probability 0 and never runs",
                        self.name(f.to),
                        self.name(f.from)
                    ),
                    "never taken",
                    "remove the alternative, or give it a probability above 0",
                )),
                _ => {}
            }
        }
        for (b, block) in lowered.blocks.iter_enumerated() {
            if !matches!(block.kind, LKind::Opener { kind: OpenerKind::Branch, .. })
                || lowered.tainted.contains(&b)
            {
                continue;
            }
            let outs = &self.succs[b];
            if outs.len() == 1 {
                self.diags.push(diag(
                    Kind::SinglePathBranch,
                    block.span,
                    format!("branch `{}` has a single alternative", block.name),
                    "one outgoing flow",
                    "a branch chooses among several flows: add alternatives, or drop the branch (a flow straight to the closer is an empty alternative)",
                ));
            }
            let ps: Vec<f64> = outs.iter().filter_map(|f| lowered.flows[*f].probability).collect();
            if outs.is_empty() || ps.len() < outs.len() || ps.iter().any(|p| p.is_nan()) {
                continue;
            }
            let sum: f64 = ps.iter().sum();
            if (sum - 1.0).abs() > SUM_TOLERANCE {
                let mut d = diag(
                    Kind::BranchWeights,
                    block.span,
                    format!("the probabilities leaving branch `{}` sum to {}, not 1", block.name, num(sum)),
                    format!("sum {}", num(sum)),
                    "the flows leaving a branch are its alternatives: exactly one is taken, so their `p` sum to 1",
                );
                for f in outs {
                    if let (Some(s), Some(p)) = (lowered.flows[*f].p_span, lowered.flows[*f].probability) {
                        d = d.with(s, format!("p = {}", num(p)));
                    }
                }
                self.diags.push(d);
            }
        }
    }

    fn isolated(&mut self) {
        if self.lowered.blocks.len() < 2 {
            return;
        }
        for (b, block) in self.lowered.blocks.iter_enumerated() {
            if matches!(block.kind, LKind::Task(_)) && self.preds[b].is_empty() && self.succs[b].is_empty() {
                self.diags.push(diag(
                    Kind::IsolatedBlock,
                    block.span,
                    format!("task `{}` has no flows", block.name),
                    "not connected",
                    "it runs once per request, in parallel with everything else; connect it with `flow` if it depends on other blocks",
                ));
            }
        }
    }

    /// Kahn's algorithm with a min-heap: the topological order that is smallest in declaration order.
    /// Shorter than the number of blocks when there is a cycle.
    fn toposort(&self) -> Vec<BlockId> {
        let mut indegree: IndexVec<BlockId, usize> = self.preds.iter().map(Vec::len).collect();
        let mut heap: BinaryHeap<Reverse<BlockId>> =
            indegree.iter_enumerated().filter(|(_, d)| **d == 0).map(|(b, _)| Reverse(b)).collect();
        let mut order = Vec::with_capacity(indegree.len());
        while let Some(Reverse(b)) = heap.pop() {
            order.push(b);
            for f in &self.succs[b] {
                let to = self.lowered.flows[*f].to;
                indegree[to] -= 1;
                if indegree[to] == 0 {
                    heap.push(Reverse(to));
                }
            }
        }
        order
    }

    /// Reports every cycle (one per strongly connected component) and the cycles no entry reaches.
    fn cycles(&mut self, entries: &[BlockId]) {
        let n = self.lowered.blocks.len();
        let mut g = petgraph::graph::DiGraph::<(), FlowId>::with_capacity(n, self.lowered.flows.len());
        for _ in 0..n {
            g.add_node(());
        }
        for (id, f) in self.lowered.flows.iter_enumerated() {
            g.add_edge(
                petgraph::graph::NodeIndex::new(f.from.index()),
                petgraph::graph::NodeIndex::new(f.to.index()),
                id,
            );
        }
        let mut reached: IndexVec<BlockId, bool> = IndexVec::from_elem(false, n);
        let mut stack: Vec<BlockId> = entries.to_vec();
        for b in entries {
            reached[*b] = true;
        }
        while let Some(b) = stack.pop() {
            for f in &self.succs[b] {
                let to = self.lowered.flows[*f].to;
                if !reached[to] {
                    reached[to] = true;
                    stack.push(to);
                }
            }
        }
        let mut sccs: Vec<Vec<BlockId>> = petgraph::algo::kosaraju_scc(&g)
            .into_iter()
            .map(|c| {
                let mut c: Vec<BlockId> = c.into_iter().map(|i| BlockId::new(i.index())).collect();
                c.sort();
                c
            })
            .filter(|c| c.len() > 1 || self.succs[c[0]].iter().any(|f| self.lowered.flows[*f].to == c[0]))
            .collect();
        sccs.sort();
        let mut in_scc: IndexVec<BlockId, bool> = IndexVec::from_elem(false, n);
        for scc in &sccs {
            scc.iter().for_each(|b| in_scc[*b] = true);
            let cycle = self.find_cycle(scc[0], &in_scc);
            scc.iter().for_each(|b| in_scc[*b] = false);
            let mut names: Vec<String> = cycle
                .iter()
                .take(8)
                .map(|f| format!("`{}`", self.name(self.lowered.flows[*f].from)))
                .collect();
            if cycle.len() > 8 {
                names.push("...".into());
            }
            names.push(format!("`{}`", self.name(scc[0])));
            let closing = *cycle.last().expect("a cycle has a flow");
            let mut d = diag(
                Kind::Cycle,
                self.flow_span(closing),
                format!("the flows {} form a cycle", names.join(" -> ")),
                "closes the cycle",
                "flows never go back: to repeat blocks, put them in a loop region, \
                 `loop NAME(count = DIST, max = N) join END` with `flow NAME -> ... -> END`",
            );
            for f in cycle[..cycle.len() - 1].iter().take(8) {
                d = d.with(self.flow_span(*f), "part of the cycle");
            }
            self.diags.push(d);
            if !reached[scc[0]] {
                let names: Vec<&str> = scc.iter().take(8).map(|b| self.name(*b)).collect();
                let more =
                    if scc.len() > 8 { format!(" (and {} more)", scc.len() - 8) } else { String::new() };
                self.diags.push(diag(
                    Kind::Unreachable,
                    self.lowered.blocks[scc[0]].span,
                    format!("{}{more} can never run: no request enters their cycle", list(&names)),
                    "never reached",
                    "a request starts at the blocks without incoming flows; none of them leads here",
                ));
            }
        }
    }

    /// The flows of one cycle through `start` inside the marked component (breadth-first, so short).
    fn find_cycle(&self, start: BlockId, in_scc: &IndexVec<BlockId, bool>) -> Vec<FlowId> {
        let mut via: std::collections::HashMap<BlockId, FlowId> = std::collections::HashMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(b) = queue.pop_front() {
            for f in &self.succs[b] {
                let to = self.lowered.flows[*f].to;
                if !in_scc[to] {
                    continue;
                }
                if to == start {
                    let mut path = vec![*f];
                    let mut at = b;
                    while at != start {
                        let g = via[&at];
                        path.push(g);
                        at = self.lowered.flows[g].from;
                    }
                    path.reverse();
                    return path;
                }
                if let std::collections::hash_map::Entry::Vacant(e) = via.entry(to) {
                    e.insert(*f);
                    queue.push_back(to);
                }
            }
        }
        unreachable!("a strongly connected component with a cycle holds a cycle through each block")
    }

    /// Finds every region and checks that it is closed, entered only through its opener and left
    /// only through its closer. `None` when any region is broken.
    fn regions(&mut self, pos: &IndexVec<BlockId, u32>) -> Option<Vec<Region>> {
        let n = self.lowered.blocks.len();
        let mut forward: IndexVec<BlockId, u32> = IndexVec::from_elem(u32::MAX, n);
        let mut backward: IndexVec<BlockId, u32> = IndexVec::from_elem(u32::MAX, n);
        let mut reported: HashSet<FlowId> = HashSet::new();
        let mut regions = Vec::new();
        let mut ok = true;
        let mut stack = Vec::new();
        for (epoch, o) in self.lowered.blocks.indices().enumerate() {
            let Some((kind, j)) = self.opener(o) else { continue };
            let epoch = epoch as u32;
            // Forward from the opener, never past the closer in topological order.
            let mut reached_closer = false;
            stack.clear();
            stack.push(o);
            forward[o] = epoch;
            while let Some(b) = stack.pop() {
                for f in &self.succs[b] {
                    let to = self.lowered.flows[*f].to;
                    if to == j {
                        reached_closer = true;
                    } else if pos[to] < pos[j] && forward[to] != epoch {
                        forward[to] = epoch;
                        stack.push(to);
                    }
                }
            }
            if !reached_closer {
                ok = false;
                let (on, on_label) = if self.succs[o].is_empty() {
                    ("it has no outgoing flow", "no flow leaves it")
                } else {
                    ("no path from it reaches its closer", "its paths end elsewhere")
                };
                self.diags.push(
                    diag(
                        Kind::RegionNotClosed,
                        self.lowered.blocks[o].span,
                        format!("the region of {} `{}` is never closed: {on}", kind.keyword(), self.name(o)),
                        on_label,
                        format!(
                            "every path from `{}` must end at its closer: add `flow ... -> {}`",
                            self.name(o),
                            self.name(j)
                        ),
                    )
                    .with(self.lowered.blocks[j].span, "the closer"),
                );
                continue;
            }
            // Backward from the closer over what the forward walk saw: the region.
            let mut blocks = Vec::new();
            stack.clear();
            stack.push(j);
            backward[j] = epoch;
            while let Some(b) = stack.pop() {
                for f in &self.preds[b] {
                    let from = self.lowered.flows[*f].from;
                    if from != o && forward[from] == epoch && backward[from] != epoch {
                        backward[from] = epoch;
                        blocks.push(from);
                        stack.push(from);
                    }
                }
            }
            let inside = |b: BlockId| b != o && b != j && backward[b] == epoch;
            // Flows leaving the region other than into the closer: paths that never close.
            for &b in std::iter::once(&o).chain(&blocks) {
                for f in &self.succs[b] {
                    let to = self.lowered.flows[*f].to;
                    if to != j && !inside(to) && reported.insert(*f) {
                        ok = false;
                        self.diags.push(
                            diag(
                                Kind::RegionNotClosed,
                                self.flow_span(*f),
                                format!(
                                    "`{}` is reached from {} `{}` but never reaches its closer `{}`",
                                    self.name(to),
                                    kind.keyword(),
                                    self.name(o),
                                    self.name(j)
                                ),
                                "leaves the region",
                                format!(
                                    "every path from `{}` must end at `{}`: continue the path to it (e.g. `flow {} -> {}`), \
                                     or move `{}` out of the region",
                                    self.name(o),
                                    self.name(j),
                                    self.name(to),
                                    self.name(j),
                                    self.name(to)
                                ),
                            )
                            .with(self.lowered.blocks[o].span, "the region's opener"),
                        );
                    }
                }
            }
            // Flows entering the region other than from the opener.
            for &b in blocks.iter().chain(std::iter::once(&j)) {
                for f in &self.preds[b] {
                    let from = self.lowered.flows[*f].from;
                    if from != o && !inside(from) && reported.insert(*f) {
                        ok = false;
                        self.diags.push(
                            diag(
                                Kind::RegionEntered,
                                self.flow_span(*f),
                                format!(
                                    "the flow `{}` -> `{}` enters the region of {} `{}` from outside",
                                    self.name(from),
                                    self.name(b),
                                    kind.keyword(),
                                    self.name(o)
                                ),
                                "enters the region",
                                format!(
                                    "a region is entered only through its opener `{}`: route the flow through it, \
                                     or connect `{}` after the closer `{}`",
                                    self.name(o),
                                    self.name(from),
                                    self.name(j)
                                ),
                            )
                            .with(self.lowered.blocks[o].span, "the region's opener"),
                        );
                    }
                }
            }
            regions.push(Region { opener: o, closer: j, kind, blocks });
        }
        ok.then_some(regions)
    }

    /// The innermost region of each block; checks that regions nest.
    fn nesting(&mut self, regions: &[Region]) -> Option<IndexVec<BlockId, Option<BlockId>>> {
        let n = self.lowered.blocks.len();
        let mut order: Vec<&Region> = regions.iter().collect();
        order.sort_by_key(|r| r.blocks.len());
        let mut region: IndexVec<BlockId, Option<BlockId>> = IndexVec::from_elem(None, n);
        for r in &order {
            for b in &r.blocks {
                region[*b].get_or_insert(r.opener);
            }
        }
        let mut ok = true;
        let mut reported = HashSet::new();
        for r in regions {
            if region[r.opener] != region[r.closer] {
                ok = false;
                let other = region[r.opener].or(region[r.closer]).expect("one of them is in a region");
                if !reported.insert((r.opener.min(other), r.opener.max(other))) {
                    continue;
                }
                self.diags.push(
                    diag(
                        Kind::RegionOverlap,
                        self.lowered.blocks[r.opener].span,
                        format!(
                            "the region of `{}` overlaps the region of `{}` without nesting in it",
                            self.name(r.opener),
                            self.name(other)
                        ),
                        "opens here",
                        "a region inside another holds both its opener and its closer",
                    )
                    .with(self.lowered.blocks[r.closer].span, "closes here")
                    .with(self.lowered.blocks[other].span, "the other region"),
                );
            }
        }
        ok.then_some(region)
    }

    /// Labels the blocks of each branch region by alternative; reports alternatives that meet.
    fn alternatives(
        &mut self,
        regions: &[Region],
        region: &IndexVec<BlockId, Option<BlockId>>,
    ) -> Option<IndexVec<BlockId, Option<FlowId>>> {
        let n = self.lowered.blocks.len();
        let mut alternative: IndexVec<BlockId, Option<FlowId>> = IndexVec::from_elem(None, n);
        let mut owner: IndexVec<BlockId, Option<FlowId>> = IndexVec::from_elem(None, n);
        let mut ok = true;
        let mut stack = Vec::new();
        for r in regions.iter().filter(|r| r.kind == OpenerKind::Branch) {
            r.blocks.iter().for_each(|b| owner[*b] = None);
            let mut met = false;
            for &first in &self.succs[r.opener] {
                let s = self.lowered.flows[first].to;
                if s == r.closer {
                    continue;
                }
                stack.clear();
                stack.push(s);
                while let Some(b) = stack.pop() {
                    match owner[b] {
                        Some(o) if o == first => continue,
                        Some(other) => {
                            if !met {
                                met = true;
                                ok = false;
                                self.diags.push(
                                    diag(
                                        Kind::BranchPathsMeet,
                                        self.lowered.blocks[b].span,
                                        format!(
                                            "two alternatives of branch `{}` meet at `{}` before its closer `{}`",
                                            self.name(r.opener),
                                            self.name(b),
                                            self.name(r.closer)
                                        ),
                                        "reached from both",
                                        "only one alternative of a branch runs, so nothing inside can wait for two of \
                                         them: join them at the closer, or duplicate the shared block",
                                    )
                                    .with(self.flow_span(other), "one alternative")
                                    .with(self.flow_span(first), "another alternative"),
                                );
                            }
                            continue;
                        }
                        None => owner[b] = Some(first),
                    }
                    if region[b] == Some(r.opener) {
                        alternative[b] = Some(first);
                    }
                    for f in &self.succs[b] {
                        let to = self.lowered.flows[*f].to;
                        if to != r.closer {
                            stack.push(to);
                        }
                    }
                }
            }
        }
        ok.then_some(alternative)
    }
}
