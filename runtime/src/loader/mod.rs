//! Loading: decode, verify, then prepare a module into its run form.
//!
//! **Invariant:** nothing reaches the interpreter without passing [`kiln_bytecode::verify`];
//! `prepare` may therefore narrow operands and resolve indices without re-checking them.

mod prepare;

pub use prepare::{prepare, slot_layout, PreparedFunc, PreparedModule};
