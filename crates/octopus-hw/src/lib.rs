//! `octopus-hw`: the hardware model of a scale-out spatial architecture, and its cost model.
//!
//! The hierarchy (`docs/hardware.md`): a PE array (PEA) with a scratchpad and configuration memory
//! is a **TBU**; N TBUs, one **CBU** and a router make a **cluster**; a 2-D mesh of clusters with
//! off-chip memory is a **die**; a 2-D grid of dies joined by slower links is a **package** or a
//! **wafer**. Control messages travel on their own lightweight **control network**.
//!
//! - [`HardwareSpec`]: the RON description, plain serde data; [`PRESETS`] ships `chip`, `package`,
//!   `wafer` and `hetero`.
//! - [`Machine`]: a validated spec flattened into typed arenas ([`TbuId`], [`ClusterId`],
//!   [`DieId`], [`LinkId`]) with hop counts and dimension-ordered routes.
//! - [`CostModel`]: cycles of kernels (a roofline with a scratchpad working-set rule),
//!   reconfiguration, control blocks, transfers and control messages.
//! - [`PARAMS`] and [`apply_override`]: named parameters (`tbu.reconfig_cycles`, ...) set on a spec
//!   before it is validated, what a design-space sweep varies.
//!
//! Text in, data out: this crate reads no files. Every problem in a description is an
//! [`HwError`] with its line and column.

mod cost;
mod error;
pub mod llm;
mod load;
mod locate;
mod machine;
mod overrides;
mod profile;
mod ring;
mod ron_locations;
mod spec;

pub use cost::{CONTROL_MESSAGE_BYTES, CostModel, ExecCost, Traffic};
pub use error::HwError;
pub use llm::{LlmModel, StepLoad};
pub use load::parse_spec;
pub use machine::{
    Cluster, ClusterId, Die, DieId, Hops, KindSummary, Link, LinkId, MAX_TBUS, Machine, Route, Summary, Tbu,
    TbuId, TbuKindId,
};
pub use overrides::{
    OverrideError, PARAMS, Param, ParamType, ParamValue, apply_override, check_value, find_param,
};
pub use profile::{Profile, batch_groups};
pub use ring::{Collective, Ring};
pub use ron_locations::RonLocations;
pub use spec::{CbuSpec, ClusterSpec, DieSpec, HardwareSpec, LinkSpec, PackageSpec, TbuKindSpec};

/// The shipped presets: `(name, RON text)`, in the order `octopus hw list` prints them.
pub const PRESETS: &[(&str, &str)] = &[
    ("chip", include_str!("../presets/chip.ron")),
    ("package", include_str!("../presets/package.ron")),
    ("wafer", include_str!("../presets/wafer.ron")),
    ("hetero", include_str!("../presets/hetero.ron")),
];

/// The RON text of a preset.
pub fn preset_text(name: &str) -> Option<&'static str> {
    PRESETS.iter().find(|p| p.0 == name).map(|p| p.1)
}

/// The canonical RON text of a value (pretty, struct names included): how plans and descriptions
/// are written. (Fingerprints hash the compact text: [`octopus_owg::hash::ron_fingerprint`].)
pub fn to_ron<T: serde::Serialize>(value: &T) -> String {
    let config = ron::ser::PrettyConfig::new().struct_names(true);
    ron::ser::to_string_pretty(value, config).expect("plain data always serialises to RON")
}
