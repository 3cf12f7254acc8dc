//! Diffusion load balancing between clusters (multi-die machines, [`super::params::Mode::Local`]).
//!
//! No global scheduler: each cluster's CBU schedules its own TBUs. Every period, each cluster `i`
//! with queued one-TBU work compares its load `L_i` (expected cycles queued in it plus the
//! expected remaining cycles of its running tasks) with each mesh neighbour `j`'s and, when
//! `L_i > L_j` and `j` has an idle TBU, moves queued tasks worth `alpha x (L_i - L_j)` to `j` (a
//! task moves when at least half of it fits), the least urgent first: first-order diffusion
//! (Cybenko 1989), on the loads of the round's start. A moved task is placed again from `j` as a ready task is (it may run at once
//! on an idle TBU within `j`'s reach), after a control message from `i`; its data moves when it
//! runs. Clusters are visited in index order, so the result is deterministic.
//!
//! Gangs and batches queue per die, and diffuse between dies the same way, on the grid of dies:
//! a die's load is the expected TBU-cycles queued in it (its clusters' and its gang domain's; a
//! gang task counts its cycles times its shards) plus its TBUs' remaining expected cycles, per TBU;
//! when die `i`'s exceeds a neighbour die `j`'s, queued gang tasks worth
//! `alpha x (l_i - l_j) x min(TBUs of i, TBUs of j)` move to `j` (the least urgent first, only of
//! blocks enough of `j`'s TBUs may run), placed again from `j`'s centre after a control message
//! between the two centres. The collecting gang stays. Dies are visited in index order.

use octopus_hw::ClusterId;
use octopus_owg::index::Idx;
use octopus_owg::ir::BlockId;

use super::core::{Core, Entry};
use crate::Cycle;
use crate::scheduler::{Ctx, TaskRef};

/// A queued task diffusion took from cluster `from`'s queue for cluster `to`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Move {
    pub entry: Entry,
    pub from: ClusterId,
    pub to: ClusterId,
}

/// How much diffusion moved, for [`crate::SimResult::counters`].
#[derive(Clone, Debug, Default)]
pub(crate) struct MoveCounts {
    /// Moves (a task moved twice counts twice).
    pub moves: u64,
    /// Of them, moves of gang tasks between dies.
    pub gang_moves: u64,
    /// Distinct tasks moved at least once, and at least twice.
    pub tasks_moved: u64,
    pub tasks_moved_again: u64,
    /// Per task slot: its generation and how often that task moved.
    per_slot: Vec<(u32, u32)>,
}

impl MoveCounts {
    fn count(&mut self, task: TaskRef, gang: bool) {
        self.moves += 1;
        self.gang_moves += u64::from(gang);
        let i = task.index as usize;
        if self.per_slot.len() <= i {
            self.per_slot.resize(i + 1, (u32::MAX, 0));
        }
        let slot = &mut self.per_slot[i];
        if slot.0 != task.generation {
            *slot = (task.generation, 0);
        }
        slot.1 += 1;
        self.tasks_moved += u64::from(slot.1 == 1);
        self.tasks_moved_again += u64::from(slot.1 == 2);
    }
}

/// The diffusion component.
#[derive(Clone, Debug)]
pub(crate) struct Diffusion {
    /// What was moved so far.
    pub counts: MoveCounts,
    /// Per cluster: the remaining expected cycles of its TBUs, valid while `stamp` equals `round`
    /// (loads are those of the round's start).
    busy: Vec<Cycle>,
    stamp: Vec<u64>,
    round: u64,
    /// Per die: its neighbours on the grid of dies, and its TBUs.
    die_neighbours: Vec<Vec<usize>>,
    die_tbus: Vec<u64>,
}

impl Diffusion {
    pub(crate) fn new(ctx: &Ctx<'_>) -> Diffusion {
        let n = ctx.cluster_count();
        let m = ctx.machine();
        let die_neighbours = m
            .dies
            .iter()
            .map(|a| {
                m.dies
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| a.x.abs_diff(b.x) + a.y.abs_diff(b.y) == 1)
                    .map(|(j, _)| j)
                    .collect()
            })
            .collect();
        let mut die_tbus = vec![0; m.dies.len()];
        for c in m.clusters.iter() {
            die_tbus[c.die.index()] += c.tbus().count() as u64;
        }
        Diffusion {
            counts: MoveCounts::default(),
            busy: vec![0; n],
            stamp: vec![0; n],
            round: 0,
            die_neighbours,
            die_tbus,
        }
    }

    /// A die's load per TBU: the queued expected TBU-cycles of its clusters and gang domain plus
    /// the remaining expected cycles of its TBUs, over its TBUs.
    fn die_load(&mut self, ctx: &Ctx<'_>, core: &Core, die: usize, queued: &[u64]) -> u64 {
        let mut sum = core.queued(core.die_domain(die)).0;
        for &c in core.die_clusters(die) {
            sum += self.load(ctx, core, c, queued);
        }
        sum / self.die_tbus[die].max(1)
    }

    /// A cluster's load: queued expected cycles plus the remaining expected cycles of its TBUs.
    fn load(&mut self, ctx: &Ctx<'_>, core: &Core, c: ClusterId, queued: &[u64]) -> u64 {
        let i = c.index();
        if self.stamp[i] != self.round {
            self.busy[i] = Core::busy(ctx, c);
            self.stamp[i] = self.round;
        }
        queued[core.domain(c)] + self.busy[i]
    }

    /// One diffusion round: the queued tasks taken out of their clusters' queues, to be placed
    /// again from their new cluster.
    pub(crate) fn step(&mut self, ctx: &Ctx<'_>, core: &mut Core) -> Vec<Move> {
        let mut moves = Vec::new();
        if ctx.queued_total() == 0 {
            return moves;
        }
        self.round += 1;
        let alpha = core.params().alpha;
        let nc = ctx.cluster_count();
        // The queued loads at the round's start.
        let queued: Vec<u64> = (0..nc).map(|d| core.queued(d).0).collect();
        let dies = ctx.machine().dies.len();
        // Gang domains are the die's, numbered after the clusters', in Mode::Local.
        let die_loads: Vec<u64> = if dies > 1 && core.die_domain(0) == nc {
            (0..dies).map(|d| self.die_load(ctx, core, d, &queued)).collect()
        } else {
            Vec::new()
        };
        let mut next = 0;
        while let Some(i) = core.next_queued(next) {
            if i >= nc {
                break;
            }
            next = i + 1;
            let ci = ClusterId(i as u32);
            let li = self.load(ctx, core, ci, &queued);
            let mut neighbours = [ClusterId(0); 4];
            let mut nn = 0;
            for (c, _) in ctx.machine().neighbours(ci) {
                neighbours[nn] = c;
                nn += 1;
            }
            for &cj in &neighbours[..nn] {
                let lj = self.load(ctx, core, cj, &queued);
                if li <= lj {
                    continue;
                }
                // Only toward a neighbour with an idle TBU: sent to a busy one, a task just
                // queues there and moves on at the next round (a bucket brigade).
                let mut idle = false;
                ctx.each_not_running(cj, |t| {
                    idle |= ctx.is_idle(t);
                    !idle
                });
                if !idle {
                    continue;
                }
                let amount = (alpha * (li - lj) as f64) as u64;
                for entry in self.take(core, i, amount, |_| true) {
                    moves.push(Move { entry, from: ci, to: cj });
                }
            }
        }
        for i in 0..die_loads.len() {
            self.step_die(ctx, core, i, &die_loads, &mut moves);
        }
        moves
    }

    /// Die `i`'s part of a round: queued gang tasks move to less loaded neighbour dies.
    fn step_die(&mut self, ctx: &Ctx<'_>, core: &mut Core, i: usize, loads: &[u64], moves: &mut Vec<Move>) {
        let di = core.die_domain(i);
        let alpha = core.params().alpha;
        for jx in 0..self.die_neighbours[i].len() {
            let j = self.die_neighbours[i][jx];
            if core.queued(di).1 == 0 {
                return;
            }
            if loads[i] <= loads[j] {
                continue;
            }
            let dj = core.die_domain(j);
            let room = self.die_tbus[i].min(self.die_tbus[j]);
            let amount = (alpha * (loads[i] - loads[j]) as f64 * room as f64) as u64;
            // Only blocks enough of `j`'s TBUs may run.
            let mut able = Vec::new();
            core.queued_blocks(di, |b| {
                let block = BlockId(b as u32);
                if core.able_in_domain(ctx, dj, block) >= ctx.shards(block) as usize {
                    able.push(b);
                }
            });
            let (from, to) = (core.die_centre(i), core.die_centre(j));
            for entry in self.take(core, di, amount, |b| able.contains(&b)) {
                moves.push(Move { entry, from, to });
            }
        }
    }

    /// Takes queued tasks of domain `d` worth `amount` expected TBU-cycles out of its queues, the
    /// least urgent first among the blocks `movable` admits (ties to the lower block); a task is
    /// taken when at least half of it fits. Least urgent: the most urgent task is the one `d`'s
    /// TBUs take next, and moved, it is the most urgent at its destination too and moves on again.
    fn take(
        &mut self,
        core: &mut Core,
        d: usize,
        amount: u64,
        movable: impl Fn(usize) -> bool,
    ) -> Vec<Entry> {
        let mut taken = Vec::new();
        let mut moved: u64 = 0;
        loop {
            let mut least: Option<(usize, Entry)> = None;
            core.queued_blocks(d, |b| {
                if !movable(b) {
                    return;
                }
                let e = core.peek(d, b).expect("a queued block");
                // Blocks come in increasing order, so ties go to the lower one.
                if least.is_none_or(|(_, m)| e.urgency() < m.urgency()) {
                    least = Some((b, e));
                }
            });
            let Some((b, _)) = least else { break };
            let cyc = core.work(b);
            if moved + cyc / 2 > amount {
                break;
            }
            let e = core.pop(d, b).expect("peeked");
            self.counts.count(e.task, d >= self.busy.len());
            taken.push(e);
            moved += cyc;
        }
        taken
    }
}
