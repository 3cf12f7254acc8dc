//! `steal`: randomized work stealing between cluster CBUs (Blumofe and Leiserson, JACM 1999), a
//! distributed baseline that pays for every message.
//!
//! Each cluster's CBU keeps a FIFO of the ready one-TBU tasks whose data is in it (the cluster of
//! the largest input; no input: the block's CBU). A ready task starts at once on an idle TBU of
//! its cluster (the one idle longest), else it queues there. A TBU that frees takes the oldest task
//! of its cluster's FIFO. A cluster with an idle TBU and an empty FIFO is a *thief*: it sends a
//! steal request to a victim cluster drawn uniformly among the others; the request arrives after
//! a control message, the victim's CBU takes its turn (`control_cycles`) and, if its FIFO holds a
//! task, hands the oldest over: the task starts on the thief's idle TBU after the reply's message
//! (its inputs move when it runs). An empty victim answers no, and the thief tries another, up to
//! `retries` in a row; then it waits for the next tick. A decision reads only the deciding
//! cluster's own FIFO and TBUs; everything learnt of another cluster costs its messages.
//!
//! Gangs (sharded or batched executions) are scheduled per die by the die's centre CBU, FIFO, as
//! `greedy` does for the machine: a gang starts on the die's longest-idle TBUs, or a batched task
//! joins the first running batch of its group on the die with room, or the head of the die's FIFO
//! holds idle TBUs until its gang is complete; each start pays a message from the task's data to
//! the centre, the centre's turn and a message to the gang's farthest TBU. Dies steal gangs the
//! same way: a die centre with idle TBUs and no gang queued asks a random other die's centre, which
//! hands over its oldest queued gang that the thief die is large enough for (not one already
//! collecting its TBUs); it joins the thief's FIFO after the reply. Parameters and reasons:
//! `docs/schedulers.md`.

use std::collections::{BTreeMap, VecDeque};

use octopus_hw::{ClusterId, TbuId};
use octopus_owg::index::Idx;
use rand::Rng;
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

use super::core::{Core, quarter_task_period};
use crate::Cycle;
use crate::scheduler::{BatchId, Ctx, QueueId, Scheduler, TaskRef};

/// A message on its way.
#[derive(Clone, Copy, Debug)]
enum Message {
    /// A cluster's steal request to another cluster, after `failed` failed attempts.
    Steal { thief: ClusterId, victim: ClusterId, failed: u32 },
    /// A die centre's steal request for a gang to another die's centre.
    StealGang { thief: usize, victim: usize, failed: u32 },
    /// A stolen gang task on its way to the thief die's FIFO.
    Gang { task: TaskRef, die: usize },
}

/// The `steal` baseline.
#[derive(Clone, Debug)]
pub struct Steal {
    /// Failed steals in a row after which a thief waits for the next tick.
    retries: u32,
    rng: Pcg64Mcg,
    /// Per cluster: its idle TBUs, longest idle first.
    idle: Vec<VecDeque<TbuId>>,
    /// Per cluster, and per die: whether a steal of it is on its way.
    stealing: Vec<bool>,
    die_stealing: Vec<bool>,
    /// Messages by arrival time (and order sent).
    messages: BTreeMap<(Cycle, u64), Message>,
    sent: u64,
    /// Per die: its FIFO of gang tasks, its centre, its clusters.
    gangs: Vec<VecDeque<TaskRef>>,
    centre: Vec<ClusterId>,
    die_clusters: Vec<Vec<ClusterId>>,
    period: Cycle,
    /// Steals that took a task, and a gang.
    stolen: u64,
    stolen_gangs: u64,
    gang: Vec<TbuId>,
}

impl Default for Steal {
    fn default() -> Steal {
        Steal {
            retries: 4,
            rng: Pcg64Mcg::seed_from_u64(0),
            idle: Vec::new(),
            stealing: Vec::new(),
            die_stealing: Vec::new(),
            messages: BTreeMap::new(),
            sent: 0,
            gangs: Vec::new(),
            centre: Vec::new(),
            die_clusters: Vec::new(),
            period: 1,
            stolen: 0,
            stolen_gangs: 0,
            gang: Vec::new(),
        }
    }
}

impl Steal {
    fn is_gang(ctx: &Ctx<'_>, task: TaskRef) -> bool {
        let b = ctx.task(task).block;
        ctx.shards(b) > 1 || ctx.batched(b)
    }

    fn die(ctx: &Ctx<'_>, c: ClusterId) -> usize {
        ctx.die_of(c).index()
    }

    /// The cluster of a task's data.
    fn home(ctx: &Ctx<'_>, task: TaskRef) -> ClusterId {
        Core::source(ctx, task, ctx.cbu_of(ctx.task(task).block))
    }

    fn msg(ctx: &Ctx<'_>, a: ClusterId, b: ClusterId) -> Cycle {
        ctx.cost().control_message_cycles(ctx.hops(a, b))
    }

    /// Runs the oldest task of cluster `c`'s FIFO on its idle TBUs while both last.
    fn serve_local(&mut self, ctx: &mut Ctx<'_>, c: ClusterId) {
        while !self.idle[c.index()].is_empty() {
            let Some(task) = ctx.queue_front(QueueId::Cluster(c)) else { return };
            let tbu = self.idle[c.index()].pop_front().expect("an idle TBU");
            ctx.assign(task, tbu);
        }
    }

    /// Sends a steal request from `thief` if it has an idle TBU, nothing queued, and no steal out.
    fn try_steal(&mut self, ctx: &mut Ctx<'_>, thief: ClusterId, failed: u32, after: Cycle) {
        let n = ctx.cluster_count();
        let t = thief.index();
        if n < 2 || self.stealing[t] || self.idle[t].is_empty() || ctx.queue_len(QueueId::Cluster(thief)) > 0
        {
            return;
        }
        let mut v = self.rng.random_range(0..n as u32 - 1);
        if v >= thief.0 {
            v += 1;
        }
        let victim = ClusterId(v);
        self.stealing[t] = true;
        self.send(ctx, after + Self::msg(ctx, thief, victim), Message::Steal { thief, victim, failed });
    }

    fn send(&mut self, ctx: &mut Ctx<'_>, after: Cycle, m: Message) {
        let at = ctx.now() + after;
        self.sent += 1;
        self.messages.insert((at, self.sent), m);
        ctx.wake_at(at);
    }

    /// Die `d`'s idle TBUs.
    fn die_idle(&self, d: usize) -> usize {
        self.die_clusters[d].iter().map(|c| self.idle[c.index()].len()).sum()
    }

    /// Sends a gang steal request from die `thief`'s centre if it has idle TBUs, no gang queued and
    /// no request out.
    fn try_steal_gang(&mut self, ctx: &mut Ctx<'_>, thief: usize, failed: u32, after: Cycle) {
        let n = self.gangs.len();
        if n < 2 || self.die_stealing[thief] || !self.gangs[thief].is_empty() || self.die_idle(thief) == 0 {
            return;
        }
        let mut victim = self.rng.random_range(0..n - 1);
        if victim >= thief {
            victim += 1;
        }
        self.die_stealing[thief] = true;
        let m = Self::msg(ctx, self.centre[thief], self.centre[victim]);
        self.send(ctx, after + m, Message::StealGang { thief, victim, failed });
    }

    /// A message arrives.
    fn arrive(&mut self, ctx: &mut Ctx<'_>, m: Message) {
        match m {
            Message::Steal { thief, victim, failed } => {
                let t = thief.index();
                self.stealing[t] = false;
                let turn = ctx.cost().control_cycles() + Self::msg(ctx, victim, thief);
                let task = ctx.queue_front(QueueId::Cluster(victim));
                match (task, self.idle[t].front().copied()) {
                    (Some(task), Some(tbu)) => {
                        self.idle[t].pop_front();
                        self.stolen += 1;
                        ctx.dispatch(task, &[tbu], turn);
                    }
                    (None, Some(_)) if failed + 1 < self.retries => {
                        self.try_steal(ctx, thief, failed + 1, turn)
                    }
                    // Nothing to take, or nobody left to run it: the thief waits for a TBU or a tick.
                    _ => {}
                }
            }
            Message::StealGang { thief, victim, failed } => {
                self.die_stealing[thief] = false;
                let turn =
                    ctx.cost().control_cycles() + Self::msg(ctx, self.centre[victim], self.centre[thief]);
                // The oldest gang the thief's TBUs could hold, other than one collecting its TBUs.
                let room = self.die_tbus(ctx, thief);
                let pos = self.gangs[victim].iter().position(|&t| {
                    ctx.held_tbus(t).is_empty() && ctx.shards(ctx.task(t).block) as usize <= room
                });
                match pos {
                    Some(p) => {
                        let task = self.gangs[victim].remove(p).expect("found");
                        self.stolen_gangs += 1;
                        self.send(ctx, turn, Message::Gang { task, die: thief });
                    }
                    None if failed + 1 < self.retries => self.try_steal_gang(ctx, thief, failed + 1, turn),
                    None => {}
                }
            }
            Message::Gang { task, die } => {
                self.gangs[die].push_back(task);
                self.serve_gangs(ctx, die);
            }
        }
    }

    /// Die `d`'s TBUs.
    fn die_tbus(&self, ctx: &Ctx<'_>, d: usize) -> usize {
        self.die_clusters[d].iter().map(|&c| ctx.machine().clusters[c].tbus().count()).sum()
    }

    /// The first running batch of the task's group on die `d` with room.
    fn batch_for(ctx: &Ctx<'_>, task: TaskRef, d: usize) -> Option<BatchId> {
        let v = ctx.task(task);
        if !v.batched {
            return None;
        }
        ctx.batches(v.block).find(|&b| {
            let view = ctx.batch(b);
            view.has_room() && ctx.die_of(view.cluster).index() == d
        })
    }

    /// Die `d`'s idle TBUs with those held for `task`, longest idle first per cluster: enough for
    /// its gang, or `None`.
    fn start_gang(&mut self, ctx: &mut Ctx<'_>, d: usize, task: TaskRef) -> bool {
        let k = ctx.shards(ctx.task(task).block) as usize;
        let held = ctx.held_tbus(task).len();
        let free: usize = self.die_clusters[d].iter().map(|c| self.idle[c.index()].len()).sum();
        if held + free < k {
            return false;
        }
        self.gang.clear();
        self.gang.extend_from_slice(ctx.held_tbus(task));
        for &c in &self.die_clusters[d] {
            while self.gang.len() < k {
                let Some(t) = self.idle[c.index()].pop_front() else { break };
                self.gang.push(t);
            }
        }
        let src = Self::home(ctx, task);
        let centre = self.centre[d];
        let far = self.gang.iter().map(|&t| ctx.cluster_of(t)).max_by_key(|&c| ctx.hops(centre, c));
        let delay = Self::msg(ctx, src, centre)
            + ctx.cost().control_cycles()
            + Self::msg(ctx, centre, far.expect("a gang has TBUs"));
        let gang = std::mem::take(&mut self.gang);
        ctx.dispatch(task, &gang, delay);
        self.gang = gang;
        true
    }

    /// Serves die `d`'s gang FIFO from its head: starts, joins, or holds every idle TBU of the die
    /// for the head's gang.
    fn serve_gangs(&mut self, ctx: &mut Ctx<'_>, d: usize) {
        while let Some(&head) = self.gangs[d].front() {
            if self.start_gang(ctx, d, head) {
                self.gangs[d].pop_front();
                continue;
            }
            if let Some(b) = Self::batch_for(ctx, head, d) {
                self.gangs[d].pop_front();
                self.release_held(ctx, head);
                ctx.join(head, b);
                continue;
            }
            for i in 0..self.die_clusters[d].len() {
                let c = self.die_clusters[d][i];
                while let Some(t) = self.idle[c.index()].pop_front() {
                    ctx.hold(head, t);
                }
            }
            return;
        }
    }

    fn release_held(&mut self, ctx: &mut Ctx<'_>, task: TaskRef) {
        let held = ctx.held_tbus(task).to_vec();
        for &t in held.iter().rev() {
            ctx.release(t);
            self.idle[ctx.cluster_of(t).index()].push_front(t);
        }
    }
}

impl Scheduler for Steal {
    fn name(&self) -> &str {
        "steal"
    }

    fn init(&mut self, ctx: &mut Ctx<'_>) {
        let m = ctx.machine();
        self.rng = Pcg64Mcg::seed_from_u64(ctx.seed() ^ 0x5354_4541_4c21);
        self.idle = vec![VecDeque::new(); m.clusters.len()];
        for t in (0..ctx.tbu_count() as u32).map(TbuId) {
            if ctx.is_idle(t) {
                self.idle[ctx.cluster_of(t).index()].push_back(t);
            }
        }
        self.stealing = vec![false; m.clusters.len()];
        self.die_stealing = vec![false; m.dies.len()];
        self.gangs = vec![VecDeque::new(); m.dies.len()];
        self.die_clusters = vec![Vec::new(); m.dies.len()];
        for (c, cl) in m.clusters.iter_enumerated() {
            self.die_clusters[cl.die.index()].push(c);
        }
        self.centre = m.dies.indices().map(|d| m.die_centre(d)).collect();
        self.period = quarter_task_period(ctx);
    }

    fn tick_period(&self) -> Option<Cycle> {
        Some(self.period)
    }

    fn on_ready(&mut self, ctx: &mut Ctx<'_>, task: TaskRef) {
        let home = Self::home(ctx, task);
        if Self::is_gang(ctx, task) {
            let d = Self::die(ctx, home);
            ctx.enqueue(task, QueueId::Global);
            self.gangs[d].push_back(task);
            return self.serve_gangs(ctx, d);
        }
        ctx.enqueue(task, QueueId::Cluster(home));
        self.serve_local(ctx, home);
    }

    fn on_tbu_free(&mut self, ctx: &mut Ctx<'_>, tbu: TbuId) {
        let c = ctx.cluster_of(tbu);
        let d = Self::die(ctx, c);
        self.idle[c.index()].push_back(tbu);
        // The older of the cluster's oldest task and the die's oldest gang goes first, so that
        // neither kind starves the other.
        let local = ctx.queue_front(QueueId::Cluster(c)).map(|t| ctx.task(t).ready_at);
        let gang = self.gangs[d].front().map(|&t| ctx.task(t).ready_at);
        if gang.is_some_and(|g| local.is_none_or(|l| g <= l)) {
            self.serve_gangs(ctx, d);
            self.serve_local(ctx, c);
        } else {
            self.serve_local(ctx, c);
            self.serve_gangs(ctx, d);
        }
        self.try_steal(ctx, c, 0, 0);
        self.try_steal_gang(ctx, d, 0, 0);
    }

    fn on_batch_room(&mut self, ctx: &mut Ctx<'_>, batch: BatchId) {
        let view = ctx.batch(batch);
        let d = ctx.die_of(view.cluster).index();
        while ctx.batch(batch).has_room() {
            let Some(pos) = self.gangs[d].iter().position(|&t| ctx.group(ctx.task(t).block) == view.block)
            else {
                break;
            };
            let task = self.gangs[d].remove(pos).expect("found");
            self.release_held(ctx, task);
            ctx.join(task, batch);
        }
        self.serve_gangs(ctx, d);
    }

    fn on_wake(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now();
        while let Some((&key, _)) = self.messages.first_key_value() {
            if key.0 > now {
                break;
            }
            let m = self.messages.remove(&key).expect("the first message");
            self.arrive(ctx, m);
        }
    }

    fn on_tick(&mut self, ctx: &mut Ctx<'_>) {
        for c in 0..self.idle.len() {
            self.try_steal(ctx, ClusterId(c as u32), 0, 0);
        }
        for d in 0..self.gangs.len() {
            self.try_steal_gang(ctx, d, 0, 0);
        }
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        vec![("steal_messages", self.sent), ("steals", self.stolen), ("gang_steals", self.stolen_gangs)]
    }
}
