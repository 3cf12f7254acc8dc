//! `static`: the compile-time placement, fixed. Each task block runs only on its plan home TBUs;
//! each home has a private FIFO queue; a ready task goes to the home expected to be free first.

use octopus_hw::TbuId;

use crate::scheduler::{Ctx, QueueId, Scheduler, TaskRef};

/// The `static` baseline.
#[derive(Clone, Copy, Debug, Default)]
pub struct Static;

/// Puts a ready task on the home TBU expected to be free first ([`Ctx::expected_free`]; ties to the
/// lowest TBU ID): runs it now if that TBU is idle with an empty queue, else queues it there.
pub fn place_on_homes(ctx: &mut Ctx<'_>, task: TaskRef, homes: &[TbuId]) {
    // Homes are ascending, and an idle home with an empty queue is free now, the earliest
    // possible: the first one found is the answer (this keeps the scan short on large machines).
    if let Some(&h) = homes.iter().find(|&&h| ctx.is_idle(h) && ctx.queue_len(QueueId::Tbu(h)) == 0) {
        ctx.assign(task, h);
        return;
    }
    let best = homes
        .iter()
        .copied()
        .min_by_key(|&h| (ctx.expected_free(h), h))
        .expect("every task block has at least one home");
    if ctx.is_idle(best) && ctx.queue_len(QueueId::Tbu(best)) == 0 {
        ctx.assign(task, best);
    } else {
        ctx.enqueue(task, QueueId::Tbu(best));
    }
}

impl Scheduler for Static {
    fn name(&self) -> &str {
        "static"
    }

    fn on_ready(&mut self, ctx: &mut Ctx<'_>, task: TaskRef) {
        let block = ctx.task(task).block;
        let homes = ctx.homes(block);
        place_on_homes(ctx, task, homes);
    }

    fn on_tbu_free(&mut self, ctx: &mut Ctx<'_>, tbu: TbuId) {
        if let Some(t) = ctx.queue_front(QueueId::Tbu(tbu)) {
            ctx.assign(t, tbu);
        }
    }
}
