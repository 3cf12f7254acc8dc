//! The scheduler registry: one module per scheduler.
//!
//! Each scheduler's rule, parameters and defaults are documented in `docs/schedulers.md`.

mod adaptive;
mod dds;
mod diffusion;
mod greedy;
mod octopus;
mod proactive;
mod reactive;
mod static_homes;

pub use greedy::Greedy;
pub use octopus::{Features, Mode, Octopus, OctopusParams};
pub use reactive::{Reactive, ReactiveParams};
pub use static_homes::{Static, place_on_homes};

use crate::SimError;
use crate::scheduler::Scheduler;

/// Every registered scheduler, in the order `compare` runs them by default.
const NAMES: &[&str] = &[
    "static",
    "reactive",
    "greedy",
    "dds",
    "adaptive",
    "proactive",
    "octopus",
    "octopus-no-dds",
    "octopus-no-adaptive",
    "octopus-no-proactive",
    "octopus-central",
];

/// The names [`make_scheduler`] accepts.
pub fn scheduler_names() -> &'static [&'static str] {
    NAMES
}

/// A fresh scheduler by name, with its default parameters.
pub fn make_scheduler(name: &str) -> Result<Box<dyn Scheduler>, SimError> {
    Ok(match name {
        "static" => Box::new(Static),
        "reactive" => Box::new(Reactive::new(ReactiveParams::default())),
        "greedy" => Box::new(Greedy::default()),
        _ if let Some(o) = Octopus::by_name(name) => Box::new(o),
        _ => return Err(SimError::UnknownScheduler { name: name.to_owned(), valid: NAMES.join(", ") }),
    })
}
