//! `octopus-owg`: the Orchestrated Workflow Graph language.
//!
//! Text in, validated IR out: [`check`] parses a `.owg` source with the pest grammar in
//! `grammar.pest`, lowers it to a [`ir::Workflow`] with a [`ir::SourceMap`] beside it, validates
//! the graph (names, units, distributions, regions, cycles), and derives an
//! [`analysis::Analysis`] side table (expected visits, work, critical path, stable/dynamic class).
//! Every problem is reported, not only the first, as a [`Diagnostic`] with a stable code and a span.
//!
//! This crate knows nothing of hardware and reads no files: empirical distributions and replayed
//! arrivals name CSV files, which the caller's [`Loader`] provides.

pub mod analysis;
pub mod dist;
pub mod index;
pub mod ir;
