//! Executions on gangs: the `k` shards of one execution start together on `k` TBUs and run in
//! lock step, then pay their collectives, and end together (one event per execution). Also the
//! holds a gang collects its TBUs with, and reconfiguration ahead of time.

use octopus_hw::TbuId;
use octopus_owg::index::Idx;
use octopus_owg::ir::BlockId;

use super::{Env, Ev, NONE, State, TbuStatus};
use crate::Cycle;
use crate::trace::TraceKind;
use crate::view::TaskRef;

impl State {
    /// Checks that the sorted gang `tbus` may take task `i` now: `shards` distinct TBUs, each idle
    /// (and not reserved for another block) or held for this task, and every TBU held for it among
    /// them. (Sorted, so that both hold in `O(k log k)`: checked unsorted, they were quadratic in
    /// the gang, 65 % of a run on a 256 x 256-cluster mesh.)
    fn check_gang(&self, i: u32, tbus: &[TbuId]) {
        let t = &self.tasks[i as usize];
        assert!(
            tbus.len() == t.shards as usize,
            "a gang of {} TBUs for a task of `{}` shards",
            tbus.len(),
            t.shards
        );
        for &tbu in tbus {
            let s = &self.tbus[tbu.index()];
            match s.status {
                TbuStatus::Idle => {
                    if let Some(r) = s.reserved {
                        assert!(
                            r == t.block,
                            "assigned a task of another block to TBU {} reserved for a block",
                            tbu.0
                        );
                    }
                }
                TbuStatus::Held => assert!(s.task == i, "assigned TBU {} held for another task", tbu.0),
                _ => panic!("assigned a task to busy TBU {}", tbu.0),
            }
        }
        if let Some(w) = tbus.windows(2).find(|w| w[0] == w[1]) {
            panic!("TBU {} twice in one gang", w[0].0);
        }
        for &h in &t.tbus {
            assert!(tbus.binary_search(&h).is_ok(), "TBU {} is held for the task but not in its gang", h.0);
        }
    }

    /// Starts task `r` on the gang `tbus` after `delay` cycles of control messages: each TBU
    /// loads the block if cold (its configuration and resident bytes) while its part of every
    /// input crosses the NoC; the shards start together once the last TBU is ready, compute, pay
    /// their collectives, and end together. A batched block opens a batch on the gang instead.
    pub(crate) fn assign(&mut self, env: &Env<'_>, r: TaskRef, tbus: &[TbuId], delay: Cycle) {
        let i = self.check_ref(r);
        let mut gang: Vec<TbuId> = tbus.to_vec();
        gang.sort_unstable();
        self.check_gang(i, &gang);
        self.take_off_queue(env, i);
        // The TBUs held for it are all in the gang (checked).
        self.tasks[i as usize].tbus.clear();
        for &t in &gang {
            self.tbus[t.index()].reserved = None;
        }
        if env.profile[self.tasks[i as usize].block.index()].batched() {
            self.open_batch(env, i, gang, delay);
            return;
        }
        let block = self.tasks[i as usize].block;
        let now = self.now;
        let at = now + delay;
        // Loads, then inputs, per TBU (the links are reserved in gang order).
        let mut loads = Vec::with_capacity(gang.len());
        for &t in &gang {
            loads.push(self.load_for(env, t, block));
        }
        let mut inputs = Vec::with_capacity(gang.len());
        self.send_inputs(env, i, &gang, at, &mut inputs);
        let ready: Vec<Cycle> = loads.iter().zip(&inputs).map(|(&l, &x)| (at + l).max(x)).collect();
        let start = ready.iter().copied().max().unwrap_or(at);
        let run = gang
            .iter()
            .map(|&t| self.task_cycles[i as usize * env.kinds + env.machine.tbus[t].kind.index()])
            .max()
            .unwrap_or(1);
        let coll = if gang.len() > 1 {
            let task = env.wf.blocks[block].task().expect("a task block");
            let ring = env.ring(&gang);
            env.cost.collective(
                &self.tasks[i as usize].kernel,
                task.dtype,
                &env.profile[block.index()],
                &ring,
            )
        } else {
            octopus_hw::Collective::default()
        };
        self.acc.byte_hops += coll.byte_hops;
        let end = start + run + coll.cycles;
        let request = self.tasks[i as usize].request;
        let exec = Some(self.started);
        self.started += 1;
        for (n, &t) in gang.iter().enumerate() {
            let kind = env.machine.tbus[t].kind;
            self.acc.reconfig += u128::from(loads[n]);
            self.acc.transfer += u128::from(ready[n] - at - loads[n] + delay);
            self.acc.gang += u128::from(start - ready[n]);
            self.acc.busy += u128::from(run);
            self.acc.collective += u128::from(coll.cycles);
            self.set_status(env, t, TbuStatus::Running);
            let cold = if loads[n] > 0 { env.load_on(block, kind) } else { 0 };
            let s = &mut self.tbus[t.index()];
            s.task = i;
            s.batch = NONE;
            s.since = now;
            s.until = now + delay + cold + env.expected_on(block, kind);
            self.log(env, TraceKind::Reconfig, t, at, at + loads[n], block, Some(request), exec);
            self.log(env, TraceKind::WaitInputs, t, at + loads[n], start, block, Some(request), exec);
            self.log(env, TraceKind::Exec, t, start, start + run, block, Some(request), exec);
            self.log(env, TraceKind::Collective, t, start + run, end, block, Some(request), exec);
        }
        let task = &mut self.tasks[i as usize];
        task.tbus = gang;
        task.assigned_at = now;
        task.started_at = start;
        self.push(end, Ev::TaskDone { task: i });
    }

    /// The load a TBU pays to run `block` (0 when it holds it, or a block of its group),
    /// configuring it for the block's group.
    pub(crate) fn load_for(&mut self, env: &Env<'_>, t: TbuId, block: BlockId) -> Cycle {
        let group = env.group(block);
        if self.tbus[t.index()].config == Some(group) {
            return 0;
        }
        self.tbus[t.index()].config = Some(group);
        self.acc.reconfigurations += 1;
        env.load_on(block, env.machine.tbus[t].kind)
    }

    /// Holds an idle TBU for a queued task whose gang is collecting its TBUs.
    pub(crate) fn hold(&mut self, env: &Env<'_>, r: TaskRef, tbu: TbuId) {
        let i = self.check_ref(r);
        let t = &self.tasks[i as usize];
        assert!(t.queue != NONE, "held a TBU for a task that is not queued");
        assert!(self.tbus[tbu.index()].status == TbuStatus::Idle, "held busy TBU {}", tbu.0);
        if let Some(res) = self.tbus[tbu.index()].reserved {
            assert!(res == t.block, "held TBU {} reserved for another block", tbu.0);
        }
        assert!(t.tbus.len() < t.shards as usize, "held more TBUs than the task's gang needs");
        self.set_status(env, tbu, TbuStatus::Held);
        self.tbus[tbu.index()].task = i;
        self.tbus[tbu.index()].since = self.now;
        self.tasks[i as usize].tbus.push(tbu);
    }

    /// Lets a held TBU go: it is idle again.
    pub(crate) fn unhold(&mut self, env: &Env<'_>, tbu: TbuId) {
        let s = &self.tbus[tbu.index()];
        assert!(s.status == TbuStatus::Held, "released TBU {} that is not held", tbu.0);
        let i = s.task;
        self.tasks[i as usize].tbus.retain(|&t| t != tbu);
        self.free_tbu(env, tbu);
    }

    /// Reconfigures an idle TBU for `block` ahead of time: its load plus `extra` cycles.
    pub(crate) fn reconfigure_ahead(&mut self, env: &Env<'_>, tbu: TbuId, block: BlockId, extra: Cycle) {
        let ti = tbu.index();
        assert!(self.tbus[ti].status == TbuStatus::Idle, "reconfigured busy TBU {}", tbu.0);
        assert!(env.is_task(block), "reconfigured a TBU for a control block");
        let cycles = self.load_for(env, tbu, block) + extra;
        if cycles == 0 {
            return;
        }
        let now = self.now;
        self.acc.reconfig += u128::from(cycles);
        self.set_status(env, tbu, TbuStatus::Reconfiguring);
        let t = &mut self.tbus[ti];
        t.since = now;
        t.until = now + cycles;
        self.log(env, TraceKind::Reconfig, tbu, now, now + cycles, block, None, None);
        self.push(now + cycles, Ev::TbuReady { tbu: tbu.0 });
    }
}
