//! `octopus-compiler`: a validated workflow and a machine in, a placement plan out.
//!
//! [`compile`] decides, for every task block, which TBU kind it runs on and its home TBUs — how
//! many from its expected demand (visits x expected cycles), where from its flows (heavy flows
//! few hops apart) — for every control block the CBU that runs it, and for every flow its route;
//! and it predicts loads, balance and NoC traffic in a [`Report`]. The rules are in
//! `docs/compiler.md`.
//!
//! A [`Plan`] is plain, versioned serde data ([`Plan::to_ron`], [`Plan::from_ron`]): the
//! simulator loads it without this crate's logic. Entries are keyed by the IR's `BlockId` and
//! `FlowId`. This crate reads no files.

pub mod heft;

mod curve;
mod error;
mod memory;
mod place;
mod plan;

use octopus_hw::Machine;
use octopus_owg::Module;

pub use error::CompileError;
pub use plan::{
    ClusterLoad, ControlPlan, FlowPlan, PLAN_VERSION, Plan, Report, Strategy, TaskLoad, TaskPlan,
};

/// How to compile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// How home TBUs are chosen; [`Strategy::Locality`] unless comparing baselines.
    pub strategy: Strategy,
}

impl Default for Options {
    fn default() -> Self {
        Options { strategy: Strategy::Locality }
    }
}

/// Compiles a validated workflow module onto `machine` with the compiler's own placement.
///
/// Returns every task that cannot run at all ([`CompileError::DoesNotFit`], pointing at the
/// task's declaration) rather than a plan.
pub fn compile(module: &Module, machine: &Machine) -> Result<Plan, Vec<CompileError>> {
    compile_with(module, machine, &Options::default())
}

/// [`compile`] with explicit [`Options`] (e.g. a baseline placement strategy).
pub fn compile_with(
    module: &Module,
    machine: &Machine,
    options: &Options,
) -> Result<Plan, Vec<CompileError>> {
    place::compile(&module.workflow, &module.analysis, Some(&module.spans), machine, options)
}
