//! octopus-hw
