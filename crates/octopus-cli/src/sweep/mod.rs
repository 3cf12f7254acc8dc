//! Design-space sweeps (`docs/sweep.md`): the spec and its points (`spec`), the inputs they run on
//! (`inputs`), running and merging (`run`), results files (`results`), Slurm job arrays (`slurm`).

pub mod inputs;
pub mod results;
pub mod run;
pub mod slurm;
pub mod spec;

#[cfg(test)]
mod tests;
