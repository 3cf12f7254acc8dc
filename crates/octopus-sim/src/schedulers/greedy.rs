//! `greedy`: work-conserving and indiscriminate. One machine-wide FIFO of ready tasks; a ready task
//! goes to the TBU that has been idle longest, whatever it is configured for and wherever its
//! inputs are; a TBU that becomes free takes the oldest ready task.

use std::collections::VecDeque;

use octopus_hw::TbuId;

use crate::scheduler::{Ctx, QueueId, Scheduler, TaskRef};

/// The `greedy` baseline.
#[derive(Clone, Debug, Default)]
pub struct Greedy {
    /// Idle TBUs, longest idle first.
    idle: VecDeque<TbuId>,
}

impl Scheduler for Greedy {
    fn name(&self) -> &str {
        "greedy"
    }

    fn init(&mut self, ctx: &mut Ctx<'_>) {
        self.idle = (0..ctx.tbu_count() as u32).map(TbuId).filter(|&t| ctx.is_idle(t)).collect();
    }

    fn on_ready(&mut self, ctx: &mut Ctx<'_>, task: TaskRef) {
        match self.idle.pop_front() {
            Some(tbu) => ctx.assign(task, tbu),
            None => ctx.enqueue(task, QueueId::Global),
        }
    }

    fn on_tbu_free(&mut self, ctx: &mut Ctx<'_>, tbu: TbuId) {
        match ctx.queue_front(QueueId::Global) {
            Some(t) => ctx.assign(t, tbu),
            None => self.idle.push_back(tbu),
        }
    }
}
