//! Loading: decode, verify, then prepare a module into its run form.
//!
//! **Invariant:** nothing reaches the interpreter without passing [`kiln_bytecode::verify`];
//! `prepare` may therefore narrow operands and resolve indices without re-checking them.

mod prepare;

#[cfg(feature = "jit")]
pub use prepare::slot_layout;
pub use prepare::{prepare, PreparedFunc, PreparedModule};
