//! `static`: the compile-time placement, fixed. Each task block runs only on its plan home TBUs:
//! one-TBU executions through per-home FIFO queues, gangs and batches on the block's homes
//! ([`super::homes`]).

use octopus_hw::TbuId;

use super::homes::Homes;
use crate::scheduler::{BatchId, Ctx, Scheduler, TaskRef};

/// The `static` baseline.
#[derive(Clone, Debug, Default)]
pub struct Static {
    homes: Homes,
}

impl Scheduler for Static {
    fn name(&self) -> &str {
        "static"
    }

    fn init(&mut self, ctx: &mut Ctx<'_>) {
        self.homes = Homes::from_plan(ctx);
    }

    fn on_ready(&mut self, ctx: &mut Ctx<'_>, task: TaskRef) {
        self.homes.place(ctx, task);
    }

    fn on_tbu_free(&mut self, ctx: &mut Ctx<'_>, tbu: TbuId) {
        self.homes.on_tbu_free(ctx, tbu);
    }

    fn on_batch_room(&mut self, ctx: &mut Ctx<'_>, batch: BatchId) {
        self.homes.on_batch_room(ctx, batch);
    }
}
