//! The scheduler registry: one module per scheduler.
//!
//! Each scheduler's rule, parameters and defaults are documented in `docs/schedulers.md`.

mod adaptive;
mod central;
mod core;
mod dds;
mod diffusion;
mod greedy;
mod heft;
mod homes;
mod octopus;
mod params;
mod proactive;
mod queues;
mod reactive;
mod static_homes;
mod steal;

pub use greedy::Greedy;
pub use heft::Heft;
pub use homes::{Homes, place_on_homes};
pub use octopus::{Features, Mode, Octopus, OctopusParams};
pub use reactive::{Reactive, ReactiveParams};
pub use static_homes::Static;
pub use steal::Steal;

use crate::SimError;
use crate::scheduler::Scheduler;

/// Every registered scheduler, in the order `compare` runs them by default.
const NAMES: &[&str] = &[
    "static",
    "reactive",
    "greedy",
    "greedy-oracle",
    "steal",
    "dds",
    "adaptive",
    "proactive",
    "octopus",
    "octopus-no-dds",
    "octopus-no-adaptive",
    "octopus-no-proactive",
    "octopus-central",
];

/// Schedulers [`make_scheduler`] also accepts but `compare` runs only when named: `heft` refuses
/// workflows with control blocks.
const OPT_IN: &[&str] = &["heft"];

/// The names `compare` runs by default; [`make_scheduler`] accepts these and the opt-in `heft`.
pub fn scheduler_names() -> &'static [&'static str] {
    NAMES
}

/// A fresh scheduler by name, with its default parameters.
pub fn make_scheduler(name: &str) -> Result<Box<dyn Scheduler>, SimError> {
    Ok(match name {
        "static" => Box::new(Static::default()),
        "reactive" => Box::new(Reactive::new(ReactiveParams::default())),
        "greedy" => Box::new(Greedy::default()),
        "greedy-oracle" => Box::new(Greedy::oracle()),
        "steal" => Box::new(Steal::default()),
        "heft" => Box::new(Heft::default()),
        _ if let Some(o) = Octopus::by_name(name) => Box::new(o),
        _ => {
            let valid = [NAMES, OPT_IN].concat().join(", ");
            return Err(SimError::UnknownScheduler { name: name.to_owned(), valid });
        }
    })
}
