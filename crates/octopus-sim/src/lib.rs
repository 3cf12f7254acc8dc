//! octopus-sim
