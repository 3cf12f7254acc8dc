//! What an [`super::Octopus`] scheduler is made of: where it decides ([`Mode`]), which strategies
//! are on ([`Features`]) and their parameters ([`OctopusParams`]; defaults and reasons in
//! `docs/schedulers.md`). Shared by the scheduler and its components, so they import this and
//! not each other.

use crate::Cycle;

/// Where scheduling decisions are taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// [`Mode::Die`] on a single-die machine, [`Mode::Local`] otherwise.
    Auto,
    /// One decision point per die, scheduling all of the die's TBUs (control latency on a die is
    /// a few cycles, negligible against task times).
    Die,
    /// One decision point per cluster (its CBU): no global scheduler; tasks may go to mesh
    /// neighbours at the cost of control messages, and diffusion balances queued load.
    Local,
    /// One decision point for the whole machine at its centre cluster; every decision pays the
    /// control-network round trip to the centre and queues at the centre's CBU.
    Central,
}

/// Which strategies are on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features {
    /// Discriminate Dual-Scheduling: dedicated warm TBUs for stable blocks, warm-and-near dispatch.
    pub dds: bool,
    /// Adaptive TBU Scheduling: EWMA load estimates resize each block's share of TBUs.
    pub adaptive: bool,
    /// Proactive Cluster Scheduling: forecasts at control blocks pre-configure TBUs and order work.
    pub proactive: bool,
    /// Where decisions are taken.
    pub mode: Mode,
}

/// Parameters of [`super::Octopus`]; defaults and reasons in `docs/schedulers.md`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OctopusParams {
    /// EWMA weight of a new observation (arrival gap, service time).
    pub ewma: f64,
    /// A block's target share is its offered load (lambda x s, in TBUs) times this.
    pub headroom: f64,
    /// Relative hysteresis band around the target share.
    pub hysteresis: f64,
    /// Diffusion coefficient: the fraction of a load difference moved to a neighbour per period.
    pub alpha: f64,
    /// Tick period; `None`: a quarter of the visit-weighted mean expected task duration.
    pub period: Option<Cycle>,
    /// A proactive reservation lapses after this many reconfiguration times.
    pub reserve_expiry: u64,
    /// Ring radius (hops) a cluster-local decision point may dispatch to ([`Mode::Local`]).
    pub radius: u32,
}

impl Default for OctopusParams {
    fn default() -> Self {
        OctopusParams {
            ewma: 0.125,
            headroom: 1.25,
            hysteresis: 0.5,
            alpha: 0.2,
            period: None,
            reserve_expiry: 4,
            radius: 1,
        }
    }
}
