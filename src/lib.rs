//! Shared pieces of the `vmc` and `vmrun` command-line tools.

pub mod aot;
pub mod cli;
