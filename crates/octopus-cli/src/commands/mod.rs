//! One module per subcommand; each has an `Args` (clap) and a `run` returning an exit code.

pub mod check;
pub mod compare;
pub mod compile;
pub mod hw;
pub mod import;
pub mod report;
pub mod simulate;
pub mod sweep;
