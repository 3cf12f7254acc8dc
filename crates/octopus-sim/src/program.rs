//! The workflow lowered to flat tables the event loop indexes without chasing the IR: each block's
//! scope (the map copy or loop iteration it runs in), its place in its scope's per-frame arrays,
//! and the counts the closers wait for.
//!
//! A *scope* is the top level of the workflow (scope 0) or the body of one `map` or `loop`: the
//! blocks whose innermost enclosing map or loop region is that opener. `branch` and `fork` regions
//! run once per execution of their opener, so they do not open a scope. At run time each execution
//! of a scope is a *frame* (the request itself, one map copy, one loop iteration).

use octopus_owg::analysis::Analysis;
use octopus_owg::index::{Idx, IndexVec};
use octopus_owg::ir::{BlockId, BlockKind, Control, FlowId, Workflow};

/// What the event loop does with a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// A task block: runs on a TBU.
    Task,
    /// `branch`: one outgoing flow.
    Branch,
    /// `fork`: all outgoing flows.
    Fork,
    /// `map`: the body in `width` parallel frames.
    Map,
    /// `loop`: the body in `count` sequential frames.
    Loop,
    /// A closer; `opener` names its opener.
    Join { opener: BlockId },
}

pub(crate) const NO_SCOPE_OPENER: u32 = u32::MAX;

/// Flat tables of one workflow.
#[derive(Clone, Debug)]
pub(crate) struct Program {
    pub op: IndexVec<BlockId, Op>,
    /// The scope a block runs in.
    pub scope_of: IndexVec<BlockId, u32>,
    /// Index of the block in its scope's per-frame arrays.
    pub local: IndexVec<BlockId, u32>,
    /// For task blocks: the first of its input slots (one per incoming flow) in its scope's slot array.
    pub slot_base: IndexVec<BlockId, u32>,
    /// Per scope: the opener (`NO_SCOPE_OPENER` for scope 0).
    pub scope_opener: Vec<u32>,
    /// Per scope: initial pending-input counts of its blocks (closers of branches, maps and loops
    /// are set when their opener runs).
    pub scope_pending: Vec<Vec<u32>>,
    /// Per scope: how many input slots its task blocks have in all.
    pub scope_slots: Vec<u32>,
    /// The scope a map or loop opener's body runs in (0 for other blocks).
    pub body_scope: IndexVec<BlockId, u32>,
    /// For map and loop openers: flows from the body into the closer (the arrivals one body frame sends).
    pub body_exits: IndexVec<BlockId, u32>,
    /// The position of each flow among its target's incoming flows.
    pub flow_slot: IndexVec<FlowId, u32>,
    /// For flows leaving a `branch`: how many of the closer's incoming flows the alternative delivers.
    pub branch_reach: IndexVec<FlowId, u32>,
    /// Blocks without incoming flows.
    pub entries: Vec<BlockId>,
}

impl Program {
    pub(crate) fn new(wf: &Workflow, an: &Analysis) -> Program {
        let n = wf.blocks.len();
        let mut op = IndexVec::with_capacity(n);
        for b in wf.blocks.iter() {
            op.push(match &b.kind {
                BlockKind::Task(_) => Op::Task,
                BlockKind::Control(Control::Branch { .. }) => Op::Branch,
                BlockKind::Control(Control::Fork { .. }) => Op::Fork,
                BlockKind::Control(Control::Map { .. }) => Op::Map,
                BlockKind::Control(Control::Loop { .. }) => Op::Loop,
                BlockKind::Control(Control::Join { opener }) => Op::Join { opener: *opener },
            });
        }
        // Scopes: 0 is the top level, then one per map or loop opener in block order.
        let mut body_scope = IndexVec::from_elem(0u32, n);
        let mut scope_opener = vec![NO_SCOPE_OPENER];
        for id in wf.blocks.indices() {
            if matches!(op[id], Op::Map | Op::Loop) {
                body_scope[id] = scope_opener.len() as u32;
                scope_opener.push(id.0);
            }
        }
        let mut scope_of = IndexVec::from_elem(0u32, n);
        for id in wf.blocks.indices() {
            let mut r = an.blocks[id].region;
            while let Some(o) = r {
                if matches!(op[o], Op::Map | Op::Loop) {
                    scope_of[id] = body_scope[o];
                    break;
                }
                r = an.blocks[o].region;
            }
        }
        let scopes = scope_opener.len();
        let mut local = IndexVec::from_elem(0u32, n);
        let mut slot_base = IndexVec::from_elem(0u32, n);
        let mut scope_pending = vec![Vec::new(); scopes];
        let mut scope_slots = vec![0u32; scopes];
        for id in wf.blocks.indices() {
            let s = scope_of[id] as usize;
            local[id] = scope_pending[s].len() as u32;
            let preds = an.preds[id].len() as u32;
            let initial = match op[id] {
                Op::Join { opener } => match op[opener] {
                    Op::Fork => preds,
                    // Set when the opener runs.
                    _ => 0,
                },
                _ => preds,
            };
            scope_pending[s].push(initial);
            if op[id] == Op::Task {
                slot_base[id] = scope_slots[s];
                scope_slots[s] += preds;
            }
        }
        let mut flow_slot = IndexVec::from_elem(0u32, wf.flows.len());
        for id in wf.blocks.indices() {
            for (i, &f) in an.preds[id].iter().enumerate() {
                flow_slot[f] = i as u32;
            }
        }
        let mut body_exits = IndexVec::from_elem(0u32, n);
        for id in wf.blocks.indices() {
            if let Op::Join { opener } = op[id] {
                body_exits[opener] =
                    an.preds[id].iter().filter(|&&f| wf.flows[f].from != opener).count() as u32;
            }
        }
        // For each branch alternative: the closer's incoming flows reachable from the taken flow.
        // Alternatives do not meet before the closer, so reachability within the region is exact.
        let mut branch_reach = IndexVec::from_elem(0u32, wf.flows.len());
        let mut seen = vec![false; n];
        let mut stack = Vec::new();
        for id in wf.blocks.indices() {
            if op[id] != Op::Branch {
                continue;
            }
            let closer = wf.blocks[id].control().and_then(Control::join).expect("a branch names its closer");
            for &f in &an.succs[id] {
                seen.iter_mut().for_each(|s| *s = false);
                let mut count = 0;
                stack.clear();
                stack.push(f);
                while let Some(g) = stack.pop() {
                    let to = wf.flows[g].to;
                    if to == closer {
                        count += 1;
                        continue;
                    }
                    if !seen[to.index()] {
                        seen[to.index()] = true;
                        stack.extend(an.succs[to].iter().copied());
                    }
                }
                branch_reach[f] = count;
            }
        }
        Program {
            op,
            scope_of,
            local,
            slot_base,
            scope_opener,
            scope_pending,
            scope_slots,
            body_scope,
            body_exits,
            flow_slot,
            branch_reach,
            entries: an.entries.clone(),
        }
    }

    pub(crate) fn scopes(&self) -> usize {
        self.scope_opener.len()
    }
}
