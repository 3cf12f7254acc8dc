//! One decision point for the whole machine, on the CBU of its centre cluster: what
//! `octopus-central` and `greedy` pay on machines of several dies. A decision for work at cluster
//! `src` that sends it to cluster `dst` costs a control message `src -> centre`, a turn of the
//! centre's CBU (`control_cycles`, one decision at a time) and a message `centre -> dst`.

use octopus_hw::{ClusterId, Machine};

use crate::Cycle;
use crate::scheduler::Ctx;

/// The centre's CBU and when it is next free.
#[derive(Clone, Debug)]
pub(crate) struct CentralCbu {
    centre: ClusterId,
    free: Cycle,
}

impl Default for CentralCbu {
    /// Cluster 0, free: a placeholder until [`CentralCbu::of`] knows the machine.
    fn default() -> CentralCbu {
        CentralCbu { centre: ClusterId(0), free: 0 }
    }
}

impl CentralCbu {
    /// The decision point of `m`: its mesh's centre cluster, free at time 0.
    pub(crate) fn of(m: &Machine) -> CentralCbu {
        let (w, h) = m.mesh_size();
        CentralCbu { centre: m.cluster_at(w / 2, h / 2).unwrap_or(ClusterId(0)), free: 0 }
    }

    /// The centre cluster.
    pub(crate) fn centre(&self) -> ClusterId {
        self.centre
    }

    /// The latency of a decision for work at `src` sent to `dst`, and when the centre's CBU is
    /// busy until if it takes it; nothing is booked.
    pub(crate) fn latency_of(&self, ctx: &Ctx<'_>, src: ClusterId, dst: ClusterId) -> (Cycle, Cycle) {
        let msg = |a, b| ctx.cost().control_message_cycles(ctx.hops(a, b));
        let done = (ctx.now() + msg(src, self.centre)).max(self.free) + ctx.cost().control_cycles();
        (done + msg(self.centre, dst) - ctx.now(), done)
    }

    /// [`CentralCbu::latency_of`], booking the centre's CBU.
    pub(crate) fn decide(&mut self, ctx: &Ctx<'_>, src: ClusterId, dst: ClusterId) -> Cycle {
        let (latency, done) = self.latency_of(ctx, src, dst);
        self.free = done;
        latency
    }

    /// Books the centre's CBU until `until` (a decision priced with [`CentralCbu::latency_of`]).
    pub(crate) fn book(&mut self, until: Cycle) {
        self.free = until;
    }
}
