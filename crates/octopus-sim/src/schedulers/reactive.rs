//! `reactive`: `static` plus threshold-triggered rebalancing. Every period it measures each task
//! block's backlog per home TBU; once the largest exceeds the smallest by the threshold, it
//! migrates one idle home TBU of the least loaded block (one that keeps at least one home) to the
//! most loaded one: the TBU is reconfigured, pays a migration delay, and takes over a share of the
//! overloaded block's queued tasks. Rebalancing only ever reacts to an imbalance already observed.
//! Hysteresis: a TBU that migrated stays put for a cooldown, and no block gives up homes below its
//! shard count (its gangs could not start). Placement on the current homes is `static`'s
//! ([`super::homes`]); a block that runs gangs or batches gains one more home per migration and
//! forms more gangs as its homes grow.

use octopus_hw::TbuId;
use octopus_owg::index::Idx;
use octopus_owg::ir::BlockId;

use super::homes::Homes;
use crate::Cycle;
use crate::scheduler::{BatchId, Ctx, QueueId, Scheduler, TaskRef};

/// Parameters of [`Reactive`]; defaults and reasons in `docs/schedulers.md`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReactiveParams {
    /// Cycles between checks; `None`: the visit-weighted mean expected task duration.
    pub period: Option<Cycle>,
    /// Imbalance (queued tasks per home TBU, most loaded block minus least loaded) that triggers a migration.
    pub threshold: f64,
    /// Cycles a migration costs on top of the reconfiguration, as a multiple of the TBU's reconfiguration cycles.
    pub migration_delay_factor: f64,
    /// Migrations per check, at most.
    pub max_migrations: usize,
    /// Periods a TBU that migrated stays with its new block before it may migrate again.
    pub cooldown_periods: u64,
}

impl Default for ReactiveParams {
    fn default() -> Self {
        ReactiveParams {
            period: None,
            threshold: 4.0,
            migration_delay_factor: 1.0,
            max_migrations: 1,
            cooldown_periods: 8,
        }
    }
}

/// The `reactive` baseline.
#[derive(Clone, Debug)]
pub struct Reactive {
    params: ReactiveParams,
    period: Cycle,
    /// The current home TBUs of each block (starts as the plan's) and the queues on them.
    place: Homes,
    /// How many blocks each TBU is home to.
    home_count: Vec<u32>,
    /// Per TBU: when it may migrate again.
    settled_at: Vec<Cycle>,
    /// Migrations done.
    pub migrations: u64,
}

impl Reactive {
    /// A reactive scheduler with these parameters.
    pub fn new(params: ReactiveParams) -> Reactive {
        Reactive {
            params,
            period: 1,
            place: Homes::default(),
            home_count: Vec::new(),
            settled_at: Vec::new(),
            migrations: 0,
        }
    }

    fn pressure(&self, ctx: &Ctx<'_>, b: usize) -> f64 {
        ctx.queued_of_block(BlockId(b as u32)) as f64 / self.place.homes[b].len() as f64
    }

    /// One migration if the imbalance exceeds the threshold; whether one happened.
    fn rebalance(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let blocks: Vec<usize> =
            (0..self.place.homes.len()).filter(|&b| !self.place.homes[b].is_empty()).collect();
        let Some(&hot) = blocks
            .iter()
            .max_by(|&&a, &&b| self.pressure(ctx, a).total_cmp(&self.pressure(ctx, b)).then(b.cmp(&a)))
        else {
            return false;
        };
        let hot_p = self.pressure(ctx, hot);
        // Donors: blocks at least `threshold` below, with a spare idle TBU dedicated to them.
        let mut best: Option<(f64, usize, TbuId)> = None;
        let now = ctx.now();
        for &d in &blocks {
            let keep = ctx.shards(BlockId(d as u32)).max(1) as usize;
            if d == hot || self.place.homes[d].len() <= keep {
                continue;
            }
            let p = self.pressure(ctx, d);
            if hot_p - p < self.params.threshold {
                continue;
            }
            let spare = self.place.homes[d].iter().copied().find(|&t| {
                self.home_count[t.index()] == 1
                    && self.settled_at[t.index()] <= now
                    && ctx.is_idle(t)
                    && ctx.queue_len(QueueId::Tbu(t)) == 0
            });
            if let Some(t) = spare
                && best.is_none_or(|(bp, bd, _)| p < bp || (p == bp && d < bd))
            {
                best = Some((p, d, t));
            }
        }
        let Some((_, donor, tbu)) = best else {
            return false;
        };
        self.place.homes[donor].retain(|&t| t != tbu);
        self.place.homes[hot].push(tbu);
        self.place.homes[hot].sort_unstable();
        let hot_block = BlockId(hot as u32);
        self.place.rebuild(ctx);
        let delay = (ctx.reconfig_cycles(tbu) as f64 * self.params.migration_delay_factor).round() as Cycle;
        ctx.reconfigure(tbu, hot_block, delay);
        self.settled_at[tbu.index()] = now + delay + self.period.saturating_mul(self.params.cooldown_periods);
        self.migrations += 1;
        // A gang block's queue is its own; a one-TBU block hands the new home its share of the
        // backlog: the newest tasks of the longest queues.
        if self.place.is_gang(hot_block) {
            return true;
        }
        let share = (ctx.queued_of_block(hot_block) / self.place.homes[hot].len()).max(1);
        for _ in 0..share {
            let longest = self.place.homes[hot]
                .iter()
                .copied()
                .filter(|&t| t != tbu)
                .max_by_key(|&t| (ctx.queue_len(QueueId::Tbu(t)), std::cmp::Reverse(t)));
            let Some(from) = longest else { break };
            let Some(task) =
                ctx.queue_iter(QueueId::Tbu(from)).filter(|&t| ctx.task(t).block == hot_block).last()
            else {
                break;
            };
            if ctx.queue_len(QueueId::Tbu(from)) <= ctx.queue_len(QueueId::Tbu(tbu)) + 1 {
                break;
            }
            ctx.enqueue(task, QueueId::Tbu(tbu));
        }
        true
    }
}

impl Scheduler for Reactive {
    fn name(&self) -> &str {
        "reactive"
    }

    fn init(&mut self, ctx: &mut Ctx<'_>) {
        let wf = ctx.workflow();
        self.place = Homes::from_plan(ctx);
        self.home_count = vec![0; ctx.tbu_count()];
        self.settled_at = vec![0; ctx.tbu_count()];
        for h in self.place.homes.iter().flatten() {
            self.home_count[h.index()] += 1;
        }
        self.period = self.params.period.unwrap_or_else(|| {
            let an = ctx.analysis();
            let (mut w, mut v) = (0.0, 0.0);
            for b in wf.tasks() {
                let home = ctx.homes(b)[0];
                w += an.blocks[b].visits * ctx.expected_cycles(b, home) as f64;
                v += an.blocks[b].visits;
            }
            if v > 0.0 { (w / v).round() as Cycle } else { 1 }
        });
        self.period = self.period.max(1);
    }

    fn tick_period(&self) -> Option<Cycle> {
        Some(self.period)
    }

    fn on_ready(&mut self, ctx: &mut Ctx<'_>, task: TaskRef) {
        self.place.place(ctx, task);
    }

    fn on_tbu_free(&mut self, ctx: &mut Ctx<'_>, tbu: TbuId) {
        self.place.on_tbu_free(ctx, tbu);
    }

    fn on_batch_room(&mut self, ctx: &mut Ctx<'_>, batch: BatchId) {
        self.place.on_batch_room(ctx, batch);
    }

    fn on_tick(&mut self, ctx: &mut Ctx<'_>) {
        for _ in 0..self.params.max_migrations {
            if !self.rebalance(ctx) {
                break;
            }
        }
    }
}
