//! The scheduler registry: one module per scheduler.
//!
//! Each scheduler's rule, parameters and defaults are documented in `docs/schedulers.md`.

mod greedy;
mod reactive;
mod static_homes;

pub use greedy::Greedy;
pub use reactive::{Reactive, ReactiveParams};
pub use static_homes::{Static, place_on_homes};

use crate::SimError;
use crate::scheduler::Scheduler;

/// Every registered scheduler, in the order `compare` runs them by default.
const NAMES: &[&str] = &["static", "reactive", "greedy"];

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
        _ => return Err(SimError::UnknownScheduler { name: name.to_owned(), valid: NAMES.join(", ") }),
    })
}
