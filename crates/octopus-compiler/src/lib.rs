//! octopus-compiler
