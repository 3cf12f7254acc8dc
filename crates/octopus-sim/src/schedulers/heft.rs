//! `heft`: the static HEFT schedule (`octopus_compiler::heft`, Topcuoglu et al. 2002) replayed.
//! Each task block runs on the TBU HEFT chose for it; each TBU runs its blocks of one request in
//! the order of HEFT's start times (a later block waits for an earlier one of the same request,
//! as in the static schedule), and among the requests waiting for it the oldest first. For one
//! request this reproduces HEFT's placement and per-TBU order exactly; the simulated makespan
//! differs from HEFT's estimate only where the simulator charges what HEFT does not model (inputs
//! are pulled when a task starts, links are shared, a TBU reconfigures between blocks).
//!
//! HEFT schedules a fixed task graph of one-processor tasks, so workflows with control blocks, and
//! plans that run a block as a gang of several TBUs or as batches (LLM blocks), are refused
//! before the run.

use std::collections::BTreeMap;

use octopus_compiler::Plan;
use octopus_hw::{Machine, TbuId};
use octopus_owg::index::Idx;
use octopus_owg::ir::Workflow;

use crate::scheduler::{Ctx, QueueId, Scheduler, TaskDone, TaskRef};

/// The `heft` scheduler.
#[derive(Clone, Debug, Default)]
pub struct Heft {
    /// Per block: the TBU HEFT chose (`None` for blocks it does not schedule).
    tbu: Vec<Option<TbuId>>,
    /// Per block: its position in its TBU's sequence.
    pos: Vec<u32>,
    /// Per block: its position in HEFT's order (decreasing upward rank).
    order: Vec<u32>,
    /// Per TBU: how many blocks its sequence holds.
    seq_len: Vec<u32>,
    /// `(request, TBU)`: blocks of the TBU's sequence finished for that request (absent: none;
    /// removed once the sequence is done).
    progress: BTreeMap<(u32, u32), u32>,
}

impl Heft {
    /// Whether a ready task is next in its TBU's sequence for its request.
    fn eligible(&self, ctx: &Ctx<'_>, task: TaskRef) -> bool {
        let v = ctx.task(task);
        let b = v.block.index();
        let tbu = self.tbu[b].expect("only scheduled blocks become ready");
        self.progress.get(&(v.request.0, tbu.0)).copied().unwrap_or(0) == self.pos[b]
    }
}

impl Scheduler for Heft {
    fn name(&self) -> &str {
        "heft"
    }

    fn accepts(&self, workflow: &Workflow, machine: &Machine, plan: &Plan) -> Result<(), String> {
        let cost = octopus_hw::CostModel::new(machine);
        octopus_compiler::heft::for_workflow(workflow, machine, &cost).map_err(|e| e.to_string())?;
        for t in &plan.tasks {
            let task = workflow.blocks[t.block].task().expect("the plan's tasks are task blocks");
            if cost.profile(task).batched() {
                return Err(format!(
                    "block `{}` batches (an LLM block); HEFT schedules one task per processor",
                    t.name
                ));
            }
            if t.shards > 1 {
                return Err(format!(
                    "block `{}` runs as a gang of {} TBUs; HEFT schedules one task per processor",
                    t.name, t.shards
                ));
            }
        }
        Ok(())
    }

    fn init(&mut self, ctx: &mut Ctx<'_>) {
        let wf = ctx.workflow();
        let s = octopus_compiler::heft::schedule_workflow(wf, ctx.machine())
            .unwrap_or_else(|e| panic!("`heft` runs only after `accepts`: {e}"));
        let n = wf.blocks.len();
        self.tbu = vec![None; n];
        self.pos = vec![0; n];
        self.order = vec![u32::MAX; n];
        self.seq_len = vec![0; ctx.tbu_count()];
        let mut slots: Vec<_> = s.tasks.iter().collect();
        slots.sort_by_key(|t| (t.tbu, t.start, t.order));
        for t in slots {
            let b = t.block.index();
            self.tbu[b] = Some(t.tbu);
            self.pos[b] = self.seq_len[t.tbu.index()];
            self.order[b] = t.order as u32;
            self.seq_len[t.tbu.index()] += 1;
        }
        self.progress.clear();
    }

    fn on_ready(&mut self, ctx: &mut Ctx<'_>, task: TaskRef) {
        let tbu = self.tbu[ctx.task(task).block.index()].expect("only scheduled blocks become ready");
        if ctx.is_idle(tbu) && self.eligible(ctx, task) {
            ctx.assign(task, tbu);
        } else {
            ctx.enqueue(task, QueueId::Tbu(tbu));
        }
    }

    fn on_task_done(&mut self, _ctx: &mut Ctx<'_>, done: &TaskDone) {
        let key = (done.request.0, done.tbu.0);
        let finished = self.progress.entry(key).or_insert(0);
        *finished += 1;
        if *finished == self.seq_len[done.tbu.index()] {
            self.progress.remove(&key);
        }
    }

    fn on_tbu_free(&mut self, ctx: &mut Ctx<'_>, tbu: TbuId) {
        let next = ctx.queue_iter(QueueId::Tbu(tbu)).filter(|&t| self.eligible(ctx, t)).min_by_key(|&t| {
            let v = ctx.task(t);
            (v.request, self.order[v.block.index()])
        });
        if let Some(t) = next {
            ctx.assign(t, tbu);
        }
    }
}
